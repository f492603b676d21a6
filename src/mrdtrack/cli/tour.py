"""``mrdtrack tour``: the MRD calculators run on the worked examples of the sources.

Each row is a real computation by the engine on the inputs of a domain-rules test
vector or of the case report, so a new user sees what each method reports and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.table import Table

from mrdtrack.cli.output import EXIT_OK, JsonFlag, emit_json, stdout_console
from mrdtrack.mrd import (
    FLOW_PROFILES,
    MrdResult,
    StandardCurve,
    flow_mrd,
    format_fraction,
    igtr_mrd,
    mrd_response,
    ngs_mrd,
    qpcr_mrd,
    qpcr_mrd_from_ct,
)

__all__ = ["tour_command"]


@dataclass(frozen=True, slots=True)
class _Example:
    rule: str
    story: str
    compute: Callable[[], MrdResult]


def _curve(slope: float, intercept: float) -> StandardCurve:
    levels = (0.69897, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)  # 5 … 10⁶ plasmid copies (SEED-1)
    return StandardCurve(
        slope=slope,
        intercept=intercept,
        r_squared=0.999,
        n_points=14,
        levels_log10=levels,
        undetermined_levels_log10=(),
        lowest_positive_log10=levels[0],
        lowest_reproducible_log10=levels[0],
        highest_log10=levels[-1],
    )


EXAMPLES: tuple[_Example, ...] = (
    _Example(
        "PCR-03-a",
        "ETV6::RUNX1 follow-up, Ct 30.0 / ABL1 Ct 24.0, diagnosis NCN 1.59",
        lambda: qpcr_mrd_from_ct(
            fusion_cts=[30.0],
            control_cts=[24.0],
            fusion_curve=_curve(-3.32, 38.0),
            control_curve=_curve(-3.35, 39.5),
            diagnosis_ncn=1.59,
        ),
    ),
    _Example(
        "PCR-05-a",
        "ABL1 only 15,000 copies: the case report's lab excludes the sample",
        lambda: qpcr_mrd(fusion_copies=12, control_copies=15_000, diagnosis_ncn=1.59),
    ),
    _Example(
        "PCR-06-c",
        "fusion not detected, low-expressing ETV6::RUNX1 (diagnosis NCN 0.02)",
        lambda: qpcr_mrd(fusion_copies=0, control_copies=20_000, diagnosis_ncn=0.02),
    ),
    _Example(
        "PCR-07-a",
        "3 copies in 1 of 2 wells; lowest standard 5 copies",
        lambda: qpcr_mrd(
            fusion_copies=3,
            control_copies=100_000,
            diagnosis_ncn=1.59,
            replicates=2,
            fusion_positive_replicates=1,
            lowest_quantifiable_copies=5,
        ),
    ),
    _Example(
        "FLOW-02-a",
        "12 LAIP events in 100,000 MNC, case-report rules",
        lambda: flow_mrd(leukemic_events=12, total_events=100_000),
    ),
    _Example(
        "FLOW-02-c",
        "the same 12 events under a 20-event LOD: profiles disagree",
        lambda: flow_mrd(
            leukemic_events=12, total_events=100_000, profile=FLOW_PROFILES["lod20-lloq50"]
        ),
    ),
    _Example(
        "FLOW-02-e",
        "37 events in 4.2 million cells, LOD 20 / LLOQ 50",
        lambda: flow_mrd(
            leukemic_events=37, total_events=4_200_000, profile=FLOW_PROFILES["lod20-lloq50"]
        ),
    ),
    _Example(
        "IGTR-02-b",
        "Ig/TR PCR: 1 of 3 replicates at ~4×10⁻⁵ (QR 10⁻⁴)",
        lambda: igtr_mrd(
            replicate_levels=[4e-5, None, None],
            quantitative_range_fraction=1e-4,
            assay_sensitivity_fraction=1e-5,
        ),
    ),
    _Example(
        "NGS-02-b",
        "4 clonal templates in 20 µg DNA",
        lambda: ngs_mrd(clonal_cells=[4], dna_input_ng=20_000),
    ),
    _Example(
        "NGS-02-d",
        "no clonal template in 2 µg DNA",
        lambda: ngs_mrd(clonal_cells=[0], dna_input_ng=2_000),
    ),
)


def tour_command(
    as_json: JsonFlag = False,
) -> int:
    """Run the MRD calculators on the worked examples of the case report and domain rules."""
    rows = []
    for example in EXAMPLES:
        result = example.compute()
        response = mrd_response(result, in_hematologic_cr=True)
        rows.append((example, result, response.category.value))
    if as_json:
        emit_json(
            {
                "examples": [
                    {"rule": ex.rule, "story": ex.story, "mrd_response": cat, **res.to_dict()}
                    for ex, res, cat in rows
                ]
            }
        )
        return EXIT_OK
    table = Table(
        title="mrdtrack: the MRD engine on the sources' worked examples (patient in CR)",
        title_justify="left",
    )
    for column in ("rule", "sample", "method", "status", "MRD", "sensitivity", "ASH 2021"):
        table.add_column(column)
    for example, result, category in rows:
        table.add_row(
            example.rule,
            example.story,
            result.method.value,
            result.status.value.replace("_", " "),
            "—" if result.mrd_fraction is None else format_fraction(result.mrd_fraction),
            "—"
            if result.sensitivity_fraction is None
            else format_fraction(result.sensitivity_fraction),
            category.replace("_", " "),
        )
    console = stdout_console()
    console.print(table)
    console.print(
        "Try: mrdtrack mrd qpcr --fusion-copies 150 --control-copies 50000 "
        "--diagnosis-ncn 1.59 --in-cr   ·   mrdtrack mrd flow --help"
    )
    return EXIT_OK
