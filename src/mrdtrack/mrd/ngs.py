"""Clonotype NGS MRD (clonoSEQ-style), rules NGS-01 and NGS-02.

Sources: clonoSEQ report template (6.5 pg DNA per diploid nucleated cell; LOB 0, so any
tracked template is residual disease; LoD = level detected in ≥ 95 % of replicates);
FDA 510(k) K200009; Ching T et al. BMC Cancer 2020;20:612. Formulas:

* ``cells = DNA_ng × 1000 / 6.5`` (NGS-01);
* ``MRD = clonal cell equivalents / cells evaluated`` (NGS-01 [P]);
* single-template floor ``1 / cells``; ``LoD95 = 3 / cells`` (``P(X ≥ 1 | λ = 3) = 0.950``,
  Poisson, NGS-02 [D]);
* a negative may be labelled "negative at 10⁻ᵏ" only if the LoD ≤ 10⁻ᵏ (NGS-02).

Several tracked sequences combine by the profile's rule (highest or sum) [U].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_fraction, require_number
from mrdtrack.mrd.profiles import NGS_PROFILES, NgsProfile, SequenceCombination
from mrdtrack.mrd.result import MrdMethod, MrdResult, MrdStatus, QcFlag, ScalarValue
from mrdtrack.mrd.units import format_fraction

__all__ = ["cells_from_dna", "ngs_limit_of_detection", "ngs_mrd"]


def cells_from_dna(dna_ng: float, pg_dna_per_cell: float = 6.5) -> float:
    """Diploid cell equivalents in ``dna_ng`` nanograms of DNA (NGS-01: 6.5 pg per cell)."""
    dna = require_number("dna_input_ng", dna_ng, minimum=0.0, min_inclusive=False)
    per_cell = require_number("pg_dna_per_cell", pg_dna_per_cell, minimum=0.0, min_inclusive=False)
    return dna * 1000.0 / per_cell


def ngs_limit_of_detection(cells_evaluated: float, templates_for_detection: float = 3.0) -> float:
    """The MRD level detected in ≥ 95 % of replicates, given ``cells_evaluated``.

    Poisson sampling: ``P(X ≥ 1 | λ) = 1 − e^(−λ)``; λ = 3 templates give 0.950, so
    ``LoD95 = 3 / cells`` (NGS-02 [D]).
    """
    cells = require_number("cells_evaluated", cells_evaluated, minimum=0.0, min_inclusive=False)
    templates = require_number(
        "templates_for_detection", templates_for_detection, minimum=0.0, min_inclusive=False
    )
    return templates / cells


def _negative_at(limit_fraction: float) -> float:
    """The deepest power of ten at which a negative with this limit may be labelled."""
    return float(10 ** math.ceil(math.log10(limit_fraction) - 1e-12))


def ngs_mrd(
    *,
    clonal_cells: Sequence[float],
    dna_input_ng: float | None = None,
    cells_evaluated: float | None = None,
    lab_lod_fraction: float | None = None,
    lab_loq_fraction: float | None = None,
    profile: NgsProfile | None = None,
) -> MrdResult:
    """NGS MRD from the clonal cell equivalents of each tracked sequence (NGS-01, NGS-02).

    Parameters
    ----------
    clonal_cells
        Clonal cell (template) equivalents found for each tracked diagnostic sequence.
    dna_input_ng, cells_evaluated
        Give one: the DNA input (converted at the profile's pg per cell) or the
        nucleated cells the laboratory estimated from reference loci.
    lab_lod_fraction, lab_loq_fraction
        The laboratory's sample-specific LoD and LoQ, when it reports them; the LoD
        then replaces the Poisson estimate and values below the LoQ are not quantifiable.
    profile
        Default ``clonoseq-style``.

    Examples
    --------
    >>> r = ngs_mrd(clonal_cells=[4], dna_input_ng=20_000)
    >>> r.status.value, round(r.details["mrd_per_million"], 2)
    ('positive', 1.3)
    """
    rules = profile or NGS_PROFILES["clonoseq-style"]
    if (dna_input_ng is None) == (cells_evaluated is None):
        raise InputError(
            "dna_input_ng / cells_evaluated",
            None if dna_input_ng is None else f"both ({dna_input_ng}, {cells_evaluated})",
            "exactly one of the DNA input (ng) or the cells evaluated",
        )
    if dna_input_ng is not None:
        cells = cells_from_dna(dna_input_ng, rules.pg_dna_per_cell)
    else:
        cells = require_number("cells_evaluated", cells_evaluated, minimum=1.0)
    if not clonal_cells:
        raise InputError("clonal_cells", [], "one value per tracked sequence (0 if not found)")
    per_sequence = [require_number("clonal_cells", c, minimum=0.0) for c in clonal_cells]
    if any(c > cells for c in per_sequence):
        raise InputError(
            "clonal_cells", max(per_sequence), f"at most the cells evaluated ({cells:,.0f})"
        )
    lab_lod = None if lab_lod_fraction is None else require_fraction("lab_lod", lab_lod_fraction)
    lab_loq = None if lab_loq_fraction is None else require_fraction("lab_loq", lab_loq_fraction)

    if rules.combine is SequenceCombination.HIGHEST:
        clonal = max(per_sequence)
    else:
        clonal = math.fsum(per_sequence)
    floor = 1.0 / cells
    lod95 = ngs_limit_of_detection(cells, rules.templates_for_detection)
    sensitivity = lab_lod if lab_lod is not None else lod95
    inputs: dict[str, ScalarValue] = {
        "clonal_cells": ", ".join(f"{c:g}" for c in per_sequence),
        "tracked_sequences": len(per_sequence),
        "dna_input_ng": dna_input_ng,
        "cells_evaluated": cells_evaluated,
        "lab_lod_fraction": lab_lod,
        "lab_loq_fraction": lab_loq,
    }
    details: dict[str, ScalarValue] = {
        "cells_evaluated": cells,
        "clonal_cells_combined": clonal,
        "combine": rules.combine.value,
        "single_template_floor_fraction": floor,
        "lod95_fraction": lod95,
        "negative_at_fraction": None,
        "mrd_per_million": None,
    }
    flags: list[QcFlag] = []
    rule = "NGS-01, NGS-02"
    if clonal <= rules.limit_of_blank_templates:
        details["negative_at_fraction"] = _negative_at(sensitivity)
        reasons = [
            f"MRD not detected in {cells:,.0f} cells (LoD {format_fraction(sensitivity)}): "
            f"negative at {format_fraction(_negative_at(sensitivity))}"
        ]
        if sensitivity > rules.required_sensitivity_fraction:
            flags.append(QcFlag.INSUFFICIENT_SENSITIVITY)
            reasons.append(
                f"sensitivity {format_fraction(sensitivity)} is insufficient for a negative "
                f"call at {format_fraction(rules.required_sensitivity_fraction)}"
            )
        return MrdResult(
            method=MrdMethod.NGS,
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
    value = clonal / cells
    details["mrd_per_million"] = value * 1e6
    quantifiable = lab_loq is None or value >= lab_loq
    if quantifiable:
        reasons = [f"MRD positive, {format_fraction(value)} ({value * 1e6:.2g} per million cells)"]
        status = MrdStatus.POSITIVE
    else:
        flags.append(QcFlag.BELOW_LLOQ)
        reasons = [f"MRD positive below the LoQ (~{format_fraction(value)})"]
        status = MrdStatus.POSITIVE_NOT_QUANTIFIABLE
    return MrdResult(
        method=MrdMethod.NGS,
        status=status,
        detected=True,
        mrd_fraction=value,
        sensitivity_fraction=sensitivity,
        quantifiable=quantifiable,
        reasons=tuple(reasons),
        qc_flags=tuple(flags),
        inputs=inputs,
        profile=rules.label,
        rule=rule,
        details=details,
    )
