"""BCR::ABL1 International Scale and molecular-response levels (rule PCR-08).

Cross NCP et al. Laboratory recommendations for scoring deep molecular responses in CML.
Leukemia 2015;29:999-1003, doi:10.1038/leu.2015.29 (MR levels and the ABL1 copies an
undetectable result needs); IS conversion ``%IS = (BCR::ABL1 / ABL1 × 100) × CF`` with
the laboratory's conversion factor from reference-material calibration.

Only for p210 transcripts (e13a2/e14a2): the IS is not applied to p190 (e1a2) ALL
monitoring [P], and this function refuses it.

==========  =======================  ===========================================
level       detectable               undetectable
==========  =======================  ===========================================
MMR (MR3)   ≤ 0.1 % IS               one-copy bound ≤ 0.1 % IS [D]
MR4         ≤ 0.01 % IS              ABL1 ≥ 10,000 copies
MR4.5       ≤ 0.0032 % IS            ABL1 ≥ 32,000 copies
MR5         ≤ 0.001 % IS             ABL1 ≥ 100,000 copies
==========  =======================  ===========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number
from mrdtrack.mrd.qpcr import Transcript

__all__ = ["InternationalScaleResult", "MolecularResponse", "international_scale"]


class MolecularResponse(StrEnum):
    """Molecular-response levels, deepest last."""

    NONE = "none"
    MMR = "MMR"
    MR4 = "MR4"
    MR4_5 = "MR4.5"
    MR5 = "MR5"


# (level, %IS limit for detectable disease, ABL1 copies needed when undetectable)
_LEVELS: tuple[tuple[MolecularResponse, float, float | None], ...] = (
    (MolecularResponse.MMR, 0.1, None),
    (MolecularResponse.MR4, 0.01, 10_000),
    (MolecularResponse.MR4_5, 0.0032, 32_000),
    (MolecularResponse.MR5, 0.001, 100_000),
)


@dataclass(frozen=True, slots=True)
class InternationalScaleResult:
    """The IS value (``None`` when undetectable) and the deepest response level reached."""

    percent_is: float | None
    percent_is_upper_bound: float
    detectable: bool
    level: MolecularResponse
    achieved: tuple[MolecularResponse, ...]
    abl1_copies: float
    conversion_factor: float
    source: str = "Cross NCP et al. Leukemia 2015;29:999-1003, doi:10.1038/leu.2015.29"

    def reached(self, level: MolecularResponse) -> bool:
        """Whether ``level`` (e.g. MMR) was reached."""
        return level in self.achieved


def international_scale(
    *,
    bcr_abl1_copies: float,
    abl1_copies: float,
    conversion_factor: float,
    transcript: Transcript = Transcript.BCR_ABL1_P210,
) -> InternationalScaleResult:
    """Convert a BCR::ABL1/ABL1 ratio to %IS and score MMR/MR4/MR4.5/MR5 (PCR-08).

    ``bcr_abl1_copies = 0`` is an undetectable result: its depth is scored by the ABL1
    copies (Cross 2015); its upper bound ``100 × CF / ABL1`` is reported too.

    Examples
    --------
    >>> r = international_scale(bcr_abl1_copies=5, abl1_copies=10_000, conversion_factor=0.8)
    >>> round(r.percent_is, 4), r.level.value
    (0.04, 'MMR')
    """
    if transcript is not Transcript.BCR_ABL1_P210:
        raise InputError(
            "transcript",
            transcript.value,
            "BCR::ABL1 p210 (e13a2/e14a2)",
            "the International Scale does not apply to p190 or other transcripts; report the "
            "NCN and MRD relative to diagnosis instead",
        )
    bcr = require_number("bcr_abl1_copies", bcr_abl1_copies, minimum=0.0)
    abl = require_number("abl1_copies", abl1_copies, minimum=0.0, min_inclusive=False)
    cf = require_number("conversion_factor", conversion_factor, minimum=0.0, min_inclusive=False)
    detectable = bcr > 0
    upper = 100.0 * cf * (bcr if detectable else 1.0) / abl
    achieved: list[MolecularResponse] = []
    for level, limit_percent, abl1_needed in _LEVELS:
        # Detectable disease is scored by its level; undetectable by the ABL1 copies,
        # except MMR, which the one-copy upper bound shows directly [D].
        ok = upper <= limit_percent if detectable or abl1_needed is None else abl >= abl1_needed
        if not ok:
            break
        achieved.append(level)
    return InternationalScaleResult(
        percent_is=upper if detectable else None,
        percent_is_upper_bound=upper,
        detectable=detectable,
        level=achieved[-1] if achieved else MolecularResponse.NONE,
        achieved=tuple(achieved),
        abl1_copies=abl,
        conversion_factor=cf,
    )
