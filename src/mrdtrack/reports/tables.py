"""The cohort report's tables: the patient listing, MRD response and adverse events.

Definitions (the same as the case-series tests, tests/registry/test_case_series.py):

* age = (first blinatumomab infusion − birth date) / 365.25 years;
* status before blinatumomab: :func:`mrdtrack.figures.events.status_before_blinatumomab`,
  with the remission number when it is above 1 (``CR2 MRD−``);
* a sample is MRD-positive if any of its results is (quantifiable or not);
* outcome status: ``DOD`` (died with a relapse), ``died``, else ``MRD+`` when the last
  sample is positive, else ``CR<n> MRD−`` from the last assessment;
* follow-up = (death or last contact − diagnosis) / 30.4375 months (§0.2);
* MRD response categories: :func:`mrdtrack.mrd.response.mrd_response` (ASH 2021,
  RESP-MRD), in hematologic CR when the latest assessment on or before the sample is CR,
  CRh or CRi;
* hypogammaglobulinemia: :func:`mrdtrack.grading.igg.assess_igg` with the age at the
  sample (its default profile for the age).

Values derived from a reconstructed source value carry a dagger (:class:`Cell`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from mrdtrack.errors import InputError
from mrdtrack.figures.events import status_before_blinatumomab
from mrdtrack.figures.timeline import (
    ACUTE_GVHD_TERMS,
    CHRONIC_GVHD_TERMS,
    CRS_TERMS,
    ICANS_TERMS,
    MrdEntry,
    PatientTimeline,
    months_between,
)
from mrdtrack.grading.igg import IgGStatus, assess_igg
from mrdtrack.mrd import MrdStatus
from mrdtrack.mrd.response import MrdResponseCategory, mrd_response
from mrdtrack.registry.vocabulary import TreatmentKind
from mrdtrack.reports.rendering import Cell, cell, field_reconstructed, percent_of

__all__ = [
    "MRD_TIMEPOINTS",
    "TableBlock",
    "adverse_event_table",
    "listing_table",
    "mrd_response_table",
    "outcome_status",
]

MRD_TIMEPOINTS: tuple[tuple[str, str], ...] = (
    ("EOI", "End of induction"),
    ("EOC", "End of consolidation"),
    ("PRE_BLIN", "Before blinatumomab"),
    ("POST_C1", "After cycle 1"),
    ("POST_C2", "After cycle 2"),
    ("PRE_HCT", "Before HCT"),
    ("POST_HCT", "After HCT (first)"),
)
"""Time-point rows of the MRD response table, in order (domain rules §5.4)."""

_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}


@dataclass(frozen=True, slots=True)
class TableBlock:
    """A titled table: header cells, body rows and footnotes."""

    id: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()
    caption: str = ""
    first_column_header: bool = field(default=True)

    @property
    def has_reconstructed(self) -> bool:
        """Whether any cell is flagged reconstructed."""
        return any(c.reconstructed for row in self.rows for c in row)


def _text(value: object) -> Cell:
    return cell(value)


def listing_table(timelines: Sequence[PatientTimeline]) -> TableBlock:
    """One row per patient, the columns of the case series' Table 1 (plus follow-up)."""
    rows = []
    for t in timelines:
        start = t.first_blinatumomab
        age = None if start is None else t.age_years(start)
        age_text = None if age is None else f"{round(age, 1):g}"
        sex = {"female": "F", "male": "M"}.get(t.sex, t.sex)
        before = status_before_blinatumomab(t)
        remission = _remission_before(t, start)
        if remission and remission > 1 and before.startswith("MRD"):
            before = f"CR{remission} {before}"
        crs = [e for e in t.adverse_events if e.is_term(CRS_TERMS)]
        worst = max((e.grade or 0 for e in crs), default=0)
        crs_rc = any(field_reconstructed(e.reconstructed, "grade") for e in crs)
        hct = next(
            (h for h in t.courses(TreatmentKind.HCT) if start is None or h.start_date >= start),
            None,
        )
        days = None if hct is None or start is None else (hct.start_date - start).days
        dli = t.courses(TreatmentKind.DLI)
        end = t.end_of_follow_up
        follow = None if t.diagnosis_date is None else months_between(t.diagnosis_date, end)
        follow_rc = "diagnosis.diagnosis_date" in t.diagnosis_reconstructed or any(
            field_reconstructed(o.reconstructed, "event_date")
            for o in t.outcomes
            if o.event_date == end
        )
        rows.append(
            (
                _text(t.study_id),
                cell(age_text, "birth_date" in t.reconstructed),
                _text(sex),
                cell(
                    t.genetic_subtype,
                    "diagnosis.genetic_subtype" in t.diagnosis_reconstructed,
                ),
                cell(before, t.section_reconstructed("samples")),
                cell(f"Gr {worst}" if worst else "No", crs_rc),
                cell(
                    days, hct is not None and field_reconstructed(hct.reconstructed, "start_date")
                ),
                cell(None if hct is None else hct.details.get("conditioning")),
                cell(None if hct is None else hct.details.get("donor_type")),
                cell(len(dli) or None, any(d.reconstructed for d in dli)),
                cell(outcome_status(t), t.section_reconstructed("samples")),
                cell(None if follow is None else f"{follow:.1f}", follow_rc),
            )
        )
    return TableBlock(
        id="listing",
        title="Patients, disease, HCT and outcomes",
        headers=(
            "Patient",
            "Age, y",
            "Sex",
            "Genetic subtype",
            "Status before blinatumomab",
            "CRS",
            "Days to HCT",
            "Conditioning",
            "Donor",
            "DLI",
            "Status at last follow-up",
            "Follow-up, mo",
        ),
        rows=tuple(rows),
        caption="Laid out as Table 1 of the case series (Wang 2024). Age at the first "
        "blinatumomab infusion; days from its start to HCT; follow-up from diagnosis to "
        "death or last contact.",
        notes=(
            "DOD, died of disease; MRD+/MRD−, measurable residual disease positive/negative; "
            "R/R, relapsed/refractory; Gr, worst CRS grade (ASTCT 2019).",
        ),
    )


def _remission_before(t: PatientTimeline, start: date | None) -> int | None:
    if start is None:
        return None
    before = [a for a in t.assessments if a.assessment_date < start]
    return before[-1].remission_number if before else None


def outcome_status(t: PatientTimeline) -> str:
    """``DOD``, ``died``, ``MRD+`` or ``CR<n> MRD−`` at the last follow-up (see module)."""
    if t.death_date is not None:
        return "DOD" if t.relapse_dates() else "died"
    if t.mrd:
        last = t.mrd[-1].sample_id
        if any(r.positive for r in t.mrd if r.sample_id == last):
            return "MRD+"
    if not t.assessments:
        return "MRD−" if t.mrd else "—"
    last_assessment = t.assessments[-1]
    if not last_assessment.in_remission:
        return last_assessment.response.value
    number = last_assessment.remission_number
    return f"CR{number} MRD−" if number else "CR MRD−"


def _sample_calls(t: PatientTimeline, results: Sequence[MrdEntry]) -> tuple[str, str]:
    """The sample's engine call and its ASH 2021 category (worst result first)."""
    statuses = {r.status for r in results}
    if statuses & {MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE}:
        call = "positive"
    elif MrdStatus.NEGATIVE in statuses:
        call = "negative"
    else:
        call = "not_evaluable"
    when = results[0].sample_date
    before = [a for a in t.assessments if a.assessment_date <= when]
    in_cr = bool(before) and before[-1].in_remission
    order = (
        MrdResponseCategory.MRD_FAILURE,
        MrdResponseCategory.MRD_INTERMEDIATE,
        MrdResponseCategory.MRD_CR,
        MrdResponseCategory.NOT_EVALUABLE,
    )
    categories = {mrd_response(r.to_result(), in_hematologic_cr=in_cr).category for r in results}
    return call, next(c.value for c in order if c in categories)


def mrd_response_table(timelines: Sequence[PatientTimeline]) -> TableBlock:
    """MRD by time point: the engine's calls and the ASH 2021 categories, per patient."""
    counts: dict[str, Counter[str]] = {code: Counter() for code, _ in MRD_TIMEPOINTS}
    counts["LAST"] = Counter()
    for t in timelines:
        by_sample: dict[int, list[MrdEntry]] = {}
        for r in t.mrd:
            by_sample.setdefault(r.sample_id, []).append(r)
        samples = list(by_sample.values())
        for code, _ in MRD_TIMEPOINTS:
            matching = [s for s in samples if _timepoint_matches(s[0].timepoint, code)]
            if matching:
                # The first post-HCT sample; the last sample of the other time points.
                chosen = matching[0] if code == "POST_HCT" else matching[-1]
                _count(counts[code], *_sample_calls(t, chosen))
        if samples:
            _count(counts["LAST"], *_sample_calls(t, samples[-1]))
    rows = []
    labels = [*MRD_TIMEPOINTS, ("LAST", "Last result")]
    for code, label in labels:
        c = counts[code]
        tested = c["tested"]
        if not tested:
            continue
        rows.append(
            (
                _text(label),
                _text(tested),
                _text(percent_of(c["call:negative"], tested)),
                _text(percent_of(c["call:positive"], tested)),
                _text(percent_of(c["call:not_evaluable"], tested)),
                _text(percent_of(c[f"ash:{MrdResponseCategory.MRD_CR.value}"], tested)),
                _text(percent_of(c[f"ash:{MrdResponseCategory.MRD_INTERMEDIATE.value}"], tested)),
                _text(percent_of(c[f"ash:{MrdResponseCategory.MRD_FAILURE.value}"], tested)),
            )
        )
    return TableBlock(
        id="mrd-response",
        title="MRD response by time point",
        headers=(
            "Time point",
            "Patients tested",
            "MRD negative",
            "MRD positive",
            "Not evaluable",
            "MRD CR",
            "MRD intermediate",
            "MRD failure",
        ),
        rows=tuple(rows),
        caption="One sample per patient and time point (the last; after HCT the first). "
        "Negative/positive: the MRD engine's call (positive includes positive not "
        "quantifiable). MRD CR, intermediate and failure: ASH 2021 categories "
        "(RESP-MRD), evaluated in hematologic CR only.",
        notes=(
            "MRD CR: not detected with sensitivity ≤ 10⁻⁴; MRD failure: positive ≥ 10⁻⁴; "
            "intermediate: positive < 10⁻⁴, not quantifiable, or negative with "
            "insufficient sensitivity.",
        ),
    )


def _timepoint_matches(timepoint: str, code: str) -> bool:
    if code == "POST_HCT":
        return timepoint.startswith("POST_HCT")
    return timepoint == code


def _count(counter: Counter[str], call: str, category: str) -> None:
    counter["tested"] += 1
    counter[f"call:{call}"] += 1
    counter[f"ash:{category}"] += 1


def adverse_event_table(timelines: Sequence[PatientTimeline]) -> TableBlock:
    """Worst CRS, ICANS and GVHD grade per patient, and hypogammaglobulinemia."""
    n = len(timelines)
    rows: list[tuple[Cell, ...]] = []
    for name, terms, among in (
        ("CRS (ASTCT 2019)", CRS_TERMS, None),
        ("ICANS (ASTCT 2019)", ICANS_TERMS, None),
        ("Acute GVHD", ACUTE_GVHD_TERMS, TreatmentKind.HCT),
        ("Chronic GVHD", CHRONIC_GVHD_TERMS, TreatmentKind.HCT),
    ):
        population = [t for t in timelines if among is None or t.courses(among)]
        worst: Counter[int] = Counter()
        for t in population:
            grades = [e.grade or 0 for e in t.adverse_events if e.is_term(terms)]
            worst[max(grades, default=0)] += 1
        total = len(population)
        who = "all patients" if among is None else "transplanted patients"
        rows.append((Cell(f"{name}, {who} (n = {total})"), Cell(""), Cell("")))
        roman = among is not None
        grades_seen = sorted(g for g in worst if g > 0)
        rows.append((Cell("  none recorded"), _text(percent_of(worst[0], total)), Cell("")))
        for grade in grades_seen:
            label = f"  grade {_ROMAN[grade] if roman else grade}"
            rows.append((Cell(label), _text(percent_of(worst[grade], total)), Cell("")))
        if among is None:
            severe = sum(worst[g] for g in worst if g >= 3)
            rows.append((Cell("  grade ≥ 3"), _text(percent_of(severe, total)), Cell("")))
    low, tested, profiles = _hypogammaglobulinemia(timelines)
    rows.append(
        (
            Cell(f"Hypogammaglobulinemia, patients with IgG measured (n = {tested})"),
            _text(percent_of(low, tested)),
            Cell(", ".join(sorted(profiles)) or "—"),
        )
    )
    return TableBlock(
        id="adverse-events",
        title="Adverse events",
        headers=("Event (worst grade per patient)", f"Patients (of {n})", "Rule profile"),
        rows=tuple(rows),
        caption="Grades as recorded with their grading inputs (recomputed by the grading "
        "package on entry). GVHD among transplanted patients, modified Glucksberg grades "
        "I–IV. Hypogammaglobulinemia: any IgG below the age-specific limit.",
    )


def _hypogammaglobulinemia(
    timelines: Sequence[PatientTimeline],
) -> tuple[int, int, set[str]]:
    low = 0
    tested = 0
    profiles: set[str] = set()
    for t in timelines:
        values = [v for v in t.lab_values if v.test.strip().lower() == "igg"]
        calls = []
        for v in values:
            age = t.age_years(v.sample_date)
            try:
                assessment = assess_igg(v.value, unit=v.unit, age_years=age)
            except InputError:
                continue
            profiles.add(assessment.profile)
            calls.append(assessment.status)
        if calls:
            tested += 1
            low += IgGStatus.HYPOGAMMAGLOBULINEMIA in calls
    return low, tested, profiles
