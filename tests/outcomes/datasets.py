"""Reference data sets for the survival tests: the END-02 worked cohort, R's ``aml``, and
seeded synthetic cohorts with ties, censoring and competing causes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class End02:
    """Domain rules §11.3 worked dataset (months from CR), patients P1…P8."""

    time: FloatArray
    rfs_event: IntArray  # relapse or death in CR
    cause: IntArray  # 0 censored, 1 relapse, 2 death in CR
    os_time: FloatArray
    os_event: IntArray  # death


END02 = End02(
    time=np.array([6.0, 10, 12, 15, 20, 24, 28, 36]),
    rfs_event=np.array([1, 1, 0, 1, 0, 1, 0, 0]),
    cause=np.array([1, 2, 0, 1, 0, 1, 0, 0]),
    os_time=np.array([18.0, 10, 12, 40, 20, 30, 28, 36]),
    os_event=np.array([0, 1, 0, 0, 0, 1, 0, 0]),
)


@dataclass(frozen=True)
class Aml:
    """R ``survival::aml`` (Miller 1981; maintenance chemotherapy for AML), 23 patients.

    ``x``: 0 = Maintained, 1 = Nonmaintained (``aml$x``).
    """

    time: FloatArray
    status: IntArray
    x: IntArray


AML = Aml(
    time=np.concatenate(
        [
            [9.0, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161],  # Maintained
            [5.0, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],  # Nonmaintained
        ]
    ),
    status=np.concatenate(
        [[1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]]
    ),
    x=np.repeat([0, 1], [11, 12]),
)


@dataclass(frozen=True)
class Cohort:
    """A synthetic right-censored cohort."""

    time: FloatArray
    event: IntArray
    cause: IntArray  # 0 censored, 1 and 2 competing causes
    group: IntArray  # 0, 1, 2
    stratum: IntArray  # 0, 1
    covariates: FloatArray  # n × 3: normal, normal, 0/1


def cohort(seed: int, n: int, *, ties: bool = True) -> Cohort:
    """Exponential event times with hazard exp(xβ), ~35 % censored; rounded to 0.5 for ties."""
    rng = np.random.default_rng(seed)
    covariates = np.column_stack(
        [rng.normal(size=n), rng.normal(size=n), rng.integers(0, 2, n).astype(np.float64)]
    )
    group = rng.integers(0, 3, n)
    hazard = np.exp(covariates @ np.array([0.5, -0.3, 0.7]) + 0.2 * group)
    event_time = rng.exponential(10.0 / hazard)
    censor_time = rng.exponential(20.0, n)
    time = np.minimum(event_time, censor_time)
    if ties:
        time = np.ceil(time * 2.0) / 2.0
    event = (event_time <= censor_time).astype(np.int64)
    cause = event * rng.choice([1, 2], size=n, p=[0.6, 0.4])
    return Cohort(
        time=time,
        event=event,
        cause=cause,
        group=group,
        stratum=rng.integers(0, 2, n),
        covariates=covariates,
    )
