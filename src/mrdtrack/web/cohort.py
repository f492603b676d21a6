"""The cohort dashboard: counts, Table 1, survival and relapse curves, MRD response.

Everything is computed from the registry snapshot of :mod:`mrdtrack.web.dashboard_data`
for the patients the viewer may see (their site's, if they are bound to one; goal 12)
and the filter chosen (:mod:`mrdtrack.web.filters`):

* counts — patients, sites, MRD results, subtypes, sex, patients ever given
  blinatumomab, HCT or DLI, with a relapse, deceased;
* Table 1 — the case-series summary (:func:`mrdtrack.outcomes.summary.cohort_summary`);
* overall and event-free survival from diagnosis (Kaplan–Meier), and the cumulative
  incidence of relapse from remission with death in remission as the competing event
  (Aalen–Johansen), the END-01 defaults of :func:`mrdtrack.outcomes.endpoints.derive_endpoint`;
* the MRD response table per time point (ASH 2021 categories) and the MRD response rate
  after blinatumomab cycles 1 and 2 and at the last result
  (:func:`mrdtrack.outcomes.endpoints.mrd_response_rate`, Wilson intervals);
* which patients the swimmer plot draws: the :data:`SWIMMER_ROWS` whose first
  blinatumomab infusion is the most recent.

Small numbers (reliability goal 12, counts < 5 suppressed; the statistician role sees
de-identified aggregates only). Curves and Table 1 need :data:`SMALL_CELL` patients or
more in their population, for every viewer: fewer say nothing statistically and, under a
narrow filter, describe a person. For a de-identified viewer (a role without patient
read access) additionally: a count of 1–4 is shown as "< 5" in every table cell (and,
when a filter is chosen, in the patient and result totals), a rate whose numerator or
denominator is suppressed loses its percentage and interval, the swimmer plot (one bar
per patient) is not drawn, each curve stops where fewer than :data:`SMALL_CELL`
patients remain at risk (follow-up beyond that point is censored administratively, so
the estimate before it is unchanged), and a curve is drawn only if its figure prints no
count of 1–4 (legend, number at risk, cumulative events and censorings): a figure is
an aggregate only while its counts are. The unfiltered totals of the viewer's own
scope are shown as they are.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrdtrack.figures.survival_plot import nice_time_step, risk_table
from mrdtrack.outcomes import (
    CumulativeIncidence,
    KaplanMeier,
    cumulative_incidence,
    kaplan_meier,
)
from mrdtrack.outcomes.endpoints import (
    LAST_FOLLOW_UP,
    Endpoint,
    EndpointData,
    derive_endpoint,
    mrd_response_rate,
)
from mrdtrack.outcomes.histories import CohortHistories, DatedEvents, MrdSeries
from mrdtrack.outcomes.summary import CohortPatients, CrsEpisodes, cohort_summary
from mrdtrack.registry.database import Registry
from mrdtrack.registry.vocabulary import TreatmentKind
from mrdtrack.web.dashboard_cache import DashboardCache
from mrdtrack.web.dashboard_data import (
    CATEGORIES,
    RegistrySnapshot,
    read_snapshot,
    registry_version,
)
from mrdtrack.web.filters import (
    THERAPIES,
    FilterChoices,
    PatientFilter,
    facet_mask,
    filter_choices,
    parse_filter,
)
from mrdtrack.web.policy import Action, is_allowed
from mrdtrack.web.security import Principal

__all__ = [
    "MILESTONE_MONTHS",
    "RESPONSE_COLUMNS",
    "SMALL_CELL",
    "SWIMMER_ROWS",
    "CohortDashboard",
    "EndpointCurve",
    "ResponseRate",
    "ResponseRow",
    "build_dashboard",
    "cohort_dashboard",
    "cohort_payload",
    "dashboard_key",
    "is_deidentified",
    "subset_cohort",
]

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

RESPONSE_COLUMNS: tuple[str, ...] = CATEGORIES
"""The columns of the response table, in display order."""

SMALL_CELL = 5
"""Counts below this (and above 0) are suppressed for de-identified viewers; curves and
Table 1 need at least this many patients."""

SWIMMER_ROWS = 30
"""Bars of the dashboard's swimmer plot: the patients with the latest first infusion."""

MILESTONE_MONTHS = (12.0, 24.0, 36.0)
"""Milestones of the curves' table (never past the longest follow-up)."""

_RATES = ("POST_C1", "POST_C2", LAST_FOLLOW_UP)
_WITH = (
    ("blinatumomab", TreatmentKind.BLINATUMOMAB),
    ("HCT", TreatmentKind.HCT),
    ("DLI", TreatmentKind.DLI),
)


def is_deidentified(viewer: Principal) -> bool:
    """Whether ``viewer``'s role sees de-identified data only (no patient-level pages)."""
    return not is_allowed(viewer.role, Action.PATIENT_READ)


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """Patients per MRD response category at one time point (``None``: suppressed)."""

    timepoint: str
    counts: Mapping[str, int | None]
    total: int | None


@dataclass(frozen=True, slots=True)
class ResponseRate:
    """MRD-negative patients among the evaluable at one assessment (``None``: suppressed)."""

    at: str
    n_patients: int | None
    n_evaluable: int | None
    n_negative: int | None
    percent: float | None
    wilson_lower: float | None
    wilson_upper: float | None


@dataclass(frozen=True, slots=True, eq=False)
class EndpointCurve:
    """One end point as the dashboard shows it.

    ``estimate`` is ``None`` when the population is smaller than :data:`SMALL_CELL`
    (``withheld`` says so); ``competing`` is the incidence of the competing event (death
    in remission for CIR); ``truncated_months`` is where a de-identified viewer's curve
    stops (``None``: not truncated). ``shown_n`` and ``shown_events`` are the counts as
    the viewer's tables show them (``None``: suppressed).
    """

    endpoint: Endpoint
    definition: Mapping[str, Any]
    n: int
    estimate: KaplanMeier | CumulativeIncidence | None
    competing: CumulativeIncidence | None
    truncated_months: float | None
    withheld: str | None
    shown_n: int | None
    shown_events: int | None

    def milestones(self) -> list[dict[str, float | None]]:
        """The estimate at :data:`MILESTONE_MONTHS` up to the longest follow-up."""
        e = self.estimate
        if e is None or not e.timeline.size:
            return []
        reached = [t for t in MILESTONE_MONTHS if t <= float(e.timeline[-1])]
        if not reached:
            return []
        if isinstance(e, KaplanMeier):
            at = e.at(reached)
            values, lower, upper = at.survival, at.ci_lower, at.ci_upper
        else:
            incidence = e.at(reached)
            values, lower, upper = incidence.cif, incidence.ci_lower, incidence.ci_upper
        return [
            {"months": t, "value": _finite(v), "ci_lower": _finite(lo), "ci_upper": _finite(hi)}
            for t, v, lo, hi in zip(reached, values, lower, upper, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: definition, counts, the curve's steps and milestones."""
        payload: dict[str, Any] = {
            "definition": dict(self.definition),
            "n": self.shown_n,
            "withheld": self.withheld,
            "truncated_months": self.truncated_months,
            "time_unit": "months",
        }
        e = self.estimate
        if e is None:
            return payload
        payload.update(
            estimator="Kaplan–Meier, Greenwood variance"
            if isinstance(e, KaplanMeier)
            else "Aalen–Johansen cumulative incidence",
            events=self.shown_events,
            timeline=_floats(e.timeline),
            ci_lower=_floats(e.ci_lower),
            ci_upper=_floats(e.ci_upper),
            n_at_risk=e.n_at_risk.tolist(),
            n_events=e.n_events.tolist(),
            n_censored=e.n_censored.tolist(),
            milestones=self.milestones(),
        )
        if isinstance(e, KaplanMeier):
            payload.update(survival=_floats(e.survival), median=e.median)
        else:
            payload.update(cif=_floats(e.cif))
        if self.competing is not None:
            payload["competing_cif"] = _floats(self.competing.cif)
        return payload


@dataclass(frozen=True, slots=True, eq=False)
class CohortDashboard:
    """The dashboard of one viewer scope and filter (see the module docstring).

    ``drawn`` names, per figure (``survival``, ``incidence``), the end points it draws;
    an empty tuple: the figure is not drawn.
    """

    filter: PatientFilter
    choices: FilterChoices
    deidentified: bool
    patients: int | None
    sites: int
    mrd_results: int | None
    by_subtype: tuple[tuple[str, int | None], ...]
    by_sex: tuple[tuple[str, int | None], ...]
    patients_with: Mapping[str, int | None]
    response_table: tuple[ResponseRow, ...]
    summary: Mapping[str, Any] | None
    summary_note: str | None
    survival: tuple[EndpointCurve, ...]
    incidence: EndpointCurve
    response_rates: tuple[ResponseRate, ...]
    swimmer_ids: tuple[str, ...]
    swimmer_candidates: int
    drawn: Mapping[str, tuple[Endpoint, ...]]
    version: int

    def figure_note(self, name: str) -> str | None:
        """Why a curve of figure ``name`` is not drawn (``None``: every curve is)."""
        curves = self.survival if name == "survival" else (self.incidence,)
        missing = [c for c in curves if c.endpoint not in self.drawn[name]]
        if not missing:
            return None
        reasons = [
            f"{c.definition['name']}: "
            + (
                c.withheld.lower()
                if c.withheld
                else f"not drawn in the de-identified view (it would print a count below "
                f"{SMALL_CELL})"
            )
            for c in missing
        ]
        return "; ".join(reasons).capitalize() + "."

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (no study id: the swimmer's patients are counted, not named)."""
        return {
            "filters": self.filter.to_dict(),
            "patients": self.patients,
            "sites": self.sites,
            "mrd_results": self.mrd_results,
            "by_subtype": [list(pair) for pair in self.by_subtype],
            "by_sex": [list(pair) for pair in self.by_sex],
            "patients_with": dict(self.patients_with),
            "response_table": [
                {"timepoint": r.timepoint, "counts": dict(r.counts), "total": r.total}
                for r in self.response_table
            ],
            "summary": None if self.summary is None else dict(self.summary),
            "summary_note": self.summary_note,
            "endpoints": {
                curve.endpoint.value: curve.to_dict() for curve in (*self.survival, self.incidence)
            },
            "mrd_response_rates": [
                {
                    "at": r.at,
                    "n_patients": r.n_patients,
                    "n_evaluable": r.n_evaluable,
                    "n_negative": r.n_negative,
                    "percent": r.percent,
                    "wilson": None if r.wilson_lower is None else [r.wilson_lower, r.wilson_upper],
                }
                for r in self.response_rates
            ],
            "figures": {name: [e.value for e in drawn] for name, drawn in self.drawn.items()},
            "swimmer": {"shown": len(self.swimmer_ids), "candidates": self.swimmer_candidates},
            "small_cell_threshold": SMALL_CELL,
            "small_cells_suppressed": self.deidentified,
            "registry_version": self.version,
        }


def _finite(value: float | np.floating[Any]) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _floats(values: FloatArray) -> list[float | None]:
    return [_finite(v) for v in values]


def subset_cohort(
    histories: CohortHistories, patients: CohortPatients, mask: BoolArray
) -> tuple[CohortHistories, CohortPatients]:
    """The patients where ``mask`` holds, with their events renumbered (order kept)."""
    chosen = np.flatnonzero(mask)
    renumber = np.full(len(histories), -1, dtype=np.int64)
    renumber[chosen] = np.arange(chosen.size)

    def events(e: DatedEvents) -> DatedEvents:
        keep = mask[e.patient]
        return DatedEvents(renumber[e.patient[keep]], e.day[keep])

    m = histories.mrd
    keep_mrd = mask[m.patient]
    crs = patients.crs
    keep_crs = mask[crs.patient]
    subset = CohortHistories(
        patient_ids=tuple(histories.patient_ids[i] for i in chosen),
        diagnosis=histories.diagnosis[chosen],
        blinatumomab=histories.blinatumomab[chosen],
        remission=histories.remission[chosen],
        hct=histories.hct[chosen],
        death=histories.death[chosen],
        last_contact=histories.last_contact[chosen],
        last_assessment=histories.last_assessment[chosen],
        induction_failure=histories.induction_failure[chosen],
        death_causes=tuple(histories.death_causes[i] for i in chosen),
        relapses=events(histories.relapses),
        prior_relapses=events(histories.prior_relapses),
        second_malignancies=events(histories.second_malignancies),
        gvhd=events(histories.gvhd),
        mrd=MrdSeries(
            renumber[m.patient[keep_mrd]],
            m.day[keep_mrd],
            m.timepoint[keep_mrd],
            m.status[keep_mrd],
            m.timepoints,
        ),
    )
    facts = CohortPatients(
        sex=tuple(patients.sex[i] for i in chosen),
        birth=patients.birth[chosen],
        crs=CrsEpisodes(
            renumber[crs.patient[keep_crs]],
            crs.inputs_index[keep_crs],
            crs.stored_grade[keep_crs],
            crs.inputs,
        ),
    )
    return subset, facts


def _cell(count: int, suppress: bool) -> int | None:
    return None if suppress and 0 < count < SMALL_CELL else count


_SUMMARY_COUNTS = ("n_patients", "relapses", "relapse_events", "deaths")


def _spread(spread: Mapping[str, Any]) -> dict[str, Any]:
    """A median and range over 1–4 patients describes them: all of it suppressed."""
    n = spread.get("n")
    return dict.fromkeys(spread) if isinstance(n, int) and 0 < n < SMALL_CELL else dict(spread)


def _suppressed_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """Table 1 with every count of 1–4 replaced by ``None`` (and what reveals it)."""
    out = dict(summary)
    for key in _SUMMARY_COUNTS:
        out[key] = _cell(int(summary[key]), True)
    out["sex"] = {k: _cell(int(v), True) for k, v in summary["sex"].items()}
    out["crs_grade_counts"] = {
        k: _cell(int(v), True) for k, v in summary["crs_grade_counts"].items()
    }
    out["age_years"] = _spread(summary["age_years"])
    hct = dict(summary["hct"])
    hct["n"] = _cell(int(hct["n"]), True)
    hct["before_blinatumomab"] = _cell(int(hct["before_blinatumomab"]), True)
    hct["days_to_hct"] = _spread(hct["days_to_hct"])
    out["hct"] = hct
    negative = dict(summary["mrd_negative_last"])
    n, evaluable = _cell(int(negative["n"]), True), _cell(int(negative["evaluable"]), True)
    negative.update(
        n=n, evaluable=evaluable, percent=None if None in (n, evaluable) else negative["percent"]
    )
    out["mrd_negative_last"] = negative
    return out


def _truncated(data: EndpointData) -> tuple[FloatArray, IntArray, float | None]:
    """Times and events censored where fewer than :data:`SMALL_CELL` remain at risk."""
    months = data.time_months
    limit = float(np.sort(months)[-SMALL_CELL])
    if limit >= float(months.max()):
        return months, data.event, None
    beyond = months > limit
    return np.minimum(months, limit), np.where(beyond, 0, data.event), limit


def _curve(histories: CohortHistories, endpoint: Endpoint, *, hidden: bool) -> EndpointCurve:
    """The end point's estimate; a de-identified viewer's (``hidden``) is truncated."""
    data = derive_endpoint(histories, endpoint)
    definition = data.describe()
    shown_n = _cell(data.n, hidden)
    if data.n < SMALL_CELL:
        reason = f"Fewer than {SMALL_CELL} patients in the end point's population"
        return EndpointCurve(endpoint, definition, data.n, None, None, None, reason, shown_n, None)
    months, event, limit = _truncated(data) if hidden else (data.time_months, data.event, None)
    if not data.competing:
        km = kaplan_meier(months, event)
        shown = _cell(km.events, hidden)
        return EndpointCurve(endpoint, definition, data.n, km, None, limit, None, shown_n, shown)
    relapse = cumulative_incidence(months, event, 1)
    return EndpointCurve(
        endpoint,
        definition,
        data.n,
        relapse,
        cumulative_incidence(months, event, 2),
        limit,
        None,
        shown_n,
        _cell(relapse.events, hidden),
    )


def _printable(estimates: Sequence[KaplanMeier | CumulativeIncidence]) -> bool:
    """Whether a figure of these curves prints no count of 1–4.

    The counts a figure prints: each legend's patients and events, and the risk table
    at the figure's ticks (:func:`~mrdtrack.figures.survival_plot.nice_time_step` of the
    longest curve, as the figure places them).
    """
    longest = max(float(e.timeline[-1]) for e in estimates)
    ticks = np.arange(0.0, longest + 1e-9, nice_time_step(max(longest, 1e-9)))
    printed: list[IntArray] = []
    for e in estimates:
        table = risk_table(e, ticks)
        printed += [table.at_risk, table.events, table.censored, np.array([e.n, e.events])]
        if table.competing is not None:
            printed.append(table.competing)
    counts = np.concatenate(printed)
    return not bool(np.any((counts > 0) & (counts < SMALL_CELL)))


def _drawn(
    survival: Sequence[EndpointCurve], incidence: EndpointCurve, hidden: bool
) -> dict[str, tuple[Endpoint, ...]]:
    """The end points each figure draws (none: the figure is not drawn).

    Every estimate is drawn for a viewer who may read patient data; for a de-identified
    viewer only those whose figure prints no count of 1–4 (:func:`_printable`).
    """
    curves = [c for c in survival if c.estimate is not None]
    if hidden:
        curves = [c for c in curves if c.estimate is not None and _printable([c.estimate])]
        if len(curves) > 1 and not _printable([c.estimate for c in curves if c.estimate]):
            curves = curves[:1]
    relapse = incidence.estimate is not None and incidence.competing is not None
    if relapse and hidden and incidence.estimate is not None and incidence.competing is not None:
        relapse = _printable([incidence.estimate, incidence.competing])
    return {
        "survival": tuple(c.endpoint for c in curves),
        "incidence": (incidence.endpoint,) if relapse else (),
    }


def _rate(histories: CohortHistories, at: str, suppress: bool) -> ResponseRate:
    rate = mrd_response_rate(histories, at)
    negative = _cell(rate.n_negative, suppress)
    evaluable = _cell(rate.n_evaluable, suppress)
    shown = negative is not None and evaluable is not None and rate.wilson is not None
    return ResponseRate(
        at=at,
        n_patients=_cell(rate.n_patients, suppress),
        n_evaluable=evaluable,
        n_negative=negative,
        percent=None if not shown or rate.percent is None else round(rate.percent, 1),
        wilson_lower=None if not shown or rate.wilson is None else rate.wilson.lower,
        wilson_upper=None if not shown or rate.wilson is None else rate.wilson.upper,
    )


def _ranked(labels: Sequence[str], counts: IntArray, suppress: bool) -> tuple[Any, ...]:
    pairs = sorted(
        ((labels[i], int(n)) for i, n in enumerate(counts) if n > 0), key=lambda p: (-p[1], p[0])
    )
    return tuple((label, _cell(n, suppress)) for label, n in pairs)


def _swimmer(snapshot: RegistrySnapshot, mask: BoolArray) -> tuple[tuple[str, ...], int]:
    """The :data:`SWIMMER_ROWS` patients with the latest first infusion, and the candidates."""
    start = snapshot.cohort.histories.blinatumomab
    candidates = np.flatnonzero(mask & ~np.isnan(start))
    order = candidates[np.lexsort((candidates, -start[candidates]))][:SWIMMER_ROWS]
    ids = snapshot.cohort.histories.patient_ids
    return tuple(ids[i] for i in order), int(candidates.size)


def build_dashboard(
    snapshot: RegistrySnapshot, viewer: Principal, chosen: PatientFilter
) -> CohortDashboard:
    """The dashboard of the patients ``viewer`` may see that ``chosen`` selects."""
    sites = snapshot.sites_for(viewer)
    mask = snapshot.scope(viewer) & facet_mask(chosen, snapshot.facets, sites)
    hidden = is_deidentified(viewer)
    filtered = hidden and chosen.active
    n = int(mask.sum())
    histories, facts = subset_cohort(snapshot.cohort.histories, snapshot.cohort.patients, mask)
    ever = snapshot.ever_therapy[mask]
    patients_with: dict[str, int | None] = {
        label: _cell(int(np.count_nonzero(ever & (1 << THERAPIES.index(kind)))), hidden)
        for label, kind in _WITH
    }
    relapsed = np.zeros(n, dtype=np.bool_)
    relapsed[histories.relapses.patient] = True
    patients_with["relapse"] = _cell(int(relapsed.sum()), hidden)
    patients_with["death"] = _cell(int(np.count_nonzero(~np.isnan(histories.death))), hidden)

    response_table = tuple(
        ResponseRow(
            label,
            {k: _cell(v, hidden) for k, v in counts.items()},
            _cell(sum(counts.values()), hidden),
        )
        for label, counts in snapshot.results.table(mask[snapshot.results.patient])
    )
    summary: dict[str, Any] | None = None
    note = None
    if n >= SMALL_CELL:
        summary = cohort_summary(histories, facts).to_dict()
        if hidden:
            summary = _suppressed_summary(summary)
    else:
        note = f"Table 1 needs at least {SMALL_CELL} patients; this selection has fewer."
    subtype_codes = snapshot.facets.subtype[mask]
    survival = (
        _curve(histories, Endpoint.OS, hidden=hidden),
        _curve(histories, Endpoint.EFS, hidden=hidden),
    )
    incidence = _curve(histories, Endpoint.CIR, hidden=hidden)
    swimmer_ids, candidates = ((), 0) if hidden else _swimmer(snapshot, mask)
    return CohortDashboard(
        filter=chosen,
        choices=filter_choices(sites),
        deidentified=hidden,
        patients=_cell(n, filtered),
        sites=int(np.unique(snapshot.facets.site_id[mask]).size),
        mrd_results=_cell(int(snapshot.mrd_results[mask].sum()), filtered),
        by_subtype=_ranked(
            snapshot.subtype_labels,
            np.bincount(subtype_codes[subtype_codes >= 0], minlength=len(snapshot.subtype_labels)),
            hidden,
        ),
        by_sex=_ranked(
            snapshot.sex_labels,
            np.bincount(snapshot.sex[mask], minlength=len(snapshot.sex_labels)),
            hidden,
        ),
        patients_with=patients_with,
        response_table=response_table,
        summary=summary,
        summary_note=note,
        survival=survival,
        incidence=incidence,
        response_rates=tuple(_rate(histories, at, hidden) for at in _RATES),
        swimmer_ids=swimmer_ids,
        drawn=_drawn(survival, incidence, hidden),
        swimmer_candidates=candidates,
        version=snapshot.version,
    )


def cohort_dashboard(
    registry: Registry,
    cache: DashboardCache,
    viewer: Principal,
    params: Mapping[str, str],
    *,
    today: date,
) -> CohortDashboard:
    """The viewer's dashboard for the filter in ``params``, computed once per version.

    The registry version is read first; the snapshot (every patient) and the dashboard
    of each (viewer scope, filter) are kept by ``cache`` until it moves.

    Raises
    ------
    InputError
        A filter value outside its allowlist (:func:`~mrdtrack.web.filters.parse_filter`).
    """
    with registry.reading() as session:
        version = registry_version(session)
    cache.observe(version)
    snapshot = cache.snapshots.get_or_compute(
        (version, today), lambda: read_snapshot(registry, today=today, version=version)
    )
    chosen = parse_filter(params, snapshot.sites_for(viewer))
    return cache.views.get_or_compute(
        dashboard_key(viewer, chosen, version=version, today=today),
        lambda: build_dashboard(snapshot, viewer, chosen),
    )


def dashboard_key(
    viewer: Principal, chosen: PatientFilter, *, version: int, today: date
) -> tuple[Any, ...]:
    """What a dashboard depends on: registry version, day, viewer scope, filter."""
    return (version, today, viewer.site_id, is_deidentified(viewer), chosen)


def cohort_payload(
    registry: Registry,
    cache: DashboardCache,
    viewer: Principal,
    params: Mapping[str, str],
    *,
    today: date,
) -> bytes:
    """The dashboard as the API's JSON (:meth:`CohortDashboard.to_dict`), encoded once."""
    view = cohort_dashboard(registry, cache, viewer, params, today=today)
    key = dashboard_key(viewer, view.filter, version=view.version, today=today)
    return cache.payloads.get_or_compute(
        key,
        lambda: json.dumps(
            view.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8"),
    )
