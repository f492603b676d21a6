"""End points derived from event histories: the END-02 worked dataset and END-01's options."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.outcomes import cumulative_incidence, kaplan_meier, median_follow_up
from mrdtrack.outcomes.endpoints import (
    DAYS_PER_MONTH,
    ENDPOINT_DEFINITIONS,
    CensoringRule,
    Endpoint,
    TimeZero,
    derive_endpoint,
    mrd_response_rate,
)
from mrdtrack.outcomes.histories import CohortHistories, MrdObservation, PatientHistory

CR = date(2020, 1, 1)


def months(value: float) -> date:
    return CR + timedelta(days=round(value * DAYS_PER_MONTH))


def worked_dataset() -> list[PatientHistory]:
    """Domain rules §11.3: months from CR; RFS/CIR status; OS follow-up and status.

    P1 6 relapse / 18 alive; P2 10 death in CR / 10 dead; P3 12 censored / 12 alive;
    P4 15 relapse / 40 alive; P5 20 censored / 20 alive; P6 24 relapse / 30 dead;
    P7 28 censored / 28 alive; P8 36 censored / 36 alive.
    """
    rows = [
        ("P1", 6, True, 18, False),
        ("P2", 10, False, 10, True),
        ("P3", 12, False, 12, False),
        ("P4", 15, True, 40, False),
        ("P5", 20, False, 20, False),
        ("P6", 24, True, 30, True),
        ("P7", 28, False, 28, False),
        ("P8", 36, False, 36, False),
    ]
    return [
        PatientHistory(
            patient_id=pid,
            diagnosis_date=CR - timedelta(days=40),
            remission_date=CR,
            relapse_dates=(months(rfs),) if relapsed else (),
            death_date=months(os_time) if dead else None,
            death_cause="relapse" if dead and relapsed else ("infection" if dead else None),
            last_contact=None if dead else months(os_time),
            last_assessment=months(rfs if not relapsed else os_time),
        )
        for pid, rfs, relapsed, os_time, dead in rows
    ]


@pytest.fixture
def cohort() -> CohortHistories:
    return CohortHistories.from_patients(worked_dataset())


def test_rfs_km_steps(cohort: CohortHistories) -> None:
    """END-02-a: RFS KM steps 6: 0.875; 10: 0.750; 15: 0.600; 24: 0.400; median 24."""
    data = derive_endpoint(cohort, Endpoint.RFS)
    assert data.origin is TimeZero.REMISSION
    assert data.event.tolist() == [1, 1, 0, 1, 0, 1, 0, 0]
    np.testing.assert_allclose(data.time_months, [6, 10, 12, 15, 20, 24, 28, 36], atol=0.02)
    km = kaplan_meier(data.time_months, data.event)
    steps = km.n_events > 0
    assert km.survival[steps] == pytest.approx([0.875, 0.750, 0.600, 0.400])
    assert km.median == pytest.approx(24, abs=0.02)


def test_cir_and_nrm_competing(cohort: CohortHistories) -> None:
    """END-02-b: CIR at 36 = 0.475 (0.125 → 0.275 → 0.475); NRM 0.125; sum with RFS = 1."""
    cir_data = derive_endpoint(cohort, Endpoint.CIR)
    assert cir_data.event.tolist() == [1, 2, 0, 1, 0, 1, 0, 0]
    assert cir_data.competing and cir_data.causes[2] == "death without relapse"
    cir = cumulative_incidence(cir_data.time_months, cir_data.event, 1)
    assert cir.cif[cir.n_events > 0] == pytest.approx([0.125, 0.275, 0.475])
    nrm_data = derive_endpoint(cohort, Endpoint.NRM)
    assert nrm_data.event.tolist() == [2, 1, 0, 2, 0, 2, 0, 0]
    nrm = cumulative_incidence(nrm_data.time_months, nrm_data.event, 1)
    rfs = derive_endpoint(cohort, Endpoint.RFS)
    km = kaplan_meier(rfs.time_months, rfs.event)
    assert cir.cif[-1] + nrm.cif[-1] + km.survival[-1] == pytest.approx(1.0)
    assert nrm.cif[-1] == pytest.approx(0.125)
    # END-02-c: 1 − KM with death censored overestimates CIR (0.533), never used.
    naive = kaplan_meier(cir_data.time_months, cir_data.event == 1)
    assert 1 - naive.survival[-1] == pytest.approx(0.533, abs=5e-4)


def test_os_and_reverse_km_follow_up(cohort: CohortHistories) -> None:
    """END-02-d: OS 10: 0.875; 30: 0.583. END-02-e/f: follow-up 28 (reverse KM), naive 24."""
    data = derive_endpoint(cohort, Endpoint.OS, origin=TimeZero.REMISSION)
    assert data.censoring is CensoringRule.LAST_CONTACT
    km = kaplan_meier(data.time_months, data.event)
    assert km.survival[km.n_events > 0] == pytest.approx([0.875, 0.583], abs=5e-4)
    follow_up = median_follow_up(data.time_months, data.event)
    assert follow_up.median == pytest.approx(28, abs=0.02)
    assert follow_up.median_observed_time == pytest.approx(24, abs=0.02)


def test_every_endpoint_states_its_definition(cohort: CohortHistories) -> None:
    for endpoint in Endpoint:
        definition = ENDPOINT_DEFINITIONS[endpoint]
        assert definition.population and definition.events and definition.censoring
        assert "END-01" in definition.source or "Holtan" in definition.source
    described = derive_endpoint(cohort, Endpoint.CIR).describe()
    assert described["origin"] == "remission"
    assert described["competing"] == "death without relapse (cause 2)"
    assert "ELN" in str(described["source"]) or "Döhner" in str(described["source"])
    assert described["n_events"] == 3 and described["n_competing"] == 1


def test_landmark_excludes_early_events_and_restarts_time(cohort: CohortHistories) -> None:
    landmark = float((months(12) - CR).days)
    data = derive_endpoint(cohort, Endpoint.RFS, landmark_days=landmark)
    # P1 (relapse 6) and P2 (death 10) are out; P3, censored at 12, is still at risk.
    assert data.patient_ids == ("P3", "P4", "P5", "P6", "P7", "P8")
    np.testing.assert_allclose(data.time_months, [0, 3, 8, 12, 16, 24], atol=0.03)
    assert data.excluded["event or censoring before the landmark"] == ("P1", "P2")
    assert data.landmark_days == landmark


def histories_with_hct() -> list[PatientHistory]:
    start = date(2021, 1, 1)
    return [
        PatientHistory(
            "A",
            diagnosis_date=start - timedelta(days=200),
            blinatumomab_start=start,
            remission_date=start - timedelta(days=150),
            hct_date=start + timedelta(days=100),
            relapse_dates=(start + timedelta(days=300),),
            last_contact=start + timedelta(days=400),
            last_assessment=start + timedelta(days=380),
        ),
        PatientHistory(
            "B",
            diagnosis_date=start - timedelta(days=100),
            blinatumomab_start=start,
            remission_date=start - timedelta(days=60),
            death_date=start + timedelta(days=50),
            death_cause="infection",
        ),
        PatientHistory(
            "C",
            diagnosis_date=start - timedelta(days=90),
            blinatumomab_start=start + timedelta(days=10),
            induction_failure_date=start - timedelta(days=50),
            prior_relapse_dates=(start - timedelta(days=20),),
            last_contact=start + timedelta(days=500),
            last_assessment=start + timedelta(days=450),
        ),
    ]


def test_hct_censored_sensitivity_analysis() -> None:
    patients = histories_with_hct()
    itt = derive_endpoint(patients, Endpoint.RFS, origin=TimeZero.BLINATUMOMAB)
    assert itt.event.tolist() == [1, 1, 0]
    assert itt.time_days.tolist() == [300, 50, 440]
    censored = derive_endpoint(
        patients, Endpoint.RFS, origin=TimeZero.BLINATUMOMAB, censor_at_hct=True
    )
    assert censored.event.tolist() == [0, 1, 0]
    assert censored.time_days.tolist() == [100, 50, 440]
    assert censored.censored_at_hct
    with pytest.raises(InputError, match="censor_at_hct"):
        derive_endpoint(patients, Endpoint.OS, origin=TimeZero.HCT, censor_at_hct=True)


def test_efs_counts_induction_failure_at_time_zero_and_history_relapses() -> None:
    patients = histories_with_hct()
    efs = derive_endpoint(patients, Endpoint.EFS)
    assert efs.origin is TimeZero.DIAGNOSIS
    # C failed induction: an event on day 0 from diagnosis.
    assert efs.event.tolist() == [1, 1, 1]
    assert efs.time_days.tolist() == [500, 150, 0]
    # From the first infusion, C's induction failure and relapse are history: censored.
    later = derive_endpoint(patients, Endpoint.EFS, origin=TimeZero.BLINATUMOMAB)
    assert later.event.tolist() == [1, 1, 0]
    assert later.time_days.tolist() == [300, 50, 440]
    # A relapse of the disease history is an event from diagnosis (RFS has no failure).
    rfs = derive_endpoint(patients, Endpoint.RFS, origin=TimeZero.DIAGNOSIS)
    assert rfs.event.tolist() == [1, 1, 1]
    assert rfs.time_days.tolist() == [500, 150, 70]


def test_population_and_exclusions() -> None:
    patients = histories_with_hct()
    rfs = derive_endpoint(patients, Endpoint.RFS)
    assert rfs.patient_ids == ("A", "B")
    assert rfs.excluded == {"no time zero": ("C",)}
    grfs = derive_endpoint(patients, Endpoint.GRFS)
    assert grfs.origin is TimeZero.HCT
    assert grfs.patient_ids == ("A",)
    assert grfs.definition.unconfirmed
    no_follow_up = [PatientHistory("X", diagnosis_date=date(2020, 1, 1))]
    data = derive_endpoint(no_follow_up, Endpoint.OS)
    assert data.n == 0 and data.excluded == {"no follow-up date": ("X",)}


def test_censoring_rule_choice() -> None:
    patients = histories_with_hct()
    by_assessment = derive_endpoint(patients, Endpoint.RFS, origin="blinatumomab")
    by_contact = derive_endpoint(patients, "rfs", origin="blinatumomab", censoring="last_contact")
    assert by_assessment.time_days[2] == 440 and by_contact.time_days[2] == 490


def test_bad_options() -> None:
    with pytest.raises(InputError, match="endpoint"):
        derive_endpoint(worked_dataset(), "pfs")
    with pytest.raises(InputError, match="origin"):
        derive_endpoint(worked_dataset(), "os", origin="birth")
    with pytest.raises(InputError, match="landmark_days"):
        derive_endpoint(worked_dataset(), "os", landmark_days=-1)


def mrd(day: int, timepoint: str, status: MrdStatus) -> MrdObservation:
    return MrdObservation(date(2021, 1, 1) + timedelta(days=day), timepoint, status)


NEG, POS, PNQ, NE = (
    MrdStatus.NEGATIVE,
    MrdStatus.POSITIVE,
    MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
    MrdStatus.NOT_EVALUABLE,
)


def mrd_cohort() -> list[PatientHistory]:
    start, diagnosed = date(2021, 1, 8), date(2020, 6, 1)
    return [
        PatientHistory(
            "R1",
            mrd=(mrd(0, "PRE_BLIN", POS), mrd(35, "POST_C1", NEG), mrd(77, "POST_C2", NEG)),
            last_contact=date(2022, 1, 1),
            blinatumomab_start=start,
            diagnosis_date=diagnosed,
        ),
        PatientHistory(
            "R2",
            mrd=(
                mrd(0, "PRE_BLIN", PNQ),
                mrd(35, "POST_C1", POS),
                mrd(35, "POST_C1", NEG),
                mrd(77, "POST_C2", NEG),
            ),
            last_contact=date(2022, 1, 1),
            blinatumomab_start=start,
            diagnosis_date=diagnosed,
        ),
        PatientHistory(
            "R3",
            mrd=(mrd(0, "PRE_BLIN", POS), mrd(35, "POST_C1", NE)),
            relapse_dates=(date(2021, 4, 1),),
            death_date=date(2021, 6, 1),
            blinatumomab_start=start,
            diagnosis_date=diagnosed,
        ),
        PatientHistory(
            "R4",
            mrd=(mrd(0, "PRE_BLIN", NEG), mrd(35, "POST_C1", NEG)),
            last_contact=date(2022, 1, 1),
            blinatumomab_start=start,
            diagnosis_date=diagnosed,
        ),
    ]


def test_mrd_response_rates() -> None:
    patients = mrd_cohort()
    after_c1 = mrd_response_rate(patients, "POST_C1")
    # R2's day-35 sample has a positive result: the sample is positive. R3 not evaluable.
    assert (after_c1.n_patients, after_c1.n_evaluable, after_c1.n_negative) == (4, 3, 2)
    assert after_c1.not_evaluable == ("R3",)
    assert after_c1.wilson is not None and after_c1.exact is not None
    assert after_c1.exact.lower < after_c1.wilson.lower < 2 / 3 < after_c1.wilson.upper
    after_c2 = mrd_response_rate(patients, "POST_C2")
    assert (after_c2.n_evaluable, after_c2.n_negative) == (2, 2)
    assert after_c2.not_assessed == ("R3", "R4")
    last = mrd_response_rate(patients, "last")
    # R3's last evaluable result is the positive PRE_BLIN one.
    assert (last.n_evaluable, last.n_negative, last.percent) == (4, 3, 75.0)
    with pytest.raises(InputError, match="at"):
        mrd_response_rate(patients, "POST_C3")


def test_time_to_mrd_negativity() -> None:
    data = derive_endpoint(mrd_cohort(), Endpoint.MRD_NEGATIVITY)
    assert data.origin is TimeZero.BLINATUMOMAB
    # R4 was MRD-negative before blinatumomab; R2's day-35 sample is positive (one of its
    # results is), so R2 turns negative on day 77; R3 relapsed first (competing).
    assert data.patient_ids == ("R1", "R2", "R3")
    assert data.event.tolist() == [1, 1, 2]
    assert data.time_days.tolist() == [28, 70, 83]  # first infusion 7 days after day 0
    assert data.excluded == {"MRD-negative at time zero": ("R4",)}


def test_patient_round_trip() -> None:
    patients = worked_dataset() + histories_with_hct() + mrd_cohort()
    cohort = CohortHistories.from_patients(patients)
    assert cohort.patients() == tuple(patients)
    assert cohort.patient(1).death_cause == "infection"


@settings(derandomize=True, max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 2000),  # follow-up days
            st.booleans(),  # relapsed
            st.booleans(),  # died
            st.integers(0, 1000),  # relapse day offset
        ),
        min_size=1,
        max_size=30,
    )
)
def test_invariants(rows: list[tuple[int, bool, bool, int]]) -> None:
    start = date(2020, 1, 1)
    patients = []
    for i, (follow, relapsed, died, offset) in enumerate(rows):
        relapse = start + timedelta(days=min(offset + 1, follow))
        end = start + timedelta(days=follow)
        patients.append(
            PatientHistory(
                f"P{i}",
                diagnosis_date=start,
                remission_date=start,
                relapse_dates=(relapse,) if relapsed else (),
                death_date=end if died else None,
                last_contact=None if died else end,
                last_assessment=end,
            )
        )
    cir = derive_endpoint(patients, Endpoint.CIR)
    nrm = derive_endpoint(patients, Endpoint.NRM)
    rfs = derive_endpoint(patients, Endpoint.RFS)
    os_data = derive_endpoint(patients, Endpoint.OS)
    # Every RFS event is a relapse or a death in remission, and the reverse.
    assert ((cir.event > 0) == (rfs.event == 1)).all()
    assert ((cir.event == 1) == (nrm.event == 2)).all()
    assert (rfs.time_days <= os_data.time_days).all()
    assert (cir.time_days >= 0).all()
