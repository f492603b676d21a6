"""Importing tabular files into the registry: every row checked, all-or-nothing, once.

:func:`import_file` reads a CSV file, a ZIP of CSV files, an XLSX workbook (one sheet per
table) or a REDCap flat export with its mapping (:mod:`mrdtrack.registry.redcap`) in the
long format of the data dictionary (:mod:`mrdtrack.registry.dictionary`), then:

1. checks every cell against its column, every row against the rules of its table (the
   rules of :func:`mrdtrack.registry.records.parse_cohort`: markers fit their kind,
   remission numbers only in CR, the detail a treatment kind needs, ASTCT inputs of a CRS,
   IgG in mg/dL, nothing before the diagnosis or after the death, at most one death) and
   every reference (patients by ``study_id``; samples by ``study_id`` + ``sample_date`` +
   ``timepoint``; markers by key) against the file and the registry, and runs the MRD
   engine on every MRD row's raw inputs — MRD values are never typed in;
2. if anything is wrong, raises one :class:`ImportFileError` listing every problem with
   its file, sheet, row, column, value and reason, having written nothing;
3. otherwise writes every row in one transaction, with one audit row per created record
   and one ``import`` audit row, and records the file's SHA-256 in ``import_job``:
   importing the same file again is a no-op that says so (reliability goal 1).

The checks run before the write transaction opens, so that the registry's write lock is
held only for the inserts; the references are read again inside the transaction, and an
import whose references changed meanwhile is refused (and can simply be run again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mrdtrack.registry.audit import (
    AuditActor,
    Change,
    append_changes,
    audit_value,
    lock_chain,
    set_actor,
)
from mrdtrack.registry.bulk import BulkTable, allocate_ids
from mrdtrack.registry.database import Registry
from mrdtrack.registry.dictionary import DICTIONARY
from mrdtrack.registry.models import ImportJob, Patient
from mrdtrack.registry.redcap import parse_mapping, redcap_tables
from mrdtrack.registry.rowchecks import (
    CHUNK_ROWS,
    TABLES,
    ImportPlan,
    ParsedRow,
    ProblemLog,
    RowChecker,
    Snapshot,
    chunked,
    load_snapshot,
    parse_table,
)
from mrdtrack.registry.store import ensure_site
from mrdtrack.registry.tabular import (
    ImportFileError,
    ImportProblem,
    ProgressCallback,
    SourceKind,
    SourceTable,
    file_sha256,
    read_csv_file,
    read_source,
)

__all__ = ["ImportFileError", "ImportProblem", "ImportReport", "import_file"]

_CHANGED_MEANWHILE = "the registry changed while this file was checked: import it again"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did.

    ``already_imported`` is true when the file had been imported before (nothing was
    written this time; ``rows`` is then empty and ``total_rows`` the earlier count).
    """

    file: str
    sha256: str
    kind: str
    already_imported: bool
    job_id: int
    rows: Mapping[str, int]
    total_rows: int


# --- writing ------------------------------------------------------------------------------


def _write(
    session: Session,
    plan: ImportPlan,
    snap: Snapshot,
    progress: ProgressCallback | None,
) -> dict[str, int]:
    connection: Connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The unique audit hash index takes random keys: with SQLite's default 2 MiB page
        # cache a large import re-reads its pages; 64 MiB keeps them for this transaction.
        connection.exec_driver_sql("PRAGMA cache_size = -65536")
    try:
        return _write_tables(session, connection, plan, snap, progress)
    finally:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -2000")


def _write_tables(
    session: Session,
    connection: Connection,
    plan: ImportPlan,
    snap: Snapshot,
    progress: ProgressCallback | None,
) -> dict[str, int]:
    site_ids = {code: site_id for code, (site_id, _) in snap.sites.items()}
    for code, name in plan.new_sites.items():
        site_ids[code] = ensure_site(session, code, name).id  # audited by the ORM hook
    patient_ids = dict(snap.patients)
    marker_ids = {key: mid for key, (mid, _) in snap.markers.items()}
    sample_ids = {key: ids[0] for key, ids in snap.samples.items() if len(ids) == 1}
    written: dict[str, int] = {}
    total, done = plan.total, 0
    for spec in DICTIONARY:
        rows = plan.rows.get(spec.name)
        if not rows:
            continue
        target: Table = Patient.metadata.tables[spec.entity]
        bulk = BulkTable(target, connection.dialect)
        for chunk in chunked(rows, CHUNK_ROWS):
            records = []
            for values, row_id in zip(
                chunk, allocate_ids(connection, target, len(chunk)), strict=True
            ):
                record = dict(values)
                record["id"] = row_id
                if "_site" in record:
                    record["site_id"] = site_ids[record.pop("_site")]
                    patient_ids[record["study_id"]] = row_id
                if "_patient" in record:
                    record["patient_id"] = patient_ids[record.pop("_patient")]
                if "_sample" in record:
                    record["sample_id"] = sample_ids[record.pop("_sample")]
                    marker = record.pop("_marker")
                    record["marker_id"] = None if marker is None else marker_ids[marker]
                if spec.name == "markers":
                    marker_ids[(values["_patient"], record["key"])] = row_id
                elif spec.name == "samples":
                    key = (values["_patient"], record["sample_date"], record["timepoint"])
                    sample_ids[key] = row_id
                records.append(bulk.full_record(record))
            bulk.insert(connection, records)
            append_changes(
                session,
                [
                    Change("create", spec.entity, str(r["id"]), None, None, audit_value(r))
                    for r in records
                ],
            )
            done += len(chunk)
            if progress is not None:
                progress("write", done, total)
        written[spec.name] = len(rows)
    return written


# --- the whole import ---------------------------------------------------------------------


def _read(
    path: Path,
    table: str | None,
    mapping: Path | None,
    progress: ProgressCallback | None,
    problems: ProblemLog,
) -> tuple[SourceKind, list[SourceTable]]:
    if mapping is None:
        source = read_source(path, TABLES, table=table, progress=progress)
        for problem in source.problems:
            problems.add(problem)
        return source.kind, list(source.tables)
    try:
        text = mapping.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = f"cannot read the mapping file ({error})"
        raise ImportFileError(
            mapping.name, [ImportProblem(mapping.name, None, None, None, None, reason)]
        ) from None
    redcap = parse_mapping(text, mapping.name)
    tables, found = redcap_tables(read_csv_file(path), redcap)
    for problem in found:
        problems.add(problem)
    return SourceKind.REDCAP, tables


def _previous_job(registry: Registry, sha256: str) -> ImportJob | None:
    with registry.sessions() as session:
        return session.scalars(
            select(ImportJob).where(ImportJob.source_sha256 == sha256)
        ).one_or_none()


def _already(path: Path, job: ImportJob) -> ImportReport:
    return ImportReport(path.name, job.source_sha256, job.kind, True, job.id, {}, job.rows or 0)


def _check(
    registry: Registry,
    path: Path,
    sha256: str,
    *,
    table: str | None,
    mapping: Path | None,
    today: date | None,
    progress: ProgressCallback | None,
) -> tuple[SourceKind, ImportPlan, Snapshot, set[str], set[str]]:
    """Read and check the whole file; only the plan outlives this (the raw rows go)."""
    problems = ProblemLog()
    kind, sources = _read(path, table, mapping, progress, problems)
    parsed: dict[str, list[ParsedRow]] = {name: [] for name in TABLES}
    while sources:
        source = sources.pop(0)
        parsed[source.table].extend(parse_table(source, problems))
    study_ids = {r.study_id for rows in parsed.values() for r in rows if r.study_id}
    codes = {r.values["site_code"] for r in parsed["patients"] if "site_code" in r.values}
    with registry.engine.connect() as connection:
        snap = load_snapshot(connection, study_ids, codes)
        connection.rollback()
    checker = RowChecker(
        parsed, snap, problems, today=today, provenance=f"import:{sha256[:16]}", progress=progress
    )
    plan = checker.run()
    problems.raise_if_any(path.name)
    return kind, plan, snap, study_ids, codes


def import_file(
    registry: Registry,
    path: Path,
    actor: AuditActor,
    *,
    table: str | None = None,
    mapping: Path | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import one file into the registry: every row or none; a re-run is a no-op.

    Parameters
    ----------
    registry
        The open (initialised) registry.
    path
        A ``.csv`` file (table from ``table`` or the file name), a ``.zip`` of
        ``<table>.csv`` files, an ``.xlsx`` workbook (one sheet per table), or with
        ``mapping`` a REDCap flat CSV export.
    actor
        Who imports (recorded in the audit trail with the server's UTC time).
    table
        The table of a CSV file whose name is not the table's.
    mapping
        A REDCap mapping file (YAML, :mod:`mrdtrack.registry.redcap`).
    today
        When given, dates after it (plus a day for time zones) are refused.
    progress
        ``progress(stage, done, total)`` with stage ``read``, ``check`` or ``write``.

    Raises
    ------
    ImportFileError
        Listing every problem of the file (nothing was written).
    """
    path = Path(path)
    sha256 = file_sha256(path)
    previous = _previous_job(registry, sha256)
    if previous is not None:
        return _already(path, previous)
    kind, plan, snap, study_ids, codes = _check(
        registry, path, sha256, table=table, mapping=mapping, today=today, progress=progress
    )
    if plan.total == 0:
        reason = "no data rows: nothing to import"
        raise ImportFileError(path.name, [ImportProblem(path.name, None, None, None, None, reason)])
    with registry.transaction() as session:
        set_actor(session, actor)
        lock_chain(session)
        job = session.scalars(
            select(ImportJob).where(ImportJob.source_sha256 == sha256)
        ).one_or_none()
        if job is not None:  # imported by another writer while this one was checking
            return _already(path, job)
        changed = ImportFileError(
            path.name,
            [ImportProblem(path.name, None, None, None, None, _CHANGED_MEANWHILE)],
        )
        if load_snapshot(session.connection(), study_ids, codes) != snap:
            raise changed
        try:
            written = _write(session, plan, snap, progress)
        except IntegrityError:
            # Another writer added a conflicting row (a study id) after the check.
            raise changed from None
        job = ImportJob(
            source_sha256=sha256,
            filename=path.name[-500:],
            kind=kind.value,
            rows=plan.total,
            finished_at=actor.clock(),
            actor=actor.user,
        )
        session.add(job)
        session.flush()
        summary = {"file": path.name, "sha256": sha256, "kind": kind.value, "rows": written}
        append_changes(
            session, [Change("import", "import_job", str(job.id), None, None, audit_value(summary))]
        )
    return ImportReport(path.name, sha256, kind.value, False, job.id, written, plan.total)
