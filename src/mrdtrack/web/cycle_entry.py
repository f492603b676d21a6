"""Blinatumomab cycle planning for one patient: verify the dose, lay out the cycle, store it.

The page ``/patients/{study_id}/blinatumomab/new`` and its JSON twins call
:func:`plan_patient_cycle` (the preview: writes nothing) and :func:`save_cycle` (one
``treatment_course`` row, in a session whose acting user is named, so the audit trail
records it). The numbers are :mod:`mrdtrack.therapy`'s, through
:func:`mrdtrack.web.tools.plan_cycle`: the label dose by weight band or BSA with its basis
(BLIN-01, BSA-01), the check of the prescribed dose (reliability goal 28: mg and 10×
entries and doses above the caps are hard stops), and the dated cycle (BLIN-02, BLIN-03).
The protocol — a shipped protocol with a blinatumomab schedule — sets the indication and
the dosing profile; nothing clinical is decided here.

What the registry adds (each refusal names its field):

* ``weight_kg`` / ``height_cm``: as entered, else the patient's latest lab value ``weight``
  in kg / ``height`` in cm on or before the start (the dose warns when the weight is older
  than the safety limits allow); a weight is required, and so is a height, because the
  dose check records the BSA at every weight;
* ``cycle``: by default the one after the highest recorded blinatumomab cycle;
* ``start_date``: by default the next start after the last recorded cycle; refused before
  the diagnosis, after a recorded death, or when the cycle — infusion and treatment-free
  interval — overlaps a recorded blinatumomab cycle;
* ``prescribed_daily_dose`` (required to save) with its unit as typed; a dose within the
  caps but off the label dose by more than the tolerance is stored only with a ``reason``.

The stored ``details`` are flat values (:data:`DETAIL_KEYS`), so that every view of the
registry — the patient page, exports — shows them as they are;
:func:`mrdtrack.web.cycle_records.stored_cycle` lays the calendar out again from those
stored dates, never from a new computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.protocols import Protocol
from mrdtrack.registry.models import Patient, TreatmentCourse
from mrdtrack.registry.vocabulary import OutcomeKind, TreatmentKind
from mrdtrack.therapy import (
    MRD_ASSESSMENTS,
    US_LABEL,
    BsaFormula,
    CycleSchedule,
    Indication,
    MrdAssessment,
    format_mcg,
    mrd_assessments,
)
from mrdtrack.web.cycle_records import RecordedCycle, recorded_cycles
from mrdtrack.web.patients import live_rows, load_patient
from mrdtrack.web.security import Principal
from mrdtrack.web.timeline import find_protocol
from mrdtrack.web.tools import CyclePlan, plan_cycle

__all__ = [
    "DETAIL_KEYS",
    "BodyMeasure",
    "CycleEntry",
    "CycleForm",
    "PlannedCycle",
    "SavedCycle",
    "blinatumomab_protocols",
    "cycle_form",
    "plan_patient_cycle",
    "save_cycle",
]

_DAYS_PER_YEAR = 365.25
_DEFAULT_PROTOCOL = "blincyto-us-mrd"
_MEASURES = {"weight_kg": ("weight", "kg"), "height_cm": ("height", "cm")}
# The therapy module names the prescribed dose "recorded"; the form calls it what it is.
_FIELD_NAMES = {
    "recorded_daily_dose": "prescribed_daily_dose",
    "recorded_unit": "prescribed_unit",
}

DETAIL_KEYS: tuple[str, ...] = (
    "indication",
    "phase",
    "protocol",
    "dose_profile",
    "dose_basis",
    "daily_dose_ug_per_m2",
    "daily_dose_ug",
    "step_days",
    "step_daily_dose_ug",
    "cap_ug",
    "dose_formula",
    "prescribed_daily_dose",
    "prescribed_unit",
    "dose_check",
    "weight_kg",
    "weight_source",
    "height_cm",
    "bsa_m2",
    "bsa_formula",
    "infusion_days",
    "infusion_end",
    "hospitalized_until",
    "treatment_free_start",
    "treatment_free_end",
    "next_cycle_start",
    "mrd_assessments",
    "mrd_assessment_profile",
    "reminders",
    "warnings",
    "rule",
    "source",
)
"""The keys of a planned cycle's stored ``details``, in display order.

``dose_basis`` with ``daily_dose_ug_per_m2`` (per m²) or ``daily_dose_ug`` (fixed) are the
registry's blinatumomab keys (:class:`mrdtrack.registry.records.TreatmentRecord`);
``daily_dose_ug`` is always the verified label dose in mcg/day, un-rounded;
``prescribed_daily_dose`` is the prescription in mcg/day with ``prescribed_unit`` as typed
(``mcg``, ``ug`` or ``µg``: any other unit is refused). Dates are ISO
strings; keys without a value (no step dose, no hospitalization) are left out.
"""


@dataclass(frozen=True, slots=True)
class CycleEntry:
    """A blinatumomab cycle as entered; ``None`` means "take the patient's default"."""

    protocol: str | None = None
    indication: Indication | None = None
    cycle: int | None = None
    start_date: date | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    prescribed_daily_dose: float | None = None
    prescribed_unit: str = "mcg"
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER


@dataclass(frozen=True, slots=True)
class BodyMeasure:
    """A weight or height used for the dose, and where it came from."""

    value: float
    source: str
    measured_on: date | None


@dataclass(frozen=True, slots=True)
class CycleForm:
    """What the planning form shows before anything is entered."""

    study_id: str
    diagnosis_date: date | None
    birth_date: date | None
    recorded: tuple[RecordedCycle, ...]
    weight: BodyMeasure | None
    height: BodyMeasure | None
    protocols: tuple[Protocol, ...]
    default_protocol: str
    next_cycle: int
    next_start: date


@dataclass(frozen=True, slots=True)
class PlannedCycle:
    """A verified blinatumomab cycle of one patient, before or after it is stored."""

    study_id: str
    protocol: Protocol
    plan: CyclePlan
    schedule: CycleSchedule
    weight: BodyMeasure
    height: BodyMeasure
    age_years: float | None
    mrd_assessments: tuple[MrdAssessment, ...]
    warnings: tuple[str, ...]
    prescribed_unit: str

    @property
    def start_date(self) -> date:
        """Day 1 of the cycle."""
        return self.schedule.start

    @property
    def end_date(self) -> date:
        """The last planned infusion day (the course's ``end_date``)."""
        return self.schedule.infusion_dates[-1]

    def details(self) -> dict[str, Any]:
        """The ``treatment_course.details`` to store (:data:`DETAIL_KEYS`, flat values)."""
        dose = self.plan.dose
        main = dose.steps[-1].level
        free = self.schedule.treatment_free_dates
        hospital = self.schedule.hospitalization_dates
        found: dict[str, Any] = {
            "indication": dose.indication.value,
            "phase": dose.phase,
            "protocol": self.protocol.label,
            "dose_profile": dose.label_version,
            "dose_basis": main.dose_basis.value,
            "daily_dose_ug_per_m2": main.ug_per_m2,
            "daily_dose_ug": main.daily_dose_ug,
            "step_days": dose.steps[0].days if len(dose.steps) > 1 else None,
            "step_daily_dose_ug": dose.steps[0].daily_dose_ug if len(dose.steps) > 1 else None,
            "cap_ug": main.cap_ug,
            "dose_formula": main.formula,
            "weight_kg": dose.weight_kg,
            "weight_source": self.weight.source,
            "height_cm": dose.height_cm,
            "bsa_m2": round(dose.bsa_m2, 4),
            "bsa_formula": None if dose.bsa_formula is None else dose.bsa_formula.value,
            "infusion_days": len(self.schedule.infusion_dates),
            "infusion_end": self.end_date.isoformat(),
            "hospitalized_until": hospital[-1].isoformat() if hospital else None,
            "treatment_free_start": free[0].isoformat() if free else None,
            "treatment_free_end": free[-1].isoformat() if free else None,
            "next_cycle_start": self.schedule.next_cycle_start.isoformat(),
            "mrd_assessments": "; ".join(a.describe() for a in self.mrd_assessments),
            "mrd_assessment_profile": MRD_ASSESSMENTS.label,
            "reminders": "; ".join(
                f"{e.date} {e.kind.value}: {e.text}" for e in self.schedule.events
            ),
            "warnings": "; ".join(self.warnings) or None,
            "rule": f"{dose.rule}, BLIN-03",
            "source": dose.source,
        }
        check = self.plan.recorded
        if check is not None:
            found["prescribed_daily_dose"] = check.recorded_daily_dose_ug
            found["prescribed_unit"] = self.prescribed_unit
            found["dose_check"] = (
                f"within ±{check.tolerance_fraction * 100:g} % of the label dose"
                if check.within_tolerance
                else check.warnings[0]
            )
        return {key: found[key] for key in DETAIL_KEYS if found.get(key) is not None}

    def to_dict(self) -> dict[str, Any]:
        """The API's JSON object: dose, prescribed-dose check, cycle, MRD dates, details."""
        return {
            "study_id": self.study_id,
            "protocol": self.protocol.label,
            "protocol_title": self.protocol.title,
            "indication": self.plan.dose.indication.value,
            "cycle": self.schedule.cycle,
            "phase": self.schedule.phase,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "next_cycle_start": self.schedule.next_cycle_start.isoformat(),
            "weight_kg": self.weight.value,
            "weight_source": self.weight.source,
            "height_cm": self.height.value,
            "age_years": self.age_years,
            "dose": self.plan.dose.to_dict(),
            "prescribed": None if self.plan.recorded is None else self.plan.recorded.to_dict(),
            "calendar": self.schedule.to_dict(),
            "mrd_assessments": [
                {"timepoint": a.timepoint, "date": a.due.isoformat(), "text": a.text}
                for a in self.mrd_assessments
            ],
            "mrd_assessment_profile": MRD_ASSESSMENTS.label,
            "warnings": list(self.warnings),
            "unconfirmed": [*self.plan.dose.unconfirmed, *MRD_ASSESSMENTS.unconfirmed],
            "details": self.details(),
        }


@dataclass(frozen=True, slots=True)
class SavedCycle:
    """The stored course's id and the plan it holds."""

    id: int
    planned: PlannedCycle


def blinatumomab_protocols(protocols: Mapping[str, Protocol]) -> tuple[Protocol, ...]:
    """The protocols with a blinatumomab schedule, by id."""
    return tuple(
        p
        for _, p in sorted(protocols.items())
        if p.schedule is not None and p.schedule.agent == "blinatumomab"
    )


def _next_start(recorded: tuple[RecordedCycle, ...], today: date) -> date:
    if not recorded:
        return today
    last = max(recorded, key=lambda r: (r.start_date, r.id))
    if last.next_start is not None:
        return last.next_start
    # A course recorded without its calendar: the label's layout after it (BLIN-02).
    infusion_end = last.end_date or last.start_date + timedelta(days=US_LABEL.infusion_days - 1)
    return infusion_end + timedelta(days=US_LABEL.treatment_free_days + 1)


def _diagnosis_date(patient: Patient) -> date | None:
    dates = [d.diagnosis_date for d in patient.diagnoses if d.deleted_at is None]
    return min(dates) if dates else None


def _latest_measure(patient: Patient, field: str, on_or_before: date | None) -> BodyMeasure | None:
    test, unit = _MEASURES[field]
    rows = [
        v
        for v in live_rows(patient.lab_values, "sample_date")
        if v.test.strip().lower() == test
        and v.unit.strip().lower() == unit
        and (on_or_before is None or v.sample_date <= on_or_before)
    ]
    if not rows:
        return None
    row = rows[-1]
    return BodyMeasure(row.value, f"lab value '{row.test}' of {row.sample_date}", row.sample_date)


def _protocol(chosen: str | None, patient: Patient, protocols: Mapping[str, Protocol]) -> Protocol:
    offered = {p.id: p for p in blinatumomab_protocols(protocols)}
    if not offered:
        raise NotFoundError("protocol with a blinatumomab schedule", chosen or "")
    if chosen is None:
        return offered.get(_default_protocol(patient, offered), next(iter(offered.values())))
    if chosen not in offered:
        raise InputError(
            "protocol",
            chosen,
            f"a protocol with a blinatumomab schedule: {', '.join(offered)}",
        )
    return offered[chosen]


def _default_protocol(patient: Patient, offered: Mapping[str, Protocol]) -> str:
    """The protocol the diagnosis names, if it schedules blinatumomab; else the US label's."""
    for diagnosis in live_rows(patient.diagnoses, "diagnosis_date"):
        named = find_protocol(diagnosis.protocol, offered)
        if named is not None:
            return named.id
    return _DEFAULT_PROTOCOL


def cycle_form(
    session: Session,
    viewer: Principal,
    study_id: str,
    *,
    protocols: Mapping[str, Protocol],
    today: date,
) -> CycleForm:
    """The planning form's defaults: recorded cycles, weight, height, next cycle and start.

    The protocols offered are those with a blinatumomab schedule.

    Raises
    ------
    NotFoundError
        No such patient for this viewer.
    """
    patient = load_patient(session, viewer, study_id, full=True)
    recorded = recorded_cycles(patient)
    offered = blinatumomab_protocols(protocols)
    return CycleForm(
        study_id=patient.study_id,
        diagnosis_date=_diagnosis_date(patient),
        birth_date=patient.birth_date,
        recorded=recorded,
        weight=_latest_measure(patient, "weight_kg", None),
        height=_latest_measure(patient, "height_cm", None),
        protocols=offered,
        default_protocol=_default_protocol(patient, {p.id: p for p in offered}),
        next_cycle=_next_cycle(recorded),
        next_start=_next_start(recorded, today),
    )


def _next_cycle(recorded: Iterable[RecordedCycle]) -> int:
    return max((r.cycle or 0 for r in recorded), default=0) + 1


def _measure(entered: float | None, patient: Patient, field: str, start: date) -> BodyMeasure:
    if entered is not None:
        return BodyMeasure(entered, "entered", None)
    found = _latest_measure(patient, field, start)
    if found is not None:
        return found
    test, unit = _MEASURES[field]
    noun = "weight" if field == "weight_kg" else "height"
    raise InputError(
        field,
        None,
        f"the patient's {noun} in {unit}",
        f"no {noun} on or before {start} is recorded for this patient (lab value "
        f"'{test}' in {unit}): enter it"
        + ("" if field == "weight_kg" else "; the dose check records the BSA at every weight"),
    )


def _check_dates(patient: Patient, start: date) -> None:
    diagnosed = _diagnosis_date(patient)
    if diagnosed is not None and start < diagnosed:
        raise InputError(
            "start_date",
            start.isoformat(),
            f"a start on or after the diagnosis ({diagnosed})",
            "correct the start date, or the diagnosis date on record",
        )
    deaths = [
        o.event_date
        for o in patient.outcomes
        if o.deleted_at is None and o.kind == OutcomeKind.DEATH.value
    ]
    if deaths and start > min(deaths):
        raise InputError(
            "start_date",
            start.isoformat(),
            f"a start on or before the recorded death ({min(deaths)})",
        )


def _check_overlap(recorded: Iterable[RecordedCycle], start: date, last: date) -> None:
    for other in recorded:
        if start <= other.occupied_until and other.start_date <= last:
            number = "" if other.cycle is None else f" {other.cycle}"
            raise InputError(
                "start_date",
                start.isoformat(),
                f"a cycle that does not overlap recorded cycle{number} ({other.start_date} to "
                f"{other.occupied_until}, treatment-free interval included)",
                f"this cycle would run {start} to {last}; start it on or after "
                f"{other.occupied_until + timedelta(days=1)}, or correct the recorded cycle",
            )


def _age_years(birth: date | None, on: date) -> float | None:
    if birth is None or birth > on:
        return None
    return (on - birth).days / _DAYS_PER_YEAR


def _planned(
    patient: Patient, entry: CycleEntry, protocols: Mapping[str, Protocol], today: date
) -> PlannedCycle:
    recorded = recorded_cycles(patient)
    protocol = _protocol(entry.protocol, patient, protocols)
    schedule = protocol.schedule
    if schedule is None:  # blinatumomab_protocols offers scheduled protocols only
        raise NotFoundError("blinatumomab schedule of protocol", protocol.id)
    indication = Indication(schedule.indication.value)
    if entry.indication is not None and entry.indication is not indication:
        raise InputError(
            "indication",
            entry.indication.value,
            f"{indication.value}: the indication protocol {protocol.id} schedules blinatumomab for",
            "choose the protocol of the intended indication",
        )
    cycle = entry.cycle if entry.cycle is not None else _next_cycle(recorded)
    limit = schedule.max_cycles or schedule.cycles or 1
    if not 1 <= cycle <= limit:
        raise InputError("cycle", cycle, f"a cycle from 1 to {limit} under {protocol.label}")
    start = entry.start_date or _next_start(recorded, today)
    _check_dates(patient, start)
    weight = _measure(entry.weight_kg, patient, "weight_kg", start)
    height = _measure(entry.height_cm, patient, "height_cm", start)
    age = _age_years(patient.birth_date, start)
    try:
        plan = plan_cycle(
            weight_kg=weight.value,
            height_cm=height.value,
            indication=indication,
            cycle=cycle,
            profile=schedule.dose.profile,
            bsa_formula=entry.bsa_formula,
            start=start,
            cycles=1,
            age_years=age,
            recorded_daily_dose=entry.prescribed_daily_dose,
            recorded_unit=entry.prescribed_unit,
            weight_measured_on=weight.measured_on,
            as_of=start,
        )
    except InputError as refused:
        if refused.field not in _FIELD_NAMES:
            raise
        field = _FIELD_NAMES[refused.field]
        raise InputError(field, refused.value, refused.expected, refused.hint) from None
    if plan.calendar is None:  # plan_cycle lays out a calendar whenever it has a start
        raise InputError("start_date", None, "a start date")
    laid_out = plan.calendar.cycles[0]
    _check_overlap(recorded, start, laid_out.next_cycle_start - timedelta(days=1))
    warnings = list(dict.fromkeys([*plan.dose.warnings, *plan.calendar.warnings]))
    if plan.recorded is not None:
        warnings.extend(plan.recorded.warnings)
    repeated = [r for r in recorded if r.cycle == cycle]
    if repeated:
        warnings.append(
            f"cycle {cycle} is already recorded (from {repeated[0].start_date}): this repeats "
            "its number, as a new cycle after an interruption > 7 days does (BLIN-04)"
        )
    if cycle > _next_cycle(recorded):
        warnings.append(
            f"cycle {cycle} follows recorded cycle {_next_cycle(recorded) - 1}: the cycles in "
            "between are not recorded"
        )
    return PlannedCycle(
        study_id=patient.study_id,
        protocol=protocol,
        plan=plan,
        schedule=laid_out,
        weight=weight,
        height=height,
        age_years=age,
        mrd_assessments=mrd_assessments(laid_out),
        warnings=tuple(warnings),
        prescribed_unit=entry.prescribed_unit,
    )


def plan_patient_cycle(
    session: Session,
    viewer: Principal,
    study_id: str,
    entry: CycleEntry,
    *,
    protocols: Mapping[str, Protocol],
    today: date,
) -> PlannedCycle:
    """Verify and lay out a blinatumomab cycle of a patient without storing it (preview).

    Raises
    ------
    NotFoundError
        No such patient for this viewer.
    InputError
        A refused input, naming its field (see the module docstring).
    """
    patient = load_patient(session, viewer, study_id, full=True)
    return _planned(patient, entry, protocols, today)


def save_cycle(
    session: Session,
    viewer: Principal,
    study_id: str,
    entry: CycleEntry,
    *,
    protocols: Mapping[str, Protocol],
    today: date,
    reason: str | None = None,
) -> SavedCycle:
    """Verify a cycle and store it as one ``treatment_course`` row (audited).

    The session must name its acting user (:func:`mrdtrack.web.context.unit_of_work`).
    Beyond the preview's checks, a prescribed daily dose is required, and a dose off the
    label dose by more than the tolerance needs a ``reason`` (it goes to the audit trail).
    """
    patient = load_patient(session, viewer, study_id, full=True)
    planned = _planned(patient, entry, protocols, today)
    check = planned.plan.recorded
    label_dose = format_mcg(planned.plan.dose.daily_dose_ug)
    if check is None:
        raise InputError(
            "prescribed_daily_dose",
            None,
            "the prescribed daily dose in mcg/day",
            f"enter the dose on the prescription (the label dose is {label_dose}/day)",
        )
    if not check.within_tolerance and not (reason or "").strip():
        raise InputError(
            "reason",
            None,
            f"a reason for a prescribed dose {check.deviation_fraction * 100:+.0f} % off the "
            f"label dose ({label_dose}/day)",
            "give the reason (it goes to the audit trail), or correct the dose",
        )
    row = TreatmentCourse(
        patient_id=patient.id,
        kind=TreatmentKind.BLINATUMOMAB.value,
        start_date=planned.start_date,
        end_date=planned.end_date,
        cycle=planned.schedule.cycle,
        details=planned.details(),
        source="web entry",
        reconstructed=[],
    )
    session.add(row)
    session.flush()
    return SavedCycle(row.id, planned)
