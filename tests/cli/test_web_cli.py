"""`mrdtrack user add` and `mrdtrack serve` (uvicorn itself is replaced by a recorder)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from mrdtrack.registry.database import open_registry
from mrdtrack.registry.models import AuditEntry, User
from mrdtrack.web.security import PasswordHashing
from tests.cli.runner import run


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert run(capsys, "demo", "--db", url)[0] == 0
    return url


def _user(url: str, username: str) -> User:
    registry = open_registry(url)
    try:
        with registry.transaction() as session:
            return session.scalars(select(User).where(User.username == username)).one()
    finally:
        registry.dispose()


def test_user_add_prints_a_one_time_password_that_signs_in(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run(
        capsys, "user", "add", "Alice", "--role", "clinician", "--db", db, "--json"
    )
    assert (code, err) == (0, "")
    created = json.loads(out)
    assert created["username"] == "alice" and created["role"] == "clinician"
    assert created["site"] is None and len(created["password"]) >= 20
    user = _user(db, "alice")
    assert user.active and user.password_hash is not None
    assert created["password"] not in user.password_hash
    assert extract_parameters(user.password_hash).memory_cost >= 19 * 1024
    assert PasswordHashing().verify(user.password_hash, created["password"])
    assert user.must_change_password is True and user.totp_secret is None
    code, out, _ = run(capsys, "user", "add", "bob", "--role", "lab", "--site", "CGMH", "--db", db)
    assert code == 0 and "one-time password" in out and "choose their own" in out
    assert "two-step" not in out
    assert _user(db, "bob").site_id is not None


def test_two_accounts_never_share_a_password(capsys: pytest.CaptureFixture[str], db: str) -> None:
    passwords = set()
    for name in ("u1", "u2", "u3"):
        _, out, _ = run(capsys, "user", "add", name, "--role", "monitor", "--db", db, "--json")
        passwords.add(json.loads(out)["password"])
    assert len(passwords) == 3


def test_account_creation_is_audited_as_the_cli_user(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, _ = run(capsys, "user", "add", "carol", "--role", "admin", "--db", db)
    assert code == 0 and "two-step sign-in" in out
    registry = open_registry(db)
    try:
        with registry.transaction() as session:
            rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "app_user")).all()
    finally:
        registry.dispose()
    assert len(rows) == 1 and rows[0].actor.startswith("cli:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["dave", "--role", "nurse"], "--role: got 'nurse'", id="unknown-role"),
        pytest.param(["dave", "--role", "lab", "--site", "XX"], "no site named 'XX'", id="site"),
        pytest.param(["Dave Smith", "--role", "lab"], "username: got 'Dave Smith'", id="name"),
    ],
)
def test_user_add_refusals_exit_2(
    capsys: pytest.CaptureFixture[str], db: str, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "user", "add", *args, "--db", db)
    assert code == 2 and out == ""
    assert err.startswith("error:") and message in err


def test_user_add_twice_is_refused(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert run(capsys, "user", "add", "erin", "--role", "lab", "--db", db)[0] == 0
    code, _, err = run(capsys, "user", "add", "ERIN", "--role", "lab", "--db", db)
    assert code == 2 and "not yet taken" in err


def test_commands_refuse_a_registry_that_was_never_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    for args in (["user", "add", "x1", "--role", "lab"], ["serve"]):
        code, _, err = run(capsys, *args, "--db", url)
        assert code == 2 and "mrdtrack init" in err


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def record(app: object, **options: Any) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr("uvicorn.run", record)
    # serve points the app's logger at this test's captured stderr: undo it afterwards,
    # or later tests log into a closed stream and caplog sees nothing.
    web_logger = logging.getLogger("mrdtrack.web")
    saved = (web_logger.handlers[:], web_logger.level, web_logger.propagate)
    yield calls
    web_logger.handlers[:], web_logger.level, web_logger.propagate = saved


def test_serve_runs_one_uvicorn_process_on_loopback_by_default(
    capsys: pytest.CaptureFixture[str], db: str, uvicorn_calls: list[dict[str, Any]]
) -> None:
    code, out, _ = run(capsys, "serve", "--db", db)
    assert code == 0
    assert "http://127.0.0.1:8000" in out
    (call,) = uvicorn_calls
    assert (call["host"], call["port"], call["workers"]) == ("127.0.0.1", 8000, 1)
    assert call["access_log"] is False  # paths may carry study ids: the app logs templates
    assert call["app"].openapi_url is None  # production settings


def test_serve_warns_about_plain_http_off_loopback(
    capsys: pytest.CaptureFixture[str], db: str, uvicorn_calls: list[dict[str, Any]]
) -> None:
    code, _, err = run(capsys, "serve", "--db", db, "--host", "0.0.0.0", "--port", "8123")
    assert code == 0 and "TLS" in err
    assert (uvicorn_calls[0]["host"], uvicorn_calls[0]["port"]) == ("0.0.0.0", 8123)


def test_serve_needs_both_tls_files(
    capsys: pytest.CaptureFixture[str], db: str, uvicorn_calls: list[dict[str, Any]]
) -> None:
    code, _, err = run(capsys, "serve", "--db", db, "--tls-cert", "cert.pem")
    assert code == 2 and "--tls-key" in err
    assert uvicorn_calls == []


def test_serve_passes_the_alert_command_as_an_argv(
    capsys: pytest.CaptureFixture[str], db: str, uvicorn_calls: list[dict[str, Any]]
) -> None:
    line = "sh -c 'cat > /tmp/lockout alert.json'"
    assert run(capsys, "serve", "--db", db, "--alert-command", line)[0] == 0
    settings = uvicorn_calls[0]["app"].state.web.settings
    assert settings.alert_command == ("sh", "-c", "cat > /tmp/lockout alert.json")
    assert settings.admin_mfa_required is True
    assert run(capsys, "serve", "--db", db)[0] == 0
    assert uvicorn_calls[1]["app"].state.web.settings.alert_command == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("sh -c 'unbalanced", "balanced quotes", id="quotes"),
        pytest.param("   ", "a program to run", id="blank"),
    ],
)
def test_serve_refuses_a_malformed_alert_command(
    capsys: pytest.CaptureFixture[str],
    db: str,
    uvicorn_calls: list[dict[str, Any]],
    value: str,
    expected: str,
) -> None:
    code, _, err = run(capsys, "serve", "--db", db, "--alert-command", value)
    assert code == 2 and err.startswith("error: --alert-command") and expected in err
    assert uvicorn_calls == []


def test_serve_loads_the_breached_password_corpus_or_names_its_bad_line(
    capsys: pytest.CaptureFixture[str],
    db: str,
    uvicorn_calls: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "pwned.txt"
    corpus.write_text("7C4A8D09CA3762AF61E59520943DC26494F8941B:24230577\n", encoding="utf-8")
    assert run(capsys, "serve", "--db", db, "--breached-passwords", str(corpus))[0] == 0
    loaded = uvicorn_calls[0]["app"].state.web.breached_passwords
    assert loaded == {"7c4a8d09ca3762af61e59520943dc26494f8941b"}  # SHA-1 of "123456"
    corpus.write_text("7C4A8D09CA3762AF61E59520943DC26494F8941B\nhunter2\n", encoding="utf-8")
    code, _, err = run(capsys, "serve", "--db", db, "--breached-passwords", str(corpus))
    assert code == 2 and f"{corpus}, line 2" in err and "hunter2" not in err
    assert len(uvicorn_calls) == 1
