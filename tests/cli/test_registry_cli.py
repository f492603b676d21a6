"""`mrdtrack init | demo | audit verify | backup | restore` on the embedded default (SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.runner import run


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite3'}"


def test_demo_then_verify_backup_restore(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "demo", "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["patients"] == 11
    code, out, _ = run(capsys, "audit", "verify", "--db", db, "--json")
    verified = json.loads(out)
    assert code == 0 and verified["ok"] is True
    backup = tmp_path / "backup.sqlite3"
    code, out, _ = run(capsys, "backup", str(backup), "--db", db, "--json")
    assert code == 0 and json.loads(out)["audit_entries"] == verified["entries"]
    code, out, _ = run(capsys, "restore", str(backup), "--db", db, "--json")
    assert code == 0 and json.loads(out)["audit_head"] == verified["head_hash"]


def test_demo_twice_exits_2_and_says_why(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert run(capsys, "demo", "--db", db)[0] == 0
    code, out, err = run(capsys, "demo", "--db", db)
    assert code == 2 and out == ""
    assert "already loaded" in err


def test_verify_fails_on_a_tampered_trail(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    assert run(capsys, "demo", "--db", db)[0] == 0
    connection = sqlite3.connect(tmp_path / "registry.sqlite3")
    connection.execute("DROP TRIGGER audit_entry_no_update")
    connection.execute("UPDATE audit_entry SET new_value = 'forged' WHERE seq = 40")
    connection.commit()
    connection.close()
    code, out, err = run(capsys, "audit", "verify", "--db", db, "--json")
    assert code == 3
    assert json.loads(out)["first_broken_seq"] == 40
    assert "entry 40" in err


def test_init_reports_the_schema_revision(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "init", "--db", db, "--json")
    assert code == 0 and json.loads(out)["schema_revision"] == "0002"


@pytest.mark.parametrize("url", ["mysql://u@h/d", "sqlite://"])
def test_bad_database_url(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = run(capsys, "init", "--db", url)
    assert code == 2 and out == "" and "--db" in err


def test_synth_loads_a_reproducible_cohort(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "synth", "--patients", "25", "--seed", "3", "--db", db, "--json")
    first = json.loads(out)
    assert code == 0 and first["patients"] == 25
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    _, out, _ = run(capsys, "synth", "--patients", "25", "--seed", "3", "--db", other, "--json")
    assert json.loads(out)["rows"] == first["rows"]
    assert run(capsys, "audit", "verify", "--db", db)[0] == 0
