"""Cohort records: the registry's plain-value exchange format, and its validator.

A :class:`CohortDocument` holds sites and patients as frozen values, in the shape of the
registry data model (shared/ARCHITECTURE.md): a patient's diagnosis, MRD markers,
samples with the *raw* MRD inputs, disease assessments, treatments, adverse events with
the inputs that graded them, laboratory values and outcome events. MRD values are never
typed in: :meth:`MrdInputRecord.compute` runs the MRD engine on the raw inputs (domain
rules §0.2, "store raw data; derived % are recomputed").

Every value a source did not state is listed by its dotted path in
:attr:`PatientRecord.reconstructed` (``"birth_date"``, ``"samples"``,
``"treatments[2].start_date"``), so that demo data never passes for observed data.

:func:`parse_cohort` reads the mapping that :func:`to_mapping` writes (YAML or JSON) and
validates all of it before returning anything: unknown keys, wrong types, bad dates,
unknown vocabulary, samples that name an unknown marker, MRD inputs the engine refuses,
dates out of order, duplicate ids. The first problem raises
:class:`~mrdtrack.errors.ImportValidationError` whose ``location`` is
``"<origin>: patients[3].samples[1].tissue"``.
"""

from __future__ import annotations

import inspect
import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.grading.crs import Hypotension, Hypoxia, grade_crs
from mrdtrack.mrd.flow import flow_mrd
from mrdtrack.mrd.ngs import ngs_mrd
from mrdtrack.mrd.profiles import FLOW_PROFILES, NGS_PROFILES, QPCR_PROFILES, VersionedProfile
from mrdtrack.mrd.qpcr import Transcript, qpcr_mrd
from mrdtrack.mrd.result import MrdResult
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

MrdInputValue = float | int | str | None | tuple[float, ...]
DetailValue = str | float | int | None
GradingValue = str | float | int | bool | None


def _keywords(function: Callable[..., object]) -> tuple[frozenset[str], frozenset[str]]:
    # The diagnosis NCN and the transcript of RQ-PCR come from the marker, the profile from
    # the record: never from the inputs.
    excluded = {"profile", "diagnosis_ncn", "transcript", "extra_flags", "extra_reasons"}
    params = [p for p in inspect.signature(function).parameters.values() if p.name not in excluded]
    required = frozenset(p.name for p in params if p.default is inspect.Parameter.empty)
    return required, frozenset(p.name for p in params) - required


MRD_INPUT_KEYS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = types.MappingProxyType(
    {"flow": _keywords(flow_mrd), "rq-pcr": _keywords(qpcr_mrd), "ngs": _keywords(ngs_mrd)}
)
"""The raw inputs of each MRD method: ``(required, optional)`` engine keyword names."""

_METHOD_MARKER = {
    "flow": MarkerKind.LAIP,
    "rq-pcr": MarkerKind.FUSION_TRANSCRIPT,
    "ngs": MarkerKind.NGS_CLONOTYPE,
}
_PROFILES: Mapping[str, Mapping[str, VersionedProfile]] = {
    "flow": FLOW_PROFILES,
    "rq-pcr": QPCR_PROFILES,
    "ngs": NGS_PROFILES,
}

HCT_DONOR_TYPES = frozenset({"MSD", "MUD", "MMUD", "MMRD", "haplo", "cord", "autologous"})
"""Donor types of an HCT record (``details.donor_type``)."""

_BLINATUMOMAB_DOSE_KEYS = {"ug/m2/day": "daily_dose_ug_per_m2", "ug/day": "daily_dose_ug"}
_CRS_TERMS = {"cytokine release syndrome", "crs"}
_CRS_KEYS = frozenset(inspect.signature(grade_crs).parameters) - {"profile"}
_POST_HCT_DAY = re.compile(r"POST_HCT_D\d{1,4}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PATH_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """A participating centre."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class DiagnosisRecord:
    """The diagnosis: date, genetics, Ph and CD19 status, presenting features, risk."""

    diagnosis_date: date
    genetic_subtype: GeneticSubtype
    ph_positive: bool | None
    cd19_positive: bool | None
    wbc_per_ul: float | None
    cns_status: str | None
    risk_group: str | None
    protocol: str | None


@dataclass(frozen=True, slots=True)
class MarkerRecord:
    """An MRD marker defined on the diagnostic sample; ``key`` is unique per patient."""

    key: str
    kind: MarkerKind
    transcript: str | None
    diagnosis_ncn: float | None
    definition: str | None


@dataclass(frozen=True, slots=True)
class MrdInputRecord:
    """The raw inputs of one MRD measurement; the value comes from the engine.

    ``inputs`` holds exactly the keyword arguments of the engine function of ``method``
    (:data:`MRD_INPUT_KEYS`): ``flow`` → :func:`~mrdtrack.mrd.flow_mrd`, ``rq-pcr`` →
    :func:`~mrdtrack.mrd.qpcr_mrd` (diagnosis NCN and transcript from the marker),
    ``ngs`` → :func:`~mrdtrack.mrd.ngs_mrd`. ``profile`` is the engine profile id
    (``None``: the engine's default).
    """

    method: str
    marker: str | None
    inputs: Mapping[str, MrdInputValue]
    profile: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _frozen(self.inputs))

    def compute(self, marker: MarkerRecord | None) -> MrdResult:
        """Run the MRD engine on the raw inputs (``marker``: the one named by ``marker``).

        Raises
        ------
        InputError
            When the inputs, the marker or the profile do not fit the method.
        """
        raw = self.inputs
        if self.method == "flow":
            return flow_mrd(
                leukemic_events=_count(raw, "leukemic_events"),
                total_events=_count(raw, "total_events"),
                profile=FLOW_PROFILES[self._profile_id()] if self.profile else None,
            )
        if self.method == "rq-pcr":
            if marker is None or marker.kind is not MarkerKind.FUSION_TRANSCRIPT:
                raise InputError(
                    "marker",
                    None if marker is None else marker.key,
                    "a fusion_transcript marker (its diagnosis NCN is the MRD reference)",
                )
            known = {t.value for t in Transcript}
            return qpcr_mrd(
                fusion_copies=_number(raw, "fusion_copies"),
                control_copies=_number(raw, "control_copies"),
                diagnosis_ncn=marker.diagnosis_ncn,
                replicates=_count(raw, "replicates", 1),
                fusion_replicates=_optional_count(raw, "fusion_replicates"),
                fusion_positive_replicates=_optional_count(raw, "fusion_positive_replicates"),
                assay_sensitivity_fraction=_maybe(raw, "assay_sensitivity_fraction"),
                lowest_quantifiable_copies=_maybe(raw, "lowest_quantifiable_copies"),
                transcript=Transcript(marker.transcript) if marker.transcript in known else None,
                profile=QPCR_PROFILES[self._profile_id()] if self.profile else None,
            )
        if self.method == "ngs":
            cells = raw.get("clonal_cells")
            if not isinstance(cells, tuple):
                raise InputError("clonal_cells", cells, "a list of clonal cell equivalents")
            return ngs_mrd(
                clonal_cells=cells,
                dna_input_ng=_maybe(raw, "dna_input_ng"),
                cells_evaluated=_maybe(raw, "cells_evaluated"),
                lab_lod_fraction=_maybe(raw, "lab_lod_fraction"),
                lab_loq_fraction=_maybe(raw, "lab_loq_fraction"),
                profile=NGS_PROFILES[self._profile_id()] if self.profile else None,
            )
        raise InputError("method", self.method, f"one of: {', '.join(MRD_INPUT_KEYS)}")

    def _profile_id(self) -> str:
        catalogue = _PROFILES[self.method]
        chosen = self.profile
        if chosen is None or chosen not in catalogue:
            raise InputError("profile", chosen, f"a {self.method} profile: {', '.join(catalogue)}")
        return chosen


def _count(raw: Mapping[str, MrdInputValue], key: str, default: int | None = None) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(key, value, "a whole number")
    return value


def _optional_count(raw: Mapping[str, MrdInputValue], key: str) -> int | None:
    return None if raw.get(key) is None else _count(raw, key)


def _number(raw: Mapping[str, MrdInputValue], key: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(key, value, "a number")
    return float(value)


def _maybe(raw: Mapping[str, MrdInputValue], key: str) -> float | None:
    return None if raw.get(key) is None else _number(raw, key)


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """A specimen at a time point (§5.4 code, or ``POST_HCT_D<day>``) with its MRD inputs."""

    sample_date: date
    timepoint: str
    tissue: Tissue
    mrd: tuple[MrdInputRecord, ...]


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    """A disease assessment; ``remission_number`` (CR1 = 1) only for CR, CRh or CRi."""

    assessment_date: date
    response: Response
    marrow_blast_percent: float | None
    extramedullary: bool | None
    remission_number: int | None


@dataclass(frozen=True, slots=True)
class TreatmentRecord:
    """A course of therapy with its dose details.

    ``details`` keys by kind: blinatumomab ``dose_basis`` (``ug/m2/day`` | ``ug/day``)
    with ``daily_dose_ug_per_m2`` or ``daily_dose_ug``; hct ``donor_type``,
    ``graft_source``, ``conditioning``; dli ``cd3_cells_per_kg``; tki ``agent``;
    chemotherapy ``phase``. Other keys are kept as given.
    """

    kind: TreatmentKind
    start_date: date
    end_date: date | None
    cycle: int | None
    details: Mapping[str, DetailValue]

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", _frozen(self.details))


@dataclass(frozen=True, slots=True)
class AdverseEventRecord:
    """An adverse event with its grade, the scale and the raw inputs that graded it.

    CRS uses ``scale="ASTCT-2019"`` and the keyword arguments of
    :func:`mrdtrack.grading.crs.grade_crs` as ``grading_inputs``.
    """

    term: str
    onset_date: date
    resolved_date: date | None
    grade: int | None
    scale: str
    grading_inputs: Mapping[str, GradingValue]
    management: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "grading_inputs", _frozen(self.grading_inputs))


@dataclass(frozen=True, slots=True)
class LabValueRecord:
    """A laboratory value with its unit (IgG in mg/dL, domain rules §0.2)."""

    test: str
    sample_date: date
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """An outcome event; ``detail`` is the relapse site or the cause of death."""

    kind: OutcomeKind
    event_date: date
    detail: str | None


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """One patient under a pseudonymous study id, with everything recorded about them."""

    study_id: str
    site_code: str
    sex: Sex
    birth_date: date | None
    diagnosis: DiagnosisRecord
    markers: tuple[MarkerRecord, ...]
    samples: tuple[SampleRecord, ...]
    assessments: tuple[AssessmentRecord, ...]
    treatments: tuple[TreatmentRecord, ...]
    adverse_events: tuple[AdverseEventRecord, ...]
    lab_values: tuple[LabValueRecord, ...]
    outcomes: tuple[OutcomeRecord, ...]
    reconstructed: tuple[str, ...]
    notes: str | None

    def marker(self, key: str | None) -> MarkerRecord | None:
        """The marker called ``key`` (``None`` for ``None`` or an unknown key)."""
        return next((m for m in self.markers if key is not None and m.key == key), None)


@dataclass(frozen=True, slots=True)
class CohortDocument:
    """A cohort: its identity and provenance, its sites and its patients."""

    id: str
    title: str
    source: str
    version: str
    sites: tuple[SiteRecord, ...]
    patients: tuple[PatientRecord, ...]


# Column widths of the registry tables (mrdtrack.registry.models).
_MAX_LENGTH = (
    dict.fromkeys(("study_id", "risk_group", "protocol", "key", "transcript", "term"), 64)
    | dict.fromkeys(("code", "site_code", "timepoint", "scale", "test"), 32)
    | {"name": 200, "cns_status": 16, "unit": 16}
)


def _error(
    origin: str, path: str, value: Any, expected: str, hint: str | None = None
) -> ImportValidationError:
    field = path.rsplit(".", 1)[-1]
    return ImportValidationError(field, value, expected, location=f"{origin}: {path}", hint=hint)


def _describe(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in get_args(hint))
    if hint is type(None):
        return "null"
    if hint is date:
        return "an ISO date (YYYY-MM-DD)"
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return "one of: " + ", ".join(member.value for member in hint)
    if get_origin(hint) is tuple:
        return f"a list of ({_describe(get_args(hint)[0])})"
    if get_origin(hint) is Mapping:
        return "a mapping"
    if is_dataclass(hint):
        return "a mapping"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return names.get(hint, str(hint))


class _Reader:
    """Reads a plain mapping into records, failing at the first invalid value."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def error(
        self, path: str, value: Any, expected: str, hint: str | None = None
    ) -> ImportValidationError:
        return _error(self.origin, path, value, expected, hint)

    def record(self, cls: type[Any], raw: object, path: str) -> Any:
        if not isinstance(raw, Mapping):
            raise self.error(path or "document", raw, f"a mapping with the keys of {cls.__name__}")
        hints = _hints(cls)
        names = [f.name for f in fields(cls)]
        prefix = f"{path}." if path else ""
        for key in raw:
            if key not in hints:
                raise self.error(
                    f"{prefix}{key}", raw[key], "no such key", f"known keys: {', '.join(names)}"
                )
        values: dict[str, Any] = {}
        for name in names:
            hint = hints[name]
            if name in raw:
                values[name] = self.value(hint, raw[name], f"{prefix}{name}", name)
            elif _is_optional(hint):
                values[name] = None
            elif get_origin(hint) is tuple:
                values[name] = ()
            elif get_origin(hint) is Mapping:
                values[name] = {}
            else:
                raise self.error(f"{prefix}{name}", None, _describe(hint))
        return cls(**values)

    def value(self, hint: Any, raw: object, path: str, name: str) -> Any:
        origin = get_origin(hint)
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(hint) if a is not type(None)]
            if raw is None and len(args) < len(get_args(hint)):
                return None
            if len(args) == 1:
                return self.value(args[0], raw, path, name)
            return self.scalar(args, raw, path, hint)
        if origin is tuple:
            if not isinstance(raw, list | tuple):
                raise self.error(path, raw, _describe(hint))
            item = get_args(hint)[0]
            return tuple(self.value(item, v, f"{path}[{i}]", name) for i, v in enumerate(raw))
        if origin is Mapping:
            if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
                raise self.error(path, raw, "a mapping with text keys")
            item = get_args(hint)[1]
            return {k: self.value(item, v, f"{path}.{k}", k) for k, v in raw.items()}
        if isinstance(hint, type) and is_dataclass(hint):
            return self.record(hint, raw, path)
        if hint is date:
            return self.date(raw, path)
        if isinstance(hint, type) and issubclass(hint, StrEnum):
            if not isinstance(raw, str) or raw not in {m.value for m in hint}:
                raise self.error(path, raw, _describe(hint))
            return hint(raw)
        return self.scalar([hint], raw, path, hint, name)

    def scalar(self, allowed: list[Any], raw: object, path: str, hint: Any, name: str = "") -> Any:
        if isinstance(raw, bool):
            if bool in allowed:
                return raw
        elif isinstance(raw, int | float) and (int in allowed or float in allowed):
            if not math.isfinite(raw):
                raise self.error(path, raw, "a finite number")
            if isinstance(raw, int) and int in allowed:
                return raw
            if float in allowed:
                return float(raw)
            if float(raw).is_integer():
                return int(raw)
        elif isinstance(raw, str) and str in allowed:
            if not raw.strip():
                raise self.error(path, raw, "non-empty text")
            limit = _MAX_LENGTH.get(name)
            if limit is not None and len(raw) > limit:
                raise self.error(path, raw, f"text of at most {limit} characters")
            return raw
        elif isinstance(raw, list) and tuple[float, ...] in allowed:
            return tuple(self.scalar([float], v, f"{path}[{i}]", float) for i, v in enumerate(raw))
        raise self.error(path, raw, _describe(hint))

    def date(self, raw: object, path: str) -> date:
        if isinstance(raw, date) and type(raw) is date:
            return raw
        if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        raise self.error(path, raw, "an ISO date (YYYY-MM-DD)")


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _is_optional(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def parse_cohort(data: Mapping[str, object], origin: str) -> CohortDocument:
    """Validate a cohort mapping (as :func:`to_mapping` writes it) into records.

    All-or-nothing: nothing is returned unless every value is valid.

    Parameters
    ----------
    data
        The cohort as plain values (dates as ``date`` or ISO text, lists, mappings).
    origin
        Where it came from (a file name), the start of every error location.

    Raises
    ------
    ImportValidationError
        At the first invalid value; ``location`` is ``"<origin>: <dotted path>"``.
    """
    reader = _Reader(origin)
    document: CohortDocument = reader.record(CohortDocument, data, "")
    codes: set[str] = set()
    for i, site in enumerate(document.sites):
        if site.code in codes:
            raise reader.error(f"sites[{i}].code", site.code, "a site code used once")
        codes.add(site.code)
    study_ids: set[str] = set()
    for i, patient in enumerate(document.patients):
        path = f"patients[{i}]"
        if patient.study_id in study_ids:
            raise reader.error(f"{path}.study_id", patient.study_id, "a study id used once")
        study_ids.add(patient.study_id)
        if patient.site_code not in codes:
            raise reader.error(f"{path}.site_code", patient.site_code, f"one of the sites: {codes}")
        _check_patient(reader, patient, path)
    return document


def _check_patient(reader: _Reader, patient: PatientRecord, path: str) -> None:
    keys: set[str] = set()
    for j, marker in enumerate(patient.markers):
        where = f"{path}.markers[{j}]"
        if marker.key in keys:
            raise reader.error(f"{where}.key", marker.key, "a marker key used once per patient")
        keys.add(marker.key)
        fusion = marker.kind is MarkerKind.FUSION_TRANSCRIPT
        if fusion and marker.transcript is None:
            raise reader.error(f"{where}.transcript", None, "a transcript, e.g. TCF3::PBX1")
        if marker.diagnosis_ncn is not None and (not fusion or marker.diagnosis_ncn <= 0):
            raise reader.error(
                f"{where}.diagnosis_ncn", marker.diagnosis_ncn, "> 0, on a fusion_transcript marker"
            )
    for j, sample in enumerate(patient.samples):
        where = f"{path}.samples[{j}]"
        if sample.timepoint not in set(Timepoint) and not _POST_HCT_DAY.fullmatch(sample.timepoint):
            raise reader.error(
                f"{where}.timepoint",
                sample.timepoint,
                "a time-point code (" + ", ".join(Timepoint) + ") or POST_HCT_D<day>",
            )
        for k, mrd in enumerate(sample.mrd):
            _check_mrd(reader, patient, mrd, f"{where}.mrd[{k}]")
    for j, assessment in enumerate(patient.assessments):
        where = f"{path}.assessments[{j}]"
        blasts = assessment.marrow_blast_percent
        if blasts is not None and not 0 <= blasts <= 100:
            raise reader.error(f"{where}.marrow_blast_percent", blasts, "a percentage 0–100")
        number = assessment.remission_number
        in_cr = assessment.response in (Response.CR, Response.CRH, Response.CRI)
        if number is not None and (not in_cr or number < 1):
            raise reader.error(f"{where}.remission_number", number, "≥ 1, with CR, CRh or CRi")
    for j, treatment in enumerate(patient.treatments):
        _check_treatment(reader, treatment, f"{path}.treatments[{j}]")
    for j, event in enumerate(patient.adverse_events):
        _check_adverse_event(reader, event, f"{path}.adverse_events[{j}]")
    for j, lab in enumerate(patient.lab_values):
        where = f"{path}.lab_values[{j}]"
        if lab.value < 0:
            raise reader.error(f"{where}.value", lab.value, "a number ≥ 0")
        if lab.test == "IgG" and lab.unit != "mg/dL":
            raise reader.error(f"{where}.unit", lab.unit, "mg/dL for IgG (1 g/L = 100 mg/dL)")
    _check_dates(reader, patient, path)
    for j, dotted in enumerate(patient.reconstructed):
        if not _resolves(patient, dotted):
            raise reader.error(f"{path}.reconstructed[{j}]", dotted, "a patient value's path")


def _check_mrd(reader: _Reader, patient: PatientRecord, mrd: MrdInputRecord, where: str) -> None:
    if mrd.method not in MRD_INPUT_KEYS:
        raise reader.error(f"{where}.method", mrd.method, f"one of: {', '.join(MRD_INPUT_KEYS)}")
    marker = patient.marker(mrd.marker)
    if mrd.marker is not None and marker is None:
        known = ", ".join(m.key for m in patient.markers) or "none defined"
        raise reader.error(f"{where}.marker", mrd.marker, f"a marker key of this patient ({known})")
    wanted = _METHOD_MARKER[mrd.method]
    if (marker is None and wanted is MarkerKind.FUSION_TRANSCRIPT) or (
        marker is not None and marker.kind is not wanted
    ):
        raise reader.error(f"{where}.marker", mrd.marker, f"the key of a {wanted.value} marker")
    required, optional = MRD_INPUT_KEYS[mrd.method]
    for key in mrd.inputs:
        if key not in required | optional:
            allowed = ", ".join(sorted(required | optional))
            raise reader.error(f"{where}.inputs.{key}", mrd.inputs[key], f"one of: {allowed}")
    for key in sorted(required - set(mrd.inputs)):
        raise reader.error(f"{where}.inputs.{key}", None, f"the {mrd.method} input {key}")
    if mrd.profile is not None and mrd.profile not in _PROFILES[mrd.method]:
        catalogue = ", ".join(_PROFILES[mrd.method])
        raise reader.error(f"{where}.profile", mrd.profile, f"a {mrd.method} profile: {catalogue}")
    try:
        mrd.compute(marker)
    except InputError as error:
        field = f"{where}.inputs.{error.field}"
        raise reader.error(field, error.value, error.expected, error.hint) from error


def _check_treatment(reader: _Reader, treatment: TreatmentRecord, where: str) -> None:
    if treatment.end_date is not None and treatment.end_date < treatment.start_date:
        raise reader.error(f"{where}.end_date", str(treatment.end_date), "≥ start_date")
    if treatment.cycle is not None and treatment.cycle < 1:
        raise reader.error(f"{where}.cycle", treatment.cycle, "a cycle number ≥ 1")
    details = treatment.details

    def need(key: str, expected: str) -> None:
        if not isinstance(details.get(key), str):
            raise reader.error(f"{where}.details.{key}", details.get(key), expected)

    def dose(key: str, expected: str) -> None:
        value = details.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise reader.error(f"{where}.details.{key}", value, expected)

    if treatment.kind is TreatmentKind.BLINATUMOMAB:
        basis = details.get("dose_basis")
        if basis not in _BLINATUMOMAB_DOSE_KEYS:
            raise reader.error(f"{where}.details.dose_basis", basis, "ug/m2/day or ug/day")
        dose(_BLINATUMOMAB_DOSE_KEYS[basis], f"the daily dose in {basis}, > 0")
    elif treatment.kind is TreatmentKind.HCT:
        if details.get("donor_type") not in HCT_DONOR_TYPES:
            expected = "one of: " + ", ".join(sorted(HCT_DONOR_TYPES))
            raise reader.error(f"{where}.details.donor_type", details.get("donor_type"), expected)
    elif treatment.kind is TreatmentKind.DLI:
        dose("cd3_cells_per_kg", "CD3⁺ cells per kg recipient weight, > 0 (DLI-01)")
    elif treatment.kind is TreatmentKind.TKI:
        need("agent", "the tyrosine kinase inhibitor (e.g. imatinib)")
    elif treatment.kind is TreatmentKind.CHEMOTHERAPY:
        need("phase", "the chemotherapy phase (e.g. induction)")


def _check_adverse_event(reader: _Reader, event: AdverseEventRecord, where: str) -> None:
    if event.grade is not None and not 1 <= event.grade <= 5:
        raise reader.error(f"{where}.grade", event.grade, "a grade 1–5")
    if event.resolved_date is not None and event.resolved_date < event.onset_date:
        raise reader.error(f"{where}.resolved_date", str(event.resolved_date), "≥ onset_date")
    if event.term.lower() not in _CRS_TERMS or event.scale != "ASTCT-2019":
        return
    inputs = event.grading_inputs
    for key in inputs:
        if key not in _CRS_KEYS:
            allowed = ", ".join(sorted(_CRS_KEYS))
            raise reader.error(f"{where}.grading_inputs.{key}", inputs[key], f"one of: {allowed}")
    levels: dict[str, type[StrEnum]] = {"hypotension": Hypotension, "hypoxia": Hypoxia}
    for key, enum in levels.items():
        if inputs.get(key) not in {m.value for m in enum}:
            raise reader.error(f"{where}.grading_inputs.{key}", inputs.get(key), _describe(enum))
    temperature = inputs.get("temperature_c")
    if temperature is not None and (
        isinstance(temperature, bool | str) or not 25 <= temperature <= 45
    ):
        raise reader.error(f"{where}.grading_inputs.temperature_c", temperature, "°C within 25–45")


def _check_dates(reader: _Reader, patient: PatientRecord, path: str) -> None:
    diagnosed = patient.diagnosis.diagnosis_date
    if patient.birth_date is not None and patient.birth_date > diagnosed:
        raise reader.error(f"{path}.birth_date", str(patient.birth_date), "≤ diagnosis_date")
    dated: list[tuple[str, date]] = []
    sections: list[tuple[str, tuple[Any, ...], tuple[str, ...]]] = [
        ("samples", patient.samples, ("sample_date",)),
        ("assessments", patient.assessments, ("assessment_date",)),
        ("treatments", patient.treatments, ("start_date", "end_date")),
        ("adverse_events", patient.adverse_events, ("onset_date", "resolved_date")),
        ("lab_values", patient.lab_values, ("sample_date",)),
        ("outcomes", patient.outcomes, ("event_date",)),
    ]
    for section, items, names in sections:
        for j, item in enumerate(items):
            for name in names:
                value = getattr(item, name)
                if value is not None:
                    dated.append((f"{path}.{section}[{j}].{name}", value))
    for where, value in dated:
        if value < diagnosed:
            raise reader.error(where, value.isoformat(), f"on or after diagnosis ({diagnosed})")
    for kind in (OutcomeKind.DEATH, OutcomeKind.LAST_CONTACT):
        found = [(j, o) for j, o in enumerate(patient.outcomes) if o.kind is kind]
        if len(found) > 1:
            raise reader.error(f"{path}.outcomes[{found[1][0]}].kind", kind.value, "at most one")
        if not found:
            continue
        j, end = found[0]
        for where, value in dated:
            # A course may still run after the last contact; nothing runs after death.
            ongoing = where.endswith(".end_date") and kind is OutcomeKind.LAST_CONTACT
            if value > end.event_date and not ongoing:
                expected = f"on or before the {kind.value} ({end.event_date}, outcomes[{j}])"
                raise reader.error(where, value.isoformat(), expected)


def _resolves(patient: PatientRecord, dotted: str) -> bool:
    node: Any = patient
    for step in dotted.split("."):
        match = _PATH_STEP.fullmatch(step)
        if match is None:
            return False
        name, indices = match.groups()
        if isinstance(node, Mapping):
            if name not in node:
                return False
            node = node[name]
        elif is_dataclass(node) and name in {f.name for f in fields(node)}:
            node = getattr(node, name)
        else:
            return False
        for index in re.findall(r"\d+", indices):
            if not isinstance(node, tuple) or int(index) >= len(node):
                return False
            node = node[int(index)]
    return True


def to_mapping(doc: CohortDocument) -> dict[str, Any]:
    """The cohort as plain values (ISO dates, lists, dicts), as :func:`parse_cohort` reads it."""
    return {f.name: _plain(getattr(doc, f.name)) for f in fields(doc)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def load_cohort_yaml(text: str, origin: str) -> CohortDocument:
    """Parse a cohort from YAML text (``yaml.safe_load``) and validate it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "document"
        raise ImportValidationError(
            "yaml", None, "valid YAML", location=f"{origin}: {where}", hint=str(error)
        ) from None
    if not isinstance(data, Mapping):
        raise _error(origin, "document", type(data).__name__, "a mapping (id, title, … patients)")
    return parse_cohort(data, origin)


@cache
def demo_cohort() -> CohortDocument:
    """The case-report cohort packaged as ``mrdtrack/registry/demo/case_series.yaml``.

    The 11 patients of Wang Y-L et al. Hematol Rep 2024;16:347-353 (doi:
    10.3390/hematolrep16020035), with reconstructed timelines; see docs/demo-cohort.md.
    """
    resource = files("mrdtrack.registry").joinpath("demo", "case_series.yaml")
    return load_cohort_yaml(resource.read_text(encoding="utf-8"), "demo/case_series.yaml")
