"""MRD engine workloads: batch throughput of the calculators and the curve fit.

There is no published Python peer for fusion-transcript or LAIP MRD arithmetic, so the
peer here is the physical floor: the same arithmetic as one vectorised numpy expression
with no validation, no flags and no provenance. The ratio says what the engine's checks
and its result object cost per sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.timing import best_of, row
from mrdtrack.mrd import fit_standard_curve, flow_mrd, qpcr_mrd

SIZES = {"small": 2_000, "full": 50_000}


def run(size: str) -> list[dict[str, Any]]:
    """Run the MRD workloads at ``size`` (``small`` or ``full``)."""
    n = SIZES[size]
    rng = np.random.default_rng(0)
    total = rng.integers(100_000, 5_000_000, n)
    laip = rng.binomial(total, 1e-4)
    fusion = rng.gamma(2.0, 50.0, n)
    control = rng.uniform(2e4, 2e5, n)
    ncn_dx = rng.uniform(0.1, 5.0, n)

    def engine_flow() -> list[float | None]:
        return [
            flow_mrd(leukemic_events=int(a), total_events=int(b)).mrd_fraction
            for a, b in zip(laip, total, strict=True)
        ]

    def floor_flow() -> np.ndarray[Any, np.dtype[np.float64]]:
        fraction: np.ndarray[Any, np.dtype[np.float64]] = np.where(laip >= 10, laip / total, np.nan)
        return fraction

    def engine_qpcr() -> list[float | None]:
        return [
            qpcr_mrd(
                fusion_copies=float(f), control_copies=float(c), diagnosis_ncn=float(d)
            ).mrd_fraction
            for f, c, d in zip(fusion, control, ncn_dx, strict=True)
        ]

    def floor_qpcr() -> np.ndarray[Any, np.dtype[np.float64]]:
        result: np.ndarray[Any, np.dtype[np.float64]] = fusion / control / ncn_dx
        return result

    flow_diff = np.nanmax(
        np.abs(np.array([np.nan if v is None else v for v in engine_flow()]) - floor_flow())
    )
    qpcr_diff = np.max(np.abs(np.array(engine_qpcr(), dtype=float) - floor_qpcr()))

    levels = np.repeat(np.arange(1.0, 7.0), 3)
    cts = 38.0 - 3.32 * levels + rng.normal(0, 0.1, levels.size)

    def engine_curve() -> float:
        return fit_standard_curve(levels.tolist(), cts.tolist()).slope

    def floor_curve() -> float:
        slope, _ = np.polyfit(levels, cts, 1)
        return float(slope)

    return [
        row(
            "flow MRD, per-sample results",
            n,
            best_of(engine_flow, 3),
            "numpy floor",
            best_of(floor_flow),
            float(flow_diff),
        ),
        row(
            "RQ-PCR MRD, per-sample results",
            n,
            best_of(engine_qpcr, 3),
            "numpy floor",
            best_of(floor_qpcr),
            float(qpcr_diff),
        ),
        row(
            "standard curve fit (18 wells)",
            1,
            best_of(engine_curve, 50),
            "np.polyfit",
            best_of(floor_curve, 50),
            abs(engine_curve() - floor_curve()),
        ),
    ]
