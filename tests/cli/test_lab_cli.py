"""``mrdtrack lab …``: the scripting contract of ../shared/spec/cli.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mrdtrack.cli import main
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from tests.lab.documents import ALL_GATES, pcr03_wells, rdml_xml, rdml_zip, sds_text
from tests.lab.fcs_factory import build_fcs, spillover_text, synthetic_marrow

DX = "TGTGCGAGAGATCGGGGTTACTACGGTATGGACGTCTGG"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("labcli")
    raw, names, labels, spill = synthetic_marrow(120_000, blast_fraction=0.002, seed=21)
    paths = {
        "fcs": root / "d29.fcs",
        "gml": root / "laip.xml",
        "rdml": root / "run.rdml",
        "sds": root / "run.txt",
        "ngs": root / "clones.csv",
        "bad": root / "broken.fcs",
    }
    paths["fcs"].write_bytes(
        build_fcs(raw, names, labels=labels, extra={"$SPILLOVER": spillover_text(names[2:], spill)})
    )
    paths["gml"].write_text(ALL_GATES, encoding="utf-8")
    paths["rdml"].write_bytes(rdml_zip(rdml_xml(pcr03_wells())))
    paths["sds"].write_text(sds_text(pcr03_wells()), encoding="utf-8")
    paths["ngs"].write_text(f"# dna_input_ng: 20000\nsequence,locus,templates\n{DX},IGH,4\n")
    paths["bad"].write_bytes(paths["fcs"].read_bytes()[:3000])
    return paths


def test_lab_fcs_json_contract(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "lab",
            "fcs",
            str(files["fcs"]),
            "--strategy",
            str(files["gml"]),
            "--leukemic-gate",
            "LAIP",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"events_total", "gate_counts", "mrd", "file_sha256"} <= set(out)
    assert out["events_total"] == 120_000
    assert out["gate_counts"]["LAIP"] > 0
    mrd = out["mrd"]
    assert {
        "mrd_fraction",
        "mrd_percent",
        "sensitivity_fraction",
        "status",
        "reasons",
        "method",
    } <= set(mrd)
    assert mrd["method"] == "flow" and mrd["status"] == "positive"
    assert mrd["mrd_fraction"] == pytest.approx(out["gate_counts"]["LAIP"] / 120_000)
    assert mrd["inputs"]["fcs_sha256"] == out["file_sha256"]


def test_lab_fcs_not_evaluable_exits_3(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "lab", "fcs", str(files["fcs"]), "--strategy", str(files["gml"]),
            "--leukemic-gate", "LAIP", "--denominator-gate", "CD45dim", "--json",
        ]
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 3
    assert out["mrd"]["status"] == "not_evaluable"


def test_lab_fcs_human_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "lab",
                "fcs",
                str(files["fcs"]),
                "--strategy",
                str(files["gml"]),
                "--leukemic-gate",
                "LAIP",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "gate LAIP" in out and "positive" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(["--leukemic-gate", "Blasts"], "--leukemic-gate", id="unknown-gate"),
        pytest.param(["--profile", "nope"], "--profile", id="unknown-profile"),
    ],
)
def test_lab_fcs_bad_input_is_one_error_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code = main(["lab", "fcs", str(files["fcs"]), "--strategy", str(files["gml"]), *args, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("error:") and needle in captured.err
    assert captured.err.count("\n") == 1


def test_lab_fcs_corrupt_file_names_the_offset(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["lab", "fcs", str(files["bad"]), "--strategy", str(files["gml"]), "--json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "broken.fcs (byte" in err and "truncated" in err


@pytest.mark.parametrize("name", ["rdml", "sds"])
def test_lab_qpcr_json(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code = main(["lab", "qpcr", str(files[name]), "--diagnosis-ncn", "1.59", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    sample = out["samples"]["P001-d29"]
    assert sample["status"] == "positive" and sample["method"] == "rq-pcr"
    assert sample["mrd_fraction"] == pytest.approx(3.81e-3, rel=2e-3)
    assert out["curves"]["ABL1"]["usable"] is True


def test_lab_qpcr_per_sample_ncn_and_human(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lab", "qpcr", str(files["sds"]), "--diagnosis-ncn", "P001-d29=0.93"]) == 0
    assert "sample P001-d29" in capsys.readouterr().out
    assert main(["lab", "qpcr", str(files["sds"]), "--diagnosis-ncn", "=x"]) == 2
    assert "--diagnosis-ncn" in capsys.readouterr().err


def test_lab_ngs_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lab", "ngs", str(files["ngs"]), "--track", f"IGH:{DX}", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["mrd"]["method"] == "ngs" and out["mrd"]["status"] == "positive"
    assert out["tracked"][0]["cell_equivalents"] == 4


def test_lab_run_reports_each_file(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(files[k]) for k in ("fcs", "rdml", "ngs", "bad")]
    code = main(
        [
            "lab", "run", *args, "--strategy", str(files["gml"]), "--leukemic-gate", "LAIP",
            "--diagnosis-ncn", "1.59", "--track", f"IGH:{DX}", "--json",
        ]
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 2  # one file failed; the others were processed
    assert (out["files"], out["failed"]) == (4, 1)
    statuses = [item["status"] for item in out["items"]]
    assert statuses == ["ok", "ok", "ok", "error"]
    assert "broken.fcs" in out["items"][3]["error"]
    assert out["registry"].startswith("not written")


def test_lab_run_human_table(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lab", "run", str(files["rdml"]), "--diagnosis-ncn", "1.59"])
    assert code == 0
    assert "not written to the registry" in capsys.readouterr().out


def test_lab_run_writes_the_registry_once(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    registry = open_registry(url)
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("loader"))
        load_cohort(session, demo_cohort())
    registry.dispose()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,study_id,sample_date,timepoint,tissue,marker\n"
        "d29.fcs,SEED1-P01,2022-05-02,W12,BM,laip\n"
        "run.rdml,NOBODY-1,2022-05-02,W12,BM,\n"
        "clones.csv,SEED1-P03,2021-09-01,W30,PB,\n",
        encoding="utf-8",
    )
    args = ["lab", "run", str(files["fcs"]), str(files["rdml"]), str(files["ngs"])]
    args += ["--strategy", str(files["gml"]), "--leukemic-gate", "LAIP", "--track", f"IGH:{DX}"]
    args += ["--diagnosis-ncn", "1.59", "--manifest", str(manifest), "--db", url, "--user", "tech"]
    code = main([*args, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2  # the unknown study id is a per-file error; the others are stored
    assert out["registry"] == {
        "imported": 2,
        "already_imported": 0,
        "failed": 1,
        "results_written": 2,
    }
    by_name = {Path(i["path"]).name: i["registry"] for i in out["items"]}
    assert "NOBODY-1" in by_name["run.rdml"]["error"]
    assert by_name["clones.csv"]["status"] == "imported"

    code = main(args)
    text = capsys.readouterr().out
    assert code == 2
    assert text.count("already imported") == 2 and "NOBODY-1" in text


def test_lab_run_manifest_needs_db(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,study_id\n", encoding="utf-8")
    code = main(["lab", "run", str(files["ngs"]), "--manifest", str(manifest)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "--db" in err
