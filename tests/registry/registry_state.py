"""Helpers of the import/export tests: a registry's state, and a second empty registry."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.dictionary import TableRows
from mrdtrack.registry.exporter import registry_tables
from mrdtrack.registry.models import AuditEntry, Base
from mrdtrack.registry.schema import init_registry

_names = itertools.count()


@dataclass(frozen=True)
class State:
    """Row counts of every table and the audit chain's head: equal states, equal registries."""

    counts: dict[str, int]
    audit_head: str | None


def state(registry: Registry) -> State:
    with registry.engine.connect() as connection:
        counts = {
            name: connection.scalar(select(func.count()).select_from(table)) or 0
            for name, table in Base.metadata.tables.items()
        }
        head = connection.scalar(
            select(AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
        connection.rollback()
    return State(counts, head)


def content(registry: Registry) -> tuple[TableRows, ...]:
    """The clinical content as the full export reads it (no database ids)."""
    with registry.engine.connect() as connection:
        tables = registry_tables(connection)
        connection.rollback()
    return tables


def empty_registry_like(registry: Registry, tmp_path: Path) -> Registry:
    """A new, initialised registry on the same back end as ``registry``."""
    if registry.dialect == "sqlite":
        url = f"sqlite:///{tmp_path / f'second-{next(_names)}.sqlite3'}"
    else:
        parsed = make_url(registry.url)
        name = f"mrdtrack_second_{next(_names)}_{parsed.database}"
        with psycopg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        url = parsed.set(database=name).render_as_string(hide_password=False)
    second = open_registry(url)
    init_registry(second)
    return second
