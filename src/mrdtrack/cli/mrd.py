"""``mrdtrack mrd …``: the MRD calculators (pure, no registry needed)."""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from mrdtrack.cli.output import (
    EXIT_NOT_EVALUABLE,
    EXIT_OK,
    JsonFlag,
    emit_json,
    key_value_table,
    parse_number,
    stdout_console,
)
from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.mrd import (
    FLOW_PROFILES,
    NGS_PROFILES,
    QPCR_PROFILES,
    THRESHOLDS,
    ControlBasis,
    MrdResult,
    MrdStatus,
    SequenceCombination,
    Threshold,
    Transcript,
    derive,
    fit_standard_curve,
    flow_mrd,
    format_fraction,
    format_percent,
    mrd_response,
    ngs_mrd,
    percent_to_fraction,
    qpcr_mrd,
)

__all__ = ["app"]

app = typer.Typer(
    help="MRD calculators: RQ-PCR, flow cytometry, NGS, qPCR standard curves.",
    no_args_is_help=True,
)

CrFlag = Annotated[
    bool | None,
    typer.Option(
        "--in-cr/--not-in-cr",
        help="Whether the patient is in hematologic CR; adds the ASH 2021 MRD response.",
    ),
]


def _finish(result: MrdResult, as_json: bool, in_cr: bool | None, title: str) -> int:
    payload = result.to_dict()
    if in_cr is not None:
        response = mrd_response(result, in_hematologic_cr=in_cr)
        payload["mrd_response"] = response.category.value
        payload["mrd_response_reason"] = response.reason
    if as_json:
        emit_json(payload)
    else:
        stdout_console().print(key_value_table(title, _human_rows(result, payload)))
    return EXIT_NOT_EVALUABLE if result.status is MrdStatus.NOT_EVALUABLE else EXIT_OK


def _human_rows(result: MrdResult, payload: dict[str, object]) -> list[tuple[str, str]]:
    rows = [("status", result.status.value.replace("_", " "))]
    if result.mrd_fraction is not None:
        rows.append(
            (
                "MRD",
                f"{format_percent(result.mrd_fraction)} ({format_fraction(result.mrd_fraction)})",
            )
        )
    if result.sensitivity_fraction is not None:
        rows.append(("sensitivity", format_fraction(result.sensitivity_fraction)))
    for key in ("ncn", "log_reduction", "cells_evaluated", "mrd_per_million"):
        value = payload.get(key)
        if isinstance(value, float):
            prefix = (
                "≥ "
                if key == "log_reduction" and payload.get("log_reduction_is_lower_bound")
                else ""
            )
            rows.append((key.replace("_", " "), f"{prefix}{value:.3g}"))
    if "mrd_response" in payload:
        rows.append(("MRD response (ASH 2021)", str(payload["mrd_response_reason"])))
    rows.extend(("reason", reason) for reason in result.reasons)
    if result.qc_flags:
        rows.append(("QC flags", ", ".join(f.value for f in result.qc_flags)))
    rows.append(("profile", result.profile))
    rows.append(("rules", result.rule))
    return rows


@app.command("qpcr")
def qpcr_command(
    fusion_copies: Annotated[
        float,
        typer.Option(
            parser=parse_number, help="Fusion-transcript copies (≥ 0), summed over replicates."
        ),
    ],
    control_copies: Annotated[
        float,
        typer.Option(
            parser=parse_number, help="Control-gene copies (> 0), summed over replicates."
        ),
    ],
    diagnosis_ncn: Annotated[
        float | None,
        typer.Option(
            parser=parse_number, help="The patient's NCN at diagnosis (> 0), same transcript."
        ),
    ] = None,
    control_gene: Annotated[str, typer.Option(help="Control gene.")] = "ABL1",
    min_control_copies: Annotated[
        float,
        typer.Option(
            parser=parse_number, help="Control copies below this make the sample not evaluable."
        ),
    ] = 20_000,
    control_basis: Annotated[
        ControlBasis,
        typer.Option(help="Apply --min-control-copies to the mean per replicate or the sum."),
    ] = ControlBasis.MEAN,
    replicates: Annotated[
        int, typer.Option(min=1, help="Replicate wells behind the copy sums.")
    ] = 1,
    fusion_positive_replicates: Annotated[
        int | None, typer.Option(min=0, help="Fusion wells with a specific signal (default: all).")
    ] = None,
    sensitivity: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Assay sensitivity as a fraction, e.g. 1e-5."),
    ] = None,
    lowest_quantifiable_copies: Annotated[
        float | None,
        typer.Option(
            parser=parse_number, help="Copies per positive well below which the result is PNQ."
        ),
    ] = None,
    transcript: Annotated[
        Transcript | None, typer.Option(help="Fusion transcript (plausibility check).")
    ] = None,
    in_cr: CrFlag = None,
    as_json: JsonFlag = False,
) -> int:
    """MRD from RQ-PCR fusion-transcript and control-gene copies (EAC; SEED-1 rules)."""
    base = QPCR_PROFILES["seed1-tpog"]
    rules = derive(
        base,
        control_gene=control_gene,
        min_control_copies=min_control_copies,
        control_basis=control_basis,
    )
    result = qpcr_mrd(
        fusion_copies=fusion_copies,
        control_copies=control_copies,
        diagnosis_ncn=diagnosis_ncn,
        replicates=replicates,
        fusion_positive_replicates=fusion_positive_replicates,
        assay_sensitivity_fraction=sensitivity,
        lowest_quantifiable_copies=lowest_quantifiable_copies,
        transcript=transcript,
        profile=rules,
    )
    return _finish(result, as_json, in_cr, "RQ-PCR MRD")


@app.command("flow")
def flow_command(
    leukemic_events: Annotated[int, typer.Option(help="Events in the LAIP gate (≥ 0).")],
    total_events: Annotated[int, typer.Option(help="Events in the denominator population (> 0).")],
    profile: Annotated[
        str, typer.Option(help=f"Rule profile: {', '.join(FLOW_PROFILES)}.")
    ] = "seed1-tpog",
    min_total_events: Annotated[
        int | None, typer.Option(help="Fewer denominator events make the sample not evaluable.")
    ] = None,
    positive_min_events: Annotated[
        int | None, typer.Option(help="LAIP events needed to call MRD detected (the LOD).")
    ] = None,
    threshold_percent: Annotated[
        float | None,
        typer.Option(
            parser=parse_number, help="Positivity threshold in percent (≥ this is positive)."
        ),
    ] = None,
    in_cr: CrFlag = None,
    as_json: JsonFlag = False,
) -> int:
    """MRD from flow-cytometry LAIP events (defaults: the case report's ≥ 10 events in 10⁵)."""
    if profile not in FLOW_PROFILES:
        raise InputError("--profile", profile, f"one of: {', '.join(FLOW_PROFILES)}")
    base = FLOW_PROFILES[profile]
    overrides: dict[str, object] = {}
    if min_total_events is not None:
        overrides["min_total_events"] = min_total_events
    if positive_min_events is not None:
        if positive_min_events < 1:
            raise InputError("--positive-min-events", positive_min_events, "a whole number ≥ 1")
        overrides["lod_events"] = positive_min_events
    if threshold_percent is not None:
        overrides["threshold"] = _threshold_from_percent(threshold_percent, base.threshold)
    result = flow_mrd(
        leukemic_events=leukemic_events,
        total_events=total_events,
        profile=derive(base, **overrides),
    )
    return _finish(result, as_json, in_cr, "Flow-cytometry MRD")


def _threshold_from_percent(percent: float, base: Threshold | None) -> Threshold:
    fraction = percent_to_fraction(percent, field="--threshold-percent")
    if fraction <= 0:
        raise InputError("--threshold-percent", percent, "a percentage > 0 and ≤ 100")
    template = base or THRESHOLDS["MRD-POS-1E-4"]
    if template.limit_fraction == fraction:
        return template
    return replace(
        template,
        id=f"custom-{percent:g}%",
        limit_fraction=fraction,
        used_for="positivity threshold given on the command line",
        source="--threshold-percent",
        tag="user",
    )


@app.command("ngs")
def ngs_command(
    clonal_cells: Annotated[
        list[float],
        typer.Option(
            parser=parse_number,
            help="Clonal cell equivalents of one tracked sequence; repeat for each sequence.",
        ),
    ],
    dna_ng: Annotated[
        float | None, typer.Option(parser=parse_number, help="DNA input in ng (6.5 pg per cell).")
    ] = None,
    cells: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Nucleated cells evaluated, if measured."),
    ] = None,
    lab_lod: Annotated[
        float | None, typer.Option(parser=parse_number, help="Laboratory LoD as a fraction.")
    ] = None,
    lab_loq: Annotated[
        float | None, typer.Option(parser=parse_number, help="Laboratory LoQ as a fraction.")
    ] = None,
    combine: Annotated[
        SequenceCombination, typer.Option(help="Several tracked sequences: highest or sum [U].")
    ] = SequenceCombination.HIGHEST,
    in_cr: CrFlag = None,
    as_json: JsonFlag = False,
) -> int:
    """MRD from clonotype NGS: clonal cells over cells evaluated, with LoD95 and floor."""
    if (dna_ng is None) == (cells is None):
        raise InputError(
            "--dna-ng / --cells",
            None if dna_ng is None else f"both ({dna_ng:g}, {cells:g})",
            "exactly one: the DNA input in ng, or the nucleated cells evaluated",
        )
    result = ngs_mrd(
        clonal_cells=clonal_cells,
        dna_input_ng=dna_ng,
        cells_evaluated=cells,
        lab_lod_fraction=lab_lod,
        lab_loq_fraction=lab_loq,
        profile=derive(NGS_PROFILES["clonoseq-style"], combine=combine),
    )
    return _finish(result, as_json, in_cr, "NGS MRD")


@app.command("curve")
def curve_command(
    input_csv: Annotated[Path, typer.Argument(help="CSV with columns level (copies) and ct.")],
    level_column: Annotated[
        str, typer.Option(help="Column of copies (or dilution) per well.")
    ] = "level",
    ct_column: Annotated[
        str, typer.Option(help="Column of Ct values; blank/Undetermined = none.")
    ] = "ct",
    log10_levels: Annotated[
        bool, typer.Option("--log10-levels", help="The level column already holds log10 values.")
    ] = False,
    as_json: JsonFlag = False,
) -> int:
    """Fit a qPCR standard curve (slope, intercept, R², efficiency) and judge it (PCR-01)."""
    levels, cts = _read_curve_csv(input_csv, level_column, ct_column, log10_levels)
    curve = fit_standard_curve(levels, cts)
    verdict = curve.assess()
    payload = {
        "slope": curve.slope,
        "intercept": curve.intercept,
        "r_squared": curve.r_squared,
        "efficiency": curve.efficiency,
        "efficiency_percent": curve.efficiency * 100,
        "n_points": curve.n_points,
        "levels": len(curve.levels_log10),
        "lowest_positive_copies": 10**curve.lowest_positive_log10,
        "lowest_reproducible_copies": None
        if curve.lowest_reproducible_log10 is None
        else 10**curve.lowest_reproducible_log10,
        "undetermined_levels": [10**lv for lv in curve.undetermined_levels_log10],
        "status": verdict.status.value,
        "reasons": list(verdict.reasons),
        "acceptance": verdict.acceptance,
        "rule": "PCR-01",
    }
    if as_json:
        emit_json(payload)
    else:
        rows = [
            ("status", verdict.status.value),
            ("slope", f"{curve.slope:.4f}"),
            ("intercept", f"{curve.intercept:.4f}"),
            ("R²", f"{curve.r_squared:.4f}"),
            ("efficiency", f"{curve.efficiency * 100:.1f} %"),
            ("wells / levels", f"{curve.n_points} / {len(curve.levels_log10)}"),
            *(("reason", r) for r in verdict.reasons),
            ("acceptance", verdict.acceptance),
        ]
        stdout_console().print(key_value_table("qPCR standard curve", rows))
    return EXIT_OK if verdict.usable else EXIT_NOT_EVALUABLE


_UNDETERMINED = {"", "undetermined", "undet", "no ct", "n/a", "na", "-"}


def _read_curve_csv(
    path: Path, level_column: str, ct_column: str, log10_levels: bool
) -> tuple[list[float], list[float | None]]:
    if not path.is_file():
        raise InputError("INPUT_CSV", str(path), "an existing CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError("INPUT_CSV", str(path), "a readable UTF-8 CSV file", str(error)) from None
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    for column in (level_column, ct_column):
        if column not in columns:
            raise InputError(
                "column", column, f"a column of {path.name}; found: {', '.join(columns) or 'none'}"
            )
    levels: list[float] = []
    cts: list[float | None] = []
    for row_number, row in enumerate(reader, start=2):
        where = f"{path.name} row {row_number}"
        raw_level = (row.get(level_column) or "").strip()
        raw_ct = (row.get(ct_column) or "").strip()
        try:
            level = float(raw_level)
        except ValueError:
            raise ImportValidationError(
                level_column, raw_level, "a number", location=where
            ) from None
        if log10_levels:
            levels.append(level)
        elif level > 0 and math.isfinite(level):
            levels.append(math.log10(level))
        else:
            raise ImportValidationError(
                level_column, raw_level, "copies > 0 (or pass --log10-levels)", location=where
            )
        if raw_ct.lower() in _UNDETERMINED:
            cts.append(None)
            continue
        try:
            cts.append(float(raw_ct))
        except ValueError:
            raise ImportValidationError(
                ct_column, raw_ct, "a Ct value or 'Undetermined'", location=where
            ) from None
    if not levels:
        raise InputError("INPUT_CSV", str(path), "at least one data row")
    return levels, cts
