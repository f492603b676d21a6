"""The registry adapter of the outcome analytics: the registry's events as cohort columns.

:func:`read_cohort` reads what the end points and the cohort summary need with one query
per table, in one read transaction (a consistent snapshot), and builds
:class:`~mrdtrack.outcomes.histories.CohortHistories` and
:class:`~mrdtrack.outcomes.summary.CohortPatients` column-wise with numpy — no ORM
objects, no per-row lazy loading (shared/spec/performance.md: cohort analytics of
100,000 patients and a million MRD results in ≤ 2 s).

The database does the per-row work it does fastest: dates become day numbers
(``date.toordinal()``), vocabulary codes become small integers, and the integer columns
of a row are packed into one 64-bit integer that numpy unpacks (a million rows cost a
third less to fetch as one integer than as a tuple). Soft-deleted rows are left out.

How the cohort's events are read (docs/demo-cohort.md):

* time zero candidates — diagnosis (the earliest), the first blinatumomab infusion, the
  remission (onset of the CR the patient was in at the first infusion: the first CR/CRh/
  CRi assessment after the last NR/PR/relapse assessment on or before it, or the first CR
  after it; without blinatumomab, the first CR after diagnosis), the HCT (the first on or
  after the first infusion, else the first);
* relapses — outcome events of kind ``relapse``; assessments with response ``relapse``
  on other days are the disease history (``prior_relapses``);
* induction failure — the patient's first assessment is NR or PR;
* last assessment — the latest assessment or MRD sample; last contact — the latest
  ``last_contact`` outcome event;
* GVHD events for GRFS — acute GVHD grade ≥ 3 (III–IV) and chronic GVHD grade ≥ 2 (NIH
  moderate or severe) adverse events by default (:class:`GvhdEventRule`, [U]);
* CRS — adverse events ``cytokine release syndrome`` / ``CRS`` on the ``ASTCT-2019``
  scale, with their grading inputs (graded by the summary).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import BigInteger, Connection, Integer, Text, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from mrdtrack.errors import InputError
from mrdtrack.outcomes.histories import (
    MRD_STATUS_CODES,
    CohortHistories,
    DatedEvents,
    MrdSeries,
)
from mrdtrack.outcomes.summary import CohortPatients, CrsEpisodes
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import (
    AdverseEvent,
    Diagnosis,
    DiseaseAssessment,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import OutcomeKind, Response, Timepoint, TreatmentKind

__all__ = ["GvhdEventRule", "RegistryCohort", "read_cohort"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_DAY_BITS = 20  # day numbers up to 1,048,575: the year 2870
_RESPONSES = tuple(Response)
_OUTCOMES = tuple(OutcomeKind)
_TIMEPOINTS = (*(t.value for t in Timepoint), "other")
_COMMON_TIMEPOINTS = ("FOLLOW_UP", "POST_C1", "POST_C2", "PRE_BLIN", "EOI", "PRE_HCT", "RELAPSE")
_TIMEPOINTS_BY_FREQUENCY = (
    *_COMMON_TIMEPOINTS,
    *(t for t in _TIMEPOINTS[:-1] if t not in _COMMON_TIMEPOINTS),
)
_POST_HCT_DAY = "POST_HCT_D"
_CRS_TERMS = ("cytokine release syndrome", "crs")
_IN_REMISSION = (Response.CR, Response.CRH, Response.CRI)
_NOT_IN_REMISSION = (Response.NR, Response.PR, Response.RELAPSE)


class _DayNumber(FunctionElement[int]):
    """``date.toordinal()`` of a DATE column, computed by the database (NULL stays NULL)."""

    name = "day_number"
    type = Integer()
    inherit_cache = True


@compiles(_DayNumber, "sqlite")
def _day_number_sqlite(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores dates as ISO text; julianday('0001-01-01') is 1721425.5 (ordinal 1).
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 1721424.5 AS INTEGER)"


@compiles(_DayNumber, "postgresql")
def _day_number_postgresql(element: _DayNumber, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) - DATE '0001-01-01' + 1)"


def _day(column: Any) -> ColumnElement[int]:
    """The day number of a date column, 0 where it is NULL."""
    return func.coalesce(_DayNumber(column), 0)


def _code(column: Any, labels: Sequence[str], other: int) -> ColumnElement[int]:
    """The position of the column's value in ``labels`` (``other`` for any other value)."""
    return case({label: i for i, label in enumerate(labels)}, value=column, else_=other)


@dataclass(frozen=True, slots=True, eq=False)
class RegistryCohort:
    """What the registry holds for the outcome analytics, column-wise."""

    histories: CohortHistories
    patients: CohortPatients
    dialect: str


@dataclass(frozen=True, slots=True)
class GvhdEventRule:
    """Which GVHD adverse events end GVHD-free, relapse-free survival (GRFS).

    Holtan SG et al. Blood 2015;125:1333-1338 count grade III–IV acute GVHD and chronic
    GVHD needing systemic immunosuppression; registries rarely record the latter, so the
    default takes NIH moderate or severe chronic GVHD (grade ≥ 2) in its place [U].
    """

    acute_min_grade: int = 3
    chronic_min_grade: int = 2


def read_cohort(registry: Registry, *, gvhd: GvhdEventRule | None = None) -> RegistryCohort:
    """Read every (not deleted) patient's events and summary facts from the registry.

    One query per table, all in one read-only snapshot: on PostgreSQL a REPEATABLE READ
    READ ONLY transaction; on SQLite (WAL) a deferred transaction, which blocks no writer
    (the registry's own transactions begin IMMEDIATE, taking the write lock). No ORM
    objects are created.

    Parameters
    ----------
    registry
        An open registry (:func:`mrdtrack.registry.database.open_registry`).
    gvhd
        The GVHD events GRFS counts (default :class:`GvhdEventRule`).
    """
    rule = gvhd or GvhdEventRule()
    with registry.engine.connect() as connection:
        if registry.dialect == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with connection.begin():
                return _read(connection, registry.dialect, rule)
        cursor = connection.connection.cursor()
        cursor.execute("BEGIN DEFERRED")
        try:
            return _read(connection, registry.dialect, rule)
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()


def _read(connection: Connection, dialect: str, rule: GvhdEventRule) -> RegistryCohort:
    patient_rows = _fetch(
        connection,
        select(Patient.id, Patient.study_id, Patient.sex, _day(Patient.birth_date)).where(
            Patient.deleted_at.is_(None)
        ),
    )
    ids = np.array([r[0] for r in patient_rows], dtype=np.int64)
    n = ids.size
    if n and int(ids.max()).bit_length() > 63 - _DAY_BITS - 8:
        raise InputError("patient.id", int(ids.max()), "ids below 2**35 (the packed reads' range)")
    order = np.argsort(ids, kind="stable")
    index = _Index(ids[order], order)

    d_patient, d_day = _fetch_packed(
        connection,
        [(Diagnosis.patient_id, 0), (_day(Diagnosis.diagnosis_date), _DAY_BITS)],
        Diagnosis.deleted_at.is_(None),
    )
    diagnosis = _first_days(n, index.rows(d_patient), d_day)

    kinds = [TreatmentKind.BLINATUMOMAB.value, TreatmentKind.HCT.value]
    t_patient, t_kind, t_day = _fetch_packed(
        connection,
        [
            (TreatmentCourse.patient_id, 0),
            (_code(TreatmentCourse.kind, kinds, 2), 2),
            (_day(TreatmentCourse.start_date), _DAY_BITS),
        ],
        TreatmentCourse.deleted_at.is_(None) & TreatmentCourse.kind.in_(kinds),
    )
    t_rows = index.rows(t_patient)
    blinatumomab = _first_days(n, t_rows[t_kind == 0], t_day[t_kind == 0])
    hct = _hct(n, t_rows[t_kind == 1], t_day[t_kind == 1], blinatumomab)

    a_patient, a_day, a_code = _fetch_packed(
        connection,
        [
            (DiseaseAssessment.patient_id, 0),
            (_day(DiseaseAssessment.assessment_date), _DAY_BITS),
            (_code(DiseaseAssessment.response, [r.value for r in _RESPONSES], len(_RESPONSES)), 3),
        ],
        DiseaseAssessment.deleted_at.is_(None),
    )
    assessments = _Assessments.of(index.rows(a_patient), a_day, a_code)

    outcome_columns = [
        (OutcomeEvent.patient_id, 0),
        (_code(OutcomeEvent.kind, [k.value for k in _OUTCOMES], len(_OUTCOMES)), 3),
        (_day(OutcomeEvent.event_date), _DAY_BITS),
    ]
    outcome_rows = _fetch(
        connection,
        select(_packed(outcome_columns), OutcomeEvent.detail).where(
            OutcomeEvent.deleted_at.is_(None)
        ),
    )
    o_patient, o_kind, o_day = _split(
        np.fromiter((r[0] for r in outcome_rows), np.int64, len(outcome_rows)), outcome_columns
    )
    o_rows = index.rows(o_patient)
    o_days = o_day.astype(np.float64)

    def of_kind(kind: OutcomeKind) -> DatedEvents:
        chosen = (o_kind == _OUTCOMES.index(kind)) & (o_rows >= 0)
        return DatedEvents(o_rows[chosen], o_days[chosen])

    relapses = of_kind(OutcomeKind.RELAPSE)
    deaths = of_kind(OutcomeKind.DEATH)
    death = _first_days(n, deaths.patient, deaths.day)
    causes: list[str | None] = [None] * n
    is_death = (o_kind == _OUTCOMES.index(OutcomeKind.DEATH)) & (o_rows >= 0)
    for position in np.flatnonzero(is_death):
        row = int(o_rows[position])
        if o_days[position] == death[row]:
            causes[row] = outcome_rows[position][1]
    contacts = of_kind(OutcomeKind.LAST_CONTACT)

    mrd = _read_mrd(connection, index)
    crs, gvhd = _read_adverse_events(connection, index, rule)
    histories = CohortHistories(
        patient_ids=tuple(str(r[1]) for r in patient_rows),
        diagnosis=diagnosis,
        blinatumomab=blinatumomab,
        remission=assessments.remission(n, blinatumomab, diagnosis),
        hct=hct,
        death=death,
        last_contact=_last_days(n, contacts.patient, contacts.day),
        last_assessment=np.fmax(
            _last_days(n, assessments.rows, assessments.day),
            _last_days(n, mrd.patient, mrd.day),
        ),
        induction_failure=assessments.induction_failure(n),
        death_causes=tuple(causes),
        relapses=relapses,
        prior_relapses=assessments.prior_relapses(relapses),
        second_malignancies=of_kind(OutcomeKind.SECOND_MALIGNANCY),
        gvhd=gvhd,
        mrd=mrd,
    )
    birth = np.array([r[3] for r in patient_rows], dtype=np.float64)
    birth[birth == 0] = np.nan
    patients = CohortPatients(sex=tuple(str(r[2]) for r in patient_rows), birth=birth, crs=crs)
    return RegistryCohort(histories=histories, patients=patients, dialect=dialect)


@dataclass(frozen=True, slots=True, eq=False)
class _Index:
    """Maps registry patient ids to positions in the cohort's arrays."""

    sorted_ids: IntArray
    positions: IntArray

    def rows(self, patient_ids: IntArray) -> IntArray:
        """Positions of ``patient_ids``; −1 for ids of deleted (or unknown) patients."""
        if not self.sorted_ids.size:
            return np.full(patient_ids.size, -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.sorted_ids, patient_ids), self.sorted_ids.size - 1)
        found = self.sorted_ids[at] == patient_ids
        return np.where(found, self.positions[at], -1)


@dataclass(frozen=True, slots=True, eq=False)
class _Assessments:
    """Disease assessments column-wise: cohort row, day number, response code."""

    rows: IntArray
    day: FloatArray
    code: IntArray

    @classmethod
    def of(cls, rows: IntArray, day: IntArray, code: IntArray) -> _Assessments:
        """The assessments of patients in the cohort (rows −1 dropped)."""
        keep = rows >= 0
        return cls(rows[keep], day[keep].astype(np.float64), code[keep])

    def where(self, responses: Sequence[Response]) -> NDArray[np.bool_]:
        return np.isin(self.code, [_RESPONSES.index(r) for r in responses])

    def remission(self, n: int, blinatumomab: FloatArray, diagnosis: FloatArray) -> FloatArray:
        """Onset of the CR at the first infusion (or the first CR after it)."""
        reference = np.where(np.isnan(blinatumomab), diagnosis, blinatumomab)
        reference = np.where(np.isnan(reference), np.inf, reference)
        bad = self.where(_NOT_IN_REMISSION) & (self.day <= reference[self.rows])
        last_bad = np.full(n, -np.inf)
        np.maximum.at(last_bad, self.rows[bad], self.day[bad])
        good = self.where(_IN_REMISSION) & (self.day > last_bad[self.rows])
        return _first_days(n, self.rows[good], self.day[good])

    def induction_failure(self, n: int) -> FloatArray:
        """The day of the first assessment when it is NR or PR (NaN otherwise)."""
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, self.rows, self.day.astype(np.int64) * 8 + self.code)
        found = first < np.iinfo(np.int64).max
        failed = found & np.isin(
            first % 8, [_RESPONSES.index(r) for r in (Response.NR, Response.PR)]
        )
        return np.where(failed, first // 8, np.nan).astype(np.float64)

    def prior_relapses(self, outcome_relapses: DatedEvents) -> DatedEvents:
        """Relapse assessments on days with no relapse outcome event (disease history)."""
        relapse = self.where([Response.RELAPSE])
        rows, days = self.rows[relapse], self.day[relapse]
        keys = rows * (1 << _DAY_BITS) + days.astype(np.int64)
        recorded = outcome_relapses.patient * (1 << _DAY_BITS) + outcome_relapses.day.astype(
            np.int64
        )
        history = ~np.isin(keys, recorded)
        return DatedEvents(rows[history], days[history])


def _read_mrd(connection: Connection, index: _Index) -> MrdSeries:
    """Every MRD result: cohort row, sample day, time-point code, status code."""
    statuses = list(MRD_STATUS_CODES)
    status_code = case(
        {s.value: MRD_STATUS_CODES[s] for s in statuses}, value=MrdResultRow.status, else_=0
    )
    # A value CASE (one comparison per label, the commonest first) costs SQLite far less
    # than a searched CASE; POST_HCT_D<day> codes fall through to the prefix test.
    post_hct = case(
        (
            func.substr(Sample.timepoint, 1, len(_POST_HCT_DAY)) == _POST_HCT_DAY,
            _TIMEPOINTS.index(Timepoint.POST_HCT.value),
        ),
        else_=len(_TIMEPOINTS) - 1,
    )
    timepoint_code = case(
        {label: _TIMEPOINTS.index(label) for label in _TIMEPOINTS_BY_FREQUENCY},
        value=Sample.timepoint,
        else_=post_hct,
    )
    columns = [
        (Sample.patient_id, 0),
        (_day(Sample.sample_date), _DAY_BITS),
        (timepoint_code, 5),
        (status_code, 2),
    ]
    statement = (
        select(_packed(columns))
        .select_from(MrdResultRow)
        .join(Sample, Sample.id == MrdResultRow.sample_id)
        .where(MrdResultRow.deleted_at.is_(None), Sample.deleted_at.is_(None))
    )
    rows = _fetch(connection, statement)
    patient, day, timepoint, status = _split(
        np.fromiter((r[0] for r in rows), np.int64, len(rows)), columns
    )
    cohort_rows = index.rows(patient)
    keep = cohort_rows >= 0
    return MrdSeries(
        patient=cohort_rows[keep],
        day=day[keep].astype(np.float64),
        timepoint=timepoint[keep],
        status=status[keep],
        timepoints=_TIMEPOINTS,
    )


def _read_adverse_events(
    connection: Connection, index: _Index, rule: GvhdEventRule
) -> tuple[CrsEpisodes, DatedEvents]:
    """CRS episodes (ASTCT 2019) and the GVHD events that GRFS counts.

    Terms and grading inputs repeat across patients: each distinct term is classified
    and each distinct inputs text decoded once.
    """
    rows = _fetch(
        connection,
        select(
            AdverseEvent.patient_id,
            func.lower(func.trim(AdverseEvent.term)),
            AdverseEvent.scale == "ASTCT-2019",
            func.coalesce(AdverseEvent.grade, -1),
            _day(AdverseEvent.onset_date),
            func.coalesce(cast(AdverseEvent.grading_inputs, Text), "{}"),
        ).where(AdverseEvent.deleted_at.is_(None)),
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    patient = index.rows(np.array(columns[0], dtype=np.int64))
    known = patient >= 0
    grade = np.array(columns[3], dtype=np.int64)
    term_ids: dict[str, int] = {}
    term_code = np.array([term_ids.setdefault(t, len(term_ids)) for t in columns[1]], np.int64)
    terms = list(term_ids)

    def term_is(test: Callable[[str], bool]) -> NDArray[np.bool_]:
        return np.array([test(t) for t in terms], dtype=np.bool_)[term_code]

    is_crs = known & term_is(lambda t: t in _CRS_TERMS) & np.array(columns[2], dtype=np.bool_)
    text_ids: dict[str, int] = {}
    inputs_index = np.array(
        [text_ids.setdefault(columns[5][i], len(text_ids)) for i in np.flatnonzero(is_crs)],
        dtype=np.int64,
    )
    decoded = [json.loads(text) for text in text_ids]
    crs = CrsEpisodes(
        patient=patient[is_crs],
        inputs_index=inputs_index,
        stored_grade=grade[is_crs],
        inputs=tuple(d if isinstance(d, dict) else {} for d in decoded),
    )
    chronic = term_is(lambda t: "chronic" in t)
    severe = (
        known
        & term_is(lambda t: "graft" in t)
        & (grade >= np.where(chronic, rule.chronic_min_grade, rule.acute_min_grade))
    )
    gvhd = DatedEvents(patient[severe], np.array(columns[4], dtype=np.float64)[severe])
    return crs, gvhd


def _fetch(connection: Connection, statement: ClauseElement) -> list[tuple[Any, ...]]:
    """Run ``statement`` on the raw DB-API cursor: plain tuples, no per-row processing."""
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _packed(columns: Sequence[tuple[Any, int]]) -> ColumnElement[int]:
    """Integer columns as one BIGINT: the first in the high bits, each other in its bits."""
    expression: ColumnElement[int] = cast(columns[0][0], BigInteger)
    for column, bits in columns[1:]:
        expression = expression * (1 << bits) + column
    return expression


def _split(packed: IntArray, columns: Sequence[tuple[Any, int]]) -> list[IntArray]:
    """Undo :func:`_packed`: one array per column."""
    values: list[IntArray] = []
    rest = packed
    for _, bits in reversed(columns[1:]):
        values.append(rest & ((1 << bits) - 1))
        rest = rest >> bits
    values.append(rest)
    return values[::-1]


def _fetch_packed(
    connection: Connection, columns: Sequence[tuple[Any, int]], where: ColumnElement[bool]
) -> list[IntArray]:
    """The integer ``columns`` of the rows matching ``where``, fetched packed, as arrays."""
    rows = _fetch(connection, select(_packed(columns)).where(where))
    return _split(np.fromiter((r[0] for r in rows), np.int64, len(rows)), columns)


def _first_days(n: int, rows: IntArray, days: NDArray[Any]) -> FloatArray:
    """Per cohort row, the earliest of ``days`` (NaN: none; rows −1 are ignored)."""
    first = np.full(n, np.inf)
    keep = rows >= 0
    np.minimum.at(first, rows[keep], days[keep].astype(np.float64))
    first[np.isinf(first)] = np.nan
    return first


def _last_days(n: int, rows: IntArray, days: NDArray[Any]) -> FloatArray:
    """Per cohort row, the latest of ``days`` (NaN: none; rows −1 are ignored)."""
    last = np.full(n, -np.inf)
    keep = rows >= 0
    np.maximum.at(last, rows[keep], days[keep].astype(np.float64))
    last[np.isinf(last)] = np.nan
    return last


def _hct(n: int, rows: IntArray, days: IntArray, blinatumomab: FloatArray) -> FloatArray:
    """The first HCT on or after the first infusion; else the patient's first HCT."""
    keep = rows >= 0
    rows, hct_days = rows[keep], days[keep].astype(np.float64)
    after = hct_days >= np.where(np.isnan(blinatumomab), -np.inf, blinatumomab)[rows]
    first_after = _first_days(n, rows[after], hct_days[after])
    return np.where(np.isnan(first_after), _first_days(n, rows, hct_days), first_after)
