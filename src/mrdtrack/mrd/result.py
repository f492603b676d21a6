"""The one MRD value object shared by every method (RQ-PCR, Ig/TR PCR, flow, NGS).

Domain rules §0.2: the fraction is stored, never a percentage alone; "not detected" is
``detected=False`` plus the sensitivity the test reached, never a stored 0; raw inputs
travel with the result, and so does the profile (with its version) that produced it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.provenance import ScalarValue

__all__ = ["MrdMethod", "MrdResult", "MrdStatus", "QcFlag", "ScalarValue"]


class MrdMethod(StrEnum):
    """How the MRD was measured."""

    RQ_PCR = "rq-pcr"
    """Fusion-transcript RT-qPCR normalized to a control gene (EAC)."""
    IGTR_PCR = "igtr-pcr"
    """Allele-specific Ig/TR RQ-PCR on DNA (EuroMRD)."""
    FLOW = "flow"
    """Flow cytometry: leukemia-associated immunophenotype events."""
    NGS = "ngs"
    """Immunoglobulin/TR next-generation sequencing (clonoSEQ-style)."""


class MrdStatus(StrEnum):
    """The call of one MRD result."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    POSITIVE_NOT_QUANTIFIABLE = "positive_not_quantifiable"
    NOT_EVALUABLE = "not_evaluable"


class QcFlag(StrEnum):
    """Quality and interpretation flags attached to a result."""

    CURVE_FAILED = "curve_failed"
    INSUFFICIENT_CONTROL_GENE = "insufficient_control_gene"
    INSUFFICIENT_CELLS = "insufficient_cells"
    INSUFFICIENT_SENSITIVITY = "insufficient_sensitivity"
    BELOW_QUANTITATIVE_RANGE = "below_quantitative_range"
    BELOW_LLOQ = "below_lloq"
    DETECTED_BELOW_THRESHOLD = "detected_below_threshold"
    ABOVE_DIAGNOSIS = "above_diagnosis"
    REPLICATE_DISCORDANCE = "replicate_discordance"
    EXTRAPOLATED_HIGH = "extrapolated_high"
    BELOW_LOWEST_STANDARD = "below_lowest_standard"
    DIAGNOSIS_NCN_ATYPICAL = "diagnosis_ncn_atypical"
    NO_DIAGNOSIS_REFERENCE = "no_diagnosis_reference"
    ON_THRESHOLD = "on_threshold"


@dataclass(frozen=True, slots=True)
class MrdResult:
    """One MRD result, whatever the method.

    Attributes
    ----------
    method
        The assay family.
    status
        ``positive``, ``negative``, ``positive_not_quantifiable`` or ``not_evaluable``.
    detected
        Whether a specific leukemic signal was found at or above the method's limit of
        detection. ``False`` for negatives, whatever ``mrd_fraction`` holds.
    mrd_fraction
        The measured level as a fraction (relative to diagnosis for fusion-transcript
        PCR). ``None`` when nothing was measured (no signal) or the level cannot be
        computed (e.g. no diagnosis reference): never 0.
    sensitivity_fraction
        The level this test could have detected (its achieved limit); mandatory for a
        negative. ``None`` only when not computable.
    quantifiable
        Whether ``mrd_fraction`` lies within the quantitative range.
    reasons
        Plain-language statements behind the call, in order.
    qc_flags
        Machine-readable flags (:class:`QcFlag`).
    inputs
        The raw inputs exactly as used.
    details
        Method-specific derived values (e.g. ``ncn``, ``cells_evaluated``).
    profile
        ``"<profile id>@<version>"`` of the rules that produced the result.
    rule
        The domain-rule ids applied (e.g. ``"PCR-03, PCR-05, PCR-06"``).
    """

    method: MrdMethod
    status: MrdStatus
    detected: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None
    quantifiable: bool
    reasons: tuple[str, ...]
    qc_flags: tuple[QcFlag, ...]
    inputs: Mapping[str, ScalarValue]
    profile: str
    rule: str
    details: Mapping[str, ScalarValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Freeze the mappings so that a result cannot change after it is made.
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))
        if self.mrd_fraction is not None and not (
            math.isfinite(self.mrd_fraction) and self.mrd_fraction > 0
        ):
            raise ValueError(
                f"mrd_fraction must be > 0 or None, got {self.mrd_fraction!r}: a not-detected "
                "result is stored as detected=False with its sensitivity, never as 0"
            )

    @property
    def mrd_percent(self) -> float | None:
        """``mrd_fraction`` × 100, for display."""
        return None if self.mrd_fraction is None else self.mrd_fraction * 100.0

    @property
    def sensitivity_percent(self) -> float | None:
        """``sensitivity_fraction`` × 100, for display."""
        s = self.sensitivity_fraction
        return None if s is None else s * 100.0

    def has_flag(self, flag: QcFlag) -> bool:
        """Whether the result carries ``flag``."""
        return flag in self.qc_flags

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping: the CLI contract's keys plus the inputs and details."""
        return {
            "method": self.method.value,
            "status": self.status.value,
            "detected": self.detected,
            "quantifiable": self.quantifiable,
            "mrd_fraction": self.mrd_fraction,
            "mrd_percent": self.mrd_percent,
            "sensitivity_fraction": self.sensitivity_fraction,
            "sensitivity_percent": self.sensitivity_percent,
            "reasons": list(self.reasons),
            "qc_flags": [flag.value for flag in self.qc_flags],
            "profile": self.profile,
            "rule": self.rule,
            "inputs": dict(self.inputs),
            **dict(self.details),
        }
