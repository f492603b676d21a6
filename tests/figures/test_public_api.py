"""The public API of mrdtrack.figures is pinned, and every name resolves."""

from __future__ import annotations

import mrdtrack.figures as figures


def test_public_api() -> None:
    assert sorted(figures.__all__) == [
        "Curve",
        "FigureFormat",
        "ForestRow",
        "ForestScale",
        "Grouping",
        "MrdPoint",
        "MrdSeries",
        "Pathway",
        "PathwayFlow",
        "PathwayNode",
        "PathwayStage",
        "PatientPathway",
        "PatientTimeline",
        "PointKind",
        "RiskTable",
        "SwimmerCohort",
        "SwimmerEvent",
        "SwimmerMarker",
        "SwimmerRow",
        "SwimmerSegment",
        "SwimmerSort",
        "TherapyMark",
        "TimeZero",
        "axis_label",
        "element_id",
        "figure_bytes",
        "figure_format",
        "figure_svg",
        "forest_figure",
        "format_p_value",
        "group_labels",
        "hazard_ratio_rows",
        "incidence_figure",
        "load_timelines",
        "mrd_kinetics_figure",
        "mrd_kinetics_grid",
        "mrd_series",
        "pathway_figure",
        "rate_row",
        "risk_table",
        "save_figure",
        "status_before_blinatumomab",
        "survival_figure",
        "swimmer_figure",
        "swimmer_pages",
        "swimmer_rows",
        "treatment_pathways",
    ]
    for name in figures.__all__:
        assert getattr(figures, name) is not None
    assert sorted(dir(figures)) == sorted(figures.__all__)
