"""Reading tabular files defensively: CSV, a ZIP of CSV files, XLSX workbooks.

What arrives here may be hostile (reliability goals 22 and 23), so before anything is
parsed: the magic bytes must match the extension; a ZIP container (XLSX or a ZIP of CSV
files) is refused with more than :data:`MAX_MEMBERS` members, more than
:data:`MAX_UNCOMPRESSED_BYTES` uncompressed, a compression ratio above
:data:`MAX_COMPRESSION_RATIO`, encrypted members, or member names with ``..`` or an
absolute path — all read from the central directory, before any member is inflated
(Python's :mod:`zipfile` then enforces the declared sizes while inflating). Workbooks are
opened by openpyxl in read-only mode, with formulas read as their text (never evaluated)
and XML parsed through defusedxml (entity expansion and external entities refused).

Every refusal is an :class:`ImportProblem` naming the file, the sheet or member, the row
and the column; :class:`ImportFileError` carries all of them at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from mrdtrack.errors import ImportValidationError

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_MEMBERS",
    "MAX_UNCOMPRESSED_BYTES",
    "ImportFileError",
    "ImportProblem",
    "ProgressCallback",
    "SourceFile",
    "SourceKind",
    "SourceTable",
    "check_archive",
    "file_sha256",
    "read_csv_file",
    "read_csv_text",
    "read_source",
    "shown_value",
]

MAX_UNCOMPRESSED_BYTES = 1_000_000_000
MAX_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 100
# Below this size a member cannot amplify to anything harmful, whatever its ratio
# (a few kB of repeated XML compresses well beyond 100:1).
_RATIO_FLOOR_BYTES = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP container (an XLSX workbook or a ZIP archive)",
    b"\xd0\xcf\x11\xe0": "a legacy Office file (.xls): save it as .xlsx",
    b"\x1f\x8b": "a gzip file",
    b"%PDF": "a PDF document",
}
_TABLE_NAME = re.compile(r"[a-z_]+")

ProgressCallback = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; ``total`` is 0 while unknown."""


class SourceKind(StrEnum):
    """What an imported file is."""

    CSV = "csv"
    XLSX = "xlsx"
    ZIP = "zip"
    REDCAP = "redcap"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One reason an import was refused, located as precisely as the file allows."""

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    reason: str

    @property
    def location(self) -> str:
        """``file, sheet S, row R, column C`` (the parts the problem has)."""
        where = [self.file]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return ", ".join(where)

    def __str__(self) -> str:
        shown = "" if self.value is None else f"{self.value!r}: "
        return f"{self.location}: {shown}{self.reason}"


def shown_value(value: object) -> str | None:
    """A cell value as an error shows it (long text cut to 80 characters)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ImportFileError(ImportValidationError):
    """A file was refused; ``problems`` lists every problem found (nothing was written).

    ``total`` counts every problem, also those beyond the ones kept in ``problems``.
    """

    def __init__(self, file: str, problems: Sequence[ImportProblem], total: int | None = None):
        first = problems[0]
        self.problems = tuple(problems)
        self.total = max(total or 0, len(self.problems))
        super().__init__(
            first.column or "file",
            first.value,
            first.reason,
            location=first.location,
            hint=f"{self.total} problem(s) in {file}; nothing was imported",
        )
        self.file = file
        self.message = f"{file}: {self.total} problem(s), nothing was imported; the first: {first}"
        self.args = (self.message,)


@dataclass(frozen=True, slots=True)
class SourceTable:
    """The raw rows of one table as read from a file (values not yet checked).

    ``header`` holds the column names as given (dictionary names once mapped);
    ``labels`` the names the user sees for them (the REDCap field of a mapped column);
    each row is ``(row number, cells)``, row 1 being the header.
    """

    table: str
    file: str
    sheet: str | None
    header: tuple[str, ...]
    labels: tuple[str, ...]
    rows: list[tuple[int, tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file read into raw tables, with the problems found at the file level."""

    name: str
    kind: SourceKind
    sha256: str
    tables: tuple[SourceTable, ...]
    problems: tuple[ImportProblem, ...]


def _problem(file: str, reason: str, **where: Any) -> ImportProblem:
    return ImportProblem(
        file, where.get("sheet"), where.get("row"), where.get("column"), where.get("value"), reason
    )


def check_archive(path: Path, name: str) -> list[ImportProblem]:
    """Refusals of a ZIP container, read from its central directory before inflating."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return [_problem(name, f"a damaged ZIP container ({error}); save the file again")]
    if len(members) > MAX_MEMBERS:
        return [_problem(name, f"{len(members):,} members; at most {MAX_MEMBERS:,} are accepted")]
    problems = []
    total = packed = 0
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename:
            problems.append(
                _problem(name, "a member path leaves the archive", sheet=member.filename)
            )
        if member.flag_bits & 0x1:
            problems.append(_problem(name, "an encrypted member", sheet=member.filename))
        total += member.file_size
        packed += member.compress_size
        ratio_limit = MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR_BYTES and member.file_size > ratio_limit:
            problems.append(
                _problem(
                    name,
                    f"compression ratio above {MAX_COMPRESSION_RATIO} (a zip bomb?)",
                    sheet=member.filename,
                )
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        problems.append(
            _problem(name, f"{total:,} bytes uncompressed; at most {MAX_UNCOMPRESSED_BYTES:,}")
        )
    if total > _RATIO_FLOOR_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        problems.append(_problem(name, f"compression ratio above {MAX_COMPRESSION_RATIO}"))
    return problems


def read_csv_text(data: bytes, file: str, sheet: str | None = None) -> SourceTable:
    """Decode and split one CSV file (UTF-8, comma-separated, first row the header).

    The table name is left empty; the caller names it.

    Raises
    ------
    ImportFileError
        The bytes are not UTF-8 text or not well-formed CSV.
    """
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise ImportFileError(
            file, [_problem(file, f"binary content (a NUL byte at offset {offset})", sheet=sheet)]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text (byte offset {error.start}): save it as 'CSV UTF-8'"
        raise ImportFileError(file, [_problem(file, reason, sheet=sheet)]) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    header: tuple[str, ...] = ()
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                header = tuple(cell.strip() for cell in cells)
            elif any(cell.strip() for cell in cells):
                rows.append((number, tuple(cells)))
    except csv.Error as error:
        problem = _problem(file, f"malformed CSV ({error})", sheet=sheet, row=number + 1)
        raise ImportFileError(file, [problem]) from None
    if not header:
        raise ImportFileError(file, [_problem(file, "empty file: no header row", sheet=sheet)])
    return SourceTable("", file, sheet, header, header, rows)


def _table_of(stem: str) -> str:
    return stem.strip().lower()


def _read_zip(
    path: Path, name: str, tables: Sequence[str]
) -> tuple[list[SourceTable], list[ImportProblem]]:
    found: list[SourceTable] = []
    problems: list[ImportProblem] = []
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            stem = PurePosixPath(member.filename)
            table = _table_of(stem.stem)
            if stem.suffix.lower() != ".csv" or len(stem.parts) != 1 or table not in tables:
                problems.append(
                    _problem(
                        name,
                        "not a table: name members <table>.csv (" + ", ".join(tables) + ")",
                        sheet=member.filename,
                    )
                )
                continue
            try:
                raw = read_csv_text(archive.read(member), name, member.filename)
            except ImportFileError as error:
                problems.extend(error.problems)
                continue
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
                problems.append(_problem(name, f"damaged member ({error})", sheet=member.filename))
                continue
            found.append(replace(raw, table=table))
    return found, problems


def _xlsx_header(values: Sequence[Any]) -> tuple[str, ...]:
    header = ["" if v is None else str(v).strip() for v in values]
    while header and not header[-1]:
        header.pop()
    return tuple(header)


def _read_xlsx(
    path: Path, name: str, tables: Sequence[str], progress: ProgressCallback | None
) -> tuple[list[SourceTable], list[ImportProblem]]:
    # Imported here: openpyxl takes a noticeable time to import, and only this needs it.
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        raise ImportFileError(
            name,
            [_problem(name, "XLSX import needs defusedxml (pip install defusedxml)")],
        )
    found: list[SourceTable] = []
    problems: list[ImportProblem] = []
    done = 0
    with warnings.catch_warnings():
        # openpyxl warns about styles and extensions it ignores; they carry no values.
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(
            path, read_only=True, data_only=False, keep_links=False, keep_vba=False
        )
        try:
            for sheet in workbook.worksheets:
                table = _table_of(sheet.title)
                if table not in tables:
                    problems.append(
                        _problem(
                            name,
                            "not a table: name sheets after the tables (" + ", ".join(tables) + ")",
                            sheet=sheet.title,
                        )
                    )
                    continue
                sheet.reset_dimensions()
                rows: list[tuple[int, tuple[Any, ...]]] = []
                header: tuple[str, ...] = ()
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    if number == 1:
                        header = _xlsx_header(values)
                    elif any(v is not None and v != "" for v in values):
                        rows.append((number, tuple(values)))
                        done += 1
                        if progress is not None and done % 5_000 == 0:
                            progress("read", done, 0)
                found.append(SourceTable(table, name, sheet.title, header, header, rows))
        finally:
            workbook.close()
    return found, problems


def _magic_problem(name: str, suffix: str, head: bytes) -> ImportProblem | None:
    if suffix in {".xlsx", ".zip"}:
        if head.startswith(_ZIP_MAGIC):
            return None
        what = next((w for m, w in _BINARY_MAGIC.items() if head.startswith(m)), "not a ZIP")
        return _problem(name, f"the content does not match {suffix}: it is {what}")
    if suffix in {".csv", ".txt"}:
        for magic, what in _BINARY_MAGIC.items():
            if head.startswith(magic):
                return _problem(name, f"the content does not match {suffix}: it is {what}")
        return None
    return _problem(name, f"unsupported file type {suffix or '(none)'}; use .csv, .xlsx or .zip")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (the identity of an import: re-runs are no-ops).

    Raises
    ------
    ImportFileError
        When the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        reason = f"cannot read the file ({error.strerror})"
        raise ImportFileError(path.name, [_problem(path.name, reason)]) from None
    return digest.hexdigest()


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(8)
    except OSError as error:
        reason = f"cannot read the file ({error.strerror})"
        raise ImportFileError(path.name, [_problem(path.name, reason)]) from None


def read_csv_file(path: Path) -> SourceTable:
    """Read one CSV file (extension and content checked) as a raw table without a name.

    Raises
    ------
    ImportFileError
        When the file is not UTF-8 CSV text.
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".txt"}:
        suffix = suffix or "(none)"
        raise ImportFileError(path.name, [_problem(path.name, f"{suffix} is not a .csv file")])
    problem = _magic_problem(path.name, suffix, _head(path))
    if problem is not None:
        raise ImportFileError(path.name, [problem])
    return read_csv_text(path.read_bytes(), path.name)


def read_source(
    path: Path,
    tables: Sequence[str],
    *,
    table: str | None = None,
    progress: ProgressCallback | None = None,
) -> SourceFile:
    """Read ``path`` (``.csv``, ``.xlsx`` or ``.zip`` of CSV files) into raw tables.

    Parameters
    ----------
    path
        The file.
    tables
        The table names a sheet, member or file may have.
    table
        The table of a CSV file (default: the file's name without ``.csv``).
    progress
        Called as rows are read.

    Raises
    ------
    ImportFileError
        When the file cannot be read at all (wrong type, hostile container, not UTF-8).
    """
    name = path.name
    sha256 = file_sha256(path)
    suffix = path.suffix.lower()
    problem = _magic_problem(name, suffix, _head(path))
    if problem is not None:
        raise ImportFileError(name, [problem])
    if suffix in {".csv", ".txt"}:
        chosen = _table_of(table or path.stem)
        if chosen not in tables:
            reason = (
                "unknown table: name the file <table>.csv or pass --table ("
                + ", ".join(tables)
                + ")"
            )
            raise ImportFileError(name, [_problem(name, reason, value=chosen)])
        found = [replace(read_csv_file(path), table=chosen)]
        return SourceFile(name, SourceKind.CSV, sha256, tuple(found), ())
    archive_problems = check_archive(path, name)
    if archive_problems:
        raise ImportFileError(name, archive_problems)
    if suffix == ".zip":
        found, problems = _read_zip(path, name, tables)
        return SourceFile(name, SourceKind.ZIP, sha256, tuple(found), tuple(problems))
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
    if not {"[Content_Types].xml", "xl/workbook.xml"} <= members:
        raise ImportFileError(name, [_problem(name, "a ZIP container but not an XLSX workbook")])
    try:
        found, problems = _read_xlsx(path, name, tables, progress)
    except ImportFileError:
        raise
    except Exception as error:  # the parser boundary: any failure of openpyxl is a bad file
        reason = f"not a readable XLSX workbook ({type(error).__name__}: {error})"
        raise ImportFileError(name, [_problem(name, reason[:300])]) from None
    return SourceFile(name, SourceKind.XLSX, sha256, tuple(found), tuple(problems))
