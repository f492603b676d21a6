"""MRD thresholds with explicit operators, and the log bands used in analytics.

Domain rules §0.2 and §5.1: every threshold carries its operator, because the sources
differ (the FDA label's "≥ 0.1 %" against the case report's "> 0.1 %"; the case
report's EOI "≥ 0.01 %" against its EOC "> 0.01 %"). A value exactly on a threshold is
reported as such so that a clinician reviews it (domain rules §12 item 6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from mrdtrack.errors import NotFoundError
from mrdtrack.inputs import require_number

__all__ = [
    "THRESHOLDS",
    "MrdBand",
    "Operator",
    "Threshold",
    "ThresholdCheck",
    "get_threshold",
    "mrd_band",
]


class Operator(StrEnum):
    """A comparison operator as written in a source."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, value: float, limit: float) -> bool:
        """Whether ``value <op> limit``."""
        if self is Operator.GE:
            return value >= limit
        if self is Operator.GT:
            return value > limit
        if self is Operator.LE:
            return value <= limit
        return value < limit


@dataclass(frozen=True, slots=True)
class ThresholdCheck:
    """The outcome of comparing one MRD value with one threshold."""

    threshold_id: str
    met: bool
    on_boundary: bool
    value_fraction: float
    limit_fraction: float
    operator: Operator


@dataclass(frozen=True, slots=True)
class Threshold:
    """An MRD threshold: a fraction, the operator of its source, where it is used, the source."""

    id: str
    limit_fraction: float
    operator: Operator
    used_for: str
    source: str
    tag: str

    def check(self, mrd_fraction: float) -> ThresholdCheck:
        """Compare an un-rounded MRD fraction with this threshold."""
        value = require_number("mrd_fraction", mrd_fraction, minimum=0.0)
        return ThresholdCheck(
            threshold_id=self.id,
            met=self.operator.holds(value, self.limit_fraction),
            on_boundary=math.isclose(value, self.limit_fraction, rel_tol=1e-12, abs_tol=0.0),
            value_fraction=value,
            limit_fraction=self.limit_fraction,
            operator=self.operator,
        )

    def describe(self) -> str:
        """``"MRD >= 0.01 %"``: the rule as a person reads it."""
        return f"MRD {self.operator.value} {self.limit_fraction * 100:g} %"


_SEED1 = "Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035 [SEED-1]"
_SEED2 = "Testa U et al. Mediterr J Hematol Infect Dis 2024;16:e2024070 [SEED-2]"
_ASH2021 = "Hematology Am Soc Hematol Educ Program 2021;2021(1):718-725, Table 1"

THRESHOLDS: dict[str, Threshold] = {
    t.id: t
    for t in (
        Threshold("NGS-NEG-1E-6", 1e-6, Operator.LT, "NGS-MRD negativity at 10⁻⁶", _SEED2, "S"),
        Threshold(
            "EUROFLOW-1E-5",
            1e-5,
            Operator.LE,
            "EuroFlow / high-sensitivity PCR: sensitivity at or below 10⁻⁵",
            "Theunissen P et al. Blood 2017;129:347-357, doi:10.1182/blood-2016-07-726307",
            "S",
        ),
        Threshold(
            "MRD-POS-1E-4",
            1e-4,
            Operator.GE,
            "MRD failure / positive at the standard 0.01 % cut-off (flow and molecular)",
            _ASH2021,
            "S",
        ),
        Threshold(
            "MRD-SENS-1E-4",
            1e-4,
            Operator.LE,
            "a negative result counts as MRD-negative only with sensitivity ≤ 10⁻⁴",
            _ASH2021,
            "S",
        ),
        Threshold(
            "TPOG-EOI",
            1e-4,
            Operator.GE,
            "TPOG end-of-induction MRD high risk (MRD ≥ 0.01 %)",
            _SEED1 + ", Methods",
            "S",
        ),
        Threshold(
            "TPOG-EOC",
            1e-4,
            Operator.GT,
            "TPOG end-of-consolidation MRD > 0.01 % → blinatumomab or re-intensification",
            _SEED1 + ", Discussion",
            "S",
        ),
        Threshold(
            "FDA-MRD-1E-3",
            1e-3,
            Operator.GE,
            "blinatumomab US label, MRD-positive indication (CR1/CR2, MRD ≥ 0.1 %)",
            "BLINCYTO US label (table in J Hematol Oncol 2019;12:15, PMC6368716); " + _SEED2,
            "S",
        ),
        Threshold(
            "BLAST-1E-3",
            1e-3,
            Operator.GE,
            "BLAST trial entry: hematologic CR with MRD ≥ 10⁻³",
            "Gökbuget N et al. Blood 2018;131:1522-1531",
            "S",
        ),
        Threshold(
            "GRAALL-MRD1-HR",
            1e-4,
            Operator.GE,
            "GRAALL-2014/B high risk: MRD1 (end of induction) ≥ 10⁻⁴",
            "GRAALL-2014/B-QUEST final report",
            "S",
        ),
        Threshold(
            "GRAALL-MRD1-VHR",
            1e-3,
            Operator.GE,
            "GRAALL-2014/B very high risk: MRD1 ≥ 10⁻³ (SEED-2 prints the inverse; §12)",
            "GRAALL-2014/B-QUEST final report; Dhédin N et al. Blood 2015;125:2486",
            "S",
        ),
        Threshold(
            "GRAALL-MRD2-VHR",
            1e-4,
            Operator.GE,
            "GRAALL-2014/B very high risk: MRD2 (≈ week 12) ≥ 10⁻⁴",
            "GRAALL-2014/B-QUEST final report",
            "S",
        ),
        Threshold(
            "MDACC-1E-4",
            1e-4,
            Operator.GE,
            "MD Anderson phase 2 (Jabbour): CR with MRD ≥ 10⁻⁴",
            _SEED2,
            "S",
        ),
        Threshold(
            "BFM-D33-1E-2",
            1e-2,
            Operator.GE,
            "BFM-type day-33 upgrade to high risk (MRD ≥ 1 %)",
            "domain rules §5.1 (protocol excerpt)",
            "S",
        ),
    )
}


def get_threshold(threshold_id: str) -> Threshold:
    """Look up a catalogued threshold by id."""
    try:
        return THRESHOLDS[threshold_id]
    except KeyError:
        raise NotFoundError("MRD threshold", threshold_id, tuple(sorted(THRESHOLDS))) from None


class MrdBand(StrEnum):
    """GRAALL real-world MRD strata (SEED-2 Table 2) with explicit interval ends (§5.1 [D])."""

    GE_1E_2 = "[1e-2, inf)"
    GE_1E_3 = "[1e-3, 1e-2)"
    GE_1E_4 = "[1e-4, 1e-3)"
    BELOW_1E_4 = "(0, 1e-4)"
    NOT_DETECTED = "not detected"


def mrd_band(mrd_fraction: float | None) -> MrdBand:
    """Place an MRD fraction in its log band; ``None`` means not detected.

    A detected value must be > 0: not-detected is never stored as 0 (domain rules §0.2).
    """
    if mrd_fraction is None:
        return MrdBand.NOT_DETECTED
    value = require_number(
        "mrd_fraction",
        mrd_fraction,
        minimum=0.0,
        min_inclusive=False,
        hint="a not-detected result is passed as None with its sensitivity, never as 0",
    )
    if value >= 1e-2:
        return MrdBand.GE_1E_2
    if value >= 1e-3:
        return MrdBand.GE_1E_3
    if value >= 1e-4:
        return MrdBand.GE_1E_4
    return MrdBand.BELOW_1E_4
