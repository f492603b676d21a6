"""Patient-level services of the web app: the patient list and search, the patient page.

Pages and the JSON API call these functions, and these call the registry and the
domain core: a stored MRD result is shown as the engine made it, its response category
comes from :func:`mrdtrack.mrd.mrd_response`, the protocol evaluation from
:func:`mrdtrack.protocols.evaluate_protocol`. Nothing here decides a clinical question.
MRD entry lives in :mod:`mrdtrack.web.mrd_entry`.

Site isolation (reliability goal 12): a viewer attached to a site sees only that site's
patients; any other patient is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mrdtrack.errors import InputError, NotFoundError
from mrdtrack.mrd import MrdMethod, MrdResponse, MrdResult, MrdStatus, QcFlag, mrd_response
from mrdtrack.protocols import DiseaseStatus, Protocol, ProtocolEvaluation, evaluate_protocol
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
from mrdtrack.web.filters import (
    PatientFilter,
    SiteChoice,
    current_course,
    site_choices,
    sql_conditions,
)
from mrdtrack.web.security import Principal
from mrdtrack.web.timeline import DiseaseEvents, find_protocol, registry_timeline

__all__ = [
    "LatestMrd",
    "MrdResultView",
    "PatientDetail",
    "PatientList",
    "PatientSummary",
    "engine_result",
    "list_patients",
    "live_rows",
    "load_patient",
    "patient_detail",
    "response_on",
    "result_view",
    "visibility",
]

_MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LatestMrd:
    """A patient's most recent MRD result, for the list."""

    sample_date: date
    timepoint: str
    method: str
    status: str
    mrd_fraction: float | None
    sensitivity_fraction: float | None


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """One row of the patient list."""

    study_id: str
    site_code: str
    sex: str
    diagnosis_date: date | None
    genetic_subtype: str | None
    risk_group: str | None
    latest_mrd: LatestMrd | None
    current_therapy: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientList:
    """One page of the patient list with the search and filters that made it."""

    rows: tuple[PatientSummary, ...]
    total: int
    limit: int
    offset: int
    query: str
    filters: PatientFilter


def visibility(viewer: Principal) -> list[ColumnElement[bool]]:
    """The conditions that keep deleted patients and other sites' patients out of a query."""
    conditions: list[ColumnElement[bool]] = [Patient.deleted_at.is_(None)]
    if viewer.site_id is not None:
        conditions.append(Patient.site_id == viewer.site_id)
    return conditions


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_patients(
    session: Session,
    viewer: Principal,
    *,
    today: date,
    query: str = "",
    filters: PatientFilter | None = None,
    sites: Sequence[SiteChoice] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> PatientList:
    """Patients the viewer may see, by study-id text and the filters of :mod:`.filters`.

    Parameters
    ----------
    today
        The day "current therapy" refers to.
    query
        Text the study id contains (case-insensitive; ``%`` and ``_`` are literal).
    filters
        Subtype, site, current therapy, latest MRD status, diagnosis years
        (:func:`mrdtrack.web.filters.parse_filter`; default: none).
    sites
        The sites the viewer may see (default: read, :func:`~.filters.site_choices`).

    Raises
    ------
    InputError
        A page outside 1-200 rows, a negative offset, a search over 64 characters, or a
        site the viewer may not see.
    """
    if not 1 <= limit <= _MAX_PAGE:
        raise InputError("limit", limit, f"a whole number 1-{_MAX_PAGE}")
    if offset < 0:
        raise InputError("offset", offset, "a whole number ≥ 0")
    text = query.strip()
    if len(text) > 64:
        raise InputError("q", text[:20] + "…", "at most 64 characters of a study id")
    chosen = filters or PatientFilter()
    visible_sites = site_choices(session, viewer) if sites is None else sites
    statement = (
        select(Patient.id, Patient.study_id, Site.code, Patient.sex)
        .join(Site)
        .where(*visibility(viewer), *sql_conditions(chosen, today=today, sites=visible_sites))
    )
    if text:
        statement = statement.where(Patient.study_id.ilike(_like_pattern(text), escape="\\"))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = session.execute(statement.order_by(Patient.study_id).limit(limit).offset(offset)).all()
    ids = [row[0] for row in page]
    diagnoses: dict[int, Diagnosis] = {}
    for dx in session.scalars(
        select(Diagnosis)
        .where(Diagnosis.patient_id.in_(ids), Diagnosis.deleted_at.is_(None))
        .order_by(Diagnosis.diagnosis_date.desc(), Diagnosis.id.desc())
    ):
        diagnoses[dx.patient_id] = dx  # the earliest (then first filed) wins: descending order
    latest: dict[int, LatestMrd] = {}
    for patient_id, sample_date, timepoint, row in session.execute(
        select(Sample.patient_id, Sample.sample_date, Sample.timepoint, MrdResultRow)
        .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
        .where(
            Sample.patient_id.in_(ids),
            Sample.deleted_at.is_(None),
            MrdResultRow.deleted_at.is_(None),
        )
        .order_by(Sample.sample_date, MrdResultRow.id)
    ):
        latest[patient_id] = LatestMrd(
            sample_date,
            timepoint,
            row.method,
            row.status,
            row.mrd_fraction,
            row.sensitivity_fraction,
        )
    current: dict[int, set[str]] = {}
    for patient_id, kind in session.execute(
        select(TreatmentCourse.patient_id, TreatmentCourse.kind).where(
            TreatmentCourse.patient_id.in_(ids), current_course(today)
        )
    ):
        current.setdefault(patient_id, set()).add(kind)
    rows = tuple(
        PatientSummary(
            study_id=study_id,
            site_code=site_code,
            sex=sex,
            diagnosis_date=diagnoses[pid].diagnosis_date if pid in diagnoses else None,
            genetic_subtype=diagnoses[pid].genetic_subtype if pid in diagnoses else None,
            risk_group=diagnoses[pid].risk_group if pid in diagnoses else None,
            latest_mrd=latest.get(pid),
            current_therapy=tuple(sorted(current.get(pid, ()))),
        )
        for pid, study_id, site_code, sex in page
    )
    return PatientList(rows, total, limit, offset, text, chosen)


def load_patient(session: Session, viewer: Principal, study_id: str, *, full: bool) -> Patient:
    """The patient the viewer may see (``full``: with every clinical relationship loaded).

    Raises
    ------
    NotFoundError
        No such patient, a deleted one, or one of a site the viewer does not belong to.
    """
    statement = select(Patient).where(Patient.study_id == study_id, *visibility(viewer))
    patient = session.scalars(statement).one_or_none()
    if patient is None:
        raise NotFoundError("patient", study_id)
    if full:
        _load_clinical_rows(session, patient)
    return patient


_PATIENT_COLLECTIONS: tuple[tuple[str, Any], ...] = (
    ("diagnoses", Diagnosis),
    ("markers", MrdMarker),
    ("samples", Sample),
    ("assessments", DiseaseAssessment),
    ("treatments", TreatmentCourse),
    ("adverse_events", AdverseEvent),
    ("lab_values", LabValue),
    ("outcomes", OutcomeEvent),
)


def _load_clinical_rows(session: Session, patient: Patient) -> None:
    """Fill every clinical collection of ``patient`` with one plain query per table.

    This is what ``selectinload`` does, at half the cost: measured on the benchmark
    registry, the eager-loading machinery took 3.4 ms a patient and these ten queries
    1.6 ms, most of the patient page's service time (docs/benchmarks.md, *Web*). The
    collections are set as committed values, so the session sees no change to flush and
    later appends (the entry forms) are tracked as usual.
    """
    for name, model in _PATIENT_COLLECTIONS:
        rows = session.scalars(
            select(model).where(model.patient_id == patient.id).order_by(model.id)
        ).all()
        set_committed_value(patient, name, list(rows))
    by_sample: dict[int, list[MrdResultRow]] = {sample.id: [] for sample in patient.samples}
    if by_sample:
        results = session.scalars(
            select(MrdResultRow)
            .where(MrdResultRow.sample_id.in_(list(by_sample)))
            .order_by(MrdResultRow.id)
        )
        for result in results:
            by_sample[result.sample_id].append(result)
    for sample in patient.samples:
        set_committed_value(sample, "mrd_results", by_sample[sample.id])
    session.get(Site, patient.site_id)  # the page names the site; one identity-map entry


@dataclass(frozen=True, slots=True)
class MrdResultView:
    """A stored MRD result as shown: the engine's call, its basis and its response."""

    id: int
    sample_date: date
    timepoint: str
    tissue: str
    method: str
    marker: str | None
    status: str
    detected: bool
    quantifiable: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None
    qc_flags: tuple[str, ...]
    reasons: tuple[str, ...]
    profile: str
    rule: str
    engine_version: str
    response: MrdResponse | None
    response_note: str | None
    reconstructed: bool


def engine_result(row: MrdResultRow) -> MrdResult:
    """The stored engine result as the value object (nothing is recomputed)."""
    return MrdResult(
        method=MrdMethod(row.method),
        status=MrdStatus(row.status),
        detected=row.detected,
        mrd_fraction=row.mrd_fraction,
        sensitivity_fraction=row.sensitivity_fraction,
        quantifiable=row.quantifiable,
        reasons=tuple(row.reasons),
        qc_flags=tuple(QcFlag(flag) for flag in row.qc_flags),
        inputs=row.inputs,
        profile=row.profile,
        rule=row.rule,
        details=row.details,
    )


def response_on(
    patient: Patient, result: MrdResult, sample_date: date
) -> tuple[MrdResponse | None, str | None]:
    """The ASH 2021 category of a result given the disease status on its sample date.

    Without any disease assessment on or before the sample the category is not given
    (``None`` and a note): MRD response is defined only in hematologic CR.
    """
    status, _ = DiseaseEvents.of(patient).status_on(sample_date)
    if status is None:
        return None, "no disease assessment on or before the sample: response not classified"
    return mrd_response(result, in_hematologic_cr=status is DiseaseStatus.CR), None


def result_view(patient: Patient, sample: Sample, row: MrdResultRow) -> MrdResultView:
    """A stored result as shown, with its marker key and response category."""
    markers = {m.id: m.key for m in patient.markers}
    response, note = response_on(patient, engine_result(row), sample.sample_date)
    return MrdResultView(
        id=row.id,
        sample_date=sample.sample_date,
        timepoint=sample.timepoint,
        tissue=sample.tissue,
        method=row.method,
        marker=None if row.marker_id is None else markers.get(row.marker_id),
        status=row.status,
        detected=row.detected,
        quantifiable=row.quantifiable,
        mrd_fraction=row.mrd_fraction,
        sensitivity_fraction=row.sensitivity_fraction,
        qc_flags=tuple(row.qc_flags),
        reasons=tuple(row.reasons),
        profile=row.profile,
        rule=row.rule,
        engine_version=row.engine_version,
        response=response,
        response_note=note,
        reconstructed=bool(row.reconstructed) or bool(sample.reconstructed),
    )


@dataclass(frozen=True, slots=True)
class PatientDetail:
    """Everything the patient page shows; clinical rows are plain mappings of their columns."""

    study_id: str
    site_code: str
    site_name: str
    sex: str
    birth_date: date | None
    notes: str | None
    reconstructed: tuple[str, ...]
    diagnosis: Mapping[str, Any] | None
    markers: tuple[Mapping[str, Any], ...]
    mrd: tuple[MrdResultView, ...]
    assessments: tuple[Mapping[str, Any], ...]
    treatments: tuple[Mapping[str, Any], ...]
    adverse_events: tuple[Mapping[str, Any], ...]
    lab_values: tuple[Mapping[str, Any], ...]
    outcomes: tuple[Mapping[str, Any], ...]
    protocol_id: str | None
    evaluation: ProtocolEvaluation | None
    as_of: date


def _columns(row: Any, names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    values["reconstructed"] = bool(row.reconstructed)
    return values


def live_rows(rows: Sequence[Any], key: str) -> list[Any]:
    """The rows not soft-deleted, ordered by ``key`` then id."""
    return sorted((r for r in rows if r.deleted_at is None), key=lambda r: (getattr(r, key), r.id))


def patient_detail(
    session: Session,
    viewer: Principal,
    study_id: str,
    *,
    as_of: date,
    protocols: Mapping[str, Protocol],
    protocol_id: str | None = None,
) -> PatientDetail:
    """The patient page of ``study_id``: key facts, MRD with responses, courses, protocol.

    ``protocol_id`` chooses the protocol to evaluate; by default the one the diagnosis
    names (:func:`mrdtrack.web.timeline.find_protocol`), none if it names no shipped one.

    Raises
    ------
    NotFoundError
        No such patient, or one the viewer may not see; or an unknown ``protocol_id``.
    """
    patient = load_patient(session, viewer, study_id, full=True)
    diagnoses = live_rows(patient.diagnoses, "diagnosis_date")
    diagnosis = diagnoses[0] if diagnoses else None
    if protocol_id:
        if protocol_id not in protocols:
            raise NotFoundError("protocol", protocol_id, tuple(protocols))
        protocol: Protocol | None = protocols[protocol_id]
    else:
        protocol = find_protocol(None if diagnosis is None else diagnosis.protocol, protocols)
    evaluation = None
    if protocol is not None:
        evaluation = evaluate_protocol(protocol, registry_timeline(patient, as_of))
    mrd = [
        result_view(patient, sample, row)
        for sample in live_rows(patient.samples, "sample_date")
        for row in sorted(sample.mrd_results, key=lambda r: r.id)
        if row.deleted_at is None
    ]
    return PatientDetail(
        study_id=patient.study_id,
        site_code=patient.site.code,
        site_name=patient.site.name,
        sex=patient.sex,
        birth_date=patient.birth_date,
        notes=patient.notes,
        reconstructed=tuple(patient.reconstructed),
        diagnosis=None
        if diagnosis is None
        else _columns(
            diagnosis,
            (
                "diagnosis_date",
                "genetic_subtype",
                "ph_positive",
                "cd19_positive",
                "wbc_per_ul",
                "cns_status",
                "risk_group",
                "protocol",
            ),
        ),
        markers=tuple(
            _columns(m, ("key", "kind", "transcript", "diagnosis_ncn", "definition"))
            for m in live_rows(patient.markers, "key")
        ),
        mrd=tuple(mrd),
        assessments=tuple(
            _columns(
                a,
                (
                    "assessment_date",
                    "response",
                    "marrow_blast_percent",
                    "extramedullary",
                    "remission_number",
                ),
            )
            for a in live_rows(patient.assessments, "assessment_date")
        ),
        treatments=tuple(
            _columns(t, ("id", "kind", "start_date", "end_date", "cycle", "details"))
            for t in live_rows(patient.treatments, "start_date")
        ),
        adverse_events=tuple(
            _columns(
                e,
                (
                    "term",
                    "onset_date",
                    "resolved_date",
                    "grade",
                    "scale",
                    "grading_inputs",
                    "management",
                ),
            )
            for e in live_rows(patient.adverse_events, "onset_date")
        ),
        lab_values=tuple(
            _columns(v, ("test", "sample_date", "value", "unit"))
            for v in live_rows(patient.lab_values, "sample_date")
        ),
        outcomes=tuple(
            _columns(o, ("kind", "event_date", "detail"))
            for o in live_rows(patient.outcomes, "event_date")
        ),
        protocol_id=None if protocol is None else protocol.id,
        evaluation=evaluation,
        as_of=as_of,
    )
