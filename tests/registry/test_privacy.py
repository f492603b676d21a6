"""Privacy modes: Safe Harbor de-identification and per-patient date-shift pseudonyms."""

from __future__ import annotations

import csv
import io
import itertools
import json
import random
import re
import zipfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry
from mrdtrack.registry.dictionary import ColumnType, TableRows, table_spec
from mrdtrack.registry.exporter import ExportFormat, cohort_tables, export_registry, write_csv
from mrdtrack.registry.importer import import_file
from mrdtrack.registry.models import AuditEntry, PatientIdentifier
from mrdtrack.registry.privacy import (
    MAX_SHIFT_DAYS,
    ExportMode,
    deidentify,
    pseudonymize,
)
from mrdtrack.registry.store import get_patient
from mrdtrack.registry.synth import synthetic_cohort
from tests.registry.registry_state import content

ACTOR = AuditActor("privacy-tester")
CANARIES = (
    "ZEBULON",
    "QUIXOTE",
    "MRN-CANARY",
    "CANARY-STUDY",
    "ZQ.CANARY@",
    "555-0199",
    "GRACKLEWOOD",
    "1925-03-14",
)
_ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_LOCAL_DATE = re.compile(r"(?<!\d)\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?!\d)")
_FREE_TEXT = {
    c.name
    for t in ("patients", "markers", "adverse_events", "outcomes", "treatments")
    for c in table_spec(t).columns
    if c.free_text
}


def _canary_tables() -> list[TableRows]:
    old, young = "CANARY-STUDY-MRN990011", "OLD-89"
    rows: dict[str, list[dict[str, Any]]] = {
        "patients": [
            {
                "study_id": old,
                "site_code": "GRACKLEWOOD-HOSP",
                "site_name": "Gracklewood Children's Hospital",
                "sex": "female",
                "birth_date": date(1925, 3, 14),
                "notes": "Zebulon Quixote, MRN-CANARY-990011, call 555-0199",
            },
            {
                "study_id": young,
                "site_code": "GRACKLEWOOD-HOSP",
                "sex": "male",
                "birth_date": date(1931, 6, 2),
            },
        ],
        "diagnoses": [
            {"study_id": old, "diagnosis_date": date(2020, 6, 1), "genetic_subtype": "other"},
            {"study_id": young, "diagnosis_date": date(2020, 6, 1), "genetic_subtype": "other"},
        ],
        "markers": [
            {
                "study_id": old,
                "key": "laip",
                "kind": "laip",
                "definition": "set up by Dr Quixote for Zebulon",
            }
        ],
        "samples": [
            {"study_id": old, "sample_date": date(2020, 7, 6), "timepoint": "EOI", "tissue": "BM"}
        ],
        "mrd_results": [
            {
                "study_id": old,
                "sample_date": date(2020, 7, 6),
                "timepoint": "EOI",
                "marker": "laip",
                "method": "flow",
                "leukemic_events": 40,
                "total_events": 300000,
            }
        ],
        "treatments": [
            {
                "study_id": old,
                "kind": "chemotherapy",
                "start_date": date(2020, 6, 2),
                "phase": "induction",
                "other_details": {"ward": "Zebulon wing, Gracklewood"},
            }
        ],
        "adverse_events": [
            {
                "study_id": old,
                "term": "febrile neutropenia",
                "onset_date": date(2020, 6, 20),
                "scale": "CTCAE-5.0",
                "grade": 3,
                "management": "Zebulon's daughter (zq.canary@example.org) informed on 2020-06-21",
            }
        ],
        "outcomes": [
            {
                "study_id": old,
                "kind": "last_contact",
                "event_date": date(2021, 3, 1),
                "detail": "seen at home, 14/03/2021, by Dr Quixote",
            }
        ],
    }
    return [
        TableRows(name, tuple({k for r in found for k in r}), tuple(found))
        for name, found in rows.items()
    ]


def _seed_canaries(registry: Registry, tmp_path: Path) -> None:
    write_csv(cohort_tables(synthetic_cohort(15, seed=3)), tmp_path / "cohort.zip")
    import_file(registry, tmp_path / "cohort.zip", ACTOR)
    write_csv(_canary_tables(), tmp_path / "canaries.zip")
    import_file(registry, tmp_path / "canaries.zip", ACTOR)
    with registry.transaction() as session:
        set_actor(session, ACTOR)
        patient = get_patient(session, "CANARY-STUDY-MRN990011")
        for kind, value in (
            ("name", "Zebulon Quixote"),
            ("mrn", "MRN-CANARY-990011"),
            ("phone", "+1 555-0199"),
            ("email", "zq.canary@example.org"),
            ("birth_date", "1925-03-14"),
        ):
            session.add(PatientIdentifier(patient_id=patient.id, kind=kind, value=value))


def _csv_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        return {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(archive.read(name).decode("utf-8")))
            )
            for name in archive.namelist()
        }


def test_a_safe_harbor_export_holds_no_canary_no_full_date_and_tops_ages_at_90(
    registry: Registry, tmp_path: Path
) -> None:
    _seed_canaries(registry, tmp_path)
    originals = {r["study_id"] for r in content(registry)[0].rows}
    for fmt, name in ((ExportFormat.CSV, "deid.zip"), (ExportFormat.XLSX, "deid.xlsx")):
        export_registry(
            registry,
            tmp_path / name,
            ACTOR,
            format=fmt,
            mode=ExportMode.DEIDENTIFIED,
            purpose="Safe Harbor check",
            rng=random.Random(7),
        )
    with zipfile.ZipFile(tmp_path / "deid.zip") as archive:
        text = "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    workbook = load_workbook(tmp_path / "deid.xlsx", read_only=True)
    try:
        cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
        assert not any(c.is_date for c in cells if c.value is not None)
        text += "\n".join(str(c.value) for c in cells if c.value is not None)
    finally:
        workbook.close()
    upper = text.upper()
    assert [c for c in CANARIES if c.upper() in upper] == []
    assert _ISO_DATE.findall(text) == [] and _LOCAL_DATE.findall(text) == []
    assert [sid for sid in originals if sid in text] == []
    tables = _csv_tables(tmp_path / "deid.zip")
    for table, rows in tables.items():
        assert not set(rows[0] if rows else {}) & (_FREE_TEXT | {"site_name", "birth_date"}), table
        assert all(re.fullmatch(r"DEID-[0-9a-f]{16}", r["study_id"]) for r in rows)
    patients = tables["patients"]
    ids = [r["study_id"] for r in patients]
    assert len(set(ids)) == len(ids) == len(originals)
    assert all({r["study_id"] for r in rows} <= set(ids) for rows in tables.values())
    ages = sorted(r["age_at_diagnosis_years"] for r in patients if r["age_at_diagnosis_years"])
    assert "90+" in ages and "88" in ages and not any(a.isdigit() and int(a) >= 90 for a in ages)
    assert {r["site_code"] for r in patients} <= {"SITE-01", "SITE-02", "SITE-03", "SITE-04"}
    diagnoses = tables["diagnoses"]
    assert all(r["diagnosis_day"] == "0" and len(r["diagnosis_year"]) == 4 for r in diagnoses)
    assert {"sample_day", "timepoint"} <= set(tables["mrd_results"][0])


def test_de_identified_ids_come_from_the_random_source_alone(
    registry: Registry, tmp_path: Path
) -> None:
    _seed_canaries(registry, tmp_path)
    seen = []
    for seed, name in ((1, "a.zip"), (2, "b.zip")):
        export_registry(
            registry,
            tmp_path / name,
            ACTOR,
            format=ExportFormat.CSV,
            mode=ExportMode.DEIDENTIFIED,
            purpose="id check",
            rng=random.Random(seed),
        )
        seen.append({r["study_id"] for r in _csv_tables(tmp_path / name)["patients"]})
    assert not seen[0] & seen[1]


def test_a_pseudonymized_export_keeps_every_interval_and_never_shows_the_shift(
    registry: Registry, tmp_path: Path
) -> None:
    _seed_canaries(registry, tmp_path)
    export_registry(
        registry,
        tmp_path / "full.zip",
        ACTOR,
        format=ExportFormat.CSV,
        mode=ExportMode.FULL,
        purpose="reference",
    )
    export_registry(
        registry,
        tmp_path / "pseudo.zip",
        ACTOR,
        format=ExportFormat.CSV,
        mode=ExportMode.PSEUDONYMIZED,
        purpose="collaboration",
        rng=random.Random(5),
    )
    full, pseudo = _csv_tables(tmp_path / "full.zip"), _csv_tables(tmp_path / "pseudo.zip")
    shifts: dict[str, set[int]] = defaultdict(set)
    for table, rows in full.items():
        dated = [c.name for c in table_spec(table).columns if c.type is ColumnType.DATE]
        assert len(rows) == len(pseudo[table])
        for original, shifted in zip(rows, pseudo[table], strict=True):
            assert original["study_id"] == shifted["study_id"]
            for name in dated:
                if original[name]:
                    delta = date.fromisoformat(original[name]) - date.fromisoformat(shifted[name])
                    shifts[original["study_id"]].add(delta.days)
            assert not set(shifted) & _FREE_TEXT
    assert shifts and all(len(s) == 1 and 1 <= min(s) <= MAX_SHIFT_DAYS for s in shifts.values())
    with registry.transaction() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        record = json.loads(entry.new_value or "{}")
    assert set(record) == {
        "scope",
        "mode",
        "purpose",
        "format",
        "file",
        "rows",
        "total_rows",
        "sha256",
    }
    assert record["mode"] == "pseudonymized"


def _dates_by_patient(tables: tuple[TableRows, ...]) -> dict[str, list[date]]:
    found: dict[str, list[date]] = defaultdict(list)
    for table in tables:
        for row in table.rows:
            found[row["study_id"]].extend(v for v in row.values() if isinstance(v, date))
    return found


@settings(derandomize=True, max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=6),
    cohort_seed=st.integers(min_value=0, max_value=10_000),
    rng_seed=st.integers(min_value=0, max_value=2**32),
)
def test_pseudonymization_preserves_every_interval_of_every_patient(
    n: int, cohort_seed: int, rng_seed: int
) -> None:
    tables = cohort_tables(synthetic_cohort(n, seed=cohort_seed))
    shifted = pseudonymize(tables, random.Random(rng_seed))
    for table, moved in zip(tables, shifted, strict=True):
        assert moved.columns == tuple(c for c in table.columns if c not in _FREE_TEXT)
        for original, row in zip(table.rows, moved.rows, strict=True):
            for name in moved.columns:
                if not isinstance(original[name], date):
                    assert row[name] == original[name]
    before, after = _dates_by_patient(tables), _dates_by_patient(shifted)
    for sid, dates in before.items():
        offsets = {(a - b).days for a, b in zip(dates, after[sid], strict=True)}
        assert len(offsets) == 1 and 1 <= offsets.pop() <= MAX_SHIFT_DAYS
        assert [(b - a).days for a, b in itertools.pairwise(dates)] == [
            (b - a).days for a, b in itertools.pairwise(after[sid])
        ]


def _one_patient(birth: date, diagnosed: date | None, sample: date) -> tuple[TableRows, ...]:
    rows = [
        TableRows(
            "patients",
            ("study_id", "site_code", "sex", "birth_date"),
            ({"study_id": "P", "site_code": "S", "sex": "male", "birth_date": birth},),
        ),
        TableRows(
            "samples",
            ("study_id", "sample_date", "timepoint", "tissue"),
            ({"study_id": "P", "sample_date": sample, "timepoint": "EOI", "tissue": "BM"},),
        ),
    ]
    if diagnosed is not None:
        rows.append(
            TableRows(
                "diagnoses",
                ("study_id", "diagnosis_date", "genetic_subtype"),
                ({"study_id": "P", "diagnosis_date": diagnosed, "genetic_subtype": "other"},),
            )
        )
    return tuple(rows)


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        (date(1931, 1, 1), 89),
        (date(1930, 1, 2), 89),
        (date(1930, 1, 1), "90+"),
        (date(1915, 5, 5), "90+"),
        (date(2012, 1, 1), 8),
    ],
)
def test_ages_from_90_are_top_coded(birth: date, age: int | str) -> None:
    tables = deidentify(_one_patient(birth, date(2020, 1, 1), date(2020, 2, 1)), random.Random(0))
    assert tables[0].rows[0]["age_at_diagnosis_years"] == age
    assert tables[1].rows[0]["sample_day"] == 31


def test_without_a_diagnosis_days_count_from_the_first_recorded_date() -> None:
    tables = deidentify(_one_patient(date(2010, 1, 1), None, date(2020, 2, 1)), random.Random(0))
    assert tables[0].rows[0]["age_at_diagnosis_years"] == 10
    assert tables[1].rows[0]["sample_day"] == 0


def test_the_full_mode_changes_nothing_and_shifts_differ_between_patients() -> None:
    tables = cohort_tables(synthetic_cohort(30, seed=2))
    shifted = pseudonymize(tables, random.Random(9))
    offsets = {
        row["study_id"]: (row["diagnosis_date"] - moved["diagnosis_date"]).days
        for row, moved in zip(tables[1].rows, shifted[1].rows, strict=True)
    }
    assert len(set(offsets.values())) > 1
    assert all(isinstance(v, int) for v in offsets.values())
    assert timedelta(days=max(offsets.values())) <= timedelta(days=MAX_SHIFT_DAYS)
