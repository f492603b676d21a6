"""Gates, gate hierarchies and event membership (GatingML 2.0 semantics).

Gate types and boundaries follow the GatingML 2.0 specification (Spidlen J et al.
Cytometry A 2015;87:683-687, §5) as FlowKit evaluates it:

* rectangle: ``min ≤ v < max`` in every dimension (either bound may be open);
* polygon: the crossing-number rule on the even winding count of Dan Sunday's
  point-in-polygon test, points outside the vertices' bounding box excluded;
* ellipsoid: ``(v − μ)ᵀ Σ⁻¹ (v − μ) ≤ D²``;
* quadrant: each quadrant a rectangle between divider values (``min ≤ v < max``);
* boolean: ``and`` / ``or`` / ``not`` of other gates, each operand optionally complemented.

A gate with a parent holds only events of its parent. Membership is a numpy boolean mask
per gate. Only the channels some gate uses are read, compensated and transformed, and a
child gate transforms only its parent's events: that, and the table-based logicle, is
where the speed over a whole-matrix pipeline comes from.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from mrdtrack.errors import ImportValidationError
from mrdtrack.lab.fcs import FloatArray, SpilloverMatrix
from mrdtrack.lab.transforms import Transform

__all__ = [
    "FCS_COMPENSATION",
    "UNCOMPENSATED",
    "BooleanGate",
    "BooleanOperator",
    "Dimension",
    "Divider",
    "EllipseGate",
    "EventSource",
    "Gate",
    "GatingResult",
    "GatingStrategy",
    "PolygonGate",
    "Quadrant",
    "QuadrantGate",
    "RectangleGate",
    "SpectrumMatrix",
    "apply_strategy",
]

BoolArray: TypeAlias = npt.NDArray[np.bool_]

UNCOMPENSATED = "uncompensated"
FCS_COMPENSATION = "FCS"
_CHUNK_EVENTS = 65_536


@dataclass(frozen=True, slots=True)
class Dimension:
    """A gated axis: a channel (``$PnN``, or ``$PnS`` marker), its compensation and transform.

    ``compensation`` is ``"uncompensated"``, ``"FCS"`` (the file's own spillover) or the
    id of a matrix in the strategy; ``transform`` the id of a strategy transform or None.
    """

    channel: str
    compensation: str = UNCOMPENSATED
    transform: str | None = None


@dataclass(frozen=True, slots=True)
class RectangleGate:
    """``min ≤ v < max`` in each dimension; ``None`` leaves that side open."""

    id: str
    parent: str | None
    dimensions: tuple[Dimension, ...]
    bounds: tuple[tuple[float | None, float | None], ...]


@dataclass(frozen=True, slots=True)
class PolygonGate:
    """A polygon over two dimensions (vertices in transformed units)."""

    id: str
    parent: str | None
    dimensions: tuple[Dimension, Dimension]
    vertices: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class EllipseGate:
    """``(v − mean)ᵀ covariance⁻¹ (v − mean) ≤ distance_square`` (ellipse or ellipsoid)."""

    id: str
    parent: str | None
    dimensions: tuple[Dimension, ...]
    mean: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    distance_square: float


@dataclass(frozen=True, slots=True)
class Divider:
    """One quadrant-gate divider: a dimension and its cut values."""

    id: str
    dimension: Dimension
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Quadrant:
    """One region of a quadrant gate: per divider id, its ``[min, max)`` (None = open)."""

    id: str
    ranges: tuple[tuple[str, float | None, float | None], ...]


@dataclass(frozen=True, slots=True)
class QuadrantGate:
    """Dividers cutting the plane into quadrants; each quadrant is a gate of its own."""

    id: str
    parent: str | None
    dividers: tuple[Divider, ...]
    quadrants: tuple[Quadrant, ...]


class BooleanOperator(StrEnum):
    """GatingML boolean operators."""

    AND = "and"
    OR = "or"
    NOT = "not"


@dataclass(frozen=True, slots=True)
class BooleanGate:
    """A boolean combination of other gates; operands are ``(gate id, complement)``."""

    id: str
    parent: str | None
    operator: BooleanOperator
    operands: tuple[tuple[str, bool], ...]


Gate: TypeAlias = RectangleGate | PolygonGate | EllipseGate | QuadrantGate | BooleanGate


@dataclass(frozen=True, slots=True)
class SpectrumMatrix:
    """A GatingML spectrum (spillover) matrix: rows fluorochromes, columns detectors.

    ``inverted`` marks a matrix stored already inverted (GatingML
    ``matrix-inverted-already``): compensation then multiplies by it directly.
    """

    id: str
    fluorochromes: tuple[str, ...]
    detectors: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    inverted: bool = False


def _dimensions(gate: Gate) -> tuple[Dimension, ...]:
    if isinstance(gate, QuadrantGate):
        return tuple(d.dimension for d in gate.dividers)
    if isinstance(gate, BooleanGate):
        return ()
    return gate.dimensions


def _references(gate: Gate) -> list[str]:
    refs = [] if gate.parent is None else [gate.parent]
    if isinstance(gate, BooleanGate):
        refs.extend(ref for ref, _ in gate.operands)
    return refs


@dataclass(frozen=True, slots=True)
class GatingStrategy:
    """A validated gate hierarchy with its transforms and matrices.

    ``gates`` are kept in evaluation order (every parent and boolean operand before the
    gates that use it). ``denominator_gate`` names the population MRD is counted in
    (e.g. mononuclear cells) and ``leukemic_gate`` the LAIP, when the strategy says so.
    """

    id: str
    version: str
    gates: tuple[Gate, ...]
    transforms: Mapping[str, Transform] = field(default_factory=dict)
    matrices: Mapping[str, SpectrumMatrix] = field(default_factory=dict)
    source: str = "<memory>"
    sha256: str | None = None
    denominator_gate: str | None = None
    leukemic_gate: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "transforms", MappingProxyType(dict(self.transforms)))
        object.__setattr__(self, "matrices", MappingProxyType(dict(self.matrices)))
        object.__setattr__(self, "gates", self._validated_order())

    def _fail(self, where: str, value: object, expected: str) -> ImportValidationError:
        return ImportValidationError(where, value, expected, location=self.source)

    def _validated_order(self) -> tuple[Gate, ...]:
        if not self.gates:
            raise self._fail("gates", [], "at least one gate")
        by_id: dict[str, Gate] = {}
        countable: set[str] = set()
        for gate in self.gates:
            names = [gate.id]
            if isinstance(gate, QuadrantGate):
                names += [q.id for q in gate.quadrants]
            for name in names:
                if not name or name in by_id or name in countable:
                    raise self._fail("gate id", name, "a unique, non-empty gate id")
            by_id[gate.id] = gate
            if isinstance(gate, QuadrantGate):
                countable.update(q.id for q in gate.quadrants)
            else:
                countable.add(gate.id)
            self._check_gate(gate)
        for gate in self.gates:
            for ref in _references(gate):
                if ref not in countable:
                    raise self._fail(
                        f"gate {gate.id!r} reference", ref, "the id of another gate or quadrant"
                    )
        owner = {q.id: g.id for g in self.gates if isinstance(g, QuadrantGate) for q in g.quadrants}
        order: list[Gate] = []
        state: dict[str, int] = {}

        def visit(gate_id: str, trail: tuple[str, ...]) -> None:
            gate_id = owner.get(gate_id, gate_id)
            if state.get(gate_id) == 2:
                return
            if state.get(gate_id) == 1:
                raise self._fail("gate hierarchy", " → ".join((*trail, gate_id)), "no cycles")
            state[gate_id] = 1
            gate = by_id[gate_id]
            for ref in _references(gate):
                visit(ref, (*trail, gate_id))
            state[gate_id] = 2
            order.append(gate)

        for gate in self.gates:
            visit(gate.id, ())
        for role, named in (
            ("denominator_gate", self.denominator_gate),
            ("leukemic_gate", self.leukemic_gate),
        ):
            if named is not None and named not in countable:
                raise self._fail(role, named, "the id of a gate of this strategy")
        return tuple(order)

    def _check_gate(self, gate: Gate) -> None:
        where = f"gate {gate.id!r}"
        for dim in _dimensions(gate):
            if dim.transform is not None and dim.transform not in self.transforms:
                raise self._fail(
                    f"{where} transformation-ref", dim.transform, "a defined transform"
                )
            if dim.compensation not in (UNCOMPENSATED, FCS_COMPENSATION) and (
                dim.compensation not in self.matrices
            ):
                raise self._fail(
                    f"{where} compensation-ref",
                    dim.compensation,
                    "FCS, uncompensated or a defined spectrumMatrix id",
                )
        if isinstance(gate, RectangleGate):
            if not gate.dimensions or len(gate.bounds) != len(gate.dimensions):
                raise self._fail(where, len(gate.dimensions), "one (min, max) per dimension")
            for low, high in gate.bounds:
                if low is None and high is None:
                    raise self._fail(f"{where} bounds", "open", "a min or a max per dimension")
        elif isinstance(gate, PolygonGate):
            if len(gate.vertices) < 3:
                raise self._fail(f"{where} vertices", len(gate.vertices), "at least 3 vertices")
        elif isinstance(gate, EllipseGate):
            n = len(gate.dimensions)
            cov = np.array(gate.covariance, dtype=float) if gate.covariance else np.zeros((0, 0))
            if n < 2 or len(gate.mean) != n or cov.shape != (n, n):
                raise self._fail(where, n, "≥ 2 dimensions, a mean and an n×n covariance")
            if not np.all(np.isfinite(cov)) or abs(np.linalg.det(cov)) < 1e-300:
                raise self._fail(f"{where} covariance", gate.covariance, "an invertible matrix")
            if not gate.distance_square > 0:
                raise self._fail(f"{where} distanceSquare", gate.distance_square, "a number > 0")
        elif isinstance(gate, QuadrantGate):
            dividers = {d.id for d in gate.dividers}
            if not gate.dividers or not gate.quadrants:
                raise self._fail(where, gate.id, "at least one divider and one quadrant")
            for quadrant in gate.quadrants:
                for divider_id, _, _ in quadrant.ranges:
                    if divider_id not in dividers:
                        raise self._fail(
                            f"quadrant {quadrant.id!r} divider", divider_id, "a divider id"
                        )
        elif isinstance(gate, BooleanGate):
            count = len(gate.operands)
            if (gate.operator is BooleanOperator.NOT and count != 1) or (
                gate.operator is not BooleanOperator.NOT and count < 2
            ):
                raise self._fail(
                    f"{where} operands", count, "one operand for not, two or more for and/or"
                )

    @property
    def gate_ids(self) -> tuple[str, ...]:
        """Every countable gate id in evaluation order (quadrants in place of their gate)."""
        ids: list[str] = []
        for gate in self.gates:
            if isinstance(gate, QuadrantGate):
                ids.extend(q.id for q in gate.quadrants)
            else:
                ids.append(gate.id)
        return tuple(ids)


class EventSource(Protocol):
    """What gating needs from an event file (:class:`~mrdtrack.lab.fcs.FcsFile` has it)."""

    @property
    def name(self) -> str:
        """File name, for messages."""
        ...

    @property
    def event_count(self) -> int:
        """Number of events."""
        ...

    @property
    def spillover(self) -> SpilloverMatrix | None:
        """The file's own spillover matrix."""
        ...

    @property
    def parameter_count(self) -> int:
        """Number of channels."""
        ...

    def channel_index(self, name: str) -> int:
        """Index of a channel by name or marker label."""
        ...

    def columns(
        self, indices: Sequence[int], start: int = 0, stop: int | None = None
    ) -> FloatArray:
        """Preprocessed values of some channels for some events."""
        ...


@dataclass(frozen=True, slots=True)
class GatingResult:
    """Event membership and counts of every gate of a strategy on one file."""

    events_total: int
    counts: Mapping[str, int]
    masks: Mapping[str, BoolArray]
    notes: tuple[str, ...] = ()

    def count(self, gate_id: str) -> int:
        """Events in ``gate_id``."""
        return self.counts[gate_id]


@dataclass(frozen=True, slots=True)
class _Compensation:
    raw_indices: tuple[int, ...]
    inverse: FloatArray


@dataclass(slots=True)
class _Solve:
    """The compensated columns one matrix must produce, and how."""

    outputs: list[int]  # channel indices wanted from it
    matrix: FloatArray  # S⁻¹ for the wanted outputs, rows padded to the block's columns


class _Plan:
    """Channels, compensations and columns one strategy needs from one file."""

    def __init__(
        self, strategy: GatingStrategy, source: EventSource, spillover: SpilloverMatrix | None
    ) -> None:
        self.notes: list[str] = []
        self.compensations: dict[str, _Compensation | None] = {}
        self.keys: dict[Dimension, tuple[int, str, str | None]] = {}
        raw: set[int] = set()
        wanted: dict[str, set[int]] = {}
        for gate in strategy.gates:
            for dim in _dimensions(gate):
                if dim in self.keys:
                    continue
                comp = self._compensation(dim.compensation, strategy, source, spillover)
                index = self._channel(dim, strategy, source)
                if comp is not None and index in comp.raw_indices:
                    raw.update(comp.raw_indices)
                    wanted.setdefault(dim.compensation, set()).add(index)
                    key = (index, dim.compensation, dim.transform)
                else:
                    raw.add(index)
                    key = (index, UNCOMPENSATED, dim.transform)
                self.keys[dim] = key
        # Converting every column in one contiguous pass beats gathering most of them.
        every = source.parameter_count
        self.raw_indices = tuple(range(every)) if 2 * len(raw) >= every else tuple(sorted(raw))
        self.position = {index: k for k, index in enumerate(self.raw_indices)}
        self.solves: dict[str, _Solve] = {}
        for ref, outputs in wanted.items():
            comp = self.compensations[ref]
            if comp is None:
                continue
            ordered = sorted(outputs)
            padded = np.zeros((len(self.raw_indices), len(ordered)))
            for j, output in enumerate(ordered):
                padded[[self.position[i] for i in comp.raw_indices], j] = comp.inverse[
                    :, comp.raw_indices.index(output)
                ]
            self.solves[ref] = _Solve(ordered, padded)
        self.transforms = strategy.transforms

    def _compensation(
        self,
        ref: str,
        strategy: GatingStrategy,
        source: EventSource,
        spillover: SpilloverMatrix | None,
    ) -> _Compensation | None:
        if ref in self.compensations:
            return self.compensations[ref]
        result: _Compensation | None = None
        if ref == FCS_COMPENSATION:
            matrix = spillover or source.spillover
            if matrix is None:
                # GatingML 2.0 §4.3: "FCS" without a spillover in the file means uncompensated.
                self.notes.append(
                    f"{source.name} has no $SPILLOVER and no matrix was supplied: the gates "
                    "that ask for the file's compensation were applied to uncompensated data"
                )
            else:
                indices = tuple(source.channel_index(c) for c in matrix.channels)
                result = _Compensation(indices, matrix.inverse())
        elif ref != UNCOMPENSATED:
            spectrum = strategy.matrices[ref]
            if len(spectrum.fluorochromes) != len(spectrum.detectors):
                raise ImportValidationError(
                    f"spectrumMatrix {ref!r}",
                    f"{len(spectrum.fluorochromes)}×{len(spectrum.detectors)}",
                    "a square matrix (as many fluorochromes as detectors)",
                    location=strategy.source,
                )
            square = SpilloverMatrix(
                spectrum.detectors, spectrum.values, f"{strategy.source} {ref}"
            )
            indices = tuple(source.channel_index(c) for c in spectrum.detectors)
            inverse = square.as_array() if spectrum.inverted else square.inverse()
            result = _Compensation(indices, inverse)
        self.compensations[ref] = result
        return result

    def _channel(self, dim: Dimension, strategy: GatingStrategy, source: EventSource) -> int:
        spectrum = strategy.matrices.get(dim.compensation)
        if spectrum is not None and dim.channel in spectrum.fluorochromes:
            return source.channel_index(
                spectrum.detectors[spectrum.fluorochromes.index(dim.channel)]
            )
        return source.channel_index(dim.channel)


class _Chunk:
    """The values of one block of events, computed on first use."""

    def __init__(self, plan: _Plan, source: EventSource, start: int, stop: int) -> None:
        self.plan = plan
        self.size = stop - start
        self.block = source.columns(plan.raw_indices, start, stop)
        self.compensated: dict[tuple[int, str], FloatArray] = {}
        self.full: dict[tuple[int, str, str | None], FloatArray] = {}

    def _compensated(self, index: int, ref: str) -> FloatArray:
        solve = None if ref == UNCOMPENSATED else self.plan.solves.get(ref)
        if solve is None:
            return self.block[:, self.plan.position[index]]
        cached = self.compensated.get((index, ref))
        if cached is None:
            # observed = true · S, so true = observed · S⁻¹. einsum, not BLAS: a threaded
            # BLAS spins for each small product and stalls on a shared, busy machine.
            solved = np.einsum("ij,jk->ik", self.block, solve.matrix)
            for j, k in enumerate(solve.outputs):
                self.compensated[(k, ref)] = solved[:, j]
            cached = self.compensated[(index, ref)]
        return cached

    def values(self, dim: Dimension, rows: npt.NDArray[np.intp] | None) -> FloatArray:
        key = self.plan.keys[dim]
        full = self.full.get(key)
        if full is not None:
            return full if rows is None else full[rows]
        index, ref, transform_id = key
        data = self._compensated(index, ref)
        if rows is not None:
            data = data[rows]
        if transform_id is not None:
            data = self.plan.transforms[transform_id].apply(data)
        if rows is None:
            self.full[key] = data
        return data

    def within(
        self,
        dim: Dimension,
        rows: npt.NDArray[np.intp] | None,
        low: float | None,
        high: float | None,
        inside: BoolArray,
    ) -> None:
        """``inside &= low ≤ T(v) < high``, without transforming when it can be avoided.

        A monotone transform preserves order, so ``T(v) ≥ b`` is ``v ≥ T⁻¹⁺(b)``, the
        smallest data value whose scale value reaches ``b`` (:func:`_pull_back`). When the
        transformed column is already at hand it is compared directly.
        """
        key = self.plan.keys[dim]
        transform_id = key[2]
        if transform_id is None or key in self.full:
            v = self.values(dim, rows)
        else:
            transform = self.plan.transforms[transform_id]
            v = self._compensated(key[0], key[1])
            v = v if rows is None else v[rows]
            low = None if low is None else _pull_back(transform, low)
            high = None if high is None else _pull_back(transform, high)
        if low is not None:
            inside &= v >= low
        if high is not None:
            inside &= v < high


def _ordered(x: float) -> int:
    """Float64 → integer with the same order (−0.0 and 0.0 both map to 0)."""
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return int(bits) if bits >= 0 else -(int(bits) & 0x7FFF_FFFF_FFFF_FFFF)


def _unordered(key: int) -> float:
    bits = key if key >= 0 else (-key) | -0x8000_0000_0000_0000
    (x,) = struct.unpack("<d", struct.pack("<q", bits))
    return float(x)


@lru_cache(maxsize=4096)
def _pull_back(transform: Transform, bound: float) -> float:
    """The smallest float64 ``x`` with ``transform(x) ≥ bound`` (±inf when none or all).

    Bisection over the ordered float64 values: exact for the transform as implemented,
    whatever its inverse's rounding, so ``x ≥ result`` and ``transform(x) ≥ bound`` agree
    for every finite ``x`` (NaN and, for ``flog``, ``x ≤ 0`` are in no gate either way).
    """

    def reaches(x: float) -> bool:
        return bool(transform.apply(np.array([x]))[0] >= bound)

    top = float(np.finfo(np.float64).max)
    if not reaches(top):
        return math.inf
    if reaches(-top):
        return -math.inf
    low, high = _ordered(-top), _ordered(top)  # reaches(low) is False, reaches(high) True
    while high - low > 1:
        middle = (low + high) // 2
        if reaches(_unordered(middle)):
            high = middle
        else:
            low = middle
    return _unordered(high)


def _in_polygon(x: FloatArray, y: FloatArray, vertices: Sequence[tuple[float, float]]) -> BoolArray:
    """Even winding count of Dan Sunday's test, as GatingML reference code evaluates it."""
    vx = [float(v[0]) for v in vertices]
    vy = [float(v[1]) for v in vertices]
    candidate = (x >= min(vx)) & (x <= max(vx)) & (y >= min(vy)) & (y <= max(vy))
    rows = np.flatnonzero(candidate)
    px, py = x[rows], y[rows]
    wind = np.zeros(rows.size, dtype=np.int64)
    n = len(vx)
    for i in range(n):
        ax, ay, bx, by = vx[i], vy[i], vx[(i + 1) % n], vy[(i + 1) % n]
        is_left = (bx - ax) * (py - ay) - (px - ax) * (by - ay)
        if ay <= by:
            up = (ay <= py) & (py < by) & (is_left > 0)
            wind += up
        if ay > by:
            down = (by <= py) & (is_left < 0)
            down &= ay > py
            wind -= down
    inside = np.zeros(x.size, dtype=bool)
    inside[rows] = (wind % 2) != 0
    return inside


def _evaluate(gate: Gate, chunk: _Chunk, rows: npt.NDArray[np.intp] | None) -> BoolArray:
    if isinstance(gate, RectangleGate):
        result = np.ones(chunk.size if rows is None else rows.size, dtype=bool)
        for dim, (low, high) in zip(gate.dimensions, gate.bounds, strict=True):
            chunk.within(dim, rows, low, high, result)
        return result
    if isinstance(gate, PolygonGate):
        return _in_polygon(
            chunk.values(gate.dimensions[0], rows),
            chunk.values(gate.dimensions[1], rows),
            gate.vertices,
        )
    if isinstance(gate, EllipseGate):
        points = np.column_stack([chunk.values(d, rows) for d in gate.dimensions])
        translated = points - np.array(gate.mean, dtype=np.float64)
        inverse = np.linalg.inv(np.array(gate.covariance, dtype=np.float64))
        rotated = np.einsum("ij,jk->ik", translated, inverse)
        distance: BoolArray = (rotated * translated).sum(axis=1) <= gate.distance_square
        return distance
    raise TypeError(type(gate).__name__)  # quadrant and boolean gates are handled by the caller


def apply_strategy(
    strategy: GatingStrategy,
    source: EventSource,
    *,
    spillover: SpilloverMatrix | None = None,
    chunk_events: int = _CHUNK_EVENTS,
) -> GatingResult:
    """Evaluate every gate of ``strategy`` on the events of ``source``.

    Parameters
    ----------
    strategy
        The gates, transforms and matrices.
    source
        The events (an :class:`~mrdtrack.lab.fcs.FcsFile`).
    spillover
        A matrix that replaces the file's own for ``compensation-ref="FCS"``.
    chunk_events
        Events per block; blocks keep the working set in cache.
    """
    plan = _Plan(strategy, source, spillover)
    total = source.event_count
    masks = {gate_id: np.zeros(total, dtype=bool) for gate_id in strategy.gate_ids}
    for start in range(0, total, chunk_events):
        stop = min(start + chunk_events, total)
        chunk = _Chunk(plan, source, start, stop)
        local: dict[str, BoolArray] = {}
        for gate in strategy.gates:
            parent = None if gate.parent is None else local[gate.parent]
            if isinstance(gate, BooleanGate):
                parts = [
                    ~local[ref] if complement else local[ref] for ref, complement in gate.operands
                ]
                if gate.operator is BooleanOperator.AND:
                    own = np.logical_and.reduce(parts)
                elif gate.operator is BooleanOperator.OR:
                    own = np.logical_or.reduce(parts)
                else:
                    own = ~parts[0]
                local[gate.id] = own if parent is None else own & parent
                continue
            # A sparse parent: evaluate (and transform) only the parent's events.
            rows = None
            if parent is not None and np.count_nonzero(parent) < parent.size // 2:
                rows = np.flatnonzero(parent)
            if isinstance(gate, QuadrantGate):
                dividers = {d.id: d.dimension for d in gate.dividers}
                for quadrant in gate.quadrants:
                    inside = np.ones(chunk.size if rows is None else rows.size, dtype=bool)
                    for divider_id, low, high in quadrant.ranges:
                        chunk.within(dividers[divider_id], rows, low, high, inside)
                    local[quadrant.id] = _scatter(inside, rows, parent, chunk.size)
                continue
            local[gate.id] = _scatter(_evaluate(gate, chunk, rows), rows, parent, chunk.size)
        for gate_id, mask in masks.items():
            mask[start:stop] = local[gate_id]
    counts = {gate_id: int(np.count_nonzero(mask)) for gate_id, mask in masks.items()}
    return GatingResult(
        events_total=total,
        counts=MappingProxyType(counts),
        masks=MappingProxyType(masks),
        notes=tuple(plan.notes),
    )


def _scatter(
    inside: BoolArray, rows: npt.NDArray[np.intp] | None, parent: BoolArray | None, size: int
) -> BoolArray:
    if rows is not None:
        full = np.zeros(size, dtype=bool)
        full[rows] = inside
        return full
    return inside if parent is None else inside & parent
