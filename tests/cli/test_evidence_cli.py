"""`mrdtrack evidence list|show|compare` (shared/spec/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run


def test_list_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "evidence", "list", "--json")
    assert code == 0 and err == ""
    trials = json.loads(out)["trials"]
    assert {"id", "name", "setting", "population", "n", "citation"} <= set(trials[0])
    assert "tower" in {t["id"] for t in trials}


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evidence", "show", "alcantara", "--json")
    assert code == 0
    assert json.loads(out)["citation"]["pmid"] == "33588145"


def test_show_unknown_id_exits_2_listing_known(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "evidence", "show", "nope")
    assert code == 2 and out == ""
    assert err.startswith("error:") and "tower" in err and err.count("\n") == 1


def test_compare_on_the_demo_cohort(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert run(capsys, "demo", "--db", db)[0] == 0
    figure = tmp_path / "forest.svg"
    code, out, err = run(capsys, "evidence", "compare", "--db", db, "--out", str(figure), "--json")
    assert code == 0 and err == ""
    payload = json.loads(out)
    first = payload["rows"][0]
    assert (first["measure"], first["k"], first["n"]) == ("mrd_negative", 9, 11)
    assert {"rialto", "20120215", "wang-2024-case-series"} <= set(payload["trials"])
    assert payload["caution"] and figure.read_text(encoding="utf-8").startswith("<?xml")
    cohort_os = next(r for r in payload["survival"] if r["trial_id"] is None)
    assert (cohort_os["endpoint"], cohort_os["horizon_months"]) == ("os", 48.0)
    assert cohort_os["status"] == "not_reached" and cohort_os["percent"] is None
    code, out, _ = run(capsys, "evidence", "compare", "--db", db)
    assert code == 0 and "not reached" in out and "48 mo" in out


def test_compare_rejects_bad_figure_suffix(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "evidence", "compare", "--out", "x.txt")
    assert code == 2 and "--out" in err


def test_compare_uninitialised_registry_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "evidence", "compare", "--db", f"sqlite:///{tmp_path / 'e.db'}")
    assert code == 2 and "mrdtrack init" in err
