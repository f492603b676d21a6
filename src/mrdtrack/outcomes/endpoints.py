"""Time-to-event end points derived from patients' event histories (rule END-01).

The registry holds events (diagnosis, remission, blinatumomab, HCT, relapse, death, last
contact, MRD results); an end point is a *derived view* of them, never typed in
(shared/ARCHITECTURE.md). This module turns event histories into the ``(time, event)``
arrays that :func:`~mrdtrack.outcomes.kaplan_meier` and
:func:`~mrdtrack.outcomes.cumulative_incidence` take, and states with every data set its
origin, events, competing events and censoring (domain rules §11.2 END-01, after ELN 2017:
Döhner H et al. Blood 2017;129:424-447, Table 7, PMC5291965).

=========  ==================  =============================================  ==============
end point  default time zero   events (competing)                             censoring
=========  ==================  =============================================  ==============
OS         diagnosis           death from any cause                           last contact
EFS        diagnosis           induction failure (at time zero), relapse,     last assessment
                               death, second malignancy
RFS        remission           relapse, death                                 last assessment
DFS        remission           relapse, second malignancy, death              last assessment
CIR        remission           relapse (competing: death without relapse)     last assessment
NRM        remission           death without relapse (competing: relapse)     last assessment
GRFS       HCT                 grade III–IV aGVHD, moderate/severe cGVHD,     last assessment
                               relapse, death
=========  ==================  =============================================  ==============

Options: time zero (diagnosis, first blinatumomab infusion, remission, HCT); landmark
analyses (patients with an event or censoring before the landmark are left out and time
restarts there — avoids guarantee-time bias, END-01); an HCT-censored sensitivity analysis
(HCT after time zero ends follow-up as a censoring; END-01 [D]). Relapses before time zero
are history, not events. Months are days / 30.4375 (domain rules §0.2).

MRD response (domain rules §5.3; BLAST's primary end point was complete MRD response
after cycle 1, Gökbuget N et al. Blood 2018;131:1522-1531): :func:`mrd_response_rate`
after cycle 1 or 2 or at the last evaluable result, with Wilson and exact CIs, and the
time to MRD negativity as a competing-risks end point (``Endpoint.MRD_NEGATIVITY``).

The histories come column-wise (:class:`~mrdtrack.outcomes.histories.CohortHistories`) so
that a cohort of 100,000 patients is derived in a few vectorised passes;
:class:`~mrdtrack.outcomes.histories.PatientHistory` is the same data for one patient as
plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_number
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.outcomes.group_stats import BinomialInterval, IntervalMethod, binomial_ci
from mrdtrack.outcomes.histories import (
    MRD_STATUS_CODES,
    CohortHistories,
    DatedEvents,
    MrdObservation,
    PatientHistory,
    TimeZero,
    as_cohort,
)

__all__ = [
    "DAYS_PER_MONTH",
    "ENDPOINT_DEFINITIONS",
    "LAST_FOLLOW_UP",
    "CensoringRule",
    "CohortHistories",
    "Endpoint",
    "EndpointData",
    "EndpointDefinition",
    "MrdObservation",
    "MrdResponseRate",
    "PatientHistory",
    "TimeZero",
    "derive_endpoint",
    "mrd_response_rate",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DAYS_PER_MONTH = 30.4375
"""Days per month for reporting (365.25 / 12; domain rules §0.2)."""

ELN_2017 = "Döhner H et al. Blood 2017;129:424-447, Table 7 (PMC5291965)"

LAST_FOLLOW_UP = "last"
"""``mrd_response_rate(at=LAST_FOLLOW_UP)``: each patient's last evaluable MRD result."""


class Endpoint(StrEnum):
    """The time-to-event end points of END-01."""

    OS = "os"
    EFS = "efs"
    RFS = "rfs"
    DFS = "dfs"
    CIR = "cir"
    NRM = "nrm"
    GRFS = "grfs"
    MRD_NEGATIVITY = "mrd_negativity"
    """Time to MRD negativity (relapse or death before it competing)."""


class CensoringRule(StrEnum):
    """The date at which a patient without an event is censored."""

    LAST_CONTACT = "last_contact"
    """Last date known alive (OS)."""
    LAST_ASSESSMENT = "last_assessment"
    """Last disease assessment (marrow or MRD) without an event (EFS, RFS, CIR; ELN)."""


@dataclass(frozen=True, slots=True)
class EndpointDefinition:
    """What an end point counts: population, origin, events, competing events, censoring."""

    endpoint: Endpoint
    name: str
    population: str
    events: str
    competing: str | None
    censoring: str
    default_origin: TimeZero
    default_censoring: CensoringRule
    source: str
    unconfirmed: tuple[str, ...] = ()


ENDPOINT_DEFINITIONS: Mapping[Endpoint, EndpointDefinition] = {
    Endpoint.OS: EndpointDefinition(
        Endpoint.OS,
        "overall survival",
        "all patients",
        "death from any cause",
        None,
        "alive at the last contact (last date known alive)",
        TimeZero.DIAGNOSIS,
        CensoringRule.LAST_CONTACT,
        f"domain rules END-01; {ELN_2017}",
    ),
    Endpoint.EFS: EndpointDefinition(
        Endpoint.EFS,
        "event-free survival",
        "all patients",
        "induction failure (an event at time zero when it is not before time zero), "
        "relapse, death from any cause, second malignancy",
        None,
        "event-free at the last assessment",
        TimeZero.DIAGNOSIS,
        CensoringRule.LAST_ASSESSMENT,
        f"domain rules END-01; {ELN_2017}",
    ),
    Endpoint.RFS: EndpointDefinition(
        Endpoint.RFS,
        "relapse-free survival",
        "patients in complete remission (CR, CRh or CRi)",
        "relapse or death from any cause",
        None,
        "relapse-free and alive at the last assessment",
        TimeZero.REMISSION,
        CensoringRule.LAST_ASSESSMENT,
        f"domain rules END-01; {ELN_2017}",
    ),
    Endpoint.DFS: EndpointDefinition(
        Endpoint.DFS,
        "disease-free survival (ALL trials)",
        "patients in complete remission (CR, CRh or CRi)",
        "relapse, second malignancy or death from any cause",
        None,
        "disease-free and alive at the last assessment",
        TimeZero.REMISSION,
        CensoringRule.LAST_ASSESSMENT,
        "domain rules END-01 [P]",
    ),
    Endpoint.CIR: EndpointDefinition(
        Endpoint.CIR,
        "cumulative incidence of relapse",
        "patients in complete remission (CR, CRh or CRi)",
        "relapse (cause 1)",
        "death without relapse (cause 2)",
        "relapse-free and alive at the last assessment (cause 0); estimate with the "
        "cumulative-incidence function, never 1 − Kaplan–Meier",
        TimeZero.REMISSION,
        CensoringRule.LAST_ASSESSMENT,
        f"domain rules END-01, END-02; {ELN_2017}",
    ),
    Endpoint.NRM: EndpointDefinition(
        Endpoint.NRM,
        "non-relapse mortality",
        "patients in complete remission (or transplanted, with time zero at HCT)",
        "death without prior relapse (cause 1)",
        "relapse (cause 2)",
        "relapse-free and alive at the last assessment (cause 0)",
        TimeZero.REMISSION,
        CensoringRule.LAST_ASSESSMENT,
        "domain rules END-01",
    ),
    Endpoint.GRFS: EndpointDefinition(
        Endpoint.GRFS,
        "GVHD-free, relapse-free survival",
        "transplanted patients",
        "grade III–IV acute GVHD, chronic GVHD needing systemic therapy, relapse, death",
        None,
        "event-free at the last assessment",
        TimeZero.HCT,
        CensoringRule.LAST_ASSESSMENT,
        "Holtan SG et al. Blood 2015;125:1333-1338",
        unconfirmed=(
            "chronic GVHD 'needing systemic therapy' is taken as NIH moderate or severe "
            "(grade ≥ 2) unless the registry records the therapy",
        ),
    ),
    Endpoint.MRD_NEGATIVITY: EndpointDefinition(
        Endpoint.MRD_NEGATIVITY,
        "time to MRD negativity",
        "patients MRD-positive at their last evaluable MRD result on or before time zero",
        "first MRD-negative result after time zero (cause 1)",
        "relapse or death before MRD negativity (cause 2)",
        "still MRD-positive at the last evaluable MRD result (cause 0)",
        TimeZero.BLINATUMOMAB,
        CensoringRule.LAST_ASSESSMENT,
        "domain rules §5.3 (MRD negativity = the MRD engine's status 'negative'), END-01",
    ),
}
"""The END-01 default definition of each end point."""

_CAUSES = {
    Endpoint.CIR: {0: "censored", 1: "relapse", 2: "death without relapse"},
    Endpoint.NRM: {0: "censored", 1: "death without relapse", 2: "relapse"},
    Endpoint.MRD_NEGATIVITY: {0: "censored", 1: "MRD negativity", 2: "relapse or death"},
}
_BINARY = {0: "censored", 1: "event"}


@dataclass(frozen=True, slots=True, eq=False)
class EndpointData:
    """One end point's data set with its definition (END-01).

    Attributes
    ----------
    endpoint, origin, censoring
        What was derived, from which time zero, censored at which date.
    patient_ids
        The patients included, in the order of the arrays.
    time_days
        Days from time zero (after the landmark, if any) to the event or censoring.
    event
        0 censored, 1 the event; for CIR and NRM a cause code (``causes``).
    causes
        The meaning of each code in ``event``.
    definition
        Population, events, competing events, censoring and source.
    excluded
        Patients left out, by reason.
    landmark_days
        The landmark (``None``: none); times restart there.
    censored_at_hct
        Whether HCT after time zero ended follow-up as a censoring (sensitivity analysis).
    notes
        Options in words, for the report.
    """

    endpoint: Endpoint
    origin: TimeZero
    censoring: CensoringRule
    patient_ids: tuple[str, ...]
    time_days: FloatArray
    event: IntArray
    causes: Mapping[int, str]
    definition: EndpointDefinition
    excluded: Mapping[str, tuple[str, ...]]
    landmark_days: float | None = None
    censored_at_hct: bool = False
    notes: tuple[str, ...] = ()

    @property
    def time_months(self) -> FloatArray:
        """Months from time zero (days / 30.4375)."""
        return self.time_days / DAYS_PER_MONTH

    @property
    def competing(self) -> bool:
        """Whether ``event`` holds competing causes (estimate with a CIF)."""
        return self.definition.competing is not None

    @property
    def n(self) -> int:
        """Patients included."""
        return len(self.patient_ids)

    @property
    def events(self) -> int:
        """Events of the end point (cause 1)."""
        return int(np.count_nonzero(self.event == 1))

    @property
    def competing_events(self) -> int:
        """Competing events (cause 2)."""
        return int(np.count_nonzero(self.event == 2))

    @property
    def censored(self) -> int:
        """Censored patients."""
        return int(np.count_nonzero(self.event == 0))

    def describe(self) -> dict[str, object]:
        """The definition and counts, JSON-ready (no per-patient arrays)."""
        d = self.definition
        return {
            "endpoint": self.endpoint.value,
            "name": d.name,
            "origin": self.origin.value,
            "population": d.population,
            "events": d.events,
            "competing": d.competing,
            "censoring": d.censoring,
            "censoring_date": self.censoring.value,
            "source": d.source,
            "unconfirmed": list(d.unconfirmed),
            "causes": {str(k): v for k, v in self.causes.items()},
            "n": self.n,
            "n_events": self.events,
            "n_competing": self.competing_events,
            "n_censored": self.censored,
            "excluded": {reason: len(ids) for reason, ids in self.excluded.items()},
            "landmark_days": self.landmark_days,
            "censored_at_hct": self.censored_at_hct,
            "notes": list(self.notes),
        }


def derive_endpoint(
    histories: CohortHistories | Sequence[PatientHistory],
    endpoint: Endpoint | str,
    *,
    origin: TimeZero | str | None = None,
    censoring: CensoringRule | str | None = None,
    landmark_days: float | None = None,
    censor_at_hct: bool = False,
    second_malignancy: bool | None = None,
) -> EndpointData:
    """Derive one END-01 end point: ``(time, event)`` per patient with its definition.

    Parameters
    ----------
    histories
        The cohort (:class:`CohortHistories`, or a sequence of :class:`PatientHistory`).
    endpoint
        ``os``, ``efs``, ``rfs``, ``dfs``, ``cir``, ``nrm`` or ``grfs``.
    origin
        Time zero; default as :data:`ENDPOINT_DEFINITIONS`. Patients without that date
        are left out (e.g. never in CR for a remission origin).
    censoring
        Date of censoring without an event; default as :data:`ENDPOINT_DEFINITIONS`
        (last contact for OS, last assessment otherwise). Where the last assessment is
        unknown the last contact is used.
    landmark_days
        Landmark analysis: only patients still at risk at this many days after time zero
        (event or censoring time ≥ the landmark), with time restarting there.
    censor_at_hct
        Sensitivity analysis: an HCT after time zero and before the event ends follow-up
        as a censoring.
    second_malignancy
        Count second malignancies as events (default: yes for EFS and DFS, no otherwise).

    Returns
    -------
    EndpointData
    """
    cohort = as_cohort(histories)
    chosen = require_choice("endpoint", endpoint, Endpoint)
    definition = ENDPOINT_DEFINITIONS[chosen]
    zero = (
        definition.default_origin if origin is None else require_choice("origin", origin, TimeZero)
    )
    rule = (
        definition.default_censoring
        if censoring is None
        else require_choice("censoring", censoring, CensoringRule)
    )
    if censor_at_hct and zero is TimeZero.HCT:
        raise InputError(
            "censor_at_hct", True, "False when time zero is the HCT", "choose another origin"
        )
    landmark = (
        None
        if landmark_days is None
        else require_number("landmark_days", landmark_days, minimum=0.0)
    )
    count_second = (
        chosen in (Endpoint.EFS, Endpoint.DFS) if second_malignancy is None else second_malignancy
    )
    n = len(cohort)
    start = cohort.origin(zero)
    excluded: dict[str, BoolArray] = {"no time zero": np.isnan(start)}
    safe_start = np.where(np.isnan(start), -np.inf, start)
    relapse = cohort.all_relapses().first_after(safe_start)
    death = np.where(cohort.death >= safe_start, cohort.death, np.nan)
    end = _censoring_day(cohort, rule)
    timed = ~excluded["no time zero"]
    excluded["no follow-up date"] = timed & np.isnan(end) & np.isnan(cohort.death)
    excluded["follow-up ends before time zero"] = timed & (np.fmax(end, cohort.death) < start)

    code = np.zeros(n, dtype=np.int64)
    if chosen is Endpoint.OS:
        event_day = death
    elif chosen in (Endpoint.CIR, Endpoint.NRM, Endpoint.MRD_NEGATIVITY):
        if chosen is Endpoint.MRD_NEGATIVITY:
            first, rival_day, end = _mrd_negativity(cohort, start, safe_start, excluded)
            rival_day = np.fmin(rival_day, np.fmin(relapse, death))
        else:
            first, rival_day = relapse, death
        # The earlier of the two; a tie goes to the cause of interest of CIR (relapse).
        first_wins = ~np.isnan(first) & ~(rival_day < first)
        rival_wins = ~np.isnan(rival_day) & ~first_wins
        event_day = np.where(first_wins, first, np.where(rival_wins, rival_day, np.nan))
        if chosen is Endpoint.NRM:
            interest, rival = rival_wins, first_wins
        else:
            interest, rival = first_wins, rival_wins
        code[interest] = 1
        code[rival] = 2
    else:
        candidates = [relapse, death]
        if count_second:
            candidates.append(cohort.second_malignancies.first_after(safe_start))
        if chosen is Endpoint.GRFS:
            candidates.append(cohort.gvhd.first_after(safe_start))
        if chosen is Endpoint.EFS:
            failed = cohort.induction_failure >= start
            candidates.append(np.where(failed, start, np.nan))
        event_day = _earliest(candidates)
    if chosen not in (Endpoint.CIR, Endpoint.NRM, Endpoint.MRD_NEGATIVITY):
        code = (~np.isnan(event_day)).astype(np.int64)
    stop = np.where(code > 0, event_day, np.fmax(end, start))

    notes = [f"time zero: {zero.value}", f"censoring: {rule.value}"]
    if zero is not definition.default_origin:
        notes.append(
            f"population: every patient with a {zero.value} date (END-01's default time "
            f"zero for this end point is {definition.default_origin.value})"
        )
    if censor_at_hct:
        hct = cohort.hct
        cut = (hct > start) & (hct < stop)
        stop = np.where(cut, hct, stop)
        code = np.where(cut, 0, code)
        notes.append("HCT after time zero censors follow-up (sensitivity analysis)")
    if count_second and chosen not in (Endpoint.EFS, Endpoint.DFS):
        notes.append("second malignancy counted as an event")
    time_days = stop - start
    keep = ~np.logical_or.reduce(list(excluded.values()))
    if landmark is not None:
        excluded["event or censoring before the landmark"] = keep & (time_days < landmark)
        keep &= time_days >= landmark
        time_days = time_days - landmark
        notes.append(f"landmark at day {landmark:g}: time restarts there")
    rows = np.flatnonzero(keep)
    ids = cohort.patient_ids
    return EndpointData(
        endpoint=chosen,
        origin=zero,
        censoring=rule,
        patient_ids=tuple(ids[i] for i in rows),
        time_days=time_days[rows],
        event=code[rows],
        causes=_CAUSES.get(chosen, _BINARY),
        definition=definition,
        excluded={
            reason: tuple(ids[i] for i in np.flatnonzero(mask))
            for reason, mask in excluded.items()
            if mask.any()
        },
        landmark_days=landmark,
        censored_at_hct=censor_at_hct,
        notes=tuple(notes),
    )


def _mrd_negativity(
    cohort: CohortHistories,
    start: FloatArray,
    safe_start: FloatArray,
    excluded: dict[str, BoolArray],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """First negative day after time zero, no rival of its own, censoring at the last MRD.

    Patients whose last evaluable result on or before time zero is not positive are
    left out (``excluded`` gains their reasons).
    """
    mrd = cohort.mrd
    n = len(cohort)
    before = mrd.subset(mrd.day <= safe_start[mrd.patient])
    _, baseline = before.last_evaluable(n)
    timed = ~np.isnan(start)
    excluded["no evaluable MRD result on or before time zero"] = timed & (baseline == 0)
    excluded["MRD-negative at time zero"] = timed & (
        baseline == MRD_STATUS_CODES[MrdStatus.NEGATIVE]
    )
    days = mrd.by_day()
    negative = days.subset(days.status == MRD_STATUS_CODES[MrdStatus.NEGATIVE])
    first = DatedEvents(negative.patient, negative.day).first_after(safe_start)
    last_day, _ = mrd.last_evaluable(n)
    return first, np.full(n, np.nan), last_day


def _censoring_day(cohort: CohortHistories, rule: CensoringRule) -> FloatArray:
    """The censoring date of each patient under ``rule`` (the last contact as fallback)."""
    if rule is CensoringRule.LAST_CONTACT:
        return np.fmax(cohort.last_contact, cohort.last_assessment)
    return np.where(np.isnan(cohort.last_assessment), cohort.last_contact, cohort.last_assessment)


def _earliest(days: list[FloatArray]) -> FloatArray:
    """Element-wise minimum ignoring NaN (NaN where all are NaN)."""
    result = days[0]
    for other in days[1:]:
        result = np.fmin(result, other)
    return result


@dataclass(frozen=True, slots=True)
class MrdResponseRate:
    """The proportion of patients MRD-negative at one assessment.

    Attributes
    ----------
    at
        The time point code (``POST_C1``, ``POST_C2``) or ``"last"``.
    n_patients
        Patients considered (those who started blinatumomab, or all for ``"last"``).
    n_evaluable
        Patients with an evaluable result at ``at`` (the denominator).
    n_negative
        Of those, MRD-negative (the engine's status ``negative``).
    wilson, exact
        Wilson and Clopper–Pearson intervals of ``n_negative / n_evaluable``
        (``None`` when nobody is evaluable).
    not_assessed, not_evaluable
        Study ids without a result at ``at``, or with only non-evaluable results.
    definition
        In words, for the report.
    """

    at: str
    n_patients: int
    n_evaluable: int
    n_negative: int
    wilson: BinomialInterval | None
    exact: BinomialInterval | None
    not_assessed: tuple[str, ...]
    not_evaluable: tuple[str, ...]
    definition: str

    @property
    def percent(self) -> float | None:
        """``100 · n_negative / n_evaluable`` (``None`` when nobody is evaluable)."""
        return None if not self.n_evaluable else 100.0 * self.n_negative / self.n_evaluable


def mrd_response_rate(
    histories: CohortHistories | Sequence[PatientHistory],
    at: str = "POST_C1",
    *,
    confidence_level: float = 0.95,
) -> MrdResponseRate:
    """MRD response rate after a blinatumomab cycle or at the last follow-up (§5.3).

    A patient's status at ``at`` is that of the last day with an evaluable result at that
    time point (``"last"``: the last evaluable result of all); a day with several results
    is positive if any is positive. MRD response = the MRD engine's status ``negative``
    (it applies the method's positivity and sensitivity rules). Denominator: patients
    with an evaluable result; the others are listed, never counted as responders.

    Parameters
    ----------
    histories
        The cohort.
    at
        A time-point code (``POST_C1`` after cycle 1, ``POST_C2`` after cycle 2, any
        other code recorded) or ``"last"``.
    confidence_level
        Coverage of the Wilson and Clopper–Pearson intervals.
    """
    cohort = as_cohort(histories)
    n = len(cohort)
    mrd = cohort.mrd
    if at == LAST_FOLLOW_UP:
        considered = np.ones(n, dtype=np.bool_)
        chosen = mrd
        words = "each patient's last evaluable MRD result"
    else:
        if at not in mrd.timepoints:
            raise InputError(
                "at", at, "last or a recorded time point: " + ", ".join(mrd.timepoints)
            )
        considered = ~np.isnan(cohort.blinatumomab)
        chosen = mrd.subset(mrd.timepoint == mrd.timepoints.index(at))
        words = f"the last evaluable MRD result at time point {at}"
    _, status = chosen.last_evaluable(n)
    assessed = np.zeros(n, dtype=np.bool_)
    assessed[chosen.patient] = True
    evaluable = considered & (status > 0)
    negative = evaluable & (status == MRD_STATUS_CODES[MrdStatus.NEGATIVE])
    k, total = int(negative.sum()), int(evaluable.sum())
    ids = cohort.patient_ids

    def listed(mask: NDArray[np.bool_]) -> tuple[str, ...]:
        return tuple(ids[i] for i in np.flatnonzero(mask))

    return MrdResponseRate(
        at=at,
        n_patients=int(considered.sum()),
        n_evaluable=total,
        n_negative=k,
        wilson=binomial_ci(k, total, confidence_level=confidence_level) if total else None,
        exact=(
            binomial_ci(
                k, total, method=IntervalMethod.CLOPPER_PEARSON, confidence_level=confidence_level
            )
            if total
            else None
        ),
        not_assessed=listed(considered & ~assessed),
        not_evaluable=listed(considered & assessed & (status == 0)),
        definition=f"MRD-negative ({words}; the MRD engine's status) among patients "
        "with an evaluable result (domain rules §5.3)",
    )
