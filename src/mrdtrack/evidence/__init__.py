"""Published blinatumomab trials as curated, cited data, and a cohort compared with them."""

from mrdtrack.evidence.compare import (
    CAUTION,
    CohortMeasure,
    ComparisonRow,
    EvidenceComparison,
    SurvivalEndpoint,
    SurvivalRow,
    cohort_survival_at,
    compare_cohort,
    comparison_forest_rows,
)
from mrdtrack.evidence.schema import (
    Arm,
    Citation,
    EvidenceBase,
    Measure,
    Population,
    Setting,
    Trial,
    TrialValue,
    ValueStatus,
    load_evidence,
    load_evidence_text,
)

__all__ = [
    "CAUTION",
    "Arm",
    "Citation",
    "CohortMeasure",
    "ComparisonRow",
    "EvidenceBase",
    "EvidenceComparison",
    "Measure",
    "Population",
    "Setting",
    "SurvivalEndpoint",
    "SurvivalRow",
    "Trial",
    "TrialValue",
    "ValueStatus",
    "cohort_survival_at",
    "compare_cohort",
    "comparison_forest_rows",
    "load_evidence",
    "load_evidence_text",
]
