"""Backup and restore (reliability goal 4; EU Annex 11 §7.2).

SQLite: the online backup API copies a consistent snapshot while writers go on; the copy
passes ``PRAGMA integrity_check`` and its audit chain verifies before it is fsynced and
atomically renamed into place, so a backup file is either complete and valid or absent.
PostgreSQL: ``pg_dump`` in custom format into a temporary file, then the same rename;
restore with ``pg_restore --clean``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, QcError
from mrdtrack.registry.audit import verify_chain
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import AuditEntry

__all__ = ["BackupReport", "backup_registry", "restore_registry"]


@dataclass(frozen=True, slots=True)
class BackupReport:
    """A finished backup or restore: where, how big, and the verified audit head."""

    path: Path
    bytes: int
    audit_entries: int
    audit_head: str


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_sqlite_file(path: Path) -> tuple[int, str]:
    """Integrity check and audit-chain verification of a SQLite registry file."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise InputError("FILE", str(path), "a SQLite registry file", str(error)) from None
    if status != "ok":
        raise QcError(f"{path}: integrity check failed: {status}", (str(status),))
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    finally:
        engine.dispose()
    if not chain.ok:
        raise QcError(f"{path}: audit chain broken: {chain.problem}", (chain.problem or "",))
    return chain.entries, chain.head_hash


def _postgres_dsn(registry: Registry) -> str:
    url = make_url(registry.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    executable = shutil.which(command[0])
    if executable is None:
        raise InputError(
            command[0], None, f"the {command[0]} program on PATH", "install postgresql-client"
        )
    completed = subprocess.run(  # noqa: S603 - fixed program, arguments passed as a list
        [executable, *command[1:]], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise QcError(f"{command[0]} failed: {completed.stderr.strip()}")


def backup_registry(registry: Registry, target: Path) -> BackupReport:
    """Write a verified backup of the registry to ``target`` (atomically)."""
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise InputError("FILE", str(target), "a path in an existing directory")
    handle, temporary = tempfile.mkstemp(prefix=".mrdtrack-backup-", dir=target.parent)
    os.close(handle)
    tmp = Path(temporary)
    try:
        if registry.dialect == "sqlite":
            raw = registry.engine.raw_connection()
            try:
                destination = sqlite3.connect(tmp)
                try:
                    raw.driver_connection.backup(destination)  # type: ignore[union-attr]
                finally:
                    destination.close()
            finally:
                raw.close()
            entries, head = _check_sqlite_file(tmp)
        else:
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    f"--file={tmp}",
                    f"--dbname={_postgres_dsn(registry)}",
                ]
            )
            with registry.transaction() as session:
                chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
            entries, head = chain.entries, chain.head_hash
        _fsync(tmp)
        tmp.replace(target)
        _fsync(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupReport(target, target.stat().st_size, entries, head)


def restore_registry(registry: Registry, source: Path) -> BackupReport:
    """Replace the registry's content with a backup, after checking the backup.

    The registry must not be in use. On SQLite the current file is replaced atomically
    (its WAL and shared-memory files removed first); on PostgreSQL ``pg_restore --clean``
    replaces every object.
    """
    source = source.expanduser().resolve()
    if not source.is_file():
        raise InputError("FILE", str(source), "an existing backup file")
    registry.dispose()
    if registry.dialect == "sqlite":
        entries, head = _check_sqlite_file(source)
        database = Path(make_url(registry.url).database or "").expanduser().resolve()
        handle, temporary = tempfile.mkstemp(prefix=".mrdtrack-restore-", dir=database.parent)
        os.close(handle)
        tmp = Path(temporary)
        shutil.copyfile(source, tmp)
        _fsync(tmp)
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        tmp.replace(database)
        _fsync(database.parent)
        return BackupReport(database, database.stat().st_size, entries, head)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={_postgres_dsn(registry)}",
            str(source),
        ]
    )
    with registry.transaction() as session:
        chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    if not chain.ok:
        raise QcError(f"restored registry: audit chain broken: {chain.problem}")
    return BackupReport(source, source.stat().st_size, chain.entries, chain.head_hash)
