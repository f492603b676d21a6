"""`mrdtrack report …` and `mrdtrack plot …` over the case-series registry."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.runner import run
from tests.figures import demo

INSTALL = "run `scripts/install --dev` (Debian's chromium and poppler-utils)"


@pytest.fixture
def db() -> str:
    return demo.demo_url()


def test_cohort_report_as_pdf_holds_table_1(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    if shutil.which("chromium") is None or shutil.which("pdftotext") is None:
        pytest.fail(f"chromium or pdftotext not found: {INSTALL}", pytrace=False)
    out = tmp_path / "report.pdf"
    code, stdout, _ = run(capsys, "report", "cohort", "--out", str(out), "--db", db, "--json")
    assert code == 0
    payload = json.loads(stdout)
    assert payload["format"] == "pdf" and payload["patients"] == 11
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, check=True, text=True
    ).stdout
    for value in ("Table 1", "SEED1-P05", "CyBu", "165", "270", "11.5 (3.0–19.0)", "Methods"):
        assert value in text, value


def test_patient_and_sample_reports_as_html(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, stdout, _ = run(
        capsys,
        "report",
        "patient",
        "SEED1-P05",
        "--out",
        str(tmp_path / "p.html"),
        "--db",
        db,
        "--json",
    )
    assert code == 0 and json.loads(stdout)["mrd_results"] == 11
    sample_id = demo.demo()[0][4].mrd[3].sample_id
    code, stdout, _ = run(
        capsys,
        "report",
        "sample",
        str(sample_id),
        "--out",
        str(tmp_path / "s.html"),
        "--db",
        db,
        "--json",
    )
    assert code == 0
    assert json.loads(stdout) | {"bytes": 0, "out": ""} == {
        "out": "",
        "format": "html",
        "sample_id": sample_id,
        "study_id": "SEED1-P05",
        "results": 1,
        "statuses": "positive",
        "bytes": 0,
    }
    code, stdout, _ = run(
        capsys, "report", "patient", "SEED1-P01", "--out", str(tmp_path / "p1.html"), "--db", db
    )
    assert code == 0 and "patient report" in stdout


@pytest.mark.parametrize(
    ("args", "suffix", "magic"),
    [
        pytest.param(["swimmer", "--sort", "response"], "svg", b"<?xml", id="swimmer"),
        pytest.param(
            ["km", "--endpoint", "efs", "--group", "status-before-blinatumomab"],
            "png",
            b"\x89PNG",
            id="km",
        ),
        pytest.param(["cif"], "pdf", b"%PDF", id="cif"),
        pytest.param(["mrd", "SEED1-P05"], "svg", b"<?xml", id="mrd-one"),
        pytest.param(["mrd", "--columns", "3"], "png", b"\x89PNG", id="mrd-grid"),
    ],
)
def test_plots(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tmp_path: Path,
    args: list[str],
    suffix: str,
    magic: bytes,
) -> None:
    out = tmp_path / f"figure.{suffix}"
    code, stdout, err = run(capsys, "plot", *args, "--out", str(out), "--db", db, "--json")
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["out"] == str(out) and payload["files"] == 1
    assert out.read_bytes().startswith(magic)


def test_km_with_groups_reports_the_log_rank_p(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    code, stdout, _ = run(
        capsys,
        "plot",
        "km",
        "--endpoint",
        "efs",
        "--group",
        "status-before-blinatumomab",
        "--out",
        str(tmp_path / "k.svg"),
        "--db",
        db,
        "--json",
    )
    payload = json.loads(stdout)
    assert code == 0 and payload["events"] == 2 and 0 < payload["logrank_p"] < 1


def test_swimmer_pages(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    code, stdout, _ = run(
        capsys,
        "plot",
        "swimmer",
        "--rows-per-page",
        "4",
        "--out",
        str(tmp_path / "s.svg"),
        "--db",
        db,
        "--json",
    )
    assert code == 0 and json.loads(stdout)["pages"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s-1.svg", "s-2.svg", "s-3.svg"]
    code, stdout, _ = run(
        capsys,
        "plot",
        "swimmer",
        "--rows-per-page",
        "4",
        "--out",
        str(tmp_path / "all.pdf"),
        "--db",
        db,
        "--json",
    )
    assert code == 0 and json.loads(stdout)["files"] == 1
    assert (tmp_path / "all.pdf").read_bytes().count(b"/Type /Page\n") + (
        tmp_path / "all.pdf"
    ).read_bytes().count(b"/Type /Page ") >= 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["report", "cohort", "--out", "{dir}/r.docx"],
            "error: --out: got '{dir}/r.docx'; expected a file name ending in .html or .pdf",
            id="report-format",
        ),
        pytest.param(
            ["plot", "km", "--out", "{dir}/k.jpg"],
            "error: --out: got '{dir}/k.jpg'; expected a file name ending in .svg, .png or .pdf",
            id="figure-format",
        ),
        pytest.param(
            ["report", "patient", "NOPE", "--out", "{dir}/p.html"],
            "error: no patient named 'NOPE'",
            id="patient",
        ),
        pytest.param(
            ["report", "sample", "999999", "--out", "{dir}/s.html"],
            "error: no sample named '999999'",
            id="sample",
        ),
        pytest.param(
            ["plot", "swimmer", "--time-zero", "remission", "--out", "{dir}/s.svg"],
            "error: --time-zero: got 'remission'",
            id="remission",
        ),
    ],
)
def test_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path, args: list[str], message: str
) -> None:
    code, stdout, err = run(capsys, *(a.format(dir=tmp_path) for a in args), "--db", db)
    assert code == 2 and stdout == ""
    assert err.startswith(message.format(dir=tmp_path)) and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_an_empty_registry_says_to_load_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert run(capsys, "init", "--db", db)[0] == 0
    code, _, err = run(capsys, "report", "cohort", "--out", str(tmp_path / "r.html"), "--db", db)
    assert code == 2 and "mrdtrack demo" in err
