"""The MRD sample report for the laboratory: inputs, QC, result, sensitivity, interpretation.

Feature 79 of the spec (a per-sample lab report). For each MRD result stored on the
sample it shows the marker defined at diagnosis, the raw inputs exactly as the engine
used them, the QC flags, the call with its level and the achieved sensitivity (domain
rules §0.2: a negative is "not detected (< sensitivity)", never 0), the engine's reasons
in words, the ASH 2021 response category (RESP-MRD, in hematologic CR only) and the
profile, rules and engine version that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrdtrack.errors import NotFoundError
from mrdtrack.figures.timeline import MarkerEntry, MrdEntry, PatientTimeline, load_timelines
from mrdtrack.mrd.response import mrd_response
from mrdtrack.registry.models import Patient, Sample
from mrdtrack.reports.rendering import (
    ReportContext,
    category_text,
    fraction_text,
    number_text,
    render,
    status_text,
)

__all__ = ["SampleRecord", "SampleReport", "load_sample", "sample_report"]


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """A registry sample with its patient's timeline and its MRD results."""

    sample_id: int
    sample_date: date
    timepoint: str
    tissue: str
    timeline: PatientTimeline
    results: tuple[MrdEntry, ...]


@dataclass(frozen=True, slots=True)
class ResultSection:
    """One MRD result of the sample, laid out for the report."""

    method: str
    marker: str
    status: str
    level: str
    sensitivity: str
    quantifiable: str
    inputs: tuple[tuple[str, str], ...]
    details: tuple[tuple[str, str], ...]
    qc_flags: tuple[str, ...]
    reasons: tuple[str, ...]
    category: str
    category_reason: str
    category_source: str
    profile: str
    rule: str
    engine_version: str
    reconstructed: bool


@dataclass(frozen=True, slots=True)
class SampleReport:
    """The computed sample report and its HTML."""

    sample_id: int
    study_id: str
    results: tuple[ResultSection, ...]
    html: str


def load_sample(session: Session, sample_id: int) -> SampleRecord:
    """The sample ``sample_id`` (not deleted) with its patient's timeline.

    Raises
    ------
    NotFoundError
        No such sample in the registry.
    """
    row = session.execute(
        select(Sample.id, Sample.sample_date, Sample.timepoint, Sample.tissue, Patient.study_id)
        .join(Patient, Patient.id == Sample.patient_id)
        .where(Sample.id == sample_id, Sample.deleted_at.is_(None))
    ).one_or_none()
    if row is None:
        raise NotFoundError("sample", str(sample_id))
    (timeline,) = load_timelines(session, [row.study_id])
    results = tuple(r for r in timeline.mrd if r.sample_id == sample_id)
    return SampleRecord(row.id, row.sample_date, row.timepoint, row.tissue, timeline, results)


def _marker(markers: tuple[MarkerEntry, ...], key: str | None) -> str:
    marker = next((m for m in markers if m.key == key), None)
    if marker is None:
        return "—"
    parts = [marker.kind]
    if marker.transcript:
        parts.append(marker.transcript)
    if marker.diagnosis_ncn is not None:
        parts.append(f"diagnosis NCN {marker.diagnosis_ncn:g}")
    if marker.definition:
        parts.append(marker.definition)
    return "; ".join(parts)


def sample_report(record: SampleRecord, context: ReportContext) -> SampleReport:
    """Build the laboratory report of one sample."""
    t = record.timeline
    before = [a for a in t.assessments if a.assessment_date <= record.sample_date]
    in_cr = bool(before) and before[-1].in_remission
    sections = []
    for r in record.results:
        response = mrd_response(r.to_result(), in_hematologic_cr=in_cr)
        sections.append(
            ResultSection(
                method=r.method.value,
                marker=_marker(t.markers, r.marker_key),
                status=status_text(r.status),
                level=fraction_text(r.mrd_fraction) if r.detected else "not detected",
                sensitivity=fraction_text(r.sensitivity_fraction),
                quantifiable="yes" if r.quantifiable else "no",
                inputs=tuple((k, number_text(v)) for k, v in r.inputs.items()),
                details=tuple((k, number_text(v)) for k, v in r.details.items()),
                qc_flags=r.qc_flags,
                reasons=r.reasons,
                category=category_text(response.category),
                category_reason=response.reason,
                category_source=response.source,
                profile=r.profile,
                rule=r.rule,
                engine_version=r.engine_version,
                reconstructed=t.section_reconstructed("samples") or bool(r.reconstructed),
            )
        )
    assessment = (
        "no assessment on or before the sample"
        if not before
        else f"{before[-1].response.value} on {before[-1].assessment_date.isoformat()}"
    )
    facts = (
        ("Sample", str(record.sample_id)),
        ("Patient", t.study_id),
        ("Date", record.sample_date.isoformat()),
        ("Time point", record.timepoint),
        (
            "Tissue",
            {"BM": "bone marrow", "PB": "peripheral blood"}.get(record.tissue, record.tissue),
        ),
        ("Latest disease assessment", assessment),
    )
    html = render(
        "sample.html.j2",
        title=f"MRD sample report — sample {record.sample_id} ({t.study_id})",
        context=context,
        facts=facts,
        results=sections,
        source=t.source or "not recorded",
    )
    return SampleReport(record.sample_id, t.study_id, tuple(sections), html)
