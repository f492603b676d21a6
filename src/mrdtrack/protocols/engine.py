"""Evaluate a protocol against one patient timeline; join the blinatumomab dose and calendar.

:func:`evaluate_protocol` walks the protocol's rules in document order and gives each a
status — *met*, *not met* or *not evaluable* — with every value it compared. Conditions
use Kleene three-valued logic: ``all`` is not met as soon as one item is not met, else not
evaluable if one item is; ``any`` is met as soon as one item is met, else not evaluable if
one item is. Missing data therefore makes a rule *not evaluable*, never silently false,
while a rule that is decided by the data present (one branch of an ``any`` met) is
decided.

MRD thresholds (domain rules §0.2, §5): the un-rounded fraction is compared with the
threshold's own operator through :meth:`mrdtrack.mrd.thresholds.Threshold.check`. A
not-detected result with sensitivity *s* (or a positive-not-quantifiable one below *q*)
lies below *s*: it decides a threshold at limit *L* only when *s* ≤ *L*; otherwise the
threshold is not evaluable (insufficient sensitivity). A value exactly on a threshold is
flagged for clinician review whatever the operator makes of it (rules TH-04/TH-05, §12
item 6).

The blinatumomab dose and calendar are joined separately, in :mod:`.plan`: the
evaluation never depends on :mod:`mrdtrack.therapy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.mrd.thresholds import Operator
from mrdtrack.mrd.units import format_fraction, format_percent
from mrdtrack.protocols.model import (
    Action,
    AllOf,
    AnyOf,
    Citation,
    Condition,
    FieldCondition,
    FieldOperator,
    Not,
    Protocol,
    Rule,
    RuleCondition,
    RuleKind,
    ThresholdCondition,
    describe_condition,
)
from mrdtrack.protocols.timeline import FIELDS, FieldKind, PatientTimeline

__all__ = [
    "BoundaryFlag",
    "Comparison",
    "Eligibility",
    "EligibilityVerdict",
    "NextStep",
    "ProtocolEvaluation",
    "ReviewFlag",
    "RuleResult",
    "RuleStatus",
    "evaluate_protocol",
]


class RuleStatus(StrEnum):
    """The status of one rule or one comparison."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_EVALUABLE = "not_evaluable"


class EligibilityVerdict(StrEnum):
    """The protocol-level eligibility: any eligibility rule met makes the patient eligible."""

    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NOT_EVALUABLE = "not_evaluable"
    NOT_APPLICABLE = "not_applicable"
    """The protocol has no eligibility rules (a pathway protocol)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One value compared: what, with which operator, against what, and the outcome.

    ``observed`` and ``expected`` are plain JSON values (fractions for MRD); ``text`` says
    it in words. ``missing`` names the data whose absence made it not evaluable (for a
    reference to another rule: that rule's missing data).
    """

    subject: str
    operator: str
    expected: object
    observed: object
    status: RuleStatus
    text: str
    threshold_id: str | None = None
    timepoint: str | None = None
    on_boundary: bool = False
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "subject": self.subject,
            "operator": self.operator,
            "expected": self.expected,
            "observed": self.observed,
            "status": self.status.value,
            "text": self.text,
            "threshold_id": self.threshold_id,
            "timepoint": self.timepoint,
            "on_boundary": self.on_boundary,
            "missing": list(self.missing),
        }


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's status, the comparisons behind it and, if not evaluable, what is missing."""

    rule: Rule
    status: RuleStatus
    comparisons: tuple[Comparison, ...]
    missing: tuple[str, ...]

    def to_dict(self, protocol: Protocol) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "rule_id": self.rule.id,
            "kind": self.rule.kind.value,
            "title": self.rule.title,
            "status": self.status.value,
            "when": describe_condition(self.rule.when, protocol),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "missing": list(self.missing),
            "citation": self.rule.citation.text,
        }


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The eligibility verdict with the rules that decided it."""

    verdict: EligibilityVerdict
    eligible_for: tuple[str, ...]
    rule_ids: tuple[str, ...]
    reason: str
    citations: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "verdict": self.verdict.value,
            "eligible_for": list(self.eligible_for),
            "rule_ids": list(self.rule_ids),
            "reason": self.reason,
            "citations": list(self.citations),
        }


@dataclass(frozen=True, slots=True)
class NextStep:
    """The actions of one met next-step rule, with its id and citation."""

    rule_id: str
    title: str
    actions: tuple[Action, ...]
    citation: Citation
    note: str | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "actions": [a.to_dict() for a in self.actions],
            "note": self.note,
            "citation": self.citation.text,
        }


@dataclass(frozen=True, slots=True)
class BoundaryFlag:
    """A value exactly on a threshold: shown for clinician review, whatever the operator."""

    subject: str
    value: float
    operator: str
    limit: float
    met: bool
    rule_ids: tuple[str, ...]
    message: str
    threshold_id: str | None = None
    timepoint: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {
            "subject": self.subject,
            "threshold_id": self.threshold_id,
            "timepoint": self.timepoint,
            "value": self.value,
            "operator": self.operator,
            "limit": self.limit,
            "met": self.met,
            "rule_ids": list(self.rule_ids),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """A met review rule: a message for the clinician, with its citation."""

    rule_id: str
    message: str
    citation: Citation

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping."""
        return {"rule_id": self.rule_id, "message": self.message, "citation": self.citation.text}


@dataclass(frozen=True, slots=True)
class ProtocolEvaluation:
    """Everything one evaluation found, with the protocol version that produced it."""

    protocol: Protocol
    timeline: PatientTimeline
    rules: tuple[RuleResult, ...]
    eligibility: Eligibility
    risk_groups: tuple[tuple[str, str, Citation], ...]
    next_steps: tuple[NextStep, ...]
    boundary_flags: tuple[BoundaryFlag, ...]
    review_flags: tuple[ReviewFlag, ...]
    missing_data: tuple[str, ...]

    @property
    def status(self) -> str:
        """``not_evaluable`` when eligibility cannot be decided, else ``evaluated``."""
        if self.eligibility.verdict is EligibilityVerdict.NOT_EVALUABLE:
            return "not_evaluable"
        return "evaluated"

    def result(self, rule_id: str) -> RuleResult:
        """The result of one rule."""
        for item in self.rules:
            if item.rule.id == rule_id:
                return item
        raise InputError("rule_id", rule_id, f"one of: {', '.join(r.rule.id for r in self.rules)}")

    def to_dict(self) -> dict[str, Any]:
        """The ``mrdtrack protocol evaluate --json`` object (without the dose plan)."""
        p = self.protocol
        return {
            "status": self.status,
            "protocol": {
                "id": p.id,
                "version": p.version,
                "label": p.label,
                "title": p.title,
                "effective_date": p.effective_date,
            },
            "eligibility": self.eligibility.to_dict(),
            "risk_groups": [
                {"rule_id": rid, "risk_group": group, "citation": c.text}
                for rid, group, c in self.risk_groups
            ],
            "next_steps": [s.to_dict() for s in self.next_steps],
            "rules": [r.to_dict(p) for r in self.rules],
            "boundary_flags": [f.to_dict() for f in self.boundary_flags],
            "review_flags": [f.to_dict() for f in self.review_flags],
            "missing_data": list(self.missing_data),
            "unconfirmed": list(p.unconfirmed),
            "inputs": self.timeline.to_dict(),
        }


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return "unknown" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _mrd_text(fraction: float) -> str:
    return f"{format_fraction(fraction)} ({format_percent(fraction)})"


class _Evaluator:
    def __init__(self, protocol: Protocol, timeline: PatientTimeline) -> None:
        self.protocol = protocol
        self.timeline = timeline
        self.done: dict[str, tuple[RuleStatus, tuple[str, ...]]] = {}

    def run(self, condition: Condition, out: list[Comparison]) -> RuleStatus:
        if isinstance(condition, AllOf | AnyOf):
            statuses = [self.run(item, out) for item in condition.items]
            decisive = RuleStatus.NOT_MET if isinstance(condition, AllOf) else RuleStatus.MET
            if decisive in statuses:
                return decisive
            if RuleStatus.NOT_EVALUABLE in statuses:
                return RuleStatus.NOT_EVALUABLE
            return RuleStatus.MET if isinstance(condition, AllOf) else RuleStatus.NOT_MET
        if isinstance(condition, Not):
            inner = self.run(condition.item, out)
            return {
                RuleStatus.MET: RuleStatus.NOT_MET,
                RuleStatus.NOT_MET: RuleStatus.MET,
            }.get(inner, RuleStatus.NOT_EVALUABLE)
        if isinstance(condition, ThresholdCondition):
            comparison = self.threshold(condition.threshold_id)
        elif isinstance(condition, RuleCondition):
            status, missing = self.done[condition.rule_id]
            comparison = Comparison(
                subject=f"rule {condition.rule_id}",
                operator="is",
                expected=RuleStatus.MET.value,
                observed=status.value,
                status=status,
                text=f"rule {condition.rule_id} is {status.value.replace('_', ' ')}",
                missing=missing,
            )
        else:
            comparison = self.field(condition)
        out.append(comparison)
        return comparison.status

    def threshold(self, threshold_id: str) -> Comparison:
        item = self.protocol.threshold(threshold_id)
        rule = item.threshold
        op, limit = rule.operator, rule.limit_fraction
        subject = f"MRD at {' or '.join(item.timepoints)}"

        def make(status: RuleStatus, text: str, **extra: Any) -> Comparison:
            return Comparison(
                subject=extra.pop("subject", subject),
                operator=op.value,
                expected=limit,
                observed=extra.pop("observed", None),
                status=status,
                text=text,
                threshold_id=threshold_id,
                **extra,
            )

        found = next(
            (m for tp in item.timepoints if (m := self.timeline.mrd_at(tp)) is not None), None
        )
        if found is None:
            return make(
                RuleStatus.NOT_EVALUABLE,
                f"{subject}: no result; needed for {rule.describe()} [{threshold_id}]",
                missing=(f"mrd.{'|'.join(item.timepoints)}",),
            )
        tp = found.timepoint
        subject = f"MRD at {tp}"
        if found.status is MrdStatus.NOT_EVALUABLE:
            return make(
                RuleStatus.NOT_EVALUABLE,
                f"{subject}: the sample is not evaluable; {rule.describe()} cannot be decided",
                timepoint=tp,
                observed="not_evaluable",
                missing=(f"mrd.{tp} (an evaluable sample)",),
            )
        if found.status is MrdStatus.POSITIVE and found.mrd_fraction is not None:
            check = rule.check(found.mrd_fraction)
            verdict = "met" if check.met else "not met"
            boundary = "; exactly on the threshold: clinician review" if check.on_boundary else ""
            return make(
                RuleStatus.MET if check.met else RuleStatus.NOT_MET,
                f"{subject} {_mrd_text(check.value_fraction)} {op.value} {_mrd_text(limit)}: "
                f"{verdict}{boundary}",
                timepoint=tp,
                observed=check.value_fraction,
                on_boundary=check.on_boundary,
            )
        bound = found.upper_bound_fraction
        shown = found.describe()
        if bound is None or bound > limit:
            why = (
                "without the sensitivity reached it cannot be compared"
                if bound is None
                else f"the true level lies below {_mrd_text(bound)}, which does not settle "
                f"{op.value} {_mrd_text(limit)}"
            )
            return make(
                RuleStatus.NOT_EVALUABLE,
                f"{subject} {shown}: {why} (insufficient sensitivity)",
                timepoint=tp,
                observed=found.status.value,
                missing=(f"mrd.{tp} (a sensitivity ≤ {format_fraction(limit)})",),
            )
        # The true level is below bound ≤ limit: "≥"/">" cannot hold, "<"/"≤" must.
        met = op in (Operator.LT, Operator.LE)
        return make(
            RuleStatus.MET if met else RuleStatus.NOT_MET,
            f"{subject} {shown}, i.e. below {_mrd_text(bound)}: {op.value} {_mrd_text(limit)} "
            f"{'met' if met else 'not met'}",
            timepoint=tp,
            observed=found.status.value,
        )

    def field(self, condition: FieldCondition) -> Comparison:
        spec = FIELDS[condition.field]
        observed = self.timeline.field_value(condition.field)
        op, expected = condition.op, condition.value
        plain_expected: object = list(expected) if isinstance(expected, tuple) else expected
        plain_observed: object = list(observed) if isinstance(observed, tuple) else observed
        rendered = f"{condition.field} {op.value} {_show(expected)}"
        if observed is None:
            return Comparison(
                subject=condition.field,
                operator=op.value,
                expected=plain_expected,
                observed=None,
                status=RuleStatus.NOT_EVALUABLE,
                text=f"{rendered}: {condition.field} not given",
                missing=(condition.field,),
            )
        on_boundary = False
        if isinstance(op, Operator):
            value, limit = float(observed), float(expected)  # type: ignore[arg-type]
            met = op.holds(value, limit)
            on_boundary = spec.kind is FieldKind.NUMBER and value == limit
        elif op is FieldOperator.EQ:
            met = observed == expected
        elif op is FieldOperator.NE:
            met = observed != expected
        elif op in (FieldOperator.IN, FieldOperator.NOT_IN):
            inside = observed in expected  # type: ignore[operator]
            met = inside if op is FieldOperator.IN else not inside
        else:
            present = expected in observed  # type: ignore[operator]
            met = present if op is FieldOperator.INCLUDES else not present
        boundary = "; exactly on the limit: clinician review" if on_boundary else ""
        return Comparison(
            subject=condition.field,
            operator=op.value,
            expected=plain_expected,
            observed=plain_observed,
            status=RuleStatus.MET if met else RuleStatus.NOT_MET,
            text=f"{rendered}: observed {_show(observed)}, {'met' if met else 'not met'}{boundary}",
            on_boundary=on_boundary,
        )


def evaluate_protocol(protocol: Protocol, timeline: PatientTimeline) -> ProtocolEvaluation:
    """Evaluate every rule of ``protocol`` for one patient.

    Parameters
    ----------
    protocol
        A loaded protocol (:func:`mrdtrack.protocols.loader.load_shipped_protocol`).
    timeline
        The patient's plain values; anything unknown is ``None``.

    Returns
    -------
    ProtocolEvaluation
        Each rule's status with its comparisons; the eligibility verdict (eligible when
        any eligibility rule is met; not evaluable when none is met and one is not
        evaluable); met risk groups, next steps and review flags, each with rule id and
        citation; values exactly on a threshold; and the data whose absence left rules
        not evaluable.

    Examples
    --------
    TH-04 — EOI MRD exactly 0.01 % is high risk under the TPOG "≥" rule, and flagged:

    >>> from mrdtrack.protocols.loader import load_shipped_protocol
    >>> from mrdtrack.protocols.timeline import timeline_from_mapping
    >>> ev = evaluate_protocol(
    ...     load_shipped_protocol("tpog-mrd"), timeline_from_mapping({"mrd": {"EOI": "0.01%"}})
    ... )
    >>> ev.eligibility.verdict.value, [f.threshold_id for f in ev.boundary_flags]
    ('eligible', ['TPOG-EOI'])
    """
    evaluator = _Evaluator(protocol, timeline)
    results: list[RuleResult] = []
    for rule in protocol.rules:
        comparisons: list[Comparison] = []
        status = evaluator.run(rule.when, comparisons)
        missing = (
            tuple(dict.fromkeys(m for c in comparisons for m in c.missing))
            if status is RuleStatus.NOT_EVALUABLE
            else ()
        )
        evaluator.done[rule.id] = (status, missing)
        results.append(RuleResult(rule, status, tuple(comparisons), missing))
    return ProtocolEvaluation(
        protocol=protocol,
        timeline=timeline,
        rules=tuple(results),
        eligibility=_eligibility(results),
        risk_groups=tuple(
            (r.rule.id, r.rule.risk_group, r.rule.citation)
            for r in results
            if r.status is RuleStatus.MET and r.rule.risk_group
        ),
        next_steps=tuple(
            NextStep(r.rule.id, r.rule.title, r.rule.actions, r.rule.citation, r.rule.note)
            for r in results
            if r.status is RuleStatus.MET and r.rule.kind is RuleKind.NEXT_STEP
        ),
        boundary_flags=_boundary_flags(results),
        review_flags=tuple(
            ReviewFlag(r.rule.id, r.rule.message or r.rule.title, r.rule.citation)
            for r in results
            if r.status is RuleStatus.MET and r.rule.kind is RuleKind.REVIEW
        ),
        missing_data=tuple(dict.fromkeys(m for r in results for m in r.missing)),
    )


def _eligibility(results: list[RuleResult]) -> Eligibility:
    rules = [r for r in results if r.rule.kind is RuleKind.ELIGIBILITY]
    if not rules:
        return Eligibility(
            EligibilityVerdict.NOT_APPLICABLE, (), (), "the protocol has no eligibility rules", ()
        )
    met = [r for r in rules if r.status is RuleStatus.MET]
    if met:
        return Eligibility(
            EligibilityVerdict.ELIGIBLE,
            tuple(dict.fromkeys(r.rule.eligible_for or "" for r in met)),
            tuple(r.rule.id for r in met),
            "met: " + "; ".join(f"{r.rule.id} ({r.rule.title})" for r in met),
            tuple(r.rule.citation.text for r in met),
        )
    unknown = [r for r in rules if r.status is RuleStatus.NOT_EVALUABLE]
    if unknown:
        needed = sorted({m for r in unknown for m in r.missing})
        return Eligibility(
            EligibilityVerdict.NOT_EVALUABLE,
            (),
            tuple(r.rule.id for r in unknown),
            "no eligibility rule is met and "
            + ", ".join(r.rule.id for r in unknown)
            + f" cannot be decided; missing: {', '.join(needed)}",
            tuple(r.rule.citation.text for r in unknown),
        )
    return Eligibility(
        EligibilityVerdict.NOT_ELIGIBLE,
        (),
        tuple(r.rule.id for r in rules),
        "not met: " + ", ".join(r.rule.id for r in rules),
        tuple(r.rule.citation.text for r in rules),
    )


def _boundary_flags(results: list[RuleResult]) -> tuple[BoundaryFlag, ...]:
    found: dict[tuple[str, str | None], tuple[Comparison, list[str]]] = {}
    for result in results:
        for c in result.comparisons:
            if c.on_boundary:
                key = (c.subject, c.threshold_id)
                found.setdefault(key, (c, []))[1].append(result.rule.id)
    flags = []
    for c, rule_ids in found.values():
        value, limit = float(c.observed), float(c.expected)  # type: ignore[arg-type]
        met = c.status is RuleStatus.MET
        shown = _mrd_text(value) if c.threshold_id else _show(value)
        limit_shown = _mrd_text(limit) if c.threshold_id else _show(limit)
        name = f" {c.threshold_id}" if c.threshold_id else ""
        flags.append(
            BoundaryFlag(
                subject=c.subject,
                value=value,
                operator=c.operator,
                limit=limit,
                met=met,
                rule_ids=tuple(dict.fromkeys(rule_ids)),
                message=f"{c.subject} {shown} is exactly on threshold{name} "
                f"({c.operator} {limit_shown}): {'met' if met else 'not met'} under "
                f"'{c.operator}'; clinician review",
                threshold_id=c.threshold_id,
                timepoint=c.timepoint,
            )
        )
    return tuple(flags)
