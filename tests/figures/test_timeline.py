"""The registry adapter: one query per table, plain values, soft deletes, both back ends."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.figures import PatientTimeline, TimeZero, load_timelines
from mrdtrack.figures.timeline import axis_label, months_between
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import TreatmentCourse
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.store import get_patient, load_cohort, soft_delete
from mrdtrack.registry.vocabulary import OutcomeKind, TreatmentKind

# registry tables read by the adapter: patient (+ site), diagnosis, marker, treatment,
# assessment, adverse event, lab value, outcome, MRD result (+ sample, marker)
QUERIES_PER_LOAD = 9


def _load_demo(registry: Registry) -> None:
    with registry.transaction() as session:
        set_actor(session, AuditActor("tests"))
        load_cohort(session, demo_cohort())


def test_registry_round_trip_on_both_back_ends(registry: Registry) -> None:
    _load_demo(registry)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        with registry.sessions() as session:
            timelines = load_timelines(session)
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == QUERIES_PER_LOAD
    assert [t.study_id for t in timelines] == [f"SEED1-P{i:02d}" for i in range(1, 12)]
    assert sum(len(t.mrd) for t in timelines) == 99
    kinds = Counter(c.kind for t in timelines for c in t.treatments)
    assert kinds[TreatmentKind.HCT] == 5 and kinds[TreatmentKind.DLI] == 12
    p05 = timelines[4]
    assert p05.death_date == date(2022, 7, 3)
    assert p05.end_of_follow_up == date(2022, 7, 3)
    assert p05.first_blinatumomab == date(2021, 8, 2)
    assert p05.relapse_dates() == (date(2021, 4, 12), date(2022, 3, 21))
    assert "samples" in p05.reconstructed and "birth_date" in p05.reconstructed
    not_detected = [r for r in p05.mrd if not r.detected]
    assert not_detected and all(
        r.mrd_fraction is None and r.sensitivity_fraction is not None for r in not_detected
    )
    # Soft-deleted rows are left out.
    with registry.transaction() as session:
        set_actor(session, AuditActor("tests", reason="entered twice"))
        patient = get_patient(session, "SEED1-P05")
        dli = session.scalars(
            select(TreatmentCourse).where(
                TreatmentCourse.patient_id == patient.id, TreatmentCourse.kind == "dli"
            )
        ).first()
        assert dli is not None
        soft_delete(session, dli)
    with registry.sessions() as session:
        (reloaded,) = load_timelines(session, ["SEED1-P05"])
    assert len(reloaded.courses(TreatmentKind.DLI)) == len(p05.courses(TreatmentKind.DLI)) - 1


def test_a_subset_is_read_and_an_unknown_id_is_refused(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    from mrdtrack.registry.database import open_registry
    from tests.figures.demo import demo_url

    registry = open_registry(demo_url())
    try:
        with registry.sessions() as session:
            (one,) = load_timelines(session, ["SEED1-P02"])
            with pytest.raises(NotFoundError, match="SEED1-P99"):
                load_timelines(session, ["SEED1-P02", "SEED1-P99"])
    finally:
        registry.dispose()
    assert one == timelines[1]


def test_stored_mrd_values_rebuild_the_engine_result(patient: PatientTimeline) -> None:
    for entry in patient.mrd:
        result = entry.to_result()
        assert result.status is entry.status
        assert result.mrd_fraction == entry.mrd_fraction
        assert result.sensitivity_fraction == entry.sensitivity_fraction
    assert {e.status for e in patient.mrd} >= {MrdStatus.POSITIVE, MrdStatus.NEGATIVE}


@pytest.mark.parametrize(
    ("time_zero", "expected"),
    [
        pytest.param(TimeZero.DIAGNOSIS, date(2020, 7, 1), id="diagnosis"),
        pytest.param(TimeZero.BLINATUMOMAB, date(2021, 8, 2), id="blinatumomab"),
        pytest.param(TimeZero.HCT, date(2021, 11, 7), id="hct"),
    ],
)
def test_origins(patient: PatientTimeline, time_zero: TimeZero, expected: date) -> None:
    assert patient.origin(time_zero) == expected
    assert axis_label(time_zero).startswith("Months from ")


def test_the_remission_origin_is_left_to_the_end_points(patient: PatientTimeline) -> None:
    with pytest.raises(InputError, match="end points"):
        patient.origin(TimeZero.REMISSION)


def test_months_are_days_over_30_4375() -> None:
    assert months_between(date(2021, 1, 1), date(2021, 1, 1)) == 0.0
    assert months_between(date(2021, 1, 1), date(2022, 1, 1)) == pytest.approx(365 / 30.4375)
    assert months_between(date(2022, 1, 1), date(2021, 1, 1)) < 0


def test_end_of_follow_up_is_death_else_last_contact(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    for t in timelines:
        if t.death_date is None:
            assert t.end_of_follow_up == t.outcome_dates(OutcomeKind.LAST_CONTACT)[-1]
        assert all(r.sample_date <= t.end_of_follow_up for r in t.mrd)
