"""Hypogammaglobulinemia from a serum IgG value (domain rules §9, HYPO-01 … HYPO-06).

Registry rule [D]: ``hypogammaglobulinemia = IgG_mg_dL < threshold(age, profile)``, with
the threshold used stored beside the result. Units (HYPO-01): 1 g/L = 100 mg/dL; a value
in g/L is accepted only with an explicit unit and is converted, never guessed.

Profiles (each is data with its source):

* ``adult-400``: IgG < 400 mg/dL, the most widely used replacement-consideration threshold
  after HCT and CAR-T (HCT guidance and Hill et al. CAR-T guidance as summarized in
  PMC11272770, Table 1) — default for adults (age ≥ 18 years);
* ``adult-500``: IgG < 500 mg/dL, used by some programs **[U]**;
* ``pediatric-example``: below the age-specific lower reference limit (HYPO-06 example
  table, lab-test handbook via doctor123.org) — default below 18 years. Limits differ
  between laboratories: replace the table with the reporting laboratory's own.

A sample drawn within ``ivig_window_days`` (default 28) after intravenous immunoglobulin
reflects the infused IgG: it is flagged ``post_ivig`` and is not evaluable for
endogenous IgG production (domain rules §9 registry rule: "< 3–4 weeks after IVIG").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_number
from mrdtrack.provenance import ScalarValue, VersionedProfile

__all__ = [
    "ADULT_AGE_YEARS",
    "IGG_PROFILES",
    "IgGAgeBand",
    "IgGAssessment",
    "IgGProfile",
    "IgGStatus",
    "IgGUnit",
    "assess_igg",
    "default_igg_profile",
    "igg_to_mg_dl",
]

ADULT_AGE_YEARS = 18.0
"""Age from which the adult profile is the default (a local convention, not a guideline)."""

_IMPLAUSIBLE_MG_DL = 20.0
_MAX_IGG_MG_DL = 10_000.0
_G_L_TO_MG_DL = 100.0


class IgGUnit(StrEnum):
    """The unit an IgG value was reported in."""

    MG_DL = "mg/dL"
    G_L = "g/L"


class IgGStatus(StrEnum):
    """The call on one IgG value."""

    HYPOGAMMAGLOBULINEMIA = "hypogammaglobulinemia"
    NORMAL = "normal"
    NOT_EVALUABLE = "not_evaluable"


@dataclass(frozen=True, slots=True)
class IgGAgeBand:
    """One age band of a reference table: ``min_months ≤ age < max_months``."""

    label: str
    min_months: float
    max_months: float
    lower_limit_mg_dl: float

    def contains(self, age_months: float) -> bool:
        """Whether an age (months) falls in this band."""
        return self.min_months <= age_months < self.max_months


@dataclass(frozen=True, slots=True, kw_only=True)
class IgGProfile(VersionedProfile):
    """One hypogammaglobulinemia definition: a fixed limit or an age-band table.

    IgG strictly below the limit is hypogammaglobulinemia (the limit itself is not).
    """

    lower_limit_mg_dl: float | None = None
    age_bands: tuple[IgGAgeBand, ...] = ()
    ivig_window_days: float = 28.0


def _band(label: str, low: float, high: float, limit: float) -> IgGAgeBand:
    return IgGAgeBand(label=label, min_months=low, max_months=high, lower_limit_mg_dl=limit)


_PEDIATRIC_EXAMPLE = (
    _band("1 mo", 1, 2, 241),
    _band("2 mo", 2, 3, 198),
    _band("3 mo", 3, 4, 169),
    _band("4 mo", 4, 5, 188),
    _band("5 mo", 5, 6, 165),
    _band("6 mo", 6, 7, 206),
    _band("7–8 mo", 7, 9, 208),
    _band("9–11 mo", 9, 12, 282),
    _band("1 y", 12, 24, 331),
    _band("2 y", 24, 36, 407),
    _band("3 y", 36, 48, 423),
    _band("4 y", 48, 60, 444),
    _band("5–7 y", 60, 96, 608),
    _band("8–9 y", 96, 120, 584),
    _band("≥ 10 y", 120, math.inf, 768),
)

_PMC11272770 = (
    "guidance summary table (AAAAI 2022, HCT, ASBMT, Hill et al. CAR-T), PMC11272770 Table 1"
)
_IVIG_WINDOW_NOTE = (
    "ivig_window_days=28: 'drawn < 3–4 weeks after IVIG' is not interpretable as endogenous "
    "IgG (domain rules §9 registry rule); local policy"
)

IGG_PROFILES: dict[str, IgGProfile] = {
    "adult-400": IgGProfile(
        id="adult-400",
        version="1",
        effective_date="2024-07-01",
        source=f"IgG < 400 mg/dL (domain rules HYPO-02); {_PMC11272770}",
        lower_limit_mg_dl=400.0,
        unconfirmed=(_IVIG_WINDOW_NOTE,),
    ),
    "adult-500": IgGProfile(
        id="adult-500",
        version="1",
        effective_date="2024-07-01",
        source="IgG < 500 mg/dL, used by some programs (domain rules HYPO-02)",
        lower_limit_mg_dl=500.0,
        unconfirmed=(
            "lower_limit_mg_dl=500: some programs' threshold, not from a retrieved source [U]",
            _IVIG_WINDOW_NOTE,
        ),
    ),
    "pediatric-example": IgGProfile(
        id="pediatric-example",
        version="1",
        effective_date="2024-07-01",
        source="age-specific lower reference limits, example table (domain rules HYPO-06; "
        "lab-test handbook via doctor123.org)",
        age_bands=_PEDIATRIC_EXAMPLE,
        unconfirmed=(
            "age_bands: an example published table; use the reporting laboratory's own "
            "age-specific lower limits (ranges differ between labs)",
            f"default below {ADULT_AGE_YEARS:g} years (local convention)",
            _IVIG_WINDOW_NOTE,
        ),
    ),
}


def igg_to_mg_dl(value: float, unit: IgGUnit | str) -> float:
    """IgG in mg/dL from a value in ``unit`` (HYPO-01: 1 g/L = 100 mg/dL).

    Examples
    --------
    >>> igg_to_mg_dl(3.6, "g/L")
    360.0
    """
    chosen = require_choice("unit", unit, IgGUnit)
    field_name = "igg_g_l" if chosen is IgGUnit.G_L else "igg_mg_dl"
    factor = _G_L_TO_MG_DL if chosen is IgGUnit.G_L else 1.0
    number = require_number(
        field_name,
        value,
        minimum=0.0,
        maximum=_MAX_IGG_MG_DL / factor,
        hint=f"serum IgG in {chosen.value}",
    )
    return number * factor


def default_igg_profile(age_years: float) -> IgGProfile:
    """``adult-400`` from 18 years, ``pediatric-example`` below."""
    age = require_number("age_years", age_years, minimum=0.0, maximum=130.0)
    return IGG_PROFILES["adult-400" if age >= ADULT_AGE_YEARS else "pediatric-example"]


@dataclass(frozen=True, slots=True)
class IgGAssessment:
    """One IgG value judged against one profile.

    ``hypogammaglobulinemia`` is ``None`` when the value is not evaluable (post-IVIG or
    no reference limit for the age).
    """

    status: IgGStatus
    hypogammaglobulinemia: bool | None
    igg_mg_dl: float
    threshold_mg_dl: float | None
    age_band: str | None
    flags: tuple[str, ...]
    drivers: tuple[str, ...]
    warnings: tuple[str, ...]
    inputs: Mapping[str, ScalarValue]
    system: str
    profile: str
    source: str
    rule: str = "HYPO-01, HYPO-02, HYPO-06"
    unconfirmed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``status``, ``hypogammaglobulinemia``, ``igg_mg_dl`` …)."""
        return {
            "status": self.status.value,
            "hypogammaglobulinemia": self.hypogammaglobulinemia,
            "igg_mg_dl": self.igg_mg_dl,
            "threshold_mg_dl": self.threshold_mg_dl,
            "operator": "<",
            "age_band": self.age_band,
            "flags": list(self.flags),
            "drivers": list(self.drivers),
            "warnings": list(self.warnings),
            "system": self.system,
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
            "inputs": dict(self.inputs),
        }


def assess_igg(
    igg: float,
    *,
    unit: IgGUnit | str = IgGUnit.MG_DL,
    age_years: float | None = None,
    profile: IgGProfile | str | None = None,
    days_since_ivig: float | None = None,
    ivig_window_days: float | None = None,
) -> IgGAssessment:
    """Whether an IgG value is hypogammaglobulinemia: ``IgG_mg_dL < threshold(age, profile)``.

    Parameters
    ----------
    igg
        The serum IgG value, in ``unit``.
    unit
        ``mg/dL`` (default) or ``g/L`` (converted × 100); never inferred from the value.
    age_years
        Chooses the default profile (adult from 18 years) and the pediatric age band.
    profile
        A profile or its id (``adult-400``, ``adult-500``, ``pediatric-example``); by
        default chosen from the age, which is then required.
    days_since_ivig
        Days from the last IVIG infusion to the sample (``None``: no IVIG).
    ivig_window_days
        Overrides the profile's post-IVIG window (default 28 days).

    Examples
    --------
    >>> assess_igg(3.6, unit="g/L", age_years=40).status.value
    'hypogammaglobulinemia'
    """
    chosen_unit = require_choice("unit", unit, IgGUnit)
    value_mg_dl = igg_to_mg_dl(igg, chosen_unit)
    age = (
        None
        if age_years is None
        else require_number("age_years", age_years, minimum=0.0, maximum=130.0)
    )
    rules = _profile(profile, age)
    window = require_number(
        "ivig_window_days",
        rules.ivig_window_days if ivig_window_days is None else ivig_window_days,
        minimum=0.0,
        maximum=365.0,
    )
    days = (
        None
        if days_since_ivig is None
        else require_number("days_since_ivig", days_since_ivig, minimum=0.0, maximum=36_500.0)
    )
    warnings: list[str] = []
    if chosen_unit is IgGUnit.MG_DL and value_mg_dl < _IMPLAUSIBLE_MG_DL:
        warnings.append(
            f"IgG {value_mg_dl:g} mg/dL is implausibly low: if the laboratory reported g/L, "
            "give the unit g/L (× 100)"
        )
    threshold, band, drivers = _threshold(rules, age, warnings)
    flags: list[str] = []
    if days is not None and days < window:
        flags.append("post_ivig")
        drivers.append(
            f"drawn {days:g} days after IVIG (< {window:g} days): not evaluable for endogenous "
            "IgG production"
        )
        if threshold is not None and value_mg_dl < threshold:
            drivers.append(
                f"IgG {value_mg_dl:g} mg/dL is below {threshold:g} mg/dL even with the infused IgG"
            )
    if flags or threshold is None:
        status, low = IgGStatus.NOT_EVALUABLE, None
    else:
        low = value_mg_dl < threshold
        status = IgGStatus.HYPOGAMMAGLOBULINEMIA if low else IgGStatus.NORMAL
        where = f"the {band} lower limit " if band else ""
        drivers.append(
            f"IgG {value_mg_dl:g} mg/dL {'<' if low else '≥'} {where}{threshold:g} mg/dL "
            f"({rules.id}) → {status.value}"
        )
    inputs: dict[str, ScalarValue] = {
        "igg": igg,
        "unit": chosen_unit.value,
        "age_years": age,
        "days_since_ivig": days,
        "ivig_window_days": window,
    }
    return IgGAssessment(
        status=status,
        hypogammaglobulinemia=low,
        igg_mg_dl=value_mg_dl,
        threshold_mg_dl=threshold,
        age_band=band,
        flags=tuple(flags),
        drivers=tuple(drivers),
        warnings=tuple(warnings),
        inputs=inputs,
        system=rules.id,
        profile=rules.label,
        source=rules.source,
        unconfirmed=rules.unconfirmed,
    )


def _profile(profile: IgGProfile | str | None, age: float | None) -> IgGProfile:
    if isinstance(profile, IgGProfile):
        return profile
    if isinstance(profile, str):
        if profile not in IGG_PROFILES:
            raise InputError("profile", profile, f"one of: {', '.join(IGG_PROFILES)}")
        return IGG_PROFILES[profile]
    if age is None:
        raise InputError(
            "age_years",
            None,
            "the age in years (it chooses the adult or pediatric profile)",
            f"or name a profile: {', '.join(IGG_PROFILES)}",
        )
    return default_igg_profile(age)


def _threshold(
    rules: IgGProfile, age: float | None, warnings: list[str]
) -> tuple[float | None, str | None, list[str]]:
    if rules.lower_limit_mg_dl is not None:
        if age is not None and age < ADULT_AGE_YEARS:
            warnings.append(
                f"adult profile {rules.id} applied at age {age:g} years: consider the "
                "laboratory's age-specific limit"
            )
        return rules.lower_limit_mg_dl, None, []
    if age is None:
        raise InputError(
            "age_years",
            None,
            f"the age in years: profile {rules.id} has age-specific limits",
        )
    months = age * 12.0
    for band in rules.age_bands:
        if band.contains(months):
            return band.lower_limit_mg_dl, band.label, []
    return None, None, [f"no lower limit in {rules.id} for age {age:g} years: not evaluable"]
