"""Authentication, sessions, CSRF and headers through the application (goals 10, 13-18, 27)."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from fastapi import FastAPI
from sqlalchemy import func, select, update

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, User
from mrdtrack.web import WebSettings
from mrdtrack.web.accounts import create_user
from mrdtrack.web.auth import send_lockout_alert
from mrdtrack.web.security import PasswordHashing
from tests.web.support import (
    DemoRegistry,
    FrozenClock,
    TestClient,
    app_routes,
    login,
    make_client,
    page_token,
    signed_in,
    walk_routes,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
# Public, the pre-session step, and the development-only OpenAPI schema (not served in
# production; it is FastAPI's own route, outside the authorization dependency).
UNGATED = {"/health", "/login", "/login/mfa", "/api/v1/openapi.json"}

PUBLIC = {"/health", "/login"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _app(client: TestClient) -> FastAPI:
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the application answers, HEAD and OPTIONS aside."""
    return [
        (method, path)
        for path, methods in app_routes(app)
        for method in sorted(methods)
        if method not in {"HEAD", "OPTIONS"}
    ]


def _concrete(path: str) -> str:
    return path.replace("{study_id}", "SEED1-P03")


def _set_cookie(response: Any, name: str) -> str:
    """The Set-Cookie header of the cookie ``name``."""
    headers: list[str] = response.headers.get_list("set-cookie")
    return next(h for h in headers if h.startswith(name + "="))


def _cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def test_every_route_but_health_login_and_static_needs_a_session(client: TestClient) -> None:
    routes = _routes(_app(client))
    assert len(routes) >= 15
    checked = 0
    for method, path in routes:
        if path in PUBLIC:
            continue
        response = client.request(method, _concrete(path))
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login"), (method, path)
        else:
            assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked == len(routes) - 3  # GET /health, GET /login, POST /login
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    assert client.get("/static/mrdtrack.css").status_code == 200


def test_an_unknown_path_needs_a_session_too(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/no/such/page"


def test_openapi_only_outside_production_and_never_the_docs_ui(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "admin") as (client, _):
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 404
    with signed_in(demo_registry, clock, "admin", production=True) as (client, _):
        assert client.get("/api/v1/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404


def test_csrf_refusals_on_every_state_changing_route(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "admin") as (client, token):
        unsafe = [(m, p) for m, p in _routes(_app(client)) if m in UNSAFE and p != "/login"]
        assert len(unsafe) >= 7
        for method, path in unsafe:
            url = _concrete(path)
            attempts = [
                client.request(method, url, data={"x": "1"}),
                client.request(method, url, data={"csrf_token": "forged"}),
                client.request(method, url, headers={"X-CSRF-Token": "forged"}, json={}),
                client.request(
                    method,
                    url,
                    data={"csrf_token": token},
                    headers={"Sec-Fetch-Site": "cross-site"},
                ),
            ]
            assert [a.status_code for a in attempts] == [403] * 4, (method, path)
        # The same session still works with its token: the refusals changed nothing.
        assert client.get("/api/v1/session").status_code == 200


def test_csrf_refusals_on_the_login_form(client: TestClient, demo_registry: DemoRegistry) -> None:
    password = demo_registry.passwords["clinician"]
    token = page_token(client.get("/login").text)
    for data, headers in [
        ({"username": "clinician", "password": password}, {}),
        ({"username": "clinician", "password": password, "csrf_token": "forged"}, {}),
        (
            {"username": "clinician", "password": password, "csrf_token": token},
            {"Sec-Fetch-Site": "cross-site"},
        ),
    ]:
        assert client.post("/login", data=data, headers=headers).status_code == 403
    assert client.get("/api/v1/session").status_code == 401


def test_no_get_route_changes_the_registry(demo_registry: DemoRegistry, clock: FrozenClock) -> None:
    registry = open_registry(demo_registry.url)

    def audit_rows() -> int:
        with registry.transaction() as session:
            return session.scalar(select(func.count(AuditEntry.seq))) or 0

    try:
        with signed_in(demo_registry, clock, "admin") as (client, _):
            before = audit_rows()
            for method, path in _routes(_app(client)):
                if method == "GET":
                    assert client.get(_concrete(path)).status_code < 500, path
            assert audit_rows() == before
    finally:
        registry.dispose()


def _assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["content-security-policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert re.search(r"script-src 'self'(;|$)", csp)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["strict-transport-security"].startswith("max-age=31536000")


def test_security_headers_on_200_404_500_redirects_and_static(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "clinician") as (client, _):

        def boom() -> None:
            raise RuntimeError("registry value SEED1-P03 leaked into a message")

        _app(client).add_api_route("/boom", boom)
        responses = {
            "200 page": client.get("/patients"),
            "200 health": client.get("/health"),
            "200 static": client.get("/static/mrdtrack.css"),
            "404 route": client.get("/no/such/page"),
            "404 patient": client.get("/patients/NOPE-1"),
            "404 api": client.get("/api/v1/patients/NOPE-1"),
            "500": client.get("/boom"),
        }
        assert {k: r.status_code for k, r in responses.items()} == {
            "200 page": 200,
            "200 health": 200,
            "200 static": 200,
            "404 route": 404,
            "404 patient": 404,
            "404 api": 404,
            "500": 500,
        }
        for response in responses.values():
            _assert_security_headers(response)
        server_error = responses["500"].text
        assert "Traceback" not in server_error and "SEED1-P03" not in server_error
    with make_client(demo_registry.url, clock) as anonymous:
        _assert_security_headers(anonymous.get("/patients"))  # the login redirect
        _assert_security_headers(anonymous.get("/api/v1/cohort"))  # 401


def test_session_cookie_attributes_and_rotation_at_login(
    client: TestClient, demo_registry: DemoRegistry
) -> None:
    planted = "attacker-chosen-session-id"
    client.cookies.set("__Host-mrdtrack", planted)
    form = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "clinician",
            "password": demo_registry.passwords["clinician"],
            "csrf_token": page_token(form.text),
        },
    )
    assert response.status_code == 303
    header = _set_cookie(response, "__Host-mrdtrack")
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=lax"} <= attributes
    assert not any(a.startswith("domain") for a in attributes)
    first = _cookie_value(header)
    assert first != planted and len(first) >= 22
    # Signing in again issues a new token and ends the old session.
    client.cookies.set("__Host-mrdtrack-login", "login-form-token")
    again = client.post(
        "/login",
        data={
            "username": "clinician",
            "password": demo_registry.passwords["clinician"],
            "csrf_token": "login-form-token",
        },
    )
    assert again.status_code == 303
    second = _cookie_value(_set_cookie(again, "__Host-mrdtrack"))
    assert second != first
    replay = make_client_with_cookie(client, first)
    assert replay.get("/api/v1/session").status_code == 401


def make_client_with_cookie(client: TestClient, value: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("__Host-mrdtrack", value)
    return client


def test_insecure_cookie_setting_for_plain_http_tests(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with make_client(demo_registry.url, clock, secure_cookies=False) as client:
        login(client, "monitor", demo_registry.passwords["monitor"])
        assert client.cookies.get("mrdtrack")
        assert client.get("/patients").status_code == 200


def test_logout_invalidates_the_cookie(demo_registry: DemoRegistry, clock: FrozenClock) -> None:
    with signed_in(demo_registry, clock, "lab") as (client, token):
        cookie = client.cookies.get("__Host-mrdtrack")
        assert cookie
        response = client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303 and response.headers["location"] == "/login"
        make_client_with_cookie(client, cookie)
        assert client.get("/api/v1/session").status_code == 401
        assert client.get("/patients").status_code == 303


def test_idle_and_absolute_timeouts_with_a_frozen_clock(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "monitor") as (client, _):
        clock.advance(minutes=29)
        assert client.get("/patients").status_code == 200
        clock.advance(minutes=30)
        assert client.get("/patients").status_code == 303  # 30 minutes idle
    with signed_in(demo_registry, clock, "monitor") as (client, _):
        for _ in range(35):  # active every 20 minutes for 11 h 40 min
            clock.advance(minutes=20)
            assert client.get("/api/v1/session").status_code == 200
        clock.advance(minutes=20)
        assert client.get("/api/v1/session").status_code == 401  # 12 h after login


def _attempt(client: TestClient, username: str, password: str) -> int:
    token = page_token(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token}
    status: int = client.post("/login", data=data).status_code
    return status


def test_lockout_after_five_failures_even_with_the_right_password(
    fresh_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")
    right = fresh_registry.passwords["clinician"]
    with make_client(fresh_registry.url, clock) as client:
        assert [_attempt(client, "clinician", "wrong password") for _ in range(5)] == [401] * 5
        assert _attempt(client, "clinician", right) == 401  # locked
        assert client.get("/api/v1/session").status_code == 401
        clock.advance(minutes=15)
        assert _attempt(client, "clinician", right) == 303
    events = [r.getMessage() for r in caplog.records if r.name == "mrdtrack.web.security"]
    assert sum('"event": "lockout"' in e for e in events) == 1
    assert sum('"outcome": "locked"' in e and '"event": "login"' in e for e in events) == 1
    assert right not in caplog.text and "wrong password" not in caplog.text


def test_ten_attempts_a_minute_from_one_address(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with make_client(fresh_registry.url, clock) as client:
        codes = [_attempt(client, f"nobody{i}", "x" * 12) for i in range(11)]
        assert codes == [401] * 10 + [429]


def test_a_disabled_account_is_signed_out_at_once(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    registry = open_registry(fresh_registry.url)
    try:
        with signed_in(fresh_registry, clock, "clinician") as (client, _):
            assert client.get("/patients").status_code == 200
            with registry.transaction() as session:
                set_actor(session, AuditActor("admin", "left the study team"))
                session.execute(
                    update(User).where(User.username == "clinician").values(active=False)
                )
            assert client.get("/patients").status_code == 303
            assert client.get("/api/v1/session").status_code == 401
            assert _attempt(client, "clinician", fresh_registry.passwords["clinician"]) == 401
    finally:
        registry.dispose()


def test_weak_hash_is_upgraded_at_login_and_audited(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    password = fresh_registry.passwords["lab"]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)
    registry = open_registry(fresh_registry.url)
    try:
        with registry.transaction() as session:
            set_actor(session, AuditActor("admin", "test: legacy hash"))
            session.execute(update(User).where(User.username == "lab").values(password_hash=weak))
        with make_client(fresh_registry.url, clock) as client:
            login(client, "lab", password)
        with registry.transaction() as session:
            stored = session.scalars(select(User.password_hash).where(User.username == "lab")).one()
            reasons = session.scalars(
                select(AuditEntry.reason).where(
                    AuditEntry.entity == "app_user", AuditEntry.actor == "lab"
                )
            ).all()
        assert stored is not None and stored != weak
        parameters = extract_parameters(stored)
        assert (parameters.time_cost, parameters.memory_cost) == (2, 19456)
        assert reasons and all("argon2id" in (r or "") for r in reasons)
    finally:
        registry.dispose()


def test_password_change_ends_other_sessions(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    old = fresh_registry.passwords["data_manager"]
    new = "a long enough new passphrase"
    with signed_in(fresh_registry, clock, "data_manager") as (client, token):
        other = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        login(other, "data_manager", old)
        wrong = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": "not it",
                "new_password": new,
                "confirm_password": new,
            },
        )
        assert wrong.status_code == 422 and "current password" in wrong.text
        short = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": old,
                "new_password": "short",
                "confirm_password": "short",
            },
        )
        assert short.status_code == 422 and "at least 12 characters" in short.text
        done = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": old,
                "new_password": new,
                "confirm_password": new,
            },
        )
        assert done.status_code == 303
        assert client.get("/account?changed=1").status_code == 200
        assert other.get("/api/v1/session").status_code == 401
        assert _attempt(other, "data_manager", old) == 401
        assert _attempt(other, "data_manager", new) == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("/patients/SEED1-P03", "/patients/SEED1-P03", id="same-site-path"),
        pytest.param("//evil.example/x", "/patients", id="protocol-relative"),
        pytest.param("https://evil.example/", "/patients", id="absolute-url"),
        pytest.param("/\\evil.example", "/patients", id="backslash"),
    ],
)
def test_login_returns_only_to_same_site_paths(
    client: TestClient, demo_registry: DemoRegistry, target: str, expected: str
) -> None:
    token = page_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "clinician",
            "password": demo_registry.passwords["clinician"],
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.headers["location"] == expected


def test_no_patient_data_or_secrets_in_the_logs(
    demo_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canaries = ["SEED1-P05", "CANARY-QUERY-7731", "CANARY-ID-4242", "TCF3::PBX1"]
    with signed_in(demo_registry, clock, "clinician") as (client, token):
        client.get("/patients/SEED1-P05")
        client.get("/patients", params={"q": "CANARY-QUERY-7731"})
        client.get("/patients/CANARY-ID-4242")
        client.get("/api/v1/patients/CANARY-ID-4242")
        client.post(
            "/patients/SEED1-P05/mrd/new",
            data={"csrf_token": token, "method": "rq-pcr", "sample_date": "2022-05-01"},
        )
        session_cookie = client.cookies.get("__Host-mrdtrack")
    records = [r.getMessage() for r in caplog.records if r.name.startswith("mrdtrack")]
    assert any('"route": "/patients/{study_id}"' in r for r in records)
    text = "\n".join(records)
    for canary in [*canaries, demo_registry.passwords["clinician"], token, str(session_cookie)]:
        assert canary not in text


def _new_account(registry: DemoRegistry, username: str, role: str) -> str:
    """An account made as `mrdtrack user add` makes it; its one-time password."""
    opened = open_registry(registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("cli:test"))
            account = create_user(session, PasswordHashing(), username=username, role=role)
    finally:
        opened.dispose()
    return account.password


def test_a_one_time_password_must_be_replaced_before_anything_else(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    one_time = _new_account(fresh_registry, "newcomer", "clinician")
    with make_client(fresh_registry.url, clock) as client:
        token = page_token(client.get("/login").text)
        signed = client.post(
            "/login",
            data={
                "username": "newcomer",
                "password": one_time,
                "csrf_token": token,
                "next": "/cohort",
            },
        )
        assert (signed.status_code, signed.headers["location"]) == (303, "/account")
        page = client.get("/account")
        assert page.status_code == 200 and "Choose your own password to continue" in page.text
        assert 'href="/patients"' not in page.text  # no navigation that would only bounce
        token = page_token(page.text)
        walked = walk_routes(
            client,
            token,
            skip=UNGATED | {"/account", "/account/password", "/logout"},
        )
        assert len(walked) >= 30
        for method, path, response in walked:
            if path.startswith("/api/"):
                assert response.status_code == 403, (method, path, response.status_code)
                assert response.json()["reason"] == "password_change_required", (method, path)
                assert "one-time password" in response.json()["detail"]
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"] == "/account", (method, path)
        assert client.get("/login/mfa").headers["location"] == "/"
        assert client.get("/").headers["location"] == "/account"
        new = "seven quiet herons at the weir"
        form = {"csrf_token": token, "current_password": one_time, "confirm_password": new}
        refused = client.post("/account/password", data={**form, "new_password": "1qaz2wsx3edc"})
        assert refused.status_code == 422 and "Choose your own password" in refused.text
        changed = client.post("/account/password", data={**form, "new_password": new})
        assert (changed.status_code, changed.headers["location"]) == (303, "/account?changed=1")
        assert client.get("/patients").status_code == 200
        assert client.get("/api/v1/session").status_code == 200
    opened = open_registry(fresh_registry.url)
    try:
        with opened.reading() as session:
            user = session.scalars(select(User).where(User.username == "newcomer")).one()
            assert user.must_change_password is False
            assert user.password_changed_at is not None
            assert user.password_changed_at.replace(tzinfo=clock.now.tzinfo) == clock.now
    finally:
        opened.dispose()


def test_create_user_asks_for_a_change_unless_told_otherwise(fresh_registry: DemoRegistry) -> None:
    opened = open_registry(fresh_registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("cli:test"))
            hashing = PasswordHashing()
            create_user(session, hashing, username="u-default", role="lab")
            create_user(
                session, hashing, username="u-ready", role="lab", must_change_password=False
            )
        with opened.reading() as session:
            flags = dict(
                session.execute(
                    select(User.username, User.must_change_password).where(
                        User.username.in_(["u-default", "u-ready"])
                    )
                ).all()
            )
    finally:
        opened.dispose()
    assert flags == {"u-default": True, "u-ready": False}


def _wait_for(predicate: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the alert command did not finish in time"
        time.sleep(0.05)


def test_a_lockout_runs_the_alert_command_with_the_event_on_stdin(
    fresh_registry: DemoRegistry, clock: FrozenClock, tmp_path: Path
) -> None:
    written = tmp_path / "alert.json"
    command = ("sh", "-c", f"cat > '{written}.part' && mv '{written}.part' '{written}'")
    with make_client(fresh_registry.url, clock, alert_command=command) as client:
        assert [_attempt(client, "clinician", "wrong password") for _ in range(5)] == [401] * 5
        _wait_for(written.exists)
        assert _attempt(client, "clinician", fresh_registry.passwords["clinician"]) == 401
    assert json.loads(written.read_text(encoding="utf-8")) == {
        "event": "lockout",
        "username": "clinician",
        "time_utc": "2025-03-03T09:00:00+00:00",
        "client_address": "testclient",
    }


def test_a_failing_alert_command_is_logged_and_never_breaks_the_login(
    fresh_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")

    def alerts() -> list[dict[str, Any]]:
        messages = [r.getMessage() for r in caplog.records if r.name == "mrdtrack.web.security"]
        return [e for e in map(json.loads, messages) if e["event"] == "alert"]

    with make_client(fresh_registry.url, clock, alert_command=("sh", "-c", "exit 3")) as client:
        assert [_attempt(client, "lab", "wrong password") for _ in range(6)] == [401] * 6
        _wait_for(lambda: len(alerts()) == 1)
    (logged,) = alerts()
    assert (logged["outcome"], logged["exit_status"], logged["user"]) == ("failed", 3, "lab")
    event = {"event": "lockout", "username": "x"}
    missing = send_lockout_alert(("/nonexistent/alert-program",), event, clock)
    working = send_lockout_alert(("cat",), event, clock)
    assert missing is not None and working is not None
    missing.join(10)
    working.join(10)
    outcomes = {a["program"]: a["outcome"] for a in alerts()}
    assert outcomes["alert-program"] == "failed: FileNotFoundError"
    assert outcomes["cat"] == "sent"
    assert send_lockout_alert((), event, clock) is None


def test_alert_commands_running_at_once_are_bounded(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")
    event = {"event": "lockout", "username": "sprayed"}
    running = [send_lockout_alert(("sleep", "1"), event, clock) for _ in range(8)]
    assert send_lockout_alert(("sleep", "1"), event, clock) is None
    for thread in running:
        assert thread is not None
        thread.join(10)
    again = send_lockout_alert(("true",), event, clock)  # room again
    assert again is not None
    again.join(10)
    assert "dropped: 8 alert commands still running" in caplog.text


def test_every_web_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for setting in fields(WebSettings):
        assert f"`{setting.name}`" in text, setting.name
    for defaults in ("`admin_mfa_required` | `True`", "`alert_command` | `()`"):
        assert defaults in text
