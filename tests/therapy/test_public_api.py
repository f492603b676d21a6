"""The public API of mrdtrack.therapy is pinned: a change here is a decision."""

import mrdtrack.therapy
from mrdtrack.therapy import blinatumomab, calendar


def test_therapy_api() -> None:
    assert sorted(mrdtrack.therapy.__all__) == [
        "AgeGroup",
        "BLINATUMOMAB_LABELS",
        "BlinatumomabDose",
        "BlinatumomabLabel",
        "BodySurfaceArea",
        "BsaFormula",
        "CalendarDay",
        "CalendarEvent",
        "CycleCalendar",
        "CyclePhase",
        "CycleSchedule",
        "CycleStatus",
        "DLI_PROFILES",
        "DOSE_SAFETY_LIMITS",
        "DayKind",
        "DexamethasoneCourse",
        "DliAction",
        "DliCourse",
        "DliDose",
        "DliEscalation",
        "DliInfusion",
        "DliProfile",
        "DonorType",
        "DoseBasis",
        "DoseLevel",
        "DoseModification",
        "DoseSafetyLimits",
        "DoseStep",
        "DoseUnit",
        "EventKind",
        "Indication",
        "IndicationSchedule",
        "Interruption",
        "InterruptionOutcome",
        "MRD_ASSESSMENTS",
        "ModificationAction",
        "MrdAssessment",
        "MrdAssessmentPlan",
        "Premedication",
        "PremedicationEvent",
        "RecordedDoseCheck",
        "RestartPlan",
        "StartingDliDose",
        "Toxicity",
        "ToxicityRules",
        "US_LABEL",
        "WeightBand",
        "blinatumomab_dose",
        "blinatumomab_dose_for_bsa",
        "body_surface_area",
        "check_bsa_m2",
        "check_first_dli_dose",
        "check_height_cm",
        "check_weight_kg",
        "configure_schedule",
        "cumulative_dli_dose",
        "cycle_calendar",
        "derive_dli_profile",
        "derive_label",
        "dli_dose",
        "dose_modification",
        "format_cells_per_kg",
        "format_mcg",
        "get_label",
        "half_log_ladder",
        "mrd_assessments",
        "next_dli_dose",
        "require_indication",
        "starting_dli_dose",
        "step_dose",
        "target_dose",
        "verify_recorded_dose",
        "weight_band",
    ]
    for name in mrdtrack.therapy.__all__:
        assert hasattr(mrdtrack.therapy, name), name


def test_names_the_protocol_engine_calls() -> None:
    """The protocol engine imports these from their modules (issue 3 contract)."""
    assert [i.value for i in blinatumomab.Indication] == ["mrd", "relapsed", "consolidation"]
    assert callable(blinatumomab.blinatumomab_dose)
    assert blinatumomab.BlinatumomabDose is mrdtrack.therapy.BlinatumomabDose
    assert callable(calendar.cycle_calendar)
    assert calendar.CycleCalendar is mrdtrack.therapy.CycleCalendar
