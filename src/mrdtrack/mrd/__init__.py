"""The MRD engine: pure functions from lab quantities to one :class:`MrdResult`.

No I/O, no database, no clock. Every rule cites its source in its module docstring;
every number that the sources disagree on comes from a versioned profile
(:mod:`mrdtrack.mrd.profiles`).

=======================  ===========================================================
module                   concept
=======================  ===========================================================
``standard_curve``       qPCR standard curve fit, efficiency, acceptance (PCR-01)
``qpcr``                 fusion-transcript RQ-PCR: NCN, MRD vs diagnosis (PCR-02…07)
``bcr_abl1_is``          BCR::ABL1 International Scale and MR levels (PCR-08)
``igtr``                 Ig/TR RQ-PCR result categories (IGTR-01, IGTR-02)
``flow``                 flow-cytometry LAIP MRD (FLOW-01, FLOW-02)
``ngs``                  clonotype NGS MRD (NGS-01, NGS-02)
``response``             ASH 2021 MRD response categories (RESP-MRD)
``thresholds``           threshold catalogue with operators; MRD log bands (§5.1)
``profiles``             versioned rule profiles with their sources
``result``               the :class:`MrdResult` value object
``units``                fraction / percent / log-reduction conversions and display
=======================  ===========================================================
"""

from mrdtrack.mrd.bcr_abl1_is import (
    InternationalScaleResult,
    MolecularResponse,
    international_scale,
)
from mrdtrack.mrd.flow import flow_mrd
from mrdtrack.mrd.igtr import igtr_levels_from_ct, igtr_mrd
from mrdtrack.mrd.ngs import cells_from_dna, ngs_limit_of_detection, ngs_mrd
from mrdtrack.mrd.profiles import (
    CURVE_ACCEPTANCE,
    FLOW_PROFILES,
    IGTR_PROFILES,
    NGS_PROFILES,
    QPCR_PROFILES,
    ControlBasis,
    CurveAcceptance,
    FlowProfile,
    IgTrProfile,
    NgsProfile,
    QpcrProfile,
    SequenceCombination,
    derive,
    get_profile,
)
from mrdtrack.mrd.qpcr import (
    DIAGNOSIS_NCN_RANGES,
    ReplicateQuantities,
    Transcript,
    qpcr_mrd,
    qpcr_mrd_from_ct,
    quantify_replicates,
)
from mrdtrack.mrd.response import MrdResponse, MrdResponseCategory, mrd_response
from mrdtrack.mrd.result import MrdMethod, MrdResult, MrdStatus, QcFlag
from mrdtrack.mrd.standard_curve import (
    CurveStatus,
    CurveVerdict,
    StandardCurve,
    assess_curve,
    efficiency_from_slope,
    fit_standard_curve,
)
from mrdtrack.mrd.thresholds import (
    THRESHOLDS,
    MrdBand,
    Operator,
    Threshold,
    get_threshold,
    mrd_band,
)
from mrdtrack.mrd.units import (
    format_fraction,
    format_percent,
    fraction_to_percent,
    log_reduction,
    percent_to_fraction,
)

__all__ = [
    "CURVE_ACCEPTANCE",
    "DIAGNOSIS_NCN_RANGES",
    "FLOW_PROFILES",
    "IGTR_PROFILES",
    "NGS_PROFILES",
    "QPCR_PROFILES",
    "THRESHOLDS",
    "ControlBasis",
    "CurveAcceptance",
    "CurveStatus",
    "CurveVerdict",
    "FlowProfile",
    "IgTrProfile",
    "InternationalScaleResult",
    "MolecularResponse",
    "MrdBand",
    "MrdMethod",
    "MrdResponse",
    "MrdResponseCategory",
    "MrdResult",
    "MrdStatus",
    "NgsProfile",
    "Operator",
    "QcFlag",
    "QpcrProfile",
    "ReplicateQuantities",
    "SequenceCombination",
    "StandardCurve",
    "Threshold",
    "Transcript",
    "assess_curve",
    "cells_from_dna",
    "derive",
    "efficiency_from_slope",
    "fit_standard_curve",
    "flow_mrd",
    "format_fraction",
    "format_percent",
    "fraction_to_percent",
    "get_profile",
    "get_threshold",
    "igtr_levels_from_ct",
    "igtr_mrd",
    "international_scale",
    "log_reduction",
    "mrd_band",
    "mrd_response",
    "ngs_limit_of_detection",
    "ngs_mrd",
    "percent_to_fraction",
    "qpcr_mrd",
    "qpcr_mrd_from_ct",
    "quantify_replicates",
]
