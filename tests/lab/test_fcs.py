"""FCS reader: values equal flowio's on every layout; every corruption named with its offset."""

from __future__ import annotations

import hashlib
import importlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError
from mrdtrack.lab.fcs import parse_fcs, parse_spillover, read_fcs
from tests.lab.fcs_factory import build_fcs, spillover_text, synthetic_marrow
from tests.lab.fuzzing import only_declared_errors

flowio: Any = importlib.import_module("flowio")

RAW, NAMES, LABELS, SPILL = synthetic_marrow(2_000, seed=7)
EXTRA = {"$SPILLOVER": spillover_text(NAMES[2:], SPILL)}


def _flowio_events(data: bytes) -> np.ndarray[Any, np.dtype[np.float64]]:
    events: np.ndarray[Any, np.dtype[np.float64]] = flowio.FlowData(io.BytesIO(data)).as_array()
    return events


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param({}, id="3.1-float-little"),
        pytest.param({"version": "FCS3.0"}, id="3.0"),
        pytest.param({"version": "FCS2.0"}, id="2.0"),
        pytest.param({"byteorder": ">"}, id="big-endian"),
        pytest.param({"datatype": "D"}, id="double"),
        pytest.param({"delimiter": "|"}, id="pipe-delimiter"),
        pytest.param({"header_data_offsets": False}, id="header-offsets-zero"),
    ],
)
def test_float_layouts_equal_flowio(layout: dict[str, Any]) -> None:
    data = build_fcs(RAW, NAMES, labels=LABELS, extra=EXTRA, **layout)
    fcs = parse_fcs(data, "x.fcs")
    assert fcs.event_count == RAW.shape[0]
    assert [c.name for c in fcs.channels] == list(NAMES)
    # flowio refuses zero HEADER offsets below 99,999,999 bytes; compare with the plain file then.
    reference = (
        build_fcs(RAW, NAMES, labels=LABELS, extra=EXTRA)
        if layout.get("header_data_offsets") is False
        else data
    )
    np.testing.assert_array_equal(fcs.events(), _flowio_events(reference))
    assert fcs.spillover is not None and fcs.spillover.channels == NAMES[2:]
    np.testing.assert_allclose(fcs.spillover.as_array(), SPILL, rtol=1e-15)


def test_integer_data_masks_gain_log_and_time_like_flowio() -> None:
    rng = np.random.default_rng(0)
    ints = rng.integers(0, 60_000, (300, 4))
    extra = {"$TIMESTEP": "0.01", "$P2G": "2.0", "$P3E": "4,1", "$P4G": "4.0"}
    for bits in ([16, 32, 16, 16], [32, 32, 32, 32]):
        data = build_fcs(
            ints, ["FSC-A", "SSC-A", "PE-A", "Time"], datatype="I", bits=bits,
            ranges=[1024, 65536, 1024, 1024], extra=extra,
        )  # fmt: skip
        np.testing.assert_allclose(
            parse_fcs(data, "i.fcs").events(), _flowio_events(data), rtol=1e-15
        )


def test_escaped_delimiters_in_values() -> None:
    data = build_fcs(RAW[:10], NAMES, extra={"$FIL": "a/b//c", "$COM": "ends with /"})
    fcs = parse_fcs(data, "x.fcs")
    assert fcs.keywords["$FIL"] == "a/b//c"
    assert fcs.keywords["$COM"] == "ends with /"


def test_read_fcs_hashes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.fcs"
    path.write_bytes(build_fcs(RAW, NAMES, labels=LABELS, extra=EXTRA))
    fcs = read_fcs(path)
    assert fcs.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fcs.channel_index("CD19") == NAMES.index("PE-Cy7-A")
    assert fcs.channel_index("PE-A") == NAMES.index("PE-A")
    with pytest.raises(ImportValidationError, match="CD3"):
        fcs.channel_index("CD3")


def _corrupt(data: bytes, at: int, replacement: bytes) -> bytes:
    return data[:at] + replacement + data[at + len(replacement) :]


GOOD = build_fcs(RAW[:50], NAMES, labels=LABELS, extra=EXTRA)
TEXT = GOOD[58 : int(GOOD[18:26])].decode()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(GOOD[:40], "HEADER", id="shorter-than-header"),
        pytest.param(b"XYZ" + GOOD[3:], "FCS version", id="bad-magic"),
        pytest.param(_corrupt(GOOD, 10, b"     -58"), "HEADER offset", id="negative-text-offset"),
        pytest.param(_corrupt(GOOD, 18, b"99999999"), "TEXT offsets", id="text-beyond-file"),
        pytest.param(GOOD[:-7], "truncated", id="truncated-data"),
        pytest.param(GOOD.replace(b"$PAR/10/", b"$PAR/-1/"), "$PAR", id="par-minus-one"),
        pytest.param(GOOD.replace(b"$PAR/10/", b"$PAR/11/"), "$P11N", id="par-too-many"),
        pytest.param(GOOD.replace(b"1,2,3,4", b"3,4,1,2"), "$BYTEORD", id="pdp-byteorder"),
        pytest.param(GOOD.replace(b"$DATATYPE/F/", b"$DATATYPE/A/"), "$DATATYPE", id="ascii-data"),
        pytest.param(
            GOOD.replace(b"$DATATYPE/F/", b"$DATATYPE/Q/"), "$DATATYPE", id="unknown-data"
        ),
        pytest.param(GOOD.replace(b"$TOT/50/", b"$TOT/51/"), "DATA length", id="tot-mismatch"),
        pytest.param(GOOD.replace(b"$P3B/32/", b"$P3B/16/"), "$P3B", id="float-with-16-bits"),
        pytest.param(GOOD.replace(b"$MODE/L/", b"$MODE/U/"), "$MODE", id="histogram-mode"),
        pytest.param(
            GOOD.replace(b"$NEXTDATA/0/", b"$NEXTDATA/9/"), "$NEXTDATA", id="multi-dataset"
        ),
        pytest.param(
            GOOD.replace(b"$SPILLOVER/8,", b"$SPILLOVER/9,"), "$SPILLOVER", id="bad-spillover"
        ),
    ],
)
def test_corrupt_files_are_refused_with_location(data: bytes, needle: str) -> None:
    with pytest.raises(ImportValidationError) as raised:
        parse_fcs(data, "tube7.fcs")
    message = str(raised.value)
    assert "tube7.fcs" in message
    assert needle in message


def test_offset_discrepancy_names_both_offsets() -> None:
    begin = int(GOOD[26:34])
    data = _corrupt(GOOD, 26, f"{begin + 4:>8}".encode())
    with pytest.raises(ImportValidationError, match=r"HEADER .* TEXT"):
        parse_fcs(data, "x.fcs")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(ImportValidationError):
        read_fcs(tmp_path / "absent.fcs")


def test_spillover_parser() -> None:
    matrix = parse_spillover("2,A,B,1,0.1,0.05,1", "x")
    assert matrix.channels == ("A", "B")
    np.testing.assert_allclose(matrix.inverse() @ matrix.as_array(), np.eye(2), atol=1e-15)
    with pytest.raises(ImportValidationError):
        parse_spillover("2,A,B,1,0.1,0.05", "x")
    with pytest.raises(ImportValidationError):
        parse_spillover("2,A,B,1,1,1,1", "x").inverse()


@settings(
    derandomize=True, max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, len(GOOD) - 1), st.binary(min_size=1, max_size=8)), max_size=4
    ),
    length=st.integers(0, len(GOOD)),
)
def test_fuzzed_headers_raise_only_import_errors(
    cuts: list[tuple[int, bytes]], length: int
) -> None:
    data = GOOD
    for at, junk in cuts:
        # Aim half of the mutations at the HEADER and TEXT, where the parser decides.
        at = at % (len(TEXT) + 58) if at % 2 else at
        data = _corrupt(data, at, junk)
    data = data[: max(length, len(data) // 2)]
    only_declared_errors(lambda: parse_fcs(data, "fuzz.fcs").events(), "fuzz.fcs")
