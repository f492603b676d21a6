"""Kaplan–Meier and cumulative-incidence figures: the risk table is the estimator's own."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import FillBetweenPolyCollection
from matplotlib.lines import Line2D

from mrdtrack.errors import InputError
from mrdtrack.figures import (
    Curve,
    format_p_value,
    incidence_figure,
    risk_table,
    survival_figure,
)
from mrdtrack.outcomes import cumulative_incidence, kaplan_meier, logrank_test
from mrdtrack.outcomes.endpoints import Endpoint, derive_endpoint
from mrdtrack.outcomes.histories import TimeZero
from tests.figures import demo
from tests.figures.svg import text, tree, xdata, ydata

# END-02 worked dataset (domain rules §11.3): months from CR; status 1 relapse, 2 death in CR.
TIME = [6, 10, 12, 15, 20, 24, 28, 36]
RFS = [1, 1, 0, 1, 0, 1, 0, 0]
CAUSE = [1, 2, 0, 1, 0, 1, 0, 0]


def _artist(figure: object, gid: str) -> object:
    ax = figure.axes[0]  # type: ignore[attr-defined]
    return next(a for a in ax.get_children() if a.get_gid() == gid)


def test_km_risk_table_is_the_estimators_at() -> None:
    km = kaplan_meier(TIME, RFS)
    table = risk_table(km, [0, 12, 24, 36])
    at = km.at([0, 12, 24, 36])
    assert table.at_risk.tolist() == at.at_risk.tolist() == [8, 6, 3, 1]
    assert table.events.tolist() == at.events.tolist() == [0, 2, 4, 4]
    assert table.censored.tolist() == at.censored.tolist() == [0, 1, 2, 4]
    assert table.competing is None


def test_cif_risk_table_counts_each_cause() -> None:
    cif = cumulative_incidence(TIME, CAUSE, 1)
    table = risk_table(cif, [0, 12, 24, 36])
    all_cause = kaplan_meier(TIME, np.asarray(CAUSE) > 0).at([0, 12, 24, 36])
    assert table.at_risk.tolist() == all_cause.at_risk.tolist()
    assert table.censored.tolist() == all_cause.censored.tolist()
    assert table.events.tolist() == [0, 1, 3, 3]
    assert table.competing is not None and table.competing.tolist() == [0, 1, 1, 1]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2)), min_size=1, max_size=40),
    st.lists(st.integers(0, 45), min_size=1, max_size=6),
)
def test_risk_table_counts_by_brute_force(rows: list[tuple[int, int]], query: list[int]) -> None:
    times = np.array([float(t) for t, _ in rows])
    causes = np.array([c for _, c in rows])
    at = sorted({float(q) for q in query})
    km = risk_table(kaplan_meier(times, causes > 0), at)
    cif = risk_table(cumulative_incidence(times, causes, 1), at)
    for i, t in enumerate(at):
        assert km.at_risk[i] == cif.at_risk[i] == int((times >= t).sum())
        assert km.events[i] == int(((times <= t) & (causes > 0)).sum())
        assert cif.events[i] == int(((times <= t) & (causes == 1)).sum())
        assert cif.competing is not None
        assert cif.competing[i] == int(((times <= t) & (causes == 2)).sum())
        assert km.censored[i] == cif.censored[i] == int(((times <= t) & (causes == 0)).sum())


def test_the_drawn_risk_table_equals_the_estimate() -> None:
    _, cohort = demo.demo()
    data = derive_endpoint(cohort.histories, Endpoint.OS, origin=TimeZero.BLINATUMOMAB)
    km = kaplan_meier(data.time_months, data.event)
    figure = survival_figure([Curve("All", km)], title="OS", time_label="Months")
    root = tree(figure)
    ticks = [0.0, 6.0, 12.0, 18.0, 24.0]
    expected = km.at(ticks)
    for i, t in enumerate(ticks):
        assert text(root, f"risk-At_risk-{t:g}") == str(expected.at_risk[i])
        assert text(root, f"risk-Events-{t:g}") == str(expected.events[i])
        assert text(root, f"risk-Censored-{t:g}") == str(expected.censored[i])
    # The risk table shares the plot's time axis: its columns sit under the x ticks.
    ax, table_ax = figure.axes
    assert table_ax.get_shared_x_axes().joined(ax, table_ax)
    assert list(ax.get_xticks()) == ticks


def test_band_ticks_and_curve_come_from_the_estimate() -> None:
    km = kaplan_meier(TIME, RFS)
    figure = survival_figure([Curve("RFS", km)], title="RFS", time_label="Months from CR")
    ticks = _artist(figure, "censor-ticks-0")
    assert isinstance(ticks, Line2D)
    assert xdata(ticks) == [12.0, 20.0, 28.0, 36.0]
    assert ydata(ticks) == pytest.approx([0.75, 0.6, 0.4, 0.4])
    curve = _artist(figure, "curve-0")
    assert isinstance(curve, Line2D)
    assert ydata(curve) == pytest.approx([1.0, *km.survival])
    assert isinstance(_artist(figure, "ci-band-0"), FillBetweenPolyCollection)


def test_groups_show_the_log_rank_p_value() -> None:
    group = np.array(["a", "b", "a", "b", "a", "b", "a", "b"])
    test = logrank_test(TIME, RFS, group)
    curves = [
        Curve(g, kaplan_meier(np.asarray(TIME)[group == g], np.asarray(RFS)[group == g]))
        for g in ("a", "b")
    ]
    figure = survival_figure(curves, title="RFS", time_label="Months", test=test)
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert legend.get_title().get_text() == f"Log-rank {format_p_value(test.p_value)}"
    assert legend.get_texts()[0].get_text().startswith("a (n = 4")
    root = tree(figure)
    assert text(root, "risk-Number_at_risk-a-0") == "4"
    assert text(root, "risk-Number_at_risk-b-0") == "4"
    assert text(root, "risk-Cumulative_events-a-0") == "0"


def test_incidence_figure_draws_both_causes() -> None:
    relapse = cumulative_incidence(TIME, CAUSE, 1)
    death = cumulative_incidence(TIME, CAUSE, 2)
    figure = incidence_figure(
        [Curve("Relapse", relapse), Curve("Death in CR", death, censor_ticks=False)],
        title="CIR",
        time_label="Months from CR",
        competing_label="Deaths in CR",
    )
    curve = _artist(figure, "curve-0")
    assert isinstance(curve, Line2D)
    assert ydata(curve)[-1] == pytest.approx(0.475)  # END-02-b
    no_ticks = _artist(figure, "censor-ticks-1")
    assert isinstance(no_ticks, Line2D) and len(xdata(no_ticks)) == 0
    root = tree(figure)
    assert text(root, "risk-Deaths_in_CR-12") == "1"


def test_each_figure_takes_its_own_estimator() -> None:
    km = kaplan_meier(TIME, RFS)
    cif = cumulative_incidence(TIME, CAUSE, 1)
    with pytest.raises(InputError, match="Kaplan–Meier"):
        survival_figure([Curve("x", cif)], title="x", time_label="t")
    with pytest.raises(InputError, match="cumulative incidence"):
        incidence_figure([Curve("x", km)], title="x", time_label="t")


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        pytest.param(0.0004, "p < 0.001", id="tiny"),
        pytest.param(0.0123, "p = 0.012", id="two-figures"),
        pytest.param(0.092462, "p = 0.092", id="demo-efs"),
        pytest.param(0.5, "p = 0.5", id="half"),
        pytest.param(1.0, "p = 1.00", id="one"),
    ],
)
def test_p_values_are_printed_as_journals_ask(p: float, shown: str) -> None:
    assert format_p_value(p) == shown
