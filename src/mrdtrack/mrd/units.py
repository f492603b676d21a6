"""MRD units: fractions are stored, percent and scientific notation are only shown.

Domain rules §0.2 [D]: MRD is kept as a fraction (0.0001); percent (×100) and
scientific notation (1×10⁻⁴, two significant figures) are renderings for people.
Comparisons always use the un-rounded fraction.
"""

from __future__ import annotations

import math

from mrdtrack.inputs import require_number

__all__ = [
    "format_fraction",
    "format_percent",
    "fraction_to_percent",
    "log_reduction",
    "percent_to_fraction",
]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def percent_to_fraction(mrd_percent: float, field: str = "mrd_percent") -> float:
    """Convert a percentage in [0, 100] to a fraction in [0, 1]."""
    return require_number(field, mrd_percent, minimum=0.0, maximum=100.0) / 100.0


def fraction_to_percent(mrd_fraction: float, field: str = "mrd_fraction") -> float:
    """Convert a fraction (≥ 0; MRD relative to diagnosis may exceed 1) to percent."""
    return require_number(field, mrd_fraction, minimum=0.0) * 100.0


def log_reduction(mrd_fraction: float) -> float:
    """Log reduction from diagnosis: ``LR = −log10(MRD_rel)`` (domain rules PCR-04 [D])."""
    value = require_number("mrd_fraction", mrd_fraction, minimum=0.0, min_inclusive=False)
    return -math.log10(value)


def format_fraction(value: float, significant: int = 2) -> str:
    """Render a fraction as ``3.8×10⁻³`` (two significant figures by default)."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10**exponent, significant - 1)
    if abs(mantissa) >= 10:
        mantissa /= 10
        exponent += 1
    digits = f"{mantissa:.{significant - 1}f}"
    return f"{digits}×10{str(exponent).translate(_SUPERSCRIPT)}"


def format_percent(value_fraction: float, significant: int = 2) -> str:
    """Render a fraction as a percentage with ``significant`` figures: 3.81e-3 → ``0.38 %``."""
    percent = value_fraction * 100.0
    if percent == 0:
        return "0 %"
    return f"{float(f'{percent:.{significant}g}'):g} %"
