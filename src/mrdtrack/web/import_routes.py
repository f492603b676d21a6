"""The import pages and their API twins: upload a cohort file, follow its job, read its report.

* ``GET /imports`` — the upload form and the import jobs, newest first (a job whose
  process died shows as failed, "interrupted"; reliability goal 1);
* ``POST /imports`` (multipart: ``file``, optional ``table``, REDCap ``mapping`` and
  ``reason``) — stores the file, checks its type (the magic bytes must match the
  extension, goal 23; 422 otherwise, nothing recorded), records the job as running and
  imports it in the background (:mod:`mrdtrack.web.import_jobs`), then 303 to the job;
  uploads above the server's request limit (``WebSettings.max_upload_bytes``) get 413;
* ``GET /imports/{job_id}`` — the job: progress while it runs (refreshed by
  ``/static/imports.js``, which polls the JSON twin; no inline script), then the
  validation report — every problem with its file, sheet, row, column, value and what
  is expected, nothing written — or the rows written per table;
* ``GET /api/v1/imports``, ``GET /api/v1/imports/{job_id}``, ``POST /api/v1/imports``.

The cohort import (CSV, ZIP of CSV, XLSX, REDCap export with its mapping) is offered;
lab instrument files go through ``mrdtrack lab run … --manifest … --db …`` (a batch
with its manifest). Importing writes every site's data, so only accounts of the whole registry
(no site) may import or see imports, with :data:`~mrdtrack.web.policy.Action.IMPORT_RUN`.
The audit trail names the signed-in user, with the form's reason or "import of <file>".

The HTML form posts ``multipart/form-data``, whose CSRF token the session gate reads
from the ``X-CSRF-Token`` header only: ``imports.js`` sends the form with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack.errors import InputError, PermissionDeniedError
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.jobs import ImportBusyError, JobStatus, JobView, get_job, list_jobs
from mrdtrack.registry.rowchecks import TABLES
from mrdtrack.registry.tabular import ImportFileError, ImportProblem
from mrdtrack.web.api import BODY_TOO_LARGE, Problem, success
from mrdtrack.web.context import WebContext, authorize, render, today, web_context
from mrdtrack.web.import_jobs import (
    DATA_SUFFIXES,
    MAPPING_SUFFIXES,
    ImportRunner,
    Progress,
    Upload,
    UploadTooLargeError,
    safe_filename,
    store_upload,
)
from mrdtrack.web.policy import Action
from mrdtrack.web.security import Principal

__all__ = ["PAGE_SIZE", "UPLOAD_PATHS", "api_router", "import_runner", "page_router"]

UPLOAD_PATHS = frozenset({"/imports", "/api/v1/imports"})
"""The routes whose bodies may be as large as ``WebSettings.max_upload_bytes``."""

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["mrdtrack"])

PAGE_SIZE = 50
"""Import jobs per page of the list."""

_RUNNER_LOCK = threading.Lock()


def import_runner(request: Request) -> ImportRunner:
    """The application's :class:`ImportRunner` (made on first use, one per application)."""
    state = request.app.state
    with _RUNNER_LOCK:
        runner: ImportRunner | None = getattr(state, "import_runner", None)
        if runner is None:
            context = web_context(request)
            runner = ImportRunner(context.registry, context.settings.clock)
            state.import_runner = runner
    return runner


Context = Annotated[WebContext, Depends(web_context)]
Importer = Annotated[Principal, Depends(authorize(Action.IMPORT_RUN))]
Runner = Annotated[ImportRunner, Depends(import_runner)]
JobId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
UploadedFile = Annotated[UploadFile | None, File(description="A .csv, .xlsx or .zip file.")]
MappingFile = Annotated[
    UploadFile | None, File(description="With a REDCap export: its mapping (.yaml).")
]
TableField = Annotated[
    str, Form(max_length=64, description="The table of a CSV file not named <table>.csv.")
]
ReasonField = Annotated[
    str, Form(max_length=200, description="Why (audited); default: import of <file name>.")
]


def _whole_registry(principal: Principal) -> None:
    if principal.site_id is not None:
        raise PermissionDeniedError(
            "an import writes the data of every site: ask a data manager or administrator "
            "whose account is not limited to one site"
        )


def _stored(
    context: WebContext, file: UploadFile | None, mapping: UploadFile | None, table: str
) -> tuple[Upload, str | None]:
    """The upload on disk, and the table of a CSV file (both checked)."""
    if file is None or not file.filename:
        raise InputError("file", None, "a file to import (.csv, .xlsx or .zip): choose one")
    name = safe_filename(file.filename, "file", DATA_SUFFIXES)
    chosen = table.strip().lower() or None
    if chosen is not None and chosen not in TABLES:
        raise InputError("table", table[:64], f"one of: {', '.join(TABLES)}")
    if mapping is None or not mapping.filename:
        upload = store_upload(file.file, name, limit_bytes=context.settings.max_upload_bytes)
        return upload, chosen
    mapping_name = safe_filename(mapping.filename, "mapping", MAPPING_SUFFIXES)
    upload = store_upload(
        file.file,
        name,
        limit_bytes=context.settings.max_upload_bytes,
        mapping=mapping.file,
        mapping_name=mapping_name,
    )
    return upload, chosen


def _too_large(context: WebContext) -> HTTPException:
    limit = context.settings.max_upload_bytes
    return HTTPException(413, f"the file is larger than the upload limit ({limit:,} bytes)")


def _start(
    context: WebContext,
    runner: ImportRunner,
    principal: Principal,
    file: UploadFile | None,
    mapping: UploadFile | None,
    table: str,
    reason: str,
) -> tuple[int, bool]:
    try:
        upload, chosen = _stored(context, file, mapping, table)
    except UploadTooLargeError:
        raise _too_large(context) from None
    actor = AuditActor(
        user=principal.username,
        reason=reason.strip() or f"import of {upload.path.name}",
        clock=context.settings.clock,
    )
    started = runner.start(upload, actor, table=chosen, today=today(context))
    return started.job_id, started.already_imported


# ---------------------------------------------------------------- pages


def _imports_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    runner: ImportRunner,
    *,
    offset: int = 0,
    values: dict[str, str] | None = None,
    error: InputError | None = None,
    status_code: int = 200,
) -> Response:
    jobs, total = list_jobs(context.registry, limit=PAGE_SIZE, offset=offset)
    return render(
        request,
        "imports.html",
        {
            "jobs": [(job, runner.progress(job.id)) for job in jobs],
            "total": total,
            "offset": offset,
            "limit": PAGE_SIZE,
            "tables": TABLES,
            "values": values or {},
            "error": error,
            "problems": error.problems if isinstance(error, ImportFileError) else (),
            "max_bytes": context.settings.max_upload_bytes,
        },
        status_code=status_code,
        principal=principal,
    )


@page_router.get("/imports")
def imports_page(
    request: Request, context: Context, principal: Importer, runner: Runner, offset: Offset = 0
) -> Response:
    """The upload form and the import jobs, newest first."""
    _whole_registry(principal)
    return _imports_page(request, context, principal, runner, offset=offset)


@page_router.post("/imports")
def imports_submit(
    request: Request,
    context: Context,
    principal: Importer,
    runner: Runner,
    file: UploadedFile = None,
    mapping: MappingFile = None,
    table: TableField = "",
    reason: ReasonField = "",
) -> Response:
    """Store the upload, record its job and import it in the background; 303 to the job."""
    _whole_registry(principal)
    try:
        job_id, already = _start(context, runner, principal, file, mapping, table, reason)
    except ImportBusyError as busy:
        return RedirectResponse(f"/imports/{busy.job_id}?busy=1", 303)
    except InputError as refused:
        values = {"table": table, "reason": reason}
        return _imports_page(
            request, context, principal, runner, values=values, error=refused, status_code=422
        )
    return RedirectResponse(f"/imports/{job_id}{'?already=1' if already else ''}", 303)


@dataclass(frozen=True, slots=True)
class Report:
    """A failed job's problems as the page shows them: by file, sheet and row."""

    problems: tuple[ImportProblem, ...]
    by_file: bool
    by_sheet: bool


def _report(job: JobView) -> Report | None:
    if job.error is None or not job.error.problems:
        return None
    problems = tuple(sorted(job.error.problems, key=lambda p: (p.file, p.sheet or "", p.row or 0)))
    files = {p.file for p in problems}
    return Report(problems, files != {job.filename}, any(p.sheet for p in problems))


@page_router.get("/imports/{job_id}")
def import_job_page(
    request: Request,
    context: Context,
    principal: Importer,
    runner: Runner,
    job_id: JobId,
    already: bool = False,
    busy: bool = False,
) -> Response:
    """One job: its progress while it runs, then its validation report or what it wrote."""
    _whole_registry(principal)
    job = get_job(context.registry, job_id)
    progress = runner.progress(job_id) if job.status == JobStatus.RUNNING else None
    return render(
        request,
        "import_job.html",
        {
            "job": job,
            "progress": progress,
            "report": _report(job),
            "already": already,
            "busy": busy,
        },
        principal=principal,
    )


# ---------------------------------------------------------------- JSON API


class ImportProblemOut(BaseModel):
    """One problem of a refused file, located as precisely as the file allows."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    reason: str


class ImportErrorOut(BaseModel):
    """Why a job failed: the message; for a refused file, its problems (the first 1,000)."""

    message: str
    total: int
    problems: list[ImportProblemOut]


class ImportProgressOut(BaseModel):
    """A running job's phase (queued, reading, checking, writing) and rows done."""

    phase: str
    done: int
    total: int
    percent: int | None


class ImportJobOut(BaseModel):
    """An import job; ``status`` failed with ``interrupted`` true: its process died."""

    id: int
    filename: str
    kind: str
    actor: str
    status: str
    interrupted: bool
    started_at: str | None
    finished_at: str | None
    rows: int | None
    sha256: str
    tables: dict[str, int]
    error: ImportErrorOut | None
    progress: ImportProgressOut | None


class ImportJobListOut(BaseModel):
    """One page of import jobs, newest first."""

    total: int
    offset: int
    limit: int
    jobs: list[ImportJobOut]


class ImportStartedOut(BaseModel):
    """A started import (202), or the earlier job of a file imported before (200)."""

    job_id: int
    status: str
    already_imported: bool
    url: str


class ImportBusyOut(Problem):
    """409: the same file is being imported now, by the job ``job_id``."""

    job_id: int


def _job_json(job: JobView, progress: Progress | None) -> dict[str, Any]:
    return {**job.to_dict(), "progress": None if progress is None else progress.to_dict()}


@api_router.get(
    "/imports",
    response_model=None,
    responses=success(ImportJobListOut, "One page of import jobs, newest first."),
)
def api_imports(
    context: Context,
    principal: Importer,
    runner: Runner,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> dict[str, Any]:
    """The import jobs, newest first (a job whose process died shows as failed)."""
    _whole_registry(principal)
    jobs, total = list_jobs(context.registry, limit=limit, offset=offset)
    rows = [_job_json(job, runner.progress(job.id)) for job in jobs]
    return {"total": total, "offset": offset, "limit": limit, "jobs": rows}


@api_router.get(
    "/imports/{job_id}",
    response_model=None,
    responses=success(ImportJobOut, "The job, its progress and its report."),
)
def api_import_job(
    context: Context, principal: Importer, runner: Runner, job_id: JobId
) -> dict[str, Any]:
    """One import job: progress while it runs, then its problems or rows per table."""
    _whole_registry(principal)
    job = get_job(context.registry, job_id)
    progress = runner.progress(job_id) if job.status == JobStatus.RUNNING else None
    return _job_json(job, progress)


@api_router.post(
    "/imports",
    status_code=202,
    response_model=None,
    responses={
        **success(ImportStartedOut, "The import runs: follow it at `url`.", 202),
        **success(ImportStartedOut, "The file was imported before: nothing was done."),
        409: {"model": ImportBusyOut, "description": "The same file is being imported now."},
        **BODY_TOO_LARGE,
    },
)
def api_import_start(
    context: Context,
    principal: Importer,
    runner: Runner,
    file: UploadedFile = None,
    mapping: MappingFile = None,
    table: TableField = "",
    reason: ReasonField = "",
) -> JSONResponse:
    """Upload a cohort file (multipart) and import it in the background."""
    _whole_registry(principal)
    try:
        job_id, already = _start(context, runner, principal, file, mapping, table, reason)
    except ImportBusyError as busy:
        return JSONResponse({"detail": busy.message, "job_id": busy.job_id}, status_code=409)
    body = {
        "job_id": job_id,
        "status": JobStatus.DONE.value if already else JobStatus.RUNNING.value,
        "already_imported": already,
        "url": f"/api/v1/imports/{job_id}",
    }
    return JSONResponse(body, status_code=200 if already else 202)
