"""The entry forms and their API twins: new patient, adverse event, outcome (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AdverseEvent, AuditEntry, Patient
from tests.web.support import (
    DemoRegistry,
    FrozenClock,
    TestClient,
    build_registry,
    signed_in,
)

NEW_PATIENT = {
    "study_id": "WEB-P001",
    "site_code": "CGMH",
    "sex": "female",
    "birth_date": "2015-04-02",
    "diagnosis_date": "2024-06-10",
    "genetic_subtype": "ETV6::RUNX1",
    "ph_positive": "no",
    "cd19_positive": "yes",
    "wbc_per_ul": "12,500",
    "cns_status": "CNS1",
    "risk_group": "standard",
    "protocol": "TPOG-ALL-2013",
}


@pytest.fixture(scope="module")
def entry_registry(tmp_path_factory: pytest.TempPathFactory) -> DemoRegistry:
    """A registry of this module's own: these tests write patients and events."""
    return build_registry(tmp_path_factory.mktemp("web-entry"))


@pytest.fixture
def clinician(entry_registry: DemoRegistry) -> Iterator[tuple[TestClient, str]]:
    with signed_in(entry_registry, FrozenClock(), "clinician") as signed:
        yield signed


def _form(token: str, **values: str) -> dict[str, str]:
    return {"csrf_token": token, **values}


def _created(client: TestClient, token: str, study_id: str, **changes: str) -> None:
    values = {**NEW_PATIENT, "study_id": study_id, **changes}
    response = client.post("/patients/new", data=_form(token, **values))
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"].startswith(f"/patients/{study_id}")


def test_new_patient_form_stores_patient_and_diagnosis(
    clinician: tuple[TestClient, str], entry_registry: DemoRegistry
) -> None:
    client, token = clinician
    form = client.get("/patients/new")
    assert form.status_code == 200 and 'name="genetic_subtype"' in form.text
    assert 'href="/patients/new"' in client.get("/patients").text
    _created(client, token, "WEB-P001", reason="first entry from the web form")
    page = client.get("/patients/WEB-P001", params={"entered": "patient"})
    assert "Patient saved and written to the audit trail" in page.text
    assert "saved and written" not in client.get("/patients/WEB-P001?entered=<b>").text
    detail = client.get("/api/v1/patients/WEB-P001").json()
    assert detail["site_code"] == "CGMH"
    diagnosis = detail["diagnosis"]
    assert (diagnosis["genetic_subtype"], diagnosis["wbc_per_ul"]) == ("ETV6::RUNX1", 12500.0)
    assert (diagnosis["ph_positive"], diagnosis["cd19_positive"]) == (False, True)
    assert (diagnosis["cns_status"], diagnosis["protocol"]) == ("CNS1", "TPOG-ALL-2013")
    registry = open_registry(entry_registry.url)
    try:
        with registry.reading() as session:
            audited = session.execute(
                select(AuditEntry.entity, AuditEntry.reason).where(
                    AuditEntry.actor == "clinician", AuditEntry.entity.in_(["patient", "diagnosis"])
                )
            ).all()
    finally:
        registry.dispose()
    assert {entity for entity, _ in audited} == {"patient", "diagnosis"}
    assert {reason for _, reason in audited} == {"first entry from the web form"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param({"study_id": "SEED1-P03"}, "study_id", "not yet in the registry", id="dup"),
        pytest.param({"study_id": ""}, "study_id", "a study id", id="no-id"),
        pytest.param({"sex": "x"}, "sex", "one of: female", id="sex"),
        pytest.param({"diagnosis_date": "2024-13-01"}, "diagnosis_date", "YYYY-MM-DD", id="date"),
        pytest.param({"diagnosis_date": "2030-01-01"}, "diagnosis_date", "≤ today", id="future"),
        pytest.param({"birth_date": "2024-07-01"}, "birth_date", "before the diagnosis", id="born"),
        pytest.param({"genetic_subtype": "made up"}, "genetic_subtype", "one of", id="subtype"),
        pytest.param({"ph_positive": "maybe"}, "ph_positive", "yes, no or unknown", id="ph"),
        pytest.param({"wbc_per_ul": "lots"}, "wbc_per_ul", "white cells", id="wbc-text"),
        pytest.param({"wbc_per_ul": "-5"}, "wbc_per_ul", "≥ 0", id="wbc-negative"),
        pytest.param({"cns_status": "CNS9"}, "cns_status", "CNS1", id="cns"),
        pytest.param({"site_code": "NOWHERE"}, "site_code", "CGMH", id="site"),
    ],
)
def test_new_patient_errors_come_back_inline_with_422(
    clinician: tuple[TestClient, str], changes: dict[str, str], field: str, message: str
) -> None:
    client, token = clinician
    values = {**NEW_PATIENT, "study_id": "WEB-BAD", **changes}
    response = client.post("/patients/new", data=_form(token, **values))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert "Traceback" not in response.text
    assert client.get("/api/v1/patients/WEB-BAD").status_code == 404


def test_a_site_user_creates_patients_of_their_own_site_only(entry_registry: DemoRegistry) -> None:
    with signed_in(entry_registry, FrozenClock(), "clinician-b") as (client, token):
        refused = client.post(
            "/patients/new", data=_form(token, **{**NEW_PATIENT, "study_id": "WEB-B01"})
        )
        assert refused.status_code == 422 and "your own site (SITE-B)" in refused.text
        _created(client, token, "WEB-B01", site_code="")
        assert client.get("/api/v1/patients/WEB-B01").json()["site_code"] == "SITE-B"
        for path in ("adverse-events/new", "outcomes/new"):
            assert client.get(f"/patients/SEED1-P03/{path}").status_code == 404
        body = {"kind": "last_contact", "event_date": "2024-01-05"}
        headers = {"X-CSRF-Token": token}
        theirs = client.post("/api/v1/patients/SEED1-P03/outcomes", json=body, headers=headers)
        assert theirs.status_code == 404
        preview = client.post(
            "/api/v1/patients/SEED1-P03/adverse-events/preview",
            json={"term": "crs", "onset_date": "2024-01-05", "inputs": {"temperature_c": 39.0}},
            headers=headers,
        )
        assert preview.status_code == 404


def test_adverse_event_compute_then_save(
    clinician: tuple[TestClient, str], entry_registry: DemoRegistry
) -> None:
    client, token = clinician
    _created(client, token, "WEB-AE1")
    page = client.get("/patients/WEB-AE1")
    assert 'href="/patients/WEB-AE1/adverse-events/new"' in page.text
    assert 'href="/patients/WEB-AE1/outcomes/new"' in page.text
    form = client.get("/patients/WEB-AE1/adverse-events/new")
    assert form.status_code == 200 and 'name="capd_score"' in form.text
    crs = {"term": "crs", "onset_date": "2024-07-01", "temperature_c": "39.2"}
    crs |= {"hypotension": "fluids", "hypoxia": "low-flow"}
    computed = client.post(
        "/patients/WEB-AE1/adverse-events/new", data=_form(token, **crs, action="compute")
    )
    assert computed.status_code == 200
    assert "CRS: grade 2" in computed.text
    assert client.get("/api/v1/patients/WEB-AE1").json()["adverse_events"] == []
    saved = client.post(
        "/patients/WEB-AE1/adverse-events/new",
        data=_form(token, **crs, management="fluids, oxygen", action="save"),
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/patients/WEB-AE1?entered=adverse_event#adverse-events"
    events = client.get("/api/v1/patients/WEB-AE1").json()["adverse_events"]
    assert [(e["term"], e["grade"], e["scale"]) for e in events] == [("CRS", 2, "ASTCT-2019")]
    assert events[0]["grading_inputs"]["hypotension"] == "fluids"
    assert events[0]["grading_inputs"]["result"]["rule"] == "CRS-01"
    registry = open_registry(entry_registry.url)
    try:
        with registry.reading() as session:
            row = session.scalars(select(AdverseEvent).where(AdverseEvent.term == "CRS")).one()
            assert (row.source, row.management) == ("web entry", "fluids, oxygen")
    finally:
        registry.dispose()


@pytest.mark.parametrize(
    ("term", "inputs", "grade", "scale"),
    [
        pytest.param("crs", {"temperature_c": 38.5}, 1, "ASTCT-2019", id="CRS-01-fever"),
        pytest.param(
            "icans", {"age_years": 8, "capd_score": 12}, 3, "ASTCT-2019", id="ICANS-01-capd-9-plus"
        ),
        pytest.param(
            "acute_gvhd", {"skin_rash_bsa_percent": 30.0}, 1, None, id="AGVHD-02-skin-stage-2"
        ),
        pytest.param("chronic_gvhd", {"skin": 1, "mouth": 1}, None, None, id="CGVHD-01-mild"),
        pytest.param(
            "other",
            {"ctcae_term": "Febrile neutropenia", "ctcae_grade": 3},
            3,
            "CTCAE v5.0",
            id="CTCAE-other",
        ),
    ],
)
def test_api_preview_grades_with_each_calculator(
    clinician: tuple[TestClient, str],
    term: str,
    inputs: dict[str, Any],
    grade: int | None,
    scale: str | None,
) -> None:
    client, token = clinician
    body = {"term": term, "onset_date": "2024-07-01", "inputs": inputs}
    response = client.post(
        "/api/v1/patients/SEED1-P03/adverse-events/preview",
        json=body,
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    graded = response.json()
    assert graded["grade"] == grade
    if scale is not None:
        assert graded["scale"] == scale
    if term == "chronic_gvhd":
        assert graded["result"]["severity"] == "mild"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"onset_date": "2000-01-01"}, "onset_date", id="before-diagnosis"),
        pytest.param({"onset_date": "2026-01-01"}, "onset_date", id="future"),
        pytest.param({"resolved_date": "2024-06-30"}, "resolved_date", id="resolved-first"),
        pytest.param({"term": "icans", "age_years": ""}, "age_years", id="icans-age"),
        pytest.param({"term": "icans", "age_years": "8", "ice_score": "7"}, "ice_score", id="ice"),
        pytest.param({"hypoxia": "<script>"}, "hypoxia", id="choice"),
        pytest.param({"term": "other", "ctcae_term": "Rash"}, "ctcae_grade", id="ctcae-grade"),
        pytest.param({"term": "nope"}, "term", id="term"),
    ],
)
def test_adverse_event_errors_come_back_inline_with_422(
    clinician: tuple[TestClient, str], values: dict[str, str], field: str
) -> None:
    client, token = clinician
    base = {"term": "crs", "onset_date": "2024-07-01", "temperature_c": "39"}
    response = client.post(
        "/patients/SEED1-P03/adverse-events/new",
        data=_form(token, **{**base, **values}, action="save"),
    )
    assert response.status_code == 422, response.text[:300]
    assert f'id="{field}-error"' in response.text
    assert "Traceback" not in response.text


def test_api_adverse_event_refusals_are_422_json(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    headers = {"X-CSRF-Token": token}
    url = "/api/v1/patients/SEED1-P03/adverse-events"
    unknown = {"term": "crs", "onset_date": "2024-07-01", "inputs": {"colour": "red"}}
    response = client.post(url, json=unknown, headers=headers)
    assert (response.status_code, response.json()["field"]) == (422, "colour")
    wrong_type = {"term": "crs", "onset_date": "2024-07-01", "inputs": {"vasopressin": "x"}}
    assert client.post(url, json=wrong_type, headers=headers).status_code == 422


def test_outcome_form_and_its_date_rules(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    _created(client, token, "WEB-OUT")
    url = "/patients/WEB-OUT/outcomes/new"
    assert client.get(url).status_code == 200
    no_site = client.post(url, data=_form(token, kind="relapse", event_date="2024-09-01"))
    assert no_site.status_code == 422 and 'id="detail-error"' in no_site.text
    early = client.post(
        url, data=_form(token, kind="relapse", event_date="2024-01-01", detail="BM")
    )
    assert early.status_code == 422 and "on or after the diagnosis (2024-06-10)" in early.text
    relapse = client.post(
        url, data=_form(token, kind="relapse", event_date="2024-09-01", detail="CNS")
    )
    assert relapse.status_code == 303
    death = client.post(
        url, data=_form(token, kind="death", event_date="2024-12-01", detail="infection")
    )
    assert death.status_code == 303
    late = client.post(url, data=_form(token, kind="last_contact", event_date="2025-01-10"))
    assert late.status_code == 422 and "recorded death (2024-12-01)" in late.text
    again = client.post(url, data=_form(token, kind="death", event_date="2024-12-01", detail="x"))
    assert again.status_code == 422 and 'id="kind-error"' in again.text
    outcomes = client.get("/api/v1/patients/WEB-OUT").json()["outcomes"]
    assert [(o["kind"], o["detail"]) for o in outcomes] == [
        ("relapse", "CNS"),
        ("death", "infection"),
    ]
    ae = client.post(
        "/api/v1/patients/WEB-OUT/adverse-events",
        json={"term": "crs", "onset_date": "2025-01-02", "inputs": {"temperature_c": 39.0}},
        headers={"X-CSRF-Token": token},
    )
    assert (ae.status_code, ae.json()["field"]) == (422, "onset_date")


def test_api_creates_patient_event_and_outcome(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    headers = {"X-CSRF-Token": token}
    body: dict[str, Any] = {
        "study_id": "WEB-API1",
        "site_code": "CGMH",
        "sex": "male",
        "diagnosis_date": "2024-03-01",
        "genetic_subtype": "BCR::ABL1 p190",
        "ph_positive": True,
    }
    created = client.post("/api/v1/patients", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["study_id"] == "WEB-API1"
    duplicate = client.post("/api/v1/patients", json=body, headers=headers)
    assert (duplicate.status_code, duplicate.json()["field"]) == (422, "study_id")
    event = client.post(
        "/api/v1/patients/WEB-API1/adverse-events",
        json={
            "term": "acute_gvhd",
            "onset_date": "2024-08-01",
            "inputs": {"system": "magic", "skin_rash_bsa_percent": 60.0},
        },
        headers=headers,
    )
    assert event.status_code == 201, event.text
    assert event.json()["grading_inputs"]["system"] == "magic"
    outcome = client.post(
        "/api/v1/patients/WEB-API1/outcomes",
        json={"kind": "relapse", "event_date": "2024-10-01", "detail": "BM"},
        headers=headers,
    )
    assert outcome.status_code == 201
    no_csrf = client.post(
        "/api/v1/patients/WEB-API1/outcomes",
        json={"kind": "last_contact", "event_date": "2024-11-01"},
    )
    assert no_csrf.status_code == 403
    registry_patients = client.get("/api/v1/patients", params={"q": "WEB-API1"}).json()
    assert registry_patients["total"] == 1
    detail = client.get("/api/v1/patients/WEB-API1").json()
    assert detail["adverse_events"][0]["scale"].lower().startswith("magic")


def test_patient_model_row_is_web_entry(entry_registry: DemoRegistry) -> None:
    with signed_in(entry_registry, FrozenClock(), "data_manager") as (client, token):
        _created(client, token, "WEB-DM1")
    registry = open_registry(entry_registry.url)
    try:
        with registry.reading() as session:
            patient = session.scalars(select(Patient).where(Patient.study_id == "WEB-DM1")).one()
            assert (patient.source, patient.sex) == ("web entry", "female")
    finally:
        registry.dispose()
