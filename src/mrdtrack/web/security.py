"""Authentication primitives: password hashing, sessions, login throttling, CSRF tokens.

Reliability goals 13-17 (OWASP ASVS 5.0 level 2):

* passwords are hashed with argon2id, t = 2, m = 19 MiB, p = 1 (ASVS Appendix C, the
  OWASP minimum) or stronger; a stored hash weaker than the configured parameters is
  re-hashed at the next successful login (:meth:`PasswordHashing.needs_rehash`);
* a session is a 128-bit ``secrets`` token held by the browser in an HttpOnly,
  SameSite=Lax, ``__Host-`` cookie; the server keeps only its SHA-256, so a token never
  appears in memory dumps of the store or in logs; a new token is issued at every login;
  a session ends after 30 minutes idle or 12 hours in all, measured on an injectable
  clock;
* every session carries its own CSRF token (another 128-bit value), compared in
  constant time;
* a new password has at least the configured length (12, never below 8) and is neither
  one of the 3,000 most common passwords nor in the site's breached-password corpus
  (goal 14; ASVS 6.2.4, NIST 800-63B 3.1.1.2);
* after 5 failed logins of one account within 15 minutes the account is locked for
  15 minutes, and the next attempt fails even with the right password; one client
  address may try 10 logins a minute.

Sessions and counters live in this process (run one server process per registry; a
restart signs everybody out, which is safe).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.web.policy import Role

__all__ = [
    "ARGON2_MEMORY_KIB",
    "ARGON2_PARALLELISM",
    "ARGON2_TIME_COST",
    "COMMON_PASSWORD_COUNT",
    "LoginRefusal",
    "LoginThrottle",
    "PasswordHashing",
    "Principal",
    "SessionStore",
    "WebSession",
    "check_password_policy",
    "common_passwords",
    "load_breached_passwords",
    "new_token",
    "one_time_password",
    "password_sha1",
    "token_digest",
    "tokens_match",
]

ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19_456
ARGON2_PARALLELISM = 1
_TOKEN_BYTES = 16  # 128 bits (ASVS 7.2.3)
_MAX_TRACKED = 10_000  # addresses or accounts tracked before idle ones are forgotten
_MAX_PASSWORD_LENGTH = 128  # long passphrases are welcome (≥ 64, goal 14); bound the hashing
COMMON_PASSWORD_COUNT = 3_000
_SHA1_LINE = re.compile(r"([0-9A-Fa-f]{40})(?::[0-9]+)?")
_BREACHED_FIELD = "breached_passwords_file"


def new_token() -> str:
    """A fresh 128-bit token from the operating system's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The SHA-256 of a token: what the server stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; ``False`` when either is missing or empty."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def one_time_password() -> str:
    """A random 20-character password (120 bits) for a new account."""
    return secrets.token_urlsafe(15)


def password_sha1(password: str) -> str:
    """The lower-case SHA-1 hex digest of a password: how breached corpora are matched.

    SHA-1 only because the Have I Been Pwned corpus is published that way; stored
    passwords are hashed with argon2id (:class:`PasswordHashing`).
    """
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest()


@cache
def common_passwords() -> frozenset[str]:
    """The :data:`COMMON_PASSWORD_COUNT` most frequent passwords, lower-case (goal 14).

    Source: zxcvbn's ``FREQUENCY_LISTS["passwords"]`` (ordered by frequency in leaked
    corpora; Wheeler, USENIX Security 2016). Read once, on first use.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"][:COMMON_PASSWORD_COUNT])


def _bad_corpus_line(path: Path, number: int, expected: str) -> ImportValidationError:
    # The line itself may be a real password: name where it is, never what it says.
    return ImportValidationError(
        _BREACHED_FIELD,
        "(not shown)",
        expected,
        location=f"{path}, line {number}",
        hint="fix or remove that line, or start the server without the file",
    )


def load_breached_passwords(path: Path) -> frozenset[str]:
    """The SHA-1 digests of a local breached-password corpus (goal 14).

    The file is UTF-8 text with one entry a line, blank lines ignored. Its first entry
    decides its kind: a SHA-1 hex digest (``HASH`` or ``HASH:count``, the Have I Been
    Pwned download format) makes every line a digest; anything else makes every line a
    password in clear, which is hashed here and not kept.

    Raises
    ------
    ImportValidationError
        The file cannot be read, a line is not UTF-8, a line of a digest file is not a
        digest, a password line is longer than 128 characters or holds a control
        character, or the file holds no entry; the message names the file and line.
    """
    digests: set[str] = set()
    hashed: bool | None = None
    try:
        with path.open("rb") as corpus:
            for number, raw in enumerate(corpus, start=1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise _bad_corpus_line(path, number, "UTF-8 text") from None
                if number == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    continue
                digest = _SHA1_LINE.fullmatch(line.strip())
                if hashed is None:
                    hashed = digest is not None
                if hashed:
                    if digest is None:
                        raise _bad_corpus_line(
                            path, number, "a SHA-1 hex digest (HASH or HASH:count) like line 1"
                        )
                    digests.add(digest.group(1).lower())
                elif len(line) > _MAX_PASSWORD_LENGTH or any(ord(c) < 32 for c in line):
                    raise _bad_corpus_line(
                        path, number, "one password of at most 128 printable characters"
                    )
                else:
                    digests.add(password_sha1(line))
    except OSError as error:
        raise ImportValidationError(
            _BREACHED_FIELD,
            str(path),
            "a readable text file",
            location=str(path),
            hint=error.strerror or type(error).__name__,
        ) from None
    if not digests:
        raise _bad_corpus_line(path, 1, "at least one password or SHA-1 digest")
    return frozenset(digests)


def check_password_policy(
    password: str,
    *,
    min_length: int,
    username: str,
    breached_sha1: Collection[str] = frozenset(),
    field: str = "password",
) -> None:
    """Refuse a password the policy does not accept (reliability goal 14).

    At least ``min_length`` characters and at most 128; not the username; not one of
    the :func:`common_passwords` (compared without case) nor in ``breached_sha1`` (the
    digests of :func:`load_breached_passwords`). No composition rules and no forced
    aging (ASVS 6.2). The error never quotes the password.
    """
    if len(password) < min_length:
        raise InputError(
            field,
            f"{len(password)} characters",
            f"at least {min_length} characters",
            "a passphrase of several words is easy to remember and hard to guess",
        )
    if len(password) > _MAX_PASSWORD_LENGTH:
        raise InputError(field, f"{len(password)} characters", f"at most {_MAX_PASSWORD_LENGTH}")
    if password.strip().lower() == username.strip().lower():
        raise InputError(field, "the username", "a password other than the username")
    if password.strip().lower() in common_passwords() or password_sha1(password) in breached_sha1:
        raise InputError(
            field,
            "(hidden)",
            "a password that is not on the list of common or breached passwords",
            "choose a longer passphrase of several unrelated words",
        )


class PasswordHashing:
    """argon2id hashing with parameters at or above the OWASP minimum (goal 13)."""

    def __init__(
        self,
        *,
        time_cost: int = ARGON2_TIME_COST,
        memory_kib: int = ARGON2_MEMORY_KIB,
        parallelism: int = ARGON2_PARALLELISM,
    ) -> None:
        if time_cost < ARGON2_TIME_COST or memory_kib < ARGON2_MEMORY_KIB or parallelism < 1:
            raise InputError(
                "argon2 parameters",
                f"t={time_cost}, m={memory_kib} KiB, p={parallelism}",
                f"t ≥ {ARGON2_TIME_COST}, m ≥ {ARGON2_MEMORY_KIB} KiB, p ≥ 1",
            )
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Unknown usernames are checked against this hash so that they take as long as
        # known ones (goal 15: indistinguishable response times).
        self._decoy = self._hasher.hash(new_token())

    def hash(self, password: str) -> str:
        """The PHC string ``$argon2id$v=19$m=…,t=…,p=…$salt$hash``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash`` (``None``: no password set)."""
        if stored_hash is None:
            self.verify(self._decoy, password)
            return False
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether a verified hash is weaker than (or not the type of) the current policy."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as the routes see them."""

    user_id: int
    username: str
    display_name: str
    role: Role
    site_id: int | None


@dataclass(slots=True)
class WebSession:
    """One signed-in browser: who, its CSRF token, and when it started and was last used."""

    principal: Principal
    csrf_token: str
    created_at: datetime
    last_seen: datetime


class SessionStore:
    """Server-side sessions keyed by the SHA-256 of their token.

    Parameters
    ----------
    clock
        The UTC clock (frozen in tests).
    idle_timeout, absolute_timeout
        A session ends after ``idle_timeout`` without a request, or ``absolute_timeout``
        after it began.
    capacity
        The most live sessions kept; the oldest is dropped beyond it.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        idle_timeout: timedelta,
        absolute_timeout: timedelta,
        capacity: int = 10_000,
    ) -> None:
        self._clock = clock
        self._idle = idle_timeout
        self._absolute = absolute_timeout
        self._capacity = capacity
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal) -> tuple[str, WebSession]:
        """Start a session; return its token (for the cookie only) and the session."""
        token = new_token()
        now = self._clock()
        session = WebSession(principal, new_token(), now, now)
        with self._lock:
            self._sweep(now)
            if len(self._sessions) >= self._capacity:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].created_at)
                del self._sessions[oldest]
            self._sessions[token_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> WebSession | None:
        """The live session of ``token`` (touching it), or ``None`` if absent or expired."""
        if not token:
            return None
        key = token_digest(token)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[key]
                return None
            session.last_seen = now
            return session

    def revoke(self, token: str | None) -> None:
        """End the session of ``token`` (logout); a replayed cookie is then refused."""
        if token:
            with self._lock:
                self._sessions.pop(token_digest(token), None)

    def revoke_user(self, user_id: int) -> int:
        """End every session of one user (disabled account, changed password)."""
        with self._lock:
            keys = [k for k, s in self._sessions.items() if s.principal.user_id == user_id]
            for key in keys:
                del self._sessions[key]
        return len(keys)

    def replace_principal(self, token: str, principal: Principal) -> None:
        """Keep a session's principal in step with the registry (role or site changed)."""
        with self._lock:
            session = self._sessions.get(token_digest(token))
            if session is not None:
                session.principal = principal

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: WebSession, now: datetime) -> bool:
        return now - session.last_seen >= self._idle or now - session.created_at >= self._absolute

    def _sweep(self, now: datetime) -> None:
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


class LoginRefusal(StrEnum):
    """Why a login attempt was refused before the password was even checked."""

    LOCKED = "locked"
    """The account had too many failures recently."""
    RATE_LIMITED = "rate_limited"
    """The client address made too many attempts in the last minute."""


class LoginThrottle:
    """Per-account lockout and per-address rate limit of login attempts (goal 15)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        failures: int,
        window: timedelta,
        lockout: timedelta,
        attempts_per_minute: int,
    ) -> None:
        self._clock = clock
        self._failures = failures
        self._window = window
        self._lockout = lockout
        self._per_minute = attempts_per_minute
        self._account_failures: dict[str, deque[datetime]] = {}
        self._locked_until: dict[str, datetime] = {}
        self._address_attempts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, username: str, address: str) -> LoginRefusal | None:
        """Count an attempt; say why it must be refused, or ``None`` to check the password."""
        now = self._clock()
        account = username.strip().lower()
        with self._lock:
            if len(self._address_attempts) > _MAX_TRACKED:
                self._forget_idle(now)
            attempts = self._address_attempts.setdefault(address, deque())
            _prune(attempts, now - timedelta(minutes=1))
            attempts.append(now)
            if len(attempts) > self._per_minute:
                return LoginRefusal.RATE_LIMITED
            until = self._locked_until.get(account)
            if until is not None and now < until:
                return LoginRefusal.LOCKED
            self._locked_until.pop(account, None)
        return None

    def failed(self, username: str) -> bool:
        """Record a failed login; ``True`` when this failure locks the account."""
        now = self._clock()
        account = username.strip().lower()
        with self._lock:
            failures = self._account_failures.setdefault(account, deque())
            _prune(failures, now - self._window)
            failures.append(now)
            if len(failures) < self._failures:
                return False
            self._locked_until[account] = now + self._lockout
            del self._account_failures[account]
            return True

    def _forget_idle(self, now: datetime) -> None:
        # Bound the memory an attacker can make us spend by spraying names and addresses.
        minute_ago = now - timedelta(minutes=1)
        for key in [k for k, v in self._address_attempts.items() if not v or v[-1] <= minute_ago]:
            del self._address_attempts[key]
        window_start = now - self._window
        for key in [k for k, v in self._account_failures.items() if v[-1] <= window_start]:
            del self._account_failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]

    def succeeded(self, username: str) -> None:
        """Forget an account's failures after a successful login."""
        with self._lock:
            self._account_failures.pop(username.strip().lower(), None)


def _prune(times: deque[datetime], before: datetime) -> None:
    while times and times[0] <= before:
        times.popleft()
