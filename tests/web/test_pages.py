"""The pages: patient list and page, MRD entry, calculators, cohort (server-rendered)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, MrdResultRow, Sample
from tests.web.support import DemoRegistry, FrozenClock, TestClient, signed_in


@pytest.fixture
def clinician(demo_registry: DemoRegistry, clock: FrozenClock) -> Iterator[tuple[TestClient, str]]:
    with signed_in(demo_registry, clock, "clinician") as signed:
        yield signed


def test_patient_list_search_and_subtype_filter(clinician: tuple[TestClient, str]) -> None:
    client, _ = clinician
    everyone = client.get("/patients")
    assert everyone.status_code == 200
    assert everyone.text.count('href="/patients/SEED1-P') == 11
    one = client.get("/patients", params={"q": "p03"}).text
    assert "SEED1-P03" in one and "SEED1-P04" not in one
    tcf3 = client.get("/patients", params={"subtype": "TCF3::PBX1"}).text
    assert "SEED1-P05" in tcf3 and "SEED1-P08" in tcf3 and "SEED1-P03" not in tcf3
    # LIKE wildcards are text, not patterns.
    assert "No patients." in client.get("/patients", params={"q": "%"}).text
    refused = client.get("/patients", params={"subtype": "made-up"})
    assert refused.status_code == 422 and "made-up" in refused.text


def test_patient_page_shows_mrd_status_sensitivity_and_the_protocol(
    clinician: tuple[TestClient, str],
) -> None:
    client, _ = clinician
    page = client.get("/patients/SEED1-P03")
    assert page.status_code == 200
    text = page.text
    assert "complex karyotype" in text
    assert "1.8×10⁻² (1.8 %)" in text  # EOI flow result
    assert "5.0×10⁻⁵" in text  # its achieved sensitivity
    assert "status-positive" in text and "status-negative" in text
    assert "MRD failure" in text and "MRD CR" in text
    assert "tpog-mrd@1" in text and "eligible" in text
    assert "Hematol Rep 2024;16:347-353" in text  # the next step's citation
    assert "cytokine release syndrome" in text


def test_choosing_another_protocol(clinician: tuple[TestClient, str]) -> None:
    client, _ = clinician
    page = client.get("/patients/SEED1-P03", params={"protocol": "blincyto-us-mrd"}).text
    assert "blincyto-us-mrd@" in page
    unknown = client.get("/patients/SEED1-P03", params={"protocol": "no-such"})
    assert unknown.status_code == 404


def test_unknown_patient_is_404(clinician: tuple[TestClient, str]) -> None:
    client, _ = clinician
    response = client.get("/patients/NOPE-1")
    assert response.status_code == 404
    assert "no patient named" in response.text


def _mrd_rows(url: str) -> int:
    registry = open_registry(url)
    try:
        with registry.transaction() as session:
            return len(session.scalars(select(MrdResultRow.id)).all())
    finally:
        registry.dispose()


FLOW = {
    "method": "flow",
    "sample_date": "2022-01-05",
    "timepoint": "MRD1",
    "tissue": "BM",
    "marker": "laip",
    "profile": "seed1-tpog",
    "leukemic_events": "24",
    "total_events": "200,000",
}


def test_mrd_compute_shows_the_result_without_saving(
    clinician: tuple[TestClient, str], demo_registry: DemoRegistry
) -> None:
    client, token = clinician
    before = _mrd_rows(demo_registry.url)
    response = client.post(
        "/patients/SEED1-P03/mrd/new", data={**FLOW, "csrf_token": token, "action": "compute"}
    )
    assert response.status_code == 200
    assert "status-positive" in response.text
    assert "1.2×10⁻⁴ (0.012 %)" in response.text
    assert "5.0×10⁻⁵" in response.text  # achieved sensitivity: 10 events / 200,000
    assert "Not saved yet" in response.text
    assert _mrd_rows(demo_registry.url) == before


def test_mrd_save_stores_the_engine_result_and_audits_it(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(fresh_registry, clock, "lab") as (client, token):
        before = _mrd_rows(fresh_registry.url)
        saved = client.post(
            "/patients/SEED1-P03/mrd/new", data={**FLOW, "csrf_token": token, "action": "save"}
        )
        assert saved.status_code == 303
        location = saved.headers["location"]
        assert location.startswith("/patients/SEED1-P03?saved=")
        page = client.get(location.split("#")[0]).text
        assert 'class="highlight"' in page and "MRD result saved" in page
    assert _mrd_rows(fresh_registry.url) == before + 1
    registry = open_registry(fresh_registry.url)
    try:
        with registry.transaction() as session:
            row = session.scalars(select(MrdResultRow).order_by(MrdResultRow.id.desc())).first()
            assert row is not None
            sample = session.get(Sample, row.sample_id)
            audited = session.scalars(
                select(AuditEntry).where(AuditEntry.actor == "lab", AuditEntry.action == "create")
            ).all()
        assert sample is not None and sample.timepoint == "MRD1" and sample.source == "web entry"
        assert (row.status, row.inputs["leukemic_events"], row.inputs["total_events"]) == (
            "positive",
            24,
            200_000,
        )
        assert {a.entity for a in audited} == {"sample", "mrd_result"}
        assert all(a.at_utc.startswith("2025-03-03T09:00") for a in audited)  # server clock
    finally:
        registry.dispose()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param({"leukemic_events": "300000"}, "leukemic_events", "at most", id="laip>total"),
        pytest.param({"total_events": ""}, "total_events", "whole number", id="missing"),
        pytest.param({"total_events": "many"}, "total_events", "whole number", id="not-a-number"),
        pytest.param({"sample_date": "2022-13-01"}, "sample_date", "YYYY-MM-DD", id="bad-date"),
        pytest.param({"sample_date": "2030-01-01"}, "sample_date", "≤ today", id="future"),
        pytest.param({"sample_date": "2019-01-01"}, "sample_date", "diagnosis", id="pre-dx"),
        pytest.param({"timepoint": "WEEK5"}, "timepoint", "time-point code", id="timepoint"),
        pytest.param({"marker": "nope"}, "marker", "marker of this patient", id="marker"),
        pytest.param(
            {"method": "rq-pcr", "marker": "laip", "fusion_copies": "10", "control_copies": "1e5"},
            "marker",
            "fusion_transcript",
            id="pcr-needs-a-fusion-marker",
        ),
        pytest.param({"method": "ngs"}, "method", "flow or rq-pcr", id="method"),
    ],
)
def test_mrd_entry_errors_come_back_inline_with_422(
    clinician: tuple[TestClient, str], changes: dict[str, str], field: str, message: str
) -> None:
    client, token = clinician
    data = {**FLOW, **changes, "csrf_token": token, "action": "save"}
    response = client.post("/patients/SEED1-P03/mrd/new", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert "Traceback" not in response.text
    # What the user typed is kept in the form.
    assert FLOW["profile"] in response.text


def test_rq_pcr_entry_uses_the_patients_diagnosis_ncn(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    form = client.get("/patients/SEED1-P05/mrd/new", params={"method": "rq-pcr"}).text
    assert 'value="fusion" selected' in form
    response = client.post(
        "/patients/SEED1-P05/mrd/new",
        data={
            "csrf_token": token,
            "action": "compute",
            "method": "rq-pcr",
            "sample_date": "2021-08-30",
            "timepoint": "POST_C1",
            "tissue": "BM",
            "marker": "fusion",
            "profile": "seed1-tpog",
            "fusion_copies": "0",
            "control_copies": "120000",
            "replicates": "3",
        },
    )
    assert response.status_code == 200
    assert "status-negative" in response.text and "not detected" in response.text


def test_crs_calculator(clinician: tuple[TestClient, str]) -> None:
    client, _ = clinician
    empty = client.get("/tools/crs")
    assert empty.status_code == 200 and "Grade 2" not in empty.text
    graded = client.get(
        "/tools/crs", params={"temperature_c": "39.2", "hypotension": "fluids", "hypoxia": "none"}
    )
    assert graded.status_code == 200
    assert "Grade 2" in graded.text and "ASTCT" in graded.text
    fahrenheit = client.get("/tools/crs", params={"temperature_c": "102", "hypotension": "none"})
    assert fahrenheit.status_code == 422 and 'id="temperature_c-error"' in fahrenheit.text


def test_blinatumomab_dose_and_calendar(clinician: tuple[TestClient, str]) -> None:
    client, _ = clinician
    plan = client.get(
        "/tools/blinatumomab",
        params={
            "weight_kg": "20",
            "height_cm": "115",
            "indication": "mrd",
            "start": "2025-01-06",
            "cycles": "2",
            "age_years": "6",
        },
    )
    assert plan.status_code == 200
    text = plan.text
    assert "11.99 mcg/day" in text and "Mosteller" in text
    assert "2025-01-06 → 2025-02-02" in text  # cycle 1 infusion days
    assert "2025-02-17" in text  # cycle 2 starts after 14 treatment-free days
    assert text.count('class="day infusion') >= 56
    overdose = client.get(
        "/tools/blinatumomab",
        params={
            "weight_kg": "60",
            "height_cm": "170",
            "indication": "mrd",
            "recorded_daily_dose": "280",
        },
    )
    assert overdose.status_code == 422
    assert 'id="recorded_daily_dose-error"' in overdose.text


def test_cohort_dashboard(demo_registry: DemoRegistry, clock: FrozenClock) -> None:
    with signed_in(demo_registry, clock, "statistician") as (client, _):
        page = client.get("/cohort")
        assert page.status_code == 200
        assert "MRD response by time point" in page.text
        assert "Case-series summary" in page.text and "reverse Kaplan" in page.text
        assert "<td>EOI</td>" in page.text and "<td>PRE_BLIN</td>" in page.text
        assert "SEED1-P" not in page.text  # de-identified
        navigation = page.text.split("<main>")[0]
        assert "/patients" not in navigation  # no link the role may not follow


def test_no_sample_after_a_recorded_death(clinician: tuple[TestClient, str]) -> None:
    client, token = clinician
    data = {**FLOW, "marker": "", "sample_date": "2022-08-01", "csrf_token": token}
    response = client.post("/patients/SEED1-P05/mrd/new", data={**data, "action": "compute"})
    assert response.status_code == 422
    assert "recorded death (2022-07-03)" in response.text
