"""The cohort summary from plain histories: every key of the CLI contract and its definition."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.outcomes.histories import CohortHistories, MrdObservation, PatientHistory
from mrdtrack.outcomes.summary import (
    DEFINITIONS,
    CohortPatients,
    CrsEpisodes,
    cohort_summary,
)

START = date(2021, 7, 1)
CONTRACT_KEYS = {
    "n_patients",
    "age_years",
    "sex",
    "crs_grade_counts",
    "hct",
    "mrd_negative_last",
    "relapses",
    "deaths",
    "follow_up_months",
}


def observation(days: int, status: MrdStatus) -> MrdObservation:
    return MrdObservation(START + timedelta(days=days), "FOLLOW_UP", status)


def cohort() -> tuple[CohortHistories, CohortPatients]:
    neg, pos, ne = MrdStatus.NEGATIVE, MrdStatus.POSITIVE, MrdStatus.NOT_EVALUABLE
    histories = [
        PatientHistory(
            "A",
            diagnosis_date=START - timedelta(days=100),
            blinatumomab_start=START,
            hct_date=START + timedelta(days=120),
            last_contact=START + timedelta(days=800),
            mrd=(observation(30, pos), observation(300, neg), observation(310, ne)),
        ),
        PatientHistory(
            "B",
            diagnosis_date=START - timedelta(days=200),
            blinatumomab_start=START,
            hct_date=START - timedelta(days=30),  # transplanted before blinatumomab
            relapse_dates=(START + timedelta(days=200),),
            prior_relapse_dates=(START - timedelta(days=60),),
            death_date=START + timedelta(days=400),
            death_cause="relapse",
            mrd=(observation(30, neg), observation(190, pos), observation(190, neg)),
        ),
        PatientHistory(
            "C",
            diagnosis_date=START - timedelta(days=50),
            blinatumomab_start=START + timedelta(days=10),
            hct_date=START + timedelta(days=200),
            last_contact=START + timedelta(days=600),
            mrd=(observation(40, ne),),
        ),
    ]
    # Distinct grading inputs: 0 grade 1 (fever), 1 grade 2 (low-flow O2), 2 none recorded.
    crs = CrsEpisodes(
        patient=np.array([0, 0, 1, 2]),
        inputs_index=np.array([0, 1, 2, 0]),
        stored_grade=np.array([1, 3, 2, 1]),
        inputs=(
            {"temperature_c": 38.6, "hypotension": "none", "hypoxia": "none"},
            {"temperature_c": 39.1, "hypotension": "none", "hypoxia": "low-flow"},
            {},
        ),
    )
    birth = np.array(
        [
            (START - timedelta(days=round(10.04 * 365.25))).toordinal(),
            (START - timedelta(days=round(4.0 * 365.25))).toordinal(),
            np.nan,
        ]
    )
    patients = CohortPatients(sex=("female", "male", "female"), birth=birth, crs=crs)
    return CohortHistories.from_patients(histories), patients


def test_summary_keys_and_values() -> None:
    histories, patients = cohort()
    summary = cohort_summary(histories, patients).to_dict()
    assert set(summary) >= CONTRACT_KEYS
    assert summary["n_patients"] == 3
    assert summary["age_years"] == {"median": 7.0, "min": 4.0, "max": 10.0, "n": 2}
    assert summary["sex"] == {"female": 2, "male": 1}
    # A: worst of grade 1 and grade 2 (recomputed; the stored 3 is overruled) = 2;
    # B: no inputs, stored grade 2; C: grade 1.
    assert summary["crs_grade_counts"] == {"0": 0, "1": 1, "2": 2, "3": 0, "4": 0, "5": 0}
    assert any("differs" in w for w in summary["warnings"])
    assert summary["hct"] == {
        "n": 2,
        "days_to_hct": {"median": 155.0, "min": 120.0, "max": 190.0, "n": 2},
        "before_blinatumomab": 1,
    }
    # A: last evaluable (day 300) negative; B: day 190 has a positive result; C: none.
    assert summary["mrd_negative_last"] == {"n": 1, "percent": 50.0, "evaluable": 2}
    assert (summary["relapses"], summary["relapse_events"], summary["deaths"]) == (1, 1, 1)
    follow_up = summary["follow_up_months"]
    assert follow_up["method"].startswith("reverse Kaplan–Meier")
    assert follow_up["origin"] == "diagnosis"
    months = np.array([900, 600, 650]) / 30.4375
    assert follow_up["simple_median"] == round(float(np.median(months)), 1)
    assert (follow_up["min"], follow_up["max"]) == (round(months.min(), 1), round(months.max(), 1))
    assert summary["definitions"] == dict(DEFINITIONS)
    assert "first blinatumomab infusion" in summary["definitions"]["age_years"]
    json.dumps(summary, allow_nan=False)


def test_invalid_crs_inputs_fall_back_to_the_stored_grade() -> None:
    histories, patients = cohort()
    crs = CrsEpisodes(
        patient=np.array([0, 1]),
        inputs_index=np.array([0, 1]),
        stored_grade=np.array([2, -1]),
        inputs=({"temperature_c": 39.0, "hypotension": "fainting"}, {"pressure": 1}),
    )
    summary = cohort_summary(histories, CohortPatients(patients.sex, patients.birth, crs)).to_dict()
    assert summary["crs_grade_counts"]["2"] == 1
    assert summary["crs_grade_counts"]["0"] == 2
    warnings = " ".join(summary["warnings"])
    assert "not gradable" in warnings and "not ASTCT inputs" in warnings
    assert "neither inputs nor a grade" in warnings


def test_patients_must_match_the_histories() -> None:
    histories, _ = cohort()
    with pytest.raises(InputError, match="patients"):
        cohort_summary(histories, CohortPatients(("female",), np.array([np.nan])))


def test_empty_cohort() -> None:
    empty = CohortHistories.from_patients([])
    summary = cohort_summary(empty, CohortPatients((), np.zeros(0))).to_dict()
    assert summary["n_patients"] == 0
    assert summary["age_years"]["median"] is None
    assert summary["mrd_negative_last"]["percent"] is None
    assert summary["follow_up_months"]["median"] is None
