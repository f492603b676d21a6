"""The cohort dashboard's numbers: counts and the MRD response table (de-identified).

Aggregates only: no study id, date or free text leaves this module, so the
statistician role (de-identified data only) may read it. A viewer attached to a site
counts only that site's patients (reliability goal 12).

The MRD response table counts, per time point, each patient's latest result there by
its ASH 2021 category (the rule of :func:`mrdtrack.mrd.mrd_response`, with the 10⁻⁴
thresholds of :data:`mrdtrack.mrd.THRESHOLDS`); a result with no disease assessment on
or before its sample is counted as *unclassified*. Post-transplant samples, with or
without their day (``POST_HCT``, ``POST_HCT_D30`` …), form one row: each patient's
latest after HCT.
The table is computed column-wise by :mod:`mrdtrack.web.dashboard_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from mrdtrack.outcomes.summary import CohortSummary, cohort_summary
from mrdtrack.registry.cohort import read_cohort
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import (
    Diagnosis,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import OutcomeKind, TreatmentKind
from mrdtrack.web.dashboard_data import CATEGORIES, response_counts
from mrdtrack.web.patients import visibility
from mrdtrack.web.security import Principal

__all__ = [
    "RESPONSE_COLUMNS",
    "CohortOverview",
    "ResponseRow",
    "cohort_overview",
    "cohort_table_one",
]

RESPONSE_COLUMNS: tuple[str, ...] = CATEGORIES
"""The columns of the response table, in display order."""


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


def _response_table(session: Session, viewer: Principal) -> tuple[ResponseRow, ...]:
    # Column-wise (numpy) since the per-patient loop took seconds at 10,000 patients.
    return tuple(ResponseRow(tp, counts) for tp, counts in response_counts(session, viewer))


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
