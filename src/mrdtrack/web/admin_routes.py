"""The admin pages under ``/admin`` and their JSON twins under ``/api/v1/admin``.

Thin routes over :mod:`mrdtrack.web.administration`: read the form (or the JSON body),
call the service inside :func:`~mrdtrack.web.context.unit_of_work` with the reason the
administrator gave, and show a refused input next to its field with HTTP 422 (the API
answers ``{"detail": …, "field": …}`` through the application's error handlers).

A one-time password (new account, reset) is shown once, in the response to the POST
that made it: it is never put in a URL, a log line or the registry in clear, and every
response carries ``Cache-Control: no-store``. A disabled account, a changed role and a
reset password end every session of that account at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.web import forms
from mrdtrack.web.accounts import NewAccount
from mrdtrack.web.administration import (
    KEEP,
    IssuedPassword,
    Keep,
    NewUser,
    SiteRow,
    UserChange,
    UserRow,
    create_account,
    create_site,
    find_user,
    list_sites,
    list_users,
    rename_site,
    require_reason,
    reset_password,
    reset_second_factor,
    update_user,
)
from mrdtrack.web.context import (
    WebContext,
    authorize,
    form_fields,
    render,
    unit_of_work,
    web_context,
)
from mrdtrack.web.policy import Action, Role
from mrdtrack.web.security import Principal

__all__ = ["api_router", "page_router"]

page_router = APIRouter(prefix="/admin", include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/admin", tags=["mrdtrack"])

Context = Annotated[WebContext, Depends(web_context)]
Form = Annotated[dict[str, str], Depends(form_fields)]
Admin = Annotated[Principal, Depends(authorize(Action.ADMIN))]
Username = Annotated[str, Path(max_length=64)]
SiteCode = Annotated[str, Path(max_length=32)]

_STATUS = {"true": True, "false": False}
_CHANGE_NAMES = {"role": "role", "site": "site", "active": "status", "mfa": "second factor"}
_SITE_NOTICES = (("created", "added"), ("renamed", "renamed"))


def _values(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k != "csrf_token"}


def _user_path(username: str) -> str:
    return f"/admin/users/{quote(username, safe='')}"


def _choices(context: WebContext) -> dict[str, Any]:
    with context.registry.reading() as db:
        sites = [(s.code, s.name) for s in list_sites(db)]
    return {"roles": [r.value for r in Role], "sites": sites}


# ---------------------------------------------------------------- users (pages)


@page_router.get("")
def admin_home(_principal: Admin) -> Response:
    """The admin pages start at the user list."""
    return RedirectResponse("/admin/users", 303)


@page_router.get("/users")
def users_page(request: Request, context: Context, principal: Admin) -> Response:
    """Every account: role, site, status, one-time password pending, second factor."""
    with context.registry.reading() as db:
        users = list_users(db)
    return render(request, "admin_users.html", {"users": users}, principal=principal)


def _new_user_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    values: Mapping[str, str],
    *,
    error: InputError | None = None,
    created: NewAccount | None = None,
) -> Response:
    return render(
        request,
        "admin_user_new.html",
        {"values": values, "error": error, "created": created, **_choices(context)},
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/users/new")
def new_user_form(request: Request, context: Context, principal: Admin) -> Response:
    """The form that creates an account."""
    return _new_user_page(request, context, principal, {"role": Role.CLINICIAN.value})


@page_router.post("/users/new")
def new_user_submit(request: Request, context: Context, principal: Admin, form: Form) -> Response:
    """Create the account (audited) and show its one-time password, this once."""
    try:
        entry = NewUser(
            username=forms.text(form, "username", "a username"),
            role=forms.text(form, "role", "a role"),
            site_code=forms.optional_text(form, "site_code"),
            display_name=forms.optional_text(form, "display_name"),
        )
        with unit_of_work(context, principal.username) as db:
            created = create_account(db, context.hashing, entry)
    except InputError as error:
        return _new_user_page(request, context, principal, _values(form), error=error)
    return _new_user_page(request, context, principal, {}, created=created)


def _user_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    username: str,
    *,
    values: Mapping[str, str] | None = None,
    error: InputError | None = None,
    error_form: str | None = None,
    issued: IssuedPassword | None = None,
    saved: tuple[str, ...] | None = None,
) -> Response:
    with context.registry.reading() as db:
        user = find_user(db, username)
    current = {
        "role": user.role,
        "site_code": user.site_code or "",
        "active": "true" if user.active else "false",
    }
    return render(
        request,
        "admin_user.html",
        {
            "user": user,
            "values": {**current, **(values or {})},
            "error": error,
            "error_form": error_form,
            "issued": issued,
            "saved": saved,
            "own": user.user_id == principal.user_id,
            **_choices(context),
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/users/{username}")
def user_page(request: Request, context: Context, principal: Admin, username: Username) -> Response:
    """One account: change its role, site or status; reset its password."""
    saved = request.query_params.get("saved")
    shown = None
    if saved is not None:
        shown = tuple(_CHANGE_NAMES[w] for w in saved.split(",") if w in _CHANGE_NAMES)
    return _user_page(request, context, principal, username, saved=shown)


def _form_change(form: Mapping[str, str]) -> UserChange:
    """The fields the form sent; a field it did not send stays as it is."""
    active: bool | Keep = KEEP
    if "active" in form:
        raw = form["active"].strip().lower()
        if raw not in _STATUS:
            raise InputError("active", raw, "true (active) or false (disabled)")
        active = _STATUS[raw]
    return UserChange(
        role=forms.text(form, "role", "a role") if "role" in form else KEEP,
        site_code=forms.optional_text(form, "site_code") if "site_code" in form else KEEP,
        active=active,
    )


@page_router.post("/users/{username}")
def user_submit(
    request: Request, context: Context, principal: Admin, username: Username, form: Form
) -> Response:
    """Apply a role, site or status change with its reason (audited)."""
    try:
        change = _form_change(form)
        reason = require_reason(form.get("reason"))
        with unit_of_work(context, principal.username, reason) as db:
            update = update_user(db, principal, username, change)
    except InputError as error:
        return _user_page(
            request,
            context,
            principal,
            username,
            values=_values(form),
            error=error,
            error_form="change",
        )
    if update.end_sessions:
        context.sessions.revoke_user(update.user.user_id)
    saved = ",".join(update.changed) or "none"
    return RedirectResponse(f"{_user_path(update.user.username)}?saved={saved}", 303)


@page_router.post("/users/{username}/reset-password")
def reset_submit(
    request: Request, context: Context, principal: Admin, username: Username, form: Form
) -> Response:
    """Issue a new one-time password (audited), end the account's sessions, show it once."""
    try:
        reason = require_reason(form.get("reason"))
        with unit_of_work(context, principal.username, reason) as db:
            issued = reset_password(db, context.hashing, principal, username)
    except InputError as error:
        values = {"reset_reason": form.get("reason", "")}
        return _user_page(
            request, context, principal, username, values=values, error=error, error_form="reset"
        )
    context.sessions.revoke_user(issued.user_id)
    return _user_page(request, context, principal, issued.username, issued=issued)


@page_router.post("/users/{username}/reset-mfa")
def reset_mfa_submit(
    request: Request, context: Context, principal: Admin, username: Username, form: Form
) -> Response:
    """Remove the account's second factor (audited, secret redacted); end its sessions."""
    try:
        reason = require_reason(form.get("reason"))
        with unit_of_work(context, principal.username, reason) as db:
            user_id = reset_second_factor(db, principal, username)
    except InputError as error:
        values = {"mfa_reason": form.get("reason", "")}
        return _user_page(
            request, context, principal, username, values=values, error=error, error_form="mfa"
        )
    context.sessions.revoke_user(user_id)
    return RedirectResponse(f"{_user_path(username)}?saved=mfa", 303)


# ---------------------------------------------------------------- sites (pages)


def _sites_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    *,
    notice: str | None = None,
    values: Mapping[str, str] | None = None,
    error: InputError | None = None,
    error_code: str | None = None,
) -> Response:
    with context.registry.reading() as db:
        sites = list_sites(db)
    return render(
        request,
        "admin_sites.html",
        {
            "sites": sites,
            "notice": notice,
            "values": values or {},
            "error": error,
            "error_code": error_code,
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/sites")
def sites_page(request: Request, context: Context, principal: Admin) -> Response:
    """Every site with its patient and account counts; rename one."""
    notice = None
    given = [(request.query_params.get(k), verb) for k, verb in _SITE_NOTICES]
    code, verb = next(((c, v) for c, v in given if c is not None), (None, ""))
    if code is not None:
        with context.registry.reading() as db:
            # Only a code of the registry is echoed back, never arbitrary query text.
            if code in {s.code for s in list_sites(db)}:
                notice = f"Site {code} {verb}."
    return _sites_page(request, context, principal, notice=notice)


def _new_site_page(
    request: Request,
    principal: Principal,
    values: Mapping[str, str],
    error: InputError | None = None,
) -> Response:
    return render(
        request,
        "admin_site_new.html",
        {"values": values, "error": error},
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/sites/new")
def new_site_form(request: Request, principal: Admin) -> Response:
    """The form that adds a site."""
    return _new_site_page(request, principal, {})


@page_router.post("/sites/new")
def new_site_submit(request: Request, context: Context, principal: Admin, form: Form) -> Response:
    """Add the site (audited), then show the site list."""
    try:
        code = forms.text(form, "code", "a site code such as SITE-C")
        name = forms.text(form, "name", "the site's name")
        with unit_of_work(context, principal.username) as db:
            site = create_site(db, code, name)
    except InputError as error:
        return _new_site_page(request, principal, _values(form), error)
    return RedirectResponse(f"/admin/sites?created={quote(site.code, safe='')}", 303)


@page_router.post("/sites/{code}")
def site_submit(
    request: Request, context: Context, principal: Admin, code: SiteCode, form: Form
) -> Response:
    """Rename a site with a reason (audited)."""
    try:
        reason = require_reason(form.get("reason"))
        name = form.get("name", "")
        with unit_of_work(context, principal.username, reason) as db:
            site = rename_site(db, code, name)
    except InputError as error:
        return _sites_page(
            request, context, principal, values=_values(form), error=error, error_code=code
        )
    return RedirectResponse(f"/admin/sites?renamed={quote(site.code, safe='')}", 303)


# ---------------------------------------------------------------- JSON API


class UserIn(BaseModel):
    """A new account: ``site_code`` null gives it every site."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    role: Role
    site_code: str | None = Field(default=None, max_length=32)
    display_name: str | None = Field(default=None, max_length=200)


class UserPatch(BaseModel):
    """A change to an account: the fields sent change (``site_code`` null: every site)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    site_code: str | None = Field(default=None, max_length=32)
    active: bool | None = None
    reason: str = Field(min_length=1, max_length=200)


class ReasonIn(BaseModel):
    """Why an account's password is reset (for the audit trail)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class SiteIn(BaseModel):
    """A new site: upper-case code (letters, digits, ``-``) and name."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)


class SitePatch(BaseModel):
    """A site's new name, and why."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=200)


def _user_json(user: UserRow) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "site_code": user.site_code,
        "active": user.active,
        "must_change_password": user.must_change_password,
        "has_mfa": user.has_mfa,
        "password_changed_at": (
            None if user.password_changed_at is None else user.password_changed_at.isoformat()
        ),
    }


def _site_json(site: SiteRow) -> dict[str, Any]:
    return {"code": site.code, "name": site.name, "patients": site.patients, "users": site.users}


@api_router.get("/users")
def api_users(context: Context, _principal: Admin) -> dict[str, Any]:
    """Every account (never a password hash or a TOTP secret)."""
    with context.registry.reading() as db:
        return {"users": [_user_json(u) for u in list_users(db)]}


@api_router.post("/users", status_code=201)
def api_user_create(context: Context, principal: Admin, body: UserIn) -> JSONResponse:
    """Create an account; the answer holds its one-time password, this once."""
    entry = NewUser(body.username, body.role.value, body.site_code, body.display_name)
    with unit_of_work(context, principal.username) as db:
        created = create_account(db, context.hashing, entry)
        user = find_user(db, created.username)
    return JSONResponse({**_user_json(user), "password": created.password}, status_code=201)


@api_router.patch("/users/{username}")
def api_user_update(
    context: Context, principal: Admin, username: Username, body: UserPatch
) -> dict[str, Any]:
    """Change an account's role, site or status (audited with the reason)."""
    change = UserChange(
        role=KEEP if body.role is None else body.role.value,
        site_code=body.site_code if "site_code" in body.model_fields_set else KEEP,
        active=KEEP if body.active is None else body.active,
    )
    reason = require_reason(body.reason)
    with unit_of_work(context, principal.username, reason) as db:
        update = update_user(db, principal, username, change)
    if update.end_sessions:
        context.sessions.revoke_user(update.user.user_id)
    return {
        "user": _user_json(update.user),
        "changed": list(update.changed),
        "sessions_ended": update.end_sessions,
    }


@api_router.post("/users/{username}/reset-password")
def api_user_reset(
    context: Context, principal: Admin, username: Username, body: ReasonIn
) -> dict[str, Any]:
    """Issue a new one-time password (answered this once) and end the account's sessions."""
    reason = require_reason(body.reason)
    with unit_of_work(context, principal.username, reason) as db:
        issued = reset_password(db, context.hashing, principal, username)
    context.sessions.revoke_user(issued.user_id)
    return {"username": issued.username, "password": issued.password, "sessions_ended": True}


@api_router.post("/users/{username}/reset-mfa")
def api_user_reset_mfa(
    context: Context, principal: Admin, username: Username, body: ReasonIn
) -> dict[str, Any]:
    """Remove the account's second factor and end its sessions."""
    reason = require_reason(body.reason)
    with unit_of_work(context, principal.username, reason) as db:
        user_id = reset_second_factor(db, principal, username)
    context.sessions.revoke_user(user_id)
    return {"username": username, "second_factor": None, "sessions_ended": True}


@api_router.get("/sites")
def api_sites(context: Context, _principal: Admin) -> dict[str, Any]:
    """Every site with its patient and account counts."""
    with context.registry.reading() as db:
        return {"sites": [_site_json(s) for s in list_sites(db)]}


@api_router.post("/sites", status_code=201)
def api_site_create(context: Context, principal: Admin, body: SiteIn) -> JSONResponse:
    """Add a site (audited)."""
    with unit_of_work(context, principal.username) as db:
        site = create_site(db, body.code, body.name)
    return JSONResponse(_site_json(site), status_code=201)


@api_router.patch("/sites/{code}")
def api_site_rename(
    context: Context, principal: Admin, code: SiteCode, body: SitePatch
) -> dict[str, Any]:
    """Rename a site (audited with the reason)."""
    reason = require_reason(body.reason)
    with unit_of_work(context, principal.username, reason) as db:
        site = rename_site(db, code, body.name)
    return _site_json(site)
