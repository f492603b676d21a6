"""Forest plots: binomial intervals (external truth: Newcombe 1998, statsmodels) and HRs."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint  # type: ignore[import-untyped]

from mrdtrack.errors import InputError
from mrdtrack.figures import ForestRow, ForestScale, forest_figure, hazard_ratio_rows, rate_row
from mrdtrack.outcomes import cox_ph
from tests.figures.svg import ids, tree


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe RG. Stat Med 1998;17:857-872, Table I, method 3 (Wilson score).
        pytest.param(81, 263, 0.2553, 0.3662, id="newcombe-81-263"),
        pytest.param(15, 148, 0.0624, 0.1605, id="newcombe-15-148"),
        pytest.param(0, 20, 0.0, 0.1611, id="newcombe-0-20"),
        pytest.param(1, 29, 0.0061, 0.1718, id="newcombe-1-29"),
    ],
)
def test_wilson_interval_against_newcombe(k: int, n: int, low: float, high: float) -> None:
    row = rate_row("x", k, n)
    assert (round(row.ci_lower, 4), round(row.ci_upper, 4)) == (low, high)
    assert row.detail == f"{k}/{n}" and row.interval == "Wilson score"


@pytest.mark.parametrize("k", [0, 1, 6, 9, 11])
def test_rate_rows_agree_with_statsmodels(k: int) -> None:
    row = rate_row("x", k, 11)
    low, high = proportion_confint(k, 11, method="wilson")
    assert row.estimate == pytest.approx(k / 11)
    assert (row.ci_lower, row.ci_upper) == pytest.approx((low, high), abs=1e-12)
    exact = rate_row("x", k, 11, method="clopper-pearson")
    assert (exact.ci_lower, exact.ci_upper) == pytest.approx(
        proportion_confint(k, 11, method="beta"), abs=1e-9
    )


def test_hazard_ratio_rows_are_the_cox_fit() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    time = rng.exponential(np.exp(-0.7 * x))
    fit = cox_ph(time, np.ones(60), x.reshape(-1, 1))
    (row,) = hazard_ratio_rows(fit)
    assert row.estimate == pytest.approx(float(fit.hazard_ratio[0]))
    assert row.ci_lower == pytest.approx(float(fit.hazard_ratio_ci_lower[0]))
    figure = forest_figure([row], scale=ForestScale.HAZARD_RATIO)
    assert figure.axes[0].get_xscale() == "log"


def test_forest_figure_draws_every_row() -> None:
    rows = [rate_row("MRD negative", 6, 11), rate_row("Published", 88, 113, source="trial X")]
    root = tree(forest_figure(rows, title="Rates"))
    assert ids(root, "forest-estimate-") == ["forest-estimate-0", "forest-estimate-1"]
    assert ids(root, "forest-ci-") == ["forest-ci-0", "forest-ci-1"]


def test_invalid_rows_are_refused() -> None:
    with pytest.raises(InputError):
        forest_figure([])
    with pytest.raises(InputError, match="hazard"):
        forest_figure([ForestRow("x", 1.0, 0.0, 2.0, "")], scale=ForestScale.HAZARD_RATIO)
    with pytest.raises(InputError, match="successes"):
        rate_row("x", 12, 11)
