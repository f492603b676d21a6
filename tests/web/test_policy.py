"""The role × route matrix, walked cell by cell on the pages and the API (goals 11, 12).

The expectations below are written out by hand, not read from ``POLICY``: the test
fails if the table and the routes drift apart, or if a route is added without a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from mrdtrack.web.policy import POLICY, Action, Role, is_allowed
from tests.web.support import (
    SITE_B_PATIENT,
    DemoRegistry,
    FrozenClock,
    TestClient,
    app_routes,
    login,
    make_client,
    signed_in,
)

ALL = frozenset(Role)
READERS = frozenset({"admin", "clinician", "data_manager", "lab", "monitor"})
WRITERS = frozenset({"admin", "clinician", "data_manager", "lab"})
ENTERERS = frozenset({"admin", "clinician", "data_manager"})
COHORT = frozenset({"admin", "clinician", "data_manager", "statistician", "monitor"})
EVERYONE = frozenset(r.value for r in ALL)
ADMINS = frozenset({"admin"})
IMPORTERS = frozenset({"admin", "data_manager"})
_BAD_MRD = {"method": "flow"}  # allowed callers get 422: nothing is written
_BAD_AE = {"term": "crs", "onset_date": "1900-01-01", "inputs": {"temperature_c": 39.0}}
_BAD_OUTCOME = {"kind": "relapse", "event_date": "1900-01-01", "detail": "BM"}
_BAD_CYCLE = {"start_date": "1900-01-01"}  # a cycle before the diagnosis: 422, nothing saved

MATRIX: dict[tuple[str, str], tuple[frozenset[str], dict[str, Any]]] = {
    ("GET", "/"): (EVERYONE, {}),
    ("GET", "/account"): (EVERYONE, {}),
    ("POST", "/account/password"): (EVERYONE, {"data": {"current_password": "x"}}),
    ("POST", "/logout"): (EVERYONE, {}),
    # The second sign-in step belongs to a pending login; a signed-in user is sent on (303).
    ("GET", "/login/mfa"): (EVERYONE, {}),
    ("POST", "/login/mfa"): (EVERYONE, {"data": {"code": "x"}}),
    ("GET", "/account/mfa"): (EVERYONE, {}),
    ("POST", "/account/mfa"): (EVERYONE, {"data": {"code": "x"}}),
    ("GET", "/patients"): (READERS, {}),
    ("GET", "/patients/{study_id}"): (READERS, {}),
    ("GET", "/patients/{study_id}/mrd/new"): (WRITERS, {}),
    ("POST", "/patients/{study_id}/mrd/new"): (WRITERS, {"data": _BAD_MRD}),
    ("GET", "/patients/new"): (ENTERERS, {}),
    ("POST", "/patients/new"): (ENTERERS, {"data": {"study_id": "SEED1-P03"}}),
    ("GET", "/patients/{study_id}/adverse-events/new"): (ENTERERS, {}),
    ("POST", "/patients/{study_id}/adverse-events/new"): (
        ENTERERS,
        {"data": {**_BAD_AE, "temperature_c": "39", "action": "save"}},
    ),
    ("GET", "/patients/{study_id}/outcomes/new"): (ENTERERS, {}),
    ("POST", "/patients/{study_id}/outcomes/new"): (ENTERERS, {"data": _BAD_OUTCOME}),
    ("GET", "/patients/{study_id}/blinatumomab/new"): (ENTERERS, {}),
    ("POST", "/patients/{study_id}/blinatumomab/new"): (
        ENTERERS,
        {"data": {**_BAD_CYCLE, "action": "save"}},
    ),
    ("GET", "/patients/{study_id}/blinatumomab/{course_id}"): (READERS, {}),
    ("GET", "/tools/crs"): (EVERYONE, {}),
    ("GET", "/tools/blinatumomab"): (EVERYONE, {}),
    ("GET", "/cohort"): (COHORT, {}),
    ("GET", "/cohort/figures/survival.svg"): (COHORT, {}),
    ("GET", "/cohort/figures/incidence.svg"): (COHORT, {}),
    ("GET", "/cohort/figures/swimmer.svg"): (READERS, {}),
    ("GET", "/api/v1/session"): (EVERYONE, {}),
    ("GET", "/api/v1/patients"): (READERS, {}),
    ("GET", "/api/v1/patients/{study_id}"): (READERS, {}),
    ("POST", "/api/v1/patients/{study_id}/mrd/preview"): (WRITERS, {"json": _BAD_MRD}),
    ("POST", "/api/v1/patients/{study_id}/mrd"): (WRITERS, {"json": _BAD_MRD}),
    ("POST", "/api/v1/patients"): (ENTERERS, {"json": {"study_id": "SEED1-P03"}}),
    ("POST", "/api/v1/patients/{study_id}/adverse-events/preview"): (
        ENTERERS,
        {"json": {**_BAD_AE, "inputs": {"temperature_c": "hot"}}},
    ),
    ("POST", "/api/v1/patients/{study_id}/adverse-events"): (ENTERERS, {"json": _BAD_AE}),
    ("POST", "/api/v1/patients/{study_id}/outcomes"): (ENTERERS, {"json": _BAD_OUTCOME}),
    ("POST", "/api/v1/patients/{study_id}/blinatumomab/preview"): (
        ENTERERS,
        {"json": _BAD_CYCLE},
    ),
    ("POST", "/api/v1/patients/{study_id}/blinatumomab"): (ENTERERS, {"json": _BAD_CYCLE}),
    ("POST", "/api/v1/tools/crs"): (EVERYONE, {"json": {"temperature_c": 39.0}}),
    ("POST", "/api/v1/tools/blinatumomab"): (
        EVERYONE,
        {"json": {"weight_kg": 20, "height_cm": 115, "indication": "mrd"}},
    ),
    ("GET", "/api/v1/cohort"): (COHORT, {}),
    ("GET", "/api/v1/openapi.json"): (EVERYONE, {}),
    # Admin routes: the admin's calls are refused inputs (422), so nothing is written.
    ("GET", "/admin"): (ADMINS, {}),
    ("GET", "/admin/users"): (ADMINS, {}),
    ("GET", "/admin/users/new"): (ADMINS, {}),
    ("POST", "/admin/users/new"): (ADMINS, {"data": {"username": "!", "role": "lab"}}),
    ("GET", "/admin/users/{username}"): (ADMINS, {}),
    ("POST", "/admin/users/{username}"): (ADMINS, {"data": {"active": "false"}}),
    ("POST", "/admin/users/{username}/reset-password"): (ADMINS, {"data": {"reason": " "}}),
    ("POST", "/admin/users/{username}/reset-mfa"): (ADMINS, {"data": {"reason": " "}}),
    ("GET", "/admin/sites"): (ADMINS, {}),
    ("GET", "/admin/sites/new"): (ADMINS, {}),
    ("POST", "/admin/sites/new"): (ADMINS, {"data": {"code": "no spaces", "name": "x"}}),
    ("POST", "/admin/sites/{code}"): (ADMINS, {"data": {"name": "Renamed"}}),
    ("GET", "/api/v1/admin/users"): (ADMINS, {}),
    ("POST", "/api/v1/admin/users"): (ADMINS, {"json": {"username": "!", "role": "lab"}}),
    ("PATCH", "/api/v1/admin/users/{username}"): (ADMINS, {"json": {"active": False}}),
    ("POST", "/api/v1/admin/users/{username}/reset-password"): (ADMINS, {"json": {}}),
    ("POST", "/api/v1/admin/users/{username}/reset-mfa"): (ADMINS, {"json": {}}),
    ("GET", "/api/v1/admin/sites"): (ADMINS, {}),
    ("POST", "/api/v1/admin/sites"): (ADMINS, {"json": {"code": "no spaces", "name": "x"}}),
    ("PATCH", "/api/v1/admin/sites/{code}"): (ADMINS, {"json": {"name": "Renamed"}}),
    # Imports: a form without a file is refused (422) for the importers, nothing is run.
    ("GET", "/imports"): (IMPORTERS, {}),
    ("POST", "/imports"): (IMPORTERS, {"data": {"table": "nonsense"}}),
    ("GET", "/imports/{job_id}"): (IMPORTERS, {}),
    ("GET", "/api/v1/imports"): (IMPORTERS, {}),
    ("POST", "/api/v1/imports"): (IMPORTERS, {"data": {"table": "nonsense"}}),
    ("GET", "/api/v1/imports/{job_id}"): (IMPORTERS, {}),
}
PUBLIC = {("GET", "/health"), ("GET", "/login"), ("POST", "/login")}
_CLOCK = FrozenClock()


@pytest.fixture(scope="module")
def clients(demo_registry: DemoRegistry) -> Iterator[dict[str, tuple[TestClient, str]]]:
    """One signed-in client per role, sharing one application."""
    with make_client(demo_registry.url, _CLOCK) as first:
        made = {}
        for role in Role:
            client = TestClient(first.app, base_url="https://testserver", follow_redirects=False)
            made[role.value] = (
                client,
                login(client, role.value, demo_registry.passwords[role.value]),
            )
        yield made


def test_the_matrix_covers_every_route(clients: dict[str, tuple[TestClient, str]]) -> None:
    app = clients["admin"][0].app
    assert isinstance(app, FastAPI)
    served = {
        (method, path)
        for path, methods in app_routes(app)
        for method in methods
        if method not in {"HEAD", "OPTIONS"}
    }
    assert served - PUBLIC == set(MATRIX)


def test_the_policy_table_matches_the_written_expectations() -> None:
    written = {
        Action.PATIENT_READ: READERS,
        Action.MRD_WRITE: WRITERS,
        Action.PATIENT_WRITE: ENTERERS,
        Action.COHORT_READ: COHORT,
        Action.TOOLS_USE: EVERYONE,
        Action.ACCOUNT_SELF: EVERYONE,
        Action.ADMIN: ADMINS,
        Action.IMPORT_RUN: IMPORTERS,
    }
    assert {a: frozenset(r.value for r in roles) for a, roles in POLICY.items()} == written
    assert not is_allowed(Role.STATISTICIAN, Action.PATIENT_READ)
    assert not is_allowed(Role.MONITOR, Action.MRD_WRITE)
    assert not is_allowed(Role.MONITOR, Action.PATIENT_WRITE)
    assert not is_allowed(Role.STATISTICIAN, Action.PATIENT_WRITE)


CELLS = [
    pytest.param(role.value, method, path, id=f"{role.value}-{method}-{path}")
    for (method, path) in MATRIX
    for role in Role
]


@pytest.mark.parametrize(("role", "method", "path"), CELLS)
def test_cell(
    clients: dict[str, tuple[TestClient, str]],
    demo_registry: DemoRegistry,
    role: str,
    method: str,
    path: str,
) -> None:
    allowed_roles, body = MATRIX[(method, path)]
    client, token = clients[role]
    url = path.replace("{study_id}", "SEED1-P03")
    url = url.replace("{username}", "monitor").replace("{code}", "CGMH")
    kwargs: dict[str, Any] = {k: dict(v) for k, v in body.items()}
    if method == "POST":
        if "json" in kwargs:
            kwargs["headers"] = {"X-CSRF-Token": token}
        else:
            kwargs.setdefault("data", {})["csrf_token"] = token
    if method == "PATCH":
        kwargs["headers"] = {"X-CSRF-Token": token}
    response = client.request(method, url, **kwargs)
    if role in allowed_roles:
        assert response.status_code not in {401, 403}, response.text[:300]
        assert response.status_code < 500
    else:
        assert response.status_code == 403, response.status_code
    if path == "/logout" and role in allowed_roles:
        _CLOCK.advance(seconds=61)  # one address may sign in 10 times a minute
        clients[role] = (client, login(client, role, demo_registry.passwords[role]))


@pytest.mark.parametrize(
    ("method", "url", "kwargs"),
    [
        pytest.param("GET", "/patients/SEED1-P03", {}, id="page"),
        pytest.param("GET", "/patients/SEED1-P03/mrd/new", {}, id="entry-form"),
        pytest.param("GET", "/api/v1/patients/SEED1-P03", {}, id="api"),
        pytest.param(
            "POST",
            "/api/v1/patients/SEED1-P03/mrd/preview",
            {
                "json": {
                    "method": "flow",
                    "sample_date": "2022-01-05",
                    "timepoint": "EOI",
                    "tissue": "BM",
                    "inputs": {"leukemic_events": 1, "total_events": 200000},
                }
            },
            id="api-preview",
        ),
    ],
)
def test_a_site_user_gets_404_for_another_sites_patient(
    demo_registry: DemoRegistry, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    with signed_in(demo_registry, FrozenClock(), "lab-b") as (client, token):
        headers = {"X-CSRF-Token": token}
        theirs = client.request(method, url, headers=headers, **kwargs)
        missing = client.request(
            method, url.replace("SEED1-P03", "NOPE-0003"), headers=headers, **kwargs
        )
        # Exactly what a patient who does not exist gives: nothing tells them apart.
        assert theirs.status_code == missing.status_code == 404
        assert theirs.text.replace("SEED1-P03", "?") == missing.text.replace("NOPE-0003", "?")


def test_site_isolation_in_lists_and_aggregates(demo_registry: DemoRegistry) -> None:
    with signed_in(demo_registry, FrozenClock(), "lab-b") as (client, _):
        listed = client.get("/api/v1/patients").json()
        assert [row["study_id"] for row in listed["rows"]] == [SITE_B_PATIENT]
        assert listed["total"] == 1
        assert client.get("/api/v1/patients", params={"q": "SEED1"}).json()["total"] == 0
        assert client.get(f"/api/v1/patients/{SITE_B_PATIENT}").status_code == 200
        page = client.get("/patients").text
        assert SITE_B_PATIENT in page and "SEED1-P0" not in page
    with signed_in(demo_registry, FrozenClock(), "stats-b") as (client, _):
        cohort = client.get("/api/v1/cohort").json()
        assert (cohort["patients"], cohort["sites"]) == (1, 1)
        assert cohort["summary"] is None  # the case-series summary reads every site
        assert client.get("/api/v1/patients").status_code == 403
    with signed_in(demo_registry, FrozenClock(), "admin") as (client, _):
        assert client.get("/api/v1/patients").json()["total"] >= 12
        assert client.get("/api/v1/cohort").json()["sites"] == 2
