"""The public names of mrdtrack.evidence."""

import mrdtrack.evidence as pkg


def test_public_api() -> None:
    assert sorted(pkg.__all__) == [
        "Arm", "CAUTION", "Citation", "CohortMeasure", "ComparisonRow", "EvidenceBase",
        "EvidenceComparison", "Measure", "Population", "Setting", "SurvivalEndpoint",
        "SurvivalRow", "Trial", "TrialValue", "ValueStatus", "cohort_survival_at",
        "compare_cohort", "comparison_forest_rows", "load_evidence", "load_evidence_text",
    ]  # fmt: skip
