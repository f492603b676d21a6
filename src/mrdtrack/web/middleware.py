"""The two ASGI middlewares every request passes: the response guard and the session gate.

:class:`ResponseGuard` (outermost) puts the security headers on every response — pages,
API, static files, redirects, 404 and 500 alike (reliability goal 18) — turns an
unexpected exception into a generic 500 without a stack trace (goal 27), and writes one
JSON access-log line per request naming the route *template* (``/patients/{study_id}``),
never the path, the query or a body, so that no patient data reaches the logs.

:class:`SessionGate` denies by default (goals 10 and 17): a request without a live
session gets 401 (API) or a redirect to the login page, unless it is for ``/health``,
``/login`` or a static asset; every POST, PUT, PATCH and DELETE must carry the CSRF
token of its session (the ``csrf_token`` form field or the ``X-CSRF-Token`` header) and
is refused when the browser says it is cross-site (``Sec-Fetch-Site: cross-site``).
The login form, which has no session yet, uses a token held in a short-lived cookie
instead (double submit). The second sign-in step (``/login/mfa``) is open to a *pending
login* — a correct password awaiting its TOTP code (:mod:`mrdtrack.web.mfa`) — and to
nothing else without a session; its form carries the pending login's own CSRF token.
What a signed-in account may reach while it must still change its one-time password or
set up its second factor is decided per route, by :func:`mrdtrack.web.context.authorize`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrdtrack.web.mfa import MFA_STEP_PATH, PendingLogins
from mrdtrack.web.security import SessionStore, tokens_match

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PUBLIC_PATHS",
    "STATIC_PREFIX",
    "CookieNames",
    "ResponseGuard",
    "SessionGate",
    "log_event",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_HSTS = "max-age=31536000; includeSubDomains"
PUBLIC_PATHS = frozenset({"/health", "/login"})
STATIC_PREFIX = "/static/"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

access_log = logging.getLogger("mrdtrack.web.access")
security_log = logging.getLogger("mrdtrack.web.security")
error_log = logging.getLogger("mrdtrack.web.error")


def log_event(
    logger: logging.Logger, clock: Callable[[], datetime], event: str, **fields: Any
) -> None:
    """One JSON log line: UTC time, event, and the given fields (never patient data)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    record = {"at_utc": clock().isoformat(timespec="milliseconds"), "event": event, **fields}
    logger.info(json.dumps(record, ensure_ascii=False, default=str))


def _is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


def _error_response(scope: Scope, status: int, message: str) -> Response:
    if _is_api(scope):
        return JSONResponse({"detail": message}, status_code=status)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{status}</title></head><body><h1>{status}</h1><p>{message}</p>"
        '<p><a href="/patients">Back to mrdtrack</a></p></body></html>'
    )
    return HTMLResponse(page, status_code=status)


class ResponseGuard:
    """Security headers on every response, generic 500s, and a PHI-free access log."""

    def __init__(self, app: ASGIApp, *, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def guarded_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers[name] = value
                if scope.get("scheme") == "https":
                    headers["strict-transport-security"] = _HSTS
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as error:
            # The exception's message may quote registry values: log its type and frames.
            route = getattr(scope.get("route"), "path", None)
            log_event(
                error_log,
                self.clock,
                "error",
                route=route,
                error=type(error).__name__,
                frames="".join(traceback.format_tb(error.__traceback__)),
            )
            if response_started:
                raise
            message = "Something went wrong on the server; the error has been logged."
            await _error_response(scope, 500, message)(scope, receive, guarded_send)
        finally:
            route = getattr(scope.get("route"), "path", None)
            log_event(
                access_log,
                self.clock,
                "request",
                method=scope.get("method"),
                route=route if route is not None else "(unmatched)",
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )


@dataclass(frozen=True, slots=True)
class CookieNames:
    """The session and login-form cookie names and whether they are Secure."""

    secure: bool

    @property
    def session(self) -> str:
        """``__Host-mrdtrack`` (Secure, host-only, path /) or ``mrdtrack`` for http tests."""
        return "__Host-mrdtrack" if self.secure else "mrdtrack"

    @property
    def login(self) -> str:
        """The login form's double-submit cookie."""
        return "__Host-mrdtrack-login" if self.secure else "mrdtrack-login"

    @property
    def mfa(self) -> str:
        """The pending login's cookie (password accepted, TOTP code awaited)."""
        return "__Host-mrdtrack-mfa" if self.secure else "mrdtrack-mfa"


def _safe_next(path: str, query: str) -> str:
    target = path + (f"?{query}" if query else "")
    return "/login?next=" + quote(target, safe="/")


class SessionGate:
    """Deny by default: a live session for every non-public route, CSRF on every write."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: SessionStore,
        cookies: CookieNames,
        max_body_bytes: int,
        clock: Callable[[], datetime],
        pending: PendingLogins | None = None,
        upload_paths: frozenset[str] = frozenset(),
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.cookies = cookies
        self.max_body_bytes = max_body_bytes
        self.upload_paths = upload_paths
        self.max_upload_bytes = max(max_upload_bytes, max_body_bytes)
        self.clock = clock
        self.pending = pending

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        path = connection.url.path
        token = connection.cookies.get(self.cookies.session)
        session = self.sessions.get(token)
        state = scope.setdefault("state", {})
        state["web_session"] = session
        state["session_token"] = token if session is not None else None
        pending = None
        if path == MFA_STEP_PATH and self.pending is not None:
            pending = self.pending.get(connection.cookies.get(self.cookies.mfa))
        state["pending_login"] = pending
        public = path in PUBLIC_PATHS or path.startswith(STATIC_PREFIX) or pending is not None
        method = scope["method"]
        if session is None and not public:
            if _is_api(scope):
                await _error_response(scope, 401, "sign in first")(scope, receive, send)
            elif method in {"GET", "HEAD"}:
                query = scope.get("query_string", b"").decode("latin-1")
                await RedirectResponse(_safe_next(path, query), 303)(scope, receive, send)
            else:
                await RedirectResponse("/login", 303)(scope, receive, send)
            return
        if method not in _UNSAFE:
            await self.app(scope, receive, send)
            return
        refusal = None
        if connection.headers.get("sec-fetch-site") == "cross-site":
            refusal = "cross-site request refused"
        limit = self.max_upload_bytes if path in self.upload_paths else self.max_body_bytes
        body = await _read_body(receive, limit)
        if body is None:
            await _error_response(scope, 413, "request body too large")(scope, receive, send)
            return
        if refusal is None:
            if path == "/login":
                expected = connection.cookies.get(self.cookies.login)
            elif pending is not None:
                expected = pending.csrf_token
            else:
                expected = None if session is None else session.csrf_token
            if not tokens_match(expected, _csrf_token(connection, body)):
                refusal = "missing or wrong CSRF token: reload the page and submit the form again"
        if refusal is not None:
            log_event(
                security_log,
                self.clock,
                "csrf",
                user=None if session is None else session.principal.username,
                outcome="refused",
                reason=refusal.split(":")[0],
            )
            await _error_response(scope, 403, refusal)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _csrf_token(connection: HTTPConnection, body: bytes) -> str | None:
    header = connection.headers.get("x-csrf-token")
    if header:
        return header
    content_type = connection.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == _FORM:
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=200)
        except ValueError:  # more fields than any form of this application has
            return None
        values = fields.get("csrf_token")
        return values[0] if values else None
    if content_type.split(";")[0].strip().lower() == _MULTIPART:
        return _multipart_field(body, content_type, "csrf_token")
    return None


_BOUNDARY = re.compile(r';\s*boundary="?([^";]{1,70})"?', re.IGNORECASE)
_FIELD_NAME = re.compile(rb'\bname="([^"]*)"', re.IGNORECASE)


def _multipart_field(body: bytes, content_type: str, name: str) -> str | None:
    """The text of the multipart part called ``name`` (RFC 7578), or ``None``.

    Only the parts' headers are read until the part is found, so a large file in the
    body is neither copied nor parsed here; the upload itself is parsed by the route.
    """
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None
    delimiter = b"--" + found.group(1).encode("latin-1")
    position = body.find(delimiter)
    while position != -1:
        headers_end = body.find(b"\r\n\r\n", position)
        if headers_end == -1:
            return None
        headers = body[position + len(delimiter) : headers_end]
        value_end = body.find(b"\r\n" + delimiter, headers_end + 4)
        if value_end == -1:
            return None
        named = _FIELD_NAME.search(headers)
        if named is not None and named.group(1) == name.encode():
            value = body[headers_end + 4 : value_end]
            return value.decode("utf-8", "replace") if len(value) <= 256 else None
        position = value_end + 2
    return None
