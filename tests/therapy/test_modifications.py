"""Dose modifications after toxicity (BLIN-04): vectors and the label table row by row."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.therapy import (
    ModificationAction,
    Toxicity,
    WeightBand,
    dose_modification,
)

CHILD = {"weight_kg": 30.0, "bsa_m2": 1.0607}
ADULT = {"weight_kg": 70.0}


def test_blin_04_c_crs_grade_3_in_a_30_kg_child() -> None:
    result = dose_modification(toxicity=Toxicity.CRS, grade=3, **CHILD)  # type: ignore[arg-type]
    assert result.action is ModificationAction.INTERRUPT
    assert result.weight_band is WeightBand.LT45
    dex = result.dexamethasone
    assert dex is not None
    assert dex.dose_mg == pytest.approx(5 * 1.0607)  # 5 mg/m², max 8 mg
    assert (dex.interval_hours, dex.max_days, dex.taper_days) == (8, 3, 4)
    assert dex.basis == "5 mg/m², max 8 mg"
    assert dex.text.startswith("dexamethasone 5.3 mg (5 mg/m², max 8 mg) IV/PO q8h")
    restart = result.restart
    assert restart is not None
    assert restart.restart.daily_dose_ug == pytest.approx(5 * 1.0607)
    assert restart.restart.ug_per_m2 == 5.0 and restart.escalated.ug_per_m2 == 15.0
    assert restart.escalate_after_days == 7
    assert restart.escalated.daily_dose_ug == pytest.approx(15 * 1.0607)
    assert result.resume_when == "when the CRS has resolved"


def test_blin_04_d_second_seizure_discontinues() -> None:
    result = dose_modification(toxicity="seizure", seizure_count=2, **ADULT)  # type: ignore[arg-type]
    assert result.action is ModificationAction.DISCONTINUE
    assert "more than 1" in result.reasons[0]
    assert result.restart is None and result.dexamethasone is None


def test_crs_grade_3_adult_fixed_doses() -> None:
    result = dose_modification(toxicity="crs", grade=3, **ADULT)  # type: ignore[arg-type]
    assert result.dexamethasone is not None and result.dexamethasone.dose_mg == 8.0
    assert result.dexamethasone.basis == "8 mg"
    assert result.restart is not None
    assert (result.restart.restart.daily_dose_ug, result.restart.escalated.daily_dose_ug) == (
        9.0,
        28.0,
    )
    assert result.restart.text == (
        "restart at 9 mcg/day (fixed 9 mcg/day) for 7 days, then 28 mcg/day if the toxicity "
        "does not recur"
    )


def test_child_dexamethasone_is_capped_at_8_mg() -> None:
    result = dose_modification(toxicity="crs", grade=3, weight_kg=44, bsa_m2=1.8)
    assert result.dexamethasone is not None and result.dexamethasone.dose_mg == 8.0


def test_crs_grade_4_discontinues_with_dexamethasone() -> None:
    result = dose_modification(toxicity="crs", grade=4, **CHILD)  # type: ignore[arg-type]
    assert result.action is ModificationAction.DISCONTINUE
    assert result.dexamethasone is not None and result.restart is None


@pytest.mark.parametrize(
    ("kwargs", "action", "reason"),
    [
        pytest.param({"grade": 4}, ModificationAction.DISCONTINUE, "grade 4", id="neuro-4"),
        pytest.param(
            {"grade": 3, "daily_dose_at_onset_ug": 9.0},
            ModificationAction.DISCONTINUE,
            "the step dose",
            id="neuro-3-at-9-mcg",
        ),
        pytest.param(
            {"grade": 3, "days_to_resolve": 8},
            ModificationAction.DISCONTINUE,
            "took 8 days",
            id="neuro-3-slow",
        ),
        pytest.param(
            {"grade": 3, "daily_dose_at_onset_ug": 28.0, "days_to_resolve": 7},
            ModificationAction.INTERRUPT,
            "withhold",
            id="neuro-3-restart",
        ),
        pytest.param({"grade": 2}, ModificationAction.NOT_COVERED, "grades 3-4", id="neuro-2-U"),
    ],
)
def test_neurological_toxicity(
    kwargs: dict[str, float], action: ModificationAction, reason: str
) -> None:
    result = dose_modification(toxicity="neurological", **ADULT, **kwargs)  # type: ignore[arg-type]
    assert result.action is action
    assert reason in result.reasons[0]
    assert any("ICANS" in u and "[U]" in u for u in result.unconfirmed)


def test_neurological_grade_3_restart_and_conditions() -> None:
    result = dose_modification(toxicity="neurological", grade=3, **CHILD)  # type: ignore[arg-type]
    assert result.action is ModificationAction.INTERRUPT
    assert result.resume_when == "grade ≤ 1 for at least 3 days"
    assert result.discontinue_if == (
        "it occurred at the step dose",
        "it takes > 7 days to resolve",
        "it recurs",
    )
    assert result.restart is not None
    assert result.restart.restart.daily_dose_ug == pytest.approx(5.3035)
    assert result.dexamethasone is None


def test_neurological_at_the_childs_step_dose_discontinues() -> None:
    result = dose_modification(
        toxicity="neurological",
        grade=3,
        daily_dose_at_onset_ug=5.3,
        **CHILD,  # type: ignore[arg-type]
    )
    assert result.action is ModificationAction.DISCONTINUE
    after_step = dose_modification(
        toxicity="neurological",
        grade=3,
        daily_dose_at_onset_ug=15.9,
        **CHILD,  # type: ignore[arg-type]
    )
    assert after_step.action is ModificationAction.INTERRUPT
    assert after_step.discontinue_if[0] == "it takes > 7 days to resolve"


def test_first_seizure_follows_the_neurological_rule_of_its_grade() -> None:
    result = dose_modification(toxicity="seizure", seizure_count=1, grade=3, **ADULT)  # type: ignore[arg-type]
    assert result.action is ModificationAction.INTERRUPT
    assert result.reasons[0].startswith("seizure grade 3")
    with pytest.raises(InputError, match=r"grade.*seizure") as raised:
        dose_modification(toxicity="seizure", seizure_count=1, **ADULT)  # type: ignore[arg-type]
    assert raised.value.field == "grade"
    with pytest.raises(InputError, match="seizure_count"):
        dose_modification(toxicity="seizure", grade=3, **ADULT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "action"),
    [
        pytest.param({"grade": 4}, ModificationAction.CONSIDER_DISCONTINUATION, id="other-4"),
        pytest.param(
            {"grade": 3, "days_to_resolve": 15},
            ModificationAction.DISCONTINUE,
            id="other-3-over-14-days",
        ),
        pytest.param(
            {"grade": 3, "days_to_resolve": 14}, ModificationAction.INTERRUPT, id="other-3-14-days"
        ),
        pytest.param({"grade": 3}, ModificationAction.INTERRUPT, id="other-3"),
        pytest.param({"grade": 1}, ModificationAction.NOT_COVERED, id="other-1"),
    ],
)
def test_other_adverse_events(kwargs: dict[str, int], action: ModificationAction) -> None:
    result = dose_modification(toxicity="other", **CHILD, **kwargs)  # type: ignore[arg-type]
    assert result.action is action
    if action is ModificationAction.INTERRUPT:
        assert result.restart is not None and result.discontinue_if == (
            "it takes > 14 days to resolve",
        )
        assert any("older label" in u for u in result.unconfirmed)


def test_crs_grade_2_is_not_covered_and_says_why() -> None:
    result = dose_modification(toxicity="crs", grade=2, **ADULT)  # type: ignore[arg-type]
    assert result.action is ModificationAction.NOT_COVERED
    assert "check the current label" in result.reasons[0]
    payload = result.to_dict()
    assert payload["action"] == "not_covered" and payload["rule"] == "BLIN-04"
    assert payload["dexamethasone"] is None and payload["restart"] is None


def test_json_of_a_full_result() -> None:
    payload = dose_modification(toxicity="crs", grade=3, **CHILD).to_dict()  # type: ignore[arg-type]
    assert payload["dexamethasone"]["dose_mg"] == pytest.approx(5.3035)
    assert payload["restart"]["restart_dose_basis"] == "ug/m2/day"
    assert payload["label_version"] == "us-uspi-2024@2024-06"
    assert "PMC4994468" in payload["source"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"toxicity": "rash", "grade": 3}, "toxicity", id="toxicity"),
        pytest.param({"toxicity": "crs", "grade": 5}, "grade", id="grade-5"),
        pytest.param({"toxicity": "crs", "grade": 0}, "grade", id="grade-0"),
        pytest.param({"toxicity": "crs"}, "grade", id="grade-missing"),
        pytest.param({"toxicity": "crs", "grade": 3, "weight_kg": 30}, "bsa_m2", id="child-bsa"),
        pytest.param(
            {"toxicity": "neurological", "grade": 3, "weight_kg": 30}, "bsa_m2", id="neuro-bsa"
        ),
        pytest.param(
            {"toxicity": "crs", "grade": 3, "weight_kg": 30, "bsa_m2": 5.0},
            "bsa_m2",
            id="bsa-implausible",
        ),
        pytest.param({"toxicity": "crs", "grade": 3, "weight_kg": 0}, "weight_kg", id="weight"),
        pytest.param(
            {"toxicity": "neurological", "grade": 3, "days_to_resolve": -1},
            "days_to_resolve",
            id="days",
        ),
        pytest.param(
            {"toxicity": "neurological", "grade": 3, "daily_dose_at_onset_ug": -1},
            "daily_dose_at_onset_ug",
            id="onset",
        ),
        pytest.param(
            {"toxicity": "other", "grade": 3, "days_to_resolve": 1.5},
            "days_to_resolve",
            id="other-days",
        ),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"weight_kg": 70.0, **kwargs}
    with pytest.raises(InputError) as raised:
        dose_modification(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field
