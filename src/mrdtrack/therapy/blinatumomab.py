"""Blinatumomab daily dose by weight band, indication and cycle (rules BLIN-01, BLIN-02).

A *verification* of the label dose, with its basis (formula, inputs, label version,
source), not a prescription. From the BLINCYTO US label (domain rules §6.1, §6.2; numbers
from :mod:`mrdtrack.therapy.label`):

* weight ≥ 45 kg: fixed 28 mcg/day; step dose 9 mcg/day;
* weight < 45 kg: ``min(15 mcg/m²/day × BSA, 28)``; step ``min(5 mcg/m²/day × BSA, 9)``;
* relapsed/refractory cycle 1: step dose on days 1-7, target dose on days 8-28; every
  other cycle: target dose on days 1-28; then 14 treatment-free days (56 after relapsed
  continued-therapy cycles 6-9).

The caps are hard stops (reliability goal 28): a computed dose can never exceed them (a
profile whose fixed dose would is refused with :class:`~mrdtrack.errors.ProtocolError`),
and :func:`mrdtrack.therapy.recorded_dose.verify_recorded_dose` refuses a recorded dose
above the cap (the 10× entry "280"), or one entered in mg. Implausible weights, heights
and BSAs are refused with :class:`~mrdtrack.errors.InputError` naming the field;
soft-band values give warnings.
Display: "mcg", never "µg"; no trailing zeros; a leading zero (:func:`format_mcg`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError, ProtocolError
from mrdtrack.inputs import require_count
from mrdtrack.therapy.bsa import BsaFormula, body_surface_area, check_bsa_m2, check_weight_kg
from mrdtrack.therapy.label import (
    DOSE_SAFETY_LIMITS,
    US_LABEL,
    BlinatumomabLabel,
    DoseSafetyLimits,
)

__all__ = [
    "BlinatumomabDose",
    "DoseBasis",
    "DoseLevel",
    "DoseStep",
    "Indication",
    "WeightBand",
    "blinatumomab_dose",
    "blinatumomab_dose_for_bsa",
    "format_mcg",
    "require_indication",
    "step_dose",
    "target_dose",
    "weight_band",
]


class Indication(StrEnum):
    """The label settings whose dose and schedule differ (BLIN-02)."""

    MRD = "mrd"
    """MRD-positive B-ALL in CR1/CR2."""
    RELAPSED = "relapsed"
    """Relapsed or refractory B-ALL."""
    CONSOLIDATION = "consolidation"
    """Ph-negative B-ALL consolidation within multiphase chemotherapy (2024)."""


class WeightBand(StrEnum):
    """Which side of the label's weight threshold (45 kg) the patient is on."""

    LT45 = "lt45"
    GE45 = "ge45"


class DoseBasis(StrEnum):
    """How a daily dose is expressed: per m² of BSA or fixed."""

    PER_M2 = "ug/m2/day"
    FIXED = "ug/day"


def format_mcg(value_ug: float) -> str:
    """Display micrograms: two decimals at most, no trailing zeros, a leading zero.

    Examples
    --------
    >>> format_mcg(28.0), format_mcg(15.909902), format_mcg(0.5), format_mcg(5.30)
    ('28 mcg', '15.91 mcg', '0.5 mcg', '5.3 mcg')
    """
    return f"{_plain(value_ug)} mcg"


def _plain(value: float) -> str:
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class DoseLevel:
    """One daily dose with its basis: fixed, or a rate per m² times the BSA, capped."""

    daily_dose_ug: float
    dose_basis: DoseBasis
    ug_per_m2: float | None
    bsa_m2: float | None
    cap_ug: float
    cap_binds: bool

    @property
    def formula(self) -> str:
        """The calculation in words, e.g. ``min(15 mcg/m²/day × 1.06 m², 28) = 15.91``."""
        if self.ug_per_m2 is None or self.bsa_m2 is None:
            return f"fixed {format_mcg(self.daily_dose_ug)}/day"
        return (
            f"min({_plain(self.ug_per_m2)} mcg/m²/day × {_plain(self.bsa_m2)} m², "
            f"{_plain(self.cap_ug)}) = {format_mcg(self.daily_dose_ug)}/day"
        )


@dataclass(frozen=True, slots=True)
class DoseStep:
    """The dose of a run of infusion days of one cycle (``days`` 1-7, 8-28 …)."""

    first_day: int
    last_day: int
    level: DoseLevel

    @property
    def days(self) -> str:
        """``"1-7"``: the CLI contract's form."""
        return f"{self.first_day}-{self.last_day}"

    @property
    def daily_dose_ug(self) -> float:
        """The daily dose of these days in micrograms."""
        return self.level.daily_dose_ug

    def to_dict(self) -> dict[str, Any]:
        """``{"days", "daily_dose_ug", "dose_basis", …}`` (CLI contract keys first)."""
        return {
            "days": self.days,
            "daily_dose_ug": self.level.daily_dose_ug,
            "dose_basis": self.level.dose_basis.value,
            "ug_per_m2_day": self.level.ug_per_m2,
            "cap_ug": self.level.cap_ug,
            "cap_binds": self.level.cap_binds,
            "formula": self.level.formula,
        }


@dataclass(frozen=True, slots=True)
class BlinatumomabDose:
    """The label dose of one cycle, with everything it was computed from.

    ``daily_dose_ug`` is the dose of the cycle's main phase; ``steps`` lists every run of
    days. ``bsa_formula`` is ``None`` when the BSA was given rather than computed.
    """

    indication: Indication
    cycle: int
    phase: str
    weight_kg: float
    height_cm: float | None
    bsa_m2: float
    bsa_formula: BsaFormula | None
    weight_band: WeightBand
    daily_dose_ug: float
    steps: tuple[DoseStep, ...]
    infusion_days: int
    treatment_free_days: int
    max_daily_dose_ug: float
    max_step_daily_dose_ug: float
    warnings: tuple[str, ...]
    label_version: str
    label_effective_date: str
    source: str
    unconfirmed: tuple[str, ...]
    rule: str = "BLIN-01, BLIN-02, BSA-01"

    def step_on(self, infusion_day: int) -> DoseStep:
        """The step that covers ``infusion_day`` (1 … ``infusion_days``)."""
        day = require_count("infusion_day", infusion_day, minimum=1)
        for step in self.steps:
            if step.first_day <= day <= step.last_day:
                return step
        raise InputError("infusion_day", infusion_day, f"a day from 1 to {self.infusion_days}")

    def to_dict(self) -> dict[str, Any]:
        """The ``mrdtrack dose blinatumomab --json`` object."""
        return {
            "kind": "label dose verification (not a prescription)",
            "indication": self.indication.value,
            "cycle": self.cycle,
            "phase": self.phase,
            "bsa_m2": self.bsa_m2,
            "bsa_formula": None if self.bsa_formula is None else self.bsa_formula.value,
            "weight_band": self.weight_band.value,
            "daily_dose_ug": self.daily_dose_ug,
            "steps": [step.to_dict() for step in self.steps],
            "infusion_days": self.infusion_days,
            "treatment_free_days": self.treatment_free_days,
            "max_daily_dose_ug": self.max_daily_dose_ug,
            "max_step_daily_dose_ug": self.max_step_daily_dose_ug,
            "warnings": list(self.warnings),
            "inputs": {"weight_kg": self.weight_kg, "height_cm": self.height_cm},
            "label_version": self.label_version,
            "label_effective_date": self.label_effective_date,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
        }


def require_indication(indication: object) -> Indication:
    """Return ``indication`` as an :class:`Indication`, or refuse it naming the values."""
    try:
        return Indication(str(indication))
    except ValueError:
        raise InputError(
            "indication", indication, f"one of: {', '.join(i.value for i in Indication)}"
        ) from None


def weight_band(weight_kg: float, label: BlinatumomabLabel = US_LABEL) -> WeightBand:
    """``ge45`` when ``weight_kg ≥ label.weight_threshold_kg`` (45 kg), else ``lt45``."""
    return WeightBand.GE45 if weight_kg >= label.weight_threshold_kg else WeightBand.LT45


def _level(
    *,
    weight_kg: float,
    bsa_m2: float | None,
    fixed_ug: float,
    ug_per_m2: float,
    cap_ug: float,
    label: BlinatumomabLabel,
    key: str,
) -> DoseLevel:
    if weight_band(weight_kg, label) is WeightBand.GE45 and not label.bsa_dosing_all_weights:
        dose = DoseLevel(fixed_ug, DoseBasis.FIXED, None, bsa_m2, cap_ug, cap_binds=False)
    else:
        if bsa_m2 is None:
            raise InputError(
                "bsa_m2",
                None,
                "a BSA in m²",
                f"the dose of a patient < {label.weight_threshold_kg:g} kg is BSA-based; give "
                "the height so that the BSA can be computed",
            )
        raw = ug_per_m2 * bsa_m2
        dose = DoseLevel(
            min(raw, cap_ug), DoseBasis.PER_M2, ug_per_m2, bsa_m2, cap_ug, raw > cap_ug
        )
    # The hard stop: only a malformed profile (a fixed dose above its cap) can reach it.
    if dose.daily_dose_ug > cap_ug:
        raise ProtocolError(label.label, key, f"a dose ≤ its hard cap of {format_mcg(cap_ug)}/day")
    return dose


def target_dose(
    *, weight_kg: float, bsa_m2: float | None, label: BlinatumomabLabel = US_LABEL
) -> DoseLevel:
    """The target (main-phase) daily dose (BLIN-01).

    ``28 if weight_kg ≥ 45 else min(15 × BSA, 28)`` mcg/day with the label's numbers.
    """
    return _level(
        weight_kg=weight_kg,
        bsa_m2=bsa_m2,
        fixed_ug=label.fixed_daily_dose_ug,
        ug_per_m2=label.daily_dose_ug_per_m2,
        cap_ug=label.max_daily_dose_ug,
        label=label,
        key="fixed_daily_dose_ug",
    )


def step_dose(
    *, weight_kg: float, bsa_m2: float | None, label: BlinatumomabLabel = US_LABEL
) -> DoseLevel:
    """The step (and restart) daily dose (BLIN-01, BLIN-04).

    ``9 if weight_kg ≥ 45 else min(5 × BSA, 9)`` mcg/day with the label's numbers.
    """
    return _level(
        weight_kg=weight_kg,
        bsa_m2=bsa_m2,
        fixed_ug=label.fixed_step_daily_dose_ug,
        ug_per_m2=label.step_daily_dose_ug_per_m2,
        cap_ug=label.max_step_daily_dose_ug,
        label=label,
        key="fixed_step_daily_dose_ug",
    )


def blinatumomab_dose(
    *,
    weight_kg: float,
    height_cm: float,
    indication: Indication | str,
    cycle: int = 1,
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER,
    label: BlinatumomabLabel = US_LABEL,
    limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS,
    weight_unit: str = "kg",
    weight_measured_on: date | None = None,
    as_of: date | None = None,
) -> BlinatumomabDose:
    """The label dose of one blinatumomab cycle (BLIN-01, BLIN-02), as a verification.

    The BSA comes from ``bsa_formula`` (BSA-01). See the module docstring for the rules.

    Parameters
    ----------
    weight_kg, height_cm
        Body weight (kg) and height (cm); refused outside the hard limits.
    indication
        ``mrd``, ``relapsed`` or ``consolidation``.
    cycle
        Cycle number, 1 … the indication's maximum.
    bsa_formula
        Mosteller by default.
    label
        The dosing profile (a label version or a protocol such as ``seed1-tpog``).
    limits
        Hard and soft plausibility limits (reliability goal 28).
    weight_unit
        Must be ``"kg"``; anything else is a hard stop.
    weight_measured_on, as_of
        When both are given, a weight older than ``limits.max_weight_age_days`` warns.

    Examples
    --------
    >>> d = blinatumomab_dose(weight_kg=30, height_cm=135, indication=Indication.RELAPSED)
    >>> [(s.days, round(s.daily_dose_ug, 2)) for s in d.steps]
    [('1-7', 5.3), ('8-28', 15.91)]
    """
    if weight_unit != "kg":
        raise InputError(
            "weight_unit",
            weight_unit,
            "kg",
            "convert the weight to kilograms (1 lb = 0.4536 kg; 1 g = 0.001 kg)",
        )
    bsa = body_surface_area(
        weight_kg=weight_kg, height_cm=height_cm, formula=bsa_formula, limits=limits
    )
    return _dose(
        weight_kg=bsa.weight_kg,
        height_cm=bsa.height_cm,
        bsa_m2=bsa.bsa_m2,
        bsa_formula=bsa.formula,
        indication=indication,
        cycle=cycle,
        label=label,
        limits=limits,
        weight_age_days=_age_days(weight_measured_on, as_of),
    )


def blinatumomab_dose_for_bsa(
    *,
    weight_kg: float,
    bsa_m2: float,
    indication: Indication | str,
    cycle: int = 1,
    label: BlinatumomabLabel = US_LABEL,
    limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS,
) -> BlinatumomabDose:
    """As :func:`blinatumomab_dose`, with a BSA given (measured or from another system).

    Examples
    --------
    >>> blinatumomab_dose_for_bsa(weight_kg=44.99, bsa_m2=2.0, indication="mrd").daily_dose_ug
    28.0
    """
    return _dose(
        weight_kg=check_weight_kg(weight_kg, limits),
        height_cm=None,
        bsa_m2=bsa_m2,
        bsa_formula=None,
        indication=indication,
        cycle=cycle,
        label=label,
        limits=limits,
        weight_age_days=None,
    )


def _age_days(measured_on: date | None, as_of: date | None) -> int | None:
    if measured_on is None or as_of is None:
        return None
    return (as_of - measured_on).days


def _dose(
    *,
    weight_kg: float,
    height_cm: float | None,
    bsa_m2: float,
    bsa_formula: BsaFormula | None,
    indication: Indication | str,
    cycle: int,
    label: BlinatumomabLabel,
    limits: DoseSafetyLimits,
    weight_age_days: int | None,
) -> BlinatumomabDose:
    setting = require_indication(indication)
    schedule = label.schedule(setting)
    number = require_count("cycle", cycle, minimum=1)
    if number > schedule.max_cycles:
        raise InputError(
            "cycle",
            cycle,
            f"a cycle from 1 to {schedule.max_cycles} for {setting.value} ({label.label})",
        )
    bsa = check_bsa_m2(bsa_m2, limits)
    target = target_dose(weight_kg=weight_kg, bsa_m2=bsa, label=label)
    steps: tuple[DoseStep, ...]
    if number in schedule.step_dosing_cycles:
        step = step_dose(weight_kg=weight_kg, bsa_m2=bsa, label=label)
        steps = (
            DoseStep(1, label.step_days, step),
            DoseStep(label.step_days + 1, label.infusion_days, target),
        )
    else:
        steps = (DoseStep(1, label.infusion_days, target),)
    warnings = _warnings(
        weight_kg=weight_kg,
        height_cm=height_cm,
        bsa_m2=bsa,
        steps=steps,
        label=label,
        limits=limits,
        weight_age_days=weight_age_days,
    )
    return BlinatumomabDose(
        indication=setting,
        cycle=number,
        phase=schedule.phase_of(number),
        weight_kg=weight_kg,
        height_cm=height_cm,
        bsa_m2=bsa,
        bsa_formula=bsa_formula,
        weight_band=weight_band(weight_kg, label),
        daily_dose_ug=target.daily_dose_ug,
        steps=steps,
        infusion_days=label.infusion_days,
        treatment_free_days=label.treatment_free_days_after(setting, number),
        max_daily_dose_ug=label.max_daily_dose_ug,
        max_step_daily_dose_ug=label.max_step_daily_dose_ug,
        warnings=warnings,
        label_version=label.label,
        label_effective_date=label.effective_date,
        source=label.source,
        unconfirmed=label.unconfirmed,
    )


def _outside(value: float, band: tuple[float, float]) -> bool:
    return not band[0] <= value <= band[1]


def _warnings(
    *,
    weight_kg: float,
    height_cm: float | None,
    bsa_m2: float,
    steps: tuple[DoseStep, ...],
    label: BlinatumomabLabel,
    limits: DoseSafetyLimits,
    weight_age_days: int | None,
) -> tuple[str, ...]:
    found: list[str] = []
    if _outside(weight_kg, limits.weight_kg_soft):
        low, high = limits.weight_kg_soft
        found.append(
            f"weight {weight_kg:g} kg is outside {low:g}-{high:g} kg: confirm it and give a reason"
        )
    if height_cm is not None and _outside(height_cm, limits.height_cm_soft):
        low, high = limits.height_cm_soft
        found.append(
            f"height {height_cm:g} cm is outside {low:g}-{high:g} cm: confirm it and give a reason"
        )
    if _outside(bsa_m2, limits.bsa_m2_soft):
        low, high = limits.bsa_m2_soft
        found.append(
            f"BSA {_plain(bsa_m2)} m² is outside {low:g}-{high:g} m²: confirm it and give a reason"
        )
    if bsa_m2 > limits.bsa_m2_flag_above:
        found.append(
            f"BSA {_plain(bsa_m2)} m² is above {limits.bsa_m2_flag_above:g} m² "
            "(chemotherapy dose-limit flag): confirm weight and height"
        )
    if label.bsa_dosing_all_weights and weight_kg >= label.weight_threshold_kg:
        found.append(
            f"weight {weight_kg:g} kg ≥ {label.weight_threshold_kg:g} kg but {label.id} doses by "
            f"BSA; the US label gives a fixed {format_mcg(label.fixed_daily_dose_ug)}/day at "
            "this weight - review (domain rules §12 item 5)"
        )
    for step in steps:
        level = step.level
        if level.cap_binds and level.ug_per_m2 is not None:
            found.append(
                f"days {step.days}: {_plain(level.ug_per_m2)} mcg/m²/day × {_plain(bsa_m2)} m² "
                f"exceeds the cap; dose limited to {format_mcg(level.cap_ug)}/day"
            )
    if weight_age_days is not None and weight_age_days > limits.max_weight_age_days:
        found.append(
            f"the weight is {weight_age_days} days old (> {limits.max_weight_age_days}): "
            "re-weigh before dosing"
        )
    return tuple(found)
