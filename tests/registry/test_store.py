"""Loading a cohort through the store: every MRD value recomputed by the engine, all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor, set_actor, verify_chain
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import AuditEntry, MrdResultRow, Patient, TreatmentCourse
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.store import get_patient, load_cohort, patient_count


def _load(registry: Registry) -> None:
    with registry.transaction() as session:
        set_actor(session, AuditActor("loader"))
        report = load_cohort(session, demo_cohort())
    assert report.patients == 11


def test_demo_cohort_lands_with_engine_computed_mrd(registry: Registry) -> None:
    _load(registry)
    document = demo_cohort()
    with registry.transaction() as session:
        assert patient_count(session) == 11
        stored = session.scalars(select(MrdResultRow).order_by(MrdResultRow.id)).all()
        expected = [
            mrd.compute(p.marker(mrd.marker) if mrd.marker else None)
            for p in document.patients
            for s in p.samples
            for mrd in s.mrd
        ]
        assert len(stored) == len(expected) > 0
        for row, result in zip(stored, expected, strict=True):
            assert row.status == result.status.value
            assert row.mrd_fraction == result.mrd_fraction
            assert row.sensitivity_fraction == result.sensitivity_fraction
            assert row.profile == result.profile
        hct = session.scalar(select(func.count()).where(TreatmentCourse.kind == "hct"))
        assert hct == 5
        p05 = get_patient(session, "SEED1-P05")
        assert p05.sex == "female"
        chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert chain.ok
    assert chain.entries > len(stored)


def test_loading_twice_is_refused_and_changes_nothing(registry: Registry) -> None:
    _load(registry)
    with registry.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(InputError, match="already loaded"):
        _load(registry)
    with registry.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert session.scalar(select(func.count()).select_from(Patient)) == 11
