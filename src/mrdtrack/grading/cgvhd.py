"""Chronic GVHD global severity, NIH 2014 consensus (rule CGVHD-01).

Source: Jagasia MH, Greinix HT, Arora M, et al. National Institutes of Health Consensus
Development Project on Criteria for Clinical Trials in Chronic GVHD: I. The 2014
Diagnosis and Staging Working Group report. *Biol Blood Marrow Transplant*
2015;21:389-401 (PMC4329079); NCI Thesaurus C225388 (domain rules §8.5).

Eight organs or sites are scored 0–3: skin, mouth, eyes, GI tract, liver, lungs,
joints and fascia, genital tract. The skin score is the higher of the % BSA score and
the skin-features score; the lung score is the FEV1 score (the clinical symptom score
only when no FEV1 is available). An organ whose abnormality is fully explained by a
documented non-GVHD cause is excluded; with mixed causes (GVHD and another) the organ is
scored as found, without down-grading. Performance status does not enter.

Global severity **[U]** (from knowledge of Jagasia 2015; the profile holds it as data):

========  ===================================================================
severity  criteria
========  ===================================================================
none      every counted organ scores 0
mild      1–2 organs with a maximum score of 1, and lung score 0
moderate  ≥ 3 organs with score 1; or any non-lung organ with score 2; or lung 1
severe    any organ with score 3; or lung score 2–3
========  ===================================================================

FEV1 lung score **[U]**: FEV1 ≥ 80 % predicted → 0; 60–79 % → 1; 40–59 % → 2; ≤ 39 % → 3
(each band includes its lower bound, so a value between two bands, e.g. 79.5 %, takes the
lower score's band: 79.5 % → 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_count, require_number
from mrdtrack.provenance import ScalarValue, VersionedProfile

__all__ = [
    "CGVHD_PROFILES",
    "CgvhdOrgan",
    "CgvhdProfile",
    "ChronicGvhdScores",
    "ChronicGvhdSeverity",
    "GlobalSeverity",
    "SeverityRules",
    "fev1_lung_score",
    "grade_chronic_gvhd",
]


class CgvhdOrgan(StrEnum):
    """The eight organs or sites scored by NIH 2014."""

    SKIN = "skin"
    MOUTH = "mouth"
    EYES = "eyes"
    GI = "gi"
    LIVER = "liver"
    LUNGS = "lungs"
    JOINTS_FASCIA = "joints_fascia"
    GENITAL = "genital"


class GlobalSeverity(StrEnum):
    """NIH 2014 global severity of chronic GVHD."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeverityRules:
    """The global-severity thresholds as data [U].

    Involvement that meets neither the severe nor the moderate criteria is mild.
    """

    moderate_min_organs: int = 3
    moderate_organ_score: int = 2
    moderate_lung_score: int = 1
    severe_organ_score: int = 3
    severe_lung_score: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class CgvhdProfile(VersionedProfile):
    """NIH 2014 scoring rules: the FEV1 bands and the global-severity thresholds.

    ``fev1_bands`` lists ``(lowest FEV1 % predicted, lung score)`` from the highest band
    down; the first band whose floor the FEV1 reaches gives the score.
    """

    system: str = "NIH-2014"
    fev1_bands: tuple[tuple[float, int], ...] = ((80.0, 0), (60.0, 1), (40.0, 2), (0.0, 3))
    severity: SeverityRules = field(default_factory=SeverityRules)


CGVHD_PROFILES: dict[str, CgvhdProfile] = {
    "nih-2014": CgvhdProfile(
        id="nih-2014",
        version="1",
        effective_date="2015-03-01",
        source="Jagasia MH et al. NIH consensus criteria for clinical trials in chronic GVHD: "
        "2014 Diagnosis and Staging Working Group report. Biol Blood Marrow Transplant "
        "2015;21:389-401 (PMC4329079) (domain rules CGVHD-01)",
        unconfirmed=(
            "severity: global-severity thresholds (mild ≤ 2 organs at score 1 and lung 0; "
            "moderate ≥ 3 organs, a non-lung score 2 or lung 1; severe any 3 or lung ≥ 2) "
            "from knowledge of Jagasia 2015 [U]",
            "fev1_bands: FEV1 ≥ 80 % → 0, 60–79 % → 1, 40–59 % → 2, ≤ 39 % → 3 [U]",
        ),
    ),
}

_ORGAN_WORDS = {
    CgvhdOrgan.SKIN: "skin",
    CgvhdOrgan.MOUTH: "mouth",
    CgvhdOrgan.EYES: "eyes",
    CgvhdOrgan.GI: "GI tract",
    CgvhdOrgan.LIVER: "liver",
    CgvhdOrgan.LUNGS: "lung",
    CgvhdOrgan.JOINTS_FASCIA: "joints/fascia",
    CgvhdOrgan.GENITAL: "genital tract",
}


def _organ_set(field_name: str, organs: Iterable[CgvhdOrgan | str]) -> frozenset[CgvhdOrgan]:
    if isinstance(organs, str):
        organs = (organs,)
    return frozenset(require_choice(field_name, organ, CgvhdOrgan) for organ in organs)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChronicGvhdScores:
    """The organ scores (0–3) of one NIH 2014 assessment, validated on construction.

    Attributes
    ----------
    skin, skin_features
        The % BSA score and the skin-features (sclerosis) score; the higher is used.
    mouth, eyes, gi, liver, joints_fascia, genital
        Organ scores 0–3.
    lung_symptom_score
        The clinical lung-symptom score; used only when ``lung_fev1_percent`` is absent.
    lung_fev1_percent
        FEV1 as % predicted; gives the lung score for the global severity.
    excluded
        Organs whose abnormality is fully explained by a documented non-GVHD cause.
    mixed_cause
        Organs with GVHD and another cause: scored as found (recorded, not down-graded).
    """

    skin: int = 0
    skin_features: int = 0
    mouth: int = 0
    eyes: int = 0
    gi: int = 0
    liver: int = 0
    lung_symptom_score: int | None = None
    lung_fev1_percent: float | None = None
    joints_fascia: int = 0
    genital: int = 0
    excluded: frozenset[CgvhdOrgan] = frozenset()
    mixed_cause: frozenset[CgvhdOrgan] = frozenset()

    def __post_init__(self) -> None:
        for name in (
            "skin",
            "skin_features",
            "mouth",
            "eyes",
            "gi",
            "liver",
            "lung_symptom_score",
            "joints_fascia",
            "genital",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            score = require_count(name, value, hint="NIH 2014 organ scores are 0, 1, 2 or 3")
            if score > 3:
                raise InputError(name, value, "a score 0–3")
            object.__setattr__(self, name, score)
        if self.lung_fev1_percent is not None:
            object.__setattr__(
                self,
                "lung_fev1_percent",
                require_number(
                    "lung_fev1_percent",
                    self.lung_fev1_percent,
                    minimum=0.0,
                    maximum=200.0,
                    hint="FEV1 as percent of predicted, e.g. 70",
                ),
            )
        excluded = _organ_set("excluded", self.excluded)
        mixed = _organ_set("mixed_cause", self.mixed_cause)
        both = excluded & mixed
        if both:
            raise InputError(
                "mixed_cause",
                sorted(organ.value for organ in both),
                "organs not also excluded",
                "an organ is either fully explained by another cause (excluded) or has mixed "
                "causes (scored without down-grading), not both",
            )
        object.__setattr__(self, "excluded", excluded)
        object.__setattr__(self, "mixed_cause", mixed)

    def as_inputs(self) -> dict[str, ScalarValue]:
        """The scores as a flat mapping (organ sets as comma-separated names)."""
        inputs: dict[str, ScalarValue] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            inputs[name] = (
                ",".join(sorted(o.value for o in value)) if isinstance(value, frozenset) else value
            )
        return inputs


def fev1_lung_score(fev1_percent: float, profile: CgvhdProfile | None = None) -> int:
    """The NIH 2014 lung-function score from FEV1 % predicted (bands [U], see the profile).

    Examples
    --------
    >>> fev1_lung_score(70), fev1_lung_score(50), fev1_lung_score(85)
    (1, 2, 0)
    """
    rules = profile or CGVHD_PROFILES["nih-2014"]
    value = require_number("lung_fev1_percent", fev1_percent, minimum=0.0, maximum=200.0)
    for floor, score in rules.fev1_bands:
        if value >= floor:
            return score
    return max(score for _, score in rules.fev1_bands)


@dataclass(frozen=True, slots=True)
class ChronicGvhdSeverity:
    """The NIH 2014 global severity with the organ scores that set it.

    ``organ_scores`` holds all eight organs as scored (skin: the higher skin score;
    lungs: the FEV1 score when FEV1 was given); ``counted_organs`` leaves out the
    excluded ones.
    """

    severity: GlobalSeverity
    system: str
    organ_scores: Mapping[CgvhdOrgan, int]
    counted_organs: tuple[CgvhdOrgan, ...]
    lung_score_basis: str
    drivers: tuple[str, ...]
    notes: tuple[str, ...]
    inputs: Mapping[str, ScalarValue]
    profile: str
    source: str
    rule: str = "CGVHD-01"
    unconfirmed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "organ_scores", MappingProxyType(dict(self.organ_scores)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``severity``, ``system``, ``organ_scores``, ``drivers`` …)."""
        return {
            "severity": self.severity.value,
            "system": self.system,
            "drivers": list(self.drivers),
            "organ_scores": {organ.value: s for organ, s in self.organ_scores.items()},
            "excluded_organs": sorted(
                organ.value for organ in self.organ_scores if organ not in self.counted_organs
            ),
            "lung_score_basis": self.lung_score_basis,
            "notes": list(self.notes),
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
            "inputs": dict(self.inputs),
        }


def grade_chronic_gvhd(
    scores: ChronicGvhdScores, *, profile: CgvhdProfile | None = None
) -> ChronicGvhdSeverity:
    """NIH 2014 global severity (none / mild / moderate / severe) of chronic GVHD.

    Examples
    --------
    >>> grade_chronic_gvhd(ChronicGvhdScores(skin=1, mouth=1)).severity.value
    'mild'
    """
    rules = profile or CGVHD_PROFILES["nih-2014"]
    notes: list[str] = []
    lung, basis = _lung_score(scores, rules, notes)
    organ_scores = {
        CgvhdOrgan.SKIN: max(scores.skin, scores.skin_features),
        CgvhdOrgan.MOUTH: scores.mouth,
        CgvhdOrgan.EYES: scores.eyes,
        CgvhdOrgan.GI: scores.gi,
        CgvhdOrgan.LIVER: scores.liver,
        CgvhdOrgan.LUNGS: lung,
        CgvhdOrgan.JOINTS_FASCIA: scores.joints_fascia,
        CgvhdOrgan.GENITAL: scores.genital,
    }
    for organ in sorted(scores.excluded):
        notes.append(
            f"{_ORGAN_WORDS[organ]} excluded: fully explained by a documented non-GVHD cause"
        )
    for organ in sorted(scores.mixed_cause):
        notes.append(f"{_ORGAN_WORDS[organ]}: mixed causes, scored without down-grading")
    counted = {o: s for o, s in organ_scores.items() if o not in scores.excluded}
    severity, drivers = _global(counted, rules.severity, basis)
    return ChronicGvhdSeverity(
        severity=severity,
        system=rules.system,
        organ_scores=organ_scores,
        counted_organs=tuple(counted),
        lung_score_basis=basis,
        drivers=tuple(drivers),
        notes=tuple(notes),
        inputs=scores.as_inputs(),
        profile=rules.label,
        source=rules.source,
        unconfirmed=rules.unconfirmed,
    )


def _lung_score(
    scores: ChronicGvhdScores, rules: CgvhdProfile, notes: list[str]
) -> tuple[int, str]:
    if scores.lung_fev1_percent is not None:
        score = fev1_lung_score(scores.lung_fev1_percent, rules)
        symptoms = scores.lung_symptom_score
        if symptoms is not None and symptoms != score:
            notes.append(
                f"lung symptom score {symptoms} differs from the FEV1 score {score}: the "
                "FEV1 score is used"
            )
        return score, f"FEV1 {scores.lung_fev1_percent:g} % predicted"
    if scores.lung_symptom_score is not None:
        notes.append("no FEV1 given: the clinical lung-symptom score is used")
        return scores.lung_symptom_score, "lung symptom score"
    return 0, "not assessed"


def _global(
    counted: Mapping[CgvhdOrgan, int], rules: SeverityRules, lung_basis: str
) -> tuple[GlobalSeverity, list[str]]:
    involved = [organ for organ, score in counted.items() if score >= 1]

    def scored(organ: CgvhdOrgan) -> str:
        extra = f" ({lung_basis})" if organ is CgvhdOrgan.LUNGS else ""
        return f"{_ORGAN_WORDS[organ]} score {counted[organ]}{extra}"

    severe = [
        scored(organ)
        for organ, score in counted.items()
        if score >= rules.severe_organ_score
        or (organ is CgvhdOrgan.LUNGS and score >= rules.severe_lung_score)
    ]
    if severe:
        return GlobalSeverity.SEVERE, [f"{text} → severe" for text in severe]
    moderate = [
        scored(organ)
        for organ, score in counted.items()
        if (organ is not CgvhdOrgan.LUNGS and score >= rules.moderate_organ_score)
        or (organ is CgvhdOrgan.LUNGS and score >= rules.moderate_lung_score)
    ]
    if len(involved) >= rules.moderate_min_organs:
        names = ", ".join(_ORGAN_WORDS[organ] for organ in involved)
        moderate.append(f"{len(involved)} organs with score ≥ 1 ({names})")
    if moderate:
        return GlobalSeverity.MODERATE, [f"{text} → moderate" for text in moderate]
    if involved:
        names = ", ".join(scored(organ) for organ in involved)
        return GlobalSeverity.MILD, [
            f"{names} (fewer than {rules.moderate_min_organs} organs, score 1, lung 0) → mild"
        ]
    return GlobalSeverity.NONE, ["every counted organ scores 0 → none"]
