"""Body-surface area (rule BSA-01): the domain-rules vectors and the input checks."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.therapy import BsaFormula, body_surface_area, check_bsa_m2


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "formula", "expected_m2"),
    [
        pytest.param(135, 30, BsaFormula.MOSTELLER, 1.0607, id="BSA-01-a-mosteller"),
        pytest.param(135, 30, BsaFormula.DUBOIS, 1.0682, id="BSA-01-a-dubois"),
        pytest.param(135, 30, BsaFormula.HAYCOCK, 1.0564, id="BSA-01-a-haycock"),
        pytest.param(135, 30, BsaFormula.GEHAN_GEORGE, 1.0743, id="BSA-01-a-gehan-george"),
        pytest.param(75, 9.5, BsaFormula.MOSTELLER, 0.4449, id="BSA-01-b-mosteller"),
        pytest.param(75, 9.5, BsaFormula.DUBOIS, 0.4279, id="BSA-01-b-dubois"),
        pytest.param(75, 9.5, BsaFormula.HAYCOCK, 0.4509, id="BSA-01-b-haycock"),
        pytest.param(170, 70, BsaFormula.MOSTELLER, 1.8181, id="BSA-01-c-mosteller"),
    ],
)
def test_domain_rule_vectors(
    height_cm: float, weight_kg: float, formula: BsaFormula, expected_m2: float
) -> None:
    result = body_surface_area(weight_kg=weight_kg, height_cm=height_cm, formula=formula)
    assert result.bsa_m2 == pytest.approx(expected_m2, abs=5e-5)
    assert result.formula is formula
    assert result.rule == "BSA-01"


def test_default_is_mosteller_and_result_names_its_basis() -> None:
    result = body_surface_area(weight_kg=30, height_cm=135)
    assert result.formula is BsaFormula.MOSTELLER
    payload = result.to_dict()
    assert payload["bsa_formula"] == "mosteller"
    assert payload["equation"] == "sqrt(H × W / 3600)"
    assert "Mosteller RD" in payload["citation"]
    assert payload["weight_kg"] == 30 and payload["height_cm"] == 135


def test_formula_accepted_by_value_and_named_for_display() -> None:
    assert body_surface_area(weight_kg=30, height_cm=135, formula="gehan-george").formula is (
        BsaFormula.GEHAN_GEORGE
    )
    assert [f.display_name for f in BsaFormula] == [
        "Mosteller",
        "DuBois",
        "Haycock",
        "Gehan-George",
    ]


@pytest.mark.parametrize(
    "formula",
    [BsaFormula.DUBOIS, BsaFormula.HAYCOCK, BsaFormula.GEHAN_GEORGE],
)
def test_each_formula_cites_its_original_paper(formula: BsaFormula) -> None:
    citation = body_surface_area(weight_kg=30, height_cm=135, formula=formula).citation
    year = {"dubois": "1916", "haycock": "1978", "gehan-george": "1970"}[formula.value]
    assert year in citation


def test_unknown_formula_is_refused_with_the_choices() -> None:
    with pytest.raises(InputError, match=r"bsa_formula.*mosteller, dubois, haycock, gehan-george"):
        body_surface_area(weight_kg=30, height_cm=135, formula="boyd")


@settings(derandomize=True, max_examples=200)
@given(
    weight=st.floats(min_value=1, max_value=250),
    height=st.floats(min_value=40, max_value=230),
)
def test_mosteller_is_the_square_root_form(weight: float, height: float) -> None:
    bsa = body_surface_area(weight_kg=weight, height_cm=height).bsa_m2
    assert bsa == pytest.approx(math.sqrt(height * weight / 3600), rel=1e-12)


@settings(derandomize=True, max_examples=200)
@given(
    weight=st.floats(min_value=1, max_value=249),
    height=st.floats(min_value=40, max_value=229),
    formula=st.sampled_from(list(BsaFormula)),
)
def test_bsa_increases_with_weight_and_height(
    weight: float, height: float, formula: BsaFormula
) -> None:
    base = body_surface_area(weight_kg=weight, height_cm=height, formula=formula).bsa_m2
    heavier = body_surface_area(weight_kg=weight + 1, height_cm=height, formula=formula).bsa_m2
    taller = body_surface_area(weight_kg=weight, height_cm=height + 1, formula=formula).bsa_m2
    assert heavier > base and taller > base


@pytest.mark.parametrize(
    ("weight_kg", "height_cm", "field", "hint"),
    [
        pytest.param(0, 110, "weight_kg", "give the weight in kilograms", id="weight-zero"),
        pytest.param(0.99, 110, "weight_kg", "kilograms", id="weight-below-1"),
        pytest.param(250.5, 110, "weight_kg", "kilograms", id="weight-above-250"),
        pytest.param(20000, 110, "weight_kg", "looks like grams", id="weight-in-grams"),
        pytest.param(20, 1.35, "height_cm", "looks like metres; give centimetres", id="metres"),
        pytest.param(20, 0.4, "height_cm", "looks like metres", id="metres-low"),
        pytest.param(20, 1350, "height_cm", "looks like millimetres", id="millimetres"),
        pytest.param(20, 39.9, "height_cm", "give the height in centimetres", id="height-low"),
        pytest.param(20, 231, "height_cm", "give the height in centimetres", id="height-high"),
        pytest.param(20, float("nan"), "height_cm", "centimetres", id="height-nan"),
        pytest.param(True, 110, "weight_kg", "kilograms", id="weight-bool"),
        pytest.param(20, "110", "height_cm", "centimetres", id="height-text"),
    ],
)
def test_implausible_inputs_are_refused_naming_the_field(
    weight_kg: object, height_cm: object, field: str, hint: str
) -> None:
    with pytest.raises(InputError, match=f"(?i){hint}") as raised:
        body_surface_area(weight_kg=weight_kg, height_cm=height_cm)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_metres_hint_gives_the_centimetre_value() -> None:
    with pytest.raises(InputError, match=r"\(135 cm\)"):
        body_surface_area(weight_kg=20, height_cm=1.35)


@pytest.mark.parametrize(
    ("bsa_m2", "accepted"),
    [(0.1, True), (3.0, True), (0.09, False), (3.01, False), (float("inf"), False)],
)
def test_bsa_hard_limits(bsa_m2: float, accepted: bool) -> None:
    if accepted:
        assert check_bsa_m2(bsa_m2) == bsa_m2
    else:
        with pytest.raises(InputError, match="bsa_m2"):
            check_bsa_m2(bsa_m2)
