"""Cox proportional-hazards regression: Efron or Breslow ties, Newton–Raphson, strata.

Rule END-02 [D]. The hazard of subject ``i`` is ``h₀(t) exp(βᵀx_i)`` (Cox DR. J R Stat
Soc B 1972;34:187-220). At a time ``t`` with ``d`` tied events ``D`` and risk set ``R``
(within the subject's stratum), with ``w_i = exp(βᵀx_i)``, Efron's approximation
(Efron B. J Am Stat Assoc 1977;72:557-565) contributes

``ℓ_t(β) = Σ_{i∈D} βᵀx_i − Σ_{l=0}^{d−1} log(Σ_R w − (l/d) Σ_D w)``;

Breslow's (Breslow NE. Biometrics 1974;30:89-99) drops the ``(l/d) Σ_D w`` term. The
score and information follow with ``Σ w x`` and ``Σ w x xᵀ`` in place of ``Σ w``.

All risk-set sums come from one sort and suffix cumulative sums over the rows (no loop over
event times); Newton–Raphson starts at ``β = 0``, halves a step that lowers the
log-likelihood (as R's ``coxph``) and stops when the largest step is below ``tolerance``
(relative to ``1 + |β|``). Covariates are centred first (the estimates do not change;
the sums stay well conditioned). Standard errors are the square roots of the diagonal of
the inverse information at ``β̂``; intervals are Wald intervals, ``exp(β ± z·se)`` for
the hazard ratios. The likelihood-ratio and score (log-rank) tests compare with ``β = 0``.

R equivalent::

    fit <- coxph(Surv(time, status) ~ x1 + x2 + strata(site), ties = "efron")
    summary(fit)   # coef, exp(coef), se(coef), z, p, lower/upper .95, LR and score tests
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.outcomes.basis import COX_PH, EstimatorBasis
from mrdtrack.outcomes.confidence import z_value
from mrdtrack.outcomes.risk_sets import (
    BoolArray,
    FloatArray,
    IntArray,
    LabelCodes,
    as_event_indicator,
    as_labels,
    as_times,
)

__all__ = ["CoxFit", "Ties", "cox_ph"]


class Ties(StrEnum):
    """How tied event times enter the partial likelihood."""

    EFRON = "efron"
    BRESLOW = "breslow"


@dataclass(frozen=True, slots=True, eq=False)
class CoxFit:
    """A fitted Cox model; arrays follow the order of ``names``.

    Attributes
    ----------
    names
        Covariate names.
    coef, se, z, p_value
        ``β̂``, its standard error, the Wald ``z = β̂ / se`` and two-sided p-value.
    hazard_ratio, hazard_ratio_ci_lower, hazard_ratio_ci_upper
        ``exp(β̂)`` and ``exp(β̂ ∓ z·se)``.
    coef_ci_lower, coef_ci_upper
        ``β̂ ∓ z·se``.
    covariance
        Inverse information at ``β̂`` (p × p).
    log_likelihood, log_likelihood_null
        Log partial likelihood at ``β̂`` and at ``β = 0``.
    lr_statistic, lr_df, lr_p_value
        Likelihood-ratio test of ``β = 0``.
    score_statistic, score_p_value
        Score (log-rank) test of ``β = 0`` (``lr_df`` degrees of freedom).
    n, events
        Observations and events.
    ties
        Efron or Breslow.
    strata
        Stratum labels (empty when unstratified).
    iterations, converged
        Newton–Raphson iterations used; ``False`` when ``max_iterations`` ran out (the
        estimates may be infinite: e.g. a covariate that separates events perfectly).
    confidence_level
        Coverage of the intervals.
    basis
        Model, formulas, rule and source.
    """

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    z: FloatArray
    p_value: FloatArray
    hazard_ratio: FloatArray
    hazard_ratio_ci_lower: FloatArray
    hazard_ratio_ci_upper: FloatArray
    coef_ci_lower: FloatArray
    coef_ci_upper: FloatArray
    covariance: FloatArray
    log_likelihood: float
    log_likelihood_null: float
    lr_statistic: float
    lr_df: int
    lr_p_value: float
    score_statistic: float
    score_p_value: float
    n: int
    events: int
    ties: Ties
    strata: tuple[Hashable, ...]
    iterations: int
    converged: bool
    confidence_level: float
    basis: EstimatorBasis = field(default=COX_PH)


def cox_ph(
    time: ArrayLike,
    event: ArrayLike,
    covariates: ArrayLike,
    *,
    names: Sequence[str] | None = None,
    ties: Ties | str = Ties.EFRON,
    strata: ArrayLike | None = None,
    confidence_level: float = 0.95,
    max_iterations: int = 50,
    tolerance: float = 1e-9,
) -> CoxFit:
    """Fit a Cox proportional-hazards model by Newton–Raphson.

    R: ``coxph(Surv(time, status) ~ x, ties = "efron")``; lifelines:
    ``CoxPHFitter().fit(df, "time", "status")`` (Efron ties).

    Parameters
    ----------
    time
        Follow-up times, finite and ≥ 0.
    event
        1/True for an event, 0/False for a censoring.
    covariates
        An ``n × p`` array (a 1-D array is one covariate) or a DataFrame, whose column
        names are used. Categorical covariates must be coded as 0/1 columns first.
    names
        Covariate names (default: the DataFrame's columns, else ``x1 … xp``).
    ties
        ``"efron"`` (default, as R and lifelines) or ``"breslow"``.
    strata
        Optional stratum of each row: a separate baseline hazard per stratum.
    confidence_level
        Coverage of the Wald intervals.
    max_iterations, tolerance
        Newton–Raphson limits.

    Returns
    -------
    CoxFit

    Examples
    --------
    >>> fit = cox_ph([5, 8, 9, 12, 13, 18, 23, 27], [1, 1, 1, 1, 0, 1, 1, 0],
    ...              [1, 1, 0, 1, 0, 0, 1, 0], names=["arm"])
    >>> fit.names, fit.converged
    (('arm',), True)
    """
    times = as_times(time)
    n = times.size
    flags = as_event_indicator(event, n)
    matrix, labels = _design(covariates, n, names)
    method = _ties(ties)
    z = z_value(confidence_level)
    iterations_allowed = require_count("max_iterations", max_iterations, minimum=1)
    step_tolerance = require_number("tolerance", tolerance, minimum=0.0, min_inclusive=False)
    if not flags.any():
        raise InputError("event", "no events", "at least one event", "a Cox model needs events")
    layers = None if strata is None else as_labels(strata, n, field="strata")

    problem = _Problem.build(times, flags, matrix, layers, method)
    p = matrix.shape[1]
    beta = np.zeros(p)
    state = problem.evaluate(beta)
    null = state
    try:
        score_step = np.linalg.solve(null.information, null.gradient)
    except np.linalg.LinAlgError:
        raise InputError(
            "covariates",
            list(labels),
            "linearly independent covariates",
            "drop a covariate that is a combination of others (or a reference category)",
        ) from None
    iterations = 0
    converged = False
    while iterations < iterations_allowed:
        iterations += 1
        try:
            step = np.linalg.solve(state.information, state.gradient)
        except np.linalg.LinAlgError:
            break
        candidate = problem.evaluate(beta + step)
        halvings = 0
        # Step halving, as R's coxph: a Newton step must not lower the log-likelihood.
        while not candidate.log_likelihood >= state.log_likelihood - 1e-12 * abs(
            state.log_likelihood
        ):
            if halvings == 40:
                break
            step /= 2.0
            halvings += 1
            candidate = problem.evaluate(beta + step)
        beta = beta + step
        state = candidate
        if np.max(np.abs(step)) <= step_tolerance * (1.0 + np.max(np.abs(beta))):
            converged = True
            break

    covariance: FloatArray
    try:
        covariance = np.linalg.inv(state.information).astype(np.float64)
    except np.linalg.LinAlgError:
        covariance = np.full((p, p), np.nan)
    se = np.sqrt(np.diag(covariance))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wald = beta / se
        lower = beta - z * se
        upper = beta + z * se
        hazard_ratio = np.exp(beta)
        hr_lower = np.exp(lower)
        hr_upper = np.exp(upper)
    lr_statistic = max(2.0 * (state.log_likelihood - null.log_likelihood), 0.0)
    score_statistic = float(null.gradient @ score_step)
    return CoxFit(
        names=labels,
        coef=beta,
        se=se,
        z=wald,
        p_value=2.0 * stats.norm.sf(np.abs(wald)),
        hazard_ratio=hazard_ratio,
        hazard_ratio_ci_lower=hr_lower,
        hazard_ratio_ci_upper=hr_upper,
        coef_ci_lower=lower,
        coef_ci_upper=upper,
        covariance=covariance,
        log_likelihood=state.log_likelihood,
        log_likelihood_null=null.log_likelihood,
        lr_statistic=lr_statistic,
        lr_df=p,
        lr_p_value=float(stats.chi2.sf(lr_statistic, p)),
        score_statistic=score_statistic,
        score_p_value=float(stats.chi2.sf(score_statistic, p)),
        n=n,
        events=int(flags.sum()),
        ties=method,
        strata=() if layers is None else layers.labels,
        iterations=iterations,
        converged=converged,
        confidence_level=float(confidence_level),
    )


@dataclass(frozen=True, slots=True)
class _State:
    log_likelihood: float
    gradient: FloatArray
    information: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class _Problem:
    """The β-independent part: rows in (stratum, descending time) order, risk-set ends.

    In that order the risk set of an event is a prefix of its stratum (up to the last row
    tied with it), so every risk-set sum is a forward cumulative sum read at that row.
    """

    x: FloatArray  # centred covariates, rows in (stratum, descending time) order
    segments: tuple[tuple[int, int], ...]  # row ranges of the strata
    event_rows: IntArray  # rows of the events
    risk_end: IntArray  # per event: last row of its risk set
    tie_start: IntArray  # per tied group: its first position among the events
    tie_group: IntArray  # per event: its tied group
    efron_fraction: FloatArray  # per event: l / d (0 for Breslow)
    event_x_sum: FloatArray  # Σ over events of x

    @staticmethod
    def build(
        time: FloatArray,
        event: BoolArray,
        matrix: FloatArray,
        layers: LabelCodes | None,
        ties: Ties,
    ) -> _Problem:
        n = time.size
        stratum = np.zeros(n, dtype=np.int64) if layers is None else layers.codes
        order = np.argsort(-time) if layers is None else np.lexsort((-time, stratum))
        x = matrix[order]
        x -= matrix.mean(axis=0)
        sorted_time = time[order]
        sorted_stratum = stratum[order]
        new_stratum = sorted_stratum[1:] != sorted_stratum[:-1]
        run_ends_here = np.append((sorted_time[1:] != sorted_time[:-1]) | new_stratum, True)
        run_end = np.flatnonzero(run_ends_here)
        run_of_row = np.concatenate(([0], np.cumsum(run_ends_here[:-1])))
        stratum_edges = np.concatenate(([0], np.flatnonzero(new_stratum) + 1, [n]))
        segments = tuple((int(a), int(b)) for a, b in itertools.pairwise(stratum_edges))
        event_rows = np.flatnonzero(event[order])
        event_run = run_of_row[event_rows]
        new_tie = np.concatenate(([True], event_run[1:] != event_run[:-1]))
        tie_start = np.flatnonzero(new_tie)
        tie_group = np.cumsum(new_tie) - 1
        tie_size = np.diff(np.append(tie_start, event_rows.size))
        rank_in_tie = np.arange(event_rows.size) - tie_start[tie_group]
        fraction = (
            rank_in_tie / tie_size[tie_group] if ties is Ties.EFRON else np.zeros(event_rows.size)
        )
        return _Problem(
            x=x,
            segments=segments,
            event_rows=event_rows,
            risk_end=run_end[event_run],
            tie_start=tie_start,
            tie_group=tie_group,
            efron_fraction=fraction,
            event_x_sum=x[event_rows].sum(axis=0),
        )

    def evaluate(self, beta: FloatArray) -> _State:
        """Log partial likelihood, score and information at ``beta``.

        With ``φ_e`` the (Efron-reduced) risk-set sum of ``w`` for event ``e`` and ``m_e``
        its weighted covariate mean, the information is
        ``Σ_i w_i c_i x_i x_iᵀ − Σ_ties h_g Σ_{i∈g} w_i x_i x_iᵀ − Σ_e m_e m_eᵀ`` with
        ``c_i = Σ_{e: i ∈ R_e} 1/φ_e`` and ``h_g = Σ_{e∈g} f_e/φ_e``: two weighted
        ``XᵀX`` products instead of a p × p sum per event.
        """
        x = self.x
        eta = x @ beta
        shift = float(eta.max())
        # w = exp(η − max η): the shift cancels in every ratio and is added back below.
        w = np.exp(eta - shift)
        weighted = np.empty((x.shape[0], 1 + beta.size))
        weighted[:, 0] = w
        np.multiply(x, w[:, None], out=weighted[:, 1:])
        risk = np.empty_like(weighted)
        for first, stop in self.segments:
            np.cumsum(weighted[first:stop], axis=0, out=risk[first:stop])
        at_events = risk[self.risk_end]
        efron = bool(self.efron_fraction.any())
        if efron:
            tied = np.add.reduceat(weighted[self.event_rows], self.tie_start, axis=0)
            at_events -= self.efron_fraction[:, None] * tied[self.tie_group]
        denominator = at_events[:, 0]
        inverse = 1.0 / denominator
        mean = at_events[:, 1:] * inverse[:, None]
        log_likelihood = float((eta[self.event_rows] - shift).sum() - np.log(denominator).sum())
        gradient = self.event_x_sum - mean.sum(axis=0)

        per_row = np.bincount(self.risk_end, weights=inverse, minlength=x.shape[0])
        for first, stop in self.segments:
            # c_i sums 1/φ_e over the events whose risk set reaches down to row i.
            per_row[first:stop] = np.cumsum(per_row[first:stop][::-1])[::-1]
        per_row *= w
        information = (x * per_row[:, None]).T @ x
        if efron:
            by_tie = np.bincount(
                self.tie_group, weights=self.efron_fraction * inverse, minlength=tied.shape[0]
            )
            event_x = x[self.event_rows]
            scale = w[self.event_rows] * by_tie[self.tie_group]
            information -= (event_x * scale[:, None]).T @ event_x
        information -= mean.T @ mean
        return _State(log_likelihood, gradient, information)


def _ties(ties: Ties | str) -> Ties:
    try:
        return Ties(ties)
    except ValueError:
        raise InputError("ties", ties, "one of: efron, breslow") from None


def _design(
    covariates: ArrayLike, n: int, names: Sequence[str] | None
) -> tuple[FloatArray, tuple[str, ...]]:
    columns = getattr(covariates, "columns", None)
    try:
        matrix = np.asarray(covariates, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "covariates", "non-numeric values", "numbers (code categories as 0/1 columns)"
        ) from None
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] == 0:
        raise InputError(
            "covariates", f"an array of shape {matrix.shape}", f"an array of {n} rows × p ≥ 1"
        )
    p = matrix.shape[1]
    if names is not None:
        labels = tuple(str(name) for name in names)
    elif columns is not None:
        labels = tuple(str(name) for name in columns)
    else:
        labels = tuple(f"x{j + 1}" for j in range(p))
    if len(labels) != p:
        raise InputError("names", list(labels), f"{p} names, one per covariate column")
    finite = np.isfinite(matrix)
    if not finite.all():
        row, column = (int(v) for v in np.argwhere(~finite)[0])
        raise InputError(
            f"covariates[{row}, {labels[column]!r}]",
            float(matrix[row, column]),
            "a finite number",
            "impute or drop rows with missing covariates first",
        )
    constant = np.flatnonzero(np.ptp(matrix, axis=0) == 0)
    if constant.size:
        raise InputError(
            f"covariates[{labels[int(constant[0])]!r}]",
            "the same value in every row",
            "a covariate that varies",
            "drop it: its effect cannot be estimated",
        )
    return matrix, labels
