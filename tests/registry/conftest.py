"""Registry fixtures: every registry test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.schema import init_registry

_databases = itertools.count()


def _fresh_postgres_database(server: str) -> str:
    # The process id keeps names apart when two test sessions share one server.
    name = f"mrdtrack_test_{os.getpid()}_{next(_databases)}"
    url = make_url(server + "postgres")
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return server + name


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    server: str = request.getfixturevalue("postgres_server")
    return _fresh_postgres_database(server)


@pytest.fixture
def registry(registry_url: str) -> Iterator[Registry]:
    """An initialised (migrated) registry on each back end."""
    opened = open_registry(registry_url)
    init_registry(opened)
    try:
        yield opened
    finally:
        opened.dispose()
