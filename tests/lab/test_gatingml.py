"""GatingML 2.0 and YAML documents: structure, hostile XML, unsupported constructs, fuzzing."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError
from mrdtrack.lab.gating import EllipseGate, PolygonGate, QuadrantGate, RectangleGate
from mrdtrack.lab.gatingml import parse_gatingml, parse_yaml_strategy
from mrdtrack.lab.transforms import AsinhTransform, LogicleTransform, LogTransform
from tests.lab.documents import (
    ALL_GATES,
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    GML_HEAD,
    TRANSFORMS,
    YAML_STRATEGY,
    dim,
)
from tests.lab.fuzzing import only_declared_errors


def test_all_gates_document_structure() -> None:
    strategy = parse_gatingml(ALL_GATES.encode(), "all_gates.xml")
    assert strategy.id == "all_gates"
    assert strategy.version.startswith("sha256:")
    assert isinstance(strategy.transforms["lg"], LogicleTransform)
    assert isinstance(strategy.transforms["as"], AsinhTransform)
    assert isinstance(strategy.transforms["log"], LogTransform)
    gates = {g.id: g for g in strategy.gates}
    assert isinstance(gates["Lymph"], RectangleGate) and gates["Lymph"].bounds == (
        (0.1, 0.4),
        (None, 0.2),
    )
    assert isinstance(gates["LAIP"], PolygonGate) and gates["LAIP"].parent == "CD45dim"
    assert isinstance(gates["Ell"], EllipseGate) and gates["Ell"].distance_square == 1.0
    quadrants = gates["Q"]
    assert isinstance(quadrants, QuadrantGate)
    ranges = {q.id: q.ranges for q in quadrants.quadrants}
    assert ranges["Qpp"] == (("d1", 0.4, None), ("d2", 0.6, None))
    assert ranges["Qnm"] == (("d1", None, 0.4), ("d2", 0.35, 0.6))
    # Parents and boolean operands come before the gates that use them.
    order = strategy.gate_ids
    assert order.index("Lymph") < order.index("CD45dim") < order.index("LAIP") < order.index("Or1")


def test_yaml_strategy_names_roles_and_version() -> None:
    strategy = parse_yaml_strategy(YAML_STRATEGY, "laip.yaml")
    assert (strategy.id, strategy.version) == ("bcp-all-laip", "2")
    assert (strategy.denominator_gate, strategy.leukemic_gate) == ("Lymph", "LAIP")


@pytest.mark.parametrize(
    "document",
    [pytest.param(BILLION_LAUGHS, id="billion-laughs"), pytest.param(EXTERNAL_ENTITY, id="xxe")],
)
def test_hostile_xml_is_refused_fast(document: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ImportValidationError, match="without DTD"):
        parse_gatingml(document, "evil.xml")
    assert time.perf_counter() - started < 1.0


def _doc(body: str) -> bytes:
    return (GML_HEAD + TRANSFORMS + body + "</gating:Gating-ML>").encode()


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        pytest.param(b"<not-xml", "well-formed", id="malformed"),
        pytest.param(b"<rdml/>", "root element", id="wrong-root"),
        pytest.param(
            _doc(
                '<transforms:transformation transforms:id="h">'
                '<transforms:hyperlog transforms:T="1" '
                'transforms:W="1" transforms:M="4" transforms:A="0"/></transforms:transformation>'
            ),
            "hyperlog",
            id="hyperlog",
        ),
        pytest.param(
            _doc(
                '<gating:RectangleGate gating:id="R">'
                '<gating:dimension gating:compensation-ref="FCS">'
                '<data-type:new-dimension data-type:transformation-ref="r"/></gating:dimension>'
                "</gating:RectangleGate>"
            ),
            "ratio",
            id="ratio-dimension",
        ),
        pytest.param(
            _doc(
                '<gating:RectangleGate gating:id="R">'
                + dim("FSC-A", lo=float("nan"))
                + "</gating:RectangleGate>"
            ),
            "finite number",
            id="nan-bound",
        ),
        pytest.param(
            _doc(
                '<gating:RectangleGate gating:id="R" gating:parent_id="X">'
                + dim("FSC-A", lo=0.1)
                + "</gating:RectangleGate>"
            ),
            "reference",
            id="missing-parent",
        ),
        pytest.param(
            _doc(
                '<transforms:transformation transforms:id="bad">'
                '<transforms:logicle transforms:T="1" '
                'transforms:W="9" transforms:M="4" transforms:A="0"/></transforms:transformation>'
            ),
            "logicle W",
            id="logicle-w-too-large",
        ),
    ],
)
def test_bad_documents_name_the_problem(document: bytes, needle: str) -> None:
    with pytest.raises(ImportValidationError, match=needle):
        parse_gatingml(document, "gates.xml")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("gates: [", "YAML", id="broken"),
        pytest.param("a: &x [1]\nb: *x\ngates: []", "aliases", id="alias"),
        pytest.param("gates: {}", "list of gates", id="gates-not-list"),
        pytest.param("gates: [{id: A, type: hexagon}]", "gates\\[0\\].type", id="unknown-type"),
        pytest.param(
            "gates: [{id: A, type: rectangle, dimensions: [{channel: X, min: abc}]}]",
            "gates\\[0\\].dimensions\\[0\\].min",
            id="text-bound",
        ),
        pytest.param(
            "leukemic_gate: Z\ngates: [{id: A, type: boolean, operator: xor, operands: [A]}]",
            "operator",
            id="xor",
        ),
    ],
)
def test_bad_yaml_names_the_path(text: str, needle: str) -> None:
    with pytest.raises(ImportValidationError, match=needle):
        parse_yaml_strategy(text, "s.yaml")


DOC = ALL_GATES.encode()


@settings(
    derandomize=True, max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(DOC) - 1), st.integers(0, 40), st.binary(max_size=12)),
        max_size=3,
    )
)
def test_fuzzed_gatingml_raises_only_import_errors(edits: list[tuple[int, int, bytes]]) -> None:
    data = DOC
    for at, cut, junk in edits:
        data = data[:at] + junk + data[at + cut :]
    only_declared_errors(lambda: parse_gatingml(data, "fuzz.xml"), "fuzz.xml")


@settings(derandomize=True, max_examples=150, deadline=2000)
@given(text=st.text(max_size=300))
def test_fuzzed_yaml_raises_only_import_errors(text: str) -> None:
    document = YAML_STRATEGY[: len(text) % len(YAML_STRATEGY)] + text
    only_declared_errors(lambda: parse_yaml_strategy(document, "fuzz.yaml"), "fuzz.yaml")
