"""Aalen–Johansen cumulative incidence: END-02-b, lifelines, statsmodels, invariants."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.outcomes import cumulative_incidence, kaplan_meier
from tests.outcomes.datasets import END02, cohort

lifelines: Any = importlib.import_module("lifelines")
survfunc: Any = importlib.import_module("statsmodels.duration.survfunc")


def test_worked_dataset_cir_and_nrm() -> None:
    # END-02-b: CIR steps 0.125 → 0.275 → 0.475; NRM 0.125; CIR + NRM + RFS = 1.
    cir = cumulative_incidence(END02.time, END02.cause, cause_of_interest=1)
    nrm = cumulative_incidence(END02.time, END02.cause, cause_of_interest=2)
    rfs = kaplan_meier(END02.time, END02.rfs_event)
    steps = cir.n_events > 0
    assert cir.timeline[steps].tolist() == [6.0, 15.0, 24.0]
    assert cir.cif[steps] == pytest.approx([0.125, 0.275, 0.475], abs=1e-12)
    assert nrm.cif[-1] == pytest.approx(0.125, abs=1e-12)
    assert cir.cif[-1] + nrm.cif[-1] + rfs.survival[-1] == pytest.approx(1.0, abs=1e-12)
    assert cir.events == 3
    assert cir.competing_events == 1
    assert cir.competing_causes == (2,)


def test_naive_one_minus_km_is_larger_than_the_cif() -> None:
    # END-02-c: 0.533 with deaths treated as censored, against the correct 0.475.
    cir = cumulative_incidence(END02.time, END02.cause)
    naive = 1.0 - kaplan_meier(END02.time, END02.cause == 1).survival[-1]
    assert naive == pytest.approx(0.533, abs=5e-4)
    assert naive > cir.cif[-1]


@pytest.mark.parametrize(("seed", "cause"), [(1, 1), (2, 2), (3, 1)])
def test_matches_lifelines_with_variance(seed: int, cause: int) -> None:
    # lifelines jitters tied times; without ties it is the same estimator and variance.
    data = cohort(seed, 300, ties=False)
    result = cumulative_incidence(data.time, data.cause, cause_of_interest=cause)
    reference = lifelines.AalenJohansenFitter(calculate_variance=True).fit(
        data.time, data.cause, event_of_interest=cause
    )
    expected = reference.cumulative_density_.loc[result.timeline].iloc[:, 0].to_numpy()
    variance = reference.variance_.loc[result.timeline].to_numpy()
    np.testing.assert_allclose(result.cif, expected, rtol=0, atol=1e-10)
    defined = np.isfinite(variance)  # lifelines: NaN where everyone left at risk fails
    np.testing.assert_allclose(result.variance[defined], variance[defined], rtol=0, atol=1e-10)
    band = np.sort(reference.confidence_interval_.loc[result.timeline].to_numpy(), axis=1)
    inside = defined & (expected > 0)
    np.testing.assert_allclose(result.ci_lower[inside], band[inside, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.ci_upper[inside], band[inside, 1], rtol=0, atol=1e-10)


@pytest.mark.parametrize(("seed", "cause"), [(4, 1), (5, 2)])
def test_matches_statsmodels_with_ties(seed: int, cause: int) -> None:
    data = cohort(seed, 400)
    result = cumulative_incidence(data.time, data.cause, cause_of_interest=cause)
    reference = survfunc.CumIncidenceRight(data.time, data.cause)
    np.testing.assert_array_equal(result.timeline, reference.times)
    np.testing.assert_allclose(result.cif, reference.cinc[cause - 1], rtol=0, atol=1e-10)
    defined = np.isfinite(reference.cinc_se[cause - 1])
    np.testing.assert_allclose(
        result.std_error[defined], reference.cinc_se[cause - 1][defined], rtol=0, atol=1e-10
    )


def test_without_competing_events_the_cif_is_one_minus_km() -> None:
    data = cohort(6, 200)
    cif = cumulative_incidence(data.time, data.event, cause_of_interest=1)
    km = kaplan_meier(data.time, data.event)
    np.testing.assert_allclose(cif.cif, 1.0 - km.survival, atol=1e-12)
    assert cif.competing_causes == ()


samples = st.lists(
    st.tuples(st.integers(0, 12).map(float), st.sampled_from([0, 1, 2, 3])),
    min_size=1,
    max_size=50,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(samples)
def test_invariants(sample: list[tuple[float, int]]) -> None:
    time = np.array([t for t, _ in sample])
    cause = np.array([c for _, c in sample])
    curves = [cumulative_incidence(time, cause, cause_of_interest=k) for k in (1, 2, 3)]
    overall = kaplan_meier(time, cause > 0)
    total = overall.survival.copy()
    for curve in curves:
        assert np.all((curve.cif >= 0.0) & (curve.cif <= 1.0 + 1e-12))
        assert np.all(np.diff(curve.cif) >= -1e-15)
        assert np.all(curve.variance >= 0.0)
        assert np.all(np.isfinite(curve.std_error))
        assert np.all(curve.ci_lower <= curve.cif + 1e-12)
        assert np.all(curve.ci_upper >= curve.cif - 1e-12)
        np.testing.assert_array_equal(curve.event_free_survival, overall.survival)
        total += curve.cif
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_milestones() -> None:
    cir = cumulative_incidence(END02.time, END02.cause)
    at = cir.at([0, 6, 20, 100])
    assert at.cif == pytest.approx([0.0, 0.125, 0.275, 0.475], abs=1e-12)
    assert (at.ci_lower[0], at.ci_upper[0]) == (0.0, 0.0)
    assert np.all(at.ci_lower[1:] < at.cif[1:])
    assert np.all(at.ci_upper[1:] > at.cif[1:])


def test_text_codes_and_a_final_time_where_everyone_fails() -> None:
    cause = ["relapse", "death", "none", "relapse", "relapse"]
    cir = cumulative_incidence(
        [1, 2, 3, 4, 4], cause, cause_of_interest="relapse", censor_code="none"
    )
    assert cir.cif[-1] == pytest.approx(0.2 + 0.6 * (2 / 2), abs=1e-12)
    assert cir.competing_causes == ("death",)
    assert np.isfinite(cir.std_error).all()


@pytest.mark.parametrize(
    ("cause", "kwargs", "field"),
    [
        pytest.param([1, 0, 2], {"cause_of_interest": 0}, "cause_of_interest", id="censor-code"),
        pytest.param([1, float("nan"), 2], {}, r"cause\[1\]", id="missing-cause"),
        pytest.param([1, 0], {}, "cause", id="length"),
        pytest.param([1, 0, 2], {"confidence_level": 2}, "confidence_level", id="level"),
    ],
)
def test_bad_input_is_refused(cause: Any, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError, match=field):
        cumulative_incidence([1, 2, 3], cause, **kwargs)
