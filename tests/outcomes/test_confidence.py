"""Pointwise intervals: the three scales, and the collapsed ends of a curve."""

from __future__ import annotations

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes.confidence import CiMethod, as_ci_method, pointwise_interval, z_value


def test_z_value() -> None:
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    with pytest.raises(InputError, match="confidence_level"):
        z_value(1.0)


def test_unknown_method_is_refused() -> None:
    assert as_ci_method("log") is CiMethod.LOG
    with pytest.raises(InputError, match="ci_method"):
        as_ci_method("arcsine")


@pytest.mark.parametrize("method", list(CiMethod))
def test_formulas(method: CiMethod) -> None:
    p, se, z = np.array([0.6]), np.array([0.1]), 1.96
    lower, upper = pointwise_interval(p, se, z, method)
    if method is CiMethod.LOG_LOG:
        theta, spread = np.log(-np.log(0.6)), z * 0.1 / (0.6 * abs(np.log(0.6)))
        expected = (np.exp(-np.exp(theta + spread)), np.exp(-np.exp(theta - spread)))
    elif method is CiMethod.LOG:
        expected = (0.6 * np.exp(-z * 0.1 / 0.6), min(0.6 * np.exp(z * 0.1 / 0.6), 1.0))
    else:
        expected = (0.6 - z * 0.1, 0.6 + z * 0.1)
    assert (lower[0], upper[0]) == pytest.approx(expected, abs=1e-14)


@pytest.mark.parametrize("method", list(CiMethod))
def test_survival_curve_ends(method: CiMethod) -> None:
    # S = 1 before the first event (se 0): [1, 1]; S = 0 at the end (se NaN): NaN.
    p = np.array([1.0, 1.0, 0.8, 0.4, 0.0])
    se = np.array([0.0, 0.0, 0.1, 0.15, np.nan])
    lower, upper = pointwise_interval(p, se, 1.96, method)
    assert lower[:2].tolist() == [1.0, 1.0] and upper[:2].tolist() == [1.0, 1.0]
    assert np.isnan(lower[-1]) and np.isnan(upper[-1])
    assert np.all(lower[2:4] < p[2:4]) and np.all(upper[2:4] > p[2:4])


def test_incidence_curve_ends() -> None:
    # F = 0 before the first event of the cause: [0, 0]; F = 1 with a finite se: [1, 1].
    p = np.array([0.0, 0.0, 0.3, 1.0])
    se = np.array([0.0, 0.0, 0.1, 0.05])
    lower, upper = pointwise_interval(p, se, 1.96, CiMethod.LOG_LOG)
    assert lower.tolist()[:2] == [0.0, 0.0] and upper.tolist()[:2] == [0.0, 0.0]
    assert (lower[-1], upper[-1]) == (1.0, 1.0)
    assert 0.0 < lower[2] < 0.3 < upper[2] < 1.0
