"""PCR-01: standard-curve fit, efficiency and acceptance (domain rules §1.1)."""

import math

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd import CurveStatus, assess_curve, efficiency_from_slope, fit_standard_curve

LEVELS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize(
    ("cts", "slope", "intercept", "r_squared", "efficiency"),
    [
        pytest.param(
            [34.68, 31.36, 28.04, 24.72, 21.40, 18.08], -3.320, 38.000, 1.000, 1.001, id="PCR-01-a"
        ),
        pytest.param(
            [34.9, 31.2, 28.1, 24.6, 21.5, 18.0], -3.3457, 38.0933, 0.9995, 0.990, id="PCR-01-b"
        ),
    ],
)
def test_fit_matches_the_worked_examples(
    cts: list[float], slope: float, intercept: float, r_squared: float, efficiency: float
) -> None:
    curve = fit_standard_curve(LEVELS, cts)
    assert curve.slope == pytest.approx(slope, abs=5e-4)
    assert curve.intercept == pytest.approx(intercept, abs=5e-4)
    assert curve.r_squared == pytest.approx(r_squared, abs=5e-4)
    assert curve.efficiency == pytest.approx(efficiency, abs=5e-4)
    assert curve.assess().status is CurveStatus.PASS


@pytest.mark.parametrize(
    ("slope", "efficiency_percent", "status"),
    [
        pytest.param(-3.00, 115.4, CurveStatus.FAIL, id="PCR-01-c"),
        pytest.param(-3.70, 86.3, CurveStatus.FAIL, id="PCR-01-d"),
        pytest.param(-3.32, 100.1, CurveStatus.PASS, id="ideal"),
    ],
)
def test_efficiency_acceptance(
    slope: float, efficiency_percent: float, status: CurveStatus
) -> None:
    assert efficiency_from_slope(slope) * 100 == pytest.approx(efficiency_percent, abs=0.05)
    verdict = assess_curve(slope)
    assert verdict.status is status
    if status is CurveStatus.FAIL:
        assert "efficiency" in verdict.reasons[0]


def test_positive_slope_is_an_invalid_curve_PCR_01_e() -> None:
    verdict = assess_curve(0.5)
    assert verdict.status is CurveStatus.INVALID
    assert not verdict.usable
    with pytest.raises(InputError, match="slope"):
        efficiency_from_slope(0.5)


def test_r_squared_must_exceed_the_profile_minimum() -> None:
    assert assess_curve(-3.32, r_squared=0.98).status is CurveStatus.FAIL
    assert assess_curve(-3.32, r_squared=0.981).status is CurveStatus.PASS


def test_fewer_than_three_levels_is_invalid() -> None:
    curve = fit_standard_curve([1.0, 2.0], [34.7, 31.4])
    assert curve.assess().status is CurveStatus.INVALID


def test_undetermined_replicates_are_left_out_and_recorded() -> None:
    levels = [0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0]
    cts: list[float | None] = [None, None, 34.6, None, 31.4, 31.3, 28.0, 28.1]
    curve = fit_standard_curve(levels, cts)
    assert curve.n_points == 5
    assert curve.undetermined_levels_log10 == (0.0,)
    assert curve.lowest_positive_log10 == 1.0
    # level 1 has one undetermined replicate: not reproducible; level 2 is
    assert curve.lowest_reproducible_log10 == 2.0


def test_quantity_is_the_inverse_of_the_fit_and_flags_extrapolation() -> None:
    curve = fit_standard_curve(LEVELS, [34.68, 31.36, 28.04, 24.72, 21.40, 18.08])
    inside = curve.quantity(28.04)
    assert math.log10(inside.value) == pytest.approx(3.0, abs=1e-3)
    assert not inside.above_highest_standard and not inside.below_lowest_standard
    assert curve.quantity(15.0).above_highest_standard
    assert curve.quantity(36.0).below_lowest_standard


@pytest.mark.parametrize(
    ("levels", "cts", "field"),
    [
        pytest.param([1.0, 2.0], [30.0], "cts", id="length-mismatch"),
        pytest.param([1.0, 2.0, 3.0], [30.0, float("nan"), 25.0], "ct", id="nan-ct"),
        pytest.param([1.0, 2.0, 3.0], [30.0, -1.0, 25.0], "ct", id="negative-ct"),
        pytest.param([1.0, 1.0], [30.0, 30.1], "standards", id="one-level"),
    ],
)
def test_bad_standards_name_the_field(
    levels: list[float], cts: list[float | None], field: str
) -> None:
    with pytest.raises(InputError) as raised:
        fit_standard_curve(levels, cts)
    assert raised.value.field == field
