"""The protocol engine: versioned protocols (YAML data, not code) against one patient.

=============  ===========================================================================
module         concept
=============  ===========================================================================
``model``      frozen value objects of a protocol: sources, MRD thresholds per time point,
               rules (risk group, eligibility, next step, review) and the schedule
``loader``     parse and validate YAML protocols and patient timelines (the file adapter);
               the shipped protocols in ``data/``
``timeline``   the patient's plain values, the field vocabulary of the condition language
``engine``     rule statuses (met / not met / not evaluable), eligibility, next steps,
               boundary flags; the blinatumomab dose and calendar join
=============  ===========================================================================

Shipped protocols: ``tpog-mrd`` (SEED-1), ``blincyto-us-mrd``, ``blincyto-us-rr``,
``blincyto-us-consolidation`` (US label), ``graall-2014b``, ``seed2-pathways`` (SEED-2
Figures 1 and 2). ``docs/protocols.md`` describes the format.

Outputs are decision support for a clinician, with their basis and source; they are not
orders.
"""

from mrdtrack.protocols.engine import (
    BoundaryFlag,
    Comparison,
    Eligibility,
    EligibilityVerdict,
    NextStep,
    ProtocolEvaluation,
    ReviewFlag,
    RuleResult,
    RuleStatus,
    evaluate_protocol,
)
from mrdtrack.protocols.loader import (
    load_protocol_file,
    load_protocol_text,
    load_shipped_protocol,
    load_shipped_protocols,
    load_timeline_file,
    load_timeline_text,
    shipped_protocol_ids,
)
from mrdtrack.protocols.model import (
    Action,
    ActionKind,
    ActionStrength,
    AllOf,
    AnyOf,
    Citation,
    Condition,
    DoseBasis,
    DoseSpec,
    EvidenceTag,
    FieldCondition,
    FieldOperator,
    Not,
    Protocol,
    ProtocolThreshold,
    Rule,
    RuleCondition,
    RuleKind,
    Schedule,
    ScheduleIndication,
    Source,
    ThresholdCondition,
    condition_to_dict,
    describe_condition,
)
from mrdtrack.protocols.plan import BlinatumomabPlan, plan_blinatumomab
from mrdtrack.protocols.timeline import (
    FIELDS,
    TIMELINE_KEYS,
    BlinatumomabResponse,
    DiseaseStatus,
    FieldKind,
    FieldSpec,
    MrdMeasurement,
    PatientTimeline,
    Therapy,
    TreatmentPhase,
    parse_disease_status,
    parse_mrd_value,
    timeline_from_mapping,
)

__all__ = [
    "FIELDS",
    "TIMELINE_KEYS",
    "Action",
    "ActionKind",
    "ActionStrength",
    "AllOf",
    "AnyOf",
    "BlinatumomabPlan",
    "BlinatumomabResponse",
    "BoundaryFlag",
    "Citation",
    "Comparison",
    "Condition",
    "DiseaseStatus",
    "DoseBasis",
    "DoseSpec",
    "Eligibility",
    "EligibilityVerdict",
    "EvidenceTag",
    "FieldCondition",
    "FieldKind",
    "FieldOperator",
    "FieldSpec",
    "MrdMeasurement",
    "NextStep",
    "Not",
    "PatientTimeline",
    "Protocol",
    "ProtocolEvaluation",
    "ProtocolThreshold",
    "ReviewFlag",
    "Rule",
    "RuleCondition",
    "RuleKind",
    "RuleResult",
    "RuleStatus",
    "Schedule",
    "ScheduleIndication",
    "Source",
    "Therapy",
    "ThresholdCondition",
    "TreatmentPhase",
    "condition_to_dict",
    "describe_condition",
    "evaluate_protocol",
    "load_protocol_file",
    "load_protocol_text",
    "load_shipped_protocol",
    "load_shipped_protocols",
    "load_timeline_file",
    "load_timeline_text",
    "parse_disease_status",
    "parse_mrd_value",
    "plan_blinatumomab",
    "shipped_protocol_ids",
    "timeline_from_mapping",
]
