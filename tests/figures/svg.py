"""Reading figure SVG in tests: elements by id, marker counts, text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mrdtrack.figures import figure_bytes

SVG = "{http://www.w3.org/2000/svg}"


def tree(figure: Figure) -> ET.Element:
    """The figure's SVG as an element tree."""
    return ET.fromstring(figure_bytes(figure, "svg"))


def ids(root: ET.Element, prefix: str) -> list[str]:
    """Ids of the elements whose id starts with ``prefix``, in document order."""
    return [e.get("id", "") for e in root.iter() if e.get("id", "").startswith(prefix)]


def element(root: ET.Element, element_id: str) -> ET.Element:
    """The element with ``element_id`` (fails the test when absent)."""
    found = [e for e in root.iter() if e.get("id") == element_id]
    assert len(found) == 1, f"{element_id}: {len(found)} elements"
    return found[0]


def markers(root: ET.Element, element_id: str) -> int:
    """Markers drawn by the line artist ``element_id`` (its ``<use>`` elements)."""
    return sum(1 for e in element(root, element_id).iter(f"{SVG}use"))


def text(root: ET.Element, element_id: str) -> str:
    """The text drawn inside ``element_id``."""
    return "".join(element(root, element_id).itertext()).strip()


def xdata(line: Line2D) -> list[float]:
    """A line's x values as floats."""
    return [float(v) for v in np.asarray(line.get_xdata(), dtype=np.float64)]


def ydata(line: Line2D) -> list[float]:
    """A line's y values as floats."""
    return [float(v) for v in np.asarray(line.get_ydata(), dtype=np.float64)]
