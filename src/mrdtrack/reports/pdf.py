"""HTML → PDF with headless Chromium (Debian's ``chromium``; scripts/install --dev).

The report HTML is self-contained, so Chromium prints it from a temporary file with no
network, no profile of the user's (a throw-away ``--user-data-dir``) and no page
header/footer; the A4 page size and margins come from the report's ``@page`` rule.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mrdtrack.errors import InputError

__all__ = ["CHROMIUM_NAMES", "chromium_path", "html_to_pdf"]

CHROMIUM_NAMES = ("chromium", "chromium-browser")
"""Executable names searched on ``PATH``, in order."""

_INSTALL_HINT = (
    "install Debian's chromium package with `scripts/install --dev`, or write the report "
    "as HTML (--out report.html) and print it from a browser"
)


def chromium_path() -> str | None:
    """The Chromium executable on ``PATH`` (``None`` when not installed)."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str, out: Path | str, *, timeout_s: float = 120.0) -> Path:
    """Print ``html`` to the PDF file ``out`` with headless Chromium.

    Raises
    ------
    InputError
        Chromium is not installed (the message says how to install it), fails or runs
        past ``timeout_s``.
    """
    executable = chromium_path()
    if executable is None:
        raise InputError("chromium", None, "headless Chromium to print the PDF", _INSTALL_HINT)
    target = Path(out)
    with tempfile.TemporaryDirectory(prefix="mrdtrack-pdf-") as scratch:
        folder = Path(scratch)
        page = folder / "report.html"
        page.write_text(html, encoding="utf-8")
        printed = folder / "report.pdf"
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ]
        try:
            # The executable is Chromium found on PATH and the arguments are ours.
            finished = subprocess.run(  # noqa: S603
                command, capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise InputError(
                "chromium",
                executable,
                f"a PDF within {timeout_s:g} s",
                "try again, or write HTML (--out report.html)",
            ) from None
        if finished.returncode != 0 or not printed.is_file() or printed.stat().st_size == 0:
            detail = " ".join(finished.stderr.decode("utf-8", "replace").split()[-40:])
            raise InputError(
                "chromium",
                executable,
                "a working headless Chromium",
                f"it exited with status {finished.returncode}: {detail or 'no message'}",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(printed, target)
    return target
