"""qPCR standard curves: fit, efficiency, acceptance, copies from Ct (rule PCR-01).

Model (MIQE-style practice, Bustin SA et al. Clin Chem 2009; domain rules PCR-01):

* ``Ct = m · log10(N) + b``, ordinary least squares over every valid standard replicate;
* inverse: ``N = 10^((Ct − b) / m)``;
* efficiency: ``E = 10^(−1/m) − 1`` (``m = −3.32`` ↔ ``E = 100 %``);
* acceptance (default profile): ``0.90 ≤ E ≤ 1.10`` and ``R² > 0.98``; ``m ≥ 0`` or fewer
  than three distinct levels with a valid Ct make the curve invalid.

Undetermined standard replicates (``None``) are left out of the fit; a level whose
replicates are all undetermined is recorded, since it bounds the assay's sensitivity.
The same model serves Ig/TR PCR, where ``N`` is the dilution of diagnostic DNA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number
from mrdtrack.mrd.profiles import CURVE_ACCEPTANCE, CurveAcceptance

__all__ = [
    "CurveStatus",
    "CurveVerdict",
    "Quantity",
    "StandardCurve",
    "assess_curve",
    "efficiency_from_slope",
    "fit_standard_curve",
]

# A Ct of 0 or less, or above 50, is not a threshold cycle any instrument reports.
_MAX_CT = 50.0


def efficiency_from_slope(slope: float) -> float:
    """Amplification efficiency ``E = 10^(−1/m) − 1`` as a fraction (1.0 = 100 %).

    Only defined for a negative slope; ``m ≥ 0`` is an invalid curve.
    """
    m = require_number("slope", slope, maximum=0.0, max_inclusive=False)
    return float(10 ** (-1.0 / m) - 1.0)


class CurveStatus(StrEnum):
    """Verdict on a standard curve."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class CurveVerdict:
    """Whether a curve may be used, with every failed criterion in words."""

    status: CurveStatus
    reasons: tuple[str, ...]
    acceptance: str

    @property
    def usable(self) -> bool:
        """Only a passing curve may quantify samples."""
        return self.status is CurveStatus.PASS


def assess_curve(
    slope: float,
    *,
    r_squared: float | None = None,
    n_levels: int | None = None,
    intercept: float | None = None,
    acceptance: CurveAcceptance | None = None,
) -> CurveVerdict:
    """Judge a curve against an acceptance profile (PCR-01).

    Parameters
    ----------
    slope
        ``m`` of ``Ct = m·log10(N) + b``.
    r_squared, n_levels, intercept
        Checked when given.
    acceptance
        Default: the MIQE-style profile (90–110 % efficiency, R² > 0.98, ≥ 3 levels).
    """
    rules = acceptance or CURVE_ACCEPTANCE["miqe"]
    m = require_number("slope", slope)
    if m >= 0:
        return CurveVerdict(
            CurveStatus.INVALID,
            (f"slope {m:g} is not negative: Ct must fall as template rises",),
            rules.label,
        )
    if n_levels is not None and n_levels < rules.min_levels:
        return CurveVerdict(
            CurveStatus.INVALID,
            (f"{n_levels} standard levels with a valid Ct; at least {rules.min_levels} needed",),
            rules.label,
        )
    reasons: list[str] = []
    efficiency = efficiency_from_slope(m)
    if not rules.min_efficiency <= efficiency <= rules.max_efficiency:
        reasons.append(
            f"efficiency {efficiency * 100:.1f} % is outside "
            f"{rules.min_efficiency * 100:g}–{rules.max_efficiency * 100:g} %"
        )
    if r_squared is not None and not r_squared > rules.min_r_squared:
        reasons.append(f"R² {r_squared:.4f} is not above {rules.min_r_squared:g}")
    if rules.slope_window is not None and not rules.slope_window[0] <= m <= rules.slope_window[1]:
        reasons.append(f"slope {m:.3f} is outside {rules.slope_window}")
    if (
        intercept is not None
        and rules.intercept_window is not None
        and not rules.intercept_window[0] <= intercept <= rules.intercept_window[1]
    ):
        reasons.append(f"intercept {intercept:.2f} is outside {rules.intercept_window}")
    status = CurveStatus.FAIL if reasons else CurveStatus.PASS
    return CurveVerdict(status, tuple(reasons), rules.label)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity read off a curve, with where the Ct fell relative to the standards."""

    value: float
    above_highest_standard: bool
    below_lowest_standard: bool


@dataclass(frozen=True, slots=True)
class StandardCurve:
    """A fitted standard curve ``Ct = slope · log10(N) + intercept``.

    ``lowest_positive_log10`` is the lowest level with at least one specific replicate
    (the run's sensitivity, PCR-07 [U definition]); ``lowest_reproducible_log10`` the
    lowest level at which every replicate is positive within ``max_delta_ct`` (the
    quantitative range, PCR-07 [U]).
    """

    slope: float
    intercept: float
    r_squared: float
    n_points: int
    levels_log10: tuple[float, ...]
    undetermined_levels_log10: tuple[float, ...]
    lowest_positive_log10: float
    lowest_reproducible_log10: float | None
    highest_log10: float

    @property
    def efficiency(self) -> float:
        """``10^(−1/m) − 1``."""
        return efficiency_from_slope(self.slope)

    def assess(self, acceptance: CurveAcceptance | None = None) -> CurveVerdict:
        """Judge this curve against ``acceptance``."""
        return assess_curve(
            self.slope,
            r_squared=self.r_squared,
            n_levels=len(self.levels_log10),
            intercept=self.intercept,
            acceptance=acceptance,
        )

    def quantity(self, ct: float, field: str = "ct") -> Quantity:
        """``N = 10^((Ct − b)/m)`` with flags for Ct values outside the standards."""
        value = require_number(field, ct, minimum=0.0, maximum=_MAX_CT, min_inclusive=False)
        log10_n = (value - self.intercept) / self.slope
        return Quantity(
            value=float(10**log10_n),
            above_highest_standard=log10_n > self.highest_log10 + 1e-9,
            below_lowest_standard=log10_n < self.levels_log10[0] - 1e-9,
        )


def fit_standard_curve(
    log10_quantities: Sequence[float],
    cts: Sequence[float | None],
    *,
    max_delta_ct: float = 1.5,
) -> StandardCurve:
    """Fit ``Ct = m·log10(N) + b`` by ordinary least squares (PCR-01).

    Parameters
    ----------
    log10_quantities
        ``log10`` of each standard replicate's copies (or dilution), one per well.
    cts
        Each well's Ct; ``None`` for an undetermined well (left out of the fit).
    max_delta_ct
        Replicates of one level within this ΔCt count as reproducible.

    Raises
    ------
    InputError
        Lengths differ, a value is not finite, or fewer than two distinct levels carry
        a valid Ct (no line can be fitted). Judge the fitted curve with
        :meth:`StandardCurve.assess`.
    """
    if len(log10_quantities) != len(cts):
        raise InputError(
            "cts",
            f"{len(cts)} values",
            f"one Ct per standard well ({len(log10_quantities)} levels given)",
        )
    levels = [require_number("log10_quantity", q) for q in log10_quantities]
    by_level: dict[float, list[float | None]] = {}
    for level, ct in zip(levels, cts, strict=True):
        checked = None if ct is None else require_number("ct", ct, minimum=0, maximum=_MAX_CT)
        by_level.setdefault(level, []).append(checked)

    points = [(lv, ct) for lv, reps in by_level.items() for ct in reps if ct is not None]
    distinct = sorted({lv for lv, _ in points})
    if len(distinct) < 2:
        raise InputError(
            "standards",
            f"{len(distinct)} level(s) with a valid Ct",
            "at least 2 distinct levels to fit a line (3 to pass acceptance)",
            "check the standard wells; undetermined wells are left out",
        )
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    slope, intercept = np.polyfit(x, y, 1)
    predicted = slope * x + intercept
    ss_res = float(np.sum((y - predicted) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r_squared = 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0

    undetermined = sorted(lv for lv, reps in by_level.items() if all(ct is None for ct in reps))
    reproducible = sorted(
        lv
        for lv, reps in by_level.items()
        if all(ct is not None for ct in reps)
        and _spread([ct for ct in reps if ct is not None]) <= max_delta_ct
    )
    return StandardCurve(
        slope=float(slope),
        intercept=float(intercept),
        r_squared=float(r_squared),
        n_points=len(points),
        levels_log10=tuple(distinct),
        undetermined_levels_log10=tuple(undetermined),
        lowest_positive_log10=distinct[0],
        lowest_reproducible_log10=reproducible[0] if reproducible else None,
        highest_log10=distinct[-1],
    )


def _spread(values: Sequence[float]) -> float:
    return max(values) - min(values) if values else math.inf
