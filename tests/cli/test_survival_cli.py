"""`mrdtrack survival km|logrank|cif|cox|followup` over CSV files (shared/spec/cli.md)."""

import json
from pathlib import Path

import pytest

from tests.cli.runner import run

# The END-02 worked dataset (domain rules §11.3), months from CR.
END02_CSV = """patient,months,rfs,cause,os_months,os_status,arm,wbc
P1,6,1,1,18,0,A,12
P2,10,1,2,10,1,B,40
P3,12,0,0,12,0,A,8
P4,15,1,1,40,0,B,25
P5,20,0,0,20,0,A,30
P6,24,1,1,30,1,B,60
P7,28,0,0,28,0,A,5
P8,36,0,0,36,0,B,18
"""


@pytest.fixture
def end02(tmp_path: Path) -> Path:
    path = tmp_path / "end02.csv"
    path.write_text(END02_CSV, encoding="utf-8")
    return path


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_km_contract(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, err = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "rfs",
        "--json",
    )
    assert code == 0 and err == ""
    entry = json.loads(out)["groups"]["all"]
    for key in ("n", "events", "median", "timeline", "survival", "ci_lower", "ci_upper"):
        assert key in entry, key
    assert entry["ci_method"] == "log-log"
    assert (entry["n"], entry["events"], entry["median"]) == (8, 4, 24.0)
    assert entry["timeline"] == [6.0, 10.0, 12.0, 15.0, 20.0, 24.0, 28.0, 36.0]
    # END-02-a
    assert entry["survival"][:6] == pytest.approx([0.875, 0.75, 0.75, 0.6, 0.6, 0.4])
    assert all(
        lo <= s <= hi
        for lo, s, hi in zip(*(entry[k] for k in ("ci_lower", "survival", "ci_upper")), strict=True)
    )


def test_km_by_group_with_milestones(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, _ = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(end02),
        "--time",
        "os_months",
        "--event",
        "os_status",
        "--group",
        "arm",
        "--at",
        "12",
        "--at",
        "36",
        "--json",
    )
    assert code == 0
    groups = json.loads(out)["groups"]
    assert sorted(groups) == ["A", "B"]
    assert groups["A"]["events"] == 0 and groups["A"]["median"] is None
    milestones = groups["B"]["milestones"]
    assert [m["time"] for m in milestones] == [12.0, 36.0]
    assert milestones[0] == pytest.approx(
        {
            "time": 12.0,
            "survival": 0.75,
            "ci_lower": milestones[0]["ci_lower"],
            "ci_upper": milestones[0]["ci_upper"],
            "n_at_risk": 3,
            "events": 1,
            "censored": 0,
        }
    )


def test_km_curve_to_zero_prints_null_not_nan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, "t,e\n1,1\n2,0\n3,1\n")
    code, out, _ = run(
        capsys, "survival", "km", "--input", str(path), "--time", "t", "--event", "e", "--json"
    )
    assert code == 0
    entry = json.loads(out)["groups"]["all"]
    assert entry["survival"][-1] == 0.0
    assert entry["ci_lower"][-1] is None and entry["std_error"][-1] is None


def test_logrank_contract(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, err = run(
        capsys,
        "survival",
        "logrank",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "rfs",
        "--group",
        "arm",
        "--json",
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["df"] == 1
    assert 0 < payload["p_value"] < 1
    assert payload["statistic"] == pytest.approx(0.45775, abs=1e-5)
    assert payload["groups"]["B"]["observed"] == 3.0


def test_logrank_trend_and_strata(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = "\n".join(
        f"{t},{e},{g},{s}"
        for t, e, g, s in zip(
            [3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 19, 20],
            [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1],
            [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3],
            "xyxyxyxyxyxy",
            strict=True,
        )
    )
    path = _csv(tmp_path, "t,e,dose,site\n" + rows + "\n")
    common = (
        "survival",
        "logrank",
        "--input",
        str(path),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "dose",
    )
    code, out, _ = run(capsys, *common, "--trend", "--json")
    assert code == 0
    assert json.loads(out)["df"] == 1
    assert json.loads(out)["test"] == "log-rank test for trend"
    code, out, _ = run(capsys, *common, "--strata", "site", "--json")
    assert code == 0
    assert json.loads(out)["strata"] == ["x", "y"]
    assert json.loads(out)["df"] == 2


def test_cif_worked_dataset(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, _ = run(
        capsys,
        "survival",
        "cif",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "cause",
        "--cause",
        "1",
        "--at",
        "36",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    entry = payload["groups"]["all"]
    assert entry["milestones"][0]["cif"] == pytest.approx(0.475)  # END-02-b
    assert (entry["events"], entry["competing_events"]) == (3, 1)
    assert payload["competing_causes"] == ["2"]
    assert len(entry["std_error"]) == len(entry["timeline"])


def test_cox_fit(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, _ = run(
        capsys,
        "survival",
        "cox",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "rfs",
        "--covariate",
        "wbc",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["status"] == "ok" and payload["converged"]
    row = payload["covariates"]["wbc"]
    assert row["hazard_ratio"] == pytest.approx(2.718281828 ** row["coef"])
    assert row["hazard_ratio_ci_lower"] < row["hazard_ratio"] < row["hazard_ratio_ci_upper"]
    assert payload["ties"] == "efron"


def test_cox_separation_is_not_evaluable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, "t,e,arm\n1,1,1\n2,1,1\n3,1,1\n4,0,0\n5,0,0\n6,0,0\n")
    code, out, _ = run(
        capsys,
        "survival",
        "cox",
        "--input",
        str(path),
        "--time",
        "t",
        "--event",
        "e",
        "--covariate",
        "arm",
        "--json",
    )
    assert code == 3
    payload = json.loads(out)
    assert payload["status"] == "not_evaluable"
    assert "did not converge" in payload["reasons"][0]


def test_followup(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, _ = run(
        capsys,
        "survival",
        "followup",
        "--input",
        str(end02),
        "--time",
        "os_months",
        "--event",
        "os_status",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    assert (payload["median"], payload["min"], payload["max"]) == (28.0, 10.0, 40.0)
    assert payload["median_observed_time"] == 24.0
    assert payload["method"].startswith("reverse Kaplan–Meier")


@pytest.mark.parametrize(
    "command",
    [
        ("km",),
        ("logrank", "--group", "arm"),
        ("cif",),
        ("cox", "--covariate", "wbc"),
        ("followup",),
    ],
    ids=lambda c: c[0],
)
def test_human_output(
    capsys: pytest.CaptureFixture[str], end02: Path, command: tuple[str, ...]
) -> None:
    event = "cause" if command[0] == "cif" else "rfs"
    code, out, err = run(
        capsys,
        "survival",
        command[0],
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        event,
        *command[1:],
    )
    assert code == 0 and err == ""
    assert out.strip()


def test_missing_column_lists_the_columns(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, out, err = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(end02),
        "--time",
        "weeks",
        "--event",
        "rfs",
        "--json",
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: --time")
    assert "found: patient, months, rfs" in err


@pytest.mark.parametrize(
    ("csv_text", "extra", "needle"),
    [
        pytest.param("t,e\n1,1\n-2,0\n", (), "row 3: t: got '-2'", id="negative-time"),
        pytest.param("t,e\n1,1\nsoon,0\n", (), "row 3: t: got 'soon'", id="text-time"),
        pytest.param("t,e\n1,1\n,0\n", (), "row 3: t: got ''", id="blank-time"),
        pytest.param("t,e\n1,1\n2,2\n", (), "row 3: e: got '2'", id="undeclared-code"),
        pytest.param("t,e\n1,1\n2,0\n", ("--event-value", "0"), "--event-value", id="overlap"),
        pytest.param("t,e\n1,yes\n2,no\n", (), "row 2: e: got 'yes'", id="text-code"),
    ],
)
def test_bad_rows_exit_2_naming_the_row(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    csv_text: str,
    extra: tuple[str, ...],
    needle: str,
) -> None:
    path = _csv(tmp_path, csv_text)
    code, out, err = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(path),
        "--time",
        "t",
        "--event",
        "e",
        *extra,
        "--json",
    )
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert needle in err


def test_declared_text_codes_are_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, "t,e\n1,Relapse\n2,censored\n3,relapse\n")
    code, out, _ = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(path),
        "--time",
        "t",
        "--event",
        "e",
        "--event-value",
        "relapse",
        "--censor-value",
        "censored",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["groups"]["all"]["events"] == 2


def test_cif_undeclared_cause_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, "t,c\n1,1\n2,3\n")
    code, _, err = run(
        capsys, "survival", "cif", "--input", str(path), "--time", "t", "--event", "c", "--json"
    )
    assert code == 2
    assert "row 3: c: got '3'" in err and "--competing-value" in err


def test_logrank_without_events_is_not_evaluable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _csv(tmp_path, "t,e,g\n1,0,a\n2,0,b\n")
    code, out, _ = run(
        capsys,
        "survival",
        "logrank",
        "--input",
        str(path),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "g",
        "--json",
    )
    assert code == 3
    assert json.loads(out)["status"] == "not_evaluable"


def test_trend_needs_numeric_groups(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, _, err = run(
        capsys,
        "survival",
        "logrank",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "rfs",
        "--group",
        "arm",
        "--trend",
    )
    assert code == 2
    assert "--trend" in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(tmp_path / "none.csv"),
        "--time",
        "t",
        "--event",
        "e",
    )
    assert code == 2
    assert err.startswith("error: --input")


def test_bad_level_names_the_option(capsys: pytest.CaptureFixture[str], end02: Path) -> None:
    code, _, err = run(
        capsys,
        "survival",
        "km",
        "--input",
        str(end02),
        "--time",
        "months",
        "--event",
        "rfs",
        "--confidence-level",
        "95",
    )
    assert code == 2
    assert err.startswith("error: --confidence-level: got 95.0")
