"""Invariants of the engine (Hypothesis, fixed seeds)."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.protocols import (
    RuleStatus,
    evaluate_protocol,
    load_shipped_protocol,
    load_shipped_protocols,
    timeline_from_mapping,
)

MRD_VALUES = st.one_of(
    st.floats(min_value=1e-7, max_value=1.0, allow_nan=False, exclude_min=False),
    st.sampled_from([1e-4, 1e-3, "nd", "nd@1e-5", "nd@1e-3", "pnq@1e-4", "ne"]),
)
TIMEPOINTS = ["EOI", "EOC", "MRD1", "MRD2", "PRE_BLIN", "POST_C1", "POST_C2", "POST_HCT"]

PATIENTS = st.fixed_dictionaries(
    {},
    optional={
        "disease_status": st.sampled_from(["CR1", "CR2", "CR3", "CR", "relapsed", "refractory"]),
        "ph_positive": st.booleans(),
        "cd19_positive": st.booleans(),
        "kmt2a_rearranged": st.booleans(),
        "ikzf1_intragenic_deletion": st.booleans(),
        "age_months": st.floats(min_value=0, max_value=900),
        "weight_kg": st.floats(min_value=2, max_value=150),
        "phase": st.sampled_from(["induction", "consolidation", "maintenance", "post_hct"]),
        "prior_therapy": st.lists(
            st.sampled_from(["chemotherapy", "blinatumomab", "hct", "car_t", "dli"]),
            unique=True,
        ),
        "blinatumomab_response": st.sampled_from(["response", "no_response"]),
        "mrd": st.dictionaries(st.sampled_from(TIMEPOINTS), MRD_VALUES, max_size=5),
    },
)
PROTOCOLS = load_shipped_protocols()


@settings(derandomize=True, max_examples=150, deadline=None)
@given(patient=PATIENTS, dropped=st.sampled_from([None, *TIMEPOINTS, "cd19_positive", "phase"]))
def test_losing_data_never_flips_a_decision(patient: dict[str, Any], dropped: str | None) -> None:
    """Less data can turn a decided rule into 'not evaluable', never into its opposite."""
    fewer = dict(patient)
    if dropped in TIMEPOINTS:
        fewer["mrd"] = {k: v for k, v in patient.get("mrd", {}).items() if k != dropped}
    elif dropped is not None:
        fewer.pop(dropped, None)
    full, partial = timeline_from_mapping(patient), timeline_from_mapping(fewer)
    for protocol in PROTOCOLS:
        before = {r.rule.id: r.status for r in evaluate_protocol(protocol, full).rules}
        after = {r.rule.id: r.status for r in evaluate_protocol(protocol, partial).rules}
        for rule_id, status in after.items():
            assert status in (before[rule_id], RuleStatus.NOT_EVALUABLE), rule_id


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    low=st.floats(min_value=1e-7, max_value=1.0),
    high=st.floats(min_value=1e-7, max_value=1.0),
)
def test_ge_thresholds_are_monotone_in_mrd(low: float, high: float) -> None:
    """If MRD x meets a '≥' rule, every MRD above x meets it too (TPOG EOI, GRAALL VHR)."""
    low, high = sorted((low, high))
    tpog = load_shipped_protocol("tpog-mrd")
    graall = load_shipped_protocol("graall-2014b")
    for protocol, rule_id, tp in ((tpog, "TH-TPOG-EOI", "EOI"), (graall, "TH-GRAALL-VHR", "MRD1")):
        at_low = evaluate_protocol(protocol, timeline_from_mapping({"mrd": {tp: low}}))
        at_high = evaluate_protocol(protocol, timeline_from_mapping({"mrd": {tp: high}}))
        if at_low.result(rule_id).status is RuleStatus.MET:
            assert at_high.result(rule_id).status is RuleStatus.MET


@settings(derandomize=True, max_examples=100, deadline=None)
@given(patient=PATIENTS)
def test_every_result_is_cited_and_every_unknown_is_explained(patient: dict[str, Any]) -> None:
    timeline = timeline_from_mapping(patient)
    for protocol in PROTOCOLS:
        evaluation = evaluate_protocol(protocol, timeline)
        for step in evaluation.next_steps:
            assert step.citation.text
        for result in evaluation.rules:
            if result.status is RuleStatus.NOT_EVALUABLE:
                assert result.missing, result.rule.id
