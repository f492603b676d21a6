"""The patient report: timeline, MRD kinetics, MRD results, therapy, grading and outcomes.

One self-contained HTML page per patient for the clinic or a tumour board: the patient's
swimmer row, the MRD kinetics on a log scale (not-detected results at their achieved
sensitivity), every stored MRD result with its sensitivity, QC flags and ASH 2021
category, the treatment courses with their doses, the graded adverse events with the
inputs that graded them, laboratory values and outcome events. Values a source did not
state carry a dagger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.figures import (
    TimeZero,
    figure_svg,
    mrd_kinetics_figure,
    mrd_series,
    swimmer_figure,
    swimmer_rows,
)
from mrdtrack.figures.timeline import MrdEntry, PatientTimeline, TreatmentEntry
from mrdtrack.grading.igg import assess_igg
from mrdtrack.mrd.response import mrd_response
from mrdtrack.mrd.units import format_fraction
from mrdtrack.registry.vocabulary import TreatmentKind
from mrdtrack.reports.cohort import FigureBlock
from mrdtrack.reports.rendering import (
    Cell,
    ReportContext,
    category_text,
    cell,
    field_reconstructed,
    fraction_text,
    render,
    status_text,
    svg,
)
from mrdtrack.reports.tables import TableBlock, outcome_status

__all__ = ["PatientReport", "mrd_result_cells", "patient_report"]

# Therapies given on one day: a missing end date is not "ongoing".
_SINGLE_DAY = frozenset({TreatmentKind.HCT, TreatmentKind.DLI, TreatmentKind.CAR_T})


@dataclass(frozen=True, slots=True)
class PatientReport:
    """The computed patient report and its HTML."""

    study_id: str
    facts: tuple[tuple[str, str], ...]
    tables: tuple[TableBlock, ...]
    figures: tuple[FigureBlock, ...]
    html: str

    def table(self, table_id: str) -> TableBlock:
        """The table with ``id``."""
        return next(t for t in self.tables if t.id == table_id)


def patient_report(
    timeline: PatientTimeline,
    context: ReportContext,
    *,
    time_zero: TimeZero = TimeZero.BLINATUMOMAB,
) -> PatientReport:
    """Build one patient's report (figures on ``time_zero``; the diagnosis without it)."""
    axis = time_zero if timeline.origin(time_zero) is not None else TimeZero.DIAGNOSIS
    figures: list[FigureBlock] = []
    cohort = swimmer_rows([timeline], time_zero=axis)
    if cohort.rows:
        timeline_figure = swimmer_figure(cohort, show_subtype=False)
        figures.append(
            FigureBlock(
                "timeline",
                "Timeline",
                "Therapy phases, responses, MRD results and outcome from time zero "
                "(legend as in the cohort swimmer plot).",
                figure_svg(timeline_figure, title="Timeline"),
            )
        )
    if timeline.mrd:
        series = mrd_series(timeline, time_zero=axis)
        kinetics = mrd_kinetics_figure([series], title=f"MRD kinetics — {timeline.study_id}")
        figures.append(
            FigureBlock(
                "mrd-kinetics",
                "MRD kinetics",
                "Log scale; marker shape = method; filled = detected at its level; open = not "
                "detected, drawn at the achieved sensitivity (never at zero); dashed lines at "
                "10⁻⁴ and 10⁻³; blinatumomab cycles shaded.",
                figure_svg(kinetics, title="MRD kinetics"),
            )
        )
    tables = (
        _mrd_table(timeline),
        _treatment_table(timeline),
        _assessment_table(timeline),
        _adverse_event_table(timeline),
        _lab_table(timeline),
        _outcome_table(timeline),
    )
    facts = _facts(timeline)
    html = render(
        "patient.html.j2",
        title=f"Patient report — {timeline.study_id}",
        context=context,
        facts=facts,
        figures=[FigureBlock(f.id, f.title, f.caption, svg(f.svg)) for f in figures],
        tables=tables,
        reconstructed=timeline.all_reconstructed,
        source=timeline.source or "not recorded",
    )
    return PatientReport(timeline.study_id, facts, tables, tuple(figures), html)


def _facts(t: PatientTimeline) -> tuple[tuple[str, str], ...]:
    start = t.first_blinatumomab
    age = None if start is None else t.age_years(start)
    markers = "; ".join(
        " ".join(
            str(part)
            for part in (
                m.kind,
                m.transcript,
                None if m.diagnosis_ncn is None else f"(diagnosis NCN {m.diagnosis_ncn:g})",
                m.definition,
            )
            if part
        )
        for m in t.markers
    )
    return (
        ("Study id", t.study_id),
        ("Site", t.site_code),
        ("Sex", t.sex),
        ("Diagnosis", "—" if t.diagnosis_date is None else t.diagnosis_date.isoformat()),
        ("Genetic subtype", t.genetic_subtype or "—"),
        ("Ph", {True: "positive", False: "negative", None: "not recorded"}[t.ph_positive]),
        ("Risk group / protocol", f"{t.risk_group or '—'} / {t.protocol or '—'}"),
        ("MRD marker", markers or "—"),
        ("First blinatumomab infusion", "—" if start is None else start.isoformat()),
        ("Age at first infusion, years", "—" if age is None else f"{age:.1f}"),
        ("Status at last follow-up", outcome_status(t)),
        ("End of follow-up", t.end_of_follow_up.isoformat()),
    )


def mrd_result_cells(t: PatientTimeline, r: MrdEntry) -> tuple[Cell, ...]:
    """One MRD result as table cells: level, sensitivity, status, QC, ASH category."""
    before = [a for a in t.assessments if a.assessment_date <= r.sample_date]
    in_cr = bool(before) and before[-1].in_remission
    category = mrd_response(r.to_result(), in_hematologic_cr=in_cr)
    whole = t.section_reconstructed("samples") or bool(r.reconstructed)
    level = fraction_text(r.mrd_fraction) if r.detected else "not detected"
    sensitivity = r.sensitivity_fraction
    return (
        cell(r.method.value),
        cell(level, whole),
        cell(None if sensitivity is None else format_fraction(sensitivity), whole),
        cell(status_text(r.status), whole),
        cell(", ".join(r.qc_flags).replace("_", " ") or "—"),
        cell(category_text(category.category)),
    )


def _mrd_table(t: PatientTimeline) -> TableBlock:
    rows = tuple(
        (
            cell(r.sample_id),
            cell(r.sample_date.isoformat(), t.section_reconstructed("samples")),
            cell(r.timepoint),
            cell(r.tissue),
            *mrd_result_cells(t, r),
        )
        for r in t.mrd
    )
    return TableBlock(
        id="mrd-results",
        title="MRD results",
        headers=(
            "Sample",
            "Date",
            "Time point",
            "Tissue",
            "Method",
            "MRD",
            "Achieved sensitivity",
            "Status",
            "QC flags",
            "ASH 2021",
        ),
        rows=rows,
        caption="Values as computed by the MRD engine from the raw inputs; "
        "`mrdtrack report sample ID` shows one sample's inputs and interpretation.",
    )


def _details(course: TreatmentEntry) -> str:
    d: Mapping[str, Any] = course.details
    if "daily_dose_ug_per_m2" in d:
        return f"{d['daily_dose_ug_per_m2']:g} µg/m²/day"
    if "daily_dose_ug" in d:
        return f"{d['daily_dose_ug']:g} µg/day"
    if "cd3_cells_per_kg" in d:
        return f"CD3⁺ {format_fraction(float(d['cd3_cells_per_kg']), 3)} cells/kg"
    parts = [f"{key.replace('_', ' ')}: {value}" for key, value in d.items() if value is not None]
    return "; ".join(parts) or "—"


def _treatment_table(t: PatientTimeline) -> TableBlock:
    rows = tuple(
        (
            cell(c.kind.value),
            cell(c.cycle),
            cell(c.start_date.isoformat(), field_reconstructed(c.reconstructed, "start_date")),
            cell(
                None if c.end_date is None else c.end_date.isoformat(),
                field_reconstructed(c.reconstructed, "end_date"),
                missing="—" if c.kind in _SINGLE_DAY else "ongoing",
            ),
            cell(_details(c), field_reconstructed(c.reconstructed, "details")),
        )
        for c in t.treatments
    )
    return TableBlock(
        id="treatments",
        title="Treatment and dose history",
        headers=("Therapy", "Cycle / infusion", "Start", "End", "Dose and details"),
        rows=rows,
    )


def _assessment_table(t: PatientTimeline) -> TableBlock:
    rows = tuple(
        (
            cell(
                a.assessment_date.isoformat(),
                field_reconstructed(a.reconstructed, "assessment_date"),
            ),
            cell(a.response.value),
            cell(a.remission_number),
            cell(
                None if a.marrow_blast_percent is None else f"{a.marrow_blast_percent:g}",
                field_reconstructed(a.reconstructed, "marrow_blast_percent"),
            ),
            cell({True: "yes", False: "no", None: None}[a.extramedullary]),
        )
        for a in t.assessments
    )
    return TableBlock(
        id="assessments",
        title="Disease assessments",
        headers=("Date", "Response", "Remission number", "Marrow blasts, %", "Extramedullary"),
        rows=rows,
    )


def _adverse_event_table(t: PatientTimeline) -> TableBlock:
    rows = tuple(
        (
            cell(e.term),
            cell(e.onset_date.isoformat(), field_reconstructed(e.reconstructed, "onset_date")),
            cell(
                None if e.resolved_date is None else e.resolved_date.isoformat(),
                field_reconstructed(e.reconstructed, "resolved_date"),
            ),
            cell(e.grade, field_reconstructed(e.reconstructed, "grade")),
            cell(e.scale),
            cell(
                ", ".join(f"{k}: {v}" for k, v in e.grading_inputs.items()),
                field_reconstructed(e.reconstructed, "grading_inputs"),
            ),
            cell(e.management, field_reconstructed(e.reconstructed, "management")),
        )
        for e in t.adverse_events
    )
    return TableBlock(
        id="adverse-events",
        title="Grading history",
        headers=("Event", "Onset", "Resolved", "Grade", "Scale", "Grading inputs", "Management"),
        rows=rows,
        caption="The grade is recomputed by the grading package from the inputs on entry.",
    )


def _lab_table(t: PatientTimeline) -> TableBlock:
    rows = []
    for v in t.lab_values:
        call = "—"
        if v.test.strip().lower() == "igg":
            try:
                assessment = assess_igg(v.value, unit=v.unit, age_years=t.age_years(v.sample_date))
                limit = assessment.threshold_mg_dl
                shown = "no limit" if limit is None else f"< {limit:g} mg/dL"
                call = (
                    f"{assessment.status.value.replace('_', ' ')} ({shown}; {assessment.profile})"
                )
            except InputError as error:
                call = f"not evaluable: {error.expected}"
        whole = t.section_reconstructed("lab_values") or bool(v.reconstructed)
        rows.append(
            (
                cell(v.test),
                cell(v.sample_date.isoformat(), whole),
                cell(f"{v.value:g} {v.unit}", whole),
                cell(call),
            )
        )
    return TableBlock(
        id="labs",
        title="Laboratory values",
        headers=("Test", "Date", "Value", "Interpretation"),
        rows=tuple(rows),
    )


def _outcome_table(t: PatientTimeline) -> TableBlock:
    rows = tuple(
        (
            cell(o.kind.value.replace("_", " ")),
            cell(o.event_date.isoformat(), field_reconstructed(o.reconstructed, "event_date")),
            cell(o.detail),
        )
        for o in t.outcomes
    )
    return TableBlock(
        id="outcomes", title="Outcome events", headers=("Event", "Date", "Detail"), rows=rows
    )
