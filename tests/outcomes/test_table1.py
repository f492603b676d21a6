"""Table 1: summaries, the test chosen per variable, and censored values kept as bounds."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from scipy import stats

from mrdtrack.errors import InputError
from mrdtrack.outcomes.table1 import (
    Censored,
    Variable,
    VariableKind,
    parse_value,
    table_one,
)

C, K = VariableKind.CONTINUOUS, VariableKind.CATEGORICAL

# The case report's Table 1 (Wang 2024): age, sex and HCT of the 11 patients.
AGES = [3, 14, 19, 18, 12, 7, 8, 11.5, 12, 4, 11]
SEX = ["F", "F", "F", "F", "F", "F", "M", "M", "F", "M", "M"]
HCT = ["no", "yes", "yes", "no", "yes", "yes", "no", "no", "yes", "no", "no"]


@pytest.mark.parametrize(
    ("raw", "percent", "expected"),
    [
        (12, False, 12.0),
        ("12.5", False, 12.5),
        ("1e-4", False, 1e-4),
        ("<0.01", False, Censored(0.01)),
        ("< 0.01 %", True, Censored(0.01)),
        ("≤0.01%", True, Censored(0.01)),
        (">1e5", False, Censored(1e5, below=False)),
        ("≥ 3", False, Censored(3.0, below=False)),
        ("0.5 %", True, 0.5),
        (None, False, None),
    ],
)
def test_parse_value(raw: object, percent: bool, expected: object) -> None:
    assert parse_value(raw, "mrd[0]", percent=percent) == expected


@pytest.mark.parametrize(
    "raw", ["negative", "", "n/a", "0.01 %", "<0.01 copies", float("nan"), True]
)
def test_text_is_never_coerced(raw: object) -> None:
    with pytest.raises(InputError, match=r"mrd\[3\]"):
        parse_value(raw, "mrd[3]")


def test_continuous_median_range_and_mann_whitney() -> None:
    table = table_one([Variable("age", C, AGES, unit="years")], HCT)
    row = table.rows[0]
    assert row.overall.text == "11.5 (3–19) years"
    assert (row.overall.median, row.overall.low, row.overall.high) == (11.5, 3.0, 19.0)
    assert row.by_group["yes"].median == 12.0
    assert row.test is not None and row.test.test == "Mann–Whitney U test"
    ages = np.array(AGES)
    groups = np.array(HCT)
    # scipy.stats.mannwhitneyu(ages[HCT == "no"], ages[HCT == "yes"]) (ties: asymptotic)
    reference = stats.mannwhitneyu(ages[groups == "no"], ages[groups == "yes"])
    assert row.test.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert table.groups == ("no", "yes") and table.n_by_group == {"no": 6, "yes": 5}


def test_iqr_and_kruskal_wallis_for_three_groups() -> None:
    values = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 6.0, 9.0]
    groups = ["a", "b", "c"] * 3
    table = table_one([Variable("x", C, values)], groups, spread="iqr")
    row = table.rows[0]
    assert (row.overall.low, row.overall.high) == tuple(np.quantile(values, [0.25, 0.75]))
    assert row.test is not None and row.test.test == "Kruskal–Wallis test"
    samples = [values[i::3] for i in range(3)]
    assert row.test.p_value == pytest.approx(stats.kruskal(*samples).pvalue, rel=1e-12)


def test_censored_mrd_values_stay_bounds() -> None:
    # MRD after blinatumomab as a lab reports it: below the 0.01 % limit is "<0.01 %".
    mrd = [
        "<0.01 %",
        "0.02",
        "<0.01 %",
        "0.5",
        "<0.01",
        "<0.01",
        "0.012",
        None,
        "<0.01",
        "0.03",
        "0.04",
    ]
    table = table_one([Variable("MRD", C, mrd, unit="%")], HCT)
    overall = table.rows[0].overall
    assert (overall.n, overall.missing, overall.censored) == (10, 1, 5)
    # Five of ten are "<0.01": the median (mean of the 5th and 6th) is below
    # (0.01 + 0.012) / 2 — a bound, not a number.
    assert overall.median == Censored(0.011)
    assert overall.low == Censored(0.01) and overall.high == 0.5
    assert overall.text == "<0.011 (<0.01–0.5) %"
    row = table.rows[0]
    assert row.test is not None
    # Censored values rank as ties below every observed value: the same p-value as
    # scipy on numbers that keep that order (-1 for "<0.01").
    numbers = [-1.0 if isinstance(parse_value(v, "m", percent=True), Censored) else v for v in mrd]
    no = [float(x) for x, g in zip(numbers, HCT, strict=True) if g == "no" and x is not None]
    yes = [float(x) for x, g in zip(numbers, HCT, strict=True) if g == "yes" and x is not None]
    assert row.test.p_value == pytest.approx(stats.mannwhitneyu(no, yes).pvalue, rel=1e-12)
    assert "ties" in row.notes[0]


def test_median_is_exact_when_censoring_cannot_reach_it() -> None:
    table = table_one([Variable("MRD", C, ["<0.01", "0.2", "0.3", "0.4", "0.5"])])
    assert table.rows[0].overall.median == 0.3
    assert table.rows[0].overall.low == Censored(0.01)


def test_rank_test_refused_when_censoring_is_ambiguous() -> None:
    # 0.005 is observed below the "<0.01" bound: "<0.01" may be above or below it.
    values = ["<0.01", "0.005", "0.02", "<0.01", "0.03", "0.04"]
    table = table_one([Variable("MRD", C, values)], ["a", "a", "a", "b", "b", "b"])
    row = table.rows[0]
    assert row.test is None
    assert "cannot be ranked" in row.notes[0]


def test_categorical_counts_and_fisher_for_small_tables() -> None:
    table = table_one([Variable("sex", K, SEX, levels=["F", "M"])], HCT)
    row = table.rows[0]
    assert row.overall.counts == {"F": 7, "M": 4}
    assert row.overall.percent["F"] == pytest.approx(100 * 7 / 11)
    assert row.overall.text == "F 7 (64 %); M 4 (36 %)"
    assert row.test is not None and row.test.test == "Fisher's exact test"
    # R: fisher.test(table(sex, hct)) — scipy.stats.fisher_exact([[2, 5], [4, 0]])
    assert row.test.p_value == pytest.approx(stats.fisher_exact([[2, 4], [5, 0]]).pvalue)


def test_categorical_r_by_c_small_uses_exact_enumeration() -> None:
    subtype = ["A", "B", "C", "A", "B", "C", "A", "A", "B", "C", "C"]
    table = table_one([Variable("subtype", K, subtype)], HCT)
    test = table.rows[0].test
    assert test is not None and test.test == "Fisher's exact test"
    assert test.method.startswith("exact (enumeration")


def test_categorical_large_counts_use_chi_square() -> None:
    rng = np.random.default_rng(0)
    groups = ["a"] * 100 + ["b"] * 100
    values = list(rng.choice(["x", "y", "z"], 200))
    row = table_one([Variable("v", K, values)], groups).rows[0]
    assert row.test is not None and row.test.test == "Pearson's chi-square test"
    counts = [[values[:100].count(v) for v in "xyz"], [values[100:].count(v) for v in "xyz"]]
    expected = stats.chi2_contingency(counts, correction=False)
    assert row.test.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_no_groups_no_tests_and_json() -> None:
    table = table_one(
        [Variable("age", C, AGES), Variable("sex", K, SEX), Variable("m", C, ["<1"] * 11)]
    )
    assert all(row.test is None for row in table.rows)
    text = json.dumps(table.to_dict(), allow_nan=False, ensure_ascii=False)
    data: dict[str, Any] = json.loads(text)
    assert data["variables"][2]["overall"]["median"] == "<1"


@pytest.mark.parametrize(
    ("variable", "groups", "field"),
    [
        (Variable("sex", K, ["F", "X"], levels=["F", "M"]), None, "sex"),
        (Variable("age", C, [1, 2]), ["a"], "groups"),
        (Variable("age", C, [1, "two"]), None, r"age\[1\]"),
        (Variable("sex", K, ["F", 3.5]), None, r"sex\[1\]"),
    ],
)
def test_bad_variables(variable: Variable, groups: list[str] | None, field: str) -> None:
    with pytest.raises(InputError, match=field):
        table_one([variable], groups)


def test_fisher_threshold_is_a_parameter() -> None:
    row = table_one([Variable("sex", K, SEX)], HCT, fisher_below=0.0).rows[0]
    assert row.test is not None and row.test.test == "Pearson's chi-square test"
