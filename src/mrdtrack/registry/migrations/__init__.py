"""Alembic migrations of the registry schema (applied by mrdtrack.registry.schema)."""
