"""Blinatumomab label dose (BLIN-01, BLIN-02): vectors, a golden table, hard stops, warnings.

The golden table's numbers are the label formula worked by hand for each row:
``target = 28 if W ≥ 45 else min(15 × BSA, 28)``, ``step = 9 if W ≥ 45 else min(5 × BSA, 9)``
(BLINCYTO US label dosing table, reproduced in J Hematol Oncol 2019;12:15 Table 1).
"""

from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError, ProtocolError
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    DOSE_SAFETY_LIMITS,
    US_LABEL,
    BsaFormula,
    DoseBasis,
    DoseUnit,
    Indication,
    WeightBand,
    blinatumomab_dose,
    blinatumomab_dose_for_bsa,
    body_surface_area,
    derive_label,
    format_mcg,
    step_dose,
    target_dose,
    verify_recorded_dose,
)
from mrdtrack.therapy.label import DoseSafetyLimits

SEED1 = BLINATUMOMAB_LABELS["seed1-tpog"]


@pytest.mark.parametrize(
    ("weight_kg", "height_cm", "target_ug", "step_ug"),
    [
        pytest.param(30, 135, 15.91, 5.30, id="BLIN-01-a"),
        pytest.param(44, 160, 20.98, 6.99, id="BLIN-01-b"),
        pytest.param(45.0, 100, 28.0, 9.0, id="BLIN-01-c-short"),
        pytest.param(45.0, 210, 28.0, 9.0, id="BLIN-01-c-tall"),
    ],
)
def test_domain_rule_vectors(
    weight_kg: float, height_cm: float, target_ug: float, step_ug: float
) -> None:
    dose = blinatumomab_dose(
        weight_kg=weight_kg, height_cm=height_cm, indication=Indication.RELAPSED
    )
    assert [s.days for s in dose.steps] == ["1-7", "8-28"]
    assert dose.steps[0].daily_dose_ug == pytest.approx(step_ug, abs=5e-3)
    assert dose.steps[1].daily_dose_ug == pytest.approx(target_ug, abs=5e-3)
    assert dose.daily_dose_ug == dose.steps[1].daily_dose_ug


def test_blin_01_d_cap_binds_just_below_45_kg() -> None:
    dose = blinatumomab_dose_for_bsa(weight_kg=44.99, bsa_m2=2.0, indication=Indication.MRD)
    assert dose.weight_band is WeightBand.LT45
    assert dose.daily_dose_ug == 28.0  # min(15 × 2.0 = 30, 28)
    assert dose.steps[0].level.cap_binds
    assert dose.bsa_formula is None and dose.height_cm is None
    assert any("exceeds the cap; dose limited to 28 mcg/day" in w for w in dose.warnings)


# weight kg, height cm, formula, BSA m², target mcg/day, step mcg/day
GOLDEN = [
    (2.5, 48, "haycock", 0.1843, 2.7639, 0.9213),
    (3.2, 50, "haycock", 0.2139, 3.2078, 1.0693),
    (4.0, 55, "mosteller", 0.2472, 3.7081, 1.2360),
    (5.5, 60, "haycock", 0.3076, 4.6142, 1.5381),
    (6.8, 65, "mosteller", 0.3504, 5.2559, 1.7520),
    (8.0, 70, "dubois", 0.3783, 5.6750, 1.8917),
    (9.5, 75, "mosteller", 0.4449, 6.6732, 2.2244),
    (10.5, 80, "haycock", 0.4882, 7.3224, 2.4408),
    (12.0, 86, "mosteller", 0.5354, 8.0312, 2.6771),
    (13.5, 92, "gehan-george", 0.6058, 9.0867, 3.0289),
    (15.0, 98, "mosteller", 0.6390, 9.5851, 3.1950),
    (16.5, 103, "dubois", 0.6809, 10.2140, 3.4047),
    (18.0, 108, "mosteller", 0.7348, 11.0227, 3.6742),
    (19.0, 112, "haycock", 0.7674, 11.5105, 3.8368),
    (20.0, 110, "mosteller", 0.7817, 11.7260, 3.9087),
    (21.5, 118, "mosteller", 0.8395, 12.5922, 4.1974),
    (23.0, 122, "gehan-george", 0.8978, 13.4665, 4.4888),
    (24.5, 125, "mosteller", 0.9223, 13.8350, 4.6117),
    (26.0, 128, "dubois", 0.9671, 14.5060, 4.8353),
    (27.5, 131, "mosteller", 1.0003, 15.0052, 5.0017),
    (29.0, 134, "haycock", 1.0343, 15.5143, 5.1714),
    (30.0, 135, "mosteller", 1.0607, 15.9099, 5.3033),
    (30.0, 135, "dubois", 1.0682, 16.0223, 5.3408),
    (30.0, 135, "haycock", 1.0564, 15.8464, 5.2821),
    (30.0, 135, "gehan-george", 1.0743, 16.1142, 5.3714),
    (32.0, 140, "mosteller", 1.1155, 16.7332, 5.5777),
    (34.0, 143, "mosteller", 1.1621, 17.4320, 5.8107),
    (35.5, 146, "haycock", 1.1930, 17.8951, 5.9650),
    (37.0, 149, "mosteller", 1.2375, 18.5624, 6.1875),
    (38.5, 152, "dubois", 1.2943, 19.4140, 6.4713),
    (40.0, 155, "mosteller", 1.3123, 19.6850, 6.5617),
    (41.5, 157, "gehan-george", 1.3531, 20.2965, 6.7655),
    (42.5, 158, "mosteller", 1.3658, 20.4863, 6.8288),
    (43.5, 162, "haycock", 1.3868, 20.8019, 6.9340),
    (44.0, 160, "mosteller", 1.3984, 20.9762, 6.9921),
    (44.9, 175, "mosteller", 1.4774, 22.1606, 7.3869),
    (44.99, 200, "mosteller", 1.5810, 23.7144, 7.9048),
    (44.99, 230, "dubois", 1.8672, 28.0000, 9.0000),
    (44.99, 230, "gehan-george", 1.6574, 24.8612, 8.2871),
    (45.0, 150, "mosteller", 1.3693, 28.0000, 9.0000),
    (45.0, 100, "haycock", 1.1665, 28.0000, 9.0000),
    (46.0, 155, "mosteller", 1.4073, 28.0000, 9.0000),
    (50.0, 160, "mosteller", 1.4907, 28.0000, 9.0000),
    (55.0, 165, "dubois", 1.5984, 28.0000, 9.0000),
    (60.0, 170, "mosteller", 1.6833, 28.0000, 9.0000),
    (65.0, 172, "haycock", 1.7625, 28.0000, 9.0000),
    (70.0, 170, "mosteller", 1.8181, 28.0000, 9.0000),
    (75.0, 178, "mosteller", 1.9257, 28.0000, 9.0000),
    (80.0, 180, "gehan-george", 2.0095, 28.0000, 9.0000),
    (90.0, 185, "mosteller", 2.1506, 28.0000, 9.0000),
    (100.0, 190, "mosteller", 2.2973, 28.0000, 9.0000),
    (120.0, 175, "dubois", 2.3239, 28.0000, 9.0000),
    (140.0, 180, "mosteller", 2.6458, 28.0000, 9.0000),
    (1.5, 45, "haycock", 0.1365, 2.0469, 0.6823),
    (2.0, 46, "mosteller", 0.1599, 2.3979, 0.7993),
]


@pytest.mark.parametrize(
    ("weight_kg", "height_cm", "formula", "bsa_m2", "target_ug", "step_ug"),
    [pytest.param(*row, id=f"golden-{row[0]}kg-{row[1]}cm-{row[2]}") for row in GOLDEN],
)
def test_golden_label_table(
    weight_kg: float,
    height_cm: float,
    formula: str,
    bsa_m2: float,
    target_ug: float,
    step_ug: float,
) -> None:
    chosen = BsaFormula(formula)
    mrd = blinatumomab_dose(
        weight_kg=weight_kg, height_cm=height_cm, indication=Indication.MRD, bsa_formula=chosen
    )
    relapsed = blinatumomab_dose(
        weight_kg=weight_kg,
        height_cm=height_cm,
        indication=Indication.RELAPSED,
        bsa_formula=chosen,
    )
    assert mrd.bsa_m2 == pytest.approx(bsa_m2, abs=5e-5)
    assert [s.days for s in mrd.steps] == ["1-28"]
    assert mrd.daily_dose_ug == pytest.approx(target_ug, abs=5e-5)
    assert relapsed.steps[0].daily_dose_ug == pytest.approx(step_ug, abs=5e-5)
    assert relapsed.steps[1].daily_dose_ug == pytest.approx(target_ug, abs=5e-5)
    band = WeightBand.GE45 if weight_kg >= 45 else WeightBand.LT45
    basis = DoseBasis.FIXED if weight_kg >= 45 else DoseBasis.PER_M2
    assert mrd.weight_band is band and relapsed.weight_band is band
    assert {s.level.dose_basis for s in relapsed.steps} == {basis}
    assert mrd.bsa_formula is chosen


@pytest.mark.parametrize(
    ("indication", "cycle", "days", "free_days", "phase"),
    [
        pytest.param(Indication.MRD, 1, ["1-28"], 14, "induction", id="mrd-1"),
        pytest.param(Indication.MRD, 4, ["1-28"], 14, "consolidation", id="mrd-4"),
        pytest.param(Indication.RELAPSED, 1, ["1-7", "8-28"], 14, "induction", id="rr-1"),
        pytest.param(Indication.RELAPSED, 2, ["1-28"], 14, "induction", id="rr-2"),
        pytest.param(Indication.RELAPSED, 5, ["1-28"], 14, "consolidation", id="rr-5"),
        pytest.param(Indication.RELAPSED, 6, ["1-28"], 56, "continued therapy", id="rr-6"),
        pytest.param(Indication.RELAPSED, 9, ["1-28"], 56, "continued therapy", id="rr-9"),
        pytest.param(Indication.CONSOLIDATION, 1, ["1-28"], 14, "consolidation", id="cons-1"),
    ],
)
def test_cycle_structure_blin_02(
    indication: Indication, cycle: int, days: list[str], free_days: int, phase: str
) -> None:
    dose = blinatumomab_dose(weight_kg=60, height_cm=170, indication=indication, cycle=cycle)
    assert [s.days for s in dose.steps] == days
    assert dose.infusion_days == 28
    assert dose.treatment_free_days == free_days
    assert dose.phase.startswith(phase)
    assert dose.max_daily_dose_ug == 28 and dose.max_step_daily_dose_ug == 9


@pytest.mark.parametrize(
    ("indication", "cycle", "label"),
    [
        pytest.param("mrd", 5, US_LABEL, id="mrd-max-4"),
        pytest.param("relapsed", 10, US_LABEL, id="rr-max-9"),
        pytest.param("consolidation", 5, US_LABEL, id="consolidation-max-4-U"),
        pytest.param("mrd", 3, SEED1, id="seed1-max-2"),
        pytest.param("mrd", 0, US_LABEL, id="cycle-0"),
    ],
)
def test_cycle_beyond_the_maximum_is_refused(indication: str, cycle: int, label: object) -> None:
    with pytest.raises(InputError, match="cycle") as raised:
        blinatumomab_dose(
            weight_kg=30,
            height_cm=135,
            indication=indication,
            cycle=cycle,
            label=label,  # type: ignore[arg-type]
        )
    assert raised.value.field == "cycle"


def test_indication_accepted_by_value_and_refused_otherwise() -> None:
    assert blinatumomab_dose(weight_kg=30, height_cm=135, indication="mrd").indication is (
        Indication.MRD
    )
    with pytest.raises(InputError, match=r"indication.*mrd, relapsed, consolidation"):
        blinatumomab_dose(weight_kg=30, height_cm=135, indication="induction")


def test_result_carries_its_basis() -> None:
    payload = blinatumomab_dose(weight_kg=20, height_cm=110, indication="mrd").to_dict()
    for key in (
        "bsa_m2",
        "weight_band",
        "daily_dose_ug",
        "steps",
        "infusion_days",
        "treatment_free_days",
        "max_daily_dose_ug",
        "warnings",
        "bsa_formula",
        "label_version",
        "source",
    ):
        assert key in payload, key
    assert payload["weight_band"] == "lt45"
    assert payload["bsa_formula"] == "mosteller"
    assert payload["label_version"] == "us-uspi-2024@2024-06"
    assert "BLINCYTO" in payload["source"]
    assert payload["inputs"] == {"weight_kg": 20.0, "height_cm": 110.0}
    assert "not a prescription" in payload["kind"]
    step = payload["steps"][0]
    assert step["days"] == "1-28" and step["dose_basis"] == "ug/m2/day"
    assert step["formula"] == "min(15 mcg/m²/day × 0.78 m², 28) = 11.73 mcg/day"
    assert any("consolidation max_cycles" in u for u in payload["unconfirmed"])


def test_fixed_dose_formula_text() -> None:
    dose = blinatumomab_dose(weight_kg=70, height_cm=170, indication="relapsed")
    assert [s.level.formula for s in dose.steps] == ["fixed 9 mcg/day", "fixed 28 mcg/day"]
    assert dose.to_dict()["steps"][0]["dose_basis"] == "ug/day"


def test_bsa_based_dose_needs_a_bsa() -> None:
    with pytest.raises(InputError, match=r"bsa_m2.*give the height") as raised:
        target_dose(weight_kg=30, bsa_m2=None)
    assert raised.value.field == "bsa_m2"
    assert step_dose(weight_kg=60, bsa_m2=None).daily_dose_ug == 9.0


def test_a_profile_whose_fixed_dose_exceeds_the_cap_is_a_hard_stop() -> None:
    broken = derive_label(US_LABEL, fixed_daily_dose_ug=30.0)
    with pytest.raises(ProtocolError, match=r"fixed_daily_dose_ug.*hard cap of 28 mcg"):
        blinatumomab_dose(weight_kg=60, height_cm=170, indication="mrd", label=broken)
    broken_step = derive_label(US_LABEL, fixed_step_daily_dose_ug=10.0)
    with pytest.raises(ProtocolError, match="fixed_step_daily_dose_ug"):
        blinatumomab_dose(weight_kg=60, height_cm=170, indication="relapsed", label=broken_step)


def test_weight_not_in_kg_is_a_hard_stop() -> None:
    with pytest.raises(InputError, match=r"weight_unit.*0.4536") as raised:
        blinatumomab_dose(weight_kg=66, height_cm=170, indication="mrd", weight_unit="lb")
    assert raised.value.field == "weight_unit"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param(
            {"weight_kg": 1.5, "height_cm": 45},
            ["weight 1.5 kg is outside 2-250 kg", "BSA 0.14 m² is outside 0.2-3 m²"],
            id="soft-weight-and-bsa",
        ),
        pytest.param(
            {"weight_kg": 100, "height_cm": 190},
            ["BSA 2.3 m² is above 2.2 m²"],
            id="bsa-above-2.2",
        ),
        pytest.param({"weight_kg": 30, "height_cm": 135}, [], id="none"),
    ],
)
def test_soft_warnings(kwargs: dict[str, float], expected: list[str]) -> None:
    warnings = blinatumomab_dose(indication="mrd", **kwargs).warnings  # type: ignore[arg-type]
    assert len(warnings) == len(expected)
    for text, warning in zip(expected, warnings, strict=True):
        assert warning.startswith(text)


def test_height_soft_band_warns_when_narrower_than_the_hard_one() -> None:
    limits = DoseSafetyLimits(id="site", version="1", source="local", height_cm_soft=(45.0, 220.0))
    dose = blinatumomab_dose(weight_kg=3, height_cm=42, indication="mrd", limits=limits)
    assert any(w.startswith("height 42 cm is outside 45-220 cm") for w in dose.warnings)


def test_seed1_protocol_flags_patients_of_45_kg_or_more() -> None:
    dose = blinatumomab_dose(weight_kg=60, height_cm=170, indication="mrd", label=SEED1)
    assert dose.daily_dose_ug == pytest.approx(15 * dose.bsa_m2)
    assert dose.weight_band is WeightBand.GE45
    assert dose.steps[0].level.dose_basis is DoseBasis.PER_M2
    assert any("§12 item 5" in w and "fixed 28 mcg/day" in w for w in dose.warnings)
    child = blinatumomab_dose(weight_kg=30, height_cm=135, indication="mrd", label=SEED1)
    assert not child.warnings


@pytest.mark.parametrize(
    ("measured", "warns"),
    [(date(2025, 1, 1), True), (date(2025, 1, 2), False)],
)
def test_weight_older_than_7_days_warns(measured: date, warns: bool) -> None:
    dose = blinatumomab_dose(
        weight_kg=30,
        height_cm=135,
        indication="mrd",
        weight_measured_on=measured,
        as_of=date(2025, 1, 9),
    )
    assert any("re-weigh" in w for w in dose.warnings) is warns


def test_step_lookup_by_infusion_day() -> None:
    dose = blinatumomab_dose(weight_kg=30, height_cm=135, indication="relapsed")
    assert dose.step_on(7).days == "1-7"
    assert dose.step_on(8).days == "8-28"
    with pytest.raises(InputError, match=r"infusion_day.*1 to 28"):
        dose.step_on(29)
    with pytest.raises(InputError, match="infusion_day"):
        dose.step_on(0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (28.0, "28 mcg"),
        (15.909902, "15.91 mcg"),
        (5.30330, "5.3 mcg"),
        (0.5, "0.5 mcg"),
        (0.04, "0.04 mcg"),
        (9.999, "10 mcg"),
    ],
)
def test_display_mcg_without_trailing_zeros_with_leading_zero(value: float, text: str) -> None:
    assert format_mcg(value) == text
    assert "µ" not in format_mcg(value)


# --- recorded doses (reliability goal 28 hard stops) -------------------------------------

ADULT_MRD = blinatumomab_dose(weight_kg=60, height_cm=170, indication="mrd")
CHILD_RR = blinatumomab_dose(weight_kg=30, height_cm=135, indication="relapsed")


@pytest.mark.parametrize(
    ("value", "unit", "expected", "day"),
    [
        pytest.param(28, "mcg", ADULT_MRD, None, id="adult-main"),
        pytest.param(28, "ug", ADULT_MRD, 3, id="unit-ug"),
        pytest.param(28, "µg", ADULT_MRD, 3, id="micro-sign"),
        pytest.param(28, "μg", ADULT_MRD, 3, id="greek-mu"),
        pytest.param(28, DoseUnit.MCG, ADULT_MRD, 3, id="enum"),
        pytest.param(5.3, "MCG", CHILD_RR, 2, id="child-step"),
        pytest.param(15.9, "mcg", CHILD_RR, 20, id="child-target"),
    ],
)
def test_recorded_dose_within_tolerance(
    value: float, unit: str, expected: object, day: int | None
) -> None:
    check = verify_recorded_dose(
        recorded_daily_dose=value,
        recorded_unit=unit,
        expected=expected,  # type: ignore[arg-type]
        infusion_day=day,
    )
    assert check.within_tolerance and not check.warnings
    assert check.cap_ug in (9.0, 28.0)
    assert check.to_dict()["within_tolerance"] is True


def test_recorded_dose_defaults_to_the_main_phase() -> None:
    check = verify_recorded_dose(recorded_daily_dose=15.9, recorded_unit="mcg", expected=CHILD_RR)
    assert check.step_days == "8-28" and check.infusion_day == 8
    assert check.expected_daily_dose_ug == pytest.approx(15.9099, abs=1e-4)


def test_recorded_dose_off_the_label_warns() -> None:
    check = verify_recorded_dose(recorded_daily_dose=20, recorded_unit="mcg", expected=CHILD_RR)
    assert not check.within_tolerance
    assert check.deviation_fraction == pytest.approx(20 / 15.9099 - 1, rel=1e-4)
    assert check.warnings == (
        "recorded 20 mcg/day differs from the label dose 15.91 mcg/day by +26 % "
        "(tolerance ±10 %): check the entry",
    )


@pytest.mark.parametrize(
    ("value", "unit", "expected", "day", "field", "message"),
    [
        pytest.param(
            280,
            "mcg",
            ADULT_MRD,
            None,
            "recorded_daily_dose",
            "looks like a 10× entry of 28 mcg",
            id="ten-fold-280",
        ),
        pytest.param(
            28.5,
            "mcg",
            ADULT_MRD,
            None,
            "recorded_daily_dose",
            "at most 28 mcg/day",
            id="just-above-cap",
        ),
        pytest.param(
            28,
            "mcg",
            CHILD_RR,
            3,
            "recorded_daily_dose",
            "at most 9 mcg/day",
            id="rr-step-day-above-9",
        ),
        pytest.param(
            53,
            "mcg",
            CHILD_RR,
            3,
            "recorded_daily_dose",
            "looks like a 10× entry of 5.3 mcg",
            id="ten-fold-step",
        ),
        pytest.param(
            0.028, "mg", ADULT_MRD, None, "recorded_unit", "0.028 mg = 28 mcg", id="mg-unit"
        ),
        pytest.param(
            0.028, "mcg", ADULT_MRD, None, "recorded_daily_dose", "looks like mg", id="mg-number"
        ),
        pytest.param(28, "ml", ADULT_MRD, None, "recorded_unit", "mcg", id="unknown-unit"),
        pytest.param(0, "mcg", ADULT_MRD, None, "recorded_daily_dose", "> 0", id="zero"),
        pytest.param(28, "mcg", ADULT_MRD, 30, "infusion_day", "1 to 28", id="bad-day"),
    ],
)
def test_recorded_dose_hard_stops(
    value: float, unit: str, expected: object, day: int | None, field: str, message: str
) -> None:
    with pytest.raises(InputError, match=message) as raised:
        verify_recorded_dose(
            recorded_daily_dose=value,
            recorded_unit=unit,
            expected=expected,  # type: ignore[arg-type]
            infusion_day=day,
        )
    assert raised.value.field == field


# --- invariants -------------------------------------------------------------------------


@settings(derandomize=True, max_examples=300)
@given(
    weight=st.floats(min_value=1, max_value=250),
    height=st.floats(min_value=40, max_value=230),
    formula=st.sampled_from(list(BsaFormula)),
    indication=st.sampled_from(list(Indication)),
    cycle=st.integers(min_value=1, max_value=4),
    label=st.sampled_from([US_LABEL, SEED1]),
)
def test_no_computed_dose_exceeds_its_cap(
    weight: float,
    height: float,
    formula: BsaFormula,
    indication: Indication,
    cycle: int,
    label: object,
) -> None:
    if label is SEED1 and indication is Indication.MRD:
        cycle = min(cycle, 2)
    bsa = body_surface_area(weight_kg=weight, height_cm=height, formula=formula).bsa_m2
    assume(0.1 <= bsa <= 3.0)  # outside, the BSA itself is refused (tested elsewhere)
    dose = blinatumomab_dose(
        weight_kg=weight,
        height_cm=height,
        indication=indication,
        cycle=cycle,
        bsa_formula=formula,
        label=label,  # type: ignore[arg-type]
    )
    assert dose.daily_dose_ug <= US_LABEL.max_daily_dose_ug
    for step in dose.steps:
        assert 0 < step.daily_dose_ug <= step.level.cap_ug <= US_LABEL.max_daily_dose_ug
    if indication is Indication.RELAPSED and cycle == 1:
        assert dose.steps[0].daily_dose_ug <= US_LABEL.max_step_daily_dose_ug


@settings(derandomize=True, max_examples=300)
@given(
    weight=st.floats(min_value=1, max_value=44.999),
    bsa_pair=st.tuples(
        st.floats(min_value=0.1, max_value=3.0), st.floats(min_value=0.1, max_value=3.0)
    ),
)
def test_dose_is_non_decreasing_in_bsa_below_45_kg(
    weight: float, bsa_pair: tuple[float, float]
) -> None:
    low, high = sorted(bsa_pair)
    small = blinatumomab_dose_for_bsa(weight_kg=weight, bsa_m2=low, indication="relapsed")
    large = blinatumomab_dose_for_bsa(weight_kg=weight, bsa_m2=high, indication="relapsed")
    for before, after in zip(small.steps, large.steps, strict=True):
        assert before.daily_dose_ug <= after.daily_dose_ug <= before.level.cap_ug
        if after.daily_dose_ug < after.level.cap_ug:  # below the cap: exactly rate × BSA
            assert after.daily_dose_ug == pytest.approx(after.level.ug_per_m2 * high)  # type: ignore[operator]


@settings(derandomize=True, max_examples=200)
@given(value=st.floats(min_value=28.0001, max_value=1e6))
def test_any_recorded_dose_above_the_cap_is_refused(value: float) -> None:
    with pytest.raises(InputError, match="hard cap"):
        verify_recorded_dose(recorded_daily_dose=value, recorded_unit="mcg", expected=ADULT_MRD)


def test_limits_default_matches_goal_28() -> None:
    assert DOSE_SAFETY_LIMITS.weight_kg_hard == (1.0, 250.0)
    assert DOSE_SAFETY_LIMITS.height_cm_hard == (40.0, 230.0)
    assert DOSE_SAFETY_LIMITS.bsa_m2_hard == (0.1, 3.0)
    assert DOSE_SAFETY_LIMITS.bsa_m2_flag_above == 2.2
    assert DOSE_SAFETY_LIMITS.label == "goal-28@1"
