"""`mrdtrack dose blinatumomab` and `mrdtrack calendar blinatumomab` (shared/spec/cli.md)."""

import json

import pytest

from tests.cli.runner import run

DOSE = ("dose", "blinatumomab")
CALENDAR = ("calendar", "blinatumomab")


def test_dose_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, *DOSE, "--weight-kg", "20", "--height-cm", "110", "--indication", "mrd", "--json"
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    for key in (
        "bsa_m2",
        "weight_band",
        "daily_dose_ug",
        "steps",
        "infusion_days",
        "treatment_free_days",
        "max_daily_dose_ug",
        "warnings",
        "bsa_formula",
        "label_version",
        "source",
    ):
        assert key in payload, key
    assert payload["bsa_m2"] == pytest.approx(0.78174, abs=1e-5)
    assert payload["weight_band"] == "lt45"
    assert payload["daily_dose_ug"] == pytest.approx(11.726, abs=1e-3)
    assert payload["steps"] == [
        {
            "days": "1-28",
            "daily_dose_ug": payload["daily_dose_ug"],
            "dose_basis": "ug/m2/day",
            "ug_per_m2_day": 15.0,
            "cap_ug": 28.0,
            "cap_binds": False,
            "formula": "min(15 mcg/m²/day × 0.78 m², 28) = 11.73 mcg/day",
        }
    ]
    assert (payload["infusion_days"], payload["treatment_free_days"]) == (28, 14)
    assert payload["max_daily_dose_ug"] == 28.0
    assert payload["warnings"] == []
    assert payload["bsa_formula"] == "mosteller"
    assert payload["label_version"] == "us-uspi-2024@2024-06"


def test_dose_relapsed_cycle_1_steps_and_formula_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        *DOSE,
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--indication",
        "relapsed",
        "--bsa-formula",
        "haycock",
        "--json",
    )
    payload = json.loads(out)
    assert code == 0 and payload["bsa_formula"] == "haycock"
    assert [s["days"] for s in payload["steps"]] == ["1-7", "8-28"]
    assert payload["steps"][0]["daily_dose_ug"] == pytest.approx(5.2821, abs=1e-4)
    assert payload["daily_dose_ug"] == pytest.approx(15.8464, abs=1e-4)


def test_dose_adult_fixed_and_continued_therapy_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *DOSE,
        "--weight-kg",
        "70",
        "--height-cm",
        "170",
        "--indication",
        "relapsed",
        "--cycle",
        "7",
        "--json",
    )
    payload = json.loads(out)
    assert code == 0
    assert payload["weight_band"] == "ge45" and payload["daily_dose_ug"] == 28.0
    assert payload["steps"][0]["dose_basis"] == "ug/day"
    assert payload["treatment_free_days"] == 56


def test_dose_human_output_uses_mcg(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, *DOSE, "--weight-kg", "30", "--height-cm", "135", "--indication", "relapsed"
    )
    assert code == 0 and err == ""
    assert "5.3 mcg/day" in out and "15.91 mcg/day" in out
    assert "µg" not in out and "Mosteller" in out
    assert "not a prescription" in out


def test_dose_recorded_dose_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *DOSE,
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--indication",
        "relapsed",
        "--recorded-daily-dose",
        "5.3",
        "--infusion-day",
        "3",
        "--json",
    )
    recorded = json.loads(out)["recorded"]
    assert code == 0 and recorded["within_tolerance"] is True and recorded["step_days"] == "1-7"
    code, out, _ = run(
        capsys,
        *DOSE,
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--indication",
        "relapsed",
        "--recorded-daily-dose",
        "20",
    )
    assert code == 0 and "OFF the label dose" in out and "warning" in out


def test_seed1_profile_warns_for_45_kg(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        *DOSE,
        "--weight-kg",
        "60",
        "--height-cm",
        "170",
        "--indication",
        "mrd",
        "--profile",
        "seed1-tpog",
        "--json",
    )
    payload = json.loads(out)
    assert code == 0 and payload["label_version"] == "seed1-tpog@1"
    assert any("§12 item 5" in w for w in payload["warnings"])


@pytest.mark.parametrize(
    ("args", "option", "words"),
    [
        pytest.param(
            ["--weight-kg", "0", "--height-cm", "110", "--indication", "mrd"],
            "--weight-kg",
            "≥ 1",
            id="weight-0",
        ),
        pytest.param(
            ["--weight-kg", "20", "--height-cm", "1.35", "--indication", "mrd"],
            "--height-cm",
            "looks like metres; give centimetres",
            id="height-in-metres",
        ),
        pytest.param(
            [
                "--weight-kg",
                "50",
                "--height-cm",
                "160",
                "--indication",
                "mrd",
                "--recorded-daily-dose",
                "0.028",
                "--recorded-unit",
                "mg",
            ],
            "--recorded-unit",
            "0.028 mg = 28 mcg",
            id="dose-in-mg",
        ),
        pytest.param(
            [
                "--weight-kg",
                "50",
                "--height-cm",
                "160",
                "--indication",
                "mrd",
                "--recorded-daily-dose",
                "280",
            ],
            "--recorded-daily-dose",
            "10× entry",
            id="ten-fold-280",
        ),
        pytest.param(
            ["--weight-kg", "30", "--height-cm", "135", "--indication", "mrd", "--cycle", "5"],
            "--cycle",
            "1 to 4",
            id="cycle-beyond-max",
        ),
        pytest.param(
            ["--weight-kg", "30", "--height-cm", "135", "--indication", "induction"],
            "--indication",
            "mrd",
            id="bad-indication",
        ),
        pytest.param(
            ["--weight-kg", "30", "--height-cm", "135", "--indication", "mrd", "--profile", "eu"],
            "--profile",
            "us-uspi-2024",
            id="bad-profile",
        ),
        pytest.param(
            ["--weight-kg", "heavy", "--height-cm", "135", "--indication", "mrd"],
            "--weight-kg",
            "expected a number",
            id="not-a-number",
        ),
    ],
)
def test_dose_bad_input_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str, words: str
) -> None:
    code, out, err = run(capsys, *DOSE, *args, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error:")
    assert option in err and words in err


def test_calendar_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        *CALENDAR,
        "--start",
        "2025-01-01",
        "--indication",
        "mrd",
        "--cycles",
        "2",
        "--weight-kg",
        "30",
        "--height-cm",
        "135",
        "--age-years",
        "9",
        "--interruption",
        "11:5",
        "--json",
    )
    assert code == 0 and err == ""
    payload = json.loads(out)
    first, second = payload["cycles"]
    assert (first["infusion_start"], first["infusion_end"]) == ("2025-01-01", "2025-02-02")
    assert first["interruptions"][0]["outcome"] == "same_cycle"
    assert first["next_cycle_start"] == second["start"] == "2025-02-17"
    assert first["hospitalization_dates"] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert first["days"][0]["daily_dose_ug"] == pytest.approx(15.9099, abs=1e-4)
    assert payload["age_group"] == "child"
    premed = [e for e in first["events"] if e["kind"] == "premedication"]
    assert premed[0]["unconfirmed"] is True


def test_calendar_relapsed_continued_therapy_and_long_interruption(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        *CALENDAR,
        "--start",
        "2025-01-01",
        "--indication",
        "relapsed",
        "--first-cycle",
        "6",
        "--json",
    )
    (cycle,) = json.loads(out)["cycles"]
    assert code == 0 and cycle["treatment_free_end"] == "2025-03-25"
    assert cycle["next_cycle_start"] == "2025-03-26"
    code, out, _ = run(
        capsys,
        *CALENDAR,
        "--start",
        "2025-01-01",
        "--indication",
        "relapsed",
        "--interruption",
        "11:9",
        "--json",
    )
    cycles = json.loads(out)["cycles"]
    assert [c["status"] for c in cycles] == ["stopped", "completed"]
    assert cycles[1]["start"] == "2025-01-20"


def test_calendar_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        *CALENDAR,
        "--start",
        "2025-01-01",
        "--indication",
        "relapsed",
        "--cycles",
        "3",
        "--interruption",
        "3:9",
    )
    assert code == 0 and err == ""
    assert "Reminders" in out and "stopped" in out and "warning: age not given" in out


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(["--start", "2025-13-01", "--indication", "mrd"], "--start", id="bad-date"),
        pytest.param(
            ["--start", "2025-01-01", "--indication", "mrd", "--interruption", "11"],
            "--interruption",
            id="interruption-format",
        ),
        pytest.param(
            ["--start", "2025-01-01", "--indication", "mrd", "--interruption", "30:2"],
            "--interruption",
            id="interruption-treatment-free",
        ),
        pytest.param(
            ["--start", "2025-01-01", "--indication", "mrd", "--cycles", "5"],
            "--cycles",
            id="too-many-cycles",
        ),
        pytest.param(
            [
                "--start",
                "2025-01-01",
                "--indication",
                "mrd",
                "--weight-kg",
                "0",
                "--height-cm",
                "110",
            ],
            "--weight-kg",
            id="weight-0",
        ),
        pytest.param(
            [
                "--start",
                "2025-01-01",
                "--indication",
                "mrd",
                "--weight-kg",
                "20",
                "--height-cm",
                "1.2",
            ],
            "--height-cm",
            id="height-in-metres",
        ),
    ],
)
def test_calendar_bad_input_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], option: str
) -> None:
    code, out, err = run(capsys, *CALENDAR, *args, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error:") and option in err


def test_calendar_help_documents_the_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *CALENDAR, "--help")
    assert code == 0
    for key in ("next_cycle_start", "treatment_free_end", "hospitalization_dates", "events"):
        assert key in out
