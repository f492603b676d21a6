"""The cohort dashboard: its curves are mrdtrack.outcomes', its filters narrow, its cache
holds until a write, a crowd computes once, a site sees only itself, small cells stay
small, and no request parameter or registry text reaches a figure as markup."""

from __future__ import annotations

import importlib
import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from mrdtrack.cli import main
from mrdtrack.outcomes import CumulativeIncidence, KaplanMeier, cumulative_incidence, kaplan_meier
from mrdtrack.outcomes.endpoints import Endpoint, derive_endpoint
from mrdtrack.outcomes.histories import CohortHistories
from mrdtrack.outcomes.summary import CohortPatients, CrsEpisodes, cohort_summary
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.cohort import read_cohort
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import Patient, Site
from mrdtrack.registry.records import CohortDocument, demo_cohort, parse_cohort, to_mapping
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.registry.synth import synthetic_cohort
from mrdtrack.web import cohort as cohort_module
from mrdtrack.web import dashboard_figures
from mrdtrack.web.accounts import create_user
from mrdtrack.web.cohort import (
    SMALL_CELL,
    SWIMMER_ROWS,
    build_dashboard,
    cohort_dashboard,
    subset_cohort,
)
from mrdtrack.web.dashboard_cache import DashboardCache, SingleFlightCache
from mrdtrack.web.dashboard_data import read_snapshot
from mrdtrack.web.dashboard_figures import inert_text
from mrdtrack.web.filters import FILTER_PARAMETERS, PatientFilter, facet_mask, parse_filter
from mrdtrack.web.policy import Role
from mrdtrack.web.security import PasswordHashing, Principal
from tests.web.support import (
    SITE_B_PATIENT,
    DemoRegistry,
    FrozenClock,
    TestClient,
    login,
    make_client,
    signed_in,
)
from tests.web.test_filters import TODAY, build_hand_registry

lifelines: Any = importlib.import_module("lifelines")

ADMIN = Principal(1, "admin", "Admin", Role.ADMIN, None)
STATISTICIAN = Principal(2, "stats", "Statistician", Role.STATISTICIAN, None)


def _survival(payload: dict[str, Any]) -> list[float | None]:
    return list(payload.get("survival") or payload["cif"])


# ---------------------------------------------------------------------------------------
# The curves are mrdtrack.outcomes' own
# ---------------------------------------------------------------------------------------


def test_curves_are_the_estimators_on_the_demo_cohort(demo_registry: DemoRegistry) -> None:
    registry = open_registry(demo_registry.url)
    try:
        snapshot = read_snapshot(registry, today=TODAY, version=0)
        histories = read_cohort(registry).histories
    finally:
        registry.dispose()
    dashboard = build_dashboard(snapshot, ADMIN, PatientFilter())
    for curve in dashboard.survival:
        data = derive_endpoint(histories, curve.endpoint)
        expected = kaplan_meier(data.time_months, data.event)
        assert curve.estimate is not None and curve.n == data.n == len(histories)
        for name in ("timeline", "survival", "ci_lower", "ci_upper", "n_at_risk", "n_events"):
            np.testing.assert_array_equal(getattr(curve.estimate, name), getattr(expected, name))
    cir = derive_endpoint(histories, Endpoint.CIR)
    relapse, death = dashboard.incidence.estimate, dashboard.incidence.competing
    assert isinstance(relapse, CumulativeIncidence) and death is not None
    np.testing.assert_array_equal(
        relapse.cif, cumulative_incidence(cir.time_months, cir.event, 1).cif
    )
    np.testing.assert_array_equal(
        death.cif, cumulative_incidence(cir.time_months, cir.event, 2).cif
    )
    assert (relapse.events, death.events) == (cir.events, cir.competing_events)


def test_overall_survival_matches_lifelines(demo_registry: DemoRegistry) -> None:
    registry = open_registry(demo_registry.url)
    try:
        snapshot = read_snapshot(registry, today=TODAY, version=0)
    finally:
        registry.dispose()
    dashboard = build_dashboard(snapshot, ADMIN, PatientFilter())
    data = derive_endpoint(snapshot.cohort.histories, Endpoint.OS)
    km = dashboard.survival[0].estimate
    assert isinstance(km, KaplanMeier) and km.events >= 1
    reference = lifelines.KaplanMeierFitter().fit(data.time_months, data.event)
    expected = reference.survival_function_.loc[km.timeline].iloc[:, 0].to_numpy()
    np.testing.assert_allclose(km.survival, expected, rtol=0, atol=1e-12)
    table = reference.event_table.loc[km.timeline]
    assert km.n_at_risk.tolist() == table["at_risk"].tolist()


@pytest.mark.parametrize("endpoint", ["os", "efs", "cir"])
def test_the_api_curve_is_the_cli_curve(
    demo_registry: DemoRegistry,
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
    endpoint: str,
) -> None:
    assert main(["cohort", "endpoint", endpoint, "--db", demo_registry.url, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    with signed_in(demo_registry, clock, "clinician") as (client, _):
        shown = client.get("/api/v1/cohort").json()["endpoints"][endpoint]
    assert shown["timeline"] == cli["timeline"] and shown["n"] == cli["n"]
    assert _survival(shown) == _survival(cli)
    assert shown["ci_lower"] == cli["ci_lower"] and shown["ci_upper"] == cli["ci_upper"]


# ---------------------------------------------------------------------------------------
# Subsets: a filtered dashboard is the dashboard of a registry holding only those patients
# ---------------------------------------------------------------------------------------


def test_subset_covers_every_column_of_the_histories() -> None:
    """A new column of the histories must be subset too: this fails until it is."""
    assert {f.name for f in fields(CohortHistories)} == {
        "patient_ids",
        "diagnosis",
        "blinatumomab",
        "remission",
        "hct",
        "death",
        "last_contact",
        "last_assessment",
        "induction_failure",
        "death_causes",
        "relapses",
        "prior_relapses",
        "second_malignancies",
        "gvhd",
        "mrd",
    }
    assert {f.name for f in fields(CohortPatients)} == {"sex", "birth", "crs"}
    assert {f.name for f in fields(CrsEpisodes)} == {
        "patient",
        "inputs_index",
        "stored_grade",
        "inputs",
    }


def _load(path: Path, name: str, document: object) -> Registry:
    registry = open_registry(f"sqlite:///{path / name}")
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, document)  # type: ignore[arg-type]
    return registry


def test_a_site_subset_equals_a_registry_of_that_site_alone(tmp_path: Path) -> None:
    document = synthetic_cohort(90, seed=4)
    alone = CohortDocument(
        id=document.id,
        title=document.title,
        source=document.source,
        version=document.version,
        sites=document.sites,
        patients=tuple(p for p in document.patients if p.site_code == "SYN-B"),
    )
    full, single = _load(tmp_path, "full.sqlite3", document), _load(tmp_path, "b.sqlite3", alone)
    try:
        whole = read_cohort(full)
        expected = read_cohort(single)
        with full.reading() as session:
            ids = set(
                session.scalars(
                    select(Patient.study_id).join(Site).where(Site.code == "SYN-B")
                ).all()
            )
    finally:
        full.dispose()
        single.dispose()
    mask = np.array([sid in ids for sid in whole.histories.patient_ids])
    histories, facts = subset_cohort(whole.histories, whole.patients, mask)
    assert sorted(histories.patient_ids) == sorted(expected.histories.patient_ids)
    order = {sid: i for i, sid in enumerate(histories.patient_ids)}
    assert (
        cohort_summary(histories, facts).to_dict()
        == cohort_summary(expected.histories, expected.patients).to_dict()
    )
    for endpoint in Endpoint:
        ours = derive_endpoint(histories, endpoint)
        theirs = derive_endpoint(expected.histories, endpoint)
        by_id = {
            sid: (t, e)
            for sid, t, e in zip(ours.patient_ids, ours.time_days, ours.event, strict=True)
        }
        assert by_id == {
            sid: (t, e)
            for sid, t, e in zip(theirs.patient_ids, theirs.time_days, theirs.event, strict=True)
        }, endpoint
    assert len(order) == len(ids) >= 20


# ---------------------------------------------------------------------------------------
# Filters narrow the counts (the hand-built registry of test_filters)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hand_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Any:
    registry = build_hand_registry(tmp_path_factory.mktemp("dashboard-filters"))
    try:
        yield read_snapshot(registry, today=TODAY, version=0)
    finally:
        registry.dispose()


def _clinician(site_id: int | None = None) -> Principal:
    return Principal(3, "clin", "Clinician", Role.CLINICIAN, site_id)


@pytest.mark.parametrize(
    ("params", "patients", "mrd_results", "subtypes", "with_"),
    [
        pytest.param(
            {},
            6,
            8,
            {"ETV6::RUNX1": 2, "KMT2A-r": 2, "TCF3::PBX1": 1},
            {"blinatumomab": 1, "HCT": 2, "DLI": 1},
            id="everyone",
        ),
        pytest.param(
            {"site": "SITE-B"},
            2,
            3,
            {"KMT2A-r": 1, "TCF3::PBX1": 1},
            {"blinatumomab": 0, "HCT": 1, "DLI": 1},
            id="site",
        ),
        pytest.param(
            {"mrd": "positive"},
            2,
            4,
            {"ETV6::RUNX1": 1, "KMT2A-r": 1},
            {"blinatumomab": 1, "HCT": 0, "DLI": 1},
            id="latest-mrd",
        ),
        pytest.param(
            {"therapy": "none"},
            3,
            2,
            {"ETV6::RUNX1": 1, "KMT2A-r": 1},
            {"blinatumomab": 0, "HCT": 0, "DLI": 1},
            id="no-current-therapy",
        ),
        pytest.param({"year_from": "2030"}, 0, 0, {}, {}, id="nobody"),
    ],
)
def test_filters_narrow_every_count(
    hand_snapshot: Any,
    params: dict[str, str],
    patients: int,
    mrd_results: int,
    subtypes: dict[str, int],
    with_: dict[str, int],
) -> None:
    dashboard = build_dashboard(
        hand_snapshot, _clinician(), parse_filter(params, hand_snapshot.sites)
    )
    assert (dashboard.patients, dashboard.mrd_results) == (patients, mrd_results)
    assert dict(dashboard.by_subtype) == subtypes
    for label, count in with_.items():
        assert dashboard.patients_with[label] == count, label
    # No patient has a disease assessment: every latest result is unclassified.
    with_results = MRD_PATIENTS & _selected(hand_snapshot, params)
    assert [(r.timepoint, r.counts["unclassified"]) for r in dashboard.response_table] == (
        [("FOLLOW_UP", len(with_results))] if with_results else []
    )


MRD_PATIENTS = {"F01", "F02", "F04", "F05"}


def _selected(snapshot: Any, params: dict[str, str]) -> set[str]:
    mask = facet_mask(parse_filter(params, snapshot.sites), snapshot.facets, snapshot.sites)
    return {
        sid
        for sid, chosen in zip(snapshot.cohort.histories.patient_ids, mask, strict=True)
        if chosen
    }


def test_small_cells_are_suppressed_for_the_de_identified_role(hand_snapshot: Any) -> None:
    unfiltered = build_dashboard(hand_snapshot, STATISTICIAN, PatientFilter())
    assert unfiltered.patients == 6  # the scope's own total is shown
    assert dict(unfiltered.by_subtype) == {"ETV6::RUNX1": None, "KMT2A-r": None, "TCF3::PBX1": None}
    assert unfiltered.patients_with == {
        "blinatumomab": None,
        "HCT": None,
        "DLI": None,
        "relapse": 0,
        "death": 0,
    }
    assert unfiltered.response_table[0].counts["unclassified"] is None  # 4 patients
    assert unfiltered.summary is not None and unfiltered.summary["n_patients"] == 6
    assert unfiltered.summary["sex"] == {"female": 6, "male": 0}
    # One patient has an age at blinatumomab: a median "range" of one person is suppressed.
    assert unfiltered.summary["age_years"] == dict.fromkeys(("median", "min", "max", "n"))
    plain = build_dashboard(hand_snapshot, _clinician(), PatientFilter()).summary
    assert plain is not None and plain["age_years"]["n"] == 1
    assert unfiltered.swimmer_ids == ()  # patient-level: never for this role
    narrow = build_dashboard(
        hand_snapshot, STATISTICIAN, parse_filter({"site": "SITE-B"}, hand_snapshot.sites)
    )
    assert (narrow.patients, narrow.mrd_results) == (None, None)  # 2 patients, 3 results
    assert narrow.summary is None and narrow.summary_note and "at least 5" in narrow.summary_note
    assert all(c.estimate is None for c in (*narrow.survival, narrow.incidence))
    payload = json.dumps(narrow.to_dict())
    assert "F04" not in payload and "F05" not in payload
    # Nothing is suppressed for a role that may read the patients themselves.
    assert build_dashboard(hand_snapshot, _clinician(), PatientFilter()).patients_with["HCT"] == 2


def test_a_de_identified_curve_stops_where_fewer_than_five_remain(tmp_path: Path) -> None:
    registry = _load(tmp_path, "synthetic.sqlite3", synthetic_cohort(80, seed=9))
    try:
        snapshot = read_snapshot(registry, today=TODAY, version=0)
    finally:
        registry.dispose()
    full = build_dashboard(snapshot, ADMIN, PatientFilter())
    hidden = build_dashboard(snapshot, STATISTICIAN, PatientFilter())
    for shown, plain in zip(
        (*hidden.survival, hidden.incidence), (*full.survival, full.incidence), strict=True
    ):
        assert shown.estimate is not None and plain.estimate is not None
        limit = shown.truncated_months
        assert limit is not None and limit < float(plain.estimate.timeline[-1])
        assert int(shown.estimate.n_at_risk[-1]) >= SMALL_CELL
        before = plain.estimate.timeline <= limit
        kept = np.searchsorted(shown.estimate.timeline, plain.estimate.timeline[before])
        values = "survival" if hasattr(plain.estimate, "survival") else "cif"
        np.testing.assert_allclose(
            getattr(shown.estimate, values)[kept], getattr(plain.estimate, values)[before]
        )
    for name, drawn in hidden.drawn.items():
        for endpoint in drawn:  # a figure drawn for this role prints no count of 1-4
            curve = next(c for c in (*hidden.survival, hidden.incidence) if c.endpoint == endpoint)
            assert curve.estimate is not None
            assert cohort_module._printable([curve.estimate]), name


# ---------------------------------------------------------------------------------------
# The cache: the same answer until a write, then the new numbers; one computation a crowd
# ---------------------------------------------------------------------------------------


@dataclass
class Counted:
    """A wrapped function and how often it ran."""

    calls: int = 0

    def wrap(self, function: Callable[..., Any], delay_s: float = 0.0) -> Callable[..., Any]:
        lock = threading.Lock()

        def counted(*args: Any, **kwargs: Any) -> Any:
            with lock:
                self.calls += 1
            time.sleep(delay_s)
            return function(*args, **kwargs)

        return counted


def test_the_cache_holds_until_a_write_then_shows_the_new_numbers(
    fresh_registry: DemoRegistry, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots, views, renders = Counted(), Counted(), Counted()
    monkeypatch.setattr(cohort_module, "read_snapshot", snapshots.wrap(read_snapshot))
    monkeypatch.setattr(cohort_module, "build_dashboard", views.wrap(build_dashboard))
    monkeypatch.setattr(
        dashboard_figures, "survival_svg", renders.wrap(dashboard_figures.survival_svg)
    )
    with signed_in(fresh_registry, clock, "clinician") as (client, token):
        first = client.get("/api/v1/cohort").json()
        figure = client.get("/cohort/figures/survival.svg").content
        assert client.get("/api/v1/cohort").json() == first
        assert client.get("/cohort").status_code == 200
        assert client.get("/cohort/figures/survival.svg").content == figure
        assert (snapshots.calls, views.calls, renders.calls) == (1, 1, 1)

        saved = client.post(
            "/api/v1/patients/SEED1-P01/outcomes",
            headers={"X-CSRF-Token": token},
            json={"kind": "death", "event_date": "2024-01-10", "detail": "infection"},
        )
        assert saved.status_code == 201, saved.text
        after = client.get("/api/v1/cohort").json()
        assert after["registry_version"] > first["registry_version"]
        assert after["patients_with"]["death"] == first["patients_with"]["death"] + 1
        assert after["endpoints"]["os"]["events"] == first["endpoints"]["os"]["events"] + 1
        assert client.get("/cohort/figures/survival.svg").content != figure
        assert (snapshots.calls, views.calls, renders.calls) == (2, 2, 2)


def test_twenty_identical_requests_compute_once(
    demo_registry: DemoRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots, views = Counted(), Counted()
    monkeypatch.setattr(cohort_module, "read_snapshot", snapshots.wrap(read_snapshot, 0.3))
    monkeypatch.setattr(cohort_module, "build_dashboard", views.wrap(build_dashboard, 0.1))
    registry = open_registry(demo_registry.url)
    cache = DashboardCache()
    start = threading.Barrier(20)
    answers: list[Any] = []
    failures: list[BaseException] = []

    def ask(params: dict[str, str]) -> None:
        start.wait()
        try:
            answers.append(cohort_dashboard(registry, cache, ADMIN, params, today=TODAY))
        except BaseException as error:  # reported below
            failures.append(error)

    try:
        threads = [
            threading.Thread(target=ask, args=({"subtype": "DUX4-r"} if i % 2 else {},))
            for i in range(20)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        registry.dispose()
    assert failures == [] and len(answers) == 20
    assert (snapshots.calls, views.calls) == (1, 2)  # one snapshot, one view per filter
    assert len({id(a) for a in answers}) == 2
    assert cache.snapshots.stats.waited >= 1 and cache.views.stats.waited >= 1


def test_single_flight_cache_bounds_and_failures() -> None:
    cache: SingleFlightCache[int, str] = SingleFlightCache(2)

    def value(key: int) -> Callable[[], str]:
        return lambda: f"value {key}"

    for key in (1, 2, 1, 3):  # 1 is used again, so 2 is the least recently used
        cache.get_or_compute(key, value(key))
    assert len(cache) == 2 and cache.stats.evicted == 1 and cache.stats.hits == 1
    assert cache.get_or_compute(1, lambda: "again") == "value 1"
    assert cache.get_or_compute(2, lambda: "recomputed") == "recomputed"

    def fail() -> str:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        cache.get_or_compute(9, fail)
    assert cache.get_or_compute(9, lambda: "recovered") == "recovered"  # failures not kept


def test_a_newer_registry_version_drops_everything() -> None:
    cache = DashboardCache()
    cache.observe(5)
    cache.figures.get_or_compute("kept", lambda: b"<svg/>")
    cache.observe(4)  # a request that read an older number changes nothing
    assert len(cache.figures) == 1
    cache.observe(6)
    assert len(cache.figures) == 0 and cache.version == 6


# ---------------------------------------------------------------------------------------
# Site isolation in every count and figure (reliability goal 12)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRegistry:
    url: str
    passwords: dict[str, str]
    by_site: dict[str, set[str]]


@pytest.fixture(scope="module")
def sites_registry(tmp_path_factory: pytest.TempPathFactory) -> SiteRegistry:
    path = tmp_path_factory.mktemp("dashboard-sites")
    registry = _load(path, "sites.sqlite3", synthetic_cohort(60, seed=5))
    hashing = PasswordHashing()
    passwords: dict[str, str] = {}
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        for username, role, site in (
            ("clin-b", "clinician", "SYN-B"),
            ("stats-b", "statistician", "SYN-B"),
            ("clin", "clinician", None),
        ):
            account = create_user(
                session,
                hashing,
                username=username,
                role=role,
                site_code=site,
                must_change_password=False,
            )
            passwords[username] = account.password
        by_site: dict[str, set[str]] = {}
        for study_id, code in session.execute(select(Patient.study_id, Site.code).join(Site)):
            by_site.setdefault(code, set()).add(study_id)
    registry.dispose()
    return SiteRegistry(f"sqlite:///{path / 'sites.sqlite3'}", passwords, by_site)


@pytest.fixture
def site_b_clinician(sites_registry: SiteRegistry) -> Iterator[TestClient]:
    with make_client(sites_registry.url, FrozenClock()) as client:
        login(client, "clin-b", sites_registry.passwords["clin-b"])
        yield client


def _others(sites: SiteRegistry) -> set[str]:
    return {sid for code, ids in sites.by_site.items() if code != "SYN-B" for sid in ids}


def test_a_site_user_sees_only_their_site_in_every_count_and_figure(
    sites_registry: SiteRegistry, site_b_clinician: TestClient
) -> None:
    client, own = site_b_clinician, sites_registry.by_site["SYN-B"]
    cohort = client.get("/api/v1/cohort").json()
    assert (cohort["patients"], cohort["sites"]) == (len(own), 1)
    assert cohort["endpoints"]["os"]["n"] == len(own)
    assert cohort["summary"]["n_patients"] == len(own)
    registry = open_registry(sites_registry.url)
    try:
        whole = read_cohort(registry)
    finally:
        registry.dispose()
    mask = np.array([sid in own for sid in whole.histories.patient_ids])
    histories, _ = subset_cohort(whole.histories, whole.patients, mask)
    data = derive_endpoint(histories, Endpoint.EFS)
    assert cohort["endpoints"]["efs"]["survival"] == pytest.approx(
        kaplan_meier(data.time_months, data.event).survival.tolist()
    )
    survival = client.get("/cohort/figures/survival.svg").text
    assert f"n = {len(own)}" in survival
    swimmer = client.get("/cohort/figures/swimmer.svg").text
    shown = {sid for sid in own if f"swimmer-bar-{sid}" in swimmer}
    assert 0 < len(shown) <= SWIMMER_ROWS
    assert not any(sid in swimmer for sid in _others(sites_registry))
    page = client.get("/cohort").text + client.get("/patients?mrd=negative").text
    assert not any(sid in page for sid in _others(sites_registry))
    listed = client.get("/api/v1/patients", params={"limit": 200, "mrd": "negative"}).json()
    assert {row["study_id"] for row in listed["rows"]} <= own


@pytest.mark.parametrize(
    "url",
    [
        "/cohort?site=SYN-A",
        "/api/v1/cohort?site=SYN-A",
        "/cohort/figures/survival.svg?site=SYN-A",
        "/cohort/figures/swimmer.svg?site=SYN-A",
        "/patients?site=SYN-A",
        "/api/v1/patients?site=SYN-A",
    ],
)
def test_another_sites_code_is_refused(site_b_clinician: TestClient, url: str) -> None:
    response = site_b_clinician.get(url)
    assert response.status_code == 422
    assert "SYN-A" not in response.text.replace("SYN-A", "", 1)  # only the echo of the input


def test_a_site_bound_statistician_sees_aggregates_of_their_site(
    sites_registry: SiteRegistry,
) -> None:
    with make_client(sites_registry.url, FrozenClock()) as client:
        login(client, "stats-b", sites_registry.passwords["stats-b"])
        cohort = client.get("/api/v1/cohort").json()
        assert cohort["patients"] == len(sites_registry.by_site["SYN-B"])
        assert cohort["small_cells_suppressed"] is True
        assert client.get("/cohort/figures/swimmer.svg").status_code == 403
        text = client.get("/cohort").text
        assert not any(sid in text for ids in sites_registry.by_site.values() for sid in ids)


# ---------------------------------------------------------------------------------------
# Request parameters and registry text never become markup or server errors
# ---------------------------------------------------------------------------------------

PAYLOADS = [
    "' OR 1=1--",
    "(SELECT name FROM sqlite_master)",
    "1; DROP TABLE patient",
    "<script>alert(1)</script>",
    "$\\frac{1}{0}$",
    "%00",
    "x" * 300,
]
PARAMETERS = ["subtype", "site", "therapy", "mrd", "year_from", "year_to", "_sort", "q"]
ROUTES = [
    "/cohort",
    "/api/v1/cohort",
    "/cohort/figures/survival.svg",
    "/cohort/figures/incidence.svg",
    "/cohort/figures/swimmer.svg",
    "/patients",
    "/api/v1/patients",
]


@pytest.fixture(scope="module")
def admin_client(demo_registry: DemoRegistry) -> Iterator[TestClient]:
    with make_client(demo_registry.url, FrozenClock()) as client:
        login(client, "clinician", demo_registry.passwords["clinician"])
        yield client


@pytest.mark.parametrize("route", ROUTES)
def test_injection_strings_are_refused_or_ignored(admin_client: TestClient, route: str) -> None:
    """Reliability goal 19: 0 server errors and 0 behaviour changes from an injection corpus."""
    plain = admin_client.get(route)
    assert plain.status_code == 200
    for name in PARAMETERS:
        for payload in PAYLOADS:
            response = admin_client.get(route, params={name: payload})
            if name in FILTER_PARAMETERS:
                assert response.status_code == 422, (name, payload, response.status_code)
            elif name == "_sort" or "patients" not in route:
                assert response.status_code == 200, (name, payload)  # ignored
                if route.startswith("/api"):
                    assert response.json() == plain.json()
            else:  # q searches study ids: a result or a refusal, never an error
                assert response.status_code in {200, 422}, (name, payload)


def test_registry_text_in_a_figure_stays_text(tmp_path: Path, clock: FrozenClock) -> None:
    mapping = to_mapping(demo_cohort())
    hostile = '<script>alert(1)</script>$\\frac{1}{0}$&"'
    mapping["patients"][0]["study_id"] = hostile
    registry = _load(tmp_path, "hostile.sqlite3", parse_cohort(mapping, "hostile fixture"))
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        account = create_user(
            session,
            PasswordHashing(),
            username="clinician",
            role="clinician",
            must_change_password=False,
        )
    registry.dispose()
    demo = DemoRegistry(
        f"sqlite:///{tmp_path / 'hostile.sqlite3'}", {"clinician": account.password}
    )
    with signed_in(demo, clock, "clinician") as (client, _):
        response = client.get("/cohort/figures/swimmer.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    tree = ET.fromstring(response.content)
    tags = {element.tag.rsplit("}", 1)[-1] for element in tree.iter()}
    assert "script" not in tags and "foreignObject" not in tags
    texts = [element.text or "" for element in tree.iter() if element.tag.endswith("text")]
    assert any(hostile in text for text in texts)  # drawn literally, not as mathtext
    assert b"<script>" not in response.content


@pytest.mark.parametrize(
    ("raw", "drawn"),
    [("P-01", "P-01"), ("$x$", r"\$x\$"), ("a\x00b", "a?b"), ("50$ \\$", r"50\$ \\$")],
)
def test_inert_text(raw: str, drawn: str) -> None:
    assert inert_text(raw) == drawn


def test_the_statistician_page_names_no_patient(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "statistician") as (client, _):
        page = client.get("/cohort", params={"subtype": "TCF3::PBX1"}).text
        api = client.get("/api/v1/cohort").text
        assert "SEED1-P" not in page and SITE_B_PATIENT not in page and "SEED1-P" not in api
        assert "&lt; 5" in page
        assert client.get("/cohort/figures/swimmer.svg").status_code == 403
        assert client.get("/cohort/figures/survival.svg").status_code in {200, 404}


def test_current_therapy_follows_the_day(tmp_path: Path) -> None:
    """Today is part of the key: a course that ends today is not current tomorrow."""
    registry = build_hand_registry(tmp_path)
    cache = DashboardCache()
    chemo = {"therapy": "chemotherapy"}
    try:
        on = cohort_dashboard(registry, cache, _clinician(), chemo, today=TODAY)
        after = cohort_dashboard(registry, cache, _clinician(), chemo, today=date(2025, 3, 4))
    finally:
        registry.dispose()
    assert (on.patients, after.patients) == (1, 0)
    assert cache.snapshots.stats.computed == 2
