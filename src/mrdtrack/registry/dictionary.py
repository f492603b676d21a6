"""The published data dictionary of the registry's tabular import and export, as data.

One :class:`TableSpec` per importable table, in the long format: one row per record,
rows referring to their patient by ``study_id`` and MRD results to their sample by
``study_id`` + ``sample_date`` + ``timepoint``. Each :class:`ColumnSpec` names its type,
unit, whether it is required, its allowed values (the codes of
:mod:`mrdtrack.registry.vocabulary` and of the MRD engine) and its range.

The same data drives the importer (:func:`mrdtrack.registry.cells.parse_cell` reads a
cell by its column's type), the exporters, the privacy modes (``free_text`` columns are
dropped, ``date`` columns shifted or reduced) and the documentation:
``docs/data-dictionary.md`` is :func:`dictionary_markdown` verbatim — regenerate it with
``mrdtrack dictionary --markdown > docs/data-dictionary.md``; a test fails when it
differs.

MRD values are never typed in (domain rules §0.2): an ``mrd_results`` row carries the
raw inputs of the engine function of its method, and the columns marked ``derived``
(status, fraction, sensitivity …) are written by exports for reading and ignored by
imports, which recompute them with the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.mrd.profiles import FLOW_PROFILES, NGS_PROFILES, QPCR_PROFILES
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.registry.records import HCT_DONOR_TYPES, MRD_INPUT_KEYS
from mrdtrack.registry.vocabulary import (
    GeneticSubtype,
    MarkerKind,
    OutcomeKind,
    Response,
    Sex,
    Timepoint,
    Tissue,
    TreatmentKind,
)

__all__ = [
    "DICTIONARY",
    "DICTIONARY_VERSION",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "TREATMENT_DETAILS",
    "ColumnSpec",
    "ColumnType",
    "TableRows",
    "TableSpec",
    "dictionary_json",
    "dictionary_markdown",
    "table_spec",
]

DICTIONARY_VERSION = "1"
"""Bumped whenever a column is added or its meaning changes (codes are never renamed)."""

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
"""Plausible dates: anything outside is a typing error (a year 1021 or 2201)."""


class ColumnType(StrEnum):
    """What a cell holds (and so what an import accepts in it)."""

    TEXT = "text"
    CODE = "code"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    NUMBER_LIST = "number list"
    TEXT_LIST = "text list"
    JSON_OBJECT = "json object"


_TYPE_HELP = {
    ColumnType.TEXT: "text (surrounding spaces removed; no control characters)",
    ColumnType.CODE: "one of the allowed values (case is ignored on import)",
    ColumnType.INTEGER: "a whole number",
    ColumnType.NUMBER: "a decimal number with a point (1e-5 accepted; no thousands separators)",
    ColumnType.DATE: (
        f"a calendar date YYYY-MM-DD (or a date cell in XLSX) from {EARLIEST_DATE} to {LATEST_DATE}"
    ),
    ColumnType.BOOLEAN: "true/false (also yes/no, 1/0)",
    ColumnType.NUMBER_LIST: "numbers separated by ';'",
    ColumnType.TEXT_LIST: "text items separated by ';'",
    ColumnType.JSON_OBJECT: 'a JSON object of text, number, true/false or null values: {"key": 1}',
}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a table of the data dictionary.

    Attributes
    ----------
    name
        The column header, exactly.
    type
        What the cell holds.
    description
        What the value means, in words.
    required
        Whether every row must have a value.
    unit
        The unit of a number (``None`` for dimensionless or text).
    allowed
        The allowed codes of a ``code`` column (or of each item of a list).
    pattern
        A regular expression of further allowed codes (``POST_HCT_D<day>``).
    minimum, maximum, min_inclusive, max_inclusive
        The range of a number (or of each item of a number list).
    max_length
        The longest text accepted (the registry's column width).
    free_text
        Free text that may hold anything a person typed: dropped by the privacy exports.
    derived
        Computed by mrdtrack: written by exports, ignored by imports (recomputed).
    """

    name: str
    type: ColumnType
    description: str
    required: bool = False
    unit: str | None = None
    allowed: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    max_length: int | None = None
    free_text: bool = False
    derived: bool = False

    @property
    def range_text(self) -> str:
        """The numeric range in words (``"≥ 0"``, ``"> 0 and ≤ 1"``), or ``""``."""
        parts = []
        if self.minimum is not None:
            parts.append(f"{'≥' if self.min_inclusive else '>'} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'≤' if self.max_inclusive else '<'} {self.maximum:g}")
        return " and ".join(parts)

    @property
    def expected(self) -> str:
        """What a valid cell looks like, for error messages."""
        if self.type is ColumnType.CODE:
            codes = ", ".join(self.allowed)
            return f"one of: {codes}" + (" or POST_HCT_D<day>" if self.pattern else "")
        noun = {
            ColumnType.INTEGER: "a whole number",
            ColumnType.NUMBER: "a number",
            ColumnType.NUMBER_LIST: "numbers separated by ';', each",
        }.get(self.type)
        if noun is not None:
            return f"{noun} {self.range_text}".strip()
        if self.type is ColumnType.TEXT and self.max_length:
            return f"text of at most {self.max_length} characters"
        return _TYPE_HELP[self.type]


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One importable table: its columns and the key other tables refer to it by."""

    name: str
    entity: str
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise InputError("column", name, f"a column of {self.name}: {', '.join(self.names)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def input_names(self) -> tuple[str, ...]:
        """The columns an import reads (every column but the derived ones)."""
        return tuple(c.name for c in self.columns if not c.derived)


@dataclass(frozen=True, slots=True)
class TableRows:
    """Rows of one table in the dictionary's shape, as exports write and imports read them.

    ``rows`` map column names to plain values: ``str``, ``int``, ``float``, ``bool``,
    ``date``, a tuple (list columns), a dict (JSON columns) or ``None``.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]


def _text(name: str, description: str, max_length: int | None = None, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.TEXT, description, max_length=max_length, **kw)


def _code(name: str, allowed: Sequence[str], description: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.CODE, description, allowed=tuple(allowed), **kw)


def _number(name: str, unit: str | None, description: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.NUMBER, description, unit=unit, **kw)


def _integer(name: str, unit: str | None, description: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.INTEGER, description, unit=unit, **kw)


def _date(name: str, description: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.DATE, description, required=required)


def _boolean(name: str, description: str) -> ColumnSpec:
    return ColumnSpec(name, ColumnType.BOOLEAN, description)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_STUDY_ID = _text(
    "study_id",
    "The patient's pseudonymous study id (a patients row of the same import, or a patient "
    "already in the registry). Never a name or a medical record number.",
    64,
    required=True,
)
_RECONSTRUCTED = ColumnSpec(
    "reconstructed",
    ColumnType.TEXT_LIST,
    "Fields of this row that the source did not state but were reconstructed (demo data).",
)
_FRACTION: dict[str, Any] = {"minimum": 0.0, "maximum": 1.0, "min_inclusive": False}
_POSITIVE_NUMBER: dict[str, Any] = {"minimum": 0.0, "min_inclusive": False}
_PROFILES = sorted(set(FLOW_PROFILES) | set(QPCR_PROFILES) | set(NGS_PROFILES))


def _mrd_inputs() -> tuple[ColumnSpec, ...]:
    def used_by(name: str) -> str:
        methods = [m for m, (req, opt) in MRD_INPUT_KEYS.items() if name in req | opt]
        required = [m for m, (req, _) in MRD_INPUT_KEYS.items() if name in req]
        text = "Input of " + ", ".join(methods)
        return text + (f" (required for {', '.join(required)})" if required else "") + ". "

    specs = (
        _integer("leukemic_events", "events", "Events in the LAIP gate.", minimum=0),
        _integer("total_events", "events", "Events in the denominator population.", minimum=1),
        _number("fusion_copies", "copies", "Fusion-transcript copies, summed.", minimum=0),
        _number(
            "control_copies",
            "copies",
            "Control-gene copies (ABL1), summed over the replicates.",
            minimum=0,
            min_inclusive=False,
        ),
        _integer("replicates", None, "Replicates summed (default 1).", minimum=1),
        _integer("fusion_replicates", None, "Fusion-gene replicates run.", minimum=1),
        _integer("fusion_positive_replicates", None, "Fusion replicates with a signal.", minimum=0),
        _number("assay_sensitivity_fraction", "fraction", "The assay's sensitivity.", **_FRACTION),
        _number(
            "lowest_quantifiable_copies",
            "copies",
            "The lowest reproducibly quantifiable copies (quantitative range).",
            minimum=0,
            min_inclusive=False,
        ),
        ColumnSpec(
            "clonal_cells",
            ColumnType.NUMBER_LIST,
            "Clonal cell equivalents of each tracked sequence (0 if not found).",
            unit="cell equivalents",
            minimum=0.0,
        ),
        _number("dna_input_ng", "ng", "DNA input (or give cells_evaluated).", **_POSITIVE_NUMBER),
        _number("cells_evaluated", "cells", "Cells evaluated.", **_POSITIVE_NUMBER),
        _number("lab_lod_fraction", "fraction", "The lab's limit of detection.", **_FRACTION),
        _number("lab_loq_fraction", "fraction", "The lab's limit of quantification.", **_FRACTION),
    )
    return tuple(
        ColumnSpec(
            s.name,
            s.type,
            used_by(s.name) + s.description,
            unit=s.unit,
            minimum=s.minimum,
            maximum=s.maximum,
            min_inclusive=s.min_inclusive,
            max_inclusive=s.max_inclusive,
        )
        for s in specs
    )


_DERIVED_MRD = (
    ColumnSpec(
        "status", ColumnType.CODE, "The engine's call.", allowed=_values(MrdStatus), derived=True
    ),
    ColumnSpec(
        "mrd_fraction",
        ColumnType.NUMBER,
        "The MRD level as a fraction (empty when nothing was measured).",
        unit="fraction",
        derived=True,
    ),
    ColumnSpec(
        "sensitivity_fraction",
        ColumnType.NUMBER,
        "The sensitivity this test reached.",
        unit="fraction",
        derived=True,
    ),
    ColumnSpec("qc_flags", ColumnType.TEXT_LIST, "Quality-control flags.", derived=True),
    ColumnSpec(
        "profile_applied", ColumnType.TEXT, "The engine profile and its version.", derived=True
    ),
    ColumnSpec("rule", ColumnType.TEXT, "The domain rule ids applied.", derived=True),
    ColumnSpec("engine_version", ColumnType.TEXT, "The mrdtrack version.", derived=True),
)

DICTIONARY: tuple[TableSpec, ...] = (
    TableSpec(
        "patients",
        "patient",
        "One row per patient. Direct identifiers (names, MRN) are never imported or exported.",
        (
            _STUDY_ID,
            _text(
                "site_code", "Code of the participating site; created when new.", 32, required=True
            ),
            _text("site_name", "Name of a site not yet in the registry (default: its code).", 200),
            _code("sex", _values(Sex), "Sex as recorded in the clinical record.", required=True),
            _date("birth_date", "Date of birth."),
            _text("notes", "Free-text notes.", free_text=True),
            _RECONSTRUCTED,
        ),
        key=("study_id",),
    ),
    TableSpec(
        "diagnoses",
        "diagnosis",
        "The diagnosis of B-ALL: genetics, Ph and CD19 status, presenting features, risk.",
        (
            _STUDY_ID,
            _date("diagnosis_date", "Date of diagnosis (day 0 of de-identified exports).", True),
            _code(
                "genetic_subtype",
                _values(GeneticSubtype),
                "The leading genetic lesion (WHO-HAEM5 / ICC 2022 names).",
                required=True,
            ),
            _boolean("ph_positive", "Philadelphia chromosome (BCR::ABL1) positive."),
            _boolean("cd19_positive", "CD19 expressed on the blasts (blinatumomab target)."),
            _number("wbc_per_ul", "cells/µL", "White-cell count at diagnosis.", minimum=0),
            _text("cns_status", "CNS status (CNS1, CNS2, CNS3).", 16),
            _text("risk_group", "Risk group as assigned by the protocol.", 64),
            _text("protocol", "Front-line protocol.", 64),
            _RECONSTRUCTED,
        ),
    ),
    TableSpec(
        "markers",
        "mrd_marker",
        "The MRD marker defined on the diagnostic sample.",
        (
            _STUDY_ID,
            _text(
                "key", "The marker's name, unique per patient (MRD rows use it).", 64, required=True
            ),
            _code("kind", _values(MarkerKind), "The kind of marker.", required=True),
            _text("transcript", "Fusion transcript, e.g. TCF3::PBX1 (fusion_transcript).", 64),
            _number(
                "diagnosis_ncn",
                "fusion/control copies",
                "Normalized copy number of the diagnostic sample (fusion_transcript only).",
                **_POSITIVE_NUMBER,
            ),
            _text("definition", "LAIP or clonotype definition.", free_text=True),
            _RECONSTRUCTED,
        ),
        key=("study_id", "key"),
    ),
    TableSpec(
        "samples",
        "sample",
        "A specimen taken at a time point; MRD rows refer to it by date and time point.",
        (
            _STUDY_ID,
            _date("sample_date", "Date the specimen was taken.", True),
            _code(
                "timepoint",
                _values(Timepoint),
                "Time-point code (domain rules §5.4).",
                required=True,
                pattern=r"POST_HCT_D\d{1,4}",
            ),
            _code("tissue", _values(Tissue), "BM bone marrow, PB peripheral blood.", required=True),
            _RECONSTRUCTED,
        ),
        key=("study_id", "sample_date", "timepoint"),
    ),
    TableSpec(
        "mrd_results",
        "mrd_result",
        "The raw inputs of one MRD measurement of a sample; the MRD engine computes the value.",
        (
            _STUDY_ID,
            _date("sample_date", "Date of the sample measured.", True),
            ColumnSpec(
                "timepoint",
                ColumnType.CODE,
                "Time point of the sample measured.",
                required=True,
                allowed=_values(Timepoint),
                pattern=r"POST_HCT_D\d{1,4}",
            ),
            _text("marker", "Key of the patient's marker (required for rq-pcr).", 64),
            _code("method", tuple(MRD_INPUT_KEYS), "The MRD method.", required=True),
            _code("profile", _PROFILES, "Engine profile id (empty: the method's default)."),
            *_mrd_inputs(),
            _RECONSTRUCTED,
            *_DERIVED_MRD,
        ),
    ),
    TableSpec(
        "assessments",
        "disease_assessment",
        "A disease assessment: marrow blasts, extramedullary disease, response.",
        (
            _STUDY_ID,
            _date("assessment_date", "Date of the assessment.", True),
            _code("response", _values(Response), "Response (domain rules §11.1).", required=True),
            _number("marrow_blast_percent", "%", "Marrow blasts.", minimum=0, maximum=100),
            _boolean("extramedullary", "Extramedullary disease present."),
            _integer("remission_number", None, "CR1 = 1 …; only with CR, CRh or CRi.", minimum=1),
            _RECONSTRUCTED,
        ),
    ),
    TableSpec(
        "treatments",
        "treatment_course",
        "A course of therapy; the detail columns a kind needs are named in their description.",
        (
            _STUDY_ID,
            _code("kind", _values(TreatmentKind), "The kind of course.", required=True),
            _date("start_date", "First day of the course.", True),
            _date("end_date", "Last day of the course (empty while ongoing)."),
            _integer("cycle", None, "Cycle number.", minimum=1),
            _text("phase", "Chemotherapy phase, e.g. induction (required for chemotherapy).", 64),
            _code(
                "dose_basis",
                ("ug/m2/day", "ug/day"),
                "Blinatumomab dose basis (required for blinatumomab).",
            ),
            _number(
                "daily_dose_ug_per_m2",
                "µg/m²/day",
                "Blinatumomab daily dose when dosed per m².",
                **_POSITIVE_NUMBER,
            ),
            _number(
                "daily_dose_ug", "µg/day", "Blinatumomab fixed daily dose.", **_POSITIVE_NUMBER
            ),
            _code("donor_type", sorted(HCT_DONOR_TYPES), "HCT donor type (required for hct)."),
            _text("graft_source", "HCT graft source (BM, PBSC, cord).", 64),
            _text("conditioning", "HCT conditioning regimen.", 64),
            _number(
                "cd3_cells_per_kg",
                "CD3+ cells/kg",
                "DLI dose per kg recipient weight (required for dli).",
                **_POSITIVE_NUMBER,
            ),
            _text("agent", "Tyrosine kinase inhibitor (required for tki).", 64),
            ColumnSpec(
                "other_details",
                ColumnType.JSON_OBJECT,
                "Any other details of the course, as a JSON object.",
                free_text=True,
            ),
            _RECONSTRUCTED,
        ),
    ),
    TableSpec(
        "adverse_events",
        "adverse_event",
        "An adverse event with its grade, its scale and the raw inputs that graded it.",
        (
            _STUDY_ID,
            _text("term", "The event, e.g. cytokine release syndrome.", 64, required=True),
            _date("onset_date", "Onset.", True),
            _date("resolved_date", "Resolution (empty while ongoing)."),
            _integer("grade", None, "Grade.", minimum=1, maximum=5),
            _text("scale", "Grading scale, e.g. ASTCT-2019, CTCAE-5.0.", 32, required=True),
            ColumnSpec(
                "grading_inputs",
                ColumnType.JSON_OBJECT,
                "The inputs that graded the event; ASTCT-2019 CRS: the keyword arguments "
                "of grade_crs (temperature_c, hypotension, hypoxia …).",
            ),
            _text("management", "How the event was managed.", free_text=True),
            _RECONSTRUCTED,
        ),
    ),
    TableSpec(
        "lab_values",
        "lab_value",
        "A laboratory value with its unit as entered.",
        (
            _STUDY_ID,
            _text("test", "The test, e.g. IgG.", 32, required=True),
            _date("sample_date", "Date of the blood draw.", True),
            _number("value", "the row's unit", "The value.", required=True, minimum=0),
            _text("unit", "Unit as entered (IgG: mg/dL).", 16, required=True),
            _RECONSTRUCTED,
        ),
    ),
    TableSpec(
        "outcomes",
        "outcome_event",
        "Relapse, death, second malignancy or last contact.",
        (
            _STUDY_ID,
            _code("kind", _values(OutcomeKind), "The event.", required=True),
            _date("event_date", "Date of the event.", True),
            _text("detail", "Relapse site or cause of death.", free_text=True),
            _RECONSTRUCTED,
        ),
    ),
)
"""Every importable table, in the order an import writes them (parents first)."""

_BY_NAME = {spec.name: spec for spec in DICTIONARY}

TREATMENT_DETAILS = (
    "phase",
    "dose_basis",
    "daily_dose_ug_per_m2",
    "daily_dose_ug",
    "donor_type",
    "graft_source",
    "conditioning",
    "cd3_cells_per_kg",
    "agent",
)
"""The treatments columns stored as keys of a course's ``details`` (with ``other_details``)."""


def table_spec(name: str) -> TableSpec:
    """The table called ``name``.

    Raises
    ------
    InputError
        When no table has that name.
    """
    spec = _BY_NAME.get(name)
    if spec is None:
        raise InputError("table", name, "one of: " + ", ".join(_BY_NAME))
    return spec


# --- publication --------------------------------------------------------------------


def _column_json(column: ColumnSpec) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type.value,
        "unit": column.unit,
        "required": column.required,
        "allowed": list(column.allowed),
        "pattern": column.pattern,
        "range": column.range_text or None,
        "max_length": column.max_length,
        "free_text": column.free_text,
        "derived": column.derived,
        "description": column.description,
    }


def dictionary_json() -> dict[str, Any]:
    """The dictionary as one JSON-ready object (``mrdtrack dictionary --json``)."""
    return {
        "version": DICTIONARY_VERSION,
        "types": {t.value: help_text for t, help_text in _TYPE_HELP.items()},
        "tables": [
            {
                "name": spec.name,
                "entity": spec.entity,
                "description": spec.description,
                "key": list(spec.key),
                "columns": [_column_json(c) for c in spec.columns],
            }
            for spec in DICTIONARY
        ],
    }


_INTRO = """\
Generated from `mrdtrack.registry.dictionary`; do not edit by hand. Regenerate with
`mrdtrack dictionary --markdown > docs/data-dictionary.md` (a test fails while this file
differs from the generated text).

`mrdtrack import FILE` reads the **long format**: one CSV file per table (named after the
table, e.g. `samples.csv`, or `--table samples`), a ZIP of such CSV files, or one XLSX
workbook with one sheet per table. The first row holds the column names below; columns
may come in any order, optional columns may be left out, and unknown or repeated columns
are refused. Rows refer to their patient by `study_id`, and MRD rows to their sample by
`study_id` + `sample_date` + `timepoint`, either rows of the same import or records
already in the registry. Every row is checked; every problem is reported at once with its
file, sheet, row, column, value and reason, and nothing is written unless the whole file
is valid. Importing the same file again changes nothing.

MRD values are never typed in: an `mrd_results` row holds the raw inputs of its method's
engine function, and the engine computes the value. The *derived* columns are written
by exports for reading and ignored by imports. Text that starts with `= + - @`, a tab, a
carriage return or NUL is written by exports with a leading `'`, which imports remove.
*Free text* columns are dropped by the de-identified and pseudonymized exports.

`mrdtrack export --format csv|xlsx --purpose TEXT [--mode full|deidentified|pseudonymized]`
writes these tables (every export is audited). *deidentified* (HIPAA Safe Harbor) replaces
study ids and site codes by random labels, the birth date by the age at diagnosis
(`90+` from 90 on), the diagnosis date by its year and every other date `<name>_date` by
`<name>_day`, days from the diagnosis; *pseudonymized* moves every date of a patient back
by one random 1–364-day shift, so that intervals are exact.

A REDCap flat CSV export of a longitudinal project imports through a YAML mapping
(`mrdtrack import export.csv --mapping mapping.yaml`; the format is described in
`mrdtrack.registry.redcap`, with an example in `tests/data/redcap/`).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def dictionary_markdown() -> str:
    """The dictionary as Markdown: the text of ``docs/data-dictionary.md``."""
    lines = [f"# Data dictionary (version {DICTIONARY_VERSION})", "", _INTRO]
    lines += ["## Cell types", "", "| type | accepted |", "| --- | --- |"]
    lines += [f"| {t.value} | {_cell(help_text)} |" for t, help_text in _TYPE_HELP.items()]
    for spec in DICTIONARY:
        lines += ["", f"## {spec.name}", "", spec.description]
        if spec.key:
            lines += ["", "Other tables refer to a row by: " + ", ".join(spec.key) + "."]
        lines += [
            "",
            "| column | type | unit | required | allowed values | range | description |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in spec.columns:
            allowed = ", ".join(c.allowed) + (" or POST_HCT_D<day>" if c.pattern else "")
            if c.max_length:
                allowed = allowed or f"≤ {c.max_length} characters"
            notes = [c.description]
            if c.free_text:
                notes.append("*Free text.*")
            if c.derived:
                notes.append("*Derived: exported, ignored on import.*")
            cells = (
                f"`{c.name}`",
                c.type.value,
                c.unit or "",
                "yes" if c.required else "",
                allowed,
                c.range_text,
                " ".join(notes),
            )
            lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"
