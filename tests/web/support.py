"""Helpers of the web tests: demo registry with one account per role, frozen clock, login.

The registry holds the case-report cohort (site CGMH) and one patient of a second site
(SITE-B) for the site-isolation tests. Clients talk to ``https://testserver`` so that
the real ``__Host-`` Secure cookie is exercised. The accounts are made ready to use: no
forced password change, and the administrator already has its TOTP second factor, whose
code :func:`login` computes from the stored secret on the application's clock.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select, update
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import Mount, Route

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import User
from mrdtrack.registry.records import demo_cohort, parse_cohort, to_mapping
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.web import WebSettings, create_app
from mrdtrack.web.accounts import create_user
from mrdtrack.web.context import WebContext
from mrdtrack.web.mfa import TOTP_INTERVAL_S, new_secret, totp_code
from mrdtrack.web.policy import Role
from mrdtrack.web.security import PasswordHashing

with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork; the project pins httpx, which works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = [
    "SITE_B_PATIENT",
    "DemoRegistry",
    "FrozenClock",
    "TestClient",
    "app_routes",
    "build_registry",
    "build_registry_at",
    "current_code",
    "login",
    "make_client",
    "page_token",
    "second_factor",
    "signed_in",
    "walk_routes",
]

SITE_B_PATIENT = "SITEB-P01"


class FrozenClock:
    """A settable UTC clock for sessions, lockouts and audit rows."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class DemoRegistry:
    """A registry URL, the password of each account and the TOTP secrets set up."""

    url: str
    passwords: dict[str, str]
    totp_secrets: dict[str, str] = field(default_factory=dict)


def _second_site() -> Any:
    mapping = to_mapping(demo_cohort())
    patient = mapping["patients"][0]
    patient["study_id"] = SITE_B_PATIENT
    patient["site_code"] = "SITE-B"
    mapping["id"] = "site-b"
    mapping["sites"] = [{"code": "SITE-B", "name": "Second site"}]
    mapping["patients"] = [patient]
    return parse_cohort(mapping, "site-b fixture")


DISPLAY_NAMES = {
    "admin": "Registry Admin",
    "clinician": "Dr. Mei Lin",
    "data_manager": "Data Manager",
    "lab": "MRD Lab",
    "statistician": "Statistician",
    "monitor": "Study Monitor",
}


def build_registry(path: Path, *, second_site: bool = True) -> DemoRegistry:
    """The demo cohort, one account per role, and (``second_site``) a site-B patient and users."""
    return build_registry_at(f"sqlite:///{path / 'registry.sqlite3'}", second_site=second_site)


def build_registry_at(url: str, *, second_site: bool = True) -> DemoRegistry:
    """:func:`build_registry` at a database URL (an empty SQLite file or PostgreSQL database)."""
    registry = open_registry(url)
    init_registry(registry)
    hashing = PasswordHashing()
    passwords: dict[str, str] = {}
    secrets = {Role.ADMIN.value: new_secret()}
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, demo_cohort())
        if second_site:
            load_cohort(session, _second_site())
        for role in Role:
            account = create_user(
                session,
                hashing,
                username=role.value,
                role=role.value,
                display_name=DISPLAY_NAMES[role.value],
                must_change_password=False,
            )
            passwords[account.username] = account.password
        site_b_accounts = (
            (("lab-b", "lab"), ("stats-b", "statistician"), ("clinician-b", "clinician"))
            if second_site
            else ()
        )
        for username, site_role in site_b_accounts:
            account = create_user(
                session,
                hashing,
                username=username,
                role=site_role,
                site_code="SITE-B",
                must_change_password=False,
            )
            passwords[account.username] = account.password
        for username, secret in secrets.items():
            session.execute(
                update(User).where(User.username == username).values(totp_secret=secret)
            )
    registry.dispose()
    return DemoRegistry(url, passwords, secrets)


def make_client(url: str, clock: FrozenClock, **settings: Any) -> TestClient:
    chosen = {"production": False, "clock": clock, **settings}
    app = create_app(url, settings=WebSettings(**chosen))
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def app_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """Every route's path and methods, included routers flattened; mounts (static) left out."""
    found: list[tuple[str, set[str]]] = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # FastAPI's included router
            found.extend((c.path, set(c.methods or ())) for c in contexts())
        elif isinstance(route, APIRoute | Route):
            found.append((route.path, set(route.methods or ())))
        else:
            raise AssertionError(f"a route of an unexpected kind: {route!r}")
    return found


_PARAMETERS = {"{study_id}": "SEED1-P03", "{username}": "monitor", "{code}": "CGMH"}


def concrete(path: str) -> str:
    """A route template with a real value for each parameter (others become ``x``)."""
    return re.sub(r"\{[^}]+\}", lambda m: _PARAMETERS.get(m.group(0), "x"), path)


def walk_routes(client: TestClient, token: str, *, skip: set[str]) -> list[tuple[str, str, Any]]:
    """Call every route of the app but the ``skip`` paths (with the CSRF token on writes).

    Returns (method, route path, response) for each; HEAD and OPTIONS are left out.
    """
    app = client.app
    assert isinstance(app, FastAPI)
    walked = []
    for path, methods in app_routes(app):
        if path in skip:
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            kwargs: dict[str, Any] = {}
            if method != "GET" and path.startswith("/api/"):
                kwargs = {"headers": {"X-CSRF-Token": token}, "json": {}}
            elif method != "GET":
                kwargs = {"data": {"csrf_token": token}}
            walked.append((method, path, client.request(method, concrete(path), **kwargs)))
    return walked


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _context(client: TestClient) -> WebContext:
    context: WebContext = client.app.state.web  # type: ignore[attr-defined]
    return context


def current_code(client: TestClient, secret: str) -> str:
    """The TOTP code of ``secret`` now, on the client's application clock."""
    now = _context(client).settings.clock()
    return totp_code(secret, int(now.timestamp()) // TOTP_INTERVAL_S)


def second_factor(client: TestClient, code: str) -> Any:
    """Submit ``code`` on the second sign-in step (the client holds a pending login)."""
    step = client.get("/login/mfa")
    assert step.status_code == 200, step.status_code
    return client.post("/login/mfa", data={"code": code, "csrf_token": page_token(step.text)})


def _stored_secret(client: TestClient, username: str) -> str:
    with _context(client).registry.reading() as session:
        secret = session.scalars(select(User.totp_secret).where(User.username == username)).one()
    assert secret is not None, f"{username} has no TOTP secret"
    return secret


def login(client: TestClient, username: str, password: str) -> str:
    """Sign in through the form (and the TOTP step if the account has one); the CSRF token."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": page_token(form.text)},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] != "/account", (
        f"{username} must first replace its one-time password: create test accounts with "
        "create_user(..., must_change_password=False)"
    )
    if response.headers["location"] == "/login/mfa":
        code = current_code(client, _stored_secret(client, username))
        response = second_factor(client, code)
        assert response.status_code == 303, response.text
    return str(client.get("/api/v1/session").json()["csrf_token"])


@contextmanager
def signed_in(
    registry: DemoRegistry, clock: FrozenClock, username: str, **settings: Any
) -> Iterator[tuple[TestClient, str]]:
    """A new client (its app started and stopped) signed in as ``username``, and its token."""
    with make_client(registry.url, clock, **settings) as made:
        yield made, login(made, username, registry.passwords[username])
