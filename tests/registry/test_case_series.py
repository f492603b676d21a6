"""The case-report cohort reproduces every number the paper states, recomputed from records.

Source: Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035
[SEED-1]: Table 1 (copied below as the external truth, row by row) and the text. MRD
statuses come from the MRD engine on the raw inputs, CRS and GVHD grades from the grading
package on the grading inputs, hypogammaglobulinemia from the IgG rule (HYPO-06).

Definitions used where the paper does not give one:

* age = (first blinatumomab infusion − birth date) in days / 365.25, to one decimal;
* follow-up = (last contact or death − diagnosis) in days / 30.4375 (domain rules §0.2),
  summarised by the simple median of the per-patient values (the paper does not say
  whether it used reverse Kaplan–Meier, domain rules §11.3);
* MRD status of a sample: positive if any of its results is positive (quantifiable or
  not); "at last follow-up" = the patient's last sample;
* DLI dose: the median CD3⁺ cells/kg of each patient's infusions, then the median over
  the patients (the median of all infusions pooled gives the same 2.2×10⁷/kg);
* relapses and deaths are the outcome events, i.e. after the first blinatumomab infusion;
  relapses before it are disease history (assessments with response ``relapse``).
"""

from __future__ import annotations

import statistics
from datetime import date

import pytest

from mrdtrack.grading.agvhd_grade import grade_acute_gvhd
from mrdtrack.grading.agvhd_staging import AcuteGvhdFindings
from mrdtrack.grading.crs import grade_crs
from mrdtrack.grading.igg import assess_igg
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.records import (
    CohortDocument,
    PatientRecord,
    SampleRecord,
    TreatmentRecord,
    demo_cohort,
)
from mrdtrack.registry.vocabulary import OutcomeKind, Response, Sex, TreatmentKind

POSITIVE = {MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE}

# Table 1 of the paper, row by row: age (y) / sex, cytogenetics as printed and as coded,
# disease status before blinatumomab ("Disease Status before HCT"), CRS grade (0 = "No"),
# days to HCT, preparative regimen, graft source, outcome status.
TABLE_1 = [
    (3, "F", "NA", "not available", "MRD+", 1, None, None, None, "CR1 MRD–"),
    (14, "F", "DUX4r", "DUX4-r", "MRD+", 0, 165, "CyBu", "MUD", "CR1 MRD–"),
    (19, "F", "Complex karyotype", "complex karyotype", "MRD+", 1, 157, "CyBu", "MUD", "CR1 MRD–"),
    (18, "F", "TCF3-ZNF384", "ZNF384-r", "R/R", 1, None, None, None, "CR3 MRD–"),
    (12, "F", "E2A-PBX1", "TCF3::PBX1", "MRD+", 2, 97, "CyBu", "MSD", "DOD"),
    (7, "F", "Ph'(+)", "BCR::ABL1 p190", "MRD+", 1, 125, "CyBu", "MUD", "MRD+"),
    (8, "M", "Ph'(+)", "BCR::ABL1 p190", "MRD–", 0, None, None, None, "CR1 MRD–"),
    (11.5, "M", "E2A-PBX1", "TCF3::PBX1", "CR2 MRD–", 1, None, None, None, "CR2 MRD–"),
    (12, "F", "JAK2", "Ph-like (JAK2)", "MRD+", 1, 270, "CyBu", "MUD", "CR1 MRD–"),
    (4, "M", "Ph'(+)", "BCR::ABL1 p190", "MRD–", 2, None, None, None, "CR1 MRD–"),
    (11, "M", "DUX4r", "DUX4-r", "MRD+", 1, None, None, None, "CR1 MRD–"),
]


@pytest.fixture(scope="module")
def cohort() -> CohortDocument:
    return demo_cohort()


def of_kind(patient: PatientRecord, kind: TreatmentKind) -> list[TreatmentRecord]:
    return [t for t in patient.treatments if t.kind is kind]


def blin_start(patient: PatientRecord) -> date:
    return min(t.start_date for t in of_kind(patient, TreatmentKind.BLINATUMOMAB))


def age_years(patient: PatientRecord, on: date) -> float:
    assert patient.birth_date is not None
    return (on - patient.birth_date).days / 365.25


def positive(patient: PatientRecord, sample: SampleRecord) -> bool:
    return any(m.compute(patient.marker(m.marker)).status in POSITIVE for m in sample.mrd)


def sample_at(patient: PatientRecord, timepoint: str) -> SampleRecord:
    return max(
        (s for s in patient.samples if s.timepoint == timepoint), key=lambda s: s.sample_date
    )


def last_sample(patient: PatientRecord) -> SampleRecord:
    return max(patient.samples, key=lambda s: s.sample_date)


def worst_crs(patient: PatientRecord) -> int:
    grades = [e.grade or 0 for e in patient.adverse_events if e.scale == "ASTCT-2019"]
    return max(grades, default=0)


def outcome_dates(patient: PatientRecord, kind: OutcomeKind) -> list[date]:
    return [o.event_date for o in patient.outcomes if o.kind is kind]


def follow_up_months(patient: PatientRecord) -> float:
    end = outcome_dates(patient, OutcomeKind.DEATH) or outcome_dates(
        patient, OutcomeKind.LAST_CONTACT
    )
    return (end[0] - patient.diagnosis.diagnosis_date).days / 30.4375


def status_before_blinatumomab(patient: PatientRecord) -> tuple[str, int | None]:
    """``("R/R", None)`` or the PRE_BLIN MRD sign with the remission number."""
    start = blin_start(patient)
    before = max(
        (a for a in patient.assessments if a.assessment_date < start),
        key=lambda a: a.assessment_date,
    )
    if before.response in (Response.NR, Response.RELAPSE):
        return "R/R", None
    sign = "MRD+" if positive(patient, sample_at(patient, "PRE_BLIN")) else "MRD–"
    return sign, before.remission_number


def outcome_status(patient: PatientRecord) -> str:
    if outcome_dates(patient, OutcomeKind.DEATH):
        return "DOD"
    if positive(patient, last_sample(patient)):
        return "MRD+"
    last = max(patient.assessments, key=lambda a: a.assessment_date)
    assert last.response is Response.CR
    return f"CR{last.remission_number} MRD–"


@pytest.mark.parametrize("row", range(11), ids=[f"SEED1-P{i + 1:02d}" for i in range(11)])
def test_table_1_row(cohort: CohortDocument, row: int) -> None:
    age, sex, _, subtype, before, crs, days, regimen, graft, status = TABLE_1[row]
    patient = cohort.patients[row]
    assert patient.study_id == f"SEED1-P{row + 1:02d}"
    assert round(age_years(patient, blin_start(patient)), 1) == age
    assert patient.sex is {"F": Sex.FEMALE, "M": Sex.MALE}[sex]
    assert patient.diagnosis.genetic_subtype.value == subtype
    # "CR2 MRD–" names the remission; a bare "MRD+" does not (P05 relapsed before
    # blinatumomab, so her reconstructed CR2 is not contradicted by the table).
    sign, remission = status_before_blinatumomab(patient)
    assert sign == before.split()[-1]
    if before.startswith("CR"):
        assert remission == int(before.split()[0][2:])
    assert worst_crs(patient) == crs
    hct = of_kind(patient, TreatmentKind.HCT)
    if days is None:
        assert hct == []
    else:
        assert [(t.start_date - blin_start(patient)).days for t in hct] == [days]
        assert hct[0].details["conditioning"] == regimen
        assert hct[0].details["donor_type"] == graft
    assert outcome_status(patient) == status


def test_patients_and_demographics(cohort: CohortDocument) -> None:
    patients = cohort.patients
    assert len(patients) == 11
    ages = [round(age_years(p, blin_start(p)), 1) for p in patients]
    assert (statistics.median(ages), min(ages), max(ages)) == (11.5, 3.0, 19.0)
    assert sum(p.sex is Sex.FEMALE for p in patients) == 7
    assert sum(p.sex is Sex.MALE for p in patients) == 4


def test_blinatumomab_schedule(cohort: CohortDocument) -> None:
    """Two cycles of 28 days on and 14 off at 15 µg/m²/day, July 2021 – December 2022."""
    for patient in cohort.patients:
        cycles = sorted(of_kind(patient, TreatmentKind.BLINATUMOMAB), key=lambda t: t.start_date)
        assert [t.cycle for t in cycles] == [1, 2]
        for cycle in cycles:
            assert cycle.end_date is not None
            assert (cycle.end_date - cycle.start_date).days + 1 == 28
            assert date(2021, 7, 1) <= cycle.start_date <= cycle.end_date <= date(2022, 12, 31)
            assert dict(cycle.details) == {"dose_basis": "ug/m2/day", "daily_dose_ug_per_m2": 15}
        assert cycles[0].end_date is not None
        assert (cycles[1].start_date - cycles[0].end_date).days - 1 == 14


def test_crs(cohort: CohortDocument) -> None:
    worst = [worst_crs(p) for p in cohort.patients]
    assert {grade: worst.count(grade) for grade in set(worst)} == {0: 2, 1: 7, 2: 2}


def test_every_crs_and_gvhd_grade_recomputes(cohort: CohortDocument) -> None:
    graded = 0
    for patient in cohort.patients:
        for event in patient.adverse_events:
            inputs = dict(event.grading_inputs)
            if event.scale == "ASTCT-2019":
                assert grade_crs(**inputs).grade == event.grade  # type: ignore[arg-type]
            else:
                findings = AcuteGvhdFindings(**inputs)  # type: ignore[arg-type]
                assert grade_acute_gvhd(findings, system=event.scale).grade == event.grade
            graded += 1
    assert graded == 11


def test_hct(cohort: CohortDocument) -> None:
    days = [
        (t.start_date - blin_start(p)).days
        for p in cohort.patients
        for t in of_kind(p, TreatmentKind.HCT)
    ]
    assert len(days) == 5
    assert (statistics.median(days), min(days), max(days)) == (157, 97, 270)


def test_mrd_before_and_after_blinatumomab(cohort: CohortDocument) -> None:
    """7 MRD+, 3 MRD– and 1 refractory before; HCT for persistent MRD, 6 MRD– without HCT."""
    before = [status_before_blinatumomab(p)[0] for p in cohort.patients]
    assert (before.count("MRD+"), before.count("MRD–"), before.count("R/R")) == (7, 3, 1)
    for patient in cohort.patients:
        hct = of_kind(patient, TreatmentKind.HCT)
        after = positive(patient, sample_at(patient, "POST_C2"))
        if hct:
            assert after
            assert positive(patient, sample_at(patient, "PRE_HCT"))
        else:
            assert not after
    assert sum(not of_kind(p, TreatmentKind.HCT) for p in cohort.patients) == 6


def test_mrd_negative_at_last_follow_up(cohort: CohortDocument) -> None:
    assert sum(not positive(p, last_sample(p)) for p in cohort.patients) == 9


def test_relapses_and_deaths(cohort: CohortDocument) -> None:
    relapsed = [p for p in cohort.patients if outcome_dates(p, OutcomeKind.RELAPSE)]
    dead = [p for p in cohort.patients if outcome_dates(p, OutcomeKind.DEATH)]
    assert sum(len(outcome_dates(p, OutcomeKind.RELAPSE)) for p in cohort.patients) == 2
    assert len(dead) == 1
    assert {p.study_id for p in dead} < {p.study_id for p in relapsed}
    for patient in relapsed:
        assert all(d > blin_start(patient) for d in outcome_dates(patient, OutcomeKind.RELAPSE))
    # The survivor of the two relapses had carfilzomib-based therapy and is MRD-negative.
    (survivor,) = [p for p in relapsed if p not in dead]
    assert any(t.details.get("regimen") == "carfilzomib-based" for t in survivor.treatments)
    assert not positive(survivor, last_sample(survivor))


def test_fatal_relapse_after_salvage_blinatumomab(cohort: CohortDocument) -> None:
    """Frank relapse, then blinatumomab with grade 2 CRS (dexamethasone, low-flow O2, one
    week); died of relapse 11 months later."""
    (patient,) = [p for p in cohort.patients if outcome_dates(p, OutcomeKind.DEATH)]
    assert patient.sex is Sex.FEMALE
    start = blin_start(patient)
    assert any(
        a.response is Response.RELAPSE and a.assessment_date < start for a in patient.assessments
    )
    (crs,) = [e for e in patient.adverse_events if e.scale == "ASTCT-2019"]
    assert crs.grade == 2
    assert crs.management is not None
    assert "dexamethasone" in crs.management
    assert crs.grading_inputs["hypoxia"] == "low-flow"
    assert crs.resolved_date is not None
    assert (crs.resolved_date - crs.onset_date).days == 7
    (death,) = [o for o in patient.outcomes if o.kind is OutcomeKind.DEATH]
    assert death.detail is not None
    assert "relapse" in death.detail
    assert round((death.event_date - crs.onset_date).days / 30.4375) == 11


def test_dli(cohort: CohortDocument) -> None:
    per_patient = {
        p.study_id: of_kind(p, TreatmentKind.DLI)
        for p in cohort.patients
        if of_kind(p, TreatmentKind.DLI)
    }
    assert len(per_patient) == 4
    assert statistics.median(len(d) for d in per_patient.values()) == 3
    doses = {
        k: [float(t.details["cd3_cells_per_kg"] or 0) for t in v] for k, v in per_patient.items()
    }
    per_patient_median = [statistics.median(v) for v in doses.values()]
    assert statistics.median(per_patient_median) == pytest.approx(2.2e7)
    assert statistics.median(d for v in doses.values() for d in v) == pytest.approx(2.2e7)


def test_dli_only_after_hct_for_persistent_mrd(cohort: CohortDocument) -> None:
    """DLI after HCT when MRD-positive status persisted; 2 of the 3 MRD-positive
    post-transplant patients reached complete molecular remission after pre-emptive DLI."""
    cmr = 0
    for patient in cohort.patients:
        dli = of_kind(patient, TreatmentKind.DLI)
        if not dli:
            continue
        (hct,) = of_kind(patient, TreatmentKind.HCT)
        first = min(t.start_date for t in dli)
        assert first > hct.start_date
        post_hct = [s for s in patient.samples if hct.start_date < s.sample_date < first]
        assert post_hct
        assert positive(patient, max(post_hct, key=lambda s: s.sample_date))
        if positive(patient, min(post_hct, key=lambda s: s.sample_date)):
            cmr += not positive(patient, last_sample(patient))
    assert cmr == 2


def test_hypogammaglobulinemia(cohort: CohortDocument) -> None:
    """5 patients have an IgG below the age-specific lower limit (HYPO-06 example table)."""
    by_default = by_pediatric_table = 0
    for patient in cohort.patients:
        values = [lab for lab in patient.lab_values if lab.test == "IgG"]
        assert values
        ages = [age_years(patient, lab.sample_date) for lab in values]
        by_default += any(
            assess_igg(lab.value, unit=lab.unit, age_years=age).hypogammaglobulinemia
            for lab, age in zip(values, ages, strict=True)
        )
        by_pediatric_table += any(
            assess_igg(
                lab.value, unit=lab.unit, age_years=age, profile="pediatric-example"
            ).hypogammaglobulinemia
            for lab, age in zip(values, ages, strict=True)
        )
    assert by_default == by_pediatric_table == 5


def test_follow_up(cohort: CohortDocument) -> None:
    months = [follow_up_months(p) for p in cohort.patients]
    assert round(statistics.median(months)) == 28
    assert round(min(months)) == 15
    assert round(max(months)) == 52


def test_stated_values_are_not_marked_reconstructed(cohort: CohortDocument) -> None:
    for patient in cohort.patients:
        marked = set(patient.reconstructed)
        assert {"birth_date", "diagnosis.diagnosis_date", "samples"} <= marked
        assert not marked & {"sex", "site_code", "study_id", "diagnosis"}
        ph = patient.diagnosis.genetic_subtype.value.startswith("BCR::ABL1")
        assert ("diagnosis.genetic_subtype" in marked) is ph
        for i, treatment in enumerate(patient.treatments):
            if treatment.kind in (TreatmentKind.BLINATUMOMAB, TreatmentKind.HCT):
                assert f"treatments[{i}]" not in marked
                assert f"treatments[{i}].start_date" in marked
            if treatment.kind is TreatmentKind.DLI:
                assert f"treatments[{i}]" in marked
