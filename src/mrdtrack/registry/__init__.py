"""The registry: longitudinal patient data on SQLite (default) or PostgreSQL.

Adapter layer around the pure domain core: SQLAlchemy models (:mod:`.models`), opening
a database (:mod:`.database`), Alembic migrations (:mod:`.schema`), the audit trail
(:mod:`.audit`), the service API the CLI and the web app share (:mod:`.store`), and
backup/restore (:mod:`.backup`).
"""

__all__: list[str] = []
