"""One figure style for every mrdtrack plot: colour-blind-safe colours, fonts, export.

Colours are the Okabe–Ito palette (Okabe M, Ito K. *Color Universal Design*, 2002;
recommended by Wong B. Nature Methods 2011;8:441, doi:10.1038/nmeth.1618), which stays
distinguishable under the common colour-vision deficiencies. Every meaning (a therapy,
an MRD status) keeps one colour in all figures, and nothing is told by colour alone:
shapes, fills and labels carry the same information.

Figures are built on :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state), so
that rendering is thread-safe and leaves no open figures behind. SVG output keeps text
as text (searchable, selectable, small) and is deterministic for the same input.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.figure import Figure

from mrdtrack.errors import InputError
from mrdtrack.registry.vocabulary import TreatmentKind

__all__ = [
    "GREY",
    "LIGHT_GREY",
    "MRD_COLORS",
    "OKABE_ITO",
    "SERIES_COLORS",
    "THERAPY_COLORS",
    "FigureFormat",
    "figure_bytes",
    "figure_format",
    "figure_svg",
    "save_figure",
    "styled",
]

OKABE_ITO: Mapping[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The eight Okabe–Ito colours."""

GREY = "#7F7F7F"
LIGHT_GREY = "#D9D9D9"

SERIES_COLORS: tuple[str, ...] = (
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)
"""Colours of groups or patients, in order (yellow last: weakest on white)."""

THERAPY_COLORS: Mapping[TreatmentKind, str] = {
    TreatmentKind.BLINATUMOMAB: OKABE_ITO["blue"],
    TreatmentKind.HCT: OKABE_ITO["orange"],
    TreatmentKind.DLI: OKABE_ITO["reddish_purple"],
    TreatmentKind.TKI: OKABE_ITO["bluish_green"],
    TreatmentKind.CAR_T: OKABE_ITO["yellow"],
    TreatmentKind.INOTUZUMAB: OKABE_ITO["sky_blue"],
    TreatmentKind.CHEMOTHERAPY: GREY,
    TreatmentKind.INTRATHECAL: GREY,
}
"""One colour per kind of therapy, the same in the swimmer, kinetics and report figures."""

MRD_COLORS: Mapping[str, str] = {
    "positive": OKABE_ITO["vermillion"],
    "negative": OKABE_ITO["black"],
    "not_evaluable": GREY,
}
"""MRD-positive samples are vermillion and filled; negatives are open black symbols."""

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_RC: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "Liberation Sans"],
    "font.size": 8.5,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "svg.fonttype": "none",
    # A fixed salt makes the SVG's internal ids, and so the file, reproducible.
    "svg.hashsalt": "mrdtrack",
    "pdf.fonttype": 42,
    "savefig.dpi": 150,
}


class FigureFormat(StrEnum):
    """Export formats (by file extension)."""

    SVG = "svg"
    PNG = "png"
    PDF = "pdf"


@contextmanager
def styled() -> Iterator[None]:
    """Apply the mrdtrack style while figures are built and saved."""
    with mpl.rc_context(_RC):
        yield


def figure_format(path: Path | str) -> FigureFormat:
    """The export format named by a file's extension (``.svg``, ``.png``, ``.pdf``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    try:
        return FigureFormat(suffix)
    except ValueError:
        raise InputError(
            "out",
            str(path),
            "a file name ending in .svg, .png or .pdf",
            "name the output file with the format you want, e.g. swimmer.svg",
        ) from None


def figure_bytes(figure: Figure, fmt: FigureFormat | str, *, dpi: float = 150.0) -> bytes:
    """The figure rendered in ``fmt`` (no metadata dates: the same input, the same bytes)."""
    kind = FigureFormat(fmt)
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(
        kind.value, {}
    )
    with styled():
        figure.savefig(
            buffer, format=kind.value, dpi=dpi, metadata=metadata, facecolor=figure.get_facecolor()
        )
    return buffer.getvalue()


def save_figure(figure: Figure, path: Path | str, *, dpi: float = 150.0) -> Path:
    """Write ``figure`` to ``path`` in the format its extension names."""
    target = Path(path)
    data = figure_bytes(figure, figure_format(target), dpi=dpi)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


_XML_PROLOGUE = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def figure_svg(figure: Figure, *, title: str | None = None) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prologue).

    The fixed width and height are replaced by a ``viewBox`` scaled to the page width, and
    ``title`` becomes the accessible name (``role="img"``, ``aria-label``).
    """
    text = figure_bytes(figure, FigureFormat.SVG).decode("utf-8")
    text = _XML_PROLOGUE.sub("", text, count=1)
    text = re.sub(r'(<svg[^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r"\1", text, count=1)
    label = "" if title is None else f' role="img" aria-label="{_attribute(title)}"'
    return text.replace("<svg ", f'<svg class="figure"{label} ', 1)


def _attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
