"""The data dictionary: published from one source, following the engine and vocabularies."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.registry.cells import FORMULA_TRIGGERS, neutralize, parse_cell
from mrdtrack.registry.dictionary import (
    DICTIONARY,
    TREATMENT_DETAILS,
    ColumnSpec,
    ColumnType,
    dictionary_json,
    dictionary_markdown,
    table_spec,
)
from mrdtrack.registry.models import Base
from mrdtrack.registry.records import MRD_INPUT_KEYS
from mrdtrack.registry.vocabulary import GeneticSubtype, Sex, Timepoint, TreatmentKind

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_the_published_dictionary_is_generated_from_the_data() -> None:
    assert DOCS.read_text(encoding="utf-8") == dictionary_markdown(), (
        "docs/data-dictionary.md is out of date: regenerate it with "
        "`mrdtrack dictionary --markdown > docs/data-dictionary.md`"
    )


def test_the_mrd_input_columns_are_the_engine_keywords() -> None:
    spec = table_spec("mrd_results")
    inputs = {c.name for c in spec.columns} - {
        "study_id",
        "sample_date",
        "timepoint",
        "marker",
        "method",
        "profile",
        "reconstructed",
    }
    derived = {c.name for c in spec.columns if c.derived}
    engine = set().union(*(req | opt for req, opt in MRD_INPUT_KEYS.values()))
    assert inputs - derived == engine
    assert spec.column("method").allowed == tuple(MRD_INPUT_KEYS)


@pytest.mark.parametrize(
    ("table", "column", "values"),
    [
        ("patients", "sex", Sex),
        ("diagnoses", "genetic_subtype", GeneticSubtype),
        ("samples", "timepoint", Timepoint),
        ("treatments", "kind", TreatmentKind),
    ],
)
def test_code_columns_take_the_registry_vocabularies(table: str, column: str, values: Any) -> None:
    assert table_spec(table).column(column).allowed == tuple(v.value for v in values)


def test_every_table_maps_to_a_registry_table_and_fits_its_widths() -> None:
    for spec in DICTIONARY:
        model = Base.metadata.tables[spec.entity]
        for column in spec.columns:
            stored = model.columns.get(column.name)
            length = getattr(stored.type, "length", None) if stored is not None else None
            if column.type is ColumnType.TEXT and length is not None and not column.derived:
                assert column.max_length == length, (spec.name, column.name)


def test_the_json_form_lists_every_column_with_its_attributes() -> None:
    document = dictionary_json()
    assert [t["name"] for t in document["tables"]] == [s.name for s in DICTIONARY]
    sex = next(c for c in document["tables"][0]["columns"] if c["name"] == "sex")
    assert sex == {
        "name": "sex",
        "type": "code",
        "unit": None,
        "required": True,
        "allowed": ["female", "male", "other", "unknown"],
        "pattern": None,
        "range": None,
        "max_length": None,
        "free_text": False,
        "derived": False,
        "description": sex["description"],
    }


def test_treatment_details_are_columns_of_the_treatments_table() -> None:
    names = table_spec("treatments").names
    assert set(TREATMENT_DETAILS) <= set(names)
    assert "other_details" in names


def test_an_unknown_table_names_the_tables() -> None:
    with pytest.raises(InputError, match="patients"):
        table_spec("patient")


_MRD = table_spec("mrd_results")
_TREATMENTS = table_spec("treatments")


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        (_MRD.column("total_events"), " 200000 ", 200000),
        (_MRD.column("total_events"), 200000.0, 200000),
        (_MRD.column("total_events"), "3.0", 3),
        (_MRD.column("fusion_copies"), "1e2", 100.0),
        (_MRD.column("fusion_copies"), 150, 150.0),
        (_MRD.column("sample_date"), "2021-02-28", date(2021, 2, 28)),
        (_MRD.column("sample_date"), datetime(2021, 2, 28), date(2021, 2, 28)),
        (_MRD.column("timepoint"), "post_hct_d30", "POST_HCT_D30"),
        (_MRD.column("timepoint"), "eoi", "EOI"),
        (_MRD.column("clonal_cells"), "3; 0;12.5", (3.0, 0.0, 12.5)),
        (_MRD.column("clonal_cells"), 4, (4.0,)),
        (_MRD.column("reconstructed"), "a; b", ("a", "b")),
        (table_spec("diagnoses").column("ph_positive"), "Yes", True),
        (table_spec("diagnoses").column("ph_positive"), 0, False),
        (table_spec("patients").column("notes"), "'=1+1", "=1+1"),
        (table_spec("patients").column("notes"), "''=1", "'=1"),
        (table_spec("patients").column("notes"), "'quoted", "'quoted"),
        (table_spec("patients").column("study_id"), 1234, "1234"),
        (
            _TREATMENTS.column("other_details"),
            '{"regimen": "AIEOP", "n": 2}',
            {"regimen": "AIEOP", "n": 2},
        ),
        (_MRD.column("marker"), "   ", None),
    ],
)
def test_cells_accept_what_their_type_allows(
    column: ColumnSpec, raw: object, expected: object
) -> None:
    assert parse_cell(column, raw) == expected


@pytest.mark.parametrize(
    ("column", "raw", "says"),
    [
        pytest.param(_MRD.column("total_events"), "abc", "whole number", id="text-in-integer"),
        pytest.param(_MRD.column("total_events"), "0", "≥ 1", id="out-of-range"),
        pytest.param(_MRD.column("total_events"), "2.5", "whole number", id="fraction-in-integer"),
        pytest.param(_MRD.column("total_events"), True, "whole number", id="boolean-in-integer"),
        pytest.param(_MRD.column("total_events"), "9" * 12, "2,147,483,647", id="overflow"),
        pytest.param(_MRD.column("fusion_copies"), "1,5", "decimal point", id="decimal-comma"),
        pytest.param(_MRD.column("fusion_copies"), "nan", "number", id="nan"),
        pytest.param(_MRD.column("fusion_copies"), "=A1*2", "formula", id="formula-in-number"),
        pytest.param(_MRD.column("sample_date"), "2021-02-30", "does not exist", id="impossible"),
        pytest.param(_MRD.column("sample_date"), "30/01/2021", "YYYY-MM-DD", id="local-format"),
        pytest.param(_MRD.column("sample_date"), "1021-01-01", "year", id="implausible-year"),
        pytest.param(_MRD.column("sample_date"), 44197, "number is not a date", id="serial"),
        pytest.param(_MRD.column("sample_date"), datetime(2021, 1, 1, 8), "time", id="with-time"),
        pytest.param(_MRD.column("method"), "pcr", "one of", id="unknown-code"),
        pytest.param(_MRD.column("method"), '=HYPERLINK("x")', "formula", id="formula-code"),
        pytest.param(_MRD.column("sample_date"), None, "required", id="required"),
        pytest.param(_MRD.column("clonal_cells"), "1;;2", "empty item", id="empty-item"),
        pytest.param(_MRD.column("marker"), "x" * 65, "64", id="too-long"),
        pytest.param(_MRD.column("marker"), "a\x07b", "control", id="control-character"),
        pytest.param(_MRD.column("marker"), date(2021, 1, 2), "text", id="excel-made-a-date"),
        pytest.param(table_spec("diagnoses").column("ph_positive"), "maybe", "true", id="bool"),
        pytest.param(_TREATMENTS.column("other_details"), "[1]", "JSON object", id="json-list"),
        pytest.param(_TREATMENTS.column("other_details"), '{"a": [1]}', "one value", id="nested"),
        pytest.param(_TREATMENTS.column("other_details"), "{bad", "JSON", id="json-syntax"),
    ],
)
def test_cells_refuse_what_their_type_does_not_allow(
    column: ColumnSpec, raw: object, says: str
) -> None:
    with pytest.raises(InputError) as refused:
        parse_cell(column, raw)
    assert refused.value.field == column.name
    assert says in str(refused.value)


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"))
    | st.sampled_from([*sorted(FORMULA_TRIGGERS - {"\0", "\r", "\t"}), "'"]),
    min_size=1,
    max_size=30,
).filter(lambda t: t == t.strip())


@settings(derandomize=True, max_examples=300)
@given(text=_TEXT)
def test_neutralized_text_is_inert_and_reads_back_unchanged(text: str) -> None:
    cell = neutralize(text)
    assert cell[0] not in FORMULA_TRIGGERS
    assert parse_cell(table_spec("patients").column("notes"), cell) == text
