"""Synthetic cohorts: deterministic, valid records, plausible clinical shape."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.records import CohortDocument, PatientRecord, parse_cohort, to_mapping
from mrdtrack.registry.synth import SUBTYPE_WEIGHTS, synthetic_cohort
from mrdtrack.registry.vocabulary import GeneticSubtype, OutcomeKind, TreatmentKind


@pytest.fixture(scope="module")
def cohort() -> CohortDocument:
    return synthetic_cohort(1500, seed=20240603)


def has(patient: PatientRecord, kind: TreatmentKind | OutcomeKind) -> bool:
    if isinstance(kind, TreatmentKind):
        return any(t.kind is kind for t in patient.treatments)
    return any(o.kind is kind for o in patient.outcomes)


def test_same_seed_same_cohort_other_seed_other_cohort() -> None:
    assert synthetic_cohort(40, seed=7) == synthetic_cohort(40, seed=7)
    assert synthetic_cohort(40, seed=7) != synthetic_cohort(40, seed=8)
    assert synthetic_cohort(40, seed=7).id == "synthetic-7-40"


@pytest.mark.parametrize("n", [0, 1, 37])
def test_n_patients_with_unique_ids(n: int) -> None:
    doc = synthetic_cohort(n, seed=3)
    assert len(doc.patients) == n
    assert len({p.study_id for p in doc.patients}) == n
    assert {p.site_code for p in doc.patients} <= {s.code for s in doc.sites}


@pytest.mark.parametrize(("n", "seed"), [(-1, 0), (10, -1), (2.5, 0)])
def test_refuses_bad_arguments(n: float, seed: int) -> None:
    with pytest.raises(InputError):
        synthetic_cohort(n, seed)  # type: ignore[arg-type]


def test_records_pass_the_validator() -> None:
    """Every date is in order and every MRD input is accepted: the round trip holds."""
    doc = synthetic_cohort(400, seed=11)
    assert parse_cohort(to_mapping(doc), "synthetic") == doc


def test_every_mrd_input_computes(cohort: CohortDocument) -> None:
    statuses: Counter[MrdStatus] = Counter()
    methods: Counter[str] = Counter()
    for patient in cohort.patients:
        for sample in patient.samples:
            for mrd in sample.mrd:
                statuses[mrd.compute(patient.marker(mrd.marker)).status] += 1
                methods[mrd.method] += 1
    assert statuses[MrdStatus.NOT_EVALUABLE] == 0
    assert statuses[MrdStatus.POSITIVE] > 0 and statuses[MrdStatus.NEGATIVE] > 0
    assert set(methods) == {"flow", "rq-pcr", "ngs"}


def test_subtype_mix(cohort: CohortDocument) -> None:
    assert sum(SUBTYPE_WEIGHTS.values()) == pytest.approx(1.0)
    counts = Counter(p.diagnosis.genetic_subtype for p in cohort.patients)
    assert set(counts) == set(GeneticSubtype)
    n = len(cohort.patients)
    for subtype, weight in SUBTYPE_WEIGHTS.items():
        assert counts[subtype] / n == pytest.approx(weight, abs=0.03)
    for patient in cohort.patients:
        ph = patient.diagnosis.genetic_subtype.value.startswith("BCR::ABL1")
        assert patient.diagnosis.ph_positive is ph
        assert has(patient, TreatmentKind.TKI) is ph


def test_ages_between_1_and_25_years(cohort: CohortDocument) -> None:
    ages = []
    for patient in cohort.patients:
        assert patient.birth_date is not None
        start = min(
            t.start_date for t in patient.treatments if t.kind is TreatmentKind.BLINATUMOMAB
        )
        ages.append((start - patient.birth_date).days / 365.25)
    assert min(ages) >= 1.0
    assert max(ages) <= 25.0
    assert 5.0 <= statistics.median(ages) <= 14.0


def test_mrd_falls_after_blinatumomab_in_most(cohort: CohortDocument) -> None:
    falls = positive_before = 0
    for patient in cohort.patients:
        by_timepoint = {s.timepoint: s for s in patient.samples}
        if "POST_C1" not in by_timepoint:
            continue
        before, after = (
            by_timepoint[t].mrd[0].compute(patient.marker(by_timepoint[t].mrd[0].marker))
            for t in ("PRE_BLIN", "POST_C1")
        )
        if before.status is MrdStatus.POSITIVE and before.mrd_fraction is not None:
            positive_before += 1
            falls += not after.detected or (after.mrd_fraction or 1.0) < before.mrd_fraction
    assert positive_before > 0.6 * len(cohort.patients)
    assert falls / positive_before > 0.8


def test_some_hct_dli_relapse_and_death(cohort: CohortDocument) -> None:
    n = len(cohort.patients)
    hct = sum(has(p, TreatmentKind.HCT) for p in cohort.patients)
    dli = sum(has(p, TreatmentKind.DLI) for p in cohort.patients)
    relapse = sum(has(p, OutcomeKind.RELAPSE) for p in cohort.patients)
    death = sum(has(p, OutcomeKind.DEATH) for p in cohort.patients)
    assert 0.1 * n < hct < 0.5 * n
    assert 0 < dli < hct
    assert 0.05 * n < relapse < 0.4 * n
    assert 0 < death < relapse + 0.05 * n
    for patient in cohort.patients:
        if has(patient, TreatmentKind.DLI):
            (transplant,) = [t for t in patient.treatments if t.kind is TreatmentKind.HCT]
            assert all(
                t.start_date > transplant.start_date
                for t in patient.treatments
                if t.kind is TreatmentKind.DLI
            )


def test_blinatumomab_cycles_and_dose_basis(cohort: CohortDocument) -> None:
    for patient in cohort.patients:
        cycles = [t for t in patient.treatments if t.kind is TreatmentKind.BLINATUMOMAB]
        assert [t.cycle for t in cycles] in ([1], [1, 2])
        basis = cycles[0].details["dose_basis"]
        assert basis in {"ug/m2/day", "ug/day"}
        for cycle in cycles:
            assert cycle.end_date is not None
            assert (cycle.end_date - cycle.start_date).days == 27


def test_data_cutoff_bounds_follow_up() -> None:
    cutoff = date(2020, 12, 31)
    doc = synthetic_cohort(200, seed=5, data_cutoff=cutoff)
    for patient in doc.patients:
        assert max(o.event_date for o in patient.outcomes) <= cutoff
        assert all(s.sample_date <= cutoff for s in patient.samples)
