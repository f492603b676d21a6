"""The admin pages and their JSON twins: accounts and sites (issue 7).

Every test runs on a registry of its own (accounts are changed). That a role other than
admin gets 403 on every admin route is the MATRIX's job (tests/web/test_policy.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, User
from tests.web.support import (
    DemoRegistry,
    FrozenClock,
    TestClient,
    login,
    make_client,
    page_token,
    signed_in,
)
from tests.web.test_xss import PAYLOADS, executable_nodes

_SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def _one_time_password(html: str) -> str:
    found = _SECRET.findall(html)
    assert len(found) == 1, "the page shows exactly one one-time password"
    return str(found[0])


@contextmanager
def _registry_session(registry: DemoRegistry, reason: str | None = None) -> Iterator[Any]:
    opened = open_registry(registry.url)
    try:
        with opened.transaction() as session:
            set_actor(session, AuditActor("test-setup", reason))
            yield session
    finally:
        opened.dispose()


def _audit(registry: DemoRegistry, entity: str, field: str | None) -> list[AuditEntry]:
    with _registry_session(registry) as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.field.is_(field))
            .order_by(AuditEntry.seq)
        ).all()
        session.expunge_all()
        return list(rows)


def _audit_count(registry: DemoRegistry) -> int:
    with _registry_session(registry) as session:
        return int(session.scalar(select(func.count(AuditEntry.seq))) or 0)


@contextmanager
def _admin_and_user(
    registry: DemoRegistry, clock: FrozenClock, username: str
) -> Iterator[tuple[TestClient, str, TestClient]]:
    """An admin's client and token, and a client of ``username`` on the same application.

    One application, as on a server: its session store is the one an admin's change
    must reach.
    """
    with signed_in(registry, clock, "admin") as (admin, token):
        user = TestClient(admin.app, base_url="https://testserver", follow_redirects=False)
        login(user, username, registry.passwords[username])
        yield admin, token, user


def _users(client: TestClient) -> dict[str, dict[str, Any]]:
    return {u["username"]: u for u in client.get("/api/v1/admin/users").json()["users"]}


def _password_accepted(client: TestClient, username: str, password: str) -> bool:
    """Whether the login form accepts the password (whatever set-up step follows)."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": page_token(form.text)},
    )
    if response.status_code == 401:
        return False
    assert response.status_code == 303, response.text[:300]
    return not str(response.headers["location"]).startswith("/login")


def test_a_new_account_shows_its_one_time_password_once_and_it_signs_in(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        form = admin.get("/admin/users/new")
        assert form.status_code == 200
        assert 'value="SITE-B"' in form.text and 'value="statistician"' in form.text
        created = admin.post(
            "/admin/users/new",
            data={
                "csrf_token": token,
                "username": "New.Lab",
                "display_name": "Second MRD Lab",
                "role": "lab",
                "site_code": "SITE-B",
            },
        )
        assert created.status_code == 200, created.text[:400]
        password = _one_time_password(created.text)
        assert len(password) >= 20
        for page in ("/admin/users", "/admin/users/new.lab", "/api/v1/admin/users"):
            shown = admin.get(page)
            assert shown.status_code == 200 and password not in shown.text, page
        row = _users(admin)["new.lab"]
        assert (row["role"], row["site_code"], row["active"]) == ("lab", "SITE-B", True)
        assert "password" not in row and "password_hash" not in row and "totp_secret" not in row
        again = admin.post(
            "/admin/users/new",
            data={"csrf_token": token, "username": "new.lab", "role": "lab"},
        )
        assert again.status_code == 422 and 'id="username-error"' in again.text
        api = admin.post(
            "/api/v1/admin/users",
            json={"username": "api-user", "role": "monitor", "site_code": None},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 201, api.text
        assert api.json()["site_code"] is None and len(api.json()["password"]) >= 20
    creates = _audit(fresh_registry, "app_user", None)
    [create] = [r for r in creates if '"new.lab"' in (r.new_value or "")]
    assert create.actor == "admin" and create.action == "create"
    assert password not in (create.new_value or "") and "<redacted>" in (create.new_value or "")
    with make_client(fresh_registry.url, clock) as client:
        assert not _password_accepted(client, "new.lab", password[::-1])
        assert _password_accepted(client, "new.lab", password)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"username": "x y", "role": "lab"}, "username", id="username-rule"),
        pytest.param({"username": "new", "role": "lab"}, "username", id="reserved-new"),
        pytest.param({"username": "ok.name", "role": "chief"}, "role", id="unknown-role"),
        pytest.param(
            {"username": "ok.name", "role": "lab", "site_code": "NOPE"}, "site_code", id="site"
        ),
    ],
)
def test_a_refused_new_account_is_shown_next_to_its_field(
    fresh_registry: DemoRegistry, clock: FrozenClock, data: dict[str, str], field: str
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        before = _audit_count(fresh_registry)
        page = admin.post("/admin/users/new", data={"csrf_token": token, **data})
        assert page.status_code == 422
        assert f'id="{field}-error"' in page.text
        assert not _SECRET.search(page.text)
        api = admin.post("/api/v1/admin/users", json=data, headers={"X-CSRF-Token": token})
        assert api.status_code == 422
        if field != "role":  # an unknown role is refused by the request model
            assert api.json()["field"] == field
        assert _audit_count(fresh_registry) == before


def test_a_role_change_is_audited_with_its_reason_and_ends_the_users_sessions(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with _admin_and_user(fresh_registry, clock, "clinician") as (admin, token, user):
        assert user.get("/patients/new").status_code == 200
        changed = admin.post(
            "/admin/users/clinician",
            data={"csrf_token": token, "role": "monitor", "reason": "moved to study monitoring"},
        )
        assert changed.status_code == 303
        assert changed.headers["location"] == "/admin/users/clinician?saved=role"
        assert "Saved: role" in admin.get(changed.headers["location"]).text
        assert user.get("/api/v1/session").status_code == 401
        assert user.get("/patients/new").headers["location"].startswith("/login")
        login(user, "clinician", fresh_registry.passwords["clinician"])
        assert user.get("/patients/new").status_code == 403
        assert user.get("/patients").status_code == 200
    [row] = _audit(fresh_registry, "app_user", "role")
    assert (row.actor, row.old_value, row.new_value) == ("admin", '"clinician"', '"monitor"')
    assert row.reason == "moved to study monitoring"


def test_a_site_change_applies_to_the_live_session_at_once(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with _admin_and_user(fresh_registry, clock, "data_manager") as (admin, token, user):
        assert user.get("/api/v1/patients").json()["total"] == 12
        moved = admin.patch(
            "/api/v1/admin/users/data_manager",
            json={"site_code": "SITE-B", "reason": "works at site B now"},
            headers={"X-CSRF-Token": token},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["changed"] == ["site"] and not moved.json()["sessions_ended"]
        assert user.get("/api/v1/patients").json()["total"] == 1
        back = admin.patch(
            "/api/v1/admin/users/data_manager",
            json={"site_code": None, "reason": "covers every site again"},
            headers={"X-CSRF-Token": token},
        )
        assert back.json()["user"]["site_code"] is None
        assert user.get("/api/v1/patients").json()["total"] == 12
        same = admin.patch(
            "/api/v1/admin/users/data_manager",
            json={"role": "data_manager", "reason": "no change"},
            headers={"X-CSRF-Token": token},
        )
        assert same.json()["changed"] == [] and same.json()["user"]["site_code"] is None
    reasons = [r.reason for r in _audit(fresh_registry, "app_user", "site_id")]
    assert reasons == ["works at site B now", "covers every site again"]


@pytest.mark.parametrize(
    "reason", [pytest.param(None, id="missing"), pytest.param("   ", id="blank")]
)
def test_a_change_without_a_reason_is_refused_inline(
    fresh_registry: DemoRegistry, clock: FrozenClock, reason: str | None
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        before = _audit_count(fresh_registry)
        data = {"csrf_token": token, "role": "admin", "active": "false"}
        if reason is not None:
            data["reason"] = reason
        page = admin.post("/admin/users/lab", data=data)
        assert page.status_code == 422
        assert 'id="reason-error"' in page.text and "a reason for the change" in page.text
        assert 'value="admin" selected' in page.text  # the entered values stay
        reset = admin.post("/admin/users/lab/reset-password", data={"csrf_token": token})
        assert reset.status_code == 422 and 'id="reason-error"' in reset.text
        api = admin.patch(
            "/api/v1/admin/users/lab",
            json={"active": False, "reason": reason or " "},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 422 and api.json()["field"] == "reason"
        assert _audit_count(fresh_registry) == before
        assert _users(admin)["lab"]["role"] == "lab"


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    password = fresh_registry.passwords["lab"]
    with _admin_and_user(fresh_registry, clock, "lab") as (admin, token, user):
        disabled = admin.post(
            "/admin/users/lab",
            data={"csrf_token": token, "active": "false", "reason": "left the lab"},
        )
        assert disabled.headers["location"] == "/admin/users/lab?saved=active"
        assert "sessions were ended" in admin.get(disabled.headers["location"]).text
        assert user.get("/patients").headers["location"].startswith("/login")
        assert user.get("/api/v1/session").status_code == 401
        assert not _password_accepted(user, "lab", password)
        listing = admin.get("/admin/users").text
        assert 'class="disabled"' in listing and "account-disabled" in listing
        admin.post(
            "/admin/users/lab",
            data={"csrf_token": token, "active": "true", "reason": "back in the lab"},
        )
        login(user, "lab", password)
        assert user.get("/patients").status_code == 200
    flips = [r.new_value for r in _audit(fresh_registry, "app_user", "active")]
    assert flips == ["false", "true"]


def test_a_reset_password_replaces_the_old_one_and_keeps_the_second_factor(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    old = fresh_registry.passwords["monitor"]
    with _registry_session(fresh_registry, "second factor enrolled") as session:
        user = session.scalars(select(User).where(User.username == "stats-b")).one()
        user.totp_secret = "JBSWY3DPEHPK3PXP"
    with _admin_and_user(fresh_registry, clock, "monitor") as (admin, token, user_client):
        reset = admin.post(
            "/admin/users/monitor/reset-password",
            data={"csrf_token": token, "reason": "forgotten password"},
        )
        assert reset.status_code == 200, reset.text[:300]
        new = _one_time_password(reset.text)
        assert new != old and new not in admin.get("/admin/users/monitor").text
        assert user_client.get("/api/v1/session").status_code == 401
        assert not _password_accepted(user_client, "monitor", old)
        assert _password_accepted(user_client, "monitor", new)
        api = admin.post(
            "/api/v1/admin/users/stats-b/reset-password",
            json={"reason": "lost password"},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 200 and len(api.json()["password"]) >= 20
        after = _users(admin)
        assert after["stats-b"]["has_mfa"] and after["stats-b"]["must_change_password"]
        kept = (after["stats-b"]["role"], after["stats-b"]["site_code"], after["stats-b"]["active"])
        assert kept == ("statistician", "SITE-B", True)
    hashes = _audit(fresh_registry, "app_user", "password_hash")
    assert [(r.actor, r.reason) for r in hashes[-2:]] == [
        ("admin", "forgotten password"),
        ("admin", "lost password"),
    ]
    assert all(r.new_value == '"<redacted>"' for r in hashes)
    assert len(_audit(fresh_registry, "app_user", "totp_secret")) == 1  # the set-up's only


def test_a_lost_second_factor_is_reset_with_a_reason_and_ends_the_sessions(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with _registry_session(fresh_registry, "second factor enrolled") as session:
        user = session.scalars(select(User).where(User.username == "monitor")).one()
        user.totp_secret = "JBSWY3DPEHPK3PXP"
    with _admin_and_user(fresh_registry, clock, "clinician") as (admin, token, user_client):
        refused = admin.post(
            "/admin/users/monitor/reset-mfa", data={"csrf_token": token, "reason": ""}
        )
        assert refused.status_code == 422 and 'id="reason-error"' in refused.text
        assert _users(admin)["monitor"]["has_mfa"]
        done = admin.post(
            "/admin/users/monitor/reset-mfa",
            data={"csrf_token": token, "reason": "phone lost"},
        )
        assert done.status_code == 303
        assert "Second factor" in admin.get(done.headers["location"]).text
        assert not _users(admin)["monitor"]["has_mfa"]
        # An account without a second factor, and the admin's own, are refused.
        again = admin.post(
            "/api/v1/admin/users/monitor/reset-mfa",
            json={"reason": "twice"},
            headers={"X-CSRF-Token": token},
        )
        own = admin.post(
            "/api/v1/admin/users/admin/reset-mfa",
            json={"reason": "mine"},
            headers={"X-CSRF-Token": token},
        )
        assert (again.status_code, own.status_code) == (422, 422)
        assert user_client.get("/api/v1/session").status_code == 200  # others' sessions stay
    changes = _audit(fresh_registry, "app_user", "totp_secret")
    assert changes[-1].reason == "phone lost" and changes[-1].actor == "admin"
    assert "JBSWY3DPEHPK3PXP" not in f"{changes[-1].old_value}{changes[-1].new_value}"


@pytest.mark.parametrize(
    ("data", "body", "field"),
    [
        pytest.param({"active": "false"}, {"active": False}, "active", id="disable-self"),
        pytest.param({"role": "monitor"}, {"role": "monitor"}, "role", id="demote-self"),
    ],
)
def test_an_admin_cannot_disable_or_demote_themself(
    fresh_registry: DemoRegistry,
    clock: FrozenClock,
    data: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        page = admin.post(
            "/admin/users/admin", data={"csrf_token": token, "reason": "testing", **data}
        )
        assert page.status_code == 422
        assert f'id="{field}-error"' in page.text and "active administrator" in page.text
        api = admin.patch(
            "/api/v1/admin/users/admin",
            json={"reason": "testing", **body},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 422 and api.json()["field"] == field
        own_reset = admin.post(
            "/api/v1/admin/users/admin/reset-password",
            json={"reason": "testing"},
            headers={"X-CSRF-Token": token},
        )
        assert own_reset.status_code == 422 and "Account" in own_reset.json()["detail"]
        assert "Reset password" not in admin.get("/admin/users/admin").text
        assert admin.get("/api/v1/session").status_code == 200
        assert (_users(admin)["admin"]["role"], _users(admin)["admin"]["active"]) == ("admin", True)


def test_sites_are_created_and_renamed_with_a_reason(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        listed = {s["code"]: s for s in admin.get("/api/v1/admin/sites").json()["sites"]}
        assert (listed["CGMH"]["patients"], listed["SITE-B"]["patients"]) == (11, 1)
        assert listed["SITE-B"]["users"] == 3
        created = admin.post(
            "/admin/sites/new", data={"csrf_token": token, "code": "site-c", "name": "Third"}
        )
        assert created.headers["location"] == "/admin/sites?created=SITE-C"
        assert "Site SITE-C added." in admin.get(created.headers["location"]).text
        assert "Site NOPE added" not in admin.get("/admin/sites?created=NOPE").text
        for data, field in (
            ({"code": "SITE-C", "name": "Again"}, "code"),
            ({"code": "bad code", "name": "x"}, "code"),
            ({"code": "SITE-D", "name": " "}, "name"),
        ):
            refused = admin.post("/admin/sites/new", data={"csrf_token": token, **data})
            assert refused.status_code == 422 and f'id="{field}-error"' in refused.text, data
        unreasoned = admin.post(
            "/admin/sites/SITE-C", data={"csrf_token": token, "name": "Third site"}
        )
        assert unreasoned.status_code == 422
        assert 'id="reason-error"' in unreasoned.text
        assert '<details class="rename" open>' in unreasoned.text
        renamed = admin.post(
            "/admin/sites/SITE-C",
            data={"csrf_token": token, "name": "Third site", "reason": "full name"},
        )
        assert renamed.headers["location"] == "/admin/sites?renamed=SITE-C"
        api = admin.post(
            "/api/v1/admin/sites",
            json={"code": "SITE-D", "name": "Fourth"},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 201
        assert api.json() == {"code": "SITE-D", "name": "Fourth", "patients": 0, "users": 0}
        patched = admin.patch(
            "/api/v1/admin/sites/SITE-D",
            json={"name": "Fourth site", "reason": "full name"},
            headers={"X-CSRF-Token": token},
        )
        assert patched.json()["name"] == "Fourth site"
        missing = admin.patch(
            "/api/v1/admin/sites/NOPE",
            json={"name": "x", "reason": "y"},
            headers={"X-CSRF-Token": token},
        )
        assert missing.status_code == 404
        options = admin.get("/admin/users/new").text
        assert 'value="SITE-C"' in options and "Third site" in options
    renames = _audit(fresh_registry, "site", "name")
    assert [(r.old_value, r.new_value, r.reason) for r in renames] == [
        ('"Third"', '"Third site"', "full name"),
        ('"Fourth"', '"Fourth site"', "full name"),
    ]


def test_names_and_reflected_input_render_inert(
    fresh_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(fresh_registry, clock, "admin") as (admin, token):
        headers = {"X-CSRF-Token": token}
        for number, payload in enumerate(PAYLOADS):
            made = admin.post(
                "/api/v1/admin/sites",
                json={"code": f"XSS-{number}", "name": payload},
                headers=headers,
            )
            assert made.status_code == 201, payload
        for number, payload in enumerate(PAYLOADS[:8]):
            made = admin.post(
                "/api/v1/admin/users",
                json={"username": f"xss{number}", "role": "lab", "display_name": payload},
                headers=headers,
            )
            assert made.status_code == 201, payload
        pages = ["/admin/users", "/admin/users/xss2", "/admin/sites", "/admin/users/new"]
        for url in pages:
            response = admin.get(url)
            assert response.status_code == 200, url
            assert executable_nodes(response.text) == [], url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in admin.get("/admin/sites").text
        for payload in PAYLOADS[:20]:
            reflected = [
                admin.post(
                    "/admin/users/new",
                    data={"csrf_token": token, "username": payload[:64], "display_name": payload},
                ),
                admin.post(
                    "/admin/users/xss1",
                    data={"csrf_token": token, "role": payload, "reason": payload},
                ),
                admin.post("/admin/sites/new", data={"csrf_token": token, "code": payload[:32]}),
                admin.post(
                    "/admin/sites/XSS-1", data={"csrf_token": token, "name": " ", "reason": payload}
                ),
            ]
            for response in reflected:
                assert response.status_code == 422, payload
                assert executable_nodes(response.text) == [], payload


def test_the_admin_link_is_shown_to_admins_only(
    demo_registry: DemoRegistry, clock: FrozenClock
) -> None:
    with signed_in(demo_registry, clock, "admin") as (admin, _):
        assert '<a href="/admin"' in admin.get("/patients").text
        assert admin.get("/admin").headers["location"] == "/admin/users"
        users = admin.get("/admin/users").text
        assert 'href="/admin" class="active"' in users
    with signed_in(demo_registry, clock, "data_manager") as (user, _):
        assert 'href="/admin"' not in user.get("/patients").text
