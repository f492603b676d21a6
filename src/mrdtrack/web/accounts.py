"""User accounts of the registry (``app_user``): create, authenticate, change password.

There is no default account (reliability goal 14): the first administrator is created
with ``mrdtrack user add NAME --role admin``, which prints a random one-time password.
An account made with a one-time password must choose its own before anything else
(``must_change_password``), and an administrator must also set up the TOTP second
factor (goal 16): :func:`required_setup` says which step is due, and the web app lets
the account reach nothing but that step until it is done.
Every change to an account is a registry change, so it is audited like clinical data;
the caller names the acting user with :func:`mrdtrack.registry.audit.set_actor` first.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.registry.models import Site, User
from mrdtrack.web.config import utc_now
from mrdtrack.web.policy import Role, require_role
from mrdtrack.web.security import (
    PasswordHashing,
    Principal,
    check_password_policy,
    one_time_password,
)

__all__ = [
    "AccountStatus",
    "LoginResult",
    "NewAccount",
    "SetupStep",
    "account_status",
    "authenticate",
    "change_password",
    "create_user",
    "enable_totp",
    "principal_of",
    "required_setup",
    "totp_secret_of",
]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account and its one-time password (shown once, never stored in clear)."""

    username: str
    role: Role
    site_code: str | None
    password: str


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful password check: the principal, and whether the hash was upgraded.

    ``mfa_enrolled``: the account has a TOTP secret, so a code must follow the password.
    """

    principal: Principal
    rehashed: bool
    must_change_password: bool = False
    mfa_enrolled: bool = False


class SetupStep(StrEnum):
    """What a signed-in account must do before it may use anything else."""

    PASSWORD_CHANGE = "password_change_required"  # noqa: S105 (a reason code)
    """It signs in with a one-time password: it chooses its own first."""
    MFA_ENROLMENT = "mfa_enrolment_required"
    """An administrator without a second factor: it sets up TOTP first."""


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """An active account as the registry holds it now."""

    principal: Principal
    must_change_password: bool
    mfa_enrolled: bool


def required_setup(
    role: Role, *, must_change_password: bool, mfa_enrolled: bool, admin_mfa_required: bool
) -> SetupStep | None:
    """The step an account must take before anything else, or ``None`` when there is none.

    The password comes first: an administrator made with a one-time password changes
    it, then sets up the second factor (goal 14, then goal 16).
    """
    if must_change_password:
        return SetupStep.PASSWORD_CHANGE
    if role is Role.ADMIN and admin_mfa_required and not mfa_enrolled:
        return SetupStep.MFA_ENROLMENT
    return None


def _principal(user: User) -> Principal | None:
    try:
        role = Role(user.role)
    except ValueError:
        return None  # a role this version does not know gets no access at all
    return Principal(user.id, user.username, user.display_name, role, user.site_id)


def _find(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).one_or_none()


def create_user(
    session: Session,
    hashing: PasswordHashing,
    *,
    username: str,
    role: str,
    site_code: str | None = None,
    display_name: str | None = None,
    must_change_password: bool = True,
) -> NewAccount:
    """Create an active account with a random one-time password.

    The account must choose its own password at first sign-in unless
    ``must_change_password`` is False (test fixtures only).

    Raises
    ------
    InputError
        A malformed or taken username, or an unknown role.
    NotFoundError
        ``site_code`` names no site of the registry.
    """
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise InputError(
            "username",
            username,
            "2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    chosen = require_role(role)
    if _find(session, name) is not None:
        raise InputError("username", username, "a username not yet taken")
    site_id: int | None = None
    if site_code is not None:
        site = session.scalars(select(Site).where(Site.code == site_code)).one_or_none()
        if site is None:
            known = tuple(session.scalars(select(Site.code).order_by(Site.code)))
            raise NotFoundError("site", site_code, known)
        site_id = site.id
    password = one_time_password()
    session.add(
        User(
            username=name,
            display_name=display_name or name,
            role=chosen.value,
            site_id=site_id,
            password_hash=hashing.hash(password),
            active=True,
            must_change_password=must_change_password,
        )
    )
    session.flush()
    return NewAccount(name, chosen, site_code, password)


def authenticate(
    session: Session, hashing: PasswordHashing, username: str, password: str
) -> LoginResult | None:
    """Check a username and password; ``None`` for any failure, whatever its cause.

    An unknown or inactive user costs one hash verification like a known one, so that
    the response time does not tell them apart. A stored hash weaker than the current
    policy is replaced (goal 13), which the audit trail records; the caller sets the
    audit actor and reason first.
    """
    user = _find(session, username)
    if user is None or not user.active:
        hashing.verify(None, password)
        return None
    if not hashing.verify(user.password_hash, password) or user.password_hash is None:
        return None
    principal = _principal(user)
    if principal is None:
        return None
    rehashed = hashing.needs_rehash(user.password_hash)
    if rehashed:
        user.password_hash = hashing.hash(password)
        session.flush()
    return LoginResult(
        principal,
        rehashed,
        must_change_password=user.must_change_password,
        mfa_enrolled=user.totp_secret is not None,
    )


def principal_of(session: Session, user_id: int) -> Principal | None:
    """The current principal of an account, or ``None`` once it is disabled or removed."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return _principal(user)


def account_status(session: Session, user_id: int) -> AccountStatus | None:
    """The principal and pending set-up of an account; ``None`` once it is disabled.

    Every request asks this (:func:`mrdtrack.web.context.authorize`), so it reads the
    few columns it needs in one plain query rather than loading the account object.
    """
    row = session.execute(
        select(
            User.username,
            User.display_name,
            User.role,
            User.site_id,
            User.must_change_password,
            User.totp_secret.is_not(None),
        ).where(User.id == user_id, User.active.is_(True))
    ).one_or_none()
    if row is None:
        return None
    username, display_name, role, site_id, must_change, enrolled = row
    try:
        principal = Principal(user_id, username, display_name, Role(role), site_id)
    except ValueError:
        return None  # a role this version does not know gets no access at all
    return AccountStatus(principal, bool(must_change), bool(enrolled))


def totp_secret_of(session: Session, user_id: int) -> str | None:
    """The TOTP secret of an active account, or ``None`` (none set, or account disabled)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return user.totp_secret


def enable_totp(session: Session, principal: Principal, secret: str) -> None:
    """Store the TOTP secret its owner has just confirmed with a correct code.

    Raises
    ------
    InputError
        The account already has a second factor.
    """
    user = session.get(User, principal.user_id)
    if user is None or not user.active:
        raise InputError("account", principal.username, "an active account")
    if user.totp_secret is not None:
        raise InputError(
            "code", "(hidden)", "an account without two-step sign-in", "it is already on"
        )
    user.totp_secret = secret
    session.flush()


def change_password(
    session: Session,
    hashing: PasswordHashing,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    min_length: int,
    breached_sha1: Collection[str] = frozenset(),
    now: datetime | None = None,
) -> None:
    """Replace the signed-in user's password after checking the current one.

    The new password passes :func:`~mrdtrack.web.security.check_password_policy`; the
    change clears ``must_change_password`` and stamps ``password_changed_at`` with the
    server's UTC time ``now`` (the clock when omitted).

    Raises
    ------
    InputError
        The current password is wrong, or the new one fails the policy.
    """
    user = session.get(User, principal.user_id)
    if user is None or not hashing.verify(user.password_hash, current_password):
        raise InputError("current_password", "(hidden)", "your current password")
    check_password_policy(
        new_password, min_length=min_length, username=user.username, breached_sha1=breached_sha1
    )
    if hashing.verify(user.password_hash, new_password):
        raise InputError("new_password", "(hidden)", "a password different from the current one")
    user.password_hash = hashing.hash(new_password)
    user.must_change_password = False
    user.password_changed_at = now if now is not None else utc_now()
    session.flush()
