"""The web application's settings, declared once as data with their help text.

:class:`WebSettings` is passed to :func:`mrdtrack.web.create_app`; nothing in the web
package reads the environment or a file at import time. The limits come from the
reliability goals (``shared/spec/reliability.md``): sessions expire after 30 minutes
idle and 12 hours in all (goal 16), an account locks for 15 minutes after 5 failed
logins in 15 minutes and one address may try 10 logins a minute (goal 15), passwords
have at least 12 characters (goal 14) and are not common or breached ones, and every
administrator signs in with a second factor (TOTP, goal 16). The settings may tighten
these limits, never loosen them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mrdtrack.errors import InputError

__all__ = ["WebSettings", "setting_help", "utc_now"]


def utc_now() -> datetime:
    """The server's clock: timezone-aware UTC (the default :attr:`WebSettings.clock`)."""
    return datetime.now(UTC)


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Settings of one web application instance (see each field's ``help``)."""

    production: bool = field(
        default=True,
        metadata=_help(
            "Production mode: no OpenAPI schema is served. Set False for development and "
            "for the API tests, which then read /api/v1/openapi.json (behind login)."
        ),
    )
    secure_cookies: bool = field(
        default=True,
        metadata=_help(
            "Send the session cookie as `__Host-mrdtrack` with Secure. False only for tests "
            "over plain http to a host a browser does not treat as secure: the cookie is "
            "then `mrdtrack`, without Secure. Never False on a server."
        ),
    )
    idle_timeout: timedelta = field(
        default=timedelta(minutes=30),
        metadata=_help("A session ends after this long without a request (at most 30 min)."),
    )
    absolute_timeout: timedelta = field(
        default=timedelta(hours=12),
        metadata=_help("A session ends this long after login, active or not (at most 12 h)."),
    )
    lockout_failures: int = field(
        default=5,
        metadata=_help("Failed logins of one account within lockout_window that lock it (≤ 5)."),
    )
    lockout_window: timedelta = field(
        default=timedelta(minutes=15),
        metadata=_help("The window in which failed logins are counted (≥ 15 min)."),
    )
    lockout_duration: timedelta = field(
        default=timedelta(minutes=15),
        metadata=_help("How long a locked account refuses every login (≥ 15 min)."),
    )
    login_attempts_per_minute: int = field(
        default=10,
        metadata=_help("Login attempts one client address may make per minute (≤ 10)."),
    )
    password_min_length: int = field(
        default=12,
        metadata=_help("Shortest password accepted when a user sets one (never below 8)."),
    )
    breached_passwords_file: Path | None = field(
        default=None,
        metadata=_help(
            "A local breached-password corpus refused when a user sets a password, on top of "
            "the built-in 3,000 most common passwords: a UTF-8 text file with one password per "
            "line, or one SHA-1 hex digest per line (`HASH` or `HASH:count`, as in the Have I "
            "Been Pwned download). Read once at start-up; a malformed line stops the start "
            "with an error naming the file and line."
        ),
    )
    admin_mfa_required: bool = field(
        default=True,
        metadata=_help(
            "Administrators must sign in with a second factor (TOTP, RFC 6238): one without "
            "it is sent to set it up and can reach nothing else until done (NIST 800-63B "
            "AAL2). Other roles may turn it on for themselves. Never False on a server."
        ),
    )
    alert_command: tuple[str, ...] = field(
        default=(),
        metadata=_help(
            "A program (argv, not a shell line) run for each account lockout, with the event "
            "as one JSON object on stdin (event, username, time_utc, client_address); it runs "
            "in the background with a 10 s limit, and a failure is logged, never shown to the "
            "user. Empty: lockouts are only logged."
        ),
    )
    max_upload_bytes: int = field(
        default=128 * 1024 * 1024,
        metadata=_help(
            "Largest file upload accepted by the import routes (413 above); the request is "
            "held in memory while its CSRF token is checked, so keep it within the server's "
            "memory divided by the imports run at once (two)."
        ),
    )
    request_threads: int = field(
        default=4,
        metadata=_help(
            "How many requests the server works on at once (the thread pool of the routes). "
            "Python runs one thread at a time, so more threads than cores only share the "
            "cores in smaller slices and every answer comes later: measured under 20 clients "
            "(docs/benchmarks.md, Web), 40 threads doubled the patient page's p95 against "
            "one. A few threads keep a slow request (a cold dashboard) from holding up the "
            "rest."
        ),
    )
    max_form_bytes: int = field(
        default=1_000_000,
        metadata=_help("Largest request body accepted by a state-changing route (413 above)."),
    )
    clock: Callable[[], datetime] = field(
        default=utc_now,
        metadata=_help("The UTC clock of sessions, lockouts and audit rows (tests freeze it)."),
    )

    def __post_init__(self) -> None:
        limits: list[tuple[str, bool, str]] = [
            (
                "idle_timeout",
                timedelta(0) < self.idle_timeout <= timedelta(minutes=30),
                "a duration > 0 and ≤ 30 minutes (reliability goal 16)",
            ),
            (
                "absolute_timeout",
                self.idle_timeout <= self.absolute_timeout <= timedelta(hours=12),
                "a duration ≥ idle_timeout and ≤ 12 hours (reliability goal 16)",
            ),
            (
                "lockout_failures",
                1 <= self.lockout_failures <= 5,
                "a whole number 1-5 (reliability goal 15)",
            ),
            (
                "lockout_window",
                self.lockout_window >= timedelta(minutes=15),
                "at least 15 minutes (reliability goal 15)",
            ),
            (
                "lockout_duration",
                self.lockout_duration >= timedelta(minutes=15),
                "at least 15 minutes (reliability goal 15)",
            ),
            (
                "login_attempts_per_minute",
                1 <= self.login_attempts_per_minute <= 10,
                "a whole number 1-10 (reliability goal 15)",
            ),
            (
                "password_min_length",
                8 <= self.password_min_length <= 64,
                "a whole number 8-64 (reliability goal 14)",
            ),
            ("max_form_bytes", self.max_form_bytes >= 1024, "at least 1024 bytes"),
            ("request_threads", 1 <= self.request_threads <= 64, "a whole number 1-64"),
            (
                "max_upload_bytes",
                self.max_upload_bytes >= self.max_form_bytes,
                "at least max_form_bytes",
            ),
            (
                "alert_command",
                isinstance(self.alert_command, tuple)
                and all(isinstance(part, str) for part in self.alert_command)
                and (not self.alert_command or bool(self.alert_command[0].strip())),
                "an argv tuple whose first item names the program, or () for none",
            ),
        ]
        for name, ok, expected in limits:
            if not ok:
                raise InputError(name, getattr(self, name), expected)


def setting_help() -> dict[str, str]:
    """Each setting's name and help text, for documentation."""
    return {f.name: f.metadata["help"] for f in fields(WebSettings)}
