"""Clonotype tables (CSV/TSV) → the patient's tracked clonotypes → MRD through ``mrd.ngs``.

A follow-up table lists the rearrangements found (one row per clonotype) with their
nucleotide ``sequence``, ``locus`` (IGH, IGK, TRB, …) and either ``templates`` (cell
equivalents, as clonoSEQ-style reports give them) or ``reads``. The patient's diagnostic
clonotypes (the MRD marker defined at diagnosis) are looked up by exact sequence (and
locus when both sides give one); a tracked clonotype absent from the table contributes
0. Cells evaluated come from the DNA input (6.5 pg per diploid cell, NGS-01) or the
nucleated-cell count, from the options or the table's ``# key: value`` header lines;
:func:`mrdtrack.mrd.ngs_mrd` makes the result (NGS-01, NGS-02).

Reads are not cell equivalents: without a ``templates`` column they are converted only
with the run's spike-in calibrator, ``templates = reads × spike-in cells / spike-in
reads`` (synthetic-template calibration as described for clonoSEQ by Carlson CS et al.
Nat Commun 2013;4:2680 and Ching T et al. BMC Cancer 2020;20:612). Without one the
table is refused rather than guessed at.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.mrd import MrdResult, NgsProfile, ngs_mrd

__all__ = [
    "Clonotype",
    "ClonotypeTable",
    "NgsAnalysis",
    "analyze_clonotypes",
    "parse_clonotype_table",
    "read_clonotype_table",
    "read_tracked_clonotypes",
]

MAX_TABLE_BYTES = 256 * 1024**2
_SEQUENCE = ("sequence", "nucleotide", "junction", "cdr3_nt", "rearrangement", "junction_nt")
_LOCUS = ("locus", "chain", "locus_name")
_TEMPLATES = ("templates", "template_count", "cell_equivalents", "clonal_cells")
_READS = ("reads", "read_count", "count", "duplicate_count", "clone_count")
_TRACKED = ("tracked", "is_tracked", "mrd_marker")
_NUCLEOTIDES = set("ACGTN")


@dataclass(frozen=True, slots=True)
class Clonotype:
    """A rearrangement: nucleotide sequence and locus (empty = any locus)."""

    sequence: str
    locus: str = ""

    def matches(self, other: Clonotype) -> bool:
        """Same sequence, and same locus when both name one."""
        return self.sequence == other.sequence and (
            not self.locus or not other.locus or self.locus == other.locus
        )


@dataclass(frozen=True, slots=True)
class ClonotypeRow:
    """One row of a table."""

    clonotype: Clonotype
    templates: float | None
    reads: float | None
    tracked: bool


@dataclass(frozen=True, slots=True)
class ClonotypeTable:
    """A parsed clonotype table with its header metadata."""

    source: str
    sha256: str
    rows: tuple[ClonotypeRow, ...]
    metadata: Mapping[str, str]

    @property
    def total_reads(self) -> float | None:
        """Sum of the reads column (sequencing depth, QC only)."""
        reads = [r.reads for r in self.rows if r.reads is not None]
        return math.fsum(reads) if reads else None


@dataclass(frozen=True, slots=True)
class NgsAnalysis:
    """Tracked clonotypes found in a follow-up table and the resulting MRD."""

    table: ClonotypeTable
    tracked: tuple[Clonotype, ...]
    cell_equivalents: tuple[float, ...]
    mrd: MrdResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "file": self.table.source,
            "file_sha256": self.table.sha256,
            "tracked": [
                {"sequence": c.sequence, "locus": c.locus or None, "cell_equivalents": n}
                for c, n in zip(self.tracked, self.cell_equivalents, strict=True)
            ],
            "total_reads": self.table.total_reads,
            "mrd": self.mrd.to_dict(),
        }


def _fail(source: str, where: str, value: object, expected: str) -> ImportValidationError:
    return ImportValidationError(where, value, expected, location=source)


def _sequence(raw: str, source: str, where: str) -> str:
    text = raw.strip().upper()
    if not text or not set(text) <= _NUCLEOTIDES:
        raise _fail(source, where, raw[:60], "a nucleotide sequence (A, C, G, T, N)")
    return text


def _count(raw: str, source: str, where: str) -> float | None:
    text = raw.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise _fail(source, where, raw, "a count ≥ 0")
    return value


def read_clonotype_table(path: str | Path) -> ClonotypeTable:
    """Read a CSV or TSV clonotype table."""
    file_path = Path(path)
    try:
        size = file_path.stat().st_size
    except OSError as missing:
        raise InputError("table", str(file_path), "a readable clonotype table") from missing
    if size > MAX_TABLE_BYTES:
        raise _fail(file_path.name, "file size", size, f"at most {MAX_TABLE_BYTES:,} bytes")
    return parse_clonotype_table(file_path.read_bytes(), file_path.name)


def parse_clonotype_table(data: bytes, source: str) -> ClonotypeTable:
    """Parse the bytes of a clonotype table (see the module docstring for the columns)."""
    if len(data) > MAX_TABLE_BYTES:
        raise _fail(source, "file size", len(data), f"at most {MAX_TABLE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    metadata: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                metadata[key.strip().lower()] = value.strip()
            continue
        if line.strip() or body:
            body.append(line)
    if not body:
        raise _fail(source, "header", None, "a header row with a sequence column")
    delimiter = "\t" if "\t" in body[0] else ","
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]

    def find(names: Sequence[str]) -> int | None:
        return next((header.index(n) for n in names if n in header), None)

    seq_col, locus_col = find(_SEQUENCE), find(_LOCUS)
    templates_col, reads_col, tracked_col = find(_TEMPLATES), find(_READS), find(_TRACKED)
    if seq_col is None or (templates_col is None and reads_col is None):
        raise _fail(
            source,
            "header",
            ", ".join(header)[:120],
            "a sequence column and a templates or reads column",
        )
    rows: list[ClonotypeRow] = []
    for number, row in enumerate(reader, start=2 + len(metadata)):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise _fail(source, f"row {number}", len(row), f"{len(header)} fields")
        where = f"row {number}"
        templates = (
            None
            if templates_col is None
            else _count(row[templates_col], source, f"{where} templates")
        )
        reads = None if reads_col is None else _count(row[reads_col], source, f"{where} reads")
        rows.append(
            ClonotypeRow(
                Clonotype(
                    _sequence(row[seq_col], source, f"{where} sequence"),
                    "" if locus_col is None else row[locus_col].strip().upper(),
                ),
                templates,
                reads,
                tracked_col is not None
                and row[tracked_col].strip().lower() in ("true", "yes", "1", "y"),
            )
        )
    return ClonotypeTable(source, hashlib.sha256(data).hexdigest(), tuple(rows), metadata)


def read_tracked_clonotypes(path: str | Path) -> tuple[Clonotype, ...]:
    """The diagnostic clonotypes of a patient from a table (every row, or the tracked ones)."""
    table = read_clonotype_table(path) if Path(path).exists() else None
    if table is None:
        raise InputError("--clonotypes", str(path), "a readable table of diagnostic clonotypes")
    chosen = [r for r in table.rows if r.tracked] or list(table.rows)
    return tuple(dict.fromkeys(r.clonotype for r in chosen))


def _metadata_number(table: ClonotypeTable, names: Sequence[str]) -> float | None:
    for name in names:
        if name in table.metadata:
            value = _count(table.metadata[name], table.source, f"# {name}")
            if value is None or value <= 0:
                raise _fail(table.source, f"# {name}", table.metadata[name], "a number > 0")
            return value
    return None


def analyze_clonotypes(
    table: ClonotypeTable,
    *,
    tracked: Sequence[Clonotype] = (),
    dna_input_ng: float | None = None,
    cells_evaluated: float | None = None,
    spike_in_reads: float | None = None,
    spike_in_cells: float | None = None,
    profile: NgsProfile | None = None,
) -> NgsAnalysis:
    """MRD from the tracked clonotypes of a follow-up table (NGS-01, NGS-02).

    Parameters
    ----------
    table
        The follow-up clonotype table.
    tracked
        The patient's diagnostic clonotypes; default: the rows the table marks tracked.
    dna_input_ng, cells_evaluated
        One of them (else the table's ``# dna_input_ng`` / ``# total_nucleated_cells``).
    spike_in_reads, spike_in_cells
        Calibrator to turn reads into cell equivalents when there is no templates column
        (else the table's ``# spike_in_reads`` / ``# spike_in_cells``).
    profile
        Passed to :func:`mrdtrack.mrd.ngs_mrd`.
    """
    markers = tuple(tracked) or tuple(dict.fromkeys(r.clonotype for r in table.rows if r.tracked))
    if not markers:
        raise InputError(
            "tracked clonotypes",
            None,
            "the patient's diagnostic clonotypes",
            "give them with --track SEQUENCE[:LOCUS] or --clonotypes FILE, or mark rows tracked",
        )
    if dna_input_ng is None and cells_evaluated is None:
        dna_input_ng = _metadata_number(table, ("dna_input_ng", "dna_ng"))
        if dna_input_ng is None:
            cells_evaluated = _metadata_number(table, ("total_nucleated_cells", "cells_evaluated"))
    uses_templates = all(r.templates is not None for r in table.rows)
    factor = 1.0
    if not uses_templates:
        reads_in = spike_in_reads or _metadata_number(table, ("spike_in_reads",))
        cells_in = spike_in_cells or _metadata_number(table, ("spike_in_cells",))
        if reads_in is None or cells_in is None:
            raise ImportValidationError(
                "templates",
                None,
                "a templates column, or reads with a spike-in calibrator "
                "(spike_in_reads and spike_in_cells)",
                location=table.source,
                hint="reads alone cannot be turned into cell equivalents",
            )
        factor = cells_in / reads_in
    found: list[float] = []
    for marker in markers:
        total = 0.0
        for row in table.rows:
            if row.clonotype.matches(marker):
                count = row.templates if uses_templates else (row.reads or 0.0) * factor
                total += count or 0.0
        found.append(total)
    engine = ngs_mrd(
        clonal_cells=found,
        dna_input_ng=dna_input_ng,
        cells_evaluated=cells_evaluated,
        profile=profile,
    )
    inputs = {
        **dict(engine.inputs),
        "table_file": table.source,
        "table_sha256": table.sha256,
        "tracked": ", ".join(
            f"{m.locus + ':' if m.locus else ''}{m.sequence[:24]}" for m in markers
        ),
        "cell_equivalents_from": "templates" if uses_templates else f"reads × {factor:.6g}",
    }
    return NgsAnalysis(table, markers, tuple(found), replace(engine, inputs=inputs))
