"""Donor lymphocyte infusion dose conventions (§10): vectors DLI-a … DLI-d and the ladder."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.therapy import (
    DLI_PROFILES,
    DliAction,
    DliInfusion,
    DonorType,
    check_first_dli_dose,
    cumulative_dli_dose,
    derive_dli_profile,
    dli_dose,
    format_cells_per_kg,
    half_log_ladder,
    next_dli_dose,
    starting_dli_dose,
)


def test_dli_a_dose_per_kg() -> None:
    dose = dli_dose(cd3_cells=6.6e8, recipient_weight_kg=30)
    assert dose.cd3_per_kg == pytest.approx(2.2e7)
    assert format_cells_per_kg(dose.cd3_per_kg) == "2.2×10⁷/kg"
    assert dose.to_dict()["rule"] == "DLI-01"


def test_dli_b_half_log_escalation() -> None:
    step = next_dli_dose(previous_cd3_per_kg=1e7)
    assert step.action is DliAction.ESCALATE
    assert step.next_cd3_per_kg == pytest.approx(3.16e7, rel=1e-3)
    assert "1×10⁷/kg → 3.16×10⁷/kg" in step.reasons[0]


def test_dli_c_gvhd_holds() -> None:
    step = next_dli_dose(previous_cd3_per_kg=1e7, acute_gvhd_grade=2)
    assert step.action is DliAction.HOLD and step.next_cd3_per_kg is None
    assert step.reasons[0].startswith("acute GVHD grade II")
    assert step.to_dict()["action"] == "hold"


def test_dli_d_high_first_dose_warns() -> None:
    (warning,) = check_first_dli_dose(1.5e8)
    assert "1.5×10⁸/kg ≥ 1×10⁸/kg" in warning and "DLI-03" in warning
    assert check_first_dli_dose(9.9e7) == ()
    assert check_first_dli_dose(1e8)  # the boundary itself warns (≥)


def test_chronic_gvhd_also_holds() -> None:
    step = next_dli_dose(previous_cd3_per_kg=1e6, acute_gvhd_grade=1, chronic_gvhd_active=True)
    assert step.action is DliAction.HOLD
    assert "acute GVHD grade I and active chronic GVHD" in step.reasons[0]


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        pytest.param(1e6, 3.1623e6, id="on-rung"),
        pytest.param(3.16e6, 1e7, id="rounded-rung"),
        pytest.param(3.1623e7, 1e8, id="exact-rung"),
        pytest.param(2.2e7, 3.1623e7, id="between-rungs"),
        pytest.param(1e5, 3.1623e5, id="haplo-start"),
    ],
)
def test_next_rung(previous: float, expected: float) -> None:
    assert next_dli_dose(previous_cd3_per_kg=previous).next_cd3_per_kg == pytest.approx(
        expected, rel=1e-4
    )


def test_ladder() -> None:
    ladder = half_log_ladder(1e6, 1e8)
    assert [format_cells_per_kg(x) for x in ladder] == [
        "1×10⁶/kg",
        "3.16×10⁶/kg",
        "1×10⁷/kg",
        "3.16×10⁷/kg",
        "1×10⁸/kg",
    ]
    assert half_log_ladder(2e6, 5e6) == pytest.approx((3.1623e6,), rel=1e-4)
    with pytest.raises(InputError, match="stop_per_kg"):
        half_log_ladder(1e7, 1e6)


@settings(derandomize=True, max_examples=200)
@given(previous=st.floats(min_value=1e4, max_value=1e9))
def test_escalation_is_at_most_one_half_log(previous: float) -> None:
    following = next_dli_dose(previous_cd3_per_kg=previous).next_cd3_per_kg
    assert following is not None
    assert previous < following <= previous * 10**0.5 * 1.03


def test_cumulative_dose_over_infusions() -> None:
    course = cumulative_dli_dose(
        [
            DliInfusion(3e7, 30, date(2025, 1, 1)),
            DliInfusion(9.6e7, 32, date(2025, 2, 15)),
            DliInfusion(3.3e8, 33),
        ]
    )
    assert [d.cd3_per_kg for d in course.infusions] == pytest.approx([1e6, 3e6, 1e7])
    assert course.cumulative_cd3_per_kg == pytest.approx(1.4e7)
    assert course.cumulative_cd3_cells == pytest.approx(4.56e8)
    assert course.warnings == ()
    payload = course.to_dict()
    assert payload["infusions"][0]["infused_on"] == "2025-01-01"
    assert payload["infusions"][2]["infused_on"] is None


def test_cumulative_flags_a_high_first_dose() -> None:
    course = cumulative_dli_dose([DliInfusion(4.5e9, 30)])
    assert course.warnings and "DLI-03" in course.warnings[0]


def test_starting_doses_are_configurable_and_unconfirmed() -> None:
    start = starting_dli_dose(DonorType.HAPLOIDENTICAL)
    assert start.cd3_per_kg == 1e5 and start.interval_weeks == (4, 8)
    assert any("DLI-06" in u for u in start.unconfirmed)
    assert starting_dli_dose("matched-sibling").cd3_per_kg == 1e7
    site = derive_dli_profile(
        DLI_PROFILES["half-log"], starting_doses=((DonorType.UNRELATED, 5e5),)
    )
    assert site.version == "1+starting_doses"
    assert starting_dli_dose("unrelated", site).cd3_per_kg == 5e5
    assert derive_dli_profile(site, interval_weeks=(4, 8)) is site
    with pytest.raises(NotFoundError, match="haploidentical"):
        starting_dli_dose("haploidentical", site)
    with pytest.raises(InputError, match="donor"):
        starting_dli_dose("cord")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        pytest.param(lambda: dli_dose(cd3_cells=0, recipient_weight_kg=30), "cd3_cells", id="0"),
        pytest.param(
            lambda: dli_dose(cd3_cells=1e8, recipient_weight_kg=0), "weight_kg", id="weight"
        ),
        pytest.param(lambda: cumulative_dli_dose([]), "infusions", id="empty"),
        pytest.param(
            lambda: next_dli_dose(previous_cd3_per_kg=1e7, acute_gvhd_grade=5),
            "acute_gvhd_grade",
            id="grade-5",
        ),
        pytest.param(
            lambda: next_dli_dose(previous_cd3_per_kg=1e7, chronic_gvhd_active="yes"),  # type: ignore[arg-type]
            "chronic_gvhd_active",
            id="chronic-text",
        ),
        pytest.param(
            lambda: next_dli_dose(previous_cd3_per_kg=-1), "previous_cd3_per_kg", id="negative"
        ),
    ],
)
def test_bad_inputs(call: object, field: str) -> None:
    with pytest.raises(InputError) as raised:
        call()  # type: ignore[operator]
    assert raised.value.field == field
