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

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from mrdtrack import __version__
from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.mrd import MrdResult
from mrdtrack.registry.audit import Change, append_changes, audit_value, lock_chain
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
        reconstructed=list(reconstructed),
        **_mrd_values(result),
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
    Rows go in with bulk inserts and their audit rows in bulk, in the same transaction,
    so a 100,000-patient cohort loads in a bounded number of statements; every MRD
    result is computed by the engine from the raw inputs on the way in.
    """
    study_ids = [p.study_id for p in document.patients]
    existing: list[str] = []
    for chunk in range(0, len(study_ids), _IN_CHUNK):
        existing += session.scalars(
            select(Patient.study_id).where(
                Patient.study_id.in_(study_ids[chunk : chunk + _IN_CHUNK])
            )
        ).all()
    if existing:
        raise InputError(
            "study_id",
            ", ".join(sorted(existing)[:5]),
            "study ids not yet in the registry",
            f"cohort {document.id!r} (or part of it) is already loaded",
        )
    sites = {s.code: ensure_site(session, s.code, s.name) for s in document.sites}
    lock_chain(session)  # ids below are allocated while this writer holds the chain
    bulk = _BulkRows(session)
    results = 0
    for record in document.patients:
        results += _add_patient(
            bulk, record, {c: site.id for c, site in sites.items()}, document.source
        )
    rows = bulk.write()
    return LoadReport(document.id, len(document.patients), results, rows)


_IN_CHUNK = 10_000
_BULK_ORDER = (
    Patient,
    Diagnosis,
    MrdMarker,
    DiseaseAssessment,
    TreatmentCourse,
    AdverseEvent,
    LabValue,
    OutcomeEvent,
    Sample,
    MrdResultRow,
)


def _table(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


class _BulkRows:
    """Rows with pre-allocated ids, written table by table with their audit rows."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[type[Any], list[dict[str, Any]]] = {model: [] for model in _BULK_ORDER}
        self.next_id: dict[type[Any], int] = {}

    def add(self, model: type[Any], values: Mapping[str, Any]) -> int:
        if model not in self.next_id:
            highest = self.session.scalar(select(func.max(model.id)))
            self.next_id[model] = (highest or 0) + 1
        row_id = self.next_id[model]
        self.next_id[model] = row_id + 1
        columns = model.__table__.columns
        row = {c.key: values.get(c.key) for c in columns}
        row["id"] = row_id
        self.rows[model].append(row)
        return row_id

    def write(self) -> int:
        changes: list[Change] = []
        written = 0
        for model in _BULK_ORDER:
            rows = self.rows[model]
            if not rows:
                continue
            self.session.connection().execute(insert(_table(model)), rows)
            written += len(rows)
            changes.extend(
                Change("create", model.__tablename__, str(r["id"]), None, None, audit_value(r))
                for r in rows
            )
            if self.session.get_bind().dialect.name == "postgresql":
                # Explicit ids leave the serial sequence behind: move it past them.
                self.session.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :value)"),
                    {"table": model.__tablename__, "value": rows[-1]["id"]},
                )
        if changes:
            append_changes(self.session, changes)
        return written


def _add_patient(
    bulk: _BulkRows, record: PatientRecord, site_ids: Mapping[str, int], source: str
) -> int:
    def provenance(prefix: str) -> dict[str, Any]:
        marked = [p for p in record.reconstructed if p == prefix or p.startswith(prefix + ".")]
        return {"source": source, "reconstructed": marked, "deleted_at": None}

    if record.site_code not in site_ids:
        raise InputError("site_code", record.site_code, f"one of: {', '.join(site_ids)}")
    patient_id = bulk.add(
        Patient,
        {
            "study_id": record.study_id,
            "site_id": site_ids[record.site_code],
            "sex": record.sex.value,
            "birth_date": record.birth_date,
            "notes": record.notes,
            "source": source,
            "reconstructed": [p for p in record.reconstructed if "." not in p and "[" not in p],
        },
    )
    dx = record.diagnosis
    bulk.add(
        Diagnosis,
        {
            "patient_id": patient_id,
            "diagnosis_date": dx.diagnosis_date,
            "genetic_subtype": dx.genetic_subtype.value,
            "ph_positive": dx.ph_positive,
            "cd19_positive": dx.cd19_positive,
            "wbc_per_ul": dx.wbc_per_ul,
            "cns_status": dx.cns_status,
            "risk_group": dx.risk_group,
            "protocol": dx.protocol,
            **provenance("diagnosis"),
        },
    )
    marker_ids: dict[str, int] = {}
    for i, m in enumerate(record.markers):
        marker_ids[m.key] = bulk.add(
            MrdMarker,
            {
                "patient_id": patient_id,
                "key": m.key,
                "kind": m.kind.value,
                "transcript": m.transcript,
                "diagnosis_ncn": m.diagnosis_ncn,
                "definition": m.definition,
                **provenance(f"markers[{i}]"),
            },
        )
    for i, a in enumerate(record.assessments):
        bulk.add(
            DiseaseAssessment,
            {
                "patient_id": patient_id,
                "assessment_date": a.assessment_date,
                "response": a.response.value,
                "marrow_blast_percent": a.marrow_blast_percent,
                "extramedullary": a.extramedullary,
                "remission_number": a.remission_number,
                **provenance(f"assessments[{i}]"),
            },
        )
    for i, t in enumerate(record.treatments):
        bulk.add(
            TreatmentCourse,
            {
                "patient_id": patient_id,
                "kind": t.kind.value,
                "start_date": t.start_date,
                "end_date": t.end_date,
                "cycle": t.cycle,
                "details": dict(t.details),
                **provenance(f"treatments[{i}]"),
            },
        )
    for i, e in enumerate(record.adverse_events):
        bulk.add(
            AdverseEvent,
            {
                "patient_id": patient_id,
                "term": e.term,
                "onset_date": e.onset_date,
                "resolved_date": e.resolved_date,
                "grade": e.grade,
                "scale": e.scale,
                "grading_inputs": dict(e.grading_inputs),
                "management": e.management,
                **provenance(f"adverse_events[{i}]"),
            },
        )
    for i, v in enumerate(record.lab_values):
        bulk.add(
            LabValue,
            {
                "patient_id": patient_id,
                "test": v.test,
                "sample_date": v.sample_date,
                "value": v.value,
                "unit": v.unit,
                **provenance(f"lab_values[{i}]"),
            },
        )
    for i, o in enumerate(record.outcomes):
        bulk.add(
            OutcomeEvent,
            {
                "patient_id": patient_id,
                "kind": o.kind.value,
                "event_date": o.event_date,
                "detail": o.detail,
                **provenance(f"outcomes[{i}]"),
            },
        )
    results = 0
    for i, sample in enumerate(record.samples):
        sample_id = bulk.add(
            Sample,
            {
                "patient_id": patient_id,
                "sample_date": sample.sample_date,
                "timepoint": sample.timepoint,
                "tissue": sample.tissue.value,
                **provenance(f"samples[{i}]"),
            },
        )
        for j, mrd in enumerate(sample.mrd):
            marker = record.marker(mrd.marker) if mrd.marker else None
            values = _mrd_values(mrd.compute(marker))
            values["sample_id"] = sample_id
            values["marker_id"] = marker_ids[mrd.marker] if mrd.marker else None
            values.update(provenance(f"samples[{i}].mrd[{j}]"))
            bulk.add(MrdResultRow, values)
            results += 1
    return results


def _mrd_values(result: MrdResult) -> dict[str, Any]:
    """Column values of an engine result: raw inputs, result, rule and engine versions."""
    return {
        "method": result.method.value,
        "status": result.status.value,
        "detected": result.detected,
        "quantifiable": result.quantifiable,
        "mrd_fraction": result.mrd_fraction,
        "sensitivity_fraction": result.sensitivity_fraction,
        "inputs": _jsonable(result.inputs),
        "details": _jsonable(result.details),
        "reasons": list(result.reasons),
        "qc_flags": [flag.value for flag in result.qc_flags],
        "profile": result.profile,
        "rule": result.rule,
        "engine_version": __version__,
    }


def _jsonable(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in mapping.items()}
