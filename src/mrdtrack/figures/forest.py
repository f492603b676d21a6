"""Forest plots: cohort rates with binomial intervals, or Cox hazard ratios.

A rate row is ``k / n`` with the interval of
:func:`mrdtrack.outcomes.group_stats.binomial_ci` — by default the Wilson score interval
(Wilson EB. J Am Stat Assoc 1927;22:209-212), which Newcombe recommends for small samples
and rates near 0 or 1 where the Wald interval fails (Newcombe RG. Stat Med
1998;17:857-872), or the Clopper–Pearson exact interval. Rows may carry a ``source`` (a
published trial) so that the cohort can be set beside published results; hazard-ratio
rows come from :class:`~mrdtrack.outcomes.CoxFit` (``exp(β̂)`` and ``exp(β̂ ∓ z·se)``) and
are drawn on a log axis with a line at 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from mrdtrack.errors import InputError
from mrdtrack.figures.style import OKABE_ITO, styled
from mrdtrack.figures.survival_plot import format_p_value
from mrdtrack.figures.swimmer import element_id
from mrdtrack.outcomes import CoxFit
from mrdtrack.outcomes.group_stats import IntervalMethod, binomial_ci

__all__ = [
    "ForestRow",
    "ForestScale",
    "forest_figure",
    "hazard_ratio_rows",
    "rate_row",
]

_INTERVAL_NAMES = {
    IntervalMethod.WILSON: "Wilson score",
    IntervalMethod.CLOPPER_PEARSON: "Clopper–Pearson exact",
}


class ForestScale(StrEnum):
    """What the x axis shows."""

    RATE = "rate"
    HAZARD_RATIO = "hazard-ratio"


@dataclass(frozen=True, slots=True)
class ForestRow:
    """One estimate with its interval and the text printed beside it.

    ``interval`` names how the interval was obtained (printed under the axis).
    """

    label: str
    estimate: float
    ci_lower: float
    ci_upper: float
    detail: str
    source: str | None = None
    interval: str = "Wald"


def rate_row(
    label: str,
    successes: int,
    n: int,
    *,
    method: IntervalMethod | str = IntervalMethod.WILSON,
    confidence_level: float = 0.95,
    source: str | None = None,
) -> ForestRow:
    """A rate row ``successes / n`` with its binomial interval; ``detail`` reads ``9/11``.

    Examples
    --------
    Newcombe 1998, Table I, Wilson score interval (81/263 → 0.2553–0.3662):

    >>> row = rate_row("example", 81, 263)
    >>> round(row.ci_lower, 4), round(row.ci_upper, 4)
    (0.2553, 0.3662)
    """
    interval = binomial_ci(successes, n, method=method, confidence_level=confidence_level)
    return ForestRow(
        label,
        interval.proportion,
        interval.lower,
        interval.upper,
        f"{interval.successes}/{interval.n}",
        source,
        _INTERVAL_NAMES[interval.method],
    )


def hazard_ratio_rows(fit: CoxFit) -> tuple[ForestRow, ...]:
    """One row per covariate of a Cox fit: the hazard ratio and its Wald interval."""
    rows = []
    for index, name in enumerate(fit.names):
        p = float(fit.p_value[index])
        rows.append(
            ForestRow(
                name,
                float(fit.hazard_ratio[index]),
                float(fit.hazard_ratio_ci_lower[index]),
                float(fit.hazard_ratio_ci_upper[index]),
                format_p_value(p),
            )
        )
    return tuple(rows)


def forest_figure(
    rows: Sequence[ForestRow],
    *,
    scale: ForestScale = ForestScale.RATE,
    title: str | None = None,
    confidence_level: float = 0.95,
    width_in: float = 6.6,
) -> Figure:
    """A forest plot: one line per row, estimate ± interval, text columns on the right.

    Published rows (with a ``source``) are drawn as open squares, cohort rows filled.
    """
    if not rows:
        raise InputError("rows", "no rows", "at least one estimate")
    if scale is ForestScale.HAZARD_RATIO and any(r.ci_lower <= 0 for r in rows):
        raise InputError("rows", "a hazard ratio ≤ 0", "hazard ratios and limits > 0")
    level = f"{confidence_level * 100:g} % CI"
    with styled():
        figure = Figure(
            figsize=(width_in, 0.32 * len(rows) + 1.1), facecolor="white", layout="constrained"
        )
        grid = figure.add_gridspec(1, 2, width_ratios=[3.0, 1.7], wspace=0.02)
        ax = figure.add_subplot(grid[0])
        table = figure.add_subplot(grid[1], sharey=ax)
        table.set_axis_off()
        table.set_xlim(0.0, 1.0)
        for y, row in enumerate(rows):
            published = row.source is not None
            color = OKABE_ITO["black"] if published else OKABE_ITO["blue"]
            (whisker,) = ax.plot([row.ci_lower, row.ci_upper], [y, y], color=color, linewidth=1.4)
            whisker.set_gid(element_id("forest-ci", str(y)))
            (point,) = ax.plot(
                [row.estimate],
                [y],
                linestyle="none",
                marker="s",
                markersize=6,
                markerfacecolor="white" if published else color,
                markeredgecolor=color,
            )
            point.set_gid(element_id("forest-estimate", str(y)))
            shown = (
                f"{row.estimate * 100:.0f} % ({row.ci_lower * 100:.0f}–{row.ci_upper * 100:.0f})"
                if scale is ForestScale.RATE
                else f"{row.estimate:.2f} ({row.ci_lower:.2f}–{row.ci_upper:.2f})"
            )
            table.text(0.02, y, row.detail, va="center")
            table.text(0.4, y, shown, va="center")
        table.text(0.02, -0.9, "n" if scale is ForestScale.RATE else "", fontweight="bold")
        estimate_head = "Rate" if scale is ForestScale.RATE else "HR"
        table.text(0.4, -0.9, f"{estimate_head} ({level})", fontweight="bold")
        labels = [r.label if r.source is None else f"{r.label} ({r.source})" for r in rows]
        ax.set_yticks(range(len(rows)), labels)
        ax.set_ylim(len(rows) - 0.5, -1.2)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        if scale is ForestScale.RATE:
            ax.set_xlim(-0.02, 1.02)
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
            methods = ", ".join(sorted({r.interval for r in rows}))
            ax.set_xlabel(f"Proportion of patients ({level}: {methods})")
        else:
            ax.set_xscale("log")
            ax.axvline(1.0, color="#777777", linewidth=0.8)
            ax.set_xlabel(f"Hazard ratio ({level})")
        ax.grid(axis="x", color="#EBEBEB", linewidth=0.6)
        ax.set_axisbelow(True)
        if title:
            ax.set_title(title)
    return figure
