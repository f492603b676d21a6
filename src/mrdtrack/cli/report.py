"""``mrdtrack report …`` and ``mrdtrack plot …``: reports and figures from the registry.

Thin commands: they open the registry, read the patients with
:func:`mrdtrack.figures.load_timelines`, call :mod:`mrdtrack.reports` or
:mod:`mrdtrack.figures`, and write the file named by ``--out`` in the format its
extension names (reports: ``.html`` or ``.pdf``; figures: ``.svg``, ``.png`` or ``.pdf``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from numpy.typing import NDArray

from mrdtrack.cli.output import EXIT_OK, JsonFlag, emit_json, key_value_table, stdout_console
from mrdtrack.errors import InputError
from mrdtrack.figures.events import Grouping, SwimmerSort
from mrdtrack.figures.timeline import PatientTimeline, TimeZero, axis_label, load_timelines
from mrdtrack.outcomes.endpoints import Endpoint
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.settings import load_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mrdtrack.outcomes.endpoints import EndpointData
    from mrdtrack.registry.cohort import RegistryCohort
    from mrdtrack.reports import ReportContext

# matplotlib, Jinja2 and the estimators are imported inside the commands: every other
# mrdtrack command starts without them.

__all__ = ["plot_app", "report_app"]

report_app = typer.Typer(
    help="Reports from the registry: cohort, patient, MRD sample (HTML or PDF).",
    no_args_is_help=True,
)
plot_app = typer.Typer(
    help="Figures from the registry: swimmer, Kaplan–Meier, cumulative incidence, MRD.",
    no_args_is_help=True,
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Registry URL (default: MRDTRACK_DB or a SQLite file in the user data dir)."
    ),
]
ReportOut = Annotated[
    Path, typer.Option("--out", help="Output file: .html (self-contained) or .pdf (Chromium).")
]
FigureOut = Annotated[Path, typer.Option("--out", help="Output file: .svg, .png or .pdf.")]
TimeZeroOption = Annotated[
    TimeZero, typer.Option("--time-zero", help="Time zero of the time axis and end points.")
]

_MAX_GRID_PANELS = 60


class KmEndpoint(StrEnum):
    """End points drawn as Kaplan–Meier curves (the incidence of relapse: ``plot cif``)."""

    OS = "os"
    EFS = "efs"
    RFS = "rfs"
    DFS = "dfs"
    GRFS = "grfs"


def _registry(db: str | None) -> Registry:
    return open_registry(db or load_settings(os.environ).db_url)


def _timelines(
    db: str | None, study_ids: Sequence[str] | None = None
) -> tuple[Registry, tuple[PatientTimeline, ...]]:
    registry = _registry(db)
    try:
        with registry.sessions() as session:
            timelines = load_timelines(session, study_ids)
    finally:
        registry.dispose()
    if not timelines:
        from mrdtrack.reports import redacted_url

        raise InputError(
            "--db",
            redacted_url(registry.url),
            "a registry with patients",
            "load data first, e.g. `mrdtrack demo`",
        )
    return registry, timelines


def _cohort(registry: Registry) -> RegistryCohort:
    from mrdtrack.registry.cohort import read_cohort

    reopened = open_registry(registry.url)
    try:
        return read_cohort(reopened)
    finally:
        reopened.dispose()


def _context(registry: Registry) -> ReportContext:
    from mrdtrack.reports import ReportContext, redacted_url

    return ReportContext(generated_at=datetime.now(UTC), registry=redacted_url(registry.url))


def _report_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InputError(
            "out", str(out), "a file name ending in .html or .pdf", "e.g. --out report.pdf"
        )
    return "pdf" if suffix == ".pdf" else "html"


def _write_report(html: str, out: Path) -> str:
    from mrdtrack.reports import html_to_pdf

    kind = _report_format(out)
    if kind == "pdf":
        html_to_pdf(html, out)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    return kind


def _done(title: str, payload: Mapping[str, object], as_json: bool) -> int:
    if as_json:
        emit_json(payload)
    else:
        rows = [(key, str(value)) for key, value in payload.items()]
        stdout_console().print(key_value_table(title, rows))
    return EXIT_OK


@report_app.command("cohort")
def report_cohort_command(
    out: ReportOut,
    db: DbOption = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Cohort report",
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    as_json: JsonFlag = False,
) -> int:
    """The cohort report: Table 1, swimmer plot, OS/EFS, CIR, MRD, AEs, methods, provenance."""
    from mrdtrack.reports import cohort_report

    _report_format(out)
    started = time.perf_counter()
    registry, timelines = _timelines(db)
    cohort = _cohort(registry)
    report = cohort_report(timelines, cohort, _context(registry), title=title, time_zero=time_zero)
    kind = _write_report(report.html, out)
    return _done(
        "cohort report",
        {
            "out": str(out),
            "format": kind,
            "patients": report.n_patients,
            "figures": len(report.figures),
            "tables": len(report.tables),
            "bytes": out.stat().st_size,
            "seconds": round(time.perf_counter() - started, 2),
        },
        as_json,
    )


@report_app.command("patient")
def report_patient_command(
    study_id: Annotated[str, typer.Argument(help="The patient's study id, e.g. SEED1-P05.")],
    out: ReportOut,
    db: DbOption = None,
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    as_json: JsonFlag = False,
) -> int:
    """One patient: timeline, MRD kinetics, MRD results, doses, grading, labs, outcomes."""
    from mrdtrack.reports import patient_report

    _report_format(out)
    registry, (timeline,) = _timelines(db, [study_id])
    report = patient_report(timeline, _context(registry), time_zero=time_zero)
    kind = _write_report(report.html, out)
    return _done(
        "patient report",
        {
            "out": str(out),
            "format": kind,
            "study_id": study_id,
            "mrd_results": len(timeline.mrd),
            "bytes": out.stat().st_size,
        },
        as_json,
    )


@report_app.command("sample")
def report_sample_command(
    sample_id: Annotated[
        int, typer.Argument(help="The registry sample id (see the patient report).")
    ],
    out: ReportOut,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> int:
    """One MRD sample for the laboratory: inputs, QC, result, sensitivity, interpretation."""
    from mrdtrack.reports import sample_report
    from mrdtrack.reports.sample import load_sample

    _report_format(out)
    registry = _registry(db)
    try:
        with registry.sessions() as session:
            record = load_sample(session, sample_id)
    finally:
        registry.dispose()
    report = sample_report(record, _context(registry))
    kind = _write_report(report.html, out)
    return _done(
        "sample report",
        {
            "out": str(out),
            "format": kind,
            "sample_id": sample_id,
            "study_id": report.study_id,
            "results": len(report.results),
            "statuses": ", ".join(r.status for r in report.results) or "no result",
            "bytes": out.stat().st_size,
        },
        as_json,
    )


def _write_figures(figures: Sequence[Figure], out: Path) -> list[Path]:
    """One file per figure (``name-2.svg`` …), or one multi-page PDF."""
    from matplotlib.backends.backend_pdf import PdfPages

    from mrdtrack.figures import FigureFormat, figure_format, save_figure
    from mrdtrack.figures.style import styled

    kind = figure_format(out)
    if len(figures) == 1:
        return [save_figure(figures[0], out)]
    if kind is FigureFormat.PDF:
        out.parent.mkdir(parents=True, exist_ok=True)
        with styled(), PdfPages(out, metadata={"CreationDate": None}) as pages:
            for figure in figures:
                pages.savefig(figure)
        return [out]
    return [
        save_figure(figure, out.with_name(f"{out.stem}-{number}{out.suffix}"))
        for number, figure in enumerate(figures, start=1)
    ]


def _plotted(title: str, paths: list[Path], extra: Mapping[str, object], as_json: bool) -> int:
    payload: dict[str, object] = {"out": ", ".join(str(p) for p in paths), "files": len(paths)}
    payload.update(extra)
    return _done(title, payload, as_json)


@plot_app.command("swimmer")
def plot_swimmer_command(
    out: FigureOut,
    db: DbOption = None,
    sort: Annotated[SwimmerSort, typer.Option("--sort", help="Order of the bars.")] = (
        SwimmerSort.FOLLOW_UP
    ),
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    rows_per_page: Annotated[
        int, typer.Option("--rows-per-page", min=1, max=60, help="Bars per page.")
    ] = 40,
    as_json: JsonFlag = False,
) -> int:
    """Swimmer plot of every patient (pages of --rows-per-page bars; a PDF holds them all)."""
    from mrdtrack.figures import figure_format, swimmer_pages, swimmer_rows

    figure_format(out)
    _, timelines = _timelines(db)
    cohort = swimmer_rows(timelines, time_zero=time_zero, sort=sort)
    pages = swimmer_pages(cohort, rows_per_page=rows_per_page)
    paths = _write_figures(pages, out)
    return _plotted(
        "swimmer plot",
        paths,
        {"patients": len(cohort.rows), "pages": len(pages), "excluded": len(cohort.excluded)},
        as_json,
    )


@plot_app.command("pathway")
def plot_pathway_command(out: FigureOut, db: DbOption = None, as_json: JsonFlag = False) -> int:
    """Treatment pathway after blinatumomab: status, response, next therapy, outcome."""
    from mrdtrack.figures import figure_format, pathway_figure, treatment_pathways

    figure_format(out)
    _, timelines = _timelines(db)
    pathway = treatment_pathways(timelines)
    figure = pathway_figure(pathway)
    extra = {
        "patients": len(pathway.patients),
        "flows": len(pathway.all_flows),
        "excluded": len(pathway.excluded),
    }
    return _plotted("treatment pathway", _write_figures([figure], out), extra, as_json)


GroupOption = Annotated[
    Grouping | None, typer.Option("--group", help="Compare groups fixed at time zero.")
]


@plot_app.command("km")
def plot_km_command(
    out: FigureOut,
    db: DbOption = None,
    endpoint: Annotated[
        KmEndpoint, typer.Option("--endpoint", help="The end point (END-01 definitions).")
    ] = KmEndpoint.OS,
    group: GroupOption = None,
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    as_json: JsonFlag = False,
) -> int:
    """Kaplan–Meier curve(s) with CI bands, censor ticks, log-rank p and a risk table."""
    from mrdtrack.figures import Curve, figure_format, survival_figure
    from mrdtrack.outcomes import kaplan_meier, logrank_test

    figure_format(out)
    registry, timelines = _timelines(db)
    data = _endpoint(registry, Endpoint(endpoint.value), time_zero)
    events = data.event == 1
    test = None
    if group is None:
        curves = [Curve("All patients", kaplan_meier(data.time_months, events))]
    else:
        labels = _labels(timelines, data.patient_ids, group)
        curves = [
            Curve(g, kaplan_meier(data.time_months[labels == g], events[labels == g]))
            for g in sorted(set(labels.tolist()))
        ]
        if len(curves) > 1 and events.any():
            test = logrank_test(data.time_months, events, labels)
    figure = survival_figure(
        curves,
        title=data.definition.name.capitalize(),
        time_label=axis_label(time_zero),
        test=test,
    )
    extra: dict[str, object] = {"patients": data.n, "events": data.events}
    if test is not None:
        extra["logrank_p"] = round(test.p_value, 6)
    return _plotted("Kaplan–Meier plot", _write_figures([figure], out), extra, as_json)


def _endpoint(registry: Registry, endpoint: Endpoint, time_zero: TimeZero) -> EndpointData:
    from mrdtrack.outcomes.endpoints import derive_endpoint

    data = derive_endpoint(_cohort(registry).histories, endpoint, origin=time_zero)
    if not data.n:
        raise InputError(
            "--time-zero",
            time_zero.value,
            f"patients with a {time_zero.value} date and follow-up after it",
        )
    return data


def _labels(
    timelines: Sequence[PatientTimeline], study_ids: Sequence[str], group: Grouping
) -> NDArray[np.str_]:
    from mrdtrack.figures import group_labels

    by_id = {t.study_id: t for t in timelines}
    return np.asarray(group_labels([by_id[i] for i in study_ids], group))


@plot_app.command("cif")
def plot_cif_command(
    out: FigureOut,
    db: DbOption = None,
    group: GroupOption = None,
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    as_json: JsonFlag = False,
) -> int:
    """Cumulative incidence of relapse (death without relapse competing) with a risk table."""
    from mrdtrack.figures import Curve, figure_format, incidence_figure
    from mrdtrack.outcomes import cumulative_incidence

    figure_format(out)
    registry, timelines = _timelines(db)
    data = _endpoint(registry, Endpoint.CIR, time_zero)
    if group is None:
        relapse = cumulative_incidence(data.time_months, data.event, 1)
        death = cumulative_incidence(data.time_months, data.event, 2)
        curves = [Curve("Relapse", relapse), Curve("Death without relapse", death, False)]
    else:
        labels = _labels(timelines, data.patient_ids, group)
        curves = [
            Curve(g, cumulative_incidence(data.time_months[labels == g], data.event[labels == g]))
            for g in sorted(set(labels.tolist()))
        ]
    figure = incidence_figure(
        curves,
        title=data.definition.name.capitalize(),
        time_label=axis_label(time_zero),
        event_label="Relapses",
        competing_label="Deaths without relapse",
        p_value_label=None if group is None else "Gray's test: not computed",
    )
    extra = {"patients": data.n, "relapses": data.events, "competing": data.competing_events}
    return _plotted("cumulative incidence plot", _write_figures([figure], out), extra, as_json)


@plot_app.command("mrd")
def plot_mrd_command(
    out: FigureOut,
    study_ids: Annotated[
        list[str] | None, typer.Argument(help="Study ids (default: every patient, one panel each).")
    ] = None,
    db: DbOption = None,
    overlay: Annotated[
        bool, typer.Option("--overlay", help="Several patients on one axis instead of panels.")
    ] = False,
    columns: Annotated[int, typer.Option("--columns", min=1, max=8, help="Panels per row.")] = 4,
    time_zero: TimeZeroOption = TimeZero.BLINATUMOMAB,
    as_json: JsonFlag = False,
) -> int:
    """MRD kinetics on a log scale: one patient, several overlaid, or one panel each."""
    from mrdtrack.figures import (
        figure_format,
        mrd_kinetics_figure,
        mrd_kinetics_grid,
        mrd_series,
    )

    figure_format(out)
    _, timelines = _timelines(db, study_ids or None)
    series = [mrd_series(t, time_zero=time_zero) for t in timelines if t.mrd]
    if not series:
        raise InputError("study_ids", study_ids, "patients with MRD results")
    if len(series) == 1:
        figure = mrd_kinetics_figure(series, title=f"MRD kinetics — {series[0].study_id}")
    elif overlay:
        figure = mrd_kinetics_figure(series, title="MRD kinetics")
    else:
        if len(series) > _MAX_GRID_PANELS:
            raise InputError(
                "study_ids",
                f"{len(series)} patients",
                f"at most {_MAX_GRID_PANELS} panels in one figure",
                "name the patients to draw: mrdtrack plot mrd ID1 ID2 … --out mrd.svg",
            )
        figure = mrd_kinetics_grid(series, columns=columns, title="MRD kinetics")
    extra = {"patients": len(series), "results": sum(len(s.points) for s in series)}
    return _plotted("MRD kinetics plot", _write_figures([figure], out), extra, as_json)
