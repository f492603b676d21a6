"""``mrdtrack lab …``: instrument files to MRD (FCS, qPCR runs, clonotype tables, batches)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mrdtrack.cli.output import (
    EXIT_INPUT_ERROR,
    EXIT_NOT_EVALUABLE,
    EXIT_OK,
    emit_json,
    key_value_table,
    parse_number,
    stdout_console,
)
from mrdtrack.errors import InputError
from mrdtrack.lab.batch import BatchItem, BatchOptions, ItemStatus, run_batch
from mrdtrack.lab.flow import analyze_fcs
from mrdtrack.lab.ngs_files import (
    Clonotype,
    analyze_clonotypes,
    read_clonotype_table,
    read_tracked_clonotypes,
)
from mrdtrack.lab.qpcr_files import analyze_qpcr_run, read_qpcr_run
from mrdtrack.lab.registry_sink import SinkOutcome, SinkStatus, read_manifest, write_batch
from mrdtrack.mrd import FLOW_PROFILES, MrdResult, MrdStatus, Transcript, format_fraction
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import open_registry

__all__ = ["app"]

app = typer.Typer(
    help="Lab instrument files to MRD: FCS with GatingML/YAML strategies, qPCR runs, NGS tables.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _mrd_rows(result: MrdResult) -> list[tuple[str, str]]:
    rows = [("status", result.status.value.replace("_", " "))]
    if result.mrd_fraction is not None:
        rows.append(("MRD", format_fraction(result.mrd_fraction)))
    if result.sensitivity_fraction is not None:
        rows.append(("sensitivity", format_fraction(result.sensitivity_fraction)))
    rows.extend(("reason", reason) for reason in result.reasons)
    rows.append(("profile", result.profile))
    return rows


def _exit(results: list[MrdResult | None]) -> int:
    if any(r is not None and r.status is MrdStatus.NOT_EVALUABLE for r in results):
        return EXIT_NOT_EVALUABLE
    return EXIT_OK


@app.command("fcs")
def fcs_command(
    sample: Annotated[Path, typer.Argument(help="FCS 2.0/3.0/3.1 file.")],
    strategy: Annotated[Path, typer.Option(help="GatingML 2.0 (.xml) or YAML strategy.")],
    leukemic_gate: Annotated[
        str | None, typer.Option(help="Gate whose events are the LAIP (default: the strategy's).")
    ] = None,
    denominator_gate: Annotated[
        str | None,
        typer.Option(help="Gate of the denominator (default: the strategy's, else all events)."),
    ] = None,
    profile: Annotated[
        str, typer.Option(help=f"Flow MRD profile: {', '.join(FLOW_PROFILES)}.")
    ] = "seed1-tpog",
    as_json: JsonFlag = False,
) -> int:
    """Gate an FCS file and compute the flow MRD of the LAIP gate."""
    if profile not in FLOW_PROFILES:
        raise InputError("--profile", profile, f"one of: {', '.join(FLOW_PROFILES)}")
    analysis = analyze_fcs(
        sample,
        strategy,
        leukemic_gate=leukemic_gate,
        denominator_gate=denominator_gate,
        profile=FLOW_PROFILES[profile],
    )
    if as_json:
        emit_json(analysis.to_dict())
    else:
        rows = [
            ("file", analysis.file_name),
            ("SHA-256", analysis.file_sha256),
            ("strategy", f"{analysis.strategy_id}@{analysis.strategy_version}"),
            ("events", f"{analysis.events_total:,}"),
        ]
        rows += [(f"gate {g}", f"{n:,}") for g, n in analysis.gate_counts.items()]
        rows += [("note", note) for note in analysis.notes]
        if analysis.mrd is not None:
            rows += _mrd_rows(analysis.mrd)
        stdout_console().print(key_value_table("Flow-cytometry file", rows))
    return _exit([analysis.mrd])


@app.command("qpcr")
def qpcr_command(
    run_file: Annotated[
        Path, typer.Argument(help="RDML, ABI SDS 2.x results text or QuantStudio export.")
    ],
    diagnosis_ncn: Annotated[
        list[str] | None,
        typer.Option(
            help="The patient's diagnosis NCN (> 0); or SAMPLE=NCN, repeated, for several patients."
        ),
    ] = None,
    fusion_target: Annotated[
        str | None,
        typer.Option(help="Fusion target name in the file (default: the non-control one)."),
    ] = None,
    control_target: Annotated[str, typer.Option(help="Control-gene target name.")] = "ABL1",
    transcript: Annotated[
        Transcript | None, typer.Option(help="Fusion transcript (plausibility check of the NCN).")
    ] = None,
    sample: Annotated[list[str] | None, typer.Option(help="Only this sample (repeatable).")] = None,
    as_json: JsonFlag = False,
) -> int:
    """Standard curves per target and MRD for each sample of one qPCR run."""
    ncn = _parse_ncn(diagnosis_ncn or [])
    analysis = analyze_qpcr_run(
        read_qpcr_run(run_file),
        diagnosis_ncn=ncn,
        fusion_target=fusion_target,
        control_target=control_target,
        transcript=transcript,
        samples=sample,
    )
    if as_json:
        emit_json(analysis.to_dict())
    else:
        console = stdout_console()
        rows = [("file", analysis.run.source), ("format", analysis.run.format.value)]
        for target, curve in analysis.curves.items():
            verdict = "usable" if curve.usable else "not usable: " + "; ".join(curve.reasons)
            slope = "" if curve.curve is None else f"slope {curve.curve.slope:.3f}, "
            rows.append((f"curve {target}", slope + verdict))
        rows += [("run QC", line) for line in analysis.run_qc]
        console.print(key_value_table("qPCR run", rows))
        for name, result in analysis.samples.items():
            console.print(key_value_table(f"sample {name}", _mrd_rows(result)))
    return _exit(list(analysis.samples.values()))


def _parse_ncn(values: list[str]) -> float | dict[str, float] | None:
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return parse_number(values[0])
    per_sample: dict[str, float] = {}
    for value in values:
        name, sep, number = value.rpartition("=")
        if not sep or not name:
            raise InputError("--diagnosis-ncn", value, "a number, or SAMPLE=NUMBER for each sample")
        per_sample[name] = parse_number(number)
    return per_sample


def _tracked(track: list[str], clonotypes: Path | None) -> tuple[Clonotype, ...]:
    found: list[Clonotype] = []
    for item in track:
        locus, sep, sequence = item.rpartition(":")
        found.append(Clonotype(sequence.strip().upper(), locus.strip().upper() if sep else ""))
    if clonotypes is not None:
        found.extend(read_tracked_clonotypes(clonotypes))
    return tuple(dict.fromkeys(found))


@app.command("ngs")
def ngs_command(
    table: Annotated[Path, typer.Argument(help="Clonotype table (CSV or TSV).")],
    track: Annotated[
        list[str] | None,
        typer.Option(help="A diagnostic clonotype, [LOCUS:]SEQUENCE (repeatable)."),
    ] = None,
    clonotypes: Annotated[
        Path | None, typer.Option(help="Table of the patient's diagnostic clonotypes.")
    ] = None,
    dna_ng: Annotated[
        float | None, typer.Option(parser=parse_number, help="DNA input in ng (6.5 pg per cell).")
    ] = None,
    cells: Annotated[
        float | None, typer.Option(parser=parse_number, help="Nucleated cells evaluated.")
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """MRD from the patient's diagnostic clonotypes in a follow-up clonotype table."""
    analysis = analyze_clonotypes(
        read_clonotype_table(table),
        tracked=_tracked(track or [], clonotypes),
        dna_input_ng=dna_ng,
        cells_evaluated=cells,
    )
    if as_json:
        emit_json(analysis.to_dict())
    else:
        rows = [("file", analysis.table.source)]
        rows += [
            (f"{c.locus or 'clonotype'} {c.sequence[:20]}…", f"{n:g} cell equivalents")
            for c, n in zip(analysis.tracked, analysis.cell_equivalents, strict=True)
        ]
        stdout_console().print(
            key_value_table("NGS clonotype table", rows + _mrd_rows(analysis.mrd))
        )
    return _exit([analysis.mrd])


@app.command("run")
def run_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Lab files (FCS, qPCR runs, clonotype tables).")
    ],
    strategy: Annotated[Path | None, typer.Option(help="Strategy for the FCS files.")] = None,
    leukemic_gate: Annotated[str | None, typer.Option(help="LAIP gate for the FCS files.")] = None,
    denominator_gate: Annotated[str | None, typer.Option(help="Denominator gate.")] = None,
    diagnosis_ncn: Annotated[
        float | None, typer.Option(parser=parse_number, help="Diagnosis NCN for qPCR runs.")
    ] = None,
    fusion_target: Annotated[str | None, typer.Option(help="Fusion target for qPCR runs.")] = None,
    track: Annotated[
        list[str] | None, typer.Option(help="Diagnostic clonotype [LOCUS:]SEQUENCE (repeatable).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local worker processes.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask distributed scheduler address, tcp://HOST:PORT.")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="CSV/YAML: file, study_id, sample_date, timepoint, tissue, marker."),
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Registry URL to write the results to.")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Acting user recorded in the audit trail (default: login)."),
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Process many lab files, reporting each; with --manifest and --db, store the results."""
    if (manifest is None) != (db is None):
        missing = "--db" if db is None else "--manifest"
        raise InputError(missing, None, "--manifest and --db together (or neither)")
    sink = None if manifest is None else read_manifest(manifest)
    registry = None if db is None else open_registry(db)
    options = BatchOptions(
        strategy=None if strategy is None else str(strategy),
        leukemic_gate=leukemic_gate,
        denominator_gate=denominator_gate,
        diagnosis_ncn=diagnosis_ncn,
        fusion_target=fusion_target,
        tracked=_tracked(track or [], None),
    )
    err = Console(file=sys.stderr)
    with Progress(
        TextColumn("[bold]lab files"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("files", total=len(paths))

        def advance(done: int, total: int, item: BatchItem) -> None:
            bar.update(task, completed=done)

        report = run_batch(paths, options, workers=workers, scheduler=scheduler, progress=advance)
    outcomes: tuple[SinkOutcome, ...] = ()
    if registry is not None and sink is not None:
        actor = AuditActor(user=user or f"cli:{getpass.getuser()}")
        try:
            outcomes = write_batch(registry, report, sink, actor)
        finally:
            registry.dispose()
    if as_json:
        payload: dict[str, Any] = report.to_dict()
        if outcomes:
            for entry, outcome in zip(payload["items"], outcomes, strict=True):
                entry["registry"] = outcome.to_dict()
            payload["registry"] = {
                "imported": sum(o.status is SinkStatus.IMPORTED for o in outcomes),
                "already_imported": sum(o.status is SinkStatus.ALREADY_IMPORTED for o in outcomes),
                "failed": sum(o.status is SinkStatus.ERROR for o in outcomes),
                "results_written": sum(o.results_written for o in outcomes),
            }
        else:
            payload["registry"] = "not written: give --manifest and --db to store the results"
        emit_json(payload)
    else:
        written = "written to the registry" if outcomes else "printed, not written to the registry"
        table = Table(title=f"Lab batch (results {written})")
        columns = ("file", "kind", "status", "detail") + (("registry",) if outcomes else ())
        for column in columns:
            table.add_column(column)
        for i, item in enumerate(report.items):
            cells = [
                Path(item.path).name,
                "?" if item.kind is None else item.kind.value,
                item.status.value.replace("_", " "),
                item.error or _detail(item),
            ]
            if outcomes:
                cells.append(_registry_cell(outcomes[i]))
            table.add_row(*cells)
        stdout_console().print(table)
    if report.failed or any(o.status is SinkStatus.ERROR for o in outcomes):
        return EXIT_INPUT_ERROR
    if any(i.status is ItemStatus.NOT_EVALUABLE for i in report.items):
        return EXIT_NOT_EVALUABLE
    return EXIT_OK


def _registry_cell(outcome: SinkOutcome) -> str:
    if outcome.status is SinkStatus.IMPORTED:
        return f"imported: {outcome.results_written} result(s), job {outcome.import_job_id}"
    if outcome.status is SinkStatus.ALREADY_IMPORTED:
        return f"already imported (job {outcome.import_job_id}): nothing written"
    return f"not written: {outcome.error}"


def _detail(item: BatchItem) -> str:
    summary = item.summary
    mrd = summary.get("mrd")
    if isinstance(mrd, dict):
        return f"{mrd.get('status')} {mrd.get('mrd_fraction') or ''}".strip()
    samples = summary.get("samples")
    if isinstance(samples, dict):
        return ", ".join(f"{n}: {r.get('status')}" for n, r in samples.items())
    return ""
