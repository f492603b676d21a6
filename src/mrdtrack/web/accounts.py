"""User accounts of the registry (``app_user``): create, authenticate, change password.

There is no default account (reliability goal 14): the first administrator is created
with ``mrdtrack user add NAME --role admin``, which prints a random one-time password.
Every change to an account is a registry change, so it is audited like clinical data;
the caller names the acting user with :func:`mrdtrack.registry.audit.set_actor` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.registry.models import Site, User
from mrdtrack.web.policy import Role, require_role
from mrdtrack.web.security import (
    PasswordHashing,
    Principal,
    check_password_policy,
    one_time_password,
)

__all__ = [
    "LoginResult",
    "NewAccount",
    "authenticate",
    "change_password",
    "create_user",
    "principal_of",
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
    """A successful password check: the principal, and whether the hash was upgraded."""

    principal: Principal
    rehashed: bool


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
) -> NewAccount:
    """Create an active account with a random one-time password.

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
    return LoginResult(principal, rehashed)


def principal_of(session: Session, user_id: int) -> Principal | None:
    """The current principal of an account, or ``None`` once it is disabled or removed."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    return _principal(user)


def change_password(
    session: Session,
    hashing: PasswordHashing,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    min_length: int,
) -> None:
    """Replace the signed-in user's password after checking the current one.

    Raises
    ------
    InputError
        The current password is wrong, or the new one fails the policy.
    """
    user = session.get(User, principal.user_id)
    if user is None or not hashing.verify(user.password_hash, current_password):
        raise InputError("current_password", "(hidden)", "your current password")
    check_password_policy(new_password, min_length=min_length, username=user.username)
    if hashing.verify(user.password_hash, new_password):
        raise InputError("new_password", "(hidden)", "a password different from the current one")
    user.password_hash = hashing.hash(new_password)
    session.flush()
