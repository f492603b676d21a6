"""Read protocol documents and patient timelines: the adapter between files and the model.

:func:`load_protocol_text` parses and validates a YAML protocol into a
:class:`~mrdtrack.protocols.model.Protocol`; a malformed document raises
:class:`~mrdtrack.errors.ProtocolError` naming the file, the key path
(``eligibility[0].when.all[1].op``) and what was expected. Validation is strict: unknown
keys, unknown fields, operators a field does not support, values of the wrong type,
missing citations, duplicate ids (and duplicate YAML keys), references to unknown
thresholds or to rules not defined earlier, and thresholds that disagree with the MRD
threshold catalogue they name are all refused at load time, so the engine never meets
them.

The shipped protocols live in ``mrdtrack/protocols/data/<id>.yaml`` (package data) and
are read only when asked for, never at import.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from mrdtrack.errors import ImportValidationError, InputError, NotFoundError, ProtocolError
from mrdtrack.mrd.thresholds import THRESHOLDS, Operator, Threshold
from mrdtrack.protocols.model import (
    Action,
    ActionKind,
    ActionStrength,
    AllOf,
    AnyOf,
    Citation,
    Condition,
    DoseBasis,
    DoseSpec,
    EvidenceTag,
    FieldCondition,
    FieldOperator,
    Not,
    Protocol,
    ProtocolThreshold,
    Rule,
    RuleCondition,
    RuleKind,
    Schedule,
    ScheduleIndication,
    Source,
    ThresholdCondition,
)
from mrdtrack.protocols.timeline import (
    FIELDS,
    FieldKind,
    PatientTimeline,
    normalize_timepoint,
    timeline_from_mapping,
)

__all__ = [
    "load_protocol_file",
    "load_protocol_text",
    "load_shipped_protocol",
    "load_shipped_protocols",
    "load_timeline_file",
    "load_timeline_text",
    "shipped_protocol_ids",
]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_TOP_REQUIRED = ("id", "title", "version", "effective_date", "sources", "setting")
_TOP_OPTIONAL = (
    "thresholds",
    "risk_groups",
    "eligibility",
    "next_steps",
    "review_flags",
    "schedule",
    "unconfirmed",
    "notes",
)
_SECTIONS: tuple[tuple[str, RuleKind], ...] = (
    ("risk_groups", RuleKind.RISK_GROUP),
    ("eligibility", RuleKind.ELIGIBILITY),
    ("next_steps", RuleKind.NEXT_STEP),
    ("review_flags", RuleKind.REVIEW),
)
_RULE_KEYS: dict[RuleKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys)
    RuleKind.RISK_GROUP: (("id", "title", "when", "risk_group", "citation"), ("note",)),
    RuleKind.ELIGIBILITY: (
        ("id", "title", "when", "eligible_for", "citation"),
        ("risk_group", "note"),
    ),
    RuleKind.NEXT_STEP: (("id", "title", "when", "actions", "citation"), ("note",)),
    RuleKind.REVIEW: (("id", "title", "when", "message", "citation"), ("note",)),
}

_ORDERING = {op.value: op for op in Operator}
_FIELD_OPS: dict[FieldKind, tuple[str, ...]] = {
    FieldKind.BOOLEAN: ("==", "!="),
    FieldKind.NUMBER: (">=", ">", "<=", "<"),
    FieldKind.INTEGER: ("==", "!=", "in", "not in", ">=", ">", "<=", "<"),
    FieldKind.CHOICE: ("==", "!=", "in", "not in"),
    FieldKind.SET: ("includes", "excludes"),
}


class _DuplicateKeyError(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key, line)
        self.key = key
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise _DuplicateKeyError(key, key_node.start_mark.line + 1)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, origin: str) -> object:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKeyError as dup:
        raise ProtocolError(
            origin, f"line {dup.line}: {dup.key}", "each key once per mapping"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        problem = getattr(error, "problem", None) or str(error)
        raise ProtocolError(origin, where, f"valid YAML ({problem})") from None


class _Reader:
    """Walks one protocol document, raising ProtocolError with the key path on any fault."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.sources: dict[str, str] = {}
        self.thresholds: dict[str, ProtocolThreshold] = {}
        self.rule_ids: dict[str, str] = {}

    def fail(self, path: str, expected: str) -> NoReturn:
        raise ProtocolError(self.origin, path or "document", expected)

    def mapping(
        self, value: object, path: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"a mapping with the keys {', '.join(required)}")
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), f"one of the keys: {', '.join(allowed)}")
        for key in required:
            if value.get(key) is None:
                self.fail(_join(path, key), "a value (this key is required)")
        return value

    def text(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "a non-empty text")
        return value.strip()

    def optional_text(self, value: object, path: str) -> str | None:
        return None if value is None else self.text(value, path)

    def texts(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(path, "a list of texts")
        return tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(value))

    def number(self, value: object, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and re.fullmatch(r"[-+]?\d+e[-+]?\d+", value.strip()):
                hint = f" (YAML 1.1 reads {value} as text: write {value.replace('e', '.0e', 1)})"
            self.fail(path, f"a number{hint}")
        return float(value)

    def count(self, value: object, path: str, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(path, f"a whole number ≥ {minimum}")
        return value

    def items(self, value: object, path: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, "a list")
        return value

    # -- document parts --------------------------------------------------------------

    def citation(self, value: object, path: str) -> Citation:
        if value is None:
            self.fail(path, "a citation {source, where, tag} (every rule cites its source)")
        data = self.mapping(value, path, ("source", "where", "tag"), ("domain_rule",))
        source_id = self.text(data["source"], f"{path}.source")
        if source_id not in self.sources:
            self.fail(f"{path}.source", f"one of the protocol's sources: {', '.join(self.sources)}")
        tag = data["tag"]
        if tag not in {t.value for t in EvidenceTag}:
            self.fail(f"{path}.tag", "one of: S, P, D, U (domain rules §0.1)")
        return Citation(
            source_id=source_id,
            source=self.sources[source_id],
            where=self.text(data["where"], f"{path}.where"),
            tag=EvidenceTag(tag),
            domain_rule=self.optional_text(data.get("domain_rule"), f"{path}.domain_rule"),
        )

    def threshold(self, value: object, path: str) -> ProtocolThreshold:
        data = self.mapping(
            value,
            path,
            ("id", "timepoints", "op", "fraction", "description", "citation"),
            ("catalogue",),
        )
        threshold_id = self.new_id(data["id"], f"{path}.id", "threshold")
        points = self.items(data["timepoints"], f"{path}.timepoints")
        if not points:
            self.fail(f"{path}.timepoints", "at least one time-point code")
        timepoints: list[str] = []
        for i, code in enumerate(points):
            try:
                timepoints.append(normalize_timepoint(code))
            except InputError as error:
                self.fail(f"{path}.timepoints[{i}]", error.expected)
        op = data["op"]
        if op not in _ORDERING:
            self.fail(f"{path}.op", f"one of: {', '.join(_ORDERING)} (an explicit operator)")
        fraction = self.number(data["fraction"], f"{path}.fraction")
        if not 0 < fraction <= 1:
            self.fail(f"{path}.fraction", "an MRD fraction in (0, 1], e.g. 1.0e-4 for 0.01 %")
        description = self.text(data["description"], f"{path}.description")
        citation = self.citation(data.get("citation"), f"{path}.citation")
        catalogue_id = self.optional_text(data.get("catalogue"), f"{path}.catalogue")
        if catalogue_id is not None:
            entry = THRESHOLDS.get(catalogue_id)
            if entry is None:
                self.fail(f"{path}.catalogue", f"one of: {', '.join(THRESHOLDS)}")
            if entry.operator.value != op or entry.limit_fraction != fraction:
                self.fail(
                    path,
                    f"the catalogue threshold {catalogue_id} ({entry.describe()}, operator "
                    f"'{entry.operator.value}'), which this entry names; got '{op}' {fraction:g}",
                )
        return ProtocolThreshold(
            id=threshold_id,
            timepoints=tuple(timepoints),
            threshold=Threshold(
                id=threshold_id,
                limit_fraction=fraction,
                operator=_ORDERING[op],
                used_for=description,
                source=citation.text,
                tag=citation.tag.value,
            ),
            description=description,
            citation=citation,
            catalogue_id=catalogue_id,
        )

    def new_id(self, value: object, path: str, what: str) -> str:
        ident = self.text(value, path)
        if not _RULE_ID.match(ident):
            self.fail(path, "an id of letters, digits, '-', '_' or '.'")
        if ident in self.rule_ids:
            self.fail(
                path, f"a {what} id not used before ({ident} is already {self.rule_ids[ident]})"
            )
        self.rule_ids[ident] = path.removesuffix(".id")
        return ident

    def condition(self, value: object, path: str, defined_rules: Sequence[str]) -> Condition:
        if not isinstance(value, dict) or not value:
            self.fail(
                path, "a condition: {field, op, value}, {threshold}, {rule}, {all}, {any} or {not}"
            )
        keys = set(value)
        if keys == {"all"} or keys == {"any"}:
            word = next(iter(keys))
            parts = self.items(value[word], f"{path}.{word}")
            if not parts:
                self.fail(f"{path}.{word}", "a non-empty list of conditions")
            items = tuple(
                self.condition(part, f"{path}.{word}[{i}]", defined_rules)
                for i, part in enumerate(parts)
            )
            return AllOf(items) if word == "all" else AnyOf(items)
        if keys == {"not"}:
            return Not(self.condition(value["not"], f"{path}.not", defined_rules))
        if keys == {"threshold"}:
            ident = value["threshold"]
            if ident not in self.thresholds:
                self.fail(
                    f"{path}.threshold",
                    f"one of the thresholds: {', '.join(self.thresholds) or 'none'}",
                )
            return ThresholdCondition(str(ident))
        if keys == {"rule"}:
            ident = value["rule"]
            if ident not in defined_rules:
                self.fail(
                    f"{path}.rule",
                    f"a rule defined earlier in the document: {', '.join(defined_rules) or 'none'}",
                )
            return RuleCondition(str(ident))
        if "field" in keys:
            return self.field_condition(value, path)
        raise ProtocolError(
            self.origin,
            f"{path}.{sorted(map(str, keys))[0]}",
            "one of the condition forms: field/op/value, threshold, rule, all, any, not",
        )

    def field_condition(self, value: dict[str, Any], path: str) -> FieldCondition:
        data = self.mapping(value, path, ("field", "op"), ("value",))
        if "value" not in data:
            self.fail(f"{path}.value", "a value (this key is required)")
        name = data["field"]
        spec = FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            self.fail(f"{path}.field", f"one of the timeline fields: {', '.join(FIELDS)}")
        op_text = data["op"]
        allowed = _FIELD_OPS[spec.kind]
        if op_text not in allowed:
            self.fail(
                f"{path}.op", f"one of: {', '.join(allowed)} (for the {spec.kind} field {name})"
            )
        op: Operator | FieldOperator = (
            _ORDERING[op_text] if op_text in _ORDERING else FieldOperator(op_text)
        )
        return FieldCondition(
            name, op, self.field_value(data["value"], f"{path}.value", spec.kind, spec.choices, op)
        )

    def field_value(
        self,
        raw: object,
        path: str,
        kind: FieldKind,
        choices: tuple[str, ...],
        op: Operator | FieldOperator,
    ) -> bool | int | float | str | tuple[int | str, ...]:
        if op in (FieldOperator.IN, FieldOperator.NOT_IN):
            listed = self.items(raw, path)
            if not listed:
                self.fail(path, "a non-empty list")
            return tuple(
                self.scalar(v, f"{path}[{i}]", kind, choices) for i, v in enumerate(listed)
            )
        if kind is FieldKind.BOOLEAN:
            if not isinstance(raw, bool):
                self.fail(path, "true or false")
            return raw
        if kind is FieldKind.NUMBER:
            return self.number(raw, path)
        return self.scalar(raw, path, kind, choices)

    def scalar(
        self, raw: object, path: str, kind: FieldKind, choices: tuple[str, ...]
    ) -> int | str:
        if kind is FieldKind.INTEGER:
            return self.count(raw, path, minimum=0)
        if not isinstance(raw, str) or raw not in choices:
            self.fail(path, f"one of: {', '.join(choices)}")
        return raw

    def rule(self, value: object, path: str, kind: RuleKind, defined: Sequence[str]) -> Rule:
        required, optional = _RULE_KEYS[kind]
        data = self.mapping(
            value, path, tuple(k for k in required if k != "citation"), (*optional, "citation")
        )
        rule_id = self.text(data["id"], f"{path}.id")
        when = self.condition(data["when"], f"{path}.when", defined)
        citation = self.citation(data.get("citation"), f"{path}.citation")
        self.new_id(rule_id, f"{path}.id", "rule")
        actions: tuple[Action, ...] = ()
        if kind is RuleKind.NEXT_STEP:
            raw_actions = self.items(data["actions"], f"{path}.actions")
            if not raw_actions:
                self.fail(f"{path}.actions", "at least one action")
            actions = tuple(
                self.action(a, f"{path}.actions[{i}]") for i, a in enumerate(raw_actions)
            )
        return Rule(
            id=rule_id,
            kind=kind,
            title=self.text(data["title"], f"{path}.title"),
            when=when,
            citation=citation,
            note=self.optional_text(data.get("note"), f"{path}.note"),
            risk_group=self.optional_text(data.get("risk_group"), f"{path}.risk_group"),
            eligible_for=self.optional_text(data.get("eligible_for"), f"{path}.eligible_for"),
            actions=actions,
            message=self.optional_text(data.get("message"), f"{path}.message"),
        )

    def action(self, value: object, path: str) -> Action:
        data = self.mapping(value, path, ("action", "strength"), ("detail",))
        kinds = [k.value for k in ActionKind]
        if data["action"] not in kinds:
            self.fail(f"{path}.action", f"one of: {', '.join(kinds)}")
        strengths = [s.value for s in ActionStrength]
        if data["strength"] not in strengths:
            self.fail(f"{path}.strength", f"one of: {', '.join(strengths)}")
        return Action(
            ActionKind(data["action"]),
            ActionStrength(data["strength"]),
            self.optional_text(data.get("detail"), f"{path}.detail"),
        )

    def schedule(self, value: object, path: str) -> Schedule:
        data = self.mapping(
            value,
            path,
            ("id", "agent", "indication", "dose", "infusion_days", "treatment_free_days"),
            ("cycles", "max_cycles", "notes", "citation"),
        )
        schedule_id = self.new_id(data["id"], f"{path}.id", "schedule")
        indications = [i.value for i in ScheduleIndication]
        if data["indication"] not in indications:
            self.fail(f"{path}.indication", f"one of: {', '.join(indications)} (BLIN-02 layouts)")
        dose_data = self.mapping(
            data["dose"], f"{path}.dose", ("basis", "reference", "profile"), ("ug_per_m2_day",)
        )
        bases = [b.value for b in DoseBasis]
        if dose_data["basis"] not in bases:
            self.fail(f"{path}.dose.basis", f"one of: {', '.join(bases)}")
        basis = DoseBasis(dose_data["basis"])
        per_m2: float | None = None
        if basis is DoseBasis.PER_M2:
            if dose_data.get("ug_per_m2_day") is None:
                self.fail(f"{path}.dose.ug_per_m2_day", "a dose in µg/m²/day for basis per_m2")
            per_m2 = self.number(dose_data["ug_per_m2_day"], f"{path}.dose.ug_per_m2_day")
            if per_m2 <= 0:
                self.fail(f"{path}.dose.ug_per_m2_day", "a dose > 0")
        elif dose_data.get("ug_per_m2_day") is not None:
            self.fail(f"{path}.dose.ug_per_m2_day", "no per-m² dose with basis label")
        cycles = (
            None if data.get("cycles") is None else self.count(data["cycles"], f"{path}.cycles")
        )
        max_cycles = (
            None
            if data.get("max_cycles") is None
            else self.count(data["max_cycles"], f"{path}.max_cycles")
        )
        if cycles is not None and max_cycles is not None and cycles > max_cycles:
            self.fail(f"{path}.cycles", f"at most max_cycles ({max_cycles})")
        return Schedule(
            id=schedule_id,
            agent=self.text(data["agent"], f"{path}.agent"),
            indication=ScheduleIndication(data["indication"]),
            dose=DoseSpec(
                basis,
                self.text(dose_data["reference"], f"{path}.dose.reference"),
                self.text(dose_data["profile"], f"{path}.dose.profile"),
                per_m2,
            ),
            cycles=cycles,
            max_cycles=max_cycles,
            infusion_days=self.count(data["infusion_days"], f"{path}.infusion_days"),
            treatment_free_days=self.count(
                data["treatment_free_days"], f"{path}.treatment_free_days", 0
            ),
            citation=self.citation(data.get("citation"), f"{path}.citation"),
            notes=self.texts(data.get("notes"), f"{path}.notes"),
        )

    def protocol(self, document: object) -> Protocol:
        data = self.mapping(document, "", _TOP_REQUIRED, _TOP_OPTIONAL)
        protocol_id = self.text(data["id"], "id")
        if not _ID.match(protocol_id):
            self.fail("id", "a lower-case id of letters, digits and '-' (e.g. tpog-mrd)")
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, str | int):
            self.fail("version", "a version text in quotes, e.g. '1' or '2024.1'")
        effective = data["effective_date"]
        if isinstance(effective, dt.date):
            effective_date = effective.isoformat()
        else:
            try:
                effective_date = dt.date.fromisoformat(str(effective)).isoformat()
            except ValueError:
                self.fail("effective_date", "an ISO date, e.g. 2024-06-03")
        raw_sources = data["sources"]
        if not isinstance(raw_sources, dict) or not raw_sources:
            self.fail("sources", "at least one source: {SHORT-ID: full citation}")
        for key, citation in raw_sources.items():
            self.sources[str(key)] = self.text(citation, f"sources.{key}")
        thresholds = []
        for i, item in enumerate(self.items(data.get("thresholds") or [], "thresholds")):
            threshold = self.threshold(item, f"thresholds[{i}]")
            self.thresholds[threshold.id] = threshold
            thresholds.append(threshold)
        rules: list[Rule] = []
        for section, kind in _SECTIONS:
            for i, item in enumerate(self.items(data.get(section) or [], section)):
                rules.append(self.rule(item, f"{section}[{i}]", kind, [r.id for r in rules]))
        if not rules:
            self.fail(
                "eligibility",
                "at least one rule in risk_groups, eligibility, next_steps or review_flags",
            )
        schedule = (
            None if data.get("schedule") is None else self.schedule(data["schedule"], "schedule")
        )
        return Protocol(
            id=protocol_id,
            title=self.text(data["title"], "title"),
            version=str(version),
            effective_date=effective_date,
            setting=self.text(data["setting"], "setting"),
            sources=tuple(Source(k, v) for k, v in self.sources.items()),
            thresholds=tuple(thresholds),
            rules=tuple(rules),
            schedule=schedule,
            unconfirmed=self.texts(data.get("unconfirmed"), "unconfirmed"),
            notes=self.texts(data.get("notes"), "notes"),
            origin=self.origin,
        )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def load_protocol_text(text: str, origin: str = "<text>") -> Protocol:
    """Parse and validate one YAML protocol document.

    Parameters
    ----------
    text
        The YAML text.
    origin
        How to name the document in errors (a file name).

    Raises
    ------
    ProtocolError
        Naming ``origin``, the key path and what was expected.
    """
    return _Reader(origin).protocol(_parse_yaml(text, origin))


def load_protocol_file(path: str | Path) -> Protocol:
    """Read and validate a protocol file (an adapter: the one place that opens it)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            "protocol file", str(file), "a readable UTF-8 YAML file", str(error)
        ) from None
    return load_protocol_text(text, file.name)


def _data_dir() -> resources.abc.Traversable:
    return resources.files("mrdtrack.protocols").joinpath("data")


@cache
def shipped_protocol_ids() -> tuple[str, ...]:
    """The ids of the protocols shipped with mrdtrack, sorted."""
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in _data_dir().iterdir()
            if entry.name.endswith(".yaml")
        )
    )


@cache
def load_shipped_protocol(protocol_id: str) -> Protocol:
    """Load one shipped protocol by id; unknown ids raise NotFoundError listing the known."""
    known = shipped_protocol_ids()
    if protocol_id not in known:
        raise NotFoundError("protocol", protocol_id, known)
    name = f"{protocol_id}.yaml"
    protocol = load_protocol_text(_data_dir().joinpath(name).read_text(encoding="utf-8"), name)
    if protocol.id != protocol_id:
        raise ProtocolError(name, "id", f"{protocol_id!r}, the file's name")
    return protocol


def load_shipped_protocols() -> tuple[Protocol, ...]:
    """Every shipped protocol, in id order."""
    return tuple(load_shipped_protocol(pid) for pid in shipped_protocol_ids())


def load_timeline_text(
    text: str, origin: str = "<text>", *, json_text: bool = False
) -> PatientTimeline:
    """Parse a YAML (or JSON) patient timeline; errors name ``origin`` and the key.

    Raises
    ------
    ImportValidationError
        With ``location`` = ``origin`` and ``field`` = the key (``mrd.EOI``, ``weight_kg``).
    """
    if json_text:
        try:
            data: object = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportValidationError(
                "document",
                None,
                f"valid JSON ({error.msg})",
                location=f"{origin} line {error.lineno}",
            ) from None
    else:
        try:
            data = _parse_yaml(text, origin)
        except ProtocolError as error:
            raise ImportValidationError(
                "document", None, error.expected, location=f"{origin} {error.key}"
            ) from None
    if not isinstance(data, Mapping):
        raise ImportValidationError("document", None, "a mapping of timeline keys", location=origin)
    try:
        return timeline_from_mapping(data)
    except InputError as error:
        raise ImportValidationError(
            error.field, error.value, error.expected, location=origin, hint=error.hint
        ) from None


def load_timeline_file(path: str | Path) -> PatientTimeline:
    """Read a patient timeline file (``.yaml``, ``.yml`` or ``.json``)."""
    file = Path(path)
    if file.suffix.lower() not in {".yaml", ".yml", ".json"}:
        raise InputError("--timeline", str(file), "a .yaml, .yml or .json file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError("--timeline", str(file), "a readable UTF-8 file", str(error)) from None
    return load_timeline_text(text, file.name, json_text=file.suffix.lower() == ".json")
