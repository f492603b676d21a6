"""A registry cohort beside the published trials of the same setting and age group.

Pure: the cohort's event histories and per-patient facts and the trials in, an
:class:`EvidenceComparison` out. Four measures are compared, each a proportion
``k / n`` with its Wilson score interval (Wilson EB. J Am Stat Assoc 1927;22:209-212) and
its Clopper–Pearson exact interval (Clopper CJ, Pearson ES. Biometrika 1934;26:404-413),
both from :func:`mrdtrack.outcomes.group_stats.binomial_ci`:

==================  ======================================================================
measure             cohort definition (registry)
==================  ======================================================================
``mrd_negative``    MRD-negative / evaluable at ``mrd_at`` (default: each patient's last
                    evaluable result, as the case report's "MRD-negative at the first time
                    point" and the cohort summary count it; domain rules §5.3)
``cr``              CR reached on or after the first infusion / patients not in CR at the
                    first infusion (patients entering in CR cannot "achieve" one)
``crs_grade3``      worst ASTCT CRS grade ≥ 3 / all patients (cohort summary, rule CRS-01)
``relapse``         patients with a relapse after the first infusion / all patients (a
                    crude proportion, not a cumulative incidence at a horizon)
==================  ======================================================================

Trial values of the matching measure come from the curated file as printed. Where the
review gives a percentage without its denominator, the arm size (or, for a whole-study
value, the study size) is taken as the denominator and ``k = round(percent·n/100)``; such
rows say ``denominator_assumed`` and their intervals are approximate. A value with a
subgroup and no stated denominator gets no interval.

Survival (:class:`SurvivalRow`): overall and event-free survival at each horizon at which a
selected trial states a value (e.g. 48 months). The cohort's value is the Kaplan–Meier
estimate ``S(t) = Π (1 − d_i/n_i)`` (Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481;
rule END-02) with its log–log pointwise interval on Greenwood's variance, of the END-01 end
point (:func:`mrdtrack.outcomes.endpoints.derive_endpoint`) with time zero the first
blinatumomab infusion — not the trials' origin (randomisation, enrolment or diagnosis),
which the review does not always state. The estimate is never extrapolated: where no
patient is still followed at the horizon (the curve has not reached 0 before it), the row
says "not reached" and why. The review gives no intervals for the trials' survival values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import numpy as np

from mrdtrack.evidence.schema import Measure, Population, Setting, Trial, TrialValue
from mrdtrack.figures.forest import ForestRow, rate_row
from mrdtrack.inputs import require_choice, require_number
from mrdtrack.outcomes.endpoints import (
    LAST_FOLLOW_UP,
    Endpoint,
    derive_endpoint,
    mrd_response_rate,
)
from mrdtrack.outcomes.group_stats import BinomialInterval, IntervalMethod, binomial_ci
from mrdtrack.outcomes.histories import CohortHistories, TimeZero
from mrdtrack.outcomes.kaplan_meier import kaplan_meier
from mrdtrack.outcomes.summary import CohortPatients, cohort_summary

__all__ = [
    "CAUTION",
    "CohortMeasure",
    "ComparisonRow",
    "EvidenceComparison",
    "SurvivalEndpoint",
    "SurvivalRow",
    "cohort_survival_at",
    "compare_cohort",
    "comparison_forest_rows",
]

CAUTION = (
    "Read these side by side with care. Trials differ from this cohort in who was "
    "eligible (age, disease burden, MRD level and method, prior therapy), in how and when "
    "MRD, remission, relapse and toxicity were measured and graded, and in follow-up. "
    "Published numbers are transcribed from a review, some without their denominators "
    "(those intervals are approximate). A small cohort has wide intervals: overlap or "
    "non-overlap of intervals is not a test, and no difference here shows that the "
    "cohort did better or worse than a trial would predict."
)


class CohortMeasure(StrEnum):
    """The measures compared, in display order."""

    MRD_NEGATIVE = "mrd_negative"
    CR = "cr"
    CRS_GRADE3 = "crs_grade3"
    RELAPSE = "relapse"


_LABELS = {
    CohortMeasure.MRD_NEGATIVE: "MRD-negative",
    CohortMeasure.CR: "CR",
    CohortMeasure.CRS_GRADE3: "CRS grade ≥ 3",
    CohortMeasure.RELAPSE: "Relapse",
}

_TRIAL_MEASURES: dict[CohortMeasure, tuple[Measure, ...]] = {
    CohortMeasure.MRD_NEGATIVE: (Measure.MRD_NEGATIVE,),
    CohortMeasure.CR: (Measure.CR,),
    CohortMeasure.CRS_GRADE3: (Measure.CRS,),
    CohortMeasure.RELAPSE: (Measure.RELAPSE, Measure.CIR),
}


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One proportion: the cohort's or a trial's, with Wilson and exact intervals.

    ``k`` and ``n`` are ``None`` when no denominator is known (the printed percentage
    only); ``denominator_assumed`` is true when ``n`` is the arm or study size.
    """

    measure: CohortMeasure
    label: str
    percent: float | None
    k: int | None
    n: int | None
    wilson: BinomialInterval | None
    exact: BinomialInterval | None
    trial_id: str | None = None
    citation: str | None = None
    source: str | None = None
    denominator_assumed: bool = False
    note: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""

        def bounds(interval: BinomialInterval | None) -> list[float] | None:
            return None if interval is None else [interval.lower, interval.upper]

        return {
            "measure": self.measure.value,
            "label": self.label,
            "trial_id": self.trial_id,
            "percent": None if self.percent is None else round(self.percent, 1),
            "k": self.k,
            "n": self.n,
            "wilson": bounds(self.wilson),
            "exact": bounds(self.exact),
            "denominator_assumed": self.denominator_assumed,
            "citation": self.citation,
            "source": self.source,
            "note": self.note,
        }


class SurvivalEndpoint(StrEnum):
    """The time-to-event end points compared at the trials' horizons."""

    OS = "os"
    EFS = "efs"


SURVIVAL_ORIGIN = TimeZero.BLINATUMOMAB
SURVIVAL_ORIGIN_TEXT = "months from the first blinatumomab infusion"
COHORT_SURVIVAL_LABEL = "registry cohort (from first blinatumomab infusion)"

_SURVIVAL_LABELS = {SurvivalEndpoint.OS: "OS", SurvivalEndpoint.EFS: "EFS"}
_SURVIVAL_MEASURES = {SurvivalEndpoint.OS: Measure.OS, SurvivalEndpoint.EFS: Measure.EFS}


@dataclass(frozen=True, slots=True)
class SurvivalRow:
    """OS or EFS at a horizon: the cohort's Kaplan–Meier estimate or a trial's value.

    ``survival``, ``ci_lower`` and ``ci_upper`` are fractions; for the cohort the interval
    is the pointwise log–log interval (Greenwood variance), ``None`` where not estimable.
    ``status`` is ``"estimated"`` (cohort), ``"not_reached"`` (cohort follow-up ends before
    the horizon; ``note`` says why) or ``"reported"`` (a trial's printed value, no interval).
    """

    endpoint: SurvivalEndpoint
    horizon_months: float
    label: str
    status: str
    survival: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    at_risk: int | None = None
    n: int | None = None
    events: int | None = None
    origin: str | None = None
    trial_id: str | None = None
    citation: str | None = None
    source: str | None = None
    note: str | None = None

    @property
    def percent(self) -> float | None:
        """The value as a percentage (``None`` when not reached)."""
        return None if self.survival is None else 100.0 * self.survival

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        ci = None
        if self.ci_lower is not None and self.ci_upper is not None:
            ci = [self.ci_lower, self.ci_upper]
        return {
            "endpoint": self.endpoint.value,
            "horizon_months": self.horizon_months,
            "label": self.label,
            "trial_id": self.trial_id,
            "status": self.status,
            "percent": None if self.percent is None else round(self.percent, 1),
            "survival": self.survival,
            "ci": ci,
            "ci_method": None if ci is None else "log-log (Greenwood)",
            "at_risk": self.at_risk,
            "n": self.n,
            "events": self.events,
            "origin": self.origin,
            "citation": self.citation,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class EvidenceComparison:
    """The cohort's rows and the trials' rows, measure by measure, with the caution."""

    settings: tuple[Setting, ...]
    population: Population | None
    trial_ids: tuple[str, ...]
    rows: tuple[ComparisonRow, ...]
    definitions: dict[str, str]
    confidence_level: float
    evidence: str
    caution: str = CAUTION
    survival: tuple[SurvivalRow, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``mrdtrack evidence compare --json``)."""
        return {
            "settings": [s.value for s in self.settings],
            "population": None if self.population is None else self.population.value,
            "trials": list(self.trial_ids),
            "confidence_level": self.confidence_level,
            "intervals": ["wilson", "clopper-pearson"],
            "rows": [r.to_dict() for r in self.rows],
            "definitions": dict(self.definitions),
            "evidence": self.evidence,
            "caution": self.caution,
            "survival_origin": SURVIVAL_ORIGIN_TEXT,
            "survival": [r.to_dict() for r in self.survival],
        }


def _intervals(k: int, n: int, level: float) -> tuple[BinomialInterval, BinomialInterval]:
    return (
        binomial_ci(k, n, confidence_level=level),
        binomial_ci(k, n, method=IntervalMethod.CLOPPER_PEARSON, confidence_level=level),
    )


def _cohort_row(measure: CohortMeasure, k: int, n: int, level: float) -> ComparisonRow:
    if n == 0:
        return ComparisonRow(
            measure, "registry cohort", None, k, n, None, None, note="no evaluable patient"
        )
    wilson, exact = _intervals(k, n, level)
    return ComparisonRow(measure, "registry cohort", 100.0 * k / n, k, n, wilson, exact)


def _cohort_rows(
    histories: CohortHistories, patients: CohortPatients, mrd_at: str, level: float
) -> tuple[list[ComparisonRow], dict[str, str]]:
    summary = cohort_summary(histories, patients)
    mrd = mrd_response_rate(histories, mrd_at, confidence_level=level)
    started = ~np.isnan(histories.blinatumomab)
    in_cr_at_start = started & (histories.remission <= histories.blinatumomab)
    not_in_cr = started & ~in_cr_at_start
    reached_cr = not_in_cr & (histories.remission >= histories.blinatumomab)
    n = summary.n_patients
    crs3 = sum(count for grade, count in summary.crs_grade_counts.items() if grade >= 3)
    rows = [
        _cohort_row(CohortMeasure.MRD_NEGATIVE, mrd.n_negative, mrd.n_evaluable, level),
        _cohort_row(CohortMeasure.CR, int(reached_cr.sum()), int(not_in_cr.sum()), level),
        _cohort_row(CohortMeasure.CRS_GRADE3, crs3, n, level),
        _cohort_row(CohortMeasure.RELAPSE, summary.relapses, n, level),
    ]
    definitions = {
        CohortMeasure.MRD_NEGATIVE.value: mrd.definition,
        CohortMeasure.CR.value: "patients with a CR on or after the first blinatumomab "
        "infusion among those not in CR at the first infusion (registry remission date)",
        CohortMeasure.CRS_GRADE3.value: "patients whose worst CRS grade (ASTCT 2019, rule "
        "CRS-01) is ≥ 3, among all patients",
        CohortMeasure.RELAPSE.value: "patients with a relapse recorded as an outcome event "
        "of follow-up, among all patients (crude proportion, not a cumulative incidence)",
    }
    return rows, definitions


def _denominator(trial: Trial, value: TrialValue) -> tuple[int | None, bool]:
    """The stated denominator, else the arm or study size (assumed), else none."""
    if value.n:
        return value.n, False
    if value.arm is not None:
        size = trial.arm_size(value.arm)
        return size, size is not None
    if value.subgroup is None and value.population is None and trial.n:
        return trial.n, True
    return None, False


def _trial_row(
    measure: CohortMeasure, trial: Trial, value: TrialValue, level: float
) -> ComparisonRow | None:
    percent = value.rate_percent
    if percent is None:
        return None
    n, assumed = _denominator(trial, value)
    k = value.k if value.k is not None else None
    if k is None and n:
        k = round(percent * n / 100.0)
    wilson = exact = None
    if k is not None and n:
        wilson, exact = _intervals(k, n, level)
    detail = value.label()
    if measure is CohortMeasure.CRS_GRADE3 and value.grade_min is None:
        detail = ", ".join(p for p in (detail, "grade not stated") if p)
    if value.measure is Measure.CIR:
        detail = ", ".join(p for p in (detail, "cumulative incidence") if p)
    label = trial.name if not detail else f"{trial.name} ({detail})"
    return ComparisonRow(
        measure,
        label,
        percent,
        k,
        n,
        wilson,
        exact,
        trial_id=trial.id,
        citation=trial.citation.short(),
        source=value.source,
        denominator_assumed=assumed,
        note=value.note,
        detail=detail,
    )


def _matches(value: TrialValue, measure: CohortMeasure, population: Population | None) -> bool:
    if value.measure not in _TRIAL_MEASURES[measure]:
        return False
    if measure is CohortMeasure.CRS_GRADE3 and value.grade_min not in (None, 3):
        return False
    if value.arm is not None and "chemotherapy" in value.arm:
        return False  # the comparators' arms are not blinatumomab results
    return population is None or value.population in (None, population)


def cohort_survival_at(
    histories: CohortHistories,
    endpoint: SurvivalEndpoint | str,
    horizon_months: float,
    *,
    confidence_level: float = 0.95,
) -> SurvivalRow:
    """The cohort's Kaplan–Meier OS or EFS at ``horizon_months`` from the first infusion.

    END-01 end point (:func:`~mrdtrack.outcomes.endpoints.derive_endpoint`, time zero the
    first blinatumomab infusion), END-02 estimate (:func:`~mrdtrack.outcomes.kaplan_meier`;
    Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481) with its log–log interval. Never
    extrapolated: when no patient is at risk at the horizon and the curve is still above 0,
    the row is ``"not_reached"`` with the longest follow-up in ``note``.
    """
    chosen = require_choice("endpoint", endpoint, SurvivalEndpoint)
    horizon = require_number("horizon_months", horizon_months, minimum=0.0)
    data = derive_endpoint(histories, Endpoint(chosen.value), origin=SURVIVAL_ORIGIN)
    unreached = SurvivalRow(
        endpoint=chosen,
        horizon_months=horizon,
        label=COHORT_SURVIVAL_LABEL,
        status="not_reached",
        at_risk=0,
        n=data.n,
        events=data.events,
        origin=SURVIVAL_ORIGIN_TEXT,
    )
    if data.n == 0:
        return replace(
            unreached, note="no patient with a first blinatumomab infusion and follow-up"
        )
    km = kaplan_meier(data.time_months, data.event, confidence_level=confidence_level)
    at = km.at([horizon])
    survival = float(at.survival[0])
    at_risk = int(at.at_risk[0])
    if at_risk == 0 and survival > 0.0:
        longest = float(km.timeline[-1])
        return replace(
            unreached,
            note=f"follow-up does not reach {horizon:g} months: the longest is "
            f"{longest:.1f} months and no patient is at risk at the horizon (no "
            "extrapolation)",
        )
    low, high = float(at.ci_lower[0]), float(at.ci_upper[0])
    finite = bool(np.isfinite(low) and np.isfinite(high))
    return replace(
        unreached,
        status="estimated",
        survival=survival,
        ci_lower=low if finite else None,
        ci_upper=high if finite else None,
        at_risk=at_risk,
        note=None if finite else "interval not estimable (survival 0)",
    )


def _survival_values(
    trials: Sequence[Trial], population: Population | None
) -> list[tuple[SurvivalEndpoint, float, Trial, TrialValue]]:
    """The trials' blinatumomab OS/EFS percentages that state a horizon."""
    found = []
    for endpoint, measure in _SURVIVAL_MEASURES.items():
        for trial in trials:
            for value in trial.values:
                if value.measure is not measure or value.horizon_months is None:
                    continue
                if value.rate_percent is None:
                    continue
                if value.arm is not None and "chemotherapy" in value.arm:
                    continue
                if population is not None and value.population not in (None, population):
                    continue
                found.append((endpoint, value.horizon_months, trial, value))
    return found


def _survival_rows(
    histories: CohortHistories,
    trials: Sequence[Trial],
    population: Population | None,
    level: float,
) -> tuple[SurvivalRow, ...]:
    values = _survival_values(trials, population)
    rows: list[SurvivalRow] = []
    order = list(SurvivalEndpoint)
    pairs = sorted({(e, h) for e, h, _, _ in values}, key=lambda p: (order.index(p[0]), p[1]))
    for endpoint, horizon in pairs:
        rows.append(cohort_survival_at(histories, endpoint, horizon, confidence_level=level))
        for e, h, trial, value in values:
            if (e, h) != (endpoint, horizon):
                continue
            detail = ", ".join(p for p in (value.arm, value.subgroup) if p)
            percent = value.rate_percent
            rows.append(
                SurvivalRow(
                    endpoint=endpoint,
                    horizon_months=horizon,
                    label=trial.name if not detail else f"{trial.name} ({detail})",
                    status="reported",
                    survival=None if percent is None else percent / 100.0,
                    n=value.n,
                    trial_id=trial.id,
                    citation=trial.citation.short(),
                    source=value.source,
                    note=value.note,
                )
            )
    return tuple(rows)


def compare_cohort(
    histories: CohortHistories,
    patients: CohortPatients,
    trials: Sequence[Trial],
    *,
    settings: Sequence[Setting] = (),
    population: Population | None = None,
    mrd_at: str = LAST_FOLLOW_UP,
    confidence_level: float = 0.95,
    evidence: str = "",
) -> EvidenceComparison:
    """Compare a cohort with trials (already selected by setting and age group).

    Parameters
    ----------
    histories, patients
        The cohort (:func:`mrdtrack.registry.cohort.read_cohort` gives both).
    trials
        The trials to set beside it, e.g. ``EvidenceBase.select(settings=…, population=…)``.
    settings, population
        Recorded in the result; ``population`` also filters a mixed trial's values.
    mrd_at
        The MRD time point of the cohort's MRD response (``"last"``, ``POST_C1`` …).
    confidence_level
        Coverage of every interval.
    evidence
        The evidence base's label (``"<id>@<version>"``), recorded with the result.
    """
    cohort_rows, definitions = _cohort_rows(histories, patients, mrd_at, confidence_level)
    rows: list[ComparisonRow] = []
    for cohort_row in cohort_rows:
        rows.append(cohort_row)
        for trial in trials:
            for value in trial.values:
                if not _matches(value, cohort_row.measure, population):
                    continue
                row = _trial_row(cohort_row.measure, trial, value, confidence_level)
                if row is not None:
                    rows.append(row)
    definitions["os"] = (
        "overall survival (END-01: death from any cause, censored at last contact), "
        f"Kaplan–Meier estimate, {SURVIVAL_ORIGIN_TEXT}"
    )
    definitions["efs"] = (
        "event-free survival (END-01: relapse, death, second malignancy, induction failure; "
        f"censored at last assessment), Kaplan–Meier estimate, {SURVIVAL_ORIGIN_TEXT}"
    )
    return EvidenceComparison(
        settings=tuple(settings),
        population=population,
        trial_ids=tuple(t.id for t in trials),
        rows=tuple(rows),
        definitions=definitions,
        confidence_level=confidence_level,
        evidence=evidence,
        survival=_survival_rows(histories, trials, population, confidence_level),
    )


def comparison_forest_rows(comparison: EvidenceComparison) -> tuple[ForestRow, ...]:
    """Forest-plot rows (Wilson intervals) of every row with a denominator.

    Cohort rows are drawn filled, published rows open (their ``source`` is the trial id).
    """
    rows = []
    for row in comparison.rows:
        if row.k is None or not row.n:
            continue
        source = None
        if row.trial_id is not None:
            # Short labels keep the plot legible; the table and JSON carry the full ones.
            detail = row.detail if len(row.detail) <= 28 else row.detail[:27] + "…"
            source = ", ".join(p for p in (row.trial_id, detail) if p)
            source += " *" if row.denominator_assumed else ""
        label = _LABELS[row.measure] + (": registry cohort" if source is None else "")
        rows.append(
            rate_row(
                label, row.k, row.n, confidence_level=comparison.confidence_level, source=source
            )
        )
    return tuple(rows)
