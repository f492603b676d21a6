"""analyze_fcs: counts from the file, MRD from the engine, provenance on the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.lab.flow import analyze_fcs
from mrdtrack.mrd import FLOW_PROFILES, MrdStatus, flow_mrd
from tests.lab.fcs_factory import build_fcs

STRATEGY = """
id: flow02
version: "1"
compensation: uncompensated
gates:
  - {id: MNC, type: rectangle, dimensions: [{channel: FSC-A, min: 1000}]}
  - {id: LAIP, parent: MNC, type: rectangle, dimensions: [{channel: CD10, min: 5000}]}
"""


def _file(tmp_path: Path, laip: int, mnc: int, debris: int = 500) -> tuple[Path, Path]:
    rng = np.random.default_rng(laip + mnc)
    fsc = np.concatenate([rng.uniform(2_000, 200_000, mnc), rng.uniform(0, 900, debris)])
    cd10 = rng.uniform(-200, 4_000, mnc + debris)
    cd10[rng.choice(mnc, laip, replace=False)] = rng.uniform(6_000, 50_000, laip)
    cd10[mnc:] = 40_000.0  # bright debris: in the CD10 gate but outside MNC
    path = tmp_path / f"flow_{laip}_{mnc}.fcs"
    events = np.column_stack([fsc, cd10]).astype(np.float32)
    path.write_bytes(build_fcs(events, ["FSC-A", "PE-A"], labels=["", "CD10"]))
    strategy = tmp_path / "flow02.yaml"
    strategy.write_text(STRATEGY, encoding="utf-8")
    return path, strategy


@pytest.mark.parametrize(
    ("laip", "mnc", "status"),
    [
        pytest.param(12, 100_000, MrdStatus.POSITIVE, id="FLOW-02-a"),
        pytest.param(9, 120_000, MrdStatus.NEGATIVE, id="FLOW-02-b"),
        pytest.param(0, 80_000, MrdStatus.NOT_EVALUABLE, id="FLOW-02-d"),
    ],
)
def test_domain_rule_vectors_from_files(
    tmp_path: Path, laip: int, mnc: int, status: MrdStatus
) -> None:
    fcs, strategy = _file(tmp_path, laip, mnc)
    analysis = analyze_fcs(fcs, strategy, leukemic_gate="LAIP", denominator_gate="MNC")
    assert analysis.events_total == mnc + 500
    assert analysis.gate_counts == {"MNC": mnc, "LAIP": laip}
    assert analysis.mrd is not None and analysis.mrd.status is status
    engine = flow_mrd(leukemic_events=laip, total_events=mnc)
    assert analysis.mrd.mrd_fraction == engine.mrd_fraction
    assert analysis.mrd.reasons == engine.reasons
    inputs = analysis.mrd.inputs
    assert inputs["fcs_sha256"] == analysis.file_sha256 and len(analysis.file_sha256) == 64
    assert inputs["strategy"] == "flow02@1"
    assert (inputs["leukemic_gate"], inputs["denominator_gate"]) == ("LAIP", "MNC")


def test_all_events_is_the_default_denominator(tmp_path: Path) -> None:
    fcs, strategy = _file(tmp_path, 12, 100_000)
    analysis = analyze_fcs(
        fcs, strategy, leukemic_gate="LAIP", profile=FLOW_PROFILES["lod20-lloq50"]
    )
    assert analysis.denominator_events == 100_500
    assert analysis.mrd is not None and analysis.mrd.status is MrdStatus.NEGATIVE
    assert analysis.mrd.profile == "lod20-lloq50@1"


def test_laip_outside_the_denominator_is_not_counted(tmp_path: Path) -> None:
    fcs, _ = _file(tmp_path, 30, 100_000)
    strategy = tmp_path / "loose.yaml"
    strategy.write_text(STRATEGY.replace(", parent: MNC", ""), encoding="utf-8")
    analysis = analyze_fcs(fcs, strategy, leukemic_gate="LAIP", denominator_gate="MNC")
    assert analysis.gate_counts["LAIP"] == 530
    assert analysis.leukemic_events == 30
    assert "500 events" in analysis.notes[0]


def test_counts_only_without_a_leukemic_gate(tmp_path: Path) -> None:
    fcs, strategy = _file(tmp_path, 5, 1_000)
    analysis = analyze_fcs(fcs, strategy)
    assert analysis.mrd is None
    assert analysis.to_dict()["gate_counts"] == {"MNC": 1_000, "LAIP": 5}


def test_unknown_gate_is_an_input_error(tmp_path: Path) -> None:
    fcs, strategy = _file(tmp_path, 5, 1_000)
    with pytest.raises(InputError, match="leukemic_gate"):
        analyze_fcs(fcs, strategy, leukemic_gate="Blasts")
