"""The registry's service API: what the CLI, the web app and imports call to change data.

Every write goes through a session that names its acting user (audit). MRD values are
never typed in: :func:`add_mrd_result` takes the raw inputs, runs the MRD engine and
stores the raw inputs, the result and the engine version together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mrdtrack import __version__
from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.mrd import MrdResult
from mrdtrack.registry.models import (
    AdverseEvent,
    Diagnosis,
    DiseaseAssessment,
    LabValue,
    MrdMarker,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    Site,
    TreatmentCourse,
)

if TYPE_CHECKING:
    from mrdtrack.registry.records import CohortDocument, PatientRecord

__all__ = [
    "LoadReport",
    "add_mrd_result",
    "ensure_site",
    "get_patient",
    "load_cohort",
    "patient_count",
    "soft_delete",
]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a cohort load wrote."""

    cohort_id: str
    patients: int
    mrd_results: int
    rows: int


def ensure_site(session: Session, code: str, name: str) -> Site:
    """The site with ``code``, created if it does not exist."""
    site = session.scalars(select(Site).where(Site.code == code)).one_or_none()
    if site is None:
        site = Site(code=code, name=name)
        session.add(site)
        session.flush()
    return site


def get_patient(session: Session, study_id: str) -> Patient:
    """The (not deleted) patient with ``study_id``."""
    patient = session.scalars(
        select(Patient).where(Patient.study_id == study_id, Patient.deleted_at.is_(None))
    ).one_or_none()
    if patient is None:
        raise NotFoundError("patient", study_id)
    return patient


def patient_count(session: Session) -> int:
    """Number of patients not deleted."""
    return session.scalar(select(func.count()).where(Patient.deleted_at.is_(None))) or 0


def add_mrd_result(
    session: Session,
    sample: Sample,
    result: MrdResult,
    marker: MrdMarker | None = None,
    reconstructed: Sequence[str] = (),
) -> MrdResultRow:
    """Store an engine result with its raw inputs and the rule and engine versions."""
    row = MrdResultRow(
        sample_id=sample.id,
        marker_id=None if marker is None else marker.id,
        method=result.method.value,
        status=result.status.value,
        detected=result.detected,
        quantifiable=result.quantifiable,
        mrd_fraction=result.mrd_fraction,
        sensitivity_fraction=result.sensitivity_fraction,
        inputs=_jsonable(result.inputs),
        details=_jsonable(result.details),
        reasons=list(result.reasons),
        qc_flags=[flag.value for flag in result.qc_flags],
        profile=result.profile,
        rule=result.rule,
        engine_version=__version__,
        reconstructed=list(reconstructed),
    )
    session.add(row)
    return row


def soft_delete(session: Session, row: Any, clock: datetime | None = None) -> None:
    """Mark a clinical row deleted (audited with the session's reason); nothing is erased."""
    if getattr(row, "deleted_at", "absent") == "absent":
        raise InputError("row", type(row).__name__, "a clinical record (one with deleted_at)")
    row.deleted_at = clock or datetime.now(UTC)


def load_cohort(session: Session, document: CohortDocument) -> LoadReport:
    """Write a whole cohort document (demo, synthetic, import) in the caller's transaction.

    Study ids already present are refused: a cohort is loaded once (re-running
    ``mrdtrack demo`` on a loaded registry says so instead of duplicating patients).
    """
    study_ids = [p.study_id for p in document.patients]
    existing = session.scalars(
        select(Patient.study_id).where(Patient.study_id.in_(study_ids))
    ).all()
    if existing:
        raise InputError(
            "study_id",
            ", ".join(sorted(existing)[:5]),
            "study ids not yet in the registry",
            f"cohort {document.id!r} (or part of it) is already loaded",
        )
    sites = {s.code: ensure_site(session, s.code, s.name) for s in document.sites}
    rows = 0
    results = 0
    for record in document.patients:
        written, mrd = _load_patient(session, record, sites, document.source)
        rows += written
        results += mrd
    return LoadReport(document.id, len(document.patients), results, rows)


def _load_patient(
    session: Session, record: PatientRecord, sites: Mapping[str, Site], source: str
) -> tuple[int, int]:
    def marked(prefix: str) -> list[str]:
        return [p for p in record.reconstructed if p == prefix or p.startswith(prefix + ".")]

    if record.site_code not in sites:
        raise InputError("site_code", record.site_code, f"one of: {', '.join(sites)}")
    patient = Patient(
        study_id=record.study_id,
        site_id=sites[record.site_code].id,
        sex=record.sex.value,
        birth_date=record.birth_date,
        notes=record.notes,
        source=source,
        reconstructed=[p for p in record.reconstructed if "." not in p and "[" not in p],
    )
    session.add(patient)
    session.flush()
    dx = record.diagnosis
    objects: list[Any] = [
        Diagnosis(
            patient_id=patient.id,
            diagnosis_date=dx.diagnosis_date,
            genetic_subtype=dx.genetic_subtype.value,
            ph_positive=dx.ph_positive,
            cd19_positive=dx.cd19_positive,
            wbc_per_ul=dx.wbc_per_ul,
            cns_status=dx.cns_status,
            risk_group=dx.risk_group,
            protocol=dx.protocol,
            source=source,
            reconstructed=marked("diagnosis"),
        )
    ]
    markers: dict[str, MrdMarker] = {}
    for i, m in enumerate(record.markers):
        markers[m.key] = MrdMarker(
            patient_id=patient.id,
            key=m.key,
            kind=m.kind.value,
            transcript=m.transcript,
            diagnosis_ncn=m.diagnosis_ncn,
            definition=m.definition,
            source=source,
            reconstructed=marked(f"markers[{i}]"),
        )
    objects.extend(markers.values())
    for i, a in enumerate(record.assessments):
        objects.append(
            DiseaseAssessment(
                patient_id=patient.id,
                assessment_date=a.assessment_date,
                response=a.response.value,
                marrow_blast_percent=a.marrow_blast_percent,
                extramedullary=a.extramedullary,
                remission_number=a.remission_number,
                source=source,
                reconstructed=marked(f"assessments[{i}]"),
            )
        )
    for i, t in enumerate(record.treatments):
        objects.append(
            TreatmentCourse(
                patient_id=patient.id,
                kind=t.kind.value,
                start_date=t.start_date,
                end_date=t.end_date,
                cycle=t.cycle,
                details=dict(t.details),
                source=source,
                reconstructed=marked(f"treatments[{i}]"),
            )
        )
    for i, e in enumerate(record.adverse_events):
        objects.append(
            AdverseEvent(
                patient_id=patient.id,
                term=e.term,
                onset_date=e.onset_date,
                resolved_date=e.resolved_date,
                grade=e.grade,
                scale=e.scale,
                grading_inputs=dict(e.grading_inputs),
                management=e.management,
                source=source,
                reconstructed=marked(f"adverse_events[{i}]"),
            )
        )
    for i, v in enumerate(record.lab_values):
        objects.append(
            LabValue(
                patient_id=patient.id,
                test=v.test,
                sample_date=v.sample_date,
                value=v.value,
                unit=v.unit,
                source=source,
                reconstructed=marked(f"lab_values[{i}]"),
            )
        )
    for i, o in enumerate(record.outcomes):
        objects.append(
            OutcomeEvent(
                patient_id=patient.id,
                kind=o.kind.value,
                event_date=o.event_date,
                detail=o.detail,
                source=source,
                reconstructed=marked(f"outcomes[{i}]"),
            )
        )
    session.add_all(objects)
    session.flush()
    results = 0
    for i, s in enumerate(record.samples):
        sample = Sample(
            patient_id=patient.id,
            sample_date=s.sample_date,
            timepoint=s.timepoint,
            tissue=s.tissue.value,
            source=source,
            reconstructed=marked(f"samples[{i}]"),
        )
        session.add(sample)
        session.flush()
        for j, mrd in enumerate(s.mrd):
            marker = markers.get(mrd.marker) if mrd.marker else None
            source_marker = (
                next(m for m in record.markers if m.key == mrd.marker) if mrd.marker else None
            )
            add_mrd_result(
                session,
                sample,
                mrd.compute(source_marker),
                marker,
                marked(f"samples[{i}].mrd[{j}]"),
            )
            results += 1
    session.flush()
    return 1 + len(objects) + len(record.samples) + results, results


def _jsonable(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in mapping.items()}
