"""The JSON API under /api/v1: same services as the pages, errors as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.support import DemoRegistry, FrozenClock, TestClient, make_client, signed_in

FLOW_ENTRY: dict[str, Any] = {
    "method": "flow",
    "sample_date": "2022-01-05",
    "timepoint": "MRD1",
    "tissue": "BM",
    "marker": "laip",
    "profile": "seed1-tpog",
    "inputs": {"leukemic_events": 24, "total_events": 200000},
}


@pytest.fixture
def api(demo_registry: DemoRegistry, clock: FrozenClock) -> Iterator[tuple[TestClient, str]]:
    with signed_in(demo_registry, clock, "clinician") as (client, token):
        client.headers["X-CSRF-Token"] = token
        yield client, token


def test_unauthenticated_api_calls_get_401_json(client: TestClient) -> None:
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.json() == {"detail": "sign in first"}


def test_session_tells_the_role_and_the_csrf_token(api: tuple[TestClient, str]) -> None:
    client, token = api
    assert client.get("/api/v1/session").json() == {
        "username": "clinician",
        "role": "clinician",
        "site_id": None,
        "csrf_token": token,
    }


def test_patients_and_patient(api: tuple[TestClient, str]) -> None:
    client, _ = api
    listed = client.get("/api/v1/patients", params={"q": "P0", "limit": 5}).json()
    assert listed["total"] == 10 and len(listed["rows"]) == 5  # P01-P09 and SITEB-P01
    assert listed["rows"][0]["study_id"] == "SEED1-P01"
    detail = client.get("/api/v1/patients/SEED1-P03").json()
    assert detail["diagnosis"]["genetic_subtype"] == "complex karyotype"
    eoi = next(r for r in detail["mrd"] if r["timepoint"] == "EOI")
    assert eoi["status"] == "positive" and eoi["sensitivity_fraction"] == pytest.approx(5e-5)
    assert eoi["response"]["category"] == "mrd_failure"
    evaluation = detail["evaluation"]
    assert evaluation["protocol"]["id"] == "tpog-mrd"
    assert evaluation["eligibility"]["verdict"] == "eligible"
    assert all("Hematol Rep" in step["citation"] for step in evaluation["next_steps"])
    assert client.get("/api/v1/patients", params={"limit": 0}).status_code == 422


def test_mrd_preview_and_input_errors(api: tuple[TestClient, str]) -> None:
    client, _ = api
    preview = client.post("/api/v1/patients/SEED1-P03/mrd/preview", json=FLOW_ENTRY)
    assert preview.status_code == 200
    result = preview.json()["result"]
    assert result["status"] == "positive"
    assert result["mrd_fraction"] == pytest.approx(1.2e-4)
    assert result["sensitivity_fraction"] == pytest.approx(5e-5)
    wrong = {**FLOW_ENTRY, "inputs": {"leukemic_events": 300000, "total_events": 200000}}
    refused = client.post("/api/v1/patients/SEED1-P03/mrd/preview", json=wrong)
    assert refused.status_code == 422
    assert refused.json()["field"] == "leukemic_events"
    unknown = {**FLOW_ENTRY, "inputs": {**FLOW_ENTRY["inputs"], "fusion_copies": 3}}
    assert (
        client.post("/api/v1/patients/SEED1-P03/mrd/preview", json=unknown).json()["field"]
        == "fusion_copies"
    )
    malformed = client.post("/api/v1/patients/SEED1-P03/mrd/preview", json={"method": "flow"})
    assert malformed.status_code == 422 and isinstance(malformed.json()["detail"], list)
    missing = client.post("/api/v1/patients/NOPE/mrd/preview", json=FLOW_ENTRY)
    assert missing.status_code == 404


def test_mrd_save_returns_201_and_the_stored_result(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(fresh_registry, clock, "data_manager") as (client, token):
        saved = client.post(
            "/api/v1/patients/SEED1-P03/mrd", json=FLOW_ENTRY, headers={"X-CSRF-Token": token}
        )
        assert saved.status_code == 201
        body = saved.json()
        assert (body["status"], body["timepoint"], body["marker"]) == ("positive", "MRD1", "laip")
        detail = client.get("/api/v1/patients/SEED1-P03").json()
        assert body["id"] in {row["id"] for row in detail["mrd"]}


def test_calculators(api: tuple[TestClient, str]) -> None:
    client, _ = api
    crs = client.post(
        "/api/v1/tools/crs",
        json={"temperature_c": 39.2, "hypotension": "one-vasopressor", "hypoxia": "low-flow"},
    ).json()
    assert (crs["grade"], crs["system"]) == (3, "ASTCT-2019")
    assert client.post("/api/v1/tools/crs", json={"temperature_c": 102}).status_code == 422
    plan = client.post(
        "/api/v1/tools/blinatumomab",
        json={
            "weight_kg": 20,
            "height_cm": 115,
            "indication": "mrd",
            "start": "2025-01-06",
            "cycles": 2,
        },
    ).json()
    assert plan["dose"]["daily_dose_ug"] == pytest.approx(11.99, abs=0.01)
    assert [c["infusion_start"] for c in plan["calendar"]["cycles"]] == ["2025-01-06", "2025-02-17"]
    overdose = client.post(
        "/api/v1/tools/blinatumomab",
        json={"weight_kg": 60, "height_cm": 170, "indication": "mrd", "recorded_daily_dose": 280},
    )
    assert overdose.status_code == 422 and overdose.json()["field"] == "recorded_daily_dose"


def test_cohort_json(api: tuple[TestClient, str]) -> None:
    client, _ = api
    cohort = client.get("/api/v1/cohort").json()
    assert cohort["patients"] >= 12 and cohort["sites"] == 2
    assert cohort["summary"]["n_patients"] == cohort["patients"]
    assert cohort["summary"]["crs_grade_counts"]["1"] >= 7
    rows = {row["timepoint"]: row["counts"] for row in cohort["response_table"]}
    assert sum(rows["EOI"].values()) >= 11


def test_openapi_describes_the_api_and_only_the_api(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "monitor") as (client, _):
        schema = client.get("/api/v1/openapi.json").json()
    paths = set(schema["paths"])
    assert "/api/v1/patients/{study_id}/mrd" in paths
    assert "/api/v1/tools/blinatumomab" in paths
    assert all(p.startswith("/api/v1/") for p in paths)


def test_production_mode_serves_no_schema(demo_registry: DemoRegistry, clock: FrozenClock) -> None:
    with make_client(demo_registry.url, clock, production=True) as client:
        assert client.get("/api/v1/openapi.json").status_code == 401  # and 404 once signed in
