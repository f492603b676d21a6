"""Recorded blinatumomab cycles of a patient, as the registry holds them.

:func:`recorded_cycles` says which days each recorded cycle occupies (for the planning
form's defaults and its overlap check); :func:`stored_cycle` lays a stored cycle's
calendar out from its stored dates and doses (the ``details`` that
:mod:`mrdtrack.web.cycle_entry` writes), never from a new computation. A course imported
without a calendar occupies its recorded days only and shows no day grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mrdtrack.errors import NotFoundError
from mrdtrack.registry.models import Patient
from mrdtrack.registry.vocabulary import TreatmentKind
from mrdtrack.therapy import US_LABEL
from mrdtrack.web.patients import live_rows, load_patient
from mrdtrack.web.security import Principal

__all__ = ["RecordedCycle", "StoredCycle", "StoredDay", "recorded_cycles", "stored_cycle"]

_INFUSION = timedelta(days=US_LABEL.infusion_days - 1)


@dataclass(frozen=True, slots=True)
class RecordedCycle:
    """A blinatumomab cycle already in the registry, and the days it occupies."""

    id: int
    cycle: int | None
    start_date: date
    end_date: date | None
    occupied_until: date
    next_start: date | None
    protocol: str | None
    has_calendar: bool


@dataclass(frozen=True, slots=True)
class StoredDay:
    """One day of a stored cycle, laid out from its stored dates."""

    date: date
    cycle_day: int
    kind: str
    infusion_day: int | None
    daily_dose_ug: float | None
    hospitalized: bool


@dataclass(frozen=True, slots=True)
class StoredCycle:
    """A recorded blinatumomab cycle as stored: its columns, details and days."""

    study_id: str
    id: int
    cycle: int | None
    start_date: date
    end_date: date | None
    details: Mapping[str, Any]
    days: tuple[StoredDay, ...]
    source: str | None


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def recorded_cycles(patient: Patient) -> tuple[RecordedCycle, ...]:
    """The live blinatumomab courses of a patient (relationships loaded), by start."""
    found = []
    for row in live_rows(patient.treatments, "start_date"):
        if row.kind != TreatmentKind.BLINATUMOMAB.value:
            continue
        details = row.details or {}
        free_end = _day(details.get("treatment_free_end"))
        # An imported course without a stored calendar occupies its recorded days only;
        # without an end date, its 28 planned infusion days.
        until = free_end or row.end_date or row.start_date + _INFUSION
        protocol = details.get("protocol")
        found.append(
            RecordedCycle(
                id=row.id,
                cycle=row.cycle,
                start_date=row.start_date,
                end_date=row.end_date,
                occupied_until=until,
                next_start=_day(details.get("next_cycle_start")),
                protocol=protocol if isinstance(protocol, str) else None,
                has_calendar=free_end is not None,
            )
        )
    return tuple(found)


def stored_cycle(session: Session, viewer: Principal, study_id: str, course_id: int) -> StoredCycle:
    """A recorded blinatumomab cycle with its days laid out from the stored dates.

    Raises
    ------
    NotFoundError
        No such patient for this viewer, or no blinatumomab course ``course_id`` of theirs.
    """
    patient = load_patient(session, viewer, study_id, full=True)
    for row in live_rows(patient.treatments, "start_date"):
        if row.id == course_id and row.kind == TreatmentKind.BLINATUMOMAB.value:
            details = dict(row.details or {})
            return StoredCycle(
                study_id=patient.study_id,
                id=row.id,
                cycle=row.cycle,
                start_date=row.start_date,
                end_date=row.end_date,
                details=details,
                days=_stored_days(row.start_date, details),
                source=row.source,
            )
    raise NotFoundError("blinatumomab cycle", str(course_id))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _stored_days(start: date, details: Mapping[str, Any]) -> tuple[StoredDay, ...]:
    """The days of a stored cycle from its stored dates and doses (none for imported rows)."""
    infusion_end = _day(details.get("infusion_end"))
    last = _day(details.get("treatment_free_end")) or infusion_end
    if infusion_end is None or last is None:
        return ()
    hospital_until = _day(details.get("hospitalized_until"))
    step_days = str(details.get("step_days", ""))
    last_step = step_days.rpartition("-")[2]
    step_to = int(last_step) if last_step.isdigit() else 0
    step_dose = _number(details.get("step_daily_dose_ug"))
    target = _number(details.get("daily_dose_ug"))
    days = []
    for offset in range((last - start).days + 1):
        when = start + timedelta(days=offset)
        infusing = when <= infusion_end
        number = offset + 1 if infusing else None
        dose = None
        if number is not None:
            dose = step_dose if number <= step_to else target
        days.append(
            StoredDay(
                date=when,
                cycle_day=offset + 1,
                kind="infusion" if infusing else "treatment_free",
                infusion_day=number,
                daily_dose_ug=dose,
                hospitalized=hospital_until is not None and when <= hospital_until,
            )
        )
    return tuple(days)
