"""Patients' event histories, as plain values per patient and column-wise per cohort.

The end points (:mod:`mrdtrack.outcomes.endpoints`) are derived from these. A
:class:`PatientHistory` holds one patient's dates as plain values; a
:class:`CohortHistories` holds a cohort column-wise — numpy arrays of day numbers
(``date.toordinal()`` as floats, NaN where a date is absent) and, for repeated events and
MRD results, flat arrays with the patient's index — so that deriving an end point for
100,000 patients is a few vectorised passes, not a Python loop. The registry adapter
(:mod:`mrdtrack.registry.cohort`) builds the column-wise form directly from its reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus

__all__ = [
    "MRD_STATUS_CODES",
    "CohortHistories",
    "DatedEvents",
    "MrdObservation",
    "MrdSeries",
    "PatientHistory",
    "TimeZero",
    "as_cohort",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MRD_STATUS_CODES: Mapping[MrdStatus, int] = {
    MrdStatus.NOT_EVALUABLE: 0,
    MrdStatus.NEGATIVE: 1,
    MrdStatus.POSITIVE_NOT_QUANTIFIABLE: 2,
    MrdStatus.POSITIVE: 3,
}
"""Status codes of :class:`MrdSeries`, ordered so that the maximum over the results of one
day is the day's status (any positive result makes the sample positive)."""
_STATUS_OF_CODE = {code: status for status, code in MRD_STATUS_CODES.items()}


class TimeZero(StrEnum):
    """The origin of an end point's time scale (END-01: "state which")."""

    DIAGNOSIS = "diagnosis"
    BLINATUMOMAB = "blinatumomab"
    """The first blinatumomab infusion."""
    REMISSION = "remission"
    """Onset of the complete remission the patient was in at blinatumomab (or reached
    after it)."""
    HCT = "hct"
    """The (first) allogeneic HCT."""


@dataclass(frozen=True, slots=True)
class MrdObservation:
    """One MRD result of a patient: the sample's date and time point, the engine's status."""

    sample_date: date
    timepoint: str
    status: MrdStatus


@dataclass(frozen=True, slots=True)
class PatientHistory:
    """One patient's event history as plain values (dates; ``None`` where unknown).

    Attributes
    ----------
    patient_id
        The study id.
    diagnosis_date, blinatumomab_start, remission_date, hct_date
        The time-zero candidates (:class:`TimeZero`).
    relapse_dates
        Relapses recorded as outcome events of follow-up.
    prior_relapse_dates
        Relapses of the disease history (e.g. before blinatumomab).
    death_date, death_cause
        Death and its recorded cause.
    last_contact
        Last date known alive.
    last_assessment
        Last disease assessment or MRD sample.
    induction_failure_date
        The assessment that found no remission after induction (``None``: none).
    second_malignancy_dates, gvhd_dates
        Second malignancies; GVHD events counted by GRFS.
    mrd
        MRD results in date order.
    """

    patient_id: str
    diagnosis_date: date | None = None
    blinatumomab_start: date | None = None
    remission_date: date | None = None
    hct_date: date | None = None
    relapse_dates: tuple[date, ...] = ()
    prior_relapse_dates: tuple[date, ...] = ()
    death_date: date | None = None
    death_cause: str | None = None
    last_contact: date | None = None
    last_assessment: date | None = None
    induction_failure_date: date | None = None
    second_malignancy_dates: tuple[date, ...] = ()
    gvhd_dates: tuple[date, ...] = ()
    mrd: tuple[MrdObservation, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class DatedEvents:
    """Events of several patients, column-wise: patient index and day number of each."""

    patient: IntArray
    day: FloatArray

    @classmethod
    def empty(cls) -> DatedEvents:
        """No events."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0))

    def first_after(self, origin: FloatArray) -> FloatArray:
        """Per patient, the first event day strictly after ``origin`` (NaN: none)."""
        first = np.full(origin.size, np.inf)
        if self.day.size:
            after = self.day > origin[self.patient]
            np.minimum.at(first, self.patient[after], self.day[after])
        first[np.isinf(first)] = np.nan
        return first

    def for_patient(self, index: int) -> tuple[date, ...]:
        """The sorted dates of one patient's events."""
        return tuple(_date(d) for d in np.sort(self.day[self.patient == index]))


@dataclass(frozen=True, slots=True, eq=False)
class MrdSeries:
    """MRD results of several patients, column-wise (one row per result).

    ``status`` holds :data:`MRD_STATUS_CODES`; ``timepoint`` indexes ``timepoints``.
    """

    patient: IntArray
    day: FloatArray
    timepoint: IntArray
    status: IntArray
    timepoints: tuple[str, ...]

    @classmethod
    def empty(cls) -> MrdSeries:
        """No results."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, np.zeros(0), none, none, ())

    def subset(self, mask: BoolArray) -> MrdSeries:
        """The results where ``mask`` is true."""
        return MrdSeries(
            self.patient[mask],
            self.day[mask],
            self.timepoint[mask],
            self.status[mask],
            self.timepoints,
        )

    def by_day(self) -> MrdSeries:
        """One row per patient and day, with the day's status (the highest code).

        A day with several results is positive if any is positive; its time point is
        that of its first result.
        """
        if not self.day.size:
            return self
        keys = self.patient * (1 << 32) + self.day.astype(np.int64)
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        status = np.zeros(distinct.size, dtype=np.int64)
        np.maximum.at(status, inverse, self.status)
        return MrdSeries(
            self.patient[first], self.day[first], self.timepoint[first], status, self.timepoints
        )

    def last_evaluable(self, n: int) -> tuple[FloatArray, IntArray]:
        """Per patient, the last day with an evaluable result and that day's status code.

        The day's status is the highest code of its results (any positive result makes
        it positive). Patients without an evaluable result get NaN and code 0.
        """
        packed = np.full(n, -1, dtype=np.int64)
        evaluable = self.status > 0
        if evaluable.any():
            keys = self.day[evaluable].astype(np.int64) * 4 + self.status[evaluable]
            np.maximum.at(packed, self.patient[evaluable], keys)
        found = packed >= 0
        day = np.where(found, packed // 4, 0).astype(np.float64)
        day[~found] = np.nan
        return day, np.where(found, packed % 4, 0)


@dataclass(frozen=True, slots=True, eq=False)
class CohortHistories:
    """The event histories of a cohort, column-wise (one entry per patient).

    Day numbers are ``date.toordinal()`` as floats, NaN where a date is absent.
    """

    patient_ids: tuple[str, ...]
    diagnosis: FloatArray
    blinatumomab: FloatArray
    remission: FloatArray
    hct: FloatArray
    death: FloatArray
    last_contact: FloatArray
    last_assessment: FloatArray
    induction_failure: FloatArray
    death_causes: tuple[str | None, ...]
    relapses: DatedEvents = field(default_factory=DatedEvents.empty)
    prior_relapses: DatedEvents = field(default_factory=DatedEvents.empty)
    second_malignancies: DatedEvents = field(default_factory=DatedEvents.empty)
    gvhd: DatedEvents = field(default_factory=DatedEvents.empty)
    mrd: MrdSeries = field(default_factory=MrdSeries.empty)

    def __post_init__(self) -> None:
        n = len(self.patient_ids)
        for name in (
            "diagnosis",
            "blinatumomab",
            "remission",
            "hct",
            "death",
            "last_contact",
            "last_assessment",
            "induction_failure",
        ):
            if getattr(self, name).shape != (n,):
                raise InputError(name, getattr(self, name).shape, f"one day per patient ({n})")

    def __len__(self) -> int:
        return len(self.patient_ids)

    def origin(self, time_zero: TimeZero) -> FloatArray:
        """The day of ``time_zero`` for each patient (NaN where absent)."""
        return {
            TimeZero.DIAGNOSIS: self.diagnosis,
            TimeZero.BLINATUMOMAB: self.blinatumomab,
            TimeZero.REMISSION: self.remission,
            TimeZero.HCT: self.hct,
        }[time_zero]

    def all_relapses(self) -> DatedEvents:
        """Outcome relapses and relapses of the disease history together."""
        return DatedEvents(
            np.concatenate((self.relapses.patient, self.prior_relapses.patient)),
            np.concatenate((self.relapses.day, self.prior_relapses.day)),
        )

    def patient(self, index: int) -> PatientHistory:
        """One patient's history as plain values."""
        mrd = self.mrd
        rows = np.flatnonzero(mrd.patient == index)
        rows = rows[np.argsort(mrd.day[rows], kind="stable")]
        return PatientHistory(
            patient_id=self.patient_ids[index],
            diagnosis_date=_maybe_date(self.diagnosis[index]),
            blinatumomab_start=_maybe_date(self.blinatumomab[index]),
            remission_date=_maybe_date(self.remission[index]),
            hct_date=_maybe_date(self.hct[index]),
            relapse_dates=self.relapses.for_patient(index),
            prior_relapse_dates=self.prior_relapses.for_patient(index),
            death_date=_maybe_date(self.death[index]),
            death_cause=self.death_causes[index],
            last_contact=_maybe_date(self.last_contact[index]),
            last_assessment=_maybe_date(self.last_assessment[index]),
            induction_failure_date=_maybe_date(self.induction_failure[index]),
            second_malignancy_dates=self.second_malignancies.for_patient(index),
            gvhd_dates=self.gvhd.for_patient(index),
            mrd=tuple(
                MrdObservation(
                    _date(mrd.day[r]),
                    mrd.timepoints[int(mrd.timepoint[r])],
                    _STATUS_OF_CODE[int(mrd.status[r])],
                )
                for r in rows
            ),
        )

    def patients(self) -> tuple[PatientHistory, ...]:
        """Every patient's history as plain values."""
        return tuple(self.patient(i) for i in range(len(self)))

    @classmethod
    def from_patients(cls, histories: Sequence[PatientHistory]) -> CohortHistories:
        """Column-wise form of per-patient histories."""

        def days(name: str) -> FloatArray:
            return np.array([_day(getattr(h, name)) for h in histories], dtype=np.float64)

        def events(name: str) -> DatedEvents:
            pairs = [(i, d.toordinal()) for i, h in enumerate(histories) for d in getattr(h, name)]
            return DatedEvents(
                np.array([p for p, _ in pairs], dtype=np.int64),
                np.array([d for _, d in pairs], dtype=np.float64),
            )

        timepoints = tuple(sorted({o.timepoint for h in histories for o in h.mrd}))
        code = {t: i for i, t in enumerate(timepoints)}
        rows = [(i, o) for i, h in enumerate(histories) for o in h.mrd]
        mrd = MrdSeries(
            patient=np.array([i for i, _ in rows], dtype=np.int64),
            day=np.array([o.sample_date.toordinal() for _, o in rows], dtype=np.float64),
            timepoint=np.array([code[o.timepoint] for _, o in rows], dtype=np.int64),
            status=np.array([MRD_STATUS_CODES[o.status] for _, o in rows], dtype=np.int64),
            timepoints=timepoints,
        )
        return cls(
            patient_ids=tuple(h.patient_id for h in histories),
            diagnosis=days("diagnosis_date"),
            blinatumomab=days("blinatumomab_start"),
            remission=days("remission_date"),
            hct=days("hct_date"),
            death=days("death_date"),
            last_contact=days("last_contact"),
            last_assessment=days("last_assessment"),
            induction_failure=days("induction_failure_date"),
            death_causes=tuple(h.death_cause for h in histories),
            relapses=events("relapse_dates"),
            prior_relapses=events("prior_relapse_dates"),
            second_malignancies=events("second_malignancy_dates"),
            gvhd=events("gvhd_dates"),
            mrd=mrd,
        )


def as_cohort(histories: CohortHistories | Sequence[PatientHistory]) -> CohortHistories:
    """``histories`` in column-wise form."""
    if isinstance(histories, CohortHistories):
        return histories
    return CohortHistories.from_patients(histories)


def _day(value: date | None) -> float:
    return np.nan if value is None else float(value.toordinal())


def _date(day: float | np.floating[Any]) -> date:
    return date.fromordinal(int(day))


def _maybe_date(day: float | np.floating[Any]) -> date | None:
    return None if np.isnan(day) else _date(day)
