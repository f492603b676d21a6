"""Bulk inserts for imports: many rows per statement, ids known before the insert.

The ORM path writes one statement per object, which caps an import at a few thousand
rows a second. Imports write through :class:`BulkTable` instead, inside the caller's
transaction, and audit the rows they wrote with
:func:`mrdtrack.registry.audit.append_changes` (one ``create`` row each, holding the
whole record, exactly as the ORM hook would):

* ids are allocated up front (:func:`allocate_ids`: ``max(id)`` under SQLite's
  ``BEGIN IMMEDIATE`` write lock; ``nextval`` of the column's sequence on PostgreSQL, so
  that concurrent ORM writers never collide with them), so that rows, references and
  audit rows are built before one ``executemany`` per table;
* values are converted to what the driver stores for the registry's column types (ISO
  text for SQLite dates, JSON text for JSON columns), so that the statement carries no
  per-row type processing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import JSON, Connection, Date, Dialect, Table, column, func, insert, select, table

__all__ = ["BulkTable", "allocate_ids"]


def allocate_ids(connection: Connection, target: Table, count: int, key: str = "id") -> list[int]:
    """Reserve ``count`` new primary-key values of ``target`` for this transaction.

    SQLite: the next values after ``max(key)`` (safe: the write lock is held from
    ``BEGIN IMMEDIATE`` to commit). PostgreSQL: ``nextval`` of the column's sequence.
    """
    if count <= 0:
        return []
    pk = target.c[key]
    if connection.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(target.name, key)
        values = connection.execute(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        ).scalars()
        return sorted(int(v) for v in values)
    highest = connection.execute(select(func.max(pk))).scalar_one_or_none() or 0
    return list(range(int(highest) + 1, int(highest) + 1 + count))


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


class BulkTable:
    """One registry table prepared for executemany inserts of plain values."""

    def __init__(self, target: Table, dialect: Dialect) -> None:
        self.target = target
        self.names = tuple(c.name for c in target.columns)
        self._json = tuple(i for i, c in enumerate(target.columns) if isinstance(c.type, JSON))
        dates = (i for i, c in enumerate(target.columns) if isinstance(c.type, Date))
        self._dates = tuple(dates) if dialect.name == "sqlite" else ()
        # Columns without a type: the driver receives the values exactly as prepared here.
        # The statement is compiled by SQLAlchemy once (never assembled from strings) and
        # run as the driver's own executemany, without per-row processing.
        compiled = insert(table(target.name, *(column(n) for n in self.names))).compile(
            dialect=dialect
        )
        self._sql = str(compiled)
        order = compiled.positiontup if compiled.positional else None
        self._order = None if order is None else tuple(self.names.index(n) for n in order)

    def stored(self, record: Mapping[str, Any]) -> list[Any]:
        """The values of one record as the driver stores them, in column order."""
        values = [record.get(name) for name in self.names]
        for i in self._json:
            value = values[i]
            values[i] = "[]" if value == [] else "{}" if value == {} else _JSON_TEXT(value)
        for i in self._dates:
            value = values[i]
            if isinstance(value, date):
                values[i] = value.isoformat()
        return values

    def insert(self, connection: Connection, records: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``records`` (each holding every column, its id included)."""
        if not records:
            return
        rows = [self.stored(r) for r in records]
        params: list[Any]
        if self._order is not None:
            params = [tuple(row[i] for i in self._order) for row in rows]
        else:
            params = [dict(zip(self.names, row, strict=True)) for row in rows]
        connection.exec_driver_sql(self._sql, params)

    def full_record(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every column of a new row, as the ORM audit hook records it (missing: ``None``)."""
        return {name: values.get(name) for name in self.names}
