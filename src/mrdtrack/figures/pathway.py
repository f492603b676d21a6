"""Treatment pathway after blinatumomab: a Sankey-style diagram of patient flows.

Four stages, one column each; every patient with a blinatumomab infusion is counted once
per stage, so each column sums to the number of patients. The assignments are derived by
:func:`treatment_pathways` from the same registry values as the swimmer plot
(:class:`~mrdtrack.figures.timeline.PatientTimeline` and
:func:`~mrdtrack.figures.events.swimmer_rows`), stated once here:

1. **Status before blinatumomab** — :func:`~mrdtrack.figures.events.status_before_blinatumomab`:
   R/R (last assessment before the first infusion a relapse, NR or PR), else MRD+ / MRD−
   by the last ``PRE_BLIN`` sample (positive if any of its results is), else unknown.
2. **Blinatumomab response** — MRD− after cycle 1 when the cycle-1 sample is negative;
   MRD− after cycle 2 when cycle 1's is not and cycle 2's is; MRD+ after blinatumomab when
   an evaluable post-cycle sample exists and none is negative; otherwise not evaluable.
   The cycle-*k* sample is the one labelled ``POST_C<k>``; without that label, the first
   sample after the cycle's start and on or before the next treatment course.
3. **Therapy after blinatumomab** — courses started after the initial blinatumomab block
   (the consecutive blinatumomab courses from the first infusion), plus a TKI still given
   when the block ends; the most intensive counts: HCT > CAR-T > TKI > re-treatment
   (chemotherapy, inotuzumab or further blinatumomab; intrathecal therapy alone is not
   counted) > none. DLI given after the HCT is counted in the HCT node's label.
4. **Outcome at last follow-up** — death; else relapse after the first infusion (alive,
   whatever the later response); else the last MRD sample: alive in CR and MRD−, alive
   MRD+, or alive with MRD not evaluable. This is the swimmer plot's response order
   (:attr:`~mrdtrack.figures.events.SwimmerSort.RESPONSE`).

Flows are bands whose width is proportional to the number of patients, coloured by the
node they leave and labelled with their count. SVG ids: ``pathway-node-<node>`` and
``pathway-flow-<from>-<to>`` (node values of :class:`PathwayNode`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from mrdtrack.errors import InputError
from mrdtrack.figures.events import (
    SwimmerRow,
    status_before_blinatumomab,
    swimmer_rows,
)
from mrdtrack.figures.style import GREY, LIGHT_GREY, OKABE_ITO, THERAPY_COLORS, styled
from mrdtrack.figures.swimmer import element_id
from mrdtrack.figures.timeline import MrdEntry, PatientTimeline, TimeZero, TreatmentEntry
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.vocabulary import TreatmentKind

__all__ = [
    "Pathway",
    "PathwayFlow",
    "PathwayNode",
    "PathwayStage",
    "PatientPathway",
    "pathway_figure",
    "treatment_pathways",
]


class PathwayStage(StrEnum):
    """The columns of the diagram, left to right."""

    STATUS = "status"
    RESPONSE = "response"
    THERAPY = "therapy"
    OUTCOME = "outcome"


class PathwayNode(StrEnum):
    """One box of the diagram (values are unique across stages: they name SVG ids)."""

    MRD_POSITIVE = "mrd-positive"
    MRD_NEGATIVE = "mrd-negative"
    RELAPSED_REFRACTORY = "relapsed-refractory"
    STATUS_UNKNOWN = "status-unknown"
    MRD_NEGATIVE_C1 = "mrd-negative-c1"
    MRD_NEGATIVE_C2 = "mrd-negative-c2"
    MRD_POSITIVE_AFTER = "mrd-positive-after"
    RESPONSE_NOT_EVALUABLE = "response-not-evaluable"
    HCT = "hct"
    CAR_T = "car-t"
    TKI = "tki"
    RE_TREATMENT = "re-treatment"
    NO_FURTHER_THERAPY = "none"
    CR_MRD_NEGATIVE = "cr-mrd-negative"
    ALIVE_MRD_POSITIVE = "alive-mrd-positive"
    ALIVE_MRD_UNKNOWN = "alive-mrd-unknown"
    RELAPSE = "relapse"
    DEATH = "death"


_STAGE_NODES: dict[PathwayStage, tuple[PathwayNode, ...]] = {
    PathwayStage.STATUS: (
        PathwayNode.MRD_POSITIVE,
        PathwayNode.MRD_NEGATIVE,
        PathwayNode.RELAPSED_REFRACTORY,
        PathwayNode.STATUS_UNKNOWN,
    ),
    PathwayStage.RESPONSE: (
        PathwayNode.MRD_NEGATIVE_C1,
        PathwayNode.MRD_NEGATIVE_C2,
        PathwayNode.MRD_POSITIVE_AFTER,
        PathwayNode.RESPONSE_NOT_EVALUABLE,
    ),
    PathwayStage.THERAPY: (
        PathwayNode.HCT,
        PathwayNode.CAR_T,
        PathwayNode.TKI,
        PathwayNode.RE_TREATMENT,
        PathwayNode.NO_FURTHER_THERAPY,
    ),
    PathwayStage.OUTCOME: (
        PathwayNode.CR_MRD_NEGATIVE,
        PathwayNode.ALIVE_MRD_POSITIVE,
        PathwayNode.ALIVE_MRD_UNKNOWN,
        PathwayNode.RELAPSE,
        PathwayNode.DEATH,
    ),
}
_STAGES = tuple(PathwayStage)

_STAGE_TITLES = {
    PathwayStage.STATUS: "Status before\nblinatumomab",
    PathwayStage.RESPONSE: "Response to\nblinatumomab",
    PathwayStage.THERAPY: "Therapy after\nblinatumomab",
    PathwayStage.OUTCOME: "Status at last\nfollow-up",
}

_LABELS = {
    PathwayNode.MRD_POSITIVE: "MRD+ in CR",
    PathwayNode.MRD_NEGATIVE: "MRD− in CR",
    PathwayNode.RELAPSED_REFRACTORY: "Relapsed/refractory",
    PathwayNode.STATUS_UNKNOWN: "Status unknown",
    PathwayNode.MRD_NEGATIVE_C1: "MRD− after cycle 1",
    PathwayNode.MRD_NEGATIVE_C2: "MRD− after cycle 2",
    PathwayNode.MRD_POSITIVE_AFTER: "MRD+ after blinatumomab",
    PathwayNode.RESPONSE_NOT_EVALUABLE: "MRD not evaluable",
    PathwayNode.HCT: "HCT",
    PathwayNode.CAR_T: "CAR-T",
    PathwayNode.TKI: "TKI",
    PathwayNode.RE_TREATMENT: "Chemotherapy /\nre-treatment",
    PathwayNode.NO_FURTHER_THERAPY: "None",
    PathwayNode.CR_MRD_NEGATIVE: "Alive in CR, MRD−",
    PathwayNode.ALIVE_MRD_POSITIVE: "Alive, MRD+",
    PathwayNode.ALIVE_MRD_UNKNOWN: "Alive, MRD not evaluable",
    PathwayNode.RELAPSE: "Relapsed, alive",
    PathwayNode.DEATH: "Death",
}

_COLORS = {
    PathwayNode.MRD_POSITIVE: OKABE_ITO["vermillion"],
    PathwayNode.MRD_NEGATIVE: OKABE_ITO["blue"],
    PathwayNode.RELAPSED_REFRACTORY: OKABE_ITO["reddish_purple"],
    PathwayNode.STATUS_UNKNOWN: GREY,
    PathwayNode.MRD_NEGATIVE_C1: OKABE_ITO["blue"],
    PathwayNode.MRD_NEGATIVE_C2: OKABE_ITO["sky_blue"],
    PathwayNode.MRD_POSITIVE_AFTER: OKABE_ITO["vermillion"],
    PathwayNode.RESPONSE_NOT_EVALUABLE: GREY,
    PathwayNode.HCT: THERAPY_COLORS[TreatmentKind.HCT],
    PathwayNode.CAR_T: THERAPY_COLORS[TreatmentKind.CAR_T],
    PathwayNode.TKI: THERAPY_COLORS[TreatmentKind.TKI],
    PathwayNode.RE_TREATMENT: THERAPY_COLORS[TreatmentKind.CHEMOTHERAPY],
    PathwayNode.NO_FURTHER_THERAPY: LIGHT_GREY,
    PathwayNode.CR_MRD_NEGATIVE: OKABE_ITO["blue"],
    PathwayNode.ALIVE_MRD_POSITIVE: OKABE_ITO["vermillion"],
    PathwayNode.ALIVE_MRD_UNKNOWN: GREY,
    PathwayNode.RELAPSE: OKABE_ITO["reddish_purple"],
    PathwayNode.DEATH: OKABE_ITO["black"],
}

# Most intensive first: the therapy a patient is counted under (stage 3).
_THERAPY_ORDER: tuple[tuple[frozenset[TreatmentKind], PathwayNode], ...] = (
    (frozenset({TreatmentKind.HCT}), PathwayNode.HCT),
    (frozenset({TreatmentKind.CAR_T}), PathwayNode.CAR_T),
    (frozenset({TreatmentKind.TKI}), PathwayNode.TKI),
    (
        frozenset(
            {TreatmentKind.CHEMOTHERAPY, TreatmentKind.INOTUZUMAB, TreatmentKind.BLINATUMOMAB}
        ),
        PathwayNode.RE_TREATMENT,
    ),
)

_STATUS_NODES = {
    "MRD+": PathwayNode.MRD_POSITIVE,
    "MRD−": PathwayNode.MRD_NEGATIVE,
    "R/R": PathwayNode.RELAPSED_REFRACTORY,
}


@dataclass(frozen=True, slots=True)
class PatientPathway:
    """One patient's node at each stage, and whether DLI followed an HCT."""

    study_id: str
    status: PathwayNode
    response: PathwayNode
    therapy: PathwayNode
    outcome: PathwayNode
    dli_after_hct: bool

    def node(self, stage: PathwayStage) -> PathwayNode:
        """The patient's node at ``stage``."""
        return {
            PathwayStage.STATUS: self.status,
            PathwayStage.RESPONSE: self.response,
            PathwayStage.THERAPY: self.therapy,
            PathwayStage.OUTCOME: self.outcome,
        }[stage]


@dataclass(frozen=True, slots=True)
class PathwayFlow:
    """Patients moving from one node to the next stage's node."""

    source: PathwayNode
    target: PathwayNode
    study_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of patients in the band."""
        return len(self.study_ids)


@dataclass(frozen=True, slots=True)
class Pathway:
    """Stage assignments of every patient with blinatumomab, and the flows between stages."""

    patients: tuple[PatientPathway, ...]
    excluded: tuple[str, ...]

    def node_counts(self, stage: PathwayStage) -> dict[PathwayNode, int]:
        """Patients per node at ``stage``, in display order (nodes without patients left out)."""
        counts = Counter(p.node(stage) for p in self.patients)
        return {node: counts[node] for node in _STAGE_NODES[stage] if counts[node]}

    def flows(self, source_stage: PathwayStage) -> tuple[PathwayFlow, ...]:
        """The bands from ``source_stage`` to the next stage, in display order."""
        index = _STAGES.index(source_stage)
        if index == len(_STAGES) - 1:
            raise InputError(
                "source_stage", source_stage.value, "a stage other than the last (outcome)"
            )
        target_stage = _STAGES[index + 1]
        grouped: dict[tuple[PathwayNode, PathwayNode], list[str]] = {}
        for p in self.patients:
            grouped.setdefault((p.node(source_stage), p.node(target_stage)), []).append(p.study_id)
        order = {n: i for stage in _STAGES for i, n in enumerate(_STAGE_NODES[stage])}
        keys = sorted(grouped, key=lambda k: (order[k[0]], order[k[1]]))
        return tuple(PathwayFlow(s, t, tuple(grouped[(s, t)])) for s, t in keys)

    @property
    def all_flows(self) -> tuple[PathwayFlow, ...]:
        """Every band of the diagram, stage by stage."""
        return tuple(f for stage in _STAGES[:-1] for f in self.flows(stage))


def treatment_pathways(timelines: Sequence[PatientTimeline]) -> Pathway:
    """Each patient's node at the four stages (definitions in the module docstring).

    Patients without a blinatumomab infusion are listed in ``excluded``, as in the
    swimmer plot with time zero at blinatumomab.
    """
    cohort = swimmer_rows(timelines, time_zero=TimeZero.BLINATUMOMAB)
    rows = {r.study_id: r for r in cohort.rows}
    patients = tuple(
        _patient(t, rows[t.study_id], t.first_blinatumomab)
        for t in timelines
        if t.study_id in rows and t.first_blinatumomab is not None
    )
    return Pathway(patients, cohort.excluded)


def _patient(t: PatientTimeline, row: SwimmerRow, start: date) -> PatientPathway:
    block_end, later = _after_block(t, start)
    therapy = PathwayNode.NO_FURTHER_THERAPY
    kinds = {c.kind for c in later}
    kinds.update(
        c.kind
        for c in t.courses(TreatmentKind.TKI)
        if c.start_date <= block_end and (c.end_date is None or c.end_date >= block_end)
    )
    for group, node in _THERAPY_ORDER:
        if kinds & group:
            therapy = node
            break
    hct = [c.start_date for c in later if c.kind is TreatmentKind.HCT]
    dli = bool(hct) and any(c.kind is TreatmentKind.DLI and c.start_date >= min(hct) for c in later)
    return PatientPathway(
        study_id=t.study_id,
        status=_STATUS_NODES.get(status_before_blinatumomab(t), PathwayNode.STATUS_UNKNOWN),
        response=_response(t),
        therapy=therapy,
        outcome=_outcome(row),
        dli_after_hct=dli,
    )


def _after_block(t: PatientTimeline, start: date) -> tuple[date, list[TreatmentEntry]]:
    """The end of the initial blinatumomab block and the courses started after it."""
    after = [
        c for c in t.treatments if c.start_date >= start and c.kind is not TreatmentKind.INTRATHECAL
    ]
    blinatumomab = [c for c in after if c.kind is TreatmentKind.BLINATUMOMAB]
    block = [blinatumomab[0]]
    for course in after:
        if course is blinatumomab[0]:
            continue
        # A course starting with the first infusion (e.g. intrathecal prophylaxis is
        # already left out) does not end the block; the first other therapy later does.
        if course.kind is not TreatmentKind.BLINATUMOMAB:
            if course.start_date > start:
                break
            continue
        block.append(course)
    last = block[-1]
    end = last.end_date or last.start_date
    later = [c for c in after if c.start_date > last.start_date and c not in block]
    return end, later


def _response(t: PatientTimeline) -> PathwayNode:
    statuses = [_cycle_status(t, cycle) for cycle in (1, 2)]
    if statuses[0] is MrdStatus.NEGATIVE:
        return PathwayNode.MRD_NEGATIVE_C1
    if statuses[1] is MrdStatus.NEGATIVE:
        return PathwayNode.MRD_NEGATIVE_C2
    if any(s is not None and s is not MrdStatus.NOT_EVALUABLE for s in statuses):
        return PathwayNode.MRD_POSITIVE_AFTER
    return PathwayNode.RESPONSE_NOT_EVALUABLE


def _cycle_status(t: PatientTimeline, cycle: int) -> MrdStatus | None:
    """The MRD status of the sample after blinatumomab cycle ``cycle`` (``None``: no sample)."""
    labelled = [r for r in t.mrd if r.timepoint == f"POST_C{cycle}"]
    if not labelled:
        courses = t.courses(TreatmentKind.BLINATUMOMAB)
        numbered = [c for c in courses if c.cycle == cycle]
        if numbered:
            course = numbered[0]
        elif len(courses) >= cycle:
            course = courses[cycle - 1]
        else:
            return None
        following = [c.start_date for c in t.treatments if c.start_date > course.start_date]
        until = min(following) if following else None
        labelled = [
            r
            for r in t.mrd
            if r.sample_date > course.start_date and (until is None or r.sample_date <= until)
        ]
        if not labelled:
            return None
        labelled = [r for r in labelled if r.sample_id == labelled[0].sample_id]
    return _sample_status(labelled)


def _sample_status(results: Sequence[MrdEntry]) -> MrdStatus:
    """Positive if any result of the sample is (the case series' convention, as the swimmer)."""
    statuses = {r.status for r in results}
    for status in (MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE, MrdStatus.NEGATIVE):
        if status in statuses:
            return status
    return MrdStatus.NOT_EVALUABLE


def _outcome(row: SwimmerRow) -> PathwayNode:
    if row.died:
        return PathwayNode.DEATH
    if row.relapsed:
        return PathwayNode.RELAPSE
    if row.last_mrd_status in (MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE):
        return PathwayNode.ALIVE_MRD_POSITIVE
    if row.last_mrd_status is MrdStatus.NEGATIVE:
        return PathwayNode.CR_MRD_NEGATIVE
    return PathwayNode.ALIVE_MRD_UNKNOWN


_NODE_WIDTH = 0.07
_COLUMN_STEP = 1.0
_FLOW_ALPHA = 0.42
_MIN_LABEL_PT = 7.0


@dataclass(frozen=True, slots=True)
class _Box:
    """A node's place: top and height in patient units."""

    x: float
    top: float
    height: float


def pathway_figure(pathway: Pathway, *, title: str | None = None, width_in: float = 7.4) -> Figure:
    """The Sankey-style diagram of ``pathway`` (:func:`treatment_pathways`).

    Parameters
    ----------
    pathway
        Stage assignments and flows.
    title
        Figure title (default: "Treatment pathway after blinatumomab (n = N)").
    width_in
        Figure width in inches (7.4 fits an A4 page between margins).
    """
    n = len(pathway.patients)
    if not n:
        raise InputError(
            "patients", "no patients", "at least one patient with a blinatumomab infusion"
        )
    gap = max(0.8, 0.06 * n)
    boxes: dict[PathwayNode, _Box] = {}
    heights = []
    for stage in _STAGES:
        counts = pathway.node_counts(stage)
        heights.append(n + gap * (len(counts) - 1))
    tallest = max(heights)
    for index, stage in enumerate(_STAGES):
        top = (tallest - heights[index]) / 2
        for node, count in pathway.node_counts(stage).items():
            boxes[node] = _Box(index * _COLUMN_STEP, top, float(count))
            top += count + gap
    height_in = min(max(3.2, 0.32 * tallest + 1.4), 6.5)
    with styled():
        figure = Figure(figsize=(width_in, height_in), facecolor="white", layout="constrained")
        ax = figure.add_subplot()
        ax.set_xlim(-0.62, (len(_STAGES) - 1) * _COLUMN_STEP + 0.78)
        ax.set_ylim(tallest + 0.02 * tallest, -0.09 * tallest - 0.6)
        ax.set_axis_off()
        points_per_unit = _points_per_unit(figure, ax, tallest)
        _draw_flows(ax, pathway, boxes, points_per_unit)
        _draw_nodes(ax, pathway, boxes)
        for index, stage in enumerate(_STAGES):
            ax.text(
                index * _COLUMN_STEP + _NODE_WIDTH / 2,
                -0.04 * tallest - 0.3,
                _STAGE_TITLES[stage],
                ha="center",
                va="bottom",
                fontsize=8.5,
                fontweight="bold",
            )
        ax.set_title(title or f"Treatment pathway after blinatumomab (n = {n})")
        # supxlabel, unlike figure.text, gets its own room in the constrained layout.
        figure.supxlabel(
            "Band width is proportional to the number of patients; numbers are patients per "
            "band.\nTherapy: the most intensive after blinatumomab. Last follow-up: death, else "
            "relapse after blinatumomab, else the last MRD result.",
            fontsize=7,
            color="#444444",
        )
    return figure


def _points_per_unit(figure: Figure, ax: Axes, tallest: float) -> float:
    """Approximate points per patient unit (the axes fill most of the figure height)."""
    height_pt = figure.get_figheight() * 72 * 0.78
    return height_pt / (tallest * 1.11 + 0.6)


def _draw_flows(
    ax: Axes, pathway: Pathway, boxes: dict[PathwayNode, _Box], points_per_unit: float
) -> None:
    out_offset: Counter[PathwayNode] = Counter()
    in_offset: Counter[PathwayNode] = Counter()
    incoming: dict[PathwayNode, list[PathwayFlow]] = {}
    for flow in pathway.all_flows:
        incoming.setdefault(flow.target, []).append(flow)
    # Bands enter a node in the order of their sources so that they do not cross there.
    in_slot: dict[tuple[PathwayNode, PathwayNode], float] = {}
    for target, flows in incoming.items():
        for flow in flows:
            in_slot[(flow.source, target)] = boxes[target].top + in_offset[target]
            in_offset[target] += flow.count
    for flow in pathway.all_flows:
        from_box, to_box = boxes[flow.source], boxes[flow.target]
        y0 = from_box.top + out_offset[flow.source]
        out_offset[flow.source] += flow.count
        y1 = in_slot[(flow.source, flow.target)]
        x0, x1 = from_box.x + _NODE_WIDTH, to_box.x
        mid = (x0 + x1) / 2
        c = flow.count
        vertices = [
            (x0, y0),
            (mid, y0),
            (mid, y1),
            (x1, y1),
            (x1, y1 + c),
            (mid, y1 + c),
            (mid, y0 + c),
            (x0, y0 + c),
            (x0, y0),
        ]
        codes = [
            MplPath.MOVETO,
            MplPath.CURVE4,
            MplPath.CURVE4,
            MplPath.CURVE4,
            MplPath.LINETO,
            MplPath.CURVE4,
            MplPath.CURVE4,
            MplPath.CURVE4,
            MplPath.CLOSEPOLY,
        ]
        band = PathPatch(
            MplPath(vertices, codes),
            facecolor=_COLORS[flow.source],
            edgecolor="white",
            linewidth=0.6,
            alpha=_FLOW_ALPHA,
            zorder=1,
        )
        band.set_gid(element_id("pathway-flow", flow.source.value, flow.target.value))
        ax.add_patch(band)
        if c * points_per_unit >= _MIN_LABEL_PT:
            label = ax.text(
                x1 - 0.015,
                y1 + c / 2,
                str(c),
                ha="right",
                va="center",
                fontsize=7.5,
                color="black",
                zorder=3,
            )
            label.set_gid(element_id("pathway-count", flow.source.value, flow.target.value))


def _draw_nodes(ax: Axes, pathway: Pathway, boxes: dict[PathwayNode, _Box]) -> None:
    dli = sum(1 for p in pathway.patients if p.dli_after_hct)
    last = (len(_STAGES) - 1) * _COLUMN_STEP
    for node, box in boxes.items():
        patch = Rectangle(
            (box.x, box.top),
            _NODE_WIDTH,
            box.height,
            facecolor=_COLORS[node],
            edgecolor="black",
            linewidth=0.6,
            zorder=2,
        )
        patch.set_gid(element_id("pathway-node", node.value))
        ax.add_patch(patch)
        text = f"{_LABELS[node]}\nn = {int(box.height)}"
        if node is PathwayNode.HCT and dli:
            text += f"\n{dli} with DLI after HCT"
        first = box.x == 0.0
        label = ax.text(
            box.x - 0.02 if first else box.x + _NODE_WIDTH + 0.02,
            box.top + box.height / 2,
            text,
            ha="right" if first else "left",
            va="center",
            fontsize=7.5,
            linespacing=1.15,
            zorder=4,
            bbox=None
            if first or box.x == last
            else {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0},
        )
        label.set_gid(element_id("pathway-label", node.value))
