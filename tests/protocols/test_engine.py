"""Protocol evaluation: domain-rules vectors TH-01 … TH-08, §12 corrections, Kleene logic."""

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pytest

from mrdtrack.errors import ProtocolError
from mrdtrack.protocols import (
    ActionKind,
    EligibilityVerdict,
    ProtocolEvaluation,
    RuleStatus,
    evaluate_protocol,
    load_protocol_text,
    load_shipped_protocol,
    timeline_from_mapping,
)

MET, NOT_MET, NE = RuleStatus.MET, RuleStatus.NOT_MET, RuleStatus.NOT_EVALUABLE


def evaluate(protocol_id: str, patient: dict[str, Any]) -> ProtocolEvaluation:
    return evaluate_protocol(load_shipped_protocol(protocol_id), timeline_from_mapping(patient))


def statuses(evaluation: ProtocolEvaluation) -> dict[str, RuleStatus]:
    return {r.rule.id: r.status for r in evaluation.rules}


@dataclass(frozen=True)
class Vector:
    protocol: str
    patient: dict[str, Any]
    rules: dict[str, RuleStatus]
    verdict: EligibilityVerdict
    risk_groups: tuple[str, ...] = ()
    boundary: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = field(default=())


# Domain rules §5.2 test vectors. Where a vector leaves out a fact the rule needs (CD19
# status for the label indications), the input states it: without it the verdict is
# "not evaluable", which test_missing_cd19_is_not_evaluable pins.
VECTORS = [
    pytest.param(
        Vector(
            "blincyto-us-mrd",
            {"disease_status": "CR1", "cd19_positive": True, "mrd": {"PRE_BLIN": "0.10%"}},
            {"TH-FDA-MRD": MET},
            EligibilityVerdict.ELIGIBLE,
            boundary=("FDA-MRD",),
        ),
        id="TH-01",
    ),
    pytest.param(
        Vector(
            "blincyto-us-mrd",
            {"disease_status": "CR1", "cd19_positive": True, "mrd": {"EOI": "0.09%"}},
            {"TH-FDA-MRD": NOT_MET},
            EligibilityVerdict.NOT_ELIGIBLE,
        ),
        id="TH-02-label",
    ),
    pytest.param(
        Vector(
            "tpog-mrd",
            {"disease_status": "CR1", "mrd": {"EOI": "0.09%"}},
            {"TH-TPOG-EOI": MET},
            EligibilityVerdict.ELIGIBLE,
            risk_groups=("MRD high risk",),
        ),
        id="TH-02-tpog",
    ),
    pytest.param(
        Vector(
            "blincyto-us-mrd",
            {"disease_status": "CR3", "cd19_positive": True, "mrd": {"PRE_BLIN": "0.5%"}},
            {"TH-FDA-MRD": NOT_MET},
            EligibilityVerdict.NOT_ELIGIBLE,
        ),
        id="TH-03-label",
    ),
    pytest.param(
        Vector(
            "blincyto-us-rr",
            {"disease_status": "CR3", "cd19_positive": True, "mrd": {"PRE_BLIN": "0.5%"}},
            {"TH-FDA-RR": NOT_MET},
            EligibilityVerdict.NOT_ELIGIBLE,
        ),
        id="TH-03-rr-only-if-relapsed",
    ),
    pytest.param(
        Vector(
            "tpog-mrd",
            {"mrd": {"EOI": "0.01%"}},
            {"TH-TPOG-EOI": MET},
            EligibilityVerdict.ELIGIBLE,
            risk_groups=("MRD high risk",),
            boundary=("TPOG-EOI",),
        ),
        id="TH-04",
    ),
    pytest.param(
        Vector(
            "tpog-mrd",
            {"mrd": {"EOI": "0.05%", "EOC": "0.01%"}},
            {"TH-TPOG-EOI": MET, "TH-TPOG-EOC": NOT_MET},
            EligibilityVerdict.ELIGIBLE,
            risk_groups=("MRD high risk",),
            boundary=("TPOG-EOC",),
        ),
        id="TH-05",
    ),
    pytest.param(
        Vector(
            "graall-2014b",
            {"mrd": {"MRD1": 5.0e-4, "MRD2": 2.0e-4}},
            {"TH-GRAALL-HR": MET, "TH-GRAALL-VHR": MET, "GRAALL-VHR-BRIDGE": MET},
            EligibilityVerdict.NOT_EVALUABLE,
            risk_groups=("high risk", "very high risk"),
            next_steps=("GRAALL-VHR-BRIDGE",),
        ),
        id="TH-06",
    ),
    pytest.param(
        Vector(
            "graall-2014b",
            {"mrd": {"MRD1": 2.0e-3, "MRD2": "nd"}},
            {"TH-GRAALL-HR": MET, "TH-GRAALL-VHR": MET, "GRAALL-VHR-BRIDGE": MET},
            EligibilityVerdict.NOT_EVALUABLE,
            risk_groups=("high risk", "very high risk"),
            next_steps=("GRAALL-VHR-BRIDGE",),
        ),
        id="TH-07",
    ),
    pytest.param(
        Vector(
            "blincyto-us-consolidation",
            {
                "ph_positive": False,
                "cd19_positive": True,
                "phase": "consolidation",
                "age_months": 2,
                "mrd": {"EOC": "nd@1e-5"},
            },
            {"TH-FDA-CONS": MET},
            EligibilityVerdict.ELIGIBLE,
        ),
        id="TH-08",
    ),
]


@pytest.mark.parametrize("vector", VECTORS)
def test_domain_rule_vectors(vector: Vector) -> None:
    evaluation = evaluate(vector.protocol, vector.patient)
    found = statuses(evaluation)
    for rule_id, status in vector.rules.items():
        assert found[rule_id] is status, (rule_id, evaluation.result(rule_id).comparisons)
    assert evaluation.eligibility.verdict is vector.verdict
    assert tuple(g for _, g, _ in evaluation.risk_groups) == vector.risk_groups
    assert tuple(f.threshold_id for f in evaluation.boundary_flags) == vector.boundary
    assert tuple(s.rule_id for s in evaluation.next_steps) == vector.next_steps


def test_th05_boundary_is_flagged_not_triggered() -> None:
    evaluation = evaluate("tpog-mrd", {"mrd": {"EOC": 1.0e-4}})
    assert evaluation.result("TH-TPOG-EOC").status is NOT_MET
    assert evaluation.next_steps == ()
    (flag,) = evaluation.boundary_flags
    assert flag.threshold_id == "TPOG-EOC" and flag.timepoint == "EOC"
    assert flag.operator == ">" and not flag.met
    assert flag.rule_ids == ("TH-TPOG-EOC",)
    assert "clinician review" in flag.message


def test_th04_boundary_meets_ge_and_is_flagged() -> None:
    evaluation = evaluate("tpog-mrd", {"mrd": {"EOI": 1.0e-4}})
    (flag,) = evaluation.boundary_flags
    assert flag.met and flag.operator == ">="
    assert evaluation.eligibility.rule_ids == ("TH-TPOG-EOI",)


def test_tpog_eoc_above_threshold_gives_next_steps_with_citation() -> None:
    evaluation = evaluate("tpog-mrd", {"mrd": {"EOC": 2.0e-4}})
    (step,) = evaluation.next_steps
    assert step.rule_id == "TH-TPOG-EOC"
    assert [a.kind for a in step.actions] == [
        ActionKind.BLINATUMOMAB,
        ActionKind.CHEMOTHERAPY_REINTENSIFICATION,
        ActionKind.HCT,
    ]
    assert "10.3390/hematolrep16020035" in step.citation.text
    assert "Discussion" in step.citation.where


# -- domain rules §12: errors in the seed papers that must not become rules ---------------


@pytest.mark.parametrize(
    ("mrd1", "mrd2", "vhr"),
    [
        pytest.param(5.0e-4, 5.0e-5, NOT_MET, id="low-MRD-is-not-VHR"),
        pytest.param(1.0e-3, 5.0e-5, MET, id="MRD1-at-1e-3-is-VHR"),
        pytest.param(9.0e-4, 1.0e-4, MET, id="MRD2-at-1e-4-is-VHR"),
        pytest.param(2.0e-5, 1.0e-5, NOT_MET, id="SEED-2-inverted-reading-refused"),
    ],
)
def test_graall_vhr_direction_is_corrected(mrd1: float, mrd2: float, vhr: RuleStatus) -> None:
    # SEED-2 prints VHR as "MRD < 0.1 % at 6 weeks or < 0.01 % at 12 weeks"; the trial
    # defines it as MRD1 ≥ 10⁻³ and/or MRD2 ≥ 10⁻⁴ (§12 item 1).
    evaluation = evaluate("graall-2014b", {"mrd": {"MRD1": mrd1, "MRD2": mrd2}})
    assert evaluation.result("TH-GRAALL-VHR").status is vhr


def test_graall_thresholds_match_the_catalogue() -> None:
    protocol = load_shipped_protocol("graall-2014b")
    for threshold_id in ("GRAALL-MRD1-VHR", "GRAALL-MRD2-VHR"):
        assert protocol.threshold(threshold_id).threshold.operator.value == ">="


def test_fda_mrd_is_ge_not_gt() -> None:
    # SEED-1 quotes the label as "MRD > 0.1 %"; the label says ≥ (§12 item 3).
    protocol = load_shipped_protocol("blincyto-us-mrd")
    assert protocol.threshold("FDA-MRD").threshold.operator.value == ">="
    evaluation = evaluate(
        "blincyto-us-mrd",
        {"disease_status": "CR2", "cd19_positive": True, "mrd": {"PRE_BLIN": 1.0e-3}},
    )
    assert evaluation.eligibility.verdict is EligibilityVerdict.ELIGIBLE


def test_a_gt_label_document_is_refused_at_load() -> None:
    source = resources.files("mrdtrack.protocols").joinpath("data", "blincyto-us-mrd.yaml")
    bad = source.read_text(encoding="utf-8").replace('op: ">="', 'op: ">"', 1)
    with pytest.raises(ProtocolError, match="catalogue threshold FDA-MRD-1E-3"):
        load_protocol_text(bad, "blincyto-us-mrd.yaml")


def test_tpog_weight_45_is_flagged_for_the_label_dose_rule() -> None:
    # §12 item 5: SEED-1's flat 15 µg/m²/day is not the label rule at ≥ 45 kg.
    evaluation = evaluate("tpog-mrd", {"mrd": {"EOI": 1e-3}, "weight_kg": 45})
    (flag,) = evaluation.review_flags
    assert flag.rule_id == "TPOG-DOSE-GE45KG"
    assert "28 µg/day" in flag.message


def test_e1910_correction_travels_with_the_rule() -> None:
    # §12 item 2: E1910 showed better OS with blinatumomab.
    rule = load_shipped_protocol("seed2-pathways").rule("SEED2-F2-MRD-NEGATIVE")
    assert rule.note is not None and "better survival" in rule.note


# -- missing data, sensitivity and Kleene logic --------------------------------------------


def test_missing_cd19_is_not_evaluable() -> None:
    evaluation = evaluate("blincyto-us-mrd", {"disease_status": "CR1", "mrd": {"EOI": 0.01}})
    assert evaluation.eligibility.verdict is EligibilityVerdict.NOT_EVALUABLE
    assert evaluation.status == "not_evaluable"
    assert evaluation.missing_data == ("cd19_positive",)


def test_missing_mrd_is_not_evaluable_never_false() -> None:
    evaluation = evaluate("tpog-mrd", {"disease_status": "CR1"})
    result = evaluation.result("TH-TPOG-EOI")
    assert result.status is NE
    assert result.missing == ("mrd.EOI",)


def test_a_decided_branch_settles_any() -> None:
    # KMT2A rearranged decides GRAALL high risk even without MRD.
    evaluation = evaluate("graall-2014b", {"kmt2a_rearranged": True})
    assert evaluation.result("TH-GRAALL-HR").status is MET
    assert evaluation.result("TH-GRAALL-VHR").status is NE
    assert evaluation.result("GRAALL-VHR-BRIDGE").status is NE


def test_a_failed_item_settles_all() -> None:
    # Ph-positive fails the consolidation indication whatever else is unknown.
    evaluation = evaluate("blincyto-us-consolidation", {"ph_positive": True})
    assert evaluation.eligibility.verdict is EligibilityVerdict.NOT_ELIGIBLE


@pytest.mark.parametrize(
    ("mrd2", "status"),
    [
        pytest.param("nd@1e-5", NOT_MET, id="sensitive-negative-decides"),
        pytest.param("nd@1e-4", NOT_MET, id="sensitivity-equal-to-limit-decides"),
        pytest.param("nd@1e-3", NE, id="insensitive-negative-cannot"),
        pytest.param("nd", NE, id="unknown-sensitivity-cannot"),
        pytest.param("pnq@5e-5", NOT_MET, id="pnq-below-limit"),
        pytest.param("pnq@1e-3", NE, id="pnq-above-limit"),
        pytest.param("ne", NE, id="sample-not-evaluable"),
    ],
)
def test_negative_results_and_sensitivity(mrd2: str, status: RuleStatus) -> None:
    # MRD1 below both VHR limits, so MRD2 alone decides VHR.
    evaluation = evaluate("graall-2014b", {"mrd": {"MRD1": 5e-5, "MRD2": mrd2}})
    assert evaluation.result("TH-GRAALL-VHR").status is status


def test_below_threshold_met_by_a_sensitive_negative() -> None:
    # "<" thresholds (MRD-negative) are met by a negative with sufficient sensitivity.
    patient = {"disease_status": "CR1", "ph_positive": False, "mrd": {"EOC": "nd@1e-5"}}
    evaluation = evaluate("seed2-pathways", patient)
    assert evaluation.result("SEED2-F2-MRD-NEGATIVE").status is MET


def test_first_available_timepoint_is_used() -> None:
    evaluation = evaluate(
        "blincyto-us-mrd",
        {"disease_status": "CR1", "cd19_positive": True, "mrd": {"EOI": 0.02, "PRE_BLIN": 5e-4}},
    )
    (comparison,) = [
        c for c in evaluation.result("TH-FDA-MRD").comparisons if c.threshold_id == "FDA-MRD"
    ]
    assert comparison.timepoint == "PRE_BLIN"
    assert comparison.status is NOT_MET


def test_not_condition() -> None:
    text = """
id: neg
title: negation
version: "1"
effective_date: 2024-01-01
setting: test
sources: {S: source}
eligibility:
  - id: NOT-PH
    title: not Ph-positive
    when: {not: {field: ph_positive, op: "==", value: true}}
    eligible_for: x
    citation: {source: S, where: here, tag: D}
"""
    protocol = load_protocol_text(text, "neg.yaml")
    for ph, status in ((True, NOT_MET), (False, MET), (None, NE)):
        evaluation = evaluate_protocol(protocol, timeline_from_mapping({"ph_positive": ph}))
        assert evaluation.result("NOT-PH").status is status


# -- SEED-2 pathways ------------------------------------------------------------------------

PATHWAYS = [
    pytest.param(
        {
            "prior_therapy": ["blinatumomab"],
            "blinatumomab_response": "response",
            "disease_status": "CR2",
            "mrd": {"POST_C1": 3e-4},
        },
        "SEED2-F1-RESPONSE",
        {ActionKind.HCT, ActionKind.CAR_T},
        id="fig1-response-hct-or-cart",
    ),
    pytest.param(
        {
            "prior_therapy": ["blinatumomab"],
            "blinatumomab_response": "response",
            "disease_status": "relapsed",
            "cd19_positive": True,
        },
        "SEED2-F1-RELAPSE",
        {ActionKind.BLINATUMOMAB_RETREATMENT, ActionKind.CAR_T},
        id="fig1-relapse-retreat-or-cart",
    ),
    pytest.param(
        {
            "prior_therapy": ["blinatumomab"],
            "blinatumomab_response": "no_response",
            "disease_status": "refractory",
            "cd19_positive": True,
        },
        "SEED2-F1-REFRACTORY",
        {ActionKind.CAR_T},
        id="fig1-refractory-cart",
    ),
    pytest.param(
        {"prior_therapy": ["chemotherapy", "hct"], "mrd": {"POST_HCT": 1e-3}},
        "SEED2-POST-HCT-MRD",
        {ActionKind.DLI, ActionKind.BLINATUMOMAB},
        id="post-hct-dli-or-blinatumomab",
    ),
    pytest.param(
        {"disease_status": "CR1", "prior_therapy": ["chemotherapy"], "mrd": {"EOC": 2e-3}},
        "SEED2-F2-MRD-POSITIVE",
        {ActionKind.BLINATUMOMAB, ActionKind.HCT},
        id="fig2-mrd-positive",
    ),
]


@pytest.mark.parametrize(("patient", "rule_id", "actions"), PATHWAYS)
def test_seed2_pathways(patient: dict[str, Any], rule_id: str, actions: set[ActionKind]) -> None:
    evaluation = evaluate("seed2-pathways", patient)
    steps = {s.rule_id: s for s in evaluation.next_steps}
    assert rule_id in steps
    assert {a.kind for a in steps[rule_id].actions} == actions
    assert "MJHID.2024.070" in steps[rule_id].citation.text
    assert evaluation.eligibility.verdict is EligibilityVerdict.NOT_APPLICABLE


def test_cd19_negative_relapse_gets_no_cd19_directed_step() -> None:
    patient = {
        "prior_therapy": ["blinatumomab"],
        "blinatumomab_response": "response",
        "disease_status": "relapsed",
        "cd19_positive": False,
    }
    evaluation = evaluate("seed2-pathways", patient)
    assert evaluation.result("SEED2-F1-RELAPSE").status is NOT_MET


def test_evaluation_to_dict_is_json_ready() -> None:
    evaluation = evaluate("tpog-mrd", {"disease_status": "CR1", "mrd": {"EOI": 5e-4}})
    payload = json.loads(json.dumps(evaluation.to_dict(), allow_nan=False))
    assert payload["protocol"]["label"] == "tpog-mrd@1"
    (rule,) = [r for r in payload["rules"] if r["rule_id"] == "TH-TPOG-EOI"]
    assert rule["status"] == "met"
    assert rule["comparisons"][0]["observed"] == 5e-4
    assert rule["comparisons"][0]["expected"] == 1e-4
    assert payload["inputs"]["mrd"]["EOI"]["mrd_fraction"] == 5e-4
