"""The cohort dashboard's data: one column-wise snapshot of the registry per version.

:func:`read_snapshot` reads, with one query per table and no ORM objects, everything
the dashboard counts, filters and estimates, for every patient of every site:

* the outcome histories and summary facts of :func:`mrdtrack.registry.cohort.read_cohort`
  (the end points, Table 1 and the MRD response rates are computed from these);
* each patient's filter facets (:class:`~mrdtrack.web.filters.FacetColumns`): site,
  earliest diagnosis (subtype, year), current treatment courses, latest MRD status;
* per patient, the treatment kinds ever recorded and the number of MRD results;
* each patient's latest MRD result per time point, classified by its ASH 2021
  category (:class:`ClassifiedResults`).

A viewer's scope (their site) and a filter are then boolean masks over the snapshot's
patients, so that any filter costs milliseconds once the snapshot is read
(:mod:`mrdtrack.web.cohort`; :mod:`mrdtrack.web.dashboard_cache` keeps it per
registry version).

The MRD response table counts, per time point, each patient's latest result there
(latest by sample date, then by result id) by its ASH 2021 MRD response category
(RESP-MRD, Hematology Am Soc Hematol Educ Program 2021;2021(1):718-725, Table 1): a
result is classified only in hematologic CR (SEED-1), and with the thresholds
:func:`mrdtrack.mrd.mrd_response` applies by default (``MRD-POS-1E-4``: MRD ≥ 10⁻⁴ is
failure; ``MRD-SENS-1E-4``: a negative at sensitivity ≤ 10⁻⁴ is MRD-CR). The rule, as
:func:`mrd_response` evaluates it for one result:

* no disease status on the sample date (no assessment or relapse on or before it, or
  the latest one is neither CR/CRh/CRi, relapse nor NR) → *unclassified*;
* not in CR, or status ``not_evaluable`` → not evaluable;
* detected: no level → not evaluable; level ``pos`` the threshold → failure; else
  intermediate;
* not detected: no sensitivity → not evaluable; sensitivity ``sens`` the threshold →
  MRD-CR; else intermediate.

The disease status on a day is the latest event on or before it; on the same day a
relapse outcome event outranks an assessment, and of two assessments the first filed
(lowest id) counts (:meth:`mrdtrack.web.timeline.DiseaseEvents.status_on`).
Post-transplant samples with or without their day (``POST_HCT``, ``POST_HCT_D30`` …)
form one ``POST_HCT`` row.

Why columnar and packed: at 100,000 patients and a million MRD results, fetching the
MRD rows as nine-column tuples and transposing them in Python took 4.8 s; here the
small integer columns of a row travel as two 64-bit integers that numpy unpacks (as
:mod:`mrdtrack.registry.cohort` does) — the database compares the MRD level and the
achieved sensitivity with the thresholds' own operators and limits, so no float column
is fetched — and the latest-per-group, status look-up (``searchsorted``) and
classification are numpy operations.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, Connection, Integer, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from mrdtrack.errors import InputError
from mrdtrack.mrd import THRESHOLDS, MrdResponseCategory, MrdStatus
from mrdtrack.mrd.thresholds import Operator, Threshold
from mrdtrack.registry.cohort import RegistryCohort, _day, _packed, _split, read_cohort
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import (
    AuditEntry,
    Diagnosis,
    DiseaseAssessment,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    Site,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import OutcomeKind, Response, Timepoint
from mrdtrack.web.filters import (
    MRD_STATUSES,
    SUBTYPES,
    THERAPIES,
    FacetColumns,
    SiteChoice,
    current_course,
)
from mrdtrack.web.security import Principal

__all__ = [
    "CATEGORIES",
    "ClassifiedResults",
    "RegistrySnapshot",
    "classify_results",
    "read_snapshot",
    "registry_version",
    "response_counts",
]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

CATEGORIES: tuple[str, ...] = (
    MrdResponseCategory.MRD_CR.value,
    MrdResponseCategory.MRD_INTERMEDIATE.value,
    MrdResponseCategory.MRD_FAILURE.value,
    MrdResponseCategory.NOT_EVALUABLE.value,
    "unclassified",
)
"""The categories counted, in display order (the web dashboard's columns)."""

_CR, _INTERMEDIATE, _FAILURE, _NOT_EVALUABLE, _UNCLASSIFIED = range(len(CATEGORIES))
_TIMEPOINTS = tuple(t.value for t in Timepoint)
_OTHER_TIMEPOINT = 31  # the 5-bit code of a time point outside the vocabulary
_POST_HCT_DAY = "POST_HCT_D"
_DAY_BITS = 20  # day numbers up to 1,048,575: the year 2870
_PATIENT_BITS = 63 - _DAY_BITS - 8  # the MRD row packs 8 more bits after the day
_DAY_SHIFT = 22  # status-event keys: day*2+1 < 2**21
# Disease status codes of an event: no status (e.g. PR), in CR, not in CR.
_NO_STATUS, _IN_CR, _NOT_IN_CR = 0, 1, 2
_IN_CR_RESPONSES = (Response.CR.value, Response.CRH.value, Response.CRI.value)
_NOT_IN_CR_RESPONSES = (Response.RELAPSE.value, Response.NR.value)
_NOT_EVALUABLE_STATUS = MRD_STATUSES.index(MrdStatus.NOT_EVALUABLE.value)
_OPERATORS = {
    Operator.GE: operator.ge,
    Operator.GT: operator.gt,
    Operator.LE: operator.le,
    Operator.LT: operator.lt,
}
# Codes of a value against a threshold: absent, present and the threshold does not
# hold, present and it holds.
_ABSENT, _BELOW, _HOLDS = 0, 1, 2
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def registry_version(session: Session) -> int:
    """The registry's change token: the last audit sequence number (0: none yet).

    Every write appends an audit row in its own transaction
    (:mod:`mrdtrack.registry.audit`), so the number moves with every change; it is the
    primary key's maximum, an index look-up.
    """
    return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def _fetch(connection: Connection, statement: ClauseElement) -> list[tuple[Any, ...]]:
    """Run ``statement`` on the raw DB-API cursor: plain tuples, no per-row processing."""
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _matrix(rows: list[tuple[Any, ...]], width: int, dtype: Any = np.int64) -> NDArray[Any]:
    """Rows of numbers as a ``(len(rows), width)`` array (one conversion, no transposing)."""
    return np.array(rows, dtype=dtype).reshape(len(rows), width)


def _against(threshold: Threshold, column: Any) -> ColumnElement[int]:
    """The value's code against ``threshold``, computed by the database (NULL: absent).

    The comparison is the threshold's own operator on the stored double, as
    :meth:`~mrdtrack.mrd.thresholds.Threshold.check` compares it.
    """
    holds = _OPERATORS[threshold.operator](column, threshold.limit_fraction)
    return case((column.is_(None), _ABSENT), (holds, _HOLDS), else_=_BELOW)


@dataclass(frozen=True, slots=True, eq=False)
class ClassifiedResults:
    """Each patient's latest MRD result per time-point row, with its category.

    ``patient`` holds registry patient ids (:func:`classify_results`) or snapshot
    positions (:attr:`RegistrySnapshot.results`); ``row`` indexes ``labels``,
    ``category`` indexes :data:`CATEGORIES`.
    """

    patient: IntArray
    row: IntArray
    category: IntArray
    labels: tuple[str, ...]

    def table(self, keep: BoolArray) -> tuple[tuple[str, dict[str, int]], ...]:
        """Patients per category and row, counting the results where ``keep`` holds.

        Rows come in :class:`~mrdtrack.registry.vocabulary.Timepoint` order, other codes
        after them alphabetically; rows without a counted result are left out.
        """
        width = len(CATEGORIES)
        counts = np.bincount(
            self.row[keep] * width + self.category[keep], minlength=len(self.labels) * width
        ).reshape(len(self.labels), width)
        return tuple(
            (self.labels[i], {name: int(counts[i, j]) for j, name in enumerate(CATEGORIES)})
            for i in range(len(self.labels))
            if counts[i].sum() > 0
        )


@dataclass(frozen=True, slots=True, eq=False)
class _MrdRows:
    """Every live MRD result, column-wise.

    Registry patient id, sample day, result id, row code, status code, detected, and the
    level (MRD fraction) and achieved sensitivity as codes against the ASH thresholds.
    """

    patient: IntArray
    day: IntArray
    result_id: IntArray
    row: IntArray
    status: IntArray
    detected: BoolArray
    level: IntArray
    sensitivity: IntArray
    labels: tuple[str, ...]

    def latest(self, group: IntArray, among: IntArray | None = None) -> IntArray:
        """Indices of the latest result (by day, then id) of each ``group`` value.

        ``group`` has one value per result; ``among`` limits the search to those results.
        """
        rows = np.arange(group.size, dtype=np.int64) if among is None else among
        order = rows[np.lexsort((self.result_id[rows], self.day[rows], group[rows]))]
        sorted_group = group[order]
        last = np.ones(order.size, dtype=np.bool_)
        last[:-1] = sorted_group[1:] != sorted_group[:-1]
        return np.asarray(order[last], dtype=np.int64)


def _read_mrd(connection: Connection) -> _MrdRows:
    known = {code: i for i, code in enumerate(_TIMEPOINTS)}
    post_hct = case(
        (
            func.substr(Sample.timepoint, 1, len(_POST_HCT_DAY)) == _POST_HCT_DAY,
            known[Timepoint.POST_HCT.value],
        ),
        else_=_OTHER_TIMEPOINT,
    )
    status_code = case(
        {s: i for i, s in enumerate(MRD_STATUSES)},
        value=MrdResultRow.status,
        else_=_NOT_EVALUABLE_STATUS,
    )
    packed = [
        (Sample.patient_id, 0),
        (_day(Sample.sample_date), _DAY_BITS),
        (case(known, value=Sample.timepoint, else_=post_hct), 5),
        (status_code, 2),
        (func.coalesce(cast(MrdResultRow.detected, Integer), 0), 1),
    ]
    thresholds = [
        (MrdResultRow.id, 0),
        (_against(THRESHOLDS["MRD-POS-1E-4"], MrdResultRow.mrd_fraction), 2),
        (_against(THRESHOLDS["MRD-SENS-1E-4"], MrdResultRow.sensitivity_fraction), 2),
    ]
    live = (Sample.deleted_at.is_(None), MrdResultRow.deleted_at.is_(None))
    rows = _fetch(
        connection,
        select(_packed(packed), _packed(thresholds))
        .select_from(MrdResultRow)
        .join(Sample, MrdResultRow.sample_id == Sample.id)
        .where(*live),
    )
    numbers = _matrix(rows, 2)
    patient, day, row, status, detected = _split(numbers[:, 0], packed)
    result_id, level, sensitivity = _split(numbers[:, 1], thresholds)
    labels = list(_TIMEPOINTS)
    other = row == _OTHER_TIMEPOINT
    if other.any():
        # Codes outside the vocabulary (rare) get their own rows, after the known ones:
        # read apart so that the million-row query carries no text column.
        texts = dict(
            _fetch(
                connection,
                select(MrdResultRow.id, Sample.timepoint)
                .select_from(MrdResultRow)
                .join(Sample, MrdResultRow.sample_id == Sample.id)
                .where(*live, post_hct == _OTHER_TIMEPOINT, Sample.timepoint.not_in(list(known))),
            )
        )
        named = [str(texts[i]) for i in result_id[other]]
        extra = sorted(set(named))
        labels.extend(extra)
        row[other] = np.array([len(_TIMEPOINTS) + extra.index(t) for t in named], np.int64)
    return _MrdRows(
        patient=patient,
        day=day,
        result_id=result_id,
        row=row,
        status=status,
        detected=detected == 1,
        level=level,
        sensitivity=sensitivity,
        labels=tuple(labels),
    )


def _status_events(connection: Connection) -> tuple[IntArray, IntArray]:
    """Every live disease event as a sorted key (patient, day, rank) and its status code.

    The key orders a patient's events by day, a relapse outcome after an assessment of
    the same day; among same-day assessments the first filed sorts last, so the last
    event with a key at or below ``(patient, day, 1)`` is the one that decides.
    """
    response_code = case(
        {
            **dict.fromkeys(_IN_CR_RESPONSES, _IN_CR),
            **dict.fromkeys(_NOT_IN_CR_RESPONSES, _NOT_IN_CR),
        },
        value=DiseaseAssessment.response,
        else_=_NO_STATUS,
    )
    a_packed = [
        (DiseaseAssessment.patient_id, 0),
        (_day(DiseaseAssessment.assessment_date), _DAY_BITS),
        (response_code, 2),
    ]
    assessments = _matrix(
        _fetch(
            connection,
            select(_packed(a_packed), DiseaseAssessment.id).where(
                DiseaseAssessment.deleted_at.is_(None)
            ),
        ),
        2,
    )
    a_patient, a_day, a_code = _split(assessments[:, 0], a_packed)
    r_packed = [(OutcomeEvent.patient_id, 0), (_day(OutcomeEvent.event_date), _DAY_BITS)]
    relapses = _matrix(
        _fetch(
            connection,
            select(_packed(r_packed)).where(
                OutcomeEvent.deleted_at.is_(None),
                OutcomeEvent.kind == OutcomeKind.RELAPSE.value,
            ),
        ),
        1,
    )
    r_patient, r_day = _split(relapses[:, 0], r_packed)
    key = np.concatenate(
        [(a_patient << _DAY_SHIFT) + a_day * 2, (r_patient << _DAY_SHIFT) + r_day * 2 + 1]
    )
    code = np.concatenate([a_code, np.full(r_patient.size, _NOT_IN_CR, np.int64)])
    # Secondary order: descending assessment id (relapses share 0; their ties are moot).
    tie = np.concatenate([-assessments[:, 1], np.zeros(r_patient.size, np.int64)])
    order = np.lexsort((tie, key))
    return key[order], code[order]


def _classify_latest(connection: Connection, mrd: _MrdRows) -> tuple[ClassifiedResults, IntArray]:
    """Classify each patient's latest result per row (registry patient ids).

    Also returns the indices of those results in ``mrd``.
    """
    if not mrd.patient.size:
        none = np.zeros(0, dtype=np.int64)
        return ClassifiedResults(none, none, none, mrd.labels), none
    chosen = mrd.latest(mrd.patient * len(mrd.labels) + mrd.row)
    patient, day = mrd.patient[chosen], mrd.day[chosen]
    event_key, event_code = _status_events(connection)
    query = (patient << _DAY_SHIFT) + day * 2 + 1
    disease = np.full(patient.size, _NO_STATUS, dtype=np.int64)
    if event_key.size:
        at = np.searchsorted(event_key, query, side="right") - 1
        safe = np.maximum(at, 0)
        found = (at >= 0) & ((event_key[safe] >> _DAY_SHIFT) == patient)
        disease = np.where(found, event_code[safe], _NO_STATUS)
    category = _classify(
        disease,
        mrd.status[chosen],
        mrd.detected[chosen],
        mrd.level[chosen],
        mrd.sensitivity[chosen],
    )
    return ClassifiedResults(patient, mrd.row[chosen], category, mrd.labels), chosen


def classify_results(connection: Connection) -> ClassifiedResults:
    """Every patient's latest MRD result per time-point row, classified (registry ids)."""
    return _classify_latest(connection, _read_mrd(connection))[0]


def response_counts(session: Session, viewer: Principal) -> tuple[tuple[str, dict[str, int]], ...]:
    """Patients per MRD response category at each time point the viewer's patients have.

    The whole table read for one viewer (the dashboard itself counts from its cached
    snapshot): rows as :meth:`ClassifiedResults.table`, counts keyed by
    :data:`CATEGORIES`.
    """
    results = classify_results(session.connection())
    visible = select(Patient.id).where(Patient.deleted_at.is_(None))
    if viewer.site_id is not None:
        visible = visible.where(Patient.site_id == viewer.site_id)
    ids = np.array(session.scalars(visible).all(), dtype=np.int64)
    return results.table(np.isin(results.patient, ids))


def _classify(
    disease: IntArray,
    status: IntArray,
    detected: BoolArray,
    level: IntArray,
    sensitivity: IntArray,
) -> IntArray:
    """The category index of each result (see the module docstring for the rule).

    ``level`` and ``sensitivity`` are codes against ``MRD-POS-1E-4`` and
    ``MRD-SENS-1E-4`` (:func:`_against`).
    """
    not_evaluable = status == _NOT_EVALUABLE_STATUS
    detected_category = np.where(
        level == _ABSENT, _NOT_EVALUABLE, np.where(level == _HOLDS, _FAILURE, _INTERMEDIATE)
    )
    negative_category = np.where(
        sensitivity == _ABSENT,
        _NOT_EVALUABLE,
        np.where(sensitivity == _HOLDS, _CR, _INTERMEDIATE),
    )
    in_cr_category = np.where(
        not_evaluable, _NOT_EVALUABLE, np.where(detected, detected_category, negative_category)
    )
    return np.select(
        [disease == _NO_STATUS, disease == _NOT_IN_CR],
        [_UNCLASSIFIED, _NOT_EVALUABLE],
        in_cr_category,
    ).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class RegistrySnapshot:
    """Everything the dashboard shows, for every patient, at one registry version.

    Per-patient arrays follow the order of ``cohort.histories.patient_ids``.

    Attributes
    ----------
    version
        The registry version (:func:`registry_version`) read before any table.
    today
        The day "current therapy" refers to.
    cohort
        Outcome histories and summary facts (:func:`~mrdtrack.registry.cohort.read_cohort`).
    facets
        The filter facets (:class:`~mrdtrack.web.filters.FacetColumns`).
    sites
        Every site.
    subtype_labels
        Subtype code → label: :data:`~mrdtrack.web.filters.SUBTYPES`, then stored codes
        outside the vocabulary.
    sex, sex_labels
        Sex code per patient and code → label.
    ever_therapy
        Bit ``i`` set when any course of ``THERAPIES[i]`` is recorded.
    mrd_results
        MRD results per patient.
    results
        The classified latest results (``patient`` holds positions).
    """

    version: int
    today: date
    cohort: RegistryCohort
    facets: FacetColumns
    sites: tuple[SiteChoice, ...]
    subtype_labels: tuple[str, ...]
    sex: IntArray
    sex_labels: tuple[str, ...]
    ever_therapy: IntArray
    mrd_results: IntArray
    results: ClassifiedResults

    @property
    def size(self) -> int:
        """Patients in the snapshot (every site)."""
        return len(self.cohort.histories)

    def scope(self, viewer: Principal) -> BoolArray:
        """The patients ``viewer`` may see: their site's, or every one."""
        if viewer.site_id is None:
            return np.ones(self.size, dtype=np.bool_)
        return np.asarray(self.facets.site_id == viewer.site_id)

    def sites_for(self, viewer: Principal) -> tuple[SiteChoice, ...]:
        """The sites ``viewer`` may filter by."""
        if viewer.site_id is None:
            return self.sites
        return tuple(s for s in self.sites if s.id == viewer.site_id)


class _Positions:
    """Registry patient ids → snapshot positions (−1: not in the snapshot)."""

    def __init__(self, ids: IntArray, positions: IntArray) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids = ids[order]
        self.positions = positions[order]

    def of(self, patient_ids: IntArray) -> IntArray:
        if not self.ids.size:
            return np.full(patient_ids.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, patient_ids), self.ids.size - 1)
        return np.where(self.ids[at] == patient_ids, self.positions[at], -1)


def _per_position(n: int, positions: IntArray, values: IntArray, fill: int) -> IntArray:
    out = np.full(n, fill, dtype=np.int64)
    keep = positions >= 0
    out[positions[keep]] = values[keep]
    return out


def _years(days: IntArray) -> IntArray:
    """Calendar years of day numbers (``date.toordinal()``); 0 stays 0."""
    years = (days - _EPOCH_DAY).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    return np.where(days > 0, years + 1970, 0)


def _codes(values: Sequence[str], known: Sequence[str]) -> tuple[IntArray, tuple[str, ...]]:
    """Each value's index in ``known``, values outside it appended (sorted) after."""
    extra = sorted(set(values) - set(known))
    labels = (*known, *extra)
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[v] for v in values], dtype=np.int64), labels


@dataclass(frozen=True, slots=True, eq=False)
class _Tables:
    """What the dashboard reads besides the outcome histories.

    Per-patient arrays follow the rows of its own patient query (one per live patient,
    ``study_ids`` naming them); ``results.patient`` indexes those rows.
    """

    study_ids: tuple[str, ...]
    sites: tuple[SiteChoice, ...]
    site_id: IntArray
    subtype: IntArray
    subtype_labels: tuple[str, ...]
    diagnosis_year: IntArray
    current_therapy: IntArray
    ever_therapy: IntArray
    mrd_results: IntArray
    latest_mrd: IntArray
    results: ClassifiedResults


def _read_tables(registry: Registry, today: date) -> _Tables:
    """Sites, patients, diagnoses, courses and MRD results, in one read snapshot."""
    with registry.reading() as session:
        connection = session.connection()
        sites = tuple(
            SiteChoice(int(i), str(c), str(name))
            for i, c, name in session.execute(
                select(Site.id, Site.code, Site.name).order_by(Site.code)
            )
        )
        patients = _fetch(
            connection,
            select(Patient.id, Patient.study_id, Patient.site_id).where(
                Patient.deleted_at.is_(None)
            ),
        )
        diagnoses = _fetch(
            connection,
            select(
                Diagnosis.patient_id,
                _day(Diagnosis.diagnosis_date),
                Diagnosis.id,
                Diagnosis.genetic_subtype,
            ).where(Diagnosis.deleted_at.is_(None)),
        )
        current_code = case((current_course(today), 1), else_=0)
        course_columns = [
            (TreatmentCourse.patient_id, 0),
            (
                case(
                    {k: i for i, k in enumerate(THERAPIES)},
                    value=TreatmentCourse.kind,
                    else_=len(THERAPIES),
                ),
                4,
            ),
            (current_code, 1),
        ]
        courses = _fetch(
            connection,
            select(_packed(course_columns)).where(TreatmentCourse.deleted_at.is_(None)),
        )
        mrd = _read_mrd(connection)
        classified, per_row = _classify_latest(connection, mrd)
    m = len(patients)
    ids = np.array([r[0] for r in patients], dtype=np.int64)
    if ids.size and int(ids.max()).bit_length() > _PATIENT_BITS:
        raise InputError("patient.id", int(ids.max()), f"ids below 2**{_PATIENT_BITS}")
    index = _Positions(ids, np.arange(m, dtype=np.int64))

    d = _matrix([r[:3] for r in diagnoses], 3)
    first = _first_rows(d[:, 0], d[:, 1], d[:, 2])
    subtype_code, subtype_labels = _codes([str(diagnoses[i][3]) for i in first], SUBTYPES)
    first_rows = index.of(d[first, 0])

    c_patient, c_kind, c_current = _split(_matrix(courses, 1)[:, 0], course_columns)
    c_rows = index.of(c_patient)
    known_kind = (c_rows >= 0) & (c_kind < len(THERAPIES))
    bits = np.left_shift(np.int64(1), np.minimum(c_kind, len(THERAPIES)))
    current = known_kind & (c_current == 1)
    ever_therapy = np.zeros(m, dtype=np.int64)
    np.bitwise_or.at(ever_therapy, c_rows[known_kind], bits[known_kind])
    current_therapy = np.zeros(m, dtype=np.int64)
    np.bitwise_or.at(current_therapy, c_rows[current], bits[current])

    m_rows = index.of(mrd.patient)
    # A patient's latest result is the latest of their latest per time-point row.
    latest = mrd.latest(mrd.patient, among=per_row)
    r_rows = index.of(classified.patient)
    kept = r_rows >= 0
    return _Tables(
        study_ids=tuple(str(r[1]) for r in patients),
        sites=sites,
        site_id=np.array([r[2] for r in patients], dtype=np.int64),
        subtype=_per_position(m, first_rows, subtype_code, -1),
        subtype_labels=subtype_labels,
        diagnosis_year=_per_position(m, first_rows, _years(d[first, 1]), 0),
        current_therapy=current_therapy,
        ever_therapy=ever_therapy,
        mrd_results=np.bincount(m_rows[m_rows >= 0], minlength=m).astype(np.int64),
        latest_mrd=_per_position(m, index.of(mrd.patient[latest]), mrd.status[latest], -1),
        results=ClassifiedResults(
            r_rows[kept], classified.row[kept], classified.category[kept], classified.labels
        ),
    )


def read_snapshot(registry: Registry, *, today: date, version: int) -> RegistrySnapshot:
    """Read the dashboard's snapshot of every patient (see the module docstring).

    ``version`` must be read before this is called: a change that lands while the
    tables are read moves the registry past it, so the snapshot is replaced at the
    next request instead of being kept as current. The outcome histories are read by
    :func:`~mrdtrack.registry.cohort.read_cohort` in its own snapshot, the other tables
    in a second one (one after the other: reading both on two threads was slower, the
    two fetch loops contending for the interpreter); patients are matched by study id,
    and a patient present in only one of the two snapshots (written in between) has no
    facets and matches no filter.
    """
    cohort = read_cohort(registry)
    tables = _read_tables(registry, today)
    study_ids = cohort.histories.patient_ids
    n = len(study_ids)
    mine = {sid: i for i, sid in enumerate(tables.study_ids)}
    row_of = np.array([mine.get(sid, -1) for sid in study_ids], dtype=np.int64)
    position_of = np.full(len(tables.study_ids), -1, dtype=np.int64)
    position_of[row_of[row_of >= 0]] = np.flatnonzero(row_of >= 0)

    def aligned(values: IntArray, fill: int) -> IntArray:
        return _per_position(n, position_of, values, fill)

    results = tables.results
    r_positions = position_of[results.patient]
    kept = r_positions >= 0
    sex, sex_labels = _codes(cohort.patients.sex, ("female", "male"))
    return RegistrySnapshot(
        version=version,
        today=today,
        cohort=cohort,
        facets=FacetColumns(
            site_id=aligned(tables.site_id, -1),
            subtype=aligned(tables.subtype, -1),
            diagnosis_year=aligned(tables.diagnosis_year, 0),
            current_therapy=aligned(tables.current_therapy, 0),
            latest_mrd=aligned(tables.latest_mrd, -1),
        ),
        sites=tables.sites,
        subtype_labels=tables.subtype_labels,
        sex=sex,
        sex_labels=sex_labels,
        ever_therapy=aligned(tables.ever_therapy, 0),
        mrd_results=aligned(tables.mrd_results, 0),
        results=ClassifiedResults(
            r_positions[kept], results.row[kept], results.category[kept], results.labels
        ),
    )


def _first_rows(patient: IntArray, day: IntArray, row_id: IntArray) -> IntArray:
    """Indices of each patient's first row by day, then by id (the earliest diagnosis)."""
    order = np.lexsort((row_id, day, patient))
    sorted_patient = patient[order]
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = sorted_patient[1:] != sorted_patient[:-1]
    return np.asarray(order[first], dtype=np.int64)
