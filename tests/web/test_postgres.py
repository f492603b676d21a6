"""The web app on PostgreSQL: the same pages and API as on SQLite (search, entry, cohort)."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from tests.web.support import FrozenClock, build_registry_at, signed_in


def _fresh_database(server: str) -> str:
    url = make_url(server + "postgres")
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("DROP DATABASE IF EXISTS mrdtrack_web_test")
        admin.execute("CREATE DATABASE mrdtrack_web_test")
    return server + "mrdtrack_web_test"


def test_pages_and_api_on_postgresql(postgres_server: str) -> None:
    registry = build_registry_at(_fresh_database(postgres_server))
    with signed_in(registry, FrozenClock(), "lab") as (client, token):
        listed = client.get("/api/v1/patients", params={"q": "p0_"}).json()
        assert listed["total"] == 0  # "_" is a character here, not a LIKE wildcard
        assert client.get("/api/v1/patients", params={"q": "seed1-p1"}).json()["total"] == 2
        page = client.get("/patients/SEED1-P03")
        assert page.status_code == 200 and "1.8×10⁻²" in page.text
        saved = client.post(
            "/api/v1/patients/SEED1-P03/mrd",
            headers={"X-CSRF-Token": token},
            json={
                "method": "flow",
                "sample_date": "2022-01-05",
                "timepoint": "MRD1",
                "tissue": "BM",
                "marker": "laip",
                "inputs": {"leukemic_events": 0, "total_events": 300000},
            },
        )
        assert saved.status_code == 201 and saved.json()["status"] == "negative"
    with signed_in(registry, FrozenClock(), "statistician") as (client, _):
        cohort = client.get("/api/v1/cohort").json()
        assert cohort["patients"] == 12 and cohort["summary"]["n_patients"] == 12
        assert client.get("/cohort").status_code == 200
