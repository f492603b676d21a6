"""Timing and memory helpers shared by the benchmark modules."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """Median wall time of ``repeat`` calls, in seconds (one warm-up call first)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def row(
    workload: str,
    n: int,
    mrdtrack_s: float,
    peer: str,
    peer_s: float,
    max_abs_diff: float | None = None,
) -> dict[str, Any]:
    """One result row; ``ratio`` = peer time / mrdtrack time (> 1: mrdtrack is faster)."""
    return {
        "workload": workload,
        "n": n,
        "mrdtrack_s": mrdtrack_s,
        "peer": peer,
        "peer_s": peer_s,
        "ratio": peer_s / mrdtrack_s if mrdtrack_s > 0 else float("inf"),
        "max_abs_diff": max_abs_diff,
        "peak_rss_mb": peak_rss_mb(),
    }
