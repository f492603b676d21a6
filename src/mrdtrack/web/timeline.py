"""A registry patient as the protocol engine's :class:`PatientTimeline` (an adapter).

The protocol engine reads plain values; this module reads them off the registry rows,
and says nothing it does not know: a value the registry does not hold stays ``None``
and the engine reports the rules that need it as *not evaluable*.

* **MRD**: per time point (domain rules §5.4 codes the condition language accepts), the
  result of the latest sample; each stored engine result becomes an
  :class:`MrdMeasurement` with its own status, fraction and sensitivity (never
  recomputed). ``FOLLOW_UP``, ``RELAPSE`` and ``DIAGNOSIS`` samples have no protocol
  time point and are left out.
* **Disease status**: the latest of the disease assessments and relapse events — CR,
  CRh and CRi give CR with their remission number, a relapse gives relapsed, NR gives
  refractory; PR has no protocol status and stays unknown.
* **Genetics**: Ph and CD19 status from the diagnosis; a KMT2A rearrangement is known
  present or absent when the leading genetic lesion is known; an IKZF1 deletion is known
  only when it is the recorded lesion (otherwise unknown, not absent).
* **Age** at ``as_of``; **prior therapy** and **phase** from the treatment courses
  started on or before ``as_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.protocols import (
    DiseaseStatus,
    MrdMeasurement,
    PatientTimeline,
    Protocol,
    Therapy,
    TreatmentPhase,
)
from mrdtrack.protocols.timeline import normalize_timepoint
from mrdtrack.registry.models import (
    Diagnosis,
    MrdResultRow,
    Patient,
    Sample,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import GeneticSubtype, OutcomeKind, Response, TreatmentKind

__all__ = ["DiseaseEvents", "find_protocol", "registry_timeline", "to_measurement"]

_DAYS_PER_MONTH = 365.25 / 12
_THERAPY: dict[str, Therapy] = {
    TreatmentKind.CHEMOTHERAPY.value: Therapy.CHEMOTHERAPY,
    TreatmentKind.INTRATHECAL.value: Therapy.CHEMOTHERAPY,
    TreatmentKind.BLINATUMOMAB.value: Therapy.BLINATUMOMAB,
    TreatmentKind.INOTUZUMAB.value: Therapy.INOTUZUMAB,
    TreatmentKind.TKI.value: Therapy.TKI,
    TreatmentKind.HCT.value: Therapy.HCT,
    TreatmentKind.CAR_T.value: Therapy.CAR_T,
    TreatmentKind.DLI.value: Therapy.DLI,
}
_IN_CR = {Response.CR.value, Response.CRH.value, Response.CRI.value}


def find_protocol(name: str | None, protocols: Mapping[str, Protocol]) -> Protocol | None:
    """The shipped protocol a diagnosis names: its id, or the one id ``<name>-…``.

    ``"tpog-mrd"`` and ``"TPOG"`` both find ``tpog-mrd``; a name that matches no id, or
    more than one, finds nothing (the page then offers the list).
    """
    if not name:
        return None
    wanted = name.strip().lower()
    if wanted in protocols:
        return protocols[wanted]
    candidates = [pid for pid in protocols if pid.startswith(wanted + "-")]
    return protocols[candidates[0]] if len(candidates) == 1 else None


def to_measurement(timepoint: str, row: MrdResultRow) -> MrdMeasurement:
    """A stored MRD result as the protocol engine's measurement at ``timepoint``."""
    status = MrdStatus(row.status)
    if status is MrdStatus.POSITIVE and row.mrd_fraction is not None:
        return MrdMeasurement(timepoint, status, mrd_fraction=row.mrd_fraction)
    if status is MrdStatus.NEGATIVE:
        return MrdMeasurement(timepoint, status, sensitivity_fraction=row.sensitivity_fraction)
    if status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE:
        limit = row.details.get("lloq_fraction")
        return MrdMeasurement(
            timepoint,
            status,
            quantification_limit_fraction=limit if isinstance(limit, float) else None,
        )
    # Not evaluable, or positive without a level (no diagnosis reference for RQ-PCR).
    return MrdMeasurement(timepoint, MrdStatus.NOT_EVALUABLE)


def _protocol_timepoint(code: str) -> str | None:
    try:
        return normalize_timepoint(code)
    except InputError:
        return None


def _latest_mrd(samples: Iterable[Sample]) -> tuple[MrdMeasurement, ...]:
    latest: dict[str, tuple[tuple[date, int], MrdResultRow]] = {}
    for sample in samples:
        if sample.deleted_at is not None:
            continue
        timepoint = _protocol_timepoint(sample.timepoint)
        if timepoint is None:
            continue
        for row in sample.mrd_results:
            if row.deleted_at is not None:
                continue
            key = (sample.sample_date, row.id)
            if timepoint not in latest or key > latest[timepoint][0]:
                latest[timepoint] = (key, row)
    return tuple(to_measurement(tp, row) for tp, (_, row) in sorted(latest.items()))


@dataclass(frozen=True, slots=True)
class DiseaseEvents:
    """A patient's disease assessments and relapse events, as plain values."""

    assessments: tuple[tuple[date, str, int | None], ...]
    """``(assessment_date, response, remission_number)`` of each live assessment."""
    relapses: tuple[date, ...]
    """Dates of the live relapse outcome events."""

    @classmethod
    def of(cls, patient: Patient) -> DiseaseEvents:
        """The events of a registry patient (relationships loaded)."""
        return cls(
            tuple(
                (a.assessment_date, a.response, a.remission_number)
                for a in patient.assessments
                if a.deleted_at is None
            ),
            tuple(
                o.event_date
                for o in patient.outcomes
                if o.deleted_at is None and o.kind == OutcomeKind.RELAPSE.value
            ),
        )

    def status_on(self, day: date) -> tuple[DiseaseStatus | None, int | None]:
        """The disease status (and remission number) on ``day``, from the latest event."""
        events: list[tuple[date, int, DiseaseStatus | None, int | None]] = []
        for when, response, number in self.assessments:
            if when > day:
                continue
            if response in _IN_CR:
                events.append((when, 0, DiseaseStatus.CR, number))
            elif response == Response.RELAPSE.value:
                events.append((when, 0, DiseaseStatus.RELAPSED, None))
            elif response == Response.NR.value:
                events.append((when, 0, DiseaseStatus.REFRACTORY, None))
            else:
                events.append((when, 0, None, None))
        # On the same day a relapse outranks an assessment filed before it was known.
        events.extend(
            (when, 1, DiseaseStatus.RELAPSED, None) for when in self.relapses if when <= day
        )
        if not events:
            return None, None
        _, _, status, number = max(events, key=lambda e: (e[0], e[1]))
        return status, number


def _genetics(diagnosis: Diagnosis | None) -> tuple[bool | None, bool | None]:
    if diagnosis is None or diagnosis.genetic_subtype == GeneticSubtype.NOT_AVAILABLE.value:
        return None, None
    subtype = diagnosis.genetic_subtype
    kmt2a = subtype == GeneticSubtype.KMT2A_R.value
    ikzf1 = subtype in {GeneticSubtype.IKZF1_DELETION.value, GeneticSubtype.IKZF1PLUS.value}
    return kmt2a, (True if ikzf1 else None)


def _phase(courses: list[TreatmentCourse]) -> TreatmentPhase | None:
    if not courses:
        return None
    latest = max(courses, key=lambda c: (c.start_date, c.id))
    if latest.kind in {TreatmentKind.HCT.value, TreatmentKind.DLI.value}:
        return TreatmentPhase.POST_HCT
    phase = latest.details.get("phase") if latest.kind == TreatmentKind.CHEMOTHERAPY else None
    if isinstance(phase, str) and phase in {p.value for p in TreatmentPhase}:
        return TreatmentPhase(phase)
    return None


def registry_timeline(patient: Patient, as_of: date) -> PatientTimeline:
    """The protocol timeline of a registry patient as of ``as_of`` (relationships loaded)."""
    diagnoses = sorted(
        (d for d in patient.diagnoses if d.deleted_at is None), key=lambda d: d.diagnosis_date
    )
    diagnosis = diagnoses[0] if diagnoses else None
    courses = [t for t in patient.treatments if t.deleted_at is None and t.start_date <= as_of]
    status, number = DiseaseEvents.of(patient).status_on(as_of)
    kmt2a, ikzf1 = _genetics(diagnosis)
    age_months = None
    if patient.birth_date is not None and patient.birth_date <= as_of:
        age_months = (as_of - patient.birth_date).days / _DAYS_PER_MONTH
    return PatientTimeline(
        patient_id=patient.study_id,
        disease_status=status,
        remission_number=number if status is DiseaseStatus.CR else None,
        ph_positive=None if diagnosis is None else diagnosis.ph_positive,
        cd19_positive=None if diagnosis is None else diagnosis.cd19_positive,
        kmt2a_rearranged=kmt2a,
        ikzf1_intragenic_deletion=ikzf1,
        age_months=age_months,
        phase=_phase(courses),
        prior_therapy=frozenset(_THERAPY[c.kind] for c in courses if c.kind in _THERAPY),
        mrd=_latest_mrd(patient.samples),
    )
