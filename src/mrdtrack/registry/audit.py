"""The audit trail: one hash-chained row per change, written in the same transaction.

Reliability goals 5–7 (21 CFR 11.10(e); EU Annex 11; ICH E6(R3) 4.2.2):

* every create, update and soft delete of a clinical row, from any interface or import,
  writes audit rows in the transaction that makes the change: a create writes one row
  holding the new record; an update writes one row per changed field (old → new); the
  acting user and the server's UTC time are recorded, never values a client supplies;
* a change after first entry needs a reason;
* clinical rows are never physically deleted (a soft delete sets ``deleted_at``);
* ``entry_hash = SHA-256(prev_hash ‖ canonical JSON of the row)``, so that
  :func:`verify_chain` detects any edited, deleted, inserted or reordered row and names
  the first broken link; database triggers (created by the migrations) refuse UPDATE
  and DELETE on the audit table.

Writers take the chain in turn: ``BEGIN IMMEDIATE`` on SQLite, a transaction-level
advisory lock on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, event, insert, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import get_history

from mrdtrack.errors import InputError, MrdtrackError
from mrdtrack.registry.models import AuditEntry, Base, ImportJob

__all__ = [
    "GENESIS_HASH",
    "AuditActor",
    "ChainVerification",
    "Change",
    "append_changes",
    "audit_value",
    "install_audit",
    "install_read_only_guard",
    "lock_chain",
    "set_actor",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_PG_CHAIN_LOCK = 0x6D72_6474  # "mrdt": the advisory lock that serialises chain appends
_NOT_AUDITED = (AuditEntry, ImportJob)
_PENDING = "mrdtrack_audit_pending"
_AUDIT_TABLE: Table = AuditEntry.__table__  # type: ignore[assignment]
_ACTOR = "mrdtrack_audit_actor"


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who is changing the registry, and why (the reason is required for changes)."""

    user: str
    reason: str | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def set_actor(session: Session, actor: AuditActor) -> None:
    """Name the acting user (and reason) for every change made in ``session``."""
    session.info[_ACTOR] = actor


def audit_value(value: Any) -> str | None:
    """The canonical JSON text of a value as the audit trail stores it."""
    if value is None:
        return None
    return _VALUE_ENCODER.encode(value)


def _json_default(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


# One encoder each, built once: json.dumps with options builds a new encoder per call.
_VALUE_ENCODER = json.JSONEncoder(sort_keys=True, default=_json_default, ensure_ascii=False)
_DIGEST_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _row_digest(prev_hash: str, row: dict[str, Any]) -> str:
    payload = _DIGEST_ENCODER.encode([prev_hash, *(row[k] for k in _HASHED_FIELDS)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HASHED_FIELDS = (
    "at_utc",
    "actor",
    "action",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "reason",
)


# Credentials never enter the permanent audit trail: the trail says that they changed.
_REDACTED = frozenset({"password_hash", "totp_secret"})
_REDACTED_TEXT = "<redacted>"


def _record(obj: Base) -> dict[str, Any]:
    mapper = inspect(type(obj))
    return {
        attr.key: _REDACTED_TEXT if attr.key in _REDACTED else getattr(obj, attr.key)
        for attr in mapper.column_attrs
    }


def _entity_id(obj: Base) -> str:
    key = inspect(type(obj)).primary_key_from_instance(obj)
    return "/".join(str(part) for part in key)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    changes: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    for obj in session.deleted:
        if not isinstance(obj, _NOT_AUDITED):
            raise MrdtrackError(
                f"{type(obj).__name__} rows are never deleted: use a soft delete with a reason"
            )
    for obj in session.dirty:
        if isinstance(obj, _NOT_AUDITED) or not session.is_modified(obj):
            continue
        for attr in inspect(type(obj)).column_attrs:
            history = get_history(obj, attr.key)
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if audit_value(old) == audit_value(new):
                continue
            if attr.key in _REDACTED:
                old = _REDACTED_TEXT if old is not None else None
                new = _REDACTED_TEXT if new is not None else None
            action = "delete" if attr.key == "deleted_at" and new is not None else "update"
            changes.append(
                {
                    "action": action,
                    "entity": type(obj).__tablename__,
                    "obj": obj,
                    "field": attr.key,
                    "old_value": audit_value(old),
                    "new_value": audit_value(new),
                }
            )


def _after_flush(session: Session, _context: Any) -> None:
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    created = [
        Change(
            "create",
            type(obj).__tablename__,
            _entity_id(obj),
            None,
            None,
            audit_value(_record(obj)),
        )
        for obj in session.new
        if not isinstance(obj, _NOT_AUDITED)
    ]
    updated = [
        Change(
            c["action"],
            c["entity"],
            _entity_id(c["obj"]),
            c["field"],
            c["old_value"],
            c["new_value"],
        )
        for c in pending
    ]
    if created or updated:
        append_changes(session, [*created, *updated])


@dataclass(frozen=True, slots=True)
class Change:
    """One change to audit: a create (whole record), an update (one field), a delete, an export."""

    action: str
    entity: str
    entity_id: str
    field: str | None
    old_value: str | None
    new_value: str | None


def lock_chain(session: Session) -> None:
    """Take the chain in turn (PostgreSQL advisory lock; SQLite holds BEGIN IMMEDIATE)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})


def append_changes(session: Session, changes: Sequence[Change]) -> None:
    """Append audit rows for ``changes`` to the chain, in the session's transaction.

    The ORM hooks call this for every flush; bulk writers (cohort loads, imports) and
    exports call it directly with the changes they made through SQLAlchemy Core.
    """
    actor: AuditActor | None = session.info.get(_ACTOR)
    if actor is None:
        raise MrdtrackError("registry changes need an acting user: call set_actor() first")
    edits = [c for c in changes if c.action in {"update", "delete"}]
    if edits and not (actor.reason and actor.reason.strip()):
        change = edits[0]
        raise InputError(
            "reason",
            actor.reason,
            "a reason for changing data after first entry",
            f"{change.entity}.{change.field} would change from {change.old_value} to "
            f"{change.new_value}; say why (e.g. 'transcription error corrected')",
        )
    lock_chain(session)
    connection = session.connection()
    prev = connection.execute(
        select(AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = prev or GENESIS_HASH
    at_utc = actor.clock().astimezone(UTC).isoformat(timespec="microseconds")
    rows = []
    for change in changes:
        row = {
            "at_utc": at_utc,
            "actor": actor.user,
            "action": change.action,
            "entity": change.entity,
            "entity_id": change.entity_id,
            "field": change.field,
            "old_value": change.old_value,
            "new_value": change.new_value,
            "reason": actor.reason,
        }
        row["prev_hash"] = prev_hash
        row["entry_hash"] = prev_hash = _row_digest(prev_hash, row)
        rows.append(row)
    connection.execute(insert(_AUDIT_TABLE), rows)


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise MrdtrackError("a read-only registry session cannot change data")


def install_read_only_guard(session: Session) -> None:
    """Make ``session`` refuse every change (for :meth:`Registry.reading`)."""
    event.listen(session, "before_flush", _refuse_writes)


def install_audit(sessions: sessionmaker[Session]) -> None:
    """Attach the audit hooks to every session the factory makes (call once per factory).

    Unconditionally: ``event.contains`` keys its answer on ``id()`` of the target, and a
    new factory that takes the address of a collected one was reported as already
    hooked — 2 registries in 40 opened one after another in a process then wrote data
    without a single audit row (``tests/registry/test_audit.py`` opens 200).
    """
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "after_flush", _after_flush)


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of checking the audit chain."""

    ok: bool
    entries: int
    first_broken_seq: int | None
    problem: str | None
    head_hash: str


def verify_chain(rows: Iterable[AuditEntry]) -> ChainVerification:
    """Check every link of the chain, in ``seq`` order; name the first broken link."""
    prev_hash = GENESIS_HASH
    count = 0
    last_seq = 0
    for entry in rows:
        count += 1
        if entry.seq <= last_seq:
            return _broken(count, entry.seq, f"sequence {entry.seq} follows {last_seq}", prev_hash)
        if entry.prev_hash != prev_hash:
            return _broken(
                count,
                entry.seq,
                f"entry {entry.seq} does not follow the previous entry (a row was removed, "
                "inserted or reordered before it)",
                prev_hash,
            )
        recomputed = _row_digest(prev_hash, {k: getattr(entry, k) for k in _HASHED_FIELDS})
        if recomputed != entry.entry_hash:
            return _broken(
                count, entry.seq, f"entry {entry.seq} was altered after it was written", prev_hash
            )
        prev_hash = entry.entry_hash
        last_seq = entry.seq
    return ChainVerification(True, count, None, None, prev_hash)


def _broken(count: int, seq: int, problem: str, head: str) -> ChainVerification:
    return ChainVerification(False, count, seq, problem, head)
