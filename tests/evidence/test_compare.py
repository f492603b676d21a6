"""The comparison on the demo (case-report) cohort equals hand-computed values."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mrdtrack.evidence import (
    CAUTION,
    CohortMeasure,
    Population,
    Setting,
    SurvivalEndpoint,
    cohort_survival_at,
    compare_cohort,
    comparison_forest_rows,
    load_evidence,
)
from mrdtrack.outcomes.endpoints import Endpoint, derive_endpoint
from mrdtrack.outcomes.histories import TimeZero
from mrdtrack.outcomes.kaplan_meier import kaplan_meier
from mrdtrack.registry.cohort import RegistryCohort, read_cohort
from mrdtrack.registry.database import open_registry


@pytest.fixture(scope="module")
def demo_cohort(tmp_path_factory: pytest.TempPathFactory) -> RegistryCohort:
    url = f"sqlite:///{tmp_path_factory.mktemp('evidence') / 'demo.sqlite3'}"
    from mrdtrack.cli import main

    assert main(["demo", "--db", url, "--json"]) == 0
    registry = open_registry(url)
    try:
        return read_cohort(registry)
    finally:
        registry.dispose()


def _wilson(k: int, n: int) -> tuple[float, float]:
    """By hand: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.959964."""
    z, p = 1.959963984540054, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def test_demo_cohort_rows_equal_hand_computed_values(demo_cohort: RegistryCohort) -> None:
    settings = (Setting.MRD_POSITIVE, Setting.RELAPSED_REFRACTORY)
    trials = load_evidence().select(settings=settings, population=Population.PEDIATRIC)
    result = compare_cohort(
        demo_cohort.histories, demo_cohort.patients, trials, population=Population.PEDIATRIC
    )
    cohort = {r.measure: r for r in result.rows if r.trial_id is None}
    # Case report: 9 of 11 MRD-negative; 0 grade >= 3 CRS; 2 relapses; 1 entered not in CR.
    expected = {
        CohortMeasure.MRD_NEGATIVE: (9, 11),
        CohortMeasure.CR: (1, 1),
        CohortMeasure.CRS_GRADE3: (0, 11),
        CohortMeasure.RELAPSE: (2, 11),
    }
    for measure, (k, n) in expected.items():
        row = cohort[measure]
        assert (row.k, row.n) == (k, n)
        assert row.wilson is not None and row.exact is not None
        lower, upper = _wilson(k, n)
        assert row.wilson.lower == pytest.approx(lower, abs=1e-12)
        assert row.wilson.upper == pytest.approx(upper, abs=1e-12)
    # 9/11: Wilson 0.5230–0.9486 by hand; Clopper–Pearson 0/11 upper = 1 − 0.025^(1/11).
    assert round(cohort[CohortMeasure.MRD_NEGATIVE].wilson.lower, 4) == 0.5230  # type: ignore[union-attr]
    crs_exact = cohort[CohortMeasure.CRS_GRADE3].exact
    assert crs_exact is not None and crs_exact.upper == pytest.approx(1 - 0.025 ** (1 / 11))
    assert result.caution == CAUTION and "not a test" in CAUTION


def test_trial_rows_use_stated_or_assumed_denominators(demo_cohort: RegistryCohort) -> None:
    trials = load_evidence().select(
        settings=[Setting.RELAPSED_REFRACTORY], population=Population.PEDIATRIC
    )
    result = compare_cohort(
        demo_cohort.histories, demo_cohort.patients, trials, population=Population.PEDIATRIC
    )
    rialto = next(
        r for r in result.rows if r.trial_id == "rialto" and r.measure is CohortMeasure.MRD_NEGATIVE
    )
    # Table 1: RIALTO MRD negativity 52 % of 110 (denominator assumed) -> k = 57.
    assert (rialto.k, rialto.n, rialto.denominator_assumed) == (57, 110, True)
    assert all(r.trial_id != "tower" for r in result.rows)  # adult trial excluded
    assert all("chemotherapy" not in r.label for r in result.rows)


def test_forest_rows_and_figure(demo_cohort: RegistryCohort, tmp_path: Path) -> None:
    trials = load_evidence().select(
        settings=[Setting.MRD_POSITIVE], population=Population.PEDIATRIC
    )
    result = compare_cohort(demo_cohort.histories, demo_cohort.patients, trials)
    rows = comparison_forest_rows(result)
    assert rows[0].label == "MRD-negative: registry cohort" and rows[0].detail == "9/11"
    assert all(r.ci_lower <= r.estimate <= r.ci_upper for r in rows)


def test_demo_os_at_12_months_equals_the_kaplan_meier_estimate(
    demo_cohort: RegistryCohort,
) -> None:
    row = cohort_survival_at(demo_cohort.histories, SurvivalEndpoint.OS, 12.0)
    data = derive_endpoint(demo_cohort.histories, Endpoint.OS, origin=TimeZero.BLINATUMOMAB)
    at = kaplan_meier(data.time_months, data.event).at([12.0])
    assert row.status == "estimated" and row.origin is not None and "infusion" in row.origin
    assert row.survival == pytest.approx(float(at.survival[0]), abs=1e-12)
    assert row.ci_lower == pytest.approx(float(at.ci_lower[0]), abs=1e-12)
    assert row.ci_upper == pytest.approx(float(at.ci_upper[0]), abs=1e-12)
    # One death at 11.0 months with 10 still followed (one censored at 10.3): S = 9/10.
    assert row.survival == pytest.approx(0.9)
    assert (row.n, row.events, row.at_risk) == (11, 1, 9)


@pytest.mark.parametrize("endpoint", list(SurvivalEndpoint))
def test_horizon_beyond_follow_up_is_not_reached(
    demo_cohort: RegistryCohort, endpoint: SurvivalEndpoint
) -> None:
    row = cohort_survival_at(demo_cohort.histories, endpoint, 36.0)
    assert row.status == "not_reached" and row.survival is None and row.ci_lower is None
    assert row.at_risk == 0 and row.note is not None and "does not reach 36 months" in row.note
    assert row.to_dict()["percent"] is None


def test_comparison_sets_survival_only_at_the_trials_horizons(
    demo_cohort: RegistryCohort,
) -> None:
    settings = (Setting.MRD_POSITIVE, Setting.RELAPSED_REFRACTORY)
    trials = load_evidence().select(settings=settings, population=Population.PEDIATRIC)
    result = compare_cohort(
        demo_cohort.histories, demo_cohort.patients, trials, population=Population.PEDIATRIC
    )
    stated = {
        (v.measure.value, v.horizon_months)
        for t in trials
        for v in t.values
        if v.measure.value in ("os", "efs") and v.horizon_months is not None
    }
    shown = {(r.endpoint.value, r.horizon_months) for r in result.survival}
    assert shown and shown <= stated
    cohort = [r for r in result.survival if r.trial_id is None]
    # The demo's follow-up (about 2 years) does not reach the trials' 48-month horizons.
    assert cohort and all(r.status == "not_reached" for r in cohort)
    published = [r for r in result.survival if r.trial_id == "20120215"]
    assert {(r.endpoint.value, r.percent) for r in published} == {("os", 59.0), ("efs", 69.0)}
    assert all("chemotherapy" not in r.label for r in result.survival)
    payload = result.to_dict()
    assert payload["rows"] and payload["survival"][0]["endpoint"] == "os"
    assert "first blinatumomab infusion" in payload["survival_origin"]
