"""The registry adapter on SQLite and PostgreSQL: the case report's numbers from the registry.

The expected numbers are the case report's (Wang Y-L et al. Hematol Rep 2024;16:347-353,
Table 1 and text; docs/demo-cohort.md): n 11; median age 11.5 (3–19); 7 female, 4 male;
worst CRS grade 1 in 7 and 2 in 2, none ≥ 3; 5 HCT, days to HCT median 157 (97–270);
9 of 11 (82 %) MRD-negative at last follow-up; 2 relapses; 1 death; follow-up median 28
(15–52) months from diagnosis, method not stated (here the simple median; the reverse
Kaplan–Meier median is reported beside it, recomputed below from the records).
"""

from __future__ import annotations

import statistics
from datetime import date

import numpy as np
import pytest

from mrdtrack.mrd.result import MrdStatus
from mrdtrack.outcomes import median_follow_up
from mrdtrack.outcomes.endpoints import Endpoint, TimeZero, derive_endpoint
from mrdtrack.outcomes.summary import cohort_summary
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.cohort import GvhdEventRule, read_cohort
from mrdtrack.registry.database import Registry
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.store import get_patient, load_cohort, soft_delete
from mrdtrack.registry.vocabulary import OutcomeKind


@pytest.fixture
def demo(registry: Registry) -> Registry:
    with registry.transaction() as session:
        set_actor(session, AuditActor(user="test"))
        load_cohort(session, demo_cohort())
    return registry


def test_case_report_summary(demo: Registry) -> None:
    cohort = read_cohort(demo)
    summary = cohort_summary(cohort.histories, cohort.patients).to_dict()
    assert summary["n_patients"] == 11
    assert summary["age_years"] == {"median": 11.5, "min": 3.0, "max": 19.0, "n": 11}
    assert summary["sex"] == {"female": 7, "male": 4}
    assert summary["crs_grade_counts"] == {"0": 2, "1": 7, "2": 2, "3": 0, "4": 0, "5": 0}
    assert summary["hct"]["n"] == 5
    assert summary["hct"]["days_to_hct"] == {"median": 157.0, "min": 97.0, "max": 270.0, "n": 5}
    assert summary["mrd_negative_last"] == {"n": 9, "percent": 81.8, "evaluable": 11}
    assert round(summary["mrd_negative_last"]["percent"]) == 82
    assert (summary["relapses"], summary["deaths"]) == (2, 1)
    assert summary["warnings"] == []


def test_follow_up_both_methods(demo: Registry) -> None:
    cohort = read_cohort(demo)
    summary = cohort_summary(cohort.histories, cohort.patients).to_dict()
    follow_up = summary["follow_up_months"]
    # Recipe, from the records (not the registry): months = (last contact or death −
    # diagnosis) / 30.4375; simple median and reverse Kaplan–Meier (death = censoring).
    months, died = [], []
    for patient in demo_cohort().patients:
        ends = {o.kind: o.event_date for o in patient.outcomes}
        end = ends.get(OutcomeKind.DEATH) or ends[OutcomeKind.LAST_CONTACT]
        months.append((end - patient.diagnosis.diagnosis_date).days / 30.4375)
        died.append(OutcomeKind.DEATH in ends)
    reference = median_follow_up(months, died)
    assert follow_up["simple_median"] == round(statistics.median(months), 1)
    assert round(follow_up["simple_median"]) == 28
    assert (round(follow_up["min"]), round(follow_up["max"])) == (15, 52)
    assert reference.median is not None
    assert follow_up["median"] == round(reference.median, 1)
    assert follow_up["method"] == "reverse Kaplan–Meier (Schemper & Smith 1996)"
    assert "simple_method" in follow_up


def test_histories_match_the_records(demo: Registry) -> None:
    cohort = read_cohort(demo)
    histories = cohort.histories
    records = {p.study_id: p for p in demo_cohort().patients}
    assert set(histories.patient_ids) == set(records)
    for index, study_id in enumerate(histories.patient_ids):
        record = records[study_id]
        assert histories.patient(index).diagnosis_date == record.diagnosis.diagnosis_date
    p05 = histories.patient(histories.patient_ids.index("SEED1-P05"))
    # Relapse before blinatumomab is history; the one after is an outcome event.
    assert p05.prior_relapse_dates == (date(2021, 4, 12),)
    assert p05.relapse_dates == (date(2022, 3, 21),)
    assert p05.death_date == date(2022, 7, 3)
    assert p05.death_cause is not None and "relapse" in p05.death_cause
    assert p05.remission_date == date(2021, 5, 12)  # CR2 onset, in which she got blinatumomab
    assert p05.hct_date == date(2021, 11, 7)
    assert p05.mrd[-1].status is MrdStatus.POSITIVE
    p04 = histories.patient(histories.patient_ids.index("SEED1-P04"))
    # Refractory at blinatumomab: her remission is the CR reached after it.
    assert p04.remission_date == date(2021, 9, 6)
    assert sum(len(histories.patient(i).mrd) for i in range(11)) == 99
    assert cohort.dialect == demo.dialect


def test_endpoints_from_the_registry(demo: Registry) -> None:
    histories = read_cohort(demo).histories
    os_data = derive_endpoint(histories, Endpoint.OS, origin=TimeZero.BLINATUMOMAB)
    assert (os_data.n, os_data.events) == (11, 1)
    cir = derive_endpoint(histories, Endpoint.CIR, origin=TimeZero.BLINATUMOMAB)
    assert (cir.events, cir.competing_events) == (2, 0)
    efs = derive_endpoint(histories, Endpoint.EFS)
    # From diagnosis: the pre-blinatumomab relapses (P04, P05, P08) count as events.
    assert efs.events == 3
    assert np.all(efs.time_days >= 0)


def test_soft_deleted_patients_are_left_out(demo: Registry) -> None:
    with demo.transaction() as session:
        set_actor(session, AuditActor(user="test", reason="entered twice"))
        soft_delete(session, get_patient(session, "SEED1-P05"))
    cohort = read_cohort(demo)
    assert "SEED1-P05" not in cohort.histories.patient_ids
    summary = cohort_summary(cohort.histories, cohort.patients).to_dict()
    assert (summary["n_patients"], summary["deaths"], summary["relapses"]) == (10, 0, 1)
    assert summary["crs_grade_counts"]["2"] == 1


def test_empty_registry(registry: Registry) -> None:
    cohort = read_cohort(registry)
    assert len(cohort.histories) == 0
    assert cohort_summary(cohort.histories, cohort.patients).n_patients == 0


def test_gvhd_events_for_grfs_follow_the_rule(demo: Registry) -> None:
    # The demo's GVHD: P02 acute grade II, P06 acute grade I (modified Glucksberg).
    default = read_cohort(demo).histories
    assert default.gvhd.day.size == 0  # grade III–IV only
    lenient = read_cohort(demo, gvhd=GvhdEventRule(acute_min_grade=2)).histories
    assert [lenient.patient_ids[i] for i in lenient.gvhd.patient] == ["SEED1-P02"]
    grfs = derive_endpoint(lenient, Endpoint.GRFS)
    assert grfs.n == 5 and grfs.events == 2  # P02's GVHD and P05's relapse
