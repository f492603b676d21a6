"""The privacy modes of exports: Safe Harbor de-identification and date-shift pseudonyms.

Pure functions over tables in the data dictionary's shape
(:class:`~mrdtrack.registry.dictionary.TableRows`, as
:func:`mrdtrack.registry.exporter.registry_tables` reads them); randomness comes from the
``rng`` passed in (:class:`secrets.SystemRandom` unless a test passes a seeded
:class:`random.Random`).

**De-identified** (HIPAA Safe Harbor, 45 CFR 164.514(b)(2); reliability goal 25):

* direct identifiers never leave: ``PatientIdentifier`` rows are not part of any export,
  and study ids are replaced by random ids drawn from ``rng`` — not derived from the
  study id, the MRN or anything else, so nothing links them back;
* every date is reduced: the diagnosis date to its year (``diagnosis_year``) and every
  other date to a day offset from the patient's first diagnosis (``sample_day`` …; the
  first recorded date of a patient without a diagnosis); the birth date becomes the age
  at diagnosis in whole years, ``"90+"`` from 90 on (§164.514(b)(2)(i)(C));
* free-text columns (the dictionary's ``free_text``: notes, marker definitions, AE
  management, outcome details, other treatment details) are dropped, and so is the site
  name; site codes become random labels;
* ZIP codes, which the rule reduces to three digits, are not held by the registry.

**Pseudonymized** (reliability goal 26): one random shift of 1–364 days per patient,
subtracted from every date of that patient in every table, so that every interval within
a patient is preserved exactly; study ids stay (re-identification needs the registry,
whose access is controlled and audited); free text is dropped too, because a date typed
into a note would escape the shift. The shifts are never returned, exported or logged.

Date shifting is pseudonymization, not Safe Harbor de-identification: the two modes are
named apart on every screen and in every audit entry (shared/spec/reliability.md §8).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from mrdtrack.registry.dictionary import ColumnType, TableRows, table_spec

__all__ = [
    "AGE_TOP_CODE_YEARS",
    "MAX_SHIFT_DAYS",
    "ExportMode",
    "apply_mode",
    "deidentify",
    "pseudonymize",
]

AGE_TOP_CODE_YEARS = 90
"""Ages from this on are shown as ``"90+"`` (45 CFR 164.514(b)(2)(i)(C))."""

MAX_SHIFT_DAYS = 364
"""Pseudonymized dates move back by 1 to this many days (REDCap's date-shift range)."""


class ExportMode(StrEnum):
    """What an export reveals."""

    FULL = "full"
    """Every column as stored (for the registry's own staff and backups)."""
    DEIDENTIFIED = "deidentified"
    """HIPAA Safe Harbor: no identifiers, no full dates, no free text."""
    PSEUDONYMIZED = "pseudonymized"
    """Study ids kept, every date of a patient shifted by one random offset, no free text."""


def _system_rng() -> random.Random:
    return secrets.SystemRandom()


def _study_ids(tables: Iterable[TableRows]) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        for row in table.rows:
            sid = row.get("study_id")
            if isinstance(sid, str):
                seen.setdefault(sid)
    return list(seen)


def _dates_of(row: Mapping[str, Any]) -> Iterable[date]:
    # The birth date is no event of the disease: it never anchors day 0.
    return (v for k, v in row.items() if isinstance(v, date) and k != "birth_date")


def _anchors(tables: Sequence[TableRows]) -> dict[str, date]:
    """Day 0 of each patient: the first diagnosis, else the first recorded date (not birth)."""
    anchors: dict[str, date] = {}
    for table in tables:
        if table.name == "diagnoses":
            for row in table.rows:
                sid, when = row.get("study_id"), row.get("diagnosis_date")
                if isinstance(sid, str) and isinstance(when, date):
                    anchors[sid] = min(when, anchors.get(sid, when))
    fallback: dict[str, date] = {}
    for table in tables:
        for row in table.rows:
            sid = row.get("study_id")
            if isinstance(sid, str) and sid not in anchors:
                for when in _dates_of(row):
                    fallback[sid] = min(when, fallback.get(sid, when))
    return anchors | fallback


def _age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _day_column(name: str) -> str:
    return name.removesuffix("_date") + "_day"


def _random_ids(study_ids: Sequence[str], rng: random.Random) -> dict[str, str]:
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for sid in study_ids:
        while True:
            candidate = f"DEID-{rng.getrandbits(64):016x}"
            if candidate not in used:
                break
        used.add(candidate)
        chosen[sid] = candidate
    return chosen


def _site_labels(tables: Sequence[TableRows], rng: random.Random) -> dict[str, str]:
    codes = sorted(
        {
            str(row["site_code"])
            for t in tables
            if t.name == "patients"
            for row in t.rows
            if row.get("site_code") is not None
        }
    )
    rng.shuffle(codes)
    return {code: f"SITE-{i:02d}" for i, code in enumerate(codes, start=1)}


def deidentify(
    tables: Sequence[TableRows], rng: random.Random | None = None
) -> tuple[TableRows, ...]:
    """Safe Harbor de-identification of export tables (see the module docstring)."""
    rng = rng or _system_rng()
    anchors = _anchors(tables)
    pseudonyms = _random_ids(_study_ids(tables), rng)
    sites = _site_labels(tables, rng)
    out = []
    for table in tables:
        spec = table_spec(table.name)
        kinds = {c.name: c for c in spec.columns}
        columns: list[str] = []
        for name in table.columns:
            column = kinds.get(name)
            if column is None or column.free_text or name == "site_name":
                continue
            if name == "birth_date":
                columns.append("age_at_diagnosis_years")
            elif name == "diagnosis_date":
                columns += ["diagnosis_year", "diagnosis_day"]
            elif column.type is ColumnType.DATE:
                columns.append(_day_column(name))
            else:
                columns.append(name)
        rows = []
        for row in table.rows:
            sid = row.get("study_id")
            anchor = anchors.get(sid) if isinstance(sid, str) else None
            new: dict[str, Any] = {}
            for name in table.columns:
                column = kinds.get(name)
                value = row.get(name)
                if column is None or column.free_text or name == "site_name":
                    continue
                if name == "study_id":
                    new[name] = pseudonyms.get(value) if isinstance(value, str) else None
                elif name == "site_code":
                    new[name] = sites.get(str(value)) if value is not None else None
                elif name == "birth_date":
                    age = (
                        _age_years(value, anchor)
                        if isinstance(value, date) and anchor is not None
                        else None
                    )
                    top = age is not None and age >= AGE_TOP_CODE_YEARS
                    new["age_at_diagnosis_years"] = f"{AGE_TOP_CODE_YEARS}+" if top else age
                elif name == "diagnosis_date":
                    new["diagnosis_year"] = value.year if isinstance(value, date) else None
                    new["diagnosis_day"] = _offset(value, anchor)
                elif column.type is ColumnType.DATE:
                    new[_day_column(name)] = _offset(value, anchor)
                else:
                    new[name] = value
            rows.append(new)
        out.append(TableRows(table.name, tuple(columns), tuple(rows)))
    return tuple(out)


def _offset(value: object, anchor: date | None) -> int | None:
    if not isinstance(value, date) or anchor is None:
        return None
    return (value - anchor).days


def pseudonymize(
    tables: Sequence[TableRows], rng: random.Random | None = None
) -> tuple[TableRows, ...]:
    """Shift every date of each patient by one random 1–364-day offset; drop free text."""
    rng = rng or _system_rng()
    shifts = {sid: timedelta(days=rng.randint(1, MAX_SHIFT_DAYS)) for sid in _study_ids(tables)}
    out = []
    for table in tables:
        spec = table_spec(table.name)
        dropped = {c.name for c in spec.columns if c.free_text}
        dated = {c.name for c in spec.columns if c.type is ColumnType.DATE}
        columns = tuple(name for name in table.columns if name not in dropped)
        rows = []
        for row in table.rows:
            sid = row.get("study_id")
            shift = shifts.get(sid) if isinstance(sid, str) else None
            new = {}
            for name in columns:
                value = row.get(name)
                if name in dated and isinstance(value, date) and shift is not None:
                    value = value - shift
                new[name] = value
            rows.append(new)
        out.append(TableRows(table.name, columns, tuple(rows)))
    return tuple(out)


def apply_mode(
    mode: ExportMode, tables: Sequence[TableRows], rng: random.Random | None = None
) -> tuple[TableRows, ...]:
    """The tables as ``mode`` exports them (``full``: unchanged)."""
    if mode is ExportMode.DEIDENTIFIED:
        return deidentify(tables, rng)
    if mode is ExportMode.PSEUDONYMIZED:
        return pseudonymize(tables, rng)
    return tuple(tables)
