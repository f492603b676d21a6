"""Backup → restore gives identical content and a verifying chain (reliability goal 4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.backup import backup_registry, restore_registry
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import AuditEntry, LabValue, Patient
from mrdtrack.registry.store import ensure_site


def _write(registry: Registry, study_id: str) -> None:
    with registry.transaction() as session:
        set_actor(session, AuditActor("tester"))
        site = ensure_site(session, "S1", "Site one")
        patient = Patient(study_id=study_id, site_id=site.id, sex="male")
        session.add(patient)
        session.flush()
        session.add(
            LabValue(
                patient_id=patient.id,
                test="IgG",
                sample_date=date(2023, 2, 1),
                value=410.0,
                unit="mg/dL",
            )
        )


def _snapshot(registry: Registry) -> tuple[list[str], int, str | None]:
    with registry.transaction() as session:
        ids = list(session.scalars(select(Patient.study_id).order_by(Patient.study_id)))
        count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        head = session.scalar(
            select(AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    return ids, count, head


def test_backup_then_restore_round_trips(registry: Registry, tmp_path: Path) -> None:
    _write(registry, "P1")
    before = _snapshot(registry)
    report = backup_registry(registry, tmp_path / "backup.bin")
    assert report.audit_entries == before[1]
    assert report.bytes > 0
    _write(registry, "P2")
    assert _snapshot(registry) != before
    restore_registry(registry, tmp_path / "backup.bin")
    assert _snapshot(registry) == before
    assert not list(tmp_path.glob(".mrdtrack-*"))  # no temporary files left behind


def test_restore_refuses_a_file_that_is_not_a_registry(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"not a database at all" * 100)
    try:
        with pytest.raises(InputError, match="SQLite registry file"):
            restore_registry(registry, bogus)
    finally:
        registry.dispose()


def test_backup_into_a_missing_directory_is_refused(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="existing directory"):
        backup_registry(registry, tmp_path / "nope" / "b.bin")
