"""Transforms against flowutils, the C reference FlowKit calls (GatingML 2.0 formulas)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.lab.transforms import (
    AsinhTransform,
    LinearTransform,
    LogicleTransform,
    LogTransform,
    transform_from_parameters,
)

flowutils: Any = importlib.import_module("flowutils.transforms")


def _values(seed: int = 0) -> np.ndarray[Any, np.dtype[np.float64]]:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.normal(0.0, 300.0, 20_000),
            np.exp(rng.uniform(-25, 16, 20_000)) * rng.choice([-1.0, 1.0], 20_000),
            [0.0, -0.0, 5e-324, 1e-300, 1.0, -1.0, 262144.0, 3.4e38, -3.4e38],
        ]
    )


def _reference_converged(
    x: np.ndarray[Any, np.dtype[np.float64]],
    reference: np.ndarray[Any, np.dtype[np.float64]],
    t: float,
    m: float,
    w: float,
    a: float,
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Where flowutils' root search converged (it returns -1 or a wrong root elsewhere,
    e.g. for values below 1e-30 with W = 0): its own inverse gives the value back."""
    back = flowutils._logicle_inverse(reference, t, m, w, a)
    return np.asarray(np.abs(back - x) <= 1e-9 * np.maximum(1.0, np.abs(x)), dtype=bool)


@pytest.mark.parametrize(
    ("t", "w", "m", "a"),
    [
        pytest.param(262144, 0.5, 4.5, 0, id="flowjo-default"),
        pytest.param(10000, 0.5, 4.5, 0, id="gatingml-range4"),
        pytest.param(262144, 1.0, 4.5, 0, id="wide-linear"),
        pytest.param(262144, 0.0, 4.5, 0, id="w0-arcsinh-like"),
        pytest.param(1000, 2.0, 4.0, 0, id="w-half-m"),
        pytest.param(262144, 0.5, 4.5, 1.0, id="extra-negative-decade"),
        pytest.param(1e6, 1.5, 5.0, -1.0, id="negative-a"),
    ],
)
def test_logicle_matches_flowutils_to_1e12(t: float, w: float, m: float, a: float) -> None:
    x = _values()
    ours = LogicleTransform(t=t, w=w, m=m, a=a).apply(x)
    reference = flowutils._logicle(x, t, m, w, a)
    converged = _reference_converged(x, reference, t, m, w, a)
    assert converged.mean() > 0.9
    assert np.max(np.abs(ours[converged] - reference[converged])) < 1e-12
    finite = np.abs(x) < 1e300
    back = LogicleTransform(t=t, w=w, m=m, a=a).inverse(ours[finite])
    assert np.all(np.abs(back - x[finite]) <= 1e-9 * np.maximum(1.0, np.abs(x[finite])))


@pytest.mark.parametrize(("t", "w", "m", "a"), [(262144, 0.5, 4.5, 0), (10000, 1.0, 4.0, 0.5)])
def test_logicle_inverse_round_trips(t: float, w: float, m: float, a: float) -> None:
    lg = LogicleTransform(t=t, w=w, m=m, a=a)
    scale = np.linspace(-0.2, 1.2, 5001)
    data = lg.inverse(scale)
    np.testing.assert_allclose(
        data, flowutils._logicle_inverse(scale, t, m, w, a), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(lg.apply(data), scale, atol=1e-12)


def test_logicle_fixed_points() -> None:
    lg = LogicleTransform(t=262144, w=0.5, m=4.5, a=0)
    zero, top = lg.apply([0.0, 262144.0])
    assert zero == pytest.approx(0.5 / 4.5, abs=1e-15)  # data zero sits at W/(M+A)
    assert top == pytest.approx(1.0, abs=1e-14)
    assert np.isnan(lg.apply([np.nan])[0])


def test_other_transforms_match_flowutils() -> None:
    x = _values(1)[:40_000]
    positive = np.abs(x) + 1.0
    np.testing.assert_allclose(
        AsinhTransform(t=262144, m=4.5, a=0.5).apply(x),
        flowutils.asinh(x, None, 262144, 4.5, 0.5),
        rtol=1e-14,
        atol=1e-15,  # numpy's SIMD and scalar arcsinh loops may differ by an ulp
    )
    np.testing.assert_allclose(
        LogTransform(t=262144, m=4.5).apply(positive),
        flowutils.log(positive, None, 262144, 4.5),
        rtol=1e-14,
    )
    np.testing.assert_allclose(
        LinearTransform(t=262144, a=100).apply(x), (x + 100) / 262244, rtol=1e-15
    )
    assert np.isnan(LogTransform(t=262144, m=4.5).apply([-1.0, 0.0])).all()
    for transform in (
        AsinhTransform(262144, 4.5, 0),
        LinearTransform(262144, 0),
        LogTransform(262144, 4.5),
    ):
        np.testing.assert_allclose(
            transform.inverse(transform.apply(positive)), positive, rtol=1e-9
        )


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        pytest.param("logicle", {"T": 0, "W": 0.5, "M": 4.5, "A": 0}, "logicle T", id="T-zero"),
        pytest.param(
            "logicle", {"T": 1e4, "W": 3, "M": 4.5, "A": 0}, "logicle W", id="W-over-half-M"
        ),
        pytest.param(
            "logicle", {"T": 1e4, "W": 0.5, "M": 4.5, "A": 4}, "logicle A", id="A-too-large"
        ),
        pytest.param("flog", {"T": 1e4}, "flog parameters", id="missing-M"),
        pytest.param("hyperlog", {"T": 1e4}, "transform", id="unknown"),
    ],
)
def test_invalid_parameters_are_named(kind: str, params: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as raised:
        transform_from_parameters(kind, params)
    assert raised.value.field == field


@settings(derandomize=True, max_examples=60, deadline=2000)
@given(
    w=st.floats(0.0, 2.0),
    m=st.floats(2.0, 6.0),
    t=st.floats(100.0, 1e7),
    values=st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=50),
)
def test_logicle_is_monotone_and_exact_for_any_valid_parameters(
    w: float, m: float, t: float, values: list[float]
) -> None:
    lg = LogicleTransform(t=t, w=min(w, m / 2), m=m, a=0.0)
    x = np.sort(np.array(values))
    y = lg.apply(x)
    assert np.all(np.diff(y) >= -1e-12)
    reference = flowutils._logicle(x, t, m, min(w, m / 2), 0.0)
    ok = _reference_converged(x, reference, t, m, min(w, m / 2), 0.0)
    assert np.max(np.abs(y[ok] - reference[ok]), initial=0.0) < 1e-10
    # Ours is right where the reference is not: the inverse gives the value back.
    back = lg.inverse(y)
    assert np.all(np.abs(back - x) <= 1e-9 * np.maximum(1.0, np.abs(x)))
