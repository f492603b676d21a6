"""The import pages and API: upload, background job, progress, validation report (goals 1,
20, 23): a valid file lands with the user's audit rows, a bad one is reported row by row
with nothing written, a file imported twice is imported once, a killed import is shown
as failed and can be run again."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.importer import PendingImport, import_file
from mrdtrack.registry.models import AuditEntry, ImportJob, MrdResultRow, Patient
from mrdtrack.web.accounts import create_user
from mrdtrack.web.import_jobs import UploadTooLargeError, safe_filename, store_upload
from mrdtrack.web.security import PasswordHashing
from tests.registry.test_import_jobs import _files
from tests.web.support import (
    DemoRegistry,
    FrozenClock,
    TestClient,
    build_registry,
    build_registry_at,
    signed_in,
)
from tests.web.test_xss import PAYLOADS, executable_nodes

DATA = Path(__file__).resolve().parents[1] / "data"
GOOD = b"study_id,site_code,sex,birth_date\nIMP-1,CGMH,female,2010-01-01\nIMP-2,CGMH,male,\n"


@pytest.fixture(scope="module")
def imports_registry(tmp_path_factory: pytest.TempPathFactory) -> DemoRegistry:
    """A registry of this module's own: the tests below write to it."""
    return build_registry(tmp_path_factory.mktemp("web-imports"))


@pytest.fixture
def manager(imports_registry: DemoRegistry, clock: FrozenClock) -> Iterator[tuple[TestClient, str]]:
    with signed_in(imports_registry, clock, "data_manager") as signed:
        yield signed


def upload(
    client: TestClient,
    token: str,
    name: str,
    data: bytes,
    *,
    url: str = "/imports",
    mapping: tuple[str, bytes] | None = None,
    **fields: str,
) -> Any:
    files = {"file": (name, data, "application/octet-stream")}
    if mapping is not None:
        files["mapping"] = (mapping[0], mapping[1], "application/yaml")
    return client.post(url, files=files, data=fields, headers={"X-CSRF-Token": token})


def job_of(response: Any) -> int:
    assert response.status_code == 303, response.text[:500]
    return int(response.headers["location"].split("/")[-1].split("?")[0])


def finished(client: TestClient, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/imports/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.02)
    raise AssertionError(f"import job {job_id} still running")


def count(registry: DemoRegistry, model: Any) -> int:
    opened = open_registry(registry.url)
    try:
        with opened.reading() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        opened.dispose()


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.sources.append(dict(attrs).get("src"))


def scripts(html: str) -> list[str | None]:
    parser = _Scripts()
    parser.feed(html)
    return parser.sources


def test_a_valid_csv_is_imported_in_the_background_with_the_users_audit_rows(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    client, token = manager
    patients = count(imports_registry, Patient)
    job_id = job_of(upload(client, token, "patients.csv", GOOD))
    job = finished(client, job_id)
    assert (job["status"], job["rows"], job["tables"]) == ("done", 2, {"patients": 2})
    assert (job["actor"], job["kind"], job["filename"]) == ("data_manager", "csv", "patients.csv")
    assert job["error"] is None and job["progress"] is None
    assert count(imports_registry, Patient) == patients + 2
    opened = open_registry(imports_registry.url)
    try:
        with opened.reading() as session:
            trail = [
                (e.action, e.entity, e.entity_id, e.reason)
                for e in session.scalars(
                    select(AuditEntry).where(AuditEntry.actor == "data_manager")
                )
            ]
    finally:
        opened.dispose()
    created = [e for e in trail if e[:2] == ("create", "patient")]
    assert len(created) == 2 and {e[3] for e in created} == {"import of patients.csv"}
    assert [e[2] for e in trail if e[0] == "import"] == [str(job_id)]
    page = client.get(f"/imports/{job_id}")
    assert page.status_code == 200
    assert "2 rows written in one transaction" in page.text and "<td>patients</td>" in page.text
    assert scripts(page.text) == []  # nothing to follow once finished
    listing = client.get("/imports")
    assert listing.status_code == 200 and f'href="/imports/{job_id}"' in listing.text
    assert scripts(listing.text) == ["/static/imports.js"]
    listed = client.get("/api/v1/imports").json()
    assert listed["jobs"][0]["id"] == job_id and listed["total"] >= 1


def test_a_file_with_errors_gets_a_report_by_row_and_column_and_writes_nothing(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    client, token = manager
    bad = (
        b"study_id,site_code,sex,birth_date,shoe_size\n"
        b"BAD-1,CGMH,female,2010-02-30,40\n"
        b"BAD-2,CGMH,=1+1,2011-01-01,41\n"
    )
    patients, audit = count(imports_registry, Patient), count(imports_registry, AuditEntry)
    job_id = job_of(upload(client, token, "patients.csv", bad, reason="quarterly upload"))
    job = finished(client, job_id)
    assert job["status"] == "failed" and not job["interrupted"] and job["rows"] is None
    located = {(p["row"], p["column"]) for p in job["error"]["problems"]}
    assert {(1, "shoe_size"), (2, "birth_date"), (3, "sex")} <= located
    assert job["error"]["total"] == len(job["error"]["problems"])
    assert count(imports_registry, Patient) == patients
    assert count(imports_registry, AuditEntry) == audit  # 0 rows written
    page = client.get(f"/imports/{job_id}").text
    assert "Validation report" in page and "Nothing was written." in page
    assert '<td class="name">birth_date</td>' in page and "<code>2010-02-30</code>" in page
    assert "this day does not exist" in page and "formula" in page
    assert 'class="badge job-failed"' in client.get("/imports").text


def test_the_same_file_twice_is_imported_once(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    client, token = manager
    data = b"study_id,site_code,sex\nTWICE-1,CGMH,female\n"
    first = job_of(upload(client, token, "patients.csv", data))
    assert finished(client, first)["status"] == "done"
    patients, jobs = count(imports_registry, Patient), count(imports_registry, ImportJob)
    again = upload(client, token, "patients.csv", data)
    assert again.headers["location"] == f"/imports/{first}?already=1"
    assert "imported before" in client.get(again.headers["location"]).text
    api = upload(client, token, "patients.csv", data, url="/api/v1/imports")
    assert api.status_code == 200
    assert api.json() == {
        "job_id": first,
        "status": "done",
        "already_imported": True,
        "url": f"/api/v1/imports/{first}",
    }
    assert (count(imports_registry, Patient), count(imports_registry, ImportJob)) == (
        patients,
        jobs,
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param("cohort.xlsx", GOOD, "does not match .xlsx", id="csv-named-xlsx"),
        pytest.param("patients.csv", b"PK\x03\x04rest", "does not match .csv", id="zip-as-csv"),
        pytest.param("patients.csv", b"%PDF-1.4", "a PDF document", id="pdf-as-csv"),
        pytest.param("cohort.zip", b"\xd0\xcf\x11\xe0old", "legacy Office", id="xls-as-zip"),
        pytest.param("notes.exe", b"MZ", "a .csv, .xlsx or .zip file", id="extension"),
    ],
)
def test_a_file_whose_bytes_do_not_match_its_extension_is_refused_at_once(
    imports_registry: DemoRegistry,
    manager: tuple[TestClient, str],
    name: str,
    data: bytes,
    message: str,
) -> None:
    client, token = manager
    jobs = count(imports_registry, ImportJob)
    page = upload(client, token, name, data)
    assert page.status_code == 422 and message in page.text
    assert "Not imported" in page.text
    api = upload(client, token, name, data, url="/api/v1/imports")
    assert api.status_code == 422 and message in api.json()["detail"]
    assert count(imports_registry, ImportJob) == jobs  # refused before any job


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({}, "choose one", id="no-file"),
        pytest.param({"table": "nonsense"}, "one of: patients", id="unknown-table"),
    ],
)
def test_a_form_without_a_file_or_with_an_unknown_table_is_refused(
    manager: tuple[TestClient, str], fields: dict[str, str], message: str
) -> None:
    client, token = manager
    if fields:
        response = upload(client, token, "p.csv", GOOD, table=fields["table"])
    else:
        response = client.post("/imports", data={"csrf_token": token})
    assert response.status_code == 422 and message in response.text


def test_an_upload_above_the_limit_gets_413(
    imports_registry: DemoRegistry, clock: FrozenClock, tmp_path: Path
) -> None:
    big = b"study_id,site_code,sex\n" + b"X-1,CGMH,female\n" * 400  # 6.4 kB
    limits = {"max_form_bytes": 1024, "max_upload_bytes": 4096}
    with signed_in(imports_registry, clock, "data_manager", **limits) as (client, token):
        assert upload(client, token, "patients.csv", big).status_code == 413
        api = upload(client, token, "patients.csv", big, url="/api/v1/imports")
        assert api.status_code == 413 and "too large" in api.json()["detail"]
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("mrdtrack-upload-*"))
    with pytest.raises(UploadTooLargeError):
        store_upload(io.BytesIO(big), "patients.csv", limit_bytes=4096)
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("mrdtrack-upload-*")) == before


def test_the_upload_limit_is_the_import_routes_own(
    imports_registry: DemoRegistry, clock: FrozenClock
) -> None:
    """An import may be larger than any form; every other route keeps the form limit."""
    body = b"study_id,site_code,sex\n" + b"X-1,CGMH,female\n" * 400  # 6.4 kB
    limits = {"max_form_bytes": 4096, "max_upload_bytes": 64 * 1024}
    with signed_in(imports_registry, clock, "data_manager", **limits) as (client, token):
        assert upload(client, token, "patients.csv", body).status_code != 413
        padded = {"csrf_token": token, "reason": "x" * 5000}
        assert client.post("/patients/new", data=padded).status_code == 413


def test_the_upload_form_works_without_script(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    """The token may come as the form's csrf_token part, as a browser sends it."""
    client, token = manager
    files = {"file": ("patients.csv", GOOD, "text/csv")}
    sent = client.post("/imports", files=files, data={"csrf_token": token})
    assert sent.status_code == 303, sent.text[:300]
    wrong = client.post("/imports", files=files, data={"csrf_token": token[:-2] + "xx"})
    assert wrong.status_code == 403
    missing = client.post("/imports", files=files)
    assert missing.status_code == 403


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("patients.csv", "patients.csv", id="plain"),
        pytest.param("C:\\Users\\a\\Cohort 2024.XLSX", "Cohort 2024.xlsx", id="windows-path"),
        pytest.param("../../etc/passwd.csv", "passwd.csv", id="traversal"),
        pytest.param("<img src=x onerror=1>.zip", "_img src_x onerror_1_.zip", id="markup"),
    ],
)
def test_upload_names_are_reduced_to_a_safe_base_name(given: str, kept: str) -> None:
    assert safe_filename(given, "file", (".csv", ".xlsx", ".zip")) == kept


def test_a_redcap_export_with_its_mapping_is_imported(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    client, token = manager
    mapping = ("mapping.yaml", (DATA / "redcap" / "mapping.yaml").read_bytes())
    export = (DATA / "redcap" / "export.csv").read_bytes()
    job = finished(client, job_of(upload(client, token, "export.csv", export, mapping=mapping)))
    assert (job["status"], job["kind"], job["tables"]["patients"]) == ("done", "redcap", 2)


def test_a_running_job_shows_its_progress_and_the_page_follows_it(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, token = manager
    release, reached = threading.Event(), threading.Event()
    original = PendingImport.run

    def held(self: PendingImport, progress: Any = None) -> Any:
        progress("check", 3, 10)
        reached.set()
        assert release.wait(30)
        return original(self, progress)

    monkeypatch.setattr(PendingImport, "run", held)
    job_id = job_of(
        upload(client, token, "patients.csv", b"study_id,site_code,sex\nRUN-1,S,male\n")
    )
    try:
        assert reached.wait(30)
        page = client.get(f"/imports/{job_id}").text
        assert 'data-status="running"' in page and "Checking" in page and "3 of 10 rows" in page
        assert scripts(page) == ["/static/imports.js"]
        job = client.get(f"/api/v1/imports/{job_id}").json()
        assert job["status"] == "running"
        assert job["progress"] == {"phase": "checking", "done": 3, "total": 10, "percent": 30}
        assert "checking 30 %" in client.get("/imports").text
        busy = upload(client, token, "patients.csv", b"study_id,site_code,sex\nRUN-1,S,male\n")
        assert busy.headers["location"] == f"/imports/{job_id}?busy=1"
        conflict = upload(
            client,
            token,
            "patients.csv",
            b"study_id,site_code,sex\nRUN-1,S,male\n",
            url="/api/v1/imports",
        )
        assert conflict.status_code == 409 and conflict.json()["job_id"] == job_id
    finally:
        release.set()
    assert finished(client, job_id)["status"] == "done"
    assert client.get("/static/imports.js").status_code == 200


def test_payloads_in_cells_are_reported_inert(
    imports_registry: DemoRegistry, manager: tuple[TestClient, str]
) -> None:
    client, token = manager
    rows = "\n".join(
        f'XSS-{i},CGMH,"{payload.replace(chr(34), chr(34) * 2)}",2010-01-01'
        for i, payload in enumerate(PAYLOADS)
    )
    data = ("study_id,site_code,sex,birth_date\n" + rows + "\n").encode()
    job = finished(client, job_of(upload(client, token, "patients.csv", data)))
    assert job["status"] == "failed" and job["error"]["total"] == len(PAYLOADS)
    page = client.get(f"/imports/{job['id']}")
    assert page.status_code == 200
    assert executable_nodes(page.text) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    listing = client.get("/imports").text
    assert [n for n in executable_nodes(listing) if n != "<script>"] == []
    assert scripts(listing) == ["/static/imports.js"]


def test_site_bound_accounts_may_not_import(imports_registry: DemoRegistry) -> None:
    opened = open_registry(imports_registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("test-setup"))
            account = create_user(
                session,
                PasswordHashing(),
                username="dm-b",
                role="data_manager",
                site_code="SITE-B",
                must_change_password=False,
            )
    finally:
        opened.dispose()
    site_b = DemoRegistry(imports_registry.url, {"dm-b": account.password})
    with signed_in(site_b, FrozenClock(), "dm-b") as (client, token):
        assert client.get("/imports").status_code == 403
        assert client.get("/api/v1/imports").status_code == 403
        assert upload(client, token, "patients.csv", GOOD).status_code == 403


def test_a_killed_import_is_shown_failed_and_a_re_run_through_the_page_succeeds(
    tmp_path: Path, clock: FrozenClock
) -> None:
    demo = build_registry(tmp_path, second_site=False)
    base, big = _files(tmp_path, rows=6_000)
    registry = open_registry(demo.url)
    try:
        import_file(registry, base, AuditActor("setup"))
        results = count(demo, MrdResultRow)
        command = [sys.executable, "-c", "import sys; from mrdtrack.cli import main; main()"]
        command += ["import", str(big), "--db", demo.url, "--user", "night-batch"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if count(demo, ImportJob) == 2:  # the base file's and this one's, running
                break
            time.sleep(0.005)
        assert process.poll() is None, "the import ended before the kill"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        registry.dispose()
    with signed_in(demo, clock, "data_manager") as (client, token):
        listed = client.get("/api/v1/imports").json()["jobs"]
        killed = next(job for job in listed if job["filename"] == big.name)
        assert (killed["status"], killed["interrupted"], killed["actor"]) == (
            "failed",
            True,
            "night-batch",
        )
        assert "interrupted" in client.get("/imports").text
        page = client.get(f"/imports/{killed['id']}").text
        assert "no row of the file is in the registry" in page
        assert count(demo, MrdResultRow) == results  # 0 partial rows
        again = job_of(upload(client, token, big.name, big.read_bytes()))
        assert again == killed["id"]
        done = finished(client, again)
        assert (done["status"], done["rows"], done["actor"]) == ("done", 6_000, "data_manager")
    assert count(demo, MrdResultRow) == results + 6_000


def test_imports_on_postgresql(postgres_server: str, clock: FrozenClock) -> None:
    url = make_url(postgres_server + "postgres")
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("DROP DATABASE IF EXISTS mrdtrack_web_imports_test")
        admin.execute("CREATE DATABASE mrdtrack_web_imports_test")
    demo = build_registry_at(postgres_server + "mrdtrack_web_imports_test", second_site=False)
    with signed_in(demo, clock, "admin") as (client, token):
        job = finished(client, job_of(upload(client, token, "patients.csv", GOOD)))
        assert (job["status"], job["rows"], job["actor"]) == ("done", 2, "admin")
        bad = b"study_id,site_code,sex\nPG-1,CGMH,none\n"
        failed = finished(client, job_of(upload(client, token, "patients.csv", bad)))
        assert failed["status"] == "failed"
        assert [(p["row"], p["column"]) for p in failed["error"]["problems"]] == [(2, "sex")]
