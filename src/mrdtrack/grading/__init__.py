"""Toxicity and GVHD grading: pure functions from raw findings to a grade with its basis.

Every grade is a frozen value that carries the grade, the system (name and profile
version), the findings that set it (``drivers``), the inputs exactly as used and the
source. Numbers the sources disagree on, or that were not confirmed ([U] in the domain
rules), live in versioned profiles with an ``unconfirmed`` list; ``docs/grading.md``
lists them with their defaults.

=================  ==============================================================
module             concept
=================  ==============================================================
``crs``            cytokine release syndrome, ASTCT 2019 (CRS-01)
``icans``          ICANS with the ICE score and CAPD, ASTCT 2019 (ICANS-01)
``agvhd_staging``  acute GVHD organ stages (AGVHD-01, AGVHD-03)
``agvhd_grade``    acute GVHD overall grade, Keystone 1994 and MAGIC (AGVHD-02, -04)
``cgvhd``          chronic GVHD global severity, NIH 2014 (CGVHD-01)
``igg``            hypogammaglobulinemia from serum IgG (HYPO-01 … HYPO-06)
``ctcae``          generic CTCAE grade records (term, grade 1–5, version)
=================  ==============================================================
"""

from mrdtrack.grading.agvhd_grade import (
    AGVHD_PROFILES,
    KEYSTONE_GRADE_TABLE,
    MAGIC_GRADE_TABLE,
    AcuteGvhdGrade,
    AgvhdProfile,
    AgvhdSystem,
    GradeCriterion,
    agvhd_profile,
    grade_acute_gvhd,
    overall_grade,
    roman_grade,
)
from mrdtrack.grading.agvhd_staging import (
    AcuteGvhdFindings,
    AcuteGvhdStages,
    Cutoff,
    GvhdOrgan,
    StagingRules,
    stage_acute_gvhd,
)
from mrdtrack.grading.cgvhd import (
    CGVHD_PROFILES,
    CgvhdOrgan,
    CgvhdProfile,
    ChronicGvhdScores,
    ChronicGvhdSeverity,
    GlobalSeverity,
    SeverityRules,
    fev1_lung_score,
    grade_chronic_gvhd,
)
from mrdtrack.grading.crs import (
    CRS_PROFILES,
    CrsGrade,
    CrsProfile,
    CrsScale,
    Hypotension,
    Hypoxia,
    grade_crs,
)
from mrdtrack.grading.ctcae import CTCAE_GRADE_MEANINGS, CtcaeGrade, CtcaeVersion
from mrdtrack.grading.icans import (
    CAPD_ITEMS,
    ICANS_PROFILES,
    CapdResponse,
    CapdScore,
    CerebralOedema,
    Consciousness,
    EncephalopathyTool,
    IcansGrade,
    IcansProfile,
    IceItems,
    Motor,
    Seizure,
    capd_item_points,
    capd_score,
    encephalopathy_tool,
    grade_icans,
)
from mrdtrack.grading.igg import (
    IGG_PROFILES,
    IgGAgeBand,
    IgGAssessment,
    IgGProfile,
    IgGStatus,
    IgGUnit,
    assess_igg,
    default_igg_profile,
    igg_to_mg_dl,
)

__all__ = [
    "AGVHD_PROFILES",
    "CAPD_ITEMS",
    "CGVHD_PROFILES",
    "CRS_PROFILES",
    "CTCAE_GRADE_MEANINGS",
    "ICANS_PROFILES",
    "IGG_PROFILES",
    "KEYSTONE_GRADE_TABLE",
    "MAGIC_GRADE_TABLE",
    "AcuteGvhdFindings",
    "AcuteGvhdGrade",
    "AcuteGvhdStages",
    "AgvhdProfile",
    "AgvhdSystem",
    "CapdResponse",
    "CapdScore",
    "CerebralOedema",
    "CgvhdOrgan",
    "CgvhdProfile",
    "ChronicGvhdScores",
    "ChronicGvhdSeverity",
    "Consciousness",
    "CrsGrade",
    "CrsProfile",
    "CrsScale",
    "CtcaeGrade",
    "CtcaeVersion",
    "Cutoff",
    "EncephalopathyTool",
    "GlobalSeverity",
    "GradeCriterion",
    "GvhdOrgan",
    "Hypotension",
    "Hypoxia",
    "IcansGrade",
    "IcansProfile",
    "IceItems",
    "IgGAgeBand",
    "IgGAssessment",
    "IgGProfile",
    "IgGStatus",
    "IgGUnit",
    "Motor",
    "Seizure",
    "SeverityRules",
    "StagingRules",
    "agvhd_profile",
    "assess_igg",
    "capd_item_points",
    "capd_score",
    "default_igg_profile",
    "encephalopathy_tool",
    "fev1_lung_score",
    "grade_acute_gvhd",
    "grade_chronic_gvhd",
    "grade_crs",
    "grade_icans",
    "igg_to_mg_dl",
    "overall_grade",
    "roman_grade",
    "stage_acute_gvhd",
]
