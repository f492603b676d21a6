"""REDCap's flat CSV export of a longitudinal project, mapped onto the data dictionary.

A REDCap "raw" CSV export has one row per record and event (``record_id``,
``redcap_event_name``) holding the fields of the event's non-repeating instruments, and
one row per instance of a repeating instrument (``redcap_repeat_instrument``,
``redcap_repeat_instance``) holding that instrument's fields. A YAML mapping file says
which instrument feeds which dictionary table and which REDCap field fills which
column::

    format: mrdtrack-redcap-mapping
    version: 1
    study_id_field: record_id          # the REDCap field that holds the study id
    tables:
      - table: patients
        instrument: demographics
        events: [enrollment_arm_1]      # optional: only rows of these events
        fields:                         # REDCap field -> dictionary column
          sex: {column: sex, values: {"1": female, "2": male}}
          dob: birth_date
        constants: {site_code: SITE-A}  # columns with one value for every row
      - table: adverse_events
        instrument: adverse_event       # a repeating instrument: one row per instance
        fields:
          ae_temp: grading_inputs.temperature_c   # a key of a JSON object column

A row of an entry is a row of its instrument (of a repeating instrument: an instance; of
a non-repeating one: a row without ``redcap_repeat_instrument`` in which at least one of
the entry's fields has a value). ``values`` translate REDCap's choice codes (labels
pass unchanged); ``redcap_event_name`` may be mapped like a field (to a time point, for
instance). The rows come out as ordinary raw tables and are checked against the data
dictionary like any other import, with errors naming the REDCap field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from mrdtrack.registry.dictionary import DICTIONARY, ColumnType, table_spec
from mrdtrack.registry.tabular import ImportFileError, ImportProblem, SourceTable, shown_value

__all__ = ["FieldMapping", "InstrumentMapping", "RedcapMapping", "parse_mapping", "redcap_tables"]

_FORMAT = "mrdtrack-redcap-mapping"
_EVENT = "redcap_event_name"
_REPEAT = "redcap_repeat_instrument"
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """One REDCap field feeding one column (or one key of a JSON object column)."""

    field: str
    column: str
    key: str | None
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class InstrumentMapping:
    """One REDCap instrument feeding one dictionary table."""

    table: str
    instrument: str
    events: tuple[str, ...]
    fields: tuple[FieldMapping, ...]
    constants: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RedcapMapping:
    """A whole mapping file."""

    origin: str
    study_id_field: str
    entries: tuple[InstrumentMapping, ...]


class _MappingReader:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[ImportProblem] = []

    def fail(self, where: str, value: object, reason: str) -> None:
        self.problems.append(
            ImportProblem(self.origin, None, None, where, shown_value(value), reason)
        )

    def text(self, raw: object, where: str) -> str | None:
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
        self.fail(where, raw, "expected text")
        return None

    def keys(self, raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(
                    f"{where}.{key}", key, "unknown key; known: " + ", ".join(sorted(allowed))
                )

    def field(self, table: str, name: str, raw: object, where: str) -> FieldMapping | None:
        values: Mapping[str, str] = {}
        target = raw
        if isinstance(raw, Mapping):
            self.keys(raw, {"column", "values"}, where)
            target = raw.get("column")
            given = raw.get("values", {})
            if not isinstance(given, Mapping) or not all(
                isinstance(v, str | int | float | bool) for v in given.values()
            ):
                self.fail(f"{where}.values", given, "expected a mapping of REDCap code -> value")
            else:
                values = {str(k).strip(): str(v) for k, v in given.items()}
        column = self.text(target, where)
        if column is None:
            return None
        spec = table_spec(table)
        base, _, key = column.partition(".")
        if base not in spec.input_names or base == "study_id":
            self.fail(where, column, f"not an importable column of {table}")
            return None
        if key and spec.column(base).type is not ColumnType.JSON_OBJECT:
            self.fail(where, column, f"{base} is not a JSON object column: map it without '.'")
            return None
        return FieldMapping(name, base, key or None, values)

    def entry(self, raw: object, where: str) -> InstrumentMapping | None:
        if not isinstance(raw, Mapping):
            self.fail(where, raw, "expected a mapping with table, instrument and fields")
            return None
        self.keys(raw, {"table", "instrument", "events", "fields", "constants"}, where)
        table = self.text(raw.get("table"), f"{where}.table")
        instrument = self.text(raw.get("instrument"), f"{where}.instrument")
        events = raw.get("events", [])
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            self.fail(f"{where}.events", events, "expected a list of event names")
            events = []
        names = [s.name for s in DICTIONARY]
        if table is None or instrument is None:
            return None
        if table not in names:
            self.fail(f"{where}.table", table, "one of: " + ", ".join(names))
            return None
        fields_raw = raw.get("fields")
        if not isinstance(fields_raw, Mapping) or not fields_raw:
            self.fail(f"{where}.fields", fields_raw, "expected a mapping REDCap field -> column")
            return None
        fields = [
            self.field(table, str(name), target, f"{where}.fields.{name}")
            for name, target in fields_raw.items()
        ]
        constants = raw.get("constants", {})
        if not isinstance(constants, Mapping):
            self.fail(f"{where}.constants", constants, "expected a mapping column -> value")
            constants = {}
        spec = table_spec(table)
        for column in constants:
            if column not in spec.input_names or column == "study_id":
                self.fail(f"{where}.constants.{column}", column, f"not a column of {table}")
        mapped = [f for f in fields if f is not None]
        plain = [f.column for f in mapped if f.key is None]
        for column in {c for c in plain if plain.count(c) > 1} | (set(plain) & set(constants)):
            self.fail(f"{where}.fields", column, "a column filled twice")
        covered = {"study_id", *plain, *(f.column for f in mapped), *constants}
        for column in spec.columns:
            if column.required and column.name not in covered:
                self.fail(
                    f"{where}.fields", column.name, f"the required column of {table} is unmapped"
                )
        return InstrumentMapping(table, instrument, tuple(events), tuple(mapped), dict(constants))


def parse_mapping(text: str, origin: str) -> RedcapMapping:
    """Read a mapping file's YAML text (see the module docstring for the format).

    Raises
    ------
    ImportFileError
        Listing every problem of the mapping (unknown tables, columns or keys, required
        columns left unmapped).
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = ImportProblem(origin, None, None, None, None, f"not valid YAML ({error})")
        raise ImportFileError(origin, [problem]) from None
    reader = _MappingReader(origin)
    if not isinstance(data, Mapping):
        reader.fail("document", type(data).__name__, "expected a mapping")
        raise ImportFileError(origin, reader.problems)
    reader.keys(data, {"format", "version", "study_id_field", "tables"}, "document")
    if data.get("format") != _FORMAT or data.get("version") != 1:
        reader.fail("format", data.get("format"), f"format: {_FORMAT} with version: 1")
    study_id_field = reader.text(data.get("study_id_field", "record_id"), "study_id_field")
    raw_entries = data.get("tables")
    if not isinstance(raw_entries, list) or not raw_entries:
        reader.fail("tables", raw_entries, "expected a list of instrument mappings")
        raw_entries = []
    entries = [reader.entry(raw, f"tables[{i}]") for i, raw in enumerate(raw_entries)]
    if reader.problems or study_id_field is None:
        raise ImportFileError(origin, reader.problems)
    return RedcapMapping(origin, study_id_field, tuple(e for e in entries if e is not None))


def _json_scalar(text: str) -> object:
    lowered = text.casefold()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if _NUMBER.fullmatch(text):
        number = float(text)
        return (
            int(number)
            if number.is_integer() and "." not in text and "e" not in lowered
            else number
        )
    return text


def redcap_tables(
    export: SourceTable, mapping: RedcapMapping
) -> tuple[list[SourceTable], list[ImportProblem]]:
    """Turn a REDCap flat export (its raw CSV table) into one raw table per mapping entry.

    Returns the tables and the problems found (fields the export lacks, codes without a
    translation); cell values are checked later against the dictionary.
    """
    file = export.file
    index = {name: i for i, name in enumerate(export.header)}
    problems: list[ImportProblem] = []

    def missing(field: str) -> None:
        problems.append(
            ImportProblem(
                file,
                None,
                1,
                field,
                None,
                f"field of the mapping ({mapping.origin}) missing from the export",
            )
        )

    if mapping.study_id_field not in index:
        missing(mapping.study_id_field)
        return [], problems
    repeating = set()
    if _REPEAT in index:
        repeating = {
            cells[index[_REPEAT]].strip() for _, cells in export.rows if len(cells) > index[_REPEAT]
        }
    tables: list[SourceTable] = []
    for entry in mapping.entries:
        absent = [f.field for f in entry.fields if f.field not in index]
        if entry.events and _EVENT not in index:
            absent.append(_EVENT)
        for field in absent:
            missing(field)
        if absent:
            continue
        tables.append(
            _entry_table(
                export,
                entry,
                mapping.study_id_field,
                index,
                entry.instrument in repeating,
                problems,
            )
        )
    return tables, problems


def _entry_table(
    export: SourceTable,
    entry: InstrumentMapping,
    study_id_field: str,
    index: Mapping[str, int],
    repeating: bool,
    problems: list[ImportProblem],
) -> SourceTable:
    plain = [f for f in entry.fields if f.key is None]
    objects = sorted({f.column for f in entry.fields if f.key is not None})
    header = ("study_id", *(f.column for f in plain), *objects, *entry.constants)
    labels = (
        study_id_field,
        *(f.field for f in plain),
        *(", ".join(f.field for f in entry.fields if f.column == c) for c in objects),
        *(f"{c} (constant)" for c in entry.constants),
    )
    rows: list[tuple[int, tuple[Any, ...]]] = []

    def cell(cells: tuple[Any, ...], name: str) -> str:
        i = index[name]
        return cells[i].strip() if i < len(cells) else ""

    def translate(number: int, mapped: FieldMapping, raw: str) -> str | None:
        if not raw or not mapped.values or raw in mapped.values.values():
            return raw or None
        if raw in mapped.values:
            return mapped.values[raw]
        problems.append(
            ImportProblem(
                export.file,
                None,
                number,
                mapped.field,
                raw,
                "a REDCap code without a translation in the mapping's values",
            )
        )
        return None

    for number, cells in export.rows:
        instrument = cell(cells, _REPEAT) if _REPEAT in index else ""
        if entry.events and cell(cells, _EVENT) not in entry.events:
            continue
        if (instrument != entry.instrument) if repeating else bool(instrument):
            continue
        raw = [cell(cells, f.field) for f in entry.fields]
        # Every row names its event: an event name alone is not data of the instrument.
        if not any(text for f, text in zip(entry.fields, raw, strict=True) if f.field != _EVENT):
            continue
        plain_values: list[str | None] = []
        objects_of_row: dict[str, dict[str, object]] = {c: {} for c in objects}
        for mapped, text in zip(entry.fields, raw, strict=True):
            translated = translate(number, mapped, text)
            if mapped.key is None:
                plain_values.append(translated)
            elif translated is not None:
                objects_of_row[mapped.column][mapped.key] = _json_scalar(translated)
        row = (
            cell(cells, study_id_field),
            *plain_values,
            *(objects_of_row[c] or None for c in objects),
            *entry.constants.values(),
        )
        rows.append((number, row))
    return SourceTable(
        entry.table, export.file, f"{entry.instrument} → {entry.table}", header, labels, rows
    )
