"""One style for every figure; export formats; inline SVG for reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from mrdtrack.errors import InputError
from mrdtrack.figures import FigureFormat, figure_bytes, figure_format, figure_svg, save_figure
from mrdtrack.figures.forest import forest_figure, rate_row
from mrdtrack.figures.style import MRD_COLORS, OKABE_ITO, SERIES_COLORS, THERAPY_COLORS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("a.svg", FigureFormat.SVG, id="svg"),
        pytest.param("a.PNG", FigureFormat.PNG, id="png"),
        pytest.param("dir/a.pdf", FigureFormat.PDF, id="pdf"),
    ],
)
def test_format_from_extension(name: str, expected: FigureFormat) -> None:
    assert figure_format(name) is expected


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(InputError, match=r"\.svg, \.png or \.pdf"):
        figure_format("a.docx")


def test_palette_is_okabe_ito() -> None:
    allowed = {*OKABE_ITO.values(), "#7F7F7F"}
    assert set(SERIES_COLORS) <= allowed
    assert set(THERAPY_COLORS.values()) <= allowed
    assert set(MRD_COLORS.values()) <= allowed


def test_exports(tmp_path: Path) -> None:
    figure = forest_figure([rate_row("x", 3, 10)])
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}
    for suffix, start in magic.items():
        path = save_figure(figure, tmp_path / f"f.{suffix}")
        assert path.read_bytes().startswith(start)
    # Same input, same bytes (no dates, fixed ids).
    first = figure_bytes(forest_figure([rate_row("x", 3, 10)]), "svg")
    assert first == figure_bytes(forest_figure([rate_row("x", 3, 10)]), "svg")


def test_inline_svg_has_no_prologue_and_a_name() -> None:
    markup = figure_svg(forest_figure([rate_row("x", 3, 10)]), title='Rates "A" & <B>')
    assert markup.startswith("<svg ")
    assert 'role="img"' in markup
    assert 'aria-label="Rates &quot;A&quot; &amp; &lt;B&gt;"' in markup
    assert "<?xml" not in markup and "<!DOCTYPE" not in markup
    head = markup.split(">", 1)[0]
    assert "viewBox" in head and " width=" not in head
