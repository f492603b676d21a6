"""Audit trail: completeness, reasons, soft deletes, append-only, tamper evidence (goals 5–7)."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from mrdtrack.errors import InputError, MrdtrackError
from mrdtrack.registry.audit import GENESIS_HASH, AuditActor, set_actor, verify_chain
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import AuditEntry, Base, LabValue, Patient, Site, User
from mrdtrack.registry.store import ensure_site, soft_delete

FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def actor(reason: str | None = None) -> AuditActor:
    return AuditActor(user="tester", reason=reason, clock=lambda: FIXED)


def add_patient(registry: Registry, study_id: str = "P1") -> int:
    with registry.transaction() as session:
        set_actor(session, actor())
        site = ensure_site(session, "S1", "Site one")
        patient = Patient(
            study_id=study_id, site_id=site.id, sex="female", birth_date=date(2012, 5, 1)
        )
        session.add(patient)
        session.flush()
        return patient.id


def entries(registry: Registry) -> list[AuditEntry]:
    with registry.transaction() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_create_writes_one_row_per_record_with_server_time(registry: Registry) -> None:
    add_patient(registry)
    rows = entries(registry)
    assert [(r.action, r.entity) for r in rows] == [("create", "site"), ("create", "patient")]
    assert all(r.actor == "tester" and r.at_utc == "2026-01-02T03:04:05.000000+00:00" for r in rows)
    assert '"study_id": "P1"' in (rows[1].new_value or "")
    assert rows[0].prev_hash == GENESIS_HASH
    assert verify_chain(rows).ok


def change_sex(registry: Registry, patient_id: int, reason: str | None) -> None:
    with registry.transaction() as session:
        set_actor(session, actor(reason))
        session.get_one(Patient, patient_id).sex = "male"


def hard_delete(registry: Registry, patient_id: int) -> None:
    with registry.transaction() as session:
        set_actor(session, actor("no"))
        session.delete(session.get_one(Patient, patient_id))


def test_update_needs_a_reason_and_records_old_and_new(registry: Registry) -> None:
    patient_id = add_patient(registry)
    with pytest.raises(InputError, match="reason"):
        change_sex(registry, patient_id, reason=None)
    assert len(entries(registry)) == 2  # the refused change left nothing behind
    change_sex(registry, patient_id, reason="transcription error")
    last = entries(registry)[-1]
    assert (last.action, last.field, last.old_value, last.new_value, last.reason) == (
        "update",
        "sex",
        '"female"',
        '"male"',
        "transcription error",
    )


def test_soft_delete_is_audited_and_physical_delete_refused(registry: Registry) -> None:
    patient_id = add_patient(registry)
    with registry.transaction() as session:
        set_actor(session, actor("entered twice"))
        soft_delete(session, session.get_one(Patient, patient_id), clock=FIXED)
    assert entries(registry)[-1].action == "delete"
    with pytest.raises(MrdtrackError, match="never deleted"):
        hard_delete(registry, patient_id)
    with registry.transaction() as session:
        assert session.get_one(Patient, patient_id).deleted_at is not None


def test_writes_without_an_actor_are_refused(registry: Registry) -> None:
    with pytest.raises(MrdtrackError, match="acting user"), registry.transaction() as session:
        ensure_site(session, "S9", "Nine")


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_entry SET actor = 'x'", "DELETE FROM audit_entry"]
)
def test_database_refuses_changes_to_the_audit_table(registry: Registry, statement: str) -> None:
    add_patient(registry)
    with pytest.raises(DBAPIError, match="append-only"), registry.engine.begin() as connection:
        connection.execute(text(statement))


def _drop_triggers(registry: Registry) -> None:
    """What an attacker with database access would do first."""
    with registry.engine.begin() as connection:
        if registry.dialect == "postgresql":
            connection.execute(text("DROP TRIGGER audit_entry_no_change ON audit_entry"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER audit_entry_no_delete"))


def _populate(registry: Registry) -> None:
    add_patient(registry, "P1")
    add_patient(registry, "P2")
    with registry.transaction() as session:
        set_actor(session, actor())
        session.add(
            LabValue(
                patient_id=1, test="IgG", sample_date=date(2022, 1, 1), value=320.0, unit="mg/dL"
            )
        )


TAMPERINGS = {
    "edit": "UPDATE audit_entry SET new_value = '{}' WHERE seq = 3",
    "delete": "DELETE FROM audit_entry WHERE seq = 2",
    "reorder": "UPDATE audit_entry SET seq = seq + 100 WHERE seq = 2",
    "insert": (
        "INSERT INTO audit_entry (seq, at_utc, actor, action, entity, entity_id, prev_hash, "
        "entry_hash) VALUES (1000, 'x', 'x', 'create', 'patient', '9', 'x', 'forged')"
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_verify_names_the_first_broken_link(registry: Registry, kind: str) -> None:
    _populate(registry)
    assert verify_chain(entries(registry)).ok
    _drop_triggers(registry)
    with registry.engine.begin() as connection:
        connection.execute(text(TAMPERINGS[kind]))
    result = verify_chain(entries(registry))
    assert not result.ok
    assert result.first_broken_seq is not None
    assert result.problem


def test_credentials_never_enter_the_trail(registry: Registry) -> None:
    with registry.transaction() as session:
        set_actor(session, actor())
        user = User(
            username="alice",
            display_name="Alice",
            role="clinician",
            password_hash="$argon2id$SECRET1",
        )
        session.add(user)
        session.flush()
        user_id = user.id
    with registry.transaction() as session:
        set_actor(session, actor("password changed"))
        session.get_one(User, user_id).password_hash = "$argon2id$SECRET2"
    rows = entries(registry)
    text_of_trail = " ".join(f"{r.old_value} {r.new_value}" for r in rows)
    assert "SECRET" not in text_of_trail
    assert rows[-1].field == "password_hash"
    assert rows[-1].new_value == '"<redacted>"'


def test_reading_snapshot_refuses_changes(registry: Registry) -> None:
    patient_id = add_patient(registry)
    with registry.reading() as session:
        assert session.get_one(Patient, patient_id).study_id == "P1"
    with pytest.raises(MrdtrackError, match="read-only"):
        change_in_snapshot(registry, patient_id)


def change_in_snapshot(registry: Registry, patient_id: int) -> None:
    with registry.reading() as session:
        session.get_one(Patient, patient_id).sex = "male"
        session.flush()


def test_every_registry_opened_in_a_process_audits_its_writes(tmp_path: Path) -> None:
    """Registries opened and closed one after another each get their audit hooks.

    A guard that asked SQLAlchemy whether a new session factory was already hooked got
    "yes" when the factory reused a collected one's address: 2 in 40 then wrote data
    without an audit row. 200 registries make that all but certain to show.
    """
    unaudited = []
    for i in range(200):
        registry = open_registry(f"sqlite:///{tmp_path / f'r{i}.sqlite3'}")
        try:
            Base.metadata.create_all(registry.engine)  # the tables suffice here
            with registry.transaction() as session:
                set_actor(session, AuditActor("test"))
                session.add(Site(code=f"S{i}", name="a site"))
            with registry.reading() as session:
                if session.scalar(select(func.count()).select_from(AuditEntry)) != 1:
                    unaudited.append(i)
        finally:
            registry.dispose()
        del registry
        if i % 3 == 0:
            gc.collect()
    assert unaudited == []
