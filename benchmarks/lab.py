"""Flow-cytometry MRD pipeline against FlowKit, end to end in one process.

The workload of ``shared/spec/performance.md``: one FCS 3.1 file of float32 events × 12
channels (FSC-A, SSC-A and ten fluorescence channels with a ``$SPILLOVER`` matrix), one
GatingML 2.0 strategy with a rectangle gate (CD45 logicle × SSC-A linear, compensated)
and a polygon child (CD10 × CD19 logicle, compensated): read, compensate, transform,
gate, count. mrdtrack runs ``load_strategy`` + ``read_fcs`` + ``apply_strategy``, and in a
second row ``analyze_fcs`` (which also hashes the file and builds the MRD result);
FlowKit runs ``parse_gating_xml`` + ``Sample`` + ``gate_sample``. The gate
counts must be identical or the benchmark fails. A second row compares the logicle
transform alone with flowutils' (the reference C implementation FlowKit calls). The two
sides' calls alternate, so that a busy shared machine slows both alike; memory is the
peak of numpy and Python allocations during one call (tracemalloc), each side alone.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import tempfile
import time
import tracemalloc
import warnings
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.timing import row
from mrdtrack.lab.fcs import read_fcs
from mrdtrack.lab.flow import analyze_fcs
from mrdtrack.lab.gating import apply_strategy
from mrdtrack.lab.gatingml import load_strategy
from mrdtrack.lab.transforms import LogicleTransform

SIZES = {"small": 50_000, "full": 1_000_000}
FLUORO = (
    "FITC-A", "PE-A", "PerCP-Cy5.5-A", "PE-Cy7-A", "APC-A",
    "APC-H7-A", "BV421-A", "BV510-A", "BV605-A", "BV786-A",
)  # fmt: skip
MARKERS = ("CD20", "CD10", "CD34", "CD19", "CD45", "CD38", "CD22", "CD24", "CD58", "CD66c")

STRATEGY = """<?xml version="1.0" encoding="UTF-8"?>
<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating"
  xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations"
  xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">
  <transforms:transformation transforms:id="logicle">
    <transforms:logicle transforms:T="262144" transforms:W="0.5" transforms:M="4.5" transforms:A="0"/>
  </transforms:transformation>
  <transforms:transformation transforms:id="linear">
    <transforms:flin transforms:T="262144" transforms:A="0"/>
  </transforms:transformation>
  <gating:RectangleGate gating:id="CD45dim_SSClow">
    <gating:dimension gating:compensation-ref="FCS" gating:transformation-ref="logicle"
      gating:min="0.25" gating:max="0.62"><data-type:fcs-dimension data-type:name="APC-A"/>
    </gating:dimension>
    <gating:dimension gating:compensation-ref="FCS" gating:transformation-ref="linear"
      gating:max="0.2"><data-type:fcs-dimension data-type:name="SSC-A"/></gating:dimension>
  </gating:RectangleGate>
  <gating:PolygonGate gating:id="LAIP" gating:parent_id="CD45dim_SSClow">
    <gating:dimension gating:compensation-ref="FCS" gating:transformation-ref="logicle">
      <data-type:fcs-dimension data-type:name="PE-A"/></gating:dimension>
    <gating:dimension gating:compensation-ref="FCS" gating:transformation-ref="logicle">
      <data-type:fcs-dimension data-type:name="PE-Cy7-A"/></gating:dimension>
    <gating:vertex><gating:coordinate data-type:value="0.62"/><gating:coordinate data-type:value="0.6"/></gating:vertex>
    <gating:vertex><gating:coordinate data-type:value="0.95"/><gating:coordinate data-type:value="0.63"/></gating:vertex>
    <gating:vertex><gating:coordinate data-type:value="0.98"/><gating:coordinate data-type:value="0.97"/></gating:vertex>
    <gating:vertex><gating:coordinate data-type:value="0.64"/><gating:coordinate data-type:value="0.93"/></gating:vertex>
    <gating:vertex><gating:coordinate data-type:value="0.58"/><gating:coordinate data-type:value="0.75"/></gating:vertex>
  </gating:PolygonGate>
</gating:Gating-ML>
"""  # noqa: E501


def synthetic_events(n: int, seed: int = 0) -> tuple[np.ndarray[Any, np.dtype[np.float32]], str]:
    """Spilled float32 events (n × 12) with a 1e-3 CD10+CD19+ CD45dim LAIP; $SPILLOVER text."""
    rng = np.random.default_rng(seed)
    true = np.empty((n, 12))
    blasts = rng.uniform(size=n) < 1e-3
    small = blasts | (rng.uniform(size=n) < 0.3)
    true[:, 0] = np.where(small, rng.normal(60_000, 12_000, n), rng.normal(110_000, 30_000, n))
    true[:, 1] = np.where(small, rng.normal(25_000, 6_000, n), rng.normal(90_000, 35_000, n))
    for j in range(10):
        positive = np.exp(rng.normal(np.log(2_000.0 * (1 + j)), 0.6, n))
        true[:, 2 + j] = np.where(rng.uniform(size=n) < 0.3, positive, rng.normal(0, 150, n))
    for col, level in ((3, 20_000.0), (5, 15_000.0), (6, 600.0)):
        true[blasts, col] = np.exp(rng.normal(np.log(level), 0.3, int(blasts.sum())))
    spill = rng.uniform(0.0, 0.12, (10, 10)) * (rng.uniform(size=(10, 10)) < 0.5)
    np.fill_diagonal(spill, 1.0)
    raw = true.copy()
    raw[:, 2:] = true[:, 2:] @ spill
    text = f"10,{','.join(FLUORO)}," + ",".join(f"{v:.10g}" for v in spill.ravel())
    return raw.astype(np.float32), text


def _write_fcs(path: Path, events: np.ndarray[Any, np.dtype[np.float32]], spill: str) -> None:
    flowio: Any = importlib.import_module("flowio")
    data = array("f")
    data.frombytes(events.astype("<f4").tobytes())
    with path.open("wb") as handle:
        flowio.create_fcs(
            handle,
            data,
            channel_names=["FSC-A", "SSC-A", *FLUORO],
            opt_channel_names=["", "", *MARKERS],
            metadata_dict={"spillover": spill},
        )


def _interleaved(
    ours: Callable[[], Any], theirs: Callable[[], Any], rounds: int
) -> tuple[float, float]:
    """Median times of both sides, calls alternating so that a busy machine slows both."""
    mine: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):
        for fn, times in ((ours, mine), (theirs, peer)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(mine), statistics.median(peer)


def _traced_peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run(size: str) -> list[dict[str, Any]]:
    """Run the flow-cytometry workloads at ``size`` (``small``: 5e4 events, ``full``: 1e6)."""
    n = SIZES[size]
    flowkit: Any = importlib.import_module("flowkit")
    flowutils: Any = importlib.import_module("flowutils.transforms")
    events, spill = synthetic_events(n)
    with tempfile.TemporaryDirectory(prefix="mrdtrack-bench-") as tmp:
        fcs_path = Path(tmp) / "sample.fcs"
        gml_path = Path(tmp) / "laip.xml"
        _write_fcs(fcs_path, events, spill)
        gml_path.write_text(STRATEGY, encoding="utf-8")

        def ours() -> dict[str, int]:
            strategy = load_strategy(gml_path)
            fcs = read_fcs(fcs_path, background_hash=False)
            return dict(apply_strategy(strategy, fcs).counts)

        def ours_with_provenance() -> dict[str, int]:
            result = analyze_fcs(fcs_path, gml_path, leukemic_gate="LAIP")
            return dict(result.gate_counts)

        def theirs() -> dict[str, int]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                strategy = flowkit.parse_gating_xml(str(gml_path))
                sample = flowkit.Sample(str(fcs_path))
                gated = strategy.gate_sample(sample)
                return {g: int(gated.get_gate_count(g)) for g in ("CD45dim_SSClow", "LAIP")}

        ours_counts, their_counts = ours(), theirs()
        if not ours_counts == ours_with_provenance() == their_counts:
            raise AssertionError(
                f"gate counts differ: mrdtrack {ours_counts}, FlowKit {their_counts}"
            )
        ours_peak = _traced_peak_mb(ours)
        theirs_peak = _traced_peak_mb(theirs)
        ours_s, theirs_s = _interleaved(ours, theirs, 7)
        pipeline = row(
            f"FCS MRD pipeline: read, compensate, logicle, rectangle → polygon, count "
            f"(LAIP {ours_counts['LAIP']})",
            n,
            ours_s,
            f"FlowKit {flowkit.__version__} (parse_gating_xml + Sample + gate_sample)",
            theirs_s,
            0.0,
        )
        pipeline["traced_peak_mib"] = ours_peak
        pipeline["peer_traced_peak_mib"] = theirs_peak
        pipeline["event_matrix_mib"] = events.nbytes / 2**20
        full_s, theirs_again = _interleaved(ours_with_provenance, theirs, 7)
        analysis = row(
            "analyze_fcs: the pipeline + SHA-256 of the file + MRD result with provenance",
            n,
            full_s,
            f"FlowKit {flowkit.__version__} (parse_gating_xml + Sample + gate_sample)",
            theirs_again,
            0.0,
        )

    transform = LogicleTransform(t=262144, w=0.5, m=4.5, a=0)
    values = np.ascontiguousarray(events[:, 2:4].astype(np.float64).ravel())
    reference = flowutils._logicle(values, 262144, 4.5, 0.5, 0)
    diff = float(np.max(np.abs(transform.apply(values) - reference)))
    ours_t, theirs_t = _interleaved(
        lambda: transform.apply(values),
        lambda: flowutils._logicle(values, 262144, 4.5, 0.5, 0),
        5,
    )
    logicle_row = row(
        "logicle, 2 channels (table + one Halley step)",
        values.size,
        ours_t,
        "flowutils logicle (C, root per value)",
        theirs_t,
        diff,
    )
    return [pipeline, analysis, logicle_row]
