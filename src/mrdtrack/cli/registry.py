"""Registry commands: ``init``, ``demo``, ``audit verify``, ``backup``, ``restore``."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from mrdtrack.cli.output import EXIT_OK, JsonFlag, emit_json, key_value_table, stdout_console
from mrdtrack.errors import QcError
from mrdtrack.registry.audit import AuditActor, set_actor, verify_chain
from mrdtrack.registry.backup import backup_registry, restore_registry
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import AuditEntry
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.registry.synth import synthetic_cohort
from mrdtrack.settings import load_settings

__all__ = [
    "audit_app",
    "backup_command",
    "demo_command",
    "init_command",
    "restore_command",
    "synth_command",
]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir)."
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Acting user recorded in the audit trail (default: your login)."),
]


def _registry(db: str | None) -> Registry:
    return open_registry(db or load_settings(os.environ).db_url)


def _actor(user: str | None, reason: str | None = None) -> AuditActor:
    return AuditActor(user=user or f"cli:{getpass.getuser()}", reason=reason)


def _print(title: str, payload: Mapping[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(payload)
    else:
        stdout_console().print(key_value_table(title, [(k, str(v)) for k, v in payload.items()]))


def init_command(db: DbOption = None, as_json: JsonFlag = False) -> int:
    """Create the registry (or upgrade its schema) at --db."""
    registry = _registry(db)
    try:
        revision = init_registry(registry)
    finally:
        registry.dispose()
    _print("registry", {"url": registry.url, "schema_revision": revision}, as_json)
    return EXIT_OK


def demo_command(db: DbOption = None, user: UserOption = None, as_json: JsonFlag = False) -> int:
    """Create the registry if needed and load the case-report cohort (11 patients)."""
    registry = _registry(db)
    try:
        init_registry(registry)
        document = demo_cohort()
        with registry.transaction() as session:
            set_actor(session, _actor(user))
            report = load_cohort(session, document)
    finally:
        registry.dispose()
    _print(
        "demo cohort loaded",
        {
            "url": registry.url,
            "cohort": report.cohort_id,
            "patients": report.patients,
            "mrd_results": report.mrd_results,
            "rows": report.rows,
        },
        as_json,
    )
    return EXIT_OK


def synth_command(
    patients: Annotated[int, typer.Option("--patients", min=1, help="Number of patients.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cohort).")] = 0,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Create the registry if needed and load a synthetic cohort (demos, benchmarks)."""
    registry = _registry(db)
    try:
        init_registry(registry)
        document = synthetic_cohort(patients, seed)
        with registry.transaction() as session:
            set_actor(session, _actor(user))
            report = load_cohort(session, document)
    finally:
        registry.dispose()
    _print(
        "synthetic cohort loaded",
        {
            "url": registry.url,
            "cohort": report.cohort_id,
            "patients": report.patients,
            "mrd_results": report.mrd_results,
            "rows": report.rows,
        },
        as_json,
    )
    return EXIT_OK


audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify_command(db: DbOption = None, as_json: JsonFlag = False) -> int:
    """Check the hash chain of the audit trail; name the first broken link (exit 1 if broken)."""
    registry = _registry(db)
    try:
        with registry.transaction() as session:
            chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    finally:
        registry.dispose()
    payload = {
        "ok": chain.ok,
        "entries": chain.entries,
        "first_broken_seq": chain.first_broken_seq,
        "problem": chain.problem,
        "head_hash": chain.head_hash,
    }
    _print("audit chain", payload, as_json)
    if not chain.ok:
        raise QcError(f"audit chain broken at entry {chain.first_broken_seq}: {chain.problem}")
    return EXIT_OK


def backup_command(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Write a verified backup (SQLite online backup; pg_dump on PostgreSQL)."""
    registry = _registry(db)
    try:
        report = backup_registry(registry, file)
    finally:
        registry.dispose()
    _print(
        "backup",
        {"path": str(report.path), "bytes": report.bytes, "audit_entries": report.audit_entries},
        as_json,
    )
    return EXIT_OK


def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup written by `mrdtrack backup`.")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> int:
    """Replace the registry's content with a checked backup (stop other users first)."""
    registry = _registry(db)
    report = restore_registry(registry, file)
    _print(
        "restore",
        {
            "path": str(report.path),
            "audit_entries": report.audit_entries,
            "audit_head": report.audit_head,
        },
        as_json,
    )
    return EXIT_OK
