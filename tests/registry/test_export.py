"""Exports: CSV and XLSX in the dictionary's shape, formula-safe, audited, and re-importable."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mrdtrack.errors import InputError
from mrdtrack.registry.audit import AuditActor, set_actor, verify_chain
from mrdtrack.registry.cells import FORMULA_TRIGGERS
from mrdtrack.registry.database import Registry
from mrdtrack.registry.dictionary import ColumnType, TableRows, table_spec
from mrdtrack.registry.exporter import (
    ExportFormat,
    cohort_tables,
    export_registry,
    write_csv,
)
from mrdtrack.registry.importer import import_file
from mrdtrack.registry.models import AuditEntry
from mrdtrack.registry.privacy import ExportMode
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.store import get_patient, soft_delete
from mrdtrack.registry.synth import synthetic_cohort
from tests.registry.registry_state import content, empty_registry_like, state

ACTOR = AuditActor("export-tester")
PAYLOADS = (
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "'=already quoted",
    "''=twice",
)


def _payload_tables() -> list[TableRows]:
    """A patient whose text fields carry spreadsheet formula payloads."""
    sid = "PAYLOAD-1"
    rows: dict[str, dict[str, object]] = {
        "patients": {"study_id": sid, "site_code": "S-1", "sex": "male", "notes": PAYLOADS[0]},
        "diagnoses": {
            "study_id": sid,
            "diagnosis_date": date(2020, 1, 2),
            "genetic_subtype": "other",
            "risk_group": PAYLOADS[2],
            "protocol": PAYLOADS[3],
        },
        "markers": {"study_id": sid, "key": "@laip", "kind": "laip", "definition": PAYLOADS[1]},
        "adverse_events": {
            "study_id": sid,
            "term": "-fever",
            "onset_date": date(2020, 2, 1),
            "scale": "CTCAE-5.0",
            "management": PAYLOADS[4],
        },
        "outcomes": {
            "study_id": sid,
            "kind": "relapse",
            "event_date": date(2021, 1, 1),
            "detail": PAYLOADS[5],
        },
        "lab_values": {
            "study_id": sid,
            "test": PAYLOADS[6],
            "sample_date": date(2020, 3, 1),
            "value": 0.0,
            "unit": "+u",
        },
    }
    return [TableRows(name, tuple(row), (row,)) for name, row in rows.items()]


def _seed(registry: Registry, tmp_path: Path) -> None:
    """Demo cohort, a synthetic cohort (every MRD method) and formula payloads, imported."""
    for name, tables in (
        ("demo.zip", cohort_tables(demo_cohort())),
        ("synthetic.zip", cohort_tables(synthetic_cohort(25, seed=11))),
        ("payloads.zip", _payload_tables()),
    ):
        write_csv(tables, tmp_path / name)
        import_file(registry, tmp_path / name, ACTOR)


@pytest.mark.parametrize(
    ("fmt", "out"),
    [(ExportFormat.CSV, "full.zip"), (ExportFormat.XLSX, "full.xlsx"), (ExportFormat.CSV, "dir")],
)
def test_a_full_export_imports_back_into_an_empty_registry_with_the_same_content(
    registry: Registry, tmp_path: Path, fmt: ExportFormat, out: str
) -> None:
    _seed(registry, tmp_path)
    report = export_registry(
        registry, tmp_path / out, ACTOR, format=fmt, mode=ExportMode.FULL, purpose="round trip"
    )
    source = content(registry)
    assert report.rows == {t.name: len(t.rows) for t in source}
    target = empty_registry_like(registry, tmp_path)
    try:
        if out == "dir":
            (tmp_path / "archive.zip").write_bytes(_zip_directory(tmp_path / out))
            import_file(target, tmp_path / "archive.zip", ACTOR)
        else:
            import_file(target, tmp_path / out, ACTOR)
        assert content(target) == source
        notes = {r["study_id"]: r["notes"] for r in content(target)[0].rows}
        assert notes["PAYLOAD-1"] == PAYLOADS[0]
    finally:
        target.dispose()


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def _numeric_columns(table: str) -> set[str]:
    kinds = {ColumnType.NUMBER, ColumnType.INTEGER}
    return {c.name for c in table_spec(table).columns if c.type in kinds}


def test_formula_payloads_come_out_inert_and_numbers_stay_numbers(
    registry: Registry, tmp_path: Path
) -> None:
    _seed(registry, tmp_path)
    export_registry(
        registry,
        tmp_path / "x.zip",
        ACTOR,
        format=ExportFormat.CSV,
        mode=ExportMode.FULL,
        purpose="formula check",
    )
    export_registry(
        registry,
        tmp_path / "x.xlsx",
        ACTOR,
        format=ExportFormat.XLSX,
        mode=ExportMode.FULL,
        purpose="formula check",
    )
    seen_payloads = 0
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        for member in archive.namelist():
            table = member.removesuffix(".csv")
            numeric = _numeric_columns(table)
            reader = csv.DictReader(io.StringIO(archive.read(member).decode("utf-8")))
            for row in reader:
                for name, cell in row.items():
                    assert cell[:1] not in FORMULA_TRIGGERS, (member, name, cell)
                    if name in numeric and cell:
                        float(cell)  # a number, not a quoted text
                    seen_payloads += cell.lstrip("'") in {p.lstrip("'") for p in PAYLOADS}
    assert seen_payloads >= len(PAYLOADS)
    workbook = load_workbook(tmp_path / "x.xlsx", read_only=True)
    try:
        for sheet in workbook.worksheets:
            numeric = _numeric_columns(sheet.title)
            rows = sheet.iter_rows()
            header = [c.value for c in next(rows)]
            for cells in rows:
                for name, cell in zip(header, cells, strict=False):
                    if cell.value is None:
                        continue
                    assert cell.data_type != "f", (sheet.title, name, cell.value)
                    if isinstance(cell.value, str):
                        assert cell.value[:1] not in FORMULA_TRIGGERS, (sheet.title, name)
                    if name in numeric:
                        assert cell.data_type == "n" and isinstance(cell.value, int | float)
    finally:
        workbook.close()


def test_every_export_writes_one_audit_row_with_scope_mode_purpose_and_rows(
    registry: Registry, tmp_path: Path
) -> None:
    _seed(registry, tmp_path)
    before = state(registry)
    report = export_registry(
        registry,
        tmp_path / "audited.xlsx",
        ACTOR,
        format=ExportFormat.XLSX,
        mode=ExportMode.DEIDENTIFIED,
        purpose="statistical analysis plan v2",
    )
    assert report.sha256 == hashlib.sha256((tmp_path / "audited.xlsx").read_bytes()).hexdigest()
    after = state(registry)
    assert after.counts["audit_entry"] == before.counts["audit_entry"] + 1
    assert {k: v for k, v in after.counts.items() if k != "audit_entry"} == {
        k: v for k, v in before.counts.items() if k != "audit_entry"
    }
    with registry.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (entry.action, entry.entity, entry.entity_id) == ("export", "export", report.sha256)
        assert entry.actor == ACTOR.user and entry.reason == "statistical analysis plan v2"
        record = json.loads(entry.new_value or "{}")
        chain = verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert record["mode"] == "deidentified" and record["purpose"] == report.purpose
    assert record["rows"] == dict(report.rows) and record["total_rows"] == report.total_rows
    assert record["scope"]["patients"] == report.rows["patients"]
    assert chain.ok


@pytest.mark.parametrize(
    ("out", "fmt", "purpose", "field"),
    [
        ("ok.xlsx", ExportFormat.XLSX, "  ", "--purpose"),
        ("exists.xlsx", ExportFormat.XLSX, "reason", "--out"),
        ("wrong.csv", ExportFormat.XLSX, "reason", "--out"),
        ("missing/dir.zip", ExportFormat.CSV, "reason", "--out"),
    ],
)
def test_an_export_without_purpose_or_with_a_bad_path_is_refused_and_not_audited(
    registry: Registry, tmp_path: Path, out: str, fmt: ExportFormat, purpose: str, field: str
) -> None:
    (tmp_path / "exists.xlsx").write_bytes(b"keep me")
    before = state(registry)
    with pytest.raises(InputError) as refused:
        export_registry(
            registry, tmp_path / out, ACTOR, format=fmt, mode=ExportMode.FULL, purpose=purpose
        )
    assert refused.value.field == field
    assert state(registry) == before
    assert (tmp_path / "exists.xlsx").read_bytes() == b"keep me"
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("registry."))
    assert left == ["exists.xlsx"]


def test_soft_deleted_patients_are_not_exported(registry: Registry, tmp_path: Path) -> None:
    _seed(registry, tmp_path)
    with registry.transaction() as session:
        set_actor(session, AuditActor("export-tester", reason="duplicate record"))
        soft_delete(session, get_patient(session, "SEED1-P03"))
    tables = {t.name: t for t in content(registry)}
    assert all(r["study_id"] != "SEED1-P03" for t in tables.values() for r in t.rows)
    assert len(tables["patients"].rows) == 11 + 25 + 1 - 1
