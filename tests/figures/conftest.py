"""Figure fixtures: the demo registries and the registry fixture of both back ends."""

from __future__ import annotations

import pytest

from mrdtrack.figures import PatientTimeline
from tests.figures import demo
from tests.registry.conftest import registry, registry_url

__all__ = ["registry", "registry_url"]


@pytest.fixture
def timelines() -> tuple[PatientTimeline, ...]:
    """The 11 case-series patients, in study-id order."""
    return demo.demo()[0]


@pytest.fixture
def patient(timelines: tuple[PatientTimeline, ...]) -> PatientTimeline:
    """SEED1-P05: HCT, two DLIs, relapse and death (the case series' DOD row)."""
    return timelines[4]
