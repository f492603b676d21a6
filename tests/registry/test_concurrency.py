"""Concurrent writers on SQLite lose nothing and never see "database is locked" (goal 3).

Eight processes each run read-then-write transactions on one counter; with
``BEGIN IMMEDIATE`` and a busy timeout they queue, so the final count is exact and the
audit chain (one row per increment) verifies.
"""

from __future__ import annotations

import multiprocessing
from datetime import date
from pathlib import Path

from sqlalchemy import select

from mrdtrack.registry.audit import AuditActor, set_actor, verify_chain
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, LabValue, Patient
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import ensure_site

WORKERS = 8
INCREMENTS = 25


def _increment(url: str) -> str | None:
    registry = open_registry(url)
    try:
        for _ in range(INCREMENTS):
            with registry.transaction() as session:
                set_actor(session, AuditActor("worker", reason="concurrency test"))
                counter = session.get_one(LabValue, 1)
                counter.value = counter.value + 1
    except Exception as error:  # reported to the parent, which fails the test
        return repr(error)
    finally:
        registry.dispose()
    return None


def test_eight_writers_lose_no_update(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    registry = open_registry(url)
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("setup"))
        site = ensure_site(session, "S1", "Site")
        patient = Patient(study_id="C1", site_id=site.id, sex="female")
        session.add(patient)
        session.flush()
        session.add(
            LabValue(
                patient_id=patient.id,
                test="counter",
                sample_date=date(2020, 1, 1),
                value=0.0,
                unit="n",
            )
        )
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        errors = pool.map(_increment, [url] * WORKERS)
    assert errors == [None] * WORKERS
    with registry.transaction() as session:
        assert session.get_one(LabValue, 1).value == WORKERS * INCREMENTS
        chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    registry.dispose()
    assert chain.ok
    assert chain.entries == 3 + WORKERS * INCREMENTS
