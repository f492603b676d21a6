import mrdtrack.lab as lab


def test_public_api_is_pinned() -> None:
    assert sorted(lab.__all__) == [
        "AsinhTransform",
        "BatchItem",
        "BatchOptions",
        "BatchReport",
        "Clonotype",
        "FcsAnalysis",
        "FcsFile",
        "FileKind",
        "GatingResult",
        "GatingStrategy",
        "LinearTransform",
        "LogTransform",
        "LogicleTransform",
        "NgsAnalysis",
        "QpcrAnalysis",
        "QpcrRun",
        "SpilloverMatrix",
        "analyze_clonotypes",
        "analyze_fcs",
        "analyze_qpcr_run",
        "apply_strategy",
        "load_strategy",
        "parse_gatingml",
        "parse_yaml_strategy",
        "read_clonotype_table",
        "read_fcs",
        "read_qpcr_run",
        "run_batch",
    ]
    for name in lab.__all__:
        assert getattr(lab, name) is not None
