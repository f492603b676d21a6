"""Creating and upgrading the registry schema: Alembic migrations only, from version one.

Registries live for decades, so the schema is never created from the models directly:
:func:`init_registry` applies the migrations in ``mrdtrack/registry/migrations`` inside
one transaction, and a test checks that the models and the migrated schema agree.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mrdtrack.registry.database import Registry

__all__ = ["current_revision", "head_revision", "init_registry"]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("mrdtrack.registry") / "migrations"))
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of mrdtrack."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no registry migrations found")
    return head


def current_revision(registry: Registry) -> str | None:
    """The migration the registry's schema is at (``None`` for an empty database)."""
    with registry.engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    return revision


def init_registry(registry: Registry) -> str:
    """Create or upgrade the registry schema to the newest migration; return its revision."""
    config = _config()
    with registry.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head_revision()
