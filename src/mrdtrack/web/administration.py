"""Administration of the installation: user accounts and sites.

The service functions behind the admin pages and their JSON twins
(:mod:`mrdtrack.web.admin_routes`); they take a registry session and know nothing of
HTTP. Every change is a registry change, audited like clinical data: the caller opens
:func:`~mrdtrack.web.context.unit_of_work` naming the acting administrator and the
reason. A change after first entry (role, site, status, password, a site's name) needs
a reason; :func:`require_reason` refuses an empty one before anything is written, and
the audit layer would refuse it too.

Sessions live in the web process, not in the registry, so the functions here only say
what must happen to them: :attr:`UserUpdate.end_sessions` (a disabled account, a
changed role) and a reset password end every session of the account; a changed site
needs nothing, because each request re-reads the principal from the registry.

Site isolation: administrators manage the installation, so these functions list and
change every account and every site whatever site the administrator is attached to;
their own site limits only the patient pages.

The installation never loses its last administrator: an administrator cannot disable
their own account, take away their own admin role or reset their own password (they
change it under Account). The acting administrator is active, so at least one active
administrator always remains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.registry.models import Patient, Site, User
from mrdtrack.web.accounts import NewAccount, create_user
from mrdtrack.web.policy import Role, require_role
from mrdtrack.web.security import PasswordHashing, Principal, one_time_password

__all__ = [
    "KEEP",
    "IssuedPassword",
    "Keep",
    "NewUser",
    "SiteRow",
    "UserChange",
    "UserRow",
    "UserUpdate",
    "create_account",
    "create_site",
    "find_user",
    "list_sites",
    "list_users",
    "rename_site",
    "require_reason",
    "reset_password",
    "reset_second_factor",
    "update_user",
]

_SITE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
_MAX_NAME = 200
_MAX_REASON = 200
# Page paths that share the place of a username: /admin/users/new is the form.
_RESERVED_USERNAMES = frozenset({"new"})


class Keep(Enum):
    """The value of a :class:`UserChange` field that leaves the account as it is."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account as the admin pages show it (never its password hash or TOTP secret)."""

    user_id: int
    username: str
    display_name: str
    role: str
    site_code: str | None
    active: bool
    must_change_password: bool
    has_mfa: bool
    password_changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewUser:
    """What an administrator enters to create an account (``site_code`` None: all sites)."""

    username: str
    role: str
    site_code: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class UserChange:
    """The role, site (``None``: all sites) and status to give an account; KEEP leaves one."""

    role: str | Keep = KEEP
    site_code: str | Keep | None = KEEP
    active: bool | Keep = KEEP


@dataclass(frozen=True, slots=True)
class UserUpdate:
    """An applied :class:`UserChange`.

    The account as it is now, the fields that changed, and whether the account's
    sessions must end (it was disabled, or its role changed).
    """

    user: UserRow
    changed: tuple[str, ...]
    end_sessions: bool


@dataclass(frozen=True, slots=True)
class IssuedPassword:
    """A one-time password issued by an administrator: shown once, never stored in clear."""

    user_id: int
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SiteRow:
    """A site with the number of its (not deleted) patients and of its accounts."""

    code: str
    name: str
    patients: int
    users: int


def require_reason(reason: str | None) -> str:
    """The stripped reason for a change; :class:`InputError` when it is empty or too long."""
    text = (reason or "").strip()
    if not text:
        raise InputError(
            "reason",
            None,
            "a reason for the change",
            "say why; it goes to the audit trail, e.g. 'left the study team', 'name corrected'",
        )
    if len(text) > _MAX_REASON:
        raise InputError("reason", text[:20] + "…", f"at most {_MAX_REASON} characters")
    return text


def _printable(field_name: str, value: str, what: str) -> str:
    text = value.strip()
    if not text or len(text) > _MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in text):
        shown = text[:20] + "…" if len(text) > 20 else text
        raise InputError(field_name, shown or None, f"{what}: 1-{_MAX_NAME} printable characters")
    return text


def _site_code_text(code: str) -> str:
    text = code.strip().upper()
    if not _SITE_CODE.fullmatch(text):
        raise InputError(
            "code",
            code,
            "1-32 characters: upper-case letters, digits or '-', starting with a letter or digit",
            "e.g. CGMH or SITE-B",
        )
    return text


def _site_named(session: Session, code: str, field_name: str) -> Site:
    site = session.scalars(select(Site).where(Site.code == code)).one_or_none()
    if site is None:
        known = ", ".join(session.scalars(select(Site.code).order_by(Site.code)))
        raise InputError(field_name, code, f"a site of the registry ({known or 'none yet'})")
    return site


def _row(user: User, site_codes: dict[int, str]) -> UserRow:
    return UserRow(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        site_code=None if user.site_id is None else site_codes.get(user.site_id),
        active=user.active,
        must_change_password=user.must_change_password,
        has_mfa=user.totp_secret is not None,
        password_changed_at=user.password_changed_at,
    )


def _site_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Site.id, Site.code)).all())


def _user_named(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).one_or_none()
    if user is None:
        raise NotFoundError("user", username)
    return user


def list_users(session: Session) -> list[UserRow]:
    """Every account of the installation, by username."""
    codes = _site_codes(session)
    return [_row(u, codes) for u in session.scalars(select(User).order_by(User.username))]


def find_user(session: Session, username: str) -> UserRow:
    """One account by username (any case); :class:`NotFoundError` when there is none."""
    return _row(_user_named(session, username), _site_codes(session))


def create_account(session: Session, hashing: PasswordHashing, entry: NewUser) -> NewAccount:
    """Create an active account with a one-time password (through ``accounts.create_user``).

    Raises
    ------
    InputError
        A malformed, reserved or taken username, an unknown role or site, or a display
        name that is empty or too long.
    """
    if entry.username.strip().lower() in _RESERVED_USERNAMES:
        raise InputError("username", entry.username, "a username other than 'new'")
    site_code = None
    if entry.site_code is not None and entry.site_code.strip():
        site_code = _site_named(session, entry.site_code.strip(), "site_code").code
    display_name = None
    if entry.display_name is not None and entry.display_name.strip():
        display_name = _printable("display_name", entry.display_name, "a name to show")
    return create_user(
        session,
        hashing,
        username=entry.username,
        role=entry.role,
        site_code=site_code,
        display_name=display_name,
    )


def update_user(
    session: Session, actor: Principal, username: str, change: UserChange
) -> UserUpdate:
    """Give an account a role, a site and a status; the session names actor and reason.

    Raises
    ------
    NotFoundError
        No account has ``username``.
    InputError
        An unknown role or site, or the administrator would disable their own account
        or take away their own admin role.
    """
    user = _user_named(session, username)
    own = user.id == actor.user_id
    role = None if isinstance(change.role, Keep) else require_role(change.role)
    if own and role is not None and role is not Role.ADMIN:
        raise InputError(
            "role",
            role.value,
            "admin for your own account",
            "another administrator must change your role, so that an active administrator "
            "always remains",
        )
    if own and change.active is False:
        raise InputError(
            "active",
            "disabled",
            "your own account to stay active",
            "another administrator must disable it, so that an active administrator always remains",
        )
    site_id = user.site_id
    if not isinstance(change.site_code, Keep):
        site_code = (change.site_code or "").strip()
        site_id = _site_named(session, site_code, "site_code").id if site_code else None
    changed: list[str] = []
    if role is not None and role.value != user.role:
        user.role = role.value
        changed.append("role")
    if site_id != user.site_id:
        user.site_id = site_id
        changed.append("site")
    if not isinstance(change.active, Keep) and change.active != user.active:
        user.active = change.active
        changed.append("active")
    session.flush()
    return UserUpdate(
        user=_row(user, _site_codes(session)),
        changed=tuple(changed),
        end_sessions="role" in changed or not user.active,
    )


def reset_password(
    session: Session, hashing: PasswordHashing, actor: Principal, username: str
) -> IssuedPassword:
    """Give an account a new one-time password, to be changed at its next sign-in.

    Only the password hash and ``must_change_password`` change; status, role, site and
    second factor stay. The caller ends the account's sessions.

    Raises
    ------
    NotFoundError
        No account has ``username``.
    InputError
        The administrator names their own account (change it under Account).
    """
    user = _user_named(session, username)
    if user.id == actor.user_id:
        raise InputError(
            "username",
            user.username,
            "another user's account",
            "change your own password under Account",
        )
    password = one_time_password()
    user.password_hash = hashing.hash(password)
    user.must_change_password = True
    session.flush()
    return IssuedPassword(user.id, user.username, password)


def reset_second_factor(session: Session, actor: Principal, username: str) -> int:
    """Remove an account's TOTP secret (a lost phone); return the account's id.

    The user sets up a new second factor at their next sign-in: an administrator must
    (``WebSettings.admin_mfa_required``), any other role may. The audit trail records
    that the secret changed, never the secret (:mod:`mrdtrack.registry.audit`). The
    caller ends the account's sessions.

    Raises
    ------
    NotFoundError
        No account has ``username``.
    InputError
        The administrator names their own account, or one without a second factor.
    """
    user = _user_named(session, username)
    if user.id == actor.user_id:
        raise InputError(
            "username",
            user.username,
            "another user's account",
            "another administrator resets yours; you can set up a new one under Account",
        )
    if user.totp_secret is None:
        raise InputError("username", user.username, "an account with a second factor set up")
    user.totp_secret = None
    session.flush()
    return user.id


def list_sites(session: Session) -> list[SiteRow]:
    """Every site, by code, with its patient and account counts."""
    patients = dict(
        session.execute(
            select(Patient.site_id, func.count(Patient.id))
            .where(Patient.deleted_at.is_(None))
            .group_by(Patient.site_id)
        ).all()
    )
    users = dict(
        session.execute(
            select(User.site_id, func.count(User.id))
            .where(User.site_id.is_not(None))
            .group_by(User.site_id)
        ).all()
    )
    return [
        SiteRow(site.code, site.name, patients.get(site.id, 0), users.get(site.id, 0))
        for site in session.scalars(select(Site).order_by(Site.code))
    ]


def _site_row(session: Session, code: str) -> SiteRow:
    return next(row for row in list_sites(session) if row.code == code)


def create_site(session: Session, code: str, name: str) -> SiteRow:
    """Add a site; its code is stored upper-case and never changes afterwards.

    Raises
    ------
    InputError
        A malformed or taken code, or an empty or too long name.
    """
    chosen = _site_code_text(code)
    text = _printable("name", name, "the site's name")
    if session.scalars(select(Site.id).where(Site.code == chosen)).one_or_none() is not None:
        raise InputError("code", chosen, "a site code not yet used")
    session.add(Site(code=chosen, name=text))
    session.flush()
    return _site_row(session, chosen)


def rename_site(session: Session, code: str, name: str) -> SiteRow:
    """Give a site a new name (its code stays: patients and exports refer to it).

    Raises
    ------
    NotFoundError
        No site has ``code``.
    InputError
        An empty or too long name.
    """
    site = session.scalars(select(Site).where(Site.code == code)).one_or_none()
    if site is None:
        raise NotFoundError("site", code)
    site.name = _printable("name", name, "the site's name")
    session.flush()
    return _site_row(session, site.code)
