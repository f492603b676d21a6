"""Body-surface area from height and weight (rule BSA-01), and the checks on those inputs.

Every formula has the power-law form ``BSA = k × W^a × H^b`` (W in kg, H in cm, BSA in
m²); Mosteller's ``sqrt(H × W / 3600)`` is ``k = 1/60, a = b = 0.5``:

=============  ==========  =======  =======  ===================================================
formula        k           a (W)    b (H)    source
=============  ==========  =======  =======  ===================================================
Mosteller      1/60        0.5      0.5      Mosteller RD. N Engl J Med 1987;317(17):1098,
                                             doi:10.1056/NEJM198710223171717 (PMID 3657876)
DuBois         0.007184    0.425    0.725    Du Bois D, Du Bois EF. Arch Intern Med
                                             1916;17:863-871,
                                             doi:10.1001/archinte.1916.00080130010002
Haycock        0.024265    0.5378   0.3964   Haycock GB, Schwartz GJ, Wisotsky DH. J Pediatr
                                             1978;93(1):62-66, doi:10.1016/S0022-3476(78)80601-5
Gehan-George   0.0235      0.51456  0.42246  Gehan EA, George SL. Cancer Chemother Rep
                                             1970;54(4):225-235 (PMID 5527019)
=============  ==========  =======  =======  ===================================================

Coefficients as tabulated by globalrph.com (domain rules §6.5). Mosteller is the default;
Haycock is often preferred for infants; the protocol decides, and every result names its
formula.

Weight and height are checked against the hard limits of
:data:`~mrdtrack.therapy.label.DOSE_SAFETY_LIMITS` (reliability goal 28); a height that
looks like metres or millimetres, or a weight that looks like grams, is refused with a
hint that says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number
from mrdtrack.therapy.label import DOSE_SAFETY_LIMITS, DoseSafetyLimits

__all__ = [
    "BodySurfaceArea",
    "BsaFormula",
    "body_surface_area",
    "check_bsa_m2",
    "check_height_cm",
    "check_weight_kg",
]


class BsaFormula(StrEnum):
    """The body-surface-area formulas of rule BSA-01."""

    MOSTELLER = "mosteller"
    DUBOIS = "dubois"
    HAYCOCK = "haycock"
    GEHAN_GEORGE = "gehan-george"

    @property
    def display_name(self) -> str:
        """The formula's name as its authors wrote it (``DuBois``, ``Gehan-George``)."""
        return _FORMULAS[self].name


@dataclass(frozen=True, slots=True)
class _PowerLaw:
    name: str
    coefficient: float
    weight_exponent: float
    height_exponent: float
    equation: str
    citation: str


_FORMULAS: dict[BsaFormula, _PowerLaw] = {
    BsaFormula.MOSTELLER: _PowerLaw(
        "Mosteller",
        1 / 60,
        0.5,
        0.5,
        "sqrt(H × W / 3600)",
        "Mosteller RD. N Engl J Med 1987;317(17):1098, doi:10.1056/NEJM198710223171717",
    ),
    BsaFormula.DUBOIS: _PowerLaw(
        "DuBois",
        0.007184,
        0.425,
        0.725,
        "0.007184 × W^0.425 × H^0.725",
        "Du Bois D, Du Bois EF. Arch Intern Med 1916;17:863-871, "
        "doi:10.1001/archinte.1916.00080130010002",
    ),
    BsaFormula.HAYCOCK: _PowerLaw(
        "Haycock",
        0.024265,
        0.5378,
        0.3964,
        "0.024265 × W^0.5378 × H^0.3964",
        "Haycock GB, Schwartz GJ, Wisotsky DH. J Pediatr 1978;93(1):62-66, "
        "doi:10.1016/S0022-3476(78)80601-5",
    ),
    BsaFormula.GEHAN_GEORGE: _PowerLaw(
        "Gehan-George",
        0.0235,
        0.51456,
        0.42246,
        "0.0235 × W^0.51456 × H^0.42246",
        "Gehan EA, George SL. Cancer Chemother Rep 1970;54(4):225-235, PMID 5527019",
    ),
}


@dataclass(frozen=True, slots=True)
class BodySurfaceArea:
    """A body-surface area with the formula and inputs that produced it (BSA-01)."""

    bsa_m2: float
    formula: BsaFormula
    weight_kg: float
    height_cm: float
    equation: str
    citation: str
    rule: str = "BSA-01"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "bsa_m2": self.bsa_m2,
            "bsa_formula": self.formula.value,
            "equation": self.equation,
            "weight_kg": self.weight_kg,
            "height_cm": self.height_cm,
            "citation": self.citation,
            "rule": self.rule,
        }


def _rescaled(value: object, scale: float, band: tuple[float, float]) -> float | None:
    """``value × scale`` if that is plausible (within ``band``), else None: a wrong unit."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    rescaled = value * scale
    return rescaled if band[0] <= rescaled <= band[1] else None


def check_weight_kg(weight_kg: object, limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS) -> float:
    """Return the weight if it is within the hard limits, else refuse it with a hint.

    A refused value that would be plausible as grams (÷ 1000) says so.
    """
    low, high = limits.weight_kg_hard
    hint = "give the weight in kilograms"
    if (as_kg := _rescaled(weight_kg, 1e-3, limits.weight_kg_hard)) is not None:
        hint = f"{weight_kg} looks like grams; give kilograms ({as_kg:g} kg)"
    return require_number("weight_kg", weight_kg, minimum=low, maximum=high, hint=hint)


def check_height_cm(height_cm: object, limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS) -> float:
    """Return the height if it is within the hard limits, else refuse it with a hint.

    A refused value that would be plausible as metres (× 100, e.g. 1.35) or millimetres
    (÷ 10) says so.
    """
    low, high = limits.height_cm_hard
    hint = "give the height in centimetres"
    if (from_m := _rescaled(height_cm, 100, limits.height_cm_hard)) is not None:
        hint = f"{height_cm} looks like metres; give centimetres ({from_m:g} cm)"
    elif (from_mm := _rescaled(height_cm, 0.1, limits.height_cm_hard)) is not None:
        hint = f"{height_cm} looks like millimetres; give centimetres ({from_mm:g} cm)"
    return require_number("height_cm", height_cm, minimum=low, maximum=high, hint=hint)


def check_bsa_m2(bsa_m2: object, limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS) -> float:
    """Return the BSA if it is within the hard limits, else refuse it."""
    low, high = limits.bsa_m2_hard
    return require_number(
        "bsa_m2",
        bsa_m2,
        minimum=low,
        maximum=high,
        hint="check the weight (kg) and height (cm) it was computed from",
    )


def body_surface_area(
    *,
    weight_kg: float,
    height_cm: float,
    formula: BsaFormula | str = BsaFormula.MOSTELLER,
    limits: DoseSafetyLimits = DOSE_SAFETY_LIMITS,
) -> BodySurfaceArea:
    """Body-surface area in m² by one of the BSA-01 formulas.

    ``BSA = k × W^a × H^b`` with the formula's constants (module table); weight in kg,
    height in cm. The BSA itself is not range-checked here: a dose check does that with
    :func:`check_bsa_m2`.

    Parameters
    ----------
    weight_kg
        Body weight in kilograms (hard limits ``limits.weight_kg_hard``).
    height_cm
        Height in centimetres (hard limits ``limits.height_cm_hard``).
    formula
        A :class:`BsaFormula` or its value; Mosteller by default.
    limits
        Input plausibility limits.

    Examples
    --------
    >>> round(body_surface_area(weight_kg=30, height_cm=135).bsa_m2, 4)
    1.0607
    >>> round(body_surface_area(weight_kg=30, height_cm=135, formula="haycock").bsa_m2, 4)
    1.0564
    """
    try:
        chosen = BsaFormula(formula)
    except ValueError:
        raise InputError(
            "bsa_formula", formula, f"one of: {', '.join(f.value for f in BsaFormula)}"
        ) from None
    weight = check_weight_kg(weight_kg, limits)
    height = check_height_cm(height_cm, limits)
    law = _FORMULAS[chosen]
    bsa = law.coefficient * math.pow(weight, law.weight_exponent)
    bsa *= math.pow(height, law.height_exponent)
    return BodySurfaceArea(
        bsa_m2=bsa,
        formula=chosen,
        weight_kg=weight,
        height_cm=height,
        equation=law.equation,
        citation=law.citation,
    )
