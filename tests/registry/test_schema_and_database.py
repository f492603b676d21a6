"""The migrated schema matches the models; SQLite runs with the pragmas the goals require."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mrdtrack.errors import InputError
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import Base
from mrdtrack.registry.schema import current_revision, head_revision, init_registry


def test_migrations_create_exactly_the_models(registry: Registry) -> None:
    with registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert current_revision(registry) == head_revision()


def test_init_is_idempotent(registry: Registry) -> None:
    assert init_registry(registry) == head_revision()


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        init_registry(registry)
        assert registry.pragma("journal_mode") == "wal"
        assert registry.pragma("synchronous") == "2"  # FULL
        assert registry.pragma("foreign_keys") == "1"
        assert registry.pragma("busy_timeout") == "5000"
    finally:
        registry.dispose()


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "mysql://x@y/z", "not a url", "postgresql+asyncpg://x@y/z"],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="--db"):
        open_registry(url)
