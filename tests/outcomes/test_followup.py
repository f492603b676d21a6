"""Median follow-up by reverse Kaplan–Meier: END-02-e and END-02-f."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes import median_follow_up
from tests.outcomes.datasets import END02, cohort

lifelines: Any = importlib.import_module("lifelines")


def test_worked_dataset_reverse_km() -> None:
    follow_up = median_follow_up(END02.os_time, END02.os_event)
    reverse = follow_up.reverse_km
    steps = reverse.n_events > 0
    # END-02-e: reverse-KM steps 12: 0.857; 18: 0.714; 20: 0.571; 28: 0.429 … median 28.
    assert reverse.timeline[steps][:4].tolist() == [12.0, 18.0, 20.0, 28.0]
    assert reverse.survival[steps][:4] == pytest.approx([0.857, 0.714, 0.571, 0.429], abs=5e-4)
    assert follow_up.median == 28.0
    # END-02-f: the naive median of all follow-up times is 24, not the follow-up.
    assert follow_up.median_observed_time == 24.0
    assert (follow_up.minimum, follow_up.maximum) == (10.0, 40.0)
    assert follow_up.n == 8
    assert "reverse Kaplan–Meier" in follow_up.method
    assert follow_up.basis.unconfirmed  # Schemper & Smith 1996 is [U] in the domain rules


def test_equals_lifelines_km_with_the_indicator_swapped() -> None:
    data = cohort(1, 300)
    follow_up = median_follow_up(data.time, data.event)
    reference = lifelines.KaplanMeierFitter().fit(data.time, 1 - data.event)
    assert follow_up.median == reference.median_survival_time_
    expected = reference.survival_function_.loc[follow_up.reverse_km.timeline].iloc[:, 0]
    np.testing.assert_allclose(follow_up.reverse_km.survival, expected, atol=1e-10)


def test_not_reached_when_most_die_after_the_first_censoring() -> None:
    # Reverse KM: 0.75 after the censoring at 1, then only deaths (reverse censorings).
    follow_up = median_follow_up([1, 2, 3, 4], [0, 1, 1, 1])
    assert follow_up.median is None
    assert follow_up.median_observed_time == 2.5


def test_bad_status_is_refused() -> None:
    with pytest.raises(InputError, match="event"):
        median_follow_up([1, 2], [1, 3])
