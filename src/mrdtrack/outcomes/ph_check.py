"""Proportional-hazards check of a Cox fit: scaled Schoenfeld residuals and their tests.

Rule END-02 [D]. For an event ``k`` at time ``t_k`` the Schoenfeld residual is
``s_k = x_k − x̄(t_k)``, ``x̄`` the risk-set mean of the covariates weighted by
``exp(β̂ᵀx)`` (Schoenfeld D. Biometrika 1982;69:239-241); with Efron ties ``x̄`` is the
mean over ``l = 0 … d−1`` of the Efron-reduced risk-set means, as the Cox fit. With ``d``
events and ``V`` the model covariance, the scaled residuals
``s*_k = β̂ + d · V s_k`` estimate ``β(t_k)`` (Grambsch PM, Therneau TM. Biometrika
1994;81:515-526).

With ``g_k`` a transform of the event times (``identity``: ``t``; ``km``:
``1 − Ŝ(t−)``, the left-continuous pooled Kaplan–Meier curve; ``rank``: average ranks of
the event times), centred (``g_k − ḡ``) and ``u = Σ_k g_k s_k``, the Grambsch–Therneau
score tests of a linear trend of ``β_j(t)`` in ``g`` are

``T_j = d (V u)_j² / (V_jj Σ_k g_k²)`` (χ²₁ per covariate),
``T = d uᵀ V u / Σ_k g_k²`` (global, χ² with p df).

These are the approximate tests of Grambsch & Therneau (1994, §4), computed by R
``cox.zph`` up to survival 2.44 and by lifelines ``proportional_hazard_test``. R's
survival ≥ 3.0 replaced them with the exact score test (the full information at each
event time instead of ``V / d``): its statistics differ slightly and are not reproduced
here. lifelines' ``"km"`` transform uses ``Ŝ(t)`` rather than R's ``Ŝ(t−)`` and its
``"rank"`` numbers tied event times consecutively rather than averaging: with those two
differences the numbers agree with lifelines to rounding.

R equivalent (survival < 3.0)::

    fit <- coxph(Surv(time, status) ~ x1 + x2); cox.zph(fit, transform = "km")
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.basis import EstimatorBasis
from mrdtrack.outcomes.cox import CoxFit, Ties, _design
from mrdtrack.outcomes.risk_sets import (
    BoolArray,
    FloatArray,
    as_event_indicator,
    as_labels,
    as_times,
    event_table,
)

__all__ = ["PH_TEST", "PhTest", "TimeTransform", "proportional_hazards_test"]

PH_TEST = EstimatorBasis(
    estimator="Grambsch–Therneau test of proportional hazards (scaled Schoenfeld residuals)",
    formula="s*_k = β̂ + d V s_k; T_j = d (V u)_j² / (V_jj Σ g²), global T = d uᵀVu / Σ g², "
    "u = Σ_k (g_k − ḡ) s_k, g = transformed event time",
    variance="χ²₁ per covariate, χ²_p global (approximate score tests)",
    rule="END-02",
    source="Grambsch PM, Therneau TM. Biometrika 1994;81:515-526; Schoenfeld D. "
    "Biometrika 1982;69:239-241; R: survival::cox.zph (survival < 3.0); lifelines "
    "proportional_hazard_test",
)


class TimeTransform(StrEnum):
    """The scale of time on which a trend of ``β(t)`` is tested."""

    IDENTITY = "identity"
    KM = "km"
    RANK = "rank"


@dataclass(frozen=True, slots=True, eq=False)
class PhTest:
    """Per-covariate and global proportional-hazards tests, with the residuals behind them.

    Attributes
    ----------
    names
        Covariate names, in the order of the arrays.
    statistic, p_value
        ``T_j`` (χ²₁) and its p-value for each covariate.
    global_statistic, global_df, global_p_value
        The global test ``T`` on ``p`` degrees of freedom.
    transform
        The time transform.
    event_times
        The time of each event, ascending (rows of the residual arrays).
    transformed_times
        ``g_k`` (before centring).
    schoenfeld
        ``s_k`` (events × p).
    scaled_schoenfeld
        ``β̂ + d V s_k`` (events × p), R's ``cox.zph(fit)$y``; plot against
        ``transformed_times`` to see ``β(t)``.
    basis
        Test, formulas, rule and source.
    """

    names: tuple[str, ...]
    statistic: FloatArray
    p_value: FloatArray
    global_statistic: float
    global_df: int
    global_p_value: float
    transform: TimeTransform
    event_times: FloatArray
    transformed_times: FloatArray
    schoenfeld: FloatArray
    scaled_schoenfeld: FloatArray
    basis: EstimatorBasis = field(default=PH_TEST)


def proportional_hazards_test(
    fit: CoxFit,
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike,
    *,
    strata: ArrayLike | None = None,
    transform: TimeTransform | str = TimeTransform.KM,
) -> PhTest:
    """Test the proportional-hazards assumption of ``fit`` (Grambsch & Therneau 1994).

    R (survival < 3.0): ``cox.zph(fit, transform = "km")``; lifelines:
    ``proportional_hazard_test(cph, df, time_transform="identity")`` (see the module
    docstring for its ``km`` and ``rank`` conventions).

    Parameters
    ----------
    fit
        A fit from :func:`~mrdtrack.outcomes.cox.cox_ph`.
    time, event, covariates, strata
        The data ``fit`` was fitted to, as given to ``cox_ph``.
    transform
        ``"km"`` (default, as R), ``"identity"`` or ``"rank"``.

    Returns
    -------
    PhTest
    """
    times = as_times(time)
    n = times.size
    flags = as_event_indicator(event, n)
    matrix, _ = _design(covariates, n, fit.names)
    method = _transform(transform)
    if n != fit.n or int(flags.sum()) != fit.events:
        raise InputError(
            "time",
            f"{n} rows with {int(flags.sum())} events",
            f"the data of the fit ({fit.n} rows, {fit.events} events)",
            "pass the same time, event and covariates as to cox_ph",
        )
    stratum = (
        np.zeros(n, dtype=np.int64)
        if strata is None
        else as_labels(strata, n, field="strata").codes
    )
    if (strata is None) != (len(fit.strata) == 0):
        raise InputError("strata", "a mismatch", "the strata given to cox_ph (or none)")
    event_times, residuals = _schoenfeld(times, flags, matrix, stratum, fit.coef, fit.ties)
    g = _transformed(method, times, flags, event_times)
    centred = g - g.mean()
    spread = float(centred @ centred)
    covariance = fit.covariance
    deaths = event_times.size
    u = residuals.T @ centred
    projected = covariance @ u
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = deaths * projected**2 / (np.diag(covariance) * spread)
        global_statistic = float(deaths * (u @ projected) / spread)
    p = matrix.shape[1]
    return PhTest(
        names=fit.names,
        statistic=statistic,
        p_value=stats.chi2.sf(statistic, 1),
        global_statistic=global_statistic,
        global_df=p,
        global_p_value=float(stats.chi2.sf(global_statistic, p)),
        transform=method,
        event_times=event_times,
        transformed_times=g,
        schoenfeld=residuals,
        scaled_schoenfeld=fit.coef + deaths * residuals @ covariance,
    )


def _transform(transform: TimeTransform | str) -> TimeTransform:
    try:
        return TimeTransform(transform)
    except ValueError:
        allowed = ", ".join(t.value for t in TimeTransform)
        raise InputError("transform", transform, f"one of: {allowed}") from None


def _schoenfeld(
    times: FloatArray,
    flags: BoolArray,
    matrix: FloatArray,
    stratum: ArrayLike,
    beta: FloatArray,
    ties: Ties,
) -> tuple[FloatArray, FloatArray]:
    """Event times (ascending) and Schoenfeld residuals, risk sets within strata.

    Rows go in (stratum, descending time) order, so a risk set is a prefix of its
    stratum ending at the last row tied with the event: forward cumulative sums give
    ``Σ w`` and ``Σ w x`` there in one pass.
    """
    codes = np.asarray(stratum, dtype=np.int64)
    order = np.lexsort((-times, codes))
    x = matrix[order] - matrix.mean(axis=0)
    t = times[order]
    s = codes[order]
    eta = x @ beta
    w = np.exp(eta - eta.max())
    weighted = np.column_stack([w, x * w[:, None]])
    new_stratum = np.concatenate(([True], s[1:] != s[:-1]))
    run_ends = np.flatnonzero(np.append((t[1:] != t[:-1]) | new_stratum[1:], True))
    risk = np.empty_like(weighted)
    edges = np.append(np.flatnonzero(new_stratum), t.size)
    for first, stop in itertools.pairwise(edges):
        np.cumsum(weighted[first:stop], axis=0, out=risk[first:stop])
    event_rows = np.flatnonzero(flags[order])
    run_of_row = np.searchsorted(run_ends, np.arange(t.size))
    event_run = run_of_row[event_rows]
    new_tie = np.concatenate(([True], event_run[1:] != event_run[:-1]))
    tie_start = np.flatnonzero(new_tie)
    tie_group = np.cumsum(new_tie) - 1
    tie_size = np.diff(np.append(tie_start, event_rows.size))
    at_events = risk[run_ends[event_run]]
    if ties is Ties.EFRON:
        fraction = (np.arange(event_rows.size) - tie_start[tie_group]) / tie_size[tie_group]
        tied = np.add.reduceat(weighted[event_rows], tie_start, axis=0)
        at_events = at_events - fraction[:, None] * tied[tie_group]
    means = at_events[:, 1:] / at_events[:, :1]
    # Efron: the mean over l = 0 … d−1 of the reduced means, shared by the tied events.
    group_mean = np.add.reduceat(means, tie_start, axis=0) / tie_size[:, None]
    residuals = x[event_rows] - group_mean[tie_group]
    ascending = np.argsort(t[event_rows], kind="stable")
    return t[event_rows][ascending], residuals[ascending]


def _transformed(
    method: TimeTransform, times: FloatArray, flags: BoolArray, event_times: FloatArray
) -> FloatArray:
    if method is TimeTransform.IDENTITY:
        return event_times.copy()
    if method is TimeTransform.RANK:
        return np.asarray(stats.rankdata(event_times), dtype=np.float64)
    table = event_table(times, flags)
    survival = np.cumprod(1.0 - table.events / table.at_risk)
    # Ŝ(t−): the curve just before each event time (1 before the first).
    position = np.searchsorted(table.times, event_times, side="left")
    before = np.concatenate(([1.0], survival))[position]
    return np.asarray(1.0 - before, dtype=np.float64)
