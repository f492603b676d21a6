"""The cohort dashboard's numbers: counts and the MRD response table (de-identified).

Aggregates only: no study id, date or free text leaves this module, so the
statistician role (de-identified data only) may read it. A viewer attached to a site
counts only that site's patients (reliability goal 12).

The MRD response table counts, per time point, each patient's latest result there by
its ASH 2021 category (:func:`mrdtrack.mrd.mrd_response`, the one place the 10⁻⁴
thresholds are applied); a result with no disease assessment on or before its sample
is counted as *unclassified*. Post-transplant samples, with or without their day
(``POST_HCT``, ``POST_HCT_D30`` …), form one row: each patient's latest after HCT.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from mrdtrack.mrd import MrdMethod, MrdResponseCategory, MrdResult, MrdStatus, mrd_response
from mrdtrack.outcomes.summary import CohortSummary, cohort_summary
from mrdtrack.protocols import DiseaseStatus
from mrdtrack.registry.cohort import read_cohort
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import (
    Diagnosis,
    DiseaseAssessment,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import OutcomeKind, Timepoint, TreatmentKind
from mrdtrack.web.patients import visibility
from mrdtrack.web.security import Principal
from mrdtrack.web.timeline import DiseaseEvents

__all__ = [
    "RESPONSE_COLUMNS",
    "CohortOverview",
    "ResponseRow",
    "cohort_overview",
    "cohort_table_one",
]

RESPONSE_COLUMNS: tuple[str, ...] = (
    MrdResponseCategory.MRD_CR.value,
    MrdResponseCategory.MRD_INTERMEDIATE.value,
    MrdResponseCategory.MRD_FAILURE.value,
    MrdResponseCategory.NOT_EVALUABLE.value,
    "unclassified",
)
"""The columns of the response table, in display order."""

_ORDER = {tp.value: i for i, tp in enumerate(Timepoint)}
_POST_HCT_DAY = re.compile(r"POST_HCT_D\d+")


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """Patients per MRD response category at one time point."""

    timepoint: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Patients with a result at this time point."""
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class CohortOverview:
    """The dashboard's counts."""

    patients: int
    sites: int
    mrd_results: int
    by_subtype: tuple[tuple[str, int], ...]
    by_sex: tuple[tuple[str, int], ...]
    patients_with: dict[str, int]
    response_table: tuple[ResponseRow, ...]


def _row_of(code: str) -> str:
    return Timepoint.POST_HCT.value if _POST_HCT_DAY.fullmatch(code) else code


def _timepoint_key(code: str) -> tuple[int, str]:
    return _ORDER.get(code, len(_ORDER)), code


def _counts(session: Session, statement: Select[str, int]) -> tuple[tuple[str, int], ...]:
    rows = session.execute(statement).all()
    return tuple(sorted(((str(k), int(n)) for k, n in rows), key=lambda kv: (-kv[1], kv[0])))


def _patients_by(
    session: Session, viewer: Principal, column: Any, model: Any
) -> tuple[tuple[str, int], ...]:
    """Distinct visible patients per value of ``column`` of a patient's child ``model``."""
    statement: Select[str, int] = (
        select(column, func.count(distinct(Patient.id)))
        .join(Patient, model.patient_id == Patient.id)
        .where(model.deleted_at.is_(None), *visibility(viewer))
        .group_by(column)
    )
    return _counts(session, statement)


def _classifiable(row: Any) -> MrdResult:
    """A stored result with what the response classification reads (no recomputation)."""
    return MrdResult(
        method=MrdMethod(row.method),
        status=MrdStatus(row.status),
        detected=row.detected,
        mrd_fraction=row.mrd_fraction,
        sensitivity_fraction=row.sensitivity_fraction,
        quantifiable=row.quantifiable,
        reasons=(),
        qc_flags=(),
        inputs={},
        profile=row.profile,
        rule=row.rule,
    )


def _disease_events(session: Session, visible: list[Any]) -> dict[int, DiseaseEvents]:
    assessments: dict[int, list[tuple[date, str, int | None]]] = defaultdict(list)
    relapses: dict[int, list[date]] = defaultdict(list)
    for patient_id, day, response, number in session.execute(
        select(
            DiseaseAssessment.patient_id,
            DiseaseAssessment.assessment_date,
            DiseaseAssessment.response,
            DiseaseAssessment.remission_number,
        )
        .join(Patient, DiseaseAssessment.patient_id == Patient.id)
        .where(DiseaseAssessment.deleted_at.is_(None), *visible)
    ):
        assessments[patient_id].append((day, response, number))
    for patient_id, day in session.execute(
        select(OutcomeEvent.patient_id, OutcomeEvent.event_date)
        .join(Patient, OutcomeEvent.patient_id == Patient.id)
        .where(
            OutcomeEvent.deleted_at.is_(None),
            OutcomeEvent.kind == OutcomeKind.RELAPSE.value,
            *visible,
        )
    ):
        relapses[patient_id].append(day)
    return {
        pid: DiseaseEvents(tuple(assessments[pid]), tuple(relapses[pid]))
        for pid in assessments.keys() | relapses.keys()
    }


def _response_table(session: Session, viewer: Principal) -> tuple[ResponseRow, ...]:
    visible = visibility(viewer)
    # Plain rows, not ORM objects: one pass over every visible result, latest wins.
    results = session.execute(
        select(
            Sample.patient_id,
            Sample.timepoint,
            Sample.sample_date,
            MrdResultRow.method,
            MrdResultRow.status,
            MrdResultRow.detected,
            MrdResultRow.quantifiable,
            MrdResultRow.mrd_fraction,
            MrdResultRow.sensitivity_fraction,
            MrdResultRow.profile,
            MrdResultRow.rule,
        )
        .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
        .join(Patient, Sample.patient_id == Patient.id)
        .where(Sample.deleted_at.is_(None), MrdResultRow.deleted_at.is_(None), *visible)
        .order_by(Sample.sample_date, MrdResultRow.id)
    )
    latest: dict[tuple[int, str], Any] = {}  # result rows (named columns)
    for row in results:
        latest[(row.patient_id, _row_of(row.timepoint))] = row
    events = _disease_events(session, visible)
    nothing = DiseaseEvents((), ())
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (patient_id, timepoint), row in latest.items():
        status, _ = events.get(patient_id, nothing).status_on(row.sample_date)
        if status is None:
            counts[timepoint]["unclassified"] += 1
            continue
        response = mrd_response(_classifiable(row), in_hematologic_cr=status is DiseaseStatus.CR)
        counts[timepoint][response.category.value] += 1
    return tuple(
        ResponseRow(tp, {column: counts[tp][column] for column in RESPONSE_COLUMNS})
        for tp in sorted(counts, key=_timepoint_key)
    )


def cohort_overview(session: Session, viewer: Principal) -> CohortOverview:
    """Counts of the patients the viewer may see, and their MRD response table."""
    visible = visibility(viewer)
    patients = session.scalar(select(func.count(Patient.id)).where(*visible)) or 0
    sites = session.scalar(select(func.count(distinct(Patient.site_id))).where(*visible)) or 0
    mrd_results = (
        session.scalar(
            select(func.count(MrdResultRow.id))
            .join(Sample, MrdResultRow.sample_id == Sample.id)
            .join(Patient, Sample.patient_id == Patient.id)
            .where(MrdResultRow.deleted_at.is_(None), Sample.deleted_at.is_(None), *visible)
        )
        or 0
    )
    by_sex = select(Patient.sex, func.count(Patient.id)).where(*visible).group_by(Patient.sex)
    with_treatment = dict(_patients_by(session, viewer, TreatmentCourse.kind, TreatmentCourse))
    with_outcome = dict(_patients_by(session, viewer, OutcomeEvent.kind, OutcomeEvent))
    patients_with = {
        "blinatumomab": with_treatment.get(TreatmentKind.BLINATUMOMAB.value, 0),
        "HCT": with_treatment.get(TreatmentKind.HCT.value, 0),
        "DLI": with_treatment.get(TreatmentKind.DLI.value, 0),
        "relapse": with_outcome.get(OutcomeKind.RELAPSE.value, 0),
        "death": with_outcome.get(OutcomeKind.DEATH.value, 0),
    }
    return CohortOverview(
        patients=patients,
        sites=sites,
        mrd_results=mrd_results,
        by_subtype=_patients_by(session, viewer, Diagnosis.genetic_subtype, Diagnosis),
        by_sex=_counts(session, by_sex),
        patients_with=patients_with,
        response_table=_response_table(session, viewer),
    )


def cohort_table_one(registry: Registry, viewer: Principal) -> CohortSummary | None:
    """The case-series summary (:func:`mrdtrack.outcomes.summary.cohort_summary`).

    ``None`` for a viewer attached to a site: :func:`mrdtrack.registry.cohort.read_cohort`
    reads every site, and a site's users see only their own patients.
    """
    if viewer.site_id is not None:
        return None
    cohort = read_cohort(registry)
    if len(cohort.patients.sex) == 0:
        return None
    return cohort_summary(cohort.histories, cohort.patients)
