"""The blinatumomab dose and calendar join (mrdtrack.therapy, BLIN-01/BLIN-02 vectors)."""

import dataclasses
from datetime import date

import pytest

from mrdtrack.errors import InputError, ProtocolError
from mrdtrack.protocols import (
    load_shipped_protocol,
    plan_blinatumomab,
    timeline_from_mapping,
)

CASE_REPORT_CHILD = {
    "disease_status": "CR1",
    "age_years": 8,
    "weight_kg": 30,
    "height_cm": 135,
    "mrd": {"EOI": "0.05%"},
}


def test_tpog_case_report_child_dose_and_calendar() -> None:
    protocol = load_shipped_protocol("tpog-mrd")
    plan = plan_blinatumomab(
        protocol, timeline_from_mapping(CASE_REPORT_CHILD), start=date(2025, 1, 1)
    )
    assert plan.schedule_id == "TH-TPOG-SCHED"
    assert plan.dose is not None
    # BLIN-01-a: 30 kg, 135 cm, Mosteller → 15.91 µg/day.
    assert plan.dose.daily_dose_ug == pytest.approx(15.91, abs=0.005)
    assert plan.label_dose is not None
    assert plan.label_dose.daily_dose_ug == pytest.approx(plan.dose.daily_dose_ug)
    assert plan.warnings == ()
    assert plan.calendar is not None and plan.cycles == 2
    first, second = plan.calendar.cycles
    # BLIN-02-a: infusion 2025-01-01 → 01-28, off 01-29 → 02-11, cycle 2 day 1 = 02-12.
    assert first.infusion_dates[0] == date(2025, 1, 1)
    assert first.infusion_dates[-1] == date(2025, 1, 28)
    assert first.treatment_free_dates[-1] == date(2025, 2, 11)
    assert second.start == date(2025, 2, 12)
    assert plan.to_dict()["calendar"]["cycles"][1]["start"] == "2025-02-12"


def test_tpog_flat_dose_at_45_kg_differs_from_the_label() -> None:
    # §12 item 5: 15 µg/m²/day at every weight vs the label's fixed 28 µg/day at ≥ 45 kg.
    patient = timeline_from_mapping({**CASE_REPORT_CHILD, "weight_kg": 50, "height_cm": 150})
    plan = plan_blinatumomab(load_shipped_protocol("tpog-mrd"), patient)
    assert plan.dose is not None and plan.label_dose is not None
    assert plan.label_dose.daily_dose_ug == 28
    assert plan.dose.daily_dose_ug < 28
    assert any("differs from the US label" in w for w in plan.warnings)
    assert plan.calendar is None


def test_label_protocol_has_no_second_dose() -> None:
    patient = timeline_from_mapping({"weight_kg": 44, "height_cm": 160})
    plan = plan_blinatumomab(load_shipped_protocol("blincyto-us-mrd"), patient)
    assert plan.label_dose is None
    assert plan.dose is not None
    assert plan.dose.daily_dose_ug == pytest.approx(20.98, abs=0.005)  # BLIN-01-b


def test_relapsed_schedule_steps_up_in_cycle_one() -> None:
    patient = timeline_from_mapping({"weight_kg": 30, "height_cm": 135})
    plan = plan_blinatumomab(load_shipped_protocol("blincyto-us-rr"), patient)
    assert plan.dose is not None
    assert [s.days for s in plan.dose.steps] == ["1-7", "8-28"]
    assert plan.dose.steps[0].daily_dose_ug == pytest.approx(5.30, abs=0.005)


def test_consolidation_cycle_count_is_unconfirmed() -> None:
    protocol = load_shipped_protocol("blincyto-us-consolidation")
    patient = timeline_from_mapping({"weight_kg": 30, "height_cm": 135})
    plan = plan_blinatumomab(protocol, patient, start=date(2025, 1, 1))
    assert plan.calendar is None
    assert any("--cycles" in w for w in plan.warnings)
    plan = plan_blinatumomab(protocol, patient, start=date(2025, 1, 1), cycles=1)
    assert plan.calendar is not None and len(plan.calendar.cycles) == 1


def test_calendar_without_weight() -> None:
    plan = plan_blinatumomab(
        load_shipped_protocol("tpog-mrd"), timeline_from_mapping({}), start=date(2025, 1, 1)
    )
    assert plan.dose is None
    assert plan.calendar is not None
    assert any("no dose" in w for w in plan.warnings)


def test_too_many_cycles() -> None:
    with pytest.raises(InputError, match="cycles"):
        plan_blinatumomab(
            load_shipped_protocol("tpog-mrd"),
            timeline_from_mapping(CASE_REPORT_CHILD),
            start=date(2025, 1, 1),
            cycles=3,
        )


def test_needs_body_or_start() -> None:
    with pytest.raises(InputError):
        plan_blinatumomab(load_shipped_protocol("tpog-mrd"), timeline_from_mapping({}))


def test_no_schedule() -> None:
    with pytest.raises(ProtocolError, match="schedule"):
        plan_blinatumomab(
            load_shipped_protocol("graall-2014b"), timeline_from_mapping(CASE_REPORT_CHILD)
        )


def test_schedule_must_agree_with_its_dosing_profile() -> None:
    protocol = load_shipped_protocol("tpog-mrd")
    assert protocol.schedule is not None
    wrong = dataclasses.replace(
        protocol,
        schedule=dataclasses.replace(
            protocol.schedule,
            dose=dataclasses.replace(protocol.schedule.dose, ug_per_m2_day=5.0),
        ),
    )
    with pytest.raises(ProtocolError, match=r"schedule\.dose"):
        plan_blinatumomab(wrong, timeline_from_mapping(CASE_REPORT_CHILD))
    layout = dataclasses.replace(
        protocol, schedule=dataclasses.replace(protocol.schedule, treatment_free_days=7)
    )
    with pytest.raises(ProtocolError, match=r"schedule\.infusion_days"):
        plan_blinatumomab(layout, timeline_from_mapping(CASE_REPORT_CHILD))
