"""Registry adapter: per-patient timelines, read with one query per registry table.

The figures and reports draw plain values, never ORM objects: :func:`load_timelines`
reads the registry (patients with their site, diagnoses, markers, MRD results with their
samples, assessments, treatments, adverse events, lab values and outcome events; each
table once, soft-deleted rows left out) and returns one frozen :class:`PatientTimeline`
per patient. MRD values are the stored results of the MRD engine (status, fraction,
achieved sensitivity), never recomputed here; ``reconstructed`` paths travel with every
entry so that a report can flag values a source did not state.

:func:`mrdtrack.figures.events.swimmer_rows` turns timelines into what a swimmer plot draws;
the time-zero choices are those of the end points (:class:`~mrdtrack.outcomes.histories.TimeZero`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.mrd import MrdMethod, MrdResult, MrdStatus, QcFlag
from mrdtrack.outcomes.endpoints import DAYS_PER_MONTH
from mrdtrack.outcomes.histories import TimeZero
from mrdtrack.registry.models import (
    AdverseEvent,
    Diagnosis,
    DiseaseAssessment,
    LabValue,
    MrdMarker,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    Site,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import OutcomeKind, Response, TreatmentKind

__all__ = [
    "DAYS_PER_MONTH",
    "AdverseEventEntry",
    "AssessmentEntry",
    "LabEntry",
    "MarkerEntry",
    "MrdEntry",
    "OutcomeEntry",
    "PatientTimeline",
    "TimeZero",
    "TreatmentEntry",
    "axis_label",
    "load_timelines",
    "months_between",
]


_QC_FLAGS = frozenset(flag.value for flag in QcFlag)

REMISSION = frozenset({Response.CR, Response.CRH, Response.CRI})
"""Responses that are a complete remission (domain rules §11.1)."""

CRS_TERMS = frozenset({"cytokine release syndrome", "crs"})
ICANS_TERMS = frozenset(
    {"icans", "immune effector cell-associated neurotoxicity syndrome", "neurotoxicity"}
)
ACUTE_GVHD_TERMS = frozenset({"acute graft-versus-host disease", "acute gvhd", "agvhd"})
CHRONIC_GVHD_TERMS = frozenset({"chronic graft-versus-host disease", "chronic gvhd", "cgvhd"})


def axis_label(time_zero: TimeZero) -> str:
    """The x-axis label of a figure whose time zero is ``time_zero``."""
    return {
        TimeZero.DIAGNOSIS: "Months from diagnosis",
        TimeZero.BLINATUMOMAB: "Months from first blinatumomab infusion",
        TimeZero.REMISSION: "Months from remission",
        TimeZero.HCT: "Months from HCT",
    }[time_zero]


def months_between(start: date, end: date) -> float:
    """``(end − start)`` in months of 30.4375 days (negative when ``end`` is earlier)."""
    return (end - start).days / DAYS_PER_MONTH


def _paths(value: Any) -> tuple[str, ...]:
    return tuple(str(p) for p in value) if value else ()


@dataclass(frozen=True, slots=True)
class MarkerEntry:
    """The MRD marker defined at diagnosis."""

    key: str
    kind: str
    transcript: str | None
    diagnosis_ncn: float | None
    definition: str | None


@dataclass(frozen=True, slots=True)
class TreatmentEntry:
    """One course of therapy (``details`` as stored: dose, donor, agent …)."""

    id: int
    kind: TreatmentKind
    start_date: date
    end_date: date | None
    cycle: int | None
    details: Mapping[str, Any]
    reconstructed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssessmentEntry:
    """One disease assessment."""

    id: int
    assessment_date: date
    response: Response
    marrow_blast_percent: float | None
    extramedullary: bool | None
    remission_number: int | None
    reconstructed: tuple[str, ...]

    @property
    def in_remission(self) -> bool:
        """Whether the response is CR, CRh or CRi."""
        return self.response in REMISSION


@dataclass(frozen=True, slots=True)
class MrdEntry:
    """One stored MRD result with its sample (values exactly as the engine stored them)."""

    result_id: int
    sample_id: int
    sample_date: date
    timepoint: str
    tissue: str
    marker_key: str | None
    method: MrdMethod
    status: MrdStatus
    detected: bool
    quantifiable: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None
    reasons: tuple[str, ...]
    qc_flags: tuple[str, ...]
    inputs: Mapping[str, Any]
    details: Mapping[str, Any]
    profile: str
    rule: str
    engine_version: str
    reconstructed: tuple[str, ...]

    @property
    def positive(self) -> bool:
        """Positive, quantifiable or not (the case series' "MRD+")."""
        return self.status in (MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE)

    def to_result(self) -> MrdResult:
        """The engine's value object, rebuilt from the stored values (not recomputed)."""
        return MrdResult(
            method=self.method,
            status=self.status,
            detected=self.detected,
            mrd_fraction=self.mrd_fraction,
            sensitivity_fraction=self.sensitivity_fraction,
            quantifiable=self.quantifiable,
            reasons=self.reasons,
            qc_flags=tuple(QcFlag(flag) for flag in self.qc_flags if flag in _QC_FLAGS),
            inputs=dict(self.inputs),
            profile=self.profile,
            rule=self.rule,
            details=dict(self.details),
        )


@dataclass(frozen=True, slots=True)
class AdverseEventEntry:
    """One adverse event with the inputs that graded it."""

    id: int
    term: str
    onset_date: date
    resolved_date: date | None
    grade: int | None
    scale: str
    grading_inputs: Mapping[str, Any]
    management: str | None
    reconstructed: tuple[str, ...]

    def is_term(self, terms: frozenset[str]) -> bool:
        """Whether the event's term is one of ``terms`` (case-insensitive)."""
        return self.term.strip().lower() in terms


@dataclass(frozen=True, slots=True)
class LabEntry:
    """One laboratory value with its unit as entered."""

    id: int
    test: str
    sample_date: date
    value: float
    unit: str
    reconstructed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutcomeEntry:
    """Relapse, death, second malignancy or last contact."""

    id: int
    kind: OutcomeKind
    event_date: date
    detail: str | None
    reconstructed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatientTimeline:
    """Everything the registry holds on one patient, as plain values sorted by date.

    ``reconstructed`` holds the patient row's paths (``birth_date``, whole sections such
    as ``samples``); every entry carries its own. ``diagnosis_*`` is the earliest
    diagnosis (``None`` when none is recorded).
    """

    study_id: str
    site_code: str
    sex: str
    birth_date: date | None
    notes: str | None
    source: str | None
    reconstructed: tuple[str, ...]
    diagnosis_date: date | None
    genetic_subtype: str | None
    ph_positive: bool | None
    risk_group: str | None
    protocol: str | None
    diagnosis_reconstructed: tuple[str, ...]
    markers: tuple[MarkerEntry, ...]
    treatments: tuple[TreatmentEntry, ...]
    assessments: tuple[AssessmentEntry, ...]
    mrd: tuple[MrdEntry, ...]
    adverse_events: tuple[AdverseEventEntry, ...]
    lab_values: tuple[LabEntry, ...]
    outcomes: tuple[OutcomeEntry, ...]

    def courses(self, kind: TreatmentKind) -> tuple[TreatmentEntry, ...]:
        """The courses of one kind, by start date."""
        return tuple(t for t in self.treatments if t.kind is kind)

    @property
    def first_blinatumomab(self) -> date | None:
        """The first blinatumomab infusion (``None`` without one)."""
        starts = [t.start_date for t in self.courses(TreatmentKind.BLINATUMOMAB)]
        return min(starts) if starts else None

    def origin(self, time_zero: TimeZero) -> date | None:
        """Time zero of this patient's axis (``None`` when the anchor is not recorded).

        Diagnosis, the first blinatumomab infusion or the first HCT; the remission origin
        is derived by :mod:`mrdtrack.outcomes` for end points only.
        """
        if time_zero is TimeZero.DIAGNOSIS:
            return self.diagnosis_date
        if time_zero is TimeZero.BLINATUMOMAB:
            return self.first_blinatumomab
        if time_zero is TimeZero.HCT:
            starts = [t.start_date for t in self.courses(TreatmentKind.HCT)]
            return min(starts) if starts else None
        raise InputError(
            "time_zero",
            time_zero.value,
            "diagnosis, blinatumomab or hct for a figure's time axis",
            "the remission origin is available for end points (mrdtrack survival)",
        )

    def outcome_dates(self, kind: OutcomeKind) -> tuple[date, ...]:
        """Dates of the outcome events of one kind, ascending."""
        return tuple(o.event_date for o in self.outcomes if o.kind is kind)

    @property
    def death_date(self) -> date | None:
        """The date of death (``None``: alive at last contact)."""
        deaths = self.outcome_dates(OutcomeKind.DEATH)
        return deaths[0] if deaths else None

    @property
    def end_of_follow_up(self) -> date:
        """Death, else the last contact, else the latest date recorded for the patient."""
        if self.death_date is not None:
            return self.death_date
        contacts = self.outcome_dates(OutcomeKind.LAST_CONTACT)
        if contacts:
            return contacts[-1]
        return max(self._recorded_dates())

    def _recorded_dates(self) -> Iterable[date]:
        if self.diagnosis_date is not None:
            yield self.diagnosis_date
        for t in self.treatments:
            yield t.end_date or t.start_date
        yield from (a.assessment_date for a in self.assessments)
        yield from (m.sample_date for m in self.mrd)
        yield from (e.resolved_date or e.onset_date for e in self.adverse_events)
        yield from (v.sample_date for v in self.lab_values)
        yield from (o.event_date for o in self.outcomes)

    def relapse_dates(self) -> tuple[date, ...]:
        """Relapses: the outcome events and the assessments with response ``relapse``.

        The registry records a relapse before blinatumomab as an assessment only and one
        after it as both; the same date counts once.
        """
        dates = set(self.outcome_dates(OutcomeKind.RELAPSE))
        dates.update(a.assessment_date for a in self.assessments if a.response is Response.RELAPSE)
        return tuple(sorted(dates))

    def age_years(self, on: date) -> float | None:
        """Age on a date, ``days / 365.25`` (``None`` without a birth date)."""
        if self.birth_date is None:
            return None
        return (on - self.birth_date).days / 365.25

    def section_reconstructed(self, section: str) -> bool:
        """Whether a whole section (``samples``, ``lab_values`` …) was reconstructed."""
        return section in self.reconstructed

    @property
    def all_reconstructed(self) -> tuple[str, ...]:
        """Every reconstructed path of the patient, the entries' included, sorted."""
        paths = set(self.reconstructed) | set(self.diagnosis_reconstructed)
        for group in (
            self.treatments,
            self.assessments,
            self.mrd,
            self.adverse_events,
            self.lab_values,
            self.outcomes,
        ):
            for entry in group:
                paths.update(entry.reconstructed)
        return tuple(sorted(paths))


def load_timelines(
    session: Session, study_ids: Sequence[str] | None = None
) -> tuple[PatientTimeline, ...]:
    """Read the registry into one :class:`PatientTimeline` per patient, by study id.

    Parameters
    ----------
    session
        An open registry session (read only).
    study_ids
        Only these patients (default: every patient not deleted).

    Raises
    ------
    NotFoundError
        A requested study id is not in the registry.
    """
    query = (
        select(
            Patient.id,
            Patient.study_id,
            Site.code,
            Patient.sex,
            Patient.birth_date,
            Patient.notes,
            Patient.source,
            Patient.reconstructed,
        )
        .join(Site, Site.id == Patient.site_id)
        .where(Patient.deleted_at.is_(None))
        .order_by(Patient.study_id)
    )
    if study_ids is not None:
        query = query.where(Patient.study_id.in_(list(study_ids)))
    patients = session.execute(query).all()
    if study_ids is not None:
        missing = sorted(set(study_ids) - {row.study_id for row in patients})
        if missing:
            raise NotFoundError("patient", missing[0])
    ids = [row.id for row in patients]
    if not ids:
        return ()
    subset = study_ids is not None
    tables = _Tables(session, ids if subset else None)
    return tuple(tables.timeline(row) for row in patients)


class _Tables:
    """Each registry table read once and grouped by patient id."""

    def __init__(self, session: Session, ids: list[int] | None) -> None:
        self.diagnoses = _grouped(session, Diagnosis, ids, Diagnosis.diagnosis_date)
        self.markers = _grouped(session, MrdMarker, ids, MrdMarker.key)
        self.treatments = _grouped(session, TreatmentCourse, ids, TreatmentCourse.start_date)
        self.assessments = _grouped(
            session, DiseaseAssessment, ids, DiseaseAssessment.assessment_date
        )
        self.events = _grouped(session, AdverseEvent, ids, AdverseEvent.onset_date)
        self.labs = _grouped(session, LabValue, ids, LabValue.sample_date)
        self.outcomes = _grouped(session, OutcomeEvent, ids, OutcomeEvent.event_date)
        self.mrd = _mrd_results(session, ids)

    def timeline(self, row: Any) -> PatientTimeline:
        pid = row.id
        diagnoses = self.diagnoses.get(pid, [])
        dx = diagnoses[0] if diagnoses else None
        return PatientTimeline(
            study_id=row.study_id,
            site_code=row.code,
            sex=row.sex,
            birth_date=row.birth_date,
            notes=row.notes,
            source=row.source,
            reconstructed=_paths(row.reconstructed),
            diagnosis_date=None if dx is None else dx.diagnosis_date,
            genetic_subtype=None if dx is None else dx.genetic_subtype,
            ph_positive=None if dx is None else dx.ph_positive,
            risk_group=None if dx is None else dx.risk_group,
            protocol=None if dx is None else dx.protocol,
            diagnosis_reconstructed=() if dx is None else _paths(dx.reconstructed),
            markers=tuple(
                MarkerEntry(m.key, m.kind, m.transcript, m.diagnosis_ncn, m.definition)
                for m in self.markers.get(pid, [])
            ),
            treatments=tuple(
                TreatmentEntry(
                    t.id,
                    TreatmentKind(t.kind),
                    t.start_date,
                    t.end_date,
                    t.cycle,
                    MappingProxyType(dict(t.details or {})),
                    _paths(t.reconstructed),
                )
                for t in self.treatments.get(pid, [])
            ),
            assessments=tuple(
                AssessmentEntry(
                    a.id,
                    a.assessment_date,
                    Response(a.response),
                    a.marrow_blast_percent,
                    a.extramedullary,
                    a.remission_number,
                    _paths(a.reconstructed),
                )
                for a in self.assessments.get(pid, [])
            ),
            mrd=tuple(self.mrd.get(pid, [])),
            adverse_events=tuple(
                AdverseEventEntry(
                    e.id,
                    e.term,
                    e.onset_date,
                    e.resolved_date,
                    e.grade,
                    e.scale,
                    MappingProxyType(dict(e.grading_inputs or {})),
                    e.management,
                    _paths(e.reconstructed),
                )
                for e in self.events.get(pid, [])
            ),
            lab_values=tuple(
                LabEntry(v.id, v.test, v.sample_date, v.value, v.unit, _paths(v.reconstructed))
                for v in self.labs.get(pid, [])
            ),
            outcomes=tuple(
                OutcomeEntry(
                    o.id, OutcomeKind(o.kind), o.event_date, o.detail, _paths(o.reconstructed)
                )
                for o in self.outcomes.get(pid, [])
            ),
        )


def _grouped(
    session: Session, model: Any, ids: list[int] | None, order: Any
) -> dict[int, list[Any]]:
    """All rows of one table (not deleted), grouped by patient id, in ``order``."""
    columns = [c for c in model.__table__.columns if c.key not in ("deleted_at", "source")]
    query = select(*columns).where(model.deleted_at.is_(None)).order_by(order, model.id)
    if ids is not None:
        query = query.where(model.patient_id.in_(ids))
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        grouped[row.patient_id].append(row)
    return grouped


def _mrd_results(session: Session, ids: list[int] | None) -> dict[int, list[MrdEntry]]:
    """MRD results joined to their sample and marker, in one query."""
    query = (
        select(
            MrdResultRow.id,
            MrdResultRow.sample_id,
            Sample.patient_id,
            Sample.sample_date,
            Sample.timepoint,
            Sample.tissue,
            Sample.reconstructed.label("sample_reconstructed"),
            MrdMarker.key,
            MrdResultRow.method,
            MrdResultRow.status,
            MrdResultRow.detected,
            MrdResultRow.quantifiable,
            MrdResultRow.mrd_fraction,
            MrdResultRow.sensitivity_fraction,
            MrdResultRow.reasons,
            MrdResultRow.qc_flags,
            MrdResultRow.inputs,
            MrdResultRow.details,
            MrdResultRow.profile,
            MrdResultRow.rule,
            MrdResultRow.engine_version,
            MrdResultRow.reconstructed,
        )
        .join(Sample, Sample.id == MrdResultRow.sample_id)
        .outerjoin(MrdMarker, MrdMarker.id == MrdResultRow.marker_id)
        .where(MrdResultRow.deleted_at.is_(None), Sample.deleted_at.is_(None))
        .order_by(Sample.sample_date, Sample.id, MrdResultRow.id)
    )
    if ids is not None:
        query = query.where(Sample.patient_id.in_(ids))
    grouped: dict[int, list[MrdEntry]] = defaultdict(list)
    for r in session.execute(query):
        grouped[r.patient_id].append(
            MrdEntry(
                result_id=r.id,
                sample_id=r.sample_id,
                sample_date=r.sample_date,
                timepoint=r.timepoint,
                tissue=r.tissue,
                marker_key=r.key,
                method=MrdMethod(r.method),
                status=MrdStatus(r.status),
                detected=r.detected,
                quantifiable=r.quantifiable,
                mrd_fraction=r.mrd_fraction,
                sensitivity_fraction=r.sensitivity_fraction,
                reasons=_paths(r.reasons),
                qc_flags=_paths(r.qc_flags),
                inputs=MappingProxyType(dict(r.inputs or {})),
                details=MappingProxyType(dict(r.details or {})),
                profile=r.profile,
                rule=r.rule,
                engine_version=r.engine_version,
                reconstructed=_paths(r.sample_reconstructed) + _paths(r.reconstructed),
            )
        )
    return grouped
