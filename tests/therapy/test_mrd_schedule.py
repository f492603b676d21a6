"""MRD assessments around blinatumomab cycles: PRE_BLIN, POST_C1/POST_C2, FOLLOW_UP."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from mrdtrack.therapy import MRD_ASSESSMENTS, CycleCalendar, cycle_calendar, mrd_assessments


def _calendar(cycles: int) -> CycleCalendar:
    return cycle_calendar(
        start=date(2025, 1, 6), indication="mrd", cycles=cycles, weight_kg=30, height_cm=135
    )


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        pytest.param(1, ["PRE_BLIN by 2025-01-06", "POST_C1 on 2025-02-03"], id="cycle-1"),
        pytest.param(2, ["POST_C2 on 2025-03-17"], id="cycle-2"),
        pytest.param(3, ["FOLLOW_UP on 2025-04-28"], id="cycle-3"),
    ],
)
def test_each_cycle_calls_for_its_samples(cycle: int, expected: list[str]) -> None:
    schedule = _calendar(3).cycles[cycle - 1]
    # 28 infusion days, then the sample on the first treatment-free day.
    assert len(schedule.infusion_dates) == 28
    assert [a.describe() for a in mrd_assessments(schedule)] == expected


def test_the_day_after_the_cycle_is_a_stated_choice() -> None:
    assert MRD_ASSESSMENTS.days_after_infusion == 1
    assert any("days_after_infusion" in item for item in MRD_ASSESSMENTS.unconfirmed)
    week_later = replace(MRD_ASSESSMENTS, days_after_infusion=7, version="site-1")
    schedule = _calendar(1).cycles[0]
    assert mrd_assessments(schedule, week_later)[-1].due == date(2025, 2, 9)
    assert week_later.label == "blin-mrd-assessments@site-1"
