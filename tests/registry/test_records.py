"""Cohort records: round trip, engine calls, and validation errors that name the path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.mrd import MrdMethod, MrdStatus, flow_mrd
from mrdtrack.registry import records
from mrdtrack.registry.records import (
    MarkerRecord,
    MrdInputRecord,
    demo_cohort,
    load_cohort_yaml,
    parse_cohort,
    to_mapping,
)
from mrdtrack.registry.vocabulary import MarkerKind

ORIGIN = "cohort.yaml"


def valid() -> dict[str, Any]:
    """A small cohort that uses every record type and every MRD method."""
    flow = {"method": "flow", "marker": "laip", "profile": "seed1-tpog"}
    return {
        "id": "test",
        "title": "test cohort",
        "source": "tests",
        "version": "1",
        "sites": [{"code": "A", "name": "Site A"}],
        "patients": [
            {
                "study_id": "T-01",
                "site_code": "A",
                "sex": "female",
                "birth_date": "2010-05-01",
                "diagnosis": {
                    "diagnosis_date": "2020-01-10",
                    "genetic_subtype": "TCF3::PBX1",
                    "ph_positive": False,
                    "cd19_positive": True,
                    "wbc_per_ul": 12500,
                    "cns_status": "CNS1",
                    "risk_group": "high risk",
                    "protocol": "TPOG",
                },
                "markers": [
                    {
                        "key": "fusion",
                        "kind": "fusion_transcript",
                        "transcript": "TCF3::PBX1",
                        "diagnosis_ncn": 5.95,
                    },
                    {"key": "laip", "kind": "laip", "definition": "CD19+ CD10+ CD34+"},
                    {"key": "clones", "kind": "ngs_clonotype", "definition": "IGH 2 clones"},
                ],
                "samples": [
                    {
                        "sample_date": "2020-02-14",
                        "timepoint": "EOI",
                        "tissue": "BM",
                        "mrd": [
                            {**flow, "inputs": {"leukemic_events": 12, "total_events": 100_000}},
                            {
                                "method": "rq-pcr",
                                "marker": "fusion",
                                "profile": None,
                                "inputs": {"fusion_copies": 150, "control_copies": 50_000},
                            },
                        ],
                    },
                    {
                        "sample_date": "2020-06-01",
                        "timepoint": "PRE_BLIN",
                        "tissue": "PB",
                        "mrd": [
                            {
                                "method": "ngs",
                                "marker": "clones",
                                "profile": "clonoseq-style",
                                "inputs": {"clonal_cells": [4, 0], "dna_input_ng": 20_000},
                            }
                        ],
                    },
                    {
                        "sample_date": "2020-09-01",
                        "timepoint": "POST_HCT_D30",
                        "tissue": "BM",
                        "mrd": [
                            {**flow, "inputs": {"leukemic_events": 0, "total_events": 300_000}}
                        ],
                    },
                ],
                "assessments": [
                    {
                        "assessment_date": "2020-02-14",
                        "response": "CR",
                        "marrow_blast_percent": 1.5,
                        "extramedullary": False,
                        "remission_number": 1,
                    },
                    {
                        "assessment_date": "2021-01-04",
                        "response": "relapse",
                        "marrow_blast_percent": 40.0,
                    },
                ],
                "treatments": [
                    {
                        "kind": "blinatumomab",
                        "start_date": "2020-06-08",
                        "end_date": "2020-07-05",
                        "cycle": 1,
                        "details": {"dose_basis": "ug/m2/day", "daily_dose_ug_per_m2": 15},
                    },
                    {
                        "kind": "hct",
                        "start_date": "2020-08-02",
                        "details": {
                            "donor_type": "MUD",
                            "graft_source": None,
                            "conditioning": "CyBu",
                        },
                    },
                    {
                        "kind": "dli",
                        "start_date": "2020-10-01",
                        "end_date": "2020-10-01",
                        "cycle": 1,
                        "details": {"cd3_cells_per_kg": 1.0e7},
                    },
                ],
                "adverse_events": [
                    {
                        "term": "cytokine release syndrome",
                        "onset_date": "2020-06-09",
                        "resolved_date": "2020-06-11",
                        "grade": 2,
                        "scale": "ASTCT-2019",
                        "grading_inputs": {
                            "temperature_c": 39.0,
                            "hypotension": "fluids",
                            "hypoxia": "none",
                        },
                        "management": "fluids",
                    },
                ],
                "lab_values": [
                    {"test": "IgG", "sample_date": "2020-07-20", "value": 350.0, "unit": "mg/dL"}
                ],
                "outcomes": [
                    {"kind": "relapse", "event_date": "2021-01-04", "detail": "bone marrow"},
                    {"kind": "death", "event_date": "2021-05-02", "detail": "leukemia"},
                ],
                "reconstructed": [
                    "birth_date",
                    "samples[0].mrd[1].inputs",
                    "treatments[1].details.graft_source",
                ],
                "notes": None,
            },
            {
                "study_id": "T-02",
                "site_code": "A",
                "sex": "male",
                "diagnosis": {"diagnosis_date": "2021-03-01", "genetic_subtype": "not available"},
            },
        ],
    }


def test_public_api() -> None:
    assert sorted(records.__all__) == sorted(
        [
            "HCT_DONOR_TYPES",
            "MRD_INPUT_KEYS",
            "AdverseEventRecord",
            "AssessmentRecord",
            "CohortDocument",
            "DiagnosisRecord",
            "LabValueRecord",
            "MarkerRecord",
            "MrdInputRecord",
            "OutcomeRecord",
            "PatientRecord",
            "SampleRecord",
            "SiteRecord",
            "TreatmentRecord",
            "demo_cohort",
            "load_cohort_yaml",
            "parse_cohort",
            "to_mapping",
        ]
    )


def test_valid_cohort_parses_with_defaults() -> None:
    doc = parse_cohort(valid(), ORIGIN)
    minimal = doc.patients[1]
    assert minimal.birth_date is None
    assert minimal.samples == () and minimal.reconstructed == ()
    assert minimal.diagnosis.ph_positive is None
    # An int given for a float field is read as a float; counts stay ints.
    assert doc.patients[0].diagnosis.wbc_per_ul == 12500.0
    assert doc.patients[0].samples[0].mrd[0].inputs["total_events"] == 100_000
    assert doc.patients[0].samples[1].mrd[0].inputs["clonal_cells"] == (4.0, 0.0)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(lambda: parse_cohort(valid(), ORIGIN), id="test-cohort"),
        pytest.param(demo_cohort, id="case-series"),
    ],
)
def test_round_trip(doc: Callable[[], records.CohortDocument]) -> None:
    original = doc()
    mapping = to_mapping(original)
    assert parse_cohort(mapping, ORIGIN) == original
    # The mapping is plain data: JSON and YAML carry it unchanged.
    assert parse_cohort(json.loads(json.dumps(mapping)), ORIGIN) == original
    assert load_cohort_yaml(yaml.safe_dump(mapping), ORIGIN) == original


def test_records_are_immutable() -> None:
    sample = parse_cohort(valid(), ORIGIN).patients[0].samples[0]
    with pytest.raises(AttributeError):
        sample.timepoint = "EOC"  # type: ignore[misc]
    with pytest.raises(TypeError):
        sample.mrd[0].inputs["leukemic_events"] = 99  # type: ignore[index]


def test_compute_calls_the_engine_with_the_marker_reference() -> None:
    patient = parse_cohort(valid(), ORIGIN).patients[0]
    flow, pcr = patient.samples[0].mrd
    result = flow.compute(patient.marker(flow.marker))  # FLOW-02-a
    assert (result.method, result.status) == (MrdMethod.FLOW, MrdStatus.POSITIVE)
    assert result.mrd_fraction == pytest.approx(1.2e-4)
    result = pcr.compute(patient.marker(pcr.marker))  # NCN 3e-3 against the marker's 5.95
    assert result.mrd_fraction == pytest.approx(150 / 50_000 / 5.95)
    assert result.inputs["diagnosis_ncn"] == 5.95
    assert result.inputs["transcript"] == "TCF3::PBX1"
    (ngs,) = patient.samples[1].mrd
    result = ngs.compute(patient.marker(ngs.marker))  # NGS-02-b: 4 templates in 20 µg
    assert result.mrd_fraction == pytest.approx(1.3e-6, rel=0.01)
    assert result.profile.startswith("clonoseq-style@")


@settings(derandomize=True, max_examples=50)
@given(total=st.integers(1, 10**7), share=st.floats(0, 1))
def test_flow_record_equals_the_engine(total: int, share: float) -> None:
    laip = int(total * share)
    record = MrdInputRecord("flow", None, {"leukemic_events": laip, "total_events": total}, None)
    direct = flow_mrd(leukemic_events=laip, total_events=total)
    assert record.compute(None) == direct


@pytest.mark.parametrize(
    ("record", "marker", "field"),
    [
        pytest.param(MrdInputRecord("rq-pcr", None, {}, None), None, "marker", id="no-marker"),
        pytest.param(
            MrdInputRecord("flow", None, {"leukemic_events": 1, "total_events": 10**5}, "x"),
            None,
            "profile",
            id="unknown-profile",
        ),
        pytest.param(
            MrdInputRecord("flow", None, {"leukemic_events": 1.5, "total_events": 10**5}, None),
            None,
            "leukemic_events",
            id="fractional-events",
        ),
        pytest.param(MrdInputRecord("pet", None, {}, None), None, "method", id="unknown-method"),
        pytest.param(
            MrdInputRecord("rq-pcr", "m", {"fusion_copies": 1, "control_copies": 1}, None),
            MarkerRecord("m", MarkerKind.LAIP, None, None, None),
            "marker",
            id="laip-marker-for-pcr",
        ),
    ],
)
def test_compute_refuses_inputs_that_do_not_fit(
    record: MrdInputRecord, marker: MarkerRecord | None, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        record.compute(marker)
    assert caught.value.field == field


P0 = "patients[0]"


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return mutate


def _p(*path: Any) -> list[Any]:
    return ["patients", 0, *path]


def _mrd(sample: int, index: int, *path: Any) -> list[Any]:
    return _p("samples", sample, "mrd", index, *path)


ERRORS = [
    ("unknown-key-top", _set(["colour"], "red"), "colour"),
    ("unknown-key-sample", _set(_p("samples", 0, "colour"), "red"), f"{P0}.samples[0].colour"),
    ("missing-sex", _delete(_p("sex")), f"{P0}.sex"),
    (
        "missing-diagnosis-date",
        _delete(_p("diagnosis", "diagnosis_date")),
        f"{P0}.diagnosis.diagnosis_date",
    ),
    ("version-not-text", _set(["version"], 1), "version"),
    ("sites-not-a-list", _set(["sites"], "A"), "sites"),
    ("empty-site-name", _set(["sites", 0, "name"], " "), "sites[0].name"),
    ("too-long-study-id", _set(_p("study_id"), "X" * 65), f"{P0}.study_id"),
    ("text-for-number", _set(_p("diagnosis", "wbc_per_ul"), "high"), f"{P0}.diagnosis.wbc_per_ul"),
    ("nan-number", _set(_p("diagnosis", "wbc_per_ul"), float("nan")), f"{P0}.diagnosis.wbc_per_ul"),
    (
        "bool-for-count",
        _set(_mrd(0, 0, "inputs", "total_events"), True),
        f"{P0}.samples[0].mrd[0].inputs.total_events",
    ),
    ("impossible-date", _set(_p("birth_date"), "2021-02-30"), f"{P0}.birth_date"),
    ("timestamp-for-date", _set(_p("birth_date"), "2010-05-01T10:00"), f"{P0}.birth_date"),
    ("unknown-tissue", _set(_p("samples", 1, "tissue"), "CSF"), f"{P0}.samples[1].tissue"),
    (
        "paper-subtype-name",
        _set(_p("diagnosis", "genetic_subtype"), "E2A-PBX1"),
        f"{P0}.diagnosis.genetic_subtype",
    ),
    (
        "unknown-timepoint",
        _set(_p("samples", 0, "timepoint"), "DAY_5"),
        f"{P0}.samples[0].timepoint",
    ),
    ("unknown-marker", _set(_mrd(0, 0, "marker"), "nope"), f"{P0}.samples[0].mrd[0].marker"),
    (
        "flow-on-fusion-marker",
        _set(_mrd(0, 0, "marker"), "fusion"),
        f"{P0}.samples[0].mrd[0].marker",
    ),
    ("pcr-without-marker", _set(_mrd(0, 1, "marker"), None), f"{P0}.samples[0].mrd[1].marker"),
    ("unknown-method", _set(_mrd(0, 0, "method"), "pet"), f"{P0}.samples[0].mrd[0].method"),
    (
        "mrd-value-typed-in",
        _set(_mrd(0, 0, "inputs", "mrd_percent"), 0.012),
        f"{P0}.samples[0].mrd[0].inputs.mrd_percent",
    ),
    (
        "ncn-typed-in",
        _set(_mrd(0, 1, "inputs", "diagnosis_ncn"), 1.0),
        f"{P0}.samples[0].mrd[1].inputs.diagnosis_ncn",
    ),
    (
        "missing-input",
        _delete(_mrd(0, 0, "inputs", "total_events")),
        f"{P0}.samples[0].mrd[0].inputs.total_events",
    ),
    (
        "engine-refuses",
        _set(_mrd(0, 0, "inputs", "leukemic_events"), 200_000),
        f"{P0}.samples[0].mrd[0].inputs.leukemic_events",
    ),
    ("unknown-profile", _set(_mrd(0, 0, "profile"), "nope"), f"{P0}.samples[0].mrd[0].profile"),
    ("duplicate-marker-key", _set(_p("markers", 1, "key"), "fusion"), f"{P0}.markers[1].key"),
    (
        "fusion-without-transcript",
        _set(_p("markers", 0, "transcript"), None),
        f"{P0}.markers[0].transcript",
    ),
    ("ncn-on-laip", _set(_p("markers", 1, "diagnosis_ncn"), 1.0), f"{P0}.markers[1].diagnosis_ncn"),
    (
        "blasts-over-100",
        _set(_p("assessments", 0, "marrow_blast_percent"), 140),
        f"{P0}.assessments[0].marrow_blast_percent",
    ),
    (
        "remission-number-with-relapse",
        _set(_p("assessments", 1, "remission_number"), 2),
        f"{P0}.assessments[1].remission_number",
    ),
    (
        "end-before-start",
        _set(_p("treatments", 0, "end_date"), "2020-06-01"),
        f"{P0}.treatments[0].end_date",
    ),
    (
        "blinatumomab-without-basis",
        _delete(_p("treatments", 0, "details", "dose_basis")),
        f"{P0}.treatments[0].details.dose_basis",
    ),
    (
        "blinatumomab-dose-for-other-basis",
        _set(_p("treatments", 0, "details", "dose_basis"), "ug/day"),
        f"{P0}.treatments[0].details.daily_dose_ug",
    ),
    (
        "unknown-donor",
        _set(_p("treatments", 1, "details", "donor_type"), "sibling"),
        f"{P0}.treatments[1].details.donor_type",
    ),
    (
        "dli-without-dose",
        _delete(_p("treatments", 2, "details", "cd3_cells_per_kg")),
        f"{P0}.treatments[2].details.cd3_cells_per_kg",
    ),
    ("cycle-zero", _set(_p("treatments", 0, "cycle"), 0), f"{P0}.treatments[0].cycle"),
    ("crs-grade-7", _set(_p("adverse_events", 0, "grade"), 7), f"{P0}.adverse_events[0].grade"),
    (
        "crs-unknown-hypoxia",
        _set(_p("adverse_events", 0, "grading_inputs", "hypoxia"), "nasal"),
        f"{P0}.adverse_events[0].grading_inputs.hypoxia",
    ),
    (
        "crs-fahrenheit",
        _set(_p("adverse_events", 0, "grading_inputs", "temperature_c"), 102.2),
        f"{P0}.adverse_events[0].grading_inputs.temperature_c",
    ),
    (
        "crs-unknown-input",
        _set(_p("adverse_events", 0, "grading_inputs", "ferritin"), 900),
        f"{P0}.adverse_events[0].grading_inputs.ferritin",
    ),
    (
        "resolved-before-onset",
        _set(_p("adverse_events", 0, "resolved_date"), "2020-06-01"),
        f"{P0}.adverse_events[0].resolved_date",
    ),
    ("igg-in-g-per-l", _set(_p("lab_values", 0, "unit"), "g/L"), f"{P0}.lab_values[0].unit"),
    (
        "death-before-diagnosis",
        _set(_p("outcomes", 1, "event_date"), "2019-12-31"),
        f"{P0}.outcomes[1].event_date",
    ),
    (
        "record-after-death",
        _set(_p("outcomes", 1, "event_date"), "2020-12-31"),
        f"{P0}.assessments[1].assessment_date",
    ),
    ("two-deaths", _set(_p("outcomes", 0, "kind"), "death"), f"{P0}.outcomes[1].kind"),
    ("birth-after-diagnosis", _set(_p("birth_date"), "2020-02-01"), f"{P0}.birth_date"),
    (
        "sample-before-diagnosis",
        _set(_p("samples", 0, "sample_date"), "2019-01-01"),
        f"{P0}.samples[0].sample_date",
    ),
    (
        "bad-reconstructed-path",
        _set(_p("reconstructed", 1), "samples[7].mrd"),
        f"{P0}.reconstructed[1]",
    ),
    ("unknown-site", _set(_p("site_code"), "B"), f"{P0}.site_code"),
    (
        "duplicate-site",
        _set(["sites"], [{"code": "A", "name": "x"}, {"code": "A", "name": "y"}]),
        "sites[1].code",
    ),
    ("duplicate-study-id", _set(["patients", 1, "study_id"], "T-01"), "patients[1].study_id"),
]


@pytest.mark.parametrize(("mutate", "path"), [pytest.param(m, p, id=i) for i, m, p in ERRORS])
def test_validation_error_names_the_path(
    mutate: Callable[[dict[str, Any]], None], path: str
) -> None:
    data = copy.deepcopy(valid())
    mutate(data)
    with pytest.raises(ImportValidationError) as caught:
        parse_cohort(data, ORIGIN)
    assert caught.value.location == f"{ORIGIN}: {path}"
    assert caught.value.field == path.rsplit(".", 1)[-1]
    assert str(caught.value).startswith(f"{ORIGIN}: {path}: ")


def test_yaml_errors_name_the_line_or_the_document() -> None:
    with pytest.raises(ImportValidationError) as caught:
        load_cohort_yaml("id: x\nsites: [\n", ORIGIN)
    assert caught.value.location.startswith(f"{ORIGIN}: line ")
    with pytest.raises(ImportValidationError) as caught:
        load_cohort_yaml("- a list\n", ORIGIN)
    assert caught.value.location == f"{ORIGIN}: document"


def test_demo_cohort_is_loaded_once() -> None:
    assert demo_cohort() is demo_cohort()
    assert demo_cohort().id == "seed1-case-series"
