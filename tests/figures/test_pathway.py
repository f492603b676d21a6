"""The treatment pathway after blinatumomab: stage assignments, flows and the SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.figures import (
    PathwayNode,
    PathwayStage,
    PatientTimeline,
    pathway_figure,
    treatment_pathways,
)
from mrdtrack.reports import CohortReport
from tests.cli.runner import run
from tests.figures import demo
from tests.figures.svg import ids, tree

HCT = ("SEED1-P02", "SEED1-P03", "SEED1-P05", "SEED1-P06", "SEED1-P09")
# Flow gids of the case series, derived by hand from its Table 1 (SEED-1).
FLOWS = {
    "pathway-flow-mrd-positive-mrd-negative-c1",
    "pathway-flow-mrd-positive-mrd-positive-after",
    "pathway-flow-mrd-negative-mrd-negative-c1",
    "pathway-flow-relapsed-refractory-mrd-negative-c1",
    "pathway-flow-mrd-negative-c1-tki",
    "pathway-flow-mrd-negative-c1-re-treatment",
    "pathway-flow-mrd-positive-after-hct",
    "pathway-flow-hct-cr-mrd-negative",
    "pathway-flow-hct-alive-mrd-positive",
    "pathway-flow-hct-death",
    "pathway-flow-tki-cr-mrd-negative",
    "pathway-flow-re-treatment-cr-mrd-negative",
    "pathway-flow-re-treatment-relapse",
}


@pytest.fixture(scope="module")
def root() -> ET.Element:
    timelines, _ = demo.demo()
    return tree(pathway_figure(treatment_pathways(timelines)))


@pytest.mark.parametrize("stage", list(PathwayStage)[:-1], ids=lambda s: s.value)
def test_flows_hold_every_patient_at_every_stage(
    timelines: tuple[PatientTimeline, ...], stage: PathwayStage
) -> None:
    pathway = treatment_pathways(timelines)
    flows = pathway.flows(stage)
    assert sum(f.count for f in flows) == 11
    assert sorted(i for f in flows for i in f.study_ids) == sorted(t.study_id for t in timelines)
    assert sum(pathway.node_counts(stage).values()) == 11


def test_stage_counts_of_the_case_series(timelines: tuple[PatientTimeline, ...]) -> None:
    pathway = treatment_pathways(timelines)
    assert pathway.excluded == ()
    assert pathway.node_counts(PathwayStage.STATUS) == {
        PathwayNode.MRD_POSITIVE: 7,
        PathwayNode.MRD_NEGATIVE: 3,
        PathwayNode.RELAPSED_REFRACTORY: 1,
    }
    assert pathway.node_counts(PathwayStage.RESPONSE) == {
        PathwayNode.MRD_NEGATIVE_C1: 6,
        PathwayNode.MRD_POSITIVE_AFTER: 5,
    }
    assert pathway.node_counts(PathwayStage.OUTCOME) == {
        PathwayNode.CR_MRD_NEGATIVE: 8,
        PathwayNode.ALIVE_MRD_POSITIVE: 1,
        PathwayNode.RELAPSE: 1,
        PathwayNode.DEATH: 1,
    }


def test_the_hct_patients_flow_into_hct(timelines: tuple[PatientTimeline, ...]) -> None:
    pathway = treatment_pathways(timelines)
    into_hct = [f for f in pathway.flows(PathwayStage.RESPONSE) if f.target is PathwayNode.HCT]
    assert sorted(i for f in into_hct for i in f.study_ids) == list(HCT)
    assert pathway.node_counts(PathwayStage.THERAPY) == {
        PathwayNode.HCT: 5,
        PathwayNode.TKI: 2,
        PathwayNode.RE_TREATMENT: 4,
    }
    dli = sorted(p.study_id for p in pathway.patients if p.dli_after_hct)
    assert dli == ["SEED1-P02", "SEED1-P05", "SEED1-P06", "SEED1-P09"]


def test_the_death_flows_into_death(timelines: tuple[PatientTimeline, ...]) -> None:
    pathway = treatment_pathways(timelines)
    (death,) = [f for f in pathway.flows(PathwayStage.THERAPY) if f.target is PathwayNode.DEATH]
    assert death.source is PathwayNode.HCT and death.study_ids == ("SEED1-P05",)


def test_svg_has_one_band_per_flow(root: ET.Element) -> None:
    drawn = ids(root, "pathway-flow-")
    assert len(drawn) == len(set(drawn))
    assert set(drawn) == FLOWS
    nodes = set(ids(root, "pathway-node-"))
    assert len(nodes) == 3 + 2 + 3 + 4
    assert "pathway-node-death" in nodes and "pathway-node-hct" in nodes


def test_band_widths_are_the_counts(timelines: tuple[PatientTimeline, ...]) -> None:
    pathway = treatment_pathways(timelines)
    figure = pathway_figure(pathway)
    (ax,) = figure.axes
    bands = {str(p.get_gid()): p for p in ax.patches if str(p.get_gid()).startswith("pathway-f")}
    for flow in pathway.all_flows:
        path = bands[f"pathway-flow-{flow.source}-{flow.target}"].get_path()
        vertices = np.asarray(path.vertices, dtype=np.float64)
        # The band's left edge runs from its top (first vertex) to its bottom (eighth).
        assert float(vertices[7][1]) - float(vertices[0][1]) == pytest.approx(flow.count)
    counts = {str(t.get_gid()): t.get_text() for t in ax.texts if t.get_gid()}
    assert counts["pathway-count-mrd-positive-after-hct"] == "5"
    assert "4 with DLI after HCT" in counts["pathway-label-hct"]


def test_patients_without_blinatumomab_are_excluded(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    without = replace(timelines[0], treatments=())
    pathway = treatment_pathways([without, *timelines[1:]])
    assert pathway.excluded == ("SEED1-P01",)
    assert sum(f.count for f in pathway.flows(PathwayStage.STATUS)) == 10
    with pytest.raises(InputError, match="blinatumomab"):
        pathway_figure(treatment_pathways([without]))
    with pytest.raises(InputError, match="source_stage"):
        pathway.flows(PathwayStage.OUTCOME)


def test_synthetic_cohort_sums_at_every_stage() -> None:
    timelines, _ = demo.synthetic()
    pathway = treatment_pathways(timelines)
    n = len(pathway.patients) + len(pathway.excluded)
    assert n == len(timelines)
    for stage in list(PathwayStage)[:-1]:
        assert sum(f.count for f in pathway.flows(stage)) == len(pathway.patients)
    assert ids(tree(pathway_figure(pathway)), "pathway-flow-")


def test_cohort_report_has_the_pathway() -> None:
    from tests.reports.conftest import _report

    report: CohortReport = _report()
    block = report.figure("pathway")
    assert "pathway-flow-hct-death" in block.svg
    assert report.html.count("pathway-flow-hct-death") == 1
    assert block.caption.count(".") == 1


def test_plot_pathway_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "pathway.svg"
    code, stdout, err = run(
        capsys, "plot", "pathway", "--out", str(out), "--db", demo.demo_url(), "--json"
    )
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["patients"] == 11 and payload["flows"] == len(FLOWS)
    assert "pathway-flow-hct-death" in out.read_text(encoding="utf-8")
