"""Import jobs (reliability goal 1): running → done | failed, and a dead owner's job shown
as failed — on SQLite and on PostgreSQL, with real SIGKILLs of an importing process."""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from mrdtrack.errors import NotFoundError
from mrdtrack.lab.batch import BatchItem, FileKind, ItemStatus
from mrdtrack.lab.registry_sink import SinkStatus, parse_manifest, write_item
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.dictionary import TableRows
from mrdtrack.registry.exporter import write_csv
from mrdtrack.registry.importer import (
    ImportFileError,
    PendingImport,
    import_file,
    preflight,
    start_import,
)
from mrdtrack.registry.jobs import (
    INTERRUPTED,
    ImportBusyError,
    JobClaim,
    JobError,
    JobStatus,
    claim_job,
    encode_error,
    finish_job,
    get_job,
    lease_held,
    list_jobs,
    while_locked,
)
from mrdtrack.registry.models import AuditEntry, ImportJob
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.tabular import ImportProblem, SourceKind
from tests.registry.registry_state import State, state

ACTOR = AuditActor("job-tester")
_ROWS = 6_000


def clinical(registry: Registry) -> State:
    """Every table's row count but the import jobs', and the audit chain's head."""
    now = state(registry)
    return State({k: v for k, v in now.counts.items() if k != "import_job"}, now.audit_head)


def _files(directory: Path, rows: int = _ROWS) -> tuple[Path, Path]:
    """A base cohort (200 patients, 2,000 samples) and ``rows`` flow MRD results for it."""
    patients: list[dict[str, Any]] = []
    diagnoses: list[dict[str, Any]] = []
    markers: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    for i in range(200):
        sid, diagnosed = f"J{i:04d}", date(2020, 1, 1) + timedelta(days=i)
        patients.append({"study_id": sid, "site_code": "JOBS", "sex": "female"})
        diagnoses.append({"study_id": sid, "diagnosis_date": diagnosed, "genetic_subtype": "other"})
        markers.append({"study_id": sid, "key": "laip", "kind": "laip"})
        for j in range(10):
            when = diagnosed + timedelta(days=30 * (j + 1))
            samples.append(
                {"study_id": sid, "sample_date": when, "timepoint": "FOLLOW_UP", "tissue": "BM"}
            )
    base = directory / "base.zip"
    tables = (
        ("patients", patients),
        ("diagnoses", diagnoses),
        ("markers", markers),
        ("samples", samples),
    )
    write_csv([TableRows(name, tuple(r[0]), tuple(r)) for name, r in tables], base)
    rng = random.Random(20261123)
    big = directory / "mrd_results.csv"
    with big.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = "study_id,sample_date,timepoint,marker,method,leukemic_events,total_events"
        writer.writerow(header.split(","))
        for i in range(rows):
            sample = samples[i % len(samples)]
            when, counts = (
                sample["sample_date"],
                (rng.randint(0, 400), rng.randint(10**5, 9 * 10**5)),
            )
            writer.writerow(
                [sample["study_id"], when.isoformat(), "FOLLOW_UP", "laip", "flow", *counts]
            )
    return base, big


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(
        "study_id,site_code,sex,birth_date\nB-1,S1,female,2010-02-30\nB-2,S1,<b>x</b>,\n",
        encoding="utf-8",
    )
    return path


def test_a_refused_file_leaves_a_failed_job_with_every_problem(
    registry: Registry, bad_csv: Path
) -> None:
    before = clinical(registry)
    with pytest.raises(ImportFileError) as refused:
        import_file(registry, bad_csv, ACTOR)
    assert clinical(registry) == before
    jobs, total = list_jobs(registry)
    assert total == 1
    job = get_job(registry, jobs[0].id)
    assert (job.status, job.interrupted, job.rows, job.actor) == (
        JobStatus.FAILED,
        False,
        None,
        "job-tester",
    )
    assert job.finished_at is not None and job.started_at is not None
    assert job.error is not None and job.error.total == refused.value.total == 2
    assert job.error.problems == refused.value.problems
    assert {(p.row, p.column) for p in job.error.problems} == {(2, "birth_date"), (3, "sex")}
    assert job.to_dict()["error"]["problems"][0]["file"] == "patients.csv"


def test_a_re_run_takes_the_failed_job_over_and_a_done_job_stays_done(
    registry: Registry, bad_csv: Path, tmp_path: Path
) -> None:
    with pytest.raises(ImportFileError):
        import_file(registry, bad_csv, ACTOR)
    failed_id = list_jobs(registry)[0][0].id
    # The same bytes again: the same job row is reused (the SHA-256 is unique).
    with pytest.raises(ImportFileError):
        import_file(registry, bad_csv, ACTOR)
    assert [job.id for job in list_jobs(registry)[0]] == [failed_id]
    good = tmp_path / "good" / "patients.csv"
    good.parent.mkdir()
    good.write_text("study_id,site_code,sex\nG-1,S1,female\nG-2,S1,male\n", encoding="utf-8")
    report = import_file(registry, good, ACTOR)
    assert not report.already_imported and report.total_rows == 2
    after = state(registry)
    again = import_file(registry, good, ACTOR)
    assert again.already_imported and again.job_id == report.job_id
    assert state(registry) == after
    done = get_job(registry, report.job_id)
    assert (done.status, done.rows, done.error) == (JobStatus.DONE, 2, None)
    assert done.tables == (("patients", 2),)


def test_preflight_refuses_a_wrong_type_before_any_job_is_recorded(
    registry: Registry, tmp_path: Path
) -> None:
    fake = tmp_path / "cohort.xlsx"
    fake.write_text("study_id\nP1\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"does not match \.xlsx"):
        start_import(registry, fake, ACTOR)
    pdf = tmp_path / "patients.csv"
    pdf.write_bytes(b"%PDF-1.7\n")
    with pytest.raises(ImportFileError, match="PDF"):
        preflight(pdf)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_bytes(b"\x00\x01binary")
    with pytest.raises(ImportFileError, match=r"REDCap export is a \.csv file"):
        preflight(tmp_path / "cohort.xlsx", mapping=mapping)
    export = tmp_path / "export.csv"
    export.write_text("record_id\n1\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="not text"):
        preflight(export, mapping=mapping)
    mapping.write_text("tables: {}\n", encoding="utf-8")
    assert preflight(export, mapping=mapping) is SourceKind.REDCAP
    assert list_jobs(registry) == ([], 0)


def test_a_live_job_makes_the_same_file_busy_and_a_dead_one_shows_as_interrupted(
    registry: Registry, bad_csv: Path
) -> None:
    started = start_import(registry, bad_csv, ACTOR)
    assert isinstance(started, PendingImport)
    job_id = started.job_id
    assert lease_held(registry, job_id)
    running = get_job(registry, job_id)
    assert (running.status, running.interrupted) == (JobStatus.RUNNING, False)
    with pytest.raises(ImportBusyError) as busy:
        start_import(registry, bad_csv, AuditActor("someone-else"))
    assert busy.value.job_id == job_id and "being imported now" in busy.value.message
    # The owner lets go without writing a status: exactly what its death looks like.
    started.claim.lease.release()
    assert not lease_held(registry, job_id)
    shown = get_job(registry, job_id)
    assert (shown.status, shown.interrupted) == (JobStatus.FAILED, True)
    assert shown.error == JobError(INTERRUPTED)
    assert list_jobs(registry)[0][0].interrupted
    with registry.transaction() as session:  # readers never rewrite the row
        assert session.get_one(ImportJob, job_id).status == "running"
    again = start_import(registry, bad_csv, ACTOR)
    assert isinstance(again, PendingImport) and again.job_id == job_id
    with pytest.raises(ImportFileError):
        again.run()
    assert get_job(registry, job_id).status == JobStatus.FAILED
    assert not lease_held(registry, job_id)


def test_an_owner_whose_job_was_taken_over_cannot_finish_it(registry: Registry) -> None:
    times = iter(datetime(2025, 1, 1, 9, tzinfo=UTC) + timedelta(minutes=n) for n in range(9))
    actor = AuditActor("job-tester", clock=lambda: next(times))
    first = claim_job(registry, sha256="a" * 64, filename="x.csv", kind="csv", actor=actor)
    assert isinstance(first, JobClaim)
    first.lease.release()  # lost (a dropped connection): another process takes over
    second = claim_job(registry, sha256="a" * 64, filename="x.csv", kind="csv", actor=actor)
    assert isinstance(second, JobClaim) and second.job_id == first.job_id
    with (
        pytest.raises(ImportFileError, match="took this import over"),
        registry.transaction() as session,
    ):
        finish_job(session, first, rows=1, at=actor.clock())
    with registry.transaction() as session:
        assert finish_job(session, second, rows=1, at=actor.clock()).status == "done"
    second.lease.release()
    assert get_job(registry, first.job_id).status == JobStatus.DONE


def test_error_reports_round_trip_and_hand_written_text_is_kept(registry: Registry) -> None:
    problem = ImportProblem("f.csv", "s", 3, "sex", "<i>", "expected one of: female, male")
    stored = encode_error(JobError("refused", 1, (problem,)))
    with registry.transaction() as session:
        session.add(
            ImportJob(
                source_sha256="b" * 64,
                filename="f.csv",
                kind="csv",
                actor="x",
                status="failed",
                error=stored,
            )
        )
        session.add(
            ImportJob(
                source_sha256="c" * 64,
                filename="g.csv",
                kind="csv",
                actor="x",
                status="failed",
                error="disk full",
            )
        )
    jobs = {job.filename: job for job in list_jobs(registry)[0]}
    assert jobs["f.csv"].error == JobError("refused", 1, (problem,))
    assert jobs["g.csv"].error == JobError("disk full")
    with pytest.raises(NotFoundError):
        get_job(registry, 999)


def test_the_lab_sink_takes_over_a_failed_job_of_the_same_bytes(
    registry: Registry, tmp_path: Path
) -> None:
    patients = tmp_path / "patients.csv"
    patients.write_text("study_id,site_code,sex\nL-1,S1,female\n", encoding="utf-8")
    import_file(registry, patients, ACTOR)
    run = tmp_path / "run.txt"  # a qPCR export first tried as a cohort table
    run.write_text("Well,Sample Name,Target Name,Ct\nA1,NTC,ABL1,Undetermined\n")
    with pytest.raises(ImportFileError):
        import_file(registry, run, ACTOR)
    failed = list_jobs(registry)[0][0]
    assert (failed.filename, failed.status) == ("run.txt", JobStatus.FAILED)
    manifest = parse_manifest(
        "file,study_id,sample_date,timepoint,tissue\nrun.txt,L-1,2022-01-01,EOI,BM\n",
        "manifest.csv",
        tmp_path,
    )
    item = BatchItem(str(run), FileKind.QPCR, ItemStatus.OK, summary={"samples": {}})
    outcome = write_item(registry, item, manifest.rows, ACTOR)
    assert outcome.status is SinkStatus.IMPORTED and outcome.import_job_id == failed.id
    done = get_job(registry, failed.id)
    assert (done.status, done.kind, done.rows, done.error) == (JobStatus.DONE, "lab-qpcr", 0, None)
    again = write_item(registry, item, manifest.rows, ACTOR)
    assert again.status is SinkStatus.ALREADY_IMPORTED


def test_while_locked_runs_a_transaction_again_only_for_a_busy_write_lock() -> None:
    locked = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    calls: list[int] = []

    def twice_locked() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise locked
        return "written"

    assert while_locked(twice_locked, wait_s=30, file="f.csv") == "written"
    assert len(calls) == 3

    def always_locked() -> str:
        raise locked

    with pytest.raises(ImportFileError, match="stayed busy"):
        while_locked(always_locked, wait_s=0.3, file="f.csv")

    def disk_full() -> str:
        raise OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))

    with pytest.raises(OperationalError):
        while_locked(disk_full, wait_s=30, file="f.csv")


def test_an_import_waits_for_a_write_lock_held_longer_than_the_busy_timeout(
    tmp_path: Path,
) -> None:
    registry = open_registry(f"sqlite:///{tmp_path / 'busy.sqlite3'}")
    init_registry(registry)
    path = tmp_path / "patients.csv"
    path.write_text("study_id,site_code,sex\nW-1,S1,female\n", encoding="utf-8")
    holder = sqlite3.connect(
        tmp_path / "busy.sqlite3", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")  # another writer, for longer than the 5 s busy timeout
    timer = threading.Timer(6.0, holder.rollback)
    timer.start()
    try:
        started = time.monotonic()
        report = import_file(registry, path, ACTOR)  # waits: the claim needs the lock too
        assert time.monotonic() - started >= 5.5
        assert not report.already_imported and report.total_rows == 1
        assert get_job(registry, report.job_id).status == JobStatus.DONE
    finally:
        timer.join()
        holder.close()
        registry.dispose()


# --- SIGKILL of an importing process (reliability goal 1) ---------------------------------


def _in_write_transaction(registry: Registry, wal_before: int) -> Callable[[], bool]:
    """Whether the importing process has its data transaction open (and rows in it)."""
    if registry.dialect == "postgresql":

        def holds_chain_lock() -> bool:
            with registry.engine.connect() as connection:
                found = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND objid::bigint = :key AND objsubid = 1"
                    ),
                    {"key": 0x6D72_6474},
                ).scalar_one()
                connection.rollback()
            return bool(found)

        return holds_chain_lock
    wal = Path(str(registry.engine.url.database) + "-wal")
    return lambda: wal.exists() and wal.stat().st_size > wal_before + (256 << 10)


def _job_row(registry: Registry, name: str) -> ImportJob | None:
    with registry.transaction() as session:
        return session.scalars(select(ImportJob).where(ImportJob.filename == name)).one_or_none()


def _interrupted_soon(registry: Registry, job_id: int) -> bool:
    # PostgreSQL ends the dead client's session (and its lease) when it sees the socket close.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if get_job(registry, job_id).interrupted:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("phase", ["check", "write"])
def test_sigkill_mid_import_shows_the_job_failed_and_a_re_run_imports_once(
    registry: Registry, tmp_path: Path, phase: str
) -> None:
    base, big = _files(tmp_path)
    import_file(registry, base, ACTOR)
    before = clinical(registry)
    wal = Path(str(registry.engine.url.database) + "-wal")
    in_write = _in_write_transaction(registry, wal.stat().st_size if wal.exists() else 0)
    command = [sys.executable, "-c", "import sys; from mrdtrack.cli import main; sys.exit(main())"]
    command += ["import", str(big), "--db", registry.url, "--user", "killed"]
    with (tmp_path / "import.log").open("w+", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        ready = _job_row if phase == "check" else (lambda r, _n: in_write())
        while process.poll() is None and time.monotonic() < deadline:
            if ready(registry, big.name):
                break
            time.sleep(0.005)
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"the import ended before the kill ({process.returncode}): {log.read()}")
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    row = _job_row(registry, big.name)
    assert row is not None and row.status == "running"  # the dead process wrote nothing more
    assert _interrupted_soon(registry, row.id)
    shown = get_job(registry, row.id)
    assert (shown.status, shown.actor, shown.rows) == (JobStatus.FAILED, "killed", None)
    assert clinical(registry) == before  # 0 partial rows
    report = import_file(registry, big, ACTOR)
    assert report.job_id == row.id and report.total_rows == _ROWS
    after = state(registry)
    assert after.counts["mrd_result"] == before.counts["mrd_result"] + _ROWS
    again = import_file(registry, big, ACTOR)
    assert again.already_imported and state(registry) == after  # 0 duplicate rows
    with registry.transaction() as session:
        imports = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
        assert [entry.entity_id for entry in imports][-1] == str(row.id)
    assert get_job(registry, row.id).status == JobStatus.DONE


def test_a_job_of_another_process_is_running_while_it_lives(
    registry_url: str, tmp_path: Path
) -> None:
    registry = open_registry(registry_url)
    try:
        init_registry(registry)
        base, big = _files(tmp_path, rows=2_000)
        import_file(registry, base, ACTOR)
        script = (
            "import sys, time\n"
            "from pathlib import Path\n"
            "from mrdtrack.registry.audit import AuditActor\n"
            "from mrdtrack.registry.database import open_registry\n"
            "from mrdtrack.registry.importer import start_import\n"
            "started = start_import(open_registry(sys.argv[1]), Path(sys.argv[2]), "
            "AuditActor('holder'))\n"
            "print(started.job_id, flush=True)\n"
            "time.sleep(60)\n"
        )
        holder = subprocess.Popen(
            [sys.executable, "-c", script, registry_url, str(big)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            job_id = int(holder.stdout.readline())
            # Another process (this one) sees it running, and may not import it meanwhile.
            assert get_job(registry, job_id).status == JobStatus.RUNNING
            with pytest.raises(ImportBusyError):
                import_file(registry, big, ACTOR)
        finally:
            holder.kill()
            holder.wait()
            if holder.stdout is not None:
                holder.stdout.close()
        assert _interrupted_soon(registry, job_id)
        assert import_file(registry, big, ACTOR).job_id == job_id
    finally:
        registry.dispose()
