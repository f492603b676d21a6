"""Kaplan–Meier: the END-02 worked dataset, R's aml numbers, lifelines and statsmodels.

References are computed live from lifelines 0.30 and statsmodels 0.15 on seeded cohorts
with ties and censoring; R values are copied from R 4.x ``survival`` output, with the R
code beside them.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.outcomes import CiMethod, kaplan_meier
from tests.outcomes.datasets import AML, END02, cohort

lifelines: Any = importlib.import_module("lifelines")
lifelines_utils: Any = importlib.import_module("lifelines.utils")
survfunc: Any = importlib.import_module("statsmodels.duration.survfunc")


@pytest.mark.parametrize(
    ("time", "event", "steps", "median"),
    [
        pytest.param(
            END02.time,
            END02.rfs_event,
            {6: 0.875, 10: 0.750, 15: 0.600, 24: 0.400},
            24.0,
            id="END-02-a",
        ),
        pytest.param(END02.os_time, END02.os_event, {10: 0.875, 30: 0.583}, None, id="END-02-d"),
    ],
)
def test_worked_dataset_steps(
    time: np.ndarray, event: np.ndarray, steps: dict[float, float], median: float | None
) -> None:
    km = kaplan_meier(time, event)
    event_times = km.timeline[km.n_events > 0]
    assert event_times.tolist() == sorted(steps)
    assert km.survival[km.n_events > 0] == pytest.approx(list(steps.values()), abs=5e-4)
    assert km.median == median


def test_naive_one_minus_km_overestimates_incidence() -> None:
    # END-02-c: death in CR treated as censored gives 1 − KM = 0.533 at 36 months.
    km = kaplan_meier(END02.time, END02.cause == 1)
    assert 1.0 - km.survival[-1] == pytest.approx(0.5333, abs=5e-5)


# R 4.x, survival 3.x:
#   fit <- survfit(Surv(time, status) ~ 1, data = aml, subset = x == "Maintained")
#   summary(fit)            # conf.type = "log" is R's default
#    time n.risk n.event survival std.err lower 95% CI upper 95% CI
#       9     11       1    0.909  0.0867       0.7541        1.000
#      13     10       1    0.818  0.1163       0.6192        1.000
#      18      8       1    0.716  0.1397       0.4884        1.000
#      23      7       1    0.614  0.1526       0.3769        0.999
#      31      5       1    0.491  0.1642       0.2549        0.946
#      34      4       1    0.368  0.1627       0.1549        0.875
#      48      2       1    0.184  0.1535       0.0359        0.944
AML_MAINTAINED = np.array(
    [
        [9, 11, 0.909, 0.0867, 0.7541, 1.000],
        [13, 10, 0.818, 0.1163, 0.6192, 1.000],
        [18, 8, 0.716, 0.1397, 0.4884, 1.000],
        [23, 7, 0.614, 0.1526, 0.3769, 0.999],
        [31, 5, 0.491, 0.1642, 0.2549, 0.946],
        [34, 4, 0.368, 0.1627, 0.1549, 0.875],
        [48, 2, 0.184, 0.1535, 0.0359, 0.944],
    ]
)


def test_aml_maintained_matches_r_summary() -> None:
    maintained = AML.x == 0
    km = kaplan_meier(AML.time[maintained], AML.status[maintained], ci_method="log")
    rows = km.n_events > 0
    assert km.timeline[rows] == pytest.approx(AML_MAINTAINED[:, 0])
    assert km.n_at_risk[rows] == pytest.approx(AML_MAINTAINED[:, 1])
    assert km.survival[rows] == pytest.approx(AML_MAINTAINED[:, 2], abs=5e-4)
    assert km.std_error[rows] == pytest.approx(AML_MAINTAINED[:, 3], abs=5e-5)
    assert km.ci_lower[rows] == pytest.approx(AML_MAINTAINED[:, 4], abs=5e-5)
    assert km.ci_upper[rows] == pytest.approx(AML_MAINTAINED[:, 5], abs=5e-4)


# R: print(survfit(Surv(time, status) ~ x, data = aml))
#                  n events median 0.95LCL 0.95UCL
#   x=Maintained    11      7     31      18      NA
#   x=Nonmaintained 12     11     23       8      NA
# R: print(survfit(Surv(time, status) ~ 1, data = aml))
#    n events median 0.95LCL 0.95UCL
#   23     18     27      18      45
@pytest.mark.parametrize(
    ("subset", "expected"),
    [
        pytest.param(0, (31.0, 18.0, None), id="aml-maintained"),
        pytest.param(1, (23.0, 8.0, None), id="aml-nonmaintained"),
        pytest.param(None, (27.0, 18.0, 45.0), id="aml-pooled"),
    ],
)
def test_aml_median_and_limits_match_r(
    subset: int | None, expected: tuple[float, float, float | None]
) -> None:
    rows = np.ones(AML.x.size, dtype=bool) if subset is None else AML.x == subset
    km = kaplan_meier(AML.time[rows], AML.status[rows], ci_method="log")
    assert (km.median, km.median_ci_lower, km.median_ci_upper) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_lifelines(seed: int) -> None:
    data = cohort(seed, 400)
    km = kaplan_meier(data.time, data.event)
    reference = lifelines.KaplanMeierFitter().fit(data.time, data.event)
    expected = reference.survival_function_.loc[km.timeline].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km.survival, expected, rtol=0, atol=1e-10)
    band = reference.confidence_interval_.loc[km.timeline].to_numpy()
    defined = expected > 0  # lifelines shows [0, 0] where S = 0; R and mrdtrack NaN
    np.testing.assert_allclose(km.ci_lower[defined], band[defined, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(km.ci_upper[defined], band[defined, 1], rtol=0, atol=1e-10)
    table = reference.event_table.loc[km.timeline]
    assert km.n_at_risk.tolist() == table["at_risk"].tolist()
    assert km.n_events.tolist() == table["observed"].tolist()
    assert km.n_censored.tolist() == table["censored"].tolist()
    assert km.median == reference.median_survival_time_
    limits = lifelines_utils.median_survival_times(reference.confidence_interval_)
    assert (km.median_ci_lower, km.median_ci_upper) == tuple(limits.iloc[0].tolist())


@pytest.mark.parametrize("seed", [4, 5])
def test_matches_statsmodels_survfunc(seed: int) -> None:
    data = cohort(seed, 400)
    km = kaplan_meier(data.time, data.event)
    reference = survfunc.SurvfuncRight(data.time, data.event)
    rows = km.n_events > 0
    np.testing.assert_array_equal(km.timeline[rows], reference.surv_times)
    np.testing.assert_allclose(km.survival[rows], reference.surv_prob, rtol=0, atol=1e-10)
    finite = np.isfinite(reference.surv_prob_se)
    np.testing.assert_allclose(
        km.std_error[rows][finite], reference.surv_prob_se[finite], rtol=0, atol=1e-10
    )


def _naive_km(time: list[float], event: list[bool]) -> dict[float, float]:
    """Product-limit estimate by definition, one distinct time at a time (test oracle)."""
    survival, curve = 1.0, {}
    for t in sorted(set(time)):
        at_risk = sum(1 for u in time if u >= t)
        deaths = sum(1 for u, e in zip(time, event, strict=True) if u == t and e)
        survival *= 1.0 - deaths / at_risk
        curve[t] = survival
    return curve


samples = st.lists(st.tuples(st.integers(0, 15).map(float), st.booleans()), min_size=1, max_size=60)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(samples)
def test_invariants(sample: list[tuple[float, bool]]) -> None:
    time = [t for t, _ in sample]
    event = [e for _, e in sample]
    km = kaplan_meier(time, event)
    assert np.all((km.survival >= 0.0) & (km.survival <= 1.0))
    assert np.all(np.diff(km.survival) <= 0.0)
    assert km.survival == pytest.approx(list(_naive_km(time, event).values()), abs=1e-12)
    assert km.n_at_risk[0] == len(sample)
    assert int(km.n_events.sum()) == sum(event) == km.events
    assert int(km.n_events.sum() + km.n_censored.sum()) == len(sample)
    defined = np.isfinite(km.ci_lower)
    assert np.all(km.ci_lower[defined] <= km.survival[defined] + 1e-12)
    assert np.all(km.ci_upper[defined] >= km.survival[defined] - 1e-12)
    assert np.all((km.ci_lower[defined] >= 0.0) & (km.ci_upper[defined] <= 1.0))


def test_milestones_and_risk_table() -> None:
    km = kaplan_meier(END02.time, END02.rfs_event)
    at = km.at([0, 6, 11, 24, 100])
    assert at.survival == pytest.approx([1.0, 0.875, 0.75, 0.4, 0.4])
    assert at.at_risk.tolist() == [8, 8, 6, 3, 0]
    assert at.events.tolist() == [0, 1, 2, 4, 4]
    assert at.censored.tolist() == [0, 0, 0, 2, 4]
    assert (at.ci_lower[0], at.ci_upper[0]) == (1.0, 1.0)
    assert at.ci_lower[3] < 0.4 < at.ci_upper[3]


def test_quartile_and_median_agree_with_time_at_survival() -> None:
    km = kaplan_meier(END02.time, END02.rfs_event)
    assert km.time_at_survival(0.75).time == 10.0  # S(10) = 0.75 exactly
    assert km.time_at_survival(0.7).time == 15.0
    assert km.time_at_survival(0.5).time == km.median
    assert km.time_at_survival(0.1).time is None
    with pytest.raises(InputError, match="level"):
        km.time_at_survival(1.5)


def test_exact_half_counts_as_the_median() -> None:
    # 24 deaths, one per time: the product of (1 − 1/n) gives 0.5000000000000001 at the
    # 12th time, which is exactly 0.5 (12/24); rounding must not push the median on.
    km = kaplan_meier(np.arange(1.0, 25.0), np.ones(24))
    assert km.survival[11] == pytest.approx(0.5, abs=1e-15)
    assert km.median == 12.0


@pytest.mark.parametrize("method", ["log-log", "log", "plain"])
def test_every_interval_method_brackets_the_estimate(method: str) -> None:
    km = kaplan_meier(AML.time, AML.status, ci_method=method)
    assert km.ci_method is CiMethod(method)
    defined = np.isfinite(km.ci_lower)
    assert np.all(km.ci_lower[defined] <= km.survival[defined])
    assert np.all(km.survival[defined] <= km.ci_upper[defined])
    assert np.all((km.ci_lower[defined] >= 0) & (km.ci_upper[defined] <= 1))


def test_wider_level_gives_wider_intervals() -> None:
    narrow = kaplan_meier(AML.time, AML.status, confidence_level=0.8)
    wide = kaplan_meier(AML.time, AML.status, confidence_level=0.99)
    assert np.all(wide.ci_lower <= narrow.ci_lower + 1e-15)
    assert np.all(wide.ci_upper >= narrow.ci_upper - 1e-15)


def test_curve_that_drops_to_zero_has_undefined_variance_there() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    assert km.survival.tolist() == [pytest.approx(2 / 3), pytest.approx(2 / 3), 0.0]
    assert np.isnan(km.std_error[-1])
    assert np.isnan(km.ci_lower[-1])
    assert np.isnan(km.ci_upper[-1])
    assert km.variance[0] == pytest.approx((2 / 3) ** 2 * (1 / (3 * 2)))


def test_all_censored_never_reaches_the_median() -> None:
    km = kaplan_meier([3, 5, 8], [0, 0, 0])
    assert km.survival.tolist() == [1.0, 1.0, 1.0]
    assert km.ci_lower.tolist() == [1.0, 1.0, 1.0]
    assert km.median is None
    assert km.events == 0


def test_events_at_time_zero_and_negative_zero() -> None:
    # END-01: induction failure counts as an event on day 0.
    km = kaplan_meier([0.0, -0.0, 4.0, 7.0], [1, 1, 0, 1])
    assert km.timeline.tolist() == [0.0, 4.0, 7.0]
    assert km.survival[0] == 0.5
    assert km.n_events.tolist() == [2, 0, 1]


def test_result_arrays_are_read_only() -> None:
    km = kaplan_meier(END02.time, END02.rfs_event)
    with pytest.raises(ValueError, match="read-only"):
        km.timeline[0] = 1.0
    assert km.basis.rule == "END-02"


@pytest.mark.parametrize(
    ("time", "event", "field"),
    [
        pytest.param([1, -2, 3], [1, 1, 1], r"time\[1\]", id="negative-time"),
        pytest.param([1, float("nan")], [1, 0], r"time\[1\]", id="missing-time"),
        pytest.param([1, float("inf")], [1, 0], r"time\[1\]", id="infinite-time"),
        pytest.param([1, "x"], [1, 0], r"time\[1\]", id="text-time"),
        pytest.param([], [], "time", id="empty"),
        pytest.param([[1, 2]], [[1, 0]], "time", id="two-dimensional"),
        pytest.param([1, 2], [1, 2], r"event\[1\]", id="event-code-2"),
        pytest.param([1, 2], [1.0, 0.5], r"event\[1\]", id="fractional-event"),
        pytest.param([1, 2], ["1", "0"], "event", id="text-event"),
        pytest.param([1, 2, 3], [1, 0], "event", id="length-mismatch"),
    ],
)
def test_bad_input_is_refused(time: Any, event: Any, field: str) -> None:
    with pytest.raises(InputError, match=field):
        kaplan_meier(time, event)


@pytest.mark.parametrize(
    ("option", "value"),
    [("confidence_level", 1.0), ("confidence_level", 0.0), ("ci_method", "logit")],
)
def test_bad_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(InputError, match=option):
        kaplan_meier(END02.time, END02.rfs_event, **{option: value})  # type: ignore[arg-type]
