"""Import jobs: one row per imported file, its status, and whether its owner still lives.

Reliability goal 1 asks that an import cut off by a crash leave no partial rows (the
importer's one data transaction sees to that) *and* that the interrupted job be shown as
failed afterwards. The life of a job (:class:`~mrdtrack.registry.models.ImportJob`):

1. :func:`claim_job` records it as ``running`` — file name, kind, acting user, start
   time and the file's SHA-256 — in a short transaction of its own, committed *before*
   the importer's all-or-nothing data transaction starts. A file whose job is ``done``
   is not claimed (a re-run is a no-op); a ``failed`` job's row, or a ``running`` row
   whose owner is gone, is taken over (the SHA-256 is unique), so the same file can
   simply be imported again.
2. :func:`finish_job` marks it ``done`` with its row count *inside* the data
   transaction: ``done`` if and only if the data were committed.
3. :func:`fail_job` marks a refused or crashed import ``failed`` with its error report
   (a JSON :class:`JobError`: the message and every problem with its file, sheet, row,
   column and value), in a transaction of its own; the data transaction left nothing.

A process killed mid-import never reaches step 2 or 3: its row stays ``running``.
Readers (:func:`job_views`, :func:`get_job`) show such a row as failed ("interrupted")
once they see that its owner is gone. How they know — the **lease**: the owner holds a
lock from the claim until the job is ``done`` or ``failed``, a lock that the operating
system or the database server drops by itself when the owning process dies, however it
dies (``SIGKILL``, power loss of a client):

* SQLite (one machine by design): an exclusive ``flock`` on the file
  ``<database>.import-locks/job-<id>.lock``. ``flock`` locks belong to an open file, so a
  reader in the owner's own process still sees the lock held;
* PostgreSQL (possibly several hosts): a session-level advisory lock
  ``pg_try_advisory_lock(0x6D726A62, job id)`` held on a connection of its own; readers
  look it up in ``pg_locks``.

Neither a stored process id (re-used after a restart, meaningless on another host) nor
a time-out (an import of a million rows may run for minutes) can tell "still running"
from "died" this reliably. A reader that sees a ``running`` row whose lease is free
reads the row again: only if it is still ``running`` *with the same start time* was its
owner gone before finishing (an owner commits ``done``/``failed`` before it lets go).
Step 2 checks the same start time (a fencing token), so that an owner whose lease was
lost can never write over a job another process has taken over. (The lock files are
the leases: never delete ``<database>.import-locks`` while imports run.)

On SQLite an import's data transaction holds the one write lock for as long as its
inserts take, longer than the 5 s busy timeout of other writers; the job's own short
transactions, and a second import's data transaction, therefore wait for it
(:func:`while_locked`) instead of failing with "database is locked" (goal 3).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mrdtrack.errors import NotFoundError
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import AuditEntry, ImportJob
from mrdtrack.registry.tabular import ImportFileError, ImportProblem

__all__ = [
    "CLAIM_WAIT_S",
    "INTERRUPTED",
    "WRITE_WAIT_S",
    "ImportBusyError",
    "JobClaim",
    "JobError",
    "JobLease",
    "JobStatus",
    "JobView",
    "claim_job",
    "encode_error",
    "fail_job",
    "finish_job",
    "get_job",
    "job_views",
    "lease_held",
    "list_jobs",
    "while_locked",
]

INTERRUPTED = (
    "interrupted: the process importing this file ended before the import finished; "
    "nothing was written — import the file again"
)
"""The error a reader shows for a ``running`` job whose owner is gone."""

CLAIM_WAIT_S = 60.0
"""How long recording a job waits for SQLite's write lock (held by another import)."""
WRITE_WAIT_S = 900.0
"""How long an import's data transaction waits for SQLite's write lock."""

_T = TypeVar("_T")
_LOCKED_PAUSE_S = 0.2
_PG_LEASE_SPACE = 0x6D72_6A62  # "mrjb": the first key of every job lease (int4)
_CLAIM_TRIES = 20  # a reader's probe holds a lease file for microseconds: try again
_CLAIM_PAUSE_S = 0.01


class JobStatus(StrEnum):
    """The stored status of an import job (a dead ``running`` job is shown as failed)."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


# --- error reports ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed: a message and, for a refused file, every problem found."""

    message: str
    total: int = 0
    problems: tuple[ImportProblem, ...] = ()


def encode_error(error: JobError) -> str:
    """The JSON text stored in ``import_job.error``."""
    payload = {
        "message": error.message,
        "total": error.total,
        "problems": [asdict(p) for p in error.problems],
    }
    return json.dumps(payload, ensure_ascii=False)


def _decode_error(stored: str | None) -> JobError | None:
    if stored is None:
        return None
    try:
        payload = json.loads(stored)
        problems = tuple(ImportProblem(**p) for p in payload.get("problems", ()))
        return JobError(str(payload["message"]), int(payload.get("total", 0)), problems)
    except (ValueError, TypeError, KeyError, AttributeError):
        return JobError(stored)  # text written by hand or by another tool


# --- leases -------------------------------------------------------------------------------


class JobLease:
    """The lock an owner holds while its job runs (released when the process dies)."""

    def __init__(self, job_id: int, release: Callable[[], None]) -> None:
        self.job_id = job_id
        self._release = release
        self.released = False

    def release(self) -> None:
        """Let go (after the job's final status is committed); idempotent."""
        if not self.released:
            self.released = True
            self._release()


def _lock_path(registry: Registry, job_id: int) -> Path:
    database = Path(registry.engine.url.database or "registry").expanduser().resolve()
    return database.with_name(database.name + ".import-locks") / f"job-{job_id}.lock"


def _file_lease(registry: Registry, job_id: int) -> JobLease | None:
    path = _lock_path(registry, job_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    for _ in range(_CLAIM_TRIES):
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            time.sleep(_CLAIM_PAUSE_S)
            continue
        try:
            same = os.stat(path).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous owner removed the file between open and lock
            os.close(descriptor)
            continue

        def release(descriptor: int = descriptor) -> None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            os.close(descriptor)  # closing the last descriptor drops the flock

        return JobLease(job_id, release)
    return None


def _file_lease_held(registry: Registry, job_id: int) -> bool:
    try:
        descriptor = os.open(_lock_path(registry, job_id), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def _pg_lease(registry: Registry, job_id: int) -> JobLease | None:
    connection = registry.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:space, :job)"),
            {"space": _PG_LEASE_SPACE, "job": job_id},
        ).scalar_one()
    except Exception:
        connection.close()
        raise
    if not got:
        connection.close()
        return None

    def release() -> None:
        try:
            connection.execute(
                text("SELECT pg_advisory_unlock(:space, :job)"),
                {"space": _PG_LEASE_SPACE, "job": job_id},
            )
        except Exception:
            # A connection that may still hold the lock must not go back to the pool.
            connection.invalidate()
        finally:
            connection.close()

    return JobLease(job_id, release)


def _pg_lease_held(connection: Connection, job_id: int) -> bool:
    found = connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = :space AND objid::bigint = :job AND objsubid = 2"
        ),
        {"space": _PG_LEASE_SPACE, "job": job_id},
    ).scalar_one()
    return bool(found)


def _acquire(registry: Registry, job_id: int) -> JobLease | None:
    if registry.dialect == "postgresql":
        return _pg_lease(registry, job_id)
    return _file_lease(registry, job_id)


def lease_held(registry: Registry, job_id: int) -> bool:
    """Whether a live process holds the lease of job ``job_id``."""
    if registry.dialect == "postgresql":
        with registry.engine.connect() as connection:
            held = _pg_lease_held(connection, job_id)
            connection.rollback()
        return held
    return _file_lease_held(registry, job_id)


# --- the owner's side ---------------------------------------------------------------------


class ImportBusyError(ImportFileError):
    """The file is being imported right now by a live process (job ``job_id``)."""

    def __init__(self, file: str, job_id: int, actor: str, started_at: datetime | None):
        since = "" if started_at is None else f" since {_utc(started_at):%Y-%m-%d %H:%M} UTC"
        reason = (
            f"this file is being imported now (job {job_id}, by {actor}{since}); "
            "wait for that import to finish"
        )
        super().__init__(file, [ImportProblem(file, None, None, None, None, reason)])
        self.job_id = job_id


@dataclass(frozen=True, slots=True)
class JobClaim:
    """A job this process owns: its id, its start time (the fencing token), its lease."""

    job_id: int
    started_at: datetime
    lease: JobLease


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC text), PostgreSQL aware ones.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _mark_running(
    job: ImportJob, *, filename: str, kind: str, actor: AuditActor, started: datetime
) -> None:
    job.filename = filename[-500:]
    job.kind = kind
    job.actor = actor.user[:64]
    job.status = JobStatus.RUNNING.value
    job.started_at = started
    job.finished_at = job.rows = job.error = None
    job.rows_done = 0


def while_locked(action: Callable[[], _T], *, wait_s: float, file: str) -> _T:
    """Run ``action`` (one whole transaction) again while SQLite's write lock stays busy.

    A registry transaction waits 5 s for SQLite's write lock (the busy timeout), but an
    import's data transaction may hold it for minutes; an import that would fail with
    "database is locked" then waits its turn instead, for up to ``wait_s``. Running the
    transaction again is safe: under ``BEGIN IMMEDIATE`` the lock is taken by the first
    statement, before anything is written, and that is the one statement that waits.

    Raises
    ------
    ImportFileError
        The lock stayed busy for ``wait_s`` (naming ``file``: import it again later).
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return action()
        except OperationalError as error:
            if "database is locked" not in str(error.orig):
                raise
            if time.monotonic() >= deadline:
                reason = (
                    f"the registry stayed busy for {wait_s:.0f} s (another import was "
                    "writing): import the file again when that import has finished"
                )
                problem = ImportProblem(file, None, None, None, None, reason)
                raise ImportFileError(file, [problem]) from None
        time.sleep(_LOCKED_PAUSE_S)


def _claim_once(
    registry: Registry, *, sha256: str, filename: str, kind: str, actor: AuditActor
) -> JobClaim | ImportJob:
    lease: JobLease | None = None
    try:
        with registry.transaction() as session:
            job = session.scalars(
                select(ImportJob).where(ImportJob.source_sha256 == sha256).with_for_update()
            ).one_or_none()
            if job is not None and job.status == JobStatus.DONE:
                return job
            started = actor.clock()
            if job is None:
                job = ImportJob(source_sha256=sha256)
                _mark_running(job, filename=filename, kind=kind, actor=actor, started=started)
                session.add(job)
                session.flush()  # the id names the lease
            lease = _acquire(registry, job.id)
            if lease is None:
                raise ImportBusyError(filename, job.id, job.actor, job.started_at)
            _mark_running(job, filename=filename, kind=kind, actor=actor, started=started)
        return JobClaim(job.id, started, lease)
    except BaseException:
        if lease is not None:
            lease.release()
        raise


def claim_job(
    registry: Registry, *, sha256: str, filename: str, kind: str, actor: AuditActor
) -> JobClaim | ImportJob:
    """Record the import of one file as ``running`` (committed) and take its lease.

    Returns the finished :class:`ImportJob` instead when the file was imported before.
    The lease is taken before the ``running`` row is committed, so that no reader ever
    sees a running job without its owner.

    Raises
    ------
    ImportBusyError
        A live process is importing the same file (same SHA-256) now.
    ImportFileError
        The registry stayed busy (SQLite: another import writing) for
        :data:`CLAIM_WAIT_S` seconds.
    """
    for _ in range(2):  # a second try after losing an insert race on PostgreSQL
        try:
            return while_locked(
                lambda: _claim_once(
                    registry, sha256=sha256, filename=filename, kind=kind, actor=actor
                ),
                wait_s=CLAIM_WAIT_S,
                file=filename,
            )
        except IntegrityError:
            continue
    raise ImportFileError(
        filename,
        [ImportProblem(filename, None, None, None, None, "another import of it started")],
    )


def _owned(job: ImportJob | None, claim: JobClaim) -> bool:
    if job is None or job.status != JobStatus.RUNNING or job.started_at is None:
        return False
    return _utc(job.started_at) == _utc(claim.started_at)


def finish_job(session: Session, claim: JobClaim, *, rows: int, at: datetime) -> ImportJob:
    """Mark the claimed job ``done`` inside the import's data transaction.

    Raises
    ------
    ImportFileError
        When the job is no longer this process's (its lease was lost and another
        process took the file over): the data transaction must roll back.
    """
    job = session.get(ImportJob, claim.job_id, with_for_update=True)
    if job is None or not _owned(job, claim):
        name = "import" if job is None else job.filename
        reason = "another process took this import over: see the list of import jobs"
        raise ImportFileError(name, [ImportProblem(name, None, None, None, None, reason)])
    job.status, job.rows, job.rows_done = JobStatus.DONE.value, rows, rows
    job.finished_at, job.error = at, None
    session.flush()
    return job


def fail_job(registry: Registry, claim: JobClaim, error: JobError, at: datetime) -> None:
    """Mark the claimed job ``failed`` with ``error`` (its own transaction), then let go.

    When even this cannot be written (the database is gone), the lease is still let go,
    and readers show the job as interrupted.
    """

    def mark() -> None:
        with registry.transaction() as session:
            job = session.get(ImportJob, claim.job_id, with_for_update=True)
            if job is not None and _owned(job, claim):
                job.status, job.finished_at = JobStatus.FAILED.value, at
                job.error, job.rows, job.rows_done = encode_error(error), None, 0

    try:
        while_locked(mark, wait_s=CLAIM_WAIT_S, file="import")
    finally:
        claim.lease.release()


# --- the readers' side --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobView:
    """An import job as users see it: a dead ``running`` job is ``failed``, interrupted.

    ``tables`` holds the rows written per table of a ``done`` cohort import (from its
    ``import`` audit row); empty otherwise.
    """

    id: int
    filename: str
    kind: str
    actor: str
    status: JobStatus
    started_at: datetime | None
    finished_at: datetime | None
    rows: int | None
    sha256: str
    error: JobError | None
    interrupted: bool = False
    tables: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO text in UTC)."""
        error = self.error
        return {
            "id": self.id,
            "filename": self.filename,
            "kind": self.kind,
            "actor": self.actor,
            "status": self.status.value,
            "interrupted": self.interrupted,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "rows": self.rows,
            "sha256": self.sha256,
            "tables": dict(self.tables),
            "error": None
            if error is None
            else {
                "message": error.message,
                "total": error.total,
                "problems": [asdict(p) for p in error.problems],
            },
        }


def _view(job: ImportJob, tables: Sequence[tuple[str, int]] = ()) -> JobView:
    return JobView(
        id=job.id,
        filename=job.filename,
        kind=job.kind,
        actor=job.actor,
        status=JobStatus(job.status),
        started_at=None if job.started_at is None else _utc(job.started_at),
        finished_at=None if job.finished_at is None else _utc(job.finished_at),
        rows=job.rows,
        sha256=job.source_sha256,
        error=_decode_error(job.error),
        tables=tuple(tables),
    )


def _interrupted(view: JobView) -> JobView:
    return JobView(
        id=view.id,
        filename=view.filename,
        kind=view.kind,
        actor=view.actor,
        status=JobStatus.FAILED,
        started_at=view.started_at,
        finished_at=None,
        rows=None,
        sha256=view.sha256,
        error=JobError(INTERRUPTED),
        interrupted=True,
    )


def _still_running(registry: Registry, view: JobView) -> bool:
    """Read the row again: still ``running`` from the same start (see the module doc)."""
    with registry.reading() as session:
        job = session.get(ImportJob, view.id)
        return (
            job is not None
            and job.status == JobStatus.RUNNING
            and job.started_at is not None
            and _utc(job.started_at) == view.started_at
        )


def job_views(registry: Registry, views: Iterable[JobView]) -> list[JobView]:
    """``views`` with every ``running`` job whose owner is gone shown as failed."""
    shown = []
    for view in views:
        if (
            view.status == JobStatus.RUNNING
            and not lease_held(registry, view.id)
            and _still_running(registry, view)
        ):
            view = _interrupted(view)
        shown.append(view)
    return shown


def list_jobs(registry: Registry, *, limit: int = 50, offset: int = 0) -> tuple[list[JobView], int]:
    """The newest import jobs first (``limit`` from ``offset``) and how many there are."""
    with registry.reading() as session:
        total = session.scalar(select(func.count()).select_from(ImportJob)) or 0
        started = func.coalesce(ImportJob.started_at, ImportJob.finished_at)
        jobs = session.scalars(
            select(ImportJob)
            .order_by(started.desc(), ImportJob.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        views = [_view(job) for job in jobs]
    return job_views(registry, views), total


def _tables_written(session: Session, job_id: int) -> list[tuple[str, int]]:
    summary = session.scalar(
        select(AuditEntry.new_value)
        .where(
            AuditEntry.action == "import",
            AuditEntry.entity == "import_job",
            AuditEntry.entity_id == str(job_id),
        )
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )
    try:
        rows = json.loads(summary or "{}").get("rows", {})
    except (ValueError, AttributeError):
        return []
    return [(str(name), int(n)) for name, n in rows.items()] if isinstance(rows, dict) else []


def get_job(registry: Registry, job_id: int) -> JobView:
    """One import job, with the rows it wrote per table when it is done.

    Raises
    ------
    NotFoundError
        No job has this id.
    """
    with registry.reading() as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            raise NotFoundError("import job", str(job_id))
        tables = _tables_written(session, job_id) if job.status == JobStatus.DONE else []
        view = _view(job, tables)
    return job_views(registry, [view])[0]
