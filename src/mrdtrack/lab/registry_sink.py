"""Lab batch results into the registry: a manifest says whose sample each file is.

A lab file does not say which patient and sample it belongs to; the manifest does. Each
processed file is written in one transaction of its own: the sample (found or created),
every MRD result the engine produced from the file (via
:func:`mrdtrack.registry.store.add_mrd_result`, with the file's SHA-256 and the gating
strategy or run in its details), and the :class:`~mrdtrack.registry.models.ImportJob`
row (``done``) whose unique ``source_sha256`` makes a re-run of the same bytes a no-op.
A file that fails (unreadable, unknown study id, not in the manifest) is reported and the
batch goes on; nothing of that file is written. The files were parsed before (batch), so
the write is one short transaction and the job is recorded ``done`` in it, never
``running``. A ``failed`` or interrupted job of the same bytes (say the file was first
tried as a cohort table, :mod:`mrdtrack.registry.jobs`) is taken over; a live one is not.

Manifest (CSV with a header, or YAML: a list of mappings with the same keys)::

    file,study_id,sample_date,timepoint,tissue,marker,run_sample
    d29.fcs,DEMO-001,2024-03-01,EOI,BM,laip,
    run0412.rdml,DEMO-002,2024-03-02,EOC,BM,etv6-runx1,P002-d29

``run_sample`` (optional) names the sample inside a qPCR run that holds several; a run
file may then appear on several rows, one per patient.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from mrdtrack.errors import ImportValidationError, InputError, MrdtrackError, NotFoundError
from mrdtrack.lab.batch import BatchItem, BatchReport, FileKind, ItemStatus
from mrdtrack.mrd import MrdMethod, MrdResult, MrdStatus, QcFlag
from mrdtrack.provenance import ScalarValue
from mrdtrack.registry.audit import (
    AuditActor,
    Change,
    append_changes,
    audit_value,
    lock_chain,
    set_actor,
)
from mrdtrack.registry.database import Registry
from mrdtrack.registry.jobs import JobStatus, lease_held
from mrdtrack.registry.models import ImportJob, MrdMarker, Patient, Sample
from mrdtrack.registry.store import add_mrd_result, get_patient
from mrdtrack.registry.vocabulary import Tissue

__all__ = [
    "Manifest",
    "ManifestRow",
    "SinkOutcome",
    "SinkStatus",
    "parse_manifest",
    "read_manifest",
    "result_from_dict",
    "result_with_details",
    "write_batch",
    "write_item",
]

_COLUMNS = ("file", "study_id", "sample_date", "timepoint", "tissue", "marker", "run_sample")
_REQUIRED = ("file", "study_id", "sample_date", "timepoint", "tissue")
_TIMEPOINT_MAX = 32  # the width of sample.timepoint
_MANIFEST_MAX_BYTES = 16 * 1024 * 1024
_JOB_KIND = {FileKind.FCS: "lab-fcs", FileKind.QPCR: "lab-qpcr", FileKind.NGS: "lab-ngs"}
# Keys MrdResult.to_dict adds besides its fields and details (see mrd/result.py).
_RESULT_KEYS = frozenset(
    {
        "method",
        "status",
        "detected",
        "quantifiable",
        "mrd_fraction",
        "mrd_percent",
        "sensitivity_fraction",
        "sensitivity_percent",
        "reasons",
        "qc_flags",
        "profile",
        "rule",
        "inputs",
    }
)


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """Whose sample one lab file (or one sample of a qPCR run) is.

    ``row`` is the manifest's row number as a user sees it (header = row 1 in CSV,
    first entry = 1 in YAML), for messages.
    """

    row: int
    file: str
    study_id: str
    sample_date: date
    timepoint: str
    tissue: Tissue
    marker: str | None = None
    run_sample: str | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """The rows of a manifest and where relative file paths are resolved from."""

    source: str
    base: Path
    rows: tuple[ManifestRow, ...]

    def rows_for(self, path: str | Path) -> tuple[ManifestRow, ...]:
        """The rows naming ``path``: by path (relative to the manifest) or by file name."""
        target = Path(path).resolve()
        found = []
        for row in self.rows:
            named = Path(row.file)
            if len(named.parts) > 1 or named.is_absolute():
                if (self.base / named).resolve() == target:
                    found.append(row)
            elif named.name == target.name:
                found.append(row)
        return tuple(found)


class SinkStatus(StrEnum):
    """What happened to one file in the registry."""

    IMPORTED = "imported"
    ALREADY_IMPORTED = "already_imported"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SinkOutcome:
    """The registry side of one batch item."""

    path: str
    status: SinkStatus
    file_sha256: str | None = None
    results_written: int = 0
    sample_ids: tuple[int, ...] = ()
    import_job_id: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "status": self.status.value,
            "file_sha256": self.file_sha256,
            "results_written": self.results_written,
            "sample_ids": list(self.sample_ids),
            "import_job_id": self.import_job_id,
            "error": self.error,
        }


def _fail(source: str, row: int, field: str, value: Any, expected: str) -> ImportValidationError:
    return ImportValidationError(field, value, expected, location=f"{source} row {row}")


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return "" if value is None else str(value).strip()


def _row(source: str, number: int, entry: Mapping[str, Any]) -> ManifestRow:
    if not isinstance(entry, Mapping):
        raise _fail(source, number, "row", entry, "a mapping of manifest columns")
    unknown = sorted(str(k) for k in entry if str(k).strip() not in _COLUMNS)
    if unknown:
        raise _fail(source, number, "column", unknown[0], f"one of: {', '.join(_COLUMNS)}")
    for key in _REQUIRED:
        if not _text(entry, key):
            raise _fail(source, number, key, None, f"a {key.replace('_', ' ')}")
    raw_date = entry.get("sample_date")
    if isinstance(raw_date, date):
        sample_date = raw_date
    else:
        try:
            sample_date = date.fromisoformat(_text(entry, "sample_date"))
        except ValueError:
            raise _fail(source, number, "sample_date", raw_date, "an ISO date YYYY-MM-DD") from None
    timepoint = _text(entry, "timepoint")
    if len(timepoint) > _TIMEPOINT_MAX:
        raise _fail(source, number, "timepoint", timepoint, f"at most {_TIMEPOINT_MAX} characters")
    tissue_text = _text(entry, "tissue").upper()
    if tissue_text not in {t.value for t in Tissue}:
        raise _fail(
            source, number, "tissue", _text(entry, "tissue"), f"one of: {', '.join(Tissue)}"
        )
    return ManifestRow(
        row=number,
        file=_text(entry, "file"),
        study_id=_text(entry, "study_id"),
        sample_date=sample_date,
        timepoint=timepoint,
        tissue=Tissue(tissue_text),
        marker=_text(entry, "marker") or None,
        run_sample=_text(entry, "run_sample") or None,
    )


def parse_manifest(text: str, source: str, base: Path | None = None) -> Manifest:
    """Parse manifest text (CSV when ``source`` ends in ``.csv``, else YAML).

    Raises
    ------
    ImportValidationError
        Naming the manifest and the row of the first invalid entry.
    """
    entries: list[tuple[int, Mapping[str, Any]]] = []
    if source.lower().endswith((".csv", ".tsv", ".txt")):
        delimiter = "\t" if "\t" in text.partition("\n")[0] else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise _fail(source, 1, "header", ",".join(header), f"columns {', '.join(_REQUIRED)}")
        reader.fieldnames = header
        for entry in reader:
            if None in entry:  # more cells than the header names
                raise _fail(source, reader.line_num, "row", entry[None], "one cell per column")
            if any(_text(entry, k) for k in entry):
                entries.append((reader.line_num, entry))
    else:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as problem:
            raise ImportValidationError(
                "manifest", source, "a YAML list of file entries", location=f"{source} ({problem})"
            ) from None
        if not isinstance(document, list):
            raise _fail(source, 1, "manifest", type(document).__name__, "a list of file entries")
        entries = list(enumerate(document, start=1))
    rows = tuple(_row(source, number, entry) for number, entry in entries)
    if not rows:
        raise _fail(source, 1, "manifest", None, "at least one file entry")
    seen: dict[tuple[str, str | None], int] = {}
    for row in rows:
        key = (row.file, row.run_sample)
        if key in seen:
            raise _fail(
                source,
                row.row,
                "file",
                row.file,
                f"one row per file (and run_sample); row {seen[key]} already names it",
            )
        seen[key] = row.row
    return Manifest(source, base or Path.cwd(), rows)


def read_manifest(path: str | Path) -> Manifest:
    """Read a manifest file (``.csv``/``.tsv`` or ``.yaml``/``.yml``)."""
    manifest_path = Path(path)
    try:
        size = manifest_path.stat().st_size
        if size > _MANIFEST_MAX_BYTES:
            raise InputError("--manifest", str(path), "a manifest of at most 16 MiB")
        text = manifest_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InputError("--manifest", str(path), "a readable UTF-8 CSV or YAML file") from None
    return parse_manifest(text, manifest_path.name, manifest_path.resolve().parent)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def result_from_dict(data: Mapping[str, Any]) -> MrdResult:
    """The engine result back from its ``to_dict`` form (batch items travel as JSON)."""
    details: dict[str, ScalarValue] = {k: v for k, v in data.items() if k not in _RESULT_KEYS}
    return MrdResult(
        method=MrdMethod(data["method"]),
        status=MrdStatus(data["status"]),
        detected=bool(data["detected"]),
        mrd_fraction=data.get("mrd_fraction"),
        sensitivity_fraction=data.get("sensitivity_fraction"),
        quantifiable=bool(data["quantifiable"]),
        reasons=tuple(data.get("reasons", ())),
        qc_flags=tuple(QcFlag(f) for f in data.get("qc_flags", ())),
        inputs=dict(data.get("inputs", {})),
        profile=str(data["profile"]),
        rule=str(data["rule"]),
        details=details,
    )


def _results(item: BatchItem, row: ManifestRow) -> list[tuple[MrdResult, dict[str, ScalarValue]]]:
    """The item's engine results for one manifest row, with their file provenance."""
    summary = item.summary
    if item.kind is FileKind.QPCR:
        samples: Mapping[str, Any] = summary.get("samples") or {}
        if row.run_sample is not None:
            if row.run_sample not in samples:
                raise InputError(
                    f"manifest row {row.row} run_sample",
                    row.run_sample,
                    f"a sample of the run: {', '.join(samples) or 'none'}",
                )
            chosen = [row.run_sample]
        elif len(samples) <= 1:
            chosen = list(samples)
        else:
            raise InputError(
                f"manifest row {row.row} run_sample",
                None,
                f"the run's sample of this patient, one of: {', '.join(samples)}",
                "a run holding several samples needs one manifest row per sample",
            )
        extra: dict[str, ScalarValue] = {
            "run_id": summary.get("run_id"),
            "run_format": summary.get("format"),
        }
        return [(result_from_dict(samples[s]), {**extra, "run_sample": s}) for s in chosen]
    mrd = summary.get("mrd")
    if not isinstance(mrd, Mapping):
        return []
    extra = {}
    strategy = summary.get("strategy")
    if isinstance(strategy, Mapping):
        extra = {
            "strategy_id": strategy.get("id"),
            "strategy_version": strategy.get("version"),
            "strategy_sha256": strategy.get("sha256"),
            "leukemic_gate": summary.get("leukemic_gate"),
            "denominator_gate": summary.get("denominator_gate"),
        }
    return [(result_from_dict(mrd), extra)]


def _sample(session: Session, patient: Patient, row: ManifestRow, source: str) -> Sample:
    existing = session.scalars(
        select(Sample).where(
            Sample.patient_id == patient.id,
            Sample.sample_date == row.sample_date,
            Sample.timepoint == row.timepoint,
            Sample.tissue == row.tissue.value,
            Sample.deleted_at.is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    sample = Sample(
        patient_id=patient.id,
        sample_date=row.sample_date,
        timepoint=row.timepoint,
        tissue=row.tissue.value,
        reconstructed=[],
        source=source,
    )
    session.add(sample)
    session.flush()
    return sample


def _marker(session: Session, patient: Patient, key: str | None) -> MrdMarker | None:
    if key is None:
        return None
    marker = session.scalars(
        select(MrdMarker).where(
            MrdMarker.patient_id == patient.id,
            MrdMarker.key == key,
            MrdMarker.deleted_at.is_(None),
        )
    ).one_or_none()
    if marker is None:
        raise NotFoundError(f"MRD marker of {patient.study_id}", key)
    return marker


def write_item(
    registry: Registry, item: BatchItem, rows: Sequence[ManifestRow], actor: AuditActor
) -> SinkOutcome:
    """Write one processed file in one transaction; errors come back as an outcome.

    Skips the file (``already_imported``) when an import job holds its SHA-256.
    """
    if item.status is ItemStatus.ERROR or item.kind is None:
        return SinkOutcome(item.path, SinkStatus.ERROR, error=item.error or "not processed")
    name = Path(item.path).name
    if not rows:
        return SinkOutcome(
            item.path,
            SinkStatus.ERROR,
            error=f"{name}: not in the manifest (add a row naming its patient and sample)",
        )
    try:
        sha256 = _sha256(item.path)
    except OSError as problem:
        return SinkOutcome(item.path, SinkStatus.ERROR, error=f"{name}: unreadable ({problem})")
    source = f"lab:{sha256[:16]}"
    try:
        with registry.transaction() as session:
            set_actor(session, actor)
            lock_chain(session)  # the hash check and the job row below cannot interleave
            job = session.scalars(
                select(ImportJob).where(ImportJob.source_sha256 == sha256).with_for_update()
            ).one_or_none()
            if job is not None and job.status == JobStatus.DONE:
                return SinkOutcome(
                    item.path, SinkStatus.ALREADY_IMPORTED, sha256, 0, (), job.id, None
                )
            if job is not None and job.status == JobStatus.RUNNING and lease_held(registry, job.id):
                busy = f"{name}: being imported now (job {job.id}); run this file again later"
                return SinkOutcome(item.path, SinkStatus.ERROR, sha256, error=busy)
            started = actor.clock()
            written = 0
            sample_ids: list[int] = []
            for row in rows:
                patient = get_patient(session, row.study_id)
                marker = _marker(session, patient, row.marker)
                found = _results(item, row)
                if not found:
                    continue
                sample = _sample(session, patient, row, source)
                sample_ids.append(sample.id)
                for result, extra in found:
                    details: dict[str, ScalarValue] = dict(result.details)
                    details.update(
                        {
                            "file_name": name,
                            "file_sha256": sha256,
                            "lab_kind": item.kind.value,
                            "manifest_row": row.row,
                            **extra,
                        }
                    )
                    stored = result_with_details(result, details)
                    add_mrd_result(session, sample, stored, marker).source = source
                    written += 1
            if job is None:  # else a failed or interrupted job of the same bytes: take it over
                job = ImportJob(source_sha256=sha256)
                session.add(job)
            job.filename = name[-500:]
            job.kind = _JOB_KIND[item.kind]
            job.actor = actor.user[:64]
            job.status = JobStatus.DONE.value
            job.started_at = started
            job.finished_at = actor.clock()
            job.rows = job.rows_done = written
            job.error = None
            session.flush()
            summary = {"file": name, "sha256": sha256, "kind": job.kind, "rows": written}
            append_changes(
                session,
                [Change("import", "import_job", str(job.id), None, None, audit_value(summary))],
            )
            return SinkOutcome(
                item.path, SinkStatus.IMPORTED, sha256, written, tuple(sample_ids), job.id
            )
    except MrdtrackError as problem:
        return SinkOutcome(item.path, SinkStatus.ERROR, sha256, error=f"{name}: {problem}")


def result_with_details(result: MrdResult, details: Mapping[str, ScalarValue]) -> MrdResult:
    """A copy of ``result`` with ``details`` replaced (provenance added before storing)."""
    return MrdResult(
        method=result.method,
        status=result.status,
        detected=result.detected,
        mrd_fraction=result.mrd_fraction,
        sensitivity_fraction=result.sensitivity_fraction,
        quantifiable=result.quantifiable,
        reasons=result.reasons,
        qc_flags=result.qc_flags,
        inputs=result.inputs,
        profile=result.profile,
        rule=result.rule,
        details=details,
    )


def write_batch(
    registry: Registry,
    report: BatchReport | Iterable[BatchItem],
    manifest: Manifest,
    actor: AuditActor,
) -> tuple[SinkOutcome, ...]:
    """Write every item of a batch, one transaction per file, in order."""
    items = report.items if isinstance(report, BatchReport) else tuple(report)
    return tuple(write_item(registry, i, manifest.rows_for(i.path), actor) for i in items)
