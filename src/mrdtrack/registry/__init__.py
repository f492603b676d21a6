"""The registry: longitudinal patient data on SQLite (default) or PostgreSQL.

Adapter layer around the pure domain core:

* storage: SQLAlchemy models (:mod:`.models`), opening a database (:mod:`.database`),
  Alembic migrations (:mod:`.schema`), the hash-chained audit trail (:mod:`.audit`),
  backup and restore (:mod:`.backup`);
* the service API the CLI and the web app share (:mod:`.store`, :mod:`.cohort` for
  analytics reads);
* cohort documents: record types (:mod:`.records`, :mod:`.vocabulary`), the case-report
  demo cohort and synthetic cohorts (:mod:`.synth`);
* tabular data: the data dictionary (:mod:`.dictionary`), import (:mod:`.importer` with
  :mod:`.tabular`, :mod:`.cells`, :mod:`.rowchecks`, :mod:`.redcap`, :mod:`.bulk`),
  export (:mod:`.exporter`) and its privacy modes (:mod:`.privacy`).
"""

__all__: list[str] = []
