"""Fusion-transcript RQ-PCR MRD (Europe Against Cancer method), rules PCR-02 … PCR-07.

Sources: Gabert J et al. Leukemia 2003;17:2318 (EAC standardization); Beillard E et al.
Leukemia 2003;17:2474 (ABL1 control gene); Wang Y-L et al. Hematol Rep 2024;16:347-353
[SEED-1] (NCN, MRD relative to diagnosis, the 2×10⁴ ABL1 exclusion); ASH Education
Program 2021, Table 1 (sensitivity of negatives, PNQ). Formulas:

* per replicate ``N_i = 10^((Ct_i − b)/m)``; an undetected replicate contributes 0;
* ``N_FG = Σ N_FG,i``, ``N_ctrl = Σ N_ctrl,i``; ``NCN = N_FG / N_ctrl`` (PCR-02 [D; U]);
* ``MRD_rel = NCN_followup / NCN_diagnosis`` (PCR-03, SEED-1);
* ``LR = −log10(MRD_rel)``; for a negative ``LR ≥ −log10(S_rel)`` (PCR-04 [D]);
* a sample with control copies below the profile minimum is not evaluable (PCR-05);
* achieved sensitivity of a negative ``S_rel = (1 / N_ctrl) / NCN_diagnosis`` (PCR-06 [D]),
  never better than the assay's own sensitivity when that is given;
* a specific signal below the quantitative range is positive, not quantifiable (PCR-07).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_fraction, require_number
from mrdtrack.mrd.profiles import QPCR_PROFILES, ControlBasis, QpcrProfile
from mrdtrack.mrd.result import MrdMethod, MrdResult, MrdStatus, QcFlag, ScalarValue
from mrdtrack.mrd.standard_curve import StandardCurve
from mrdtrack.mrd.units import format_fraction

__all__ = [
    "DIAGNOSIS_NCN_RANGES",
    "ReplicateQuantities",
    "Transcript",
    "qpcr_mrd",
    "qpcr_mrd_from_ct",
    "quantify_replicates",
]


class Transcript(StrEnum):
    """Fusion transcripts monitored by RQ-PCR."""

    ETV6_RUNX1 = "ETV6::RUNX1"
    TCF3_PBX1 = "TCF3::PBX1"
    BCR_ABL1_P190 = "BCR::ABL1 p190"
    BCR_ABL1_P210 = "BCR::ABL1 p210"
    KMT2A_AFF1 = "KMT2A::AFF1"
    OTHER = "other"


DIAGNOSIS_NCN_RANGES: dict[Transcript, tuple[float, float, float]] = {
    # (median, low, high) of diagnosis NCN in the SEED-1 laboratory: a soft plausibility
    # check only, never a substitute for the patient's own value (PCR-03).
    Transcript.ETV6_RUNX1: (1.59, 0.02, 8.16),
    Transcript.TCF3_PBX1: (5.95, 0.54, 25.95),
    Transcript.BCR_ABL1_P190: (0.93, 0.10, 3.20),
    Transcript.BCR_ABL1_P210: (0.90, 0.67, 1.68),
}


@dataclass(frozen=True, slots=True)
class ReplicateQuantities:
    """The copies of one target over its replicate wells (PCR-02)."""

    copies: tuple[float, ...]
    n_replicates: int
    n_positive: int
    sum_copies: float
    max_delta_ct: float
    discordant: bool
    above_highest_standard: bool
    below_lowest_standard: bool

    @property
    def mean_copies(self) -> float:
        """Mean copies per replicate (undetected replicates count as 0)."""
        return self.sum_copies / self.n_replicates


def quantify_replicates(
    cts: Sequence[float | None],
    curve: StandardCurve,
    *,
    discordance_delta_ct: float = 1.5,
    target: str = "fusion",
) -> ReplicateQuantities:
    """Copies per replicate well from Ct on the target's own curve (PCR-02).

    ``None`` marks an undetected well: it adds 0 copies but counts as a replicate. Two
    positive replicates more than ``discordance_delta_ct`` apart are flagged [U].
    """
    if not cts:
        raise InputError(f"{target}_cts", [], "at least one replicate Ct (None = undetected)")
    copies: list[float] = []
    positive_cts: list[float] = []
    above = below = False
    for ct in cts:
        if ct is None:
            copies.append(0.0)
            continue
        quantity = curve.quantity(ct, field=f"{target}_ct")
        copies.append(quantity.value)
        positive_cts.append(float(ct))
        above |= quantity.above_highest_standard
        below |= quantity.below_lowest_standard
    spread = max(positive_cts) - min(positive_cts) if len(positive_cts) > 1 else 0.0
    return ReplicateQuantities(
        copies=tuple(copies),
        n_replicates=len(copies),
        n_positive=len(positive_cts),
        sum_copies=math.fsum(copies),
        max_delta_ct=spread,
        discordant=spread > discordance_delta_ct,
        above_highest_standard=above,
        below_lowest_standard=below,
    )


def qpcr_mrd(
    *,
    fusion_copies: float,
    control_copies: float,
    diagnosis_ncn: float | None,
    replicates: int = 1,
    fusion_replicates: int | None = None,
    fusion_positive_replicates: int | None = None,
    assay_sensitivity_fraction: float | None = None,
    lowest_quantifiable_copies: float | None = None,
    transcript: Transcript | None = None,
    profile: QpcrProfile | None = None,
    extra_flags: Sequence[QcFlag] = (),
    extra_reasons: Sequence[str] = (),
) -> MrdResult:
    """MRD from fusion and control-gene copies summed over the replicates (PCR-03 … PCR-07).

    Parameters
    ----------
    fusion_copies
        Fusion-transcript copies summed over the replicates (0 = not detected).
    control_copies
        Control-gene (ABL1) copies summed over the same replicates; must be > 0.
    diagnosis_ncn
        The patient's NCN at diagnosis for the same transcript and method. Without it
        the MRD relative to diagnosis is not computable and only the NCN is reported.
    replicates
        Number of control-gene wells behind the sum (for the mean-based ABL1 rule).
    fusion_replicates
        Number of fusion wells; default: ``replicates``.
    fusion_positive_replicates
        Fusion wells with a specific signal; default: all of them when copies > 0.
    assay_sensitivity_fraction
        The assay's own sensitivity (e.g. 1e-5 from the dilution series); a negative is
        never reported as more sensitive than this.
    lowest_quantifiable_copies
        Copies per positive replicate below which the signal is below the quantitative
        range (the run's lowest reproducible standard); default from the profile.
    transcript
        For the diagnosis-NCN plausibility check (a soft warning).
    profile
        Default: ``seed1-tpog`` (the case report's laboratory rules).

    Examples
    --------
    >>> r = qpcr_mrd(fusion_copies=150, control_copies=50_000, diagnosis_ncn=1.59)
    >>> r.status.value, round(r.mrd_fraction, 6)
    ('positive', 0.001887)
    """
    rules = profile or QPCR_PROFILES["seed1-tpog"]
    gene = rules.control_gene
    n_rep = require_count("replicates", replicates, minimum=1)
    n_fus = (
        n_rep
        if fusion_replicates is None
        else require_count("fusion_replicates", fusion_replicates, minimum=1)
    )
    fg = require_number("fusion_copies", fusion_copies, minimum=0.0)
    ctrl = require_number(
        "control_copies",
        control_copies,
        minimum=0.0,
        min_inclusive=False,
        hint=f"0 {gene} copies means the RNA or the reaction failed: repeat the extraction",
    )
    ncn_dx = (
        None
        if diagnosis_ncn is None
        else require_number("diagnosis_ncn", diagnosis_ncn, minimum=0.0, min_inclusive=False)
    )
    if fusion_positive_replicates is None:
        n_pos = n_fus if fg > 0 else 0
    else:
        n_pos = require_count("fusion_positive_replicates", fusion_positive_replicates)
        if n_pos > n_fus:
            raise InputError(
                "fusion_positive_replicates", n_pos, f"at most the {n_fus} fusion wells tested"
            )
        if (n_pos == 0) != (fg == 0):
            raise InputError(
                "fusion_positive_replicates",
                n_pos,
                "0 exactly when fusion_copies is 0",
                "copies and positive replicates contradict each other",
            )
    assay_sens = (
        None
        if assay_sensitivity_fraction is None
        else require_fraction("sensitivity", assay_sensitivity_fraction)
    )
    lqc = lowest_quantifiable_copies
    if lqc is None:
        lqc = rules.lowest_quantifiable_copies
    if lqc is not None:
        lqc = require_number("lowest_quantifiable_copies", lqc, minimum=0.0)

    inputs: dict[str, ScalarValue] = {
        "fusion_copies": fg,
        "control_copies": ctrl,
        "control_gene": gene,
        "diagnosis_ncn": ncn_dx,
        "replicates": n_rep,
        "fusion_replicates": n_fus,
        "fusion_positive_replicates": n_pos,
        "assay_sensitivity_fraction": assay_sens,
        "lowest_quantifiable_copies": lqc,
        "transcript": transcript.value if transcript else None,
    }
    reasons = list(extra_reasons)
    flags = list(extra_flags)
    rule = "PCR-03, PCR-04, PCR-05, PCR-06, PCR-07"

    ctrl_checked = ctrl / n_rep if rules.control_basis is ControlBasis.MEAN else ctrl
    if rules.min_control_copies is not None and ctrl_checked < rules.min_control_copies:
        flags.append(QcFlag.INSUFFICIENT_CONTROL_GENE)
        reasons.append(
            f"{gene} copies ({rules.control_basis.value}) {ctrl_checked:,.0f} are below the "
            f"{rules.min_control_copies:,.0f} needed for a valid RQ-PCR sample ({rules.label}); "
            "repeat the RNA extraction or report as not evaluable"
        )
        return MrdResult(
            method=MrdMethod.RQ_PCR,
            status=MrdStatus.NOT_EVALUABLE,
            detected=fg > 0,
            mrd_fraction=None,
            sensitivity_fraction=None,
            quantifiable=False,
            reasons=tuple(reasons),
            qc_flags=tuple(flags),
            inputs=inputs,
            profile=rules.label,
            rule=rule,
            details={"ncn": None, "log_reduction": None, "control_copies_checked": ctrl_checked},
        )

    if ncn_dx is not None and transcript in DIAGNOSIS_NCN_RANGES:
        median, low, high = DIAGNOSIS_NCN_RANGES[transcript]
        if not low <= ncn_dx <= high:
            flags.append(QcFlag.DIAGNOSIS_NCN_ATYPICAL)
            reasons.append(
                f"diagnosis NCN {ncn_dx:g} lies outside the {low:g}–{high:g} range seen for "
                f"{transcript.value} in the SEED-1 laboratory (median {median:g}); check it"
            )
    if ncn_dx is None:
        flags.append(QcFlag.NO_DIAGNOSIS_REFERENCE)
        reasons.append(
            "no diagnosis NCN for this transcript: MRD relative to diagnosis is not computable; "
            "only the NCN is reported"
        )

    # NCN is a ratio of means, which equals the ratio of sums when both targets ran in the
    # same number of wells (PCR-02); one fusion copy in the pooled wells is the floor (PCR-06).
    ctrl_mean = ctrl / n_rep
    sensitivity_ncn = (1.0 / n_fus) / ctrl_mean
    sensitivity = None if ncn_dx is None else sensitivity_ncn / ncn_dx
    if sensitivity is not None and assay_sens is not None:
        sensitivity = max(sensitivity, assay_sens)
    details: dict[str, ScalarValue] = {
        "ncn": (fg / n_fus) / ctrl_mean if fg > 0 else None,
        "ncn_diagnosis": ncn_dx,
        "sensitivity_ncn": sensitivity_ncn,
        "control_copies_checked": ctrl_checked,
    }

    if fg == 0:
        details["log_reduction"] = None if sensitivity is None else -math.log10(sensitivity)
        details["log_reduction_is_lower_bound"] = True
        if sensitivity is None:
            reasons.append(f"fusion transcript not detected (NCN < {sensitivity_ncn:.2g})")
        else:
            reasons.append(f"MRD not detected (< {format_fraction(sensitivity)})")
            if sensitivity > rules.required_sensitivity_fraction:
                flags.append(QcFlag.INSUFFICIENT_SENSITIVITY)
                reasons.append(
                    f"sensitivity {format_fraction(sensitivity)} is worse than the "
                    f"{format_fraction(rules.required_sensitivity_fraction)} needed to call "
                    "MRD negative: negative with insufficient sensitivity"
                )
        return MrdResult(
            method=MrdMethod.RQ_PCR,
            status=MrdStatus.NEGATIVE,
            detected=False,
            mrd_fraction=None,
            sensitivity_fraction=sensitivity,
            quantifiable=False,
            reasons=tuple(reasons),
            qc_flags=tuple(flags),
            inputs=inputs,
            profile=rules.label,
            rule=rule,
            details=details,
        )

    ncn = (fg / n_fus) / ctrl_mean
    mrd_rel = None if ncn_dx is None else ncn / ncn_dx
    details["log_reduction"] = None if mrd_rel is None else -math.log10(mrd_rel)
    details["log_reduction_is_lower_bound"] = False

    quantifiable = True
    per_positive = fg / n_pos
    if lqc is not None and per_positive < lqc:
        quantifiable = False
        flags.append(QcFlag.BELOW_QUANTITATIVE_RANGE)
        reasons.append(
            f"{per_positive:.3g} copies per positive replicate are below the lowest "
            f"quantifiable {lqc:g} copies"
        )
    if n_pos < n_fus:
        quantifiable = False
        if QcFlag.BELOW_QUANTITATIVE_RANGE not in flags:
            flags.append(QcFlag.BELOW_QUANTITATIVE_RANGE)
        reasons.append(
            f"specific signal in {n_pos} of {n_fus} replicates: below the quantitative range"
        )
    if mrd_rel is not None and mrd_rel > 1:
        flags.append(QcFlag.ABOVE_DIAGNOSIS)
        reasons.append(
            "MRD above the diagnosis level (re-expansion, clonal or expression change): review"
        )
    shown = format_fraction(mrd_rel) if mrd_rel is not None else f"NCN {ncn:.3g}"
    if quantifiable:
        reasons.insert(0, f"MRD positive, {shown}")
    else:
        reasons.insert(0, f"MRD positive, not quantifiable (~{shown})")
    return MrdResult(
        method=MrdMethod.RQ_PCR,
        status=MrdStatus.POSITIVE if quantifiable else MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
        detected=True,
        mrd_fraction=mrd_rel,
        sensitivity_fraction=sensitivity,
        quantifiable=quantifiable,
        reasons=tuple(reasons),
        qc_flags=tuple(flags),
        inputs=inputs,
        profile=rules.label,
        rule=rule,
        details=details,
    )


def qpcr_mrd_from_ct(
    *,
    fusion_cts: Sequence[float | None],
    control_cts: Sequence[float | None],
    fusion_curve: StandardCurve,
    control_curve: StandardCurve,
    diagnosis_ncn: float | None,
    assay_sensitivity_fraction: float | None = None,
    transcript: Transcript | None = None,
    profile: QpcrProfile | None = None,
) -> MrdResult:
    """MRD from replicate Ct values on each target's own standard curve (PCR-02 → PCR-07).

    Both curves must pass their acceptance profile (PCR-01); otherwise the result is
    not evaluable and says which curve failed and why. The lowest quantifiable copies
    default to the fusion curve's lowest reproducible standard.
    """
    rules = profile or QPCR_PROFILES["seed1-tpog"]
    failures = [
        f"{name} standard curve fails {verdict.acceptance}: {'; '.join(verdict.reasons)}"
        for name, verdict in (
            ("fusion", fusion_curve.assess(rules.curve)),
            (rules.control_gene, control_curve.assess(rules.curve)),
        )
        if not verdict.usable
    ]
    if failures:
        return MrdResult(
            method=MrdMethod.RQ_PCR,
            status=MrdStatus.NOT_EVALUABLE,
            detected=False,
            mrd_fraction=None,
            sensitivity_fraction=None,
            quantifiable=False,
            reasons=(*failures, "the run cannot be reported: repeat it with new standards"),
            qc_flags=(QcFlag.CURVE_FAILED,),
            inputs={
                "fusion_cts": ", ".join("-" if c is None else f"{c:g}" for c in fusion_cts),
                "control_cts": ", ".join("-" if c is None else f"{c:g}" for c in control_cts),
                "diagnosis_ncn": diagnosis_ncn,
            },
            profile=rules.label,
            rule="PCR-01",
        )
    fusion = quantify_replicates(
        fusion_cts, fusion_curve, discordance_delta_ct=rules.discordance_delta_ct, target="fusion"
    )
    control = quantify_replicates(
        control_cts,
        control_curve,
        discordance_delta_ct=rules.discordance_delta_ct,
        target="control",
    )
    if control.n_positive == 0:
        raise InputError(
            "control_cts",
            list(control_cts),
            f"at least one {rules.control_gene} replicate with a Ct",
            "no control-gene amplification: the RNA or the reaction failed",
        )
    flags: list[QcFlag] = []
    reasons: list[str] = []
    if fusion.discordant:
        flags.append(QcFlag.REPLICATE_DISCORDANCE)
        reasons.append(
            f"fusion replicates differ by ΔCt {fusion.max_delta_ct:.2f} "
            f"(> {rules.discordance_delta_ct:g}): review the wells"
        )
    if fusion.above_highest_standard or control.above_highest_standard:
        flags.append(QcFlag.EXTRAPOLATED_HIGH)
        reasons.append("a Ct lies above the highest standard: the copies are extrapolated")
    if fusion.below_lowest_standard:
        flags.append(QcFlag.BELOW_LOWEST_STANDARD)
    lowest = None
    if fusion_curve.lowest_reproducible_log10 is not None:
        lowest = 10**fusion_curve.lowest_reproducible_log10
    return qpcr_mrd(
        fusion_copies=fusion.sum_copies,
        control_copies=control.sum_copies,
        diagnosis_ncn=diagnosis_ncn,
        replicates=control.n_replicates,
        fusion_replicates=fusion.n_replicates,
        fusion_positive_replicates=fusion.n_positive,
        assay_sensitivity_fraction=assay_sensitivity_fraction,
        lowest_quantifiable_copies=lowest
        if rules.lowest_quantifiable_copies is None
        else rules.lowest_quantifiable_copies,
        transcript=transcript,
        profile=rules,
        extra_flags=flags,
        extra_reasons=reasons,
    )
