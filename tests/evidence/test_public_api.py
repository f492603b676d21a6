"""The public names of mrdtrack.evidence."""

import mrdtrack.evidence as pkg


def test_public_api() -> None:
    assert sorted(pkg.__all__) == [
        "Arm", "CAUTION", "Citation", "CohortMeasure", "ComparisonRow", "EvidenceBase",
        "EvidenceComparison", "Measure", "Population", "Setting", "Trial", "TrialValue",
        "ValueStatus", "compare_cohort", "comparison_forest_rows", "load_evidence",
        "load_evidence_text",
    ]  # fmt: skip
