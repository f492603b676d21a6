"""Synthetic FCS files with known truth, written byte by byte (FCS 2.0, 3.0 and 3.1).

flowio can only write FCS 3.1 float data; the reader must also handle integer data,
big-endian files, FCS 2.0 headers and supplemental TEXT, so the tests write their own
bytes and check the reader against flowio's reader on the same files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

FLUORO = ("FITC-A", "PE-A", "PerCP-Cy5.5-A", "PE-Cy7-A", "APC-A", "APC-H7-A", "BV421-A", "BV510-A")
MARKERS = ("CD20", "CD10", "CD34", "CD19", "CD45", "CD38", "CD22", "CD24")


def build_fcs(
    events: npt.NDArray[np.floating] | npt.NDArray[np.integer],
    names: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    version: str = "FCS3.1",
    datatype: str = "F",
    byteorder: str = "<",
    bits: Sequence[int] | None = None,
    ranges: Sequence[float] | None = None,
    extra: Mapping[str, str] | None = None,
    delimiter: str = "/",
    header_data_offsets: bool = True,
) -> bytes:
    """The bytes of a one-data-set FCS file holding ``events`` (rows × parameters)."""
    n_events, n_par = events.shape
    if bits is None:
        bits = [64 if datatype == "D" else 32 if datatype == "F" else 16] * n_par
    if datatype in ("F", "D"):
        kind = "f"
        data = events.astype(f"{byteorder}{kind}{bits[0] // 8}").tobytes()
    elif len(set(bits)) == 1:
        data = events.astype(f"{byteorder}u{bits[0] // 8}").tobytes()
    else:
        dtype = np.dtype([(f"p{i}", f"{byteorder}u{b // 8}") for i, b in enumerate(bits)])
        record = np.zeros(n_events, dtype=dtype)
        for i in range(n_par):
            record[f"p{i}"] = events[:, i]
        data = record.tobytes()
    keywords: dict[str, str] = {
        "$BYTEORD": "1,2,3,4" if byteorder == "<" else "4,3,2,1",
        "$DATATYPE": datatype,
        "$MODE": "L",
        "$NEXTDATA": "0",
        "$PAR": str(n_par),
        "$TOT": str(n_events),
    }
    for i, name in enumerate(names, start=1):
        keywords[f"$P{i}N"] = name
        keywords[f"$P{i}B"] = str(bits[i - 1])
        keywords[f"$P{i}E"] = "0,0"
        keywords[f"$P{i}R"] = str(ranges[i - 1] if ranges else 262144)
        if labels and labels[i - 1]:
            keywords[f"$P{i}S"] = labels[i - 1]
    keywords.update(extra or {})
    text_start = 58
    is_v3 = version != "FCS2.0"

    def text_bytes(begin: int, end: int) -> bytes:
        items = dict(keywords)
        if is_v3:
            items.update(
                {
                    "$BEGINANALYSIS": "0",
                    "$ENDANALYSIS": "0",
                    "$BEGINSTEXT": items.get("$BEGINSTEXT", "0"),
                    "$ENDSTEXT": items.get("$ENDSTEXT", "0"),
                    "$BEGINDATA": str(begin),
                    "$ENDDATA": str(end),
                }
            )
        d = delimiter
        body = d + "".join(
            f"{k.replace(d, d + d)}{d}{v.replace(d, d + d)}{d}" for k, v in items.items()
        )
        return body.encode("utf-8")

    # The offsets are written into TEXT, whose length depends on them: iterate to a fixed point.
    data_start = text_start + len(text_bytes(0, 0)) + 32
    for _ in range(5):
        text = text_bytes(data_start, data_start + len(data) - 1)
        wanted = text_start + len(text)
        if wanted <= data_start:
            break
        data_start = wanted
    text = text_bytes(data_start, data_start + len(data) - 1)
    text_end = text_start + len(text) - 1
    pad = b" " * (data_start - text_end - 1)
    data_end = data_start + len(data) - 1 if data else 0
    hd_start, hd_end = (data_start, data_end) if header_data_offsets else (0, 0)
    header = f"{version}    {text_start:>8}{text_end:>8}{hd_start:>8}{hd_end:>8}{0:>8}{0:>8}"
    return header.encode("ascii") + text + pad + data


def spillover_text(names: Sequence[str], matrix: npt.NDArray[np.float64]) -> str:
    """The ``$SPILLOVER`` value for ``matrix`` over ``names``."""
    values = ",".join(f"{v:.17g}" for v in matrix.ravel())
    return f"{len(names)},{','.join(names)},{values}"


def spill_matrix(n: int, seed: int = 1) -> npt.NDArray[np.float64]:
    """A realistic spillover matrix: 1 on the diagonal, 0-15 % spill elsewhere."""
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(0.0, 0.15, (n, n)) * (rng.uniform(size=(n, n)) < 0.5)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def synthetic_marrow(
    n_events: int, *, blast_fraction: float = 1e-3, seed: int = 0
) -> tuple[npt.NDArray[np.float32], tuple[str, ...], tuple[str, ...], npt.NDArray[np.float64]]:
    """Compensated-space bone-marrow-like events, then spilled: (raw, names, labels, S).

    Columns: FSC-A, SSC-A, then eight fluorescence channels (``FLUORO``) carrying the
    markers in ``MARKERS``. A ``blast_fraction`` of events is a CD19+CD10+CD34+ LAIP
    population; the rest are lymphocytes, myeloid cells and debris.
    """
    rng = np.random.default_rng(seed)
    names = ("FSC-A", "SSC-A", *FLUORO)
    labels = ("", "", *MARKERS)
    true = np.empty((n_events, len(names)), dtype=np.float64)
    kind = rng.uniform(size=n_events)
    blasts = kind < blast_fraction
    lymph = (kind >= blast_fraction) & (kind < 0.35)
    true[:, 0] = np.where(lymph | blasts, rng.normal(60_000, 12_000, n_events), 0.0)
    true[:, 0] = np.where(~(lymph | blasts), rng.normal(110_000, 30_000, n_events), true[:, 0])
    true[:, 1] = np.where(lymph | blasts, rng.normal(25_000, 6_000, n_events), 0.0)
    true[:, 1] = np.where(~(lymph | blasts), rng.normal(90_000, 35_000, n_events), true[:, 1])
    for j in range(len(FLUORO)):
        background = rng.normal(0.0, 150.0, n_events)
        positive = np.exp(rng.normal(np.log(2_000.0 * (1 + j)), 0.6, n_events))
        on = rng.uniform(size=n_events) < 0.3
        true[:, 2 + j] = np.where(on, positive, background)
    # LAIP: CD10 (PE-A), CD34 (PerCP-Cy5.5-A), CD19 (PE-Cy7-A) bright; CD45 (APC-A) dim.
    for col, level in ((3, 20_000.0), (4, 8_000.0), (5, 15_000.0)):
        true[blasts, col] = np.exp(rng.normal(np.log(level), 0.3, int(blasts.sum())))
    true[blasts, 6] = np.exp(rng.normal(np.log(600.0), 0.4, int(blasts.sum())))
    spill = spill_matrix(len(FLUORO), seed=seed + 1)
    raw = true.copy()
    raw[:, 2:] = true[:, 2:] @ spill
    return raw.astype(np.float32), names, labels, spill


def write(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` and return it."""
    path.write_bytes(content)
    return path
