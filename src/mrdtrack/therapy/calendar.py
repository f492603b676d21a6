"""Blinatumomab cycle calendar from a start date, with interruptions (BLIN-02 … BLIN-04).

Calendar rule (domain rules §6.2, derived): infusion days 1-28, then the treatment-free
interval (14 days; 56 after relapsed continued-therapy cycles 6-9); the next cycle's day 1
is the day after it. Hospitalization (BLIN-03): relapsed — the first 9 days of cycle 1 and
the first 2 of cycle 2; MRD-positive and consolidation — the first 3 days of cycle 1 and
the first 2 of cycle 2; every later cycle start and every restart after an interruption
of ≥ 4 hours needs supervision by a health-care professional or hospitalization.
Premedication reminders follow the setting and the age group; rules not retrieved from
the label are shown as unconfirmed.

Interruptions (BLIN-04): an interruption of ≤ 7 days continues the *same* cycle until it
has 28 infusion days in all; a longer one ends the cycle and starts a *new* one on the day
the infusion resumes (premedicate, supervise, hospitalization as for that cycle). An
interruption is given by its first day without infusion and its length in days; it must
start on a planned infusion day. All numbers come from :mod:`mrdtrack.therapy.label`.

Sources: BLINCYTO US Prescribing Information (via drugs.com, PMC6368716, blincytohcp.com).
Dates are passed in; this module never reads the clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.therapy.blinatumomab import (
    BlinatumomabDose,
    DoseStep,
    Indication,
    blinatumomab_dose,
    require_indication,
)
from mrdtrack.therapy.bsa import BsaFormula
from mrdtrack.therapy.label import (
    US_LABEL,
    AgeGroup,
    BlinatumomabLabel,
    IndicationSchedule,
    PremedicationEvent,
)

__all__ = [
    "CalendarDay",
    "CalendarEvent",
    "CycleCalendar",
    "CycleSchedule",
    "CycleStatus",
    "DayKind",
    "EventKind",
    "Interruption",
    "InterruptionOutcome",
    "cycle_calendar",
]


class DayKind(StrEnum):
    """What happens on a calendar day of a cycle."""

    INFUSION = "infusion"
    INTERRUPTED = "interrupted"
    TREATMENT_FREE = "treatment_free"


class CycleStatus(StrEnum):
    """How a cycle ended."""

    COMPLETED = "completed"
    """All infusion days given (interruptions ≤ 7 days included)."""
    STOPPED = "stopped"
    """Interrupted for more than 7 days: a new cycle starts when the infusion resumes."""


class EventKind(StrEnum):
    """Dated reminders on a cycle."""

    HOSPITALIZATION = "hospitalization"
    SUPERVISION = "supervision"
    PREMEDICATION = "premedication"
    STEP_UP = "step_up"
    INTERRUPTION = "interruption"


@dataclass(frozen=True, slots=True)
class Interruption:
    """An interruption of the infusion: its first day without infusion and its length."""

    start: date
    length_days: int
    reason: str = "adverse event"

    @property
    def resume(self) -> date:
        """The day the infusion resumes."""
        return self.start + timedelta(days=self.length_days)


@dataclass(frozen=True, slots=True)
class InterruptionOutcome:
    """Where an interruption fell and what it did: ``same_cycle`` or ``new_cycle``."""

    interruption: Interruption
    cycle_day: int
    infusion_days_before: int
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "start": self.interruption.start.isoformat(),
            "resume": self.interruption.resume.isoformat(),
            "length_days": self.interruption.length_days,
            "reason": self.interruption.reason,
            "cycle_day": self.cycle_day,
            "infusion_days_before": self.infusion_days_before,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A dated reminder (premedication, hospitalization, supervision, step-up …)."""

    date: date
    kind: EventKind
    text: str
    unconfirmed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "date": self.date.isoformat(),
            "kind": self.kind.value,
            "text": self.text,
            "unconfirmed": self.unconfirmed,
        }


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day of a cycle; ``infusion_day`` counts infusion days only (1 … 28)."""

    date: date
    cycle_day: int
    kind: DayKind
    infusion_day: int | None
    daily_dose_ug: float | None
    hospitalized: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "date": self.date.isoformat(),
            "cycle_day": self.cycle_day,
            "kind": self.kind.value,
            "infusion_day": self.infusion_day,
            "daily_dose_ug": self.daily_dose_ug,
            "hospitalized": self.hospitalized,
        }


@dataclass(frozen=True, slots=True)
class CycleSchedule:
    """One cycle: its dated days, interruptions, reminders and the next cycle's start."""

    cycle: int
    phase: str
    start: date
    status: CycleStatus
    days: tuple[CalendarDay, ...]
    interruptions: tuple[InterruptionOutcome, ...]
    events: tuple[CalendarEvent, ...]
    next_cycle_start: date
    dose: BlinatumomabDose | None

    def _dates(self, kind: DayKind) -> tuple[date, ...]:
        return tuple(day.date for day in self.days if day.kind is kind)

    @property
    def infusion_dates(self) -> tuple[date, ...]:
        """The dates with infusion."""
        return self._dates(DayKind.INFUSION)

    @property
    def treatment_free_dates(self) -> tuple[date, ...]:
        """The dates of the treatment-free interval (none for a stopped cycle)."""
        return self._dates(DayKind.TREATMENT_FREE)

    @property
    def hospitalization_dates(self) -> tuple[date, ...]:
        """The dates of recommended hospitalization."""
        return tuple(day.date for day in self.days if day.hospitalized)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (see :meth:`CycleCalendar.to_dict`)."""
        infusion = self.infusion_dates
        free = self.treatment_free_dates
        return {
            "cycle": self.cycle,
            "phase": self.phase,
            "status": self.status.value,
            "start": self.start.isoformat(),
            "infusion_days": len(infusion),
            "infusion_start": infusion[0].isoformat() if infusion else None,
            "infusion_end": infusion[-1].isoformat() if infusion else None,
            "treatment_free_days": len(free),
            "treatment_free_start": free[0].isoformat() if free else None,
            "treatment_free_end": free[-1].isoformat() if free else None,
            "next_cycle_start": self.next_cycle_start.isoformat(),
            "hospitalization_dates": [d.isoformat() for d in self.hospitalization_dates],
            "interruptions": [i.to_dict() for i in self.interruptions],
            "events": [e.to_dict() for e in self.events],
            "steps": None if self.dose is None else [s.to_dict() for s in self.dose.steps],
            "days": [d.to_dict() for d in self.days],
        }


@dataclass(frozen=True, slots=True)
class CycleCalendar:
    """A multi-cycle blinatumomab calendar with the profile that produced it."""

    indication: Indication
    start: date
    first_cycle: int
    cycles_requested: int
    age_group: AgeGroup | None
    cycles: tuple[CycleSchedule, ...]
    next_cycle_start: date
    warnings: tuple[str, ...]
    label_version: str
    source: str
    unconfirmed: tuple[str, ...]
    rule: str = "BLIN-02, BLIN-03, BLIN-04"

    def to_dict(self) -> dict[str, Any]:
        """The ``mrdtrack calendar blinatumomab --json`` object.

        Top level: ``indication``, ``start``, ``first_cycle``, ``cycles_requested``,
        ``age_group``, ``cycles`` (one object per cycle, stopped ones included),
        ``next_cycle_start`` (after the last cycle), ``warnings``, ``unconfirmed``,
        ``label_version``, ``source``, ``rule``. Each cycle: ``cycle``, ``phase``,
        ``status`` (``completed`` | ``stopped``), ``start``, ``infusion_days``,
        ``infusion_start``, ``infusion_end``, ``treatment_free_days``,
        ``treatment_free_start``, ``treatment_free_end``, ``next_cycle_start``,
        ``hospitalization_dates``, ``interruptions``, ``events`` (``date``, ``kind``,
        ``text``, ``unconfirmed``), ``steps`` (dose steps, or null without a weight) and
        ``days`` (``date``, ``cycle_day``, ``kind``, ``infusion_day``, ``daily_dose_ug``,
        ``hospitalized``).
        """
        return {
            "indication": self.indication.value,
            "start": self.start.isoformat(),
            "first_cycle": self.first_cycle,
            "cycles_requested": self.cycles_requested,
            "age_group": None if self.age_group is None else self.age_group.value,
            "cycles": [c.to_dict() for c in self.cycles],
            "next_cycle_start": self.next_cycle_start.isoformat(),
            "warnings": list(self.warnings),
            "unconfirmed": list(self.unconfirmed),
            "label_version": self.label_version,
            "source": self.source,
            "rule": self.rule,
        }


def _require_date(field: str, value: object) -> date:
    # datetime is a date subclass; a time of day would make day arithmetic ambiguous.
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InputError(field, value, "a calendar date (YYYY-MM-DD)")
    return value


@dataclass(frozen=True, slots=True)
class _Plan:
    indication: Indication
    schedule: IndicationSchedule
    label: BlinatumomabLabel
    age_group: AgeGroup | None
    doses: dict[int, BlinatumomabDose]


def cycle_calendar(
    *,
    start: date,
    indication: Indication | str,
    cycles: int,
    first_cycle: int = 1,
    interruptions: Sequence[Interruption] = (),
    age_years: float | None = None,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER,
    label: BlinatumomabLabel = US_LABEL,
) -> CycleCalendar:
    """Dated blinatumomab cycles from ``start`` (BLIN-02 … BLIN-04).

    Parameters
    ----------
    start
        Day 1 of ``first_cycle``.
    indication
        ``mrd``, ``relapsed`` or ``consolidation``.
    cycles
        Completed cycles to lay out; ``first_cycle + cycles - 1`` may not exceed the
        indication's maximum (MRD 4, relapsed 9, consolidation 4 [U], SEED-1 2).
    first_cycle
        The number of the first cycle (6 for a relapsed continued-therapy cycle).
    interruptions
        Interruptions, each starting on a planned infusion day.
    age_years
        Chooses the adult or children's premedication; without it both are shown.
    weight_kg, height_cm
        With both, every infusion day carries its label dose (:func:`blinatumomab_dose`).
    bsa_formula
        For the dose.
    label
        The dosing profile.

    Examples
    --------
    >>> cal = cycle_calendar(start=date(2025, 1, 1), indication="mrd", cycles=1)
    >>> c = cal.cycles[0]
    >>> c.infusion_dates[-1], c.treatment_free_dates[-1], c.next_cycle_start
    (datetime.date(2025, 1, 28), datetime.date(2025, 2, 11), datetime.date(2025, 2, 12))
    """
    day_one = _require_date("start", start)
    setting = require_indication(indication)
    schedule = label.schedule(setting)
    first = require_count("first_cycle", first_cycle, minimum=1)
    count = require_count("cycles", cycles, minimum=1)
    if first > schedule.max_cycles or first + count - 1 > schedule.max_cycles:
        room = max(schedule.max_cycles - first + 1, 0)
        raise InputError(
            "cycles",
            cycles,
            f"at most {room} cycle(s) from cycle {first} ({setting.value}: up to "
            f"{schedule.max_cycles} cycles, {label.label})",
        )
    age_group = _age_group(age_years, label)
    numbers = range(first, first + count)
    plan = _Plan(
        setting,
        schedule,
        label,
        age_group,
        _doses(weight_kg, height_cm, bsa_formula, setting, numbers, label),
    )
    pending = deque(_checked(interruptions))
    built: list[CycleSchedule] = []
    number, completed, restarted, cycle_start = first, 0, False, day_one
    while completed < count:
        cycle = _one_cycle(plan, number, cycle_start, pending, restarted=restarted)
        built.append(cycle)
        restarted = cycle.status is CycleStatus.STOPPED
        if not restarted or not label.restart_repeats_cycle_number:
            completed += 1
            number += 1
        cycle_start = cycle.next_cycle_start
    if pending:
        raise _misplaced(pending[0])
    warnings: list[str] = []
    if age_group is None:
        warnings.append("age not given: premedication reminders for adults and children both shown")
    for dose in plan.doses.values():
        warnings.extend(w for w in dose.warnings if w not in warnings)
    return CycleCalendar(
        indication=setting,
        start=day_one,
        first_cycle=first,
        cycles_requested=count,
        age_group=age_group,
        cycles=tuple(built),
        next_cycle_start=cycle_start,
        warnings=tuple(warnings),
        label_version=label.label,
        source=label.source,
        unconfirmed=label.unconfirmed,
    )


def _age_group(age_years: float | None, label: BlinatumomabLabel) -> AgeGroup | None:
    if age_years is None:
        return None
    age = require_number("age_years", age_years, minimum=0, maximum=130)
    return AgeGroup.CHILD if age < label.adult_age_years else AgeGroup.ADULT


def _doses(
    weight_kg: float | None,
    height_cm: float | None,
    bsa_formula: BsaFormula,
    indication: Indication,
    numbers: range,
    label: BlinatumomabLabel,
) -> dict[int, BlinatumomabDose]:
    if weight_kg is None:
        return {}
    if height_cm is None:
        raise InputError(
            "height_cm", None, "a height in cm", "give the height with the weight to add doses"
        )
    return {
        n: blinatumomab_dose(
            weight_kg=weight_kg,
            height_cm=height_cm,
            indication=indication,
            cycle=n,
            bsa_formula=bsa_formula,
            label=label,
        )
        for n in numbers
    }


def _checked(interruptions: Sequence[Interruption]) -> list[Interruption]:
    """The interruptions in date order; overlapping or adjacent ones are refused."""
    checked = []
    for item in interruptions:
        if not isinstance(item, Interruption):
            raise InputError("interruption", item, "an Interruption(start, length_days)")
        _require_date("interruption", item.start)
        require_count("interruption", item.length_days, minimum=1)
        checked.append(item)
    checked.sort(key=lambda i: i.start)
    for before, after in pairwise(checked):
        if after.start <= before.resume:
            raise InputError(
                "interruption",
                f"{after.start.isoformat()}:{after.length_days}",
                f"a start after {before.resume.isoformat()}, when the previous interruption ends",
                "give overlapping or adjacent interruptions as one interruption",
            )
    return checked


def _misplaced(item: Interruption) -> InputError:
    return InputError(
        "interruption",
        f"{item.start.isoformat()}:{item.length_days}",
        "an interruption that starts on a planned infusion day of the calendar",
        f"{item.start.isoformat()} is not one (before the start, in a treatment-free interval "
        "or after the last cycle)",
    )


def _one_cycle(
    plan: _Plan,
    number: int,
    day_one: date,
    pending: deque[Interruption],
    *,
    restarted: bool,
) -> CycleSchedule:
    """Lay out one cycle from ``day_one``, consuming the interruptions that fall in it."""
    label, schedule = plan.label, plan.schedule
    dose = plan.doses.get(number)
    hospital_days = schedule.hospitalized_days(number)
    days: list[CalendarDay] = []
    outcomes: list[InterruptionOutcome] = []
    events = _start_events(plan, number, day_one, hospital_days, restarted=restarted)

    def add(when: date, kind: DayKind, infusion_day: int | None = None) -> None:
        cycle_day = (when - day_one).days + 1
        daily = None
        if dose is not None and infusion_day is not None:
            daily = dose.step_on(infusion_day).daily_dose_ug
        days.append(
            CalendarDay(when, cycle_day, kind, infusion_day, daily, cycle_day <= hospital_days)
        )

    def finish(status: CycleStatus, next_start: date) -> CycleSchedule:
        return CycleSchedule(
            cycle=number,
            phase=schedule.phase_of(number),
            start=day_one,
            status=status,
            days=tuple(days),
            interruptions=tuple(outcomes),
            events=tuple(events),
            next_cycle_start=next_start,
            dose=dose,
        )

    today, infused = day_one, 0
    while infused < label.infusion_days:
        if pending and pending[0].start < today:
            raise _misplaced(pending[0])
        if pending and pending[0].start == today:
            item = pending.popleft()
            for offset in range(item.length_days):
                add(today + timedelta(days=offset), DayKind.INTERRUPTED)
            same = item.length_days <= label.toxicity.max_interruption_same_cycle_days
            outcome = "same_cycle" if same else "new_cycle"
            start_day = (today - day_one).days + 1
            outcomes.append(InterruptionOutcome(item, start_day, infused, outcome))
            then = "the same cycle continues" if same else "a new cycle starts on resumption"
            events.append(
                CalendarEvent(
                    today,
                    EventKind.INTERRUPTION,
                    f"interrupted {item.length_days} day(s) ({item.reason}): {then}",
                )
            )
            if not same:
                return finish(CycleStatus.STOPPED, item.resume)
            today = item.resume
            events.extend(_restart_events(plan, number, today))
            continue
        infused += 1
        add(today, DayKind.INFUSION, infused)
        if number in schedule.step_dosing_cycles and infused == label.step_days + 1:
            events.extend(_step_events(plan, number, today, dose))
        today += timedelta(days=1)
    for _ in range(label.treatment_free_days_after(plan.indication, number)):
        add(today, DayKind.TREATMENT_FREE)
        today += timedelta(days=1)
    return finish(CycleStatus.COMPLETED, today)


def _premedication(
    plan: _Plan, number: int, when: date, event: PremedicationEvent
) -> list[CalendarEvent]:
    groups = (AgeGroup.ADULT, AgeGroup.CHILD) if plan.age_group is None else (plan.age_group,)
    found = []
    for group in groups:
        for rule in plan.schedule.premedication_for(group):
            if event in rule.events and (number == 1 or not rule.first_cycle_only):
                prefix = f"{group.value}: " if plan.age_group is None else ""
                marker = " [unconfirmed]" if rule.unconfirmed else ""
                found.append(
                    CalendarEvent(
                        when,
                        EventKind.PREMEDICATION,
                        f"{prefix}{rule.text}{marker}",
                        rule.unconfirmed,
                    )
                )
    return found


def _start_events(
    plan: _Plan, number: int, day_one: date, hospital_days: int, *, restarted: bool
) -> list[CalendarEvent]:
    why = " (new cycle after an interruption > 7 days)" if restarted else ""
    if hospital_days:
        last = day_one + timedelta(days=hospital_days - 1)
        first = CalendarEvent(
            day_one,
            EventKind.HOSPITALIZATION,
            f"hospitalization recommended for the first {hospital_days} days of cycle {number}, "
            f"{day_one.isoformat()} to {last.isoformat()}{why}",
        )
    else:
        first = CalendarEvent(
            day_one,
            EventKind.SUPERVISION,
            f"cycle {number} start: supervision by a health-care professional or "
            f"hospitalization{why}",
        )
    return [first, *_premedication(plan, number, day_one, PremedicationEvent.CYCLE_START)]


def _restart_events(plan: _Plan, number: int, when: date) -> list[CalendarEvent]:
    hours = plan.label.toxicity.supervision_after_interruption_hours
    return [
        CalendarEvent(
            when,
            EventKind.SUPERVISION,
            f"restart after an interruption of ≥ {hours} h: supervision by a health-care "
            "professional or hospitalization",
        ),
        *_premedication(plan, number, when, PremedicationEvent.RESTART),
    ]


def _step_events(
    plan: _Plan, number: int, when: date, dose: BlinatumomabDose | None
) -> list[CalendarEvent]:
    step: DoseStep | None = None if dose is None else dose.step_on(plan.label.step_days + 1)
    shown = "" if step is None else f" ({step.level.formula})"
    return [
        CalendarEvent(
            when, EventKind.STEP_UP, f"step up from the step dose to the target dose{shown}"
        ),
        *_premedication(plan, number, when, PremedicationEvent.STEP_DOSE),
    ]
