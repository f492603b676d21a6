"""Checks of imported rows: each cell, each row, across tables and against the registry.

:func:`parse_table` reads the raw cells of one table (:mod:`mrdtrack.registry.tabular`)
through the data dictionary (:func:`mrdtrack.registry.cells.parse_cell`), reporting the
header's unknown, repeated or missing columns and every invalid cell. :class:`RowChecker`
then checks what a single cell cannot show, with the rules of
:func:`mrdtrack.registry.records.parse_cohort`: study ids new or known, markers fit their
kind, remission numbers only in CR, the detail a treatment kind needs, the ASTCT inputs
of a CRS, IgG in mg/dL, nothing before the diagnosis or after the death or the last
contact, at most one death; it resolves samples (``study_id`` + ``sample_date`` +
``timepoint``) and markers in the file or the registry (:class:`Snapshot`), runs the MRD
engine on every MRD row's raw inputs, and builds the :class:`ImportPlan` of what a valid
file will write. Every problem goes to one :class:`ProblemLog`; nothing is written here.
"""

from __future__ import annotations

import difflib
import inspect
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from mrdtrack import __version__
from mrdtrack.errors import InputError
from mrdtrack.grading.crs import Hypotension, Hypoxia, grade_crs
from mrdtrack.mrd.profiles import FLOW_PROFILES, NGS_PROFILES, QPCR_PROFILES
from mrdtrack.registry.cells import parse_cell
from mrdtrack.registry.dictionary import DICTIONARY, TREATMENT_DETAILS, ColumnSpec, table_spec
from mrdtrack.registry.models import Diagnosis, MrdMarker, OutcomeEvent, Patient, Sample, Site
from mrdtrack.registry.records import MRD_INPUT_KEYS, MarkerRecord, MrdInputRecord
from mrdtrack.registry.tabular import (
    ImportFileError,
    ImportProblem,
    ProgressCallback,
    SourceTable,
    shown_value,
)
from mrdtrack.registry.vocabulary import MarkerKind, OutcomeKind, Response, TreatmentKind

__all__ = [
    "CHUNK_ROWS",
    "MAX_PROBLEMS_KEPT",
    "TABLES",
    "ImportPlan",
    "MarkerKey",
    "ParsedRow",
    "ProblemLog",
    "RowChecker",
    "SampleKey",
    "Snapshot",
    "chunked",
    "load_snapshot",
    "parse_table",
]

MAX_PROBLEMS_KEPT = 1_000
"""Problems kept for the report; the rest are counted (a wrong file can fail every row)."""

CHUNK_ROWS = 5_000
TABLES = tuple(spec.name for spec in DICTIONARY)
_METHOD_MARKER = {
    "flow": MarkerKind.LAIP,
    "rq-pcr": MarkerKind.FUSION_TRANSCRIPT,
    "ngs": MarkerKind.NGS_CLONOTYPE,
}
_PROFILES: dict[str, Mapping[str, Any]] = {
    "flow": FLOW_PROFILES,
    "rq-pcr": QPCR_PROFILES,
    "ngs": NGS_PROFILES,
}
_INPUT_COLUMNS = frozenset().union(*(req | opt for req, opt in MRD_INPUT_KEYS.values()))
_KIND_NEEDS = {
    TreatmentKind.CHEMOTHERAPY.value: "phase",
    TreatmentKind.BLINATUMOMAB.value: "dose_basis",
    TreatmentKind.HCT.value: "donor_type",
    TreatmentKind.DLI.value: "cd3_cells_per_kg",
    TreatmentKind.TKI.value: "agent",
}
_DOSE_COLUMN = {"ug/m2/day": "daily_dose_ug_per_m2", "ug/day": "daily_dose_ug"}
_CRS_TERMS = {"cytokine release syndrome", "crs"}
_CRS_KEYS = frozenset(inspect.signature(grade_crs).parameters) - {"profile"}
_IN_REMISSION = {Response.CR.value, Response.CRH.value, Response.CRI.value}


class ProblemLog:
    """Every problem of one import: the first :data:`MAX_PROBLEMS_KEPT` kept, all counted."""

    def __init__(self) -> None:
        self.kept: list[ImportProblem] = []
        self.total = 0

    def add(self, problem: ImportProblem) -> None:
        """Record one problem."""
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(problem)

    def raise_if_any(self, file: str) -> None:
        """Raise :class:`ImportFileError` with every problem, if there is one."""
        if self.total:
            raise ImportFileError(file, self.kept, self.total)


@dataclass(slots=True)
class ParsedRow:
    """One row with its checked values (``None`` values left out)."""

    table: str
    file: str
    sheet: str | None
    labels: Mapping[str, str]
    number: int
    values: dict[str, Any]
    clean: bool = True

    def problem(self, column: str | None, value: object, reason: str) -> ImportProblem:
        """A problem of this row, naming the column as the file names it."""
        label = self.labels.get(column, column) if column else None
        return ImportProblem(self.file, self.sheet, self.number, label, shown_value(value), reason)

    @property
    def study_id(self) -> str | None:
        """The row's study id, when it has a valid one."""
        sid = self.values.get("study_id")
        return sid if isinstance(sid, str) else None


def _reason(error: InputError) -> str:
    reason = f"expected {error.expected}"
    return reason + (f"; {error.hint}" if error.hint else "")


def parse_table(source: SourceTable, problems: ProblemLog) -> list[ParsedRow]:
    """Check the header and every cell of one raw table; every row comes back.

    Rows with an invalid cell come back with ``clean`` false, so that the checks across
    tables still see their valid values (a patient row with a bad birth date still
    defines its study id) without piling up follow-on problems.
    """
    spec = table_spec(source.table)
    header_row = ImportProblem(source.file, source.sheet, 1, None, None, "")
    columns: list[tuple[int, ColumnSpec]] = []
    labels: dict[str, str] = {}
    for i, (name, label) in enumerate(zip(source.header, source.labels, strict=True)):
        key = name.strip().casefold()
        where = {"column": label or f"#{i + 1}", "value": shown_value(name)}
        if not key:
            problems.add(_with(header_row, reason="a column without a name", **where))
        elif key in labels:
            problems.add(_with(header_row, reason="the column appears twice", **where))
        elif key not in spec.names:
            close = difflib.get_close_matches(key, spec.input_names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            reason = f"not a column of {spec.name}{hint}; see `mrdtrack dictionary`"
            problems.add(_with(header_row, reason=reason, **where))
        else:
            labels[key] = label
            column = spec.column(key)
            if not column.derived:  # exported for reading, recomputed on import
                columns.append((i, column))
    for column in spec.columns:
        if column.required and column.name not in labels:
            reason = f"the required column {column.name} is missing"
            problems.add(_with(header_row, column=column.name, reason=reason))
    width = len(source.header)
    rows: list[ParsedRow] = []
    for number, cells in source.rows:
        row = ParsedRow(spec.name, source.file, source.sheet, labels, number, {})
        for i, column in columns:
            raw = cells[i] if i < len(cells) else None
            if raw is None or raw == "":
                if column.required:
                    problems.add(row.problem(column.name, None, "a value is required"))
                    row.clean = False
                continue
            try:
                value = parse_cell(column, raw)
            except InputError as error:
                problems.add(row.problem(column.name, raw, _reason(error)))
                row.clean = False
            else:
                if value is not None:
                    row.values[column.name] = value
        extra = [c for c in cells[width:] if c is not None and str(c).strip()]
        if extra:
            problems.add(row.problem(None, extra[0], "a value right of the last named column"))
            row.clean = False
        rows.append(row)
    return rows


def _with(problem: ImportProblem, **changes: Any) -> ImportProblem:
    return replace(problem, **changes)


# --- the registry's side of the references ----------------------------------------------


SampleKey = tuple[str, date, str]
MarkerKey = tuple[str, str]


@dataclass(slots=True)
class Snapshot:
    """What the registry holds about the patients and sites a file refers to."""

    taken: set[str] = field(default_factory=set)
    patients: dict[str, int] = field(default_factory=dict)
    sites: dict[str, tuple[int, str]] = field(default_factory=dict)
    diagnosis: dict[str, date] = field(default_factory=dict)
    death: dict[str, date] = field(default_factory=dict)
    last_contacts: dict[str, int] = field(default_factory=dict)
    markers: dict[MarkerKey, tuple[int, MarkerRecord]] = field(default_factory=dict)
    samples: dict[SampleKey, list[int]] = field(default_factory=dict)


def chunked(items: Sequence[Any], size: int = 1_000) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_snapshot(connection: Connection, study_ids: set[str], site_codes: set[str]) -> Snapshot:
    """What the registry holds about ``study_ids`` and ``site_codes``.

    A soft-deleted patient counts only as a taken study id (the unique constraint still
    holds it).
    """
    snap = Snapshot()
    for codes in chunked(sorted(site_codes)):
        for site_id, code, name in connection.execute(
            select(Site.id, Site.code, Site.name).where(Site.code.in_(codes))
        ):
            snap.sites[code] = (site_id, name)
    by_id: dict[int, str] = {}
    for sids in chunked(sorted(study_ids)):
        query = select(Patient.id, Patient.study_id, Patient.deleted_at).where(
            Patient.study_id.in_(sids)
        )
        for pid, sid, deleted_at in connection.execute(query):
            snap.taken.add(sid)
            if deleted_at is None:
                snap.patients[sid] = pid
                by_id[pid] = sid
    for pids in chunked(sorted(by_id)):
        alive = (Diagnosis.patient_id.in_(pids), Diagnosis.deleted_at.is_(None))
        for pid, first in connection.execute(
            select(Diagnosis.patient_id, func.min(Diagnosis.diagnosis_date))
            .where(*alive)
            .group_by(Diagnosis.patient_id)
        ):
            snap.diagnosis[by_id[pid]] = first
        for pid, kind, when in connection.execute(
            select(OutcomeEvent.patient_id, OutcomeEvent.kind, OutcomeEvent.event_date).where(
                OutcomeEvent.patient_id.in_(pids), OutcomeEvent.deleted_at.is_(None)
            )
        ):
            if kind == OutcomeKind.DEATH.value:
                snap.death[by_id[pid]] = when
            elif kind == OutcomeKind.LAST_CONTACT.value:
                snap.last_contacts[by_id[pid]] = snap.last_contacts.get(by_id[pid], 0) + 1
        markers = select(
            MrdMarker.id,
            MrdMarker.patient_id,
            MrdMarker.key,
            MrdMarker.kind,
            MrdMarker.transcript,
            MrdMarker.diagnosis_ncn,
            MrdMarker.definition,
        ).where(MrdMarker.patient_id.in_(pids), MrdMarker.deleted_at.is_(None))
        kinds = {k.value: k for k in MarkerKind}
        for mid, pid, key, kind, transcript, ncn, definition in connection.execute(markers):
            if kind in kinds:  # a stored kind this version does not know cannot be referred to
                record = MarkerRecord(key, kinds[kind], transcript, ncn, definition)
                snap.markers[(by_id[pid], key)] = (mid, record)
        for sid_, pid, when, timepoint in connection.execute(
            select(Sample.id, Sample.patient_id, Sample.sample_date, Sample.timepoint).where(
                Sample.patient_id.in_(pids), Sample.deleted_at.is_(None)
            )
        ):
            snap.samples.setdefault((by_id[pid], when, timepoint), []).append(sid_)
    for ids in snap.samples.values():
        ids.sort()
    return snap


# --- checks across rows, tables and the registry ----------------------------------------


@dataclass(slots=True)
class ImportPlan:
    """What a valid file will write: per table, the rows with their references by key."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    new_sites: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows to write."""
        return sum(len(rows) for rows in self.rows.values())


def _jsonable(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in mapping.items()}


class RowChecker:
    """The checks of one file against itself and the registry; builds the plan."""

    def __init__(
        self,
        tables: Mapping[str, list[ParsedRow]],
        snap: Snapshot,
        problems: ProblemLog,
        *,
        today: date | None,
        provenance: str,
        progress: ProgressCallback | None,
    ) -> None:
        self.tables = tables
        self.snap = snap
        self.problems = problems
        self.latest = None if today is None else today + timedelta(days=1)
        self.provenance = provenance
        self.progress = progress
        self.plan = ImportPlan()
        self.new_patients: set[str] = set()
        self.markers: dict[MarkerKey, MarkerRecord] = {}
        self.samples: set[SampleKey] = set()
        self.diagnosis = dict(snap.diagnosis)
        self.death = dict(snap.death)
        self.last_contact: dict[str, date] = {}

    def _fail(self, row: ParsedRow, column: str | None, value: object, reason: str) -> None:
        self.problems.add(row.problem(column, value, reason))
        row.clean = False

    def _add(self, row: ParsedRow, values: dict[str, Any]) -> None:
        if row.clean:
            values["reconstructed"] = list(row.values.get("reconstructed", ()))
            values["source"] = f"{self.provenance}:{row.sheet or row.table}:{row.number}"
            self.plan.rows[row.table].append(values)

    def run(self) -> ImportPlan:
        """Run every check; return the plan (valid only if no problem was logged)."""
        self._patients()
        for table in TABLES[1:]:
            for row in self.tables[table]:
                sid = row.study_id
                if (
                    sid is not None
                    and sid not in self.new_patients
                    and sid not in self.snap.patients
                ):
                    reason = "no such patient: add a patients row or import the patient first"
                    self._fail(row, "study_id", sid, reason)
        for row in self.tables["diagnoses"]:
            sid, when = row.study_id, row.values.get("diagnosis_date")
            if sid is not None and when is not None:
                self.diagnosis[sid] = min(when, self.diagnosis.get(sid, when))
        self._outcomes_first()
        checks = {
            "diagnoses": self._diagnosis_row,
            "markers": self._marker_row,
            "samples": self._sample_row,
            "mrd_results": self._mrd_row,
            "assessments": self._assessment_row,
            "treatments": self._treatment_row,
            "adverse_events": self._adverse_event_row,
            "lab_values": self._lab_value_row,
            "outcomes": self._outcome_row,
        }
        done, total = 0, sum(len(self.tables[table]) for table in checks)
        for table, check in checks.items():
            for row in self.tables[table]:
                self._dates(row)
                if row.clean:
                    check(row)
                done += 1
                if self.progress is not None and done % CHUNK_ROWS == 0:
                    self.progress("check", done, total)
        return self.plan

    def _patients(self) -> None:
        site_names: dict[str, str] = {}
        for row in self.tables["patients"]:
            v = row.values
            sid = row.study_id
            if sid is None:
                continue
            if sid in self.new_patients:
                self._fail(row, "study_id", sid, "a study id given twice in this file")
            elif sid in self.snap.taken:
                reason = "already in the registry (imports add patients; change one with a reason)"
                self._fail(row, "study_id", sid, reason)
            self.new_patients.add(sid)
            code, name = v.get("site_code"), v.get("site_name")
            if code in self.snap.sites:
                known = self.snap.sites[code][1]
                if name is not None and name != known:
                    self._fail(row, "site_name", name, f"site {code} is registered as {known!r}")
            elif code is not None:
                chosen = name or site_names.get(code) or code
                if name is not None and site_names.get(code, name) != name:
                    self._fail(row, "site_name", name, f"another row names site {code} differently")
                site_names[code] = chosen
            birth = v.get("birth_date")
            if self.latest is not None and birth is not None and birth > self.latest:
                self._fail(row, "birth_date", birth.isoformat(), "a date in the future")
            self._add(
                row,
                {
                    "study_id": sid,
                    "_site": code,
                    "sex": v.get("sex"),
                    "birth_date": birth,
                    "notes": v.get("notes"),
                },
            )
        self.plan.new_sites.update(site_names)

    def _outcomes_first(self) -> None:
        for row in self.tables["outcomes"]:
            sid, kind, when = row.study_id, row.values.get("kind"), row.values.get("event_date")
            if sid is None or when is None:
                continue
            if kind == OutcomeKind.DEATH.value:
                if sid in self.death and (sid in self.snap.death or self.death[sid] != when):
                    self._fail(row, "kind", kind, "a second death of this patient")
                self.death.setdefault(sid, when)
            elif kind == OutcomeKind.LAST_CONTACT.value:
                if sid in self.last_contact or self.snap.last_contacts.get(sid):
                    reason = "a second last contact: change the recorded one with a reason"
                    self._fail(row, "kind", kind, reason)
                self.last_contact.setdefault(sid, when)

    def _dates(self, row: ParsedRow) -> None:
        sid = row.study_id
        if sid is None:
            return
        diagnosed = self.diagnosis.get(sid)
        death, last = self.death.get(sid), self.last_contact.get(sid)
        for name, value in row.values.items():
            if not isinstance(value, date):
                continue
            if self.latest is not None and value > self.latest:
                self._fail(row, name, value.isoformat(), "a date in the future")
            elif diagnosed is not None and value < diagnosed and row.table != "diagnoses":
                self._fail(row, name, value.isoformat(), f"before the diagnosis ({diagnosed})")
            elif death is not None and value > death:
                self._fail(row, name, value.isoformat(), f"after the death ({death})")
            elif last is not None and value > last and name != "end_date":
                self._fail(row, name, value.isoformat(), f"after the last contact ({last})")

    def _diagnosis_row(self, row: ParsedRow) -> None:
        self._add(row, {"_patient": row.study_id, **_plain(row, "diagnoses")})

    def _marker_row(self, row: ParsedRow) -> None:
        v = row.values
        key: MarkerKey = (v["study_id"], v["key"])
        if key in self.markers or key in self.snap.markers:
            self._fail(row, "key", key[1], "this patient already has a marker with this key")
            return
        fusion = v["kind"] == MarkerKind.FUSION_TRANSCRIPT.value
        if fusion and "transcript" not in v:
            self._fail(row, "transcript", None, "required for a fusion_transcript marker")
        if not fusion and "diagnosis_ncn" in v:
            self._fail(row, "diagnosis_ncn", v["diagnosis_ncn"], "only for a fusion_transcript")
        if row.clean:
            self.markers[key] = MarkerRecord(
                key[1],
                MarkerKind(v["kind"]),
                v.get("transcript"),
                v.get("diagnosis_ncn"),
                v.get("definition"),
            )
            self._add(row, {"_patient": key[0], **_plain(row, "markers")})

    def _sample_row(self, row: ParsedRow) -> None:
        v = row.values
        key: SampleKey = (v["study_id"], v["sample_date"], v["timepoint"])
        if key in self.samples or key in self.snap.samples:
            reason = "a sample of this patient with this date and time point already exists"
            self._fail(row, "timepoint", key[2], reason)
            return
        self.samples.add(key)
        self._add(row, {"_patient": key[0], **_plain(row, "samples")})

    def _mrd_row(self, row: ParsedRow) -> None:
        v = row.values
        sid, method = v["study_id"], v["method"]
        key: SampleKey = (sid, v["sample_date"], v["timepoint"])
        found = len(self.snap.samples.get(key, ())) + (key in self.samples)
        if found != 1:
            reason = (
                "no sample of this patient with this date and time point: add a samples row"
                if not found
                else "several samples have this date and time point: the row is ambiguous"
            )
            self._fail(row, "timepoint", key[2], reason)
        marker_key = v.get("marker")
        marker = None
        if marker_key is not None:
            marker = self.markers.get((sid, marker_key))
            if marker is None and (sid, marker_key) in self.snap.markers:
                marker = self.snap.markers[(sid, marker_key)][1]
            if marker is None:
                self._fail(row, "marker", marker_key, "no marker with this key: add a markers row")
        wanted = _METHOD_MARKER[method]
        if (marker is None and wanted is MarkerKind.FUSION_TRANSCRIPT and marker_key is None) or (
            marker is not None and marker.kind is not wanted
        ):
            self._fail(row, "marker", marker_key, f"the key of a {wanted.value} marker")
        required, optional = MRD_INPUT_KEYS[method]
        inputs = {k: v[k] for k in _INPUT_COLUMNS if k in v}
        for name in sorted(set(inputs) - required - optional):
            allowed = ", ".join(sorted(required | optional))
            self._fail(row, name, inputs[name], f"not an input of {method} MRD ({allowed})")
        for name in sorted(required - set(inputs)):
            self._fail(row, name, None, f"required for {method} MRD")
        profile = v.get("profile")
        if profile is not None and profile not in _PROFILES[method]:
            known = ", ".join(_PROFILES[method])
            self._fail(row, "profile", profile, f"a {method} profile: {known}")
        if not row.clean:
            return
        try:
            result = MrdInputRecord(method, marker_key, inputs, profile).compute(marker)
        except InputError as error:
            column = error.field if error.field in _INPUT_COLUMNS else "method"
            self._fail(row, column, error.value, _reason(error))
            return
        self._add(
            row,
            {
                "_sample": key,
                "_marker": None if marker_key is None else (sid, marker_key),
                "method": result.method.value,
                "status": result.status.value,
                "detected": result.detected,
                "quantifiable": result.quantifiable,
                "mrd_fraction": result.mrd_fraction,
                "sensitivity_fraction": result.sensitivity_fraction,
                # The raw inputs exactly as given (the engine's echo may round them).
                "inputs": _jsonable(result.inputs) | _jsonable(inputs),
                "details": _jsonable(result.details),
                "reasons": list(result.reasons),
                "qc_flags": [flag.value for flag in result.qc_flags],
                "profile": result.profile,
                "rule": result.rule,
                "engine_version": __version__,
            },
        )

    def _assessment_row(self, row: ParsedRow) -> None:
        v = row.values
        if "remission_number" in v and v["response"] not in _IN_REMISSION:
            reason = "only with a response of CR, CRh or CRi"
            self._fail(row, "remission_number", v["remission_number"], reason)
        self._add(row, {"_patient": v["study_id"], **_plain(row, "assessments")})

    def _treatment_row(self, row: ParsedRow) -> None:
        v = row.values
        kind = v["kind"]
        need = _KIND_NEEDS.get(kind)
        if need is not None and need not in v:
            self._fail(row, need, None, f"required for a {kind} course")
        dose = _DOSE_COLUMN.get(v.get("dose_basis", ""))
        if kind == TreatmentKind.BLINATUMOMAB.value and dose is not None and dose not in v:
            self._fail(row, dose, None, f"the daily dose in {v['dose_basis']}, > 0")
        if "end_date" in v and v["end_date"] < v["start_date"]:
            self._fail(row, "end_date", v["end_date"].isoformat(), "on or after start_date")
        details = {k: v[k] for k in TREATMENT_DETAILS if k in v}
        for key, value in (v.get("other_details") or {}).items():
            if key in TREATMENT_DETAILS or key in details:
                self._fail(row, "other_details", key, f"{key} has its own column")
            details[key] = value
        self._add(
            row,
            {
                "_patient": v["study_id"],
                "kind": kind,
                "start_date": v["start_date"],
                "end_date": v.get("end_date"),
                "cycle": v.get("cycle"),
                "details": details,
            },
        )

    def _adverse_event_row(self, row: ParsedRow) -> None:
        v = row.values
        if "resolved_date" in v and v["resolved_date"] < v["onset_date"]:
            self._fail(
                row, "resolved_date", v["resolved_date"].isoformat(), "on or after onset_date"
            )
        inputs: dict[str, Any] = dict(v.get("grading_inputs") or {})
        if v["term"].casefold() in _CRS_TERMS and v["scale"] == "ASTCT-2019":
            for key in sorted(set(inputs) - _CRS_KEYS):
                known = ", ".join(sorted(_CRS_KEYS))
                self._fail(row, "grading_inputs", key, f"not an ASTCT-2019 CRS input ({known})")
            for key, enum in (("hypotension", Hypotension), ("hypoxia", Hypoxia)):
                if inputs.get(key) not in {m.value for m in enum}:
                    allowed = ", ".join(m.value for m in enum)
                    self._fail(row, "grading_inputs", inputs.get(key), f"{key}: one of {allowed}")
            temperature = inputs.get("temperature_c")
            if temperature is not None and (
                isinstance(temperature, bool | str) or not 25 <= temperature <= 45
            ):
                self._fail(row, "grading_inputs", temperature, "temperature_c: °C within 25–45")
        self._add(
            row,
            {
                "_patient": v["study_id"],
                **_plain(row, "adverse_events", skip={"grading_inputs"}),
                "grading_inputs": inputs,
            },
        )

    def _lab_value_row(self, row: ParsedRow) -> None:
        v = row.values
        if v["test"] == "IgG" and v["unit"] != "mg/dL":
            self._fail(row, "unit", v["unit"], "mg/dL for IgG (1 g/L = 100 mg/dL)")
        self._add(row, {"_patient": v["study_id"], **_plain(row, "lab_values")})

    def _outcome_row(self, row: ParsedRow) -> None:
        self._add(row, {"_patient": row.study_id, **_plain(row, "outcomes")})


def _plain(
    row: ParsedRow, table: str, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The row's values of the columns stored as they are (all but references and lists)."""
    spec = table_spec(table)
    return {
        c.name: row.values.get(c.name)
        for c in spec.columns
        if c.name not in {"study_id", "reconstructed", *skip} and not c.derived
    }
