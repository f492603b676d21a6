"""Imports started from the web: the upload kept on disk, the job run in the background.

An upload is copied into a private temporary directory under its own (sanitised) file
name — the importer reads the table from a CSV file's name — and checked there
(:func:`mrdtrack.registry.importer.start_import`: extension, magic bytes, ZIP directory,
then the job recorded as ``running``) before the request returns; the long part (every
row checked, every row written in one transaction) runs in a background thread of this
server process, and the directory is removed when it ends.

**One server process is the deployment model** (``mrdtrack serve`` runs one uvicorn
worker; sessions and login counters live in that process too). The progress of a
running import — its phase and rows done of rows in all — is therefore kept in this
process's memory, keyed by job id (:meth:`ImportRunner.progress`): on SQLite the
import's data transaction holds the registry's write lock until it commits, so progress
cannot be written to the job's row while it runs. The job's *status* lives in the
registry (:mod:`mrdtrack.registry.jobs`): if the server dies mid-import, the progress
goes with it, no row of the file is left behind, and the job shows as failed
("interrupted") from then on.

At most :data:`IMPORT_WORKERS` imports run at once (the others wait, phase ``queued``):
on SQLite the writes queue for one lock anyway, and the checks are CPU-bound.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from mrdtrack.errors import InputError, MrdtrackError
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import Registry
from mrdtrack.registry.importer import ImportReport, PendingImport, start_import
from mrdtrack.web.middleware import log_event

__all__ = [
    "DATA_SUFFIXES",
    "IMPORT_WORKERS",
    "MAPPING_SUFFIXES",
    "ImportRunner",
    "Phase",
    "Progress",
    "Started",
    "Upload",
    "UploadTooLargeError",
    "safe_filename",
    "store_upload",
]

IMPORT_WORKERS = 2
"""Imports that run at the same time in one server process (the rest are queued)."""
DATA_SUFFIXES = (".csv", ".xlsx", ".zip")
"""Extensions of an uploaded data file (the importer's; REDCap exports are .csv)."""
MAPPING_SUFFIXES = (".yaml", ".yml")
"""Extensions of an uploaded REDCap mapping."""

_CHUNK = 1 << 20
_NAME_MAX = 120
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")

import_log = logging.getLogger("mrdtrack.web.imports")


class Phase(StrEnum):
    """Where a running import is."""

    QUEUED = "queued"
    READING = "reading"
    CHECKING = "checking"
    WRITING = "writing"


_PHASES = {"read": Phase.READING, "check": Phase.CHECKING, "write": Phase.WRITING}


@dataclass(frozen=True, slots=True)
class Progress:
    """A running import's phase and rows done of ``total`` (0 while unknown)."""

    phase: Phase
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> int | None:
        """Percent done within the phase, when its total is known."""
        if self.total <= 0:
            return None
        return min(100, round(100 * self.done / self.total))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "phase": self.phase.value,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
        }


class UploadTooLargeError(MrdtrackError):
    """An uploaded file is larger than the upload limit (HTTP 413)."""


def safe_filename(name: str | None, field: str, suffixes: tuple[str, ...]) -> str:
    """The base name of an uploaded file, in letters, digits, ``. _ -`` and spaces.

    Raises
    ------
    InputError
        No file was chosen, or its extension is not one of ``suffixes``.
    """
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    if not base:
        raise InputError(field, None, f"a file ({', '.join(suffixes)}): choose one")
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in suffixes:
        raise InputError(
            field,
            base[:80],
            f"a {', '.join(suffixes[:-1])} or {suffixes[-1]} file",
            "a cohort file is CSV (named after its table, e.g. patients.csv), an XLSX workbook "
            "with one sheet per table, or a ZIP of CSV files",
        )
    stem = _UNSAFE_NAME.sub("_", stem).strip(" .") or "upload"
    return stem[: _NAME_MAX - len(suffix)] + suffix


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file (and REDCap mapping) in a private temporary directory."""

    directory: Path
    path: Path
    mapping: Path | None = None

    def discard(self) -> None:
        """Remove the directory and the files in it."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _copy(source: BinaryIO, target: Path, budget: int) -> int:
    written = 0
    with target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise UploadTooLargeError("upload")
            out.write(chunk)
    return written


def store_upload(
    data: BinaryIO,
    filename: str,
    *,
    limit_bytes: int,
    mapping: BinaryIO | None = None,
    mapping_name: str | None = None,
) -> Upload:
    """Copy an upload (and its mapping) into a new private directory, within ``limit_bytes``.

    Raises
    ------
    UploadTooLargeError
        The files hold more than ``limit_bytes`` together (nothing is kept).
    """
    directory = Path(tempfile.mkdtemp(prefix="mrdtrack-upload-"))
    try:
        path = directory / filename
        used = _copy(data, path, limit_bytes)
        mapping_path = None
        if mapping is not None and mapping_name is not None:
            mapping_path = directory / "mapping" / mapping_name
            mapping_path.parent.mkdir()
            _copy(mapping, mapping_path, limit_bytes - used)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return Upload(directory, path, mapping_path)


@dataclass(frozen=True, slots=True)
class Started:
    """What :meth:`ImportRunner.start` did: the job's id, or the earlier job's."""

    job_id: int
    already_imported: bool


class ImportRunner:
    """Runs uploaded imports in background threads and keeps their progress in memory."""

    def __init__(
        self, registry: Registry, clock: Callable[[], datetime], *, workers: int = IMPORT_WORKERS
    ) -> None:
        self.registry = registry
        self.clock = clock
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._progress: dict[int, Progress] = {}

    def progress(self, job_id: int) -> Progress | None:
        """The progress of a job running in this process (``None`` otherwise)."""
        with self._lock:
            return self._progress.get(job_id)

    def _set(self, job_id: int, progress: Progress | None) -> None:
        with self._lock:
            if progress is None:
                self._progress.pop(job_id, None)
            else:
                self._progress[job_id] = progress

    def start(
        self, upload: Upload, actor: AuditActor, *, table: str | None, today: date
    ) -> Started:
        """Check the file's type and record the job (here), then import it in the background.

        The upload belongs to the runner from here on: it is removed when the import
        ends, or at once when the file was imported before or is refused.

        Raises
        ------
        ImportFileError
            The file's type is wrong (no job recorded), or
            :class:`~mrdtrack.registry.jobs.ImportBusyError`: it is being imported now.
        """
        try:
            started = start_import(
                self.registry, upload.path, actor, table=table, mapping=upload.mapping, today=today
            )
        except BaseException:
            upload.discard()
            raise
        if isinstance(started, ImportReport):
            upload.discard()
            return Started(started.job_id, already_imported=True)
        self._set(started.job_id, Progress(Phase.QUEUED))
        worker = threading.Thread(
            target=self._run,
            args=(started, upload),
            name=f"mrdtrack-import-{started.job_id}",
            daemon=True,  # a server that stops mid-import leaves an interrupted job, no rows
        )
        try:
            worker.start()
        except RuntimeError:
            started.abandon("the server could not start the import: import the file again")
            self._set(started.job_id, None)
            upload.discard()
            raise
        log_event(import_log, self.clock, "import", job=started.job_id, outcome="started")
        return Started(started.job_id, already_imported=False)

    def _run(self, pending: PendingImport, upload: Upload) -> None:
        job_id = pending.job_id

        def progress(stage: str, done: int, total: int) -> None:
            self._set(job_id, Progress(_PHASES.get(stage, Phase.CHECKING), done, total))

        outcome, error = "done", None
        try:
            with self._slots:
                progress("read", 0, 0)
                pending.run(progress)
        except MrdtrackError:
            outcome = "failed"  # recorded in the job with its problems
        except Exception as unexpected:
            # Recorded in the job as an internal error; the log names the type only,
            # since the message may quote the file's values.
            outcome, error = "failed", type(unexpected).__name__
        finally:
            upload.discard()
            self._set(job_id, None)
        log_event(import_log, self.clock, "import", job=job_id, outcome=outcome, error=error)
