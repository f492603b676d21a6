"""SQLAlchemy 2 models of the registry (shared/ARCHITECTURE.md, "Data model").

One table per concept. Clinical rows are never physically deleted: ``deleted_at`` and
the audit trail record a soft delete. Values the registry derives (an MRD result's
fraction and status, a CRS grade) are stored with the raw inputs and the rule version
that produced them, and are recomputed by the domain core on entry, never typed in.
``reconstructed`` lists the fields of a row that a source did not state (demo data).

The schema itself is created and changed only by the Alembic migrations in
``mrdtrack/registry/migrations``; these classes must match them (a test checks).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AdverseEvent",
    "AuditEntry",
    "Base",
    "ClinicalMixin",
    "Diagnosis",
    "DiseaseAssessment",
    "ImportJob",
    "LabValue",
    "MrdMarker",
    "MrdResultRow",
    "OutcomeEvent",
    "Patient",
    "PatientIdentifier",
    "Sample",
    "Site",
    "TreatmentCourse",
    "User",
]


class Base(DeclarativeBase):
    """Declarative base of every registry table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class ClinicalMixin:
    """Columns every clinical table carries: soft delete and provenance."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    reconstructed: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(Text, default=None)


class Site(Base):
    """A participating centre (the unit of data isolation)."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    """A person who changes or reads the registry (credentials belong to the web app)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    """Set with a one-time password; the user must choose their own before anything else."""
    password_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    """Base32 secret of the TOTP second factor (RFC 6238); required for administrators."""


class Patient(ClinicalMixin, Base):
    """A patient under a pseudonymous study id; direct identifiers live apart."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    sex: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)

    site: Mapped[Site] = relationship()
    diagnoses: Mapped[list[Diagnosis]] = relationship(back_populates="patient")
    markers: Mapped[list[MrdMarker]] = relationship(back_populates="patient")
    samples: Mapped[list[Sample]] = relationship(back_populates="patient")
    assessments: Mapped[list[DiseaseAssessment]] = relationship(back_populates="patient")
    treatments: Mapped[list[TreatmentCourse]] = relationship(back_populates="patient")
    adverse_events: Mapped[list[AdverseEvent]] = relationship(back_populates="patient")
    lab_values: Mapped[list[LabValue]] = relationship(back_populates="patient")
    outcomes: Mapped[list[OutcomeEvent]] = relationship(back_populates="patient")


class PatientIdentifier(ClinicalMixin, Base):
    """A direct identifier (MRN, name), kept out of every de-identified view."""

    __tablename__ = "patient_identifier"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))


class Diagnosis(ClinicalMixin, Base):
    """Diagnosis with genetics, Ph and CD19 status, presenting features and risk group."""

    __tablename__ = "diagnosis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    diagnosis_date: Mapped[date] = mapped_column(Date)
    genetic_subtype: Mapped[str] = mapped_column(String(64))
    ph_positive: Mapped[bool | None] = mapped_column(Boolean, default=None)
    cd19_positive: Mapped[bool | None] = mapped_column(Boolean, default=None)
    wbc_per_ul: Mapped[float | None] = mapped_column(Float, default=None)
    cns_status: Mapped[str | None] = mapped_column(String(16), default=None)
    risk_group: Mapped[str | None] = mapped_column(String(64), default=None)
    protocol: Mapped[str | None] = mapped_column(String(64), default=None)

    patient: Mapped[Patient] = relationship(back_populates="diagnoses")


class MrdMarker(ClinicalMixin, Base):
    """The MRD marker defined at diagnosis: fusion transcript with its NCN, LAIP, clonotypes."""

    __tablename__ = "mrd_marker"
    __table_args__ = (UniqueConstraint("patient_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    transcript: Mapped[str | None] = mapped_column(String(64), default=None)
    diagnosis_ncn: Mapped[float | None] = mapped_column(Float, default=None)
    definition: Mapped[str | None] = mapped_column(Text, default=None)

    patient: Mapped[Patient] = relationship(back_populates="markers")


class Sample(ClinicalMixin, Base):
    """A specimen taken at a timepoint (bone marrow or peripheral blood)."""

    __tablename__ = "sample"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    sample_date: Mapped[date] = mapped_column(Date)
    timepoint: Mapped[str] = mapped_column(String(32))
    tissue: Mapped[str] = mapped_column(String(8))

    patient: Mapped[Patient] = relationship(back_populates="samples")
    mrd_results: Mapped[list[MrdResultRow]] = relationship(back_populates="sample")


class MrdResultRow(ClinicalMixin, Base):
    """One MRD result: raw inputs, the engine's result, and the rule version behind it."""

    __tablename__ = "mrd_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("sample.id"), index=True)
    marker_id: Mapped[int | None] = mapped_column(ForeignKey("mrd_marker.id"), default=None)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    detected: Mapped[bool] = mapped_column(Boolean)
    quantifiable: Mapped[bool] = mapped_column(Boolean)
    mrd_fraction: Mapped[float | None] = mapped_column(Float, default=None)
    sensitivity_fraction: Mapped[float | None] = mapped_column(Float, default=None)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    qc_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    profile: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(200))
    engine_version: Mapped[str] = mapped_column(String(32))

    sample: Mapped[Sample] = relationship(back_populates="mrd_results")


class DiseaseAssessment(ClinicalMixin, Base):
    """A disease assessment: marrow blasts, extramedullary disease, response."""

    __tablename__ = "disease_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    assessment_date: Mapped[date] = mapped_column(Date)
    response: Mapped[str] = mapped_column(String(16))
    marrow_blast_percent: Mapped[float | None] = mapped_column(Float, default=None)
    extramedullary: Mapped[bool | None] = mapped_column(Boolean, default=None)
    remission_number: Mapped[int | None] = mapped_column(Integer, default=None)

    patient: Mapped[Patient] = relationship(back_populates="assessments")


class TreatmentCourse(ClinicalMixin, Base):
    """A course of therapy: chemotherapy phase, blinatumomab cycle, HCT, DLI, TKI, CAR-T."""

    __tablename__ = "treatment_course"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    cycle: Mapped[int | None] = mapped_column(Integer, default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    patient: Mapped[Patient] = relationship(back_populates="treatments")


class AdverseEvent(ClinicalMixin, Base):
    """An adverse event with the inputs that graded it and the grading scale."""

    __tablename__ = "adverse_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    term: Mapped[str] = mapped_column(String(64))
    onset_date: Mapped[date] = mapped_column(Date)
    resolved_date: Mapped[date | None] = mapped_column(Date, default=None)
    grade: Mapped[int | None] = mapped_column(Integer, default=None)
    scale: Mapped[str] = mapped_column(String(32))
    grading_inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    management: Mapped[str | None] = mapped_column(Text, default=None)

    patient: Mapped[Patient] = relationship(back_populates="adverse_events")


class LabValue(ClinicalMixin, Base):
    """A laboratory value with its unit as entered (IgG in mg/dL …)."""

    __tablename__ = "lab_value"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    test: Mapped[str] = mapped_column(String(32))
    sample_date: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))

    patient: Mapped[Patient] = relationship(back_populates="lab_values")


class OutcomeEvent(ClinicalMixin, Base):
    """Relapse (with site), death (with cause), second malignancy or last contact."""

    __tablename__ = "outcome_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    event_date: Mapped[date] = mapped_column(Date)
    detail: Mapped[str | None] = mapped_column(Text, default=None)

    patient: Mapped[Patient] = relationship(back_populates="outcomes")


class ImportJob(Base):
    """One import of one file: its hash makes re-runs idempotent."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int | None] = mapped_column(Integer, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    """``running``, ``done`` or ``failed`` (a running job whose process died is failed)."""
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    rows_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, default=None)


class AuditEntry(Base):
    """One append-only, hash-chained audit row (reliability goals 5 and 6).

    ``entry_hash = SHA-256(previous hash + canonical JSON of this row)``; database
    triggers refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at_utc: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(64), default=None)
    old_value: Mapped[str | None] = mapped_column(Text, default=None)
    new_value: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
