"""Synthetic lab files shared by the lab tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.documents import ALL_GATES, YAML_STRATEGY
from tests.lab.fcs_factory import build_fcs, spillover_text, synthetic_marrow


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def marrow_fcs(lab_dir: Path) -> Path:
    """50,000 compensatable events with a 1 % CD10+CD19+CD34+ CD45dim LAIP."""
    raw, names, labels, spill = synthetic_marrow(50_000, blast_fraction=0.01, seed=3)
    path = lab_dir / "marrow.fcs"
    path.write_bytes(
        build_fcs(raw, names, labels=labels, extra={"$SPILLOVER": spillover_text(names[2:], spill)})
    )
    return path


@pytest.fixture(scope="session")
def all_gates_xml(lab_dir: Path) -> Path:
    path = lab_dir / "all_gates.xml"
    path.write_text(ALL_GATES, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def laip_yaml(lab_dir: Path) -> Path:
    path = lab_dir / "laip.yaml"
    path.write_text(YAML_STRATEGY, encoding="utf-8")
    return path
