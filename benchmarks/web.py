"""Web latency: p95 of the patient page and the cohort dashboard under 20 clients.

Target (shared/spec/performance.md): p95 ≤ 150 ms for the patient page and the cohort
dashboard of a 100,000-patient registry under 20 concurrent clients.

The app runs as ``mrdtrack serve`` runs it — one uvicorn process, a production
:class:`~mrdtrack.web.WebSettings` except ``secure_cookies=False`` (the clients talk plain
http to 127.0.0.1) — in a subprocess on a free port. ``wrk`` (a C load generator, installed by
``scripts/bench``) keeps twenty connections, signed in as one clinician, asking back to
back: the patient page over 500 patients in turn, then the cohort dashboard; each load
runs 5 s unmeasured, then 20 s measured. Latency is measured at the client; the row
reports the 95th percentile.

The registry is the synthetic one :mod:`benchmarks.cohort` builds and caches
(``synthetic_cohort(n, seed=0)`` + ``load_cohort``; the build's seconds are in the
workload's name); this module upgrades it to the newest schema and adds one clinician
account to it, once, keeping the account's password beside the file. Sizes: ``small``
1,000 patients, ``full`` 100,000.
In the ``peer`` column: the target, so ``peer/mrdtrack`` ≥ 1 means the target is met.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
from mrdtrack.registry.schema import init_registry
from mrdtrack.web.accounts import create_user
from mrdtrack.web.security import PasswordHashing

SIZES = {"small": 1_000, "full": 100_000}
CLIENTS = 20
TARGET_S = 0.150
WARM_UP_S = 5
DURATION_S = 20
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
    built = f"registry built in {build_seconds:.0f} s"
    peer = f"target p95 ≤ {TARGET_S * 1000:.0f} ms"
    with _server(url) as base:
        cookie = _sign_in(base, password)
        patient = _load(base, cookie, [f"/patients/{study_id}" for study_id in study_ids])
        cold = _first_request(base, cookie, "/cohort")
        dashboard = _load(base, cookie, ["/cohort"])
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
        row(
            "cohort dashboard, one request on a cold cache (the first after a registry "
            f"change; no other load; {built})",
            n,
            cold,
            "no target (the cached dashboard is the one measured above)",
            float("nan"),
        ),
    ]


def _first_request(base: str, cookie: str, path: str) -> float:
    """Seconds of one request alone: the dashboard computed, then kept in the cache."""
    with httpx.Client(base_url=base, headers={"Cookie": cookie}, timeout=600) as client:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return elapsed


@dataclass(frozen=True, slots=True)
class _Latencies:
    """What one load measured: p95 and median seconds, requests and non-2xx answers."""

    p95: float
    median: float
    requests: int
    failures: int

    def __str__(self) -> str:
        text = f"median {self.median * 1000:.0f} ms, {self.requests} requests"
        if self.failures:
            text += f", {self.failures} FAILED (non-2xx or socket errors)"
        return text


def _prepare(path: Path, url: str) -> tuple[str, list[str]]:
    """The benchmark clinician's password (the account made once) and some study ids."""
    secret = path.with_name(path.name + ".web-account")
    registry = open_registry(url)
    try:
        init_registry(registry)  # a registry cached by an older version is upgraded
        if not secret.exists():
            with registry.transaction() as session:
                set_actor(session, AuditActor(user="benchmark"))
                account = create_user(
                    session,
                    PasswordHashing(),
                    username=f"bench-{secrets.token_hex(4)}",
                    role="clinician",
                    must_change_password=False,
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


def _sign_in(base: str, account: str) -> str:
    """Sign in; the session's ``Cookie`` header."""
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
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


_WRK_SCRIPT = """
paths = {%(paths)s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Cookie"] = %(cookie)s})
end
done = function(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%d %%d\\n", summary.requests, failed,
    latency:percentile(50), latency:percentile(95)))
end
"""


def _load(base: str, cookie: str, paths: list[str]) -> _Latencies:
    """Latencies of :data:`CLIENTS` connections requesting ``paths`` in turn for a while.

    The load generator is ``wrk`` (two threads, one connection per client, each asking
    again as soon as it is answered): a C client, so the clients' own work does not
    queue behind the server's on a two-core machine as Python client threads did. A
    warm-up run of :data:`WARM_UP_S` goes first, unmeasured (the server's first-use
    costs, the dashboard's cache); the measured run lasts :data:`DURATION_S`.
    """
    lua = _WRK_SCRIPT % {
        "paths": ", ".join(json.dumps(p) for p in paths),
        "cookie": json.dumps(cookie),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        _wrk(base, script.name, WARM_UP_S)
        return _wrk(base, script.name, DURATION_S)
    finally:
        os.unlink(script.name)


def _wrk(base: str, script: str, seconds: int) -> _Latencies:
    command = [
        "wrk",
        "--threads",
        "2",
        "--connections",
        str(CLIENTS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "60s",
        "--script",
        script,
        base,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not result:
        raise RuntimeError(f"wrk printed no result: {done.stdout} {done.stderr}")
    requests, failed, median_us, p95_us = (int(v) for v in result[-1].split()[1:])
    return _Latencies(p95_us / 1e6, median_us / 1e6, requests, failed)
