"""Cycle calendar (BLIN-02 … BLIN-04): vectors, hospitalization, premedication, interruptions."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    US_LABEL,
    CycleStatus,
    DayKind,
    EventKind,
    Indication,
    Interruption,
    cycle_calendar,
    derive_label,
)

JAN1 = date(2025, 1, 1)


def day(n: int) -> date:
    """Calendar day n counted from 2025-01-01 as day 1."""
    return JAN1 + timedelta(days=n - 1)


def test_blin_02_a_mrd_cycle() -> None:
    calendar = cycle_calendar(start=JAN1, indication=Indication.MRD, cycles=2)
    first, second = calendar.cycles
    assert (first.infusion_dates[0], first.infusion_dates[-1]) == (JAN1, date(2025, 1, 28))
    assert (first.treatment_free_dates[0], first.treatment_free_dates[-1]) == (
        date(2025, 1, 29),
        date(2025, 2, 11),
    )
    assert first.next_cycle_start == second.start == date(2025, 2, 12)
    assert calendar.next_cycle_start == date(2025, 3, 26)
    assert [c.phase for c in calendar.cycles] == ["induction", "consolidation"]


def test_blin_02_b_relapsed_continued_therapy_cycle() -> None:
    calendar = cycle_calendar(start=JAN1, indication="relapsed", cycles=1, first_cycle=6)
    (cycle,) = calendar.cycles
    assert cycle.cycle == 6 and cycle.phase == "continued therapy"
    assert cycle.infusion_dates[-1] == date(2025, 1, 28)
    assert len(cycle.treatment_free_dates) == 56
    assert (cycle.treatment_free_dates[0], cycle.treatment_free_dates[-1]) == (
        date(2025, 1, 29),
        date(2025, 3, 25),
    )
    assert cycle.next_cycle_start == date(2025, 3, 26)


def test_blin_04_a_short_interruption_continues_the_same_cycle() -> None:
    calendar = cycle_calendar(
        start=JAN1, indication="mrd", cycles=1, interruptions=[Interruption(day(11), 5)]
    )
    (cycle,) = calendar.cycles
    assert cycle.status is CycleStatus.COMPLETED
    assert len(cycle.infusion_dates) == 28
    last = next(d for d in cycle.days if d.infusion_day == 28)
    assert last.cycle_day == 33 and last.date == day(33)
    interrupted = [d.date for d in cycle.days if d.kind is DayKind.INTERRUPTED]
    assert interrupted == [day(n) for n in range(11, 16)]
    (outcome,) = cycle.interruptions
    assert (outcome.outcome, outcome.cycle_day, outcome.infusion_days_before) == (
        "same_cycle",
        11,
        10,
    )
    assert cycle.treatment_free_dates[0] == day(34)
    assert cycle.next_cycle_start == day(48)
    restart = [e for e in cycle.events if e.date == day(16)]
    assert restart[0].kind is EventKind.SUPERVISION and "≥ 4 h" in restart[0].text


def test_blin_04_b_long_interruption_starts_a_new_cycle() -> None:
    calendar = cycle_calendar(
        start=JAN1,
        indication="relapsed",
        cycles=1,
        age_years=40,
        interruptions=[Interruption(day(11), 9)],
    )
    stopped, restarted = calendar.cycles
    assert stopped.status is CycleStatus.STOPPED
    assert len(stopped.infusion_dates) == 10 and not stopped.treatment_free_dates
    assert stopped.next_cycle_start == restarted.start == day(20)
    assert stopped.interruptions[0].outcome == "new_cycle"
    assert restarted.status is CycleStatus.COMPLETED and restarted.cycle == 1
    assert len(restarted.infusion_dates) == 28
    kinds = [(e.date, e.kind) for e in restarted.events]
    assert (day(20), EventKind.HOSPITALIZATION) in kinds  # restart counts from day 1
    assert (day(20), EventKind.PREMEDICATION) in kinds  # premedicate
    assert "new cycle after an interruption > 7 days" in restarted.events[0].text
    assert restarted.hospitalization_dates == tuple(day(n) for n in range(20, 29))


def test_long_interruption_can_count_as_a_cycle_when_configured() -> None:
    label = derive_label(US_LABEL, restart_repeats_cycle_number=False)
    calendar = cycle_calendar(
        start=JAN1,
        indication="mrd",
        cycles=2,
        label=label,
        interruptions=[Interruption(day(5), 8)],
    )
    assert [(c.cycle, c.status) for c in calendar.cycles] == [
        (1, CycleStatus.STOPPED),
        (2, CycleStatus.COMPLETED),
    ]


@pytest.mark.parametrize(
    ("indication", "hospital_days"),
    [
        pytest.param("relapsed", [9, 2, 0], id="relapsed-9-2"),
        pytest.param("mrd", [3, 2, 0], id="mrd-3-2"),
        pytest.param("consolidation", [3, 2, 0], id="consolidation-3-2"),
    ],
)
def test_hospitalization_blin_03(indication: str, hospital_days: list[int]) -> None:
    calendar = cycle_calendar(start=JAN1, indication=indication, cycles=3)
    assert [len(c.hospitalization_dates) for c in calendar.cycles] == hospital_days
    for cycle in calendar.cycles:
        assert cycle.hospitalization_dates == tuple(
            cycle.start + timedelta(days=k) for k in range(len(cycle.hospitalization_dates))
        )
    third = calendar.cycles[2].events[0]
    assert third.kind is EventKind.SUPERVISION and "supervision" in third.text


def test_premedication_relapsed_adult_every_cycle_step_and_restart() -> None:
    calendar = cycle_calendar(
        start=JAN1,
        indication="relapsed",
        cycles=2,
        age_years=30,
        interruptions=[Interruption(day(12), 2)],
    )
    first, second = calendar.cycles
    premed = [e.date for e in first.events if e.kind is EventKind.PREMEDICATION]
    assert premed == [day(1), day(8), day(14)]  # start, step day 8, restart
    assert [e.date for e in first.events if e.kind is EventKind.STEP_UP] == [day(8)]
    assert [e.kind for e in second.events] == [EventKind.HOSPITALIZATION, EventKind.PREMEDICATION]
    assert all("20 mg" in e.text for e in first.events if e.kind is EventKind.PREMEDICATION)
    assert calendar.age_group is not None and calendar.age_group.value == "adult"


def test_premedication_relapsed_child_in_cycle_1_only() -> None:
    calendar = cycle_calendar(
        start=JAN1,
        indication="relapsed",
        cycles=2,
        age_years=8,
        interruptions=[Interruption(day(50), 3)],  # day 50 is cycle 2 day 8
    )
    first, second = calendar.cycles
    assert len([e for e in first.events if e.kind is EventKind.PREMEDICATION]) == 2
    assert not [e for e in second.events if e.kind is EventKind.PREMEDICATION]
    assert [e.kind for e in second.events if e.date == day(53)] == [EventKind.SUPERVISION]


def test_premedication_children_mrd_is_shown_as_unconfirmed() -> None:
    calendar = cycle_calendar(start=JAN1, indication="mrd", cycles=1, age_years=10)
    (premed,) = [e for e in calendar.cycles[0].events if e.kind is EventKind.PREMEDICATION]
    assert premed.unconfirmed and premed.text.endswith("[unconfirmed]")
    assert premed.to_dict()["unconfirmed"] is True


def test_without_age_both_groups_are_shown_and_a_warning_says_so() -> None:
    calendar = cycle_calendar(start=JAN1, indication="mrd", cycles=1)
    texts = [e.text for e in calendar.cycles[0].events if e.kind is EventKind.PREMEDICATION]
    assert [t.split(":")[0] for t in texts] == ["adult", "child"]
    assert calendar.warnings[0].startswith("age not given")
    assert calendar.age_group is None


def test_daily_doses_with_weight_and_step_up_text() -> None:
    calendar = cycle_calendar(
        start=JAN1, indication="relapsed", cycles=2, weight_kg=30, height_cm=135, age_years=9
    )
    first, second = calendar.cycles
    doses = [d.daily_dose_ug for d in first.days if d.kind is DayKind.INFUSION]
    assert doses[:7] == [pytest.approx(5.3033, abs=1e-4)] * 7
    assert doses[7:] == [pytest.approx(15.9099, abs=1e-4)] * 21
    assert all(d.daily_dose_ug is None for d in first.days if d.kind is DayKind.TREATMENT_FREE)
    step_up = next(e for e in first.events if e.kind is EventKind.STEP_UP)
    assert "15.91 mcg/day" in step_up.text
    assert second.dose is not None and len(second.dose.steps) == 1
    payload = calendar.to_dict()
    assert payload["cycles"][0]["steps"][0]["days"] == "1-7"


def test_dose_warnings_are_carried_once() -> None:
    calendar = cycle_calendar(
        start=JAN1, indication="mrd", cycles=2, weight_kg=100, height_cm=190, age_years=40
    )
    assert calendar.warnings == (calendar.cycles[0].dose.warnings[0],)  # type: ignore[union-attr]


def test_weight_without_height_is_refused() -> None:
    with pytest.raises(InputError, match="height_cm"):
        cycle_calendar(start=JAN1, indication="mrd", cycles=1, weight_kg=30)


@pytest.mark.parametrize(
    ("indication", "cycles", "first_cycle", "label"),
    [
        pytest.param("mrd", 5, 1, US_LABEL, id="mrd-up-to-4"),
        pytest.param("relapsed", 10, 1, US_LABEL, id="relapsed-up-to-9"),
        pytest.param("relapsed", 2, 9, US_LABEL, id="relapsed-from-9"),
        pytest.param("relapsed", 1, 10, US_LABEL, id="first-cycle-beyond"),
        pytest.param("consolidation", 5, 1, US_LABEL, id="consolidation-4-U"),
        pytest.param("mrd", 3, 1, BLINATUMOMAB_LABELS["seed1-tpog"], id="seed1-2-cycles"),
    ],
)
def test_number_of_cycles_per_setting(
    indication: str, cycles: int, first_cycle: int, label: object
) -> None:
    with pytest.raises(InputError, match="cycles") as raised:
        cycle_calendar(
            start=JAN1,
            indication=indication,
            cycles=cycles,
            first_cycle=first_cycle,
            label=label,  # type: ignore[arg-type]
        )
    assert raised.value.field == "cycles"


def test_seed1_two_cycles_four_weeks_on_two_off() -> None:
    calendar = cycle_calendar(
        start=JAN1, indication="mrd", cycles=2, label=BLINATUMOMAB_LABELS["seed1-tpog"]
    )
    assert [len(c.infusion_dates) for c in calendar.cycles] == [28, 28]
    assert [len(c.treatment_free_dates) for c in calendar.cycles] == [14, 14]
    assert calendar.label_version == "seed1-tpog@1"


@pytest.mark.parametrize(
    ("interruptions", "message"),
    [
        pytest.param([Interruption(day(30), 3)], "not one", id="treatment-free"),
        pytest.param([Interruption(date(2024, 12, 31), 3)], "not one", id="before-start"),
        pytest.param([Interruption(day(90), 3)], "not one", id="after-last-cycle"),
        pytest.param([Interruption(day(5), 3), Interruption(day(8), 2)], "adjacent", id="adjacent"),
        pytest.param(
            [Interruption(day(5), 3), Interruption(day(6), 2)], "overlapping", id="overlap"
        ),
        pytest.param([Interruption(day(5), 0)], "whole number ≥ 1", id="zero-length"),
        pytest.param(["5:3"], "Interruption", id="not-an-interruption"),
        pytest.param(
            [Interruption(datetime(2025, 1, 5, 8), 2)],
            "calendar date",
            id="datetime",
        ),
    ],
)
def test_misplaced_interruptions_are_refused(interruptions: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        cycle_calendar(
            start=JAN1,
            indication="mrd",
            cycles=1,
            interruptions=interruptions,  # type: ignore[arg-type]
        )
    assert raised.value.field == "interruption"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"start": "2025-01-01"}, "start", id="start-text"),
        pytest.param({"start": datetime(2025, 1, 1, 9)}, "start", id="start-datetime"),
        pytest.param({"indication": "induction"}, "indication", id="indication"),
        pytest.param({"cycles": 0}, "cycles", id="zero-cycles"),
        pytest.param({"first_cycle": 0}, "first_cycle", id="first-cycle-0"),
        pytest.param({"age_years": -1}, "age_years", id="age"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"start": JAN1, "indication": "mrd", "cycles": 1, **kwargs}
    with pytest.raises(InputError) as raised:
        cycle_calendar(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_json_shape() -> None:
    payload = cycle_calendar(
        start=JAN1,
        indication="mrd",
        cycles=1,
        age_years=12,
        interruptions=[Interruption(day(3), 2, reason="CRS grade 3")],
    ).to_dict()
    assert payload["start"] == "2025-01-01" and payload["age_group"] == "child"
    cycle = payload["cycles"][0]
    assert cycle["infusion_days"] == 28 and cycle["treatment_free_days"] == 14
    assert cycle["infusion_end"] == "2025-01-30"
    assert cycle["steps"] is None
    assert cycle["interruptions"][0] == {
        "start": "2025-01-03",
        "resume": "2025-01-05",
        "length_days": 2,
        "reason": "CRS grade 3",
        "cycle_day": 3,
        "infusion_days_before": 2,
        "outcome": "same_cycle",
    }
    assert cycle["days"][0] == {
        "date": "2025-01-01",
        "cycle_day": 1,
        "kind": "infusion",
        "infusion_day": 1,
        "daily_dose_ug": None,
        "hospitalized": True,
    }
    assert len(cycle["days"]) == 28 + 2 + 14
    assert payload["unconfirmed"] and payload["label_version"] == "us-uspi-2024@2024-06"


def test_stopped_cycle_json_has_no_treatment_free_interval() -> None:
    payload = cycle_calendar(
        start=JAN1, indication="mrd", cycles=1, interruptions=[Interruption(day(1), 8)]
    ).to_dict()
    stopped = payload["cycles"][0]
    assert stopped["status"] == "stopped" and stopped["infusion_start"] is None
    assert stopped["treatment_free_start"] is None and stopped["next_cycle_start"] == "2025-01-09"


# Runs of infusion days followed by an interruption of ≤ 7 days, per cycle.
runs = st.lists(
    st.tuples(st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=7)),
    max_size=4,
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    per_cycle=st.lists(runs, min_size=1, max_size=3),
    indication=st.sampled_from(list(Indication)),
    start_offset=st.integers(min_value=0, max_value=3000),
)
def test_every_completed_cycle_has_exactly_28_infusion_days(
    per_cycle: list[list[tuple[int, int]]], indication: Indication, start_offset: int
) -> None:
    start = JAN1 + timedelta(days=start_offset)
    interruptions, cycle_start = [], start
    for cycle_number, plan in enumerate(per_cycle, start=1):
        infused, today = 0, cycle_start
        for run, length in plan:
            if infused + run >= 28:
                break
            infused += run
            today += timedelta(days=run)
            interruptions.append(Interruption(today, length))
            today += timedelta(days=length)
        off = US_LABEL.treatment_free_days_after(indication, cycle_number)
        cycle_start = today + timedelta(days=28 - infused + off)
    calendar = cycle_calendar(
        start=start, indication=indication, cycles=len(per_cycle), interruptions=interruptions
    )
    assert all(c.status is CycleStatus.COMPLETED for c in calendar.cycles)
    assert len(calendar.cycles) == len(per_cycle)
    for cycle in calendar.cycles:
        assert len(cycle.infusion_dates) == 28
        assert [d.infusion_day for d in cycle.days if d.kind is DayKind.INFUSION] == list(
            range(1, 29)
        )
    assert calendar.next_cycle_start == cycle_start
