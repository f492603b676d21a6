"""ASTCT 2019 CRS grading (domain rules CRS-01) against the spec's vectors."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.grading import CRS_PROFILES, Hypotension, Hypoxia, grade_crs


@pytest.mark.parametrize(
    ("inputs", "grade"),
    [
        pytest.param({"temperature_c": 38.3}, 1, id="CRS-01-a"),
        pytest.param(
            {"temperature_c": 38.5, "hypotension": "fluids", "hypoxia": "low-flow"},
            2,
            id="CRS-01-b",
        ),
        pytest.param(
            {"temperature_c": 38.9, "hypotension": "one-vasopressor", "hypoxia": "low-flow"},
            3,
            id="CRS-01-c",
        ),
        pytest.param(
            {"temperature_c": 39.0, "hypotension": "one-vasopressor", "vasopressin": True},
            3,
            id="CRS-01-d",
        ),
        pytest.param(
            {"temperature_c": 39.0, "hypotension": "multiple-vasopressors"}, 4, id="CRS-01-e"
        ),
        pytest.param(
            {"temperature_c": 37.1, "anti_cytokine": True, "hypoxia": "positive-pressure"},
            4,
            id="CRS-01-f",
        ),
        pytest.param({"temperature_c": 37.2, "hypoxia": "high-flow"}, 0, id="CRS-01-g"),
        pytest.param({"temperature_c": 38.0}, 1, id="CRS-01-h"),
        pytest.param({"temperature_c": 37.9}, 0, id="CRS-01-i"),
        # SEED-1: resolved with dexamethasone (an anti-cytokine corticosteroid) and low-flow O2.
        pytest.param(
            {"temperature_c": None, "anti_cytokine": True, "hypoxia": "low-flow"},
            2,
            id="CRS-01-j",
        ),
    ],
)
def test_vectors(inputs: dict[str, Any], grade: int) -> None:
    result = grade_crs(**inputs)
    assert result.grade == grade
    assert result.system == "ASTCT-2019"
    assert result.drivers


def test_not_crs_without_fever_names_other_causes() -> None:
    result = grade_crs(temperature_c=37.2, hypoxia="high-flow")
    assert result.meets_definition is False
    assert result.hypoxia_grade == 3
    assert "other causes" in result.drivers[0]


def test_vasopressin_is_never_a_second_agent() -> None:
    with_vasopressin = grade_crs(
        temperature_c=39.0, hypotension="one-vasopressor", vasopressin=True
    )
    assert with_vasopressin.grade == 3
    assert "never counted as a second vasopressor" in with_vasopressin.notes[0]


def test_vasopressin_alone_is_one_vasopressor() -> None:
    result = grade_crs(temperature_c=39.0, hypotension="fluids", vasopressin=True)
    assert result.grade == 3
    assert result.inputs["hypotension"] == "fluids"


def test_max_rule_lists_every_component_at_the_grade() -> None:
    result = grade_crs(temperature_c=39.0, hypotension="one-vasopressor", hypoxia="high-flow")
    assert result.grade == 3
    assert len(result.drivers) == 2


def test_grade_5_is_death_due_to_crs() -> None:
    assert grade_crs(temperature_c=39.5, died_of_crs=True).grade == 5


def test_antipyretic_waives_fever_and_resolution_is_grade_0() -> None:
    assert grade_crs(temperature_c=37.0, antipyretic=True, hypotension="fluids").grade == 2
    resolved = grade_crs(temperature_c=36.8, anti_cytokine=True)
    assert resolved.grade == 0 and resolved.meets_definition


def test_result_carries_its_basis() -> None:
    result = grade_crs(temperature_c=38.3)
    payload = result.to_dict()
    assert payload["profile"] == "astct-2019@1"
    assert "Lee DW" in payload["source"]
    assert payload["rule"] == "CRS-01"
    assert payload["inputs"]["temperature_c"] == 38.3
    assert payload["unconfirmed"] == list(CRS_PROFILES["astct-2019"].unconfirmed)
    with pytest.raises(TypeError):
        result.inputs["temperature_c"] = 40.0  # type: ignore[index]


@pytest.mark.parametrize("temperature", [-3.0, 24.9, 45.1, 101.3, float("nan")])
def test_implausible_temperature_is_refused(temperature: float) -> None:
    with pytest.raises(InputError) as caught:
        grade_crs(temperature_c=temperature)
    assert caught.value.field == "temperature_c"


def test_missing_temperature_needs_therapy() -> None:
    with pytest.raises(InputError, match="antipyretic or anti-cytokine"):
        grade_crs(temperature_c=None, hypoxia="low-flow")


def test_unknown_level_lists_accepted_values() -> None:
    with pytest.raises(InputError) as caught:
        grade_crs(temperature_c=39.0, hypotension="two-vasopressors")
    assert caught.value.field == "hypotension"
    assert "none, fluids, one-vasopressor, multiple-vasopressors" in str(caught.value)
    with pytest.raises(InputError, match="low-flow, high-flow, positive-pressure"):
        grade_crs(temperature_c=39.0, hypoxia="ventilator")


HYPOTENSION = list(Hypotension)
HYPOXIA = list(Hypoxia)
KEYS = (
    "temperature_c",
    "hypotension",
    "hypoxia",
    "vasopressin",
    "anti_cytokine",
    "antipyretic",
    "died_of_crs",
)
crs_inputs = st.fixed_dictionaries(
    {
        "temperature_c": st.floats(min_value=35.0, max_value=42.0),
        "hypotension": st.integers(0, len(HYPOTENSION) - 1),
        "hypoxia": st.integers(0, len(HYPOXIA) - 1),
        "vasopressin": st.booleans(),
        "anti_cytokine": st.booleans(),
        "antipyretic": st.booleans(),
        "died_of_crs": st.booleans(),
    }
)


def _grade(values: dict[str, Any]) -> int:
    return grade_crs(
        temperature_c=values["temperature_c"],
        hypotension=HYPOTENSION[values["hypotension"]],
        hypoxia=HYPOXIA[values["hypoxia"]],
        vasopressin=values["vasopressin"],
        anti_cytokine=values["anti_cytokine"],
        antipyretic=values["antipyretic"],
        died_of_crs=values["died_of_crs"],
    ).grade


def _raised(values: dict[str, Any], key: str, step: float) -> dict[str, Any] | None:
    raised = dict(values)
    current = values[key]
    if isinstance(current, bool):
        if current:
            return None
        raised[key] = True
    elif key == "temperature_c":
        raised[key] = min(current + step, 45.0)
    else:
        limit = len(HYPOTENSION if key == "hypotension" else HYPOXIA) - 1
        if current == limit:
            return None
        raised[key] = current + 1
    return raised


@settings(derandomize=True, max_examples=400)
@given(
    values=crs_inputs,
    key=st.sampled_from(KEYS),
    step=st.floats(min_value=0.0, max_value=5.0),
)
def test_raising_one_input_never_lowers_the_grade(
    values: dict[str, Any], key: str, step: float
) -> None:
    raised = _raised(values, key, step)
    if raised is not None:
        assert _grade(raised) >= _grade(values)
