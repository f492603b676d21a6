"""Shared fixtures: a real PostgreSQL server for the registry tests.

The server is Debian's PostgreSQL (installed by ``scripts/install --dev``), started once
per test session in a temporary directory on a free port and stopped at the end. Set
``MRDTRACK_TEST_PG_URL`` (``postgresql+psycopg://user@host:port/``) to use a server of
your own instead. There is no skip: a missing server is a failed test run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _postgres_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        pytest.fail(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: run "
            "`scripts/install --dev`, which installs Debian's postgresql package",
            pytrace=False,
        )
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _check_it_is_ours(port: int, data: Path) -> None:
    """Fail if another server answered on the port (two sessions raced for it)."""
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as db:
        row = db.execute("SHOW data_directory").fetchone()
    if row is None or Path(row[0]).resolve() != data.resolve():
        pytest.fail(f"port {port} is served by another PostgreSQL ({row}): rerun the tests")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Base URL (no database name) of a running PostgreSQL server."""
    configured = os.environ.get("MRDTRACK_TEST_PG_URL")
    if configured:
        yield configured.rstrip("/") + "/"
        return
    bin_dir = _postgres_bin()
    base = Path(tempfile.mkdtemp(prefix="mrdtrack-pg-"))
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    port = _free_port()
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "server.log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    _check_it_is_ours(port, data)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/"
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)
