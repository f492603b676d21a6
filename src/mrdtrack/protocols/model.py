"""A protocol as data: frozen value objects that the loader builds and the engine reads.

A protocol is a versioned YAML document (``docs/protocols.md``): sources, MRD thresholds
per time point (each with its operator, reusing :class:`mrdtrack.mrd.thresholds.Threshold`),
rules, and an optional treatment schedule. Every threshold, rule and schedule carries a
:class:`Citation`. Rules come in four kinds, evaluated in document order:

* ``risk_group`` — a label (``"very high risk"``) when the condition holds;
* ``eligibility`` — the patient is eligible for a therapy when the condition holds; the
  protocol's eligibility verdict is *eligible* when any eligibility rule is met;
* ``next_step`` — recommended actions (HCT, CAR-T, DLI, re-treatment …);
* ``review`` — a message for clinician review (e.g. a dose rule the source got wrong).

The condition language is a small tree, never evaluated as code:

* ``{field: cd19_positive, op: "==", value: true}`` — a timeline field (see
  :data:`mrdtrack.protocols.timeline.FIELDS`) against a value;
* ``{threshold: TPOG-EOI}`` — the patient's MRD at the threshold's time point meets it;
* ``{rule: TH-GRAALL-VHR}`` — an earlier rule of this protocol is met;
* ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mrdtrack.errors import NotFoundError
from mrdtrack.mrd.thresholds import Operator, Threshold
from mrdtrack.mrd.units import format_fraction, format_percent

__all__ = [
    "Action",
    "ActionKind",
    "ActionStrength",
    "AllOf",
    "AnyOf",
    "Citation",
    "Condition",
    "DoseBasis",
    "DoseSpec",
    "EvidenceTag",
    "FieldCondition",
    "FieldOperator",
    "Not",
    "Protocol",
    "ProtocolThreshold",
    "Rule",
    "RuleCondition",
    "RuleKind",
    "Schedule",
    "ScheduleIndication",
    "Source",
    "ThresholdCondition",
    "condition_to_dict",
    "describe_condition",
]

ConditionValue = bool | int | float | str | tuple[int | str, ...]


class EvidenceTag(StrEnum):
    """Evidence tags of domain rules §0.1."""

    STATED = "S"
    PARTLY_CONFIRMED = "P"
    DERIVED = "D"
    UNCONFIRMED = "U"


class RuleKind(StrEnum):
    """What a rule produces when its condition is met."""

    RISK_GROUP = "risk_group"
    ELIGIBILITY = "eligibility"
    NEXT_STEP = "next_step"
    REVIEW = "review"


class FieldOperator(StrEnum):
    """Equality and membership operators; ordering uses :class:`Operator` (≥, >, ≤, <)."""

    EQ = "=="
    NE = "!="
    IN = "in"
    NOT_IN = "not in"
    INCLUDES = "includes"
    EXCLUDES = "excludes"


class ActionKind(StrEnum):
    """Actions a next-step rule can recommend."""

    BLINATUMOMAB = "blinatumomab"
    BLINATUMOMAB_RETREATMENT = "blinatumomab_retreatment"
    CHEMOTHERAPY_REINTENSIFICATION = "chemotherapy_reintensification"
    HCT = "hct"
    CAR_T = "car_t"
    DLI = "dli"


class ActionStrength(StrEnum):
    """How firmly the source puts an action."""

    RECOMMENDED = "recommended"
    """The source says it should be done."""
    OPTION = "option"
    """One of several alternatives the source lists (``A or B``)."""
    CONSIDER = "consider"
    """The source says it should be considered."""


class DoseBasis(StrEnum):
    """How a schedule states its dose."""

    LABEL = "label"
    """As the label's weight bands give it (BLIN-01)."""
    PER_M2 = "per_m2"
    """A fixed µg/m²/day for every weight (e.g. SEED-1's 15 µg/m²/day)."""


class ScheduleIndication(StrEnum):
    """The label setting whose cycle layout a schedule follows (BLIN-02)."""

    MRD = "mrd"
    RELAPSED = "relapsed"
    CONSOLIDATION = "consolidation"


@dataclass(frozen=True, slots=True)
class Source:
    """A document a protocol cites: short id and full citation (authors, journal, year, DOI)."""

    id: str
    citation: str


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule comes from: the source, the place in it, the evidence tag, the rule id."""

    source_id: str
    source: str
    where: str
    tag: EvidenceTag
    domain_rule: str | None = None

    @property
    def text(self) -> str:
        """One line: ``"<full citation>, <where> [S] (domain rules TH-TPOG-EOI)"``."""
        suffix = f" (domain rules {self.domain_rule})" if self.domain_rule else ""
        return f"{self.source}, {self.where} [{self.tag.value}]{suffix}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "source_id": self.source_id,
            "source": self.source,
            "where": self.where,
            "tag": self.tag.value,
            "domain_rule": self.domain_rule,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """A timeline field compared with a value (``age_months >= 1``)."""

    field: str
    op: Operator | FieldOperator
    value: ConditionValue


@dataclass(frozen=True, slots=True)
class ThresholdCondition:
    """The patient's MRD at the threshold's time point meets the threshold."""

    threshold_id: str


@dataclass(frozen=True, slots=True)
class RuleCondition:
    """An earlier rule of the same protocol is met."""

    rule_id: str


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every item holds (Kleene: one not met → not met; else one unknown → not evaluable)."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """One item holds (Kleene: one met → met; else one unknown → not evaluable)."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold (not evaluable stays not evaluable)."""

    item: Condition


Condition = FieldCondition | ThresholdCondition | RuleCondition | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class ProtocolThreshold:
    """An MRD threshold of a protocol, bound to its time point(s).

    ``timepoints`` are tried in order and the first one the timeline has is used (e.g.
    the label's MRD rule reads ``PRE_BLIN`` and falls back to the latest earlier
    assessment). ``catalogue_id`` names the entry of
    :data:`mrdtrack.mrd.thresholds.THRESHOLDS` that the loader checked it against.
    """

    id: str
    timepoints: tuple[str, ...]
    threshold: Threshold
    description: str
    citation: Citation
    catalogue_id: str | None = None

    def describe(self) -> str:
        """``"MRD at EOI >= 1.0×10⁻⁴ (0.01 %)"``."""
        limit = self.threshold.limit_fraction
        return (
            f"MRD at {' or '.join(self.timepoints)} {self.threshold.operator.value} "
            f"{format_fraction(limit)} ({format_percent(limit)})"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (the fraction, never a percentage, under ``fraction``)."""
        return {
            "id": self.id,
            "timepoints": list(self.timepoints),
            "op": self.threshold.operator.value,
            "fraction": self.threshold.limit_fraction,
            "description": self.description,
            "catalogue": self.catalogue_id,
            "citation": self.citation.to_dict(),
            "text": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One recommended action of a next-step rule."""

    kind: ActionKind
    strength: ActionStrength
    detail: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {"action": self.kind.value, "strength": self.strength.value, "detail": self.detail}

    def describe(self) -> str:
        """``"hct (consider)"``, ``"blinatumomab (option: bridge to allo-HSCT)"``."""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind.value} ({self.strength.value}{detail})"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: id, kind, condition, citation, and what it produces when met.

    ``risk_group`` (risk-group and eligibility rules), ``eligible_for`` (eligibility
    rules), ``actions`` (next-step rules) and ``message`` (review rules) are set by kind;
    the loader checks that each kind has what it needs.
    """

    id: str
    kind: RuleKind
    title: str
    when: Condition
    citation: Citation
    note: str | None = None
    risk_group: str | None = None
    eligible_for: str | None = None
    actions: tuple[Action, ...] = ()
    message: str | None = None

    def to_dict(self, protocol: Protocol) -> dict[str, object]:
        """JSON-ready mapping with the condition in its YAML form and in words."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "title": self.title,
            "when": condition_to_dict(self.when),
            "when_text": describe_condition(self.when, protocol),
            "risk_group": self.risk_group,
            "eligible_for": self.eligible_for,
            "actions": [a.to_dict() for a in self.actions],
            "message": self.message,
            "note": self.note,
            "citation": self.citation.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class DoseSpec:
    """The dose a schedule states, where that comes from, and the dosing profile.

    ``profile`` names the :mod:`mrdtrack.therapy` dosing profile that implements the
    statement (``us-uspi-2024`` for the label, ``seed1-tpog`` for 15 µg/m²/day at every
    weight); the dose plan checks the two agree.
    """

    basis: DoseBasis
    reference: str
    profile: str
    ug_per_m2_day: float | None = None

    def describe(self) -> str:
        """``"15 µg/m²/day (all weights)"`` or ``"label weight bands"``."""
        if self.basis is DoseBasis.PER_M2 and self.ug_per_m2_day is not None:
            return f"{self.ug_per_m2_day:g} µg/m²/day at every weight"
        return "label weight bands (BLIN-01)"


@dataclass(frozen=True, slots=True)
class Schedule:
    """A treatment schedule: agent, dose statement, cycle count and layout.

    ``cycles`` is the number the protocol plans (``None`` when the source does not give
    it: an unconfirmed item); ``max_cycles`` the most it allows. ``indication`` selects
    the label cycle layout (BLIN-02) used for dose and calendar verification.
    """

    id: str
    agent: str
    indication: ScheduleIndication
    dose: DoseSpec
    cycles: int | None
    max_cycles: int | None
    infusion_days: int
    treatment_free_days: int
    citation: Citation
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """``"blinatumomab 15 µg/m²/day …, 2 cycles of 28 days on / 14 off"``."""
        count = "cycle count not stated" if self.cycles is None else f"{self.cycles} cycle(s)"
        return (
            f"{self.agent} {self.dose.describe()}, {count} of {self.infusion_days} days on / "
            f"{self.treatment_free_days} off"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "id": self.id,
            "agent": self.agent,
            "indication": self.indication.value,
            "dose": {
                "basis": self.dose.basis.value,
                "ug_per_m2_day": self.dose.ug_per_m2_day,
                "profile": self.dose.profile,
                "reference": self.dose.reference,
                "text": self.dose.describe(),
            },
            "cycles": self.cycles,
            "max_cycles": self.max_cycles,
            "infusion_days": self.infusion_days,
            "treatment_free_days": self.treatment_free_days,
            "notes": list(self.notes),
            "citation": self.citation.to_dict(),
            "text": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class Protocol:
    """A versioned protocol: the thresholds, rules and schedule of one source or label."""

    id: str
    title: str
    version: str
    effective_date: str
    setting: str
    sources: tuple[Source, ...]
    thresholds: tuple[ProtocolThreshold, ...]
    rules: tuple[Rule, ...]
    schedule: Schedule | None = None
    unconfirmed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    origin: str = ""

    @property
    def label(self) -> str:
        """``"<id>@<version>"``, recorded with every evaluation."""
        return f"{self.id}@{self.version}"

    def threshold(self, threshold_id: str) -> ProtocolThreshold:
        """The threshold with this id."""
        for item in self.thresholds:
            if item.id == threshold_id:
                return item
        raise NotFoundError(
            f"threshold of protocol {self.id}", threshold_id, tuple(t.id for t in self.thresholds)
        )

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        for item in self.rules:
            if item.id == rule_id:
                return item
        raise NotFoundError(f"rule of protocol {self.id}", rule_id, tuple(r.id for r in self.rules))

    def rules_of(self, kind: RuleKind) -> tuple[Rule, ...]:
        """The rules of one kind, in document order."""
        return tuple(r for r in self.rules if r.kind is kind)

    def to_dict(self) -> dict[str, object]:
        """The whole protocol as a JSON-ready mapping."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "label": self.label,
            "effective_date": self.effective_date,
            "setting": self.setting,
            "sources": [{"id": s.id, "citation": s.citation} for s in self.sources],
            "thresholds": [t.to_dict() for t in self.thresholds],
            "rules": [r.to_dict(self) for r in self.rules],
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
            "unconfirmed": list(self.unconfirmed),
            "notes": list(self.notes),
        }


def condition_to_dict(condition: Condition) -> dict[str, object]:
    """The condition in the YAML form the loader reads (round-trips)."""
    if isinstance(condition, FieldCondition):
        value: object = (
            list(condition.value) if isinstance(condition.value, tuple) else condition.value
        )
        return {"field": condition.field, "op": condition.op.value, "value": value}
    if isinstance(condition, ThresholdCondition):
        return {"threshold": condition.threshold_id}
    if isinstance(condition, RuleCondition):
        return {"rule": condition.rule_id}
    if isinstance(condition, AllOf):
        return {"all": [condition_to_dict(c) for c in condition.items]}
    if isinstance(condition, AnyOf):
        return {"any": [condition_to_dict(c) for c in condition.items]}
    return {"not": condition_to_dict(condition.item)}


def _value_text(value: ConditionValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def describe_condition(condition: Condition, protocol: Protocol) -> str:
    """The condition in words: ``"all of (cd19_positive == true; MRD at EOI >= …)"``."""
    if isinstance(condition, FieldCondition):
        return f"{condition.field} {condition.op.value} {_value_text(condition.value)}"
    if isinstance(condition, ThresholdCondition):
        return f"{protocol.threshold(condition.threshold_id).describe()} [{condition.threshold_id}]"
    if isinstance(condition, RuleCondition):
        return f"rule {condition.rule_id} is met"
    if isinstance(condition, AllOf):
        return (
            "all of (" + "; ".join(describe_condition(c, protocol) for c in condition.items) + ")"
        )
    if isinstance(condition, AnyOf):
        return (
            "any of (" + "; ".join(describe_condition(c, protocol) for c in condition.items) + ")"
        )
    return f"not ({describe_condition(condition.item, protocol)})"
