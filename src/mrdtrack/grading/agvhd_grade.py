"""Overall acute GVHD grade: Keystone 1994 (modified Glucksberg) and MAGIC (AGVHD-02, AGVHD-04).

Keystone / Przepiorka D et al. *Bone Marrow Transplant* 1995;15:825-828 (PMID 7581076)
[P: the structure is standard, the table is from knowledge; grade IV matches NBK12966]:

=====  ===========================================================
grade  criteria (the highest grade met wins)
=====  ===========================================================
0      no organ stage ≥ 1
I      skin 1–2, liver 0, GI 0
II     skin 3, or liver 1, or GI 1
III    liver 2–3, or GI 2–4
IV     skin 4, or liver 4
=====  ===========================================================

MAGIC / Harris AC et al. *Biol Blood Marrow Transplant* 2016;22:4-10, Table 2
**[U]** (from knowledge; not verified against the primary table):

=====  ===========================================================
grade  criteria (the highest grade met wins)
=====  ===========================================================
0      no stage 1–4 in any organ
I      skin 1–2, no liver, upper-GI or lower-GI involvement
II     skin 3, or liver 1, or upper GI 1, or lower GI 1
III    liver 2–3, or lower GI 2–3
IV     skin 4, or liver 4, or lower GI 4
=====  ===========================================================

Both tables are data (:class:`GradeCriterion` rows in the profile); ``overall grade =
max(grade of every row whose organ stage matches)``, 0 when none does. The one visible
difference: GI stage 4 alone is grade III in Keystone and grade IV in MAGIC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.grading.agvhd_staging import (
    AcuteGvhdFindings,
    AcuteGvhdStages,
    Cutoff,
    GvhdOrgan,
    StagingRules,
    stage_acute_gvhd,
)
from mrdtrack.inputs import require_choice
from mrdtrack.provenance import ScalarValue, VersionedProfile

__all__ = [
    "AGVHD_PROFILES",
    "KEYSTONE_GRADE_TABLE",
    "MAGIC_GRADE_TABLE",
    "AcuteGvhdGrade",
    "AgvhdProfile",
    "AgvhdSystem",
    "GradeCriterion",
    "agvhd_profile",
    "grade_acute_gvhd",
    "overall_grade",
    "roman_grade",
]


class AgvhdSystem(StrEnum):
    """The acute GVHD grading system."""

    GLUCKSBERG = "glucksberg"
    """Modified Glucksberg as agreed at the 1994 Keystone consensus (COG/PBMTC form)."""
    MAGIC = "magic"
    """Mount Sinai Acute GVHD International Consortium (Harris 2016)."""


@dataclass(frozen=True, slots=True)
class GradeCriterion:
    """One row of an overall-grade table: ``organ`` at one of ``stages`` gives ``grade``."""

    grade: int
    organ: GvhdOrgan
    stages: tuple[int, ...]

    def describe(self, stage: int, finding: str) -> str:
        """``"skin stage 3: rash 60 % BSA (> 50 %) → grade II"``."""
        organ = _ORGAN_WORDS[self.organ]
        return f"{organ} stage {stage}: {finding} → grade {roman_grade(self.grade)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgvhdProfile(VersionedProfile):
    """One acute GVHD system: its staging numbers and its overall-grade table."""

    system: AgvhdSystem
    name: str
    rule: str
    staging: StagingRules
    grade_table: tuple[GradeCriterion, ...]


_ROMAN = ("0", "I", "II", "III", "IV")
_ORGAN_WORDS = {
    GvhdOrgan.SKIN: "skin",
    GvhdOrgan.LIVER: "liver",
    GvhdOrgan.UPPER_GI: "upper GI",
    GvhdOrgan.LOWER_GI: "lower GI",
    GvhdOrgan.GUT: "GI",
}

_SKIN = (Cutoff(1, 0.0, False), Cutoff(2, 25.0, True), Cutoff(3, 50.0, False))
_LIVER = (
    Cutoff(1, 2.0, True),
    Cutoff(2, 3.0, False),
    Cutoff(3, 6.0, False),
    Cutoff(4, 15.0, False),
)
_ADULT_STOOL_ML = (Cutoff(1, 500.0, True), Cutoff(2, 1000.0, True), Cutoff(3, 1500.0, False))
_CHILD_STOOL_ML_PER_KG = (Cutoff(1, 10.0, True), Cutoff(2, 20.0, True), Cutoff(3, 30.0, False))
_ADULT_EPISODES = (Cutoff(1, 3.0, True), Cutoff(2, 5.0, True), Cutoff(3, 7.0, False))
_CHILD_EPISODES = (Cutoff(1, 4.0, True), Cutoff(2, 7.0, True), Cutoff(3, 10.0, False))

KEYSTONE_GRADE_TABLE: tuple[GradeCriterion, ...] = (
    GradeCriterion(4, GvhdOrgan.SKIN, (4,)),
    GradeCriterion(4, GvhdOrgan.LIVER, (4,)),
    GradeCriterion(3, GvhdOrgan.LIVER, (2, 3)),
    GradeCriterion(3, GvhdOrgan.GUT, (2, 3, 4)),
    GradeCriterion(2, GvhdOrgan.SKIN, (3,)),
    GradeCriterion(2, GvhdOrgan.LIVER, (1,)),
    GradeCriterion(2, GvhdOrgan.GUT, (1,)),
    GradeCriterion(1, GvhdOrgan.SKIN, (1, 2)),
)
MAGIC_GRADE_TABLE: tuple[GradeCriterion, ...] = (
    GradeCriterion(4, GvhdOrgan.SKIN, (4,)),
    GradeCriterion(4, GvhdOrgan.LIVER, (4,)),
    GradeCriterion(4, GvhdOrgan.LOWER_GI, (4,)),
    GradeCriterion(3, GvhdOrgan.LIVER, (2, 3)),
    GradeCriterion(3, GvhdOrgan.LOWER_GI, (2, 3)),
    GradeCriterion(2, GvhdOrgan.SKIN, (3,)),
    GradeCriterion(2, GvhdOrgan.LIVER, (1,)),
    GradeCriterion(2, GvhdOrgan.UPPER_GI, (1,)),
    GradeCriterion(2, GvhdOrgan.LOWER_GI, (1,)),
    GradeCriterion(1, GvhdOrgan.SKIN, (1, 2)),
)

_KEYSTONE_SOURCE = (
    "Przepiorka D et al. 1994 Consensus Conference on Acute GVHD Grading. Bone Marrow "
    "Transplant 1995;15:825-828 (PMID 7581076); staging as the COG/PBMTC form in NCI PDQ "
    "Childhood HCT (NBK84260); down-staging switch: NBK12966 (domain rules AGVHD-01, AGVHD-02)"
)
_MAGIC_SOURCE = (
    "Harris AC et al. International, multicenter standardization of acute GVHD clinical data "
    "collection (MAGIC). Biol Blood Marrow Transplant 2016;22:4-10; staging as NCI PDQ "
    "NBK577669 (domain rules AGVHD-03, AGVHD-04)"
)

AGVHD_PROFILES: dict[str, AgvhdProfile] = {
    "glucksberg-keystone-1994": AgvhdProfile(
        id="glucksberg-keystone-1994",
        version="1",
        effective_date="1995-06-01",
        source=_KEYSTONE_SOURCE,
        system=AgvhdSystem.GLUCKSBERG,
        name="Glucksberg-Keystone-1994",
        rule="AGVHD-01, AGVHD-02",
        staging=StagingRules(
            skin_cutoffs=_SKIN,
            liver_cutoffs=_LIVER,
            adult_stool_ml_cutoffs=_ADULT_STOOL_ML,
            child_stool_ml_per_kg_cutoffs=_CHILD_STOOL_ML_PER_KG,
            upper_gi_requires_biopsy=True,
            separate_upper_gi=False,
        ),
        grade_table=KEYSTONE_GRADE_TABLE,
        unconfirmed=(
            "grade_table: the Keystone overall-grade table is from knowledge [P] (domain rules "
            "AGVHD-02); grade IV matches NBK12966; verify against Przepiorka 1995",
            "episode_volume_ml=200, child_episode_ml_per_kg=3: MAGIC's conversion of "
            "unquantified episodes, borrowed for Keystone",
        ),
    ),
    "magic-2016": AgvhdProfile(
        id="magic-2016",
        version="1",
        effective_date="2016-01-01",
        source=_MAGIC_SOURCE,
        system=AgvhdSystem.MAGIC,
        name="MAGIC-2016",
        rule="AGVHD-03, AGVHD-04",
        staging=StagingRules(
            skin_cutoffs=_SKIN,
            liver_cutoffs=_LIVER,
            adult_stool_ml_cutoffs=_ADULT_STOOL_ML,
            child_stool_ml_per_kg_cutoffs=_CHILD_STOOL_ML_PER_KG,
            adult_episode_cutoffs=_ADULT_EPISODES,
            child_episode_cutoffs=_CHILD_EPISODES,
            stage4_erythroderma_above_percent=50.0,
            upper_gi_requires_biopsy=False,
            separate_upper_gi=True,
        ),
        grade_table=MAGIC_GRADE_TABLE,
        unconfirmed=(
            "grade_table: the MAGIC overall-grade table (Harris 2016 Table 2) is from knowledge "
            "[U] (domain rules AGVHD-04); verify against the primary table",
        ),
    ),
}

_DEFAULT_PROFILE = {
    AgvhdSystem.GLUCKSBERG: "glucksberg-keystone-1994",
    AgvhdSystem.MAGIC: "magic-2016",
}


def roman_grade(grade: int) -> str:
    """The grade as written in the GVHD literature: ``"0"``, ``"I"`` … ``"IV"``."""
    return _ROMAN[grade]


def agvhd_profile(
    system: AgvhdSystem | str = AgvhdSystem.GLUCKSBERG,
    *,
    downstage_liver_for_other_causes: bool = False,
) -> AgvhdProfile:
    """The default profile of ``system``, with the older liver down-staging switched on if asked.

    Older Glucksberg tables (NBK12966) lowered the liver stage by one when another cause
    of hyperbilirubinaemia was documented; the COG/PBMTC form does not. The switch is
    recorded in the profile's version (``"1+downstage-liver"``).
    """
    chosen = require_choice("system", system, AgvhdSystem)
    base = AGVHD_PROFILES[_DEFAULT_PROFILE[chosen]]
    if not downstage_liver_for_other_causes:
        return base
    return replace(
        base,
        version=f"{base.version}+downstage-liver",
        staging=replace(base.staging, downstage_liver_for_other_causes=True),
    )


def overall_grade(
    stages: AcuteGvhdStages, table: tuple[GradeCriterion, ...]
) -> tuple[int, tuple[str, ...]]:
    """The overall grade from organ stages and the rows of the table that set it."""
    matched = [row for row in table if stages.of(row.organ) in row.stages]
    if not matched:
        return 0, ()
    grade = max(row.grade for row in matched)
    drivers = tuple(
        row.describe(stages.of(row.organ), stages.reasons[row.organ])
        for row in matched
        if row.grade == grade
    )
    return grade, drivers


@dataclass(frozen=True, slots=True)
class AcuteGvhdGrade:
    """One overall acute GVHD grade with the organ stages behind it.

    ``gut_stage`` is the GI stage the system grades with (Keystone: lower GI with the
    biopsy-proven upper GI folded in; MAGIC: lower GI); ``upper_gi_stage`` and
    ``lower_gi_stage`` are kept apart for both.
    """

    grade: int
    system: str
    stages: AcuteGvhdStages
    drivers: tuple[str, ...]
    notes: tuple[str, ...]
    inputs: Mapping[str, ScalarValue]
    profile: str
    source: str
    rule: str
    unconfirmed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    @property
    def roman(self) -> str:
        """The grade in Roman numerals (``"0"`` for none)."""
        return roman_grade(self.grade)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping with the CLI contract's keys."""
        return {
            "skin_stage": self.stages.skin,
            "liver_stage": self.stages.liver,
            "gut_stage": self.stages.gut,
            "upper_gi_stage": self.stages.upper_gi,
            "lower_gi_stage": self.stages.lower_gi,
            "grade": self.grade,
            "grade_roman": self.roman,
            "system": self.system,
            "drivers": list(self.drivers),
            "stage_reasons": {organ.value: text for organ, text in self.stages.reasons.items()},
            "child_stool_thresholds": self.stages.child_stool_thresholds,
            "notes": list(self.notes),
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
            "inputs": dict(self.inputs),
        }


def grade_acute_gvhd(
    findings: AcuteGvhdFindings,
    *,
    system: AgvhdSystem | str = AgvhdSystem.GLUCKSBERG,
    profile: AgvhdProfile | None = None,
) -> AcuteGvhdGrade:
    """Stage the organs and give the overall acute GVHD grade (0–4) under one system.

    Parameters
    ----------
    findings
        The raw findings (validated when constructed).
    system
        ``glucksberg`` (Keystone 1994, default) or ``magic``; ignored when ``profile``
        is given.
    profile
        A full profile (see :func:`agvhd_profile` for the liver down-staging switch).

    Examples
    --------
    >>> grade_acute_gvhd(AcuteGvhdFindings(skin_rash_bsa_percent=60, bilirubin_mg_dl=1.0)).roman
    'II'
    """
    rules = profile or agvhd_profile(system)
    stages = stage_acute_gvhd(findings, rules.staging)
    grade, drivers = overall_grade(stages, rules.grade_table)
    if not drivers:
        drivers = ("no organ stage ≥ 1 → grade 0",)
    return AcuteGvhdGrade(
        grade=grade,
        system=rules.name,
        stages=stages,
        drivers=drivers,
        notes=stages.notes,
        inputs=findings.as_inputs(),
        profile=rules.label,
        source=rules.source,
        rule=rules.rule,
        unconfirmed=rules.unconfirmed,
    )
