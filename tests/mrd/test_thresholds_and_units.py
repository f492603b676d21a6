"""Threshold catalogue with operators and log bands (§5.1); units and display (§0.2)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.mrd import (
    THRESHOLDS,
    MrdBand,
    Operator,
    format_fraction,
    format_percent,
    fraction_to_percent,
    get_threshold,
    mrd_band,
    percent_to_fraction,
)


@pytest.mark.parametrize(
    ("threshold_id", "value", "met", "boundary"),
    [
        pytest.param("FDA-MRD-1E-3", 1.0e-3, True, True, id="TH-01-label-ge"),
        pytest.param("FDA-MRD-1E-3", 0.9e-3, False, False, id="TH-02-label"),
        pytest.param("TPOG-EOI", 0.9e-3, True, False, id="TH-02-tpog"),
        pytest.param("TPOG-EOI", 1e-4, True, True, id="TH-04"),
        pytest.param("TPOG-EOC", 1e-4, False, True, id="TH-05"),
        pytest.param("GRAALL-MRD1-HR", 5e-4, True, False, id="TH-06-HR"),
        pytest.param("GRAALL-MRD2-VHR", 2e-4, True, False, id="TH-06-VHR"),
        pytest.param("GRAALL-MRD1-VHR", 2e-3, True, False, id="TH-07"),
    ],
)
def test_operators_are_explicit(threshold_id: str, value: float, met: bool, boundary: bool) -> None:
    check = get_threshold(threshold_id).check(value)
    assert check.met is met
    assert check.on_boundary is boundary


def test_seed_paper_operators_are_kept_apart() -> None:
    assert THRESHOLDS["TPOG-EOI"].operator is Operator.GE
    assert THRESHOLDS["TPOG-EOC"].operator is Operator.GT
    assert THRESHOLDS["FDA-MRD-1E-3"].operator is Operator.GE  # §12 item 3: ≥, not >
    assert all(t.source for t in THRESHOLDS.values())


def test_unknown_threshold_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="TPOG-EOI"):
        get_threshold("nope")


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (None, MrdBand.NOT_DETECTED),
        (0.02, MrdBand.GE_1E_2),
        (1e-2, MrdBand.GE_1E_2),
        (9.99e-3, MrdBand.GE_1E_3),
        (1e-3, MrdBand.GE_1E_3),
        (1e-4, MrdBand.GE_1E_4),
        (9e-5, MrdBand.BELOW_1E_4),
    ],
)
def test_log_bands_have_explicit_ends(value: float | None, band: MrdBand) -> None:
    assert mrd_band(value) is band


def test_zero_is_not_a_detected_value() -> None:
    with pytest.raises(InputError, match="never as 0"):
        mrd_band(0.0)


def test_display() -> None:
    assert format_fraction(3.81e-3) == "3.8×10⁻³"
    assert format_fraction(9.96e-5) == "1.0×10⁻⁴"
    assert format_percent(3.81e-3) == "0.38 %"
    assert format_percent(4e-6) == "0.0004 %"


@settings(derandomize=True, max_examples=300)
@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_percent_fraction_round_trip(percent: float) -> None:
    assert fraction_to_percent(percent_to_fraction(percent)) == pytest.approx(
        percent, rel=1e-12, abs=1e-300
    )


@pytest.mark.parametrize("bad", [-0.1, 100.1, float("nan")])
def test_percent_out_of_range_is_refused(bad: float) -> None:
    with pytest.raises(InputError, match="mrd_percent"):
        percent_to_fraction(bad)
