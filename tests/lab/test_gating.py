"""Gate membership against FlowKit (the GatingML 2.0 reference implementation in Python)."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError
from mrdtrack.lab.fcs import parse_spillover, read_fcs
from mrdtrack.lab.gating import (
    BooleanGate,
    BooleanOperator,
    Dimension,
    GatingStrategy,
    PolygonGate,
    RectangleGate,
    _pull_back,
    apply_strategy,
)
from mrdtrack.lab.gatingml import load_strategy, parse_gatingml
from mrdtrack.lab.transforms import AsinhTransform, LogicleTransform, LogTransform
from tests.lab.documents import GML_HEAD, LAIP_POLYGON, TRANSFORMS, dim
from tests.lab.fcs_factory import FLUORO, build_fcs, spill_matrix, synthetic_marrow

flowkit: Any = importlib.import_module("flowkit")


def _flowkit_masks(
    strategy_path: Path, fcs_path: Path, gate_ids: tuple[str, ...]
) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strategy = flowkit.parse_gating_xml(str(strategy_path))
        result = strategy.gate_sample(flowkit.Sample(str(fcs_path)))
        return {g: result.get_gate_membership(g) for g in gate_ids}


def test_every_gate_type_matches_flowkit_event_by_event(
    marrow_fcs: Path, all_gates_xml: Path
) -> None:
    strategy = load_strategy(all_gates_xml)
    result = apply_strategy(strategy, read_fcs(marrow_fcs))
    reference = _flowkit_masks(all_gates_xml, marrow_fcs, strategy.gate_ids)
    assert set(result.counts) == {
        "Lymph", "CD45dim", "LAIP", "Ell", "LogRange", "Qpp", "Qnm", "Qnn", "NotEllAndQ",
        "Or1", "Not1",
    }  # fmt: skip
    for gate_id in strategy.gate_ids:
        np.testing.assert_array_equal(result.masks[gate_id], reference[gate_id], err_msg=gate_id)
        assert result.counts[gate_id] == int(reference[gate_id].sum())
    # The synthetic LAIP is there and is a subset of its parents.
    assert 300 < result.counts["LAIP"] < result.counts["CD45dim"] < result.counts["Lymph"]
    assert not np.any(result.masks["LAIP"] & ~result.masks["CD45dim"])


def test_chunking_does_not_change_membership(marrow_fcs: Path, all_gates_xml: Path) -> None:
    strategy = load_strategy(all_gates_xml)
    fcs = read_fcs(marrow_fcs)
    whole = apply_strategy(strategy, fcs, chunk_events=10**9)
    small = apply_strategy(strategy, fcs, chunk_events=997)
    for gate_id in strategy.gate_ids:
        np.testing.assert_array_equal(whole.masks[gate_id], small.masks[gate_id])


def test_yaml_strategy_equals_gatingml(
    marrow_fcs: Path, all_gates_xml: Path, laip_yaml: Path
) -> None:
    fcs = read_fcs(marrow_fcs)
    from_yaml = apply_strategy(load_strategy(laip_yaml), fcs)
    from_xml = apply_strategy(load_strategy(all_gates_xml), fcs)
    for gate_id in ("Lymph", "CD45dim", "LAIP"):
        np.testing.assert_array_equal(from_yaml.masks[gate_id], from_xml.masks[gate_id])


def test_spectrum_matrix_compensation_matches_flowkit(tmp_path: Path) -> None:
    raw, names, labels, spill = synthetic_marrow(20_000, blast_fraction=0.02, seed=11)
    fcs_path = tmp_path / "nospill.fcs"
    fcs_path.write_bytes(build_fcs(raw, names, labels=labels))
    rows = "".join(
        "<transforms:spectrum>"
        + "".join(f'<transforms:coefficient transforms:value="{v:.17g}"/>' for v in row)
        + "</transforms:spectrum>"
        for row in spill
    )
    dims = "".join(f'<data-type:fcs-dimension data-type:name="{n}"/>' for n in FLUORO)
    doc = (
        GML_HEAD
        + TRANSFORMS
        + '<transforms:spectrumMatrix transforms:id="M1"><transforms:fluorochromes>'
        + dims
        + "</transforms:fluorochromes><transforms:detectors>"
        + dims
        + "</transforms:detectors>"
        + rows
        + "</transforms:spectrumMatrix>"
        + '<gating:PolygonGate gating:id="LAIP">'
        + dim("PE-A", comp="M1")
        + dim("PE-Cy7-A", comp="M1")
        + LAIP_POLYGON
        + "</gating:PolygonGate></gating:Gating-ML>"
    )
    xml_path = tmp_path / "m1.xml"
    xml_path.write_text(doc, encoding="utf-8")
    ours = apply_strategy(load_strategy(xml_path), read_fcs(fcs_path))
    theirs = _flowkit_masks(xml_path, fcs_path, ("LAIP",))
    np.testing.assert_array_equal(ours.masks["LAIP"], theirs["LAIP"])
    # The same matrix supplied in place of the file's (absent) $SPILLOVER gives the same gate.
    fcs_doc = doc.replace('gating:compensation-ref="M1"', 'gating:compensation-ref="FCS"')
    supplied = parse_spillover(
        f"{len(FLUORO)},{','.join(FLUORO)}," + ",".join(f"{v:.17g}" for v in spill.ravel()), "lab"
    )
    with_matrix = apply_strategy(
        parse_gatingml(fcs_doc.encode()), read_fcs(fcs_path), spillover=supplied
    )
    np.testing.assert_array_equal(with_matrix.masks["LAIP"], ours.masks["LAIP"])
    without = apply_strategy(parse_gatingml(fcs_doc.encode()), read_fcs(fcs_path))
    assert "no $SPILLOVER" in without.notes[0]
    assert without.counts["LAIP"] != ours.counts["LAIP"]


def _rect(gate_id: str, parent: str | None = None) -> RectangleGate:
    return RectangleGate(gate_id, parent, (Dimension("FSC-A"),), ((0.0, None),))


@pytest.mark.parametrize(
    ("gates", "needle"),
    [
        pytest.param((_rect("A", "B"), _rect("B", "A")), "no cycles", id="cycle"),
        pytest.param((_rect("A", "Z"),), "reference", id="unknown-parent"),
        pytest.param((_rect("A"), _rect("A")), "unique", id="duplicate-id"),
        pytest.param(
            (_rect("A"), BooleanGate("B", None, BooleanOperator.NOT, (("A", False), ("A", True)))),
            "operands",
            id="not-with-two-operands",
        ),
        pytest.param(
            (PolygonGate("P", None, (Dimension("FSC-A"), Dimension("SSC-A")), ((0, 0), (1, 1))),),
            "vertices",
            id="two-vertex-polygon",
        ),
        pytest.param(
            (RectangleGate("R", None, (Dimension("FSC-A", transform="nope"),), ((0.0, 1.0),)),),
            "transformation-ref",
            id="unknown-transform",
        ),
        pytest.param(
            (RectangleGate("R", None, (Dimension("FSC-A", compensation="M9"),), ((0.0, 1.0),)),),
            "compensation-ref",
            id="unknown-matrix",
        ),
        pytest.param(
            (RectangleGate("R", None, (Dimension("FSC-A"),), ((None, None),)),), "bounds", id="open"
        ),
    ],
)
def test_invalid_hierarchies_are_refused(gates: tuple[Any, ...], needle: str) -> None:
    with pytest.raises(ImportValidationError, match=needle):
        GatingStrategy(id="s", version="1", gates=gates, source="s.yaml")


def test_gates_are_ordered_parents_first() -> None:
    strategy = GatingStrategy(
        id="s",
        version="1",
        gates=(_rect("C", "B"), _rect("B", "A"), _rect("A")),
        transforms={"lg": LogicleTransform(262144, 0.5, 4.5, 0)},
    )
    assert strategy.gate_ids == ("A", "B", "C")


def test_b_lineage_after_blinatumomab_without_cd19(tmp_path: Path) -> None:
    """CD19-negative escape: a CD22/CD24/CD10 strategy finds blasts a CD19 gate misses."""
    rng = np.random.default_rng(5)
    n = 60_000
    names = ("FSC-A", "SSC-A", "CD19-PE-Cy7", "CD22-BV421", "CD24-BV510", "CD10-PE")
    events = np.column_stack(
        [rng.normal(60_000, 8_000, n), rng.normal(25_000, 5_000, n)]
        + [rng.normal(0, 150, n) for _ in range(4)]
    )
    blasts = rng.choice(n, 300, replace=False)  # CD19-negative, CD22+ CD24+ CD10+
    for col, level in ((3, 8_000.0), (4, 12_000.0), (5, 20_000.0)):
        events[blasts, col] = np.exp(rng.normal(np.log(level), 0.2, blasts.size))
    path = tmp_path / "post_blina.fcs"
    path.write_bytes(build_fcs(events.astype(np.float32), names))
    strategy = """
id: b-lineage-cd19-negative
version: "1"
compensation: uncompensated
transforms: {lg: {type: logicle, T: 262144, W: 0.5, M: 4.5, A: 0}}
leukemic_gate: LAIP
gates:
  - {id: CD19pos, type: rectangle, dimensions: [{channel: CD19-PE-Cy7, transform: lg, min: 0.45}]}
  - id: Blineage
    type: boolean
    operator: and
    operands: [CD22pos, CD24pos]
  - {id: CD22pos, type: rectangle, dimensions: [{channel: CD22-BV421, transform: lg, min: 0.5}]}
  - {id: CD24pos, type: rectangle, dimensions: [{channel: CD24-BV510, transform: lg, min: 0.5}]}
  - id: LAIP
    parent: Blineage
    type: rectangle
    dimensions: [{channel: CD10-PE, transform: lg, min: 0.55}]
"""
    from mrdtrack.lab.gatingml import parse_yaml_strategy

    result = apply_strategy(parse_yaml_strategy(strategy, "cd19neg.yaml"), read_fcs(path))
    assert result.counts["CD19pos"] < 10
    assert result.counts["LAIP"] == 300
    assert set(np.flatnonzero(result.masks["LAIP"])) == set(blasts.tolist())


def test_spill_matrix_fixture_is_invertible() -> None:
    assert abs(np.linalg.det(spill_matrix(8))) > 0.1


@settings(derandomize=True, max_examples=40, deadline=2000)
@given(
    bound=st.floats(-0.3, 1.3),
    w=st.floats(0.0, 2.0),
    values=st.lists(st.floats(-1e7, 1e7), min_size=1, max_size=40),
)
def test_pulled_back_bounds_agree_with_the_transform(
    bound: float, w: float, values: list[float]
) -> None:
    """``x ≥ T⁻¹⁺(b)`` ⇔ ``T(x) ≥ b``: rectangle gates need not transform their data."""
    for transform in (
        LogicleTransform(t=262144, w=w, m=4.5, a=0),
        AsinhTransform(t=262144, m=4.5, a=0),
        LogTransform(t=262144, m=4.5),
    ):
        threshold = _pull_back(transform, bound)
        x = np.array([*values, threshold, np.nextafter(threshold, -np.inf)])
        x = x[np.isfinite(x)]
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(x >= threshold, transform.apply(x) >= bound)
