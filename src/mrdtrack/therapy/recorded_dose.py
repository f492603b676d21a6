"""A recorded blinatumomab daily dose checked against the label dose (reliability goal 28).

Hard stops raise :class:`~mrdtrack.errors.InputError` and cannot be saved: a unit other
than micrograms (mg where mcg are expected), a dose above the cap of its infusion day
(28 mcg/day; 9 mcg/day on relapsed cycle 1 days 1-7: the 10× entry "280" among them),
and a number that is the expected dose written in mg (0.028 for 28 mcg). A dose within
the caps but off the label dose by more than the tolerance warns (ISMP; BLINCYTO label).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number
from mrdtrack.therapy.blinatumomab import BlinatumomabDose, format_mcg
from mrdtrack.therapy.label import DOSE_SAFETY_LIMITS, DoseSafetyLimits

__all__ = ["DoseUnit", "RecordedDoseCheck", "verify_recorded_dose"]


class DoseUnit(StrEnum):
    """Units a recorded daily dose may arrive in; only micrograms are accepted."""

    UG = "ug"
    MCG = "mcg"
    MICROGRAM = "µg"
    MG = "mg"


@dataclass(frozen=True, slots=True)
class RecordedDoseCheck:
    """A recorded daily dose compared with the label dose of that infusion day.

    Hard stops never come back as a result: they raise. ``within_tolerance`` is False when
    the recorded dose differs from the label dose by more than ``tolerance_fraction``.
    """

    recorded_daily_dose_ug: float
    expected_daily_dose_ug: float
    infusion_day: int
    step_days: str
    cap_ug: float
    deviation_fraction: float
    tolerance_fraction: float
    within_tolerance: bool
    warnings: tuple[str, ...]
    label_version: str
    source: str
    rule: str = "BLIN-01; reliability goal 28"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "recorded_daily_dose_ug": self.recorded_daily_dose_ug,
            "expected_daily_dose_ug": self.expected_daily_dose_ug,
            "infusion_day": self.infusion_day,
            "step_days": self.step_days,
            "cap_ug": self.cap_ug,
            "deviation_fraction": self.deviation_fraction,
            "tolerance_fraction": self.tolerance_fraction,
            "within_tolerance": self.within_tolerance,
            "warnings": list(self.warnings),
            "label_version": self.label_version,
            "source": self.source,
            "rule": self.rule,
        }


def verify_recorded_dose(
    *,
    recorded_daily_dose: float,
    recorded_unit: DoseUnit | str,
    expected: BlinatumomabDose,
    infusion_day: int | None = None,
    limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS,
) -> RecordedDoseCheck:
    """Check a recorded (prescribed, pumped) daily dose against the label dose.

    Hard stops (reliability goal 28) raise :class:`~mrdtrack.errors.InputError`: a unit
    other than micrograms (mg where mcg are expected), a dose above the cap of its day
    (28 mcg/day; 9 mcg/day on relapsed cycle 1 days 1-7) — the 10× entry "280" among
    them — and a number that is the expected dose in mg (0.028 for 28 mcg). A dose within
    the caps but off the label dose by more than ``limits.recorded_dose_tolerance_fraction``
    warns.

    Parameters
    ----------
    recorded_daily_dose
        The number as entered.
    recorded_unit
        ``mcg``, ``ug`` or ``µg``; ``mg`` is a hard stop.
    expected
        The label dose of the cycle (:func:`blinatumomab_dose`).
    infusion_day
        The infusion day the dose is for; default: the cycle's main phase.
    limits
        Supplies the tolerance.

    Examples
    --------
    >>> from mrdtrack.therapy.blinatumomab import blinatumomab_dose
    >>> d = blinatumomab_dose(weight_kg=50, height_cm=160, indication="mrd")
    >>> check = verify_recorded_dose(recorded_daily_dose=28, recorded_unit="mcg", expected=d)
    >>> check.within_tolerance
    True
    """
    try:
        # The Greek mu (U+03BC) and the micro sign (U+00B5) look alike; accept both.
        unit = DoseUnit(str(recorded_unit).strip().lower().replace("\u03bc", "\u00b5"))
    except ValueError:
        raise InputError(
            "recorded_unit", recorded_unit, "mcg (micrograms; ug and µg are accepted)"
        ) from None
    value = require_number(
        "recorded_daily_dose", recorded_daily_dose, minimum=0, min_inclusive=False
    )
    if unit is DoseUnit.MG:
        raise InputError(
            "recorded_unit",
            recorded_unit,
            "mcg (micrograms) per day",
            f"blinatumomab is dosed in mcg: {value:g} mg = {value * 1000:g} mcg; re-enter the "
            "dose in mcg",
        )
    step = expected.steps[-1] if infusion_day is None else expected.step_on(infusion_day)
    target = step.daily_dose_ug
    tolerance = limits.recorded_dose_tolerance_fraction
    if value > step.level.cap_ug:
        hint = f"the label caps days {step.days} at {format_mcg(step.level.cap_ug)}/day"
        if abs(value / 10 - target) <= tolerance * target:
            hint = f"{value:g} looks like a 10× entry of {format_mcg(value / 10)}; {hint}"
        raise InputError(
            "recorded_daily_dose",
            recorded_daily_dose,
            f"at most {format_mcg(step.level.cap_ug)}/day (hard cap)",
            hint,
        )
    if abs(value * 1000 - target) <= tolerance * target:
        raise InputError(
            "recorded_daily_dose",
            recorded_daily_dose,
            "a daily dose in mcg",
            f"{value:g} looks like mg ({value:g} mg = {format_mcg(value * 1000)}); re-enter it "
            "in mcg",
        )
    deviation = (value - target) / target
    within = abs(deviation) <= tolerance
    warnings: tuple[str, ...] = ()
    if not within:
        warnings = (
            f"recorded {format_mcg(value)}/day differs from the label dose "
            f"{format_mcg(target)}/day by {deviation * 100:+.0f} % (tolerance ±"
            f"{tolerance * 100:g} %): check the entry",
        )
    return RecordedDoseCheck(
        recorded_daily_dose_ug=value,
        expected_daily_dose_ug=target,
        infusion_day=step.first_day if infusion_day is None else infusion_day,
        step_days=step.days,
        cap_ug=step.level.cap_ug,
        deviation_fraction=deviation,
        tolerance_fraction=tolerance,
        within_tolerance=within,
        warnings=warnings,
        label_version=expected.label_version,
        source=expected.source,
    )
