"""Blinatumomab label data, as versioned profiles: the one place its numbers live.

Every number the dose, calendar and dose-modification code uses (28 mcg/day, 9 mcg/day,
15 and 5 mcg/m²/day, 45 kg, 28/14/56-day layouts, hospitalization days, premedication,
the BLIN-04 toxicity table) and the input plausibility limits of reliability goal 28 are
fields of the frozen dataclasses below, each profile with its id, version, effective date
and source. Results name the profile (``id@version``) that produced them.

Sources (domain rules §6, rules BLIN-01 … BLIN-04):

* BLINCYTO (blinatumomab) US Prescribing Information, Amgen — openFDA label record;
  dosing tables as reproduced in drugs.com and J Hematol Oncol 2019;12:15 Table 1
  (PMC6368716); FDA approval of the Ph-negative consolidation indication, 14 June 2024;
  blincytohcp.com administration and dose-adjustment pages;
* older label toxicity table: Expert Opin Biol Ther 2015 (PMC4994468), Table 1;
* [SEED-1] Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035
  (TPOG: 15 mcg/m²/day for all weights, 2 cycles of 4 weeks on / 2 weeks off).

Items the domain rules tag **[U]** are listed in each profile's ``unconfirmed`` field, and
are values a site can override with :func:`derive_label` / :func:`configure_schedule`;
``docs/therapy.md`` lists them with their defaults. Re-verify against the label version
in force at deployment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from mrdtrack.errors import NotFoundError

__all__ = [
    "BLINATUMOMAB_LABELS",
    "DOSE_SAFETY_LIMITS",
    "US_LABEL",
    "AgeGroup",
    "BlinatumomabLabel",
    "CyclePhase",
    "DoseSafetyLimits",
    "IndicationSchedule",
    "Premedication",
    "PremedicationEvent",
    "ToxicityRules",
    "configure_schedule",
    "derive_label",
    "get_label",
]

_USPI = (
    "BLINCYTO (blinatumomab) US Prescribing Information, Amgen, revised 06/2024 "
    "(openFDA label record; drugs.com dosing; J Hematol Oncol 2019;12:15 Table 1, PMC6368716; "
    "FDA consolidation approval 2024-06-14; blincytohcp.com)"
)
_SEED1 = "Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035 [SEED-1]"
_OLDER_TABLE = "Expert Opin Biol Ther 2015, Table 1 (PMC4994468; older label)"


class AgeGroup(StrEnum):
    """Label age groups; premedication differs between them (BLIN-03)."""

    ADULT = "adult"
    CHILD = "child"


class PremedicationEvent(StrEnum):
    """When a premedication is due (BLIN-03)."""

    CYCLE_START = "cycle_start"
    """Before the first dose of a cycle."""
    STEP_DOSE = "step_dose"
    """Before the step up to the target dose (relapsed cycle 1 day 8)."""
    RESTART = "restart"
    """When restarting the infusion after an interruption of ≥ 4 hours."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Premedication:
    """One premedication rule of one setting and age group (BLIN-03).

    ``first_cycle_only``: the rule applies in cycle 1 only (children, relapsed setting).
    ``unconfirmed``: the rule was not retrieved from the label ([U]); shown as such.
    """

    text: str
    events: tuple[PremedicationEvent, ...]
    first_cycle_only: bool = False
    unconfirmed: bool = False
    source: str = _USPI


@dataclass(frozen=True, slots=True, kw_only=True)
class CyclePhase:
    """A named run of cycles (``induction`` cycles 1-2 …), inclusive."""

    first_cycle: int
    last_cycle: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicationSchedule:
    """Cycle layout, hospitalization and premedication of one indication (BLIN-02, BLIN-03).

    ``hospitalization_days`` pairs a cycle number with the number of days of recommended
    hospitalization from its day 1; later cycle starts need supervision by a health-care
    professional or hospitalization. ``step_dosing_cycles`` are the cycles whose first
    ``BlinatumomabLabel.step_days`` infusion days use the step dose;
    ``long_break_cycles`` are followed by the long treatment-free interval.
    """

    indication: str
    max_cycles: int
    phases: tuple[CyclePhase, ...]
    step_dosing_cycles: tuple[int, ...] = ()
    long_break_cycles: tuple[int, ...] = ()
    hospitalization_days: tuple[tuple[int, int], ...] = ()
    premedication: tuple[tuple[AgeGroup, Premedication], ...] = ()
    source: str = _USPI

    def phase_of(self, cycle: int) -> str:
        """The phase name of ``cycle`` (``""`` if no phase covers it)."""
        for phase in self.phases:
            if phase.first_cycle <= cycle <= phase.last_cycle:
                return phase.name
        return ""

    def hospitalized_days(self, cycle: int) -> int:
        """Days of recommended hospitalization from day 1 of ``cycle`` (0: supervision only)."""
        return dict(self.hospitalization_days).get(cycle, 0)

    def premedication_for(self, age_group: AgeGroup) -> tuple[Premedication, ...]:
        """The premedication rules of ``age_group``."""
        return tuple(rule for group, rule in self.premedication if group is age_group)


@dataclass(frozen=True, slots=True, kw_only=True)
class ToxicityRules:
    """The dose-modification table of rule BLIN-04, as numbers.

    Dexamethasone for CRS: ``dexamethasone_fixed_mg`` every ``dexamethasone_interval_hours``
    (≥ 45 kg) or ``dexamethasone_mg_per_m2`` capped at ``dexamethasone_max_mg`` (< 45 kg),
    for up to ``dexamethasone_max_days`` then tapered over ``dexamethasone_taper_days``.
    Restarts use the step dose and escalate to the target after ``escalate_after_days``.
    """

    max_interruption_same_cycle_days: int = 7
    supervision_after_interruption_hours: int = 4
    dexamethasone_fixed_mg: float = 8.0
    dexamethasone_mg_per_m2: float = 5.0
    dexamethasone_max_mg: float = 8.0
    dexamethasone_interval_hours: int = 8
    dexamethasone_max_days: int = 3
    dexamethasone_taper_days: int = 4
    escalate_after_days: int = 7
    resolved_max_grade: int = 1
    neuro_resolved_min_days: int = 3
    neuro_max_days_to_resolve: int = 7
    other_max_days_to_resolve: int = 14
    max_seizures: int = 1
    source: str = f"{_USPI}; {_OLDER_TABLE}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlinatumomabLabel:
    """One versioned blinatumomab dosing profile (a label version or a protocol).

    BLIN-01: weight ≥ ``weight_threshold_kg`` → fixed ``fixed_daily_dose_ug`` (step
    ``fixed_step_daily_dose_ug``); below it → ``daily_dose_ug_per_m2`` × BSA capped at
    ``max_daily_dose_ug`` (step ``step_daily_dose_ug_per_m2`` × BSA capped at
    ``max_step_daily_dose_ug``). ``bsa_dosing_all_weights`` makes every weight BSA-based
    (the SEED-1 protocol's flat 15 mcg/m²/day; domain rules §12 item 5). The caps are
    hard: no computed or recorded dose may exceed them.

    ``restart_repeats_cycle_number`` [U]: after an interruption longer than
    ``toxicity.max_interruption_same_cycle_days`` the new cycle repeats the interrupted
    cycle's number (True) or takes the next one (False, the incomplete cycle then counts).
    Patients younger than ``adult_age_years`` get the children's premedication.
    """

    id: str
    version: str
    effective_date: str
    source: str
    unconfirmed: tuple[str, ...] = ()
    weight_threshold_kg: float = 45.0
    fixed_daily_dose_ug: float = 28.0
    fixed_step_daily_dose_ug: float = 9.0
    daily_dose_ug_per_m2: float = 15.0
    step_daily_dose_ug_per_m2: float = 5.0
    max_daily_dose_ug: float = 28.0
    max_step_daily_dose_ug: float = 9.0
    bsa_dosing_all_weights: bool = False
    infusion_days: int = 28
    step_days: int = 7
    treatment_free_days: int = 14
    long_treatment_free_days: int = 56
    adult_age_years: float = 18.0
    restart_repeats_cycle_number: bool = True
    schedules: tuple[IndicationSchedule, ...] = ()
    toxicity: ToxicityRules = field(default_factory=ToxicityRules)

    @property
    def label(self) -> str:
        """``"<id>@<version>"``, recorded with every result."""
        return f"{self.id}@{self.version}"

    def schedule(self, indication: str) -> IndicationSchedule:
        """The schedule of ``indication`` (``mrd``, ``relapsed``, ``consolidation``)."""
        for schedule in self.schedules:
            if schedule.indication == indication:
                return schedule
        raise NotFoundError(
            f"indication in {self.label}",
            str(indication),
            tuple(s.indication for s in self.schedules),
        )

    def treatment_free_days_after(self, indication: str, cycle: int) -> int:
        """Length of the treatment-free interval that follows ``cycle`` (BLIN-02)."""
        if cycle in self.schedule(indication).long_break_cycles:
            return self.long_treatment_free_days
        return self.treatment_free_days


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseSafetyLimits:
    """Plausibility limits for dose inputs and recorded doses (reliability goal 28).

    Values outside ``*_hard`` are refused; values outside ``*_soft`` (and BSA above
    ``bsa_m2_flag_above``, the CPOE chemotherapy flag) give a warning. A weight older than
    ``max_weight_age_days`` warns. A recorded dose more than
    ``recorded_dose_tolerance_fraction`` away from the label dose warns.
    """

    id: str
    version: str
    source: str
    unconfirmed: tuple[str, ...] = ()
    weight_kg_hard: tuple[float, float] = (1.0, 250.0)
    height_cm_hard: tuple[float, float] = (40.0, 230.0)
    bsa_m2_hard: tuple[float, float] = (0.1, 3.0)
    weight_kg_soft: tuple[float, float] = (2.0, 250.0)
    height_cm_soft: tuple[float, float] = (40.0, 230.0)
    bsa_m2_soft: tuple[float, float] = (0.2, 3.0)
    bsa_m2_flag_above: float = 2.2
    max_weight_age_days: int = 7
    recorded_dose_tolerance_fraction: float = 0.10

    @property
    def label(self) -> str:
        """``"<id>@<version>"``."""
        return f"{self.id}@{self.version}"


DOSE_SAFETY_LIMITS = DoseSafetyLimits(
    id="goal-28",
    version="1",
    source="mrdtrack reliability goal 28 (ISMP; BLINCYTO label; smart-pump hard limits; "
    "CPOE BSA > 2.2 m² flag)",
    unconfirmed=(
        "recorded_dose_tolerance_fraction=0.10: ±10 % between a recorded and the label dose "
        "is local policy, not a label value",
    ),
)

_ADULT_RR = Premedication(
    text="dexamethasone 20 mg IV 1 h before the first dose of each cycle, before a step dose "
    "and when restarting after an interruption of ≥ 4 h",
    events=(
        PremedicationEvent.CYCLE_START,
        PremedicationEvent.STEP_DOSE,
        PremedicationEvent.RESTART,
    ),
)
_CHILD_RR = Premedication(
    text="dexamethasone 5 mg/m² (max 20 mg) before the first dose of cycle 1, before a step "
    "dose and when restarting after an interruption of ≥ 4 h in cycle 1",
    events=(
        PremedicationEvent.CYCLE_START,
        PremedicationEvent.STEP_DOSE,
        PremedicationEvent.RESTART,
    ),
    first_cycle_only=True,
    source=f"{_USPI}; MIMS Hong Kong dosage page (US-label wording)",
)
_ADULT_MRD = Premedication(
    text="prednisone 100 mg IV or equivalent (e.g. dexamethasone 16 mg) 1 h before the first "
    "dose of each cycle",
    events=(PremedicationEvent.CYCLE_START,),
)
_NOT_RETRIEVED = Premedication(
    text="corticosteroid premedication before the first dose of each cycle: drug and dose "
    "UNCONFIRMED (not retrieved from the label) - check the current label or protocol",
    events=(PremedicationEvent.CYCLE_START,),
    unconfirmed=True,
    source="domain rules §6.3 [U]",
)

_MRD = IndicationSchedule(
    indication="mrd",
    max_cycles=4,
    phases=(
        CyclePhase(first_cycle=1, last_cycle=1, name="induction"),
        CyclePhase(first_cycle=2, last_cycle=4, name="consolidation"),
    ),
    hospitalization_days=((1, 3), (2, 2)),
    premedication=((AgeGroup.ADULT, _ADULT_MRD), (AgeGroup.CHILD, _NOT_RETRIEVED)),
)
_RELAPSED = IndicationSchedule(
    indication="relapsed",
    max_cycles=9,
    phases=(
        CyclePhase(first_cycle=1, last_cycle=2, name="induction"),
        CyclePhase(first_cycle=3, last_cycle=5, name="consolidation"),
        CyclePhase(first_cycle=6, last_cycle=9, name="continued therapy"),
    ),
    step_dosing_cycles=(1,),
    long_break_cycles=(6, 7, 8, 9),
    hospitalization_days=((1, 9), (2, 2)),
    premedication=((AgeGroup.ADULT, _ADULT_RR), (AgeGroup.CHILD, _CHILD_RR)),
)
_CONSOLIDATION = IndicationSchedule(
    indication="consolidation",
    max_cycles=4,
    phases=(
        CyclePhase(
            first_cycle=1, last_cycle=4, name="consolidation (within multiphase chemotherapy)"
        ),
    ),
    hospitalization_days=((1, 3), (2, 2)),
    premedication=((AgeGroup.ADULT, _NOT_RETRIEVED), (AgeGroup.CHILD, _NOT_RETRIEVED)),
    source=f"{_USPI}; cycle count: E1910 practice [U]",
)

US_LABEL = BlinatumomabLabel(
    id="us-uspi-2024",
    version="2024-06",
    effective_date="2024-06-14",
    source=_USPI,
    unconfirmed=(
        "consolidation max_cycles=4: the number of blinatumomab cycles in Ph-negative "
        "consolidation and their interleaving with chemotherapy were not retrieved (E1910 "
        "practice; the pediatric 20120215 trial used 1 cycle)",
        "premedication for children (MRD-positive, consolidation) and adults (consolidation) "
        "was not retrieved: shown as an unconfirmed reminder without a dose",
        "after an interruption > 7 days the new cycle repeats the interrupted cycle's number "
        "(its step dosing, hospitalization and premedication); the incomplete cycle does not "
        "count toward the maximum",
        "ICANS-era dose-modification table and any grade-2 rules were not retrieved",
    ),
    schedules=(_MRD, _RELAPSED, _CONSOLIDATION),
)

_SEED1_MRD = replace(
    _MRD,
    max_cycles=2,
    phases=(CyclePhase(first_cycle=1, last_cycle=2, name="TPOG blinatumomab"),),
    source=f"{_SEED1}: 2 cycles, 4 weeks on / 2 weeks off",
)

BLINATUMOMAB_LABELS: dict[str, BlinatumomabLabel] = {
    US_LABEL.id: US_LABEL,
    "seed1-tpog": replace(
        US_LABEL,
        id="seed1-tpog",
        version="1",
        effective_date="2024-05-01",
        source=f"{_SEED1} (15 mcg/m²/day for all patients, 2 cycles); other values: {_USPI}",
        bsa_dosing_all_weights=True,
        schedules=(_SEED1_MRD, _RELAPSED, _CONSOLIDATION),
        unconfirmed=(
            *US_LABEL.unconfirmed,
            "SEED-1 does not state hospitalization or premedication: the US label values apply",
        ),
    ),
}


def get_label(label_id: str) -> BlinatumomabLabel:
    """Look up a blinatumomab profile by id (``us-uspi-2024``, ``seed1-tpog``)."""
    try:
        return BLINATUMOMAB_LABELS[label_id]
    except KeyError:
        raise NotFoundError("blinatumomab label", label_id, tuple(BLINATUMOMAB_LABELS)) from None


def derive_label(label: BlinatumomabLabel, **overrides: object) -> BlinatumomabLabel:
    """A copy of ``label`` with overridden values, its version naming the overrides.

    Examples
    --------
    >>> derive_label(US_LABEL, adult_age_years=21).version
    '2024-06+adult_age_years=21'
    """
    changed = {k: v for k, v in overrides.items() if getattr(label, k) != v}
    if not changed:
        return label
    # A changed schedule tuple is named, not printed: it would swamp the version string.
    note = ", ".join(k if k == "schedules" else f"{k}={v}" for k, v in sorted(changed.items()))
    return replace(label, version=f"{label.version}+{note}", **changed)  # type: ignore[arg-type]


def configure_schedule(
    label: BlinatumomabLabel, indication: str, **changes: object
) -> BlinatumomabLabel:
    """A copy of ``label`` whose ``indication`` schedule has ``changes`` (the [U] items).

    Examples
    --------
    >>> one = configure_schedule(US_LABEL, "consolidation", max_cycles=1)
    >>> one.schedule("consolidation").max_cycles, one.version
    (1, '2024-06+consolidation.max_cycles=1')
    """
    old = label.schedule(indication)
    new = replace(old, **changes)  # type: ignore[arg-type]
    if new == old:
        return label
    note = ", ".join(f"{indication}.{k}={v}" for k, v in sorted(changes.items()))
    schedules = tuple(new if s is old else s for s in label.schedules)
    return replace(label, version=f"{label.version}+{note}", schedules=schedules)
