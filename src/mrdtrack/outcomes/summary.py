"""The cohort summary of a blinatumomab registry: the numbers of a case series' Table 1 and text.

Pure: the event histories (:class:`~mrdtrack.outcomes.histories.CohortHistories`) and the
per-patient facts (:class:`CohortPatients`) in, a :class:`CohortSummary` out whose
:meth:`~CohortSummary.to_dict` holds the keys of ``mrdtrack cohort summary --json``
(shared/spec/cli.md) and a ``definitions`` key saying how each number is defined.

Definitions (the case report, Wang Y-L et al. Hematol Rep 2024;16:347-353 [SEED-1], does
not state them; these reproduce its numbers from the registry's records):

* age — at the first blinatumomab infusion, ``(infusion − birth) / 365.25`` years;
* CRS — each episode graded by :func:`mrdtrack.grading.crs.grade_crs` (ASTCT 2019, rule
  CRS-01) from its recorded inputs, the worst grade per patient, 0 without CRS;
* HCT — an HCT on or after the first infusion ("proceeded to HCT"), days counted from
  the first infusion;
* MRD at last follow-up — the MRD engine's status of the last sample with an evaluable
  result (a sample with any positive result is positive);
* relapses and deaths — outcome events of follow-up (relapses of the disease history,
  recorded as assessments, are not counted);
* follow-up — from diagnosis to the last contact or death, months = days / 30.4375; the
  median by reverse Kaplan–Meier (domain rules END-02), with the simple median of the
  observed times beside it, as the rules require the method to be stated.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrdtrack.errors import InputError
from mrdtrack.grading.crs import grade_crs
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.outcomes.endpoints import DAYS_PER_MONTH, CensoringRule, Endpoint, derive_endpoint
from mrdtrack.outcomes.followup import median_follow_up
from mrdtrack.outcomes.histories import MRD_STATUS_CODES, CohortHistories, TimeZero
from mrdtrack.provenance import ScalarValue

__all__ = [
    "CRS_GRADES",
    "DEFINITIONS",
    "CohortPatients",
    "CohortSummary",
    "CrsEpisodes",
    "Spread",
    "cohort_summary",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CRS_GRADES = (0, 1, 2, 3, 4, 5)
"""ASTCT 2019 CRS grades (5: death due to CRS)."""

_CRS_KEYWORDS = frozenset(inspect.signature(grade_crs).parameters) - {"profile"}
_DAYS_PER_YEAR = 365.25

DEFINITIONS: Mapping[str, str] = {
    "n_patients": "patients in the registry (soft-deleted patients excluded)",
    "age_years": "age at the first blinatumomab infusion: (first infusion − birth date) / "
    "365.25 years; median, min and max rounded to 0.1 year for display",
    "sex": "sex as recorded",
    "crs_grade_counts": "worst cytokine release syndrome grade per patient, each episode "
    "graded by mrdtrack.grading.grade_crs (ASTCT 2019, rule CRS-01) from its recorded "
    "inputs (the stored grade where no inputs were recorded); 0 = no CRS",
    "hct": "patients with an HCT on or after the first blinatumomab infusion; days_to_hct "
    "counts from the first infusion to the HCT",
    "mrd_negative_last": "patients whose last sample with an evaluable MRD result is "
    "MRD-negative (the MRD engine's status; any positive result makes the sample "
    "positive); percent of the patients with an evaluable result",
    "relapses": "patients with a relapse recorded as an outcome event of follow-up (after "
    "the first blinatumomab infusion in the case-report cohort); relapses of the disease "
    "history are not counted",
    "deaths": "patients with a recorded death",
    "follow_up_months": "from diagnosis to the last contact or death (months = days / "
    "30.4375); `median` by the method named in `method` (reverse Kaplan–Meier, domain "
    "rules END-02), `simple_median` the median of the observed follow-up times",
}


@dataclass(frozen=True, slots=True, eq=False)
class CrsEpisodes:
    """CRS episodes column-wise.

    Attributes
    ----------
    patient
        Index of each episode's patient.
    inputs_index
        Index of each episode's grading inputs in ``inputs``.
    stored_grade
        The grade recorded with the episode (−1: none).
    inputs
        The distinct grading inputs (keyword arguments of ``grade_crs``; empty: none
        recorded).
    """

    patient: IntArray
    inputs_index: IntArray
    stored_grade: IntArray
    inputs: tuple[Mapping[str, ScalarValue], ...]

    @classmethod
    def empty(cls) -> CrsEpisodes:
        """No episodes."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, ())


@dataclass(frozen=True, slots=True, eq=False)
class CohortPatients:
    """Per-patient facts of the summary, in the order of the histories' patients."""

    sex: tuple[str, ...]
    """Sex as recorded (``female``, ``male``, ``other``, ``unknown``)."""
    birth: FloatArray
    """Birth dates as day numbers (NaN: unknown)."""
    crs: CrsEpisodes = field(default_factory=CrsEpisodes.empty)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and range of a quantity over the patients who have it."""

    n: int
    median: float | None
    minimum: float | None
    maximum: float | None

    @classmethod
    def of(cls, values: FloatArray, digits: int = 1) -> Spread:
        """Median, min and max of the finite ``values``, rounded to ``digits`` for display."""
        present = values[np.isfinite(values)]
        if not present.size:
            return cls(0, None, None, None)
        return cls(
            int(present.size),
            round(float(np.median(present)), digits),
            round(float(present.min()), digits),
            round(float(present.max()), digits),
        )

    def to_dict(self) -> dict[str, float | int | None]:
        """``{median, min, max, n}``."""
        return {"median": self.median, "min": self.minimum, "max": self.maximum, "n": self.n}


@dataclass(frozen=True, slots=True)
class CohortSummary:
    """The cohort summary; :meth:`to_dict` gives the CLI contract's keys."""

    n_patients: int
    age_years: Spread
    sex: Mapping[str, int]
    crs_grade_counts: Mapping[int, int]
    hct_n: int
    hct_before_blinatumomab: int
    days_to_hct: Spread
    mrd_negative_last: int
    mrd_evaluable_last: int
    relapses: int
    relapse_events: int
    deaths: int
    follow_up: Mapping[str, Any]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping with the keys of ``mrdtrack cohort summary --json``."""
        percent = (
            round(100.0 * self.mrd_negative_last / self.mrd_evaluable_last, 1)
            if self.mrd_evaluable_last
            else None
        )
        return {
            "n_patients": self.n_patients,
            "age_years": self.age_years.to_dict(),
            "sex": dict(self.sex),
            "crs_grade_counts": {str(g): n for g, n in self.crs_grade_counts.items()},
            "hct": {
                "n": self.hct_n,
                "days_to_hct": self.days_to_hct.to_dict(),
                "before_blinatumomab": self.hct_before_blinatumomab,
            },
            "mrd_negative_last": {
                "n": self.mrd_negative_last,
                "percent": percent,
                "evaluable": self.mrd_evaluable_last,
            },
            "relapses": self.relapses,
            "relapse_events": self.relapse_events,
            "deaths": self.deaths,
            "follow_up_months": dict(self.follow_up),
            "definitions": dict(DEFINITIONS),
            "warnings": list(self.warnings),
        }


def cohort_summary(histories: CohortHistories, patients: CohortPatients) -> CohortSummary:
    """Summarise a cohort (see the module docstring for every definition).

    Parameters
    ----------
    histories
        The patients' event histories.
    patients
        Sex, birth dates and CRS episodes of the same patients, in the same order.
    """
    n = len(histories)
    if len(patients.sex) != n or patients.birth.shape != (n,):
        raise InputError(
            "patients", len(patients.sex), f"the facts of the histories' {n} patients, in order"
        )
    warnings: list[str] = []
    age = (histories.blinatumomab - patients.birth) / _DAYS_PER_YEAR
    sex_counts = Counter(patients.sex)
    sex = {"female": sex_counts["female"], "male": sex_counts["male"]}
    sex.update({k: v for k, v in sorted(sex_counts.items()) if k not in sex})

    worst = _worst_crs(patients.crs, n, warnings)
    days_to_hct = histories.hct - histories.blinatumomab
    proceeded = days_to_hct >= 0

    _, last_status = histories.mrd.last_evaluable(n)
    evaluable = last_status > 0
    negative = last_status == MRD_STATUS_CODES[MrdStatus.NEGATIVE]

    relapsed = np.zeros(n, dtype=np.bool_)
    relapsed[histories.relapses.patient] = True
    return CohortSummary(
        n_patients=n,
        age_years=Spread.of(age),
        sex=sex,
        crs_grade_counts={g: int(np.count_nonzero(worst == g)) for g in CRS_GRADES},
        hct_n=int(proceeded.sum()),
        hct_before_blinatumomab=int(np.count_nonzero(days_to_hct < 0)),
        days_to_hct=Spread.of(np.where(proceeded, days_to_hct, np.nan)),
        mrd_negative_last=int(negative.sum()),
        mrd_evaluable_last=int(evaluable.sum()),
        relapses=int(relapsed.sum()),
        relapse_events=int(histories.relapses.patient.size),
        deaths=int(np.count_nonzero(~np.isnan(histories.death))),
        follow_up=_follow_up(histories, warnings),
        warnings=tuple(warnings),
    )


def _worst_crs(crs: CrsEpisodes, n: int, warnings: list[str]) -> IntArray:
    """Worst grade per patient: recomputed from each distinct set of inputs once."""
    graded = np.full(len(crs.inputs), -1, dtype=np.int64)
    for index, inputs in enumerate(crs.inputs):
        if not inputs:
            continue
        unknown = sorted(set(inputs) - _CRS_KEYWORDS)
        if unknown:
            warnings.append(f"CRS grading inputs {unknown} are not ASTCT inputs; stored grade used")
            continue
        try:
            graded[index] = grade_crs(**inputs).grade  # type: ignore[arg-type]
        except InputError as error:
            warnings.append(f"CRS inputs not gradable ({error}); stored grade used")
    grade = graded[crs.inputs_index] if crs.inputs_index.size else np.zeros(0, dtype=np.int64)
    differs = (grade >= 0) & (crs.stored_grade >= 0) & (grade != crs.stored_grade)
    if differs.any():
        warnings.append(
            f"{int(differs.sum())} CRS episode(s) have a stored grade that differs from the "
            "grade recomputed from their inputs; the recomputed grade is used"
        )
    grade = np.where(grade >= 0, grade, crs.stored_grade)
    ungraded = grade < 0
    if ungraded.any():
        warnings.append(f"{int(ungraded.sum())} CRS episode(s) have neither inputs nor a grade")
    worst = np.zeros(n, dtype=np.int64)
    np.maximum.at(worst, crs.patient[~ungraded], grade[~ungraded])
    return worst


def _follow_up(histories: CohortHistories, warnings: list[str]) -> dict[str, Any]:
    """Follow-up from diagnosis: reverse Kaplan–Meier median and the simple median."""
    data = derive_endpoint(
        histories, Endpoint.OS, origin=TimeZero.DIAGNOSIS, censoring=CensoringRule.LAST_CONTACT
    )
    for reason, ids in data.excluded.items():
        warnings.append(f"follow-up: {len(ids)} patient(s) left out ({reason})")
    if not data.n:
        return {"median": None, "min": None, "max": None, "method": None, "n": 0}
    follow_up = median_follow_up(data.time_days / DAYS_PER_MONTH, data.event)

    def shown(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "median": shown(follow_up.median),
        "min": shown(follow_up.minimum),
        "max": shown(follow_up.maximum),
        "method": follow_up.method,
        "median_ci_lower": shown(follow_up.ci_lower),
        "median_ci_upper": shown(follow_up.ci_upper),
        "simple_median": shown(follow_up.median_observed_time),
        "simple_method": "median of the observed follow-up times (last contact or death − "
        "diagnosis)",
        "origin": TimeZero.DIAGNOSIS.value,
        "n": follow_up.n,
        "unconfirmed": list(follow_up.basis.unconfirmed),
    }
