"""The flow benchmark runs end to end on its small size; FlowKit's counts must equal ours."""

from __future__ import annotations

from benchmarks.lab import run


def test_small_benchmark_rows() -> None:
    rows = run("small")
    assert [r["n"] for r in rows] == [50_000, 50_000, 100_000]
    pipeline, _, logicle = rows
    assert pipeline["max_abs_diff"] == 0.0  # run() raises when the gate counts differ
    assert logicle["max_abs_diff"] < 1e-12
    assert pipeline["traced_peak_mib"] > 0
