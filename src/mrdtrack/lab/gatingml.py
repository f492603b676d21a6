"""Gating strategies from GatingML 2.0 documents and from the project's YAML form.

GatingML 2.0 (Spidlen J et al. Cytometry A 2015;87:683-687; the ISAC schema files
``Gating-ML.v2.0.xsd``, ``Transformations.v2.0.xsd``, ``DataTypes.v2.0.xsd``) is read with
defusedxml: a DTD, an entity declaration or an external reference is refused before any
element is built, so billion-laughs and external-entity documents cost nothing. Supported:
rectangle, polygon, ellipsoid, quadrant and boolean gates; ``parent_id`` hierarchies;
``compensation-ref`` (``FCS``, ``uncompensated`` or a ``spectrumMatrix``); the ``logicle``,
``fasinh``, ``flin`` and ``flog`` transformations. Ratio dimensions (``fratio``),
``hyperlog`` and bounded transformations are refused by name rather than misread.

The YAML form says the same in fewer words and can name the strategy, its version, the
denominator (e.g. mononuclear-cell) gate and the LAIP gate; ``docs/lab.md`` shows it.
A GatingML document has no version of its own: its version is the SHA-256 of its bytes.
"""

from __future__ import annotations

import hashlib
import importlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import yaml

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.lab.gating import (
    FCS_COMPENSATION,
    UNCOMPENSATED,
    BooleanGate,
    BooleanOperator,
    Dimension,
    Divider,
    EllipseGate,
    Gate,
    GatingStrategy,
    PolygonGate,
    Quadrant,
    QuadrantGate,
    RectangleGate,
    SpectrumMatrix,
)
from mrdtrack.lab.transforms import Transform, transform_from_parameters

__all__ = ["load_strategy", "parse_gatingml", "parse_yaml_strategy"]

# defusedxml ships without type information; its parser returns stdlib Elements.
_defused: Any = importlib.import_module("defusedxml.ElementTree")
_defused_errors: Any = importlib.import_module("defusedxml")

GATING = "http://www.isac-net.org/std/Gating-ML/v2.0/gating"
TRANSFORMS = "http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
DATATYPES = "http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"
MAX_STRATEGY_BYTES = 32 * 1024**2
_GATE_TAGS = ("RectangleGate", "PolygonGate", "EllipsoidGate", "QuadrantGate", "BooleanGate")


def load_strategy(path: str | Path) -> GatingStrategy:
    """Read a strategy file: GatingML 2.0 (``.xml``, ``.gml``) or YAML (``.yaml``, ``.yml``)."""
    file_path = Path(path)
    try:
        size = file_path.stat().st_size
    except OSError as missing:
        raise InputError(
            "--strategy", str(file_path), "a readable GatingML 2.0 or YAML strategy file"
        ) from missing
    if size > MAX_STRATEGY_BYTES:
        raise ImportValidationError(
            "strategy size", size, f"at most {MAX_STRATEGY_BYTES:,} bytes", location=file_path.name
        )
    data = file_path.read_bytes()
    if file_path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml_strategy(data, file_path.name)
    return parse_gatingml(data, file_path.name)


def _number(text: str | None, where: str, source: str, *, positive: bool = False) -> float:
    try:
        value = float(text) if text is not None else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or (positive and value <= 0):
        raise ImportValidationError(
            where, text, "a finite number" + (" > 0" if positive else ""), location=source
        )
    return value


def _attr(element: Element, namespace: str, name: str) -> str | None:
    """A GatingML attribute, namespace-qualified (the schema's form) or plain."""
    value = element.get(f"{{{namespace}}}{name}")
    return element.get(name) if value is None else value


def _tag(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def parse_gatingml(data: bytes, source: str = "<memory>") -> GatingStrategy:
    """Parse a GatingML 2.0 document into a validated :class:`GatingStrategy`.

    Raises
    ------
    ImportValidationError
        Malformed XML, a DTD or entity, an unsupported construct, or a broken reference;
        the message names the document and the gate or element.
    """
    if len(data) > MAX_STRATEGY_BYTES:
        raise ImportValidationError(
            "strategy size", len(data), f"at most {MAX_STRATEGY_BYTES:,} bytes", location=source
        )
    try:
        root = _defused.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except _defused_errors.DefusedXmlException as hostile:
        raise ImportValidationError(
            "XML",
            type(hostile).__name__,
            "a document without DTD, entities or external references",
            location=source,
        ) from None
    except (_defused.ParseError, ValueError, UnicodeError) as broken:
        raise ImportValidationError(
            "XML", str(broken)[:120], "well-formed GatingML 2.0 XML", location=source
        ) from None
    if root.tag != f"{{{GATING}}}Gating-ML":
        raise ImportValidationError(
            "root element", root.tag, f"{{{GATING}}}Gating-ML", location=source
        )
    transforms: dict[str, Transform] = {}
    matrices: dict[str, SpectrumMatrix] = {}
    gates: list[Gate] = []
    for element in root:
        namespace, _, name = (
            element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", element.tag)
        )
        if namespace == TRANSFORMS and name == "transformation":
            key, transform = _transformation(element, source)
            transforms[key] = transform
        elif namespace == TRANSFORMS and name == "spectrumMatrix":
            matrix = _spectrum_matrix(element, source)
            matrices[matrix.id] = matrix
        elif namespace == GATING and name in _GATE_TAGS:
            gates.append(_gate(element, name, source))
    digest = hashlib.sha256(data).hexdigest()
    return GatingStrategy(
        id=Path(source).stem or "gatingml",
        version=f"sha256:{digest[:12]}",
        gates=tuple(gates),
        transforms=transforms,
        matrices=matrices,
        source=source,
        sha256=digest,
    )


def _transformation(element: Element, source: str) -> tuple[str, Transform]:
    key = _attr(element, TRANSFORMS, "id")
    if not key:
        raise ImportValidationError("transformation id", key, "a non-empty id", location=source)
    if (
        _attr(element, TRANSFORMS, "boundMin") is not None
        or _attr(element, TRANSFORMS, "boundMax") is not None
    ):
        raise ImportValidationError(
            f"transformation {key!r}",
            "boundMin/boundMax",
            "an unbounded transformation",
            location=source,
        )
    children = list(element)
    if len(children) != 1:
        raise ImportValidationError(
            f"transformation {key!r}",
            len(children),
            "exactly one transform element",
            location=source,
        )
    kind = _tag(children[0])
    if kind in ("fratio", "hyperlog"):
        raise ImportValidationError(
            f"transformation {key!r}",
            kind,
            "logicle, fasinh, flin or flog (supported here)",
            location=source,
        )
    parameters = {
        name: _number(
            _attr(children[0], TRANSFORMS, name), f"transformation {key!r} {name}", source
        )
        for name in ("T", "W", "M", "A")
        if _attr(children[0], TRANSFORMS, name) is not None
    }
    try:
        return key, transform_from_parameters(kind, parameters)
    except ImportValidationError:
        raise
    except InputError as bad:
        raise ImportValidationError(
            f"transformation {key!r} {bad.field}", bad.value, bad.expected, location=source
        ) from None


def _fcs_names(parent: Element | None, where: str, source: str) -> tuple[str, ...]:
    if parent is None:
        raise ImportValidationError(
            where, None, "a list of fcs-dimension elements", location=source
        )
    names = []
    for child in parent:
        name = _attr(child, DATATYPES, "name")
        if _tag(child) != "fcs-dimension" or not name:
            raise ImportValidationError(
                where, _tag(child), "fcs-dimension with a name", location=source
            )
        names.append(name)
    return tuple(names)


def _spectrum_matrix(element: Element, source: str) -> SpectrumMatrix:
    key = _attr(element, TRANSFORMS, "id") or ""
    where = f"spectrumMatrix {key!r}"
    fluorochromes = _fcs_names(element.find(f"{{{TRANSFORMS}}}fluorochromes"), where, source)
    detectors = _fcs_names(element.find(f"{{{TRANSFORMS}}}detectors"), where, source)
    rows = tuple(
        tuple(
            _number(_attr(c, TRANSFORMS, "value"), f"{where} coefficient", source)
            for c in spectrum.findall(f"{{{TRANSFORMS}}}coefficient")
        )
        for spectrum in element.findall(f"{{{TRANSFORMS}}}spectrum")
    )
    if len(rows) != len(fluorochromes) or any(len(r) != len(detectors) for r in rows):
        raise ImportValidationError(
            where,
            f"{len(rows)} spectra",
            f"{len(fluorochromes)} spectra of {len(detectors)} coefficients",
            location=source,
        )
    inverted = (_attr(element, TRANSFORMS, "matrix-inverted-already") or "false").strip() == "true"
    return SpectrumMatrix(key, fluorochromes, detectors, rows, inverted)


def _dimension(element: Element, where: str, source: str) -> Dimension:
    fcs = element.find(f"{{{DATATYPES}}}fcs-dimension")
    if fcs is None:
        if element.find(f"{{{DATATYPES}}}new-dimension") is not None:
            raise ImportValidationError(
                where,
                "new-dimension (ratio)",
                "an fcs-dimension (ratio dimensions are not supported)",
                location=source,
            )
        raise ImportValidationError(where, None, "an fcs-dimension element", location=source)
    name = _attr(fcs, DATATYPES, "name")
    if not name:
        raise ImportValidationError(f"{where} name", name, "a channel name", location=source)
    compensation = _attr(element, GATING, "compensation-ref") or UNCOMPENSATED
    return Dimension(name, compensation, _attr(element, GATING, "transformation-ref"))


def _gate(element: Element, kind: str, source: str) -> Gate:
    gate_id = _attr(element, GATING, "id") or ""
    parent = _attr(element, GATING, "parent_id")
    where = f"gate {gate_id!r}"
    dims = element.findall(f"{{{GATING}}}dimension")
    if kind == "RectangleGate":
        bounds = []
        for i, dim in enumerate(dims):
            low, high = _attr(dim, GATING, "min"), _attr(dim, GATING, "max")
            bounds.append(
                (
                    None if low is None else _number(low, f"{where} dimension {i + 1} min", source),
                    None
                    if high is None
                    else _number(high, f"{where} dimension {i + 1} max", source),
                )
            )
        dimensions = tuple(
            _dimension(d, f"{where} dimension {i + 1}", source) for i, d in enumerate(dims)
        )
        return RectangleGate(gate_id, parent, dimensions, tuple(bounds))
    if kind == "PolygonGate":
        if len(dims) != 2:
            raise ImportValidationError(
                where, len(dims), "2 dimensions for a polygon", location=source
            )
        vertices = []
        for vertex in element.findall(f"{{{GATING}}}vertex"):
            coords = vertex.findall(f"{{{GATING}}}coordinate")
            if len(coords) != 2:
                raise ImportValidationError(
                    f"{where} vertex", len(coords), "2 coordinates", location=source
                )
            x, y = (
                _number(_attr(c, DATATYPES, "value"), f"{where} vertex", source) for c in coords
            )
            vertices.append((x, y))
        pair = (
            _dimension(dims[0], f"{where} x", source),
            _dimension(dims[1], f"{where} y", source),
        )
        return PolygonGate(gate_id, parent, pair, tuple(vertices))
    if kind == "EllipsoidGate":
        mean = tuple(
            _number(_attr(c, DATATYPES, "value"), f"{where} mean", source)
            for c in element.findall(f"{{{GATING}}}mean/{{{GATING}}}coordinate")
        )
        covariance = tuple(
            tuple(
                _number(_attr(e, DATATYPES, "value"), f"{where} covariance", source)
                for e in row.findall(f"{{{GATING}}}entry")
            )
            for row in element.findall(f"{{{GATING}}}covarianceMatrix/{{{GATING}}}row")
        )
        distance = element.find(f"{{{GATING}}}distanceSquare")
        d2 = _number(
            None if distance is None else _attr(distance, DATATYPES, "value"),
            f"{where} distanceSquare",
            source,
            positive=True,
        )
        dimensions = tuple(
            _dimension(d, f"{where} dimension {i + 1}", source) for i, d in enumerate(dims)
        )
        if any(len(row) != len(mean) for row in covariance):
            raise ImportValidationError(
                f"{where} covariance",
                len(covariance),
                f"{len(mean)}×{len(mean)} entries",
                location=source,
            )
        return EllipseGate(gate_id, parent, dimensions, mean, covariance, d2)
    if kind == "QuadrantGate":
        return _quadrant_gate(element, gate_id, parent, source)
    return _boolean_gate(element, gate_id, parent, source)


def _quadrant_gate(element: Element, gate_id: str, parent: str | None, source: str) -> QuadrantGate:
    where = f"gate {gate_id!r}"
    dividers = []
    for i, div in enumerate(element.findall(f"{{{GATING}}}divider")):
        values = tuple(
            sorted(
                _number(v.text, f"{where} divider value", source)
                for v in div.findall(f"{{{GATING}}}value")
            )
        )
        dividers.append(
            Divider(
                _attr(div, GATING, "id") or "",
                _dimension(div, f"{where} divider {i + 1}", source),
                values,
            )
        )
    by_id = {d.id: d for d in dividers}
    quadrants = []
    for quad in element.findall(f"{{{GATING}}}Quadrant"):
        ranges = []
        for pos in quad.findall(f"{{{GATING}}}position"):
            ref = _attr(pos, GATING, "divider_ref") or ""
            if ref not in by_id:
                raise ImportValidationError(
                    f"{where} divider_ref", ref, "a divider id", location=source
                )
            location = _number(_attr(pos, GATING, "location"), f"{where} location", source)
            # The quadrant spans from the last cut at or below its location to the next cut above.
            low = max((v for v in by_id[ref].values if v <= location), default=None)
            high = min((v for v in by_id[ref].values if v > location), default=None)
            ranges.append((ref, low, high))
        quadrants.append(Quadrant(_attr(quad, GATING, "id") or "", tuple(ranges)))
    return QuadrantGate(gate_id, parent, tuple(dividers), tuple(quadrants))


def _boolean_gate(element: Element, gate_id: str, parent: str | None, source: str) -> BooleanGate:
    for operator in BooleanOperator:
        node = element.find(f"{{{GATING}}}{operator.value}")
        if node is None:
            continue
        operands = []
        for ref in node.findall(f"{{{GATING}}}gateReference"):
            target = _attr(ref, GATING, "ref")
            if not target:
                raise ImportValidationError(
                    f"gate {gate_id!r} gateReference", target, "a gate id", location=source
                )
            complement = (_attr(ref, GATING, "use-as-complement") or "false").strip() == "true"
            operands.append((target, complement))
        return BooleanGate(gate_id, parent, operator, tuple(operands))
    raise ImportValidationError(
        f"gate {gate_id!r}", None, "an and, or or not element", location=source
    )


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases (no alias expansion bombs)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not allowed in a strategy")
        return super().compose_node(parent, index)


def parse_yaml_strategy(data: bytes | str, source: str = "<memory>") -> GatingStrategy:
    """Parse the YAML strategy form (see ``docs/lab.md``) into a :class:`GatingStrategy`."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    raw = text.encode("utf-8")
    if len(raw) > MAX_STRATEGY_BYTES:
        raise ImportValidationError(
            "strategy size", len(raw), f"at most {MAX_STRATEGY_BYTES:,} bytes", location=source
        )
    try:
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as broken:
        raise ImportValidationError(
            "YAML", str(broken)[:160], "a valid YAML mapping", location=source
        ) from None
    reader = _YamlReader(source)
    top = reader.mapping(document, "strategy")
    default_comp = reader.text(top.get("compensation", FCS_COMPENSATION), "compensation")
    transforms: dict[str, Transform] = {}
    for key, spec in reader.mapping(top.get("transforms", {}), "transforms").items():
        where = f"transforms.{key}"
        body = reader.mapping(spec, where)
        kind = reader.text(body.get("type"), f"{where}.type")
        params = {
            name: reader.number(body[name], f"{where}.{name}")
            for name in ("T", "W", "M", "A")
            if name in body
        }
        try:
            transforms[str(key)] = transform_from_parameters(kind, params)
        except ImportValidationError:
            raise
        except InputError as bad:
            raise ImportValidationError(
                f"{where} {bad.field}", bad.value, bad.expected, location=source
            ) from None
    gates_raw = top.get("gates")
    if not isinstance(gates_raw, list):
        raise ImportValidationError("gates", gates_raw, "a list of gates", location=source)
    gates = [reader.gate(g, f"gates[{i}]", default_comp) for i, g in enumerate(gates_raw)]
    digest = hashlib.sha256(raw).hexdigest()
    version = top.get("version")
    return GatingStrategy(
        id=reader.text(top.get("id", Path(source).stem or "strategy"), "id"),
        version=f"sha256:{digest[:12]}" if version is None else reader.text(version, "version"),
        gates=tuple(gates),
        transforms=transforms,
        source=source,
        sha256=digest,
        denominator_gate=None
        if top.get("denominator_gate") is None
        else reader.text(top["denominator_gate"], "denominator_gate"),
        leukemic_gate=None
        if top.get("leukemic_gate") is None
        else reader.text(top["leukemic_gate"], "leukemic_gate"),
        description=str(top.get("description", "")),
    )


class _YamlReader:
    """Typed access to the parsed YAML with messages that name the path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, value: object, expected: str) -> ImportValidationError:
        shown = (
            value
            if isinstance(value, str | int | float | bool) or value is None
            else type(value).__name__
        )
        return ImportValidationError(where, shown, expected, location=self.source)

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, value, "a mapping")
        return {str(k): v for k, v in value.items()}

    def text(self, value: object, where: str) -> str:
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or not str(value).strip()
        ):
            raise self.fail(where, value, "a non-empty text")
        return str(value).strip()

    def number(self, value: object, where: str) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(where, value, "a finite number")
        return float(value)

    def optional(self, value: object, where: str) -> float | None:
        return None if value is None else self.number(value, where)

    def dimension(self, value: object, where: str, default_comp: str) -> Dimension:
        body = self.mapping(value, where)
        transform = body.get("transform")
        return Dimension(
            self.text(body.get("channel"), f"{where}.channel"),
            self.text(body.get("compensation", default_comp), f"{where}.compensation"),
            None if transform is None else self.text(transform, f"{where}.transform"),
        )

    def gate(self, value: object, where: str, default_comp: str) -> Gate:
        body = self.mapping(value, where)
        gate_id = self.text(body.get("id"), f"{where}.id")
        parent = (
            None if body.get("parent") is None else self.text(body["parent"], f"{where}.parent")
        )
        kind = self.text(body.get("type"), f"{where}.type").lower()
        dims_raw = body.get("dimensions", [])
        if not isinstance(dims_raw, list):
            raise self.fail(f"{where}.dimensions", dims_raw, "a list of dimensions")
        dims = tuple(
            self.dimension(d, f"{where}.dimensions[{i}]", default_comp)
            for i, d in enumerate(dims_raw)
        )
        if kind == "rectangle":
            bounds = tuple(
                (
                    self.optional(
                        self.mapping(d, f"{where}.dimensions[{i}]").get("min"),
                        f"{where}.dimensions[{i}].min",
                    ),
                    self.optional(
                        self.mapping(d, f"{where}.dimensions[{i}]").get("max"),
                        f"{where}.dimensions[{i}].max",
                    ),
                )
                for i, d in enumerate(dims_raw)
            )
            return RectangleGate(gate_id, parent, dims, bounds)
        if kind == "polygon":
            vertices_raw = body.get("vertices")
            if len(dims) != 2 or not isinstance(vertices_raw, list):
                raise self.fail(where, kind, "2 dimensions and a list of [x, y] vertices")
            vertices = []
            for i, v in enumerate(vertices_raw):
                if not isinstance(v, list) or len(v) != 2:
                    raise self.fail(f"{where}.vertices[{i}]", v, "[x, y]")
                vertices.append(
                    (
                        self.number(v[0], f"{where}.vertices[{i}]"),
                        self.number(v[1], f"{where}.vertices[{i}]"),
                    )
                )
            return PolygonGate(gate_id, parent, (dims[0], dims[1]), tuple(vertices))
        if kind in ("ellipse", "ellipsoid"):
            mean_raw, cov_raw = body.get("mean"), body.get("covariance")
            if not isinstance(mean_raw, list) or not isinstance(cov_raw, list):
                raise self.fail(where, kind, "a mean list and a covariance list of rows")
            mean = tuple(self.number(m, f"{where}.mean") for m in mean_raw)
            cov = []
            for i, row in enumerate(cov_raw):
                if not isinstance(row, list) or len(row) != len(mean):
                    raise self.fail(
                        f"{where}.covariance[{i}]", row, f"a row of {len(mean)} numbers"
                    )
                cov.append(tuple(self.number(x, f"{where}.covariance[{i}]") for x in row))
            d2 = self.number(body.get("distance_square", 1.0), f"{where}.distance_square")
            return EllipseGate(gate_id, parent, dims, mean, tuple(cov), d2)
        if kind == "quadrant":
            return self._quadrant(body, gate_id, parent, where, default_comp)
        if kind == "boolean":
            operator_raw = self.text(body.get("operator"), f"{where}.operator").lower()
            if operator_raw not in {op.value for op in BooleanOperator}:
                raise self.fail(f"{where}.operator", operator_raw, "and, or or not")
            operands_raw = body.get("operands")
            if not isinstance(operands_raw, list):
                raise self.fail(f"{where}.operands", operands_raw, "a list of gate ids")
            operands = []
            for i, op in enumerate(operands_raw):
                if isinstance(op, dict):
                    spec = self.mapping(op, f"{where}.operands[{i}]")
                    operands.append(
                        (
                            self.text(spec.get("gate"), f"{where}.operands[{i}].gate"),
                            spec.get("complement") is True,
                        )
                    )
                else:
                    operands.append((self.text(op, f"{where}.operands[{i}]"), False))
            return BooleanGate(gate_id, parent, BooleanOperator(operator_raw), tuple(operands))
        raise self.fail(f"{where}.type", kind, "rectangle, polygon, ellipse, quadrant or boolean")

    def _quadrant(
        self,
        body: Mapping[str, Any],
        gate_id: str,
        parent: str | None,
        where: str,
        default_comp: str,
    ) -> QuadrantGate:
        dividers_raw, quadrants_raw = body.get("dividers"), body.get("quadrants")
        if not isinstance(dividers_raw, list) or not isinstance(quadrants_raw, list):
            raise self.fail(where, "quadrant", "a list of dividers and a list of quadrants")
        dividers = []
        for i, d in enumerate(dividers_raw):
            spec = self.mapping(d, f"{where}.dividers[{i}]")
            values_raw = spec.get("values")
            if not isinstance(values_raw, list) or not values_raw:
                raise self.fail(f"{where}.dividers[{i}].values", values_raw, "a list of cut values")
            values = tuple(
                sorted(self.number(v, f"{where}.dividers[{i}].values") for v in values_raw)
            )
            dividers.append(
                Divider(
                    self.text(spec.get("id"), f"{where}.dividers[{i}].id"),
                    self.dimension(spec, f"{where}.dividers[{i}]", default_comp),
                    values,
                )
            )
        quadrants = []
        for i, q in enumerate(quadrants_raw):
            spec = self.mapping(q, f"{where}.quadrants[{i}]")
            ranges = []
            for divider_id, span in self.mapping(
                spec.get("ranges"), f"{where}.quadrants[{i}].ranges"
            ).items():
                if not isinstance(span, list) or len(span) != 2:
                    raise self.fail(
                        f"{where}.quadrants[{i}].ranges.{divider_id}",
                        span,
                        "[min, max] (null = open)",
                    )
                ranges.append(
                    (
                        divider_id,
                        self.optional(span[0], f"{where}.quadrants[{i}]"),
                        self.optional(span[1], f"{where}.quadrants[{i}]"),
                    )
                )
            quadrants.append(
                Quadrant(self.text(spec.get("id"), f"{where}.quadrants[{i}].id"), tuple(ranges))
            )
        return QuadrantGate(gate_id, parent, tuple(dividers), tuple(quadrants))
