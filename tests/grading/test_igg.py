"""Hypogammaglobulinemia from serum IgG (domain rules §9, HYPO-a … HYPO-e)."""

from typing import Any

import pytest

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    IGG_PROFILES,
    IgGStatus,
    IgGUnit,
    assess_igg,
    default_igg_profile,
    igg_to_mg_dl,
)
from mrdtrack.mrd.profiles import derive


@pytest.mark.parametrize(
    ("igg", "kwargs", "status", "threshold"),
    [
        pytest.param(
            3.6,
            {"unit": "g/L", "age_years": 40},
            IgGStatus.HYPOGAMMAGLOBULINEMIA,
            400.0,
            id="HYPO-a",
        ),
        pytest.param(450, {"age_years": 40}, IgGStatus.NORMAL, 400.0, id="HYPO-b-adult-400"),
        pytest.param(
            450,
            {"age_years": 40, "profile": "adult-500"},
            IgGStatus.HYPOGAMMAGLOBULINEMIA,
            500.0,
            id="HYPO-b-adult-500",
        ),
        pytest.param(420, {"age_years": 4}, IgGStatus.HYPOGAMMAGLOBULINEMIA, 444.0, id="HYPO-c"),
        pytest.param(700, {"age_years": 12}, IgGStatus.HYPOGAMMAGLOBULINEMIA, 768.0, id="HYPO-d"),
        pytest.param(
            900,
            {"age_years": 40, "days_since_ivig": 5},
            IgGStatus.NOT_EVALUABLE,
            400.0,
            id="HYPO-e",
        ),
    ],
)
def test_vectors(igg: float, kwargs: dict[str, Any], status: IgGStatus, threshold: float) -> None:
    result = assess_igg(igg, **kwargs)
    assert result.status is status
    assert result.threshold_mg_dl == threshold
    assert result.drivers


def test_hypo_a_converts_g_per_l_explicitly() -> None:
    result = assess_igg(3.6, unit=IgGUnit.G_L, age_years=40)
    assert result.igg_mg_dl == pytest.approx(360.0)
    assert result.inputs["igg"] == 3.6 and result.inputs["unit"] == "g/L"
    assert igg_to_mg_dl(3.6, "g/L") == pytest.approx(360.0)


def test_a_g_per_l_value_is_never_converted_silently() -> None:
    result = assess_igg(3.6, age_years=40)
    assert result.igg_mg_dl == 3.6
    assert "give the unit g/L" in result.warnings[0]


def test_hypo_e_post_ivig_flag() -> None:
    result = assess_igg(900, age_years=40, days_since_ivig=5)
    assert result.flags == ("post_ivig",)
    assert result.hypogammaglobulinemia is None
    assert result.to_dict()["status"] == "not_evaluable"


def test_ivig_window_is_configurable_and_strict() -> None:
    assert assess_igg(300, age_years=40, days_since_ivig=28).status is (
        IgGStatus.HYPOGAMMAGLOBULINEMIA
    )
    assert assess_igg(300, age_years=40, days_since_ivig=27.5).status is IgGStatus.NOT_EVALUABLE
    assert assess_igg(300, age_years=40, days_since_ivig=30, ivig_window_days=42).status is (
        IgGStatus.NOT_EVALUABLE
    )
    profile = derive(IGG_PROFILES["adult-400"], ivig_window_days=14.0)
    assert assess_igg(300, profile=profile, days_since_ivig=20).status is (
        IgGStatus.HYPOGAMMAGLOBULINEMIA
    )


def test_low_even_after_ivig_is_said() -> None:
    result = assess_igg(250, age_years=40, days_since_ivig=3)
    assert result.status is IgGStatus.NOT_EVALUABLE
    assert "even with the infused IgG" in result.drivers[-1]


def test_threshold_is_strict() -> None:
    assert assess_igg(400, age_years=40).status is IgGStatus.NORMAL
    assert assess_igg(399.9, age_years=40).status is IgGStatus.HYPOGAMMAGLOBULINEMIA


@pytest.mark.parametrize(
    ("age", "band", "limit"),
    [
        (1 / 12, "1 mo", 241),
        (0.5, "6 mo", 206),
        (0.75, "9–11 mo", 282),
        (1.0, "1 y", 331),
        (4.99, "4 y", 444),
        (7.5, "5–7 y", 608),
        (9.0, "8–9 y", 584),
        (10.0, "≥ 10 y", 768),
        (17.9, "≥ 10 y", 768),
    ],
)
def test_pediatric_age_bands(age: float, band: str, limit: float) -> None:
    result = assess_igg(1000, age_years=age)
    assert result.age_band == band
    assert result.threshold_mg_dl == limit


def test_no_band_below_one_month_is_not_evaluable() -> None:
    result = assess_igg(500, age_years=0.02)
    assert result.status is IgGStatus.NOT_EVALUABLE
    assert result.threshold_mg_dl is None


def test_default_profile_by_age() -> None:
    assert default_igg_profile(18).id == "adult-400"
    assert default_igg_profile(17.99).id == "pediatric-example"


def test_adult_profile_for_a_child_warns() -> None:
    result = assess_igg(500, age_years=8, profile="adult-400")
    assert result.status is IgGStatus.NORMAL
    assert "age-specific" in result.warnings[0]


def test_profiles_carry_their_sources_and_unconfirmed_items() -> None:
    assert any("[U]" in item for item in IGG_PROFILES["adult-500"].unconfirmed)
    assert any("laboratory" in item for item in IGG_PROFILES["pediatric-example"].unconfirmed)
    result = assess_igg(450, age_years=40, profile="adult-500")
    assert result.profile == "adult-500@1"
    assert result.system == "adult-500"


@pytest.mark.parametrize(
    ("igg", "kwargs", "field"),
    [
        (-1, {"age_years": 40}, "igg_mg_dl"),
        (250, {"age_years": 40, "unit": "g/L"}, "igg_g_l"),
        (400, {"age_years": 40, "unit": "mmol/L"}, "unit"),
        (400, {}, "age_years"),
        (400, {"profile": "pediatric-example"}, "age_years"),
        (400, {"age_years": 40, "profile": "adult-300"}, "profile"),
        (400, {"age_years": 40, "days_since_ivig": -2}, "days_since_ivig"),
    ],
)
def test_bad_input(igg: float, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        assess_igg(igg, **kwargs)
    assert caught.value.field == field
