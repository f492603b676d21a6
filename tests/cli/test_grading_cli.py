"""The `mrdtrack grade …` commands keep the CLI contract (shared/spec/cli.md)."""

import json
from typing import Any

import pytest

from tests.cli.runner import run as run_cli


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "grade", *args)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    assert err == ""
    payload: dict[str, Any] = json.loads(out)
    return payload


def test_crs_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(
        capsys,
        "crs",
        "--temperature-c",
        "39.2",
        "--hypotension",
        "one-vasopressor",
        "--hypoxia",
        "low-flow",
    )
    assert payload["grade"] == 3
    assert payload["system"] == "ASTCT-2019"
    assert payload["drivers"] == ["hypotension: one vasopressor → grade 3"]
    assert payload["inputs"]["temperature_c"] == 39.2


def test_crs_vasopressin_and_anti_cytokine(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(
        capsys, "crs", "--temperature-c", "39", "--hypotension", "one-vasopressor", "--vasopressin"
    )
    assert payload["grade"] == 3
    payload = run_json(capsys, "crs", "--anti-cytokine", "--hypoxia", "positive-pressure")
    assert payload["grade"] == 4
    payload = run_json(
        capsys, "crs", "--temperature-c", "37", "--antipyretic", "--hypoxia", "low-flow"
    )
    assert payload["grade"] == 2
    assert run_json(capsys, "crs", "--temperature-c", "39", "--died-of-crs")["grade"] == 5


def test_crs_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "crs", "--temperature-c", "38.3")
    assert code == 0 and err == ""
    assert "CRS grade" in out and "ASTCT-2019" in out


def test_agvhd_contract_example(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(
        capsys,
        "agvhd",
        "--skin-rash-bsa-percent",
        "60",
        "--bilirubin-mg-dl",
        "1.0",
        "--diarrhea-ml-per-day",
        "0",
    )
    assert (payload["skin_stage"], payload["liver_stage"], payload["gut_stage"]) == (3, 0, 0)
    assert payload["grade"] == 2
    assert payload["system"] == "Glucksberg-Keystone-1994"


def test_agvhd_child_and_magic(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(capsys, "agvhd", "--diarrhea-ml-per-kg-day", "25", "--weight-kg", "20")
    assert payload["gut_stage"] == 2 and payload["grade"] == 3
    magic = run_json(capsys, "agvhd", "--grossly-bloody-stool", "--system", "magic")
    assert magic["grade"] == 4 and magic["system"] == "MAGIC-2016"
    upper = run_json(capsys, "agvhd", "--upper-gi", "--system", "magic")
    assert (upper["upper_gi_stage"], upper["grade"]) == (1, 2)
    keystone = run_json(capsys, "agvhd", "--upper-gi", "--upper-gi-biopsy-positive")
    assert (keystone["gut_stage"], keystone["grade"]) == (1, 2)


def test_agvhd_down_staging_switch(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("agvhd", "--bilirubin-mg-dl", "4.5", "--liver-other-cause")
    assert run_json(capsys, *args)["liver_stage"] == 2
    older = run_json(capsys, *args, "--downstage-liver")
    assert older["liver_stage"] == 1
    assert older["profile"].endswith("+downstage-liver")


def test_agvhd_human_output_uses_roman_grades(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "agvhd", "--bilirubin-mg-dl", "4.5")
    assert code == 0
    assert "III" in out


def test_icans(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(
        capsys,
        "icans",
        "--age-years",
        "8",
        "--capd-score",
        "6",
        "--consciousness",
        "awakens-to-voice",
    )
    assert payload["grade"] == 2 and payload["tool"] == "CAPD"
    assert payload["domain_grades"]["consciousness"] == 2
    payload = run_json(capsys, "icans", "--age-years", "30", "--ice-items", "4,3,1,0,0")
    assert payload["encephalopathy_score"] == 8 and payload["grade"] == 1
    payload = run_json(capsys, "icans", "--age-years", "6", "--capd-items", "4,4,0,0,4,0,0,0")
    assert payload["encephalopathy_score"] == 12 and payload["grade"] == 3
    assert (
        run_json(capsys, "icans", "--age-years", "40", "--consciousness", "unarousable")["grade"]
        == 4
    )


def test_cgvhd(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(capsys, "cgvhd", "--lung-fev1-percent", "70")
    assert payload["severity"] == "moderate" and payload["system"] == "NIH-2014"
    assert payload["organ_scores"]["lungs"] == 1
    payload = run_json(capsys, "cgvhd", "--liver", "2", "--skin", "1", "--excluded", "liver")
    assert payload["severity"] == "mild"
    assert payload["excluded_organs"] == ["liver"]


def test_igg(capsys: pytest.CaptureFixture[str]) -> None:
    payload = run_json(capsys, "igg", "--igg-g-l", "3.6", "--age-years", "40")
    assert payload["igg_mg_dl"] == pytest.approx(360.0)
    assert payload["status"] == "hypogammaglobulinemia"
    assert payload["hypogammaglobulinemia"] is True
    payload = run_json(
        capsys, "igg", "--igg-mg-dl", "450", "--age-years", "40", "--profile", "adult-500"
    )
    assert payload["threshold_mg_dl"] == 500


def test_igg_post_ivig_is_exit_3_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "igg",
        "--igg-mg-dl",
        "900",
        "--age-years",
        "40",
        "--days-since-ivig",
        "5",
        "--json",
    )
    assert code == 3 and err == ""
    payload = json.loads(out)
    assert payload["status"] == "not_evaluable"
    assert payload["flags"] == ["post_ivig"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("crs", "--temperature-c", "-3"), "--temperature-c"),
        (("crs", "--temperature-c", "102"), "--temperature-c"),
        (("crs",), "--temperature-c"),
        (("crs", "--temperature-c", "39", "--hypotension", "two"), "--hypotension"),
        (("crs", "--temperature-c", "hot"), "--temperature-c"),
        (("icans", "--age-years", "30"), "--ice-score"),
        (("icans", "--age-years", "30", "--ice-score", "11"), "--ice-score"),
        (("icans", "--age-years", "30", "--ice-items", "4,3,1"), "--ice-items"),
        (("icans", "--age-years", "30", "--ice-items", "4,x,1,1,1"), "--ice-items"),
        (("icans", "--age-years", "30", "--ice-items", "4,5,1,1,1"), "--ice-items"),
        (("icans", "--age-years", "8", "--ice-score", "9"), "--ice-score"),
        (("icans", "--age-years", "8", "--capd-items", "4,4,0,0,5,0,0,0"), "--capd-items"),
        (("agvhd", "--skin-rash-bsa-percent", "120"), "--skin-rash-bsa-percent"),
        (("agvhd", "--bilirubin-mg-dl", "-1"), "--bilirubin-mg-dl"),
        (("agvhd", "--system", "seattle"), "--system"),
        (
            ("agvhd", "--diarrhea-ml-per-day", "500", "--diarrhea-ml-per-kg-day", "10"),
            "--diarrhea-ml-per-kg-day",
        ),
        (("cgvhd", "--mouth", "4"), "--mouth"),
        (("cgvhd", "--excluded", "kidney"), "--excluded"),
        (("cgvhd", "--lung-fev1-percent", "-10"), "--lung-fev1-percent"),
        (("igg", "--age-years", "40"), "--igg-mg-dl"),
        (("igg", "--igg-mg-dl", "400", "--igg-g-l", "4", "--age-years", "40"), "--igg-mg-dl"),
        (("igg", "--igg-mg-dl", "-4", "--age-years", "40"), "--igg-mg-dl"),
        (("igg", "--igg-mg-dl", "400"), "--age-years"),
        (("igg", "--igg-mg-dl", "400", "--age-years", "40", "--profile", "x"), "--profile"),
    ],
)
def test_bad_input_is_exit_2_with_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], option: str
) -> None:
    code, out, err = run(capsys, *args, "--json")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    assert option in lines[0]


def test_help_lists_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    for command, key in (
        ("crs", "drivers"),
        ("icans", "domain_grades"),
        ("agvhd", "gut_stage"),
        ("cgvhd", "severity"),
        ("igg", "threshold_mg_dl"),
    ):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert key in out, command
