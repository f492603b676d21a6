"""Kaplan–Meier and cumulative-incidence plots with a number-at-risk table under the axis.

The curves, bands and counts are those of the estimators in :mod:`mrdtrack.outcomes`
(:func:`~mrdtrack.outcomes.kaplan_meier`, :func:`~mrdtrack.outcomes.cumulative_incidence`);
nothing is re-estimated here. Each plot shows:

* the step curve with its pointwise confidence band (the estimator's ``ci_lower`` and
  ``ci_upper``: Greenwood / delta-method variance on the estimator's CI scale);
* censor ticks at the times with censorings;
* the test's p-value when a test result is given (log-rank for survival curves);
* a risk table whose columns sit under the x ticks (one shared time axis): number at
  risk, cumulative events (and competing events) and cumulative censorings, as
  reviewers ask for (survminer #117). For a Kaplan–Meier curve the numbers are
  ``KaplanMeier.at(times)``; for a cumulative incidence they are read from the
  estimator's own ``n_at_risk``, ``n_events``, ``n_competing`` and ``n_censored`` with the
  same convention (at risk: ``T ≥ t``; events and censorings: ``T ≤ t``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, PercentFormatter
from numpy.typing import ArrayLike, NDArray

from mrdtrack.errors import InputError
from mrdtrack.figures.style import SERIES_COLORS, styled
from mrdtrack.outcomes import CumulativeIncidence, KaplanMeier, LogRankResult
from mrdtrack.outcomes.risk_sets import as_times

__all__ = [
    "Curve",
    "RiskTable",
    "format_p_value",
    "incidence_figure",
    "nice_time_step",
    "risk_table",
    "survival_figure",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Curve:
    """One estimated curve and its label (a group, a cause).

    ``censor_ticks=False`` leaves out the ticks of a second cause of the same sample
    (its censorings are the first cause's).
    """

    label: str
    estimate: KaplanMeier | CumulativeIncidence
    censor_ticks: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class RiskTable:
    """Risk-table counts at chosen times.

    ``at_risk``: observations with ``T ≥ t``; ``events``, ``competing``, ``censored``:
    cumulative counts with ``T ≤ t`` (``competing`` is ``None`` for a survival curve).
    """

    times: FloatArray
    at_risk: IntArray
    events: IntArray
    censored: IntArray
    competing: IntArray | None


def risk_table(estimate: KaplanMeier | CumulativeIncidence, times: ArrayLike) -> RiskTable:
    """The risk-table counts of an estimate at ``times`` (the estimator's own numbers)."""
    if isinstance(estimate, KaplanMeier):
        milestones = estimate.at(times)
        return RiskTable(
            milestones.times, milestones.at_risk, milestones.events, milestones.censored, None
        )
    query = as_times(times, field="times")
    first_not_before = np.searchsorted(estimate.timeline, query, side="left")
    last_not_after = np.searchsorted(estimate.timeline, query, side="right") - 1

    def cumulative(counts: IntArray) -> IntArray:
        totals = np.concatenate(([0], np.cumsum(counts)))
        return np.asarray(totals[last_not_after + 1], dtype=np.int64)

    return RiskTable(
        times=query,
        at_risk=np.append(estimate.n_at_risk, 0)[first_not_before].astype(np.int64),
        events=cumulative(estimate.n_events),
        censored=cumulative(estimate.n_censored),
        competing=cumulative(estimate.n_competing),
    )


def nice_time_step(longest: float) -> float:
    """A tick step (months) giving at most 8 intervals: 1, 2, 3, 6, 12, 24, 36 or 60."""
    for step in (1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 60.0, 120.0):
        if longest / step <= 8:
            return step
    return float(np.ceil(longest / 8 / 120.0) * 120.0)


def format_p_value(p_value: float) -> str:
    """``p = 0.042``, ``p = 0.31``, ``p < 0.001`` (two significant figures, as journals ask)."""
    if p_value < 0.001:
        return "p < 0.001"
    if p_value >= 0.995:
        return "p = 1.00" if p_value >= 0.9995 else f"p = {p_value:.3f}"
    return f"p = {float(f'{p_value:.2g}'):g}"


def survival_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    time_label: str,
    test: LogRankResult | None = None,
    risk_times: ArrayLike | None = None,
    y_label: str = "Survival probability (%)",
    width_in: float = 6.6,
) -> Figure:
    """Kaplan–Meier curves with CI bands, censor ticks, a p-value and a risk table.

    Parameters
    ----------
    curves
        One :class:`Curve` per group, each holding a :class:`~mrdtrack.outcomes.KaplanMeier`.
    title
        The end point, e.g. "Overall survival".
    time_label
        The x-axis label, naming the unit and time zero.
    test
        A log-rank result whose p-value is printed (``None``: no test shown).
    risk_times
        Times of the risk-table columns (default: the x ticks).
    y_label
        Y-axis label.
    width_in
        Figure width in inches.
    """
    estimates = [c.estimate for c in curves]
    if not curves or not all(isinstance(e, KaplanMeier) for e in estimates):
        raise InputError("curves", len(curves), "one or more Kaplan–Meier estimates")
    return _figure(curves, title, time_label, y_label, test, risk_times, width_in, False)


def incidence_figure(
    curves: Sequence[Curve],
    *,
    title: str,
    time_label: str,
    risk_times: ArrayLike | None = None,
    p_value_label: str | None = None,
    event_label: str = "Events",
    competing_label: str = "Competing events",
    y_label: str = "Cumulative incidence (%)",
    width_in: float = 6.6,
) -> Figure:
    """Cumulative incidence curves (Aalen–Johansen) with CI bands and a risk table.

    ``curves`` holds :class:`~mrdtrack.outcomes.CumulativeIncidence` estimates: groups of
    one cause, or the causes of one sample (e.g. relapse and death without relapse);
    the risk table shows the first curve's counts per distinct sample. Gray's test is not
    computed by mrdtrack.outcomes; pass its result as ``p_value_label`` when available.
    """
    estimates = [c.estimate for c in curves]
    if not curves or not all(isinstance(e, CumulativeIncidence) for e in estimates):
        raise InputError("curves", len(curves), "one or more cumulative incidence estimates")
    labels = (event_label, competing_label)
    return _figure(curves, title, time_label, y_label, p_value_label, risk_times, width_in, labels)


def _figure(
    curves: Sequence[Curve],
    title: str,
    time_label: str,
    y_label: str,
    test: LogRankResult | str | None,
    risk_times: ArrayLike | None,
    width_in: float,
    incidence: tuple[str, str] | bool,
) -> Figure:
    longest = max(float(c.estimate.timeline[-1]) for c in curves)
    step = nice_time_step(max(longest, 1e-9))
    ticks = (
        np.arange(0.0, longest + 1e-9, step)
        if risk_times is None
        else as_times(risk_times, field="risk_times")
    )
    tables = _table_groups(curves, ticks, incidence)
    n_rows = sum(len(rows) for _, rows in tables) + len(tables)
    with styled():
        table_height = 0.17 * n_rows + 0.25
        figure = Figure(
            figsize=(width_in, 3.3 + table_height), facecolor="white", layout="constrained"
        )
        grid = figure.add_gridspec(2, 1, height_ratios=[3.3, table_height])
        ax = figure.add_subplot(grid[0])
        table_ax = figure.add_subplot(grid[1], sharex=ax)
        top = 0.0
        for number, curve in enumerate(curves):
            color = SERIES_COLORS[number % len(SERIES_COLORS)]
            top = max(top, _draw_curve(ax, curve, color, number))
        ax.set_title(title)
        ax.set_ylabel(y_label)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0, symbol=""))
        if incidence is False:
            ax.set_ylim(-0.02, 1.04)
        else:
            ax.set_ylim(-0.01, min(1.0, max(0.2, np.ceil(top * 10 + 0.5) / 10)) + 0.02)
        ax.set_xlim(-0.02 * longest, longest * 1.03)
        ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_xlabel(time_label)
        ax.grid(axis="y", color="#EBEBEB", linewidth=0.6)
        ax.set_axisbelow(True)
        if isinstance(test, LogRankResult):
            test = f"Log-rank {format_p_value(test.p_value)}"
        legend = ax.legend(loc="best", title=test or None, alignment="left")
        legend.get_title().set_fontsize(8)
        _draw_table(table_ax, ticks, tables)
    return figure


def _draw_curve(ax: Axes, curve: Curve, color: str, number: int) -> float:
    """Step curve, band and censor ticks; returns the highest band value drawn."""
    e = curve.estimate
    if isinstance(e, KaplanMeier):
        values, lower, upper, start = e.survival, e.ci_lower, e.ci_upper, 1.0
        label = f"{curve.label} (n = {e.n}, events = {e.events})"
    else:
        values, lower, upper, start = e.cif, e.ci_lower, e.ci_upper, 0.0
        label = f"{curve.label} ({e.events} of {e.n})"
    x = np.concatenate(([0.0], e.timeline))
    y = np.concatenate(([start], values))
    band = ax.fill_between(
        x,
        np.concatenate(([start], lower)),
        np.concatenate(([start], upper)),
        step="post",
        color=color,
        alpha=0.16,
        linewidth=0,
    )
    band.set_gid(f"ci-band-{number}")
    (line,) = ax.step(
        x, y, where="post", color=color, label=label, linestyle="-" if number < 4 else "--"
    )
    line.set_gid(f"curve-{number}")
    censored = e.n_censored > 0
    if not curve.censor_ticks:
        censored = np.zeros_like(censored)
    (ticks,) = ax.plot(
        e.timeline[censored],
        values[censored],
        linestyle="none",
        marker="|",
        markersize=7,
        markeredgewidth=1.2,
        color=color,
    )
    ticks.set_gid(f"censor-ticks-{number}")
    finite = upper[np.isfinite(upper)]
    return float(max(finite.max(initial=0.0), values.max(initial=0.0)))


def _table_groups(
    curves: Sequence[Curve], times: FloatArray, incidence: tuple[str, str] | bool
) -> list[tuple[str, list[tuple[str, IntArray, str]]]]:
    """Risk-table blocks: (heading, [(row label, counts, colour)])."""
    colors = [SERIES_COLORS[i % len(SERIES_COLORS)] for i in range(len(curves))]
    if isinstance(incidence, tuple):
        table = risk_table(curves[0].estimate, times)
        event_label, competing_label = incidence
        rows = [("At risk", table.at_risk, "black"), (event_label, table.events, "black")]
        if table.competing is not None:
            rows.append((competing_label, table.competing, "black"))
        rows.append(("Censored", table.censored, "black"))
        return [("", rows)]
    tables = [risk_table(c.estimate, times) for c in curves]
    if len(curves) == 1:
        t = tables[0]
        return [
            (
                "",
                [
                    ("At risk", t.at_risk, "black"),
                    ("Events", t.events, "black"),
                    ("Censored", t.censored, "black"),
                ],
            )
        ]
    blocks: list[tuple[str, list[tuple[str, IntArray, str]]]] = []
    for heading, attribute in (
        ("Number at risk", "at_risk"),
        ("Cumulative events", "events"),
        ("Cumulative censored", "censored"),
    ):
        rows = [
            (c.label, getattr(t, attribute), color)
            for c, t, color in zip(curves, tables, colors, strict=True)
        ]
        blocks.append((heading, rows))
    return blocks


def _draw_table(
    ax: Axes, times: FloatArray, blocks: list[tuple[str, list[tuple[str, IntArray, str]]]]
) -> None:
    labels: list[tuple[float, str, str, bool]] = []
    y = 0.0
    for heading, rows in blocks:
        if heading:
            labels.append((y, heading, "black", True))
            y += 1
        for label, counts, color in rows:
            labels.append((y, label, color, False))
            for t, count in zip(times, counts, strict=True):
                text = ax.text(t, y, str(int(count)), ha="center", va="center", fontsize=7.5)
                name = f"{heading}-{label}" if heading else label
                text.set_gid(f"risk-{name}-{t:g}".replace(" ", "_"))
            y += 1
    ax.set_ylim(y - 0.5, -0.7)
    ax.set_yticks([p for p, *_ in labels], [text for _, text, *_ in labels])
    for tick, (_, _, color, bold) in zip(ax.get_yticklabels(), labels, strict=True):
        tick.set_color(color)
        tick.set_fontweight("bold" if bold else "normal")
        tick.set_fontsize(7.5)
    ax.tick_params(axis="both", length=0)
    ax.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
