"""Acute GVHD organ staging: skin, liver, upper and lower GI (rules AGVHD-01, AGVHD-03).

Sources: Przepiorka D et al. 1994 Consensus Conference on Acute GVHD Grading. *Bone
Marrow Transplant* 1995;15:825-828 (PMID 7581076), as adapted by COG/PBMTC in the NCI PDQ
Childhood HCT table (NBK84260); Harris AC et al. MAGIC standardization of acute GVHD
data collection. *Biol Blood Marrow Transplant* 2016;22:4-10 (NCI PDQ table NBK577669);
older down-staging of the liver: Glucksberg/Sullivan table, NCBI Bookshelf NBK12966.

=====  ==================  ===================  ===================  ====================
stage  skin (% BSA rash)   bilirubin b (mg/dL)  lower GI adult       lower GI child
                                                (mL/day)             (mL/kg/day)
=====  ==================  ===================  ===================  ====================
0      no rash             b < 2.0              v < 500              v < 10
1      0 < x < 25          2.0 ≤ b ≤ 3.0        500 ≤ v < 1000       10 ≤ v < 20
2      25 ≤ x ≤ 50         3.0 < b ≤ 6.0        1000 ≤ v ≤ 1500      20 ≤ v ≤ 30
3      x > 50              6.0 < b ≤ 15.0       v > 1500             v > 30
4      bullae and          b > 15.0             severe abdominal pain (with or without
       desquamation > 5 %                       ileus) or grossly bloody stool
=====  ==================  ===================  ===================  ====================

These are the exact boundaries of domain rules §8.1 "Boundary implementation". Data
rules (PDQ footnotes; MAGIC): adult stool values for patients > 50 kg; mixed stool and
urine counts as 50 % stool; unquantified stool episodes count as 200 mL each (3 mL/kg
for children < 50 kg); MAGIC also stages unquantified episodes by count (adult 3–4 / 5–7
/ > 7, child 4–6 / 7–10 / > 10 per day). Upper GI (persistent nausea, vomiting or
anorexia) is stage 1: with a positive biopsy in Keystone, where it joins the GI stage;
without a biopsy requirement and as its own organ in MAGIC. MAGIC skin stage 4 also
needs generalized erythroderma (> 50 % BSA).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.provenance import ScalarValue

__all__ = [
    "AcuteGvhdFindings",
    "AcuteGvhdStages",
    "Cutoff",
    "GvhdOrgan",
    "StagingRules",
    "stage_acute_gvhd",
    "stage_for",
]


class GvhdOrgan(StrEnum):
    """An organ of acute GVHD staging; ``gut`` is Keystone's GI stage (upper GI folded in)."""

    SKIN = "skin"
    LIVER = "liver"
    UPPER_GI = "upper_gi"
    LOWER_GI = "lower_gi"
    GUT = "gut"


@dataclass(frozen=True, slots=True)
class Cutoff:
    """The lowest value of one stage: ``value ≥ limit`` (inclusive) or ``value > limit``."""

    stage: int
    limit: float
    inclusive: bool

    def met(self, value: float) -> bool:
        """Whether ``value`` reaches this stage."""
        return value >= self.limit if self.inclusive else value > self.limit

    def describe(self) -> str:
        """``"≥ 500"`` or ``"> 1500"``."""
        return f"{'≥' if self.inclusive else '>'} {self.limit:g}"


def stage_for(value: float, cutoffs: tuple[Cutoff, ...]) -> tuple[int, Cutoff | None]:
    """The highest stage whose cutoff ``value`` meets (0 and ``None`` when none is met)."""
    reached = [cutoff for cutoff in cutoffs if cutoff.met(value)]
    if not reached:
        return 0, None
    best = max(reached, key=lambda cutoff: cutoff.stage)
    return best.stage, best


@dataclass(frozen=True, slots=True, kw_only=True)
class StagingRules:
    """The numbers of one staging system, as data (domain rules §8.1 and §8.3)."""

    skin_cutoffs: tuple[Cutoff, ...]
    liver_cutoffs: tuple[Cutoff, ...]
    adult_stool_ml_cutoffs: tuple[Cutoff, ...]
    child_stool_ml_per_kg_cutoffs: tuple[Cutoff, ...]
    adult_episode_cutoffs: tuple[Cutoff, ...] | None = None
    child_episode_cutoffs: tuple[Cutoff, ...] | None = None
    bullae_stage4_above_percent: float = 5.0
    stage4_erythroderma_above_percent: float | None = None
    adult_weight_above_kg: float = 50.0
    episode_volume_ml: float = 200.0
    child_episode_ml_per_kg: float = 3.0
    child_episode_weight_below_kg: float = 50.0
    mixed_stool_fraction: float = 0.5
    upper_gi_requires_biopsy: bool = True
    separate_upper_gi: bool = False
    downstage_liver_for_other_causes: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class AcuteGvhdFindings:
    """The raw findings of one acute GVHD assessment, validated on construction.

    Absent organ findings mean "not involved"; an unmeasured bilirubin or stool output
    is staged 0 and named in the result's notes.

    Attributes
    ----------
    skin_rash_bsa_percent
        Maculopapular rash (MAGIC: active erythema only) as % of body-surface area.
    bullae_desquamation_bsa_percent
        Bullae and desquamation as % BSA (stage 4 above 5 %).
    bilirubin_mg_dl
        Total bilirubin, mg/dL (1 mg/dL = 17.1 µmol/L).
    liver_other_cause
        Another documented cause of hyperbilirubinaemia (down-stages the liver only under
        the older Glucksberg switch).
    diarrhea_ml_per_day, diarrhea_ml_per_kg_day
        Stool output (3-day average), one or the other.
    stool_episodes_per_day
        Unquantified stool episodes per day.
    stool_mixed_with_urine
        The measured volume is stool and urine mixed (counted as 50 % stool).
    weight_kg
        Body weight; adult stool thresholds apply above 50 kg.
    severe_abdominal_pain
        Needing opioids (or more) and affecting performance status, with or without ileus.
    grossly_bloody_stool
        Grossly bloody stool, any volume.
    upper_gi_symptoms
        Persistent nausea, vomiting or anorexia.
    upper_gi_biopsy_positive
        Histology of the upper GI tract shows GVHD (Keystone's requirement).
    """

    skin_rash_bsa_percent: float = 0.0
    bullae_desquamation_bsa_percent: float = 0.0
    bilirubin_mg_dl: float | None = None
    liver_other_cause: bool = False
    diarrhea_ml_per_day: float | None = None
    diarrhea_ml_per_kg_day: float | None = None
    stool_episodes_per_day: int | None = None
    stool_mixed_with_urine: bool = False
    weight_kg: float | None = None
    severe_abdominal_pain: bool = False
    grossly_bloody_stool: bool = False
    upper_gi_symptoms: bool = False
    upper_gi_biopsy_positive: bool = False

    def __post_init__(self) -> None:
        percent = "percent of body-surface area, 0–100"
        checks: dict[str, tuple[float, float, str]] = {
            "skin_rash_bsa_percent": (0.0, 100.0, percent),
            "bullae_desquamation_bsa_percent": (0.0, 100.0, percent),
            "bilirubin_mg_dl": (0.0, 100.0, "total bilirubin in mg/dL (1 mg/dL = 17.1 µmol/L)"),
            "diarrhea_ml_per_day": (0.0, 20_000.0, "stool output in mL/day (3-day average)"),
            "diarrhea_ml_per_kg_day": (0.0, 500.0, "stool output in mL/kg/day"),
            "weight_kg": (0.1, 400.0, "body weight in kg"),
        }
        for name, (low, high, hint) in checks.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(
                    self, name, require_number(name, value, minimum=low, maximum=high, hint=hint)
                )
        if self.stool_episodes_per_day is not None:
            episodes = require_count("stool_episodes_per_day", self.stool_episodes_per_day)
            if episodes > 100:
                raise InputError("stool_episodes_per_day", episodes, "a whole number 0–100")
            object.__setattr__(self, "stool_episodes_per_day", episodes)
        if self.diarrhea_ml_per_day is not None and self.diarrhea_ml_per_kg_day is not None:
            raise InputError(
                "diarrhea_ml_per_kg_day",
                self.diarrhea_ml_per_kg_day,
                "no value when diarrhea_ml_per_day is given",
                "give the stool output once, in mL/day or in mL/kg/day (with weight_kg)",
            )

    def as_inputs(self) -> dict[str, ScalarValue]:
        """The findings as a flat mapping (stored with every result)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class AcuteGvhdStages:
    """Organ stages under one system, with the finding behind each stage.

    ``gut`` is the GI stage that enters the overall grade: in Keystone the lower-GI stage
    with upper GI (stage 1, biopsy-proven) folded in; in MAGIC the lower-GI stage.
    """

    skin: int
    liver: int
    upper_gi: int
    lower_gi: int
    gut: int
    reasons: Mapping[GvhdOrgan, str]
    notes: tuple[str, ...]
    child_stool_thresholds: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))

    def of(self, organ: GvhdOrgan) -> int:
        """The stage of ``organ``."""
        return {
            GvhdOrgan.SKIN: self.skin,
            GvhdOrgan.LIVER: self.liver,
            GvhdOrgan.UPPER_GI: self.upper_gi,
            GvhdOrgan.LOWER_GI: self.lower_gi,
            GvhdOrgan.GUT: self.gut,
        }[organ]


def stage_acute_gvhd(findings: AcuteGvhdFindings, rules: StagingRules) -> AcuteGvhdStages:
    """Stage skin, liver, upper and lower GI from the raw findings (AGVHD-01 / AGVHD-03)."""
    notes: list[str] = []
    skin, skin_reason = _skin(findings, rules, notes)
    liver, liver_reason = _liver(findings, rules, notes)
    lower, lower_reason, child = _lower_gi(findings, rules, notes)
    upper, upper_reason = _upper_gi(findings, rules)
    gut, gut_reason = lower, lower_reason
    if not rules.separate_upper_gi and upper > lower:
        gut, gut_reason = upper, upper_reason
    return AcuteGvhdStages(
        skin=skin,
        liver=liver,
        upper_gi=upper,
        lower_gi=lower,
        gut=gut,
        reasons={
            GvhdOrgan.SKIN: skin_reason,
            GvhdOrgan.LIVER: liver_reason,
            GvhdOrgan.UPPER_GI: upper_reason,
            GvhdOrgan.LOWER_GI: lower_reason,
            GvhdOrgan.GUT: gut_reason,
        },
        notes=tuple(notes),
        child_stool_thresholds=child,
    )


def _skin(findings: AcuteGvhdFindings, rules: StagingRules, notes: list[str]) -> tuple[int, str]:
    rash = findings.skin_rash_bsa_percent
    bullae = findings.bullae_desquamation_bsa_percent
    erythroderma = rules.stage4_erythroderma_above_percent
    bullae_limit = rules.bullae_stage4_above_percent
    if bullae > bullae_limit:
        if erythroderma is None:
            return 4, f"bullae and desquamation {bullae:g} % BSA > {bullae_limit:g} %"
        if rash > erythroderma:
            return 4, (
                f"erythroderma {rash:g} % BSA > {erythroderma:g} % with bullae and desquamation "
                f"{bullae:g} % > {bullae_limit:g} %"
            )
        notes.append(
            f"bullae and desquamation {bullae:g} % BSA without generalized erythroderma "
            f"(> {erythroderma:g} %): skin staged by the rash extent"
        )
    stage, cutoff = stage_for(rash, rules.skin_cutoffs)
    if cutoff is None:
        return 0, "no GVHD rash"
    return stage, f"rash {rash:g} % BSA ({cutoff.describe()} %)"


def _liver(findings: AcuteGvhdFindings, rules: StagingRules, notes: list[str]) -> tuple[int, str]:
    bilirubin = findings.bilirubin_mg_dl
    if bilirubin is None:
        notes.append("bilirubin not given: liver staged 0")
        return 0, "bilirubin not given"
    stage, cutoff = stage_for(bilirubin, rules.liver_cutoffs)
    reason = f"bilirubin {bilirubin:g} mg/dL" + (
        "" if cutoff is None else f" ({cutoff.describe()})"
    )
    if findings.liver_other_cause and stage > 0:
        if rules.downstage_liver_for_other_causes:
            stage -= 1
            reason += "; down-staged one level for another cause (older Glucksberg rule)"
        else:
            notes.append(
                "another cause of hyperbilirubinaemia is documented; the liver stage is not "
                "down-staged (COG/PBMTC form)"
            )
    return stage, reason


def _lower_gi(
    findings: AcuteGvhdFindings, rules: StagingRules, notes: list[str]
) -> tuple[int, str, bool]:
    weight = findings.weight_kg
    per_kg = findings.diarrhea_ml_per_kg_day
    child = weight <= rules.adult_weight_above_kg if weight is not None else per_kg is not None
    if findings.severe_abdominal_pain or findings.grossly_bloody_stool:
        reason = (
            "grossly bloody stool" if findings.grossly_bloody_stool else "severe abdominal pain"
        )
        return 4, reason, child
    measured = _measured_stool(findings, child, notes)
    if measured is not None and findings.stool_mixed_with_urine:
        measured *= rules.mixed_stool_fraction
        notes.append(
            f"stool mixed with urine: {rules.mixed_stool_fraction:.0%} of the volume counted"
        )
    episodes = findings.stool_episodes_per_day
    unit = "mL/kg/day" if child else "mL/day"
    cutoffs = rules.child_stool_ml_per_kg_cutoffs if child else rules.adult_stool_ml_cutoffs
    if measured is None and episodes is None:
        notes.append("stool output not given: lower GI staged 0")
        return 0, "stool output not given", child
    volume = 0.0 if measured is None else measured
    if episodes:
        each = _episode_volume(rules, weight, child)
        volume += episodes * each
        notes.append(
            f"{episodes} unquantified stool episode(s)/day counted as {each:.3g} "
            f"{'mL/kg' if child else 'mL'} each (MAGIC)"
        )
    stage, cutoff = stage_for(volume, cutoffs)
    threshold = "child" if child else "adult"
    reason = f"stool {volume:.4g} {unit} ({threshold} thresholds" + (
        ")" if cutoff is None else f", {cutoff.describe()})"
    )
    episode_cutoffs = rules.child_episode_cutoffs if child else rules.adult_episode_cutoffs
    if measured is None and episodes is not None and episode_cutoffs is not None:
        # MAGIC stages unquantified episodes by their count; the volume rule agrees with it.
        by_count, count_cutoff = stage_for(episodes, episode_cutoffs)
        if by_count >= stage:
            stage = by_count
            reason = f"{episodes} unquantified stool episodes/day ({threshold} thresholds" + (
                ")" if count_cutoff is None else f", {count_cutoff.describe()} episodes)"
            )
    return stage, reason, child


def _measured_stool(findings: AcuteGvhdFindings, child: bool, notes: list[str]) -> float | None:
    """The measured stool output in the unit of the thresholds used (mL/kg/day or mL/day)."""
    weight = findings.weight_kg
    per_day = findings.diarrhea_ml_per_day
    per_kg = findings.diarrhea_ml_per_kg_day
    if per_day is not None and child and weight is not None:
        notes.append(f"{per_day:g} mL/day ÷ {weight:g} kg = {per_day / weight:.4g} mL/kg/day")
        return per_day / weight
    if per_kg is not None and not child and weight is not None:
        notes.append(
            f"{per_kg:g} mL/kg/day × {weight:g} kg = {per_kg * weight:.4g} mL/day (adult "
            "thresholds)"
        )
        return per_kg * weight
    return per_day if per_day is not None else per_kg


def _episode_volume(rules: StagingRules, weight: float | None, child: bool) -> float:
    """One unquantified episode in the unit of the thresholds used (mL or mL/kg)."""
    if not child:
        return rules.episode_volume_ml
    if weight is None or weight < rules.child_episode_weight_below_kg:
        return rules.child_episode_ml_per_kg
    return rules.episode_volume_ml / weight


def _upper_gi(findings: AcuteGvhdFindings, rules: StagingRules) -> tuple[int, str]:
    if not findings.upper_gi_symptoms:
        return 0, "no persistent nausea, vomiting or anorexia"
    if rules.upper_gi_requires_biopsy and not findings.upper_gi_biopsy_positive:
        return 0, "persistent upper-GI symptoms without a positive biopsy (biopsy required)"
    suffix = " with a positive biopsy" if findings.upper_gi_biopsy_positive else ""
    return 1, f"persistent nausea, vomiting or anorexia{suffix}"
