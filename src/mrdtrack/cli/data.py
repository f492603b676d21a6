"""Tabular data commands: ``import``, ``imports``, ``export`` and ``dictionary``.

``mrdtrack import FILE`` loads a CSV, ZIP or XLSX file (or a REDCap export with
``--mapping``) all-or-nothing; a bad file exits 2 with the first problems (file, sheet,
row, column, value, reason) and their count on stderr, the registry unchanged (the
import job is recorded as failed). ``mrdtrack imports`` lists the import jobs of the
command line, the web application and the lab, newest first; a job whose process died
mid-import shows as failed ("interrupted", reliability goal 1).
``mrdtrack export`` writes CSV or XLSX in one of three privacy modes and audits it;
``mrdtrack dictionary`` prints the data dictionary both commands follow.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from mrdtrack.cli.output import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    JsonFlag,
    emit_json,
    key_value_table,
    stdout_console,
)
from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.dictionary import DICTIONARY, dictionary_json, dictionary_markdown
from mrdtrack.registry.exporter import ExportFormat, export_registry
from mrdtrack.registry.importer import ImportFileError, import_file
from mrdtrack.registry.jobs import JobView, list_jobs
from mrdtrack.registry.privacy import ExportMode
from mrdtrack.registry.schema import init_registry
from mrdtrack.settings import load_settings

__all__ = ["dictionary_command", "export_command", "import_command", "imports_command"]

SHOWN_PROBLEMS = 20
"""Problems of a refused file printed on stderr (the rest are counted)."""

_PROGRESS_FROM_ROWS = 10_000
_STAGE_LABELS = {"read": "reading", "check": "checking", "write": "writing"}

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir)."
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Acting user recorded in the audit trail (default: your login)."),
]


def _registry(db: str | None) -> Registry:
    return open_registry(db or load_settings(os.environ).db_url)


def _actor(user: str | None) -> AuditActor:
    return AuditActor(user=user or f"cli:{getpass.getuser()}")


class _ProgressBar:
    """A Rich progress bar on stderr, shown once a file proves large and stderr is a terminal."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.progress is None:
            if done < _PROGRESS_FROM_ROWS or not self.console.is_terminal:
                return
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
        if stage not in self.tasks:
            label = _STAGE_LABELS.get(stage, stage)
            self.tasks[stage] = self.progress.add_task(label, total=total or None)
        self.progress.update(self.tasks[stage], completed=done, total=total or None)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()


def _report_refusal(error: ImportFileError) -> None:
    lines = [f"error: {error.file}: {error.total} problem(s); nothing was imported"]
    lines += [f"  {problem}" for problem in error.problems[:SHOWN_PROBLEMS]]
    hidden = error.total - min(len(error.problems), SHOWN_PROBLEMS)
    if hidden:
        lines.append(f"  ... and {hidden} more; fix these and import the file again")
    sys.stderr.write("\n".join(" ".join(line.split("\n")) for line in lines) + "\n")


def import_command(
    file: Annotated[Path, typer.Argument(help="A .csv, .zip (of CSV files) or .xlsx file.")],
    table: Annotated[
        str | None,
        typer.Option("--table", help="The table of a CSV file not named <table>.csv."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="A REDCap mapping (YAML): FILE is a REDCap flat export."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Import a file checked against the data dictionary: every row or none, once."""
    registry = _registry(db)
    try:
        init_registry(registry)
        with _ProgressBar() as progress:
            report = import_file(
                registry,
                file,
                _actor(user),
                table=table,
                mapping=mapping,
                today=datetime.now(UTC).date(),
                progress=progress,
            )
    except ImportFileError as refused:
        _report_refusal(refused)
        return EXIT_INPUT_ERROR
    finally:
        registry.dispose()
    status = "already_imported" if report.already_imported else "imported"
    payload = {
        "file": report.file,
        "sha256": report.sha256,
        "kind": report.kind,
        "status": status,
        "job_id": report.job_id,
        "rows": dict(report.rows),
        "total_rows": report.total_rows,
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    shown = [(k, str(v)) for k, v in payload.items() if k != "rows"]
    if report.already_imported:
        shown.append(("note", f"imported before (job {report.job_id}); nothing changed"))
    shown += [(f"rows: {name}", str(n)) for name, n in report.rows.items()]
    stdout_console().print(key_value_table("import", shown))
    return EXIT_OK


def _when(job: JobView) -> str:
    moment = job.started_at or job.finished_at
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _status(job: JobView) -> str:
    if job.interrupted:
        return "interrupted: import again"
    if job.error is None:
        return job.status.value
    if job.error.problems:
        return f"failed: {job.error.total} problem(s)"
    message = job.error.message
    return "failed: " + (message if len(message) <= 60 else message[:57] + "...")


def imports_command(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="How many of the newest jobs.")
    ] = 20,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> int:
    """List import jobs, newest first; an import whose process died shows as failed.

    JSON keys: total, jobs (id, filename, kind, actor, status, interrupted, started_at,
    finished_at, rows, sha256, tables, error with message, total and problems).
    """
    registry = _registry(db)
    try:
        init_registry(registry)
        jobs, total = list_jobs(registry, limit=limit)
    finally:
        registry.dispose()
    if as_json:
        emit_json({"total": total, "jobs": [job.to_dict() for job in jobs]})
        return EXIT_OK
    grid = Table(title=f"import jobs ({len(jobs)} of {total}, newest first)", title_justify="left")
    for heading in ("job", "status", "file", "rows", "by", "started (UTC)"):
        grid.add_column(heading, overflow="fold", no_wrap=heading in {"job", "rows"})
    for job in jobs:
        grid.add_row(
            str(job.id),
            _status(job),
            job.filename,
            "—" if job.rows is None else str(job.rows),
            job.actor,
            _when(job),
        )
    stdout_console().print(grid)
    return EXIT_OK


def export_command(
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")],
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="Why the data leave the registry (audited); mandatory for the "
            "deidentified and pseudonymized modes.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="New file (.xlsx; .zip for CSV) or new directory for CSV "
            "(default: mrdtrack-export-<mode>-<UTC time> here).",
        ),
    ] = None,
    mode: Annotated[
        ExportMode,
        typer.Option(
            "--mode",
            help="full; deidentified (HIPAA Safe Harbor); pseudonymized (dates shifted).",
        ),
    ] = ExportMode.FULL,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Export the registry as CSV or XLSX (formula-safe), audited with its purpose."""
    if purpose is None:
        if mode is not ExportMode.FULL:
            raise InputError(
                "--purpose",
                None,
                f"why the data are exported: mandatory for --mode {mode.value} (it is audited)",
            )
        # A full export is what a user with the database file already holds; the trail
        # still records who exported what, and that no purpose was given.
        purpose = "not stated (full export from the command line)"
    if out is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        suffix = ".xlsx" if format is ExportFormat.XLSX else ".zip"
        out = Path(f"mrdtrack-export-{mode.value}-{stamp}{suffix}")
    registry = _registry(db)
    try:
        report = export_registry(
            registry, out, _actor(user), format=format, mode=mode, purpose=purpose
        )
    finally:
        registry.dispose()
    payload = {
        "path": str(report.path),
        "format": report.format,
        "mode": report.mode,
        "purpose": report.purpose,
        "rows": dict(report.rows),
        "total_rows": report.total_rows,
        "sha256": report.sha256,
    }
    if as_json:
        emit_json(payload)
    else:
        shown = [(k, str(v)) for k, v in payload.items() if k != "rows"]
        shown += [(f"rows: {name}", str(n)) for name, n in report.rows.items()]
        stdout_console().print(key_value_table("export (audited)", shown))
    return EXIT_OK


def dictionary_command(
    as_json: JsonFlag = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/data-dictionary.md's text.")
    ] = False,
) -> int:
    """Print the data dictionary of import and export (tables, columns, types, codes)."""
    if as_json and markdown:
        raise InputError("--markdown", "--json --markdown", "one of --json or --markdown")
    if as_json:
        emit_json(dictionary_json())
        return EXIT_OK
    if markdown:
        sys.stdout.write(dictionary_markdown())
        return EXIT_OK
    console = stdout_console()
    for spec in DICTIONARY:
        grid = Table(title=f"{spec.name}: {spec.description}", title_justify="left")
        for heading in ("column", "type", "unit", "required", "allowed / range", "description"):
            grid.add_column(heading, no_wrap=heading == "column")
        for column in spec.columns:
            allowed = ", ".join(column.allowed) or column.range_text
            flags = " (free text)" if column.free_text else ""
            flags += " (derived, export only)" if column.derived else ""
            grid.add_row(
                column.name,
                column.type.value,
                column.unit or "",
                "yes" if column.required else "",
                allowed,
                column.description + flags,
            )
        console.print(grid)
    return EXIT_OK
