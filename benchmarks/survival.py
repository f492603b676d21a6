"""Survival workloads against the peers a user would otherwise pick (shared/spec/performance.md).

Synthetic right-censored data, seed 0, no ties, about 30 % censored (exponential event
times with mean 10, exponential censoring with mean 23.3). Each mrdtrack estimator is
timed beside each peer in this process on the same arrays, and the largest absolute
difference between their numbers is reported with the timing:

* Kaplan–Meier and the two-group log-rank test at n = 10⁶: the floor ``np.sort`` of
  the times, statsmodels ``SurvfuncRight`` / ``survdiff``, lifelines;
* Aalen–Johansen cumulative incidence with variance at n = 10⁵: lifelines
  ``AalenJohansenFitter`` (its default computes the variance), statsmodels
  ``CumIncidenceRight``, and a vectorised numpy floor without variance or ties;
* Cox PH with 5 covariates at n = 10⁵: lifelines ``CoxPHFitter`` and statsmodels
  ``PHReg`` (Efron ties), coefficients compared.

``peak_rss_mb`` is the peak resident memory of this process during one mrdtrack call,
measured before any peer has run (Linux ``VmHWM`` after a reset through
``/proc/self/clear_refs``): interpreter, numpy and the workload's input arrays included.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from benchmarks.timing import peak_rss_mb as process_peak_rss_mb
from benchmarks.timing import row
from mrdtrack.outcomes import cox_ph, cumulative_incidence, kaplan_meier, logrank_test

SIZES = {
    "small": {"km": 10_000, "cif": 10_000, "cox": 10_000},
    "full": {"km": 1_000_000, "cif": 100_000, "cox": 100_000},
}
COVARIATES = 5

T = TypeVar("T")
U = TypeVar("U")
FloatArray = NDArray[np.float64]


def run(size: str) -> list[dict[str, Any]]:
    """Run every survival workload at ``size`` (``"small"`` or ``"full"``)."""
    n = SIZES[size]
    return [
        *_kaplan_meier_rows(n["km"]),
        *_logrank_rows(n["km"]),
        *_cif_rows(n["cif"]),
        *_cox_rows(n["cox"]),
    ]


def cohort(n: int, seed: int = 0) -> dict[str, Any]:
    """Times (no ties), event flag, two arms, causes 1/2, five covariates."""
    rng = np.random.default_rng(seed)
    covariates = rng.normal(size=(n, COVARIATES))
    hazard = np.exp(covariates @ np.linspace(-0.5, 0.5, COVARIATES)) / 10.0
    event_time = rng.exponential(1.0 / hazard)
    censor_time = rng.exponential(10.0 / 0.3 * 0.7, n)
    event = event_time <= censor_time
    return {
        "time": np.minimum(event_time, censor_time),
        "event": event,
        "arm": rng.integers(0, 2, n),
        "cause": np.where(event, rng.choice([1, 2], size=n, p=[0.6, 0.4]), 0),
        "covariates": covariates,
    }


def _paired(ours: Callable[[], T], peer: Callable[[], U], repeat: int) -> tuple[float, float, T, U]:
    """Median seconds of ``ours`` and ``peer``: three rounds of ``repeat`` calls of each.

    Rounds of each in turn let both medians see the same machine (on shared machines the
    speed drifts within seconds), while the calls within a round reuse the memory the
    previous call freed, as repeated use does.
    """
    ours_result, peer_result = ours(), peer()
    ours_times, peer_times = [], []
    for _ in range(3):
        for _ in range(repeat):
            start = time.perf_counter()
            ours_result = ours()
            ours_times.append(time.perf_counter() - start)
        for _ in range(repeat):
            start = time.perf_counter()
            peer_result = peer()
            peer_times.append(time.perf_counter() - start)
    return (
        statistics.median(ours_times),
        statistics.median(peer_times),
        ours_result,
        peer_result,
    )


def _slow_peer(ours: Callable[[], T], peer: Callable[[], U]) -> tuple[float, float, T, U]:
    """One timed call of a peer that takes seconds, beside six of mrdtrack."""
    ours_seconds, _, ours_result, _ = _paired(ours, lambda: None, 2)
    start = time.perf_counter()
    peer_result = peer()
    return ours_seconds, time.perf_counter() - start, ours_result, peer_result


def _peak_rss_mb(fn: Callable[[], object]) -> float:
    """Peak RSS (MiB) while ``fn`` runs; the process-wide peak if it cannot be reset."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        fn()
        return process_peak_rss_mb()
    fn()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return process_peak_rss_mb()


def _with_rss(rows: list[dict[str, Any]], rss_mb: float) -> list[dict[str, Any]]:
    return [{**r, "peak_rss_mb": rss_mb} for r in rows]


def _module(name: str) -> Any:
    return importlib.import_module(name)


def _kaplan_meier_rows(n: int) -> list[dict[str, Any]]:
    data = cohort(n)
    t, e = data["time"], data["event"]
    rss_mb = _peak_rss_mb(lambda: kaplan_meier(t, e))
    ours_floor, floor_s, km, _ = _paired(lambda: kaplan_meier(t, e), lambda: np.sort(t), 3)
    survfunc = _module("statsmodels.duration.survfunc")
    ours_sm, sm_s, _, sm = _paired(
        lambda: kaplan_meier(t, e), lambda: survfunc.SurvfuncRight(t, e.astype(np.float64)), 3
    )
    at_events = km.n_events > 0
    sm_diff = max(
        float(np.max(np.abs(km.survival[at_events] - sm.surv_prob))),
        float(np.nanmax(np.abs(km.std_error[at_events] - sm.surv_prob_se))),
    )
    lifelines = _module("lifelines")
    ours_lf, lf_s, _, lf = _slow_peer(
        lambda: kaplan_meier(t, e), lambda: lifelines.KaplanMeierFitter().fit(t, e)
    )
    lf_survival = lf.survival_function_.to_numpy()[:, 0]
    lf_diff = float(np.max(np.abs(km.survival - lf_survival[-km.survival.size :])))
    workload = "Kaplan–Meier + Greenwood + log-log CI"
    return _with_rss(
        [
            row(workload, n, ours_floor, "np.sort of the times (floor)", floor_s),
            row(workload, n, ours_sm, "statsmodels SurvfuncRight", sm_s, sm_diff),
            row(workload, n, ours_lf, "lifelines KaplanMeierFitter", lf_s, lf_diff),
        ],
        rss_mb,
    )


def _logrank_rows(n: int) -> list[dict[str, Any]]:
    data = cohort(n)
    t, e, arm = data["time"], data["event"], data["arm"]
    rss_mb = _peak_rss_mb(lambda: logrank_test(t, e, arm))
    survfunc = _module("statsmodels.duration.survfunc")
    ours_sm, sm_s, ours, (sm_statistic, sm_p) = _paired(
        lambda: logrank_test(t, e, arm), lambda: survfunc.survdiff(t, e.astype(float), arm), 3
    )
    statistics_module = _module("lifelines.statistics")
    first = arm == 0
    ours_lf, lf_s, _, lf = _slow_peer(
        lambda: logrank_test(t, e, arm),
        lambda: statistics_module.logrank_test(t[first], t[~first], e[first], e[~first]),
    )
    workload = "log-rank test, 2 groups"
    return _with_rss(
        [
            row(
                workload,
                n,
                ours_sm,
                "statsmodels survdiff",
                sm_s,
                max(abs(ours.statistic - sm_statistic), abs(ours.p_value - sm_p)),
            ),
            row(
                workload,
                n,
                ours_lf,
                "lifelines logrank_test",
                lf_s,
                max(abs(ours.statistic - lf.test_statistic), abs(ours.p_value - lf.p_value)),
            ),
        ],
        rss_mb,
    )


def _cif_floor(t: FloatArray, cause: NDArray[np.int64]) -> FloatArray:
    """Aalen–Johansen point estimate for untied times, no variance: the physical floor."""
    order = np.argsort(t)
    ordered = cause[order]
    at_risk = np.arange(t.size, 0, -1, dtype=np.float64)
    survival = np.cumprod(1.0 - (ordered != 0) / at_risk)
    before = np.concatenate(([1.0], survival[:-1]))
    cif: FloatArray = np.cumsum(before * (ordered == 1) / at_risk)
    return cif


def _cif_rows(n: int) -> list[dict[str, Any]]:
    data = cohort(n)
    t, cause = data["time"], data["cause"]

    def ours_fn() -> Any:
        return cumulative_incidence(t, cause, cause_of_interest=1)

    rss_mb = _peak_rss_mb(ours_fn)
    ours_floor, floor_s, ours, floor = _paired(ours_fn, lambda: _cif_floor(t, cause), 3)
    lifelines = _module("lifelines")
    ours_lf, lf_s, _, lf = _slow_peer(
        ours_fn,
        lambda: lifelines.AalenJohansenFitter(calculate_variance=True).fit(
            t, cause, event_of_interest=1
        ),
    )
    lf_cif = lf.cumulative_density_.to_numpy()[-ours.cif.size :, 0]
    lf_variance = lf.variance_.to_numpy()[-ours.cif.size :]
    lf_diff = max(
        float(np.max(np.abs(ours.cif - lf_cif))),
        float(np.nanmax(np.abs(ours.variance - lf_variance))),
    )
    survfunc = _module("statsmodels.duration.survfunc")
    ours_sm, sm_s, _, sm = _paired(ours_fn, lambda: survfunc.CumIncidenceRight(t, cause), 3)
    sm_diff = max(
        float(np.max(np.abs(ours.cif - sm.cinc[0]))),
        float(np.nanmax(np.abs(ours.std_error - sm.cinc_se[0]))),
    )
    workload = "Aalen–Johansen CIF + variance"
    return _with_rss(
        [
            row(
                workload,
                n,
                ours_floor,
                "numpy floor (no variance, no ties)",
                floor_s,
                float(np.max(np.abs(ours.cif - floor))),
            ),
            row(workload, n, ours_lf, "lifelines AalenJohansenFitter", lf_s, lf_diff),
            row(workload, n, ours_sm, "statsmodels CumIncidenceRight", sm_s, sm_diff),
        ],
        rss_mb,
    )


def _cox_rows(n: int) -> list[dict[str, Any]]:
    data = cohort(n)
    t, e, x = data["time"], data["event"], data["covariates"]
    rss_mb = _peak_rss_mb(lambda: cox_ph(t, e, x))
    pandas = _module("pandas")
    frame = pandas.DataFrame(x, columns=[f"x{j + 1}" for j in range(COVARIATES)])
    frame["time"] = t
    frame["event"] = e
    lifelines = _module("lifelines")
    ours_lf, lf_s, ours, lf = _slow_peer(
        lambda: cox_ph(t, e, x), lambda: lifelines.CoxPHFitter().fit(frame, "time", "event")
    )
    statsmodels_api = _module("statsmodels.api")
    ours_sm, sm_s, _, sm = _slow_peer(
        lambda: cox_ph(t, e, x),
        lambda: statsmodels_api.PHReg(t, x, status=e.astype(float), ties="efron").fit(),
    )
    workload = f"Cox PH, {COVARIATES} covariates (Efron)"
    return _with_rss(
        [
            row(
                workload,
                n,
                ours_lf,
                "lifelines CoxPHFitter",
                lf_s,
                float(np.max(np.abs(ours.coef - lf.params_.to_numpy()))),
            ),
            row(
                workload,
                n,
                ours_sm,
                "statsmodels PHReg",
                sm_s,
                float(np.max(np.abs(ours.coef - sm.params))),
            ),
        ],
        rss_mb,
    )
