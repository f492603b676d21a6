"""The shared risk-set arithmetic: event tables and at-risk counts against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.outcomes.risk_sets import (
    as_event_indicator,
    as_labels,
    as_times,
    at_risk_counts,
    event_table,
)

times = st.lists(
    st.one_of(
        st.integers(0, 10).map(float),
        st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False),
        st.sampled_from([0.0, -0.0, 5e-324, 1e300]),
    ),
    min_size=1,
    max_size=40,
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    times.flatmap(
        lambda v: st.tuples(st.just(v), st.lists(st.booleans(), min_size=len(v), max_size=len(v)))
    )
)
def test_event_table_counts(sample: tuple[list[float], list[bool]]) -> None:
    values, flags = sample
    time = as_times(values)
    event = np.array(flags)
    table = event_table(time, event)
    distinct = sorted(set(time.tolist()))
    assert table.times.tolist() == distinct
    for j, t in enumerate(distinct):
        assert table.at_risk[j] == np.count_nonzero(time >= t)
        assert table.events[j] == np.count_nonzero((time == t) & event)
        assert table.censored[j] == np.count_nonzero((time == t) & ~event)
    assert table.n == len(values)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(times, times)
def test_at_risk_counts(values: list[float], queries: list[float]) -> None:
    time = as_times(values)
    at = np.array(sorted(set(as_times(queries).tolist())))
    counts = at_risk_counts(time, at)
    assert counts.tolist() == [int(np.count_nonzero(time >= q)) for q in at]


def test_labels_are_coded_in_sorted_order() -> None:
    coded = as_labels([5, 3, 5, 9], 4, field="group")
    assert coded.labels == (3, 5, 9)
    assert coded.codes.tolist() == [1, 0, 1, 2]
    coded = as_labels(["b", "a", "b"], 3, field="group")
    assert coded.labels == ("a", "b")
    assert coded.codes.tolist() == [1, 0, 1]
    coded = as_labels([True, False], 2, field="group")
    assert coded.labels == (0, 1)


def test_missing_labels_are_refused() -> None:
    with pytest.raises(InputError, match=r"group\[1\]"):
        as_labels([1.0, float("nan")], 2, field="group")
    with pytest.raises(InputError, match="group"):
        as_labels(np.array(["a", None], dtype=object), 2, field="group")


def test_bool_and_float_indicators() -> None:
    assert as_event_indicator([True, False], 2).tolist() == [True, False]
    assert as_event_indicator([1.0, 0.0], 2).tolist() == [True, False]
    with pytest.raises(InputError, match=r"event\[0\]"):
        as_event_indicator([-1, 0], 2)
