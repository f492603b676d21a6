"""The `mrdtrack mrd …` commands keep the CLI contract (shared/spec/cli.md)."""

import json
from pathlib import Path

import pytest

from tests.cli.runner import run


def test_qpcr_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "mrd",
        "qpcr",
        "--fusion-copies",
        "150",
        "--control-copies",
        "50000",
        "--diagnosis-ncn",
        "1.59",
        "--json",
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    for key in (
        "ncn",
        "mrd_fraction",
        "mrd_percent",
        "log_reduction",
        "status",
        "reasons",
        "method",
    ):
        assert key in payload
    assert payload["method"] == "rq-pcr"
    assert payload["status"] == "positive"
    assert payload["ncn"] == pytest.approx(0.003)
    assert payload["mrd_fraction"] == pytest.approx(0.0018868, rel=1e-4)
    assert payload["mrd_percent"] == pytest.approx(0.18868, rel=1e-4)
    assert payload["log_reduction"] == pytest.approx(2.7243, abs=1e-4)
    assert isinstance(payload["reasons"], list)


def test_flow_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "mrd", "flow", "--leukemic-events", "25", "--total-events", "200000", "--json"
    )
    payload = json.loads(out)
    assert code == 0
    assert payload["method"] == "flow"
    assert payload["mrd_fraction"] == pytest.approx(1.25e-4)
    assert payload["mrd_percent"] == pytest.approx(0.0125)
    assert payload["sensitivity_fraction"] == pytest.approx(5e-5)
    assert payload["status"] == "positive"


def test_flow_options_override_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "mrd",
        "flow",
        "--leukemic-events",
        "25",
        "--total-events",
        "200000",
        "--threshold-percent",
        "0.1",
        "--positive-min-events",
        "20",
        "--json",
    )
    payload = json.loads(out)
    assert code == 0
    assert payload["status"] == "negative"
    assert payload["sensitivity_fraction"] == pytest.approx(1e-4)
    assert "lod_events=20" in payload["profile"]


def test_ngs_with_response(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "mrd", "ngs", "--clonal-cells", "0", "--dna-ng", "20000", "--in-cr", "--json"
    )
    payload = json.loads(out)
    assert code == 0
    assert payload["method"] == "ngs"
    assert payload["status"] == "negative"
    assert payload["negative_at_fraction"] == pytest.approx(1e-6)
    assert payload["mrd_response"] == "mrd_cr"


def test_not_evaluable_exits_3_and_still_prints(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "mrd",
        "qpcr",
        "--fusion-copies",
        "10",
        "--control-copies",
        "15000",
        "--diagnosis-ncn",
        "1.59",
        "--json",
    )
    assert code == 3 and err == ""
    payload = json.loads(out)
    assert payload["status"] == "not_evaluable"
    assert "ABL1" in payload["reasons"][0]


def test_human_output_is_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mrd", "flow", "--leukemic-events", "9", "--total-events", "120000")
    assert code == 0
    assert "negative" in out and "seed1-tpog@1" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(["mrd", "qpcr", "--control-copies", "50000"], "--fusion-copies", id="missing"),
        pytest.param(
            ["mrd", "qpcr", "--fusion-copies", "-5", "--control-copies", "50000"],
            "--fusion-copies",
            id="negative",
        ),
        pytest.param(
            ["mrd", "qpcr", "--fusion-copies", "abc", "--control-copies", "50000"],
            "--fusion-copies",
            id="non-numeric",
        ),
        pytest.param(
            ["mrd", "qpcr", "--fusion-copies", "nan", "--control-copies", "50000"],
            "--fusion-copies",
            id="nan",
        ),
        pytest.param(
            ["mrd", "qpcr", "--fusion-copies", "1", "--control-copies", "0"],
            "--control-copies",
            id="control-zero",
        ),
        pytest.param(
            [
                "mrd",
                "qpcr",
                "--fusion-copies",
                "1",
                "--control-copies",
                "5e4",
                "--diagnosis-ncn",
                "0",
            ],
            "--diagnosis-ncn",
            id="ncn-zero",
        ),
        pytest.param(
            [
                "mrd",
                "qpcr",
                "--fusion-copies",
                "1",
                "--control-copies",
                "5e4",
                "--sensitivity",
                "5",
            ],
            "--sensitivity",
            id="sensitivity-out-of-range",
        ),
        pytest.param(
            ["mrd", "flow", "--leukemic-events", "300", "--total-events", "200"],
            "--leukemic-events",
            id="laip>total",
        ),
        pytest.param(
            ["mrd", "flow", "--leukemic-events", "x", "--total-events", "200"],
            "--leukemic-events",
            id="flow-non-numeric",
        ),
        pytest.param(
            ["mrd", "flow", "--leukemic-events", "3", "--total-events", "0"],
            "--total-events",
            id="total-zero",
        ),
        pytest.param(
            [
                "mrd",
                "flow",
                "--leukemic-events",
                "3",
                "--total-events",
                "1000",
                "--threshold-percent",
                "150",
            ],
            "--threshold-percent",
            id="percent>100",
        ),
        pytest.param(
            [
                "mrd",
                "flow",
                "--leukemic-events",
                "3",
                "--total-events",
                "1000",
                "--profile",
                "nope",
            ],
            "--profile",
            id="unknown-profile",
        ),
        pytest.param(
            ["mrd", "ngs", "--clonal-cells", "1"], "--dna-ng / --cells", id="ngs-no-denominator"
        ),
        pytest.param(
            ["mrd", "ngs", "--clonal-cells", "-1", "--dna-ng", "100"],
            "--clonal-cells",
            id="ngs-negative",
        ),
        pytest.param(["mrd", "bogus"], "bogus", id="unknown-command"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert named in err
    assert "Traceback" not in err


def test_curve_from_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "standards.csv"
    rows = (
        ["level,ct"]
        + [
            f"{10**lv},{ct}"
            for lv, ct in zip(range(1, 7), [34.68, 31.36, 28.04, 24.72, 21.40, 18.08], strict=True)
        ]
        + ["10,Undetermined"]
    )
    table.write_text("\n".join(rows) + "\n")
    code, out, _ = run(capsys, "mrd", "curve", str(table), "--json")
    payload = json.loads(out)
    assert code == 0
    assert payload["slope"] == pytest.approx(-3.32, abs=1e-3)
    assert payload["efficiency_percent"] == pytest.approx(100.1, abs=0.05)
    assert payload["status"] == "pass"
    assert payload["n_points"] == 6


def test_curve_with_a_bad_cell_names_row_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "standards.csv"
    table.write_text("level,ct\n10,34.6\n100,thirty\n")
    code, out, err = run(capsys, "mrd", "curve", str(table))
    assert code == 2 and out == ""
    assert "standards.csv row 3" in err and "ct" in err and "'thirty'" in err


def test_curve_missing_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "s.csv"
    table.write_text("copies,ct\n10,34.6\n")
    code, _, err = run(capsys, "mrd", "curve", str(table))
    assert code == 2 and "found: copies, ct" in err


def test_failing_curve_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    table = tmp_path / "s.csv"
    table.write_text("level,ct\n10,35\n100,32\n1000,29\n10000,26\n")
    code, out, _ = run(capsys, "mrd", "curve", str(table), "--json")
    assert code == 3
    assert json.loads(out)["status"] == "fail"


def test_internal_errors_exit_1_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mrdtrack.cli.mrd as commands

    def broken(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "flow_mrd", broken)
    monkeypatch.delenv("MRDTRACK_DEBUG", raising=False)
    code, out, err = run(capsys, "mrd", "flow", "--leukemic-events", "1", "--total-events", "10")
    assert code == 1 and out == ""
    assert "internal error" in err and "Traceback" not in err
