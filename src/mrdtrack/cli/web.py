"""``mrdtrack serve`` and ``mrdtrack user add``: run the web app, create its accounts.

There is no default account: ``user add`` creates one with a random one-time password
and prints it once (reliability goal 14); the user must replace it at first sign-in, and
an administrator then sets up two-step sign-in (TOTP, goal 16). ``serve`` runs one
uvicorn process (sessions, login counters and TOTP replay memory live in it) over an
existing registry; its logs are JSON lines that name route templates, never paths,
queries or patient data (goal 27).
"""

from __future__ import annotations

import getpass
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from mrdtrack.cli.output import EXIT_OK, JsonFlag, emit_json, key_value_table, stdout_console
from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.schema import current_revision, head_revision
from mrdtrack.settings import load_settings

__all__ = ["serve_command", "user_app"]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir)."
    ),
]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

user_app = typer.Typer(help="Accounts of the web application.", no_args_is_help=True)


def _registry(db: str | None) -> Registry:
    return open_registry(db or load_settings(os.environ).db_url)


def _require_schema(registry: Registry) -> None:
    revision = current_revision(registry)
    if revision is None:
        raise InputError(
            "--db",
            registry.url,
            "an initialised registry",
            "create it first with `mrdtrack init --db URL` (or `mrdtrack demo --db URL` for "
            "the demo cohort)",
        )
    if revision != head_revision():
        raise InputError(
            "--db",
            registry.url,
            f"a registry at schema revision {head_revision()} (it is at {revision})",
            "upgrade it with `mrdtrack init --db URL` after a backup",
        )


@user_app.command("add")
def user_add_command(
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[
        str,
        typer.Option(
            help="admin, clinician, data_manager, lab, statistician (de-identified data "
            "only) or monitor (read-only)."
        ),
    ],
    site: Annotated[
        str | None,
        typer.Option("--site", help="Site code: the user sees only that site's patients."),
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the app.")
    ] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Create an account and print its one-time password (shown once; not stored in clear).

    The user must choose their own password at first sign-in; an administrator also sets
    up two-step sign-in (an authenticator app) before anything else opens.
    JSON keys: username, role, site, password.
    """
    # Imported here so that the other commands do not pay for loading the web stack.
    from mrdtrack.web.accounts import create_user
    from mrdtrack.web.security import PasswordHashing

    registry = _registry(db)
    try:
        _require_schema(registry)
        with registry.transaction() as session:
            set_actor(session, AuditActor(user=f"cli:{getpass.getuser()}"))
            account = create_user(
                session,
                PasswordHashing(),
                username=username,
                role=role,
                site_code=site,
                display_name=display_name,
            )
    finally:
        registry.dispose()
    if as_json:
        emit_json(
            {
                "username": account.username,
                "role": account.role.value,
                "site": account.site_code,
                "password": account.password,
            }
        )
        return EXIT_OK
    stdout_console().print(
        key_value_table(
            "account created",
            [
                ("username", account.username),
                ("role", account.role.value),
                ("site", account.site_code or "all sites"),
                ("one-time password", account.password),
                (
                    "next",
                    "give it to the user privately; at first sign-in they choose their own"
                    + (
                        ", then set up two-step sign-in with an authenticator app"
                        if account.role.value == "admin"
                        else ""
                    ),
                ),
            ],
        )
    )
    return EXIT_OK


def _alert_argv(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    try:
        argv = tuple(shlex.split(value))
    except ValueError:
        raise InputError("--alert-command", value, "a command line with balanced quotes") from None
    if not argv:
        raise InputError("--alert-command", value, "a program to run, with its arguments")
    return argv


def _logging() -> None:
    # The app's own JSON lines (access, security, errors) go to stderr.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    web_logger = logging.getLogger("mrdtrack.web")
    web_logger.handlers[:] = [handler]
    web_logger.setLevel(logging.INFO)
    web_logger.propagate = False


def serve_command(
    db: DbOption = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on; keep 127.0.0.1 unless behind TLS.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    tls_cert: Annotated[
        str | None, typer.Option("--tls-cert", help="PEM certificate: serve https directly.")
    ] = None,
    tls_key: Annotated[
        str | None, typer.Option("--tls-key", help="PEM private key of --tls-cert.")
    ] = None,
    alert_command: Annotated[
        str | None,
        typer.Option(
            "--alert-command",
            help="Program run at each account lockout with the event as JSON on stdin, "
            'e.g. "/usr/local/bin/page-oncall --team registry" (split like a shell line, '
            "run without a shell, 10 s limit).",
        ),
    ] = None,
    breached_passwords: Annotated[
        Path | None,
        typer.Option(
            "--breached-passwords",
            help="Breached-password corpus refused as new passwords: one password or SHA-1 "
            "hex digest (HIBP HASH:count) per line.",
        ),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            min=1,
            max=64,
            help="Requests worked on at once (WebSettings.request_threads; see docs/settings.md).",
        ),
    ] = 4,
) -> int:
    """Run the web application over the registry (Ctrl-C stops it).

    Sign in with an account made by `mrdtrack user add NAME --role ROLE`. Session cookies
    are Secure: browsers accept them over http only from 127.0.0.1/localhost, so serve
    other hosts with --tls-cert/--tls-key or behind a TLS reverse proxy.
    """
    import uvicorn

    from mrdtrack.web import WebSettings, create_app

    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-key", tls_key, "both --tls-cert and --tls-key, or neither")
    command = _alert_argv(alert_command)
    url = db or load_settings(os.environ).db_url
    registry = open_registry(url)
    try:
        _require_schema(registry)
    finally:
        registry.dispose()
    settings = WebSettings(
        alert_command=command,
        breached_passwords_file=breached_passwords,
        request_threads=threads,
    )
    app = create_app(url, settings=settings)
    scheme = "https" if tls_cert else "http"
    if host not in _LOOPBACK and tls_cert is None:
        sys.stderr.write(
            "warning: serving plain http on a non-loopback interface; browsers will not keep "
            "the Secure session cookie there: use --tls-cert/--tls-key or a TLS proxy\n"
        )
    stdout_console().print(
        f"mrdtrack web app on {scheme}://{host}:{port} (registry {url}); Ctrl-C stops it"
    )
    _logging()
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        access_log=False,
        log_level="warning",
        server_header=False,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )
    return EXIT_OK
