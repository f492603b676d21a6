"""Swimmer plot: one bar per patient with therapy phases, responses and outcomes.

Drawn as the case series' Figure 1 (Wang Y-L et al. Hematol Rep 2024;16:347-353
[SEED-1]) from :class:`~mrdtrack.figures.events.SwimmerRow` values, which
:func:`~mrdtrack.figures.events.swimmer_rows` derives from the registry. Each bar row has
three lanes so that events on the same day do not hide each other:

* above the bar — CR reached (triangle), relapse (diamond), CRS (its grade as a digit);
* on the bar — blinatumomab cycles and the time after HCT as coloured segments, TKI as
  a strip along the bar's lower edge, HCT (diamond), DLI (triangle), CAR-T (pentagon);
  death (×) or a censor tick at the end, and an arrow for a patient alive in continuing
  remission;
* below the bar — every MRD result: filled vermillion = positive, open = negative, a
  star where complete molecular remission (CMR) begins, grey × = not evaluable.

SVG elements carry ids (``swimmer-bar-<study id>``, ``swimmer-<kind>-<study id>``) so
that tests and web pages can find a patient's bar and markers. Cohorts beyond one page
(``rows_per_page``) are split into pages on one shared time axis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MultipleLocator

from mrdtrack.errors import InputError
from mrdtrack.figures.events import SwimmerCohort, SwimmerEvent, SwimmerRow
from mrdtrack.figures.style import (
    GREY,
    LIGHT_GREY,
    MRD_COLORS,
    OKABE_ITO,
    THERAPY_COLORS,
    styled,
)
from mrdtrack.figures.timeline import axis_label
from mrdtrack.registry.vocabulary import TreatmentKind

__all__ = [
    "MARKER_STYLES",
    "MarkerStyle",
    "element_id",
    "swimmer_figure",
    "swimmer_pages",
]

_BAR_HALF = 0.16
_LANE = 0.33
_TKI_STRIP = 0.08
_ROW_HEIGHT_IN = 0.38
_MAX_ROWS_PER_PAGE = 60


@dataclass(frozen=True, slots=True)
class MarkerStyle:
    """How one kind of swimmer event is drawn, and its legend text."""

    marker: str
    size: float
    face: str
    edge: str
    lane: float
    legend: str


MARKER_STYLES: dict[SwimmerEvent, MarkerStyle] = {
    SwimmerEvent.CR: MarkerStyle(
        "^", 5.5, OKABE_ITO["bluish_green"], "#00563F", -_LANE, "CR reached"
    ),
    SwimmerEvent.RELAPSE: MarkerStyle(
        "D", 5.5, OKABE_ITO["vermillion"], "#7A3300", -_LANE, "Relapse"
    ),
    SwimmerEvent.CRS: MarkerStyle("$1$", 6.0, "black", "black", -_LANE, "CRS (digit = grade)"),
    SwimmerEvent.HCT: MarkerStyle("D", 6.5, "white", "black", 0.0, "HCT"),
    SwimmerEvent.DLI: MarkerStyle(
        "v", 5.5, OKABE_ITO["reddish_purple"], "#5E2A4C", 0.0, "DLI (each infusion)"
    ),
    SwimmerEvent.CAR_T: MarkerStyle("p", 6.5, OKABE_ITO["yellow"], "black", 0.0, "CAR-T infusion"),
    SwimmerEvent.DEATH: MarkerStyle("X", 7.5, "black", "black", 0.0, "Death"),
    SwimmerEvent.MRD_POSITIVE: MarkerStyle(
        "o", 4.2, MRD_COLORS["positive"], MRD_COLORS["positive"], _LANE, "MRD positive"
    ),
    SwimmerEvent.MRD_NEGATIVE: MarkerStyle(
        "o", 4.2, "white", MRD_COLORS["negative"], _LANE, "MRD negative"
    ),
    SwimmerEvent.CMR: MarkerStyle(
        "*", 8.0, OKABE_ITO["blue"], "#003B5C", _LANE, "CMR begins (first MRD-negative)"
    ),
    SwimmerEvent.MRD_NOT_EVALUABLE: MarkerStyle(
        "x",
        4.5,
        MRD_COLORS["not_evaluable"],
        MRD_COLORS["not_evaluable"],
        _LANE,
        "MRD not evaluable",
    ),
}
"""Marker, size, colours, lane (negative = above the bar) and legend text of each event."""

# Drawing order: later kinds are drawn over earlier ones in the same lane.
_DRAW_ORDER = (
    SwimmerEvent.MRD_NEGATIVE,
    SwimmerEvent.MRD_POSITIVE,
    SwimmerEvent.MRD_NOT_EVALUABLE,
    SwimmerEvent.CMR,
    SwimmerEvent.HCT,
    SwimmerEvent.DLI,
    SwimmerEvent.CAR_T,
    SwimmerEvent.CRS,
    SwimmerEvent.CR,
    SwimmerEvent.RELAPSE,
    SwimmerEvent.DEATH,
)

_SEGMENT_LEGEND = {
    TreatmentKind.BLINATUMOMAB: "Blinatumomab cycle",
    TreatmentKind.HCT: "After HCT",
    TreatmentKind.TKI: "TKI",
}

_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def element_id(*parts: str) -> str:
    """An SVG id from parts: ``element_id("swimmer-bar", "SEED1-P01")`` → ``swimmer-bar-SEED1-P01``.

    Characters other than letters, digits, ``-`` and ``_`` become ``_``.
    """
    return "-".join(_ID_SAFE.sub("_", part) for part in parts)


def swimmer_figure(
    cohort: SwimmerCohort,
    *,
    rows: Sequence[SwimmerRow] | None = None,
    max_month: float | None = None,
    title: str | None = None,
    width_in: float = 7.4,
    show_subtype: bool = True,
) -> Figure:
    """A swimmer plot of ``rows`` (default: every row of the cohort) on one page.

    Parameters
    ----------
    cohort
        Rows and their time axis (:func:`~mrdtrack.figures.events.swimmer_rows`).
    rows
        A subset (a page) of the cohort's rows, in display order.
    max_month
        The right end of the time axis (default: the longest bar); pages share it.
    title
        Figure title.
    width_in
        Figure width in inches (7.4 fits an A4 page between margins).
    show_subtype
        Print each patient's genetic subtype right of the plot.
    """
    shown = tuple(cohort.rows if rows is None else rows)
    if not shown:
        raise InputError("rows", "no patients", "at least one patient with a time zero")
    if len(shown) > _MAX_ROWS_PER_PAGE:
        raise InputError(
            "rows",
            len(shown),
            f"at most {_MAX_ROWS_PER_PAGE} bars on one page",
            "use swimmer_pages() to split the cohort into pages",
        )
    longest = max_month if max_month is not None else max(r.end_month for r in cohort.rows)
    longest = max(longest, 1.0)
    with styled():
        legend_rows = 3
        height = _ROW_HEIGHT_IN * len(shown) + 0.9 + 0.17 * legend_rows + (0.3 if title else 0)
        figure = Figure(figsize=(width_in, height), facecolor="white", layout="constrained")
        ax = figure.add_subplot()
        for index, row in enumerate(shown):
            _draw_row(ax, index, row, longest)
        _axes(ax, shown, longest, axis_label(cohort.time_zero))
        if show_subtype:
            transform = ax.get_yaxis_transform()
            for index, row in enumerate(shown):
                ax.text(
                    1.01,
                    index,
                    row.subtype,
                    transform=transform,
                    va="center",
                    fontsize=7,
                    color="#444444",
                )
        if title:
            ax.set_title(title)
        _legend(figure, ax, shown)
    return figure


def swimmer_pages(
    cohort: SwimmerCohort, *, rows_per_page: int = 40, title: str | None = None
) -> list[Figure]:
    """The cohort's swimmer plot split into pages of ``rows_per_page`` bars (shared axis).

    Readable up to several hundred patients: 500 patients give 13 pages of 40 bars.
    """
    if not 1 <= rows_per_page <= _MAX_ROWS_PER_PAGE:
        raise InputError("rows_per_page", rows_per_page, f"1–{_MAX_ROWS_PER_PAGE} bars per page")
    if not cohort.rows:
        raise InputError("rows", "no patients", "at least one patient with a time zero")
    longest = max(r.end_month for r in cohort.rows)
    pages = [
        cohort.rows[start : start + rows_per_page]
        for start in range(0, len(cohort.rows), rows_per_page)
    ]
    figures = []
    for number, page in enumerate(pages, start=1):
        heading = title
        if len(pages) > 1:
            heading = f"{title or 'Swimmer plot'} (page {number} of {len(pages)})"
        figures.append(swimmer_figure(cohort, rows=page, max_month=longest, title=heading))
    return figures


def _draw_row(ax: Axes, y: int, row: SwimmerRow, longest: float) -> None:
    sid = row.study_id
    bar = Rectangle(
        (0.0, y - _BAR_HALF),
        row.end_month,
        2 * _BAR_HALF,
        facecolor=LIGHT_GREY,
        edgecolor="none",
        zorder=1,
    )
    bar.set_gid(element_id("swimmer-bar", sid))
    ax.add_patch(bar)
    for number, segment in enumerate(row.segments):
        width = max(segment.end_month - segment.start_month, 0.0)
        if segment.kind is TreatmentKind.TKI:
            bottom, height, alpha, z = y + _BAR_HALF - _TKI_STRIP, _TKI_STRIP, 1.0, 3
        elif segment.kind is TreatmentKind.HCT:
            bottom, height, alpha, z = y - _BAR_HALF, 2 * _BAR_HALF, 0.45, 2
        elif segment.kind is TreatmentKind.BLINATUMOMAB:
            bottom, height, alpha, z = y - _BAR_HALF, 2 * _BAR_HALF, 1.0, 2
        else:
            continue
        patch = Rectangle(
            (segment.start_month, bottom),
            width,
            height,
            facecolor=THERAPY_COLORS[segment.kind],
            edgecolor="none",
            alpha=alpha,
            zorder=z,
        )
        patch.set_gid(element_id("swimmer-segment", segment.kind.value, sid, str(number)))
        ax.add_patch(patch)
    for kind in _DRAW_ORDER:
        markers = row.markers_of(kind)
        if not markers:
            continue
        style = MARKER_STYLES[kind]
        if kind is SwimmerEvent.CRS:
            for number, marker in enumerate(markers):
                crs = ax.plot(
                    [marker.month],
                    [y + style.lane],
                    linestyle="none",
                    marker=f"${marker.grade}$",
                    markersize=style.size,
                    color="black",
                    zorder=6,
                )[0]
                crs.set_gid(element_id("swimmer-crs", sid, str(number)))
            continue
        (line,) = ax.plot(
            [m.month for m in markers],
            [y + style.lane] * len(markers),
            linestyle="none",
            marker=style.marker,
            markersize=style.size,
            markerfacecolor=style.face,
            markeredgecolor=style.edge,
            markeredgewidth=0.9,
            zorder=7 if kind is SwimmerEvent.DEATH else 5,
            clip_on=False,
        )
        line.set_gid(element_id("swimmer", kind.value, sid))
    if row.censored:
        (tick,) = ax.plot(
            [row.end_month],
            [y],
            linestyle="none",
            marker="|",
            markersize=11,
            markeredgewidth=1.6,
            color="black",
            zorder=6,
        )
        tick.set_gid(element_id("swimmer-censored", sid))
    if row.in_continuing_remission:
        length = 0.045 * longest
        arrow = ax.annotate(
            "",
            xy=(row.end_month + length, y),
            xytext=(row.end_month + 0.15 * length, y),
            arrowprops={"arrowstyle": "-|>", "color": GREY, "lw": 1.4, "mutation_scale": 9},
            zorder=4,
            annotation_clip=False,
        )
        if arrow.arrow_patch is not None:
            # The arrow is drawn by its patch; an empty annotation text writes nothing.
            arrow.arrow_patch.set_gid(element_id("swimmer-ongoing", sid))


def _axes(ax: Axes, rows: Sequence[SwimmerRow], longest: float, xlabel: str) -> None:
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_yticks(range(len(rows)), [r.study_id for r in rows])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(-0.025 * longest, longest * 1.08)
    step = next(s for s in (1, 2, 3, 6, 12, 24, 36, 60, 120) if longest / s <= 10)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#EBEBEB", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)


def _legend(figure: Figure, ax: Axes, rows: Sequence[SwimmerRow]) -> None:
    handles: list[Patch | Line2D] = []
    present_segments = {s.kind for r in rows for s in r.segments}
    for therapy, text in _SEGMENT_LEGEND.items():
        if therapy in present_segments:
            alpha = 0.45 if therapy is TreatmentKind.HCT else 1.0
            handles.append(Patch(facecolor=THERAPY_COLORS[therapy], alpha=alpha, label=text))
    handles.append(Patch(facecolor=LIGHT_GREY, label="Follow-up"))
    present = {m.kind for r in rows for m in r.markers}
    for kind in (
        SwimmerEvent.CR,
        SwimmerEvent.RELAPSE,
        SwimmerEvent.CRS,
        SwimmerEvent.HCT,
        SwimmerEvent.DLI,
        SwimmerEvent.CAR_T,
        SwimmerEvent.MRD_POSITIVE,
        SwimmerEvent.MRD_NEGATIVE,
        SwimmerEvent.CMR,
        SwimmerEvent.MRD_NOT_EVALUABLE,
        SwimmerEvent.DEATH,
    ):
        if kind not in present:
            continue
        style = MARKER_STYLES[kind]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=style.marker,
                markersize=style.size,
                markerfacecolor=style.face,
                markeredgecolor=style.edge,
                color=style.face,
                label=style.legend,
            )
        )
    if any(r.censored for r in rows):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="|",
                markersize=9,
                markeredgewidth=1.6,
                color="black",
                label="Censored (alive at last contact)",
            )
        )
    if any(r.in_continuing_remission for r in rows):
        handles.append(
            Line2D([], [], color=GREY, marker=">", markersize=5, label="In continuing remission")
        )
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncol=4,
        handlelength=1.6,
        columnspacing=1.2,
        borderaxespad=0.2,
    )
