"""Overall acute GVHD grade, Keystone 1994 and MAGIC (domain rules AGVHD-02, AGVHD-04)."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    AGVHD_PROFILES,
    MAGIC_GRADE_TABLE,
    AcuteGvhdFindings,
    AgvhdSystem,
    agvhd_profile,
    grade_acute_gvhd,
    roman_grade,
)


@pytest.mark.parametrize(
    ("findings", "stages", "grade"),
    [
        pytest.param(
            AcuteGvhdFindings(
                skin_rash_bsa_percent=30, bilirubin_mg_dl=1.2, diarrhea_ml_per_day=300
            ),
            (2, 0, 0),
            1,
            id="AGVHD-02-a",
        ),
        pytest.param(
            AcuteGvhdFindings(
                skin_rash_bsa_percent=10, bilirubin_mg_dl=1.0, diarrhea_ml_per_day=800
            ),
            (1, 0, 1),
            2,
            id="AGVHD-02-b",
        ),
        pytest.param(
            AcuteGvhdFindings(skin_rash_bsa_percent=60, bilirubin_mg_dl=0, diarrhea_ml_per_day=0),
            (3, 0, 0),
            2,
            id="AGVHD-02-c",
        ),
        pytest.param(AcuteGvhdFindings(bilirubin_mg_dl=4.5), (0, 2, 0), 3, id="AGVHD-02-d"),
        pytest.param(
            AcuteGvhdFindings(weight_kg=20, diarrhea_ml_per_day=500),
            (0, 0, 2),
            3,
            id="AGVHD-02-e",
        ),
        pytest.param(
            AcuteGvhdFindings(grossly_bloody_stool=True, bilirubin_mg_dl=0.5),
            (0, 0, 4),
            3,
            id="AGVHD-02-f",
        ),
        pytest.param(
            AcuteGvhdFindings(bullae_desquamation_bsa_percent=10), (4, 0, 0), 4, id="AGVHD-02-g"
        ),
        pytest.param(
            AcuteGvhdFindings(weight_kg=60, diarrhea_ml_per_day=700),
            (0, 0, 1),
            2,
            id="AGVHD-02-h",
        ),
        pytest.param(AcuteGvhdFindings(bilirubin_mg_dl=3.0), (0, 1, 0), 2, id="AGVHD-02-i"),
    ],
)
def test_keystone_vectors(
    findings: AcuteGvhdFindings, stages: tuple[int, int, int], grade: int
) -> None:
    result = grade_acute_gvhd(findings, system="glucksberg")
    assert (result.stages.skin, result.stages.liver, result.stages.gut) == stages
    assert result.grade == grade
    assert result.system == "Glucksberg-Keystone-1994"
    assert result.drivers


@pytest.mark.parametrize(
    ("findings", "magic", "keystone"),
    [
        pytest.param(AcuteGvhdFindings(stool_episodes_per_day=6), 3, 3, id="AGVHD-04-a"),
        pytest.param(AcuteGvhdFindings(diarrhea_ml_per_day=6 * 200), 3, 3, id="AGVHD-04-b"),
        pytest.param(AcuteGvhdFindings(grossly_bloody_stool=True), 4, 3, id="AGVHD-04-c"),
        pytest.param(AcuteGvhdFindings(upper_gi_symptoms=True), 2, 0, id="AGVHD-04-d"),
    ],
)
def test_magic_vectors(findings: AcuteGvhdFindings, magic: int, keystone: int) -> None:
    result = grade_acute_gvhd(findings, system=AgvhdSystem.MAGIC)
    assert result.grade == magic
    assert result.system == "MAGIC-2016"
    assert grade_acute_gvhd(findings, system="glucksberg").grade == keystone


def test_agvhd_04_a_driver_names_the_episode_count() -> None:
    result = grade_acute_gvhd(AcuteGvhdFindings(stool_episodes_per_day=6), system="magic")
    assert result.stages.lower_gi == 2
    assert "6 unquantified stool episodes/day" in result.drivers[0]


def test_agvhd_04_d_upper_gi_is_its_own_organ_in_magic() -> None:
    result = grade_acute_gvhd(AcuteGvhdFindings(upper_gi_symptoms=True), system="magic")
    assert (result.stages.upper_gi, result.stages.gut) == (1, 0)
    assert result.drivers[0].startswith("upper GI stage 1")


def test_highest_grade_wins_and_lists_every_row() -> None:
    findings = AcuteGvhdFindings(bilirubin_mg_dl=7.0, diarrhea_ml_per_day=1200)
    result = grade_acute_gvhd(findings)
    assert result.grade == 3
    assert len(result.drivers) == 2


def test_no_gvhd_is_grade_0() -> None:
    result = grade_acute_gvhd(
        AcuteGvhdFindings(bilirubin_mg_dl=0.8, diarrhea_ml_per_day=200, skin_rash_bsa_percent=0)
    )
    assert result.grade == 0
    assert result.roman == "0"
    assert result.drivers == ("no organ stage ≥ 1 → grade 0",)


def test_down_staging_switch() -> None:
    findings = AcuteGvhdFindings(bilirubin_mg_dl=4.5, liver_other_cause=True)
    assert grade_acute_gvhd(findings).stages.liver == 2
    older = agvhd_profile("glucksberg", downstage_liver_for_other_causes=True)
    result = grade_acute_gvhd(findings, profile=older)
    assert result.stages.liver == 1
    assert result.grade == 2
    assert result.profile == "glucksberg-keystone-1994@1+downstage-liver"
    # Without another cause the switch changes nothing.
    assert grade_acute_gvhd(AcuteGvhdFindings(bilirubin_mg_dl=4.5), profile=older).grade == 3


def test_magic_table_is_data_marked_unconfirmed() -> None:
    profile = AGVHD_PROFILES["magic-2016"]
    assert profile.grade_table == MAGIC_GRADE_TABLE
    assert any("[U]" in item for item in profile.unconfirmed)
    result = grade_acute_gvhd(AcuteGvhdFindings(skin_rash_bsa_percent=10), system="magic")
    assert result.to_dict()["unconfirmed"] == list(profile.unconfirmed)


def test_result_to_dict_contract_keys() -> None:
    payload = grade_acute_gvhd(
        AcuteGvhdFindings(skin_rash_bsa_percent=60, bilirubin_mg_dl=1.0, diarrhea_ml_per_day=0)
    ).to_dict()
    for key in ("skin_stage", "liver_stage", "gut_stage", "grade", "system"):
        assert key in payload
    assert payload["grade"] == 2
    assert payload["grade_roman"] == "II"
    assert payload["inputs"]["skin_rash_bsa_percent"] == 60


def test_roman() -> None:
    assert [roman_grade(g) for g in range(5)] == ["0", "I", "II", "III", "IV"]


def test_unknown_system() -> None:
    with pytest.raises(InputError, match="glucksberg, magic"):
        grade_acute_gvhd(AcuteGvhdFindings(), system="seattle")


NUMERIC = {
    "skin_rash_bsa_percent": 100.0,
    "bullae_desquamation_bsa_percent": 100.0,
    "bilirubin_mg_dl": 100.0,
    "diarrhea_ml_per_day": 20_000.0,
}
FLAGS = (
    "severe_abdominal_pain",
    "grossly_bloody_stool",
    "upper_gi_symptoms",
    "upper_gi_biopsy_positive",
)

findings_strategy = st.fixed_dictionaries(
    {
        "skin_rash_bsa_percent": st.floats(0, 100),
        "bullae_desquamation_bsa_percent": st.floats(0, 100),
        "bilirubin_mg_dl": st.floats(0, 30),
        "diarrhea_ml_per_day": st.one_of(st.none(), st.floats(0, 3000)),
        "stool_episodes_per_day": st.one_of(st.none(), st.integers(0, 15)),
        "weight_kg": st.one_of(st.none(), st.floats(3, 120)),
        **{flag: st.booleans() for flag in FLAGS},
    }
)


def _raise(values: dict[str, Any], key: str, fraction: float) -> dict[str, Any] | None:
    raised = dict(values)
    if values[key] is None:
        return None  # a measurement appearing is not a raised input
    if key in FLAGS:
        if values[key]:
            return None
        raised[key] = True
    elif key == "stool_episodes_per_day":
        raised[key] = values[key] + 1 + int(fraction * 10)
    else:
        raised[key] = values[key] + fraction * (NUMERIC[key] - values[key])
    return raised


@settings(derandomize=True, max_examples=500)
@given(
    values=findings_strategy,
    key=st.sampled_from([*NUMERIC, "stool_episodes_per_day", *FLAGS]),
    fraction=st.floats(0, 1),
    system=st.sampled_from(list(AgvhdSystem)),
)
def test_raising_one_finding_never_lowers_the_grade(
    values: dict[str, Any], key: str, fraction: float, system: AgvhdSystem
) -> None:
    raised = _raise(values, key, fraction)
    if raised is None:
        return
    before = grade_acute_gvhd(AcuteGvhdFindings(**values), system=system)
    after = grade_acute_gvhd(AcuteGvhdFindings(**raised), system=system)
    assert after.grade >= before.grade
    for organ in ("skin", "liver", "upper_gi", "lower_gi", "gut"):
        assert getattr(after.stages, organ) >= getattr(before.stages, organ)
