"""The lab manifest: row-level validation, lookup by name or path, results round-trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.lab.registry_sink import parse_manifest, read_manifest, result_from_dict
from mrdtrack.mrd import MrdMethod, MrdResult, MrdStatus, QcFlag
from mrdtrack.registry.vocabulary import Tissue

HEADER = "file,study_id,sample_date,timepoint,tissue,marker\n"


def test_csv_manifest_rows() -> None:
    manifest = parse_manifest(
        HEADER + "d29.fcs,P1,2024-03-01,EOI,bm,laip\n\nruns/r.rdml,P2,2024-03-02,EOC,PB,\n",
        "m.csv",
        Path("/data"),
    )
    first, second = manifest.rows
    assert (first.row, first.file, first.study_id, first.sample_date) == (
        2,
        "d29.fcs",
        "P1",
        date(2024, 3, 1),
    )
    assert first.tissue is Tissue.BM and first.marker == "laip"
    assert second.row == 4 and second.marker is None and second.tissue is Tissue.PB
    assert manifest.rows_for("/anywhere/d29.fcs") == (first,)
    assert manifest.rows_for("/data/runs/r.rdml") == (second,)
    assert manifest.rows_for("/elsewhere/runs/r.rdml") == ()


@pytest.mark.parametrize(
    ("body", "field", "row"),
    [
        pytest.param("a.fcs,,2024-03-01,EOI,BM,\n", "study_id", 2, id="missing-study-id"),
        pytest.param("a.fcs,P1,01/03/2024,EOI,BM,\n", "sample_date", 2, id="bad-date"),
        pytest.param("a.fcs,P1,2024-03-01,EOI,CSF,\n", "tissue", 2, id="bad-tissue"),
        pytest.param("a.fcs,P1,2024-03-01," + "T" * 40 + ",BM,\n", "timepoint", 2, id="long-tp"),
        pytest.param("a.fcs,P1,2024-03-01,EOI,BM,,extra\n", "row", 2, id="extra-cell"),
        pytest.param(
            "a.fcs,P1,2024-03-01,EOI,BM,\na.fcs,P2,2024-03-01,EOI,BM,\n", "file", 3, id="dup-file"
        ),
    ],
)
def test_invalid_rows_name_the_row(body: str, field: str, row: int) -> None:
    with pytest.raises(ImportValidationError) as caught:
        parse_manifest(HEADER + body, "m.csv")
    assert caught.value.field == field
    assert caught.value.location == f"m.csv row {row}"


def test_missing_column_and_empty_manifest() -> None:
    with pytest.raises(ImportValidationError, match="tissue"):
        parse_manifest("file,study_id,sample_date,timepoint\n", "m.csv")
    with pytest.raises(ImportValidationError, match="at least one"):
        parse_manifest(HEADER, "m.csv")


def test_yaml_manifest_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "- {file: a.fcs, study_id: P1, sample_date: 2024-03-01, timepoint: EOI, tissue: BM}\n"
        "- {file: r.rdml, study_id: P2, sample_date: 2024-03-02, timepoint: EOI, tissue: BM,"
        " run_sample: P2-d29}\n",
        encoding="utf-8",
    )
    manifest = read_manifest(path)
    assert [r.run_sample for r in manifest.rows] == [None, "P2-d29"]
    assert manifest.rows[0].sample_date == date(2024, 3, 1)
    with pytest.raises(ImportValidationError) as caught:
        parse_manifest("- {file: a.fcs, patient: P1}\n", "m.yaml")
    assert caught.value.location == "m.yaml row 1" and caught.value.field == "column"
    with pytest.raises(ImportValidationError, match="list"):
        parse_manifest("file: a.fcs\n", "m.yaml")
    with pytest.raises(InputError, match="--manifest"):
        read_manifest(tmp_path / "absent.csv")


def test_result_round_trips_through_its_dict() -> None:
    result = MrdResult(
        method=MrdMethod.FLOW,
        status=MrdStatus.NOT_EVALUABLE,
        detected=True,
        mrd_fraction=2e-3,
        sensitivity_fraction=1e-4,
        quantifiable=False,
        reasons=("fewer than 10^5 cells",),
        qc_flags=(QcFlag.INSUFFICIENT_CELLS,),
        inputs={"leukemic_events": 120, "fcs_sha256": "ab"},
        profile="seed1-tpog@1",
        rule="FLOW-01",
        details={"cells_evaluated": 60_000},
    )
    assert result_from_dict(result.to_dict()) == result


def test_the_documented_manifest_parses() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "lab.md"
    block = doc.read_text(encoding="utf-8").split("```csv\n", 1)[1].split("```", 1)[0]
    manifest = parse_manifest(block, "manifest.csv")
    assert [r.run_sample for r in manifest.rows if r.file == "run0412.rdml"] == [
        "P002-d29",
        "P003-w30",
    ]
