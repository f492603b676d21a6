"""The TOTP second factor: RFC 6238 vectors, replay, the login step and enrolment (goal 16)."""

from __future__ import annotations

import base64
import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, User
from mrdtrack.web.accounts import create_user
from mrdtrack.web.mfa import (
    EnrolmentOffers,
    PendingLogins,
    TotpVerifier,
    matching_step,
    new_secret,
    provisioning_uri,
    qr_svg,
    totp_code,
)
from mrdtrack.web.policy import Role
from mrdtrack.web.security import PasswordHashing, Principal
from tests.web.support import (
    DemoRegistry,
    FrozenClock,
    TestClient,
    current_code,
    login,
    make_client,
    page_token,
    second_factor,
    walk_routes,
)

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    pytest.param(59, "94287082", id="rfc6238-T59"),
    pytest.param(1111111109, "07081804", id="rfc6238-T1111111109"),
    pytest.param(1111111111, "14050471", id="rfc6238-T1111111111"),
    pytest.param(1234567890, "89005924", id="rfc6238-T1234567890"),
    pytest.param(2000000000, "69279037", id="rfc6238-T2000000000"),
    pytest.param(20000000000, "65353130", id="rfc6238-T20000000000"),
]
# Public, the pre-session step, and the development-only OpenAPI schema (not served in
# production; it is FastAPI's own route, outside the authorization dependency).
UNGATED = {"/health", "/login", "/login/mfa", "/api/v1/openapi.json"}
ALICE = Principal(7, "alice", "Alice", Role.ADMIN, None)


def _at(unix_s: int) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


@pytest.mark.parametrize(("unix_s", "code"), RFC_VECTORS)
def test_rfc6238_sha1_vectors(unix_s: int, code: str) -> None:
    step = unix_s // 30
    assert totp_code(RFC_SECRET, step, digits=8) == code
    assert matching_step(RFC_SECRET, code, _at(unix_s), digits=8) == step


@pytest.mark.parametrize(
    ("seconds_later", "accepted"),
    [
        pytest.param(-60, False, id="two-steps-early"),
        pytest.param(-59, True, id="one-step-early"),
        pytest.param(0, True, id="same-step"),
        pytest.param(30, True, id="one-step-late"),
        pytest.param(31, False, id="two-steps-late"),
    ],
)
def test_one_step_of_drift_either_way(seconds_later: int, accepted: bool) -> None:
    # The code of T = 1111111109: step 37037036, the seconds 1111111080-1111111109.
    found = matching_step(RFC_SECRET, "07081804", _at(1111111109 + seconds_later), digits=8)
    assert (found == 37037036) is accepted
    assert found is None or found == 37037036


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("", id="empty"),
        pytest.param("9428708", id="too-short"),
        pytest.param("942870821", id="too-long"),
        pytest.param("9428708x", id="not-digits"),
        pytest.param("٩٤٢٨٧٠٨٢", id="non-ascii-digits"),
    ],
)
def test_malformed_codes_never_match(typed: str) -> None:
    assert matching_step(RFC_SECRET, typed, _at(59), digits=8) is None


def test_spaces_and_hyphens_apps_show_are_ignored() -> None:
    assert matching_step(RFC_SECRET, "9428 7082", _at(59), digits=8) == 1
    assert matching_step(RFC_SECRET, "9428-7082", _at(59), digits=8) == 1


def test_a_code_is_accepted_once_and_older_steps_never_after_a_newer_one() -> None:
    clock = FrozenClock()
    verifier = TotpVerifier(clock)
    secret = new_secret()
    step = int(clock().timestamp()) // 30
    now_code = totp_code(secret, step)
    assert verifier.verify(1, secret, now_code)
    assert not verifier.verify(1, secret, now_code)  # replay within the same step
    assert not verifier.verify(1, secret, totp_code(secret, step - 1))  # an older step
    assert verifier.verify(2, secret, now_code)  # another account has its own memory
    clock.advance(seconds=30)
    assert verifier.verify(1, secret, totp_code(secret, step + 1))
    assert not verifier.verify(1, secret, "12345x")


def test_secrets_are_160_bit_base32_and_the_qr_code_is_inert_inline_svg() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(re.fullmatch(r"[A-Z2-7]{32}", s) for s in secrets)  # 32 × 5 bits
    secret = secrets.pop()
    uri = provisioning_uri(secret, "alice")
    assert uri.startswith("otpauth://totp/mrdtrack:alice?")
    assert f"secret={secret}" in uri and "issuer=mrdtrack" in uri
    svg = qr_svg(uri)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for forbidden in ("<script", "href", "<image", "style=", "onload", "<?xml"):
        assert forbidden not in svg


def test_a_pending_login_lives_five_minutes() -> None:
    clock = FrozenClock()
    pending = PendingLogins(clock)
    token = pending.create(ALICE, "/cohort")
    found = pending.get(token)
    assert found is not None and found.next_path == "/cohort" and found.principal == ALICE
    clock.advance(minutes=4, seconds=59)
    assert pending.get(token) is not None
    clock.advance(seconds=1)
    assert pending.get(token) is None
    again = pending.create(ALICE, None)
    pending.revoke_user(ALICE.user_id)
    assert pending.get(again) is None
    assert pending.get("not-a-token") is None and pending.get(None) is None


def test_an_enrolment_offer_stays_the_same_until_it_lapses_or_is_confirmed() -> None:
    clock = FrozenClock()
    offers = EnrolmentOffers(clock)
    first = offers.offer(1)
    clock.advance(minutes=14)
    assert offers.offer(1) == first == offers.current(1)
    assert offers.offer(2) != first
    clock.advance(minutes=1)
    assert offers.current(1) is None
    second = offers.offer(1)
    assert second != first
    offers.withdraw(1)
    assert offers.current(1) is None


# ---- the web flows ------------------------------------------------------------------


def _password_step(client: TestClient, username: str, password: str, next_path: str = "") -> Any:
    token = page_token(client.get("/login").text)
    data = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/login", data=data)


def _wrong_code(client: TestClient, secret: str) -> str:
    """A well-formed code that no step within the tolerance of now produces."""
    now = int(client.app.state.web.settings.clock().timestamp()) // 30  # type: ignore[attr-defined]
    near = {totp_code(secret, step) for step in (now - 1, now, now + 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def _set_secret(registry: DemoRegistry, username: str, secret: str | None) -> None:
    opened = open_registry(registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("test-setup", "test: second factor"))
            session.execute(
                update(User).where(User.username == username).values(totp_secret=secret)
            )
    finally:
        opened.dispose()


def _stored_secret(registry: DemoRegistry, username: str) -> str | None:
    opened = open_registry(registry.url)
    try:
        with opened.reading() as session:
            return session.scalars(select(User.totp_secret).where(User.username == username)).one()
    finally:
        opened.dispose()


def test_an_administrator_signs_in_with_password_then_code(
    fresh_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")
    secret = fresh_registry.totp_secrets["admin"]
    with make_client(fresh_registry.url, clock) as client:
        first = _password_step(client, "admin", fresh_registry.passwords["admin"], "/cohort")
        assert (first.status_code, first.headers["location"]) == (303, "/login/mfa")
        # The pending login is no session: nothing but the code step opens.
        assert client.get("/api/v1/session").status_code == 401
        assert client.get("/patients").headers["location"].startswith("/login")
        step = client.get("/login/mfa")
        assert step.status_code == 200 and 'autocomplete="one-time-code"' in step.text
        assert (
            client.post("/login/mfa", data={"code": current_code(client, secret)}).status_code
            == 403
        )
        wrong = second_factor(client, _wrong_code(client, secret))
        assert wrong.status_code == 401 and "wrong or was already used" in wrong.text
        right = second_factor(client, current_code(client, secret))
        assert (right.status_code, right.headers["location"]) == (303, "/cohort")
        assert client.get("/api/v1/session").json()["role"] == "admin"
        assert client.get("/login/mfa").headers["location"] == "/"  # nothing pending now
        used = current_code(client, secret)
        client.post("/logout", data={"csrf_token": page_token(client.get("/account").text)})
        # The same code again, in the same 30 s: refused as a replay.
        _password_step(client, "admin", fresh_registry.passwords["admin"])
        assert second_factor(client, used).status_code == 401
        clock.advance(seconds=30)
        assert second_factor(client, current_code(client, secret)).status_code == 303
    assert secret not in caplog.text and used not in caplog.text


def test_the_code_step_expires_after_five_minutes(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    secret = demo_registry.totp_secrets["admin"]
    with make_client(demo_registry.url, clock) as client:
        _password_step(client, "admin", demo_registry.passwords["admin"])
        token = page_token(client.get("/login/mfa").text)
        clock.advance(minutes=5)
        late = client.post(
            "/login/mfa", data={"code": current_code(client, secret), "csrf_token": token}
        )
        assert (late.status_code, late.headers["location"]) == (303, "/login")
        assert client.get("/login/mfa").headers["location"].startswith("/login?")
        assert client.get("/api/v1/session").status_code == 401


def test_wrong_codes_count_toward_the_lockout(
    fresh_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")
    secret = fresh_registry.totp_secrets["admin"]
    password = fresh_registry.passwords["admin"]
    with make_client(fresh_registry.url, clock) as client:
        for _ in range(2):  # two wrong passwords …
            assert _password_step(client, "admin", "not the password").status_code == 401
        _password_step(client, "admin", password)
        assert [second_factor(client, "12345x").status_code for _ in range(2)] == [401, 401]
        locked = second_factor(client, "12345x")  # … and three wrong codes: 5 failures
        assert locked.status_code == 401 and "Sign-in failed" in locked.text
        assert client.get("/login/mfa").status_code == 303  # the pending login ended
        assert _password_step(client, "admin", password).status_code == 401  # locked
        clock.advance(minutes=15)
        assert _password_step(client, "admin", password).headers["location"] == "/login/mfa"
        assert second_factor(client, current_code(client, secret)).status_code == 303
    events = [r.getMessage() for r in caplog.records if r.name == "mrdtrack.web.security"]
    assert sum('"event": "lockout"' in e for e in events) == 1


def _walk_expecting(
    client: TestClient, token: str, allowed: set[str], page: str, reason: str
) -> None:
    walked = walk_routes(client, token, skip=allowed | UNGATED)
    assert len(walked) >= 30
    for method, path, response in walked:
        if path.startswith("/api/"):
            assert response.status_code == 403, (method, path, response.status_code)
            assert response.json()["reason"] == reason, (method, path)
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"] == page, (method, path)


def test_an_administrator_without_a_second_factor_can_reach_only_its_set_up(
    fresh_registry: DemoRegistry, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mrdtrack.web")
    _set_secret(fresh_registry, "admin", None)
    with make_client(fresh_registry.url, clock) as client:
        signed = _password_step(client, "admin", fresh_registry.passwords["admin"], "/cohort")
        assert signed.headers["location"] == "/account/mfa"
        page = client.get("/account/mfa")
        assert page.status_code == 200
        assert "Set up two-step sign-in to continue" in page.text
        token = page_token(page.text)
        _walk_expecting(
            client, token, {"/account/mfa", "/logout"}, "/account/mfa", "mfa_enrolment_required"
        )
        assert client.get("/login/mfa").headers["location"] == "/"
        assert client.get("/").headers["location"] == "/account/mfa"
        # The page shows the secret as text and as an inline SVG QR code; none stored yet.
        shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)
        assert shown is not None and "<svg" in page.text and "<img" not in page.text
        secret = shown.group(1).replace(" ", "")
        assert client.get("/account/mfa").text.count(shown.group(1)) == 1  # same on reload
        wrong = client.post("/account/mfa", data={"csrf_token": token, "code": "12345x"})
        assert wrong.status_code == 422 and 'id="code-error"' in wrong.text
        assert _stored_secret(fresh_registry, "admin") is None
        done = client.post(
            "/account/mfa", data={"csrf_token": token, "code": current_code(client, secret)}
        )
        assert (done.status_code, done.headers["location"]) == (303, "/account?mfa=1")
        assert _stored_secret(fresh_registry, "admin") == secret
        assert "Two-step sign-in is on" in client.get("/account?mfa=1").text
        assert client.get("/patients").status_code == 200
        assert client.get("/api/v1/session").status_code == 200
        # From now on the sign-in asks for a code.
        clock.advance(seconds=30)
        client.cookies.clear()
        assert login(client, "admin", fresh_registry.passwords["admin"])
    assert secret not in "\n".join(r.getMessage() for r in caplog.records)


def test_the_old_session_ends_when_the_second_factor_is_set_up(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with make_client(fresh_registry.url, clock) as client:
        other = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
        login(other, "clinician", fresh_registry.passwords["clinician"])
        token = login(client, "clinician", fresh_registry.passwords["clinician"])
        old_cookie = client.cookies.get("__Host-mrdtrack")
        page = client.get("/account/mfa")
        assert page.status_code == 200 and "Set up two-step sign-in to continue" not in page.text
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)
        assert secret is not None
        code = current_code(client, secret.group(1).replace(" ", ""))
        done = client.post("/account/mfa", data={"csrf_token": token, "code": code})
        assert done.status_code == 303
        assert client.cookies.get("__Host-mrdtrack") != old_cookie
        assert client.get("/api/v1/session").status_code == 200
        assert other.get("/api/v1/session").status_code == 401


def test_any_role_may_turn_on_the_second_factor_and_then_needs_it(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with make_client(fresh_registry.url, clock) as client:
        token = login(client, "monitor", fresh_registry.passwords["monitor"])
        account = client.get("/account").text
        assert 'href="/account/mfa"' in account and "Two-step sign-in" in account
        page = client.get("/account/mfa").text
        shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
        assert shown is not None
        secret = shown.group(1).replace(" ", "")
        code = current_code(client, secret)
        assert (
            client.post("/account/mfa", data={"csrf_token": token, "code": code}).status_code == 303
        )
        token = page_token(client.get("/account").text)  # the session was renewed
        again = client.post("/account/mfa", data={"csrf_token": token, "code": code})
        assert again.status_code == 422  # already on
        clock.advance(seconds=30)
        client.cookies.clear()
        first = _password_step(client, "monitor", fresh_registry.passwords["monitor"])
        assert first.headers["location"] == "/login/mfa"
        assert (
            second_factor(client, current_code(client, secret)).headers["location"] == "/patients"
        )


def test_administrators_without_the_requirement_sign_in_with_the_password(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    _set_secret(fresh_registry, "admin", None)
    with make_client(fresh_registry.url, clock, admin_mfa_required=False) as client:
        signed = _password_step(client, "admin", fresh_registry.passwords["admin"])
        assert signed.headers["location"] == "/patients"
        assert client.get("/cohort").status_code == 200


def test_the_first_administrator_replaces_the_password_then_sets_up_the_code(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    opened = open_registry(fresh_registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("cli:root"))
            one_time = create_user(session, PasswordHashing(), username="root", role="admin")
    finally:
        opened.dispose()
    new = "the kettle sings at seven"
    with make_client(fresh_registry.url, clock) as client:
        assert _password_step(client, "root", one_time.password).headers["location"] == "/account"
        assert client.get("/account/mfa").headers["location"] == "/account"  # password first
        token = page_token(client.get("/account").text)
        changed = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": one_time.password,
                "new_password": new,
                "confirm_password": new,
            },
        )
        assert changed.headers["location"] == "/account/mfa"
        assert client.get("/account").headers["location"] == "/account/mfa"
        page = client.get("/account/mfa").text
        shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
        assert shown is not None and "Set up two-step sign-in to continue" in page
        secret = shown.group(1).replace(" ", "")
        code = current_code(client, secret)
        done = client.post("/account/mfa", data={"csrf_token": page_token(page), "code": code})
        assert done.headers["location"] == "/account?mfa=1"
        assert client.get("/patients").status_code == 200
        clock.advance(seconds=30)
        client.cookies.clear()
        assert _password_step(client, "root", new).headers["location"] == "/login/mfa"
        assert (
            second_factor(client, current_code(client, secret)).headers["location"] == "/patients"
        )


def test_the_audit_trail_never_holds_the_secret(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with make_client(fresh_registry.url, clock) as client:
        token = login(client, "monitor", fresh_registry.passwords["monitor"])
        shown = re.search(
            r'<code class="secret">([A-Z2-7 ]+)</code>', client.get("/account/mfa").text
        )
        assert shown is not None
        secret = shown.group(1).replace(" ", "")
        code = current_code(client, secret)
        assert (
            client.post("/account/mfa", data={"csrf_token": token, "code": code}).status_code == 303
        )
    opened = open_registry(fresh_registry.url)
    try:
        with opened.reading() as session:
            values = [
                f"{row.old_value}{row.new_value}"
                for row in session.scalars(
                    select(AuditEntry).where(AuditEntry.field == "totp_secret")
                )
            ]
    finally:
        opened.dispose()
    assert values and all(secret not in value for value in values)
