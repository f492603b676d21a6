"""The case-report cohort and a small synthetic cohort in SQLite, loaded once per test run.

The figure, report and CLI tests read the same registries (read-only), so each is built
once in a temporary directory removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from mrdtrack.figures import PatientTimeline, load_timelines
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.cohort import RegistryCohort, read_cohort
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.records import CohortDocument, demo_cohort
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.registry.synth import synthetic_cohort


@cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="mrdtrack-figures-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _build(name: str, document: CohortDocument) -> str:
    url = f"sqlite:///{_folder() / name}.sqlite3"
    registry = open_registry(url)
    try:
        init_registry(registry)
        with registry.transaction() as session:
            set_actor(session, AuditActor("tests"))
            load_cohort(session, document)
    finally:
        registry.dispose()
    return url


@cache
def demo_url() -> str:
    """A registry holding the 11 patients of the case series."""
    return _build("demo", demo_cohort())


@cache
def synthetic_url() -> str:
    """A registry holding 120 synthetic patients (seed 7)."""
    return _build("synthetic", synthetic_cohort(120, 7))


def read(url: str) -> tuple[tuple[PatientTimeline, ...], RegistryCohort]:
    """The registry's timelines and its column-wise cohort."""
    registry = open_registry(url)
    try:
        with registry.sessions() as session:
            timelines = load_timelines(session)
        return timelines, read_cohort(registry)
    finally:
        registry.dispose()


@cache
def demo() -> tuple[tuple[PatientTimeline, ...], RegistryCohort]:
    """The case series as timelines and cohort columns."""
    return read(demo_url())


@cache
def synthetic() -> tuple[tuple[PatientTimeline, ...], RegistryCohort]:
    """The synthetic cohort as timelines and cohort columns."""
    return read(synthetic_url())
