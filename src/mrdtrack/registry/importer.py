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

The import is a job (:mod:`mrdtrack.registry.jobs`): after the cheap file-level checks
(:func:`preflight`: extension, magic bytes, ZIP directory) it is recorded as ``running``
in a committed transaction of its own, marked ``done`` inside the data transaction, and
``failed`` with its problems when refused; a process killed mid-import leaves it
``running``, and readers show it as failed (interrupted). Running the same file again
after a failed or interrupted job takes the job over; after a ``done`` job it is a no-op.
:func:`start_import` claims the job and returns a :class:`PendingImport` whose
:meth:`~PendingImport.run` does the rest, so that a caller (the web application) knows
the job's id before the long part starts; :func:`import_file` does both.

The checks run before the write transaction opens, so that the registry's write lock is
held only for the inserts; the references are read again inside the transaction, and an
import whose references changed meanwhile is refused (and can simply be run again).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from mrdtrack.errors import MrdtrackError
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
from mrdtrack.registry.jobs import (
    WRITE_WAIT_S,
    JobClaim,
    JobError,
    claim_job,
    fail_job,
    finish_job,
    while_locked,
)
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
    _magic_problem,
    check_archive,
    file_sha256,
    read_csv_file,
    read_source,
)

__all__ = [
    "ImportFileError",
    "ImportProblem",
    "ImportReport",
    "PendingImport",
    "import_file",
    "preflight",
    "start_import",
]

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


def _already(path: Path, job: ImportJob) -> ImportReport:
    return ImportReport(path.name, job.source_sha256, job.kind, True, job.id, {}, job.rows or 0)


_KINDS = {".csv": SourceKind.CSV, ".txt": SourceKind.CSV, ".xlsx": SourceKind.XLSX}
_KINDS[".zip"] = SourceKind.ZIP
_MAPPING_SUFFIXES = frozenset({".yaml", ".yml"})


def _refused(name: str, reason: str) -> ImportFileError:
    return ImportFileError(name, [ImportProblem(name, None, None, None, None, reason)])


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(8)
    except OSError as error:
        raise _refused(path.name, f"cannot read the file ({error.strerror})") from None


def preflight(path: Path, *, mapping: Path | None = None) -> SourceKind:
    """The file-level checks, cheap enough for a web request; returns the file's kind.

    The extension must be one the importer reads, the magic bytes must match it
    (reliability goal 23), and a ZIP container (XLSX, ZIP of CSV files) must pass
    :func:`~mrdtrack.registry.tabular.check_archive` (member count, sizes, ratio, paths)
    from its central directory. A REDCap export (``mapping`` given) is a CSV file and its
    mapping YAML text. Nothing is parsed yet.

    Raises
    ------
    ImportFileError
        Naming the file and what is wrong with it.
    """
    name, suffix = path.name, path.suffix.lower()
    if mapping is not None:
        if suffix not in {".csv", ".txt"}:
            raise _refused(name, "a REDCap export is a .csv file (REDCap: Export Data → CSV)")
        if mapping.suffix.lower() not in _MAPPING_SUFFIXES:
            raise _refused(mapping.name, "a REDCap mapping is a .yaml file")
        if b"\x00" in _head(mapping) or _magic_problem(mapping.name, ".txt", _head(mapping)):
            raise _refused(mapping.name, "the content does not match .yaml: it is not text")
    problem = _magic_problem(name, suffix, _head(path))
    if problem is not None:
        raise ImportFileError(name, [problem])
    if suffix in {".xlsx", ".zip"}:
        problems = check_archive(path, name)
        if problems:
            raise ImportFileError(name, problems)
    return SourceKind.REDCAP if mapping is not None else _KINDS[suffix]


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


@dataclass(slots=True)
class PendingImport:
    """A claimed import job (recorded ``running``) waiting for :meth:`run`.

    Exactly one of :meth:`run` or :meth:`abandon` must be called: until then the job's
    lease is held and the job shows as running.
    """

    registry: Registry
    path: Path
    actor: AuditActor
    claim: JobClaim
    sha256: str
    kind: SourceKind
    table: str | None = None
    mapping: Path | None = None
    today: date | None = None
    _ended: bool = field(default=False, repr=False)

    @property
    def job_id(self) -> int:
        """The id of the job (``import_job.id``)."""
        return self.claim.job_id

    def run(self, progress: ProgressCallback | None = None) -> ImportReport:
        """Check every row and write them all, or mark the job ``failed`` and raise.

        Raises
        ------
        ImportFileError
            Listing every problem of the file (nothing was written; the job is failed).
        """
        if self._ended:
            raise _refused(self.path.name, "this import job has already run")
        self._ended = True
        try:
            report = self._import(progress)
        except ImportFileError as refused:
            self._fail(JobError(refused.message, refused.total, refused.problems))
            raise
        except MrdtrackError as error:
            self._fail(JobError(str(error)))
            raise
        except BaseException as error:
            # Only the type: an unexpected error's text may quote the file's values.
            self._fail(JobError(f"internal error ({type(error).__name__}); nothing was written"))
            raise
        self.claim.lease.release()
        return report

    def abandon(self, reason: str) -> None:
        """Mark the job ``failed`` without running it (e.g. the server could not start it)."""
        if not self._ended:
            self._ended = True
            self._fail(JobError(reason))

    def _fail(self, error: JobError) -> None:
        # If even this write fails, the lease is let go: readers show "interrupted".
        with contextlib.suppress(SQLAlchemyError, OSError, MrdtrackError):
            fail_job(self.registry, self.claim, error, self.actor.clock())
        self.claim.lease.release()

    def _import(self, progress: ProgressCallback | None) -> ImportReport:
        path, registry, actor, sha256 = self.path, self.registry, self.actor, self.sha256
        kind, plan, snap, study_ids, codes = _check(
            registry,
            path,
            sha256,
            table=self.table,
            mapping=self.mapping,
            today=self.today,
            progress=progress,
        )
        if plan.total == 0:
            raise _refused(path.name, "no data rows: nothing to import")
        changed = _refused(path.name, _CHANGED_MEANWHILE)

        def write() -> tuple[int, dict[str, int]]:
            with registry.transaction() as session:
                set_actor(session, actor)
                lock_chain(session)
                if load_snapshot(session.connection(), study_ids, codes) != snap:
                    raise changed
                try:
                    written = _write(session, plan, snap, progress)
                except IntegrityError:
                    # Another writer added a conflicting row (a study id) after the check.
                    raise changed from None
                job = finish_job(session, self.claim, rows=plan.total, at=actor.clock())
                summary = {"file": path.name, "sha256": sha256, "kind": kind.value, "rows": written}
                append_changes(
                    session,
                    [Change("import", "import_job", str(job.id), None, None, audit_value(summary))],
                )
                return job.id, written

        if progress is not None:
            progress("write", 0, plan.total)  # shown while waiting for the write lock
        job_id, written = while_locked(write, wait_s=WRITE_WAIT_S, file=path.name)
        return ImportReport(path.name, sha256, kind.value, False, job_id, written, plan.total)


def start_import(
    registry: Registry,
    path: Path,
    actor: AuditActor,
    *,
    table: str | None = None,
    mapping: Path | None = None,
    today: date | None = None,
) -> ImportReport | PendingImport:
    """Check the file's type and record its import job as ``running``.

    Returns the earlier job's :class:`ImportReport` (``already_imported``) when the file
    was imported before, else the :class:`PendingImport` to run. The parameters are those
    of :func:`import_file`.

    Raises
    ------
    ImportFileError
        The file's type is wrong (:func:`preflight`; no job is recorded), or
        :class:`~mrdtrack.registry.jobs.ImportBusyError`: another process is importing
        the same file now.
    """
    path = Path(path)
    kind = preflight(path, mapping=mapping)
    sha256 = file_sha256(path)
    claimed = claim_job(registry, sha256=sha256, filename=path.name, kind=kind.value, actor=actor)
    if isinstance(claimed, ImportJob):
        return _already(path, claimed)
    return PendingImport(registry, path, actor, claimed, sha256, kind, table, mapping, today)


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
        Listing every problem of the file (nothing was written; the import job, if one
        was recorded, is ``failed`` with these problems).
    """
    started = start_import(registry, path, actor, table=table, mapping=mapping, today=today)
    if isinstance(started, ImportReport):
        return started
    return started.run(progress)
