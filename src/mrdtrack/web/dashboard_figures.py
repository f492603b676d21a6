"""The dashboard's figures as SVG: survival, relapse incidence, swimmer plot.

Drawn by :mod:`mrdtrack.figures` (matplotlib, one style) from the numbers of
:mod:`mrdtrack.web.cohort` — the curves are the dashboard's own estimates, nothing is
re-estimated — and served as ``image/svg+xml`` from their own routes
(:mod:`mrdtrack.web.cohort_routes`), so that pages load them as ``<img>`` under the
content security policy (``img-src 'self'``) and never inline markup.

What text a figure holds: fixed titles, axis labels, legend entries and numbers; the
swimmer plot adds each row's study id and genetic subtype. Those two come from the
registry, so they are made inert first: a ``$`` is escaped so that matplotlib never
parses it as mathtext, and characters that are not printable are replaced; matplotlib
writes text as XML character data with ``&``, ``<`` and ``>`` escaped. The swimmer plot
is patient-level, so its route needs patient read access: the de-identified role never
gets it (and its dashboard names no study id).

Rendering takes a process-wide lock: the figure style is applied with matplotlib's
``rc_context``, which changes global settings while a figure is drawn. Figures are
cached (:mod:`mrdtrack.web.dashboard_cache`), so the lock is held once per registry
version, filter and figure.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from enum import StrEnum

from matplotlib.figure import Figure

from mrdtrack.errors import NotFoundError, PermissionDeniedError
from mrdtrack.figures.events import SwimmerCohort, SwimmerSort, swimmer_rows
from mrdtrack.figures.style import FigureFormat, figure_bytes
from mrdtrack.figures.survival_plot import Curve, incidence_figure, survival_figure
from mrdtrack.figures.swimmer import swimmer_figure
from mrdtrack.figures.timeline import TimeZero, load_timelines
from mrdtrack.outcomes import CumulativeIncidence, KaplanMeier
from mrdtrack.outcomes.endpoints import Endpoint
from mrdtrack.registry.database import Registry
from mrdtrack.web.cohort import (
    CohortDashboard,
    cohort_dashboard,
    dashboard_key,
    is_deidentified,
)
from mrdtrack.web.dashboard_cache import DashboardCache
from mrdtrack.web.security import Principal

__all__ = [
    "CohortFigure",
    "available",
    "cohort_figure",
    "incidence_svg",
    "inert_text",
    "survival_svg",
    "swimmer_svg",
]

_RENDERING = threading.Lock()
_CURVE_NAMES = {Endpoint.OS: "Overall survival", Endpoint.EFS: "Event-free survival"}


class CohortFigure(StrEnum):
    """The dashboard's figures (the last part of their URL, without ``.svg``)."""

    SURVIVAL = "survival"
    """Overall and event-free survival from diagnosis, with the number at risk."""
    INCIDENCE = "incidence"
    """Cumulative incidence of relapse, death in remission competing."""
    SWIMMER = "swimmer"
    """One bar per patient from the first blinatumomab infusion."""


def inert_text(text: str) -> str:
    """Registry text as matplotlib must draw it: literally (no mathtext), printable only."""
    printable = "".join(c if c.isprintable() else "?" for c in text)
    # matplotlib reads a text with an even number of unescaped "$" as mathtext; with
    # every "$" escaped there is none, and it draws each "\$" as "$".
    return printable.replace("$", r"\$")


def _svg(figure: Figure) -> bytes:
    return figure_bytes(figure, FigureFormat.SVG)


def survival_svg(view: CohortDashboard) -> bytes:
    """OS and EFS Kaplan–Meier curves with CI bands and the number-at-risk table."""
    curves = [
        Curve(_CURVE_NAMES[curve.endpoint], curve.estimate)
        for curve in view.survival
        if isinstance(curve.estimate, KaplanMeier)
        and curve.endpoint in view.drawn[CohortFigure.SURVIVAL.value]
    ]
    with _RENDERING:
        figure = survival_figure(
            curves,
            title="Overall and event-free survival",
            time_label="Months from diagnosis",
        )
        return _svg(figure)


def incidence_svg(view: CohortDashboard) -> bytes:
    """Cumulative incidence of relapse, with death in remission as the competing risk."""
    relapse, death = view.incidence.estimate, view.incidence.competing
    drawn = bool(view.drawn[CohortFigure.INCIDENCE.value])
    if not isinstance(relapse, CumulativeIncidence) or death is None or not drawn:
        raise NotFoundError("figure", CohortFigure.INCIDENCE.value)
    with _RENDERING:
        figure = incidence_figure(
            [Curve("Relapse", relapse), Curve("Death in remission", death, censor_ticks=False)],
            title="Cumulative incidence of relapse",
            time_label="Months from remission",
            event_label="Relapses",
            competing_label="Deaths in remission",
        )
        return _svg(figure)


def swimmer_svg(registry: Registry, view: CohortDashboard) -> bytes:
    """The swimmer plot of the dashboard's :data:`~mrdtrack.web.cohort.SWIMMER_ROWS` patients."""
    with registry.reading() as session:
        timelines = load_timelines(session, view.swimmer_ids)
    cohort = swimmer_rows(timelines, time_zero=TimeZero.BLINATUMOMAB, sort=SwimmerSort.FOLLOW_UP)
    shown = SwimmerCohort(
        rows=tuple(
            replace(row, study_id=inert_text(row.study_id), subtype=inert_text(row.subtype))
            for row in cohort.rows
        ),
        time_zero=cohort.time_zero,
        excluded=cohort.excluded,
    )
    with _RENDERING:
        return _svg(swimmer_figure(shown))


def available(view: CohortDashboard) -> dict[CohortFigure, bool]:
    """Which figures the dashboard draws (:attr:`~mrdtrack.web.cohort.CohortDashboard.drawn`)."""
    return {
        CohortFigure.SURVIVAL: bool(view.drawn[CohortFigure.SURVIVAL.value]),
        CohortFigure.INCIDENCE: bool(view.drawn[CohortFigure.INCIDENCE.value]),
        CohortFigure.SWIMMER: bool(view.swimmer_ids),
    }


def cohort_figure(
    registry: Registry,
    cache: DashboardCache,
    viewer: Principal,
    params: Mapping[str, str],
    name: CohortFigure,
    *,
    today: date,
) -> bytes:
    """One figure of the viewer's dashboard for the filter in ``params``, as SVG bytes.

    Raises
    ------
    InputError
        A filter value outside its allowlist.
    PermissionDeniedError
        The swimmer plot asked for by a de-identified viewer.
    NotFoundError
        The figure has nothing to draw for this selection.
    """
    if name is CohortFigure.SWIMMER and is_deidentified(viewer):
        raise PermissionDeniedError("the swimmer plot is patient-level data")
    view = cohort_dashboard(registry, cache, viewer, params, today=today)
    if not available(view)[name]:
        raise NotFoundError("figure", name.value)
    key = (*dashboard_key(viewer, view.filter, version=view.version, today=today), name)
    if name is CohortFigure.SURVIVAL:
        return cache.figures.get_or_compute(key, lambda: survival_svg(view))
    if name is CohortFigure.INCIDENCE:
        return cache.figures.get_or_compute(key, lambda: incidence_svg(view))
    return cache.figures.get_or_compute(key, lambda: swimmer_svg(registry, view))
