"""Cumulative incidence of one cause among competing causes (Aalen–Johansen), with variance.

Rule END-02 [D] (domain rules §11.3): for cause ``k`` with competing causes,

``F_k(t) = Σ_{t_i ≤ t} S(t_{i−1}) · d_{k,i} / n_i``,

where ``S`` is the all-cause (event-free) Kaplan–Meier curve, ``n_i`` the number at risk
and ``d_{k,i}`` the cause-``k`` events at ``t_i`` (Aalen OO, Johansen S. Scand J Stat
1978;5:141-150). Thus ``Σ_k F_k(t) + S(t) = 1`` at every ``t``. ``1 − KM`` with competing
events treated as censored overestimates it and must not be used (END-02-c).

Variance — the delta-method (Greenwood-type) estimator of Marubini & Valsecchi (Analysing
Survival Data from Clinical Trials, Wiley 1995; Collett D., Modelling Survival Data in
Medical Research, 3rd ed. 2015, p. 411), with ``d_i`` the all-cause events:

``Var F_k(t) = Σ_{t_i ≤ t} (F_k(t) − F_k(t_i))² d_i / (n_i (n_i − d_i))
+ Σ_{t_i ≤ t} S(t_{i−1})² d_{k,i} (n_i − d_{k,i}) / n_i³
− 2 Σ_{t_i ≤ t} (F_k(t) − F_k(t_i)) S(t_{i−1}) d_{k,i} / n_i²``.

It is the variance of SAS PROC LIFETEST, lifelines ``AalenJohansenFitter`` and statsmodels
``CumIncidenceRight``, and is computed here in O(m) by expanding the squares into
cumulative sums. Where everyone left at risk fails (``n_i = d_i``) the first sum's term is
taken as its limit 0 (``F_k`` cannot move after ``S`` reaches 0); the references return
NaN there. R's ``cmprsk::cuminc`` uses a different (counting-process) variance and
``survival::survfit`` with a multi-state outcome the infinitesimal jackknife; their
standard errors differ slightly from these.

R equivalent (point estimates)::

    library(cmprsk); cuminc(ftime = time, fstatus = cause, cencode = 0)
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from mrdtrack.errors import InputError
from mrdtrack.outcomes.basis import AALEN_JOHANSEN, EstimatorBasis
from mrdtrack.outcomes.confidence import CiMethod, as_ci_method, pointwise_interval, z_value
from mrdtrack.outcomes.risk_sets import FloatArray, IntArray, as_times, event_table

__all__ = ["CumulativeIncidence", "IncidenceMilestones", "cumulative_incidence"]


@dataclass(frozen=True, slots=True, eq=False)
class IncidenceMilestones:
    """Cumulative incidence at chosen times (0 with ``[0, 0]`` before the first time)."""

    times: FloatArray
    cif: FloatArray
    std_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class CumulativeIncidence:
    """An Aalen–Johansen cumulative incidence curve; one entry per distinct observed time.

    Attributes
    ----------
    timeline
        Distinct observed times, ascending.
    n_at_risk
        ``n_i``.
    n_events, n_competing, n_censored
        Cause-of-interest events, competing events and censorings at each time.
    cif
        ``F_k(t_i)``.
    std_error
        Square root of the delta-method variance; ``variance`` is its square.
    ci_lower, ci_upper
        Pointwise limits (``ci_method``, ``confidence_level``).
    event_free_survival
        The all-cause Kaplan–Meier ``S(t_i)`` (``Σ_k F_k + S = 1``).
    cause_of_interest, competing_causes
        The cause estimated and the other (non-censoring) codes found in the data.
    n, events, competing_events
        Observations, cause-of-interest events and competing events in total.
    basis
        Estimator, formulas, rule and source.
    """

    timeline: FloatArray
    n_at_risk: IntArray
    n_events: IntArray
    n_competing: IntArray
    n_censored: IntArray
    cif: FloatArray
    std_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    event_free_survival: FloatArray
    cause_of_interest: Hashable
    competing_causes: tuple[Hashable, ...]
    ci_method: CiMethod
    confidence_level: float
    n: int
    events: int
    competing_events: int
    basis: EstimatorBasis = field(default=AALEN_JOHANSEN)

    @property
    def variance(self) -> FloatArray:
        """Delta-method variance of ``F_k(t_i)``."""
        return np.square(self.std_error)

    def at(self, times: ArrayLike) -> IncidenceMilestones:
        """``F_k(t*)`` with its interval at chosen times (e.g. CIR at 24 months)."""
        query = as_times(times, field="times")
        index = np.searchsorted(self.timeline, query, side="right") - 1
        before = index < 0
        safe = np.where(before, 0, index)
        return IncidenceMilestones(
            times=query,
            cif=np.where(before, 0.0, self.cif[safe]),
            std_error=np.where(before, 0.0, self.std_error[safe]),
            ci_lower=np.where(before, 0.0, self.ci_lower[safe]),
            ci_upper=np.where(before, 0.0, self.ci_upper[safe]),
        )


def cumulative_incidence(
    time: ArrayLike,
    cause: ArrayLike,
    cause_of_interest: Hashable = 1,
    *,
    censor_code: Hashable = 0,
    confidence_level: float = 0.95,
    ci_method: CiMethod | str = CiMethod.LOG_LOG,
) -> CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of one cause, with delta-method variance.

    ``F_k(t) = Σ_{t_i ≤ t} S(t_{i−1}) d_{k,i} / n_i``. lifelines:
    ``AalenJohansenFitter().fit(time, cause, event_of_interest=k)`` (which jitters tied
    times; this does not need to); statsmodels: ``CumIncidenceRight(time, cause)``.

    Parameters
    ----------
    time
        Follow-up times, finite and ≥ 0.
    cause
        The cause code of each observation: ``censor_code`` for a censoring, any other
        code for the event that ended follow-up (e.g. 1 relapse, 2 death in remission).
    cause_of_interest
        The code whose incidence is estimated; every other non-censoring code competes.
    censor_code
        The code of a censored observation (default 0).
    confidence_level
        Coverage of the pointwise intervals.
    ci_method
        ``"log-log"`` (default; on ``log(−log F)``, as lifelines), ``"log"`` or ``"plain"``.

    Returns
    -------
    CumulativeIncidence

    Examples
    --------
    Cumulative incidence of relapse (1) with death in CR (2) competing, END-02-b:

    >>> cir = cumulative_incidence(
    ...     [6, 10, 12, 15, 20, 24, 28, 36], [1, 2, 0, 1, 0, 1, 0, 0], cause_of_interest=1
    ... )
    >>> round(float(cir.cif[-1]), 3)
    0.475
    """
    times = as_times(time)
    codes = np.asarray(cause)
    if codes.shape != times.shape:
        raise InputError("cause", f"an array of shape {codes.shape}", f"shape {times.shape}")
    if codes.dtype.kind == "f" and np.isnan(codes).any():
        position = int(np.flatnonzero(np.isnan(codes))[0])
        raise InputError(f"cause[{position}]", None, "a cause code or the censoring code")
    if cause_of_interest == censor_code:
        raise InputError(
            "cause_of_interest",
            cause_of_interest,
            f"a code other than the censoring code {censor_code!r}",
        )
    censored = codes == censor_code
    interest = codes == cause_of_interest
    method = as_ci_method(ci_method)
    z = z_value(confidence_level)
    competing = ~(censored | interest)
    competing_causes = tuple(
        value.item() if isinstance(value, np.generic) else value
        for value in np.unique(codes[competing])
    )

    all_causes = event_table(times, ~censored)
    of_interest = event_table(times, interest)
    at_risk = all_causes.at_risk.astype(np.float64)
    deaths = all_causes.events.astype(np.float64)
    cause_deaths = of_interest.events.astype(np.float64)

    with np.errstate(divide="ignore", invalid="ignore"):
        survival: FloatArray = np.cumprod(1.0 - deaths / at_risk, dtype=np.float64)
        survival_before = np.concatenate(([1.0], survival[:-1]))
        cif = np.cumsum(survival_before * cause_deaths / at_risk)
        # Σ a_i (F − F_i)² = F² Σ a − 2F Σ a F_i + Σ a F_i²; a_i = 0 where n_i = d_i (the
        # factor F − F_i is 0 for every later t, so the term's limit is 0).
        everyone_fails = at_risk == deaths
        greenwood = np.where(everyone_fails, 0.0, deaths / (at_risk * (at_risk - deaths)))
        own = np.cumsum(survival_before**2 * cause_deaths * (at_risk - cause_deaths) / at_risk**3)
        cross = survival_before * cause_deaths / at_risk**2
    variance = (
        cif**2 * np.cumsum(greenwood)
        - 2.0 * cif * np.cumsum(greenwood * cif)
        + np.cumsum(greenwood * cif**2)
        + own
        - 2.0 * (cif * np.cumsum(cross) - np.cumsum(cross * cif))
    )
    # The expanded sums can leave −1e-17 where the variance is 0.
    std_error = np.sqrt(np.maximum(variance, 0.0))
    lower, upper = pointwise_interval(cif, std_error, z, method)
    return CumulativeIncidence(
        timeline=all_causes.times,
        n_at_risk=all_causes.at_risk,
        n_events=of_interest.events,
        n_competing=all_causes.events - of_interest.events,
        n_censored=all_causes.censored,
        cif=cif,
        std_error=std_error,
        ci_lower=lower,
        ci_upper=upper,
        event_free_survival=survival,
        cause_of_interest=cause_of_interest,
        competing_causes=competing_causes,
        ci_method=method,
        confidence_level=float(confidence_level),
        n=all_causes.n,
        events=int(of_interest.events.sum()),
        competing_events=int(all_causes.events.sum() - of_interest.events.sum()),
    )
