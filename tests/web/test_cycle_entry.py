"""Blinatumomab cycle planning on a patient: form, preview, save, calendar, API twin (issue 7).

The doses and dates shown and stored are mrdtrack.therapy's own results, checked on the
domain-rules vectors BLIN-01-a/b/c and BLIN-02-a/b; refusals name their field, answer 422
and write nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, LabValue, Patient, TreatmentCourse
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    US_LABEL,
    blinatumomab_dose,
    cycle_calendar,
    format_mcg,
)
from tests.web.support import DemoRegistry, FrozenClock, TestClient, build_registry, signed_in

CHILD = "WEB-CY01"  # born 2016-05-01, diagnosed 2024-06-10; no cycles, no weight on record
WEIGHED = "WEB-CY02"  # as CHILD, with weight and height lab values
SAVER = "WEB-CY03"  # the patient the save tests write to
RECORDED = "SEED1-P01"  # demo patient: cycles 1 and 2 recorded (2022), diagnosed 2022-01-10


@pytest.fixture(scope="module")
def cycle_registry(tmp_path_factory: pytest.TempPathFactory) -> DemoRegistry:
    """A registry of this module's own, with three new patients (the tests write cycles)."""
    built = build_registry(tmp_path_factory.mktemp("web-cycles"))
    with signed_in(built, FrozenClock(), "clinician") as (client, token):
        for study_id in (CHILD, WEIGHED, SAVER):
            created = client.post(
                "/api/v1/patients",
                json={
                    "study_id": study_id,
                    "site_code": "CGMH",
                    "sex": "female",
                    "birth_date": "2016-05-01",
                    "diagnosis_date": "2024-06-10",
                    "genetic_subtype": "ETV6::RUNX1",
                    "cd19_positive": True,
                },
                headers={"X-CSRF-Token": token},
            )
            assert created.status_code == 201, created.text
    registry = open_registry(built.url)
    try:
        with registry.transaction() as session:
            set_actor(session, AuditActor("test-setup"))
            patient_id = session.scalars(
                select(Patient.id).where(Patient.study_id == WEIGHED)
            ).one()
            for test, when, value, unit in (
                ("weight", date(2024, 12, 1), 29.0, "kg"),
                ("Weight", date(2024, 12, 20), 31.0, "kg"),
                ("height", date(2024, 12, 20), 132.0, "cm"),
                ("weight", date(2025, 6, 1), 40.0, "kg"),  # after the start: not used
            ):
                session.add(
                    LabValue(
                        patient_id=patient_id,
                        test=test,
                        sample_date=when,
                        value=value,
                        unit=unit,
                        source="test",
                        reconstructed=[],
                    )
                )
    finally:
        registry.dispose()
    return built


@pytest.fixture
def clinician(cycle_registry: DemoRegistry) -> Iterator[tuple[TestClient, str]]:
    with signed_in(cycle_registry, FrozenClock(), "clinician") as signed:
        yield signed


def _counts(registry: DemoRegistry) -> tuple[int, int]:
    """Treatment-course rows and their audit rows."""
    opened = open_registry(registry.url)
    try:
        with opened.reading() as session:
            courses = session.scalar(select(func.count()).select_from(TreatmentCourse))
            audited = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.entity == "treatment_course")
            )
    finally:
        opened.dispose()
    return int(courses or 0), int(audited or 0)


def _preview(client: TestClient, token: str, study_id: str, **entry: Any) -> Any:
    return client.post(
        f"/api/v1/patients/{study_id}/blinatumomab/preview",
        json=entry,
        headers={"X-CSRF-Token": token},
    )


VECTORS = [
    pytest.param(30.0, 135.0, "blincyto-us-rr", 1, (5.30, 15.91), id="BLIN-01-a"),
    pytest.param(44.0, 160.0, "blincyto-us-rr", 1, (6.99, 20.98), id="BLIN-01-b"),
    pytest.param(45.0, 150.0, "blincyto-us-rr", 1, (9.0, 28.0), id="BLIN-01-c"),
    pytest.param(30.0, 135.0, "blincyto-us-mrd", 1, (15.91,), id="BLIN-01-a-mrd"),
    # SEED-1 doses 15 mcg/m²/day at every weight: 50 kg gets a BSA dose, flagged (§12 item 5).
    pytest.param(50.0, 160.0, "tpog-mrd", 2, (22.36,), id="TH-TPOG-SCHED-50kg"),
]


@pytest.mark.parametrize(("weight_kg", "height_cm", "protocol", "cycle", "doses"), VECTORS)
def test_doses_are_the_therapy_modules(
    clinician: tuple[TestClient, str],
    weight_kg: float,
    height_cm: float,
    protocol: str,
    cycle: int,
    doses: tuple[float, ...],
) -> None:
    client, token = clinician
    values = {
        "weight_kg": weight_kg,
        "height_cm": height_cm,
        "protocol": protocol,
        "cycle": cycle,
        "start_date": "2025-01-01",
    }
    answer = _preview(client, token, CHILD, **values)
    assert answer.status_code == 200, answer.text
    planned = answer.json()
    indication = "relapsed" if protocol == "blincyto-us-rr" else "mrd"
    label = BLINATUMOMAB_LABELS["seed1-tpog" if protocol == "tpog-mrd" else US_LABEL.id]
    expected = blinatumomab_dose(
        weight_kg=weight_kg, height_cm=height_cm, indication=indication, cycle=cycle, label=label
    )
    assert planned["dose"] == expected.to_dict()
    assert [round(step["daily_dose_ug"], 2) for step in planned["dose"]["steps"]] == list(doses)
    assert planned["details"]["daily_dose_ug"] == expected.daily_dose_ug
    assert planned["details"]["dose_profile"] == label.label
    if protocol == "tpog-mrd":
        assert any("the US label gives a fixed 28 mcg/day" in w for w in planned["warnings"])
    # The page shows the same numbers (the preview stores nothing).
    page = client.post(
        f"/patients/{CHILD}/blinatumomab/new",
        data={"csrf_token": token, "action": "plan", **{k: str(v) for k, v in values.items()}},
    )
    assert page.status_code == 200
    for step in expected.steps:
        assert f"<strong>{format_mcg(step.daily_dose_ug)}/day</strong>" in page.text
    assert 'value="save"' in page.text  # saving is offered once the plan is shown


CALENDARS = [
    pytest.param(
        "blincyto-us-mrd",
        1,
        ("2025-01-28", "2025-01-29", "2025-02-11", "2025-02-12"),
        id="BLIN-02-a",
    ),
    pytest.param(
        "blincyto-us-rr",
        6,
        ("2025-01-28", "2025-01-29", "2025-03-25", "2025-03-26"),
        id="BLIN-02-b",
    ),
]


@pytest.mark.parametrize(("protocol", "cycle", "dates"), CALENDARS)
def test_calendars_are_the_therapy_modules(
    clinician: tuple[TestClient, str], protocol: str, cycle: int, dates: tuple[str, ...]
) -> None:
    client, token = clinician
    values = {
        "weight_kg": 30,
        "height_cm": 135,
        "protocol": protocol,
        "cycle": cycle,
        "start_date": "2025-01-01",
    }
    planned = _preview(client, token, CHILD, **values).json()
    indication = "relapsed" if protocol == "blincyto-us-rr" else "mrd"
    expected = cycle_calendar(
        start=date(2025, 1, 1),
        indication=indication,
        cycles=1,
        first_cycle=cycle,
        age_years=8.0,  # any child's age: the premedication reminders are the children's
        weight_kg=30,
        height_cm=135,
    ).cycles[0]
    assert planned["calendar"] == expected.to_dict()
    infusion_end, free_start, free_end, next_start = dates
    calendar = planned["calendar"]
    assert (calendar["infusion_start"], calendar["infusion_end"]) == ("2025-01-01", infusion_end)
    assert (calendar["treatment_free_start"], calendar["treatment_free_end"]) == (
        free_start,
        free_end,
    )
    assert planned["next_cycle_start"] == calendar["next_cycle_start"] == next_start
    details = planned["details"]
    assert (details["infusion_end"], details["treatment_free_end"]) == (infusion_end, free_end)
    assert details["next_cycle_start"] == next_start
    post = "POST_C1" if cycle == 1 else "FOLLOW_UP"
    assert {(a["timepoint"], a["date"]) for a in planned["mrd_assessments"]} >= {(post, free_start)}
    page = client.post(
        f"/patients/{CHILD}/blinatumomab/new",
        data={"csrf_token": token, "action": "plan", **{k: str(v) for k, v in values.items()}},
    ).text
    assert f"{free_start} → {free_end}" in page and f"<strong>{next_start}</strong>" in page
    assert page.count('<li class="day infusion') == 28


def test_plan_then_save_writes_one_audited_row_shown_on_the_patient_page(
    clinician: tuple[TestClient, str], cycle_registry: DemoRegistry
) -> None:
    client, token = clinician
    form = client.get(f"/patients/{SAVER}/blinatumomab/new")
    assert form.status_code == 200
    assert 'value="1"' in form.text  # the first cycle by default
    values = {
        "csrf_token": token,
        "protocol": "blincyto-us-mrd",
        "cycle": "1",
        "start_date": "2025-01-06",
        "weight_kg": "30",
        "height_cm": "135",
        "prescribed_daily_dose": "15.9",
        "prescribed_unit": "µg",
    }
    before = _counts(cycle_registry)
    planned = client.post(f"/patients/{SAVER}/blinatumomab/new", data={**values, "action": "plan"})
    assert planned.status_code == 200 and "within ±10 % of the label dose" in planned.text
    assert _counts(cycle_registry) == before  # the preview writes nothing
    saved = client.post(f"/patients/{SAVER}/blinatumomab/new", data={**values, "action": "save"})
    assert saved.status_code == 303, saved.text[:500]
    location = saved.headers["location"]
    assert location.startswith(f"/patients/{SAVER}/blinatumomab/")
    courses, audited = _counts(cycle_registry)
    assert courses == before[0] + 1 and audited > before[1]
    course_id = int(location.split("/")[-1].split("?")[0])
    opened = open_registry(cycle_registry.url)
    try:
        with opened.reading() as session:
            row = session.get(TreatmentCourse, course_id)
            assert row is not None
            stored = (row.kind, row.cycle, row.start_date, row.end_date, dict(row.details))
            actors = set(
                session.scalars(
                    select(AuditEntry.actor).where(
                        AuditEntry.entity == "treatment_course",
                        AuditEntry.entity_id == str(course_id),
                    )
                )
            )
    finally:
        opened.dispose()
    assert actors == {"clinician"}
    kind, cycle, start, end, details = stored
    assert (kind, cycle, start, end) == ("blinatumomab", 1, date(2025, 1, 6), date(2025, 2, 2))
    expected = blinatumomab_dose(weight_kg=30, height_cm=135, indication="mrd")
    assert details["daily_dose_ug"] == expected.daily_dose_ug
    assert (details["dose_basis"], details["daily_dose_ug_per_m2"]) == ("ug/m2/day", 15.0)
    assert (details["prescribed_daily_dose"], details["prescribed_unit"]) == (15.9, "µg")
    assert details["protocol"].startswith("blincyto-us-mrd@")
    assert (details["treatment_free_end"], details["next_cycle_start"]) == (
        "2025-02-16",
        "2025-02-17",
    )
    view = client.get(location)
    assert view.status_code == 200 and "saved and written to the audit trail" in view.text
    assert view.text.count('<li class="day infusion') == 28 and "D28" in view.text
    assert "2025-02-17" in view.text
    patient = client.get(f"/patients/{SAVER}").text
    assert "Plan blinatumomab cycle" in patient
    assert "blinatumomab cycle 1" in patient and "2025-01-06" in patient
    # The next plan starts where this one leaves off.
    again = client.get(f"/patients/{SAVER}/blinatumomab/new").text
    assert 'value="2025-02-17"' in again and 'value="2"' in again
    assert f'href="/patients/{SAVER}/blinatumomab/{course_id}"' in again


REFUSALS = [
    pytest.param(
        CHILD,
        {"prescribed_daily_dose": "0.016", "prescribed_unit": "mg"},
        "prescribed_unit",
        "re-enter the dose in mcg",
        id="mg-unit",
    ),
    pytest.param(
        CHILD,
        {"prescribed_daily_dose": "159.1"},
        "prescribed_daily_dose",
        "looks like a 10× entry",
        id="10x-dose",
    ),
    pytest.param(
        CHILD,
        {"prescribed_daily_dose": "0.0159"},
        "prescribed_daily_dose",
        "looks like mg",
        id="mg-number",
    ),
    pytest.param(
        RECORDED,
        {"start_date": "2022-06-01", "cycle": "3"},
        "start_date",
        "does not overlap recorded cycle 2",
        id="overlap",
    ),
    pytest.param(
        RECORDED,
        {"start_date": "2021-12-01", "cycle": "3"},
        "start_date",
        "on or after the diagnosis (2022-01-10)",
        id="before-diagnosis",
    ),
    pytest.param(CHILD, {"weight_kg": ""}, "weight_kg", "no weight on or before", id="no-weight"),
    pytest.param(CHILD, {"height_cm": ""}, "height_cm", "records the BSA", id="no-height"),
    pytest.param(
        CHILD,
        {"prescribed_daily_dose": ""},
        "prescribed_daily_dose",
        "the label dose is 15.91 mcg/day",
        id="no-dose",
    ),
    pytest.param(CHILD, {"prescribed_daily_dose": "12"}, "reason", "-25 % off", id="off-label"),
    pytest.param(CHILD, {"indication": "relapsed"}, "indication", "mrd: the", id="indication"),
    pytest.param(CHILD, {"cycle": "5"}, "cycle", "a cycle from 1 to 4", id="cycle"),
    pytest.param(CHILD, {"protocol": "graall-2014b"}, "protocol", "tpog-mrd", id="protocol"),
    pytest.param(CHILD, {"weight_kg": "300"}, "weight_kg", "kg", id="weight-range"),
]


@pytest.mark.parametrize(("study_id", "changes", "field", "message"), REFUSALS)
def test_refusals_are_inline_422_and_write_nothing(
    clinician: tuple[TestClient, str],
    cycle_registry: DemoRegistry,
    study_id: str,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, token = clinician
    values = {
        "csrf_token": token,
        "protocol": "blincyto-us-mrd",
        "cycle": "1",
        "start_date": "2025-01-01",
        "weight_kg": "30",
        "height_cm": "135",
        "prescribed_daily_dose": "15.91",
        "action": "save",
        **changes,
    }
    before = _counts(cycle_registry)
    response = client.post(f"/patients/{study_id}/blinatumomab/new", data=values)
    assert response.status_code == 422, response.text[:300]
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert "Traceback" not in response.text
    assert _counts(cycle_registry) == before


def test_the_api_twin_gives_the_pages_numbers_and_saves_once(
    clinician: tuple[TestClient, str], cycle_registry: DemoRegistry
) -> None:
    client, token = clinician
    entry = {
        "protocol": "blincyto-us-rr",
        "cycle": 1,
        "start_date": "2025-03-03",
        "weight_kg": 44,
        "height_cm": 160,
        "prescribed_daily_dose": 20.98,
    }
    headers = {"X-CSRF-Token": token}
    preview = _preview(client, token, SAVER, **entry)
    assert preview.status_code == 200
    planned = preview.json()
    assert planned["prescribed"]["within_tolerance"] is True
    assert planned["prescribed"]["step_days"] == "8-28"
    page = client.post(
        f"/patients/{SAVER}/blinatumomab/new",
        data={"csrf_token": token, "action": "plan", **{k: str(v) for k, v in entry.items()}},
    ).text
    for step in planned["dose"]["steps"]:
        assert f"<strong>{format_mcg(step['daily_dose_ug'])}/day</strong>" in page
    assert planned["calendar"]["next_cycle_start"] in page
    before = _counts(cycle_registry)
    refused = client.post(
        f"/api/v1/patients/{SAVER}/blinatumomab",
        json={**entry, "prescribed_unit": "mg"},
        headers=headers,
    )
    assert refused.status_code == 422 and refused.json()["field"] == "prescribed_unit"
    assert _counts(cycle_registry) == before
    saved = client.post(f"/api/v1/patients/{SAVER}/blinatumomab", json=entry, headers=headers)
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert {k: v for k, v in body.items() if k != "id"} == planned
    assert _counts(cycle_registry)[0] == before[0] + 1
    overlapping = client.post(f"/api/v1/patients/{SAVER}/blinatumomab", json=entry, headers=headers)
    assert overlapping.status_code == 422 and overlapping.json()["field"] == "start_date"
    detail = client.get(f"/api/v1/patients/{SAVER}").json()
    stored = [
        t
        for t in detail["treatments"]
        if t["details"].get("protocol", "").startswith("blincyto-us-rr@")
    ]
    assert [t["details"]["step_daily_dose_ug"] for t in stored] == [
        planned["dose"]["steps"][0]["daily_dose_ug"]
    ]


def test_weight_and_height_come_from_the_registry_when_left_empty(
    clinician: tuple[TestClient, str],
) -> None:
    client, token = clinician
    form = client.get(f"/patients/{WEIGHED}/blinatumomab/new").text
    assert "lab value &#39;weight&#39; of 2025-06-01" in form  # the latest on record
    planned = _preview(
        client, token, WEIGHED, start_date="2025-01-10", prescribed_daily_dose=15.0
    ).json()
    assert (planned["weight_kg"], planned["height_cm"]) == (31.0, 132.0)
    assert planned["weight_source"] == "lab value 'Weight' of 2024-12-20"
    assert planned["dose"] == blinatumomab_dose(
        weight_kg=31.0, height_cm=132.0, indication="mrd"
    ).to_dict() | {"warnings": planned["dose"]["warnings"]}
    assert any("21 days old" in w and "re-weigh" in w for w in planned["warnings"])


def test_defaults_follow_the_recorded_cycles(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    form = client.get(f"/patients/{RECORDED}/blinatumomab/new").text
    # Cycle 2 of SEED1-P01 ended its infusion on 2022-06-19: 14 days off, then cycle 3.
    assert 'name="cycle" inputmode="numeric" value="3"' in form
    assert 'value="2022-07-04"' in form
    assert "recorded without a calendar" in form
    assert '<option value="tpog-mrd" selected>' in form  # the diagnosis names TPOG
    # TPOG gives two cycles: a third is refused under it, and planned under the US label.
    refused = _preview(client, token, RECORDED, weight_kg=18, height_cm=105)
    assert refused.status_code == 422 and refused.json()["field"] == "cycle"
    assert "a cycle from 1 to 2 under tpog-mrd@" in refused.json()["detail"]
    planned = _preview(
        client, token, RECORDED, weight_kg=18, height_cm=105, protocol="blincyto-us-mrd"
    ).json()
    assert (planned["cycle"], planned["start_date"]) == (3, "2022-07-04")
    assert planned["dose"]["label_version"] == US_LABEL.label


def test_a_stored_cycle_without_a_calendar_and_unknown_ids(
    clinician: tuple[TestClient, str],
) -> None:
    client, _ = clinician
    detail = client.get(f"/api/v1/patients/{RECORDED}").json()
    assert detail["study_id"] == RECORDED
    form = client.get(f"/patients/{RECORDED}/blinatumomab/new").text
    first = form.split(f'href="/patients/{RECORDED}/blinatumomab/')[1].split('"')[0]
    view = client.get(f"/patients/{RECORDED}/blinatumomab/{first}")
    assert view.status_code == 200 and "recorded without a calendar" in view.text
    assert client.get(f"/patients/{RECORDED}/blinatumomab/999999").status_code == 404
    assert client.get(f"/patients/{CHILD}/blinatumomab/{first}").status_code == 404


def test_another_sites_user_cannot_plan_or_see_a_cycle(cycle_registry: DemoRegistry) -> None:
    with signed_in(cycle_registry, FrozenClock(), "clinician-b") as (client, token):
        assert client.get(f"/patients/{RECORDED}/blinatumomab/new").status_code == 404
        answer = _preview(client, token, RECORDED, weight_kg=18, height_cm=105)
        assert answer.status_code == 404


def test_a_reflected_payload_renders_inert(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    payload = '"><script>alert(1)</script>'
    response = client.post(
        f"/patients/{CHILD}/blinatumomab/new",
        data={
            "csrf_token": token,
            "action": "plan",
            "weight_kg": "30",
            "height_cm": "135",
            "start_date": "2025-01-01",
            "prescribed_daily_dose": "15.9",
            "prescribed_unit": payload,
            "reason": payload,
        },
    )
    assert response.status_code == 422 and 'id="prescribed_unit-error"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
