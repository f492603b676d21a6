"""The cohort report: one self-contained HTML page (inline SVG), printable to PDF.

Sections: key figures (:func:`mrdtrack.outcomes.summary.cohort_summary`), Table 1
(:func:`mrdtrack.outcomes.table1.table_one`), the patient listing laid out as the case
series' Table 1, the swimmer plot, the treatment pathway after blinatumomab, overall and
event-free survival (Kaplan–Meier with risk tables), the cumulative incidence of relapse
(Aalen–Johansen), survival at milestones, the MRD response table, response and toxicity
rates with Wilson intervals, the adverse-event table, the cohort beside the published
trials (:func:`mrdtrack.evidence.compare_cohort`, as ``mrdtrack evidence compare``: rates
with Wilson and exact intervals, OS/EFS at the trials' horizons, the forest plot and the
caution about cross-trial comparison), a methods text written from what was
computed, and a data-provenance appendix.

Nothing is derived twice: end points come from
:func:`mrdtrack.outcomes.endpoints.derive_endpoint`, estimates from the
:mod:`mrdtrack.outcomes` estimators, MRD response rates from
:func:`~mrdtrack.outcomes.endpoints.mrd_response_rate`, MRD values are the MRD engine's
stored results. The caller passes both views of the registry: the per-patient timelines
(:func:`mrdtrack.figures.load_timelines`) and the column-wise cohort
(:func:`mrdtrack.registry.cohort.read_cohort`).

Large cohorts: the listing shows at most ``listing_limit`` patients and the swimmer plot at
most ``swimmer_limit`` (longest follow-up first); the report says so where it cuts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mrdtrack.errors import InputError
from mrdtrack.evidence import (
    EvidenceBase,
    EvidenceComparison,
    Population,
    Setting,
    compare_cohort,
    comparison_forest_rows,
    load_evidence,
)
from mrdtrack.figures import (
    Curve,
    ForestRow,
    Grouping,
    SwimmerCohort,
    SwimmerSort,
    TimeZero,
    axis_label,
    figure_svg,
    forest_figure,
    group_labels,
    incidence_figure,
    pathway_figure,
    rate_row,
    survival_figure,
    swimmer_pages,
    swimmer_rows,
    treatment_pathways,
)
from mrdtrack.figures.events import sort_rows
from mrdtrack.figures.timeline import PatientTimeline
from mrdtrack.outcomes import (
    CumulativeIncidence,
    KaplanMeier,
    cumulative_incidence,
    kaplan_meier,
    logrank_test,
)
from mrdtrack.outcomes.endpoints import (
    LAST_FOLLOW_UP,
    Endpoint,
    EndpointData,
    derive_endpoint,
    mrd_response_rate,
)
from mrdtrack.outcomes.summary import CohortSummary, cohort_summary
from mrdtrack.registry.cohort import RegistryCohort
from mrdtrack.reports.methods import Methods
from mrdtrack.reports.provenance import ProvenanceBlock, provenance_block
from mrdtrack.reports.rendering import Cell, ReportContext, percent_of, render, svg
from mrdtrack.reports.summary_table import summary_table
from mrdtrack.reports.tables import (
    TableBlock,
    adverse_event_table,
    listing_table,
    mrd_response_table,
)

__all__ = ["CohortReport", "FigureBlock", "cohort_report"]

CONFIDENCE_LEVEL = 0.95
MILESTONE_MONTHS = (12.0, 24.0)
EVIDENCE_SETTINGS = (Setting.MRD_POSITIVE, Setting.RELAPSED_REFRACTORY)


@dataclass(frozen=True, slots=True)
class FigureBlock:
    """A figure inlined as SVG, with its caption."""

    id: str
    title: str
    caption: str
    svg: str


@dataclass(frozen=True, slots=True)
class CohortReport:
    """The computed report: its parts (for checks) and the rendered HTML."""

    title: str
    n_patients: int
    summary: CohortSummary
    key_facts: tuple[tuple[str, str], ...]
    tables: tuple[TableBlock, ...]
    figures: tuple[FigureBlock, ...]
    endpoints: tuple[EndpointData, ...]
    methods: tuple[str, ...]
    notes: tuple[str, ...]
    provenance: ProvenanceBlock
    html: str
    evidence: EvidenceComparison | None = None

    def table(self, table_id: str) -> TableBlock:
        """The table with ``id``."""
        return next(t for t in self.tables if t.id == table_id)

    def figure(self, figure_id: str) -> FigureBlock:
        """The figure with ``id``."""
        return next(f for f in self.figures if f.id == figure_id)


def cohort_report(
    timelines: Sequence[PatientTimeline],
    cohort: RegistryCohort,
    context: ReportContext,
    *,
    title: str = "Cohort report",
    time_zero: TimeZero = TimeZero.BLINATUMOMAB,
    swimmer_limit: int = 200,
    listing_limit: int = 100,
    evidence: EvidenceBase | None = None,
    evidence_population: Population = Population.PEDIATRIC,
) -> CohortReport:
    """Compute every section of the cohort report and render it as HTML.

    Parameters
    ----------
    timelines
        The patients as plain per-patient values (:func:`mrdtrack.figures.load_timelines`).
    cohort
        The same registry read column-wise (:func:`mrdtrack.registry.cohort.read_cohort`).
    context
        When, from which registry and with which software the report is made.
    title
        The report's title.
    time_zero
        Time zero of the swimmer plot and the end points (diagnosis, blinatumomab or HCT).
    swimmer_limit, listing_limit
        The most patients drawn in the swimmer plot and listed in the patient table.
    evidence, evidence_population
        The evidence base (default: the shipped trials) and the age group of the trials
        (MRD-positive and relapsed/refractory settings) set beside the cohort.
    """
    if not timelines:
        raise InputError(
            "registry", "no patients", "at least one patient", "load data first (mrdtrack demo)"
        )
    notes: list[str] = []
    methods = Methods()
    summary = cohort_summary(cohort.histories, cohort.patients)
    notes.extend(f"Cohort summary: {warning}." for warning in dict.fromkeys(summary.warnings))
    table1, _ = summary_table(timelines)
    tables = [table1]
    if len(timelines) <= listing_limit:
        tables.append(listing_table(timelines))
    else:
        notes.append(
            f"The patient listing is left out for {len(timelines)} patients (more than "
            f"{listing_limit}); `mrdtrack report patient ID` gives any one patient."
        )
    figures = _swimmer(timelines, time_zero, swimmer_limit, notes)
    pathway = treatment_pathways(timelines)
    if pathway.patients:
        figures.append(
            FigureBlock(
                "pathway",
                "Treatment pathway after blinatumomab",
                "Each patient's status before blinatumomab, MRD response after cycles 1–2, "
                "most intensive therapy afterwards and status at last follow-up, with band "
                "widths proportional to the number of patients.",
                figure_svg(pathway_figure(pathway), title="Treatment pathway after blinatumomab"),
            )
        )
    survival = _Survival(timelines, cohort, time_zero, methods, notes)
    figures.extend(survival.figures)
    tables.append(survival.milestones(summary))
    tables.append(mrd_response_table(timelines))
    rates, binomial = _rates(cohort, summary)
    methods.binomial = binomial
    figures.append(rates)
    tables.append(adverse_event_table(timelines))
    base = load_evidence() if evidence is None else evidence
    comparison, *evidence_tables, evidence_figure = _evidence(cohort, base, evidence_population)
    tables.extend(evidence_tables)  # the rates with CIs, then OS/EFS at the trials' horizons
    figures.append(evidence_figure)
    methods.record_data(timelines)
    methods.follow_up = summary.follow_up.get("method")
    provenance = provenance_block(timelines)
    facts = _key_facts(summary)
    paragraphs = methods.paragraphs(context)
    html = render(
        "cohort.html.j2",
        title=title,
        context=context,
        n_patients=len(timelines),
        key_facts=facts,
        tables=tables,
        figures=[FigureBlock(f.id, f.title, f.caption, svg(f.svg)) for f in figures],
        methods=paragraphs,
        notes=notes,
        provenance=provenance,
        evidence_caution=comparison.caution,
    )
    return CohortReport(
        title=title,
        n_patients=len(timelines),
        summary=summary,
        key_facts=facts,
        tables=tuple(tables),
        figures=tuple(figures),
        endpoints=tuple(survival.endpoints),
        methods=tuple(paragraphs),
        notes=tuple(notes),
        provenance=provenance,
        html=html,
        evidence=comparison,
    )


def _swimmer(
    timelines: Sequence[PatientTimeline], time_zero: TimeZero, limit: int, notes: list[str]
) -> list[FigureBlock]:
    cohort = swimmer_rows(timelines, time_zero=time_zero, sort=SwimmerSort.STUDY_ID)
    if not cohort.rows:
        notes.append(f"No patient has a {time_zero.value} date for the swimmer plot.")
        return []
    if len(cohort.rows) > limit:
        longest = sort_rows(cohort.rows, SwimmerSort.FOLLOW_UP)[:limit]
        notes.append(
            f"The swimmer plot shows the {limit} patients with the longest follow-up of "
            f"{len(cohort.rows)}; `mrdtrack plot swimmer` draws every page."
        )
        cohort = SwimmerCohort(longest, time_zero, cohort.excluded)
    if cohort.excluded:
        notes.append(
            f"{len(cohort.excluded)} patient(s) without a {time_zero.value} date are not in "
            f"the swimmer plot: {', '.join(cohort.excluded[:10])}."
        )
    pages = swimmer_pages(cohort, rows_per_page=40, title="Swimmer plot")
    blocks = []
    for number, page in enumerate(pages, start=1):
        suffix = f" (page {number} of {len(pages)})" if len(pages) > 1 else ""
        blocks.append(
            FigureBlock(
                f"swimmer-{number}",
                f"Swimmer plot{suffix}",
                "One bar per patient from time zero to death or last contact. Segments: "
                "blinatumomab cycles, time after HCT, TKI; markers above the bar: CR, relapse, "
                "CRS grade; on the bar: HCT, DLI, CAR-T, death; below: each MRD result "
                "(filled = positive, open = negative, star = start of complete molecular "
                "remission).",
                figure_svg(page, title=f"Swimmer plot{suffix}"),
            )
        )
    return blocks


class _Survival:
    """OS, EFS (overall and by status before blinatumomab) and CIR: figures and estimates."""

    def __init__(
        self,
        timelines: Sequence[PatientTimeline],
        cohort: RegistryCohort,
        time_zero: TimeZero,
        methods: Methods,
        notes: list[str],
    ) -> None:
        self.figures: list[FigureBlock] = []
        self.endpoints: list[EndpointData] = []
        self.estimates: dict[Endpoint, KaplanMeier | CumulativeIncidence] = {}
        self.time_zero = time_zero
        label = axis_label(time_zero)
        for endpoint in (Endpoint.OS, Endpoint.EFS, Endpoint.CIR):
            data = derive_endpoint(cohort.histories, endpoint, origin=time_zero)
            for reason, ids in data.excluded.items():
                notes.append(
                    f"{data.definition.name.capitalize()}: {len(ids)} patient(s) "
                    f"left out ({reason})."
                )
            if not data.n:
                continue
            self.endpoints.append(data)
            methods.endpoints.append(data)
            if endpoint is Endpoint.CIR:
                self._incidence(data, label, methods)
            else:
                self._survival(data, label, methods)
                if endpoint is Endpoint.EFS:
                    self._by_status(timelines, data, label, methods)

    def _survival(self, data: EndpointData, label: str, methods: Methods) -> None:
        km = kaplan_meier(data.time_months, data.event, confidence_level=CONFIDENCE_LEVEL)
        self.estimates[data.endpoint] = km
        methods.km = km
        name = data.definition.name.capitalize()
        figure = survival_figure([Curve("All patients", km)], title=name, time_label=label)
        self.figures.append(
            FigureBlock(
                data.endpoint.value,
                name,
                f"Kaplan–Meier estimate with pointwise {_percent(CONFIDENCE_LEVEL)} confidence "
                f"band ({km.ci_method.value}); ticks mark censored patients. Risk table: number "
                "at risk, cumulative events and censored at each time.",
                figure_svg(figure, title=name),
            )
        )

    def _by_status(
        self,
        timelines: Sequence[PatientTimeline],
        data: EndpointData,
        label: str,
        methods: Methods,
    ) -> None:
        """EFS by status before blinatumomab (fixed before time zero), log-rank test."""
        by_id = dict(zip((t.study_id for t in timelines), timelines, strict=True))
        kept = [by_id[i] for i in data.patient_ids if i in by_id]
        if len(kept) != data.n:
            return
        labels = np.asarray(group_labels(kept, Grouping.STATUS_BEFORE_BLINATUMOMAB))
        groups = sorted(set(labels.tolist()))
        events = data.event == 1
        if len(groups) < 2 or not events.any():
            return
        test = logrank_test(data.time_months, events, labels)
        methods.logrank = test
        curves = [
            Curve(g, kaplan_meier(data.time_months[labels == g], events[labels == g]))
            for g in groups
        ]
        title = f"{data.definition.name.capitalize()} by status before blinatumomab"
        figure = survival_figure(curves, title=title, time_label=label, test=test)
        self.figures.append(
            FigureBlock(
                "efs-by-status",
                title,
                f"Kaplan–Meier estimates per group; log-rank test ({test.df} degree(s) of "
                "freedom). The groups are fixed before time zero; with few events the test has "
                "little power.",
                figure_svg(figure, title=title),
            )
        )

    def _incidence(self, data: EndpointData, label: str, methods: Methods) -> None:
        relapse = cumulative_incidence(
            data.time_months, data.event, 1, confidence_level=CONFIDENCE_LEVEL
        )
        # The competing cause is drawn even without events: a flat 0 says "none occurred".
        death = cumulative_incidence(
            data.time_months, data.event, 2, confidence_level=CONFIDENCE_LEVEL
        )
        self.estimates[data.endpoint] = relapse
        methods.cif = relapse
        name = data.definition.name.capitalize()
        curves = [Curve(data.causes[1].capitalize(), relapse)]
        curves.append(Curve(data.causes[2].capitalize(), death, censor_ticks=False))
        figure = incidence_figure(
            curves,
            title=name,
            time_label=label,
            event_label="Relapses",
            competing_label="Deaths without relapse",
        )
        self.figures.append(
            FigureBlock(
                "cir",
                name,
                "Aalen–Johansen estimate with death without relapse as the competing event "
                f"(not 1 − Kaplan–Meier), pointwise {_percent(CONFIDENCE_LEVEL)} confidence "
                "band. Risk table: number at risk and cumulative relapses, competing deaths "
                "and censored.",
                figure_svg(figure, title=name),
            )
        )

    def milestones(self, summary: CohortSummary) -> TableBlock:
        """Estimates at 12 and 24 months, medians, and the median follow-up."""
        rows: list[tuple[Cell, ...]] = []
        for endpoint, estimate in self.estimates.items():
            name = next(d.definition.name for d in self.endpoints if d.endpoint is endpoint)
            times = [t for t in MILESTONE_MONTHS if t <= float(estimate.timeline[-1])]
            if isinstance(estimate, KaplanMeier):
                if times:
                    at = estimate.at(times)
                    rows.extend(
                        _milestone(name, t, at.survival[i], at.ci_lower[i], at.ci_upper[i])
                        for i, t in enumerate(times)
                    )
                median = "not reached" if estimate.median is None else f"{estimate.median:.1f}"
                rows.append((Cell(f"Median {name}, months"), Cell(median), Cell("")))
            elif times:
                at_cif = estimate.at(times)
                rows.extend(
                    _milestone(name, t, at_cif.cif[i], at_cif.ci_lower[i], at_cif.ci_upper[i])
                    for i, t in enumerate(times)
                )
        follow = summary.follow_up
        if follow.get("n"):
            median = "not reached" if follow["median"] is None else f"{follow['median']:.1f}"
            rows.append(
                (
                    Cell("Median follow-up from diagnosis, months"),
                    Cell(f"{median} ({follow['method']})"),
                    Cell(
                        f"simple median {follow['simple_median']:.1f}; range "
                        f"{follow['min']:.1f}–{follow['max']:.1f}"
                    ),
                )
            )
        origin = axis_label(self.time_zero).split(" from ", 1)[1]
        return TableBlock(
            id="milestones",
            title="Survival and incidence at milestones",
            headers=("Estimate", "Value", f"{_percent(CONFIDENCE_LEVEL)} CI / note"),
            rows=tuple(rows),
            caption=f"Months from {origin}; milestones beyond the longest follow-up are not "
            "estimated.",
        )


def _milestone(name: str, months: float, value: float, low: float, high: float) -> tuple[Cell, ...]:
    interval = (
        f"{low * 100:.0f}–{high * 100:.0f}\u00a0%"
        if np.isfinite(low) and np.isfinite(high)
        else "not estimable"
    )
    return (
        Cell(f"{name.capitalize()} at {months:g} months"),
        Cell(_percent(value)),
        Cell(interval),
    )


def _percent(value: float) -> str:
    return f"{value * 100:.0f}\u00a0%"


def _rates(cohort: RegistryCohort, summary: CohortSummary) -> tuple[FigureBlock, str]:
    """MRD response (after cycles 1 and 2, last result), CRS, relapse and death rates."""
    rows: list[ForestRow] = []
    for at, label in (
        ("POST_C1", "MRD negative after cycle 1"),
        ("POST_C2", "MRD negative after cycle 2"),
        (LAST_FOLLOW_UP, "MRD negative at the last result"),
    ):
        if at != LAST_FOLLOW_UP and at not in cohort.histories.mrd.timepoints:
            continue
        rate = mrd_response_rate(cohort.histories, at, confidence_level=CONFIDENCE_LEVEL)
        if rate.n_evaluable:
            rows.append(rate_row(label, rate.n_negative, rate.n_evaluable))
    n = summary.n_patients
    grades: Mapping[int, int] = summary.crs_grade_counts
    rows.append(rate_row("CRS, any grade", sum(c for g, c in grades.items() if g >= 1), n))
    rows.append(rate_row("CRS, grade ≥ 3", sum(c for g, c in grades.items() if g >= 3), n))
    rows.append(rate_row("Relapse", summary.relapses, n))
    rows.append(rate_row("Death", summary.deaths, n))
    figure = forest_figure(rows, title="Response and toxicity rates")
    caption = (
        "Proportions with Wilson score 95 % intervals. MRD: patients with an evaluable "
        "result at that time point (the MRD engine's status); CRS: worst grade per patient "
        "(ASTCT 2019); relapse and death: outcome events of follow-up. Crude proportions, "
        "not time-to-event estimates."
    )
    block = FigureBlock(
        "rates",
        "Response and toxicity rates",
        caption,
        figure_svg(figure, title="Response and toxicity rates"),
    )
    return block, f"{rows[0].interval} {_percent(CONFIDENCE_LEVEL)}"


def _evidence(
    cohort: RegistryCohort, base: EvidenceBase, population: Population
) -> tuple[EvidenceComparison, TableBlock, TableBlock, FigureBlock]:
    """The cohort beside the trials: the same functions as ``mrdtrack evidence compare``."""
    trials = base.select(settings=EVIDENCE_SETTINGS, population=population)
    comparison = compare_cohort(
        cohort.histories,
        cohort.patients,
        trials,
        settings=EVIDENCE_SETTINGS,
        population=population,
        confidence_level=CONFIDENCE_LEVEL,
        evidence=base.label,
    )

    def interval(low: float | None, high: float | None) -> Cell:
        if low is None or high is None:
            return Cell("—")
        return Cell(f"{low * 100:.1f}–{high * 100:.1f}\u00a0%")

    rows = []
    for row in comparison.rows:
        kn = "—" if row.k is None or row.n is None else f"{row.k}/{row.n}"
        rows.append(
            (
                Cell(row.measure.value if row.trial_id is None else f"  {row.label}"),
                Cell(kn + (" *" if row.denominator_assumed else "")),
                Cell("—" if row.percent is None else f"{row.percent:.1f}\u00a0%"),
                interval(*((row.wilson.lower, row.wilson.upper) if row.wilson else (None, None))),
                interval(*((row.exact.lower, row.exact.upper) if row.exact else (None, None))),
                Cell(row.citation or "registry"),
            )
        )
    settings = ", ".join(s.value.replace("_", " ") for s in EVIDENCE_SETTINGS)
    rates = TableBlock(
        id="evidence",
        title=f"Cohort beside the trials ({settings}; {population.value})",
        headers=("Measure / trial", "k/n", "%", "Wilson 95 % CI", "Exact 95 % CI", "Source"),
        rows=tuple(rows),
        notes=("* Denominator not given by the review: the arm or study size is assumed.",),
        caption=f"Evidence base {comparison.evidence}; cohort rows first, trial rows indented.",
    )
    survival_rows = []
    for s in comparison.survival:
        shown = "not reached" if s.status == "not_reached" else "—"
        if s.survival is not None:
            shown = f"{s.survival * 100:.1f}\u00a0%"
        survival_rows.append(
            (
                Cell(f"{s.endpoint.value.upper()} at {s.horizon_months:g} months"),
                Cell(s.label),
                Cell(shown),
                interval(s.ci_lower, s.ci_upper),
                Cell(s.note or s.citation or ""),
            )
        )
    survival = TableBlock(
        id="evidence-survival",
        title="Survival at the trials' horizons",
        headers=("Estimate", "Who", "Value", "95 % CI", "Note / source"),
        rows=tuple(survival_rows),
        caption="Cohort: Kaplan–Meier estimate (log–log interval), months from the first "
        "blinatumomab infusion, never extrapolated beyond follow-up; trials: the value as "
        "printed, from their own origin, without an interval.",
    )
    title = "Cohort vs trials"
    figure = FigureBlock(
        "evidence-forest",
        title,
        "Proportions with Wilson score 95 % intervals: cohort rows filled, trial rows open "
        "(* denominator assumed).",
        figure_svg(
            forest_figure(comparison_forest_rows(comparison), title=title, width_in=9.0),
            title=title,
        ),
    )
    return comparison, rates, survival, figure


def _key_facts(summary: CohortSummary) -> tuple[tuple[str, str], ...]:
    s: Mapping[str, Any] = summary.to_dict()
    n = s["n_patients"]

    def spread(values: Mapping[str, Any], digits: int = 1) -> str:
        if values.get("median") is None:
            return "—"
        return (
            f"{values['median']:.{digits}f} ({values['min']:.{digits}f}–{values['max']:.{digits}f})"
        )

    follow = s["follow_up_months"]
    mrd = s["mrd_negative_last"]
    hct = s["hct"]
    follow_text = "—"
    if follow.get("n"):
        median = "not reached" if follow["median"] is None else f"{follow['median']:.1f}"
        follow_text = (
            f"{median} (reverse Kaplan–Meier); simple median {follow['simple_median']:.1f} "
            f"(range {follow['min']:.1f}–{follow['max']:.1f})"
        )
    return (
        ("Patients", str(n)),
        ("Age at first blinatumomab, years, median (range)", spread(s["age_years"])),
        ("Female / male", f"{s['sex'].get('female', 0)} / {s['sex'].get('male', 0)}"),
        (
            "HCT after blinatumomab; days to HCT, median (range)",
            f"{percent_of(hct['n'], n)}; {spread(hct['days_to_hct'], 0)}",
        ),
        ("MRD negative at the last evaluable result", percent_of(mrd["n"], mrd["evaluable"])),
        ("Patients with a relapse after blinatumomab", percent_of(s["relapses"], n)),
        ("Deaths", percent_of(s["deaths"], n)),
        ("Follow-up from diagnosis, months", follow_text),
    )
