"""Fusion-transcript RQ-PCR MRD: rules PCR-02 … PCR-07 (domain rules §1)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.mrd import (
    QPCR_PROFILES,
    ControlBasis,
    MrdStatus,
    QcFlag,
    StandardCurve,
    Transcript,
    derive,
    log_reduction,
    qpcr_mrd,
    qpcr_mrd_from_ct,
    quantify_replicates,
)


def curve(slope: float, intercept: float, lowest_reproducible: float | None = 0.7) -> StandardCurve:
    """A curve with a given slope and intercept over 5 … 10⁶ copies, as in SEED-1."""
    levels = (math.log10(5), 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    return StandardCurve(
        slope=slope,
        intercept=intercept,
        r_squared=0.999,
        n_points=14,
        levels_log10=levels,
        undetermined_levels_log10=(),
        lowest_positive_log10=levels[0],
        lowest_reproducible_log10=lowest_reproducible,
        highest_log10=6.0,
    )


FUSION = curve(-3.32, 38.0)
ABL1 = curve(-3.35, 39.5)


def test_replicate_copies_and_ncn_PCR_02_a() -> None:
    fusion = quantify_replicates([29.8, 30.3], FUSION)
    control = quantify_replicates([23.9, 24.1], ABL1, target="control")
    assert fusion.copies == pytest.approx((295.0, 208.6), abs=0.1)
    assert control.copies == pytest.approx((45_365, 39_538), rel=1e-4)
    assert fusion.sum_copies == pytest.approx(503.6, abs=0.1)
    assert control.sum_copies == pytest.approx(84_903, rel=1e-4)
    assert fusion.sum_copies / control.sum_copies == pytest.approx(5.93e-3, abs=5e-6)
    assert not fusion.discordant


def test_mrd_relative_to_diagnosis_PCR_03_a() -> None:
    result = qpcr_mrd_from_ct(
        fusion_cts=[30.0],
        control_cts=[24.0],
        fusion_curve=FUSION,
        control_curve=ABL1,
        diagnosis_ncn=1.59,
    )
    assert result.status is MrdStatus.POSITIVE
    assert result.inputs["fusion_copies"] == pytest.approx(256.8, abs=0.1)
    assert result.inputs["control_copies"] == pytest.approx(42_351, rel=1e-4)
    assert result.details["ncn"] == pytest.approx(6.06e-3, abs=5e-6)
    assert result.mrd_fraction == pytest.approx(3.81e-3, abs=5e-6)
    assert result.mrd_percent == pytest.approx(0.381, abs=5e-4)
    assert result.details["log_reduction"] == pytest.approx(2.42, abs=5e-3)
    assert result.quantifiable and result.detected


@pytest.mark.parametrize(
    ("mrd_fraction", "expected"),
    [pytest.param(1e-4, 4.0, id="PCR-04-a"), pytest.param(3.81e-3, 2.42, id="PCR-04-b")],
)
def test_log_reduction(mrd_fraction: float, expected: float) -> None:
    assert log_reduction(mrd_fraction) == pytest.approx(expected, abs=5e-3)


def test_log_reduction_of_a_negative_is_a_lower_bound_PCR_04_c() -> None:
    result = qpcr_mrd(fusion_copies=0, control_copies=50_000, diagnosis_ncn=0.93)
    assert result.details["log_reduction"] == pytest.approx(4.67, abs=5e-3)
    assert result.details["log_reduction_is_lower_bound"] is True


@pytest.mark.parametrize(
    ("control_mean", "status"),
    [
        pytest.param(15_000, MrdStatus.NOT_EVALUABLE, id="PCR-05-a"),
        pytest.param(20_000, MrdStatus.POSITIVE, id="PCR-05-b"),
    ],
)
def test_control_gene_adequacy(control_mean: float, status: MrdStatus) -> None:
    result = qpcr_mrd(
        fusion_copies=2 * 30, control_copies=2 * control_mean, diagnosis_ncn=1.59, replicates=2
    )
    assert result.status is status
    if status is MrdStatus.NOT_EVALUABLE:
        assert result.has_flag(QcFlag.INSUFFICIENT_CONTROL_GENE)
        assert result.mrd_fraction is None
        assert "repeat the RNA extraction" in result.reasons[0]


def test_insufficient_control_gene_wins_over_any_fusion_result() -> None:
    result = qpcr_mrd(fusion_copies=0, control_copies=15_000, diagnosis_ncn=1.59)
    assert result.status is MrdStatus.NOT_EVALUABLE


def test_control_basis_sum_is_more_lenient_than_mean() -> None:
    on_sum = derive(QPCR_PROFILES["seed1-tpog"], control_basis=ControlBasis.SUM)
    args = {
        "fusion_copies": 10.0,
        "control_copies": 30_000.0,
        "diagnosis_ncn": 1.0,
        "replicates": 2,
    }
    assert qpcr_mrd(**args).status is MrdStatus.NOT_EVALUABLE  # type: ignore[arg-type]
    assert qpcr_mrd(**args, profile=on_sum).status is MrdStatus.POSITIVE  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("control_copies", "diagnosis_ncn", "sensitivity", "adequate"),
    [
        pytest.param(5e4, 0.93, 2.15e-5, True, id="PCR-06-a"),
        pytest.param(2e4, 1.59, 3.1e-5, True, id="PCR-06-b"),
        pytest.param(2e4, 0.02, 2.5e-3, False, id="PCR-06-c"),
    ],
)
def test_achieved_sensitivity_of_a_negative(
    control_copies: float, diagnosis_ncn: float, sensitivity: float, adequate: bool
) -> None:
    result = qpcr_mrd(fusion_copies=0, control_copies=control_copies, diagnosis_ncn=diagnosis_ncn)
    assert result.status is MrdStatus.NEGATIVE
    assert result.mrd_fraction is None
    assert not result.detected
    assert result.sensitivity_fraction == pytest.approx(sensitivity, rel=0.02)
    assert result.has_flag(QcFlag.INSUFFICIENT_SENSITIVITY) is not adequate


def test_assay_sensitivity_bounds_the_reported_sensitivity() -> None:
    result = qpcr_mrd(
        fusion_copies=0, control_copies=1e6, diagnosis_ncn=1.0, assay_sensitivity_fraction=1e-5
    )
    assert result.sensitivity_fraction == pytest.approx(1e-5)


def test_positive_not_quantifiable_below_the_lowest_standard_PCR_07_a() -> None:
    result = qpcr_mrd(
        fusion_copies=3,
        control_copies=100_000,
        diagnosis_ncn=1.59,
        replicates=2,
        fusion_positive_replicates=1,
        lowest_quantifiable_copies=5,
    )
    assert result.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE
    assert result.has_flag(QcFlag.BELOW_QUANTITATIVE_RANGE)
    assert result.detected and not result.quantifiable
    # the numeric value is kept for trend plots, marked non-quantitative
    assert result.mrd_fraction == pytest.approx((3 / 2) / (100_000 / 2) / 1.59)


def test_within_the_standards_is_quantifiable_PCR_07_b() -> None:
    result = qpcr_mrd(
        fusion_copies=256.8, control_copies=42_351, diagnosis_ncn=1.59, lowest_quantifiable_copies=5
    )
    assert result.status is MrdStatus.POSITIVE
    assert result.quantifiable


def test_from_ct_uses_the_lowest_reproducible_standard_for_pnq() -> None:
    result = qpcr_mrd_from_ct(
        fusion_cts=[36.9, None],
        control_cts=[23.9, 24.1],
        fusion_curve=FUSION,
        control_curve=ABL1,
        diagnosis_ncn=1.59,
    )
    assert result.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE
    assert result.has_flag(QcFlag.BELOW_LOWEST_STANDARD)


def test_discordant_replicates_are_flagged() -> None:
    result = qpcr_mrd_from_ct(
        fusion_cts=[28.0, 30.0],
        control_cts=[23.9, 24.1],
        fusion_curve=FUSION,
        control_curve=ABL1,
        diagnosis_ncn=1.59,
    )
    assert result.has_flag(QcFlag.REPLICATE_DISCORDANCE)


def test_failed_curve_refuses_the_run() -> None:
    bad = curve(-3.0, 38.0)
    result = qpcr_mrd_from_ct(
        fusion_cts=[30.0],
        control_cts=[24.0],
        fusion_curve=bad,
        control_curve=ABL1,
        diagnosis_ncn=1.59,
    )
    assert result.status is MrdStatus.NOT_EVALUABLE
    assert result.has_flag(QcFlag.CURVE_FAILED)
    assert "fusion standard curve" in result.reasons[0]
    assert "115.4 %" in result.reasons[0]


def test_without_a_diagnosis_ncn_only_the_ncn_is_reported() -> None:
    result = qpcr_mrd(fusion_copies=150, control_copies=50_000, diagnosis_ncn=None)
    assert result.status is MrdStatus.POSITIVE
    assert result.mrd_fraction is None
    assert result.details["ncn"] == pytest.approx(3e-3)
    assert result.has_flag(QcFlag.NO_DIAGNOSIS_REFERENCE)


def test_above_diagnosis_is_allowed_and_flagged() -> None:
    result = qpcr_mrd(fusion_copies=5_000, control_copies=50_000, diagnosis_ncn=0.05)
    assert result.mrd_fraction == pytest.approx(2.0)
    assert result.has_flag(QcFlag.ABOVE_DIAGNOSIS)


def test_atypical_diagnosis_ncn_is_a_soft_warning() -> None:
    result = qpcr_mrd(
        fusion_copies=150,
        control_copies=50_000,
        diagnosis_ncn=20.0,
        transcript=Transcript.ETV6_RUNX1,
    )
    assert result.status is MrdStatus.POSITIVE
    assert result.has_flag(QcFlag.DIAGNOSIS_NCN_ATYPICAL)


def test_cli_contract_example() -> None:
    result = qpcr_mrd(fusion_copies=150, control_copies=50_000, diagnosis_ncn=1.59)
    assert result.details["ncn"] == pytest.approx(0.003)
    assert result.mrd_fraction == pytest.approx(0.003 / 1.59)
    assert result.details["log_reduction"] == pytest.approx(-math.log10(0.003 / 1.59))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"fusion_copies": -1}, "fusion_copies", id="negative-fusion"),
        pytest.param({"control_copies": 0}, "control_copies", id="zero-control"),
        pytest.param({"diagnosis_ncn": 0}, "diagnosis_ncn", id="zero-ncn"),
        pytest.param({"replicates": 0}, "replicates", id="no-replicates"),
        pytest.param({"fusion_positive_replicates": 3}, "fusion_positive_replicates", id="pos>rep"),
        pytest.param(
            {"fusion_copies": 0, "fusion_positive_replicates": 1},
            "fusion_positive_replicates",
            id="contradiction",
        ),
        pytest.param({"assay_sensitivity_fraction": 2.0}, "sensitivity", id="sensitivity>1"),
        pytest.param({"fusion_copies": float("inf")}, "fusion_copies", id="infinite"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "fusion_copies": 150,
        "control_copies": 50_000,
        "diagnosis_ncn": 1.59,
    }
    args.update(kwargs)
    with pytest.raises(InputError) as raised:
        qpcr_mrd(**args)  # type: ignore[arg-type]
    assert raised.value.field == field


copies = st.floats(min_value=1e-3, max_value=1e7, allow_nan=False)


@settings(derandomize=True, max_examples=200)
@given(fusion=copies, control=st.floats(min_value=2e4, max_value=1e7), scale=st.floats(0.01, 100))
def test_ncn_unchanged_when_both_copy_numbers_scale(
    fusion: float, control: float, scale: float
) -> None:
    base = qpcr_mrd(
        fusion_copies=fusion,
        control_copies=control,
        diagnosis_ncn=1.0,
        profile=derive(QPCR_PROFILES["seed1-tpog"], min_control_copies=None),
    )
    scaled = qpcr_mrd(
        fusion_copies=fusion * scale,
        control_copies=control * scale,
        diagnosis_ncn=1.0,
        profile=derive(QPCR_PROFILES["seed1-tpog"], min_control_copies=None),
    )
    assert scaled.details["ncn"] == pytest.approx(base.details["ncn"], rel=1e-9)
