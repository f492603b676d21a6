"""Cox proportional hazards: R's aml fit, lifelines (Efron, strata), statsmodels PHReg."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes import Ties, cox_ph
from tests.outcomes.datasets import AML, cohort

lifelines: Any = importlib.import_module("lifelines")
pandas: Any = importlib.import_module("pandas")
statsmodels_api: Any = importlib.import_module("statsmodels.api")

# lifelines stops at a step norm (or Newton decrement) of 1e-7 or a relative change of the
# log-likelihood of 1e-9 by default: about 1e-6 off the maximum. With these options it
# reaches the maximum that R and statsmodels find (to ~1e-12).
LIFELINES_FIT_OPTIONS = {"precision": 1e-12, "r_precision": 0.0}


# R 4.x, survival 3.x:
#   fit <- coxph(Surv(time, status) ~ x, data = aml)     # ties = "efron"
#   summary(fit)
#                    coef exp(coef) se(coef)     z Pr(>|z|)
#   xNonmaintained 0.9155    2.4981   0.5119 1.788   0.0737
#                  lower .95 upper .95
#   xNonmaintained    0.9159     6.813
#   Likelihood ratio test= 3.38  on 1 df,   p=0.07
#   Score (logrank) test = 3.42  on 1 df,   p=0.06
def test_aml_matches_r_coxph() -> None:
    fit = cox_ph(AML.time, AML.status, AML.x, names=["xNonmaintained"])
    assert fit.coef == pytest.approx([0.9155], abs=5e-5)
    assert fit.hazard_ratio == pytest.approx([2.4981], abs=5e-5)
    assert fit.se == pytest.approx([0.5119], abs=5e-5)
    assert fit.z == pytest.approx([1.788], abs=5e-4)
    assert fit.p_value == pytest.approx([0.0737], abs=5e-5)
    assert fit.hazard_ratio_ci_lower == pytest.approx([0.9159], abs=5e-5)
    assert fit.hazard_ratio_ci_upper == pytest.approx([6.813], abs=5e-4)
    assert fit.lr_statistic == pytest.approx(3.38, abs=5e-3)
    assert fit.score_statistic == pytest.approx(3.42, abs=5e-3)
    assert fit.lr_df == 1
    assert fit.converged
    assert fit.names == ("xNonmaintained",)


def _frame(data: Any, columns: list[str]) -> Any:
    frame = pandas.DataFrame(data.covariates, columns=columns)
    frame["time"] = data.time
    frame["event"] = data.event
    return frame


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_lifelines_efron(seed: int) -> None:
    data = cohort(seed, 400)
    columns = ["age", "wbc", "mrd_positive"]
    fit = cox_ph(data.time, data.event, pandas.DataFrame(data.covariates, columns=columns))
    reference = lifelines.CoxPHFitter().fit(
        _frame(data, columns), "time", "event", fit_options=LIFELINES_FIT_OPTIONS
    )
    assert fit.names == tuple(columns)
    np.testing.assert_allclose(fit.coef, reference.params_.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se, reference.standard_errors_.to_numpy(), rtol=0, atol=1e-8)
    assert fit.log_likelihood == pytest.approx(reference.log_likelihood_, abs=1e-6)
    summary = reference.summary
    np.testing.assert_allclose(
        fit.hazard_ratio_ci_lower, summary["exp(coef) lower 95%"].to_numpy(), atol=1e-6
    )
    np.testing.assert_allclose(fit.p_value, summary["p"].to_numpy(), atol=1e-6)


def test_matches_lifelines_with_strata() -> None:
    data = cohort(3, 400)
    columns = ["a", "b", "c"]
    fit = cox_ph(data.time, data.event, data.covariates, names=columns, strata=data.stratum)
    frame = _frame(data, columns)
    frame["site"] = data.stratum
    reference = lifelines.CoxPHFitter().fit(
        frame, "time", "event", strata=["site"], fit_options=LIFELINES_FIT_OPTIONS
    )
    np.testing.assert_allclose(fit.coef, reference.params_.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se, reference.standard_errors_.to_numpy(), rtol=0, atol=1e-8)
    assert fit.strata == (0, 1)


@pytest.mark.parametrize("ties", [Ties.EFRON, Ties.BRESLOW])
def test_matches_statsmodels_phreg(ties: Ties) -> None:
    data = cohort(4, 500)
    fit = cox_ph(data.time, data.event, data.covariates, ties=ties)
    reference = statsmodels_api.PHReg(
        data.time, data.covariates, status=data.event, ties=ties.value
    ).fit()
    np.testing.assert_allclose(fit.coef, reference.params, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.se, reference.bse, rtol=0, atol=1e-8)
    assert fit.log_likelihood == pytest.approx(reference.llf, abs=1e-8)


def test_without_ties_efron_is_breslow() -> None:
    data = cohort(5, 300, ties=False)
    efron = cox_ph(data.time, data.event, data.covariates)
    breslow = cox_ph(data.time, data.event, data.covariates, ties="breslow")
    np.testing.assert_allclose(efron.coef, breslow.coef, atol=1e-12)


def test_shifting_a_covariate_changes_nothing_but_scaling_rescales() -> None:
    data = cohort(6, 300)
    base = cox_ph(data.time, data.event, data.covariates)
    moved = cox_ph(data.time, data.event, data.covariates * [1.0, 10.0, 1.0] + [100.0, 0, 0])
    np.testing.assert_allclose(moved.coef, base.coef / [1.0, 10.0, 1.0], atol=1e-9)
    assert moved.log_likelihood == pytest.approx(base.log_likelihood, abs=1e-8)


def test_separation_does_not_converge() -> None:
    # Every event in arm 1, every censoring in arm 0: β̂ is +∞ (R warns the same way).
    fit = cox_ph([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0], max_iterations=20)
    assert not fit.converged
    assert fit.coef[0] > 5


@pytest.mark.parametrize(
    ("covariates", "kwargs", "field"),
    [
        pytest.param([[1.0], [1.0], [1.0], [1.0]], {}, "covariates", id="constant"),
        pytest.param([[1, 2], [2, 4], [3, 6], [5, 10]], {}, "covariates", id="collinear"),
        pytest.param([1.0, float("nan"), 2, 3], {}, r"covariates\[1", id="missing"),
        pytest.param([1, 2, 3], {}, "covariates", id="rows"),
        pytest.param([1, 0, 2, 3], {"ties": "exact"}, "ties", id="ties"),
        pytest.param([1, 0, 2, 3], {"names": ["a", "b"]}, "names", id="names"),
        pytest.param([1, 0, 2, 3], {"max_iterations": 0}, "max_iterations", id="iterations"),
    ],
)
def test_bad_input_is_refused(covariates: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        cox_ph([1, 2, 3, 4], [1, 0, 1, 1], covariates, **kwargs)


def test_no_events_is_refused() -> None:
    with pytest.raises(InputError, match="event"):
        cox_ph([1, 2, 3], [0, 0, 0], [1, 0, 1])
