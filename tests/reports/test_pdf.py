"""HTML → PDF with headless Chromium: the PDF renders and its text holds the values."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mrdtrack.errors import InputError
from mrdtrack.reports import chromium_path, html_to_pdf
from mrdtrack.reports import pdf as pdf_module

INSTALL = "run `scripts/install --dev` (Debian's chromium and poppler-utils)"


def _pdftotext(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail(f"pdftotext not found: {INSTALL}", pytrace=False)
    return subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_the_pdf_renders_with_its_text(tmp_path: Path) -> None:
    if chromium_path() is None:
        pytest.fail(f"chromium not found: {INSTALL}", pytrace=False)
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page{size:A4}</style></head>"
        "<body><h1>Cohort report</h1><table><tr><td>SEED1-P05</td><td>97</td><td>CyBu</td>"
        "</tr></table><p>MRD 6.0×10⁻⁴ (0.06 %)</p></body></html>"
    )
    out = html_to_pdf(html, tmp_path / "nested" / "report.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    text = _pdftotext(out)
    for value in ("Cohort report", "SEED1-P05", "97", "CyBu", "0.06 %"):
        assert value in text


def test_missing_chromium_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_module, "chromium_path", lambda: None)
    with pytest.raises(InputError, match=r"scripts/install --dev"):
        html_to_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_a_failing_chromium_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf_module, "chromium_path", lambda: str(fake))
    with pytest.raises(InputError, match="status 3: cannot open display"):
        html_to_pdf("<p>x</p>", tmp_path / "x.pdf")
