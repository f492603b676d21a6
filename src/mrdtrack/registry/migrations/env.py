"""Alembic environment: runs the registry migrations on the connection mrdtrack passes in."""

from alembic import context
from sqlalchemy import Connection

from mrdtrack.registry.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Migrate online over ``config.attributes["connection"]`` (set by mrdtrack.registry)."""
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run the registry migrations through mrdtrack (mrdtrack init)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
