"""Log-rank test for two or more groups, stratified, and the log-rank test for trend.

Rule END-02 [D]. At each distinct event time ``t_j`` (pooled over the groups) with ``n_j``
at risk and ``d_j`` events, ``n_gj`` and ``d_gj`` in group ``g``:

``O_g − E_g = Σ_j (d_gj − d_j n_gj / n_j)``,

``V_gh = Σ_j d_j (n_j − d_j) / (n_j − 1) · (n_gj / n_j) (δ_gh − n_hj / n_j)``,

``χ² = (O − E)ᵀ V⁻¹ (O − E)`` over the groups with ``E > 0`` less one, with
``k − 1`` degrees of freedom (Mantel N. Cancer Chemother Rep 1966;50:163-170; Peto R,
Peto J. J R Stat Soc A 1972;135:185-207). Stratified: ``O − E`` and ``V`` are summed over
the strata before the quadratic form. Trend: ``χ²₁ = (sᵀ(O − E))² / (sᵀ V s)`` for
ordered group scores ``s`` (Collett D. Modelling Survival Data in Medical Research,
3rd ed. 2015, §2.6).

R equivalent::

    survdiff(Surv(time, status) ~ group, data = d)             # log-rank
    survdiff(Surv(time, status) ~ group + strata(site), data = d)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number
from mrdtrack.outcomes.basis import LOGRANK, LOGRANK_TREND, EstimatorBasis
from mrdtrack.outcomes.risk_sets import (
    BoolArray,
    FloatArray,
    IntArray,
    LabelCodes,
    as_event_indicator,
    as_labels,
    as_times,
    at_risk_counts,
    event_table,
)

__all__ = ["LogRankResult", "logrank_test", "logrank_trend_test"]


@dataclass(frozen=True, slots=True, eq=False)
class LogRankResult:
    """A log-rank (or trend) test.

    Attributes
    ----------
    statistic, df, p_value
        The chi-square statistic, its degrees of freedom and upper-tail p-value.
    groups
        Group labels, sorted; the arrays below follow this order.
    n
        Observations per group.
    observed, expected
        ``O_g`` and ``E_g`` (summed over strata).
    covariance
        ``V`` (k × k).
    strata
        Stratum labels (empty when unstratified).
    scores
        Group scores of a trend test (empty otherwise).
    basis
        Test, formulas, rule and source.
    """

    statistic: float
    df: int
    p_value: float
    groups: tuple[Hashable, ...]
    n: IntArray
    observed: FloatArray
    expected: FloatArray
    covariance: FloatArray
    strata: tuple[Hashable, ...] = ()
    scores: tuple[float, ...] = ()
    basis: EstimatorBasis = field(default=LOGRANK)


def logrank_test(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    strata: ArrayLike | None = None,
) -> LogRankResult:
    """Log-rank test of equal survival across two or more groups, optionally stratified.

    R: ``survdiff(Surv(time, status) ~ group [+ strata(s)])``; lifelines:
    ``multivariate_logrank_test``; statsmodels: ``survdiff(time, status, group,
    strata=s)``.

    Parameters
    ----------
    time
        Follow-up times, finite and ≥ 0.
    event
        1/True for an event, 0/False for a censoring.
    group
        Group label of each observation (at least two distinct labels).
    strata
        Optional stratum label of each observation.

    Returns
    -------
    LogRankResult
        ``statistic`` ~ χ² with ``df`` = (groups with ``E > 0``) − 1 under equal hazards.

    Examples
    --------
    >>> lr = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 0], ["a", "b", "a", "b", "b", "a"])
    >>> round(lr.statistic, 4), lr.df
    (0.0449, 1)
    """
    sample = _sample(time, event, group, strata)
    observed, expected, covariance = _summed_scores(sample)
    keep = expected > 0
    # As R survdiff: groups that are never at risk at an event time drop out, and the
    # quadratic form uses all remaining groups but one (V has rank k − 1).
    kept = np.flatnonzero(keep)[1:]
    score = (observed - expected)[kept]
    reduced = covariance[np.ix_(kept, kept)]
    statistic = float(score @ _solve(reduced, score)) if kept.size else 0.0
    df = int(kept.size)
    return LogRankResult(
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)) if df else 1.0,
        groups=sample.groups.labels,
        n=np.bincount(sample.groups.codes, minlength=len(sample.groups.labels)),
        observed=observed,
        expected=expected,
        covariance=covariance,
        strata=() if sample.strata is None else sample.strata.labels,
    )


def logrank_trend_test(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    scores: Mapping[Hashable, float] | None = None,
    strata: ArrayLike | None = None,
) -> LogRankResult:
    """Log-rank test for a trend across ordered groups (1 degree of freedom).

    ``χ²₁ = (sᵀ(O − E))² / (sᵀ V s)``; with two groups it equals the log-rank test.

    Parameters
    ----------
    time, event, group, strata
        As :func:`logrank_test`.
    scores
        Score of each group label (e.g. dose levels). Default: the labels themselves,
        which must then be numbers.

    Returns
    -------
    LogRankResult
        With ``df = 1`` and ``scores`` in the order of ``groups``.
    """
    sample = _sample(time, event, group, strata)
    labels = sample.groups.labels
    values = _scores(labels, scores)
    observed, expected, covariance = _summed_scores(sample)
    numerator = float(values @ (observed - expected))
    denominator = float(values @ covariance @ values)
    if denominator <= 0.0:
        raise InputError(
            "scores",
            dict(zip(labels, values.tolist(), strict=True)),
            "scores that differ between groups at risk at some event time",
        )
    statistic = numerator * numerator / denominator
    return LogRankResult(
        statistic=statistic,
        df=1,
        p_value=float(stats.chi2.sf(statistic, 1)),
        groups=labels,
        n=np.bincount(sample.groups.codes, minlength=len(labels)),
        observed=observed,
        expected=expected,
        covariance=covariance,
        strata=() if sample.strata is None else sample.strata.labels,
        scores=tuple(values.tolist()),
        basis=LOGRANK_TREND,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Sample:
    time: FloatArray
    event: BoolArray
    groups: LabelCodes
    strata: LabelCodes | None


def _sample(
    time: ArrayLike, event: ArrayLike, group: ArrayLike, strata: ArrayLike | None
) -> _Sample:
    times = as_times(time)
    flags = as_event_indicator(event, times.size)
    groups = as_labels(group, times.size, field="group")
    if len(groups.labels) < 2:
        raise InputError(
            "group", list(groups.labels), "at least two groups", "a test needs groups to compare"
        )
    if not flags.any():
        raise InputError("event", "no events", "at least one event", "no event, nothing to compare")
    layers = None if strata is None else as_labels(strata, times.size, field="strata")
    return _Sample(time=times, event=flags, groups=groups, strata=layers)


def _summed_scores(sample: _Sample) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``O``, ``E`` and ``V`` summed over the strata."""
    k = len(sample.groups.labels)
    if sample.strata is None:
        return _stratum_scores(sample.time, sample.event, sample.groups.codes, k)
    observed = np.zeros(k)
    expected = np.zeros(k)
    covariance = np.zeros((k, k))
    # One pass per stratum: strata are few (sites, risk groups), rows are many.
    for stratum in range(len(sample.strata.labels)):
        rows = np.flatnonzero(sample.strata.codes == stratum)
        o, e, v = _stratum_scores(
            sample.time[rows], sample.event[rows], sample.groups.codes[rows], k
        )
        observed += o
        expected += e
        covariance += v
    return observed, expected, covariance


def _stratum_scores(
    time: FloatArray, event: BoolArray, codes: IntArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    pooled = event_table(time, event)
    event_rows = np.flatnonzero(pooled.events)
    event_times = pooled.times[event_rows]
    deaths = pooled.events[event_rows].astype(np.float64)
    at_risk = pooled.at_risk[event_rows].astype(np.float64)
    # n_gj per group at the event times, the last group's by (exact, integer) difference.
    shares = np.empty((k, event_rows.size))
    shares[-1] = at_risk
    observed = np.empty(k)
    observed[-1] = deaths.sum()
    for g in range(k - 1):
        member = codes == g
        shares[g] = at_risk_counts(time[member], event_times)
        shares[-1] -= shares[g]
        # Every event happens at an event time: O_g is simply the group's event count.
        observed[g] = float(np.count_nonzero(event[member]))
        observed[-1] -= observed[g]
    shares /= at_risk
    expected = shares @ deaths
    # d (n − d) / (n − 1): 0 when a single subject is at risk (then n = d = 1).
    spread = np.divide(
        deaths * (at_risk - deaths),
        at_risk - 1.0,
        out=np.zeros_like(at_risk),
        where=at_risk > 1.0,
    )
    weighted = shares * spread
    covariance = np.diag(weighted.sum(axis=1)) - weighted @ shares.T
    return observed, expected, covariance


def _solve(matrix: FloatArray, vector: FloatArray) -> FloatArray:
    try:
        solution = np.asarray(np.linalg.solve(matrix, vector), dtype=np.float64)
    except np.linalg.LinAlgError:
        solution = np.asarray(np.linalg.pinv(matrix) @ vector, dtype=np.float64)
    return solution


def _scores(labels: tuple[Hashable, ...], scores: Mapping[Hashable, float] | None) -> FloatArray:
    if scores is None:
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in labels):
            raise InputError(
                "scores",
                None,
                "a score for every group",
                f"the group labels {list(labels)} are not numbers; pass scores={{label: score}}",
            )
        return np.array([float(x) for x in labels])  # type: ignore[arg-type]
    missing = [label for label in labels if label not in scores]
    if missing:
        raise InputError("scores", dict(scores), f"a score for each of the groups {list(labels)}")
    return np.array(
        [require_number(f"scores[{label!r}]", scores[label]) for label in labels],
        dtype=np.float64,
    )
