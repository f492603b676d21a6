"""Ig/TR allele-specific RQ-PCR MRD: EuroMRD-style result categories (rules IGTR-01, IGTR-02).

van der Velden VHJ et al. Detection of MRD by RQ-PCR: guidelines for interpretation of
RQ-PCR data. Leukemia 2007;21:604-611, doi:10.1038/sj.leu.2404586; the PNQ term and its
clinical grouping: ASH Education Program 2021, Table 1. The guideline's numeric criteria
were not retrieved: the ΔCt limit lives in the profile [U], and the quantitative range
(QR) and sensitivity are per-assay inputs, as each patient's assay is validated on its
own dilution series.

==============================  =================================================
category                        logic
==============================  =================================================
positive, quantifiable          every replicate specific, ΔCt within the limit,
                                mean level ≥ QR
positive, not quantifiable      a specific signal, but not in every replicate or
                                below the QR
negative                        no specific amplification; sensitivity = assay's
negative, insufficient          negative, but the assay's sensitivity is worse than
sensitivity                     the level required (usually 10⁻⁴)
==============================  =================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_fraction, require_number
from mrdtrack.mrd.profiles import IGTR_PROFILES, IgTrProfile
from mrdtrack.mrd.result import MrdMethod, MrdResult, MrdStatus, QcFlag, ScalarValue
from mrdtrack.mrd.standard_curve import StandardCurve
from mrdtrack.mrd.units import format_fraction

__all__ = ["igtr_levels_from_ct", "igtr_mrd"]


def igtr_levels_from_ct(
    cts: Sequence[float | None], curve: StandardCurve, dna_correction: float = 1.0
) -> list[float | None]:
    """Per-replicate MRD levels ``10^((Ct − b)/m) × correction`` on the dilution curve (IGTR-01).

    ``dna_correction`` adjusts for the amplifiable DNA measured by a control gene
    (albumin, β-globin) [U]; ``None`` (no specific amplification) stays ``None``.
    """
    factor = require_number("dna_correction", dna_correction, minimum=0.0, min_inclusive=False)
    return [None if ct is None else curve.quantity(ct).value * factor for ct in cts]


def igtr_mrd(
    *,
    replicate_levels: Sequence[float | None],
    quantitative_range_fraction: float,
    assay_sensitivity_fraction: float,
    replicate_cts: Sequence[float | None] | None = None,
    profile: IgTrProfile | None = None,
) -> MrdResult:
    """Classify one follow-up sample's Ig/TR RQ-PCR replicates (IGTR-02).

    Parameters
    ----------
    replicate_levels
        MRD level (fraction) of each replicate; ``None`` where no specific amplification.
    quantitative_range_fraction
        The assay's QR: the lowest level quantified reproducibly (e.g. 1e-4).
    assay_sensitivity_fraction
        The assay's sensitivity: the lowest level detected (e.g. 1e-5); ≤ the QR.
    replicate_cts
        The replicates' Ct values, for the ΔCt reproducibility check.
    profile
        Default ``euromrd-2007``.
    """
    rules = profile or IGTR_PROFILES["euromrd-2007"]
    if not replicate_levels:
        raise InputError("replicate_levels", [], "one level per replicate (None = no signal)")
    levels = [
        None if v is None else require_number("replicate_level", v, minimum=0.0, maximum=1.0)
        for v in replicate_levels
    ]
    qr = require_fraction("quantitative_range_fraction", quantitative_range_fraction)
    sens = require_fraction("assay_sensitivity_fraction", assay_sensitivity_fraction)
    if sens > qr:
        raise InputError(
            "assay_sensitivity_fraction",
            sens,
            f"at most the quantitative range ({qr:g})",
            "an assay detects at least as deep as it quantifies",
        )
    positive = [v for v in levels if v is not None and v > 0]
    inputs: dict[str, ScalarValue] = {
        "replicate_levels": ", ".join("-" if v is None else f"{v:g}" for v in levels),
        "replicates": len(levels),
        "positive_replicates": len(positive),
        "quantitative_range_fraction": qr,
        "assay_sensitivity_fraction": sens,
    }
    rule = "IGTR-02"
    flags: list[QcFlag] = []
    if not positive:
        reasons = [f"MRD not detected, sensitivity {format_fraction(sens)}"]
        if sens > rules.required_sensitivity_fraction:
            flags.append(QcFlag.INSUFFICIENT_SENSITIVITY)
            reasons.append(
                "not detected; sensitivity insufficient for a negative call at "
                f"{format_fraction(rules.required_sensitivity_fraction)}"
            )
        return MrdResult(
            method=MrdMethod.IGTR_PCR,
            status=MrdStatus.NEGATIVE,
            detected=False,
            mrd_fraction=None,
            sensitivity_fraction=sens,
            quantifiable=False,
            reasons=tuple(reasons),
            qc_flags=tuple(flags),
            inputs=inputs,
            profile=rules.label,
            rule=rule,
        )
    mean_level = math.fsum(positive) / len(positive)
    spread = 0.0
    if replicate_cts is not None:
        cts = [float(c) for c in replicate_cts if c is not None]
        spread = max(cts) - min(cts) if len(cts) > 1 else 0.0
    reasons = []
    if len(positive) < len(levels):
        reasons.append(f"specific signal in {len(positive)} of {len(levels)} replicates")
    if mean_level < qr:
        reasons.append(
            f"level ~{format_fraction(mean_level)} is below the QR {format_fraction(qr)}"
        )
    if spread > rules.max_delta_ct:
        flags.append(QcFlag.REPLICATE_DISCORDANCE)
        reasons.append(f"replicates differ by ΔCt {spread:.2f} (> {rules.max_delta_ct:g})")
    quantifiable = not reasons
    if quantifiable:
        status = MrdStatus.POSITIVE
        reasons.insert(0, f"MRD positive, {format_fraction(mean_level)}")
    else:
        status = MrdStatus.POSITIVE_NOT_QUANTIFIABLE
        flags.append(QcFlag.BELOW_QUANTITATIVE_RANGE)
        reasons.insert(0, f"MRD positive, not quantifiable (< QR {format_fraction(qr)})")
    return MrdResult(
        method=MrdMethod.IGTR_PCR,
        status=status,
        detected=True,
        mrd_fraction=mean_level,
        sensitivity_fraction=sens,
        quantifiable=quantifiable,
        reasons=tuple(reasons),
        qc_flags=tuple(flags),
        inputs=inputs,
        profile=rules.label,
        rule=rule,
        details={"delta_ct": spread},
    )
