"""The calculators' one service: a blinatumomab cycle plan (dose check and calendar).

Composes :func:`mrdtrack.therapy.blinatumomab_dose`, :func:`verify_recorded_dose` and
:func:`cycle_calendar` for the page and the API alike; the CRS calculator calls
:func:`mrdtrack.grading.grade_crs` directly. A verification with its basis, not a
prescription.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    US_LABEL,
    BlinatumomabDose,
    BsaFormula,
    CycleCalendar,
    Indication,
    RecordedDoseCheck,
    blinatumomab_dose,
    cycle_calendar,
    verify_recorded_dose,
)

__all__ = ["CyclePlan", "plan_cycle"]


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """The label dose of a cycle, the check of a recorded dose, and the dated calendar."""

    dose: BlinatumomabDose
    recorded: RecordedDoseCheck | None
    calendar: CycleCalendar | None

    def to_dict(self) -> dict[str, Any]:
        """``{"dose", "recorded", "calendar"}`` as the CLI's JSON objects."""
        return {
            "dose": self.dose.to_dict(),
            "recorded": None if self.recorded is None else self.recorded.to_dict(),
            "calendar": None if self.calendar is None else self.calendar.to_dict(),
        }


def plan_cycle(
    *,
    weight_kg: float,
    height_cm: float,
    indication: Indication | str,
    cycle: int = 1,
    profile: str = US_LABEL.id,
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER,
    start: date | None = None,
    cycles: int = 1,
    age_years: float | None = None,
    recorded_daily_dose: float | None = None,
    recorded_unit: str = "mcg",
    weight_measured_on: date | None = None,
    as_of: date | None = None,
) -> CyclePlan:
    """Verify the label dose of ``cycle`` and, with ``start``, lay out ``cycles`` cycles.

    ``weight_measured_on`` and ``as_of`` (the dosing day), when both are given, make a
    weight older than the safety limits allow come back as a warning (re-weigh).

    Raises
    ------
    InputError
        From the therapy functions (an implausible weight, a dose above its cap, mg
        entered for mcg …) or an unknown dosing profile.
    """
    if profile not in BLINATUMOMAB_LABELS:
        raise InputError("profile", profile, f"one of: {', '.join(BLINATUMOMAB_LABELS)}")
    label = BLINATUMOMAB_LABELS[profile]
    dose = blinatumomab_dose(
        weight_kg=weight_kg,
        height_cm=height_cm,
        indication=indication,
        cycle=cycle,
        bsa_formula=bsa_formula,
        label=label,
        weight_measured_on=weight_measured_on,
        as_of=as_of,
    )
    recorded = None
    if recorded_daily_dose is not None:
        recorded = verify_recorded_dose(
            recorded_daily_dose=recorded_daily_dose, recorded_unit=recorded_unit, expected=dose
        )
    calendar = None
    if start is not None:
        calendar = cycle_calendar(
            start=start,
            indication=indication,
            cycles=cycles,
            first_cycle=cycle,
            age_years=age_years,
            weight_kg=weight_kg,
            height_cm=height_cm,
            bsa_formula=bsa_formula,
            label=label,
        )
    return CyclePlan(dose, recorded, calendar)
