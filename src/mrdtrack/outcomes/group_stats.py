"""Group comparisons of a small cohort: rank tests, exact and chi-square tests, binomial CIs.

Pure functions of arrays and counts. Each result names its test and how its p-value was
obtained, so that a Table 1 or a report can print it (statistical-reporting practice, e.g.
the SAMPL guidelines, Lang & Altman 2013).

==========================  ===================================================================
function                    method
==========================  ===================================================================
:func:`mann_whitney_u`      Mann–Whitney U (Wilcoxon rank-sum): exact null distribution without
                            ties for samples under 50, else the normal approximation with tie
                            and continuity correction (Mann & Whitney 1947; R ``wilcox.test``)
:func:`kruskal_wallis`      Kruskal–Wallis H with tie correction, χ² on k − 1 df (Kruskal &
                            Wallis 1952; R ``kruskal.test``)
:func:`fisher_exact`        Fisher's exact test: 2 × 2 by the hypergeometric distribution
                            (scipy), r × c by exact enumeration of all tables with the observed
                            margins (Freeman & Halton 1951; R ``fisher.test``)
:func:`chi_square`          Pearson's χ² test of independence, optional Yates correction (2 × 2)
:func:`binomial_ci`         Wilson score and Clopper–Pearson exact intervals for a proportion
==========================  ===================================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from math import comb, lgamma

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_count, require_number

__all__ = [
    "EXACT_ENUMERATION_LIMIT",
    "BinomialInterval",
    "IntervalMethod",
    "TestResult",
    "binomial_ci",
    "chi_square",
    "expected_counts",
    "fisher_exact",
    "kruskal_wallis",
    "mann_whitney_u",
]

FloatArray = NDArray[np.float64]

EXACT_ENUMERATION_LIMIT = 2_000_000
"""The most (column, margin state, table-probability) nodes the r × c Fisher enumeration
visits before refusing (a few seconds of work); larger tables need the chi-square test."""

_MWU_EXACT_BELOW = 50  # as R wilcox.test: exact when both samples are smaller and untied


class IntervalMethod(StrEnum):
    """How a binomial confidence interval is computed."""

    WILSON = "wilson"
    CLOPPER_PEARSON = "clopper-pearson"


@dataclass(frozen=True, slots=True)
class TestResult:
    """One hypothesis test.

    Attributes
    ----------
    test
        The test's name as a report prints it (``"Fisher's exact test"``).
    statistic
        The test statistic (U, H, χ², or the odds ratio for a 2 × 2 Fisher test;
        ``None`` where the test has none, e.g. an r × c Fisher test).
    p_value
        Two-sided p-value.
    method
        How the p-value was obtained (``"exact"``, ``"normal approximation …"``).
    df
        Degrees of freedom of a χ² reference distribution (``None`` otherwise).
    details
        Further numbers (group sizes, expected counts, the odds ratio's CI …).
    source
        The reference and the R function computing the same number.
    """

    test: str
    statistic: float | None
    p_value: float
    method: str
    df: int | None = None
    details: Mapping[str, float | int | str | None] = field(default_factory=dict)
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (an infinite odds ratio or bound becomes ``None``)."""
        return {
            "test": self.test,
            "statistic": _finite(self.statistic),
            "p_value": self.p_value,
            "method": self.method,
            "df": self.df,
            "details": {
                k: _finite(v) if isinstance(v, float) else v for k, v in self.details.items()
            },
            "source": self.source,
        }


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class BinomialInterval:
    """A proportion ``successes / n`` with its two-sided confidence interval."""

    successes: int
    n: int
    proportion: float
    lower: float
    upper: float
    method: IntervalMethod
    confidence_level: float

    @property
    def percent(self) -> float:
        """The proportion in percent."""
        return 100.0 * self.proportion


def _sample(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise InputError(name, f"an array of shape {array.shape}", "a non-empty 1-D array")
    if not np.isfinite(array).all():
        position = int(np.flatnonzero(~np.isfinite(array))[0])
        raise InputError(
            f"{name}[{position}]",
            float(array[position]),
            "a finite number",
            "remove missing values first; censored values (e.g. '<0.01 %') are not numbers",
        )
    return array


def _mwu_null_counts(m: int, n: int) -> list[int]:
    """Number of orderings giving each U = 0…mn (coefficients of the Gaussian binomial).

    ``Σ_u c_u q^u = Π_{i=1}^{m} (1 − q^{n+i}) / (1 − q^i)``; exact integers, so the tail
    sums have no cancellation error.
    """
    size = m * n + 1
    counts = [0] * size
    counts[0] = 1
    for i in range(1, m + 1):
        step = n + i
        for u in range(size - 1, step - 1, -1):
            counts[u] -= counts[u - step]
        for u in range(i, size):
            counts[u] += counts[u - i]
    return counts


def mann_whitney_u(x: ArrayLike, y: ArrayLike, *, exact: bool | None = None) -> TestResult:
    """Mann–Whitney U test (Wilcoxon rank-sum), two-sided.

    ``U_x = R_x − n_x (n_x + 1) / 2`` with ``R_x`` the rank sum of ``x`` in the pooled
    sample (mid-ranks for ties). Exact p-value ``2 · min(P(U ≤ U_x), P(U ≥ U_x))`` from the
    null distribution of U when there are no ties and both samples have fewer than 50
    values; otherwise the normal approximation
    ``z = (|U_x − n_x n_y / 2| − ½) / σ``,
    ``σ² = n_x n_y / 12 · ((N + 1) − Σ (t³ − t) / (N (N − 1)))`` (ties ``t``).
    R: ``wilcox.test(x, y)``; scipy: ``mannwhitneyu(x, y, method=...)``.

    Parameters
    ----------
    x, y
        The two samples (finite numbers).
    exact
        Force (``True``) or forbid (``False``) the exact distribution; ``None`` chooses as
        above. Exact with ties is refused: the permutation distribution of mid-ranks is
        not the tabulated one.
    """
    first = _sample(x, "x")
    second = _sample(y, "y")
    m, n = first.size, second.size
    pooled = np.concatenate((first, second))
    ranks = stats.rankdata(pooled)
    u_x = float(ranks[:m].sum() - m * (m + 1) / 2.0)
    _, tie_sizes = np.unique(pooled, return_counts=True)
    has_ties = bool((tie_sizes > 1).any())
    use_exact = (
        (not has_ties and m < _MWU_EXACT_BELOW and n < _MWU_EXACT_BELOW) if exact is None else exact
    )
    details: dict[str, float | int | str | None] = {"n_x": m, "n_y": n, "u_y": m * n - u_x}
    source = "Mann HB, Whitney DR. Ann Math Stat 1947;18:50-60; R: wilcox.test(x, y)"
    if use_exact:
        if has_ties:
            raise InputError(
                "exact", True, "False when the samples have ties", "use the normal approximation"
            )
        counts = _mwu_null_counts(m, n)
        total = comb(m + n, m)
        u = round(u_x)
        lower = sum(counts[: u + 1])
        upper = sum(counts[u:])
        p_value = min(1.0, 2.0 * min(lower, upper) / total)
        return TestResult("Mann–Whitney U test", u_x, p_value, "exact", None, details, source)
    big_n = m + n
    tie_term = float(np.sum(tie_sizes.astype(np.float64) ** 3 - tie_sizes)) / (big_n * (big_n - 1))
    variance = m * n / 12.0 * ((big_n + 1) - tie_term)
    if variance <= 0:
        return TestResult(
            "Mann–Whitney U test", u_x, 1.0, "all values tied: no ordering", None, details, source
        )
    z = (abs(u_x - m * n / 2.0) - 0.5) / math.sqrt(variance)
    p_value = min(1.0, 2.0 * float(stats.norm.sf(z)))
    details["z"] = z
    return TestResult(
        "Mann–Whitney U test",
        u_x,
        p_value,
        "normal approximation with tie and continuity correction",
        None,
        details,
        source,
    )


def kruskal_wallis(samples: Sequence[ArrayLike]) -> TestResult:
    """Kruskal–Wallis H test of equal distributions across k ≥ 2 groups.

    ``H = [12 / (N (N + 1)) Σ_j R_j² / n_j − 3 (N + 1)] / [1 − Σ (t³ − t) / (N³ − N)]``,
    referred to χ² on k − 1 df (Kruskal WH, Wallis WA. J Am Stat Assoc 1952;47:583-621;
    R: ``kruskal.test``; scipy: ``kruskal``).
    """
    groups = [_sample(s, f"samples[{i}]") for i, s in enumerate(samples)]
    if len(groups) < 2:
        raise InputError("samples", len(groups), "at least 2 groups")
    sizes = np.array([g.size for g in groups], dtype=np.float64)
    pooled = np.concatenate(groups)
    big_n = pooled.size
    ranks = stats.rankdata(pooled)
    bounds = np.cumsum(sizes).astype(int)
    rank_sums = np.add.reduceat(ranks, np.concatenate(([0], bounds[:-1])))
    h = 12.0 / (big_n * (big_n + 1)) * float(np.sum(rank_sums**2 / sizes)) - 3.0 * (big_n + 1)
    _, tie_sizes = np.unique(pooled, return_counts=True)
    correction = 1.0 - float(np.sum(tie_sizes.astype(np.float64) ** 3 - tie_sizes)) / (
        big_n**3 - big_n
    )
    df = len(groups) - 1
    source = "Kruskal WH, Wallis WA. J Am Stat Assoc 1952;47:583-621; R: kruskal.test"
    if correction <= 0:
        return TestResult("Kruskal–Wallis test", None, 1.0, "all values tied", df, {}, source)
    h /= correction
    return TestResult(
        "Kruskal–Wallis test",
        h,
        float(stats.chi2.sf(h, df)),
        "χ² approximation with tie correction",
        df,
        {f"n_{i}": int(s) for i, s in enumerate(sizes)},
        source,
    )


def _table(table: ArrayLike) -> NDArray[np.int64]:
    array = np.asarray(table)
    if array.ndim != 2 or min(array.shape) < 1:
        raise InputError("table", f"an array of shape {array.shape}", "a 2-D table of counts")
    if array.dtype.kind == "f":
        if not (np.isfinite(array).all() and (array == np.round(array)).all()):
            raise InputError("table", array.tolist(), "whole-number counts")
    elif array.dtype.kind not in "iu":
        raise InputError("table", array.tolist(), "whole-number counts")
    counts = array.astype(np.int64)
    if (counts < 0).any():
        raise InputError("table", counts.tolist(), "counts ≥ 0")
    if counts.sum() == 0:
        raise InputError("table", counts.tolist(), "at least one observation")
    return counts


def expected_counts(table: ArrayLike) -> FloatArray:
    """Expected counts under independence, ``E_ij = R_i C_j / N``."""
    counts = _table(table).astype(np.float64)
    expected: FloatArray = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    return expected


def chi_square(table: ArrayLike, *, yates: bool = False) -> TestResult:
    """Pearson's χ² test of independence for an r × c table.

    ``χ² = Σ (O_ij − E_ij)² / E_ij`` on ``(r − 1)(c − 1)`` df (rows or columns that are all
    zero are dropped); with ``yates=True`` on a 2 × 2 table, ``Σ (|O − E| − ½)² / E``
    (each ``|O − E|`` reduced by at most itself). R: ``chisq.test(table, correct = yates)``.
    """
    counts = _table(table)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    rows, columns = counts.shape
    source = "Pearson K. Philos Mag 1900;50:157-175; R: chisq.test"
    if rows < 2 or columns < 2:
        return TestResult("Pearson's chi-square test", 0.0, 1.0, "one row or column", 0, {}, source)
    expected = expected_counts(counts)
    deviation = np.abs(counts - expected)
    corrected = yates and counts.shape == (2, 2)
    if corrected:
        deviation = deviation - np.minimum(0.5, deviation)
    statistic = float(np.sum(deviation**2 / expected))
    df = (rows - 1) * (columns - 1)
    return TestResult(
        "Pearson's chi-square test" + (" with Yates' correction" if corrected else ""),
        statistic,
        float(stats.chi2.sf(statistic, df)),
        "χ² approximation",
        df,
        {"min_expected": float(expected.min()), "expected_below_5": int((expected < 5).sum())},
        source,
    )


def fisher_exact(table: ArrayLike, *, limit: int = EXACT_ENUMERATION_LIMIT) -> TestResult:
    """Fisher's exact test of independence, two-sided, for any r × c table.

    The p-value sums the probabilities of all tables with the observed margins that are
    no more probable than the observed one, each table having the conditional probability
    ``Π R_i! Π C_j! / (N! Π n_ij!)`` (Fisher RA 1935; Freeman GH, Halton JH. Biometrika
    1951;38:141-149). 2 × 2: scipy ``fisher_exact`` (hypergeometric), with the conditional
    maximum-likelihood odds ratio and its exact CI (scipy ``odds_ratio``, as R
    ``fisher.test``). r × c: every table is enumerated column by column; tables that
    share the remaining row margins are merged and their probabilities compared exactly
    (integer products of factorials), as R ``fisher.test`` (network algorithm, Mehta CR,
    Patel NR. J Am Stat Assoc 1983;78:427-434) computes the same sum.

    Parameters
    ----------
    table
        Counts, r × c.
    limit
        Refuse (``InputError``) tables needing more enumeration nodes than this.
    """
    counts = _table(table)
    counts = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    source = "Fisher RA 1935; Freeman GH, Halton JH. Biometrika 1951;38:141-149; R: fisher.test"
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return TestResult(
            "Fisher's exact test", None, 1.0, "exact (one row or column)", None, {}, source
        )
    if counts.shape == (2, 2):
        result = stats.fisher_exact(counts)
        ratio = stats.contingency.odds_ratio(counts, kind="conditional")
        interval = ratio.confidence_interval(confidence_level=0.95)
        return TestResult(
            "Fisher's exact test",
            float(ratio.statistic),
            float(result.pvalue),
            "exact (hypergeometric)",
            None,
            {
                "odds_ratio": float(ratio.statistic),
                "odds_ratio_ci_lower": float(interval.low),
                "odds_ratio_ci_upper": float(interval.high),
                "odds_ratio_kind": "conditional maximum likelihood",
            },
            source,
        )
    p_value, nodes = _fisher_rxc(counts, limit)
    return TestResult(
        "Fisher's exact test",
        None,
        p_value,
        "exact (enumeration of all tables with the observed margins)",
        None,
        {"nodes_visited": nodes},
        source,
    )


def _fisher_rxc(counts: NDArray[np.int64], limit: int) -> tuple[float, int]:
    """Exact r × c p-value by a network algorithm over the columns.

    A node is the multiset of row sums still to fill after some columns; it holds the
    distinct values of ``log Π n_ij!`` of the partial tables reaching it and how many
    partial tables have each. A complete table has probability ``K / Π n_ij!`` with
    ``K = Π R_i! Π C_j! / N!``, so it is at least as extreme as the observed table when
    its ``log Π n_ij!`` is ≥ the observed one (less a relative tolerance of 1e-7 on the
    probability, as R ``fisher.test``). Each node bounds what the remaining columns can
    add (each column on its own: the most even and the most concentrated filling); a
    partial table whose every completion is extreme adds its whole remaining mass at
    once, ``Σ_completions 1 / Π n_ij! = N_rest! / (Π rest_i! Π C_j!)`` (the
    hypergeometric total); one with no extreme completion is dropped; the others go on
    (Mehta CR, Patel NR. J Am Stat Assoc 1983;78:427-434, with these simpler bounds).
    """
    if counts.shape[0] > counts.shape[1]:
        counts = counts.T  # fewer rows: fewer nodes
    rows = tuple(int(v) for v in counts.sum(axis=1))
    # The largest columns last: they are bounded, not enumerated, most of the time.
    columns = sorted(int(v) for v in counts.sum(axis=0))
    observed = sum(lgamma(int(v) + 1) for v in counts.ravel()) - _RELATIVE_TOLERANCE
    log_k = (
        sum(lgamma(r + 1) for r in rows)
        + sum(lgamma(c + 1) for c in columns)
        - lgamma(sum(rows) + 1)
    )
    bounds: dict[tuple[tuple[int, ...], int], tuple[float, float, float]] = {}
    p_value = 0.0
    visited = 0
    states: dict[tuple[int, ...], tuple[FloatArray, FloatArray]] = {
        tuple(sorted(rows)): (np.zeros(1), np.ones(1))
    }
    for index, column_sum in enumerate(columns[:-1]):
        rest = columns[index + 1 :]
        following: dict[tuple[int, ...], list[tuple[FloatArray, FloatArray]]] = {}
        for remaining, (logs, numbers) in states.items():
            for cells in _compositions(column_sum, remaining):
                key = tuple(sorted(r - c for r, c in zip(remaining, cells, strict=True)))
                cached = bounds.get((key, index))
                if cached is None:
                    cached = bounds[(key, index)] = _future_bounds(key, rest)
                low, high, log_mass = cached
                merged = logs + sum(lgamma(c + 1) for c in cells)
                extreme = merged + low >= observed
                if extreme.any():
                    tail = log_k + log_mass - merged[extreme]
                    p_value += float(np.sum(numbers[extreme] * np.exp(tail)))
                open_ = ~extreme & (merged + high >= observed) if len(rest) > 1 else extreme
                if open_.any():
                    following.setdefault(key, []).append((merged[open_], numbers[open_]))
                visited += logs.size
            if visited > limit:
                raise InputError(
                    "table",
                    counts.tolist(),
                    f"a table small enough for exact enumeration (≤ {limit:,} nodes)",
                    "use chi_square for larger tables",
                )
        states = {key: _merge(chunks) for key, chunks in following.items()}
    return min(1.0, p_value), visited


_RELATIVE_TOLERANCE = 1e-7
_MERGE_DIGITS = 9  # partial tables whose log Π n! agree to 1e-9 are merged


def _merge(chunks: list[tuple[FloatArray, FloatArray]]) -> tuple[FloatArray, FloatArray]:
    """Merge partial tables with the same ``log Π n_ij!`` (to 1e-9), adding their counts."""
    logs = np.concatenate([c[0] for c in chunks])
    numbers = np.concatenate([c[1] for c in chunks])
    distinct, inverse = np.unique(np.round(logs, _MERGE_DIGITS), return_inverse=True)
    merged: FloatArray = np.bincount(inverse, weights=numbers).astype(np.float64)
    return distinct.astype(np.float64), merged


def _future_bounds(remaining: tuple[int, ...], columns: list[int]) -> tuple[float, float, float]:
    """Bounds of ``log Π n_ij!`` over the completions, and ``log Σ 1/Π n_ij!``.

    With one column left the completion is forced and both bounds are exact.
    """
    low = sum(_even_fill(column_sum, remaining) for column_sum in columns)
    high = sum(_concentrated_fill(column_sum, remaining) for column_sum in columns)
    log_mass = (
        lgamma(sum(remaining) + 1)
        - sum(lgamma(r + 1) for r in remaining)
        - sum(lgamma(c + 1) for c in columns)
    )
    # With one column left both are the forced filling: make them equal to the last bit.
    return low, max(low, high), log_mass


def _even_fill(total: int, caps: tuple[int, ...]) -> float:
    """Smallest ``log Π x_i!`` with ``Σ x_i = total``, ``x_i ≤ caps_i`` (spread evenly)."""
    cells = [0] * len(caps)
    for _ in range(total):
        open_rows = [i for i, cap in enumerate(caps) if cells[i] < cap]
        cells[min(open_rows, key=lambda i: cells[i])] += 1
    return sum(lgamma(c + 1) for c in cells)


def _concentrated_fill(total: int, caps: tuple[int, ...]) -> float:
    """Largest ``log Π x_i!`` with ``Σ x_i = total``, ``x_i ≤ caps_i`` (largest caps first)."""
    value = 0.0
    left = total
    for cap in sorted(caps, reverse=True):
        taken = min(cap, left)
        value += lgamma(taken + 1)
        left -= taken
    return value


def _compositions(total: int, caps: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every ``(x_1…x_r)`` with ``0 ≤ x_i ≤ caps_i`` and ``Σ x_i = total``."""
    if len(caps) == 1:
        return [(total,)] if total <= caps[0] else []
    rest_capacity = sum(caps[1:])
    found: list[tuple[int, ...]] = []
    for first in range(max(0, total - rest_capacity), min(caps[0], total) + 1):
        found.extend((first, *tail) for tail in _compositions(total - first, caps[1:]))
    return found


def binomial_ci(
    successes: int,
    n: int,
    *,
    method: IntervalMethod | str = IntervalMethod.WILSON,
    confidence_level: float = 0.95,
) -> BinomialInterval:
    """Two-sided confidence interval for a proportion ``successes / n``.

    * Wilson score (Wilson EB. J Am Stat Assoc 1927;22:209-212):
      ``(p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)``;
    * Clopper–Pearson exact (Clopper CJ, Pearson ES. Biometrika 1934;26:404-413):
      ``[Beta(α/2; k, n − k + 1), Beta(1 − α/2; k + 1, n − k)]``, 0 and 1 at the ends.

    statsmodels: ``proportion_confint(k, n, method="wilson" | "beta")``; R:
    ``prop.test(k, n, correct = FALSE)$conf.int`` (Wilson), ``binom.test(k, n)$conf.int``.
    """
    total = require_count("n", n, minimum=1)
    k = require_count("successes", successes)
    if k > total:
        raise InputError("successes", k, f"a count ≤ n ({total})")
    level = require_number(
        "confidence_level",
        confidence_level,
        minimum=0.0,
        maximum=1.0,
        min_inclusive=False,
        max_inclusive=False,
    )
    chosen = require_choice("method", method, IntervalMethod)
    alpha = 1.0 - level
    p_hat = k / total
    if chosen is IntervalMethod.WILSON:
        z = float(stats.norm.ppf(1.0 - alpha / 2.0))
        denominator = 1.0 + z * z / total
        centre = (p_hat + z * z / (2.0 * total)) / denominator
        half = z * math.sqrt(p_hat * (1.0 - p_hat) / total + z * z / (4.0 * total * total))
        half /= denominator
        lower, upper = max(0.0, centre - half), min(1.0, centre + half)
    else:
        lower = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2.0, k, total - k + 1))
        upper = 1.0 if k == total else float(stats.beta.ppf(1.0 - alpha / 2.0, k + 1, total - k))
    return BinomialInterval(k, total, p_hat, lower, upper, chosen, level)
