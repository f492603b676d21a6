"""Routes of signing in and out, the account pages, and the health check.

``POST /login`` checks the throttle first (a locked account fails even with the right
password), then the password; success issues a *new* session token (rotation) and
drops any session the browser held. An account with a second factor gets no session
yet: a *pending login* (5 minutes, :mod:`mrdtrack.web.mfa`) opens ``/login/mfa``, whose
correct TOTP code starts the session; a wrong code counts toward the lockout like a
wrong password. Every success, failure, lockout and refusal is a JSON security event
naming the account, never the password or code; each lockout also runs the configured
alert command (goal 15). An account that must still change its one-time password or set
up its second factor starts on that page (:func:`mrdtrack.web.context.authorize` keeps
it there).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.web.accounts import (
    AccountStatus,
    SetupStep,
    account_status,
    authenticate,
    change_password,
    enable_totp,
    required_setup,
    totp_secret_of,
)
from mrdtrack.web.context import (
    SETUP_PAGES,
    WebContext,
    authorize,
    form_fields,
    landing_page,
    render,
    unit_of_work,
    web_context,
)
from mrdtrack.web.mfa import MFA_STEP_PATH, PENDING_LIFETIME, provisioning_uri, qr_svg
from mrdtrack.web.middleware import log_event, security_log
from mrdtrack.web.policy import Action
from mrdtrack.web.security import LoginRefusal, Principal, new_token

__all__ = ["router", "send_lockout_alert"]

router = APIRouter()

Form = Annotated[dict[str, str], Depends(form_fields)]
Context = Annotated[WebContext, Depends(web_context)]
Anyone = Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))]
_LOGIN_FAILED = (
    "Sign-in failed: the username or password is wrong, or the account is locked after "
    "too many attempts (wait 15 minutes)."
)
_CODE_FAILED = (
    "That code is wrong or was already used: enter the current code from your authenticator app."
)
_RATE_LIMITED = "Too many sign-in attempts from this address: wait a minute and try again."
_REHASH_REASON = "password hash upgraded to the current argon2id parameters at sign-in"
_ALERT_TIMEOUT_S = 10
# Lockouts of made-up usernames from many addresses must not fork without bound.
_ALERTS_AT_ONCE = threading.BoundedSemaphore(8)


def _safe_next(target: str | None) -> str | None:
    """A same-site path to return to after login; anything else is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if target.startswith("/login") or any(ord(c) < 32 for c in target):
        return None
    return target


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    """Liveness check: answers without a session and without touching the registry."""
    return {"status": "ok"}


def send_lockout_alert(
    command: tuple[str, ...], event: Mapping[str, Any], clock: Callable[[], datetime]
) -> threading.Thread | None:
    """Run the alert command with ``event`` as JSON on stdin, in a background thread.

    The command gets 10 s; its exit status, a time-out or a failure to start it is
    logged as an ``alert`` security event. Nothing it does reaches the user's request.
    At most 8 run at once; another lockout meanwhile is logged as ``dropped``.
    Returns the thread (``None`` when no command is configured or it was dropped).
    """
    if not command:
        return None
    payload = json.dumps(event, ensure_ascii=False).encode("utf-8")
    program = Path(command[0]).name

    def record(outcome: str, status: int | None) -> None:
        log_event(
            security_log,
            clock,
            "alert",
            alerted=event.get("event"),
            user=event.get("username"),
            program=program,
            outcome=outcome,
            exit_status=status,
        )

    if not _ALERTS_AT_ONCE.acquire(blocking=False):
        record("dropped: 8 alert commands still running", None)
        return None

    def run() -> None:
        try:
            # An argv from the operator's own settings, never a shell line or user input.
            completed = subprocess.run(  # noqa: S603
                list(command),
                input=payload,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=_ALERT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            outcome, status = "timeout", None
        except (OSError, subprocess.SubprocessError, ValueError) as error:
            outcome, status = f"failed: {type(error).__name__}", None
        else:
            status = completed.returncode
            outcome = "sent" if status == 0 else "failed"
        finally:
            _ALERTS_AT_ONCE.release()
        record(outcome, status)

    thread = threading.Thread(target=run, name="mrdtrack-alert", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # the process cannot start another thread now
        _ALERTS_AT_ONCE.release()
        record("failed: no thread", None)
        return None
    return thread


def _count_failure(context: WebContext, username: str, address: str) -> bool:
    """Record a failed sign-in step; on lockout, log it and raise the alert."""
    if not context.throttle.failed(username):
        return False
    clock = context.settings.clock
    log_event(security_log, clock, "lockout", user=username, outcome="locked")
    event = {
        "event": "lockout",
        "username": username,
        "time_utc": clock().isoformat(timespec="seconds"),
        "client_address": address,
    }
    send_lockout_alert(context.settings.alert_command, event, clock)
    return True


def _login_page(
    request: Request, context: Context, *, status: int, error: str | None, next_path: str | None
) -> Response:
    token = request.cookies.get(context.cookies.login) or new_token()
    response = render(
        request,
        "login.html",
        {"login_token": token, "error": error, "next": next_path or ""},
        status_code=status,
    )
    response.set_cookie(
        context.cookies.login,
        token,
        max_age=3600,
        httponly=True,
        secure=context.cookies.secure,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(context.cookies.mfa, path="/", secure=context.cookies.secure)
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, context: Context, next: str | None = None) -> Response:
    """The sign-in form (a signed-in visitor goes straight to their start page)."""
    session = request.state.web_session
    if session is not None:
        return RedirectResponse(_safe_next(next) or landing_page(session.principal.role), 303)
    return _login_page(request, context, status=200, error=None, next_path=_safe_next(next))


def _start_page(
    context: WebContext, status: AccountStatus | None, principal: Principal, next_path: str | None
) -> str:
    if status is not None:
        step = required_setup(
            principal.role,
            must_change_password=status.must_change_password,
            mfa_enrolled=status.mfa_enrolled,
            admin_mfa_required=context.settings.admin_mfa_required,
        )
        if step is not None:
            return SETUP_PAGES[step]
    return next_path or landing_page(principal.role)


def _start_session(
    request: Request, context: WebContext, principal: Principal, target: str
) -> Response:
    """A fresh session (a new token, the browser's old one ended) and a redirect."""
    context.sessions.revoke(request.cookies.get(context.cookies.session))
    token, _ = context.sessions.create(principal)
    response = RedirectResponse(target, 303)
    _set_session_cookie(response, context, token)
    response.delete_cookie(context.cookies.login, path="/", secure=context.cookies.secure)
    response.delete_cookie(context.cookies.mfa, path="/", secure=context.cookies.secure)
    return response


@router.post("/login", include_in_schema=False)
def login(request: Request, context: Context, form: Form) -> Response:
    """Check the credentials; on success start a session, or the second step, and go on."""
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")
    next_path = _safe_next(form.get("next"))
    clock = context.settings.clock
    address = _address(request)
    refusal = context.throttle.admit(username, address)
    result = None
    if refusal is None and username and password:
        with unit_of_work(context, username, _REHASH_REASON) as db:
            result = authenticate(db, context.hashing, username, password)
    if result is None:
        outcome = refusal.value if refusal is not None else "failure"
        log_event(security_log, clock, "login", user=username, outcome=outcome)
        if refusal is None:
            _count_failure(context, username, address)
        status = 429 if refusal is LoginRefusal.RATE_LIMITED else 401
        return _login_page(
            request, context, status=status, error=_LOGIN_FAILED, next_path=next_path
        )
    principal = result.principal
    if result.mfa_enrolled:
        # The failure count stands until the code is right too: a known password
        # must not buy an unlimited number of code guesses.
        context.sessions.revoke(request.cookies.get(context.cookies.session))
        pending = context.pending_logins.create(principal, next_path)
        log_event(
            security_log,
            clock,
            "login",
            user=principal.username,
            outcome="second_factor_required",
            rehashed=result.rehashed,
        )
        response = RedirectResponse(MFA_STEP_PATH, 303)
        response.set_cookie(
            context.cookies.mfa,
            pending,
            max_age=int(PENDING_LIFETIME.total_seconds()),
            httponly=True,
            secure=context.cookies.secure,
            samesite="strict",
            path="/",
        )
        response.delete_cookie(context.cookies.session, path="/", secure=context.cookies.secure)
        response.delete_cookie(context.cookies.login, path="/", secure=context.cookies.secure)
        return response
    context.throttle.succeeded(username)
    log_event(
        security_log,
        clock,
        "login",
        user=principal.username,
        outcome="success",
        rehashed=result.rehashed,
    )
    account = AccountStatus(principal, result.must_change_password, result.mfa_enrolled)
    target = _start_page(context, account, principal, next_path)
    return _start_session(request, context, principal, target)


def _mfa_page(request: Request, *, status: int, error: str | None) -> Response:
    pending = request.state.pending_login
    return render(
        request,
        "login_mfa.html",
        {"step_token": pending.csrf_token, "error": error, "username": pending.principal.username},
        status_code=status,
    )


@router.get(MFA_STEP_PATH, include_in_schema=False)
def login_mfa_form(request: Request) -> Response:
    """The second sign-in step: the code from the authenticator app."""
    if request.state.pending_login is None:  # a signed-in visitor: nothing to do here
        return RedirectResponse("/", 303)
    return _mfa_page(request, status=200, error=None)


@router.post(MFA_STEP_PATH, include_in_schema=False)
def login_mfa(request: Request, context: Context, form: Form) -> Response:
    """Check the TOTP code of a pending login; a correct one starts the session."""
    pending = request.state.pending_login
    if pending is None:
        return RedirectResponse("/", 303)
    clock = context.settings.clock
    principal = pending.principal
    address = _address(request)
    cookie = request.cookies.get(context.cookies.mfa)
    refusal = context.throttle.admit(principal.username, address)
    if refusal is not None:
        log_event(security_log, clock, "login_mfa", user=principal.username, outcome=refusal.value)
        if refusal is LoginRefusal.RATE_LIMITED:
            return _mfa_page(request, status=429, error=_RATE_LIMITED)
        context.pending_logins.revoke(cookie)
        return _login_page(request, context, status=401, error=_LOGIN_FAILED, next_path=None)
    with context.registry.reading() as db:
        secret = totp_secret_of(db, principal.user_id)
    if secret is None:  # disabled, or its second factor was removed, meanwhile
        context.pending_logins.revoke(cookie)
        return _login_page(request, context, status=401, error=_LOGIN_FAILED, next_path=None)
    if not context.totp.verify(principal.user_id, secret, form.get("code", "")[:16]):
        log_event(security_log, clock, "login_mfa", user=principal.username, outcome="failure")
        if _count_failure(context, principal.username, address):
            context.pending_logins.revoke(cookie)
            return _login_page(request, context, status=401, error=_LOGIN_FAILED, next_path=None)
        return _mfa_page(request, status=401, error=_CODE_FAILED)
    context.pending_logins.revoke(cookie)
    with context.registry.reading() as db:
        status = account_status(db, principal.user_id)
    if status is None:
        return _login_page(request, context, status=401, error=_LOGIN_FAILED, next_path=None)
    context.throttle.succeeded(principal.username)
    log_event(
        security_log, clock, "login", user=principal.username, outcome="success", second="totp"
    )
    target = _start_page(context, status, status.principal, pending.next_path)
    return _start_session(request, context, status.principal, target)


def _set_session_cookie(response: Response, context: WebContext, token: str) -> None:
    response.set_cookie(
        context.cookies.session,
        token,
        httponly=True,
        secure=context.cookies.secure,
        samesite="lax",
        path="/",
    )


@router.post("/logout", include_in_schema=False)
def logout(request: Request, context: Context, principal: Anyone) -> Response:
    """End the session: its cookie is worthless from now on."""
    context.sessions.revoke(request.state.session_token)
    log_event(security_log, context.settings.clock, "logout", user=principal.username)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(
        context.cookies.session, path="/", secure=context.cookies.secure, httponly=True
    )
    return response


@router.get("/", include_in_schema=False)
def home(principal: Anyone) -> Response:
    """The role's start page."""
    return RedirectResponse(landing_page(principal.role), 303)


def _account_page(
    request: Request,
    principal: Principal,
    *,
    error: InputError | None = None,
    status_code: int = 200,
) -> Response:
    status: AccountStatus = request.state.account_status
    values = {
        "error": error,
        "done": request.query_params.get("changed") == "1" and error is None,
        "mfa_done": request.query_params.get("mfa") == "1",
        "must_change": status.must_change_password,
        "mfa_enrolled": status.mfa_enrolled,
        "min_length": web_context(request).settings.password_min_length,
    }
    return render(request, "account.html", values, status_code=status_code, principal=principal)


@router.get("/account", include_in_schema=False)
def account(request: Request, principal: Anyone) -> Response:
    """The signed-in user's account: change the password, two-step sign-in."""
    return _account_page(request, principal)


@router.post("/account/password", include_in_schema=False)
def account_password(request: Request, context: Context, form: Form, principal: Anyone) -> Response:
    """Change the password; every other session of the account ends (goal 16)."""
    if form.get("new_password", "") != form.get("confirm_password", ""):
        error = InputError("confirm_password", "(hidden)", "the same new password twice")
        return _account_page(request, principal, error=error, status_code=422)
    try:
        with unit_of_work(context, principal.username, "password changed by its owner") as db:
            change_password(
                db,
                context.hashing,
                principal,
                current_password=form.get("current_password", ""),
                new_password=form.get("new_password", ""),
                min_length=context.settings.password_min_length,
                breached_sha1=context.breached_passwords,
                now=context.settings.clock(),
            )
    except InputError as error:
        return _account_page(request, principal, error=error, status_code=422)
    context.sessions.revoke_user(principal.user_id)
    context.pending_logins.revoke_user(principal.user_id)
    log_event(security_log, context.settings.clock, "password_change", user=principal.username)
    status: AccountStatus = request.state.account_status
    changed = AccountStatus(principal, False, status.mfa_enrolled)
    target = _start_page(context, changed, principal, "/account?changed=1")
    return _start_session(request, context, principal, target)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _enrolment_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    *,
    error: InputError | None = None,
    status_code: int = 200,
) -> Response:
    status: AccountStatus = request.state.account_status
    values: dict[str, Any] = {
        "enrolled": status.mfa_enrolled,
        "required": request.state.account_setup is SetupStep.MFA_ENROLMENT,
        "error": error,
    }
    if not status.mfa_enrolled:
        secret = context.enrolment_offers.offer(principal.user_id)
        # segno writes the SVG from the base32 secret and a validated username only.
        values["qr"] = Markup(qr_svg(provisioning_uri(secret, principal.username)))  # noqa: S704
        values["secret"] = _grouped(secret)
    return render(request, "account_mfa.html", values, status_code=status_code, principal=principal)


@router.get("/account/mfa", include_in_schema=False)
def account_mfa(request: Request, context: Context, principal: Anyone) -> Response:
    """Two-step sign-in: its state, or the secret and QR code to set it up."""
    return _enrolment_page(request, context, principal)


@router.post("/account/mfa", include_in_schema=False)
def account_mfa_confirm(
    request: Request, context: Context, form: Form, principal: Anyone
) -> Response:
    """Confirm the offered secret with a code; only then is it stored in the account."""
    status: AccountStatus = request.state.account_status
    if status.mfa_enrolled:
        error = InputError("code", "(hidden)", "an account without two-step sign-in yet")
        return _enrolment_page(request, context, principal, error=error, status_code=422)
    offered = context.enrolment_offers.current(principal.user_id)
    code = form.get("code", "")[:16]
    if offered is None or not context.totp.verify(principal.user_id, offered, code):
        error = InputError(
            "code",
            "(hidden)",
            "the current 6-digit code your authenticator app shows for this secret",
            "scan the QR code (or type the secret) again, then enter the newest code",
        )
        return _enrolment_page(request, context, principal, error=error, status_code=422)
    reason = "two-step sign-in (TOTP) set up by its owner"
    try:
        with unit_of_work(context, principal.username, reason) as db:
            enable_totp(db, principal, offered)
    except InputError as error:
        return _enrolment_page(request, context, principal, error=error, status_code=422)
    context.enrolment_offers.withdraw(principal.user_id)
    # A stronger sign-in from here on: a new session, and no other one outlives it.
    context.sessions.revoke_user(principal.user_id)
    context.pending_logins.revoke_user(principal.user_id)
    log_event(security_log, context.settings.clock, "mfa_enrolment", user=principal.username)
    return _start_session(request, context, principal, "/account?mfa=1")
