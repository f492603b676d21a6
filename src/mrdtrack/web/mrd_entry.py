"""MRD entry: raw inputs → the MRD engine's result (preview), then stored (save).

The value is never typed in: :meth:`mrdtrack.registry.records.MrdInputRecord.compute`
runs the engine on the raw inputs, the path cohort loads take, and
:func:`mrdtrack.registry.store.add_mrd_result` stores the inputs, the result and the
engine version together. The entry is checked first against the registry: a known
time-point code and tissue, a sample dated between the diagnosis and today (and not
after a recorded death), the engine inputs of the method, and a marker of this patient
of the method's kind (RQ-PCR needs the fusion-transcript marker: its diagnosis NCN is
the reference).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from mrdtrack.errors import InputError
from mrdtrack.mrd import MrdMethod, MrdResponse, MrdResult
from mrdtrack.registry.models import MrdMarker, Patient, Sample
from mrdtrack.registry.records import MRD_INPUT_KEYS, MarkerRecord, MrdInputRecord, MrdInputValue
from mrdtrack.registry.store import add_mrd_result
from mrdtrack.registry.vocabulary import MarkerKind, OutcomeKind, Timepoint, Tissue
from mrdtrack.web.patients import (
    MrdResultView,
    live_rows,
    load_patient,
    response_on,
    result_view,
)
from mrdtrack.web.security import Principal

__all__ = [
    "ComputedMrd",
    "EntryContext",
    "MrdEntry",
    "compute_mrd",
    "entry_context",
    "save_mrd",
]

_METHOD_MARKER = {
    MrdMethod.FLOW.value: MarkerKind.LAIP,
    MrdMethod.RQ_PCR.value: MarkerKind.FUSION_TRANSCRIPT,
    MrdMethod.NGS.value: MarkerKind.NGS_CLONOTYPE,
}
_POST_HCT_DAY = re.compile(r"POST_HCT_D\d{1,4}")


@dataclass(frozen=True, slots=True)
class MrdEntry:
    """The raw inputs of one MRD measurement as entered, before the engine runs.

    ``inputs`` holds the engine keywords of ``method``
    (:data:`mrdtrack.registry.records.MRD_INPUT_KEYS`); ``marker`` is the key of one of
    the patient's markers (required for RQ-PCR: its diagnosis NCN is the reference).
    """

    method: str
    sample_date: date
    timepoint: str
    tissue: str
    marker: str | None
    inputs: Mapping[str, MrdInputValue]
    profile: str | None


@dataclass(frozen=True, slots=True)
class ComputedMrd:
    """What the engine made of an entry, and its response category on that day."""

    result: MrdResult
    response: MrdResponse | None
    response_note: str | None


@dataclass(frozen=True, slots=True)
class EntryContext:
    """What the MRD entry form needs to know about the patient."""

    study_id: str
    diagnosis_date: date | None
    markers: tuple[tuple[str, str, str | None], ...]
    """``(key, kind, transcript)`` of each marker."""


def entry_context(session: Session, viewer: Principal, study_id: str) -> EntryContext:
    """The patient's diagnosis date and MRD markers, for the entry form."""
    patient = load_patient(session, viewer, study_id, full=False)
    diagnoses = [d.diagnosis_date for d in patient.diagnoses if d.deleted_at is None]
    return EntryContext(
        patient.study_id,
        min(diagnoses) if diagnoses else None,
        tuple((m.key, m.kind, m.transcript) for m in live_rows(patient.markers, "key")),
    )


def _check_entry(patient: Patient, entry: MrdEntry, today: date) -> MrdMarker | None:
    if entry.method not in MRD_INPUT_KEYS:
        raise InputError("method", entry.method, f"one of: {', '.join(MRD_INPUT_KEYS)}")
    if entry.timepoint not in {t.value for t in Timepoint} and not _POST_HCT_DAY.fullmatch(
        entry.timepoint
    ):
        raise InputError(
            "timepoint",
            entry.timepoint,
            "a time-point code (" + ", ".join(Timepoint) + ") or POST_HCT_D<day>",
        )
    if entry.tissue not in {t.value for t in Tissue}:
        raise InputError("tissue", entry.tissue, "BM (bone marrow) or PB (peripheral blood)")
    if entry.sample_date > today:
        raise InputError("sample_date", entry.sample_date.isoformat(), f"a date ≤ today ({today})")
    diagnosed = [d.diagnosis_date for d in patient.diagnoses if d.deleted_at is None]
    if diagnosed and entry.sample_date < min(diagnosed):
        raise InputError(
            "sample_date",
            entry.sample_date.isoformat(),
            f"on or after the diagnosis ({min(diagnosed)})",
        )
    deaths = [
        o.event_date
        for o in patient.outcomes
        if o.deleted_at is None and o.kind == OutcomeKind.DEATH.value
    ]
    if deaths and entry.sample_date > min(deaths):
        raise InputError(
            "sample_date",
            entry.sample_date.isoformat(),
            f"on or before the recorded death ({min(deaths)})",
        )
    required, optional = MRD_INPUT_KEYS[entry.method]
    for key in entry.inputs:
        if key not in required | optional:
            allowed = ", ".join(sorted(required | optional))
            raise InputError(key, entry.inputs[key], f"an input of {entry.method}: {allowed}")
    for key in sorted(required - set(entry.inputs)):
        raise InputError(key, None, f"the {entry.method} input {key}")
    wanted = _METHOD_MARKER[entry.method]
    if entry.marker is None:
        if wanted is MarkerKind.FUSION_TRANSCRIPT:
            raise InputError(
                "marker", None, "the patient's fusion-transcript marker (its diagnosis NCN)"
            )
        return None
    for marker in patient.markers:
        if marker.deleted_at is None and marker.key == entry.marker:
            if marker.kind != wanted.value:
                raise InputError(
                    "marker", entry.marker, f"a {wanted.value} marker for {entry.method}"
                )
            return marker
    known = ", ".join(m.key for m in patient.markers if m.deleted_at is None) or "none defined"
    raise InputError("marker", entry.marker, f"a marker of this patient ({known})")


def _compute(patient: Patient, entry: MrdEntry, today: date) -> tuple[MrdResult, MrdMarker | None]:
    marker = _check_entry(patient, entry, today)
    record = MrdInputRecord(entry.method, entry.marker, entry.inputs, entry.profile)
    marker_record = (
        None
        if marker is None
        else MarkerRecord(
            marker.key,
            MarkerKind(marker.kind),
            marker.transcript,
            marker.diagnosis_ncn,
            marker.definition,
        )
    )
    return record.compute(marker_record), marker


def compute_mrd(
    session: Session, viewer: Principal, study_id: str, entry: MrdEntry, *, today: date
) -> ComputedMrd:
    """Run the MRD engine on an entry without saving it (the form's live result).

    Raises
    ------
    NotFoundError
        No such patient for this viewer.
    InputError
        An input the entry checks or the engine refuses, naming the field.
    """
    patient = load_patient(session, viewer, study_id, full=True)
    result, _ = _compute(patient, entry, today)
    response, note = response_on(patient, result, entry.sample_date)
    return ComputedMrd(result, response, note)


def save_mrd(
    session: Session, viewer: Principal, study_id: str, entry: MrdEntry, *, today: date
) -> MrdResultView:
    """Compute and store an entry: a new sample and its engine result, both audited.

    The session must name its acting user (:func:`mrdtrack.registry.audit.set_actor`).
    """
    patient = load_patient(session, viewer, study_id, full=True)
    result, marker = _compute(patient, entry, today)
    sample = Sample(
        patient_id=patient.id,
        sample_date=entry.sample_date,
        timepoint=entry.timepoint,
        tissue=entry.tissue,
        source="web entry",
        reconstructed=[],
    )
    session.add(sample)
    session.flush()
    row = add_mrd_result(session, sample, result, marker)
    row.source = "web entry"
    session.flush()
    return result_view(patient, sample, row)
