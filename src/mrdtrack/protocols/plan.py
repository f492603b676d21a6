"""The protocol's blinatumomab schedule applied to one patient: dose and calendar.

Joins a protocol (:mod:`.model`) and a patient timeline with the label dose verification
and the cycle calendar of :mod:`mrdtrack.therapy` (rules BLIN-01, BLIN-02), when the
patient's weight and height are known. Kept apart from :mod:`.engine` so that evaluating
a protocol never depends on the therapy package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from mrdtrack.errors import InputError, ProtocolError
from mrdtrack.protocols.model import Citation, Protocol
from mrdtrack.protocols.timeline import PatientTimeline

if TYPE_CHECKING:
    from mrdtrack.therapy.blinatumomab import BlinatumomabDose
    from mrdtrack.therapy.calendar import CycleCalendar

__all__ = ["BlinatumomabPlan", "plan_blinatumomab"]


@dataclass(frozen=True, slots=True)
class BlinatumomabPlan:
    """The protocol's blinatumomab schedule applied to one patient: dose and calendar.

    ``dose`` is cycle 1 under the protocol's dosing profile (present with weight and
    height); ``label_dose`` the US label dose for comparison when the protocol uses another
    profile (e.g. SEED-1's flat 15 µg/m²/day); ``calendar`` is present when a start date
    and a cycle count are known.
    """

    schedule_id: str
    dose_profile: str
    dose: BlinatumomabDose | None
    label_dose: BlinatumomabDose | None
    calendar: CycleCalendar | None
    cycles: int | None
    warnings: tuple[str, ...]
    citation: Citation

    def to_dict(self, *, summary: bool = False) -> dict[str, Any]:
        """JSON-ready mapping; ``summary`` leaves out ``dose``, ``label_dose``, ``calendar``."""
        payload: dict[str, Any] = {
            "schedule_id": self.schedule_id,
            "dose_profile": self.dose_profile,
            "cycles": self.cycles,
            "warnings": list(self.warnings),
            "citation": self.citation.text,
        }
        if not summary:
            payload["dose"] = None if self.dose is None else self.dose.to_dict()
            payload["label_dose"] = None if self.label_dose is None else self.label_dose.to_dict()
            payload["calendar"] = None if self.calendar is None else self.calendar.to_dict()
        return payload


def plan_blinatumomab(
    protocol: Protocol,
    timeline: PatientTimeline,
    *,
    start: date | None = None,
    cycles: int | None = None,
) -> BlinatumomabPlan:
    """Dose verification and cycle calendar of the protocol's blinatumomab schedule.

    Calls :func:`mrdtrack.therapy.blinatumomab.blinatumomab_dose` (BLIN-01, BLIN-02) with
    the schedule's dosing profile (``schedule.dose.profile``) when the timeline has weight
    and height, and, for a start date,
    :func:`mrdtrack.therapy.calendar.cycle_calendar` for ``cycles`` (default: the
    schedule's planned count; with weight and height each infusion day carries its dose).
    When the profile is not the US label, the US label dose is computed too and a
    difference is reported (SEED-1 doses 15 µg/m²/day at every weight; the label gives a
    fixed 28 µg/day at ≥ 45 kg: domain rules §12 item 5).

    Raises
    ------
    InputError
        With neither weight and height nor a start date, or with more cycles than the
        schedule allows.
    ProtocolError
        When the protocol schedules no blinatumomab, or its schedule disagrees with the
        dosing profile it names (dose per m², cycle layout).
    """
    # Imported here so that evaluating a protocol never depends on the therapy package.
    from mrdtrack.therapy.blinatumomab import Indication, blinatumomab_dose, format_mcg
    from mrdtrack.therapy.calendar import cycle_calendar
    from mrdtrack.therapy.label import US_LABEL, get_label

    schedule = protocol.schedule
    if schedule is None or schedule.agent != "blinatumomab":
        raise ProtocolError(protocol.origin or protocol.id, "schedule", "a blinatumomab schedule")
    weight_kg, height_cm = timeline.weight_kg, timeline.height_cm
    has_body = weight_kg is not None and height_cm is not None
    if not has_body and start is None:
        raise InputError(
            "weight_kg", weight_kg, "weight and height (for the dose) or a start date (calendar)"
        )
    profile = get_label(schedule.dose.profile)
    where = protocol.origin or protocol.id
    if schedule.dose.ug_per_m2_day is not None and (
        schedule.dose.ug_per_m2_day != profile.daily_dose_ug_per_m2
        or not profile.bsa_dosing_all_weights
    ):
        raise ProtocolError(
            where,
            "schedule.dose",
            f"a per-m² dose that its profile {profile.label} gives at every weight "
            f"({profile.daily_dose_ug_per_m2:g} µg/m²/day, all weights: "
            f"{profile.bsa_dosing_all_weights})",
        )
    if (profile.infusion_days, profile.treatment_free_days) != (
        schedule.infusion_days,
        schedule.treatment_free_days,
    ):
        raise ProtocolError(
            where,
            "schedule.infusion_days",
            f"the layout of profile {profile.label}: {profile.infusion_days} days on, "
            f"{profile.treatment_free_days} off",
        )
    indication = Indication(schedule.indication.value)
    warnings: list[str] = []
    dose = label_dose = None
    if weight_kg is None or height_cm is None:
        warnings.append("no dose: it needs both weight_kg and height_cm")
    else:
        dose = blinatumomab_dose(
            weight_kg=weight_kg, height_cm=height_cm, indication=indication, label=profile
        )
        warnings.extend(dose.warnings)
    if (
        dose is not None
        and weight_kg is not None
        and height_cm is not None
        and (profile.id != US_LABEL.id)
    ):
        label_dose = blinatumomab_dose(
            weight_kg=weight_kg, height_cm=height_cm, indication=indication, label=US_LABEL
        )
        if abs(label_dose.daily_dose_ug - dose.daily_dose_ug) > 1e-9:
            message = (
                f"{protocol.id} dose {format_mcg(dose.daily_dose_ug)}/day differs from the US "
                f"label dose {format_mcg(label_dose.daily_dose_ug)}/day "
                f"({label_dose.weight_band.value}): review (domain rules §12 item 5)"
            )
            if message not in warnings:
                warnings.append(message)
    count = cycles if cycles is not None else schedule.cycles
    limit = schedule.max_cycles or schedule.cycles
    if count is not None and limit is not None and count > limit:
        raise InputError("cycles", count, f"at most {limit} cycle(s) under {protocol.label}")
    calendar = None
    if start is not None:
        if count is None:
            warnings.append(
                f"{protocol.id} does not state the number of blinatumomab cycles (unconfirmed): "
                "give --cycles to lay out a calendar"
            )
        else:
            calendar = cycle_calendar(
                start=start,
                indication=indication,
                cycles=count,
                age_years=timeline.age_years,
                weight_kg=weight_kg if has_body else None,
                height_cm=height_cm if has_body else None,
                label=profile,
            )
    return BlinatumomabPlan(
        schedule_id=schedule.id,
        dose_profile=profile.label,
        dose=dose,
        label_dose=label_dose,
        calendar=calendar,
        cycles=count,
        warnings=tuple(warnings),
        citation=schedule.citation,
    )
