"""The one filter model of the patient list and the cohort dashboard.

A :class:`PatientFilter` selects patients by five facets; the list applies it in SQL
(:func:`sql_conditions`, exact and always current), the dashboard column-wise on its
cached snapshot (:func:`facet_mask`). Both evaluate the same definitions, stated once:

===============  ==================================================================
facet            a patient matches when
===============  ==================================================================
``subtype``      the genetic subtype of the earliest diagnosis (by date, then by the
                 first filed) is the one chosen — the subtype the list and the patient
                 page show
``site``         the patient belongs to the site chosen (a site-bound viewer may name
                 only their own site)
``therapy``      a treatment course of that kind is current (:func:`current_course`):
                 started on or before today, not ended before today, and — when it
                 has no end date — not followed by a later course; never after the
                 patient's death; ``none``: no course is current
``mrd``          the latest MRD result (by sample date, then the last filed) has that
                 status: ``positive`` (positive or positive, not quantifiable),
                 ``negative``, ``not_evaluable``; ``none``: no MRD result
``year_from``,   the earliest diagnosis falls in that calendar year or later / earlier;
``year_to``      a patient with no diagnosis matches no year range
===============  ==================================================================

Soft-deleted rows never count. Every value comes from an allowlist — the registry
vocabularies, the sites the viewer may see, whole years — and is refused with an
:class:`~mrdtrack.errors.InputError` naming the parameter otherwise (HTTP 422);
column names never come from the request (reliability goal 19).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from urllib.parse import urlencode

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from mrdtrack.errors import InputError
from mrdtrack.mrd import MrdStatus
from mrdtrack.registry.models import (
    Diagnosis,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    Site,
    TreatmentCourse,
)
from mrdtrack.registry.vocabulary import GeneticSubtype, OutcomeKind, TreatmentKind
from mrdtrack.web.security import Principal

__all__ = [
    "FILTER_PARAMETERS",
    "MRD_STATUSES",
    "NO_THERAPY",
    "SUBTYPES",
    "THERAPIES",
    "THERAPY_LABELS",
    "YEAR_RANGE",
    "FacetColumns",
    "FilterChoices",
    "MrdFilter",
    "PatientFilter",
    "SiteChoice",
    "current_course",
    "facet_mask",
    "filter_choices",
    "parse_filter",
    "site_choices",
    "sql_conditions",
]

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

NO_THERAPY = "none"
"""``therapy=none``: no treatment course is current."""

YEAR_RANGE = (1900, 2100)
"""The diagnosis years a range may name."""

SUBTYPES: tuple[str, ...] = tuple(s.value for s in GeneticSubtype)
"""Subtype codes in vocabulary order (the dashboard's subtype codes index this)."""

THERAPIES: tuple[str, ...] = tuple(k.value for k in TreatmentKind)
"""Treatment kinds in vocabulary order (bit ``i`` of a therapy mask is ``THERAPIES[i]``)."""

THERAPY_LABELS: Mapping[str, str] = {
    k: {"hct": "HCT", "dli": "DLI", "tki": "TKI", "car_t": "CAR-T"}.get(k, k) for k in THERAPIES
}
"""How each treatment kind is shown."""

MRD_STATUSES: tuple[str, ...] = tuple(s.value for s in MrdStatus)
"""MRD status codes in vocabulary order (the dashboard's latest-status codes index this)."""


class MrdFilter(StrEnum):
    """The latest MRD result's status, as the filters group it."""

    POSITIVE = "positive"
    """Positive, quantifiable or not."""
    NEGATIVE = "negative"
    NOT_EVALUABLE = "not_evaluable"
    NONE = "none"
    """No MRD result at all."""


_MRD_LABELS = {
    MrdFilter.POSITIVE: "positive (incl. not quantifiable)",
    MrdFilter.NEGATIVE: "negative",
    MrdFilter.NOT_EVALUABLE: "not evaluable",
    MrdFilter.NONE: "no MRD result",
}
_MRD_MEMBERS: Mapping[MrdFilter, tuple[str, ...]] = {
    MrdFilter.POSITIVE: (MrdStatus.POSITIVE.value, MrdStatus.POSITIVE_NOT_QUANTIFIABLE.value),
    MrdFilter.NEGATIVE: (MrdStatus.NEGATIVE.value,),
    MrdFilter.NOT_EVALUABLE: (MrdStatus.NOT_EVALUABLE.value,),
}

FILTER_PARAMETERS = ("subtype", "site", "therapy", "mrd", "year_from", "year_to")
"""The query parameters of the filter, in form order."""

_SHOWN_VALUE = 40  # characters of a refused value repeated in the message


@dataclass(frozen=True, slots=True)
class SiteChoice:
    """A site a viewer may filter by."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PatientFilter:
    """The chosen facets (``None``: any). Frozen and hashable: it is a cache key."""

    subtype: str | None = None
    site: str | None = None
    therapy: str | None = None
    mrd: MrdFilter | None = None
    year_from: int | None = None
    year_to: int | None = None

    @property
    def active(self) -> bool:
        """Whether any facet is chosen."""
        return any(getattr(self, f.name) is not None for f in fields(self))

    def items(self) -> list[tuple[str, str]]:
        """The chosen facets as query parameters (unchosen ones left out)."""
        chosen = ((f.name, getattr(self, f.name)) for f in fields(self))
        return [(name, str(value)) for name, value in chosen if value is not None]

    def query_string(self, **extra: str | int) -> str:
        """``subtype=…&site=…`` with ``extra`` parameters appended (empty ones left out)."""
        more = [(k, str(v)) for k, v in extra.items() if v not in ("", None)]
        return urlencode(self.items() + more)

    def to_dict(self) -> dict[str, str | int | None]:
        """JSON-ready facets (``None``: any)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: object) -> str | int | None:
    if value is None or isinstance(value, int):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filter form offers a viewer: every allowlist, with labels."""

    subtypes: tuple[str, ...]
    sites: tuple[SiteChoice, ...]
    therapies: tuple[tuple[str, str], ...]
    mrd: tuple[tuple[str, str], ...]
    years: tuple[int, int]


def filter_choices(sites: Sequence[SiteChoice]) -> FilterChoices:
    """The form's options for a viewer who may see ``sites``."""
    therapies = ((NO_THERAPY, "none current"), *THERAPY_LABELS.items())
    return FilterChoices(
        subtypes=SUBTYPES,
        sites=tuple(sites),
        therapies=tuple(therapies),
        mrd=tuple((m.value, _MRD_LABELS[m]) for m in MrdFilter),
        years=YEAR_RANGE,
    )


def site_choices(session: Session, viewer: Principal) -> tuple[SiteChoice, ...]:
    """The sites ``viewer`` may filter by: their own if bound to one, else every site."""
    statement = select(Site.id, Site.code, Site.name).order_by(Site.code)
    if viewer.site_id is not None:
        statement = statement.where(Site.id == viewer.site_id)
    return tuple(SiteChoice(int(i), str(c), str(n)) for i, c, n in session.execute(statement))


def _refused(name: str, value: str, expected: str) -> InputError:
    shown = value if len(value) <= _SHOWN_VALUE else value[:_SHOWN_VALUE] + "…"
    return InputError(name, shown, expected)


def _one_of(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _refused(name, value, "one of: " + ", ".join(allowed))
    return value


def _year(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    low, high = YEAR_RANGE
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4 and low <= int(raw) <= high):
        raise _refused(name, raw, f"a year {low}–{high}")
    return int(raw)


def parse_filter(params: Mapping[str, str], sites: Sequence[SiteChoice]) -> PatientFilter:
    """The filter named by query parameters, every value checked against its allowlist.

    Empty parameters mean "any"; parameters other than :data:`FILTER_PARAMETERS` are
    not read here.

    Parameters
    ----------
    params
        The request's query parameters.
    sites
        The sites the viewer may see (:func:`site_choices`): a site code outside them
        is refused exactly like one that does not exist.

    Raises
    ------
    InputError
        A value outside its allowlist, a malformed year, or ``year_from`` after
        ``year_to``.
    """

    def text(name: str) -> str | None:
        return params.get(name, "").strip() or None

    subtype = text("subtype")
    site = text("site")
    therapy = text("therapy")
    mrd = text("mrd")
    year_from, year_to = _year(params, "year_from"), _year(params, "year_to")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise InputError("year_from", year_from, f"a year on or before {year_to} (year_to)")
    return PatientFilter(
        subtype=None if subtype is None else _one_of("subtype", subtype, SUBTYPES),
        site=None if site is None else _one_of("site", site, [s.code for s in sites]),
        therapy=None if therapy is None else _one_of("therapy", therapy, (NO_THERAPY, *THERAPIES)),
        mrd=None if mrd is None else MrdFilter(_one_of("mrd", mrd, tuple(MrdFilter))),
        year_from=year_from,
        year_to=year_to,
    )


def _site_id(chosen: PatientFilter, sites: Sequence[SiteChoice]) -> int:
    for site in sites:
        if site.code == chosen.site:
            return site.id
    raise _refused("site", str(chosen.site), "one of: " + ", ".join(s.code for s in sites))


def current_course(today: date) -> ColumnElement[bool]:
    """Whether a (live) ``treatment_course`` row is the patient's therapy on ``today``.

    Started on or before ``today`` and not ended before it. A course without an end date
    is open only until the next course starts: the registry records HCT, and often a
    chemotherapy phase, without an end, and "current therapy" means the line of
    treatment the patient is on now, not every one they ever began. Nothing is current
    on or after a recorded death. The patient list, its filter and the dashboard all use
    this one definition.
    """
    later = aliased(TreatmentCourse)
    superseded = exists().where(
        later.patient_id == TreatmentCourse.patient_id,
        later.deleted_at.is_(None),
        later.start_date > TreatmentCourse.start_date,
        later.start_date <= today,
    )
    died = exists().where(
        OutcomeEvent.patient_id == TreatmentCourse.patient_id,
        OutcomeEvent.deleted_at.is_(None),
        OutcomeEvent.kind == OutcomeKind.DEATH.value,
        OutcomeEvent.event_date <= today,
    )
    return and_(
        TreatmentCourse.deleted_at.is_(None),
        TreatmentCourse.start_date <= today,
        or_(
            TreatmentCourse.end_date >= today,
            and_(TreatmentCourse.end_date.is_(None), ~superseded),
        ),
        ~died,
    )


def sql_conditions(
    chosen: PatientFilter, *, today: date, sites: Sequence[SiteChoice]
) -> list[ColumnElement[bool]]:
    """The filter as conditions on :class:`~mrdtrack.registry.models.Patient` rows.

    Correlated sub-queries on indexed ``patient_id`` columns; values are bound
    parameters, the site an id from ``sites``.
    """
    conditions: list[ColumnElement[bool]] = []
    if chosen.site is not None:
        conditions.append(Patient.site_id == _site_id(chosen, sites))
    if chosen.subtype is not None:
        earliest_subtype = (
            select(Diagnosis.genetic_subtype)
            .where(Diagnosis.patient_id == Patient.id, Diagnosis.deleted_at.is_(None))
            .order_by(Diagnosis.diagnosis_date, Diagnosis.id)
            .limit(1)
            .correlate(Patient)
            .scalar_subquery()
        )
        conditions.append(earliest_subtype == chosen.subtype)
    if chosen.year_from is not None or chosen.year_to is not None:
        first_day = (
            select(func.min(Diagnosis.diagnosis_date))
            .where(Diagnosis.patient_id == Patient.id, Diagnosis.deleted_at.is_(None))
            .correlate(Patient)
            .scalar_subquery()
        )
        if chosen.year_from is not None:
            conditions.append(first_day >= date(chosen.year_from, 1, 1))
        if chosen.year_to is not None:
            conditions.append(first_day <= date(chosen.year_to, 12, 31))
    if chosen.therapy is not None:
        current = and_(TreatmentCourse.patient_id == Patient.id, current_course(today))
        if chosen.therapy == NO_THERAPY:
            conditions.append(~exists().where(current))
        else:
            conditions.append(exists().where(current, TreatmentCourse.kind == chosen.therapy))
    if chosen.mrd is not None:
        live = and_(
            Sample.patient_id == Patient.id,
            Sample.deleted_at.is_(None),
            MrdResultRow.deleted_at.is_(None),
        )
        if chosen.mrd is MrdFilter.NONE:
            conditions.append(
                ~exists().where(MrdResultRow.sample_id == Sample.id, live).correlate(Patient)
            )
        else:
            latest = (
                select(MrdResultRow.status)
                .join(Sample, MrdResultRow.sample_id == Sample.id)
                .where(live)
                .order_by(Sample.sample_date.desc(), MrdResultRow.id.desc())
                .limit(1)
                .correlate(Patient)
                .scalar_subquery()
            )
            conditions.append(latest.in_(_MRD_MEMBERS[chosen.mrd]))
    return conditions


@dataclass(frozen=True, slots=True, eq=False)
class FacetColumns:
    """Each patient's facets column-wise (the dashboard snapshot's patients, in order).

    Attributes
    ----------
    site_id
        The patient's site (−1: not known to the snapshot).
    subtype
        Index of the earliest diagnosis's subtype in :data:`SUBTYPES` (−1: no diagnosis;
        ``len(SUBTYPES)``: a stored code outside the vocabulary).
    diagnosis_year
        Calendar year of the earliest diagnosis (0: none).
    current_therapy
        Bit ``i`` set when a course of ``THERAPIES[i]`` is current on the snapshot's day.
    latest_mrd
        Index of the latest MRD result's status in :data:`MRD_STATUSES` (−1: no result).
    """

    site_id: IntArray
    subtype: IntArray
    diagnosis_year: IntArray
    current_therapy: IntArray
    latest_mrd: IntArray


def facet_mask(
    chosen: PatientFilter, facets: FacetColumns, sites: Sequence[SiteChoice]
) -> BoolArray:
    """The patients of ``facets`` the filter selects (the column-wise :func:`sql_conditions`)."""
    mask = np.ones(facets.site_id.shape, dtype=np.bool_)
    if chosen.site is not None:
        mask &= facets.site_id == _site_id(chosen, sites)
    if chosen.subtype is not None:
        mask &= facets.subtype == SUBTYPES.index(chosen.subtype)
    if chosen.year_from is not None:
        mask &= (facets.diagnosis_year > 0) & (facets.diagnosis_year >= chosen.year_from)
    if chosen.year_to is not None:
        mask &= (facets.diagnosis_year > 0) & (facets.diagnosis_year <= chosen.year_to)
    if chosen.therapy == NO_THERAPY:
        mask &= facets.current_therapy == 0
    elif chosen.therapy is not None:
        bit = np.int64(1 << THERAPIES.index(chosen.therapy))
        mask &= (facets.current_therapy & bit) != 0
    if chosen.mrd is MrdFilter.NONE:
        mask &= facets.latest_mrd < 0
    elif chosen.mrd is not None:
        codes = [MRD_STATUSES.index(s) for s in _MRD_MEMBERS[chosen.mrd]]
        mask &= np.isin(facets.latest_mrd, codes)
    return mask
