"""Routes of signing in and out, the account page, and the health check.

``POST /login`` checks the throttle first (a locked account fails even with the right
password), then the password; success issues a *new* session token (rotation) and
drops any session the browser held. Every success, failure, lockout and refusal is a
JSON security event naming the account, never the password.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.web.accounts import authenticate, change_password
from mrdtrack.web.context import (
    WebContext,
    authorize,
    form_fields,
    landing_page,
    render,
    unit_of_work,
    web_context,
)
from mrdtrack.web.middleware import log_event, security_log
from mrdtrack.web.policy import Action
from mrdtrack.web.security import LoginRefusal, Principal, new_token

__all__ = ["router"]

router = APIRouter()

Form = Annotated[dict[str, str], Depends(form_fields)]
Context = Annotated[WebContext, Depends(web_context)]
_LOGIN_FAILED = (
    "Sign-in failed: the username or password is wrong, or the account is locked after "
    "too many attempts (wait 15 minutes)."
)
_REHASH_REASON = "password hash upgraded to the current argon2id parameters at sign-in"


def _safe_next(target: str | None) -> str | None:
    """A same-site path to return to after login; anything else is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if target.startswith("/login") or any(ord(c) < 32 for c in target):
        return None
    return target


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    """Liveness check: answers without a session and without touching the registry."""
    return {"status": "ok"}


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
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, context: Context, next: str | None = None) -> Response:
    """The sign-in form (a signed-in visitor goes straight to their start page)."""
    session = request.state.web_session
    if session is not None:
        return RedirectResponse(_safe_next(next) or landing_page(session.principal.role), 303)
    return _login_page(request, context, status=200, error=None, next_path=_safe_next(next))


@router.post("/login", include_in_schema=False)
def login(request: Request, context: Context, form: Form) -> Response:
    """Check the credentials; on success start a fresh session and go on."""
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")
    next_path = _safe_next(form.get("next"))
    clock = context.settings.clock
    refusal = context.throttle.admit(username, request.client.host if request.client else "-")
    result = None
    if refusal is None and username and password:
        with unit_of_work(context, username, _REHASH_REASON) as db:
            result = authenticate(db, context.hashing, username, password)
    if result is None:
        locked = refusal is None and context.throttle.failed(username)
        outcome = refusal.value if refusal is not None else "failure"
        log_event(security_log, clock, "login", user=username, outcome=outcome)
        if locked:
            log_event(security_log, clock, "lockout", user=username, outcome="locked")
        status = 429 if refusal is LoginRefusal.RATE_LIMITED else 401
        return _login_page(
            request, context, status=status, error=_LOGIN_FAILED, next_path=next_path
        )
    context.throttle.succeeded(username)
    context.sessions.revoke(request.cookies.get(context.cookies.session))
    token, _ = context.sessions.create(result.principal)
    log_event(
        security_log,
        clock,
        "login",
        user=result.principal.username,
        outcome="success",
        rehashed=result.rehashed,
    )
    response = RedirectResponse(next_path or landing_page(result.principal.role), 303)
    _set_session_cookie(response, context, token)
    response.delete_cookie(context.cookies.login, path="/", secure=context.cookies.secure)
    return response


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
def logout(
    request: Request,
    context: Context,
    principal: Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))],
) -> Response:
    """End the session: its cookie is worthless from now on."""
    context.sessions.revoke(request.state.session_token)
    log_event(security_log, context.settings.clock, "logout", user=principal.username)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(
        context.cookies.session, path="/", secure=context.cookies.secure, httponly=True
    )
    return response


@router.get("/", include_in_schema=False)
def home(principal: Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))]) -> Response:
    """The role's start page."""
    return RedirectResponse(landing_page(principal.role), 303)


@router.get("/account", include_in_schema=False)
def account(
    request: Request, principal: Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))]
) -> Response:
    """The signed-in user's account: change the password."""
    done = request.query_params.get("changed") == "1"
    return render(request, "account.html", {"error": None, "done": done}, principal=principal)


@router.post("/account/password", include_in_schema=False)
def account_password(
    request: Request,
    context: Context,
    form: Form,
    principal: Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))],
) -> Response:
    """Change the password; every other session of the account ends (goal 16)."""
    if form.get("new_password", "") != form.get("confirm_password", ""):
        error = InputError("confirm_password", "(hidden)", "the same new password twice")
        return render(
            request,
            "account.html",
            {"error": error, "done": False},
            status_code=422,
            principal=principal,
        )
    try:
        with unit_of_work(context, principal.username, "password changed by its owner") as db:
            change_password(
                db,
                context.hashing,
                principal,
                current_password=form.get("current_password", ""),
                new_password=form.get("new_password", ""),
                min_length=context.settings.password_min_length,
            )
    except InputError as error:
        return render(
            request,
            "account.html",
            {"error": error, "done": False},
            status_code=422,
            principal=principal,
        )
    context.sessions.revoke_user(principal.user_id)
    token, _ = context.sessions.create(principal)
    log_event(security_log, context.settings.clock, "password_change", user=principal.username)
    response = RedirectResponse("/account?changed=1", 303)
    _set_session_cookie(response, context, token)
    return response
