"""Immune effector cell-associated neurotoxicity syndrome (ICANS), ASTCT 2019 (rule ICANS-01).

Source: Lee DW et al. *Biol Blood Marrow Transplant* 2019;25:625-638,
doi:10.1016/j.bbmt.2018.12.758 (tables as reproduced in PMC8403007 Table 4 and PMC7990806
Table 2; domain rules §7.3). CAPD: Traube C et al. Cornell Assessment of Pediatric
Delirium. *Crit Care Med* 2014;42:656-663, doi:10.1097/CCM.0b013e3182a66b76.

Encephalopathy is scored with the ICE score (0–10) at age ≥ 12 years and with the CAPD
(0–32) below 12 years or with developmental delay:

==========================  =========  =========  ==============  ==========================
domain                      grade 1    grade 2    grade 3         grade 4
==========================  =========  =========  ==============  ==========================
ICE (≥ 12 y)                7–9        3–6        0–2             0, unarousable
CAPD (< 12 y) [P]           1–8        1–8        ≥ 9             unable to perform
level of consciousness      awakens    awakens    awakens only    unarousable, or vigorous/
                            spont.     to voice   to touch        repetitive stimuli; coma
seizure                     —          —          clinical, rapid  prolonged (> 5 min) or
                                                  resolution; EEG  repetitive without return
                                                  seizure resolv.  to baseline
motor                       —          —          —               deep focal weakness
raised ICP / oedema         —          —          focal oedema    diffuse oedema, posturing,
                                                                  CN VI palsy, papilloedema,
                                                                  Cushing's triad
==========================  =========  =========  ==============  ==========================

Formula: ``grade = max(domain grades)``, counting only findings not attributable to
another cause (sedation included). ICE 0 while awake (global aphasia) is grade 3; ICE 0
because unarousable is grade 4. Tremor and myoclonus are graded with CTCAE and
intracranial haemorrhage is excluded: neither enters here.

The CAPD 1–8 band spans grades 1 and 2 in the source table [P]; the profile value
``capd_low_grade`` (default 1) is that band's grade, and the level of consciousness
separates grade 2 (vector ICANS-01-e: CAPD 6 and awakens to voice → grade 2).

ICE items (PMC8153820 Table 2): orientation to year, month, city and hospital (4);
naming three objects (3); following simple commands (1); writing a standard sentence
(1); counting backwards from 100 by 10 (1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_count, require_number
from mrdtrack.provenance import ScalarValue, VersionedProfile

__all__ = [
    "CAPD_ITEMS",
    "ICANS_PROFILES",
    "CapdResponse",
    "CapdScore",
    "CerebralOedema",
    "Consciousness",
    "EncephalopathyTool",
    "IcansGrade",
    "IcansProfile",
    "IceItems",
    "Motor",
    "Seizure",
    "capd_item_points",
    "capd_score",
    "encephalopathy_tool",
    "grade_icans",
]

_LEE_2019 = (
    "Lee DW et al. Biol Blood Marrow Transplant 2019;25:625-638, doi:10.1016/j.bbmt.2018.12.758; "
    "CAPD: Traube C et al. Crit Care Med 2014;42:656-663 (domain rules ICANS-01)"
)


class Consciousness(StrEnum):
    """Level of consciousness (ASTCT depressed-consciousness domain), not from sedation."""

    NORMAL = "normal"
    AWAKENS_SPONTANEOUSLY = "awakens-spontaneously"
    AWAKENS_TO_VOICE = "awakens-to-voice"
    AWAKENS_TO_TOUCH = "awakens-to-touch"
    UNAROUSABLE = "unarousable"


class Seizure(StrEnum):
    """The worst seizure finding."""

    NONE = "none"
    RAPIDLY_RESOLVING = "rapidly-resolving"
    """Any clinical seizure resolving rapidly, or EEG seizures resolving with intervention."""
    PROLONGED = "prolonged"
    """Life-threatening prolonged (> 5 min) or repetitive seizures without return to baseline."""


class Motor(StrEnum):
    """Motor findings (tremor and myoclonus are graded with CTCAE, not here)."""

    NONE = "none"
    DEEP_FOCAL_WEAKNESS = "deep-focal-weakness"


class CerebralOedema(StrEnum):
    """Raised intracranial pressure / cerebral oedema."""

    NONE = "none"
    FOCAL = "focal"
    """Focal or local oedema on neuroimaging."""
    DIFFUSE = "diffuse"
    """Diffuse oedema, decerebrate/decorticate posturing, CN VI palsy, papilloedema or Cushing's
    triad."""


class EncephalopathyTool(StrEnum):
    """The encephalopathy score used for the patient's age."""

    ICE = "ICE"
    CAPD = "CAPD"


class CapdResponse(StrEnum):
    """How often a CAPD behaviour was observed."""

    NEVER = "never"
    RARELY = "rarely"
    SOMETIMES = "sometimes"
    OFTEN = "often"
    ALWAYS = "always"


CAPD_ITEMS: tuple[str, ...] = (
    "makes eye contact with the caregiver",
    "actions are purposeful",
    "aware of surroundings",
    "communicates needs and wants",
    "restless",
    "inconsolable",
    "underactive: very little movement while awake",
    "takes a long time to respond to interactions",
)
"""The eight CAPD items in Traube's order; items 1–4 are reverse-scored."""

_CAPD_REVERSED = range(1, 5)
_FREQUENCY_ORDER = tuple(CapdResponse)
_CONSCIOUSNESS_GRADES = {
    Consciousness.NORMAL: 0,
    Consciousness.AWAKENS_SPONTANEOUSLY: 1,
    Consciousness.AWAKENS_TO_VOICE: 2,
    Consciousness.AWAKENS_TO_TOUCH: 3,
    Consciousness.UNAROUSABLE: 4,
}
_SEIZURE_GRADES = {Seizure.NONE: 0, Seizure.RAPIDLY_RESOLVING: 3, Seizure.PROLONGED: 4}
_MOTOR_GRADES = {Motor.NONE: 0, Motor.DEEP_FOCAL_WEAKNESS: 4}
_OEDEMA_GRADES = {CerebralOedema.NONE: 0, CerebralOedema.FOCAL: 3, CerebralOedema.DIFFUSE: 4}


@dataclass(frozen=True, slots=True, kw_only=True)
class IcansProfile(VersionedProfile):
    """ICANS grading rules.

    ``ice_grade_floors`` maps the lowest ICE score of each grade: a score ≥ 10 is
    grade 0, ≥ 7 grade 1, ≥ 3 grade 2, anything lower grade 3.
    """

    system: str = "ASTCT-2019"
    ice_min_age_years: float = 12.0
    ice_grade_floors: tuple[tuple[int, int], ...] = ((10, 0), (7, 1), (3, 2), (0, 3))
    capd_positive_min: int = 9
    capd_low_grade: int = 1


ICANS_PROFILES: dict[str, IcansProfile] = {
    "astct-2019": IcansProfile(
        id="astct-2019",
        version="1",
        effective_date="2019-04-01",
        source=_LEE_2019,
        unconfirmed=(
            "capd_low_grade=1: the ASTCT table gives CAPD 1–8 as grade 1 or 2 [P]; the level "
            "of consciousness separates grade 2",
        ),
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class IceItems:
    """The five ICE items; :attr:`total` is the ICE score (0–10)."""

    orientation: int
    naming: int
    following_commands: int
    writing: int
    attention: int

    def __post_init__(self) -> None:
        for name, maximum in _ICE_ITEM_MAXIMA.items():
            value = require_count(f"ice_items.{name}", getattr(self, name))
            if value > maximum:
                raise InputError(f"ice_items.{name}", value, f"a whole number 0–{maximum}")
            object.__setattr__(self, name, value)

    @classmethod
    def from_scores(cls, scores: Sequence[int]) -> IceItems:
        """From ``(orientation, naming, following_commands, writing, attention)``."""
        if len(scores) != len(_ICE_ITEM_MAXIMA):
            raise InputError(
                "ice_items",
                list(scores),
                "5 item scores: orientation 0–4, naming 0–3, commands, writing, attention 0–1",
            )
        return cls(**dict(zip(_ICE_ITEM_MAXIMA, scores, strict=True)))

    @property
    def total(self) -> int:
        """The ICE score: the sum of the items."""
        return (
            self.orientation + self.naming + self.following_commands + self.writing + self.attention
        )


_ICE_ITEM_MAXIMA = {
    "orientation": 4,
    "naming": 3,
    "following_commands": 1,
    "writing": 1,
    "attention": 1,
}


@dataclass(frozen=True, slots=True)
class CapdScore:
    """A CAPD total from its eight item points (0–4 each, reverse scoring already applied)."""

    items: tuple[int, ...]
    total: int
    positive: bool
    positive_min: int


def capd_item_points(item: int, response: CapdResponse | str) -> int:
    """Points of one CAPD item (1–8) for an observed frequency (Traube 2014).

    Items 1–4 describe expected behaviour and are reverse-scored (always = 0 … never = 4);
    items 5–8 describe abnormal behaviour (never = 0 … always = 4).

    Examples
    --------
    >>> capd_item_points(1, "never"), capd_item_points(5, "never")
    (4, 0)
    """
    number = require_count("capd_item", item, minimum=1)
    if number > len(CAPD_ITEMS):
        raise InputError("capd_item", item, f"an item number 1–{len(CAPD_ITEMS)}")
    frequency = _FREQUENCY_ORDER.index(require_choice("capd_response", response, CapdResponse))
    return 4 - frequency if number in _CAPD_REVERSED else frequency


def capd_score(points: Sequence[int], *, positive_min: int = 9) -> CapdScore:
    """The CAPD total (0–32) and screen result (positive at ≥ ``positive_min``, default 9).

    Parameters
    ----------
    points
        The eight item points in Traube's order, each 0–4 (use :func:`capd_item_points`
        to turn observed frequencies into points).

    Examples
    --------
    >>> capd_score([4, 4, 0, 0, 4, 0, 0, 0]).total
    12
    """
    if len(points) != len(CAPD_ITEMS):
        raise InputError(
            "capd_items", list(points), f"{len(CAPD_ITEMS)} item points, each a whole number 0–4"
        )
    items: list[int] = []
    for index, value in enumerate(points, start=1):
        number = require_count(f"capd_items[{index}]", value)
        if number > 4:
            raise InputError(f"capd_items[{index}]", value, "a whole number 0–4")
        items.append(number)
    total = sum(items)
    return CapdScore(
        items=tuple(items), total=total, positive=total >= positive_min, positive_min=positive_min
    )


def encephalopathy_tool(
    age_years: float, *, developmental_delay: bool = False, profile: IcansProfile | None = None
) -> EncephalopathyTool:
    """ICE at age ≥ 12 years (the boundary included), CAPD below it or with developmental delay."""
    rules = profile or ICANS_PROFILES["astct-2019"]
    age = require_number("age_years", age_years, minimum=0.0, maximum=130.0)
    if developmental_delay or age < rules.ice_min_age_years:
        return EncephalopathyTool.CAPD
    return EncephalopathyTool.ICE


@dataclass(frozen=True, slots=True)
class IcansGrade:
    """One ASTCT ICANS grade with the domain grades and the findings that set it.

    ``domain_grades`` holds every domain (``encephalopathy``, ``consciousness``,
    ``seizure``, ``motor``, ``cerebral_oedema``); ``grade`` is their maximum.
    """

    grade: int
    system: str
    tool: EncephalopathyTool
    encephalopathy_score: int | None
    domain_grades: Mapping[str, int]
    drivers: tuple[str, ...]
    inputs: Mapping[str, ScalarValue]
    profile: str
    source: str
    rule: str = "ICANS-01"
    unconfirmed: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "domain_grades", MappingProxyType(dict(self.domain_grades)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``grade``, ``system``, ``drivers``, ``tool``, …)."""
        return {
            "grade": self.grade,
            "system": self.system,
            "drivers": list(self.drivers),
            "tool": self.tool.value,
            "encephalopathy_score": self.encephalopathy_score,
            "domain_grades": dict(self.domain_grades),
            "profile": self.profile,
            "source": self.source,
            "rule": self.rule,
            "unconfirmed": list(self.unconfirmed),
            "inputs": dict(self.inputs),
        }


def grade_icans(
    *,
    age_years: float,
    ice_score: int | None = None,
    ice_items: IceItems | None = None,
    capd_score: int | None = None,
    capd_items: Sequence[int] | None = None,
    consciousness: Consciousness | str = Consciousness.NORMAL,
    seizure: Seizure | str = Seizure.NONE,
    motor: Motor | str = Motor.NONE,
    cerebral_oedema: CerebralOedema | str = CerebralOedema.NONE,
    developmental_delay: bool = False,
    profile: IcansProfile | None = None,
) -> IcansGrade:
    """Grade ICANS (ASTCT 2019): the most severe domain.

    Parameters
    ----------
    age_years
        Decides the encephalopathy tool: ICE at ≥ 12 years, CAPD below.
    ice_score, ice_items
        The ICE score (0–10) or its items; at most one. Required at ≥ 12 years unless
        the patient is unarousable (then ICE cannot be performed: grade 4).
    capd_score, capd_items
        The CAPD total (0–32) or the eight item points; at most one. Required below 12
        years (or with ``developmental_delay``) unless the patient is unarousable.
    consciousness, seizure, motor, cerebral_oedema
        The other domains, counting only findings attributable to ICANS.
    developmental_delay
        Use CAPD at any age.
    profile
        Default ``astct-2019``.

    Examples
    --------
    >>> grade_icans(age_years=30, ice_score=3, seizure="rapidly-resolving").grade
    3
    """
    rules = profile or ICANS_PROFILES["astct-2019"]
    age = require_number("age_years", age_years, minimum=0.0, maximum=130.0)
    tool = encephalopathy_tool(age, developmental_delay=developmental_delay, profile=rules)
    level = require_choice("consciousness", consciousness, Consciousness)
    fit = require_choice("seizure", seizure, Seizure)
    weakness = require_choice("motor", motor, Motor)
    oedema = require_choice("cerebral_oedema", cerebral_oedema, CerebralOedema)

    if tool is EncephalopathyTool.ICE:
        _refuse_other_tool(tool, capd_score, capd_items, age, developmental_delay, rules)
        score = _one_score("ice", ice_score, ice_items.total if ice_items else None, 10)
        encephalopathy, words = _ice_grade(score, level, rules)
    else:
        _refuse_other_tool(tool, ice_score, ice_items, age, developmental_delay, rules)
        from_items = (
            None
            if capd_items is None
            else _capd_total(capd_items, positive_min=rules.capd_positive_min)
        )
        score = _one_score("capd", capd_score, from_items, 32)
        encephalopathy, words = _capd_grade(score, level, rules)

    domains = {
        "encephalopathy": (encephalopathy, words),
        "consciousness": (_CONSCIOUSNESS_GRADES[level], f"level of consciousness: {level.value}"),
        "seizure": (_SEIZURE_GRADES[fit], f"seizure: {fit.value}"),
        "motor": (_MOTOR_GRADES[weakness], f"motor: {weakness.value}"),
        "cerebral_oedema": (
            _OEDEMA_GRADES[oedema],
            f"raised ICP / cerebral oedema: {oedema.value}",
        ),
    }
    grade = max(g for g, _ in domains.values())
    drivers = (
        [f"{text} → grade {g}" for g, text in domains.values() if g == grade]
        if grade
        else [f"{words}; no other domain affected: no ICANS"]
    )
    inputs: dict[str, ScalarValue] = {
        "age_years": age,
        "ice_score": ice_score,
        "ice_items": None if ice_items is None else _join(_ice_tuple(ice_items)),
        "capd_score": capd_score,
        "capd_items": None if capd_items is None else _join(capd_items),
        "consciousness": level.value,
        "seizure": fit.value,
        "motor": weakness.value,
        "cerebral_oedema": oedema.value,
        "developmental_delay": developmental_delay,
    }
    return IcansGrade(
        grade=grade,
        system=rules.system,
        tool=tool,
        encephalopathy_score=score,
        domain_grades={name: g for name, (g, _) in domains.items()},
        drivers=tuple(drivers),
        inputs=inputs,
        profile=rules.label,
        source=rules.source,
        unconfirmed=rules.unconfirmed,
    )


def _capd_total(points: Sequence[int], *, positive_min: int) -> int:
    # The parameter ``capd_score`` of grade_icans hides the function of that name there.
    return capd_score(points, positive_min=positive_min).total


def _ice_tuple(items: IceItems) -> tuple[int, ...]:
    return tuple(getattr(items, name) for name in _ICE_ITEM_MAXIMA)


def _join(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def _refuse_other_tool(
    tool: EncephalopathyTool,
    score: int | None,
    items: object,
    age: float,
    developmental_delay: bool,
    rules: IcansProfile,
) -> None:
    """Scores of the tool that does not apply to the patient are refused, never ignored."""
    if score is None and items is None:
        return
    other = "capd" if tool is EncephalopathyTool.ICE else "ice"
    field_name = f"{other}_score" if score is not None else f"{other}_items"
    value = score if score is not None else items
    limit = f"{rules.ice_min_age_years:g} years"
    if tool is EncephalopathyTool.ICE:
        raise InputError(
            field_name,
            value,
            f"no CAPD at age {age:g} years: ICE is used from {limit}",
            "give the ICE score instead, or state developmental delay to use CAPD",
        )
    reason = "developmental delay" if developmental_delay else f"age {age:g} years"
    raise InputError(
        field_name,
        value,
        f"no ICE score with {reason}: CAPD is used below {limit} or with developmental delay",
        "give the CAPD total or its eight item points instead",
    )


def _one_score(prefix: str, score: int | None, from_items: int | None, maximum: int) -> int | None:
    if score is not None and from_items is not None:
        raise InputError(
            f"{prefix}_score",
            score,
            f"either the {prefix.upper()} total or its items, not both",
        )
    if score is None:
        return from_items
    value = require_count(f"{prefix}_score", score)
    if value > maximum:
        raise InputError(f"{prefix}_score", score, f"a whole number 0–{maximum}")
    return value


def _unarousable_grade(
    prefix: str, score: int | None, level: Consciousness
) -> tuple[int, str] | None:
    if level is not Consciousness.UNAROUSABLE:
        return None
    if score:
        raise InputError(
            f"{prefix}_score",
            score,
            f"0 or no {prefix.upper()} when the patient is unarousable",
            "an unarousable patient cannot perform the assessment: check the entry",
        )
    return 4, f"unable to perform {prefix.upper()}: unarousable"


def _ice_grade(score: int | None, level: Consciousness, rules: IcansProfile) -> tuple[int, str]:
    unarousable = _unarousable_grade("ice", score, level)
    if unarousable is not None:
        return unarousable
    if score is None:
        raise InputError(
            "ice_score",
            None,
            "an ICE score 0–10 (or its five item scores)",
            f"ICE is required from {rules.ice_min_age_years:g} years unless the patient is "
            "unarousable",
        )
    grade = next(g for floor, g in rules.ice_grade_floors if score >= floor)
    words = f"ICE {score}/10"
    if score == 0:
        words += " while arousable (e.g. global aphasia)"
    return grade, words


def _capd_grade(score: int | None, level: Consciousness, rules: IcansProfile) -> tuple[int, str]:
    unarousable = _unarousable_grade("capd", score, level)
    if unarousable is not None:
        return unarousable
    if score is None:
        raise InputError(
            "capd_score",
            None,
            "a CAPD total 0–32 (or its eight item points)",
            f"CAPD is required below {rules.ice_min_age_years:g} years unless the patient is "
            "unarousable",
        )
    if score >= rules.capd_positive_min:
        return 3, f"CAPD {score} (≥ {rules.capd_positive_min}, positive)"
    if score == 0:
        return 0, "CAPD 0"
    return (
        rules.capd_low_grade,
        f"CAPD {score} (1–{rules.capd_positive_min - 1}; band grade {rules.capd_low_grade} [P])",
    )
