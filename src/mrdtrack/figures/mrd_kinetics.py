"""MRD kinetics on a log scale, per patient and for a cohort.

Feature 21 of the spec: the trajectory shows each result's method (marker shape) and
achieved sensitivity; a not-detected result is drawn **at its achieved sensitivity with
an open symbol, never at zero** (domain rules §0.2: "not detected" is ``detected=False``
plus the limit reached). Positive-not-quantifiable results are half-filled, at their
level when one was computed, else at the sensitivity. Not-evaluable samples are not
given a level: a grey × on the lower edge marks their date.

Reference lines at 10⁻⁴ (0.01 %: the standard MRD-negativity cut-off, SEED-1; ASH Educ
2021) and 10⁻³ (0.1 %: the FDA label's MRD-positive indication), domain rules §5.1. The
right axis repeats the scale in percent. Blinatumomab cycles are shaded, HCT is a
vertical line, DLI and CAR-T infusions are marked along the top, TKI as a band.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
from numpy.typing import ArrayLike

from mrdtrack.errors import InputError
from mrdtrack.figures.style import (
    GREY,
    MRD_COLORS,
    SERIES_COLORS,
    THERAPY_COLORS,
    styled,
)
from mrdtrack.figures.swimmer import element_id
from mrdtrack.figures.timeline import PatientTimeline, TimeZero, axis_label, months_between
from mrdtrack.mrd import MrdMethod, MrdStatus
from mrdtrack.registry.vocabulary import TreatmentKind

if TYPE_CHECKING:
    from matplotlib.typing import FillStyleType as FillStyle
    from matplotlib.typing import LegendLocType as LegendLocation

__all__ = [
    "METHOD_MARKERS",
    "THRESHOLD_LINES",
    "MrdPoint",
    "MrdSeries",
    "PointKind",
    "TherapyMark",
    "mrd_kinetics_figure",
    "mrd_kinetics_grid",
    "mrd_series",
]

METHOD_MARKERS: dict[MrdMethod, tuple[str, str]] = {
    MrdMethod.FLOW: ("o", "Flow cytometry"),
    MrdMethod.RQ_PCR: ("s", "RQ-PCR (fusion transcript)"),
    MrdMethod.IGTR_PCR: ("D", "Ig/TR RQ-PCR"),
    MrdMethod.NGS: ("^", "NGS (Ig/TR clonotypes)"),
}
"""Marker shape and legend name of each MRD method."""

THRESHOLD_LINES: tuple[tuple[float, str], ...] = (
    (1e-4, "10⁻⁴ (0.01 %)"),
    (1e-3, "10⁻³ (0.1 %)"),
)
"""The reference lines drawn on every kinetics plot (domain rules §5.1)."""

_SHADED = (TreatmentKind.BLINATUMOMAB,)
_MARKED = (TreatmentKind.DLI, TreatmentKind.CAR_T)


class PointKind(StrEnum):
    """How a result is drawn."""

    DETECTED = "detected"
    """Filled symbol at the measured level."""
    NOT_DETECTED = "not_detected"
    """Open symbol at the achieved sensitivity."""
    NOT_QUANTIFIABLE = "not_quantifiable"
    """Half-filled symbol at the level (or the sensitivity when no level was computed)."""
    NOT_EVALUABLE = "not_evaluable"
    """Grey × on the lower edge; no level."""


@dataclass(frozen=True, slots=True)
class MrdPoint:
    """One stored MRD result placed on a time axis (months from time zero)."""

    result_id: int
    sample_id: int
    month: float
    timepoint: str
    method: MrdMethod
    status: MrdStatus
    detected: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None

    @property
    def kind(self) -> PointKind:
        """How the point is drawn (see :class:`PointKind`)."""
        if self.status is MrdStatus.NOT_EVALUABLE:
            return PointKind.NOT_EVALUABLE
        if self.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE:
            return PointKind.NOT_QUANTIFIABLE
        if self.detected and self.mrd_fraction is not None:
            return PointKind.DETECTED
        if not self.detected and self.sensitivity_fraction is not None:
            return PointKind.NOT_DETECTED
        return PointKind.NOT_EVALUABLE

    @property
    def level(self) -> float | None:
        """The y value drawn: the level, or the achieved sensitivity when not detected."""
        kind = self.kind
        if kind is PointKind.DETECTED:
            return self.mrd_fraction
        if kind is PointKind.NOT_DETECTED:
            return self.sensitivity_fraction
        if kind is PointKind.NOT_QUANTIFIABLE:
            return self.mrd_fraction or self.sensitivity_fraction
        return None


@dataclass(frozen=True, slots=True)
class TherapyMark:
    """A therapy on the kinetics time axis (``end_month`` ``None``: a single day)."""

    kind: TreatmentKind
    start_month: float
    end_month: float | None
    label: str


@dataclass(frozen=True, slots=True)
class MrdSeries:
    """One patient's MRD results and therapies on one time axis."""

    study_id: str
    time_zero: TimeZero
    points: tuple[MrdPoint, ...]
    therapies: tuple[TherapyMark, ...]
    end_month: float


def mrd_series(
    timeline: PatientTimeline, *, time_zero: TimeZero = TimeZero.BLINATUMOMAB
) -> MrdSeries:
    """A patient's stored MRD results and therapies on the chosen time axis.

    Results before time zero are kept (negative months) so that the MRD that led to
    treatment is seen. Without the anchor (e.g. no blinatumomab), the diagnosis is used.
    """
    origin = timeline.origin(time_zero)
    axis = time_zero
    if origin is None:
        origin, axis = timeline.diagnosis_date, TimeZero.DIAGNOSIS
    if origin is None:
        raise InputError(
            "time_zero",
            time_zero.value,
            "a patient with a diagnosis date or a blinatumomab course",
            f"record the diagnosis of {timeline.study_id} first",
        )

    def month(on: date) -> float:
        return months_between(origin, on)

    points = tuple(
        MrdPoint(
            r.result_id,
            r.sample_id,
            month(r.sample_date),
            r.timepoint,
            r.method,
            r.status,
            r.detected,
            r.mrd_fraction,
            r.sensitivity_fraction,
        )
        for r in timeline.mrd
    )
    end = timeline.end_of_follow_up
    therapies = []
    for t in timeline.treatments:
        if t.kind in (*_SHADED, TreatmentKind.TKI):
            stop = month(t.end_date or end)
            therapies.append(
                TherapyMark(t.kind, month(t.start_date), stop, _label(t.kind, t.cycle))
            )
        elif t.kind in (*_MARKED, TreatmentKind.HCT):
            therapies.append(
                TherapyMark(t.kind, month(t.start_date), None, _label(t.kind, t.cycle))
            )
    return MrdSeries(timeline.study_id, axis, points, tuple(therapies), month(end))


def _label(kind: TreatmentKind, cycle: int | None) -> str:
    names = {
        TreatmentKind.BLINATUMOMAB: "Blina",
        TreatmentKind.HCT: "HCT",
        TreatmentKind.DLI: "DLI",
        TreatmentKind.CAR_T: "CAR-T",
        TreatmentKind.TKI: "TKI",
    }
    name = names.get(kind, kind.value)
    return f"{name} {cycle}" if cycle else name


def mrd_kinetics_figure(
    series: Sequence[MrdSeries],
    *,
    title: str | None = None,
    width_in: float = 6.6,
    height_in: float = 3.6,
) -> Figure:
    """MRD over time for one patient, or several overlaid (one colour per patient).

    With one patient, detected results are vermillion and therapies are shaded; with
    several, each patient has its colour and therapies are not drawn (see
    :func:`mrd_kinetics_grid` for one panel per patient).
    """
    if not series:
        raise InputError("series", "no patients", "at least one patient's MRD series")
    with styled():
        figure = Figure(figsize=(width_in, height_in), facecolor="white", layout="constrained")
        ax = figure.add_subplot()
        single = len(series) == 1
        bounds = _bounds(series)
        for number, one in enumerate(series):
            color = MRD_COLORS["positive"] if single else SERIES_COLORS[number % len(SERIES_COLORS)]
            _draw_series(ax, one, color, bounds)
        if single:
            _draw_therapies(ax, series[0], bounds)
        _format_axes(ax, series, bounds)
        if title:
            ax.set_title(title)
        _legend(figure, series, single)
    return figure


def mrd_kinetics_grid(
    series: Sequence[MrdSeries],
    *,
    columns: int = 3,
    title: str | None = None,
    width_in: float = 7.4,
) -> Figure:
    """One small kinetics panel per patient on shared axes (a cohort at a glance)."""
    if not series:
        raise InputError("series", "no patients", "at least one patient's MRD series")
    if columns < 1:
        raise InputError("columns", columns, "at least 1 column")
    rows = math.ceil(len(series) / columns)
    with styled():
        figure = Figure(
            figsize=(width_in, 1.75 * rows + 0.9), facecolor="white", layout="constrained"
        )
        axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        bounds = _bounds(series)
        for index, ax in enumerate(axes.flat):
            if index >= len(series):
                ax.set_axis_off()
                continue
            one = series[index]
            _draw_series(ax, one, MRD_COLORS["positive"], bounds, marker_size=4.5)
            _draw_therapies(ax, one, bounds, labels=False)
            _format_axes(ax, [one], bounds, compact=True)
            ax.set_title(one.study_id, fontsize=8.5)
            ax.set_xlabel("")
            ax.set_ylabel("")
            # The last panel of each column carries the time labels (sharex hides them).
            ax.tick_params(axis="x", labelbottom=index >= len(series) - columns)
        figure.supxlabel(axis_label(series[0].time_zero), fontsize=9)
        figure.supylabel("MRD (fraction; 10⁻⁴ = 0.01 %)", fontsize=9)
        if title:
            figure.suptitle(title, fontsize=10, fontweight="bold", x=0.01, ha="left")
        _legend(figure, series, True, location="outside upper center")
    return figure


@dataclass(frozen=True, slots=True)
class _Bounds:
    x_min: float
    x_max: float
    y_min: float
    y_max: float


def _bounds(series: Sequence[MrdSeries]) -> _Bounds:
    levels = [p.level for s in series for p in s.points if p.level is not None]
    months = [p.month for s in series for p in s.points]
    months += [s.end_month for s in series]
    low = min([1e-6, *(v / 3 for v in levels)])
    high = max([1.0, *(v * 3 for v in levels)])
    x_min, x_max = min([0.0, *months]), max([1.0, *months])
    pad = 0.03 * (x_max - x_min)
    return _Bounds(x_min - pad, x_max + pad, 10 ** math.floor(math.log10(low)), high)


def _draw_series(
    ax: Axes, series: MrdSeries, color: str, bounds: _Bounds, marker_size: float = 6.0
) -> None:
    drawn = sorted(
        ((p.month, p.level) for p in series.points if p.level is not None), key=lambda p: p[0]
    )
    if len(drawn) > 1:
        (path,) = ax.plot(
            [month for month, _ in drawn],
            [level for _, level in drawn],
            color=color if color != MRD_COLORS["positive"] else GREY,
            linewidth=1.0,
            alpha=0.8,
            zorder=3,
        )
        path.set_gid(element_id("mrd-path", series.study_id))
    for point in series.points:
        shape = METHOD_MARKERS[point.method][0]
        kind = point.kind
        gid = element_id("mrd-point", series.study_id, str(point.result_id), kind.value)
        if kind is PointKind.NOT_EVALUABLE:
            (mark,) = ax.plot(
                [point.month],
                [bounds.y_min * 1.4],
                linestyle="none",
                marker="x",
                markersize=marker_size,
                color=MRD_COLORS["not_evaluable"],
                zorder=4,
            )
        else:
            edge = color if kind is not PointKind.NOT_DETECTED else "black"
            (mark,) = ax.plot(
                [point.month],
                [point.level or bounds.y_min],
                linestyle="none",
                marker=shape,
                markersize=marker_size,
                markeredgewidth=1.1,
                markeredgecolor=edge,
                markerfacecolor="white" if kind is PointKind.NOT_DETECTED else color,
                fillstyle="bottom" if kind is PointKind.NOT_QUANTIFIABLE else "full",
                markerfacecoloralt="white",
                zorder=5,
            )
        mark.set_gid(gid)


def _draw_therapies(ax: Axes, series: MrdSeries, bounds: _Bounds, labels: bool = True) -> None:
    top = bounds.y_max
    for number, t in enumerate(series.therapies):
        gid = element_id("mrd-therapy", t.kind.value, series.study_id, str(number))
        color = THERAPY_COLORS[t.kind]
        if t.kind in _SHADED and t.end_month is not None:
            span = ax.axvspan(t.start_month, t.end_month, color=color, alpha=0.13, lw=0, zorder=1)
            span.set_gid(gid)
        elif t.kind is TreatmentKind.TKI and t.end_month is not None:
            band = ax.fill_between(
                [t.start_month, t.end_month],
                top / 1.35,
                top / 1.05,
                color=color,
                alpha=0.55,
                lw=0,
                zorder=2,
            )
            band.set_gid(gid)
        elif t.kind is TreatmentKind.HCT:
            line = ax.axvline(t.start_month, color=color, linewidth=1.6, zorder=2)
            line.set_gid(gid)
            if labels:
                ax.text(
                    t.start_month,
                    top / 2.2,
                    "HCT ",
                    color="#8A5F00",
                    fontsize=7.5,
                    va="center",
                    ha="right",
                    zorder=6,
                )
        elif t.kind in _MARKED:
            (mark,) = ax.plot(
                [t.start_month],
                [top / 2.2],
                linestyle="none",
                marker="v" if t.kind is TreatmentKind.DLI else "p",
                markersize=5.5,
                markerfacecolor=color,
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=6,
            )
            mark.set_gid(gid)


def _format_axes(
    ax: Axes, series: Sequence[MrdSeries], bounds: _Bounds, compact: bool = False
) -> None:
    ax.set_yscale("log")
    ax.set_ylim(bounds.y_min, bounds.y_max)
    ax.set_xlim(bounds.x_min, bounds.x_max)
    decades = [
        10.0**e
        for e in range(round(math.log10(bounds.y_min)), math.floor(math.log10(bounds.y_max)) + 1)
    ]
    ax.yaxis.set_major_locator(FixedLocator(decades))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(_decade_label))
    for level, text in THRESHOLD_LINES:
        line = ax.axhline(level, color="#555555", linestyle=(0, (4, 3)), linewidth=0.8, zorder=2)
        line.set_gid(element_id("mrd-threshold", f"{level:g}"))
        if not compact:
            ax.text(
                bounds.x_max,
                level * 1.15,
                text,
                ha="right",
                va="bottom",
                fontsize=7,
                color="#555555",
            )
    ax.axvline(0.0, color="#BBBBBB", linewidth=0.6, zorder=0)
    ax.set_xlabel(axis_label(series[0].time_zero))
    ax.set_ylabel("MRD (fraction)")
    if not compact:
        percent = ax.secondary_yaxis("right", functions=(_to_percent, _from_percent))
        percent.yaxis.set_major_locator(FixedLocator([d * 100 for d in decades]))
        percent.yaxis.set_minor_locator(NullLocator())
        percent.yaxis.set_major_formatter(FuncFormatter(_percent_label))
        percent.set_ylabel("MRD (%)")


def _to_percent(values: ArrayLike) -> ArrayLike:
    return np.asarray(values) * 100.0


def _from_percent(values: ArrayLike) -> ArrayLike:
    return np.asarray(values) / 100.0


def _percent_label(value: float, _position: int | None = None) -> str:
    return f"{np.format_float_positional(value, precision=8, trim='-')} %"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade_label(value: float, _position: int | None = None) -> str:
    exponent = round(math.log10(value))
    if exponent == 0:
        return "1"
    return f"10{str(exponent).translate(_SUPERSCRIPT)}"


def _legend(
    figure: Figure,
    series: Sequence[MrdSeries],
    single: bool,
    location: LegendLocation = "outside lower center",
) -> None:
    handles: list[Line2D | Patch] = []
    methods = {p.method for s in series for p in s.points}
    for method, (shape, name) in METHOD_MARKERS.items():
        if method in methods:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=shape,
                    markerfacecolor="#BBBBBB",
                    markeredgecolor="black",
                    label=name,
                )
            )
    kinds = {p.kind for s in series for p in s.points}
    fill = MRD_COLORS["positive"] if single else "#555555"
    entries: tuple[tuple[PointKind, FillStyle, str, str, str], ...] = (
        (PointKind.DETECTED, "full", fill, fill, "Detected (at its level)"),
        (
            PointKind.NOT_DETECTED,
            "full",
            "white",
            "black",
            "Not detected (open; at achieved sensitivity)",
        ),
        (PointKind.NOT_QUANTIFIABLE, "bottom", fill, fill, "Positive, not quantifiable"),
    )
    for kind, fillstyle, face, edge, text in entries:
        if kind in kinds:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    fillstyle=fillstyle,
                    markerfacecolor=face,
                    markerfacecoloralt="white",
                    markeredgecolor=edge,
                    label=text,
                )
            )
    if PointKind.NOT_EVALUABLE in kinds:
        handles.append(
            Line2D(
                [], [], linestyle="none", marker="x", color=GREY, label="Not evaluable (no level)"
            )
        )
    if single:
        therapies = {t.kind for s in series for t in s.therapies}
        if TreatmentKind.BLINATUMOMAB in therapies:
            handles.append(
                Patch(
                    facecolor=THERAPY_COLORS[TreatmentKind.BLINATUMOMAB],
                    alpha=0.25,
                    label="Blinatumomab cycle",
                )
            )
        if TreatmentKind.HCT in therapies:
            handles.append(Line2D([], [], color=THERAPY_COLORS[TreatmentKind.HCT], label="HCT"))
        if TreatmentKind.TKI in therapies:
            handles.append(
                Patch(facecolor=THERAPY_COLORS[TreatmentKind.TKI], alpha=0.55, label="TKI")
            )
        for therapy, shape, name in (
            (TreatmentKind.DLI, "v", "DLI"),
            (TreatmentKind.CAR_T, "p", "CAR-T"),
        ):
            if therapy in therapies:
                handles.append(
                    Line2D(
                        [],
                        [],
                        linestyle="none",
                        marker=shape,
                        markerfacecolor=THERAPY_COLORS[therapy],
                        markeredgecolor="black",
                        label=name,
                    )
                )
    else:
        for number, one in enumerate(series):
            color = SERIES_COLORS[number % len(SERIES_COLORS)]
            handles.append(Line2D([], [], color=color, label=one.study_id))
    figure.legend(handles=handles, loc=location, ncol=3, handlelength=1.6)
