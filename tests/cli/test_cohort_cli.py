"""`mrdtrack cohort summary|endpoint|mrd-response` over the registry (shared/spec/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import run

CONTRACT = {
    "n_patients": None,
    "age_years": {"median", "min", "max"},
    "sex": {"female", "male"},
    "crs_grade_counts": {"0", "1", "2", "3", "4"},
    "hct": {"n", "days_to_hct"},
    "mrd_negative_last": {"n", "percent"},
    "relapses": None,
    "deaths": None,
    "follow_up_months": {"median", "min", "max", "method"},
}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.sqlite3'}"


@pytest.fixture
def demo_db(capsys: pytest.CaptureFixture[str], db: str) -> str:
    assert run(capsys, "demo", "--db", db)[0] == 0
    return db


def test_summary_reproduces_the_case_report(
    capsys: pytest.CaptureFixture[str], demo_db: str
) -> None:
    code, out, err = run(capsys, "cohort", "summary", "--db", demo_db, "--json")
    assert code == 0 and err == ""
    summary = json.loads(out)
    for key, inner in CONTRACT.items():
        assert key in summary, key
        if inner is not None:
            assert inner <= set(summary[key]), key
    assert summary["n_patients"] == 11
    age = summary["age_years"]
    assert (age["median"], age["min"], age["max"]) == (11.5, 3.0, 19.0)
    assert summary["sex"] == {"female": 7, "male": 4}
    crs = summary["crs_grade_counts"]
    assert (crs["1"], crs["2"], crs["3"] + crs["4"], crs["0"]) == (7, 2, 0, 2)
    days = summary["hct"]["days_to_hct"]
    assert summary["hct"]["n"] == 5
    assert (days["median"], days["min"], days["max"]) == (157.0, 97.0, 270.0)
    assert summary["mrd_negative_last"]["n"] == 9
    assert round(summary["mrd_negative_last"]["percent"]) == 82
    assert (summary["relapses"], summary["deaths"]) == (2, 1)
    follow_up = summary["follow_up_months"]
    assert "reverse Kaplan–Meier" in follow_up["method"]
    assert round(follow_up["simple_median"]) == 28
    assert "first blinatumomab infusion" in summary["definitions"]["age_years"]
    assert "grade_crs" in summary["definitions"]["crs_grade_counts"]


def test_summary_table(capsys: pytest.CaptureFixture[str], demo_db: str) -> None:
    code, out, _ = run(capsys, "cohort", "summary", "--db", demo_db)
    assert code == 0
    assert "Cohort summary" in out and "9 of 11" in out and "157.0 (97.0–270.0)" in out


def test_endpoint_km_with_definition(capsys: pytest.CaptureFixture[str], demo_db: str) -> None:
    code, out, err = run(
        capsys,
        "cohort",
        "endpoint",
        "os",
        "--origin",
        "blinatumomab",
        "--at",
        "12",
        "--db",
        demo_db,
        "--json",
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    definition = payload["definition"]
    assert definition["origin"] == "blinatumomab"
    assert definition["events"] == "death from any cause"
    assert "last contact" in definition["censoring"]
    assert (payload["n"], payload["events"], payload["median"]) == (11, 1, None)
    assert payload["ci_method"] == "log-log"
    assert len(payload["timeline"]) == len(payload["survival"]) == len(payload["ci_lower"])
    assert payload["milestones"][0]["survival"] == pytest.approx(0.9)  # 1 − 1/10 at risk


def test_endpoint_cir_is_a_cumulative_incidence(
    capsys: pytest.CaptureFixture[str], demo_db: str
) -> None:
    code, out, _ = run(
        capsys, "cohort", "endpoint", "cir", "--origin", "blinatumomab", "--db", demo_db, "--json"
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["estimator"] == "Aalen–Johansen cumulative incidence"
    assert payload["definition"]["competing"] == "death without relapse (cause 2)"
    assert (payload["events"], payload["competing_events"]) == (2, 0)
    assert 0 < payload["cif"][-1] < 1


def test_endpoint_options_and_table(capsys: pytest.CaptureFixture[str], demo_db: str) -> None:
    code, out, _ = run(
        capsys,
        "cohort",
        "endpoint",
        "rfs",
        "--origin",
        "blinatumomab",
        "--censor-at-hct",
        "--landmark-months",
        "3",
        "--db",
        demo_db,
        "--json",
    )
    assert code == 0
    definition = json.loads(out)["definition"]
    assert definition["censored_at_hct"] is True
    assert definition["landmark_days"] == pytest.approx(3 * 30.4375)
    code, out, _ = run(capsys, "cohort", "endpoint", "efs", "--at", "24", "--db", demo_db)
    assert code == 0 and "event-free survival" in out and "Milestones" in out


def test_mrd_response(capsys: pytest.CaptureFixture[str], demo_db: str) -> None:
    code, out, _ = run(capsys, "cohort", "mrd-response", "--at", "last", "--db", demo_db, "--json")
    assert code == 0
    payload = json.loads(out)
    assert (payload["n_negative"], payload["n_evaluable"], payload["percent"]) == (9, 11, 81.8)
    assert payload["wilson"][0] < 0.818 < payload["wilson"][1]


def test_uninitialised_registry_exits_2(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = run(capsys, "cohort", "summary", "--db", db, "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: --db") and "mrdtrack init" in err


def test_empty_population_is_not_evaluable(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert run(capsys, "init", "--db", db)[0] == 0
    code, out, _ = run(capsys, "cohort", "endpoint", "os", "--db", db, "--json")
    assert code == 3
    assert json.loads(out)["status"] == "not_evaluable"


def test_bad_endpoint_and_time_point(capsys: pytest.CaptureFixture[str], demo_db: str) -> None:
    code, out, err = run(capsys, "cohort", "endpoint", "pfs", "--db", demo_db)
    assert code == 2 and out == "" and err.startswith("error:")
    code, out, err = run(capsys, "cohort", "mrd-response", "--at", "DAY_99", "--db", demo_db)
    assert code == 2 and out == "" and "at" in err
