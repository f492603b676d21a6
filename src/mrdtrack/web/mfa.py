"""The second sign-in factor: time-based one-time passwords (TOTP, RFC 6238).

Administrators must use it (reliability goal 16; NIST SP 800-63B AAL2); other roles may
turn it on for themselves. The pieces:

* :func:`new_secret`, :func:`provisioning_uri` and :func:`qr_svg` — what an
  authenticator app scans at enrolment (a 160-bit base32 secret, the ``otpauth://`` URI,
  and its QR code as inline SVG: no external image and no script);
* :func:`matching_step` — RFC 6238 verification: HMAC-SHA-1 over the 30-second step
  ``T = floor(unix_time / 30)``, dynamic truncation to 6 digits (RFC 4226 §5.3), the
  codes of steps ``T - 1``, ``T`` and ``T + 1`` accepted (RFC 6238 §5.2, one step of clock
  drift either way);
* :class:`TotpVerifier` — the same, refusing a code of a step at or before the last one
  accepted for that account (RFC 6238 §5.2: a code is good once), remembered in this
  process (the server runs as one process);
* :class:`PendingLogins` — the pre-session between a correct password and a correct
  code: it opens nothing but ``/login/mfa`` and ends after 5 minutes;
* :class:`EnrolmentOffers` — the secret shown on the enrolment page, kept until the user
  confirms it with a code (only then is it stored in the account).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno

from mrdtrack.web.security import Principal, new_token, token_digest

__all__ = [
    "MFA_STEP_PATH",
    "PENDING_LIFETIME",
    "TOTP_DIGITS",
    "TOTP_INTERVAL_S",
    "EnrolmentOffers",
    "PendingLogin",
    "PendingLogins",
    "TotpVerifier",
    "matching_step",
    "new_secret",
    "normalise_code",
    "provisioning_uri",
    "qr_svg",
    "totp_code",
]

MFA_STEP_PATH = "/login/mfa"
"""The only path a pending pre-session opens."""
PENDING_LIFETIME = timedelta(minutes=5)
TOTP_DIGITS = 6
TOTP_INTERVAL_S = 30
_TOLERANCE_STEPS = 1
_ISSUER = "mrdtrack"
_OFFER_LIFETIME = timedelta(minutes=15)
_CAPACITY = 10_000


def new_secret() -> str:
    """A new TOTP secret: 160 random bits as 32 base32 characters (RFC 4226 §4, R6)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL_S).provisioning_uri(
        name=username, issuer_name=_ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (dark modules on white)."""
    code = segno.make(uri, error="m")
    svg: str = code.svg_inline(
        scale=5, dark="#1d2430", light="#ffffff", title="QR code of the two-step sign-in secret"
    )
    return svg


def _step(at: datetime, interval_s: int) -> int:
    return int(at.timestamp()) // interval_s


def totp_code(secret: str, step: int, *, digits: int = TOTP_DIGITS) -> str:
    """The code of time step ``step`` (RFC 6238 with HMAC-SHA-1)."""
    return pyotp.TOTP(secret, digits=digits).generate_otp(step)


def normalise_code(code: str) -> str:
    """The code as typed, without the spaces or hyphens apps show for readability."""
    return code.replace(" ", "").replace("-", "").strip()


def matching_step(
    secret: str,
    code: str,
    at: datetime,
    *,
    digits: int = TOTP_DIGITS,
    interval_s: int = TOTP_INTERVAL_S,
    tolerance_steps: int = _TOLERANCE_STEPS,
) -> int | None:
    """The time step whose code ``code`` is, within ``tolerance_steps`` of ``at``; or ``None``.

    RFC 6238 §4: ``T = floor((unix_time - T0) / X)`` with ``T0 = 0`` and ``X =
    interval_s``; the code is HOTP(secret, T) (RFC 4226 §5.3) with ``digits`` digits.
    Every candidate is compared in constant time.
    """
    given = normalise_code(code)
    if len(given) != digits or not given.isascii() or not given.isdigit():
        return None
    current = _step(at, interval_s)
    found = None
    for step in range(current - tolerance_steps, current + tolerance_steps + 1):
        if step >= 0 and hmac.compare_digest(totp_code(secret, step, digits=digits), given):
            found = step
    return found


class TotpVerifier:
    """TOTP verification that accepts each code once (replay refused, RFC 6238 §5.2).

    The last accepted step of each account is kept in this process; a code of that
    step or an earlier one is refused even when it is otherwise right.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._last_step: dict[int, int] = {}
        self._lock = threading.Lock()

    def verify(self, user_id: int, secret: str, code: str) -> bool:
        """Whether ``code`` is a current, unused code of ``secret``; remembers it if so."""
        step = matching_step(secret, code, self._clock())
        if step is None:
            return False
        with self._lock:
            if step <= self._last_step.get(user_id, -1):
                return False
            if len(self._last_step) >= _CAPACITY:
                # Codes older than the tolerance window cannot be replayed anyway.
                oldest = _step(self._clock(), TOTP_INTERVAL_S) - _TOLERANCE_STEPS - 1
                self._last_step = {k: v for k, v in self._last_step.items() if v >= oldest}
            self._last_step[user_id] = step
        return True


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A correct password awaiting its second factor: not a session."""

    principal: Principal
    csrf_token: str
    next_path: str | None
    created_at: datetime


class PendingLogins:
    """Pre-sessions of the second sign-in step, keyed by the SHA-256 of their token.

    A pending login opens only :data:`MFA_STEP_PATH` and ends :data:`PENDING_LIFETIME`
    after the password was accepted, whether used or not.
    """

    def __init__(
        self, clock: Callable[[], datetime], lifetime: timedelta = PENDING_LIFETIME
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._pending: dict[str, PendingLogin] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal, next_path: str | None) -> str:
        """Open a pending login; return its token (for the cookie only)."""
        token = new_token()
        now = self._clock()
        with self._lock:
            for key in [k for k, p in self._pending.items() if self._expired(p, now)]:
                del self._pending[key]
            if len(self._pending) >= _CAPACITY:
                oldest = min(self._pending, key=lambda k: self._pending[k].created_at)
                del self._pending[oldest]
            self._pending[token_digest(token)] = PendingLogin(
                principal, new_token(), next_path, now
            )
        return token

    def get(self, token: str | None) -> PendingLogin | None:
        """The live pending login of ``token``, or ``None``."""
        if not token:
            return None
        key = token_digest(token)
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None and self._expired(pending, self._clock()):
                del self._pending[key]
                return None
            return pending

    def revoke(self, token: str | None) -> None:
        """End a pending login (completed, locked out or abandoned)."""
        if token:
            with self._lock:
                self._pending.pop(token_digest(token), None)

    def revoke_user(self, user_id: int) -> None:
        """End every pending login of one account (password changed, account disabled)."""
        with self._lock:
            for key in [k for k, p in self._pending.items() if p.principal.user_id == user_id]:
                del self._pending[key]

    def _expired(self, pending: PendingLogin, now: datetime) -> bool:
        return now - pending.created_at >= self._lifetime


class EnrolmentOffers:
    """The secret offered to each account on the enrolment page, until confirmed.

    Reloading the page shows the same secret (the one already scanned stays good);
    an offer lapses after 15 minutes.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._offers: dict[int, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def offer(self, user_id: int) -> str:
        """The account's current offer, or a new secret."""
        now = self._clock()
        with self._lock:
            current = self._offers.get(user_id)
            if current is not None and now - current[1] < _OFFER_LIFETIME:
                return current[0]
            if len(self._offers) >= _CAPACITY:
                self._offers = {
                    k: v for k, v in self._offers.items() if now - v[1] < _OFFER_LIFETIME
                }
            secret = new_secret()
            self._offers[user_id] = (secret, now)
            return secret

    def current(self, user_id: int) -> str | None:
        """The account's live offer, or ``None`` when none was made or it lapsed."""
        with self._lock:
            current = self._offers.get(user_id)
        if current is None or self._clock() - current[1] >= _OFFER_LIFETIME:
            return None
        return current[0]

    def withdraw(self, user_id: int) -> None:
        """Forget the account's offer (it was confirmed)."""
        with self._lock:
            self._offers.pop(user_id, None)
