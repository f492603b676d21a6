"""Kaplan–Meier survival with Greenwood variance, pointwise CIs, median and milestones.

Rule END-02 (domain rules §11.3) [D]:

``S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)``
(Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481),

``Var S(t) = S(t)² Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i))``
(Greenwood M. Reports on Public Health and Medical Subjects 33, 1926).

The median (any quantile) is the smallest time with ``S(t) ≤ 0.5`` — the lower-bound
convention of END-02, as lifelines; R reports the midpoint where the curve is exactly 0.5
over an interval. Its confidence limits are the first times at which the lower and the
upper pointwise band reach 0.5 (Brookmeyer R, Crowley J. Biometrics 1982;38:29-41, in the
band-inversion form of R ``print.survfit`` and lifelines ``median_survival_times``);
"not reached" is ``None``.

R equivalent::

    fit <- survfit(Surv(time, status) ~ 1, conf.type = "log-log")
    summary(fit, times = c(12, 24)); quantile(fit, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mrdtrack.inputs import require_number
from mrdtrack.outcomes.basis import KAPLAN_MEIER, EstimatorBasis
from mrdtrack.outcomes.confidence import CiMethod, as_ci_method, pointwise_interval, z_value
from mrdtrack.outcomes.risk_sets import EventTable, as_event_indicator, as_times, event_table

__all__ = ["KaplanMeier", "Milestones", "TimeEstimate", "kaplan_meier"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Rounding in a product of factors must not move an exact 0.5 above 0.5
# (R's quantile.survfit uses a tolerance of the same kind).
_QUANTILE_TOLERANCE = 1e-10


@dataclass(frozen=True, slots=True)
class TimeEstimate:
    """The time at which a survival curve first reaches ``level`` (``None``: not reached).

    ``ci_lower`` / ``ci_upper`` are where the lower / upper pointwise band first reach it.
    """

    level: float
    time: float | None
    ci_lower: float | None
    ci_upper: float | None


@dataclass(frozen=True, slots=True, eq=False)
class Milestones:
    """Survival and risk-table counts at chosen times.

    Attributes
    ----------
    times
        The requested times.
    survival, std_error, ci_lower, ci_upper
        ``S(t*)`` and its interval (1 with ``[1, 1]`` before the first observed time).
    at_risk
        Observations with ``T ≥ t*`` (the numbers printed under a survival plot).
    events, censored
        Cumulative events and censorings with ``T ≤ t*``.
    """

    times: FloatArray
    survival: FloatArray
    std_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    at_risk: IntArray
    events: IntArray
    censored: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class KaplanMeier:
    """A Kaplan–Meier estimate; one entry per distinct observed (event or censoring) time.

    Attributes
    ----------
    timeline
        Distinct observed times, ascending.
    n_at_risk, n_events, n_censored
        ``n_j``, ``d_j``, ``c_j`` at each time.
    survival
        ``S(t_j)``.
    std_error
        Square root of the Greenwood variance of ``S(t_j)`` (NaN where ``S`` reaches 0);
        ``variance`` is its square.
    ci_lower, ci_upper
        Pointwise limits (``ci_method``, ``confidence_level``); NaN where ``S`` is 0.
    n, events
        Observations and events in total.
    median
        Smallest time with ``S(t) ≤ 0.5``; ``None`` when not reached.
    median_ci_lower, median_ci_upper
        Its confidence limits; ``None`` when a band does not reach 0.5.
    basis
        Estimator, formulas, rule and source.
    """

    timeline: FloatArray
    n_at_risk: IntArray
    n_events: IntArray
    n_censored: IntArray
    survival: FloatArray
    std_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    ci_method: CiMethod
    confidence_level: float
    n: int
    events: int
    median: float | None
    median_ci_lower: float | None
    median_ci_upper: float | None
    basis: EstimatorBasis = field(default=KAPLAN_MEIER)

    @property
    def variance(self) -> FloatArray:
        """Greenwood variance of ``S(t_j)``."""
        return np.square(self.std_error)

    def time_at_survival(self, level: float) -> TimeEstimate:
        """Smallest time with ``S(t) ≤ level``, with its band-inversion limits.

        ``level=0.5`` gives the median, ``0.75`` the first quartile of the event times.
        """
        target = require_number(
            "level", level, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False
        )
        return _time_at(self.timeline, self.survival, self.ci_lower, self.ci_upper, target)

    def at(self, times: ArrayLike) -> Milestones:
        """Milestone estimates ``S(t*)`` with CIs and risk-table counts at ``times``."""
        query = as_times(times, field="times")
        index = np.searchsorted(self.timeline, query, side="right") - 1
        before = index < 0
        safe = np.where(before, 0, index)

        def pick(values: FloatArray, fill: float) -> FloatArray:
            return np.where(before, fill, values[safe])

        first_not_before = np.searchsorted(self.timeline, query, side="left")
        at_risk_padded = np.append(self.n_at_risk, 0)
        events = np.cumsum(self.n_events)
        censored = np.cumsum(self.n_censored)
        return Milestones(
            times=query,
            survival=pick(self.survival, 1.0),
            std_error=pick(self.std_error, 0.0),
            ci_lower=pick(self.ci_lower, 1.0),
            ci_upper=pick(self.ci_upper, 1.0),
            at_risk=at_risk_padded[first_not_before],
            events=np.where(before, 0, events[safe]),
            censored=np.where(before, 0, censored[safe]),
        )


def kaplan_meier(
    time: ArrayLike,
    event: ArrayLike,
    *,
    confidence_level: float = 0.95,
    ci_method: CiMethod | str = CiMethod.LOG_LOG,
) -> KaplanMeier:
    """Kaplan–Meier estimate of the survival function (rule END-02).

    ``S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)`` with Greenwood variance
    ``S(t)² Σ d_i / (n_i (n_i − d_i))``. R: ``survfit(Surv(time, status) ~ 1,
    conf.type = "log-log")``; lifelines: ``KaplanMeierFitter().fit(time, status)``.

    Parameters
    ----------
    time
        Follow-up times, finite and ≥ 0 (any unit; the result uses the same).
    event
        1/True where the event was observed, 0/False where the time is a censoring.
    confidence_level
        Coverage of the pointwise intervals and of the median's limits.
    ci_method
        ``"log-log"`` (default), ``"log"`` or ``"plain"``.

    Returns
    -------
    KaplanMeier

    Examples
    --------
    Relapse-free survival of the END-02 worked dataset (months from CR):

    >>> km = kaplan_meier([6, 10, 12, 15, 20, 24, 28, 36], [1, 1, 0, 1, 0, 1, 0, 0])
    >>> [round(float(s), 3) for s in km.survival[km.n_events > 0]]
    [0.875, 0.75, 0.6, 0.4]
    >>> km.median
    24.0
    """
    times = as_times(time)
    flags = as_event_indicator(event, times.size)
    method = as_ci_method(ci_method)
    z = z_value(confidence_level)
    return from_event_table(event_table(times, flags), z, method, float(confidence_level))


def from_event_table(
    table: EventTable, z: float, method: CiMethod, confidence_level: float
) -> KaplanMeier:
    """The Kaplan–Meier estimate from an :class:`EventTable` (for reuse by sibling modules)."""
    at_risk = table.at_risk
    deaths = table.events
    # In-place arithmetic on two buffers: at a million distinct times, fresh temporaries
    # (page faults) would cost more than the arithmetic.
    survival = np.divide(deaths, at_risk)
    np.subtract(1.0, survival, out=survival)
    np.cumprod(survival, out=survival)
    std_error = np.subtract(at_risk, deaths, dtype=np.float64)
    std_error *= at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        # n_j = d_j only at the last time, where S drops to 0: the sum is infinite there.
        np.divide(deaths, std_error, out=std_error)
        np.cumsum(std_error, out=std_error)
        np.sqrt(std_error, out=std_error)
        std_error *= survival
    lower, upper = pointwise_interval(survival, std_error, z, method)
    median = _time_at(table.times, survival, lower, upper, 0.5)
    return KaplanMeier(
        timeline=table.times,
        n_at_risk=table.at_risk,
        n_events=table.events,
        n_censored=table.censored,
        survival=survival,
        std_error=std_error,
        ci_lower=lower,
        ci_upper=upper,
        ci_method=method,
        confidence_level=confidence_level,
        n=table.n,
        events=int(deaths.sum()),
        median=median.time,
        median_ci_lower=median.ci_lower,
        median_ci_upper=median.ci_upper,
    )


def _first_time_at_or_below(timeline: FloatArray, curve: FloatArray, level: float) -> float | None:
    reached = curve <= level + _QUANTILE_TOLERANCE
    position = int(np.argmax(reached))
    return float(timeline[position]) if reached[position] else None


def _time_at(
    timeline: FloatArray,
    survival: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    level: float,
) -> TimeEstimate:
    return TimeEstimate(
        level=level,
        time=_first_time_at_or_below(timeline, survival, level),
        ci_lower=_first_time_at_or_below(timeline, lower, level),
        ci_upper=_first_time_at_or_below(timeline, upper, level),
    )
