"""Therapy calculators: BSA, blinatumomab dose and cycle calendar, dose modifications, DLI.

Pure functions, no I/O and no clock: dates are passed in. Every number the sources give
lives once, as versioned data with its source, in :mod:`mrdtrack.therapy.label` (the
blinatumomab label and the dose plausibility limits) and :mod:`mrdtrack.therapy.dli`
(the DLI profile). Results carry their inputs, formula, rule id and profile version: they
verify a dose against its source; they are not prescriptions.

=================  ===============================================================
module             concept
=================  ===============================================================
``bsa``            body-surface area: Mosteller, DuBois, Haycock, Gehan-George (BSA-01)
``label``          versioned blinatumomab label / protocol data, dose safety limits
``blinatumomab``   daily dose by weight band, indication, cycle; recorded-dose check
                   (BLIN-01, BLIN-02)
``calendar``       dated cycles, hospitalization, premedication, interruptions
                   (BLIN-02 … BLIN-04)
``modifications``  dose actions after CRS, neurological toxicity, seizures, other AEs
                   (BLIN-04)
``dli``            donor lymphocyte infusion dose, cumulative dose, half-log ladder
                   (DLI-01 … DLI-06)
=================  ===============================================================
"""

from mrdtrack.therapy.blinatumomab import (
    BlinatumomabDose,
    DoseBasis,
    DoseLevel,
    DoseStep,
    Indication,
    WeightBand,
    blinatumomab_dose,
    blinatumomab_dose_for_bsa,
    format_mcg,
    require_indication,
    step_dose,
    target_dose,
    weight_band,
)
from mrdtrack.therapy.bsa import (
    BodySurfaceArea,
    BsaFormula,
    body_surface_area,
    check_bsa_m2,
    check_height_cm,
    check_weight_kg,
)
from mrdtrack.therapy.calendar import (
    CalendarDay,
    CalendarEvent,
    CycleCalendar,
    CycleSchedule,
    CycleStatus,
    DayKind,
    EventKind,
    Interruption,
    InterruptionOutcome,
    cycle_calendar,
)
from mrdtrack.therapy.dli import (
    DLI_PROFILES,
    DliAction,
    DliCourse,
    DliDose,
    DliEscalation,
    DliInfusion,
    DliProfile,
    DonorType,
    StartingDliDose,
    check_first_dli_dose,
    cumulative_dli_dose,
    derive_dli_profile,
    dli_dose,
    format_cells_per_kg,
    half_log_ladder,
    next_dli_dose,
    starting_dli_dose,
)
from mrdtrack.therapy.label import (
    BLINATUMOMAB_LABELS,
    DOSE_SAFETY_LIMITS,
    US_LABEL,
    AgeGroup,
    BlinatumomabLabel,
    CyclePhase,
    DoseSafetyLimits,
    IndicationSchedule,
    Premedication,
    PremedicationEvent,
    ToxicityRules,
    configure_schedule,
    derive_label,
    get_label,
)
from mrdtrack.therapy.modifications import (
    DexamethasoneCourse,
    DoseModification,
    ModificationAction,
    RestartPlan,
    Toxicity,
    dose_modification,
)
from mrdtrack.therapy.mrd_schedule import (
    MRD_ASSESSMENTS,
    MrdAssessment,
    MrdAssessmentPlan,
    mrd_assessments,
)
from mrdtrack.therapy.recorded_dose import DoseUnit, RecordedDoseCheck, verify_recorded_dose

__all__ = [
    "BLINATUMOMAB_LABELS",
    "DLI_PROFILES",
    "DOSE_SAFETY_LIMITS",
    "MRD_ASSESSMENTS",
    "US_LABEL",
    "AgeGroup",
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
