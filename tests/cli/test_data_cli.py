"""`mrdtrack import | export | dictionary` on the embedded default (SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mrdtrack.registry.dictionary import DICTIONARY, dictionary_markdown
from mrdtrack.registry.exporter import cohort_tables, write_xlsx
from mrdtrack.registry.records import demo_cohort
from tests.cli.runner import run

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite3'}"


def _counts(tmp_path: Path) -> dict[str, int]:
    connection = sqlite3.connect(tmp_path / "registry.sqlite3")
    try:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        connection.close()


def test_import_then_reimport_says_it_changed_nothing(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    workbook = tmp_path / "demo.xlsx"
    write_xlsx(cohort_tables(demo_cohort()), workbook)
    code, out, err = run(
        capsys, "import", str(workbook), "--db", db, "--user", "cli-test", "--json"
    )
    assert (code, err) == (0, "")
    first = json.loads(out)
    assert first["status"] == "imported" and first["rows"]["mrd_results"] == 99
    assert first["total_rows"] == sum(first["rows"].values()) == 400
    code, out, _ = run(capsys, "import", str(workbook), "--db", db, "--json")
    again = json.loads(out)
    assert code == 0 and again["status"] == "already_imported"
    assert again["job_id"] == first["job_id"] and again["sha256"] == first["sha256"]
    code, out, _ = run(capsys, "import", str(workbook), "--db", db)
    assert code == 0 and "nothing changed" in out


def test_a_bad_file_exits_2_with_the_row_level_report_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    assert run(capsys, "init", "--db", db)[0] == 0
    before = _counts(tmp_path)
    bad = tmp_path / "patients.csv"
    rows = ["study_id,site_code,sex,birth_date,shoe_size"]
    rows += [f"P{i},S1,{'=1+1' if i == 3 else 'female'},2010-02-{28 + i % 3},42" for i in range(30)]
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "import", str(bad), "--db", db)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error: patients.csv:") and "nothing was imported" in lines[0]
    assert "row 1, column shoe_size" in lines[1]
    assert any("row 3, column birth_date: '2010-02-29'" in line for line in lines)
    assert any("row 4, column birth_date: '2010-02-30'" in line for line in lines)
    assert any("row 5, column sex: '=1+1'" in line and "formula" in line for line in lines)
    total = int(lines[0].split(": ")[2].split()[0])
    assert total == 1 + 20 + 1  # the column, every 30th and 29th of February, the formula
    assert len(lines) == 1 + 20 + 1 and lines[-1].strip().startswith("... and 2 more")
    after = _counts(tmp_path)
    # Nothing written; the refused import is recorded as a failed job (reliability goal 1).
    assert after == {**before, "import_job": before["import_job"] + 1}
    code, out, _ = run(capsys, "imports", "--db", db, "--json")
    assert code == 0 and [job["status"] for job in json.loads(out)["jobs"]] == ["failed"]
    code, out, _ = run(capsys, "imports", "--db", db)
    assert code == 0 and "failed:" in out and "patients.csv" in out


def test_the_redcap_example_imports_through_the_cli(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run(
        capsys,
        "import",
        str(DATA / "redcap" / "export.csv"),
        "--mapping",
        str(DATA / "redcap" / "mapping.yaml"),
        "--db",
        db,
        "--json",
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["kind"] == "redcap" and report["rows"]["patients"] == 2


def test_export_writes_an_audited_file_and_requires_a_purpose(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    assert run(capsys, "demo", "--db", db)[0] == 0
    out_path = tmp_path / "deid.xlsx"
    code, out, err = run(
        capsys,
        "export",
        "--format",
        "xlsx",
        "--out",
        str(out_path),
        "--mode",
        "deidentified",
        "--purpose",
        "registry report",
        "--db",
        db,
        "--json",
    )
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["mode"] == "deidentified" and report["rows"]["patients"] == 11
    assert out_path.exists() and report["path"] == str(out_path)
    code, out, err = run(capsys, "audit", "verify", "--db", db, "--json")
    assert code == 0 and json.loads(out)["ok"]
    code, out, err = run(
        capsys,
        "export",
        "--format",
        "csv",
        "--mode",
        "pseudonymized",
        "--out",
        str(tmp_path / "x.zip"),
        "--db",
        db,
    )
    assert code == 2 and out == "" and "--purpose" in err
    code, out, err = run(
        capsys,
        "export",
        "--format",
        "xlsx",
        "--out",
        str(out_path),
        "--purpose",
        "again",
        "--db",
        db,
    )
    assert code == 2 and out == "" and err.startswith("error: --out")


def test_dictionary_prints_json_markdown_and_tables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dictionary", "--json")
    assert code == 0
    assert [t["name"] for t in json.loads(out)["tables"]] == [s.name for s in DICTIONARY]
    code, out, _ = run(capsys, "dictionary", "--markdown")
    assert code == 0 and out == dictionary_markdown()
    code, out, _ = run(capsys, "dictionary")
    assert code == 0 and "mrd_results" in out and "leukemic_events" in out
    code, out, err = run(capsys, "dictionary", "--json", "--markdown")
    assert code == 2 and out == "" and "--markdown" in err


def test_demo_then_export_xlsx_needs_no_setup(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The acceptance check: `mrdtrack demo` then `mrdtrack export --format xlsx`.
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert run(capsys, "demo", "--db", db)[0] == 0
    code, out, err = run(capsys, "export", "--format", "xlsx", "--db", db, "--json")
    assert code == 0, err
    exported = json.loads(out)
    assert Path(exported["path"]).suffix == ".xlsx"
    assert exported["purpose"].startswith("not stated")
    code, _, err = run(capsys, "export", "--format", "csv", "--mode", "deidentified", "--db", db)
    assert code == 2 and "--purpose" in err
