"""Report fixtures: the case-series report, built once."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from mrdtrack.figures import PatientTimeline
from mrdtrack.reports import CohortReport, ReportContext, cohort_report
from tests.figures import demo

CONTEXT = ReportContext(
    generated_at=datetime(2024, 6, 3, 12, 0, tzinfo=UTC),
    registry="sqlite:///demo.sqlite3",
    versions={"mrdtrack": "0.1.0", "numpy": "2.x", "matplotlib": "3.x"},
)


@cache
def _report() -> CohortReport:
    timelines, cohort = demo.demo()
    return cohort_report(timelines, cohort, CONTEXT, title="Blinatumomab case series")


@pytest.fixture
def report() -> CohortReport:
    """The cohort report of the 11 case-series patients."""
    return _report()


@pytest.fixture
def timelines() -> tuple[PatientTimeline, ...]:
    """The 11 case-series patients, in study-id order."""
    return demo.demo()[0]


@pytest.fixture
def context() -> ReportContext:
    """A fixed report context (no clock in tests)."""
    return CONTEXT
