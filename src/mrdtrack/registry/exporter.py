"""Exporting the registry to CSV and XLSX in the data dictionary's long format.

:func:`export_registry` reads every table of the dictionary from one consistent snapshot
of the registry (soft-deleted rows left out), applies the privacy mode
(:mod:`mrdtrack.registry.privacy`), writes one CSV file per table (a ZIP archive, or a
directory) or one XLSX workbook with one sheet per table, and audits the export: one
``export`` row in the audit chain naming who exported, the scope, the mode, the purpose
(mandatory), the row counts and the SHA-256 of what was written (reliability goals 24
and 26). The files appear at their final path only once the audit row is committed.

Every text cell is made inert for spreadsheets (:func:`mrdtrack.registry.cells.neutralize`:
text starting with ``= + - @``, tab, CR or NUL gets a leading ``'``; reliability goal
24), while numbers stay numbers: numeric columns are written as numbers in both formats.
A full export imports back into an empty registry with the same clinical content.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import secrets
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, select

from mrdtrack.errors import InputError
from mrdtrack.mrd.profiles import FLOW_PROFILES, NGS_PROFILES, QPCR_PROFILES
from mrdtrack.registry.audit import AuditActor, Change, append_changes, audit_value, set_actor
from mrdtrack.registry.cells import neutralize
from mrdtrack.registry.database import Registry
from mrdtrack.registry.dictionary import (
    DICTIONARY,
    TREATMENT_DETAILS,
    ColumnType,
    TableRows,
    table_spec,
)
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
from mrdtrack.registry.privacy import ExportMode, apply_mode
from mrdtrack.registry.records import MRD_INPUT_KEYS, CohortDocument, PatientRecord

__all__ = [
    "ExportFormat",
    "ExportReport",
    "cohort_tables",
    "export_registry",
    "registry_tables",
    "write_csv",
    "write_xlsx",
]

_PROFILES: dict[str, Mapping[str, Any]] = {
    "flow": FLOW_PROFILES,
    "rq-pcr": QPCR_PROFILES,
    "ngs": NGS_PROFILES,
}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same content, the same bytes


class ExportFormat(StrEnum):
    """The file format of an export."""

    CSV = "csv"
    """One CSV file per table: a ZIP archive (``--out x.zip``) or a directory."""
    XLSX = "xlsx"
    """One XLSX workbook, one sheet per table."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote (the same facts its audit row holds)."""

    path: Path
    format: str
    mode: str
    purpose: str
    rows: Mapping[str, int]
    total_rows: int
    sha256: str


# --- reading --------------------------------------------------------------------------


def _typed(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """Values in the dictionary's types (JSON numbers of a number column become floats)."""
    spec = table_spec(table)
    out: dict[str, Any] = {}
    for column in spec.columns:
        value = row.get(column.name)
        if value is None or value == [] or value == {} or value == ():
            value = None
        elif column.type is ColumnType.NUMBER and not isinstance(value, bool):
            value = float(value)
        elif column.type is ColumnType.INTEGER and not isinstance(value, bool):
            value = int(value)
        elif column.type is ColumnType.NUMBER_LIST:
            value = _numbers(value)
        elif column.type is ColumnType.TEXT_LIST:
            value = tuple(str(v) for v in value)
        out[column.name] = value
    return out


def _numbers(value: object) -> tuple[float, ...]:
    if isinstance(value, str):  # the engine's echo "3, 1" of older rows
        return tuple(float(v) for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        return tuple(float(v) for v in value)
    return (float(value),)  # type: ignore[arg-type]


def _alive(*models: Any) -> tuple[Any, ...]:
    return tuple(model.deleted_at.is_(None) for model in models)


def _child(model: Any, *columns: Any, order: Any) -> Select[Any]:
    return (
        select(Patient.study_id, *columns)
        .join(Patient, model.patient_id == Patient.id)
        .where(*_alive(model, Patient))
        .order_by(Patient.study_id, order, model.id)
    )


def _mrd_row(row: Mapping[str, Any]) -> dict[str, Any]:
    method = row["method"]
    inputs = row["inputs"] or {}
    required, optional = MRD_INPUT_KEYS.get(method, (frozenset(), frozenset()))
    stored_profile = row["profile"] or ""
    profile_id = stored_profile.split("@", 1)[0]
    values = {
        "study_id": row["study_id"],
        "sample_date": row["sample_date"],
        "timepoint": row["timepoint"],
        "marker": row["marker"],
        "method": method,
        "profile": profile_id if profile_id in _PROFILES.get(method, {}) else None,
        "reconstructed": row["reconstructed"],
        "status": row["status"],
        "mrd_fraction": row["mrd_fraction"],
        "sensitivity_fraction": row["sensitivity_fraction"],
        "qc_flags": row["qc_flags"],
        "profile_applied": stored_profile or None,
        "rule": row["rule"],
        "engine_version": row["engine_version"],
    }
    for name in required | optional:
        values[name] = inputs.get(name)
    return values


def _treatment_row(row: Mapping[str, Any]) -> dict[str, Any]:
    details = dict(row["details"] or {})
    values = {k: v for k, v in row.items() if k != "details"}
    for name in TREATMENT_DETAILS:
        values[name] = details.pop(name, None)
    values["other_details"] = details or None
    return values


def registry_tables(connection: Connection) -> tuple[TableRows, ...]:
    """Every dictionary table of the registry, in the full export's shape."""
    queries: dict[str, Any] = {
        "patients": select(
            Patient.study_id,
            Site.code.label("site_code"),
            Site.name.label("site_name"),
            Patient.sex,
            Patient.birth_date,
            Patient.notes,
            Patient.reconstructed,
        )
        .join(Site, Patient.site_id == Site.id)
        .where(Patient.deleted_at.is_(None))
        .order_by(Patient.study_id),
        "diagnoses": _child(
            Diagnosis,
            *(getattr(Diagnosis, n) for n in table_spec("diagnoses").names[1:]),
            order=Diagnosis.diagnosis_date,
        ),
        "markers": _child(
            MrdMarker,
            *(getattr(MrdMarker, n) for n in table_spec("markers").names[1:]),
            order=MrdMarker.key,
        ),
        "samples": _child(
            Sample,
            *(getattr(Sample, n) for n in table_spec("samples").names[1:]),
            order=Sample.sample_date,
        ),
        "mrd_results": select(
            Patient.study_id,
            Sample.sample_date,
            Sample.timepoint,
            MrdMarker.key.label("marker"),
            *(
                getattr(MrdResultRow, n)
                for n in (
                    "method",
                    "profile",
                    "inputs",
                    "reconstructed",
                    "status",
                    "mrd_fraction",
                    "sensitivity_fraction",
                    "qc_flags",
                    "rule",
                    "engine_version",
                )
            ),
        )
        .join(Sample, MrdResultRow.sample_id == Sample.id)
        .join(Patient, Sample.patient_id == Patient.id)
        .outerjoin(MrdMarker, MrdResultRow.marker_id == MrdMarker.id)
        .where(*_alive(MrdResultRow, Sample, Patient))
        .order_by(Patient.study_id, Sample.sample_date, Sample.timepoint, MrdResultRow.id),
        "assessments": _child(
            DiseaseAssessment,
            *(getattr(DiseaseAssessment, n) for n in table_spec("assessments").names[1:]),
            order=DiseaseAssessment.assessment_date,
        ),
        "treatments": _child(
            TreatmentCourse,
            TreatmentCourse.kind,
            TreatmentCourse.start_date,
            TreatmentCourse.end_date,
            TreatmentCourse.cycle,
            TreatmentCourse.details,
            TreatmentCourse.reconstructed,
            order=TreatmentCourse.start_date,
        ),
        "adverse_events": _child(
            AdverseEvent,
            *(getattr(AdverseEvent, n) for n in table_spec("adverse_events").names[1:]),
            order=AdverseEvent.onset_date,
        ),
        "lab_values": _child(
            LabValue,
            *(getattr(LabValue, n) for n in table_spec("lab_values").names[1:]),
            order=LabValue.sample_date,
        ),
        "outcomes": _child(
            OutcomeEvent,
            *(getattr(OutcomeEvent, n) for n in table_spec("outcomes").names[1:]),
            order=OutcomeEvent.event_date,
        ),
    }
    shape = {"mrd_results": _mrd_row, "treatments": _treatment_row}
    tables = []
    for spec in DICTIONARY:
        convert = shape.get(spec.name, dict)
        rows = tuple(
            _typed(spec.name, convert(dict(row._mapping)))
            for row in connection.execute(queries[spec.name])
        )
        tables.append(TableRows(spec.name, spec.names, rows))
    return tuple(tables)


def _patient_tables(record: PatientRecord, site_names: Mapping[str, str]) -> dict[str, list[Any]]:
    def marked(prefix: str) -> tuple[str, ...]:
        return tuple(p for p in record.reconstructed if p == prefix or p.startswith(prefix + "."))

    sid = record.study_id
    top = tuple(p for p in record.reconstructed if "." not in p and "[" not in p)
    dx = record.diagnosis
    out: dict[str, list[Any]] = {
        "patients": [
            {
                "study_id": sid,
                "site_code": record.site_code,
                "site_name": site_names.get(record.site_code),
                "sex": record.sex.value,
                "birth_date": record.birth_date,
                "notes": record.notes,
                "reconstructed": top,
            }
        ],
        "diagnoses": [
            {
                "study_id": sid,
                "diagnosis_date": dx.diagnosis_date,
                "genetic_subtype": dx.genetic_subtype.value,
                "ph_positive": dx.ph_positive,
                "cd19_positive": dx.cd19_positive,
                "wbc_per_ul": dx.wbc_per_ul,
                "cns_status": dx.cns_status,
                "risk_group": dx.risk_group,
                "protocol": dx.protocol,
                "reconstructed": marked("diagnosis"),
            }
        ],
    }
    out["markers"] = [
        {
            "study_id": sid,
            "key": m.key,
            "kind": m.kind.value,
            "transcript": m.transcript,
            "diagnosis_ncn": m.diagnosis_ncn,
            "definition": m.definition,
            "reconstructed": marked(f"markers[{i}]"),
        }
        for i, m in enumerate(record.markers)
    ]
    out["samples"], out["mrd_results"] = [], []
    for i, s in enumerate(record.samples):
        where = {"study_id": sid, "sample_date": s.sample_date, "timepoint": s.timepoint}
        out["samples"].append(
            {**where, "tissue": s.tissue.value, "reconstructed": marked(f"samples[{i}]")}
        )
        for j, mrd in enumerate(s.mrd):
            out["mrd_results"].append(
                {
                    **where,
                    "marker": mrd.marker,
                    "method": mrd.method,
                    "profile": mrd.profile,
                    **mrd.inputs,
                    "reconstructed": marked(f"samples[{i}].mrd[{j}]"),
                }
            )
    out["assessments"] = [
        {
            "study_id": sid,
            "assessment_date": a.assessment_date,
            "response": a.response.value,
            "marrow_blast_percent": a.marrow_blast_percent,
            "extramedullary": a.extramedullary,
            "remission_number": a.remission_number,
            "reconstructed": marked(f"assessments[{i}]"),
        }
        for i, a in enumerate(record.assessments)
    ]
    out["treatments"] = [
        _treatment_row(
            {
                "study_id": sid,
                "kind": t.kind.value,
                "start_date": t.start_date,
                "end_date": t.end_date,
                "cycle": t.cycle,
                "details": dict(t.details),
                "reconstructed": marked(f"treatments[{i}]"),
            }
        )
        for i, t in enumerate(record.treatments)
    ]
    out["adverse_events"] = [
        {
            "study_id": sid,
            "term": e.term,
            "onset_date": e.onset_date,
            "resolved_date": e.resolved_date,
            "grade": e.grade,
            "scale": e.scale,
            "grading_inputs": dict(e.grading_inputs),
            "management": e.management,
            "reconstructed": marked(f"adverse_events[{i}]"),
        }
        for i, e in enumerate(record.adverse_events)
    ]
    out["lab_values"] = [
        {
            "study_id": sid,
            "test": v.test,
            "sample_date": v.sample_date,
            "value": v.value,
            "unit": v.unit,
            "reconstructed": marked(f"lab_values[{i}]"),
        }
        for i, v in enumerate(record.lab_values)
    ]
    out["outcomes"] = [
        {
            "study_id": sid,
            "kind": o.kind.value,
            "event_date": o.event_date,
            "detail": o.detail,
            "reconstructed": marked(f"outcomes[{i}]"),
        }
        for i, o in enumerate(record.outcomes)
    ]
    return out


def cohort_tables(document: CohortDocument) -> tuple[TableRows, ...]:
    """A cohort document as import tables (raw MRD inputs; no derived columns).

    Writing these with :func:`write_csv` or :func:`write_xlsx` gives a file that
    :func:`mrdtrack.registry.importer.import_file` loads like the cohort itself.
    """
    site_names = {s.code: s.name for s in document.sites}
    rows: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in DICTIONARY}
    for record in document.patients:
        for name, found in _patient_tables(record, site_names).items():
            rows[name].extend(_typed(name, row) for row in found)
    return tuple(
        TableRows(
            spec.name,
            spec.input_names,
            tuple({k: r[k] for k in spec.input_names} for r in rows[spec.name]),
        )
        for spec in DICTIONARY
    )


# --- writing ----------------------------------------------------------------------------


def _text(value: object) -> str | None:
    """A non-numeric cell as text (``None`` for numbers, booleans, dates and empties)."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple | list):
        return ";".join(repr(v) if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return None


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = _text(value)
    return neutralize(text if text is not None else str(value))


def _csv_bytes(table: TableRows) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(name)) for name in table.columns])
    return buffer.getvalue().encode("utf-8")


def write_csv(tables: Sequence[TableRows], out: Path) -> None:
    """One ``<table>.csv`` per table (UTF-8, comma, CRLF).

    ``out`` ending in ``.zip`` is written as a ZIP archive, any other as a new directory.
    """
    if out.suffix.lower() == ".zip":
        with zipfile.ZipFile(out, "x", zipfile.ZIP_DEFLATED) as archive:
            for table in tables:
                info = zipfile.ZipInfo(f"{table.name}.csv", date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, _csv_bytes(table))
        return
    out.mkdir()
    for table in tables:
        (out / f"{table.name}.csv").write_bytes(_csv_bytes(table))


def _xlsx_cell(value: object, illegal: Any) -> object:
    if value is None or isinstance(value, bool | int | float | date):
        return value
    text = _text(value)
    # XML cannot hold most control characters; an export must not fail on one.
    return illegal.sub("\ufffd", neutralize(text if text is not None else str(value)))


def write_xlsx(tables: Sequence[TableRows], out: Path) -> None:
    """One sheet per table; numbers and dates as typed cells, text neutralized."""
    # Imported here: openpyxl takes a noticeable time to import, and only this needs it.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(table.name)
        sheet.append(list(table.columns))
        for row in table.rows:
            sheet.append([_xlsx_cell(row.get(n), ILLEGAL_CHARACTERS_RE) for n in table.columns])
    with out.open("xb") as handle:
        workbook.save(handle)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    for item in files:
        if path.is_dir():
            digest.update(item.name.encode("utf-8") + b"\0")
        with item.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _tables_snapshot(registry: Registry) -> tuple[TableRows, ...]:
    connection = registry.engine.connect()
    if registry.dialect == "postgresql":
        # One snapshot for every table, so that rows never refer to rows left out.
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection:
        tables = registry_tables(connection)
        connection.rollback()
    return tables


def _temporary(out: Path) -> Path:
    # Same directory (an atomic rename), same suffix (it chooses ZIP or directory).
    return out.with_name(f".partial-{secrets.token_hex(6)}{out.suffix}")


def export_registry(
    registry: Registry,
    out: Path,
    actor: AuditActor,
    *,
    format: ExportFormat,
    mode: ExportMode,
    purpose: str,
    rng: random.Random | None = None,
) -> ExportReport:
    """Export the whole registry to ``out`` and audit the export.

    Parameters
    ----------
    registry
        The open registry.
    out
        A new path: ``.xlsx`` for XLSX; ``.zip`` or a directory for CSV.
    actor
        Who exports (the audit row names them with the server's UTC time).
    format, mode
        File format and privacy mode.
    purpose
        Why the data leave the registry (mandatory; recorded in the audit trail).
    rng
        Randomness of the privacy modes (default: the operating system's).

    Raises
    ------
    InputError
        No purpose, an existing ``out``, or a suffix that does not fit the format.
    """
    purpose = purpose.strip()
    if not purpose:
        raise InputError("--purpose", purpose, "why the data are exported (it is audited)")
    out = Path(out)
    if out.exists():
        raise InputError("--out", str(out), "a path that does not exist yet")
    if format is ExportFormat.XLSX and out.suffix.lower() != ".xlsx":
        raise InputError("--out", str(out), "a file name ending in .xlsx")
    if not out.parent.is_dir():
        raise InputError("--out", str(out), "a path in an existing directory")
    tables = apply_mode(mode, _tables_snapshot(registry), rng)
    partial = _temporary(out)
    try:
        if format is ExportFormat.XLSX:
            write_xlsx(tables, partial)
        else:
            write_csv(
                tables, partial if out.suffix.lower() != ".zip" else partial.with_suffix(".zip")
            )
            if out.suffix.lower() == ".zip":
                partial = partial.with_suffix(".zip")
        sha256 = _digest(partial)
        rows = {t.name: len(t.rows) for t in tables}
        record = {
            "scope": {"patients": rows.get("patients", 0), "tables": sorted(rows)},
            "mode": mode.value,
            "purpose": purpose,
            "format": format.value,
            "file": out.name,
            "rows": rows,
            "total_rows": sum(rows.values()),
            "sha256": sha256,
        }
        with registry.transaction() as session:
            set_actor(session, AuditActor(actor.user, reason=purpose, clock=actor.clock))
            append_changes(
                session, [Change("export", "export", sha256, None, None, audit_value(record))]
            )
        os.replace(partial, out)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()
    return ExportReport(out, format.value, mode.value, purpose, rows, sum(rows.values()), sha256)
