"""The public API of mrdtrack and mrdtrack.mrd is pinned: a change here is a decision."""

import mrdtrack
import mrdtrack.mrd


def test_package_api() -> None:
    assert sorted(mrdtrack.__all__) == [
        "ImportValidationError",
        "InputError",
        "MrdtrackError",
        "NotFoundError",
        "PermissionDeniedError",
        "ProtocolError",
        "QcError",
        "__version__",
    ]


def test_mrd_api() -> None:
    assert sorted(mrdtrack.mrd.__all__) == sorted(
        [
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
    )
    for name in mrdtrack.mrd.__all__:
        assert hasattr(mrdtrack.mrd, name), name
