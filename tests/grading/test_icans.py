"""ASTCT 2019 ICANS grading with ICE and CAPD (domain rules ICANS-01)."""

from typing import Any

import pytest

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    ICANS_PROFILES,
    CapdResponse,
    EncephalopathyTool,
    IceItems,
    capd_item_points,
    capd_score,
    encephalopathy_tool,
    grade_icans,
)
from mrdtrack.mrd.profiles import derive


@pytest.mark.parametrize(
    ("inputs", "grade"),
    [
        pytest.param(
            {"age_years": 30, "ice_score": 8, "consciousness": "awakens-spontaneously"},
            1,
            id="ICANS-01-a",
        ),
        pytest.param(
            {"age_years": 30, "ice_score": 3, "seizure": "rapidly-resolving"}, 3, id="ICANS-01-b"
        ),
        pytest.param({"age_years": 40, "ice_score": 0}, 3, id="ICANS-01-c"),
        pytest.param({"age_years": 40, "consciousness": "unarousable"}, 4, id="ICANS-01-d"),
        pytest.param(
            {"age_years": 8, "capd_score": 6, "consciousness": "awakens-to-voice"},
            2,
            id="ICANS-01-e",
        ),
        pytest.param({"age_years": 8, "capd_score": 12}, 3, id="ICANS-01-f"),
    ],
)
def test_vectors(inputs: dict[str, Any], grade: int) -> None:
    result = grade_icans(**inputs)
    assert result.grade == grade
    assert result.system == "ASTCT-2019"
    assert result.drivers


def test_icans_01_c_aphasia_is_named() -> None:
    result = grade_icans(age_years=40, ice_score=0)
    assert result.domain_grades["encephalopathy"] == 3
    assert "global aphasia" in result.drivers[0]


def test_icans_01_d_unarousable_cannot_perform_ice() -> None:
    result = grade_icans(age_years=40, consciousness="unarousable", ice_score=0)
    assert result.domain_grades["encephalopathy"] == 4
    assert result.encephalopathy_score == 0
    with pytest.raises(InputError, match="unarousable"):
        grade_icans(age_years=40, consciousness="unarousable", ice_score=6)


def test_icans_01_e_consciousness_separates_grade_2() -> None:
    result = grade_icans(age_years=8, capd_score=6, consciousness="awakens-to-voice")
    assert result.tool is EncephalopathyTool.CAPD
    assert result.domain_grades == {
        "encephalopathy": 1,
        "consciousness": 2,
        "seizure": 0,
        "motor": 0,
        "cerebral_oedema": 0,
    }


def test_capd_low_band_grade_is_a_profile_value() -> None:
    profile = derive(ICANS_PROFILES["astct-2019"], capd_low_grade=2)
    assert grade_icans(age_years=8, capd_score=6, profile=profile).grade == 2
    assert grade_icans(age_years=8, capd_score=6).grade == 1
    assert any("capd_low_grade" in item for item in ICANS_PROFILES["astct-2019"].unconfirmed)


@pytest.mark.parametrize(
    ("age", "delay", "tool"),
    [
        pytest.param(12.0, False, EncephalopathyTool.ICE, id="ICANS-01-g"),
        pytest.param(11.99, False, EncephalopathyTool.CAPD, id="just-under-12"),
        pytest.param(30.0, True, EncephalopathyTool.CAPD, id="developmental-delay"),
    ],
)
def test_tool_by_age(age: float, delay: bool, tool: EncephalopathyTool) -> None:
    assert encephalopathy_tool(age, developmental_delay=delay) is tool


def test_icans_01_g_twelve_year_old_is_graded_with_ice() -> None:
    assert grade_icans(age_years=12, ice_score=5).tool is EncephalopathyTool.ICE
    with pytest.raises(InputError) as caught:
        grade_icans(age_years=12, capd_score=5)
    assert caught.value.field == "capd_score"


def test_icans_01_h_capd_items_total_and_screen() -> None:
    score = capd_score([4, 4, 0, 0, 4, 0, 0, 0])
    assert score.total == 12
    assert score.positive is True
    assert grade_icans(age_years=6, capd_items=[4, 4, 0, 0, 4, 0, 0, 0]).grade == 3


@pytest.mark.parametrize(
    ("item", "response", "points"),
    [
        (1, CapdResponse.NEVER, 4),
        (1, CapdResponse.ALWAYS, 0),
        (4, "sometimes", 2),
        (5, CapdResponse.NEVER, 0),
        (8, CapdResponse.ALWAYS, 4),
        (6, "often", 3),
    ],
)
def test_capd_reverse_scoring(item: int, response: CapdResponse | str, points: int) -> None:
    assert capd_item_points(item, response) == points


@pytest.mark.parametrize(
    ("score", "grade"), [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)]
)
def test_ice_bands(score: int, grade: int) -> None:
    assert grade_icans(age_years=50, ice_score=score).grade == grade


def test_ice_items_sum_to_the_score() -> None:
    items = IceItems.from_scores([4, 2, 1, 0, 1])
    assert items.total == 8
    assert grade_icans(age_years=50, ice_items=items).encephalopathy_score == 8


@pytest.mark.parametrize(
    ("domain", "value", "grade"),
    [
        ("seizure", "prolonged", 4),
        ("motor", "deep-focal-weakness", 4),
        ("cerebral_oedema", "focal", 3),
        ("cerebral_oedema", "diffuse", 4),
        ("consciousness", "awakens-to-touch", 3),
    ],
)
def test_other_domains(domain: str, value: str, grade: int) -> None:
    finding: dict[str, Any] = {domain: value}
    result = grade_icans(age_years=50, ice_score=10, **finding)
    assert result.grade == grade
    assert result.domain_grades[domain] == grade


def test_no_icans_when_nothing_is_affected() -> None:
    result = grade_icans(age_years=50, ice_score=10)
    assert result.grade == 0
    assert "no ICANS" in result.drivers[0]
    assert grade_icans(age_years=5, capd_score=0).grade == 0


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"age_years": 30}, "ice_score"),
        ({"age_years": 5}, "capd_score"),
        ({"age_years": 30, "ice_score": 11}, "ice_score"),
        ({"age_years": 30, "ice_score": -1}, "ice_score"),
        ({"age_years": 5, "capd_score": 33}, "capd_score"),
        ({"age_years": 5, "ice_score": 7}, "ice_score"),
        ({"age_years": 5, "capd_items": [4, 4, 0]}, "capd_items"),
        ({"age_years": 5, "capd_items": [4, 4, 0, 0, 5, 0, 0, 0]}, "capd_items[5]"),
        ({"age_years": -1, "ice_score": 7}, "age_years"),
        ({"age_years": 30, "ice_score": 7, "seizure": "tonic"}, "seizure"),
    ],
)
def test_bad_input(inputs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        grade_icans(**inputs)
    assert caught.value.field == field


def test_ice_items_validation() -> None:
    with pytest.raises(InputError) as caught:
        IceItems.from_scores([4, 4, 1, 1, 1])
    assert caught.value.field == "ice_items.naming"
    with pytest.raises(InputError):
        IceItems.from_scores([4, 3, 1])
    with pytest.raises(InputError, match="not both"):
        grade_icans(age_years=30, ice_score=8, ice_items=IceItems.from_scores([4, 3, 1, 0, 0]))
