"""When the MRD assessments around a blinatumomab cycle fall.

Blinatumomab is given for MRD and judged by MRD: the sample before the first cycle is the
one that indicates it, and the sample after each cycle is its response (the BLAST trial's
primary end point is complete MRD response after cycle 1: Gökbuget N et al. Blood
2018;131:1522-1531). The time-point codes are the registry's (domain rules §5.4 [P]):
``PRE_BLIN`` by day 1 of cycle 1, ``POST_C1`` and ``POST_C2`` after cycles 1 and 2, and
``FOLLOW_UP`` after any later cycle.

Which day after a cycle the sample is due is not stated by the label or the domain rules:
:data:`MRD_ASSESSMENTS` takes the first treatment-free day (the day after the last
infusion) and lists that choice as unconfirmed; a site with another rule makes its own
:class:`MrdAssessmentPlan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from mrdtrack.therapy.calendar import CycleSchedule

__all__ = ["MRD_ASSESSMENTS", "MrdAssessment", "MrdAssessmentPlan", "mrd_assessments"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MrdAssessmentPlan:
    """When the MRD assessments around a blinatumomab cycle fall (a versioned profile).

    ``pre_treatment_timepoint`` is due by day 1 of the first cycle; after each cycle the
    sample is due ``days_after_infusion`` days after its last infusion day, labelled by
    ``post_cycle_timepoints`` (cycle 1, 2, …) and ``later_timepoint`` beyond them.
    """

    id: str
    version: str
    source: str
    pre_treatment_timepoint: str = "PRE_BLIN"
    days_after_infusion: int = 1
    post_cycle_timepoints: tuple[str, ...] = ("POST_C1", "POST_C2")
    later_timepoint: str = "FOLLOW_UP"
    unconfirmed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``"<id>@<version>"``."""
        return f"{self.id}@{self.version}"


MRD_ASSESSMENTS = MrdAssessmentPlan(
    id="blin-mrd-assessments",
    version="1",
    source="domain rules §5.4 [P] (PRE_BLIN, POST_C1, POST_C2); BLAST: complete MRD response "
    "after cycle 1 is the primary end point (Gökbuget N et al. Blood 2018;131:1522-1531)",
    unconfirmed=(
        "days_after_infusion=1: the post-cycle MRD sample on the first treatment-free day "
        "(cycle day 29) is a convention; the label and the domain rules name no day",
    ),
)
"""The default plan; its ``unconfirmed`` item says which choice is not from a source."""


@dataclass(frozen=True, slots=True)
class MrdAssessment:
    """An MRD assessment a cycle calls for: time-point code, due date, what it is."""

    timepoint: str
    due: date
    text: str
    before_treatment: bool = False

    def describe(self) -> str:
        """``"PRE_BLIN by 2025-01-01"``, ``"POST_C1 on 2025-01-29"``."""
        return f"{self.timepoint} {'by' if self.before_treatment else 'on'} {self.due}"


def mrd_assessments(
    schedule: CycleSchedule, plan: MrdAssessmentPlan = MRD_ASSESSMENTS
) -> tuple[MrdAssessment, ...]:
    """The MRD assessments of one scheduled cycle under ``plan`` (see the module text).

    A stopped cycle's response sample follows its last infusion day like any other.
    """
    found = []
    if schedule.cycle == 1:
        found.append(
            MrdAssessment(
                plan.pre_treatment_timepoint,
                schedule.start,
                "MRD before blinatumomab (the assessment that indicates it)",
                before_treatment=True,
            )
        )
    codes = plan.post_cycle_timepoints
    code = codes[schedule.cycle - 1] if schedule.cycle <= len(codes) else plan.later_timepoint
    due = schedule.infusion_dates[-1] + timedelta(days=plan.days_after_infusion)
    found.append(MrdAssessment(code, due, f"MRD after cycle {schedule.cycle} (response)"))
    return tuple(found)
