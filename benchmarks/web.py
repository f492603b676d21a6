"""Web latency: p95 of the patient page and the cohort dashboard under 20 clients.

Target (shared/spec/performance.md): p95 ≤ 150 ms for the patient page and the cohort
dashboard of a 100,000-patient registry under 20 concurrent clients.

The app runs as ``mrdtrack serve`` runs it — one uvicorn process, a production
:class:`~mrdtrack.web.WebSettings` except ``secure_cookies=False`` (the clients talk plain
http to 127.0.0.1) — in a subprocess on a free port. Twenty threads, each with its own
``httpx.Client`` signed in as one clinician, request pages back to back; the latency of
each request is measured at the client, and the row reports the 95th percentile.

The registry is the synthetic one :mod:`benchmarks.cohort` builds and caches
(``synthetic_cohort(n, seed=0)`` + ``load_cohort``; the build's seconds are in the
workload's name); this module adds one clinician account to it, once, and keeps the
account's password beside the file. Sizes: ``small`` 1,000 patients, ``full`` 100,000.
In the ``peer`` column: the target, so ``peer/mrdtrack`` ≥ 1 means the target is met.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks.cohort import SEED, ensure_registry
from benchmarks.timing import row
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import Patient
from mrdtrack.web.accounts import create_user
from mrdtrack.web.security import PasswordHashing

SIZES = {"small": 1_000, "full": 100_000}
CLIENTS = 20
TARGET_S = 0.150
# Requests per client: the full-size dashboard takes seconds a request, so fewer there.
REQUESTS = {"small": (10, 5), "full": (10, 1)}
_SERVER = """
import logging, sys, uvicorn
from mrdtrack.web import WebSettings, create_app
errors = logging.getLogger("mrdtrack.web.error")
errors.addHandler(logging.StreamHandler(sys.stderr))
errors.setLevel(logging.INFO)
app = create_app(sys.argv[1], settings=WebSettings(secure_cookies=False))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1,
            access_log=False, log_level="warning")
"""
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def run(size: str) -> list[dict[str, Any]]:
    """p95 latency of the patient page and the cohort dashboard at ``SIZES[size]``."""
    n = SIZES[size]
    path, build_seconds = ensure_registry(n, SEED)
    url = f"sqlite:///{path}"
    password, study_ids = _prepare(path, url)
    patient_requests, dashboard_requests = REQUESTS[size]
    built = f"registry built in {build_seconds:.0f} s"
    peer = f"target p95 ≤ {TARGET_S * 1000:.0f} ms"
    with _server(url) as base:
        cookies = _sign_in(base, password)
        pages = [f"/patients/{study_ids[i % len(study_ids)]}" for i in range(10_000)]
        patient = _load(base, cookies, pages, patient_requests)
        dashboard = _load(base, cookies, ["/cohort"], dashboard_requests)
    return [
        row(
            f"patient page p95, {CLIENTS} clients ({patient}; {built})",
            n,
            patient.p95,
            peer,
            TARGET_S,
        ),
        row(
            f"cohort dashboard p95, {CLIENTS} clients ({dashboard}; {built})",
            n,
            dashboard.p95,
            peer,
            TARGET_S,
        ),
    ]


@dataclass(frozen=True, slots=True)
class _Latencies:
    """What one load measured: p95 and median seconds, requests and failed requests."""

    p95: float
    median: float
    requests: int
    failures: tuple[str, ...]

    def __str__(self) -> str:
        text = f"median {self.median * 1000:.0f} ms, {self.requests} requests"
        if self.failures:
            text += f", {len(self.failures)} FAILED e.g. {self.failures[0]}"
        return text


def _prepare(path: Path, url: str) -> tuple[str, list[str]]:
    """The benchmark clinician's password (the account made once) and some study ids."""
    secret = path.with_name(path.name + ".web-account")
    registry = open_registry(url)
    try:
        if not secret.exists():
            with registry.transaction() as session:
                set_actor(session, AuditActor(user="benchmark"))
                account = create_user(
                    session,
                    PasswordHashing(),
                    username=f"bench-{secrets.token_hex(4)}",
                    role="clinician",
                )
            secret.write_text(f"{account.username}\n{account.password}\n")
            secret.chmod(0o600)
        with registry.transaction() as session:
            study_ids = list(session.scalars(select(Patient.study_id).limit(500)))
    finally:
        registry.dispose()
    return secret.read_text(), study_ids


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(url: str) -> Iterator[str]:
    """The app in a uvicorn subprocess; yields its base URL once ``/health`` answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, url, str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start (exit code {process.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _sign_in(base: str, account: str) -> httpx.Cookies:
    username, password = account.split("\n")[:2]
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login")
        match = _TOKEN.search(form.text)
        if match is None:
            raise RuntimeError("the login page carries no CSRF token")
        response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": match.group(1)},
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-in refused: {response.status_code}")
        return httpx.Cookies(client.cookies)


def _load(base: str, cookies: httpx.Cookies, paths: list[str], per_client: int) -> _Latencies:
    """Latencies of ``per_client`` requests from each of :data:`CLIENTS` threads.

    A request answered with another status than 200 is counted and named, not raised:
    its latency stays in the percentiles.

    One request goes first, unmeasured (the server's first-use costs); the clients then
    start together.
    """
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start_together = threading.Barrier(CLIENTS)
    with httpx.Client(base_url=base, cookies=cookies, timeout=600) as first:
        _get(first, paths[0], failures, lock)

    def client(k: int) -> None:
        with httpx.Client(base_url=base, cookies=cookies, timeout=600) as http:
            mine = [paths[(k * per_client + i) % len(paths)] for i in range(per_client)]
            start_together.wait()
            for path in mine:
                started = time.perf_counter()
                _get(http, path, failures, lock)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)

    _run_threads(client)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return _Latencies(p95, statistics.median(ordered), len(ordered), tuple(failures))


def _get(http: httpx.Client, path: str, failures: list[str], lock: threading.Lock) -> None:
    response = http.get(path)
    if response.status_code != 200:
        with lock:
            failures.append(f"GET {path}: {response.status_code}")


def _run_threads(work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
