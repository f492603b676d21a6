"""FCS 2.0 / 3.0 / 3.1 list-mode files: validated header and TEXT, numpy-decoded DATA.

The Flow Cytometry Standard (Spidlen J et al. Cytometry A 2010;77A:97-100 for FCS 3.1;
Seamer LC et al. Cytometry 1997;28:118-122 for FCS 3.0) lays a file out as a 58-byte
HEADER of ASCII byte offsets, a TEXT segment of delimited keyword/value pairs and a
DATA segment of ``$TOT`` events × ``$PAR`` parameters. Every offset and keyword the
decoder relies on is checked against the file before any event is read; a rejection
names the file, the byte offset or keyword, and what was expected.

Values are the ones flowio's ``FlowData.as_array(preprocess=True)`` and FlowKit give:
integer data masked to the next power of two of ``$PnR``, ``$PnE`` log amplification
undone (``10^(f1·v/PnR)·f2``), ``$PnG`` gain divided out (not on the time channel) and
the time channel scaled by ``$TIMESTEP``. Compensation uses ``$SPILLOVER`` (FCS 3.1),
``$SPILL`` / ``SPILL`` (earlier files) or a matrix the caller supplies:
``compensated = raw[:, channels] · S⁻¹``.
"""

from __future__ import annotations

import hashlib
import math
import mmap
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from mrdtrack.errors import ImportValidationError

__all__ = [
    "FcsChannel",
    "FcsFile",
    "SpilloverMatrix",
    "parse_fcs",
    "parse_spillover",
    "read_fcs",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

SUPPORTED_VERSIONS = ("FCS2.0", "FCS3.0", "FCS3.1", "FCS3.2")
HEADER_BYTES = 58
MAX_PARAMETERS = 10_000
# Default ceiling for one file read into memory; a larger file is refused, not truncated.
MAX_FILE_BYTES = 8 * 1024**3
_SPILL_KEYWORDS = ("$SPILLOVER", "SPILLOVER", "$SPILL", "SPILL")
_CHANNEL_KEY = re.compile(r"^\$P(\d+)([A-Z]+)$")


@dataclass(frozen=True, slots=True)
class FcsChannel:
    """One parameter of an FCS file (``$PnN``, ``$PnS``, ``$PnB``, ``$PnR``, ``$PnE``, ``$PnG``)."""

    number: int
    name: str
    label: str
    bits: int
    range: float
    decades: float
    log_zero: float
    gain: float

    @property
    def is_time(self) -> bool:
        """The time parameter (named ``Time``, any case)."""
        return self.name.strip().lower() == "time"


@dataclass(frozen=True, slots=True)
class SpilloverMatrix:
    """A square spillover matrix ``S`` over named channels (rows spill into columns).

    Compensation solves ``observed = true · S`` for ``true``: ``true = observed · S⁻¹``.
    """

    channels: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    source: str

    def as_array(self) -> FloatArray:
        """``S`` as a float64 array."""
        return np.array(self.values, dtype=np.float64)

    def inverse(self) -> FloatArray:
        """``S⁻¹``; raises when ``S`` is singular."""
        matrix = self.as_array()
        if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) < 1e-12:
            raise ImportValidationError(
                "spillover matrix",
                self.source,
                "an invertible matrix of finite numbers",
                location=self.source,
                hint="the compensation matrix is singular: re-export it from the cytometer",
            )
        inverse: FloatArray = np.linalg.inv(matrix).astype(np.float64)
        return inverse


def parse_spillover(text: str, source: str) -> SpilloverMatrix:
    """Parse the FCS ``$SPILLOVER`` form ``n,name1,…,namen,s11,s12,…,snn``."""
    parts = [p.strip() for p in text.split(",")]
    try:
        n = int(parts[0])
    except ValueError:
        n = -1
    if n < 1 or len(parts) != 1 + n + n * n:
        raise ImportValidationError(
            "$SPILLOVER",
            text[:80],
            "n, then n channel names, then n×n numbers, comma-separated",
            location=source,
        )
    names = tuple(parts[1 : n + 1])
    try:
        numbers = [float(p) for p in parts[n + 1 :]]
    except ValueError:
        numbers = [math.nan]
    if not all(math.isfinite(v) for v in numbers) or len(set(names)) != n:
        raise ImportValidationError(
            "$SPILLOVER",
            text[:80],
            "distinct channel names and finite numbers",
            location=source,
        )
    rows = tuple(tuple(numbers[i * n : (i + 1) * n]) for i in range(n))
    return SpilloverMatrix(names, rows, source)


class _Digest:
    """SHA-256 of a buffer, computed on a background thread (hashlib releases the GIL).

    Hashing a 48 MB file costs as much as gating it; overlapping the two halves the
    wall time of an analysis on a machine with a second core.
    """

    def __init__(self, buffer: bytes | mmap.mmap, *, background: bool = True) -> None:
        self._buffer: bytes | mmap.mmap | None = buffer
        self._value: str | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        if self._buffer is not None:
            self._value = hashlib.sha256(self._buffer).hexdigest()
            self._buffer = None

    def result(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._value is None:
            self._run()  # not started in the background: hash now
        return str(self._value)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where and how the events are stored."""

    start: int
    dtype: np.dtype[np.void] | np.dtype[np.number[npt.NBitBase]]
    structured: bool
    masks: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class FcsFile:
    """A validated FCS data set held in memory.

    Attributes
    ----------
    path
        Where it was read from.
    version
        ``FCS2.0``, ``FCS3.0``, ``FCS3.1`` (or ``FCS3.2``).
    keywords
        Every TEXT keyword, upper-cased, with its value.
    channels
        The parameters in file order.
    event_count
        ``$TOT``.
    spillover
        The file's own spillover matrix, if it has one.
    sha256
        (property) SHA-256 of the whole file, hex: the provenance of every result.
    """

    path: Path
    version: str
    keywords: Mapping[str, str]
    channels: tuple[FcsChannel, ...]
    event_count: int
    spillover: SpilloverMatrix | None
    _buffer: bytes | mmap.mmap = field(repr=False)
    _layout: _Layout = field(repr=False)
    _digest: _Digest = field(repr=False)

    @property
    def sha256(self) -> str:
        """SHA-256 of the whole file, hex."""
        return self._digest.result()

    @property
    def name(self) -> str:
        """The file's name."""
        return self.path.name

    @property
    def parameter_count(self) -> int:
        """``$PAR``."""
        return len(self.channels)

    def channel_index(self, name: str) -> int:
        """Index of a channel by ``$PnN`` (exact), else by a unique ``$PnS`` marker label."""
        for i, channel in enumerate(self.channels):
            if channel.name == name:
                return i
        matches = [i for i, c in enumerate(self.channels) if c.label and c.label == name]
        if len(matches) == 1:
            return matches[0]
        names = ", ".join(c.name + (f" ({c.label})" if c.label else "") for c in self.channels)
        raise ImportValidationError(
            "channel",
            name,
            f"one $PnN name or unique $PnS label of: {names}",
            location=self.name,
            hint="the strategy names a channel this file does not have",
        )

    def _raw_view(self) -> npt.NDArray[np.generic]:
        layout = self._layout
        if layout.structured:
            return np.frombuffer(
                self._buffer, dtype=layout.dtype, count=self.event_count, offset=layout.start
            )
        flat = np.frombuffer(
            self._buffer,
            dtype=layout.dtype,
            count=self.event_count * len(self.channels),
            offset=layout.start,
        )
        return flat.reshape(self.event_count, len(self.channels))

    def columns(
        self, indices: Sequence[int], start: int = 0, stop: int | None = None
    ) -> FloatArray:
        """Preprocessed float64 values of ``indices`` for events ``start:stop`` (rows × k)."""
        stop = self.event_count if stop is None else min(stop, self.event_count)
        start = min(max(start, 0), stop)
        raw = self._raw_view()[start:stop]
        wanted = list(indices)
        if not self._layout.structured and all(
            self._layout.masks[i] is None and not self._needs_preprocessing(i) for i in wanted
        ):
            # Plain float or integer data: one convert (and gather) for the whole block.
            if wanted == list(range(len(self.channels))):
                return raw.astype(np.float64)
            return raw[:, wanted].astype(np.float64)
        out = np.empty((stop - start, len(wanted)), dtype=np.float64)
        for k, index in enumerate(wanted):
            records: Any = raw  # a structured array when the bit widths differ
            values = records[f"p{index}"] if self._layout.structured else raw[:, index]
            mask = self._layout.masks[index]
            column = out[:, k]
            column[:] = values if mask is None else np.bitwise_and(values, mask)
            self._preprocess(index, column)
        return out

    def _needs_preprocessing(self, index: int) -> bool:
        channel = self.channels[index]
        if channel.is_time:
            return bool(self.keywords.get("$TIMESTEP", "").strip())
        return channel.decades > 0 or channel.gain not in (0.0, 1.0)

    def _preprocess(self, index: int, column: FloatArray) -> None:
        channel = self.channels[index]
        if channel.is_time:
            step = self.keywords.get("$TIMESTEP", "").strip()
            if step:
                try:
                    column *= float(step)
                except ValueError:
                    raise ImportValidationError(
                        "$TIMESTEP", step, "a number", location=self.name
                    ) from None
        if channel.decades > 0:
            np.multiply(column, channel.decades / channel.range, out=column)
            np.power(10.0, column, out=column)
            column *= channel.log_zero
        if not channel.is_time and channel.gain not in (0.0, 1.0):
            column /= channel.gain

    def events(self) -> FloatArray:
        """All events × all parameters, preprocessed (convenient for small files)."""
        return self.columns(range(len(self.channels)))

    def iter_chunks(
        self, indices: Sequence[int], chunk_events: int = 65_536
    ) -> Iterator[tuple[int, int, FloatArray]]:
        """Yield ``(start, stop, values)`` blocks of the given columns, in event order."""
        for start in range(0, self.event_count, chunk_events):
            stop = min(start + chunk_events, self.event_count)
            yield start, stop, self.columns(indices, start, stop)


def read_fcs(
    path: str | Path, *, max_bytes: int = MAX_FILE_BYTES, background_hash: bool = True
) -> FcsFile:
    """Read and validate an FCS file.

    The SHA-256 of the file is computed on a background thread while the events are
    used (``background_hash``), or on first use of :attr:`FcsFile.sha256` otherwise.

    Raises
    ------
    ImportValidationError
        The file is missing, too large, truncated, or its HEADER, TEXT or DATA segment
        contradicts itself; the message names the file and the byte offset or keyword.
    """
    file_path = Path(path)
    try:
        size = file_path.stat().st_size
    except OSError as missing:
        raise ImportValidationError(
            "fcs file", str(file_path), "a readable FCS file", location=str(file_path)
        ) from missing
    if size > max_bytes:
        raise ImportValidationError(
            "file size",
            size,
            f"at most {max_bytes:,} bytes",
            location=file_path.name,
        )
    if size < HEADER_BYTES:
        return parse_fcs(file_path.read_bytes(), file_path, background_hash=background_hash)
    # A read-only map: events are decoded from the page cache without a copy.
    with file_path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return parse_fcs(mapped, file_path, background_hash=background_hash)


def _fail(
    source: str, offset: int, what: str, value: object, expected: str
) -> ImportValidationError:
    return ImportValidationError(what, value, expected, location=f"{source} (byte {offset})")


def _header(buffer: bytes | mmap.mmap, source: str) -> tuple[str, list[int]]:
    if len(buffer) < HEADER_BYTES:
        raise _fail(
            source, len(buffer), "HEADER", f"{len(buffer)} bytes", f"at least {HEADER_BYTES} bytes"
        )
    version = buffer[:6].decode("ascii", errors="replace")
    if version not in SUPPORTED_VERSIONS:
        raise _fail(source, 0, "FCS version", version, "one of " + ", ".join(SUPPORTED_VERSIONS))
    offsets: list[int] = []
    for k in range(6):
        at = 10 + 8 * k
        field_bytes = buffer[at : at + 8]
        text = field_bytes.decode("ascii", errors="replace").strip()
        if not text and k >= 4:
            offsets.append(0)  # ANALYSIS offsets may be blank
            continue
        if not text.isdigit():
            raise _fail(source, at, "HEADER offset", text, "a non-negative whole number")
        offsets.append(int(text))
    return version, offsets


def _parse_text(segment: bytes, source: str, offset: int) -> dict[str, str]:
    if len(segment) < 2:
        raise _fail(source, offset, "TEXT segment", f"{len(segment)} bytes", "a delimited segment")
    try:
        text = segment.decode("utf-8")
    except UnicodeDecodeError:
        text = segment.decode("latin-1")
    delimiter = text[0]
    body = text[1:]
    # The segment ends with the delimiter; before it, doubled delimiters are escapes.
    if (len(body) - len(body.rstrip(delimiter))) % 2 == 1:
        body = body[:-1]
    # A doubled delimiter is a literal delimiter inside a keyword or value (FCS 3.1 §3.2.9).
    placeholder = "\ue000"
    escaped = body.replace(delimiter * 2, placeholder).split(delimiter)
    tokens = [t.replace(placeholder, delimiter) for t in escaped]
    if len(tokens) % 2:
        raise _fail(
            source,
            offset,
            "TEXT segment",
            f"{len(tokens)} fields",
            "keyword/value pairs (an even number of delimited fields)",
        )
    keywords: dict[str, str] = {}
    for key, value in zip(tokens[::2], tokens[1::2], strict=True):
        name = key.strip().upper()
        if not name:
            raise _fail(source, offset, "TEXT keyword", key, "a non-empty keyword")
        if name in keywords:
            raise _fail(source, offset, "TEXT keyword", name, "each keyword once")
        keywords[name] = value
    return keywords


def _int_keyword(keywords: Mapping[str, str], name: str, source: str, minimum: int = 0) -> int:
    raw = keywords.get(name)
    if raw is None:
        raise ImportValidationError(name, None, "a required keyword", location=source)
    text = raw.strip()
    if not text.lstrip("-").isdigit() or int(text) < minimum:
        raise ImportValidationError(name, raw, f"a whole number ≥ {minimum}", location=source)
    return int(text)


def _float_keyword(keywords: Mapping[str, str], name: str, source: str, default: float) -> float:
    raw = keywords.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ImportValidationError(name, raw, "a finite number", location=source)
    return value


def _channels(keywords: Mapping[str, str], count: int, source: str) -> tuple[FcsChannel, ...]:
    channels: list[FcsChannel] = []
    for n in range(1, count + 1):
        name = keywords.get(f"$P{n}N")
        if name is None or not name.strip():
            raise ImportValidationError(f"$P{n}N", name, "a channel name", location=source)
        bits_raw = keywords.get(f"$P{n}B", "").strip()
        if not bits_raw.isdigit():
            raise ImportValidationError(
                f"$P{n}B", bits_raw or None, "the bits per value (8, 16, 32 or 64)", location=source
            )
        range_value = _float_keyword(keywords, f"$P{n}R", source, math.nan)
        if not range_value > 0:
            raise ImportValidationError(
                f"$P{n}R", keywords.get(f"$P{n}R"), "a range > 0", location=source
            )
        decades, log_zero = 0.0, 0.0
        amp = keywords.get(f"$P{n}E")
        if amp is not None and amp.strip():
            pieces = amp.split(",")
            try:
                decades, log_zero = float(pieces[0]), float(pieces[1])
            except (ValueError, IndexError):
                decades = math.nan
            if not (math.isfinite(decades) and math.isfinite(log_zero)) or decades < 0:
                raise ImportValidationError(
                    f"$P{n}E", amp, "f1,f2 with f1 ≥ 0 decades (0,0 = linear)", location=source
                )
            if decades > 0 and log_zero == 0:
                log_zero = 1.0  # FCS 3.1: a log parameter with f2 = 0 means f2 = 1
        gain = _float_keyword(keywords, f"$P{n}G", source, 1.0)
        channels.append(
            FcsChannel(
                number=n,
                name=name.strip(),
                label=keywords.get(f"$P{n}S", "").strip(),
                bits=int(bits_raw),
                range=range_value,
                decades=decades,
                log_zero=log_zero,
                gain=gain,
            )
        )
    return tuple(channels)


def _layout(
    keywords: Mapping[str, str], channels: Sequence[FcsChannel], start: int, source: str
) -> _Layout:
    datatype = keywords.get("$DATATYPE", "").strip().upper()
    order_raw = keywords.get("$BYTEORD", "").strip().replace(" ", "")
    if order_raw in ("1,2,3,4", "1,2", "1", "1,2,3,4,5,6,7,8"):
        order = "<"
    elif order_raw in ("4,3,2,1", "2,1", "8,7,6,5,4,3,2,1"):
        order = ">"
    else:
        raise ImportValidationError(
            "$BYTEORD",
            order_raw or None,
            "1,2,3,4 (little-endian) or 4,3,2,1 (big-endian)",
            location=source,
        )
    mode = keywords.get("$MODE", "L").strip().upper()
    if mode != "L":
        raise ImportValidationError(
            "$MODE", mode, "L (list mode); histogram data sets are not events", location=source
        )
    bits = [c.bits for c in channels]
    if datatype in ("F", "D"):
        width = 32 if datatype == "F" else 64
        wrong = [c for c in channels if c.bits != width]
        if wrong:
            raise ImportValidationError(
                f"$P{wrong[0].number}B",
                wrong[0].bits,
                f"{width} for $DATATYPE {datatype}",
                location=source,
            )
        dtype = np.dtype(f"{order}f{width // 8}")
        return _Layout(start, dtype, False, tuple(None for _ in channels))
    if datatype == "I":
        wrong = [c for c in channels if c.bits not in (8, 16, 32, 64)]
        if wrong:
            raise ImportValidationError(
                f"$P{wrong[0].number}B",
                wrong[0].bits,
                "8, 16, 32 or 64 bits (packed bit widths are not supported)",
                location=source,
            )
        masks: list[int | None] = []
        for c in channels:
            top = 1 << max(math.ceil(math.log2(c.range)), 0) if c.range > 1 else 1
            masks.append(top - 1 if c.bits < 64 and top < (1 << c.bits) else None)
        if len(set(bits)) == 1:
            dtype = np.dtype(f"{order}u{bits[0] // 8}")
            return _Layout(start, dtype, False, tuple(masks))
        structured = np.dtype([(f"p{i}", f"{order}u{b // 8}") for i, b in enumerate(bits)])
        return _Layout(start, structured, True, tuple(masks))
    if datatype == "A":
        raise ImportValidationError(
            "$DATATYPE",
            "A",
            "I, F or D (ASCII event data is not supported)",
            location=source,
            hint="re-export the file as FCS 3.1 with floating-point data",
        )
    raise ImportValidationError("$DATATYPE", datatype or None, "I, F or D", location=source)


def parse_fcs(
    buffer: bytes | mmap.mmap, path: str | Path = "<memory>", *, background_hash: bool = False
) -> FcsFile:
    """Validate and decode the bytes of an FCS file (see :func:`read_fcs`)."""
    file_path = Path(path)
    digest = _Digest(buffer, background=background_hash)
    source = file_path.name
    size = len(buffer)
    version, offsets = _header(buffer, source)
    text_start, text_end, data_start, data_end = offsets[:4]
    if not HEADER_BYTES <= text_start <= text_end < size:
        raise _fail(
            source,
            10,
            "TEXT offsets",
            f"{text_start}-{text_end}",
            f"inside the file (bytes {HEADER_BYTES}-{size - 1})",
        )
    keywords = _parse_text(buffer[text_start : text_end + 1], source, text_start)
    if version != "FCS2.0":
        s_start = keywords.get("$BEGINSTEXT", "0").strip()
        s_end = keywords.get("$ENDSTEXT", "0").strip()
        if s_start.isdigit() and s_end.isdigit() and int(s_start) > 0 and int(s_end) > 0:
            begin, end = int(s_start), int(s_end)
            if not HEADER_BYTES <= begin <= end < size:
                raise _fail(
                    source, text_start, "$BEGINSTEXT/$ENDSTEXT", f"{begin}-{end}", "inside the file"
                )
            extra = _parse_text(buffer[begin : end + 1], source, begin)
            for key, value in extra.items():
                keywords.setdefault(key, value)
    if keywords.get("$NEXTDATA", "0").strip().strip("0"):
        raise ImportValidationError(
            "$NEXTDATA",
            keywords["$NEXTDATA"],
            "0 (one data set per file)",
            location=source,
            hint="split the multi-data-set file into one FCS file per tube",
        )
    parameters = _int_keyword(keywords, "$PAR", source, minimum=1)
    if parameters > MAX_PARAMETERS:
        raise ImportValidationError(
            "$PAR", parameters, f"at most {MAX_PARAMETERS}", location=source
        )
    if version != "FCS2.0" and "$BEGINDATA" in keywords:
        text_data_start = _int_keyword(keywords, "$BEGINDATA", source)
        text_data_end = _int_keyword(keywords, "$ENDDATA", source)
        # The HEADER holds 0 for segments beyond 99,999,999 bytes (FCS 3.1 §3.1).
        if data_start not in (0, text_data_start) or data_end not in (0, text_data_end):
            raise _fail(
                source,
                26,
                "DATA offsets",
                f"HEADER {data_start}-{data_end}, TEXT {text_data_start}-{text_data_end}",
                "the same begin and end in the HEADER and in $BEGINDATA/$ENDDATA",
            )
        data_start, data_end = text_data_start, text_data_end
    channels = _channels(keywords, parameters, source)
    layout = _layout(keywords, channels, data_start, source)
    event_bytes = sum(c.bits for c in channels) // 8
    if "$TOT" in keywords or version != "FCS2.0":
        total = _int_keyword(keywords, "$TOT", source)
    else:
        total = -1
    if total == 0 and data_end <= data_start:
        data_length = 0
    else:
        if data_start < HEADER_BYTES or data_end < data_start:
            raise _fail(
                source, 26, "DATA offsets", f"{data_start}-{data_end}", "a segment after the HEADER"
            )
        if data_end >= size:
            raise _fail(
                source,
                data_end,
                "DATA segment",
                f"ends at byte {data_end}",
                f"inside the file of {size} bytes: the file is truncated",
            )
        data_length = data_end - data_start + 1
    if total < 0:
        if data_length % event_bytes:
            raise _fail(
                source, data_start, "DATA length", data_length, f"a multiple of {event_bytes} bytes"
            )
        total = data_length // event_bytes
    if data_length != total * event_bytes:
        raise _fail(
            source,
            data_start,
            "DATA length",
            f"{data_length} bytes",
            f"$TOT × event size = {total} × {event_bytes} = {total * event_bytes} bytes",
        )
    spillover = None
    for key in _SPILL_KEYWORDS:
        if keywords.get(key, "").strip():
            spillover = parse_spillover(keywords[key], f"{source} {key}")
            break
    if spillover is not None:
        names = {c.name for c in channels}
        unknown = [n for n in spillover.channels if n not in names]
        if unknown:
            raise ImportValidationError(
                "$SPILLOVER channel",
                unknown[0],
                "a $PnN name of this file",
                location=source,
            )
    return FcsFile(
        path=file_path,
        version=version,
        keywords=MappingProxyType(keywords),
        channels=channels,
        event_count=total,
        spillover=spillover,
        _buffer=buffer,
        _layout=layout,
        _digest=digest,
    )
