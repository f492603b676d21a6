"""Restricted mean survival time: END-02 by hand, lifelines, delta method, contrasts."""

from __future__ import annotations

import importlib
import math
import warnings
from typing import Any

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes.kaplan_meier import kaplan_meier
from mrdtrack.outcomes.rmst import rmst, rmst_comparison
from tests.outcomes.datasets import AML, END02, cohort

lifelines: Any = importlib.import_module("lifelines")
lifelines_utils: Any = importlib.import_module("lifelines.utils")


def test_worked_dataset_by_hand() -> None:
    # END-02 RFS up to τ = 24: S = 1 on [0, 6), 0.875 on [6, 10), 0.75 on [10, 15),
    # 0.6 on [15, 24); the event at 24 adds no area.
    area_15 = 0.6 * 9
    area_10 = 0.75 * 5 + area_15
    area_6 = 0.875 * 4 + area_10
    expected = 1.0 * 6 + area_6
    variance = area_6**2 / (8 * 7) + area_10**2 / (7 * 6) + area_15**2 / (5 * 4)
    result = rmst(END02.time, END02.rfs_event, 24)
    assert result.estimate == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(18.65, abs=1e-12)
    assert result.variance == pytest.approx(variance, rel=1e-12)
    z = 1.959963984540054
    assert result.ci_lower == pytest.approx(expected - z * math.sqrt(variance), rel=1e-12)
    assert result.ci_upper == pytest.approx(expected + z * math.sqrt(variance), rel=1e-12)
    assert (result.n, result.events) == (8, 4)


def _lifelines_rmst(time: Any, event: Any, tau: float, *, variance: bool = False) -> Any:
    fitter = lifelines.KaplanMeierFitter().fit(time, event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lifelines_utils.restricted_mean_survival_time(
            fitter, t=tau, return_variance=variance
        )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("quantile", [0.3, 1.0])
def test_point_estimate_matches_lifelines(seed: int, quantile: float) -> None:
    data = cohort(seed, 300)
    tau = float(np.quantile(data.time, quantile))
    expected = _lifelines_rmst(data.time, data.event, tau)
    assert rmst(data.time, data.event, tau).estimate == pytest.approx(expected, rel=1e-12)


def test_tau_between_observed_times_matches_lifelines() -> None:
    expected = _lifelines_rmst(AML.time, AML.status, 30.5)
    assert rmst(AML.time, AML.status, 30.5).estimate == pytest.approx(expected, rel=1e-12)


def _delta_method_variance(time: Any, event: Any, tau: float) -> float:
    """Var via numerical derivatives of RMST with respect to log(1 − d_j / n_j).

    Greenwood's formula is the delta method with Var log(1 − h_j) = d_j / (n_j (n_j −
    d_j)) independent across event times; here the gradient is taken by finite
    differences of a direct re-computation of the area, not from the closed form.
    """
    km = kaplan_meier(time, event)
    steps = (km.n_events > 0) & (km.timeline < tau)
    times = km.timeline[steps]
    n = km.n_at_risk[steps].astype(float)
    d = km.n_events[steps].astype(float)
    log_factors = np.log1p(-d / n)

    def area(logs: Any) -> float:
        edges = [0.0, *times.tolist(), tau]
        level, total = 1.0, 0.0
        for j in range(len(edges) - 1):
            total += level * (edges[j + 1] - edges[j])
            if j < len(logs):
                level *= math.exp(logs[j])
        return total

    step = 1e-6
    variance = 0.0
    for j in range(len(log_factors)):
        up, down = log_factors.copy(), log_factors.copy()
        up[j] += step
        down[j] -= step
        gradient = (area(up) - area(down)) / (2 * step)
        variance += gradient**2 * d[j] / (n[j] * (n[j] - d[j]))
    return variance


@pytest.mark.parametrize("seed", [4, 5])
def test_variance_is_the_delta_method_variance(seed: int) -> None:
    data = cohort(seed, 120)
    tau = float(np.quantile(data.time, 0.8))
    expected = _delta_method_variance(data.time, data.event, tau)
    assert rmst(data.time, data.event, tau).variance == pytest.approx(expected, rel=1e-6)


def test_lifelines_variance_is_that_of_the_truncated_time_not_the_estimate() -> None:
    # lifelines' return_variance is Var min(T, τ) under the KM distribution: about n
    # times the variance of the estimate, not the estimate's standard error squared.
    data = cohort(6, 200)
    tau = float(np.quantile(data.time, 0.5))
    mean, truncated_variance = _lifelines_rmst(data.time, data.event, tau, variance=True)
    result = rmst(data.time, data.event, tau)
    assert mean == pytest.approx(result.estimate, rel=1e-12)
    assert truncated_variance / result.variance == pytest.approx(200, rel=0.3)


def test_no_events_before_tau_gives_tau() -> None:
    result = rmst([5.0, 8.0, 9.0], [0, 1, 0], 4.0)
    assert (result.estimate, result.std_error) == (4.0, 0.0)


def test_curve_reaching_zero_has_finite_variance() -> None:
    result = rmst([1.0, 2.0, 3.0, 5.0], [1, 1, 1, 1], 5.0)
    assert result.estimate == pytest.approx(1 + 0.75 + 0.5 + 0.25 * 2)
    assert math.isfinite(result.std_error)


def test_comparison_difference_and_ratio() -> None:
    tau = 40.0
    maintained = rmst(AML.time[AML.x == 0], AML.status[AML.x == 0], tau)
    nonmaintained = rmst(AML.time[AML.x == 1], AML.status[AML.x == 1], tau)
    result = rmst_comparison(AML.time, AML.status, AML.x, tau)
    assert (result.reference, result.other) == (0, 1)
    difference = nonmaintained.estimate - maintained.estimate
    se = math.sqrt(nonmaintained.variance + maintained.variance)
    assert result.difference == pytest.approx(difference, rel=1e-12)
    assert result.difference_se == pytest.approx(se, rel=1e-12)
    assert result.difference_ci_lower == pytest.approx(difference - 1.959963984540054 * se)
    log_se = math.sqrt(
        nonmaintained.variance / nonmaintained.estimate**2
        + maintained.variance / maintained.estimate**2
    )
    ratio = nonmaintained.estimate / maintained.estimate
    assert result.ratio == pytest.approx(ratio, rel=1e-12)
    assert result.ratio_ci_upper == pytest.approx(ratio * math.exp(1.959963984540054 * log_se))
    assert result.ratio_ci_lower < result.ratio < result.ratio_ci_upper
    swapped = rmst_comparison(AML.time, AML.status, AML.x, tau, reference=1)
    assert swapped.difference == pytest.approx(-result.difference, rel=1e-12)
    assert swapped.difference_p_value == pytest.approx(result.difference_p_value, rel=1e-12)
    assert swapped.ratio == pytest.approx(1 / result.ratio, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tau": 0.0}, "tau"),
        ({"tau": 37.0}, "tau"),
        ({"tau": 10.0, "confidence_level": 1.0}, "confidence_level"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        rmst(END02.time, END02.rfs_event, **kwargs)
    assert caught.value.field == field


def test_comparison_refuses_three_groups_and_short_groups() -> None:
    data = cohort(7, 60)
    with pytest.raises(InputError, match="exactly two groups"):
        rmst_comparison(data.time, data.event, data.group, 1.0)
    with pytest.raises(InputError) as caught:
        rmst_comparison([1.0, 9.0, 2.0, 3.0], [1, 0, 1, 0], [0, 0, 1, 1], 5.0)
    assert caught.value.field == "tau"
    with pytest.raises(InputError) as caught:
        rmst_comparison(AML.time, AML.status, AML.x, 10.0, reference=7)
    assert caught.value.field == "reference"
