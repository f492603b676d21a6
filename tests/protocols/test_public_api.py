"""The public API of mrdtrack.protocols is pinned: a change here is a decision."""

import subprocess
import sys

import mrdtrack.protocols


def test_protocols_api() -> None:
    assert sorted(mrdtrack.protocols.__all__) == sorted(
        [
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
    )
    for name in mrdtrack.protocols.__all__:
        assert hasattr(mrdtrack.protocols, name), name


def test_evaluation_does_not_import_therapy() -> None:
    # The protocol evaluation must not depend on mrdtrack.therapy: the dose and calendar
    # join imports it only inside plan_blinatumomab.
    code = (
        "import sys, mrdtrack.protocols as p;"
        "p.evaluate_protocol(p.load_shipped_protocol('tpog-mrd'), p.PatientTimeline());"
        "print(sorted(m for m in sys.modules if m.startswith('mrdtrack.therapy')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
