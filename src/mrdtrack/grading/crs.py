"""Cytokine release syndrome graded with the ASTCT 2019 consensus (domain rules CRS-01).

Source: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine
release syndrome and neurologic toxicity associated with immune effector cells. *Biol
Blood Marrow Transplant* 2019;25(4):625-638, doi:10.1016/j.bbmt.2018.12.758 (tables as
reproduced in PMC8021214 and PMC9327779; domain rules §7.1).

=====  ============  ===================================  ====================================
grade  fever         hypotension                          hypoxia
=====  ============  ===================================  ====================================
1      T ≥ 38.0 °C   none                                 none
2      T ≥ 38.0 °C   not requiring vasopressors (fluids)  low-flow nasal cannula (≤ 6 L/min)
                                                          or blow-by
3      T ≥ 38.0 °C   one vasopressor ± vasopressin        high-flow cannula (> 6 L/min),
                                                          facemask, non-rebreather, Venturi
4      T ≥ 38.0 °C   multiple vasopressors (excluding     positive pressure (CPAP, BiPAP,
                     vasopressin)                         intubation, mechanical ventilation)
5      death due to CRS
=====  ============  ===================================  ====================================

Formula: ``grade = max(hypotension_grade, hypoxia_grade)``, or 1 when febrile with
neither; CRS needs fever ≥ 38.0 °C unless antipyretic or anti-cytokine therapy
(tocilizumab, corticosteroids) has been given, after which fever is no longer required.
Organ toxicities do not change the grade (grade them with CTCAE; do not mix scales).

Vasopressin never counts as a second vasopressor: ``hypotension`` counts the agents
*other than* vasopressin and the ``vasopressin`` flag says that vasopressin was also
given. Vasopressin as the only vasopressor is one vasopressor (grade 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_number
from mrdtrack.provenance import ScalarValue, VersionedProfile

__all__ = [
    "CRS_PROFILES",
    "CrsGrade",
    "CrsProfile",
    "CrsScale",
    "Hypotension",
    "Hypoxia",
    "grade_crs",
]

_LEE_2019 = (
    "Lee DW et al. ASTCT consensus grading for CRS and neurologic toxicity. Biol Blood Marrow "
    "Transplant 2019;25:625-638, doi:10.1016/j.bbmt.2018.12.758 (domain rules CRS-01)"
)


class Hypotension(StrEnum):
    """The most intensive treatment that hypotension needed (vasopressin not counted)."""

    NONE = "none"
    FLUIDS = "fluids"
    ONE_VASOPRESSOR = "one-vasopressor"
    MULTIPLE_VASOPRESSORS = "multiple-vasopressors"


class Hypoxia(StrEnum):
    """The most intensive oxygen support that hypoxia needed."""

    NONE = "none"
    LOW_FLOW = "low-flow"
    HIGH_FLOW = "high-flow"
    POSITIVE_PRESSURE = "positive-pressure"


class CrsScale(StrEnum):
    """The scale a stored CRS grade was assigned with (domain rules §7.2); never mix them."""

    ASTCT_2019 = "ASTCT-2019"
    LEE_2014 = "Lee-2014"
    CTCAE_V4 = "CTCAE-v4"
    CTCAE_V5 = "CTCAE-v5"


HYPOTENSION_GRADES: Mapping[Hypotension, int] = MappingProxyType(
    {
        Hypotension.NONE: 0,
        Hypotension.FLUIDS: 2,
        Hypotension.ONE_VASOPRESSOR: 3,
        Hypotension.MULTIPLE_VASOPRESSORS: 4,
    }
)
HYPOXIA_GRADES: Mapping[Hypoxia, int] = MappingProxyType(
    {
        Hypoxia.NONE: 0,
        Hypoxia.LOW_FLOW: 2,
        Hypoxia.HIGH_FLOW: 3,
        Hypoxia.POSITIVE_PRESSURE: 4,
    }
)

_HYPOTENSION_WORDS = {
    Hypotension.NONE: "none",
    Hypotension.FLUIDS: "responsive to fluids, no vasopressor",
    Hypotension.ONE_VASOPRESSOR: "one vasopressor",
    Hypotension.MULTIPLE_VASOPRESSORS: "multiple vasopressors (excluding vasopressin)",
}
_HYPOXIA_WORDS = {
    Hypoxia.NONE: "none",
    Hypoxia.LOW_FLOW: "low-flow nasal cannula (≤ 6 L/min) or blow-by",
    Hypoxia.HIGH_FLOW: "high-flow nasal cannula (> 6 L/min), facemask, non-rebreather or Venturi",
    Hypoxia.POSITIVE_PRESSURE: "positive pressure (CPAP, BiPAP, intubation)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CrsProfile(VersionedProfile):
    """ASTCT CRS grading rules: the fever threshold and the plausible temperature range.

    A temperature outside ``[min_plausible_temperature_c, max_plausible_temperature_c]``
    is refused as an entry error (a Fahrenheit value, a sign slip), not graded.
    """

    system: str = "ASTCT-2019"
    fever_threshold_c: float = 38.0
    min_plausible_temperature_c: float = 25.0
    max_plausible_temperature_c: float = 45.0


CRS_PROFILES: dict[str, CrsProfile] = {
    "astct-2019": CrsProfile(
        id="astct-2019",
        version="1",
        effective_date="2019-04-01",
        source=_LEE_2019,
        unconfirmed=(
            "hypotension is taken as clinically assessed: adult SBP < 90 mmHg; the pediatric "
            "age-adjusted thresholds were not retrieved (domain rules CRS-01 step 6)",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class CrsGrade:
    """One ASTCT CRS grade with the findings that set it.

    Attributes
    ----------
    grade
        0–5; 0 when the ASTCT definition is not met or nothing is active.
    system
        ``"ASTCT-2019"``.
    meets_definition
        ``False`` when there was neither fever nor antipyretic/anti-cytokine therapy: the
        findings are not CRS under ASTCT (evaluate other causes).
    febrile
        Whether the temperature met the fever threshold.
    hypotension_grade, hypoxia_grade
        The grade each component alone would give (0, 2, 3 or 4).
    drivers
        The findings that set the grade, in words.
    notes
        Context that did not set the grade (vasopressin not counted; fever waived).
    inputs
        The inputs exactly as used.
    profile, source, rule, unconfirmed
        The basis: ``"<profile>@<version>"``, the citation, ``"CRS-01"``, [U] items.
    """

    grade: int
    system: str
    meets_definition: bool
    febrile: bool
    hypotension_grade: int
    hypoxia_grade: int
    drivers: tuple[str, ...]
    notes: tuple[str, ...]
    inputs: Mapping[str, ScalarValue]
    profile: str
    source: str
    rule: str = "CRS-01"
    unconfirmed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping: the CLI contract's ``grade``, ``system``, ``drivers`` and more."""
        return {
            "grade": self.grade,
            "system": self.system,
            "drivers": list(self.drivers),
            "meets_definition": self.meets_definition,
            "febrile": self.febrile,
            "hypotension_grade": self.hypotension_grade,
            "hypoxia_grade": self.hypoxia_grade,
            "notes": list(self.notes),
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
            "inputs": dict(self.inputs),
        }


def grade_crs(
    *,
    temperature_c: float | None,
    hypotension: Hypotension | str = Hypotension.NONE,
    hypoxia: Hypoxia | str = Hypoxia.NONE,
    vasopressin: bool = False,
    anti_cytokine: bool = False,
    antipyretic: bool = False,
    died_of_crs: bool = False,
    profile: CrsProfile | None = None,
) -> CrsGrade:
    """Grade CRS with ASTCT 2019: ``max(hypotension, hypoxia)``, 1 if febrile with neither.

    Parameters
    ----------
    temperature_c
        The highest temperature (°C) of the episode; ``None`` only when antipyretic or
        anti-cytokine therapy was given (fever is then no longer required).
    hypotension
        ``none`` | ``fluids`` | ``one-vasopressor`` | ``multiple-vasopressors``, counting
        the vasopressors other than vasopressin.
    hypoxia
        ``none`` | ``low-flow`` | ``high-flow`` | ``positive-pressure``.
    vasopressin
        Vasopressin was also given. It never counts as a second vasopressor; alone it is
        one vasopressor.
    anti_cytokine, antipyretic
        Tocilizumab or corticosteroids / an antipyretic was given for CRS: fever is no
        longer required to grade it.
    died_of_crs
        Death due to CRS (grade 5).
    profile
        Default ``astct-2019``.

    Raises
    ------
    InputError
        For a temperature outside the plausible range, an unknown level, or a missing
        temperature when fever is still required.

    Examples
    --------
    >>> grade_crs(temperature_c=38.9, hypotension="one-vasopressor", hypoxia="low-flow").grade
    3
    """
    rules = profile or CRS_PROFILES["astct-2019"]
    given_level = require_choice("hypotension", hypotension, Hypotension)
    level = given_level
    oxygen = require_choice("hypoxia", hypoxia, Hypoxia)
    fever_waived = anti_cytokine or antipyretic
    temperature = _temperature(temperature_c, rules, fever_waived)
    febrile = temperature is not None and temperature >= rules.fever_threshold_c

    notes: list[str] = []
    if vasopressin and level in (Hypotension.NONE, Hypotension.FLUIDS):
        notes.append("vasopressin was the only vasopressor: counted as one vasopressor")
        level = Hypotension.ONE_VASOPRESSOR
    elif vasopressin:
        notes.append("vasopressin given as well: never counted as a second vasopressor")
    if fever_waived and not febrile:
        given = "anti-cytokine" if anti_cytokine else "antipyretic"
        notes.append(f"{given} therapy given: fever is no longer required")
    hypotension_grade = HYPOTENSION_GRADES[level]
    hypoxia_grade = HYPOXIA_GRADES[oxygen]
    fever_words = (
        "temperature not given"
        if temperature is None
        else f"{temperature:g} °C {'≥' if febrile else '<'} {rules.fever_threshold_c:g} °C"
    )

    drivers: list[str] = []
    meets_definition = True
    if died_of_crs:
        grade = 5
        drivers.append("death due to CRS → grade 5")
    elif not febrile and not fever_waived:
        grade = 0
        meets_definition = False
        statement = (
            f"no fever ({fever_words}) and no antipyretic or anti-cytokine therapy: the ASTCT "
            "CRS definition is not met"
        )
        if hypotension_grade or hypoxia_grade:
            statement += "; evaluate other causes of the hypotension or hypoxia"
        drivers.append(statement)
    else:
        grade = max(hypotension_grade, hypoxia_grade)
        if hypotension_grade and hypotension_grade == grade:
            drivers.append(f"hypotension: {_HYPOTENSION_WORDS[level]} → grade {grade}")
        if hypoxia_grade and hypoxia_grade == grade:
            drivers.append(f"hypoxia: {_HYPOXIA_WORDS[oxygen]} → grade {grade}")
        if grade == 0 and febrile:
            grade = 1
            drivers.append(f"fever {fever_words} with no hypotension or hypoxia → grade 1")
        elif grade == 0:
            drivers.append("no fever, hypotension or hypoxia after therapy: no active CRS")

    inputs: dict[str, ScalarValue] = {
        "temperature_c": temperature,
        "hypotension": given_level.value,
        "hypoxia": oxygen.value,
        "vasopressin": vasopressin,
        "anti_cytokine": anti_cytokine,
        "antipyretic": antipyretic,
        "died_of_crs": died_of_crs,
    }
    return CrsGrade(
        grade=grade,
        system=rules.system,
        meets_definition=meets_definition,
        febrile=febrile,
        hypotension_grade=hypotension_grade,
        hypoxia_grade=hypoxia_grade,
        drivers=tuple(drivers),
        notes=tuple(notes),
        inputs=inputs,
        profile=rules.label,
        source=rules.source,
        unconfirmed=rules.unconfirmed,
    )


def _temperature(value: float | None, rules: CrsProfile, fever_waived: bool) -> float | None:
    expected_range = (
        f"a temperature in °C from {rules.min_plausible_temperature_c:g} to "
        f"{rules.max_plausible_temperature_c:g}"
    )
    if value is None:
        if fever_waived:
            return None
        raise InputError(
            "temperature_c",
            None,
            expected_range,
            f"fever ≥ {rules.fever_threshold_c:g} °C is required unless antipyretic or "
            "anti-cytokine therapy was given: give the highest temperature",
        )
    return require_number(
        "temperature_c",
        value,
        minimum=rules.min_plausible_temperature_c,
        maximum=rules.max_plausible_temperature_c,
        hint="give the highest temperature in degrees Celsius (e.g. 38.5), not Fahrenheit",
    )
