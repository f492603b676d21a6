"""What the figures draw, derived from patient timelines: swimmer rows and patient groups.

Swimmer rows (:func:`swimmer_rows`) follow the case series' Figure 1 (Wang Y-L et al.
Hematol Rep 2024;16:347-353 [SEED-1]): one bar per patient from time zero to the end of
follow-up, therapy segments, response and outcome markers, a censor mark and an arrow
for a patient alive in continuing remission. The definitions, stated once:

* **CR** — a remission reached (CR/CRh/CRi) on or after time zero: the first assessment
  in remission after time zero when the patient was not in remission before it, and the
  first one after each relapse or refractory assessment (a patient already in CR at time
  zero gets no CR marker until a new remission);
* **CMR** (complete molecular remission) — the first MRD-negative result on or after
  time zero, and again the first one after an MRD-positive result;
* **MRD-positive / MRD-negative / not evaluable** — every stored MRD result, by the
  status the MRD engine gave it (positive includes positive-not-quantifiable);
* **relapse** — :meth:`PatientTimeline.relapse_dates`; **death** — the outcome event;
* **CRS** — each cytokine release syndrome with its recorded grade;
* **censored** — alive at the last contact; **arrow** — alive, the latest assessment in
  remission and no relapse after it ("in continuing remission").

End points (OS, EFS, CIR) are derived by :func:`mrdtrack.outcomes.endpoints.derive_endpoint`,
not here; :func:`group_labels` gives the groups a survival figure compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from mrdtrack.figures.timeline import (
    CRS_TERMS,
    MrdEntry,
    PatientTimeline,
    TimeZero,
    months_between,
)
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.vocabulary import Response, TreatmentKind

__all__ = [
    "Grouping",
    "SwimmerCohort",
    "SwimmerEvent",
    "SwimmerMarker",
    "SwimmerRow",
    "SwimmerSegment",
    "SwimmerSort",
    "group_labels",
    "sort_rows",
    "status_before_blinatumomab",
    "swimmer_rows",
]

_NOT_IN_REMISSION = frozenset({Response.NR, Response.PR, Response.RELAPSE})


class SwimmerEvent(StrEnum):
    """A marker on a swimmer bar."""

    CR = "cr"
    CMR = "cmr"
    MRD_POSITIVE = "mrd_positive"
    MRD_NEGATIVE = "mrd_negative"
    MRD_NOT_EVALUABLE = "mrd_not_evaluable"
    RELAPSE = "relapse"
    DEATH = "death"
    CRS = "crs"
    HCT = "hct"
    DLI = "dli"
    CAR_T = "car_t"


class SwimmerSort(StrEnum):
    """Order of the bars, top to bottom."""

    FOLLOW_UP = "follow-up"
    """Longest follow-up first."""
    RESPONSE = "response"
    """Alive MRD-negative, alive MRD-positive, relapsed, died; then by follow-up."""
    SUBTYPE = "subtype"
    """Genetic subtype (alphabetical), then by follow-up."""
    STUDY_ID = "study-id"
    """Registry order (the case series' Table 1 row order for the demo cohort)."""


@dataclass(frozen=True, slots=True)
class SwimmerSegment:
    """A therapy phase on a bar, in months from time zero."""

    kind: TreatmentKind
    start_month: float
    end_month: float
    ongoing: bool
    label: str


@dataclass(frozen=True, slots=True)
class SwimmerMarker:
    """An event on a bar, in months from time zero (``grade`` for CRS)."""

    kind: SwimmerEvent
    month: float
    label: str
    grade: int | None = None


@dataclass(frozen=True, slots=True)
class SwimmerRow:
    """One patient's bar."""

    study_id: str
    subtype: str
    end_month: float
    died: bool
    in_continuing_remission: bool
    last_mrd_status: MrdStatus | None
    relapsed: bool
    segments: tuple[SwimmerSegment, ...]
    markers: tuple[SwimmerMarker, ...]

    @property
    def censored(self) -> bool:
        """Alive at the last contact."""
        return not self.died

    def markers_of(self, kind: SwimmerEvent) -> tuple[SwimmerMarker, ...]:
        """The markers of one kind, in time order."""
        return tuple(m for m in self.markers if m.kind is kind)

    def segments_of(self, kind: TreatmentKind) -> tuple[SwimmerSegment, ...]:
        """The segments of one therapy, in time order."""
        return tuple(s for s in self.segments if s.kind is kind)


@dataclass(frozen=True, slots=True)
class SwimmerCohort:
    """Swimmer rows on one time axis, and the patients left out (no time zero)."""

    rows: tuple[SwimmerRow, ...]
    time_zero: TimeZero
    excluded: tuple[str, ...]


def swimmer_rows(
    timelines: Sequence[PatientTimeline],
    *,
    time_zero: TimeZero = TimeZero.BLINATUMOMAB,
    sort: SwimmerSort = SwimmerSort.FOLLOW_UP,
) -> SwimmerCohort:
    """Swimmer rows of the patients that have a time zero, in the order ``sort`` names.

    Events before time zero are not drawn (the bar starts at 0); patients without the
    anchor (e.g. no blinatumomab recorded) are listed in ``excluded``.
    """
    rows: list[SwimmerRow] = []
    excluded: list[str] = []
    for timeline in timelines:
        origin = timeline.origin(time_zero)
        if origin is None:
            excluded.append(timeline.study_id)
        else:
            rows.append(_row(timeline, origin))
    return SwimmerCohort(sort_rows(rows, sort), time_zero, tuple(excluded))


def _row(t: PatientTimeline, origin: date) -> SwimmerRow:
    end = t.end_of_follow_up
    end_month = max(months_between(origin, end), 0.0)

    def month(on: date) -> float:
        return months_between(origin, on)

    def shown(on: date) -> bool:
        return origin <= on <= end

    segments: list[SwimmerSegment] = []
    markers: list[SwimmerMarker] = []
    for course in t.treatments:
        stop = min(course.end_date or end, end)
        if course.start_date > end or stop < origin:
            continue
        start = max(course.start_date, origin)
        if course.kind in (TreatmentKind.BLINATUMOMAB, TreatmentKind.TKI):
            label = (
                f"cycle {course.cycle}" if course.cycle else str(course.details.get("agent", ""))
            )
            ongoing = course.end_date is None
            segments.append(SwimmerSegment(course.kind, month(start), month(stop), ongoing, label))
        elif course.kind is TreatmentKind.HCT:
            segments.append(SwimmerSegment(course.kind, month(start), end_month, True, "after HCT"))
            if shown(course.start_date):
                donor = str(course.details.get("donor_type") or "")
                markers.append(
                    SwimmerMarker(SwimmerEvent.HCT, month(start), f"HCT {donor}".strip())
                )
        elif not shown(course.start_date):
            continue
        elif course.kind is TreatmentKind.DLI:
            label = f"DLI {course.cycle or ''}".strip()
            markers.append(SwimmerMarker(SwimmerEvent.DLI, month(start), label))
        elif course.kind is TreatmentKind.CAR_T:
            markers.append(SwimmerMarker(SwimmerEvent.CAR_T, month(start), "CAR-T"))
    markers.extend(_response_markers(t, origin, end))
    markers.extend(_mrd_markers(t.mrd, origin, end))
    relapses = [d for d in t.relapse_dates() if shown(d)]
    markers.extend(SwimmerMarker(SwimmerEvent.RELAPSE, month(d), "relapse") for d in relapses)
    if t.death_date is not None:
        markers.append(SwimmerMarker(SwimmerEvent.DEATH, end_month, "death"))
    for event in t.adverse_events:
        if event.is_term(CRS_TERMS) and event.grade and shown(event.onset_date):
            markers.append(
                SwimmerMarker(
                    SwimmerEvent.CRS, month(event.onset_date), f"CRS {event.grade}", event.grade
                )
            )
    markers.sort(key=lambda m: (m.month, m.kind.value))
    last_mrd = t.mrd[-1] if t.mrd else None
    return SwimmerRow(
        study_id=t.study_id,
        subtype=t.genetic_subtype or "not recorded",
        end_month=end_month,
        died=t.death_date is not None,
        in_continuing_remission=_in_continuing_remission(t),
        last_mrd_status=None if last_mrd is None else _sample_status(t.mrd, last_mrd.sample_id),
        relapsed=bool(relapses),
        segments=tuple(sorted(segments, key=lambda s: (s.start_month, s.kind.value))),
        markers=tuple(markers),
    )


def _response_markers(t: PatientTimeline, origin: date, end: date) -> list[SwimmerMarker]:
    """CR when a remission is reached on/after time zero (see the module docstring)."""
    markers: list[SwimmerMarker] = []
    relapses = set(t.relapse_dates())
    before = [a for a in t.assessments if a.assessment_date < origin]
    armed = not before or not before[-1].in_remission or before[-1].assessment_date in relapses
    for a in t.assessments:
        if a.assessment_date < origin:
            continue
        if a.assessment_date > end:
            break
        if a.assessment_date in relapses or a.response in _NOT_IN_REMISSION:
            armed = True
        elif a.in_remission and a.assessment_date >= origin and armed:
            number = f"CR{a.remission_number}" if a.remission_number else "CR"
            markers.append(
                SwimmerMarker(SwimmerEvent.CR, months_between(origin, a.assessment_date), number)
            )
            armed = False
    return markers


def _mrd_markers(results: Sequence[MrdEntry], origin: date, end: date) -> list[SwimmerMarker]:
    markers: list[SwimmerMarker] = []
    negative_run = False
    for r in results:
        if not origin <= r.sample_date <= end:
            continue
        at = months_between(origin, r.sample_date)
        if r.positive:
            markers.append(SwimmerMarker(SwimmerEvent.MRD_POSITIVE, at, r.timepoint))
            negative_run = False
        elif r.status is MrdStatus.NEGATIVE:
            markers.append(SwimmerMarker(SwimmerEvent.MRD_NEGATIVE, at, r.timepoint))
            if not negative_run:
                markers.append(SwimmerMarker(SwimmerEvent.CMR, at, "CMR"))
            negative_run = True
        else:
            markers.append(SwimmerMarker(SwimmerEvent.MRD_NOT_EVALUABLE, at, r.timepoint))
    return markers


def _sample_status(results: Sequence[MrdEntry], sample_id: int) -> MrdStatus:
    """A sample is positive if any of its results is (the case series' convention)."""
    statuses = [r.status for r in results if r.sample_id == sample_id]
    for status in (MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE, MrdStatus.NEGATIVE):
        if status in statuses:
            return status
    return MrdStatus.NOT_EVALUABLE


def _in_continuing_remission(t: PatientTimeline) -> bool:
    if t.death_date is not None or not t.assessments:
        return False
    last = t.assessments[-1]
    relapses = t.relapse_dates()
    return last.in_remission and not (relapses and relapses[-1] >= last.assessment_date)


def _response_rank(row: SwimmerRow) -> int:
    if row.died:
        return 3
    if row.relapsed:
        return 2
    if row.last_mrd_status in (MrdStatus.POSITIVE, MrdStatus.POSITIVE_NOT_QUANTIFIABLE):
        return 1
    return 0


def sort_rows(rows: Sequence[SwimmerRow], sort: SwimmerSort) -> tuple[SwimmerRow, ...]:
    """The rows in the order ``sort`` names (see :class:`SwimmerSort`)."""
    if sort is SwimmerSort.STUDY_ID:
        return tuple(sorted(rows, key=lambda r: r.study_id))
    if sort is SwimmerSort.RESPONSE:
        return tuple(sorted(rows, key=lambda r: (_response_rank(r), -r.end_month, r.study_id)))
    if sort is SwimmerSort.SUBTYPE:
        return tuple(sorted(rows, key=lambda r: (r.subtype, -r.end_month, r.study_id)))
    return tuple(sorted(rows, key=lambda r: (-r.end_month, r.study_id)))


class Grouping(StrEnum):
    """Patient groups for curves and tests (all fixed at time zero or before)."""

    STATUS_BEFORE_BLINATUMOMAB = "status-before-blinatumomab"
    SUBTYPE = "subtype"
    PH = "ph"
    SEX = "sex"
    SITE = "site"


def status_before_blinatumomab(t: PatientTimeline) -> str:
    """``R/R``, ``MRD+``, ``MRD−`` or ``unknown`` before the first blinatumomab infusion.

    R/R when the last assessment before the first infusion is a relapse, no response or
    partial response; otherwise the MRD of the last ``PRE_BLIN`` sample (else of the last
    sample before the infusion), positive if any of its results is.
    """
    start = t.first_blinatumomab
    if start is None:
        return "unknown"
    before = [a for a in t.assessments if a.assessment_date < start]
    if before and before[-1].response in _NOT_IN_REMISSION:
        return "R/R"
    earlier = [r for r in t.mrd if r.sample_date <= start]
    pre_blin = [r for r in earlier if r.timepoint == "PRE_BLIN"] or earlier
    if not pre_blin:
        return "unknown"
    status = _sample_status(pre_blin, pre_blin[-1].sample_id)
    if status is MrdStatus.NOT_EVALUABLE:
        return "unknown"
    return "MRD−" if status is MrdStatus.NEGATIVE else "MRD+"


def group_labels(timelines: Sequence[PatientTimeline], grouping: Grouping) -> tuple[str, ...]:
    """One group label per timeline, in order."""
    labels: list[str] = []
    for t in timelines:
        if grouping is Grouping.STATUS_BEFORE_BLINATUMOMAB:
            labels.append(status_before_blinatumomab(t))
        elif grouping is Grouping.SUBTYPE:
            labels.append(t.genetic_subtype or "not recorded")
        elif grouping is Grouping.PH:
            if t.ph_positive is None:
                labels.append("Ph not recorded")
            else:
                labels.append("Ph+" if t.ph_positive else "Ph−")
        elif grouping is Grouping.SEX:
            labels.append(t.sex)
        else:
            labels.append(t.site_code)
    return tuple(labels)
