"""The public API of mrdtrack.outcomes is pinned (names in shared/spec/cli.md included)."""

import doctest
import importlib

import pytest

import mrdtrack.outcomes


def test_outcomes_api() -> None:
    assert sorted(mrdtrack.outcomes.__all__) == [
        "CiMethod",
        "CoxFit",
        "CumulativeIncidence",
        "EstimatorBasis",
        "FollowUp",
        "GrayTest",
        "IncidenceMilestones",
        "KaplanMeier",
        "LogRankResult",
        "Milestones",
        "PhTest",
        "RestrictedMean",
        "RmstComparison",
        "Ties",
        "TimeEstimate",
        "TimeTransform",
        "cox_ph",
        "cumulative_incidence",
        "gray_test",
        "kaplan_meier",
        "logrank_test",
        "logrank_trend_test",
        "median_follow_up",
        "proportional_hazards_test",
        "rmst",
        "rmst_comparison",
    ]


def test_contract_attribute_names() -> None:
    # shared/spec/cli.md "Python API (stable names)".
    km = mrdtrack.outcomes.kaplan_meier([1, 2, 3], [1, 0, 1])
    for name in ("timeline", "survival", "ci_lower", "ci_upper", "median"):
        assert hasattr(km, name)
    lr = mrdtrack.outcomes.logrank_test([1, 2, 3, 4], [1, 0, 1, 1], [0, 0, 1, 1])
    for name in ("statistic", "df", "p_value"):
        assert hasattr(lr, name)
    ci = mrdtrack.outcomes.cumulative_incidence([1, 2, 3], [1, 2, 0], cause_of_interest=1)
    for name in ("timeline", "cif", "variance"):
        assert hasattr(ci, name)
    fit = mrdtrack.outcomes.cox_ph([1, 2, 3, 4], [1, 1, 0, 1], [[0.0], [1.0], [0.0], [1.0]])
    for name in ("coef", "se", "hazard_ratio"):
        assert hasattr(fit, name)


@pytest.mark.parametrize("name", ["kaplan_meier", "logrank", "competing_risks", "cox", "followup"])
def test_docstring_examples(name: str) -> None:
    # The package exports functions of the same names: import the modules by path.
    outcome = doctest.testmod(importlib.import_module(f"mrdtrack.outcomes.{name}"))
    assert outcome.attempted > 0
    assert outcome.failed == 0
