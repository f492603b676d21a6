"""Clinical entry services: a new patient with its diagnosis, an adverse event, an outcome.

The routes of :mod:`mrdtrack.web.entry_routes` read forms or JSON into the entries below
and call these functions; the grade of an adverse event is computed here by
:mod:`mrdtrack.grading` (never typed in), and dates are checked against the patient's
diagnosis and any recorded death. Every write goes through the ORM in a session whose
acting user was named (:func:`mrdtrack.web.context.unit_of_work`), so the audit trail
records it; site isolation comes from :func:`mrdtrack.web.patients.load_patient`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    AcuteGvhdFindings,
    ChronicGvhdScores,
    CtcaeGrade,
    CtcaeVersion,
    grade_acute_gvhd,
    grade_chronic_gvhd,
    grade_crs,
    grade_icans,
)
from mrdtrack.inputs import require_choice
from mrdtrack.registry.models import AdverseEvent, Diagnosis, OutcomeEvent, Patient, Site
from mrdtrack.registry.vocabulary import GeneticSubtype, OutcomeKind, Sex
from mrdtrack.web.patients import load_patient
from mrdtrack.web.security import Principal

__all__ = [
    "INPUT_KEYS",
    "AeTerm",
    "CnsStatus",
    "GradedEvent",
    "OutcomeEntry",
    "PatientEntry",
    "add_adverse_event",
    "add_outcome",
    "create_patient",
    "grade_event",
]


class CnsStatus(StrEnum):
    """CNS status at diagnosis (CNS1 none, CNS2 blasts < 5 WBC/µL, CNS3 overt)."""

    CNS1 = "CNS1"
    CNS2 = "CNS2"
    CNS3 = "CNS3"


class AeTerm(StrEnum):
    """The adverse-event kinds of the entry form, each with its grading calculator."""

    CRS = "crs"
    ICANS = "icans"
    ACUTE_GVHD = "acute_gvhd"
    CHRONIC_GVHD = "chronic_gvhd"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PatientEntry:
    """A new patient and the diagnosis recorded with it."""

    study_id: str
    site_code: str | None
    sex: Sex
    birth_date: date | None
    diagnosis_date: date
    genetic_subtype: GeneticSubtype
    ph_positive: bool | None
    cd19_positive: bool | None
    wbc_per_ul: float | None
    cns_status: CnsStatus | None
    risk_group: str | None
    protocol: str | None


@dataclass(frozen=True, slots=True)
class GradedEvent:
    """An adverse event's grade as computed: term, scale, grade, inputs and full result."""

    term: str
    scale: str
    grade: int | None
    grading_inputs: Mapping[str, Any]
    result: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OutcomeEntry:
    """A relapse (with site), a death (with cause) or a last contact."""

    kind: OutcomeKind
    event_date: date
    detail: str | None


def _site_for(session: Session, viewer: Principal, site_code: str | None) -> Site:
    if viewer.site_id is not None:
        # A site user enters patients of their own site only, whatever was submitted.
        own = session.get(Site, viewer.site_id)
        if own is None:
            raise InputError("site_code", site_code, "the site your account is attached to")
        if site_code not in {None, own.code}:
            raise InputError("site_code", site_code, f"your own site ({own.code})")
        return own
    if site_code is None:
        raise InputError("site_code", None, "a site code")
    site = session.scalars(select(Site).where(Site.code == site_code)).one_or_none()
    if site is None:
        known = ", ".join(session.scalars(select(Site.code).order_by(Site.code)))
        raise InputError("site_code", site_code, f"one of the registry's sites: {known}")
    return site


def create_patient(
    session: Session, viewer: Principal, entry: PatientEntry, *, today: date
) -> Patient:
    """Store a new patient and its diagnosis; the session must name its acting user.

    Raises
    ------
    InputError
        A study id already used, an unknown or foreign site, or impossible dates.
    """
    if not entry.study_id.strip():
        raise InputError("study_id", entry.study_id, "a study id such as SITE-P012")
    if len(entry.study_id) > 64:
        raise InputError("study_id", entry.study_id[:20] + "…", "at most 64 characters")
    if session.scalars(select(Patient.id).where(Patient.study_id == entry.study_id)).first():
        raise InputError("study_id", entry.study_id, "a study id not yet in the registry")
    if entry.diagnosis_date > today:
        raise InputError(
            "diagnosis_date", entry.diagnosis_date.isoformat(), f"a date ≤ today ({today})"
        )
    if entry.birth_date is not None and entry.birth_date > entry.diagnosis_date:
        raise InputError(
            "birth_date", entry.birth_date.isoformat(), "a birth date on or before the diagnosis"
        )
    if entry.wbc_per_ul is not None and entry.wbc_per_ul < 0:
        raise InputError("wbc_per_ul", entry.wbc_per_ul, "a white-cell count ≥ 0 per µL")
    for name in ("risk_group", "protocol"):
        value = getattr(entry, name)
        if value is not None and len(value) > 64:
            raise InputError(name, value[:20] + "…", "at most 64 characters")
    site = _site_for(session, viewer, entry.site_code)
    patient = Patient(
        study_id=entry.study_id,
        site_id=site.id,
        sex=entry.sex.value,
        birth_date=entry.birth_date,
        source="web entry",
        reconstructed=[],
    )
    session.add(patient)
    session.flush()
    session.add(
        Diagnosis(
            patient_id=patient.id,
            diagnosis_date=entry.diagnosis_date,
            genetic_subtype=entry.genetic_subtype.value,
            ph_positive=entry.ph_positive,
            cd19_positive=entry.cd19_positive,
            wbc_per_ul=entry.wbc_per_ul,
            cns_status=None if entry.cns_status is None else entry.cns_status.value,
            risk_group=entry.risk_group,
            protocol=entry.protocol,
            source="web entry",
            reconstructed=[],
        )
    )
    session.flush()
    return patient


INPUT_KEYS: Mapping[AeTerm, tuple[str, ...]] = {
    AeTerm.CRS: (
        "temperature_c",
        "hypotension",
        "hypoxia",
        "vasopressin",
        "anti_cytokine",
        "antipyretic",
        "died_of_crs",
    ),
    AeTerm.ICANS: (
        "age_years",
        "ice_score",
        "capd_score",
        "consciousness",
        "seizure",
        "motor",
        "cerebral_oedema",
        "developmental_delay",
    ),
    AeTerm.ACUTE_GVHD: ("system", *(f.name for f in fields(AcuteGvhdFindings))),
    AeTerm.CHRONIC_GVHD: tuple(
        f.name for f in fields(ChronicGvhdScores) if f.name not in {"excluded", "mixed_cause"}
    ),
    AeTerm.OTHER: ("ctcae_term", "ctcae_grade", "ctcae_version"),
}
"""The findings each calculator takes (its keyword arguments)."""


def grade_event(term: AeTerm, inputs: Mapping[str, Any]) -> GradedEvent:
    """Grade an adverse event with its calculator from the raw findings in ``inputs``.

    ``crs``: :func:`mrdtrack.grading.grade_crs` (ASTCT 2019, CRS-01); ``icans``:
    :func:`mrdtrack.grading.grade_icans` (ASTCT 2019, ICANS-01); ``acute_gvhd``:
    :func:`mrdtrack.grading.grade_acute_gvhd` (Keystone 1994 or MAGIC, AGVHD-01…04;
    the findings' ``system`` picks); ``chronic_gvhd``:
    :func:`mrdtrack.grading.grade_chronic_gvhd` (NIH 2014 global severity, CGVHD-01:
    not a numeric grade, so ``grade`` is ``None`` and the severity is in the result);
    ``other``: a CTCAE record (``ctcae_term``, ``ctcae_grade``, ``ctcae_version``).
    The calculators validate their findings and name the field they refuse.
    """
    given = dict(inputs)
    allowed = INPUT_KEYS[term]
    for key in given:
        if key not in allowed:
            raise InputError(key, given[key], f"a finding of {term.value}: {', '.join(allowed)}")
    try:
        return _graded(term, given)
    except (TypeError, ValueError) as refused:
        # A finding of the wrong type (text for a number) reaches the calculator from JSON.
        raise InputError("inputs", None, f"findings of the right types ({refused})") from None


def _graded(term: AeTerm, given: dict[str, Any]) -> GradedEvent:
    if term is AeTerm.CRS:
        crs = grade_crs(**given)
        return GradedEvent("CRS", crs.system, crs.grade, given, crs.to_dict())
    if term is AeTerm.ICANS:
        icans = grade_icans(**given)
        return GradedEvent("ICANS", icans.system, icans.grade, given, icans.to_dict())
    if term is AeTerm.ACUTE_GVHD:
        system = given.pop("system", "glucksberg")
        acute = grade_acute_gvhd(AcuteGvhdFindings(**given), system=system)
        return GradedEvent(
            "acute GVHD", acute.system, acute.grade, {**given, "system": system}, acute.to_dict()
        )
    if term is AeTerm.CHRONIC_GVHD:
        chronic = grade_chronic_gvhd(ChronicGvhdScores(**given))
        return GradedEvent("chronic GVHD", chronic.system, None, given, chronic.to_dict())
    grade: Any = given.get("ctcae_grade")
    if grade is None:
        raise InputError("ctcae_grade", None, "a CTCAE grade, 1–5")
    version = require_choice("ctcae_version", given.get("ctcae_version") or "5.0", CtcaeVersion)
    # CtcaeGrade validates the term and the grade (a whole number 1–5).
    record = CtcaeGrade(term=str(given.get("ctcae_term") or ""), grade=grade, version=version)
    return GradedEvent(
        record.term[:64], f"CTCAE v{record.version.value}", record.grade, given, record.to_dict()
    )


def _check_event_date(patient: Patient, name: str, when: date, today: date) -> None:
    if when > today:
        raise InputError(name, when.isoformat(), f"a date ≤ today ({today})")
    diagnosed = [d.diagnosis_date for d in patient.diagnoses if d.deleted_at is None]
    if diagnosed and when < min(diagnosed):
        raise InputError(name, when.isoformat(), f"on or after the diagnosis ({min(diagnosed)})")
    deaths = [
        o.event_date
        for o in patient.outcomes
        if o.deleted_at is None and o.kind == OutcomeKind.DEATH.value
    ]
    if deaths and when > min(deaths):
        raise InputError(name, when.isoformat(), f"on or before the recorded death ({min(deaths)})")


def add_adverse_event(
    session: Session,
    viewer: Principal,
    study_id: str,
    graded: GradedEvent,
    *,
    onset_date: date,
    resolved_date: date | None,
    management: str | None,
    today: date,
) -> AdverseEvent:
    """Store a graded adverse event of a patient the viewer may see (audited)."""
    patient = load_patient(session, viewer, study_id, full=True)
    _check_event_date(patient, "onset_date", onset_date, today)
    if resolved_date is not None and resolved_date < onset_date:
        raise InputError(
            "resolved_date", resolved_date.isoformat(), f"on or after the onset ({onset_date})"
        )
    row = AdverseEvent(
        patient_id=patient.id,
        term=graded.term,
        onset_date=onset_date,
        resolved_date=resolved_date,
        grade=graded.grade,
        scale=graded.scale[:32],
        grading_inputs={**graded.grading_inputs, "result": dict(graded.result)},
        management=management,
        source="web entry",
        reconstructed=[],
    )
    session.add(row)
    session.flush()
    return row


def add_outcome(
    session: Session, viewer: Principal, study_id: str, entry: OutcomeEntry, *, today: date
) -> OutcomeEvent:
    """Store an outcome event: dated after the diagnosis, never after a recorded death.

    A relapse needs its site and a death its cause (``detail``); a second death is refused.
    """
    if entry.kind is OutcomeKind.RELAPSE and entry.detail is None:
        raise InputError("detail", None, "the relapse site (e.g. BM, CNS, testis, combined)")
    if entry.kind is OutcomeKind.DEATH and entry.detail is None:
        raise InputError("detail", None, "the cause of death")
    patient = load_patient(session, viewer, study_id, full=True)
    _check_event_date(patient, "event_date", entry.event_date, today)
    if entry.kind is OutcomeKind.DEATH and any(
        o.deleted_at is None and o.kind == OutcomeKind.DEATH.value for o in patient.outcomes
    ):
        raise InputError("kind", entry.kind.value, "an event other than a second death")
    row = OutcomeEvent(
        patient_id=patient.id,
        kind=entry.kind.value,
        event_date=entry.event_date,
        detail=entry.detail,
        source="web entry",
        reconstructed=[],
    )
    session.add(row)
    session.flush()
    return row
