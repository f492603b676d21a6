"""The label data: versioned, one place, [U] items listed and configurable."""

import pytest

from mrdtrack.errors import NotFoundError
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    US_LABEL,
    AgeGroup,
    PremedicationEvent,
    configure_schedule,
    derive_label,
    get_label,
)


def test_us_label_numbers_bli_01() -> None:
    assert (US_LABEL.weight_threshold_kg, US_LABEL.fixed_daily_dose_ug) == (45.0, 28.0)
    assert US_LABEL.fixed_step_daily_dose_ug == 9.0
    assert (US_LABEL.daily_dose_ug_per_m2, US_LABEL.step_daily_dose_ug_per_m2) == (15.0, 5.0)
    assert (US_LABEL.max_daily_dose_ug, US_LABEL.max_step_daily_dose_ug) == (28.0, 9.0)
    assert (US_LABEL.infusion_days, US_LABEL.treatment_free_days) == (28, 14)
    assert US_LABEL.long_treatment_free_days == 56
    assert US_LABEL.label == "us-uspi-2024@2024-06"
    assert US_LABEL.effective_date == "2024-06-14"


@pytest.mark.parametrize(
    ("indication", "max_cycles", "hospital"),
    [
        pytest.param("mrd", 4, {1: 3, 2: 2, 3: 0}, id="mrd"),
        pytest.param("relapsed", 9, {1: 9, 2: 2, 3: 0}, id="relapsed"),
        pytest.param("consolidation", 4, {1: 3, 2: 2, 3: 0}, id="consolidation"),
    ],
)
def test_schedules_blin_02_03(indication: str, max_cycles: int, hospital: dict[int, int]) -> None:
    schedule = US_LABEL.schedule(indication)
    assert schedule.max_cycles == max_cycles
    assert {c: schedule.hospitalized_days(c) for c in hospital} == hospital


def test_relapsed_phases_and_breaks() -> None:
    schedule = US_LABEL.schedule("relapsed")
    assert [schedule.phase_of(c) for c in (1, 2, 3, 5, 6, 9)] == [
        "induction",
        "induction",
        "consolidation",
        "consolidation",
        "continued therapy",
        "continued therapy",
    ]
    assert schedule.phase_of(10) == ""
    assert [US_LABEL.treatment_free_days_after("relapsed", c) for c in (5, 6)] == [14, 56]


def test_premedication_rules_per_setting_and_age() -> None:
    (adult_rr,) = US_LABEL.schedule("relapsed").premedication_for(AgeGroup.ADULT)
    assert "dexamethasone 20 mg" in adult_rr.text and not adult_rr.unconfirmed
    assert set(adult_rr.events) == set(PremedicationEvent)
    (child_rr,) = US_LABEL.schedule("relapsed").premedication_for(AgeGroup.CHILD)
    assert "5 mg/m² (max 20 mg)" in child_rr.text and child_rr.first_cycle_only
    (adult_mrd,) = US_LABEL.schedule("mrd").premedication_for(AgeGroup.ADULT)
    assert "prednisone 100 mg" in adult_mrd.text and not adult_mrd.unconfirmed
    for indication, group in [
        ("mrd", AgeGroup.CHILD),
        ("consolidation", AgeGroup.CHILD),
        ("consolidation", AgeGroup.ADULT),
    ]:
        (rule,) = US_LABEL.schedule(indication).premedication_for(group)
        assert rule.unconfirmed and "UNCONFIRMED" in rule.text


def test_unconfirmed_items_are_listed() -> None:
    text = " ".join(US_LABEL.unconfirmed)
    for item in ("consolidation max_cycles=4", "premedication", "interruption > 7 days", "ICANS"):
        assert item in text


def test_seed1_profile() -> None:
    seed1 = get_label("seed1-tpog")
    assert seed1.bsa_dosing_all_weights and not US_LABEL.bsa_dosing_all_weights
    assert seed1.schedule("mrd").max_cycles == 2
    assert "hematolrep16020035" in seed1.source
    assert set(BLINATUMOMAB_LABELS) == {"us-uspi-2024", "seed1-tpog"}


def test_unknown_names_are_refused() -> None:
    with pytest.raises(NotFoundError, match="known: us-uspi-2024, seed1-tpog"):
        get_label("eu-smpc")
    with pytest.raises(NotFoundError, match="indication"):
        US_LABEL.schedule("induction")


def test_derived_profiles_name_their_changes() -> None:
    assert derive_label(US_LABEL, adult_age_years=18.0) is US_LABEL
    derived = derive_label(US_LABEL, adult_age_years=21)
    assert derived.version == "2024-06+adult_age_years=21"
    new = derive_label(US_LABEL, schedules=US_LABEL.schedules[:1])
    assert new.version == "2024-06+schedules"
    one = configure_schedule(US_LABEL, "consolidation", max_cycles=1)
    assert one.schedule("consolidation").max_cycles == 1
    assert one.schedule("mrd") is US_LABEL.schedule("mrd")
    assert one.label == "us-uspi-2024@2024-06+consolidation.max_cycles=1"
    assert configure_schedule(US_LABEL, "mrd", max_cycles=4) is US_LABEL
