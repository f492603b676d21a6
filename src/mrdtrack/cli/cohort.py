"""``mrdtrack cohort …``: outcome analytics over the registry (thin: read, derive, print).

* ``cohort summary`` — the case-series numbers (shared/spec/cli.md contract keys);
* ``cohort endpoint os|efs|rfs|dfs|cir|nrm|grfs|mrd_negativity`` — an END-01 end point
  from the registry's events, estimated by Kaplan–Meier (or the cumulative-incidence
  function when it has a competing event), with its origin, events and censoring;
* ``cohort mrd-response`` — the MRD response rate after a cycle or at last follow-up.
"""

from __future__ import annotations

import math
import os
from typing import Annotated, Any

import typer
from rich.table import Table

from mrdtrack.cli.output import (
    EXIT_NOT_EVALUABLE,
    EXIT_OK,
    JsonFlag,
    emit_json,
    key_value_table,
    parse_number,
    stdout_console,
)
from mrdtrack.errors import InputError
from mrdtrack.outcomes import cumulative_incidence, kaplan_meier
from mrdtrack.outcomes.endpoints import (
    DAYS_PER_MONTH,
    LAST_FOLLOW_UP,
    CensoringRule,
    Endpoint,
    EndpointData,
    TimeZero,
    derive_endpoint,
    mrd_response_rate,
)
from mrdtrack.outcomes.summary import cohort_summary
from mrdtrack.registry.cohort import RegistryCohort, read_cohort
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.schema import current_revision
from mrdtrack.settings import load_settings

__all__ = ["app"]

app = typer.Typer(
    help="Cohort analytics over the registry: summary, end points, MRD response.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir)."
    ),
]


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


@app.command("summary")
def summary_command(db: DbOption = None, as_json: JsonFlag = False) -> int:
    """Patients, age, sex, worst CRS, HCT, MRD at last follow-up, relapses, deaths, follow-up."""
    cohort = _read(db)
    summary = cohort_summary(cohort.histories, cohort.patients).to_dict()
    if as_json:
        emit_json(summary)
        return EXIT_OK
    age, hct, mrd = summary["age_years"], summary["hct"], summary["mrd_negative_last"]
    days, follow = hct["days_to_hct"], summary["follow_up_months"]
    rows = [
        ("patients", str(summary["n_patients"])),
        ("age at blinatumomab, years", f"{age['median']} ({age['min']}–{age['max']})"),
        ("female / male", f"{summary['sex']['female']} / {summary['sex']['male']}"),
        (
            "worst CRS grade 0/1/2/3/4",
            "/".join(str(summary["crs_grade_counts"][str(g)]) for g in range(5)),
        ),
        (
            "HCT, days from blinatumomab",
            f"{hct['n']}: {days['median']} ({days['min']}–{days['max']})",
        ),
        (
            "MRD-negative at last follow-up",
            f"{mrd['n']} of {mrd['evaluable']} ({mrd['percent']} %)",
        ),
        ("relapses / deaths", f"{summary['relapses']} / {summary['deaths']}"),
        (
            "follow-up from diagnosis, months",
            f"{follow['median']} ({follow['min']}–{follow['max']}), {follow['method']}; "
            f"simple median {follow.get('simple_median')}",
        ),
    ]
    console = stdout_console()
    console.print(key_value_table("Cohort summary", rows))
    for warning in summary["warnings"]:
        console.print(f"warning: {warning}")
    return EXIT_OK


@app.command("endpoint")
def endpoint_command(
    endpoint: Annotated[Endpoint, typer.Argument(help="The END-01 end point.")],
    db: DbOption = None,
    origin: Annotated[
        TimeZero | None, typer.Option("--origin", help="Time zero (default: the end point's).")
    ] = None,
    censoring: Annotated[
        CensoringRule | None,
        typer.Option("--censoring", help="Censor at the last contact or last assessment."),
    ] = None,
    landmark_months: Annotated[
        float | None,
        typer.Option("--landmark-months", parser=parse_number, help="Landmark analysis."),
    ] = None,
    censor_at_hct: Annotated[
        bool, typer.Option("--censor-at-hct", help="Sensitivity analysis: HCT censors.")
    ] = False,
    at: Annotated[
        list[float] | None,
        typer.Option("--at", parser=parse_number, help="Milestone month (repeatable), e.g. 24."),
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Kaplan–Meier (or cumulative incidence) of an end point derived from the registry."""
    cohort = _read(db)
    data = derive_endpoint(
        cohort.histories,
        endpoint,
        origin=origin,
        censoring=censoring,
        landmark_days=None if landmark_months is None else landmark_months * DAYS_PER_MONTH,
        censor_at_hct=censor_at_hct,
    )
    payload: dict[str, Any] = {"definition": data.describe(), "time_unit": "months"}
    if data.n == 0:
        payload.update(status="not_evaluable", reasons=["no patient in the end point's population"])
        if as_json:
            emit_json(payload)
        else:
            stdout_console().print("not evaluable: no patient in the end point's population")
        return EXIT_NOT_EVALUABLE
    payload.update(_estimate(data, at or []))
    if as_json:
        emit_json(payload)
        return EXIT_OK
    _print_endpoint(payload)
    return EXIT_OK


@app.command("mrd-response")
def mrd_response_command(
    db: DbOption = None,
    at: Annotated[
        str, typer.Option("--at", help="Time point (POST_C1, POST_C2 …) or 'last'.")
    ] = "POST_C1",
    as_json: JsonFlag = False,
) -> int:
    """MRD response rate (MRD-negative among evaluable) with Wilson and exact CIs."""
    cohort = _read(db)
    rate = mrd_response_rate(cohort.histories, at)
    payload = {
        "at": rate.at,
        "n_patients": rate.n_patients,
        "n_evaluable": rate.n_evaluable,
        "n_negative": rate.n_negative,
        "percent": None if rate.percent is None else round(rate.percent, 1),
        "wilson": None if rate.wilson is None else [rate.wilson.lower, rate.wilson.upper],
        "exact": None if rate.exact is None else [rate.exact.lower, rate.exact.upper],
        "not_assessed": len(rate.not_assessed),
        "not_evaluable": len(rate.not_evaluable),
        "definition": rate.definition,
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    label = "last follow-up" if at == LAST_FOLLOW_UP else at
    rows = [(k.replace("_", " "), str(v)) for k, v in payload.items()]
    stdout_console().print(key_value_table(f"MRD response at {label}", rows))
    return EXIT_OK


def _estimate(data: EndpointData, milestones: list[float]) -> dict[str, Any]:
    months = data.time_months
    if data.competing:
        cif = cumulative_incidence(months, data.event, 1)
        result: dict[str, Any] = {
            "estimator": "Aalen–Johansen cumulative incidence",
            "n": cif.n,
            "events": cif.events,
            "competing_events": cif.competing_events,
            "timeline": _floats(cif.timeline),
            "cif": _floats(cif.cif),
            "ci_lower": _floats(cif.ci_lower),
            "ci_upper": _floats(cif.ci_upper),
            "ci_method": cif.ci_method.value,
        }
        if milestones:
            incidence = cif.at(milestones)
            result["milestones"] = [
                {"months": t, "cif": _float(v), "ci_lower": _float(lo), "ci_upper": _float(hi)}
                for t, v, lo, hi in zip(
                    milestones,
                    incidence.cif,
                    incidence.ci_lower,
                    incidence.ci_upper,
                    strict=True,
                )
            ]
        return result
    km = kaplan_meier(months, data.event)
    result = {
        "estimator": "Kaplan–Meier, Greenwood variance",
        "n": km.n,
        "events": km.events,
        "median": km.median,
        "median_ci_lower": km.median_ci_lower,
        "median_ci_upper": km.median_ci_upper,
        "timeline": _floats(km.timeline),
        "survival": _floats(km.survival),
        "ci_lower": _floats(km.ci_lower),
        "ci_upper": _floats(km.ci_upper),
        "ci_method": km.ci_method.value,
    }
    if milestones:
        at = km.at(milestones)
        result["milestones"] = [
            {
                "months": t,
                "survival": _float(v),
                "ci_lower": _float(lo),
                "ci_upper": _float(hi),
                "n_at_risk": int(n),
            }
            for t, v, lo, hi, n in zip(
                milestones, at.survival, at.ci_lower, at.ci_upper, at.at_risk, strict=True
            )
        ]
    return result


def _print_endpoint(payload: dict[str, Any]) -> None:
    definition = payload["definition"]
    rows = [
        ("end point", f"{definition['name']} ({definition['endpoint']})"),
        ("time zero", definition["origin"]),
        ("population", definition["population"]),
        ("events", definition["events"]),
        ("competing", definition["competing"] or "—"),
        ("censoring", definition["censoring"]),
        ("patients / events", f"{payload['n']} / {payload['events']}"),
        ("estimator", payload["estimator"]),
    ]
    if "median" in payload:
        shown = "not reached" if payload["median"] is None else f"{payload['median']:.1f}"
        rows.append(("median, months", shown))
    if "cif" in payload:
        rows.append(("final cumulative incidence", f"{payload['cif'][-1]:.3f}"))
    rows += [(f"excluded: {k}", str(v)) for k, v in definition["excluded"].items()]
    console = stdout_console()
    console.print(key_value_table("End point", rows))
    if "milestones" in payload:
        table = Table(title="Milestones", title_justify="left")
        quantity = "cif" if "cif" in payload else "survival"
        for column in ("months", quantity, "95 % CI"):
            table.add_column(column)
        for row in payload["milestones"]:
            table.add_row(
                f"{row['months']:g}",
                f"{row[quantity]:.3f}",
                f"{row['ci_lower']:.3f}–{row['ci_upper']:.3f}"
                if row["ci_lower"] is not None and row["ci_upper"] is not None
                else "—",
            )
        console.print(table)


def _float(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _floats(values: Any) -> list[float | None]:
    return [_float(v) for v in values]
