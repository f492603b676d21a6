"""Proportional-hazards test: lifelines' proportional_hazard_test computed live."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.cox import cox_ph
from mrdtrack.outcomes.ph_check import TimeTransform, proportional_hazards_test
from tests.outcomes.datasets import AML, Cohort, cohort

lifelines: Any = importlib.import_module("lifelines")
lifelines_statistics: Any = importlib.import_module("lifelines.statistics")
pandas: Any = importlib.import_module("pandas")

# Reach the maximum of the partial likelihood (lifelines' defaults stop ~1e-6 short).
FIT_OPTIONS = {"precision": 1e-12, "r_precision": 0.0}
NAMES = ["x1", "x2", "x3"]


def _left_km(durations: Any, events: Any, _weights: Any) -> Any:
    """R's km transform, 1 − Ŝ(t−), by a direct product over the earlier event times."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    out = np.empty(t.size)
    for i, now in enumerate(t):
        level = 1.0
        for u in np.unique(t[e & (t < now)]):
            level *= 1.0 - np.sum(e & (t == u)) / np.sum(t >= u)
        out[i] = 1.0 - level
    return pandas.Series(out, index=durations.index)


def _average_rank(durations: Any, events: Any, _weights: Any) -> Any:
    """R's rank transform: average ranks of the event times (ties share a rank)."""
    e = np.asarray(events, dtype=bool)
    out = np.zeros(e.size)
    out[e] = stats.rankdata(np.asarray(durations, dtype=float)[e])
    return pandas.Series(out, index=durations.index)


LIFELINES_TRANSFORM = {"identity": "identity", "km": _left_km, "rank": _average_rank}


def _lifelines(data: Cohort, transform: str, *, strata: bool = False) -> tuple[Any, Any, Any]:
    frame = pandas.DataFrame(data.covariates, columns=NAMES)
    frame["time"], frame["status"] = data.time, data.event
    if strata:
        frame["stratum"] = data.stratum
    fitter = lifelines.CoxPHFitter().fit(
        frame,
        "time",
        "status",
        strata=["stratum"] if strata else None,
        fit_options=FIT_OPTIONS,
    )
    result = lifelines_statistics.proportional_hazard_test(
        fitter, frame, time_transform=LIFELINES_TRANSFORM[transform]
    )
    return fitter, frame, np.asarray(result.test_statistic, dtype=float)


@pytest.mark.parametrize("transform", ["identity", "km", "rank"])
@pytest.mark.parametrize(("seed", "ties"), [(11, True), (12, False)])
def test_per_covariate_statistics_match_lifelines(transform: str, seed: int, ties: bool) -> None:
    data = cohort(seed, 150, ties=ties)
    fit = cox_ph(data.time, data.event, data.covariates, names=NAMES)
    _, _, expected = _lifelines(data, transform)
    result = proportional_hazards_test(
        fit, data.time, data.event, data.covariates, transform=transform
    )
    assert result.transform is TimeTransform(transform)
    assert result.statistic == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert result.p_value == pytest.approx(stats.chi2.sf(expected, 1), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("transform", ["identity", "rank"])
def test_lifelines_builtin_transforms_without_ties(transform: str) -> None:
    # Without tied event times lifelines' own "rank" (consecutive numbering) is R's.
    data = cohort(13, 120, ties=False)
    frame = pandas.DataFrame(data.covariates, columns=NAMES)
    frame["time"], frame["status"] = data.time, data.event
    fitter = lifelines.CoxPHFitter().fit(frame, "time", "status", fit_options=FIT_OPTIONS)
    expected = lifelines_statistics.proportional_hazard_test(
        fitter, frame, time_transform=transform
    ).test_statistic
    fit = cox_ph(data.time, data.event, data.covariates, names=NAMES)
    result = proportional_hazards_test(
        fit, data.time, data.event, data.covariates, transform=transform
    )
    assert result.statistic == pytest.approx(np.asarray(expected, dtype=float), rel=1e-6)


def test_with_strata_matches_lifelines() -> None:
    data = cohort(14, 200)
    fit = cox_ph(data.time, data.event, data.covariates, names=NAMES, strata=data.stratum)
    _, _, expected = _lifelines(data, "km", strata=True)
    result = proportional_hazards_test(
        fit, data.time, data.event, data.covariates, strata=data.stratum
    )
    assert result.statistic == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_residuals_and_global_test_from_lifelines_residuals() -> None:
    data = cohort(15, 150, ties=False)
    fitter, frame, _ = _lifelines(data, "identity")
    scaled = np.asarray(fitter.compute_residuals(frame, kind="scaled_schoenfeld"), dtype=float)
    fit = cox_ph(data.time, data.event, data.covariates, names=NAMES)
    result = proportional_hazards_test(
        fit, data.time, data.event, data.covariates, transform="identity"
    )
    # lifelines leaves β̂ out of its scaled residuals; R (and this) adds it.
    assert result.scaled_schoenfeld == pytest.approx(scaled + fit.coef, rel=1e-6, abs=1e-6)
    # Global test from the scaled residuals r = d S V: T = (rᵀg)ᵀ V⁻¹ (rᵀg) / (d Σg²).
    deaths = int(data.event.sum())
    g = np.sort(data.time[data.event == 1])
    g = g - g.mean()
    projected = scaled.T @ g
    covariance = np.asarray(fitter.variance_matrix_, dtype=float)
    expected = projected @ np.linalg.solve(covariance, projected) / (deaths * (g @ g))
    assert result.global_statistic == pytest.approx(expected, rel=1e-6)
    assert result.global_df == 3
    assert result.event_times.tolist() == sorted(result.event_times.tolist())


def test_one_covariate_global_equals_per_covariate_on_aml() -> None:
    fit = cox_ph(AML.time, AML.status, AML.x, names=["x"])
    result = proportional_hazards_test(fit, AML.time, AML.status, AML.x)
    assert result.global_statistic == pytest.approx(float(result.statistic[0]), rel=1e-12)
    assert result.global_p_value == pytest.approx(float(result.p_value[0]), rel=1e-12)
    assert result.schoenfeld.sum() == pytest.approx(0.0, abs=1e-8)  # the score at β̂


def test_breslow_residuals_sum_to_zero() -> None:
    data = cohort(16, 100)
    fit = cox_ph(data.time, data.event, data.covariates, ties="breslow")
    result = proportional_hazards_test(fit, data.time, data.event, data.covariates)
    assert result.schoenfeld.sum(axis=0) == pytest.approx(np.zeros(3), abs=1e-8)


def test_non_proportional_hazards_are_detected() -> None:
    # The effect of x reverses half way: hazard ratio e early, 1/e after t = 0.5.
    rng = np.random.default_rng(17)
    n = 400
    x = rng.integers(0, 2, n).astype(float)
    early = rng.exponential(1.0 / np.exp(x))
    late = 0.5 + rng.exponential(1.0 / np.exp(-x))
    time = np.where(early < 0.5, early, late)
    event = np.ones(n, dtype=int)
    fit = cox_ph(time, event, x)
    result = proportional_hazards_test(fit, time, event, x)
    assert result.p_value[0] < 1e-6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"transform": "log"}, "transform"), ({"strata": AML.x}, "strata")],
)
def test_bad_input_is_refused(kwargs: dict[str, Any], field: str) -> None:
    fit = cox_ph(AML.time, AML.status, AML.x)
    with pytest.raises(InputError) as caught:
        proportional_hazards_test(fit, AML.time, AML.status, AML.x, **kwargs)
    assert caught.value.field == field


def test_data_of_another_fit_is_refused() -> None:
    fit = cox_ph(AML.time, AML.status, AML.x)
    with pytest.raises(InputError, match="same time"):
        proportional_hazards_test(fit, AML.time[1:], AML.status[1:], AML.x[1:])
