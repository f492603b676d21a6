"""``mrdtrack evidence list|show|compare``: the curated trials and the cohort beside them.

Thin: load the evidence base, read the registry, call :mod:`mrdtrack.evidence`, print.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mrdtrack.cli.output import EXIT_OK, JsonFlag, emit_json, key_value_table, stdout_console
from mrdtrack.errors import InputError
from mrdtrack.evidence import (
    Population,
    Setting,
    SurvivalRow,
    compare_cohort,
    comparison_forest_rows,
    load_evidence,
)
from mrdtrack.figures.forest import forest_figure
from mrdtrack.figures.style import save_figure
from mrdtrack.outcomes.endpoints import LAST_FOLLOW_UP
from mrdtrack.registry.cohort import RegistryCohort, read_cohort
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.schema import current_revision
from mrdtrack.settings import load_settings

__all__ = ["app"]

app = typer.Typer(
    help="Published blinatumomab trials (curated, cited) and the cohort compared with them.",
    no_args_is_help=True,
)

_DEFAULT_SETTINGS = (Setting.MRD_POSITIVE, Setting.RELAPSED_REFRACTORY)


@app.command("list")
def list_command(
    setting: Annotated[
        list[Setting] | None, typer.Option("--setting", help="Only this setting (repeatable).")
    ] = None,
    population: Annotated[
        Population | None, typer.Option("--population", help="Only this age group.")
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Every trial: id, name, setting, population, n and citation."""
    evidence = load_evidence()
    trials = evidence.select(settings=setting or (), population=population)
    if as_json:
        emit_json(
            {
                "evidence": evidence.label,
                "source": evidence.source,
                "trials": [t.summary_dict() for t in trials],
            }
        )
        return EXIT_OK
    table = Table(title=f"Trials ({evidence.label})")
    for column in ("id", "name", "setting", "population", "n", "citation"):
        table.add_column(column)
    for t in trials:
        table.add_row(
            t.id, t.name, t.setting.value, t.population.value, str(t.n or "–"), t.citation.short()
        )
    stdout_console().print(table)
    return EXIT_OK


@app.command("show")
def show_command(
    trial_id: Annotated[str, typer.Argument(help="The trial id (see `mrdtrack evidence list`).")],
    as_json: JsonFlag = False,
) -> int:
    """One trial: design, arms, every reported value with its source, notes, citation."""
    trial = load_evidence().get(trial_id)
    if as_json:
        emit_json(trial.to_dict())
        return EXIT_OK
    console = stdout_console()
    arms = ", ".join(f"{a.name} {a.n}" for a in trial.arms) or "–"
    rows = [
        ("name", trial.name),
        ("design", trial.design),
        ("setting / population", f"{trial.setting.value} / {trial.population.value}"),
        ("n (arms)", f"{trial.n or '–'} ({arms})"),
        ("citation", trial.citation.short()),
        ("source", trial.source),
    ]
    console.print(key_value_table(trial.id, rows))
    table = Table(title="Reported values")
    for column in ("measure", "value", "detail", "source"):
        table.add_column(column)
    for v in trial.values:
        if v.median_months is not None:
            shown = f"median {v.median_months:g} mo"
        elif v.status is not None:
            shown = v.status.value.replace("_", " ")
        elif v.k is not None:
            shown = f"{v.k}/{v.n}"
        else:
            shown = f"{v.percent:g} %"
        table.add_row(v.measure.value, shown, v.label(), v.source)
    console.print(table)
    for note in trial.notes:
        console.print(f"note: {note}")
    return EXIT_OK


def _read(db: str | None) -> RegistryCohort:
    registry = open_registry(db or load_settings(os.environ).db_url)
    try:
        if current_revision(registry) is None:
            raise InputError(
                "--db",
                registry.url,
                "an initialised registry",
                "run `mrdtrack init` (or `mrdtrack demo` for the case-report cohort) first",
            )
        return read_cohort(registry)
    finally:
        registry.dispose()


def _survival_table(rows: tuple[SurvivalRow, ...]) -> Table:
    """OS/EFS at the trials' horizons: the cohort's KM estimate or "not reached"."""
    table = Table(title="Survival at the trials' horizons (cohort: months from first infusion)")
    for column in ("end point", "horizon", "who", "%", "95 % CI", "at risk", "note"):
        # "not reached" must stay readable on a narrow terminal; the text columns wrap.
        table.add_column(column, no_wrap=column in ("horizon", "%"))
    for row in rows:
        data = row.to_dict()
        if row.status == "not_reached":
            shown = "not reached"
        else:
            shown = "–" if data["percent"] is None else f"{data['percent']:g}"
        ci = data["ci"]
        table.add_row(
            row.endpoint.value.upper(),
            f"{row.horizon_months:g} mo",
            row.label,
            shown,
            "–" if ci is None else f"{ci[0] * 100:.1f}–{ci[1] * 100:.1f}",
            "–" if row.at_risk is None else str(row.at_risk),
            row.note or ("KM, log–log CI" if row.trial_id is None else row.source or ""),
        )
    return table


@app.command("compare")
def compare_command(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir).",
        ),
    ] = None,
    setting: Annotated[
        list[Setting] | None,
        typer.Option(
            "--setting",
            help="Trial setting (repeatable; default mrd_positive, relapsed_refractory).",
        ),
    ] = None,
    population: Annotated[
        Population, typer.Option("--population", help="Age group of the trials.")
    ] = Population.PEDIATRIC,
    mrd_at: Annotated[
        str, typer.Option("--mrd-at", help="Cohort MRD time point (last, POST_C1, POST_C2 …).")
    ] = LAST_FOLLOW_UP,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the forest plot (.svg, .png, .pdf).")
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """The cohort's MRD response, CR, CRS ≥ 3, relapse, OS and EFS beside the trials."""
    if out is not None and out.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise InputError("out", str(out), "a file ending in .svg, .png or .pdf")
    evidence = load_evidence()
    settings = tuple(setting or _DEFAULT_SETTINGS)
    cohort = _read(db)
    trials = evidence.select(settings=settings, population=population)
    comparison = compare_cohort(
        cohort.histories,
        cohort.patients,
        trials,
        settings=settings,
        population=population,
        mrd_at=mrd_at,
        evidence=evidence.label,
    )
    if out is not None:
        figure = forest_figure(
            comparison_forest_rows(comparison),
            title="Cohort vs trials (* n assumed)",
            width_in=9.0,
        )
        save_figure(figure, out)
    payload = comparison.to_dict()
    if out is not None:
        payload["figure"] = str(out)
    if as_json:
        emit_json(payload)
        return EXIT_OK
    table = Table(
        title=f"Cohort vs trials ({', '.join(s.value for s in settings)}; {population.value})"
    )
    for column in ("measure", "who", "k/n", "%", "Wilson 95 % CI", "exact 95 % CI"):
        table.add_column(column)
    for row in comparison.rows:

        def ci(bounds: list[float] | None) -> str:
            return "–" if bounds is None else f"{bounds[0] * 100:.1f}–{bounds[1] * 100:.1f}"

        data = row.to_dict()
        kn = "–" if row.k is None or row.n is None else f"{row.k}/{row.n}"
        if row.denominator_assumed:
            kn += " *"
        table.add_row(
            row.measure.value,
            row.label,
            kn,
            "–" if data["percent"] is None else f"{data['percent']:g}",
            ci(data["wilson"]),
            ci(data["exact"]),
        )
    console = stdout_console()
    console.print(table)
    console.print("* denominator not given by the review: the arm or study size is assumed.")
    if comparison.survival:
        console.print(_survival_table(comparison.survival))
    console.print(f"Caution: {comparison.caution}")
    if out is not None:
        console.print(f"forest plot: {out}")
    return EXIT_OK
