"""What every report shares: the Jinja2 environment, the report context, value formatting.

Templates live in ``mrdtrack/reports/templates`` and are rendered with autoescaping on;
only figure SVG produced by matplotlib (which escapes its own text) is marked safe.
A value the source did not state (``reconstructed``) is rendered with a dagger and
explained in the report's data-provenance appendix.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import metadata
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mrdtrack import __version__
from mrdtrack.mrd import MrdStatus
from mrdtrack.mrd.response import MrdResponseCategory
from mrdtrack.mrd.units import format_fraction, format_percent
from mrdtrack.outcomes.basis import ESTIMATOR_VERSION

__all__ = [
    "Cell",
    "ReportContext",
    "category_text",
    "cell",
    "environment",
    "field_reconstructed",
    "fraction_text",
    "months_text",
    "number_text",
    "percent_of",
    "redacted_url",
    "render",
    "software_versions",
    "status_text",
    "svg",
]

DAGGER = "†"

_CATEGORY_TEXT = {
    MrdResponseCategory.MRD_CR: "MRD CR",
    MrdResponseCategory.MRD_FAILURE: "MRD failure",
    MrdResponseCategory.MRD_INTERMEDIATE: "MRD intermediate",
    MrdResponseCategory.NOT_EVALUABLE: "not evaluable",
}
_STATUS_TEXT = {
    MrdStatus.POSITIVE: "positive",
    MrdStatus.NEGATIVE: "negative",
    MrdStatus.POSITIVE_NOT_QUANTIFIABLE: "positive, not quantifiable",
    MrdStatus.NOT_EVALUABLE: "not evaluable",
}


@dataclass(frozen=True, slots=True)
class Cell:
    """A table value and whether it rests on a reconstructed (not stated) source value."""

    text: str
    reconstructed: bool = False

    def __str__(self) -> str:
        return self.text + (DAGGER if self.reconstructed else "")


def cell(value: object, reconstructed: bool = False, *, missing: str = "—") -> Cell:
    """A :class:`Cell` for ``value`` (``None`` → ``missing``, never flagged)."""
    if value is None or value == "":
        return Cell(missing)
    return Cell(str(value), reconstructed)


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Where and when a report was made (passed in by the interface; no clock inside).

    Attributes
    ----------
    generated_at
        The time the report was generated (the CLI passes the current UTC time).
    registry
        The registry URL with any password hidden.
    versions
        Software name → version, printed in the methods and the footer.
    """

    generated_at: datetime
    registry: str
    versions: Mapping[str, str] = field(default_factory=lambda: _versions())


def _versions() -> Mapping[str, str]:
    return software_versions()


def redacted_url(url: str) -> str:
    """The database URL with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsed database URL)"


@cache
def software_versions() -> Mapping[str, str]:
    """Versions of mrdtrack, its estimators and the libraries that computed and drew."""
    versions = {
        "mrdtrack": __version__,
        "estimators": ESTIMATOR_VERSION,
        "Python": platform.python_version(),
    }
    for package in ("numpy", "scipy", "matplotlib", "SQLAlchemy", "Jinja2"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def field_reconstructed(paths: Iterable[str], name: str) -> bool:
    """Whether a registry row's ``reconstructed`` paths cover its field ``name``.

    Paths look like ``treatments[5]`` (the whole row), ``treatments[5].start_date`` or
    ``treatments[5].details.donor_type``; a whole-row path covers every field.
    """
    for path in paths:
        _, dot, tail = path.partition(".")
        if not dot or tail == name or tail.startswith(name + "."):
            return True
    return False


def fraction_text(value: float | None) -> str:
    """An MRD fraction as ``3.8×10⁻³ (0.38 %)``, two significant figures (§0.2)."""
    if value is None:
        return "—"
    return f"{format_fraction(value)} ({format_percent(value)})"


def category_text(category: MrdResponseCategory) -> str:
    """An ASH 2021 category as a report prints it (``MRD CR``, ``MRD failure``)."""
    return _CATEGORY_TEXT[category]


def status_text(status: MrdStatus) -> str:
    """An MRD status as a report prints it (``positive, not quantifiable``)."""
    return _STATUS_TEXT[status]


def number_text(value: object) -> str:
    """A raw input: whole numbers with thousands separators, others to four figures."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return format_fraction(float(value), 3)


def months_text(value: float | None, digits: int = 1) -> str:
    """Months with one decimal (``—`` for ``None``)."""
    return "—" if value is None else f"{value:.{digits}f}"


def percent_of(count: int, total: int) -> str:
    """``9 (82 %)``; ``0`` without a percentage when ``total`` is 0."""
    if total <= 0:
        return str(count)
    # No-break spaces keep "9 (82 %)" on one line in narrow table columns.
    return f"{count}\u00a0({100.0 * count / total:.0f}\u00a0%)"


def svg(markup: str) -> Markup:
    """Mark figure SVG (from :func:`mrdtrack.figures.figure_svg`) safe to inline."""
    return Markup(markup)  # noqa: S704 - matplotlib escapes the text it writes


def _date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


@cache
def environment() -> Environment:
    """The report templates' environment (autoescape on, undefined names are errors)."""
    env = Environment(
        loader=PackageLoader("mrdtrack.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fraction"] = fraction_text
    env.filters["day"] = _date
    env.filters["months"] = months_text
    return env


def render(template: str, **values: Any) -> str:
    """Render one report template."""
    return environment().get_template(template).render(**values)
