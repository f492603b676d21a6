"""The application factory: :func:`create_app` wires the registry, security and routes.

Nothing happens at import time: the registry, templates, protocols and static files
are opened when :func:`create_app` runs. The errors of :mod:`mrdtrack.errors` become
HTTP statuses here and only here — ``InputError`` 422, ``NotFoundError`` 404,
``PermissionDeniedError`` 403, a signed-out session 401 (API) or a redirect to the
login page — as an HTML page or, under ``/api/``, as ``{"detail": …}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import date
from functools import cache
from types import MappingProxyType
from typing import cast

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack import __version__
from mrdtrack.errors import InputError, NotFoundError, PermissionDeniedError
from mrdtrack.mrd import format_fraction, format_percent
from mrdtrack.protocols import Protocol, load_shipped_protocols
from mrdtrack.registry.database import open_registry
from mrdtrack.therapy import format_mcg
from mrdtrack.web import admin_routes, api, auth, cohort_routes, cycle_routes, entry_routes, pages
from mrdtrack.web import import_routes as imports
from mrdtrack.web.config import WebSettings
from mrdtrack.web.context import (
    SetupRequiredError,
    SignedOutError,
    WebContext,
    render,
    setup_required_response,
)
from mrdtrack.web.mfa import EnrolmentOffers, PendingLogins, TotpVerifier
from mrdtrack.web.middleware import CookieNames, ResponseGuard, SessionGate
from mrdtrack.web.security import (
    LoginThrottle,
    PasswordHashing,
    SessionStore,
    load_breached_passwords,
)

__all__ = ["create_app", "template_environment"]


def _fraction(value: float | None) -> str:
    return "—" if value is None else format_fraction(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def _label(value: object) -> str:
    return str(value).replace("_", " ")


_CATEGORY_NAMES = {
    "mrd_cr": "MRD CR",
    "mrd_failure": "MRD failure",
    "mrd_intermediate": "MRD intermediate",
    "not_evaluable": "not evaluable",
}


def _category(value: object) -> str:
    return _CATEGORY_NAMES.get(str(value), _label(value))


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def template_environment() -> Environment:
    """The Jinja2 environment: package templates, autoescaping on, undefined is an error."""
    environment = Environment(
        loader=PackageLoader("mrdtrack.web", "templates"),
        # The templates ship with the package: no file-change check on every render.
        auto_reload=False,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        fraction=_fraction,
        percent=_percent,
        mcg=format_mcg,
        label=_label,
        shown=_shown,
        category=_category,
    )
    environment.globals["version"] = __version__
    return environment


@cache
def _shipped_protocols() -> Mapping[str, Protocol]:
    # Package data that never changes while the process runs: read once, on first use.
    return MappingProxyType({p.id: p for p in load_shipped_protocols()})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem(request: Request, status: int, message: str, field: str | None = None) -> Response:
    if _is_api(request):
        body: dict[str, object] = {"detail": message}
        if field is not None:
            body["field"] = field
        return JSONResponse(body, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def _install_error_handlers(app: FastAPI, context: WebContext) -> None:
    async def input_error(request: Request, error: Exception) -> Response:
        field = cast(InputError, error).field
        return _problem(request, 422, str(error), field)

    async def not_found(request: Request, error: Exception) -> Response:
        return _problem(request, 404, str(error))

    async def denied(request: Request, error: Exception) -> Response:
        return _problem(request, 403, str(error))

    async def signed_out(request: Request, error: Exception) -> Response:
        if _is_api(request):
            return _problem(request, 401, str(error))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(context.cookies.session, path="/", secure=context.cookies.secure)
        return response

    async def http_error(request: Request, error: Exception) -> Response:
        http = cast(HTTPException, error)
        messages = {404: "There is no such page.", 405: "This page does not accept that method."}
        return _problem(request, http.status_code, messages.get(http.status_code, http.detail))

    async def invalid_request(request: Request, error: Exception) -> Response:
        problems = cast(RequestValidationError, error).errors()
        if _is_api(request):
            return JSONResponse({"detail": jsonable_encoder(problems)}, status_code=422)
        fields = ", ".join(str(e["loc"][-1]) for e in problems)
        return _problem(request, 422, f"Invalid request parameter: {fields}.")

    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(PermissionDeniedError, denied)
    app.add_exception_handler(SignedOutError, signed_out)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


def create_app(registry_url: str, *, settings: WebSettings | None = None) -> FastAPI:
    """The web application over the registry at ``registry_url``.

    The registry must exist (``mrdtrack init`` or ``mrdtrack demo``); it is opened here
    and its connections closed at shutdown. Run it with one server process: sessions and
    login counters are held in this process.
    """
    chosen = settings or WebSettings()
    corpus = chosen.breached_passwords_file
    breached = frozenset() if corpus is None else load_breached_passwords(corpus)
    registry = open_registry(registry_url)
    clock = chosen.clock
    context = WebContext(
        registry=registry,
        settings=chosen,
        sessions=SessionStore(clock, chosen.idle_timeout, chosen.absolute_timeout),
        throttle=LoginThrottle(
            clock,
            failures=chosen.lockout_failures,
            window=chosen.lockout_window,
            lockout=chosen.lockout_duration,
            attempts_per_minute=chosen.login_attempts_per_minute,
        ),
        hashing=PasswordHashing(),
        protocols=_shipped_protocols(),
        templates=Jinja2Templates(env=template_environment()),
        cookies=CookieNames(secure=chosen.secure_cookies),
        pending_logins=PendingLogins(clock),
        totp=TotpVerifier(clock),
        enrolment_offers=EnrolmentOffers(clock),
        breached_passwords=breached,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = chosen.request_threads
        yield
        registry.dispose()

    app = FastAPI(
        title="mrdtrack",
        version=__version__,
        summary="MRD-guided immunotherapy of B-ALL: registry, MRD engine, protocols.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None if chosen.production else "/api/v1/openapi.json",
        lifespan=lifespan,
        responses=api.API_ERRORS,  # the error bodies of _install_error_handlers, documented
    )
    app.state.web = context
    app.include_router(auth.router)
    # Before the pages: "/patients/new" must not be read as the patient "new".
    app.include_router(entry_routes.page_router)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(entry_routes.api_router)
    app.include_router(cycle_routes.router)
    app.include_router(cohort_routes.router)
    app.include_router(admin_routes.page_router)
    app.include_router(admin_routes.api_router)
    app.include_router(imports.page_router)
    app.include_router(imports.api_router)
    app.mount("/static", StaticFiles(packages=[("mrdtrack.web", "static")]), name="static")
    _install_error_handlers(app, context)
    app.add_exception_handler(SetupRequiredError, setup_required_response)
    # add_middleware puts each one outside the previous: the guard wraps the gate.
    app.add_middleware(
        SessionGate,
        sessions=context.sessions,
        cookies=context.cookies,
        max_body_bytes=chosen.max_form_bytes,
        clock=clock,
        pending=context.pending_logins,
        upload_paths=imports.UPLOAD_PATHS,
        max_upload_bytes=chosen.max_upload_bytes,
    )
    app.add_middleware(ResponseGuard, clock=clock)
    return app
