"""Median follow-up by the reverse Kaplan–Meier method.

Rule END-02 (domain rules §11.3): swap the indicator — alive/censored becomes the
"event", the end-point event (death, for OS) becomes a censoring — and take the median of
that Kaplan–Meier curve: the follow-up that would have been observed had nobody died
(Schemper M, Smith TL. Control Clin Trials 1996;17:343-346 [U: citation not retrieved]).
The median of all observed times is not a follow-up estimate (deaths shorten it,
END-02-f); it is returned only to show the difference.

R equivalent::

    survfit(Surv(time, 1 - status) ~ 1)   # print() shows the median and its CI
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from mrdtrack.outcomes.basis import REVERSE_KAPLAN_MEIER, EstimatorBasis
from mrdtrack.outcomes.confidence import CiMethod
from mrdtrack.outcomes.kaplan_meier import KaplanMeier, kaplan_meier
from mrdtrack.outcomes.risk_sets import as_event_indicator, as_times

__all__ = ["FollowUp", "median_follow_up"]


@dataclass(frozen=True, slots=True, eq=False)
class FollowUp:
    """Median follow-up of a cohort.

    Attributes
    ----------
    median
        Median of the reverse Kaplan–Meier curve; ``None`` if it never reaches 0.5 (more
        than half of the cohort had the event before any censoring).
    ci_lower, ci_upper
        Band-inversion limits of the median (``None`` when not reached).
    minimum, maximum
        Range of the observed times (all patients).
    median_observed_time
        The naive median of all observed times — for comparison only, never to report
        as follow-up (END-02-f).
    n
        Patients.
    method
        In words, for the report.
    reverse_km
        The reverse Kaplan–Meier curve itself.
    basis
        Estimator, rule, source and the unconfirmed citation.
    """

    median: float | None
    ci_lower: float | None
    ci_upper: float | None
    minimum: float
    maximum: float
    median_observed_time: float
    n: int
    method: str
    reverse_km: KaplanMeier
    basis: EstimatorBasis = field(default=REVERSE_KAPLAN_MEIER)


def median_follow_up(
    time: ArrayLike,
    event: ArrayLike,
    *,
    confidence_level: float = 0.95,
    ci_method: CiMethod | str = CiMethod.LOG_LOG,
) -> FollowUp:
    """Median follow-up by reverse Kaplan–Meier (Schemper & Smith 1996 [U]).

    Parameters
    ----------
    time
        Time from the end point's time zero to the event or last contact.
    event
        1/True where the end-point event (death, for OS) ended follow-up, 0/False where
        the patient was censored (alive at last contact).
    confidence_level, ci_method
        As :func:`~mrdtrack.outcomes.kaplan_meier.kaplan_meier`.

    Returns
    -------
    FollowUp

    Examples
    --------
    OS follow-up of the END-02 worked dataset (END-02-e, END-02-f):

    >>> fu = median_follow_up([18, 10, 12, 40, 20, 30, 28, 36], [0, 1, 0, 0, 0, 1, 0, 0])
    >>> fu.median, fu.median_observed_time
    (28.0, 24.0)
    """
    times = as_times(time)
    died = as_event_indicator(event, times.size)
    reverse = kaplan_meier(times, ~died, confidence_level=confidence_level, ci_method=ci_method)
    return FollowUp(
        median=reverse.median,
        ci_lower=reverse.median_ci_lower,
        ci_upper=reverse.median_ci_upper,
        minimum=float(times.min()),
        maximum=float(times.max()),
        median_observed_time=float(np.median(times)),
        n=times.size,
        method="reverse Kaplan–Meier (Schemper & Smith 1996)",
        reverse_km=reverse,
    )
