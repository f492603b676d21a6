"""Flow-cytometry MRD: rules FLOW-01 and FLOW-02 (domain rules §3)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.mrd import FLOW_PROFILES, MrdStatus, QcFlag, derive, flow_mrd

SEED1 = FLOW_PROFILES["seed1-tpog"]
LOD = FLOW_PROFILES["lod20-lloq50"]


@pytest.mark.parametrize(
    ("profile", "laip", "total", "status", "mrd_fraction", "sensitivity", "flags"),
    [
        pytest.param(SEED1, 12, 100_000, MrdStatus.POSITIVE, 1.2e-4, 1e-4, (), id="FLOW-02-a"),
        pytest.param(SEED1, 9, 120_000, MrdStatus.NEGATIVE, None, 8.33e-5, (), id="FLOW-02-b"),
        pytest.param(
            LOD,
            12,
            100_000,
            MrdStatus.NEGATIVE,
            None,
            2e-4,
            (QcFlag.INSUFFICIENT_SENSITIVITY,),
            id="FLOW-02-c",
        ),
        pytest.param(
            SEED1,
            0,
            80_000,
            MrdStatus.NOT_EVALUABLE,
            None,
            1.25e-4,
            (QcFlag.INSUFFICIENT_CELLS,),
            id="FLOW-02-d",
        ),
        pytest.param(
            LOD,
            37,
            4_200_000,
            MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
            8.8e-6,
            4.76e-6,
            (QcFlag.BELOW_LLOQ,),
            id="FLOW-02-e",
        ),
        pytest.param(LOD, 120, 4_200_000, MrdStatus.POSITIVE, 2.86e-5, 4.76e-6, (), id="FLOW-02-f"),
        pytest.param(LOD, 0, 5_000_000, MrdStatus.NEGATIVE, None, 4e-6, (), id="FLOW-02-g"),
    ],
)
def test_vectors(
    profile: object,
    laip: int,
    total: int,
    status: MrdStatus,
    mrd_fraction: float | None,
    sensitivity: float,
    flags: tuple[QcFlag, ...],
) -> None:
    result = flow_mrd(leukemic_events=laip, total_events=total, profile=profile)  # type: ignore[arg-type]
    assert result.status is status
    if mrd_fraction is None:
        assert result.mrd_fraction is None
    else:
        assert result.mrd_fraction == pytest.approx(mrd_fraction, rel=0.01)
    assert result.sensitivity_fraction == pytest.approx(sensitivity, rel=0.01)
    assert result.qc_flags == flags
    assert result.details["measured_fraction"] == pytest.approx(laip / total)


def test_flow_02_b_reports_the_raw_ratio_and_says_why_negative() -> None:
    result = flow_mrd(leukemic_events=9, total_events=120_000)
    assert result.details["measured_fraction"] == pytest.approx(7.5e-5)
    assert "9 < 10" in result.reasons[0]


def test_flow_02_g_prints_the_achieved_lod() -> None:
    result = flow_mrd(leukemic_events=0, total_events=5_000_000, profile=LOD)
    assert "0.0004 %" in result.reasons[0]


def test_flow_02_f_is_negative_under_the_seed1_threshold() -> None:
    # The same acquisition under the SEED-1 rules: detected, but below 0.01 %.
    result = flow_mrd(leukemic_events=120, total_events=4_200_000, profile=SEED1)
    assert result.status is MrdStatus.NEGATIVE
    assert result.detected
    assert result.has_flag(QcFlag.DETECTED_BELOW_THRESHOLD)


def test_profiles_are_never_mixed_flow_02_a_vs_c() -> None:
    seed1 = flow_mrd(leukemic_events=12, total_events=100_000, profile=SEED1)
    lod = flow_mrd(leukemic_events=12, total_events=100_000, profile=LOD)
    assert seed1.status is MrdStatus.POSITIVE and lod.status is MrdStatus.NEGATIVE
    assert seed1.profile == "seed1-tpog@1" and lod.profile == "lod20-lloq50@1"


def test_value_exactly_on_the_threshold_is_positive_and_flagged() -> None:
    result = flow_mrd(leukemic_events=10, total_events=100_000)
    assert result.status is MrdStatus.POSITIVE
    assert result.has_flag(QcFlag.ON_THRESHOLD)


def test_overridden_profile_is_labelled() -> None:
    custom = derive(SEED1, lod_events=20)
    assert custom.label == "seed1-tpog@1+lod_events=20"
    assert derive(SEED1) is SEED1


@pytest.mark.parametrize(
    ("laip", "total", "field"),
    [
        pytest.param(-1, 100_000, "leukemic_events", id="negative"),
        pytest.param(300, 200, "leukemic_events", id="laip>total"),
        pytest.param(5, 0, "total_events", id="zero-total"),
        pytest.param(2.5, 100_000, "leukemic_events", id="fractional-events"),
        pytest.param(True, 100_000, "leukemic_events", id="boolean"),
    ],
)
def test_bad_inputs(laip: object, total: object, field: str) -> None:
    with pytest.raises(InputError) as raised:
        flow_mrd(leukemic_events=laip, total_events=total)  # type: ignore[arg-type]
    assert raised.value.field == field


@settings(derandomize=True, max_examples=300)
@given(
    total=st.integers(min_value=1, max_value=10**8),
    data=st.data(),
    profile=st.sampled_from([SEED1, LOD]),
)
def test_fraction_in_unit_interval_and_monotone_in_events(
    total: int, data: st.DataObject, profile: object
) -> None:
    low = data.draw(st.integers(min_value=0, max_value=total))
    high = data.draw(st.integers(min_value=low, max_value=total))
    a = flow_mrd(leukemic_events=low, total_events=total, profile=profile)  # type: ignore[arg-type]
    b = flow_mrd(leukemic_events=high, total_events=total, profile=profile)  # type: ignore[arg-type]
    for result in (a, b):
        assert 0 <= result.details["measured_fraction"] <= 1  # type: ignore[operator]
        if result.mrd_fraction is not None:
            assert 0 < result.mrd_fraction <= 1
    assert a.details["measured_fraction"] <= b.details["measured_fraction"]  # type: ignore[operator]
    if a.mrd_fraction is not None:
        assert b.mrd_fraction is not None and a.mrd_fraction <= b.mrd_fraction
    if a.detected:
        assert b.detected
