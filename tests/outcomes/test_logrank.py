"""Log-rank tests: R's aml numbers, lifelines, statsmodels (stratified), and the trend test."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes import cox_ph, logrank_test, logrank_trend_test
from tests.outcomes.datasets import AML, cohort

statistics: Any = importlib.import_module("lifelines.statistics")
survfunc: Any = importlib.import_module("statsmodels.duration.survfunc")


# R 4.x, survival 3.x:
#   survdiff(Surv(time, status) ~ x, data = aml)
#                    N Observed Expected (O-E)^2/E (O-E)^2/V
#   x=Maintained    11        7    10.69      1.27       3.4
#   x=Nonmaintained 12       11     7.31      1.86       3.4
#    Chisq= 3.4  on 1 degrees of freedom, p= 0.07
def test_aml_matches_r_survdiff() -> None:
    result = logrank_test(AML.time, AML.status, np.where(AML.x == 0, "Maintained", "Non"))
    assert result.groups == ("Maintained", "Non")
    assert result.n.tolist() == [11, 12]
    assert result.observed.tolist() == [7.0, 11.0]
    assert result.expected == pytest.approx([10.69, 7.31], abs=5e-3)
    chi_by_group = (result.observed - result.expected) ** 2 / result.expected
    assert chi_by_group == pytest.approx([1.27, 1.86], abs=5e-3)
    assert result.statistic == pytest.approx(3.4, abs=0.05)
    assert result.df == 1
    assert result.p_value == pytest.approx(0.07, abs=5e-3)


@pytest.mark.parametrize(("seed", "groups"), [(1, 2), (2, 3), (3, 3)])
def test_matches_lifelines(seed: int, groups: int) -> None:
    data = cohort(seed, 500)
    group = data.group % groups
    result = logrank_test(data.time, data.event, group)
    reference = statistics.multivariate_logrank_test(data.time, group, data.event)
    assert result.statistic == pytest.approx(reference.test_statistic, abs=1e-10)
    assert result.p_value == pytest.approx(reference.p_value, abs=1e-10)
    assert result.df == groups - 1


@pytest.mark.parametrize(("seed", "stratified"), [(4, False), (5, True), (6, True)])
def test_matches_statsmodels_survdiff(seed: int, stratified: bool) -> None:
    data = cohort(seed, 500)
    strata = data.stratum if stratified else None
    result = logrank_test(data.time, data.event, data.group, strata=strata)
    statistic, p_value = survfunc.survdiff(data.time, data.event, data.group, strata=strata)
    assert result.statistic == pytest.approx(statistic, abs=1e-10)
    assert result.p_value == pytest.approx(p_value, abs=1e-10)
    assert result.strata == ((0, 1) if stratified else ())


def test_one_stratum_is_the_unstratified_test() -> None:
    data = cohort(7, 300)
    plain = logrank_test(data.time, data.event, data.group)
    layered = logrank_test(data.time, data.event, data.group, strata=np.zeros(300))
    assert layered.statistic == pytest.approx(plain.statistic, abs=1e-12)
    np.testing.assert_allclose(layered.covariance, plain.covariance, atol=1e-12)


def test_labels_do_not_matter() -> None:
    data = cohort(8, 300)
    numeric = logrank_test(data.time, data.event, data.group)
    text = logrank_test(data.time, data.event, np.array(["x", "y", "z"])[data.group])
    assert text.groups == ("x", "y", "z")
    assert text.statistic == pytest.approx(numeric.statistic, abs=1e-12)


def test_observed_minus_expected_sums_to_zero() -> None:
    data = cohort(9, 300)
    result = logrank_test(data.time, data.event, data.group)
    assert float((result.observed - result.expected).sum()) == pytest.approx(0.0, abs=1e-9)
    assert result.covariance.sum(axis=1) == pytest.approx(np.zeros(3), abs=1e-9)


def test_group_never_at_risk_at_an_event_drops_out() -> None:
    # Group "c" is censored before the first event: E = 0, so df = 1 (as R survdiff).
    result = logrank_test([0.5, 0.5, 1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 0, 1, 1, 0], list("ccababab"))
    assert result.expected[2] == 0.0
    assert result.df == 1


def test_trend_with_two_groups_is_the_log_rank_test() -> None:
    data = cohort(10, 300)
    two = data.group % 2
    assert logrank_trend_test(data.time, data.event, two).statistic == pytest.approx(
        logrank_test(data.time, data.event, two).statistic, abs=1e-10
    )


def test_trend_equals_the_cox_score_test_without_ties() -> None:
    # Without ties the log-rank variance is the Cox information at β = 0, so the trend
    # test on scores s is the score test of a Cox model with covariate s.
    data = cohort(11, 400, ties=False)
    trend = logrank_trend_test(data.time, data.event, data.group)
    fit = cox_ph(data.time, data.event, data.group.astype(float), ties="breslow")
    assert trend.statistic == pytest.approx(fit.score_statistic, rel=1e-10)
    assert trend.df == 1
    assert trend.scores == (0.0, 1.0, 2.0)


def test_trend_is_invariant_to_shifting_and_scaling_scores() -> None:
    data = cohort(12, 300)
    base = logrank_trend_test(data.time, data.event, data.group)
    moved = logrank_trend_test(
        data.time, data.event, data.group, scores={0: 10.0, 1: 13.0, 2: 16.0}
    )
    assert moved.statistic == pytest.approx(base.statistic, rel=1e-10)
    assert moved.basis.estimator == "log-rank test for trend"


def test_trend_needs_numeric_labels_or_scores() -> None:
    with pytest.raises(InputError, match="scores"):
        logrank_trend_test([1, 2, 3, 4], [1, 1, 0, 1], ["low", "high", "low", "high"])
    with pytest.raises(InputError, match="scores"):
        logrank_trend_test([1, 2, 3, 4], [1, 1, 0, 1], ["a", "b", "a", "b"], scores={"a": 1})


@pytest.mark.parametrize(
    ("time", "event", "group", "strata", "field"),
    [
        pytest.param([1, 2, 3], [1, 0, 1], [0, 0, 0], None, "group", id="one-group"),
        pytest.param([1, 2, 3], [0, 0, 0], [0, 1, 0], None, "event", id="no-events"),
        pytest.param([1, 2, 3], [1, 0, 1], [0, 1], None, "group", id="group-length"),
        pytest.param([1, 2, 3], [1, 0, 1], [0, 1, 0], [0, 1], "strata", id="strata-length"),
        pytest.param([1, 2, 3], [1, 0, 1], [0, None, 1], None, "group", id="missing-label"),
    ],
)
def test_bad_input_is_refused(time: Any, event: Any, group: Any, strata: Any, field: str) -> None:
    with pytest.raises(InputError, match=field):
        logrank_test(time, event, group, strata=strata)
