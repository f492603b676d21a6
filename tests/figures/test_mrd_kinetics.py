"""MRD kinetics: log scale, method by shape, not-detected at its sensitivity (open), never 0."""

from __future__ import annotations

import dataclasses

import pytest
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D

from mrdtrack.errors import InputError
from mrdtrack.figures import (
    MrdPoint,
    PatientTimeline,
    PointKind,
    mrd_kinetics_figure,
    mrd_kinetics_grid,
    mrd_series,
)
from mrdtrack.figures.mrd_kinetics import METHOD_MARKERS
from mrdtrack.mrd import MrdMethod, MrdStatus
from tests.figures.svg import element, ids, tree, ydata

WHITE = to_rgba("white")


def _lines(figure: object) -> dict[str, Line2D]:
    ax = figure.axes[0]  # type: ignore[attr-defined]
    return {str(a.get_gid()): a for a in ax.get_lines() if a.get_gid()}


def test_not_detected_sits_at_its_sensitivity_with_an_open_marker(
    patient: PatientTimeline,
) -> None:
    series = mrd_series(patient)
    figure = mrd_kinetics_figure([series])
    lines = _lines(figure)
    root = tree(figure)
    not_detected = [r for r in patient.mrd if not r.detected]
    assert not_detected
    for r in not_detected:
        gid = f"mrd-point-SEED1-P05-{r.result_id}-not_detected"
        mark = lines[gid]
        assert r.mrd_fraction is None and r.sensitivity_fraction is not None
        assert ydata(mark) == [r.sensitivity_fraction]
        assert to_rgba(mark.get_markerfacecolor()) == WHITE
        element(root, gid)
    for r in (r for r in patient.mrd if r.detected):
        mark = lines[f"mrd-point-SEED1-P05-{r.result_id}-detected"]
        assert ydata(mark) == [r.mrd_fraction]
        assert to_rgba(mark.get_markerfacecolor()) != WHITE
    assert all(
        y > 0 for gid, line in lines.items() if gid.startswith("mrd-point") for y in ydata(line)
    )


def test_log_scale_thresholds_and_method_shapes(patient: PatientTimeline) -> None:
    figure = mrd_kinetics_figure([mrd_series(patient)])
    ax = figure.axes[0]
    assert ax.get_yscale() == "log"
    lines = _lines(figure)
    assert ydata(lines["mrd-threshold-0_0001"]) == [1e-4, 1e-4]
    assert ydata(lines["mrd-threshold-0_001"]) == [1e-3, 1e-3]
    # P05 is followed by RQ-PCR (TCF3::PBX1): squares.
    points = [line for gid, line in lines.items() if gid.startswith("mrd-point")]
    assert {line.get_marker() for line in points} == {METHOD_MARKERS[MrdMethod.RQ_PCR][0]}
    assert ax.get_ylim()[0] <= min(r.sensitivity_fraction or 1.0 for r in patient.mrd)


def test_treatment_phases_are_shaded(patient: PatientTimeline) -> None:
    root = tree(mrd_kinetics_figure([mrd_series(patient)]))
    assert len(ids(root, "mrd-therapy-blinatumomab-SEED1-P05-")) == 2
    assert len(ids(root, "mrd-therapy-hct-SEED1-P05-")) == 1
    assert len(ids(root, "mrd-therapy-dli-SEED1-P05-")) == 2


def test_pnq_and_not_evaluable_points(patient: PatientTimeline) -> None:
    series = mrd_series(patient)
    pnq = MrdPoint(
        9001,
        1,
        1.0,
        "POST_C1",
        MrdMethod.FLOW,
        MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
        True,
        5e-5,
        1e-5,
    )
    failed = MrdPoint(
        9002, 2, 2.0, "POST_C2", MrdMethod.NGS, MrdStatus.NOT_EVALUABLE, False, None, None
    )
    assert (pnq.kind, pnq.level) == (PointKind.NOT_QUANTIFIABLE, 5e-5)
    assert (failed.kind, failed.level) == (PointKind.NOT_EVALUABLE, None)
    changed = dataclasses.replace(series, points=(*series.points, pnq, failed))
    figure = mrd_kinetics_figure([changed])
    lines = _lines(figure)
    half = lines["mrd-point-SEED1-P05-9001-not_quantifiable"]
    assert half.get_fillstyle() == "bottom" and ydata(half) == [5e-5]
    cross = lines["mrd-point-SEED1-P05-9002-not_evaluable"]
    assert cross.get_marker() == "x"
    assert ydata(cross)[0] < min(p.level for p in series.points if p.level)


def test_cohort_grid_and_overlay(timelines: tuple[PatientTimeline, ...]) -> None:
    series = [mrd_series(t) for t in timelines]
    grid = mrd_kinetics_grid(series, columns=4)
    panels = [ax for ax in grid.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == [t.study_id for t in timelines]
    overlay = mrd_kinetics_figure(series[:3])
    legend = overlay.legends[0]
    assert {"SEED1-P01", "SEED1-P02", "SEED1-P03"} <= {t.get_text() for t in legend.get_texts()}


def test_empty_input_is_refused() -> None:
    with pytest.raises(InputError, match="series"):
        mrd_kinetics_figure([])
    with pytest.raises(InputError, match="series"):
        mrd_kinetics_grid([])
