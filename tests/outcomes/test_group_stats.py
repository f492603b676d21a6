"""Group statistics against scipy, statsmodels and R's documented examples.

Reference recipes are kept beside each number; scipy and statsmodels values are computed
live in the tests.
"""

from __future__ import annotations

import importlib
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.group_stats import (
    IntervalMethod,
    _fisher_rxc,
    binomial_ci,
    chi_square,
    expected_counts,
    fisher_exact,
    kruskal_wallis,
    mann_whitney_u,
)

proportion_confint: Any = importlib.import_module("statsmodels.stats.proportion").proportion_confint

# R ?wilcox.test: x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46);
# y <- c(1.15, 0.88, 0.90, 0.74, 1.21); wilcox.test(x, y, alternative = "g") gives
# W = 35, p-value = 0.1272 (one-sided), so the two-sided exact p-value is 0.2544.
R_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
R_Y = [1.15, 0.88, 0.90, 0.74, 1.21]


def test_mann_whitney_r_example() -> None:
    result = mann_whitney_u(R_X, R_Y)
    assert result.statistic == 35.0
    assert result.method == "exact"
    assert result.p_value == pytest.approx(0.2544, abs=5e-5)
    assert result.test == "Mann–Whitney U test"


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 10_000), min_size=2, max_size=60, unique=True),
    st.integers(1, 30),
)
def test_mann_whitney_exact_equals_scipy(values: list[int], split: int) -> None:
    split = min(split, len(values) - 1)
    x, y = values[:split], values[split:]
    ours = mann_whitney_u(x, y)
    # scipy.stats.mannwhitneyu(x, y, method="exact") (two-sided, U of x)
    reference = stats.mannwhitneyu(x, y, method="exact")
    assert ours.statistic == reference.statistic
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-10, abs=1e-300)
    assert ours.method == ("exact" if len(x) < 50 and len(y) < 50 else ours.method)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1, 2, 2, 3, 4, 4, 4, 5], [2, 3, 3, 5, 6, 6, 7]),
        ([0.1, 0.1, 0.1, 0.2], [0.1, 0.3, 0.3, 0.4, 0.5]),
        (list(range(60)), list(range(30, 100))),  # untied but ≥ 50: normal approximation
    ],
)
def test_mann_whitney_asymptotic_equals_scipy(x: list[float], y: list[float]) -> None:
    ours = mann_whitney_u(x, y)
    # scipy.stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True):
    # tie-corrected variance, continuity correction, as R wilcox.test(exact = FALSE)
    reference = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=True)
    assert ours.method.startswith("normal approximation")
    assert ours.statistic == reference.statistic
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-12)


def test_mann_whitney_refuses_exact_with_ties_and_bad_values() -> None:
    with pytest.raises(InputError, match="exact"):
        mann_whitney_u([1, 2, 2], [3, 4], exact=True)
    with pytest.raises(InputError, match=r"x\[1\]"):
        mann_whitney_u([1, float("nan")], [3, 4])
    with pytest.raises(InputError, match="non-empty"):
        mann_whitney_u([], [3, 4])


def test_mann_whitney_all_tied_is_not_significant() -> None:
    assert mann_whitney_u([1, 1], [1, 1, 1]).p_value == 1.0


@pytest.mark.parametrize(
    "samples",
    [
        [[2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0]],
        [[1, 1, 2, 3], [2, 2, 3, 4, 4], [5, 5, 1]],
    ],
)
def test_kruskal_wallis_equals_scipy(samples: list[list[float]]) -> None:
    ours = kruskal_wallis(samples)
    # scipy.stats.kruskal(*samples): tie-corrected H, χ² on k − 1 df (R kruskal.test)
    reference = stats.kruskal(*samples)
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert ours.df == len(samples) - 1


def test_kruskal_wallis_needs_two_groups() -> None:
    with pytest.raises(InputError, match="at least 2"):
        kruskal_wallis([[1, 2, 3]])


def test_fisher_tea_tasting() -> None:
    # R ?fisher.test: TeaTasting <- matrix(c(3, 1, 1, 3), nrow = 2); fisher.test(TeaTasting)
    # p-value = 0.4857, odds ratio 6.408309, 95 % CI 0.2117329–621.9337505.
    result = fisher_exact([[3, 1], [1, 3]])
    assert result.p_value == pytest.approx(0.4857, abs=5e-5)
    # R finds the odds ratio and its limits with uniroot at its default tolerance
    # (~1e-4 relative); its upper limit, on a flat p-value curve, is off by 0.7 %.
    assert result.details["odds_ratio"] == pytest.approx(6.408309, rel=1e-5)
    assert result.details["odds_ratio_ci_lower"] == pytest.approx(0.2117329, rel=1e-4)
    assert result.details["odds_ratio_ci_upper"] == pytest.approx(621.9337505, rel=1e-2)


@pytest.mark.parametrize(
    "table",
    [
        [[2, 1, 0], [0, 1, 3]],
        [[1, 2, 0], [2, 0, 1], [0, 0, 1]],
        [[3, 0, 1, 0], [0, 2, 0, 1]],
        [[1, 1], [2, 0], [0, 2]],
    ],
)
def test_fisher_rxc_equals_full_permutation_distribution(table: list[list[int]]) -> None:
    ours = fisher_exact(table)
    # scipy.stats.fisher_exact(table, method=PermutationMethod(n_resamples=10_000)):
    # with n! ≤ 10,000 permutations scipy enumerates all of them, an exact reference.
    n = int(np.sum(table))
    assert math.factorial(n) <= 10_000
    reference = stats.fisher_exact(table, method=stats.PermutationMethod(n_resamples=10_000))
    assert ours.p_value == pytest.approx(reference.pvalue, rel=1e-8)
    assert ours.method.startswith("exact")


@settings(derandomize=True, max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_fisher_rxc_network_equals_hypergeometric_on_2x2(cells: list[int]) -> None:
    table = np.array(cells).reshape(2, 2)
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return
    # The r × c network algorithm run directly on a 2 × 2 table (fisher_exact itself
    # hands 2 × 2 tables to scipy): the same margins give the same exact p-value.
    ours, _ = _fisher_rxc(table.astype(np.int64), 1_000_000)
    reference = stats.fisher_exact(table).pvalue  # hypergeometric, as R fisher.test
    assert ours == pytest.approx(reference, rel=1e-8)


def test_fisher_refuses_tables_beyond_the_limit() -> None:
    table = [[8, 7, 6, 5], [5, 6, 7, 8], [7, 7, 7, 7]]
    with pytest.raises(InputError, match="chi_square"):
        fisher_exact(table, limit=1_000)


def test_fisher_degenerate_table() -> None:
    assert fisher_exact([[3, 4, 0]]).p_value == 1.0


@pytest.mark.parametrize("yates", [False, True])
@pytest.mark.parametrize("table", [[[12, 5], [7, 9]], [[10, 20, 30], [25, 15, 5], [8, 8, 9]]])
def test_chi_square_equals_scipy(table: list[list[int]], yates: bool) -> None:
    ours = chi_square(table, yates=yates)
    # scipy.stats.chi2_contingency(table, correction=yates) (Yates only acts on 2 × 2)
    statistic, p_value, df, expected = stats.chi2_contingency(table, correction=yates)
    assert ours.statistic == pytest.approx(statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(p_value, rel=1e-12)
    assert ours.df == df
    np.testing.assert_allclose(expected_counts(table), expected)


def test_bad_tables() -> None:
    bad_tables: list[Any] = [[[1.5, 2], [3, 4]], [[-1, 2], [3, 4]], [[0, 0], [0, 0]], [1, 2, 3]]
    for bad in bad_tables:
        with pytest.raises(InputError, match="table"):
            chi_square(bad)


CI_CASES: list[tuple[int, int]] = [(9, 11), (0, 10), (10, 10), (1, 3), (37, 120)]


@pytest.mark.parametrize(("k", "n"), CI_CASES)
@pytest.mark.parametrize(
    ("method", "statsmodels_method"),
    [(IntervalMethod.WILSON, "wilson"), (IntervalMethod.CLOPPER_PEARSON, "beta")],
)
def test_binomial_ci_equals_statsmodels(
    k: int, n: int, method: IntervalMethod, statsmodels_method: str
) -> None:
    ours = binomial_ci(k, n, method=method)
    # statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05, method=...)
    lower, upper = proportion_confint(k, n, alpha=0.05, method=statsmodels_method)
    assert (ours.lower, ours.upper) == pytest.approx((lower, upper), abs=1e-12)
    assert ours.proportion == k / n


def test_case_report_mrd_negative_rate() -> None:
    # 9 of 11 MRD-negative at last follow-up (Wang 2024): 81.8 % with Wilson 52.3–94.9 %
    # (R: prop.test(9, 11, correct = FALSE)$conf.int = 0.5230…, 0.9486…).
    interval = binomial_ci(9, 11)
    assert round(interval.percent, 1) == 81.8
    assert (interval.lower, interval.upper) == pytest.approx((0.5230, 0.9486), abs=5e-4)


@pytest.mark.parametrize(
    ("k", "n", "level"),
    [(-1, 5, 0.95), (6, 5, 0.95), (1, 0, 0.95), (1, 5, 1.0)],
)
def test_binomial_ci_refuses(k: int, n: int, level: float) -> None:
    with pytest.raises(InputError):
        binomial_ci(k, n, confidence_level=level)


def test_to_dict_makes_infinite_odds_ratios_null() -> None:
    data: dict[str, Any] = fisher_exact([[5, 0], [0, 5]]).to_dict()
    assert data["statistic"] is None
    assert data["details"]["odds_ratio_ci_upper"] is None
    assert data["p_value"] == pytest.approx(2 / math.comb(10, 5))


def test_fisher_exact_tables_are_symmetric_in_rows_and_columns() -> None:
    table = np.array([[3, 1, 0], [1, 3, 2]])
    p_values = {
        fisher_exact(table[list(rows)][:, list(cols)]).p_value
        for rows in itertools.permutations(range(2))
        for cols in itertools.permutations(range(3))
    } | {fisher_exact(table.T).p_value}
    assert max(p_values) - min(p_values) < 1e-12
