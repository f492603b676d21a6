"""Donor lymphocyte infusion (DLI) dose conventions (domain rules §10, DLI-01 … DLI-06).

* DLI-01: dose = CD3⁺ cells infused ÷ recipient weight, in CD3⁺ cells/kg [S: SEED-1;
  Bar M et al. Biol Blood Marrow Transplant 2013;19:949-957, doi:10.1016/j.bbmt.2013.03.001].
  The cumulative dose of a course is the sum of the per-infusion doses/kg.
* DLI-03: an initial dose ≥ 1×10⁸ CD3⁺/kg gave more GVHD without less relapse or better
  survival (Bar 2013) → a first dose at or above it warns.
* DLI-04/05: escalate in half-log steps (×10^0.5 ≈ 3.16), and only without GVHD (Dazzi F et
  al. Blood 2000;95:67-71; Walther D et al. Eur J Haematol 2026, doi:10.1111/ejh.70112).
  Ladder [D]: 1×10⁶ → 3.16×10⁶ → 1×10⁷ → 3.16×10⁷ → 1×10⁸ CD3⁺/kg; the next dose is the
  first rung above the previous dose.
* DLI-06 **[U]**: starting doses by donor type and the interval between infusions are a
  convention from memory (≈1×10⁷/kg matched sibling, ≈1×10⁶/kg unrelated, ≈1×10⁵/kg
  haploidentical; every 4-8 weeks) — a configurable profile table, listed as unconfirmed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.therapy.bsa import check_weight_kg

__all__ = [
    "DLI_PROFILES",
    "DliAction",
    "DliCourse",
    "DliDose",
    "DliEscalation",
    "DliInfusion",
    "DliProfile",
    "DonorType",
    "StartingDliDose",
    "check_first_dli_dose",
    "cumulative_dli_dose",
    "derive_dli_profile",
    "dli_dose",
    "format_cells_per_kg",
    "half_log_ladder",
    "next_dli_dose",
    "starting_dli_dose",
]

_SOURCE = (
    "Bar M et al. Biol Blood Marrow Transplant 2013;19:949-957 (initial dose); Dazzi F et al. "
    "Blood 2000;95:67-71 (escalation); Walther D et al. Eur J Haematol 2026 (half-log, no "
    "GVHD); Wang Y-L et al. Hematol Rep 2024;16:347-353 [SEED-1] (CD3⁺/kg)"
)
# Rounded rungs (3.16×10⁷) must count as on the ladder: tolerance in ladder steps.
_RUNG_TOLERANCE = 0.01
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class DonorType(StrEnum):
    """Donor types with (unconfirmed) conventional starting doses."""

    MATCHED_SIBLING = "matched-sibling"
    UNRELATED = "unrelated"
    HAPLOIDENTICAL = "haploidentical"


class DliAction(StrEnum):
    """The escalation decision."""

    ESCALATE = "escalate"
    HOLD = "hold"


@dataclass(frozen=True, slots=True, kw_only=True)
class DliProfile:
    """DLI conventions as versioned data; ``starting_doses`` and intervals are [U]."""

    id: str
    version: str
    effective_date: str
    source: str
    unconfirmed: tuple[str, ...] = ()
    high_initial_dose_per_kg: float = 1e8
    escalation_log10_step: float = 0.5
    starting_doses: tuple[tuple[DonorType, float], ...] = (
        (DonorType.MATCHED_SIBLING, 1e7),
        (DonorType.UNRELATED, 1e6),
        (DonorType.HAPLOIDENTICAL, 1e5),
    )
    interval_weeks: tuple[int, int] = (4, 8)

    @property
    def label(self) -> str:
        """``"<id>@<version>"``."""
        return f"{self.id}@{self.version}"


DLI_PROFILES: dict[str, DliProfile] = {
    "half-log": DliProfile(
        id="half-log",
        version="1",
        effective_date="2013-06-01",
        source=_SOURCE,
        unconfirmed=(
            "starting_doses: matched sibling 1×10⁷/kg, unrelated 1×10⁶/kg, haploidentical "
            "1×10⁵/kg (DLI-06; EBMT handbook / local SOP not retrieved)",
            "interval_weeks=4-8 between infusions (DLI-06)",
        ),
    ),
}


def format_cells_per_kg(value: float) -> str:
    """``2.2×10⁷/kg`` (three significant figures, trailing zeros dropped).

    Examples
    --------
    >>> format_cells_per_kg(3.1622776e7), format_cells_per_kg(1e8)
    ('3.16×10⁷/kg', '1×10⁸/kg')
    """
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 2)
    if mantissa >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    digits = f"{mantissa:.2f}".rstrip("0").rstrip(".")
    return f"{digits}×10{str(exponent).translate(_SUPERSCRIPT)}/kg"


@dataclass(frozen=True, slots=True)
class DliDose:
    """One infusion's CD3⁺ dose per kg of recipient weight (DLI-01)."""

    cd3_cells: float
    recipient_weight_kg: float
    cd3_per_kg: float
    infused_on: date | None = None
    rule: str = "DLI-01"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "cd3_cells": self.cd3_cells,
            "recipient_weight_kg": self.recipient_weight_kg,
            "cd3_per_kg": self.cd3_per_kg,
            "infused_on": None if self.infused_on is None else self.infused_on.isoformat(),
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class DliInfusion:
    """An infusion as recorded: CD3⁺ cells given and the recipient's weight that day."""

    cd3_cells: float
    recipient_weight_kg: float
    infused_on: date | None = None


@dataclass(frozen=True, slots=True)
class DliCourse:
    """Every infusion's dose and the cumulative CD3⁺/kg (sum of the per-infusion doses)."""

    infusions: tuple[DliDose, ...]
    cumulative_cd3_per_kg: float
    cumulative_cd3_cells: float
    warnings: tuple[str, ...]
    rule: str = "DLI-01, DLI-03"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "infusions": [i.to_dict() for i in self.infusions],
            "cumulative_cd3_per_kg": self.cumulative_cd3_per_kg,
            "cumulative_cd3_cells": self.cumulative_cd3_cells,
            "warnings": list(self.warnings),
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class DliEscalation:
    """The next DLI dose, or a hold, with the reasons and the profile used."""

    previous_cd3_per_kg: float
    action: DliAction
    next_cd3_per_kg: float | None
    reasons: tuple[str, ...]
    profile: str
    source: str
    rule: str = "DLI-04, DLI-05"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "previous_cd3_per_kg": self.previous_cd3_per_kg,
            "action": self.action.value,
            "next_cd3_per_kg": self.next_cd3_per_kg,
            "reasons": list(self.reasons),
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class StartingDliDose:
    """A conventional starting dose for a donor type (DLI-06, unconfirmed)."""

    donor: DonorType
    cd3_per_kg: float
    interval_weeks: tuple[int, int]
    unconfirmed: tuple[str, ...]
    profile: str
    rule: str = "DLI-06"


def _profile(profile: DliProfile | None) -> DliProfile:
    return profile or DLI_PROFILES["half-log"]


def _require_cells(field: str, value: object) -> float:
    return require_number(
        field, value, minimum=0, min_inclusive=False, hint="give a cell count such as 6.6e8"
    )


def dli_dose(
    *, cd3_cells: float, recipient_weight_kg: float, infused_on: date | None = None
) -> DliDose:
    """CD3⁺ cells/kg of one infusion: ``cd3_cells / recipient_weight_kg`` (DLI-01).

    Examples
    --------
    >>> format_cells_per_kg(dli_dose(cd3_cells=6.6e8, recipient_weight_kg=30).cd3_per_kg)
    '2.2×10⁷/kg'
    """
    cells = _require_cells("cd3_cells", cd3_cells)
    weight = check_weight_kg(recipient_weight_kg)
    return DliDose(cells, weight, cells / weight, infused_on)


def cumulative_dli_dose(
    infusions: Sequence[DliInfusion], profile: DliProfile | None = None
) -> DliCourse:
    """Per-infusion and cumulative CD3⁺/kg of a DLI course (DLI-01), first dose checked.

    The cumulative dose is the sum of each infusion's dose/kg (each with the weight of its
    day). The first infusion is checked against DLI-03 (:func:`check_first_dli_dose`).
    """
    if not infusions:
        raise InputError("infusions", [], "at least one infusion")
    doses = tuple(
        dli_dose(
            cd3_cells=item.cd3_cells,
            recipient_weight_kg=item.recipient_weight_kg,
            infused_on=item.infused_on,
        )
        for item in infusions
    )
    return DliCourse(
        infusions=doses,
        cumulative_cd3_per_kg=math.fsum(d.cd3_per_kg for d in doses),
        cumulative_cd3_cells=math.fsum(d.cd3_cells for d in doses),
        warnings=check_first_dli_dose(doses[0].cd3_per_kg, profile),
    )


def check_first_dli_dose(cd3_per_kg: float, profile: DliProfile | None = None) -> tuple[str, ...]:
    """Warnings for a first (initial) DLI dose: ``≥ 1×10⁸ CD3⁺/kg`` warns (DLI-03, Bar 2013)."""
    rules = _profile(profile)
    dose = _require_cells("cd3_per_kg", cd3_per_kg)
    if dose >= rules.high_initial_dose_per_kg:
        return (
            f"initial dose {format_cells_per_kg(dose)} ≥ "
            f"{format_cells_per_kg(rules.high_initial_dose_per_kg)}: more GVHD without less "
            "relapse or better survival (Bar 2013, DLI-03); start lower",
        )
    return ()


def _rung_index(cd3_per_kg: float, step: float) -> int:
    return math.floor(math.log10(cd3_per_kg) / step + _RUNG_TOLERANCE)


def half_log_ladder(
    start_per_kg: float, stop_per_kg: float, profile: DliProfile | None = None
) -> tuple[float, ...]:
    """The ladder rungs ``10^(k × step)`` from ``start_per_kg`` to ``stop_per_kg`` inclusive.

    Examples
    --------
    >>> [format_cells_per_kg(x) for x in half_log_ladder(1e6, 1e8)]
    ['1×10⁶/kg', '3.16×10⁶/kg', '1×10⁷/kg', '3.16×10⁷/kg', '1×10⁸/kg']
    """
    step = _profile(profile).escalation_log10_step
    low = _require_cells("start_per_kg", start_per_kg)
    high = _require_cells("stop_per_kg", stop_per_kg)
    if high < low:
        raise InputError("stop_per_kg", stop_per_kg, f"a dose ≥ start_per_kg ({low:g})")
    first = math.ceil(math.log10(low) / step - _RUNG_TOLERANCE)
    last = _rung_index(high, step)
    return tuple(10 ** (k * step) for k in range(first, last + 1))


def next_dli_dose(
    *,
    previous_cd3_per_kg: float,
    acute_gvhd_grade: int = 0,
    chronic_gvhd_active: bool = False,
    profile: DliProfile | None = None,
) -> DliEscalation:
    """The next DLI dose on the half-log ladder, or a hold if there is GVHD (DLI-04, DLI-05).

    ``next = 10^((k + 1) × step)`` where ``10^(k × step)`` is the highest rung at or below
    the previous dose (step 0.5: ×3.16). Any acute GVHD (grade ≥ I) or active chronic GVHD
    → hold: do not escalate.

    Examples
    --------
    >>> format_cells_per_kg(next_dli_dose(previous_cd3_per_kg=1e7).next_cd3_per_kg)
    '3.16×10⁷/kg'
    >>> next_dli_dose(previous_cd3_per_kg=1e7, acute_gvhd_grade=2).action.value
    'hold'
    """
    rules = _profile(profile)
    previous = _require_cells("previous_cd3_per_kg", previous_cd3_per_kg)
    grade = require_count("acute_gvhd_grade", acute_gvhd_grade)
    if grade > 4:
        raise InputError("acute_gvhd_grade", acute_gvhd_grade, "a grade from 0 (none) to 4")
    if not isinstance(chronic_gvhd_active, bool):
        raise InputError("chronic_gvhd_active", chronic_gvhd_active, "true or false")
    reasons: list[str] = []
    if grade:
        reasons.append(f"acute GVHD grade {('I', 'II', 'III', 'IV')[grade - 1]}")
    if chronic_gvhd_active:
        reasons.append("active chronic GVHD")
    if reasons:
        return DliEscalation(
            previous,
            DliAction.HOLD,
            None,
            (f"{' and '.join(reasons)}: do not escalate (escalate only without GVHD, DLI-05)",),
            rules.label,
            rules.source,
        )
    step = rules.escalation_log10_step
    following = 10 ** ((_rung_index(previous, step) + 1) * step)
    return DliEscalation(
        previous,
        DliAction.ESCALATE,
        following,
        (
            f"no GVHD: next rung of the ×{10**step:.3g} ladder, "
            f"{format_cells_per_kg(previous)} → {format_cells_per_kg(following)}",
        ),
        rules.label,
        rules.source,
    )


def starting_dli_dose(donor: DonorType | str, profile: DliProfile | None = None) -> StartingDliDose:
    """The profile's conventional starting dose for ``donor`` (DLI-06, **unconfirmed**)."""
    rules = _profile(profile)
    try:
        kind = DonorType(str(donor))
    except ValueError:
        raise InputError(
            "donor", donor, f"one of: {', '.join(d.value for d in DonorType)}"
        ) from None
    table = dict(rules.starting_doses)
    if kind not in table:
        raise NotFoundError(f"starting dose in {rules.label}", kind.value, tuple(table))
    return StartingDliDose(kind, table[kind], rules.interval_weeks, rules.unconfirmed, rules.label)


def derive_dli_profile(profile: DliProfile, **overrides: object) -> DliProfile:
    """A copy of ``profile`` with overridden values (a site's own starting doses)."""
    changed = {k: v for k, v in overrides.items() if getattr(profile, k) != v}
    if not changed:
        return profile
    return replace(profile, version=f"{profile.version}+{','.join(sorted(changed))}", **changed)  # type: ignore[arg-type]
