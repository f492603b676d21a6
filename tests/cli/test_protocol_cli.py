"""`mrdtrack protocol …`: list, show, evaluate; exit codes and one-line errors."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.runner import run

SHIPPED = [
    "blincyto-us-consolidation",
    "blincyto-us-mrd",
    "blincyto-us-rr",
    "graall-2014b",
    "seed2-pathways",
    "tpog-mrd",
]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *args, "--json")
    assert err == ""
    return code, json.loads(out)


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(capsys, "protocol", "list")
    assert code == 0
    assert [p["id"] for p in payload["protocols"]] == SHIPPED
    tpog = payload["protocols"][-1]
    assert tpog["eligibility_rules"] == ["TH-TPOG-EOI"]
    assert tpog["schedule"] == "TH-TPOG-SCHED"


def test_list_human(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "protocol", "list")
    assert code == 0
    for protocol_id in SHIPPED:
        assert protocol_id in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(capsys, "protocol", "show", "tpog-mrd")
    assert code == 0
    ops = {t["id"]: (t["op"], t["fraction"]) for t in payload["thresholds"]}
    assert ops == {"TPOG-EOI": (">=", 1e-4), "TPOG-EOC": (">", 1e-4)}
    assert payload["schedule"]["cycles"] == 2
    assert payload["schedule"]["dose"]["ug_per_m2_day"] == 15
    assert all(r["citation"]["text"] for r in payload["rules"])


def test_show_human(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "protocol", "show", "graall-2014b")
    assert code == 0
    assert "TH-GRAALL-VHR" in out
    assert "§12 item 1" in out


def test_acceptance_tpog_case_report_patient(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue acceptance: EOI MRD 0.05 %, CR1, 30 kg → the TPOG rule, the dose, the calendar."""
    code, payload = run_json(
        capsys,
        "protocol",
        "evaluate",
        "tpog-mrd",
        "--remission",
        "CR1",
        "--mrd",
        "EOI=0.0005",
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--age-years",
        "8",
        "--start",
        "2025-01-01",
    )
    assert code == 0
    assert payload["status"] == "evaluated"
    assert payload["eligibility"]["verdict"] == "eligible"
    assert payload["eligibility"]["rule_ids"] == ["TH-TPOG-EOI"]
    assert "hematolrep16020035" in payload["eligibility"]["citations"][0]
    assert payload["risk_groups"][0]["rule_id"] == "TH-TPOG-EOI"
    assert payload["dose"]["daily_dose_ug"] == pytest.approx(15.91, abs=0.005)
    assert payload["dose"]["bsa_m2"] == pytest.approx(1.0607, abs=1e-4)
    cycles = payload["calendar"]["cycles"]
    assert [c["start"] for c in cycles] == ["2025-01-01", "2025-02-12"]
    assert cycles[0]["infusion_end"] == "2025-01-28"
    assert cycles[0]["treatment_free_end"] == "2025-02-11"
    assert payload["dose_plan"]["schedule_id"] == "TH-TPOG-SCHED"
    assert payload["inputs"]["mrd"]["EOI"]["mrd_fraction"] == 5e-4


def test_acceptance_human_output_names_rule_dose_calendar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "protocol",
        "evaluate",
        "tpog-mrd",
        "--remission",
        "CR1",
        "--mrd-percent",
        "EOI=0.05",
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--start",
        "2025-01-01",
    )
    assert code == 0
    assert "TH-TPOG-EOI" in out
    assert "15.91 mcg" in out
    assert "2025-02-12" in out


def test_th05_boundary_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(
        capsys,
        "protocol",
        "evaluate",
        "tpog-mrd",
        "--mrd",
        "EOI=0.0005",
        "--mrd-percent",
        "EOC=0.01",
    )
    assert code == 0
    (flag,) = payload["boundary_flags"]
    assert flag["threshold_id"] == "TPOG-EOC"
    assert flag["met"] is False
    assert payload["next_steps"] == []
    assert payload["dose"] is None and payload["calendar"] is None


def test_not_evaluable_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(
        capsys, "protocol", "evaluate", "blincyto-us-mrd", "--remission", "CR1", "--mrd", "EOI=0.01"
    )
    assert code == 3
    assert payload["status"] == "not_evaluable"
    assert payload["missing_data"] == ["cd19_positive"]
    assert "cd19_positive" in payload["reasons"][0]


def test_timeline_file_and_override(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(
        "disease_status: CR1\ncd19_positive: true\nmrd:\n  PRE_BLIN: 5.0e-4\n", encoding="utf-8"
    )
    code, payload = run_json(
        capsys, "protocol", "evaluate", "blincyto-us-mrd", "--timeline", str(path)
    )
    assert code == 0 and payload["eligibility"]["verdict"] == "not_eligible"
    code, payload = run_json(
        capsys,
        "protocol",
        "evaluate",
        "blincyto-us-mrd",
        "--timeline",
        str(path),
        "--mrd",
        "PRE_BLIN=0.001",
    )
    assert code == 0 and payload["eligibility"]["verdict"] == "eligible"


def test_consolidation_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(
        capsys,
        "protocol",
        "evaluate",
        "blincyto-us-consolidation",
        "--ph-negative",
        "--cd19-positive",
        "--phase",
        "consolidation",
        "--age-months",
        "2",
        "--mrd",
        "EOC=nd@1e-5",
    )
    assert code == 0
    assert payload["eligibility"]["rule_ids"] == ["TH-FDA-CONS"]


def test_seed2_pathway_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, payload = run_json(
        capsys,
        "protocol",
        "evaluate",
        "seed2-pathways",
        "--remission",
        "relapsed",
        "--cd19-positive",
        "--prior-therapy",
        "blinatumomab",
        "--blinatumomab-response",
        "response",
    )
    assert code == 0
    steps = {s["rule_id"]: s for s in payload["next_steps"]}
    actions = {a["action"] for a in steps["SEED2-F1-RELAPSE"]["actions"]}
    assert actions == {"blinatumomab_retreatment", "car_t"}
    assert "MJHID.2024.070" in steps["SEED2-F1-RELAPSE"]["citation"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        pytest.param(["protocol", "show", "tpog"], ["tpog-mrd", "graall-2014b"], id="unknown-id"),
        pytest.param(
            ["protocol", "evaluate", "nope", "--mrd", "EOI=0.01"], ["tpog-mrd"], id="unknown-eval"
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--mrd", "EOI=lots"], ["--mrd.EOI"], id="mrd"
        ),
        pytest.param(["protocol", "evaluate", "tpog-mrd", "--mrd", "EOI"], ["--mrd"], id="no-="),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--mrd", "EOI=0"], ["--mrd.EOI"], id="mrd-zero"
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--mrd-percent", "EOI=nd"],
            ["--mrd-percent"],
            id="percent",
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--remission", "CR0"], ["--remission"], id="cr0"
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--weight-kg", "-3"], ["--weight-kg"], id="weight"
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--start", "01/01/2025", "--weight-kg", "30"],
            ["--start"],
            id="start",
        ),
        pytest.param(
            ["protocol", "evaluate", "tpog-mrd", "--prior-therapy", "cart"],
            ["--prior-therapy"],
            id="therapy",
        ),
    ],
)
def test_bad_input_exit_2_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error:") and err.count("\n") == 1
    for name in names:
        assert name in err


def test_malformed_timeline_names_file_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text("disease_status: CR1\nmrd:\n  EOI: lots\n", encoding="utf-8")
    code, out, err = run(capsys, "protocol", "evaluate", "tpog-mrd", "--timeline", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "patient.yaml" in err and "mrd.EOI" in err


def test_protocol_file_argument(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: x\n", encoding="utf-8")
    code, out, err = run(capsys, "protocol", "show", str(path))
    assert code == 2 and out == ""
    assert err.startswith("error: bad.yaml: version:")
