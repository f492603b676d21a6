"""The migrated schema matches the models; SQLite runs with the pragmas the goals require."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from mrdtrack.errors import InputError
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import Base
from mrdtrack.registry.schema import _config, current_revision, head_revision, init_registry


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


def test_a_version_one_registry_upgrades_with_its_rows(registry_url: str) -> None:
    """Migration 0002 on a registry that already holds accounts and finished imports:
    they keep their values, a finished import is ``done``, nobody must change a password."""
    registry = open_registry(registry_url)
    try:
        config = _config()
        with registry.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
        with registry.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO app_user (id, username, display_name, role, active) "
                    "VALUES (1, 'ada', 'Ada', 'admin', TRUE)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO import_job (id, source_sha256, filename, kind, rows, "
                    "finished_at, actor) VALUES (1, :sha, 'c.csv', 'csv', 12, :at, 'ada')"
                ),
                {"sha": "a" * 64, "at": datetime(2026, 1, 2, tzinfo=UTC)},
            )
        assert current_revision(registry) == "0001"
        assert init_registry(registry) == head_revision() == "0002"
        with registry.engine.connect() as connection:
            user = connection.execute(
                text("SELECT must_change_password, totp_secret FROM app_user")
            ).one()
            job = connection.execute(
                text("SELECT status, rows, rows_done, error FROM import_job")
            ).one()
        assert (bool(user[0]), user[1]) == (False, None)
        assert tuple(job) == ("done", 12, 0, None)
    finally:
        registry.dispose()
