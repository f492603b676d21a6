"""The cohort dashboard's MRD response table, computed column-wise.

Per time point, each visible patient's latest result there (latest by sample date, then
by result id) is counted by its ASH 2021 MRD response category (RESP-MRD, Hematology Am
Soc Hematol Educ Program 2021;2021(1):718-725, Table 1): a result is classified only in
hematologic CR (SEED-1), and with the thresholds :func:`mrdtrack.mrd.mrd_response`
applies by default (``MRD-POS-1E-4``: MRD ≥ 10⁻⁴ is failure; ``MRD-SENS-1E-4``: a
negative at sensitivity ≤ 10⁻⁴ is MRD-CR). The rule, as :func:`mrd_response` evaluates
it for one result:

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

Why columnar: at 10,000 patients, building an :class:`~mrdtrack.mrd.MrdResult` and a
status per patient and time point in Python took seconds. Here each table is read once
as plain tuples and the latest-per-group, status look-up (``searchsorted``) and
classification are numpy operations (shared/spec/performance.md, web target).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Float, Integer, case, cast, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from mrdtrack.mrd import THRESHOLDS, MrdResponseCategory, MrdStatus
from mrdtrack.mrd.thresholds import Operator, Threshold
from mrdtrack.registry.cohort import _day
from mrdtrack.registry.models import DiseaseAssessment, MrdResultRow, OutcomeEvent, Patient, Sample
from mrdtrack.registry.vocabulary import OutcomeKind, Response, Timepoint
from mrdtrack.web.patients import visibility
from mrdtrack.web.security import Principal

__all__ = ["CATEGORIES", "response_counts"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

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
_POST_HCT_DAY = re.compile(r"POST_HCT_D\d+")
_DAY_SHIFT = 22  # day*2+1 < 2**21 for day numbers up to the year 2870
# Disease status codes of an event: no status (e.g. PR), in CR, not in CR.
_NO_STATUS, _IN_CR, _NOT_IN_CR = 0, 1, 2
_IN_CR_RESPONSES = (Response.CR.value, Response.CRH.value, Response.CRI.value)
_NOT_IN_CR_RESPONSES = (Response.RELAPSE.value, Response.NR.value)
_STATUSES = tuple(MrdStatus)
_OPERATORS = {
    Operator.GE: np.greater_equal,
    Operator.GT: np.greater,
    Operator.LE: np.less_equal,
    Operator.LT: np.less,
}


def _fetch(connection: Connection, statement: ClauseElement) -> list[tuple[Any, ...]]:
    """Run ``statement`` on the raw DB-API cursor: plain tuples, no per-row processing."""
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _ints(values: Sequence[Any]) -> IntArray:
    return np.array(values, dtype=np.int64)


def _row_of(code: str) -> str:
    return Timepoint.POST_HCT.value if _POST_HCT_DAY.fullmatch(code) else code


def _holds(threshold: Threshold, values: FloatArray) -> NDArray[np.bool_]:
    """``values <op> limit`` of a threshold, element-wise (NaN never holds)."""
    return np.asarray(_OPERATORS[threshold.operator](values, threshold.limit_fraction))


def _day_number(column: Any) -> ColumnElement[int]:
    """``date.toordinal()`` computed by the database: the cohort reader's own expression."""
    return _day(column)


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
    assessments = _columns(
        _fetch(
            connection,
            select(
                DiseaseAssessment.patient_id,
                _day_number(DiseaseAssessment.assessment_date),
                DiseaseAssessment.id,
                response_code,
            ).where(DiseaseAssessment.deleted_at.is_(None)),
        ),
        4,
    )
    relapses = _columns(
        _fetch(
            connection,
            select(OutcomeEvent.patient_id, _day_number(OutcomeEvent.event_date)).where(
                OutcomeEvent.deleted_at.is_(None),
                OutcomeEvent.kind == OutcomeKind.RELAPSE.value,
            ),
        ),
        2,
    )
    a_key = (_ints(assessments[0]) << _DAY_SHIFT) + _ints(assessments[1]) * 2
    r_key = (_ints(relapses[0]) << _DAY_SHIFT) + _ints(relapses[1]) * 2 + 1
    key = np.concatenate([a_key, r_key])
    code = np.concatenate([_ints(assessments[3]), np.full(r_key.size, _NOT_IN_CR, np.int64)])
    # Secondary order: descending assessment id (relapses share 0; their ties are moot).
    tie = np.concatenate([-_ints(assessments[2]), np.zeros(r_key.size, np.int64)])
    order = np.lexsort((tie, key))
    return key[order], code[order]


def response_counts(session: Session, viewer: Principal) -> tuple[tuple[str, dict[str, int]], ...]:
    """Patients per MRD response category at each time point the viewer's patients have.

    Post-transplant samples with or without their day (``POST_HCT``, ``POST_HCT_D30`` …)
    form one ``POST_HCT`` row. Rows come in :class:`~mrdtrack.registry.vocabulary.Timepoint`
    order, other codes after them alphabetically; each row's counts are keyed by
    :data:`CATEGORIES`.
    """
    connection = session.connection()
    known = {code: i for i, code in enumerate(_TIMEPOINTS)}
    rows = _fetch(
        connection,
        select(
            Sample.patient_id,
            _day_number(Sample.sample_date),
            MrdResultRow.id,
            case(known, value=Sample.timepoint, else_=-1),
            case((Sample.timepoint.in_(list(known)), None), else_=Sample.timepoint),
            case(
                {s.value: i for i, s in enumerate(_STATUSES)}, value=MrdResultRow.status, else_=-1
            ),
            cast(MrdResultRow.detected, Integer),
            cast(MrdResultRow.mrd_fraction, Float),
            cast(MrdResultRow.sensitivity_fraction, Float),
        )
        .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
        .join(Patient, Sample.patient_id == Patient.id)
        .where(Sample.deleted_at.is_(None), MrdResultRow.deleted_at.is_(None), *visibility(viewer)),
    )
    if not rows:
        return ()
    columns = _columns(rows, 9)
    patient, day, result_id, code = (_ints(c) for c in columns[:4])
    # Codes outside the vocabulary (rare) get their own rows, after the known ones.
    labels = list(_TIMEPOINTS)
    other = code < 0
    if other.any():
        texts = np.array(columns[4], dtype=object)[other]
        distinct, inverse = np.unique(texts.astype(str), return_inverse=True)
        mapped = [_row_of(str(t)) for t in distinct]
        extra = sorted({m for m in mapped if m not in known})
        labels.extend(extra)
        positions = {label: i for i, label in enumerate(labels)}
        code[other] = np.array([positions[m] for m in mapped], np.int64)[inverse]

    # The latest result per (patient, row): sort by group, then day, then id; keep last.
    group = patient * len(labels) + code
    order = np.lexsort((result_id, day, group))
    group = group[order]
    last = np.ones(group.size, dtype=np.bool_)
    last[:-1] = group[1:] != group[:-1]
    chosen = order[last]
    patient, day, code = patient[chosen], day[chosen], code[chosen]
    status = _ints(columns[5])[chosen]
    detected = _ints(columns[6])[chosen] == 1
    fraction = np.array(columns[7], dtype=np.float64)[chosen]
    sensitivity = np.array(columns[8], dtype=np.float64)[chosen]

    event_key, event_code = _status_events(connection)
    query = (patient << _DAY_SHIFT) + day * 2 + 1
    at = np.searchsorted(event_key, query, side="right") - 1
    found = (at >= 0) & ((event_key[np.maximum(at, 0)] >> _DAY_SHIFT) == patient)
    disease = np.where(found, event_code[np.maximum(at, 0)], _NO_STATUS)

    category = _classify(disease, status, detected, fraction, sensitivity)
    counts = np.bincount(code * len(CATEGORIES) + category, minlength=len(labels) * len(CATEGORIES))
    table = counts.reshape(len(labels), len(CATEGORIES))
    # Known codes are in vocabulary order and the others, sorted, after them.
    present = [i for i in range(len(labels)) if table[i].sum() > 0]
    return tuple(
        (labels[i], {name: int(table[i, j]) for j, name in enumerate(CATEGORIES)}) for i in present
    )


def _classify(
    disease: IntArray,
    status: IntArray,
    detected: NDArray[np.bool_],
    fraction: FloatArray,
    sensitivity: FloatArray,
) -> IntArray:
    """The category index of each result (see the module docstring for the rule)."""
    positive = THRESHOLDS["MRD-POS-1E-4"]
    sensitive = THRESHOLDS["MRD-SENS-1E-4"]
    not_evaluable = status == _STATUSES.index(MrdStatus.NOT_EVALUABLE)
    detected_category = np.where(
        np.isnan(fraction),
        _NOT_EVALUABLE,
        np.where(_holds(positive, fraction), _FAILURE, _INTERMEDIATE),
    )
    negative_category = np.where(
        np.isnan(sensitivity),
        _NOT_EVALUABLE,
        np.where(_holds(sensitive, sensitivity), _CR, _INTERMEDIATE),
    )
    in_cr_category = np.where(
        not_evaluable, _NOT_EVALUABLE, np.where(detected, detected_category, negative_category)
    )
    return np.select(
        [disease == _NO_STATUS, disease == _NOT_IN_CR],
        [_UNCLASSIFIED, _NOT_EVALUABLE],
        in_cr_category,
    ).astype(np.int64)
