"""Connecting to the registry: SQLite (embedded default) or PostgreSQL, chosen by URL.

SQLite is opened the way its documentation recommends for one machine with several
writers (reliability goals 2 and 3): ``journal_mode=WAL``, ``synchronous=FULL`` (a
committed import survives power loss), ``foreign_keys=ON``, a 5 s busy timeout, and
every transaction opened with ``BEGIN IMMEDIATE`` so that two writers queue instead of
failing later with "database is locked". PostgreSQL (``postgresql+psycopg://…``) runs
the same models; writers serialise on the audit chain with a transaction-level lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from mrdtrack.errors import InputError
from mrdtrack.registry.audit import install_audit, install_read_only_guard

__all__ = ["Registry", "open_registry"]

_BUSY_TIMEOUT_MS = 5_000
_READ_ONLY = "mrdtrack_read_only"
# The web server runs sync routes on a thread pool (40 threads): give it as many
# connections, so that slow requests queue for the database instead of failing.
_POOL: dict[str, int] = {"pool_size": 10, "max_overflow": 30, "pool_timeout": 120}
_PRAGMAS = frozenset({"journal_mode", "synchronous", "foreign_keys", "busy_timeout"})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions: BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers queue for the write lock up front; readers (Registry.reading) take a
        # deferred snapshot, which in WAL mode never blocks or waits for a writer.
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@dataclass(frozen=True, slots=True)
class Registry:
    """An open registry: its engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    reader: Engine
    """``engine`` with the read-only execution options of :meth:`reading` (made once)."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back (leaving nothing) on error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only snapshot: takes no write lock, and refuses any change made in it."""
        with Session(self.reader, expire_on_commit=False) as session, session.begin():
            session.info[_READ_ONLY] = True
            install_read_only_guard(session)
            yield session
            session.rollback()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def pragma(self, name: str) -> str:
        """Read one of the SQLite pragmas this module sets (for checks and tests)."""
        if name not in _PRAGMAS:
            raise InputError("pragma", name, f"one of: {', '.join(sorted(_PRAGMAS))}")
        with self.engine.connect() as connection:
            value = connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
            connection.rollback()
        return str(value)


def open_registry(url: str) -> Registry:
    """Open (not create) the registry at ``url``; run :func:`init_registry` to create it.

    Raises
    ------
    InputError
        The URL is malformed or names a database mrdtrack does not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            "--db",
            url,
            "a database URL such as sqlite:///registry.sqlite3 or "
            "postgresql+psycopg://user@host/dbname",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in {"", ":memory:"}:
            raise InputError(
                "--db", url, "a SQLite file path (an in-memory registry would vanish at exit)"
            )
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000}, **_POOL)
        _configure_sqlite(engine)
    elif backend == "postgresql":
        if parsed.get_driver_name() not in {"psycopg", "psycopg2"}:
            raise InputError("--db", url, "a postgresql+psycopg:// URL (psycopg 3)")
        engine = create_engine(parsed, pool_pre_ping=True, **_POOL)
    else:
        raise InputError("--db", url, "a sqlite:/// or postgresql+psycopg:// URL")
    sessions = sessionmaker(engine, expire_on_commit=False)
    install_audit(sessions)
    reader = engine.execution_options(**{_READ_ONLY: True})
    if engine.dialect.name == "postgresql":
        reader = reader.execution_options(postgresql_readonly=True)
    return Registry(url=url, engine=engine, sessions=sessions, reader=reader)
