"""Invariants that hold for every method: not-detected never becomes a stored 0."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.mrd import (
    FLOW_PROFILES,
    MrdMethod,
    MrdResult,
    MrdStatus,
    flow_mrd,
    ngs_mrd,
    qpcr_mrd,
)


def check(result: MrdResult) -> None:
    assert result.mrd_fraction is None or result.mrd_fraction > 0
    if not result.detected:
        assert result.status is not MrdStatus.POSITIVE
    if result.status is MrdStatus.NEGATIVE and not result.detected:
        assert result.mrd_fraction is None
    payload = result.to_dict()
    assert payload["mrd_fraction"] != 0 and payload["mrd_percent"] != 0


@settings(derandomize=True, max_examples=300)
@given(
    fusion=st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1e6)),
    control=st.floats(min_value=1.0, max_value=1e7),
    ncn=st.one_of(st.none(), st.floats(min_value=1e-3, max_value=50)),
)
def test_qpcr(fusion: float, control: float, ncn: float | None) -> None:
    check(qpcr_mrd(fusion_copies=fusion, control_copies=control, diagnosis_ncn=ncn))


@settings(derandomize=True, max_examples=300)
@given(
    total=st.integers(min_value=1, max_value=10**7),
    fraction=st.floats(min_value=0, max_value=1),
    profile=st.sampled_from(list(FLOW_PROFILES.values())),
)
def test_flow(total: int, fraction: float, profile: object) -> None:
    laip = int(total * fraction)
    check(flow_mrd(leukemic_events=laip, total_events=total, profile=profile))  # type: ignore[arg-type]


@settings(derandomize=True, max_examples=200)
@given(
    dna=st.floats(min_value=10, max_value=50_000),
    clonal=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=4),
)
def test_ngs(dna: float, clonal: list[int]) -> None:
    check(ngs_mrd(clonal_cells=[float(c) for c in clonal], dna_input_ng=dna))


def test_result_object_refuses_a_zero_fraction() -> None:
    with pytest.raises(ValueError, match="never as 0"):
        MrdResult(
            method=MrdMethod.FLOW,
            status=MrdStatus.NEGATIVE,
            detected=False,
            mrd_fraction=0.0,
            sensitivity_fraction=1e-4,
            quantifiable=False,
            reasons=(),
            qc_flags=(),
            inputs={},
            profile="x@1",
            rule="FLOW-01",
        )


def test_result_is_immutable() -> None:
    result = flow_mrd(leukemic_events=12, total_events=100_000)
    with pytest.raises(TypeError):
        result.inputs["leukemic_events"] = 1  # type: ignore[index]
