"""Registry import throughput: a lab's MRD results file into SQLite (and PostgreSQL).

Workload: ``n`` flow-cytometry MRD rows in one CSV file, for samples already in the
registry, imported by :func:`mrdtrack.registry.importer.import_file` — every cell checked
against the data dictionary, every MRD value computed by the engine from the raw
inputs, one transaction, one hash-chained audit row per result (performance target:
≥ 50,000 rows/s on SQLite, shared/spec/performance.md).

Peer: the physical floor — the very rows the import stored, inserted again by the
driver's own ``executemany`` into a copy of the table in one transaction (no parsing, no
checks, no engine, no audit). The ratio says what validation, computation and audit
cost per row.

PostgreSQL runs too when ``MRDTRACK_BENCH_PG_URL`` names a server
(``postgresql+psycopg://user@host:port/``): a scratch database is created and dropped.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.timing import row
from mrdtrack.registry.audit import AuditActor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.dictionary import TableRows
from mrdtrack.registry.exporter import write_csv
from mrdtrack.registry.importer import import_file
from mrdtrack.registry.schema import init_registry

SIZES = {"tiny": 2_000, "small": 20_000, "full": 1_000_000}
_SAMPLES_PER_PATIENT = 10
_ACTOR = AuditActor("benchmark")


def _files(directory: Path, n: int) -> tuple[Path, Path]:
    rng = random.Random(0)
    patients = max(10, n // 100)
    tables: dict[str, list[dict[str, Any]]] = {
        "patients": [],
        "diagnoses": [],
        "markers": [],
        "samples": [],
    }
    for i in range(patients):
        sid, diagnosed = f"BENCH-{i:06d}", date(2015, 1, 1) + timedelta(days=i % 2000)
        tables["patients"].append({"study_id": sid, "site_code": "BENCH", "sex": "male"})
        tables["diagnoses"].append(
            {"study_id": sid, "diagnosis_date": diagnosed, "genetic_subtype": "other"}
        )
        tables["markers"].append({"study_id": sid, "key": "laip", "kind": "laip"})
        for j in range(_SAMPLES_PER_PATIENT):
            tables["samples"].append(
                {
                    "study_id": sid,
                    "sample_date": diagnosed + timedelta(days=28 * (j + 1)),
                    "timepoint": "FOLLOW_UP",
                    "tissue": "BM",
                }
            )
    base = directory / "base.zip"
    write_csv([TableRows(name, tuple(rows[0]), tuple(rows)) for name, rows in tables.items()], base)
    results = directory / "mrd_results.csv"
    samples = tables["samples"]
    with results.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "study_id",
                "sample_date",
                "timepoint",
                "marker",
                "method",
                "leukemic_events",
                "total_events",
            ]
        )
        for i in range(n):
            sample = samples[i % len(samples)]
            writer.writerow(
                [
                    sample["study_id"],
                    sample["sample_date"].isoformat(),
                    "FOLLOW_UP",
                    "laip",
                    "flow",
                    rng.randint(0, 300),
                    rng.randint(100_000, 1_000_000),
                ]
            )
    return base, results


def _floor_s(registry: Registry) -> float:
    """Seconds to insert the stored rows again with the driver's executemany, one commit."""
    with registry.engine.connect() as connection:
        stored = [tuple(r) for r in connection.execute(text("SELECT * FROM mrd_result"))]
        connection.rollback()
    if registry.dialect == "postgresql":  # psycopg reads JSON columns as objects: wrap them
        stored = [tuple(Json(v) if isinstance(v, dict | list) else v for v in r) for r in stored]
    raw = registry.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("CREATE TABLE bench_floor AS SELECT * FROM mrd_result WHERE 1 = 0")
        raw.commit()
        marks = ", ".join(["?" if registry.dialect == "sqlite" else "%s"] * len(stored[0]))
        started = time.perf_counter()
        if registry.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(f"INSERT INTO bench_floor VALUES ({marks})", stored)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def _measure(url: str, directory: Path, n: int, label: str) -> dict[str, Any]:
    registry = open_registry(url)
    try:
        init_registry(registry)
        base, results = _files(directory, n)
        import_file(registry, base, _ACTOR)
        started = time.perf_counter()
        report = import_file(registry, results, _ACTOR)
        elapsed = time.perf_counter() - started
        if report.total_rows != n or report.already_imported:
            raise RuntimeError(f"the benchmark import wrote {report.total_rows} of {n} rows")
        result = row(
            f"import MRD rows, CSV → {label} (checked, engine, audited)",
            n,
            elapsed,
            f"{label} executemany floor",
            _floor_s(registry),
        )
        result["rows_per_s"] = n / elapsed
        return result
    finally:
        registry.dispose()


def _postgres(server: str, directory: Path, n: int) -> dict[str, Any]:
    name = f"mrdtrack_bench_{os.getpid()}"
    parsed = make_url(server.rstrip("/") + "/postgres")
    admin_args: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin_args) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        return _measure(url, directory, n, "PostgreSQL")
    finally:
        with psycopg.connect(**admin_args) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(size: str) -> list[dict[str, Any]]:
    """Run the import workloads at ``size`` (``tiny``, ``small`` or ``full``)."""
    n = SIZES[size]
    rows = []
    with tempfile.TemporaryDirectory(prefix="mrdtrack-bench-") as scratch:
        directory = Path(scratch)
        (directory / "sqlite").mkdir()
        url = f"sqlite:///{directory / 'sqlite' / 'registry.sqlite3'}"
        rows.append(_measure(url, directory / "sqlite", n, "SQLite"))
        server = os.environ.get("MRDTRACK_BENCH_PG_URL")
        if server:
            (directory / "pg").mkdir()
            rows.append(_postgres(server, directory / "pg", n))
    return rows
