"""The filter model: allowlists, and the list's SQL and the dashboard's columns agree.

A hand-built registry pins each definition (earliest diagnosis, current course, latest
MRD result, soft deletes) with the patients that must match; a synthetic registry checks
that the SQL conditions (patient list) and the column-wise mask (dashboard snapshot)
select the same patients for every value of every facet.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import Diagnosis, MrdResultRow, Patient, Sample
from mrdtrack.registry.records import demo_cohort, parse_cohort, to_mapping
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.registry.synth import synthetic_cohort
from mrdtrack.web.dashboard_data import read_snapshot
from mrdtrack.web.filters import (
    MRD_STATUSES,
    NO_THERAPY,
    SUBTYPES,
    THERAPIES,
    MrdFilter,
    PatientFilter,
    SiteChoice,
    facet_mask,
    filter_choices,
    parse_filter,
    site_choices,
)
from mrdtrack.web.patients import list_patients
from mrdtrack.web.policy import Role
from mrdtrack.web.security import Principal

TODAY = date(2025, 3, 3)
SITES = (SiteChoice(1, "SITE-A", "Site A"), SiteChoice(2, "SITE-B", "Site B"))


def viewer(site_id: int | None = None, role: Role = Role.CLINICIAN) -> Principal:
    return Principal(1, "viewer", "Viewer", role, site_id)


def _flow(day: str, leukemic: int, total: int, timepoint: str = "FOLLOW_UP") -> dict[str, Any]:
    inputs = {"leukemic_events": leukemic, "total_events": total}
    mrd = {"method": "flow", "marker": "laip", "inputs": inputs, "profile": "seed1-tpog"}
    return {"sample_date": day, "timepoint": timepoint, "tissue": "BM", "mrd": [mrd]}


_DETAILS: dict[str, dict[str, Any]] = {
    "blinatumomab": {"dose_basis": "ug/m2/day", "daily_dose_ug_per_m2": 15},
    "hct": {"donor_type": "MUD"},
    "dli": {"cd3_cells_per_kg": 1e6},
    "tki": {"agent": "imatinib"},
    "chemotherapy": {"phase": "maintenance"},
}


def _course(kind: str, start: str, end: str | None) -> dict[str, Any]:
    details = _DETAILS[kind]
    return {"kind": kind, "start_date": start, "end_date": end, "cycle": None, "details": details}


POSITIVE = (2450, 200_000)
NEGATIVE = (0, 300_000)
NOT_EVALUABLE = (0, 1_000)


def hand_built_document() -> object:
    """Seven patients whose facets are written out in :data:`EXPECTED`."""
    mapping = to_mapping(demo_cohort())
    template = mapping["patients"][0]
    pnq = {
        "method": "rq-pcr",
        "marker": "fusion",
        "inputs": {
            "fusion_copies": 2,
            "control_copies": 120_000,
            "replicates": 3,
            "lowest_quantifiable_copies": 10,
        },
        "profile": "seed1-tpog",
    }
    fusion = {
        "key": "fusion",
        "kind": "fusion_transcript",
        "transcript": "TCF3::PBX1",
        "diagnosis_ncn": 4.8,
        "definition": None,
    }

    def patient(study_id: str, site: str, dx: str, subtype: str, **extra: Any) -> dict[str, Any]:
        made = copy.deepcopy(template)
        made.update(
            study_id=study_id,
            site_code=site,
            reconstructed=[],
            samples=[],
            treatments=[],
            assessments=[],
            adverse_events=[],
            lab_values=[],
            outcomes=[{"kind": "last_contact", "event_date": "2025-04-02", "detail": None}],
        )
        made["diagnosis"] = {**made["diagnosis"], "diagnosis_date": dx, "genetic_subtype": subtype}
        made["markers"] = [*made["markers"], fusion]
        made.update(extra)
        return dict(made)

    same_day = _flow("2024-11-01", *POSITIVE)
    same_day["mrd"] = [same_day["mrd"][0], _flow("2024-11-01", *NEGATIVE)["mrd"][0]]
    mapping["sites"] = [{"code": s.code, "name": s.name} for s in SITES]
    mapping["id"] = "filters"
    mapping["patients"] = [
        patient(
            "F01",
            "SITE-A",
            "2019-05-01",
            "ETV6::RUNX1",
            treatments=[
                _course("blinatumomab", "2025-02-01", None),
                _course("tki", "2024-01-01", "2024-06-30"),
            ],
            samples=[_flow("2024-06-01", *NEGATIVE), _flow("2024-12-01", *POSITIVE)],
        ),
        patient(
            "F02",
            "SITE-A",
            "2021-06-01",
            "KMT2A-r",
            treatments=[
                _course("chemotherapy", "2025-03-03", "2025-03-03"),
                _course("hct", "2025-04-01", None),
            ],
            samples=[_flow("2024-10-01", *NOT_EVALUABLE), same_day],
        ),
        patient("F03", "SITE-A", "2022-02-01", "ETV6::RUNX1"),
        patient(
            "F04",
            "SITE-B",
            "2020-07-01",
            "KMT2A-r",
            treatments=[_course("dli", "2024-01-01", "2025-03-02")],
            samples=[
                _flow("2024-05-01", *NEGATIVE),
                {
                    "sample_date": "2024-09-01",
                    "timepoint": "FOLLOW_UP",
                    "tissue": "BM",
                    "mrd": [pnq],
                },
            ],
        ),
        patient(
            "F05",
            "SITE-B",
            "2019-12-31",
            "TCF3::PBX1",
            treatments=[_course("hct", "2024-01-10", None)],
            samples=[_flow("2024-02-01", *NOT_EVALUABLE), _flow("2024-08-01", *POSITIVE)],
        ),
        patient("F06", "SITE-A", "2020-01-01", "DUX4-r", samples=[_flow("2024-01-01", *POSITIVE)]),
        patient("F07", "SITE-A", "2023-03-03", "iAMP21"),
    ]
    return parse_cohort(mapping, "filter fixture")


def build_hand_registry(path: Path | str) -> Registry:
    """:func:`hand_built_document` loaded, then the changes a document cannot express.

    F01 gains a later diagnosis of another subtype (the earliest still counts); F05's
    positive sample is soft-deleted (its not-evaluable result becomes the latest); F06
    is soft-deleted; F07's only diagnosis is soft-deleted (no diagnosis). ``path``: a
    folder for a SQLite file, or an empty database's URL.
    """
    url = path if isinstance(path, str) else f"sqlite:///{path / 'filters.sqlite3'}"
    registry = open_registry(url)
    init_registry(registry)
    now = datetime(2025, 3, 1, tzinfo=UTC)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, hand_built_document())  # type: ignore[arg-type]
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup", reason="fixture"))
        ids = dict(session.execute(select(Patient.study_id, Patient.id)).all())
        session.add(
            Diagnosis(
                patient_id=ids["F01"],
                diagnosis_date=date(2021, 1, 1),
                genetic_subtype="BCR::ABL1 p190",
                reconstructed=[],
            )
        )
        late = session.scalars(
            select(Sample).where(
                Sample.patient_id == ids["F05"], Sample.sample_date == date(2024, 8, 1)
            )
        ).one()
        late.deleted_at = now
        session.get_one(Patient, ids["F06"]).deleted_at = now
        for dx in session.scalars(select(Diagnosis).where(Diagnosis.patient_id == ids["F07"])):
            dx.deleted_at = now
    return registry


EVERYONE = {"F01", "F02", "F03", "F04", "F05", "F07"}

EXPECTED: list[tuple[str, dict[str, str], set[str]]] = [
    ("nothing chosen", {}, EVERYONE),
    ("earliest subtype, not a later one", {"subtype": "ETV6::RUNX1"}, {"F01", "F03"}),
    ("later diagnosis does not count", {"subtype": "BCR::ABL1 p190"}, set()),
    ("subtype KMT2A-r", {"subtype": "KMT2A-r"}, {"F02", "F04"}),
    ("deleted patient never matches", {"subtype": "DUX4-r"}, set()),
    ("site", {"site": "SITE-B"}, {"F04", "F05"}),
    ("open-ended course is current", {"therapy": "blinatumomab"}, {"F01"}),
    ("course ending today is current", {"therapy": "chemotherapy"}, {"F02"}),
    ("course starting tomorrow is not", {"therapy": "hct"}, {"F05"}),
    ("course that ended yesterday is not", {"therapy": "dli"}, set()),
    ("ended course is not", {"therapy": "tki"}, set()),
    ("no current course", {"therapy": NO_THERAPY}, {"F03", "F04", "F07"}),
    ("latest positive", {"mrd": "positive"}, {"F01", "F04"}),
    ("same day: the last filed result", {"mrd": "negative"}, {"F02"}),
    ("deleted sample ignored", {"mrd": "not_evaluable"}, {"F05"}),
    ("no MRD result", {"mrd": "none"}, {"F03", "F07"}),
    ("year from", {"year_from": "2021"}, {"F02", "F03"}),
    ("year to, inclusive", {"year_to": "2019"}, {"F01", "F05"}),
    ("year range", {"year_from": "2020", "year_to": "2020"}, {"F04"}),
    ("no diagnosis, no year", {"year_from": "1900"}, {"F01", "F02", "F03", "F04", "F05"}),
    ("combined", {"site": "SITE-A", "subtype": "KMT2A-r", "mrd": "negative"}, {"F02"}),
    ("combined, empty", {"site": "SITE-B", "therapy": "blinatumomab"}, set()),
]


@pytest.fixture(scope="module")
def hand_registry(tmp_path_factory: pytest.TempPathFactory) -> Any:
    registry = build_hand_registry(tmp_path_factory.mktemp("filters"))
    yield registry
    registry.dispose()


def _listed(registry: Registry, params: dict[str, str], who: Principal) -> set[str]:
    with registry.reading() as session:
        sites = site_choices(session, who)
        page = list_patients(
            session, who, today=TODAY, filters=parse_filter(params, sites), limit=200
        )
    assert page.total == len(page.rows)
    return {row.study_id for row in page.rows}


def _masked(registry: Registry, params: dict[str, str], who: Principal) -> set[str]:
    snapshot = read_snapshot(registry, today=TODAY, version=0)
    sites = snapshot.sites_for(who)
    mask = snapshot.scope(who) & facet_mask(parse_filter(params, sites), snapshot.facets, sites)
    ids = snapshot.cohort.histories.patient_ids
    return {ids[i] for i in range(len(ids)) if mask[i]}


@pytest.mark.parametrize(("params", "expected"), [pytest.param(p, e, id=i) for i, p, e in EXPECTED])
def test_the_list_selects_the_expected_patients(
    hand_registry: Registry, params: dict[str, str], expected: set[str]
) -> None:
    assert _listed(hand_registry, params, viewer()) == expected


@pytest.mark.parametrize(("params", "expected"), [pytest.param(p, e, id=i) for i, p, e in EXPECTED])
def test_the_dashboard_mask_selects_the_same_patients(
    hand_registry: Registry, params: dict[str, str], expected: set[str]
) -> None:
    assert _masked(hand_registry, params, viewer()) == expected


def test_sql_and_columns_agree_on_postgresql(postgres_server: str) -> None:
    url = make_url(postgres_server + "postgres")
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("DROP DATABASE IF EXISTS mrdtrack_filters_test")
        admin.execute("CREATE DATABASE mrdtrack_filters_test")
    registry = build_hand_registry(postgres_server + "mrdtrack_filters_test")
    try:
        for _, params, expected in EXPECTED:
            assert _listed(registry, params, viewer()) == expected, params
            assert _masked(registry, params, viewer()) == expected, params
    finally:
        registry.dispose()


def test_a_site_user_filters_within_their_site_only(hand_registry: Registry) -> None:
    with hand_registry.reading() as session:
        site_b = next(s for s in site_choices(session, viewer()) if s.code == "SITE-B")
    own = viewer(site_b.id)
    assert _listed(hand_registry, {}, own) == {"F04", "F05"}
    assert _masked(hand_registry, {"subtype": "KMT2A-r"}, own) == {"F04"}
    assert _listed(hand_registry, {"site": "SITE-B"}, own) == {"F04", "F05"}
    for params in ({"site": "SITE-A"}, {"site": "NOPE"}):
        with pytest.raises(InputError) as refused:
            _listed(hand_registry, params, own)
        # Another site is refused exactly like one that does not exist.
        assert refused.value.field == "site" and "SITE-A" not in refused.value.expected


def test_same_facets_from_sql_and_columns_on_a_synthetic_registry(tmp_path: Path) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'synthetic.sqlite3'}")
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, synthetic_cohort(240, seed=11))
    try:
        with registry.reading() as session:
            codes = [s.code for s in site_choices(session, viewer())]
        facets: list[dict[str, str]] = [
            *({"subtype": s} for s in SUBTYPES),
            *({"therapy": t} for t in (NO_THERAPY, *THERAPIES)),
            *({"mrd": m.value} for m in MrdFilter),
            *({"site": c} for c in codes),
            {"year_from": "2020"},
            {"year_to": "2019"},
            {"year_from": "2018", "year_to": "2021"},
        ]
        matched = 0
        for params in facets:
            listed = _listed(registry, params, viewer())
            assert listed == _masked(registry, params, viewer()), params
            matched += bool(listed)
        assert matched >= 15  # the comparison is not between empty sets
    finally:
        registry.dispose()


INJECTIONS = [
    "' OR 1=1--",
    "KMT2A-r' OR '1'='1",
    "(SELECT 1)",
    "1; DROP TABLE patient",
    '"; DELETE FROM patient; --',
    "<script>alert(1)</script>",
    "%",
    "ETV6::RUNX1\x00",
    "x" * 500,
]


@pytest.mark.parametrize("name", ["subtype", "site", "therapy", "mrd"])
@pytest.mark.parametrize("payload", INJECTIONS)
def test_values_outside_the_allowlists_are_refused(name: str, payload: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_filter({name: payload}, SITES)
    assert refused.value.field == name
    assert len(str(refused.value.value)) <= 41  # a refused value is shown shortened


@pytest.mark.parametrize(
    "raw",
    ["1899", "2101", "21", "20211", "2021.0", "+2021", "2e3", "١٩٩٩", "2021; DROP", "-2021"],
)
def test_years_must_be_four_digits_in_range(raw: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_filter({"year_from": raw}, SITES)
    assert refused.value.field == "year_from"


def test_parsing_the_allowed_values() -> None:
    chosen = parse_filter(
        {
            "subtype": "KMT2A-r",
            "site": " SITE-B ",
            "therapy": "car_t",
            "mrd": "not_evaluable",
            "year_from": "2019",
            "year_to": "2021",
            "q": "ignored here",
            "_sort": "(SELECT 1)",
        },
        SITES,
    )
    assert chosen == PatientFilter(
        "KMT2A-r", "SITE-B", "car_t", MrdFilter.NOT_EVALUABLE, 2019, 2021
    )
    assert chosen.active and not PatientFilter().active
    assert parse_filter({"subtype": "", "mrd": "  "}, SITES) == PatientFilter()
    assert chosen.query_string(q="P0", offset=0) == (
        "subtype=KMT2A-r&site=SITE-B&therapy=car_t&mrd=not_evaluable&year_from=2019"
        "&year_to=2021&q=P0&offset=0"
    )
    assert hash(chosen) == hash(parse_filter(dict(chosen.items()), SITES))
    with pytest.raises(InputError, match="on or before 2019"):
        parse_filter({"year_from": "2020", "year_to": "2019"}, SITES)


def test_the_form_offers_exactly_the_allowlists() -> None:
    choices = filter_choices(SITES[:1])
    assert choices.subtypes == SUBTYPES
    assert [code for code, _ in choices.therapies] == [NO_THERAPY, *THERAPIES]
    assert [code for code, _ in choices.mrd] == [m.value for m in MrdFilter]
    assert choices.sites == SITES[:1]
    assert MRD_STATUSES == ("positive", "negative", "positive_not_quantifiable", "not_evaluable")


def test_hand_built_statuses_are_what_the_cases_assume(hand_registry: Registry) -> None:
    """The fixture's MRD inputs give the statuses the cases above rely on."""
    with hand_registry.reading() as session:
        rows = session.execute(
            select(Patient.study_id, Sample.sample_date, MrdResultRow.id, MrdResultRow.status)
            .join(Sample, Sample.patient_id == Patient.id)
            .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
            .order_by(Patient.study_id, Sample.sample_date, MrdResultRow.id)
        ).all()
    statuses: dict[tuple[str, str], list[str]] = {(sid, str(day)): [] for sid, day, _, _ in rows}
    for sid, day, _, status in rows:
        statuses[(sid, str(day))].append(status)
    assert statuses[("F02", "2024-11-01")] == ["positive", "negative"]
    assert statuses[("F04", "2024-09-01")] == ["positive_not_quantifiable"]
    assert statuses[("F05", "2024-02-01")] == ["not_evaluable"]


def _succession_registry(folder: Path) -> Registry:
    """G01: chemotherapy, then HCT, both recorded without an end; G02: an open TKI course
    and a death before today."""
    mapping = to_mapping(demo_cohort())
    template = mapping["patients"][0]

    def patient(study_id: str, **extra: Any) -> dict[str, Any]:
        made = copy.deepcopy(template)
        made.update(
            study_id=study_id,
            birth_date="2008-02-02",
            reconstructed=[],
            samples=[],
            assessments=[],
            adverse_events=[],
            lab_values=[],
            outcomes=[],
        )
        made.update(extra)
        made["diagnosis"] = {**made["diagnosis"], "diagnosis_date": "2018-03-01"}
        return dict(made)

    mapping["id"] = "succession"
    mapping["patients"] = [
        patient(
            "G01",
            treatments=[
                _course("chemotherapy", "2018-04-01", None),
                _course("hct", "2019-01-15", None),
            ],
        ),
        patient(
            "G02",
            treatments=[_course("tki", "2019-01-01", None)],
            outcomes=[{"kind": "death", "event_date": "2024-12-01", "detail": "infection"}],
        ),
    ]
    registry = open_registry(f"sqlite:///{folder / 'succession.sqlite3'}")
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, parse_cohort(mapping, "succession fixture"))
    return registry


@pytest.mark.parametrize(
    ("therapy", "expected"),
    [
        pytest.param("hct", {"G01"}, id="the-later-open-course-is-current"),
        pytest.param("chemotherapy", set(), id="an-open-course-ends-when-the-next-begins"),
        pytest.param("tki", set(), id="nothing-is-current-after-death"),
        pytest.param(NO_THERAPY, {"G02"}, id="none-current"),
    ],
)
def test_current_therapy_follows_the_line_of_treatment(
    tmp_path: Path, therapy: str, expected: set[str]
) -> None:
    registry = _succession_registry(tmp_path)
    try:
        params = {"therapy": therapy}
        assert _listed(registry, params, viewer()) == expected
        assert _masked(registry, params, viewer()) == expected
        with registry.reading() as session:
            shown = {
                row.study_id: row.current_therapy
                for row in list_patients(
                    session, viewer(), today=TODAY, filters=PatientFilter(), limit=10
                ).rows
            }
        assert shown == {"G01": ("hct",), "G02": ()}
    finally:
        registry.dispose()
