"""Patient timelines: MRD value forms, disease status, validation naming the key."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.protocols import (
    DiseaseStatus,
    MrdMeasurement,
    PatientTimeline,
    Therapy,
    parse_disease_status,
    parse_mrd_value,
    timeline_from_mapping,
)


@pytest.mark.parametrize(
    ("value", "status", "fraction", "bound"),
    [
        pytest.param(0.0005, MrdStatus.POSITIVE, 0.0005, None, id="fraction"),
        pytest.param("5e-4", MrdStatus.POSITIVE, 0.0005, None, id="fraction-text"),
        pytest.param("0.05%", MrdStatus.POSITIVE, 0.0005, None, id="percent"),
        pytest.param("nd", MrdStatus.NEGATIVE, None, None, id="not-detected"),
        pytest.param("nd@1e-5", MrdStatus.NEGATIVE, None, 1e-5, id="not-detected-sens"),
        pytest.param("pnq@1e-4", MrdStatus.POSITIVE_NOT_QUANTIFIABLE, None, 1e-4, id="pnq"),
        pytest.param("ne", MrdStatus.NOT_EVALUABLE, None, None, id="not-evaluable"),
        pytest.param(
            {"status": "negative", "sensitivity_fraction": 1.0e-5},
            MrdStatus.NEGATIVE,
            None,
            1e-5,
            id="mapping",
        ),
    ],
)
def test_mrd_forms(
    value: object, status: MrdStatus, fraction: float | None, bound: float | None
) -> None:
    m = parse_mrd_value("eoi", value)
    assert m.timepoint == "EOI"
    assert m.status is status
    assert m.mrd_fraction == (None if fraction is None else pytest.approx(fraction))
    assert m.upper_bound_fraction == bound


def test_percent_on_the_boundary_is_exact() -> None:
    # 0.01 % must become exactly 1e-4, or a '>' rule would fire on rounding noise (TH-05).
    assert parse_mrd_value("EOC", "0.01%").mrd_fraction == 1e-4


@pytest.mark.parametrize(
    ("timepoint", "value", "field"),
    [
        pytest.param("EOI", 0, "mrd.EOI", id="zero-is-not-not-detected"),
        pytest.param("EOI", 1.5, "mrd.EOI", id="above-one"),
        pytest.param("EOI", "abc", "mrd.EOI", id="text"),
        pytest.param("EOI", True, "mrd.EOI", id="boolean"),
        pytest.param("EOI", "nd@x", "mrd.EOI sensitivity", id="bad-sensitivity"),
        pytest.param("WEEK5", 0.001, "mrd time point", id="unknown-timepoint"),
        pytest.param("EOI", {"status": "negative", "extra": 1}, "mrd.EOI.extra", id="key"),
        pytest.param("EOI", {"sensitivity_fraction": 1e-5}, "mrd.EOI.status", id="no-status"),
    ],
)
def test_malformed_mrd_names_the_field(timepoint: str, value: object, field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_mrd_value(timepoint, value)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("text", "status", "number"),
    [
        ("CR1", DiseaseStatus.CR, 1),
        ("cr2", DiseaseStatus.CR, 2),
        ("CR", DiseaseStatus.CR, None),
        ("relapsed", DiseaseStatus.RELAPSED, None),
        ("Refractory", DiseaseStatus.REFRACTORY, None),
    ],
)
def test_disease_status(text: str, status: DiseaseStatus, number: int | None) -> None:
    assert parse_disease_status(text) == (status, number)


@pytest.mark.parametrize("text", ["CR0", "remission", "", "PR"])
def test_bad_disease_status(text: str) -> None:
    with pytest.raises(InputError, match="disease_status"):
        parse_disease_status(text)


def test_timeline_from_mapping() -> None:
    tl = timeline_from_mapping(
        {
            "patient_id": "TPOG-01",
            "disease_status": "CR1",
            "ph_positive": False,
            "cd19_positive": True,
            "age_years": 8,
            "weight_kg": 30,
            "height_cm": 135,
            "phase": "consolidation",
            "prior_therapy": ["chemotherapy"],
            "mrd": {"EOI": 0.0005, "EOC": "nd@1e-5"},
        }
    )
    assert tl.remission_number == 1
    assert tl.age_months == 96
    assert tl.age_years == 8
    assert tl.prior_therapy == frozenset({Therapy.CHEMOTHERAPY})
    assert tl.field_value("prior_therapy") == ("chemotherapy",)
    assert tl.field_value("disease_status") == "cr"
    assert tl.field_value("kmt2a_rearranged") is None
    eoc = tl.mrd_at("EOC")
    assert eoc is not None and eoc.status is MrdStatus.NEGATIVE
    assert tl.to_dict()["disease_status"] == "CR1"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"weight": 30}, "weight", id="unknown-key"),
        pytest.param({"weight_kg": "thirty"}, "weight_kg", id="weight-text"),
        pytest.param({"weight_kg": -1}, "weight_kg", id="weight-negative"),
        pytest.param({"ph_positive": "yes"}, "ph_positive", id="boolean-text"),
        pytest.param({"age_years": 1, "age_months": 12}, "age_months", id="two-ages"),
        pytest.param({"phase": "induction2"}, "phase", id="phase"),
        pytest.param({"prior_therapy": "hct"}, "prior_therapy", id="therapy-not-list"),
        pytest.param({"prior_therapy": ["hct", "cart"]}, "prior_therapy[1]", id="therapy"),
        pytest.param({"mrd": [0.1]}, "mrd", id="mrd-not-mapping"),
        pytest.param({"mrd": {"EOI": "x"}}, "mrd.EOI", id="mrd-value"),
    ],
)
def test_timeline_errors_name_the_key(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        timeline_from_mapping(data)
    assert caught.value.field == field


def test_remission_number_only_in_cr() -> None:
    with pytest.raises(InputError, match="remission_number"):
        PatientTimeline(disease_status=DiseaseStatus.RELAPSED, remission_number=2)


def test_one_result_per_timepoint() -> None:
    m = MrdMeasurement("EOI", MrdStatus.POSITIVE, mrd_fraction=1e-3)
    with pytest.raises(InputError, match=r"mrd\.EOI"):
        PatientTimeline(mrd=(m, m))


def test_positive_needs_a_fraction() -> None:
    with pytest.raises(InputError):
        MrdMeasurement("EOI", MrdStatus.POSITIVE)
    with pytest.raises(InputError):
        MrdMeasurement("EOI", MrdStatus.NEGATIVE, mrd_fraction=1e-4)
