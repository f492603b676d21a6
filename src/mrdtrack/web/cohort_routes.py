"""Routes: the cohort dashboard's figures as SVG (``/cohort/figures/…``); the page body.

Thin: the filter comes as the dashboard's own query parameters, the figure from
:func:`mrdtrack.web.dashboard_figures.cohort_figure` (cached per registry version). The
survival and incidence curves are aggregates (cohort read access); the swimmer plot is
one bar per patient under their study id, so it needs patient read access: the
de-identified statistician role is refused it (HTTP 403), and a lab user, who may open
each of these patients' pages, may fetch it.

The page (``/cohort``, :mod:`mrdtrack.web.pages`) wraps :func:`dashboard_body`: the body
depends on the dashboard alone (its key holds the viewer's scope and role class), so it
is rendered once and kept with it; only the frame (navigation, CSRF token) is rendered
per request — under twenty clients the template was most of a warm request's cost.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from starlette.responses import Response

from mrdtrack.errors import InputError
from mrdtrack.web.cohort import RESPONSE_COLUMNS, SWIMMER_ROWS, CohortDashboard, dashboard_key
from mrdtrack.web.context import WebContext, authorize, today, web_context
from mrdtrack.web.dashboard_cache import cache_of
from mrdtrack.web.dashboard_figures import CohortFigure, available, cohort_figure
from mrdtrack.web.policy import Action, is_allowed
from mrdtrack.web.security import Principal

__all__ = ["dashboard_body", "router"]

router = APIRouter(include_in_schema=False)

Context = Annotated[WebContext, Depends(web_context)]
CohortReader = Annotated[Principal, Depends(authorize(Action.COHORT_READ))]
Reader = Annotated[Principal, Depends(authorize(Action.PATIENT_READ))]


def dashboard_body(
    request: Request,
    principal: Principal,
    dashboard: CohortDashboard,
    *,
    on: date,
    error: InputError | None = None,
) -> Markup:
    """The dashboard page's body (``cohort_body.html``), rendered once per dashboard.

    A body showing a refused filter (``error``) is rendered for that request only.
    """
    values = {
        "d": dashboard,
        "columns": RESPONSE_COLUMNS,
        "figures": {figure.value: shown for figure, shown in available(dashboard).items()},
        "query": dashboard.filter.query_string(),
        "swimmer_rows": SWIMMER_ROWS,
        "can_list": is_allowed(principal.role, Action.PATIENT_READ),
        "error": error,
    }
    template = web_context(request).templates.env.get_template("cohort_body.html")
    if error is not None:
        return Markup(template.render(values))  # noqa: S704 - an autoescaped template's output
    key = dashboard_key(principal, dashboard.filter, version=dashboard.version, today=on)
    return Markup(  # noqa: S704 - an autoescaped template's output
        cache_of(request.app).pages.get_or_compute(key, lambda: template.render(values))
    )


def _figure(
    request: Request, context: WebContext, principal: Principal, name: CohortFigure
) -> Response:
    body = cohort_figure(
        context.registry,
        cache_of(request.app),
        principal,
        dict(request.query_params),
        name,
        today=today(context),
    )
    return Response(body, media_type="image/svg+xml")


@router.get("/cohort/figures/survival.svg")
def survival_figure(request: Request, context: Context, principal: CohortReader) -> Response:
    """Overall and event-free survival (Kaplan–Meier) with the number at risk."""
    return _figure(request, context, principal, CohortFigure.SURVIVAL)


@router.get("/cohort/figures/incidence.svg")
def incidence_figure(request: Request, context: Context, principal: CohortReader) -> Response:
    """Cumulative incidence of relapse, death in remission competing."""
    return _figure(request, context, principal, CohortFigure.INCIDENCE)


@router.get("/cohort/figures/swimmer.svg")
def swimmer_figure(request: Request, context: Context, principal: Reader) -> Response:
    """Swimmer plot of the most recently treated patients of the selection."""
    return _figure(request, context, principal, CohortFigure.SWIMMER)
