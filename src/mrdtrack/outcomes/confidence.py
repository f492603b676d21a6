"""Pointwise confidence intervals for an estimated probability (survival or incidence).

For an estimate ``p`` with standard error ``se`` and ``z = Φ⁻¹((1 + level) / 2)``:

* ``log-log`` (default): on ``θ = log(−log p)`` with ``se_θ = se / (p |log p|)``,
  ``[exp(−exp(θ + z se_θ)), exp(−exp(θ − z se_θ))]`` = ``[p^exp(a), p^exp(−a)]``,
  ``a = z se_θ``; always inside [0, 1] (Kalbfleisch & Prentice 1980; R
  ``conf.type = "log-log"``; the only interval lifelines offers);
* ``log``: ``p · exp(∓ z se / p)``, the upper limit capped at 1 (R's default ``"log"``);
* ``plain``: ``p ∓ z se`` clipped to [0, 1] (R ``"plain"``).

Where ``p`` is 0 or 1 with a finite standard error (no spread can be estimated: e.g.
``S = 1`` before the first event) the interval is ``[p, p]``, as lifelines reports. Where
the standard error is undefined (NaN: a Kaplan–Meier curve that drops to 0, whose
Greenwood sum is infinite) both limits are NaN, as R's ``survfit`` (NA); lifelines shows
``[0, 0]`` there.
"""

from __future__ import annotations

from enum import StrEnum
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_number

__all__ = ["CiMethod", "as_ci_method", "pointwise_interval", "z_value"]

FloatArray = NDArray[np.float64]


class CiMethod(StrEnum):
    """The scale on which a pointwise interval is symmetric."""

    LOG_LOG = "log-log"
    LOG = "log"
    PLAIN = "plain"


def z_value(confidence_level: float) -> float:
    """The two-sided standard-normal quantile ``Φ⁻¹((1 + level) / 2)``.

    Parameters
    ----------
    confidence_level
        A number strictly between 0 and 1 (0.95 → 1.959963…).
    """
    level = require_number(
        "confidence_level",
        confidence_level,
        minimum=0.0,
        maximum=1.0,
        min_inclusive=False,
        max_inclusive=False,
        hint="give the coverage as a fraction, e.g. 0.95",
    )
    return NormalDist().inv_cdf((1.0 + level) / 2.0)


def as_ci_method(method: CiMethod | str) -> CiMethod:
    """Return ``method`` as a :class:`CiMethod`, refusing unknown names."""
    try:
        return CiMethod(method)
    except ValueError:
        allowed = ", ".join(m.value for m in CiMethod)
        raise InputError("ci_method", method, f"one of: {allowed}") from None


def pointwise_interval(
    estimate: FloatArray, std_error: FloatArray, z: float, method: CiMethod
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper pointwise limits for probabilities ``estimate`` with ``std_error``.

    Parameters
    ----------
    estimate
        A monotone curve of probabilities in [0, 1] (survival or cumulative incidence).
    std_error
        Their standard errors (NaN where undefined: both limits are NaN there).
    z
        The standard-normal quantile, see :func:`z_value`.
    method
        The transformation, see the module docstring.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lower, upper)``, each the shape of ``estimate``.
    """
    p = estimate
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method is CiMethod.LOG_LOG:
            # Exponents log p · e^a (lower) and log p · e^−a (upper), whose product is
            # (log p)²: two buffers serve both limits.
            upper = np.log(p)
            lower = np.abs(upper)
            lower *= p
            np.divide(std_error, lower, out=lower)
            lower *= z
            np.exp(lower, out=lower)
            lower *= upper
            upper *= upper
            np.divide(upper, lower, out=upper)
            np.exp(lower, out=lower)
            np.exp(upper, out=upper)
        elif method is CiMethod.LOG:
            spread = np.divide(std_error, p)
            spread *= z
            np.exp(spread, out=spread)
            lower = np.divide(p, spread)
            upper = np.multiply(p, spread, out=spread)
            np.minimum(upper, 1.0, out=upper)
        else:
            lower = np.multiply(std_error, -z)
            lower += p
            np.clip(lower, 0.0, 1.0, out=lower)
            upper = np.multiply(std_error, z)
            upper += p
            np.clip(upper, 0.0, 1.0, out=upper)
    # 0 and 1 are absorbing: no sampling spread can be estimated there. The curve is
    # monotone, so they fill a prefix and a suffix, found by bisection.
    for first, stop in _boundary_runs(p):
        spread_defined = np.isfinite(std_error[first:stop])
        lower[first:stop][spread_defined] = p[first:stop][spread_defined]
        upper[first:stop][spread_defined] = p[first:stop][spread_defined]
    return lower, upper


def _boundary_runs(p: FloatArray) -> list[tuple[int, int]]:
    """Index ranges of the leading and trailing values 0 or 1 of a monotone curve."""
    size = p.size
    if size == 0:
        return []
    ascending = p if p[0] <= p[-1] else p[::-1]
    head = int(np.searchsorted(ascending, 0.0, side="right"))  # leading zeros
    tail = size - int(np.searchsorted(ascending, 1.0, side="left"))  # trailing ones
    runs = [(0, head), (size - tail, size)]
    if ascending is not p:
        runs = [(size - stop, size - first) for first, stop in runs]
    return [(first, stop) for first, stop in runs if stop > first]
