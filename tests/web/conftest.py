"""Web fixtures: the shared demo registry, a registry per test, a frozen clock, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.support import DemoRegistry, FrozenClock, TestClient, build_registry, make_client


@pytest.fixture(scope="session")
def demo_registry(tmp_path_factory: pytest.TempPathFactory) -> DemoRegistry:
    """A demo registry shared by the tests that only read (or only add MRD rows)."""
    return build_registry(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture
def fresh_registry(tmp_path: Path) -> DemoRegistry:
    """A registry of this test's own (lockouts, password changes, audit counts)."""
    return build_registry(tmp_path)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def client(demo_registry: DemoRegistry, clock: FrozenClock) -> Iterator[TestClient]:
    with make_client(demo_registry.url, clock) as made:
        yield made
