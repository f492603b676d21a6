"""Many lab files in one run: locally (processes) or on a Dask distributed cluster.

Each file is recognised by its content (FCS magic bytes, RDML zip or XML, instrument
results text, clonotype table) and processed by the same function wherever it runs:
:func:`process_file` never raises for a bad file; it returns a :class:`BatchItem` with
the error in words, so one corrupt file is reported and the batch goes on. Items carry
JSON-ready payloads only, so they travel between processes and cluster workers.

With ``scheduler="tcp://host:port"`` the files are mapped over a ``distributed.Client``;
the function, the options and the results are the same as in a local run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from mrdtrack.errors import InputError, MrdtrackError
from mrdtrack.lab.flow import analyze_fcs
from mrdtrack.lab.ngs_files import Clonotype, analyze_clonotypes, read_clonotype_table
from mrdtrack.lab.qpcr_files import analyze_qpcr_run, read_qpcr_run
from mrdtrack.mrd import MrdResult, MrdStatus, Transcript

__all__ = [
    "BatchItem",
    "BatchOptions",
    "BatchReport",
    "FileKind",
    "detect_kind",
    "process_file",
    "run_batch",
]


class FileKind(StrEnum):
    """The kinds of lab file a batch handles."""

    FCS = "fcs"
    QPCR = "qpcr"
    NGS = "ngs"


class ItemStatus(StrEnum):
    """Outcome of one file."""

    OK = "ok"
    NOT_EVALUABLE = "not_evaluable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What every file of a batch needs besides itself.

    ``strategy`` and ``leukemic_gate`` serve FCS files, ``diagnosis_ncn`` and the target
    names qPCR runs, ``tracked`` clonotype tables. A file whose options are missing is
    reported as an error; the others go on.
    """

    strategy: str | None = None
    leukemic_gate: str | None = None
    denominator_gate: str | None = None
    diagnosis_ncn: float | None = None
    fusion_target: str | None = None
    control_target: str = "ABL1"
    transcript: Transcript | None = None
    tracked: tuple[Clonotype, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchItem:
    """The outcome of one file: a JSON-ready summary, or the reason it failed."""

    path: str
    kind: FileKind | None
    status: ItemStatus
    summary: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Processed (whatever the MRD call)."""
        return self.status is not ItemStatus.ERROR


@dataclass(frozen=True, slots=True)
class BatchReport:
    """Every item, in the order the paths were given."""

    items: tuple[BatchItem, ...]

    @property
    def failed(self) -> tuple[BatchItem, ...]:
        """Files that could not be processed."""
        return tuple(i for i in self.items if i.status is ItemStatus.ERROR)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "files": len(self.items),
            "failed": len(self.failed),
            "items": [
                {
                    "path": i.path,
                    "kind": None if i.kind is None else i.kind.value,
                    "status": i.status.value,
                    "error": i.error,
                    "result": dict(i.summary),
                }
                for i in self.items
            ],
        }


def detect_kind(path: str | Path) -> FileKind:
    """Recognise a file by its first bytes (and, for text, its header)."""
    file_path = Path(path)
    try:
        with file_path.open("rb") as handle:
            head = handle.read(8192)
    except OSError:
        raise InputError("file", str(file_path), "a readable file") from None
    if head.startswith(b"FCS"):
        return FileKind.FCS
    if head.startswith(b"PK\x03\x04") or b"<rdml" in head[:2048]:
        return FileKind.QPCR
    text = head.decode("utf-8", errors="replace").lower()
    if "[results]" in text or ("detector" in text and "well" in text) or "target name" in text:
        return FileKind.QPCR
    first = next(
        (line for line in text.splitlines() if line.strip() and not line.startswith("#")), ""
    )
    if any(name in first for name in ("sequence", "nucleotide", "junction", "rearrangement")):
        return FileKind.NGS
    raise InputError(
        "file",
        file_path.name,
        "an FCS file, a qPCR run (RDML, SDS or QuantStudio results) or a clonotype table",
    )


def _status(results: Iterable[MrdResult | None]) -> ItemStatus:
    known = [r for r in results if r is not None]
    if any(r.status is MrdStatus.NOT_EVALUABLE for r in known):
        return ItemStatus.NOT_EVALUABLE
    return ItemStatus.OK


def process_file(path: str, options: BatchOptions) -> BatchItem:
    """Process one file; a bad file gives an error item, never an exception."""
    kind: FileKind | None = None
    try:
        kind = detect_kind(path)
        if kind is FileKind.FCS:
            if options.strategy is None:
                raise InputError("--strategy", None, "a GatingML or YAML strategy for FCS files")
            flow = analyze_fcs(
                path,
                options.strategy,
                leukemic_gate=options.leukemic_gate,
                denominator_gate=options.denominator_gate,
            )
            return BatchItem(path, kind, _status([flow.mrd]), flow.to_dict())
        if kind is FileKind.QPCR:
            run = read_qpcr_run(path)
            qpcr = analyze_qpcr_run(
                run,
                diagnosis_ncn=options.diagnosis_ncn,
                fusion_target=options.fusion_target,
                control_target=options.control_target,
                transcript=options.transcript,
            )
            return BatchItem(path, kind, _status(qpcr.samples.values()), qpcr.to_dict())
        ngs = analyze_clonotypes(read_clonotype_table(path), tracked=options.tracked)
        return BatchItem(path, kind, _status([ngs.mrd]), ngs.to_dict())
    except MrdtrackError as problem:
        return BatchItem(path, kind, ItemStatus.ERROR, error=str(problem))
    except Exception as bug:
        return BatchItem(
            path, kind, ItemStatus.ERROR, error=f"internal error ({type(bug).__name__}): {bug}"
        )


Progress = Callable[[int, int, BatchItem], None]


def run_batch(
    paths: Iterable[str | Path],
    options: BatchOptions | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Process every path and report each, in order.

    Parameters
    ----------
    paths
        Files to process.
    options
        Strategy, diagnosis NCN, tracked clonotypes … shared by the files.
    workers
        Local worker processes (1: in this process). Ignored with ``scheduler``.
    scheduler
        Address of a Dask distributed scheduler (``tcp://host:port``).
    progress
        Called after each file with ``(done, total, item)``.
    """
    chosen = options or BatchOptions()
    names = [str(p) for p in paths]
    total = len(names)
    done: dict[int, BatchItem] = {}

    def record(index: int, item: BatchItem) -> None:
        done[index] = item
        if progress is not None:
            progress(len(done), total, item)

    if scheduler is not None:
        distributed: Any = importlib.import_module("distributed")
        with distributed.Client(scheduler) as client:
            futures = client.map(process_file, names, options=chosen, pure=False)
            index_of = {future.key: i for i, future in enumerate(futures)}
            for future in distributed.as_completed(futures):
                record(index_of[future.key], future.result())
    elif workers > 1 and total > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            pending = {pool.submit(process_file, name, chosen): i for i, name in enumerate(names)}
            for future in as_completed(pending):
                record(pending[future], future.result())
    else:
        for i, name in enumerate(names):
            record(i, process_file(name, chosen))
    return BatchReport(tuple(done[i] for i in range(total)))
