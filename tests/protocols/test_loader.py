"""Loading protocols: every shipped one loads; every malformed one names file and key."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mrdtrack.errors import ImportValidationError, InputError, NotFoundError, ProtocolError
from mrdtrack.mrd.thresholds import THRESHOLDS, Operator
from mrdtrack.protocols import (
    RuleKind,
    condition_to_dict,
    load_protocol_file,
    load_protocol_text,
    load_shipped_protocol,
    load_shipped_protocols,
    load_timeline_file,
    load_timeline_text,
    shipped_protocol_ids,
)

SHIPPED = (
    "blincyto-us-consolidation",
    "blincyto-us-mrd",
    "blincyto-us-rr",
    "graall-2014b",
    "seed2-pathways",
    "tpog-mrd",
)

MINIMAL: dict[str, Any] = {
    "id": "mini",
    "title": "Minimal protocol",
    "version": "1",
    "effective_date": "2024-06-03",
    "setting": "test",
    "sources": {"SEED-1": "Wang Y-L et al. Hematol Rep 2024;16:347-353"},
    "thresholds": [
        {
            "id": "EOI-HR",
            "timepoints": ["EOI"],
            "op": ">=",
            "fraction": 1.0e-4,
            "description": "EOI MRD ≥ 0.01 %",
            "citation": {"source": "SEED-1", "where": "Methods", "tag": "S"},
        }
    ],
    "risk_groups": [
        {
            "id": "HR",
            "title": "high risk",
            "when": {"threshold": "EOI-HR"},
            "risk_group": "high risk",
            "citation": {"source": "SEED-1", "where": "Methods", "tag": "S"},
        }
    ],
    "eligibility": [
        {
            "id": "ELIG",
            "title": "eligible",
            "when": {
                "all": [
                    {"rule": "HR"},
                    {"field": "cd19_positive", "op": "==", "value": True},
                ]
            },
            "eligible_for": "blinatumomab",
            "citation": {"source": "SEED-1", "where": "Methods", "tag": "S"},
        }
    ],
}


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def test_shipped_ids() -> None:
    assert shipped_protocol_ids() == SHIPPED


@pytest.mark.parametrize("protocol_id", SHIPPED)
def test_every_shipped_protocol_loads_and_cites_every_rule(protocol_id: str) -> None:
    protocol = load_shipped_protocol(protocol_id)
    assert protocol.id == protocol_id
    assert protocol.rules
    source_ids = {s.id for s in protocol.sources}
    for rule in protocol.rules:
        assert rule.citation.source_id in source_ids
        assert rule.citation.where
        assert rule.citation.text.startswith(rule.citation.source)
    for threshold in protocol.thresholds:
        assert threshold.threshold.operator in Operator
        if threshold.catalogue_id:
            entry = THRESHOLDS[threshold.catalogue_id]
            assert entry.operator is threshold.threshold.operator
            assert entry.limit_fraction == threshold.threshold.limit_fraction
    if protocol.schedule is not None:
        assert protocol.schedule.citation.source_id in source_ids
    # The document round-trips to the same mapping through show --json's form.
    assert json.loads(json.dumps(protocol.to_dict()))["label"] == protocol.label


def test_load_all() -> None:
    assert tuple(p.id for p in load_shipped_protocols()) == SHIPPED


def test_unknown_protocol_lists_known_ids() -> None:
    with pytest.raises(NotFoundError) as caught:
        load_shipped_protocol("tpog")
    assert caught.value.known == SHIPPED
    assert "tpog-mrd" in str(caught.value)


def test_minimal_document_loads() -> None:
    protocol = load_protocol_text(dump(MINIMAL), "mini.yaml")
    assert protocol.label == "mini@1"
    assert [r.kind for r in protocol.rules] == [RuleKind.RISK_GROUP, RuleKind.ELIGIBILITY]
    assert condition_to_dict(protocol.rule("ELIG").when) == MINIMAL["eligibility"][0]["when"]


def mutate(path: str, value: Any) -> dict[str, Any]:
    """A copy of MINIMAL with the value at a dotted path (list indexes as [i]) replaced."""
    document = copy.deepcopy(MINIMAL)
    keys = path.replace("[", ".").replace("]", "").split(".")
    target: Any = document
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return document


MALFORMED = [
    pytest.param(mutate("colour", "red"), "colour", "one of the keys", id="unknown-top-key"),
    pytest.param(mutate("title", KeyError), "title", "required", id="missing-title"),
    pytest.param(
        mutate("eligibility[0].when.all[1].field", "cd20_positive"),
        "eligibility[0].when.all[1].field",
        "one of the timeline fields",
        id="unknown-field",
    ),
    pytest.param(
        mutate("eligibility[0].when.all[1].op", "=>"),
        "eligibility[0].when.all[1].op",
        "one of: ==, !=",
        id="bad-operator",
    ),
    pytest.param(
        mutate("eligibility[0].when.all[1].value", "yes"),
        "eligibility[0].when.all[1].value",
        "true or false",
        id="wrong-value-type",
    ),
    pytest.param(
        mutate("thresholds[0].op", "≥"),
        "thresholds[0].op",
        "explicit operator",
        id="bad-threshold-operator",
    ),
    pytest.param(
        mutate("thresholds[0].fraction", "1e-4"),
        "thresholds[0].fraction",
        "write 1.0e-4",
        id="yaml-1e-4-is-text",
    ),
    pytest.param(
        mutate("thresholds[0].fraction", 5.0),
        "thresholds[0].fraction",
        "fraction in (0, 1]",
        id="percent-as-fraction",
    ),
    pytest.param(
        mutate("thresholds[0].timepoints", ["WEEK5"]),
        "thresholds[0].timepoints[0]",
        "time-point code",
        id="unknown-timepoint",
    ),
    pytest.param(
        mutate("eligibility[0].citation", KeyError),
        "eligibility[0].citation",
        "every rule cites its source",
        id="missing-citation",
    ),
    pytest.param(
        mutate("thresholds[0].citation.source", "SEED-9"),
        "thresholds[0].citation.source",
        "one of the protocol's sources",
        id="unknown-source",
    ),
    pytest.param(
        mutate("thresholds[0].citation.tag", "X"),
        "thresholds[0].citation.tag",
        "S, P, D, U",
        id="bad-tag",
    ),
    pytest.param(
        mutate("eligibility[0].id", "HR"),
        "eligibility[0].id",
        "HR is already risk_groups[0]",
        id="duplicate-rule-id",
    ),
    pytest.param(
        mutate("eligibility[0].when.all[0]", {"threshold": "EOC-HR"}),
        "eligibility[0].when.all[0].threshold",
        "one of the thresholds: EOI-HR",
        id="unknown-threshold",
    ),
    pytest.param(
        mutate("risk_groups[0].when", {"rule": "ELIG"}),
        "risk_groups[0].when.rule",
        "defined earlier",
        id="forward-rule-reference",
    ),
    pytest.param(
        mutate("eligibility[0].when", {"maybe": []}),
        "eligibility[0].when.maybe",
        "condition forms",
        id="unknown-condition-form",
    ),
    pytest.param(
        mutate("eligibility[0].when", {"all": []}),
        "eligibility[0].when.all",
        "non-empty list",
        id="empty-all",
    ),
    pytest.param(
        mutate("eligibility[0].eligible_for", KeyError),
        "eligibility[0].eligible_for",
        "required",
        id="eligibility-without-therapy",
    ),
    pytest.param(
        mutate("thresholds[0].catalogue", "TPOG-EOC"),
        "thresholds[0]",
        "catalogue threshold TPOG-EOC",
        id="disagrees-with-catalogue",
    ),
    pytest.param(
        mutate("effective_date", "June 2024"), "effective_date", "ISO date", id="bad-date"
    ),
    pytest.param(mutate("id", "Mini Protocol"), "id", "lower-case id", id="bad-id"),
    pytest.param(mutate("version", 1.1), "version", "in quotes", id="float-version"),
]


@pytest.mark.parametrize(("document", "key", "expected"), MALFORMED)
def test_malformed_protocol_names_file_and_key(
    document: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(dump(document), "bad.yaml")
    error = caught.value
    assert error.source == "bad.yaml"
    assert error.key == key
    assert expected in error.expected
    assert str(error).startswith(f"bad.yaml: {key}: expected ")


def test_next_step_action_is_validated() -> None:
    document = copy.deepcopy(MINIMAL)
    document["next_steps"] = [
        {
            "id": "NEXT",
            "title": "next",
            "when": {"rule": "ELIG"},
            "actions": [{"action": "surgery", "strength": "option"}],
            "citation": {"source": "SEED-1", "where": "Discussion", "tag": "S"},
        }
    ]
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(dump(document), "bad.yaml")
    assert caught.value.key == "next_steps[0].actions[0].action"


def test_schedule_is_validated() -> None:
    document = copy.deepcopy(MINIMAL)
    document["schedule"] = {
        "id": "SCHED",
        "agent": "blinatumomab",
        "indication": "maintenance",
        "dose": {"basis": "label", "profile": "us-uspi-2024", "reference": "label"},
        "infusion_days": 28,
        "treatment_free_days": 14,
        "citation": {"source": "SEED-1", "where": "Methods", "tag": "S"},
    }
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(dump(document), "bad.yaml")
    assert caught.value.key == "schedule.indication"
    document["schedule"]["indication"] = "mrd"
    document["schedule"]["cycles"] = 5
    document["schedule"]["max_cycles"] = 4
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(dump(document), "bad.yaml")
    assert caught.value.key == "schedule.cycles"


def test_duplicate_yaml_key_is_refused() -> None:
    text = dump(MINIMAL) + "title: again\n"
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(text, "dup.yaml")
    assert caught.value.source == "dup.yaml"
    assert caught.value.key.endswith(": title")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text("id: x\ntitle: [unclosed\n", "broken.yaml")
    assert caught.value.source == "broken.yaml"
    assert caught.value.key.startswith("line ")


def test_document_must_be_a_mapping() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text("- just\n- a list\n", "list.yaml")
    assert caught.value.key == "document"


def test_load_protocol_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(dump(MINIMAL), encoding="utf-8")
    assert load_protocol_file(path).id == "mini"
    with pytest.raises(InputError):
        load_protocol_file(tmp_path / "absent.yaml")


def test_timeline_file_yaml_and_json(tmp_path: Path) -> None:
    data = {"disease_status": "CR1", "mrd": {"EOI": 0.0005}, "weight_kg": 30}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "p.json").write_text(json.dumps(data), encoding="utf-8")
    for name in ("p.yaml", "p.json"):
        timeline = load_timeline_file(tmp_path / name)
        assert timeline.remission_number == 1
        assert timeline.weight_kg == 30


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param("weight_kg: heavy\n", "weight_kg", id="value"),
        pytest.param("mrd:\n  EOI: lots\n", "mrd.EOI", id="mrd"),
        pytest.param("mrd:\n  WEEK5: 0.1\n", "mrd time point", id="timepoint"),
        pytest.param("colour: red\n", "colour", id="unknown-key"),
        pytest.param("weight_kg: 30\nweight_kg: 31\n", "document", id="duplicate-key"),
        pytest.param("- 1\n", "document", id="not-a-mapping"),
    ],
)
def test_malformed_timeline_names_file_and_key(text: str, field: str) -> None:
    with pytest.raises(ImportValidationError) as caught:
        load_timeline_text(text, "patient.yaml")
    assert caught.value.location.startswith("patient.yaml")
    assert caught.value.field == field
    assert str(caught.value).startswith("patient.yaml")


def test_malformed_json_timeline() -> None:
    with pytest.raises(ImportValidationError) as caught:
        load_timeline_text("{", "patient.json", json_text=True)
    assert caught.value.location.startswith("patient.json")


def test_timeline_file_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--timeline"):
        load_timeline_file(tmp_path / "patient.txt")


def test_every_shipped_protocol_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "protocols.md").read_text("utf-8")
    for protocol in load_shipped_protocols():
        assert f"| `{protocol.id}` |" in docs, protocol.id
        if protocol.unconfirmed:
            # Each protocol with [U] items has rows in the unconfirmed table.
            assert docs.count(f"| `{protocol.id}` |") >= 2, protocol.id
