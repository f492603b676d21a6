"""Gray's K-sample test for equality of cumulative incidence functions (ρ = 0).

Rule END-02 [D] (domain rules §11.3: "compare groups with Gray's test" [U: Gray 1988]).
Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
risk. Ann Stat 1988;16:1141-1154. The score of group ``k`` compares its
subdistribution hazard with the pooled one,

``s_k = Σ_t [d_{1k}(t) − D_1(t) R_k(t) / Σ_r R_r(t)]``,
``R_k(t) = n_k(t) (1 − F̂_k(t−)) / Ŝ_k(t−)``,

where ``n_k`` is the number at risk, ``d_{1k}`` the cause-of-interest events, ``F̂_k`` the
group's Aalen–Johansen cumulative incidence and ``Ŝ_k`` its all-cause Kaplan–Meier curve
(weight ``(1 − F̂⁰(t−))^ρ`` with ``ρ = 0``). The covariance of ``(s_1 … s_{K−1})`` is
Gray's asymptotic estimator (1988, §2), which accumulates over the event times, with
``h_k = n_k / Ŝ_k(t−)``, ``A = diag(h) − h hᵀ / Σh`` and the pooled
``F̂⁰(t) = F̂⁰(t−) + D_1 / Σh``,

* a term for the cause-of-interest events,
  ``Σ_t Σ_k c₁ (A_{ik} − a_k C_{ik}(t))(A_{jk} − a_k C_{jk}(t))``,
  ``a_k = 1 − (1 − F̂⁰(t)) / Ŝ_k(t)``, ``c₁ = τ₁ Ŝ_k(t−) D_1 / (Σh · n_k)``,
* a term for the competing events, ``Σ_t Σ_k c₂ b_k² C_{ik}(t) C_{jk}(t)``,
  ``b_k = (1 − F̂⁰(t)) / Ŝ_k(t)``, ``c₂ = τ₂ Ŝ_k(t−)² d_{2k} / n_k²``,
* and their cross-products with the final ``C``, where
  ``C(t) = Σ_{u ≤ t} A(u) D_1(u) / (Σh (1 − F̂⁰(u−)))``,

``τ₁ = 1 − (D_1 − 1) / (Σh Ŝ_k(t−) − 1)`` and ``τ₂ = 1 − (d_{2k} − 1) / (n_k − 1)``
correcting for ties. With strata, scores and covariances are summed over strata. The
statistic ``sᵀ V⁻¹ s`` is χ² with ``K − 1`` degrees of freedom.

This follows the computation of R ``cmprsk::cuminc`` (Gray's ``crstm``/``crst``
routines, consulted for the exact estimator, tie corrections and their order) term by
term, vectorised over event times. **No external reference output was available when this
was written**: it is validated against a separate loop-by-loop transcription of these
formulas and by its rejection rate under the null, not against numbers from R.

R equivalent::

    library(cmprsk); cuminc(ftime = time, fstatus = cause, group = group, cencode = 0)$Tests
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.basis import EstimatorBasis
from mrdtrack.outcomes.risk_sets import FloatArray, IntArray, as_labels, as_times

__all__ = ["GRAY_TEST", "GrayTest", "gray_test"]

GRAY_TEST = EstimatorBasis(
    estimator="Gray's K-sample test of cumulative incidence (ρ = 0)",
    formula="s_k = Σ_t [d_1k − D_1 R_k / Σ_r R_r], R_k = n_k (1 − F_k(t−)) / S_k(t−); "
    "χ² = sᵀ V⁻¹ s on K − 1 df",
    variance="Gray (1988) asymptotic covariance with cmprsk's tie corrections",
    rule="END-02",
    source="Gray RJ. Ann Stat 1988;16:1141-1154; R: cmprsk::cuminc(...)$Tests",
    unconfirmed=(
        "Gray 1988 citation marked [U] in domain rules §11.3",
        "no external (R cmprsk) output was available to pin the numbers",
    ),
)


@dataclass(frozen=True, slots=True, eq=False)
class GrayTest:
    """Gray's test of equal cumulative incidence of one cause across groups.

    Attributes
    ----------
    statistic, df, p_value
        ``sᵀ V⁻¹ s``, ``K − 1`` and the χ² p-value.
    score
        ``s_k`` for the first ``K − 1`` groups (observed minus expected, weighted).
    covariance
        Their estimated covariance ``V``.
    groups
        The group labels in order (the last has no score: the scores sum to 0).
    cause_of_interest
        The cause tested.
    n, events, competing
        Observations, cause-of-interest events and competing events.
    basis
        Test, formulas, rule and source.
    """

    statistic: float
    df: int
    p_value: float
    score: FloatArray
    covariance: FloatArray
    groups: tuple[Hashable, ...]
    cause_of_interest: Hashable
    n: int
    events: int
    competing: int
    basis: EstimatorBasis = field(default=GRAY_TEST)


def gray_test(
    time: ArrayLike,
    cause: ArrayLike,
    group: ArrayLike,
    *,
    cause_of_interest: Hashable = 1,
    censor_code: Hashable = 0,
    strata: ArrayLike | None = None,
) -> GrayTest:
    """Gray's test that the cumulative incidence of one cause is the same in all groups.

    R: ``cmprsk::cuminc(time, cause, group, cencode = 0)$Tests`` (row of the cause;
    ``strata =`` as ``cuminc``'s). See the module docstring for the formulas.

    Parameters
    ----------
    time
        Follow-up times, finite and ≥ 0.
    cause
        ``censor_code`` for a censoring, ``cause_of_interest`` for the cause tested, any
        other code for a competing cause.
    group
        The group of each row; at least two groups.
    cause_of_interest, censor_code
        The codes described above.
    strata
        Optional stratum of each row: scores and variances are summed over strata.

    Returns
    -------
    GrayTest
    """
    times = as_times(time)
    n = times.size
    codes = np.asarray(cause)
    if codes.shape != (n,):
        raise InputError("cause", f"an array of shape {codes.shape}", f"shape {times.shape}")
    if cause_of_interest == censor_code:
        raise InputError(
            "cause_of_interest", cause_of_interest, "a cause code other than the censoring code"
        )
    interest = codes == cause_of_interest
    competing = ~interest & (codes != censor_code)
    if not interest.any():
        raise InputError(
            "cause", f"no {cause_of_interest!r} events", "at least one event of the cause tested"
        )
    groups = as_labels(group, n, field="group")
    k = len(groups.labels)
    if k < 2:
        raise InputError("group", list(groups.labels), "at least two groups")
    layer = (
        np.zeros(n, dtype=np.int64)
        if strata is None
        else as_labels(strata, n, field="strata").codes
    )
    score = np.zeros(k)
    covariance = np.zeros((k, k))
    for level in np.unique(layer):
        rows = layer == level
        # Masked-out entries (groups no longer at risk) divide by zero; np.where drops them.
        with np.errstate(divide="ignore", invalid="ignore"):
            part_score, part_covariance = _stratum(
                times[rows], interest[rows], competing[rows], groups.codes[rows], k
            )
        score += part_score
        covariance += part_covariance
    s = score[:-1]
    v = covariance[:-1, :-1]
    try:
        statistic = float(s @ np.linalg.solve(v, s))
    except np.linalg.LinAlgError:
        raise InputError(
            "group",
            list(groups.labels),
            "groups each with events or follow-up in common",
            "drop groups without cause-of-interest events at times when others are at risk",
        ) from None
    return GrayTest(
        statistic=statistic,
        df=k - 1,
        p_value=float(stats.chi2.sf(statistic, k - 1)),
        score=s,
        covariance=v,
        groups=groups.labels,
        cause_of_interest=cause_of_interest,
        n=n,
        events=int(interest.sum()),
        competing=int(competing.sum()),
    )


def _shifted(curve: FloatArray, first: float) -> FloatArray:
    """The left-continuous version of a curve over the event times."""
    out = np.empty_like(curve)
    out[0] = first
    out[1:] = curve[:-1]
    return out


def _stratum(
    times: FloatArray,
    interest: np.ndarray[tuple[int], np.dtype[np.bool_]],
    competing: np.ndarray[tuple[int], np.dtype[np.bool_]],
    group: IntArray,
    k: int,
) -> tuple[FloatArray, FloatArray]:
    """Score (length K) and covariance (K × K) of one stratum, all groups kept."""
    failed = interest | competing
    event_times = np.unique(times[failed])
    m = event_times.size
    if m == 0:
        return np.zeros(k), np.zeros((k, k))
    # Per event time and group: at risk, cause-of-interest and competing events.
    n_at = np.empty((m, k))
    d1 = np.zeros((m, k))
    d2 = np.zeros((m, k))
    for g in range(k):
        mine = group == g
        mine_times = np.sort(times[mine])
        n_at[:, g] = mine_times.size - np.searchsorted(mine_times, event_times, side="left")
        where1 = np.searchsorted(event_times, times[mine & interest])
        where2 = np.searchsorted(event_times, times[mine & competing])
        d1[:, g] = np.bincount(where1, minlength=m)
        d2[:, g] = np.bincount(where2, minlength=m)
    at = n_at > 0
    safe_n = np.where(at, n_at, 1.0)
    survival = np.cumprod(np.where(at, (n_at - d1 - d2) / safe_n, 1.0), axis=0)
    survival_before = np.vstack([np.ones((1, k)), survival[:-1]])
    incidence = np.cumsum(np.where(at, survival_before * d1 / safe_n, 0.0), axis=0)
    incidence_before = np.vstack([np.zeros((1, k)), incidence[:-1]])
    h = np.where(at, n_at / survival_before, 0.0)
    total_h = h.sum(axis=1)
    weight_r = np.where(at, n_at * (1.0 - incidence_before) / survival_before, 0.0)
    total_d1 = d1.sum(axis=1)
    pooled = np.cumsum(total_d1 / total_h)
    pooled_before = _shifted(pooled, 0.0)

    score = (d1 - total_d1[:, None] * weight_r / weight_r.sum(axis=1)[:, None]).sum(axis=0)

    a = (
        np.einsum("ti,ij->tij", h, np.eye(k))
        - h[:, :, None] * h[:, None, :] / total_h[:, None, None]
    )
    step = total_d1 / (total_h * (1.0 - pooled_before))
    c = np.cumsum(a * step[:, None, None], axis=0)

    # Cause-of-interest events: every group at risk contributes.
    positive = survival > 0
    a_k = np.where(positive, 1.0 - (1.0 - pooled[:, None]) / survival, 1.0)
    tie1 = np.where(
        total_d1[:, None] > 1,
        1.0 - (total_d1[:, None] - 1.0) / (total_h[:, None] * survival_before - 1.0),
        1.0,
    )
    c1 = tie1 * survival_before * total_d1[:, None] / (total_h[:, None] * safe_n)
    c1 = np.where(at & (total_d1[:, None] > 0), c1, 0.0)
    # Competing events: groups with such events and Ŝ_k(t) > 0.
    b_k = np.where(positive, (1.0 - pooled[:, None]) / survival, 0.0)
    tie2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (safe_n - 1.0), 1.0)
    c2 = tie2 * survival_before**2 * d2 / safe_n**2
    c2 = np.where(positive & (d2 > 0), c2, 0.0)

    centred = a - a_k[:, None, :] * c  # [t, i, k]
    scaled = b_k[:, None, :] * c
    v3 = (a_k**2 * c1 + b_k**2 * c2).sum(axis=0)
    v2 = np.einsum("tik,tk->ik", centred, a_k * c1) - np.einsum("tik,tk->ik", scaled, b_k * c2)
    covariance = np.einsum("tik,tjk,tk->ij", centred, centred, c1) + np.einsum(
        "tik,tjk,tk->ij", scaled, scaled, c2
    )
    final = c[-1]
    covariance += (final * v3) @ final.T + final @ v2.T + v2 @ final.T
    return score, covariance
