"""What every route shares: the application context, the dependencies, page rendering.

One :class:`WebContext` per application (``app.state.web``) holds the registry, the
settings, the session store, the login throttle, the password hasher, the second-factor
state, the shipped protocols and the templates. Routes get the signed-in user through
:func:`authorize`, which checks the user against the registry (a disabled account loses
its sessions at once), holds an account that must first change its one-time password or
set up its second factor to that step (every other page redirects there, every other
API call gets 403), and checks the role against :data:`mrdtrack.web.policy.POLICY`;
routes change the registry only inside :func:`unit_of_work`, which names the acting
user for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack.errors import MrdtrackError, PermissionDeniedError
from mrdtrack.protocols import Protocol
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry
from mrdtrack.web.accounts import SetupStep, account_status, required_setup
from mrdtrack.web.config import WebSettings
from mrdtrack.web.mfa import EnrolmentOffers, PendingLogins, TotpVerifier
from mrdtrack.web.middleware import CookieNames, log_event, security_log
from mrdtrack.web.policy import POLICY, Action, Role, is_allowed
from mrdtrack.web.security import LoginThrottle, PasswordHashing, Principal, SessionStore

__all__ = [
    "NAVIGATION",
    "SETUP_PAGES",
    "SetupRequiredError",
    "SignedOutError",
    "WebContext",
    "authorize",
    "form_fields",
    "landing_page",
    "render",
    "setup_required_response",
    "today",
    "unit_of_work",
    "web_context",
]


class SignedOutError(MrdtrackError):
    """The session's account was disabled or removed since it signed in."""


class SetupRequiredError(PermissionDeniedError):
    """The account must take a set-up step first: a page redirects there, the API says 403."""

    def __init__(self, step: SetupStep) -> None:
        super().__init__(_SETUP_MESSAGES[step])
        self.step = step
        self.location = SETUP_PAGES[step]


SETUP_PAGES: Mapping[SetupStep, str] = {
    SetupStep.PASSWORD_CHANGE: "/account",
    SetupStep.MFA_ENROLMENT: "/account/mfa",
}
"""Where each set-up step is done."""
_SETUP_MESSAGES = {
    SetupStep.PASSWORD_CHANGE: (
        "choose your own password first: this account signs in with a one-time password "
        "(change it on the Account page, /account)"
    ),
    SetupStep.MFA_ENROLMENT: (
        "set up two-step sign-in first: administrators need a TOTP authenticator app (/account/mfa)"
    ),
}
# The only paths an account may reach during each step (and static files, /health).
_SETUP_PATHS = {
    SetupStep.PASSWORD_CHANGE: frozenset({"/account", "/account/password", "/logout"}),
    SetupStep.MFA_ENROLMENT: frozenset({"/account/mfa", "/logout"}),
}


@dataclass(frozen=True, slots=True)
class WebContext:
    """Everything one application instance shares between requests."""

    registry: Registry
    settings: WebSettings
    sessions: SessionStore
    throttle: LoginThrottle
    hashing: PasswordHashing
    protocols: Mapping[str, Protocol]
    templates: Jinja2Templates
    cookies: CookieNames
    pending_logins: PendingLogins
    totp: TotpVerifier
    enrolment_offers: EnrolmentOffers
    breached_passwords: frozenset[str]
    """SHA-1 digests of the site's breached-password corpus (empty without one)."""


NAVIGATION: tuple[tuple[str, str, Action], ...] = (
    ("Patients", "/patients", Action.PATIENT_READ),
    ("Cohort", "/cohort", Action.COHORT_READ),
    ("CRS grade", "/tools/crs", Action.TOOLS_USE),
    ("Blinatumomab", "/tools/blinatumomab", Action.TOOLS_USE),
    ("Import", "/imports", Action.IMPORT_RUN),
    ("Admin", "/admin", Action.ADMIN),
    ("Account", "/account", Action.ACCOUNT_SELF),
)
"""The navigation bar: label, path and the action that shows the link."""


def web_context(request: Request) -> WebContext:
    """The application's :class:`WebContext`."""
    context: WebContext = request.app.state.web
    return context


def today(context: WebContext) -> date:
    """Today's date on the server's UTC clock."""
    return context.settings.clock().date()


def landing_page(role: Role) -> str:
    """Where a role starts: the patient list, or the cohort for de-identified roles."""
    return "/patients" if is_allowed(role, Action.PATIENT_READ) else "/cohort"


def authorize(action: Action) -> Callable[[Request], Principal]:
    """A dependency returning the signed-in :class:`Principal` allowed to do ``action``.

    The account is re-read from the registry on each request, so that a disabled
    account is signed out at once, a changed role applies at once, and an account with
    a set-up step due (:func:`~mrdtrack.web.accounts.required_setup`) reaches only that
    step's pages: any other route raises :class:`SetupRequiredError`. Every route
    but ``/health``, ``/login`` and static files depends on this, so this is the one
    gate of both the forced password change and the administrators' second factor.
    The account's status is left in ``request.state.account_status``.
    """
    allowed = POLICY[action]

    def dependency(request: Request) -> Principal:
        context = web_context(request)
        session = request.state.web_session
        token = request.state.session_token
        if session is None or token is None:
            raise SignedOutError("sign in first")
        with context.registry.reading() as db:
            status = account_status(db, session.principal.user_id)
        if status is None:
            context.sessions.revoke_user(session.principal.user_id)
            raise SignedOutError("this account is no longer active")
        principal = status.principal
        if principal != session.principal:
            context.sessions.replace_principal(token, principal)
        request.state.account_status = status
        step = required_setup(
            principal.role,
            must_change_password=status.must_change_password,
            mfa_enrolled=status.mfa_enrolled,
            admin_mfa_required=context.settings.admin_mfa_required,
        )
        request.state.account_setup = step
        if step is not None and request.url.path not in _SETUP_PATHS[step]:
            raise SetupRequiredError(step)
        if principal.role not in allowed:
            log_event(
                security_log,
                context.settings.clock,
                "authorization",
                user=principal.username,
                action=action.value,
                outcome="denied",
            )
            raise PermissionDeniedError(
                f"your role ({principal.role.value}) may not do this ({action.value})"
            )
        return principal

    dependency.__name__ = f"authorize_{action.name.lower()}"
    return dependency


async def setup_required_response(request: Request, error: Exception) -> Response:
    """The response to :class:`SetupRequiredError`: 303 to the step's page, or API 403.

    The API's body names the reason as a code (``password_change_required``,
    ``mfa_enrolment_required``) beside the message.
    """
    required = error if isinstance(error, SetupRequiredError) else None
    if required is None:  # registered for SetupRequiredError only
        raise error
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": required.message, "reason": required.step.value}, status_code=403
        )
    return RedirectResponse(required.location, 303)


@contextmanager
def unit_of_work(context: WebContext, user: str, reason: str | None = None) -> Iterator[Session]:
    """A registry transaction whose changes are audited as ``user`` (with ``reason``)."""
    with context.registry.transaction() as session:
        set_actor(session, AuditActor(user=user, reason=reason, clock=context.settings.clock))
        yield session


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted form's text fields (files are not accepted by these forms)."""
    form = await request.form(max_files=0, max_fields=100)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def render(
    request: Request,
    template: str,
    values: Mapping[str, Any],
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> Response:
    """Render a page with the navigation and the session's CSRF token."""
    context = web_context(request)
    session = request.state.web_session
    nav = []
    # An account with a set-up step due sees no navigation: every link would bounce.
    if principal is not None and getattr(request.state, "account_setup", None) is None:
        nav = [
            (label, path)
            for label, path, action in NAVIGATION
            if is_allowed(principal.role, action)
        ]
    return context.templates.TemplateResponse(
        request,
        template,
        {
            **values,
            "principal": principal,
            "navigation": nav,
            "csrf_token": None if session is None else session.csrf_token,
            "current_path": request.url.path,
        },
        status_code=status_code,
    )
