"""Swimmer rows and patient groups from the case series (SEED-1 Table 1 as the truth)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from mrdtrack.figures import (
    Grouping,
    PatientTimeline,
    SwimmerEvent,
    SwimmerSort,
    TimeZero,
    group_labels,
    status_before_blinatumomab,
    swimmer_rows,
)
from mrdtrack.figures.timeline import AssessmentEntry
from mrdtrack.registry.vocabulary import Response, TreatmentKind
from tests.figures import demo

IDS = [f"SEED1-P{i:02d}" for i in range(1, 12)]
# Wang 2024, Table 1: status before blinatumomab, CRS grade, days to HCT, DLI (docs).
STATUS = ["MRD+", "MRD+", "MRD+", "R/R", "MRD+", "MRD+", "MRD−", "MRD−", "MRD+", "MRD−", "MRD+"]
CRS = [1, 0, 1, 1, 2, 1, 0, 1, 1, 2, 1]
DAYS_TO_HCT = [None, 165, 157, None, 97, 125, None, None, 270, None, None]
DLI = [0, 3, 0, 0, 2, 4, 0, 0, 3, 0, 0]


@pytest.mark.parametrize("row", range(11), ids=IDS)
def test_swimmer_row_holds_the_table_1_events(
    timelines: tuple[PatientTimeline, ...], row: int
) -> None:
    cohort = swimmer_rows(timelines, sort=SwimmerSort.STUDY_ID)
    r = cohort.rows[row]
    assert r.study_id == IDS[row]
    hct = r.markers_of(SwimmerEvent.HCT)
    if DAYS_TO_HCT[row] is None:
        assert not hct and not r.segments_of(TreatmentKind.HCT)
    else:
        (marker,) = hct
        assert round(marker.month * 30.4375) == DAYS_TO_HCT[row]
        (after,) = r.segments_of(TreatmentKind.HCT)
        assert after.start_month == marker.month and after.end_month == r.end_month
    assert len(r.markers_of(SwimmerEvent.DLI)) == DLI[row]
    crs = r.markers_of(SwimmerEvent.CRS)
    assert [m.grade for m in crs] == ([CRS[row]] if CRS[row] else [])
    assert len(r.segments_of(TreatmentKind.BLINATUMOMAB)) == 2
    assert r.died is (IDS[row] == "SEED1-P05")
    assert len(r.markers_of(SwimmerEvent.DEATH)) == int(r.died)
    assert r.censored is not r.died
    assert len(r.markers_of(SwimmerEvent.RELAPSE)) == int(IDS[row] in ("SEED1-P04", "SEED1-P05"))
    for m in r.markers:
        assert 0.0 <= m.month <= r.end_month
    for s in r.segments:
        assert 0.0 <= s.start_month <= s.end_month <= r.end_month


def test_every_mrd_result_after_time_zero_is_a_marker(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    rows = {r.study_id: r for r in swimmer_rows(timelines).rows}
    for t in timelines:
        start = t.first_blinatumomab
        assert start is not None
        shown = [e for e in t.mrd if e.sample_date >= start]
        r = rows[t.study_id]
        drawn = (
            r.markers_of(SwimmerEvent.MRD_POSITIVE)
            + r.markers_of(SwimmerEvent.MRD_NEGATIVE)
            + r.markers_of(SwimmerEvent.MRD_NOT_EVALUABLE)
        )
        assert len(drawn) == len(shown)
        assert len(r.markers_of(SwimmerEvent.MRD_POSITIVE)) == sum(e.positive for e in shown)


def test_cmr_starts_each_run_of_negative_results(patient: PatientTimeline) -> None:
    (row,) = swimmer_rows([patient]).rows
    # P05: MRD-negative once after HCT (POST_HCT_D35), positive again before relapse.
    cmr = row.markers_of(SwimmerEvent.CMR)
    negatives = row.markers_of(SwimmerEvent.MRD_NEGATIVE)
    assert [m.month for m in cmr] == [m.month for m in negatives]
    assert len(cmr) == 1
    assert not row.in_continuing_remission and row.relapsed


def test_cr_marks_each_new_remission(timelines: tuple[PatientTimeline, ...]) -> None:
    p04 = next(r for r in swimmer_rows(timelines).rows if r.study_id == "SEED1-P04")
    # Refractory before blinatumomab: CR2 after cycle 1, relapse, then CR3.
    assert [m.label for m in p04.markers_of(SwimmerEvent.CR)] == ["CR2", "CR3"]
    assert p04.in_continuing_remission


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        pytest.param(SwimmerSort.STUDY_ID, "SEED1-P01", "SEED1-P11", id="study-id"),
        pytest.param(SwimmerSort.FOLLOW_UP, "SEED1-P08", "SEED1-P10", id="follow-up"),
        pytest.param(SwimmerSort.RESPONSE, "SEED1-P08", "SEED1-P05", id="response"),
        pytest.param(SwimmerSort.SUBTYPE, "SEED1-P07", "SEED1-P01", id="subtype"),
    ],
)
def test_sorting(
    timelines: tuple[PatientTimeline, ...], sort: SwimmerSort, first: str, last: str
) -> None:
    rows = swimmer_rows(timelines, sort=sort).rows
    assert (rows[0].study_id, rows[-1].study_id) == (first, last)
    if sort is SwimmerSort.FOLLOW_UP:
        months = [r.end_month for r in rows]
        assert months == sorted(months, reverse=True)


def test_patients_without_a_time_zero_are_listed_not_drawn(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    no_blinatumomab = dataclasses.replace(
        timelines[0],
        treatments=tuple(
            c for c in timelines[0].treatments if c.kind is not TreatmentKind.BLINATUMOMAB
        ),
    )
    cohort = swimmer_rows([no_blinatumomab, *timelines[1:]])
    assert cohort.excluded == ("SEED1-P01",)
    assert len(cohort.rows) == 10
    by_diagnosis = swimmer_rows([no_blinatumomab], time_zero=TimeZero.DIAGNOSIS)
    assert len(by_diagnosis.rows) == 1 and not by_diagnosis.excluded


def test_status_before_blinatumomab_matches_table_1(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    assert [status_before_blinatumomab(t) for t in timelines] == STATUS
    assert group_labels(timelines, Grouping.STATUS_BEFORE_BLINATUMOMAB) == tuple(STATUS)
    assert group_labels(timelines, Grouping.SEX).count("female") == 7
    assert group_labels(timelines, Grouping.PH).count("Ph+") == 3
    assert set(group_labels(timelines, Grouping.SITE)) == {"CGMH"}
    assert group_labels(timelines, Grouping.SUBTYPE)[3] == "ZNF384-r"


def test_a_refractory_assessment_before_the_infusion_reads_r_r(patient: PatientTimeline) -> None:
    start = patient.first_blinatumomab
    assert start is not None
    refractory = AssessmentEntry(0, date(2021, 7, 30), Response.NR, 30.0, False, None, ())
    changed = dataclasses.replace(
        patient,
        assessments=tuple(
            sorted((*patient.assessments, refractory), key=lambda a: a.assessment_date)
        ),
    )
    assert status_before_blinatumomab(changed) == "R/R"


def test_invariants_over_a_synthetic_cohort() -> None:
    timelines, _ = demo.synthetic()
    cohort = swimmer_rows(timelines)
    assert len(cohort.rows) + len(cohort.excluded) == len(timelines)
    for row in cohort.rows:
        assert row.end_month >= 0
        for m in row.markers:
            assert 0.0 <= m.month <= row.end_month + 1e-9, (row.study_id, m)
        for s in row.segments:
            assert s.start_month <= s.end_month <= row.end_month + 1e-9, (row.study_id, s)
        assert len(row.markers_of(SwimmerEvent.DEATH)) == int(row.died)
        assert not (row.died and row.in_continuing_remission)
        if row.markers_of(SwimmerEvent.CMR):
            assert row.markers_of(SwimmerEvent.MRD_NEGATIVE)


def test_cr_from_diagnosis_marks_the_first_remission(
    timelines: tuple[PatientTimeline, ...],
) -> None:
    rows = swimmer_rows(timelines, time_zero=TimeZero.DIAGNOSIS, sort=SwimmerSort.STUDY_ID).rows
    # Every patient reached CR1 after induction; P04 and P05 again after their relapses.
    assert [m.label for m in rows[0].markers_of(SwimmerEvent.CR)] == ["CR1"]
    assert [m.label for m in rows[3].markers_of(SwimmerEvent.CR)] == ["CR1", "CR2", "CR3"]
    assert [m.label for m in rows[4].markers_of(SwimmerEvent.CR)] == ["CR1", "CR2"]
    from_blinatumomab = swimmer_rows(timelines, sort=SwimmerSort.STUDY_ID).rows
    # In CR at the first infusion: no CR marker until a new remission (P04: refractory).
    reached = [r.study_id for r in from_blinatumomab if r.markers_of(SwimmerEvent.CR)]
    assert reached == ["SEED1-P04"]
