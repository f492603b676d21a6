"""Gray's test: a separate loop-by-loop transcription, and its size under the null.

No R cmprsk output was available to pin numbers; see the module docstring of gray.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.gray import gray_test
from tests.outcomes.datasets import cohort


def _slow_stratum(time: Any, cause: Any, group: Any, k: int) -> tuple[Any, Any]:
    """Gray (1988) score and covariance, one event time and one group at a time."""
    n_risk = [int(np.sum(group == g)) for g in range(k)]
    s_left, f_left = [1.0] * k, [0.0] * k
    pooled_left = 0.0
    score = [0.0] * k
    cmat = [[0.0] * k for _ in range(k)]
    v3 = [0.0] * k
    v2 = [[0.0] * k for _ in range(k)]
    v = [[0.0] * k for _ in range(k)]
    for t in sorted(set(time.tolist())):
        here = time == t
        d1 = [int(np.sum(here & (group == g) & (cause == 1))) for g in range(k)]
        d2 = [int(np.sum(here & (group == g) & (cause == 2))) for g in range(k)]
        total1, total2 = sum(d1), sum(d2)
        s_now, f_now = list(s_left), list(f_left)
        if total1 + total2 > 0:
            h = [0.0] * k
            r = [0.0] * k
            for g in range(k):
                if n_risk[g] > 0:
                    s_now[g] = s_left[g] * (n_risk[g] - d1[g] - d2[g]) / n_risk[g]
                    f_now[g] = f_left[g] + s_left[g] * d1[g] / n_risk[g]
                    h[g] = n_risk[g] / s_left[g]
                    r[g] = n_risk[g] * (1 - f_left[g]) / s_left[g]
            sum_h, sum_r = sum(h), sum(r)
            pooled = pooled_left + total1 / sum_h
            amat = [[0.0] * k for _ in range(k)]
            for i in range(k):
                for j in range(k):
                    if h[i] > 0 and h[j] > 0:
                        amat[i][j] = (h[i] if i == j else 0.0) - h[i] * h[j] / sum_h
                    cmat[i][j] += amat[i][j] * total1 / (sum_h * (1 - pooled_left))
            for g in range(k):
                if n_risk[g] > 0:
                    score[g] += d1[g] - total1 * r[g] / sum_r
            for g in range(k):
                if total1 > 0 and n_risk[g] > 0:
                    a_g = 1 - (1 - pooled) / s_now[g] if s_now[g] > 0 else 1.0
                    tie = 1 - (total1 - 1) / (sum_h * s_left[g] - 1) if total1 > 1 else 1.0
                    weight = tie * s_left[g] * total1 / (sum_h * n_risk[g])
                    v3[g] += a_g * a_g * weight
                    for i in range(k):
                        left = amat[i][g] - a_g * cmat[i][g]
                        v2[i][g] += left * a_g * weight
                        for j in range(k):
                            v[i][j] += left * (amat[j][g] - a_g * cmat[j][g]) * weight
                if d2[g] > 0 and s_now[g] > 0:
                    b_g = (1 - pooled) / s_now[g]
                    tie = 1 - (d2[g] - 1) / (n_risk[g] - 1) if d2[g] > 1 else 1.0
                    weight = tie * s_left[g] ** 2 * d2[g] / n_risk[g] ** 2
                    v3[g] += b_g * b_g * weight
                    for i in range(k):
                        v2[i][g] -= b_g * cmat[i][g] * b_g * weight
                        for j in range(k):
                            v[i][j] += b_g * cmat[i][g] * b_g * cmat[j][g] * weight
            pooled_left = pooled
        for g in range(k):
            n_risk[g] -= int(np.sum(here & (group == g)))
        s_left, f_left = s_now, f_now
    for i in range(k):
        for j in range(k):
            for g in range(k):
                v[i][j] += cmat[i][g] * cmat[j][g] * v3[g]
                v[i][j] += cmat[i][g] * v2[j][g] + cmat[j][g] * v2[i][g]
    return np.array(score), np.array(v)


def _slow_gray(time: Any, cause: Any, group: Any, strata: Any) -> tuple[float, Any, Any]:
    k = int(group.max()) + 1
    score, covariance = np.zeros(k), np.zeros((k, k))
    for level in np.unique(strata):
        rows = strata == level
        s, v = _slow_stratum(time[rows], cause[rows], group[rows], k)
        score += s
        covariance += v
    s, v = score[:-1], covariance[:-1, :-1]
    return float(s @ np.linalg.solve(v, s)), s, v


@pytest.mark.parametrize(
    ("seed", "n", "groups", "stratified"),
    [(21, 80, 2, False), (22, 120, 3, False), (23, 150, 3, True), (24, 60, 2, True)],
)
def test_matches_loop_transcription(seed: int, n: int, groups: int, stratified: bool) -> None:
    data = cohort(seed, n)  # times rounded to 0.5: many ties of both causes
    group = data.group % groups
    strata = data.stratum if stratified else np.zeros(n, dtype=int)
    expected, score, covariance = _slow_gray(data.time, data.cause, group, strata)
    result = gray_test(data.time, data.cause, group, strata=data.stratum if stratified else None)
    assert result.score == pytest.approx(score, rel=1e-10, abs=1e-10)
    assert result.covariance == pytest.approx(covariance, rel=1e-10, abs=1e-10)
    assert result.statistic == pytest.approx(expected, rel=1e-10)
    assert result.df == groups - 1
    assert result.p_value == pytest.approx(stats.chi2.sf(expected, groups - 1), rel=1e-9)


def test_cause_two_and_labels() -> None:
    data = cohort(25, 100)
    labels = np.array(["a", "b"])[data.group % 2]
    expected, _, _ = _slow_gray(data.time, 3 - data.cause, data.group % 2, np.zeros(100))
    # Swapping the cause codes 1 ↔ 2 (censoring stays 0) tests cause 2.
    result = gray_test(data.time, data.cause, labels, cause_of_interest=2)
    swapped_expected, _, _ = _slow_gray(
        data.time, np.where(data.cause == 0, 0, 3 - data.cause), data.group % 2, np.zeros(100)
    )
    assert result.statistic == pytest.approx(swapped_expected, rel=1e-10)
    assert result.groups == ("a", "b")
    assert (result.events, result.competing) == (
        int(np.sum(data.cause == 2)),
        int(np.sum(data.cause == 1)),
    )
    assert np.isfinite(expected)


def test_size_under_the_null_is_nominal() -> None:
    # 400 seeded replicates, two groups drawn from one distribution with a competing
    # cause: the rejection rate at α = 0.05 must lie within 0.05 ± 3.29 binomial SDs.
    rng = np.random.default_rng(2024)
    replicates, n = 400, 80
    rejected = 0
    for _ in range(replicates):
        event_time = rng.exponential(10.0, n)
        censor_time = rng.exponential(20.0, n)
        time = np.minimum(event_time, censor_time)
        cause = (event_time <= censor_time) * rng.choice([1, 2], size=n, p=[0.6, 0.4])
        group = rng.integers(0, 2, n)
        rejected += gray_test(time, cause, group).p_value < 0.05
    rate = rejected / replicates
    limit = 3.29 * np.sqrt(0.05 * 0.95 / replicates)
    assert abs(rate - 0.05) < limit


def test_power_against_a_shifted_incidence() -> None:
    rng = np.random.default_rng(7)
    n = 300
    group = rng.integers(0, 2, n)
    # Same all-cause hazard; cause 1 takes 80 % of the events in group 1, 40 % in group 0.
    event_time = rng.exponential(10.0, n)
    censor_time = rng.exponential(20.0, n)
    time = np.minimum(event_time, censor_time)
    first_cause = rng.random(n) < np.where(group == 1, 0.8, 0.4)
    cause = (event_time <= censor_time) * np.where(first_cause, 1, 2)
    assert gray_test(time, cause, group).p_value < 1e-3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"group": np.zeros(10, dtype=int)}, "group"),
        ({"cause": np.zeros(10, dtype=int)}, "cause"),
        ({"cause_of_interest": 0}, "cause_of_interest"),
        ({"cause": np.zeros(3, dtype=int)}, "cause"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {
        "time": np.arange(1.0, 11.0),
        "cause": np.array([1, 2, 0, 1, 1, 0, 2, 1, 0, 1]),
        "group": np.repeat([0, 1], 5),
    }
    arguments.update(kwargs)
    time, cause, group = arguments.pop("time"), arguments.pop("cause"), arguments.pop("group")
    with pytest.raises(InputError) as caught:
        gray_test(time, cause, group, **arguments)
    assert caught.value.field == field
