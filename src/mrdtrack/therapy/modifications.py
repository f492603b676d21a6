"""Blinatumomab dose modifications after a toxicity (rule BLIN-04).

The label table (domain rules §6.4; BLINCYTO US Prescribing Information via
blincytohcp.com dose adjustments; older label table: Expert Opin Biol Ther 2015, PMC4994468
Table 1), with the numbers from :class:`~mrdtrack.therapy.label.ToxicityRules`:

========================  ==================================================================
situation                 action
========================  ==================================================================
CRS grade 3               interrupt; dexamethasone 8 mg q8h IV/PO (< 45 kg: 5 mg/m², max
                          8 mg) up to 3 days, taper over 4 days; when resolved restart at
                          9 mcg/day (< 45 kg: 5 mcg/m²/day), escalate to 28 mcg/day
                          (15 mcg/m²/day) after 7 days without recurrence
CRS grade 4               discontinue permanently; dexamethasone as for grade 3
seizure                   more than one → discontinue permanently; a first seizure is
                          handled as a neurological toxicity of its grade
neurological grade 3      withhold until ≤ grade 1 for ≥ 3 days, restart as for CRS; if it
                          occurred at the step dose (9 mcg/day) or took > 7 days to
                          resolve → discontinue permanently
neurological grade 4      discontinue permanently
other AE grade 3          withhold until ≤ grade 1, restart as above (older label);
                          > 14 days to resolve → discontinue permanently
other AE grade 4          consider permanent discontinuation
========================  ==================================================================

Grades 1-2 are outside the retrieved table: the result says so (``not_covered``) and,
like every result, lists the ICANS-era grading and grade-2 rules as **unconfirmed** [U].
This is decision support for a clinician, not an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.therapy.blinatumomab import (
    DoseLevel,
    WeightBand,
    format_mcg,
    step_dose,
    target_dose,
    weight_band,
)
from mrdtrack.therapy.bsa import check_bsa_m2, check_weight_kg
from mrdtrack.therapy.label import US_LABEL, BlinatumomabLabel

__all__ = [
    "DexamethasoneCourse",
    "DoseModification",
    "ModificationAction",
    "RestartPlan",
    "Toxicity",
    "dose_modification",
]

_MAX_GRADE = 4
_ICANS_U = (
    "the current (ICANS-era) label's grading scale and any grade-2 dose rules were not "
    "retrieved: confirm against the label in force [U]"
)


class Toxicity(StrEnum):
    """The toxicity rows of the BLIN-04 table."""

    CRS = "crs"
    NEUROLOGICAL = "neurological"
    SEIZURE = "seizure"
    OTHER = "other"


class ModificationAction(StrEnum):
    """What the label says to do with the infusion."""

    INTERRUPT = "interrupt"
    DISCONTINUE = "discontinue"
    CONSIDER_DISCONTINUATION = "consider_discontinuation"
    NOT_COVERED = "not_covered"
    """The retrieved label table has no rule for this grade; check the current label."""


@dataclass(frozen=True, slots=True)
class DexamethasoneCourse:
    """Dexamethasone for CRS: ``dose_mg`` every ``interval_hours``, then a taper."""

    dose_mg: float
    basis: str
    interval_hours: int
    max_days: int
    taper_days: int

    @property
    def text(self) -> str:
        """E.g. ``dexamethasone 5.3 mg (5 mg/m², max 8 mg) IV/PO q8h ≤ 3 days, taper 4 days``."""
        dose = f"{round(self.dose_mg, 1):.1f}".rstrip("0").rstrip(".")
        return (
            f"dexamethasone {dose} mg ({self.basis}) IV/PO q{self.interval_hours}h for up to "
            f"{self.max_days} days, then taper over {self.taper_days} days"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "dose_mg": self.dose_mg,
            "basis": self.basis,
            "interval_hours": self.interval_hours,
            "max_days": self.max_days,
            "taper_days": self.taper_days,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class RestartPlan:
    """Restart at ``restart`` for ``escalate_after_days``, then ``escalated`` if no recurrence."""

    restart: DoseLevel
    escalated: DoseLevel
    escalate_after_days: int

    @property
    def text(self) -> str:
        """The plan in words, in mcg."""
        return (
            f"restart at {format_mcg(self.restart.daily_dose_ug)}/day ({self.restart.formula}) "
            f"for {self.escalate_after_days} days, then {format_mcg(self.escalated.daily_dose_ug)}"
            "/day if the toxicity does not recur"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "restart_daily_dose_ug": self.restart.daily_dose_ug,
            "restart_dose_basis": self.restart.dose_basis.value,
            "escalate_after_days": self.escalate_after_days,
            "escalated_daily_dose_ug": self.escalated.daily_dose_ug,
            "escalated_dose_basis": self.escalated.dose_basis.value,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class DoseModification:
    """The label's action for one toxicity, with the inputs and rule behind it."""

    toxicity: Toxicity
    grade: int | None
    action: ModificationAction
    weight_band: WeightBand
    dexamethasone: DexamethasoneCourse | None
    restart: RestartPlan | None
    resume_when: str | None
    discontinue_if: tuple[str, ...]
    reasons: tuple[str, ...]
    unconfirmed: tuple[str, ...]
    label_version: str
    source: str
    rule: str = "BLIN-04"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "toxicity": self.toxicity.value,
            "grade": self.grade,
            "action": self.action.value,
            "weight_band": self.weight_band.value,
            "dexamethasone": None if self.dexamethasone is None else self.dexamethasone.to_dict(),
            "restart": None if self.restart is None else self.restart.to_dict(),
            "resume_when": self.resume_when,
            "discontinue_if": list(self.discontinue_if),
            "reasons": list(self.reasons),
            "unconfirmed": list(self.unconfirmed),
            "label_version": self.label_version,
            "source": self.source,
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class _Case:
    toxicity: Toxicity
    grade: int | None
    weight_kg: float
    bsa_m2: float | None
    label: BlinatumomabLabel

    def result(
        self,
        action: ModificationAction,
        reasons: tuple[str, ...],
        *,
        dexamethasone: bool = False,
        restart: bool = False,
        resume_when: str | None = None,
        discontinue_if: tuple[str, ...] = (),
        unconfirmed: tuple[str, ...] = (),
    ) -> DoseModification:
        return DoseModification(
            toxicity=self.toxicity,
            grade=self.grade,
            action=action,
            weight_band=weight_band(self.weight_kg, self.label),
            dexamethasone=self.dexamethasone() if dexamethasone else None,
            restart=self.restart() if restart else None,
            resume_when=resume_when,
            discontinue_if=discontinue_if,
            reasons=reasons,
            unconfirmed=(*unconfirmed, _ICANS_U),
            label_version=self.label.label,
            source=self.label.toxicity.source,
        )

    def dexamethasone(self) -> DexamethasoneCourse:
        rules = self.label.toxicity
        if weight_band(self.weight_kg, self.label) is WeightBand.GE45:
            dose, basis = rules.dexamethasone_fixed_mg, f"{rules.dexamethasone_fixed_mg:g} mg"
        else:
            bsa = self.require_bsa()
            dose = min(rules.dexamethasone_mg_per_m2 * bsa, rules.dexamethasone_max_mg)
            basis = (
                f"{rules.dexamethasone_mg_per_m2:g} mg/m², max {rules.dexamethasone_max_mg:g} mg"
            )
        return DexamethasoneCourse(
            dose,
            basis,
            rules.dexamethasone_interval_hours,
            rules.dexamethasone_max_days,
            rules.dexamethasone_taper_days,
        )

    def restart(self) -> RestartPlan:
        return RestartPlan(
            step_dose(weight_kg=self.weight_kg, bsa_m2=self.bsa(), label=self.label),
            target_dose(weight_kg=self.weight_kg, bsa_m2=self.bsa(), label=self.label),
            self.label.toxicity.escalate_after_days,
        )

    def bsa(self) -> float | None:
        # step_dose/target_dose refuse a missing BSA themselves when the dose is per m².
        return None if self.bsa_m2 is None else check_bsa_m2(self.bsa_m2)

    def require_bsa(self) -> float:
        if self.bsa_m2 is None:
            raise InputError(
                "bsa_m2",
                None,
                "a BSA in m²",
                f"below {self.label.weight_threshold_kg:g} kg the dexamethasone and restart "
                "doses are per m²",
            )
        return check_bsa_m2(self.bsa_m2)


def dose_modification(
    *,
    toxicity: Toxicity | str,
    grade: int | None = None,
    weight_kg: float,
    bsa_m2: float | None = None,
    seizure_count: int | None = None,
    daily_dose_at_onset_ug: float | None = None,
    days_to_resolve: int | None = None,
    label: BlinatumomabLabel = US_LABEL,
) -> DoseModification:
    """What the BLIN-04 table says to do after one toxicity (see the module table).

    Parameters
    ----------
    toxicity
        ``crs``, ``neurological``, ``seizure`` or ``other``.
    grade
        1-4 (CTCAE / ASTCT as recorded); for a seizure, the grade of a first seizure.
    weight_kg
        Chooses the weight band (dexamethasone and restart doses).
    bsa_m2
        Needed below 45 kg (per-m² doses).
    seizure_count
        Seizures so far in this course (seizure only).
    daily_dose_at_onset_ug
        The daily dose when a neurological toxicity began: at the step dose → discontinue.
    days_to_resolve
        Days the toxicity took to resolve, if it has.
    label
        The dosing profile.

    Examples
    --------
    >>> m = dose_modification(toxicity="crs", grade=3, weight_kg=30, bsa_m2=1.0607)
    >>> m.action.value, round(m.dexamethasone.dose_mg, 2), m.restart.text.split(" (")[0]
    ('interrupt', 5.3, 'restart at 5.3 mcg/day')
    """
    try:
        kind = Toxicity(str(toxicity))
    except ValueError:
        raise InputError(
            "toxicity", toxicity, f"one of: {', '.join(t.value for t in Toxicity)}"
        ) from None
    weight = check_weight_kg(weight_kg)
    level = None
    if grade is not None:
        level = require_count("grade", grade, minimum=1)
        if level > _MAX_GRADE:
            raise InputError("grade", grade, "a grade from 1 to 4")
    case = _Case(kind, level, weight, bsa_m2, label)
    rules = label.toxicity
    if kind is Toxicity.SEIZURE:
        count = require_count("seizure_count", seizure_count, minimum=1)
        if count > rules.max_seizures:
            return case.result(
                ModificationAction.DISCONTINUE,
                (f"{count} seizures: more than {rules.max_seizures} → discontinue permanently",),
            )
        if level is None:
            raise InputError(
                "grade", None, "the grade (1-4) of the seizure as a neurological toxicity"
            )
        return _neurological(case, daily_dose_at_onset_ug, days_to_resolve)
    if level is None:
        raise InputError("grade", None, "a grade from 1 to 4")
    if kind is Toxicity.CRS:
        return _crs(case)
    if kind is Toxicity.NEUROLOGICAL:
        return _neurological(case, daily_dose_at_onset_ug, days_to_resolve)
    return _other(case, days_to_resolve)


def _not_covered(case: _Case) -> DoseModification:
    return case.result(
        ModificationAction.NOT_COVERED,
        (
            f"{case.toxicity.value} grade {case.grade}: the retrieved label table has dose rules "
            "for grades 3-4 only; check the current label",
        ),
    )


def _crs(case: _Case) -> DoseModification:
    if case.grade == 4:
        return case.result(
            ModificationAction.DISCONTINUE,
            ("CRS grade 4 → discontinue permanently; dexamethasone as for grade 3",),
            dexamethasone=True,
        )
    if case.grade == 3:
        return case.result(
            ModificationAction.INTERRUPT,
            ("CRS grade 3 → interrupt until resolved; dexamethasone; restart at the step dose",),
            dexamethasone=True,
            restart=True,
            resume_when="when the CRS has resolved",
            discontinue_if=("CRS grade 4",),
        )
    return _not_covered(case)


def _neurological(
    case: _Case, daily_dose_at_onset_ug: float | None, days_to_resolve: int | None
) -> DoseModification:
    rules = case.label.toxicity
    what = "seizure" if case.toxicity is Toxicity.SEIZURE else "neurological toxicity"
    if case.grade == 4:
        return case.result(
            ModificationAction.DISCONTINUE,
            (f"{what} grade 4 → discontinue permanently",),
        )
    if case.grade != 3:
        return _not_covered(case)
    step = step_dose(weight_kg=case.weight_kg, bsa_m2=case.bsa(), label=case.label)
    onset_is_step = "it occurred at the step dose"
    if daily_dose_at_onset_ug is not None:
        onset = require_number("daily_dose_at_onset_ug", daily_dose_at_onset_ug, minimum=0)
        # Equal within rounding: a pump dose of 5.3 for a computed 5.3033 is the step dose.
        if onset <= step.daily_dose_ug + 0.01:
            return case.result(
                ModificationAction.DISCONTINUE,
                (
                    f"{what} grade 3 occurred at {format_mcg(onset)}/day, the step dose "
                    f"({format_mcg(step.daily_dose_ug)}/day) → discontinue permanently",
                ),
            )
        onset_is_step = ""
    if days_to_resolve is not None:
        days = require_count("days_to_resolve", days_to_resolve, minimum=0)
        if days > rules.neuro_max_days_to_resolve:
            return case.result(
                ModificationAction.DISCONTINUE,
                (
                    f"{what} grade 3 took {days} days to resolve (> "
                    f"{rules.neuro_max_days_to_resolve}) → discontinue permanently",
                ),
            )
    conditions = [f"it takes > {rules.neuro_max_days_to_resolve} days to resolve", "it recurs"]
    if onset_is_step:
        conditions.insert(0, onset_is_step)
    return case.result(
        ModificationAction.INTERRUPT,
        (f"{what} grade 3 → withhold; restart at the step dose when resolved",),
        restart=True,
        resume_when=(
            f"grade ≤ {rules.resolved_max_grade} for at least {rules.neuro_resolved_min_days} days"
        ),
        discontinue_if=tuple(conditions),
    )


def _other(case: _Case, days_to_resolve: int | None) -> DoseModification:
    rules = case.label.toxicity
    older = "restart and resumption wording from the older label table (PMC4994468)"
    if case.grade == 4:
        return case.result(
            ModificationAction.CONSIDER_DISCONTINUATION,
            (
                "other clinically relevant adverse event grade 4 → consider permanent "
                "discontinuation",
            ),
        )
    if case.grade != 3:
        return _not_covered(case)
    if days_to_resolve is not None:
        days = require_count("days_to_resolve", days_to_resolve, minimum=0)
        if days > rules.other_max_days_to_resolve:
            return case.result(
                ModificationAction.DISCONTINUE,
                (
                    f"adverse event grade 3 took {days} days to resolve (> "
                    f"{rules.other_max_days_to_resolve}) → discontinue permanently",
                ),
                unconfirmed=(older,),
            )
    return case.result(
        ModificationAction.INTERRUPT,
        ("other clinically relevant adverse event grade 3 → withhold; restart when resolved",),
        restart=True,
        resume_when=(
            f"grade ≤ {rules.resolved_max_grade} (older label: for at least "
            f"{rules.neuro_resolved_min_days} days)"
        ),
        discontinue_if=(f"it takes > {rules.other_max_days_to_resolve} days to resolve",),
        unconfirmed=(older,),
    )
