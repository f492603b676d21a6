"""Publication figures drawn from the registry: swimmer, survival, incidence, MRD, forest.

An adapter layer (shared/ARCHITECTURE.md): :mod:`~mrdtrack.figures.timeline` reads the
registry into plain per-patient values, :mod:`~mrdtrack.figures.events` derives what is
drawn, and each figure module turns plain values into a matplotlib
:class:`~matplotlib.figure.Figure` in one colour-blind-safe style
(:mod:`~mrdtrack.figures.style`), saved as SVG, PNG or PDF. Curves and counts are those
of :mod:`mrdtrack.outcomes`; MRD values are the MRD engine's stored results.

=================  ==============================================================
module             figure
=================  ==============================================================
``timeline``       registry → :class:`PatientTimeline` (one query per table)
``events``         swimmer rows and patient groups
``swimmer``        swimmer plot, paged for large cohorts
``survival_plot``  Kaplan–Meier / cumulative incidence with risk table
``mrd_kinetics``   MRD on a log scale, per patient or as a cohort grid
``forest``         rates with Wilson intervals, Cox hazard ratios
``pathway``        treatment pathway after blinatumomab (Sankey-style flows)
``style``          palette (Okabe–Ito), fonts, export
=================  ==============================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrdtrack.figures.events import (
        Grouping,
        SwimmerCohort,
        SwimmerEvent,
        SwimmerMarker,
        SwimmerRow,
        SwimmerSegment,
        SwimmerSort,
        group_labels,
        status_before_blinatumomab,
        swimmer_rows,
    )
    from mrdtrack.figures.forest import (
        ForestRow,
        ForestScale,
        forest_figure,
        hazard_ratio_rows,
        rate_row,
    )
    from mrdtrack.figures.mrd_kinetics import (
        MrdPoint,
        MrdSeries,
        PointKind,
        TherapyMark,
        mrd_kinetics_figure,
        mrd_kinetics_grid,
        mrd_series,
    )
    from mrdtrack.figures.pathway import (
        Pathway,
        PathwayFlow,
        PathwayNode,
        PathwayStage,
        PatientPathway,
        pathway_figure,
        treatment_pathways,
    )
    from mrdtrack.figures.style import (
        FigureFormat,
        figure_bytes,
        figure_format,
        figure_svg,
        save_figure,
    )
    from mrdtrack.figures.survival_plot import (
        Curve,
        RiskTable,
        format_p_value,
        incidence_figure,
        risk_table,
        survival_figure,
    )
    from mrdtrack.figures.swimmer import element_id, swimmer_figure, swimmer_pages
    from mrdtrack.figures.timeline import PatientTimeline, TimeZero, axis_label, load_timelines

__all__ = [
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

# Names are imported on first use, so that ``from mrdtrack.figures.events import Grouping``
# (the CLI's option types) does not pay for matplotlib at every command's start-up.
_MODULES: dict[str, str] = {
    "Curve": "mrdtrack.figures.survival_plot",
    "FigureFormat": "mrdtrack.figures.style",
    "ForestRow": "mrdtrack.figures.forest",
    "ForestScale": "mrdtrack.figures.forest",
    "Grouping": "mrdtrack.figures.events",
    "MrdPoint": "mrdtrack.figures.mrd_kinetics",
    "MrdSeries": "mrdtrack.figures.mrd_kinetics",
    "Pathway": "mrdtrack.figures.pathway",
    "PathwayFlow": "mrdtrack.figures.pathway",
    "PathwayNode": "mrdtrack.figures.pathway",
    "PathwayStage": "mrdtrack.figures.pathway",
    "PatientPathway": "mrdtrack.figures.pathway",
    "PatientTimeline": "mrdtrack.figures.timeline",
    "PointKind": "mrdtrack.figures.mrd_kinetics",
    "RiskTable": "mrdtrack.figures.survival_plot",
    "SwimmerCohort": "mrdtrack.figures.events",
    "SwimmerEvent": "mrdtrack.figures.events",
    "SwimmerMarker": "mrdtrack.figures.events",
    "SwimmerRow": "mrdtrack.figures.events",
    "SwimmerSegment": "mrdtrack.figures.events",
    "SwimmerSort": "mrdtrack.figures.events",
    "TherapyMark": "mrdtrack.figures.mrd_kinetics",
    "TimeZero": "mrdtrack.figures.timeline",
    "axis_label": "mrdtrack.figures.timeline",
    "element_id": "mrdtrack.figures.swimmer",
    "figure_bytes": "mrdtrack.figures.style",
    "figure_format": "mrdtrack.figures.style",
    "figure_svg": "mrdtrack.figures.style",
    "forest_figure": "mrdtrack.figures.forest",
    "format_p_value": "mrdtrack.figures.survival_plot",
    "group_labels": "mrdtrack.figures.events",
    "hazard_ratio_rows": "mrdtrack.figures.forest",
    "incidence_figure": "mrdtrack.figures.survival_plot",
    "load_timelines": "mrdtrack.figures.timeline",
    "mrd_kinetics_figure": "mrdtrack.figures.mrd_kinetics",
    "mrd_kinetics_grid": "mrdtrack.figures.mrd_kinetics",
    "mrd_series": "mrdtrack.figures.mrd_kinetics",
    "pathway_figure": "mrdtrack.figures.pathway",
    "rate_row": "mrdtrack.figures.forest",
    "risk_table": "mrdtrack.figures.survival_plot",
    "save_figure": "mrdtrack.figures.style",
    "status_before_blinatumomab": "mrdtrack.figures.events",
    "survival_figure": "mrdtrack.figures.survival_plot",
    "swimmer_figure": "mrdtrack.figures.swimmer",
    "swimmer_pages": "mrdtrack.figures.swimmer",
    "swimmer_rows": "mrdtrack.figures.events",
    "treatment_pathways": "mrdtrack.figures.pathway",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
