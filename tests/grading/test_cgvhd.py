"""Chronic GVHD NIH 2014 global severity (domain rules CGVHD-01)."""

from dataclasses import replace
from typing import Any

import pytest

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    CGVHD_PROFILES,
    CgvhdOrgan,
    ChronicGvhdScores,
    GlobalSeverity,
    SeverityRules,
    fev1_lung_score,
    grade_chronic_gvhd,
)
from mrdtrack.mrd.profiles import derive


@pytest.mark.parametrize(
    ("scores", "severity"),
    [
        pytest.param(
            ChronicGvhdScores(skin=1, mouth=1, lung_fev1_percent=90),
            GlobalSeverity.MILD,
            id="CGVHD-01-a",
        ),
        pytest.param(
            ChronicGvhdScores(skin=1, mouth=1, eyes=1), GlobalSeverity.MODERATE, id="CGVHD-01-b"
        ),
        pytest.param(ChronicGvhdScores(mouth=2), GlobalSeverity.MODERATE, id="CGVHD-01-c"),
        pytest.param(
            ChronicGvhdScores(lung_fev1_percent=70), GlobalSeverity.MODERATE, id="CGVHD-01-d"
        ),
        pytest.param(
            ChronicGvhdScores(lung_fev1_percent=50), GlobalSeverity.SEVERE, id="CGVHD-01-e"
        ),
        pytest.param(ChronicGvhdScores(joints_fascia=3), GlobalSeverity.SEVERE, id="CGVHD-01-f"),
        pytest.param(
            ChronicGvhdScores(liver=2, excluded=frozenset({CgvhdOrgan.LIVER})),
            GlobalSeverity.NONE,
            id="CGVHD-01-g",
        ),
    ],
)
def test_vectors(scores: ChronicGvhdScores, severity: GlobalSeverity) -> None:
    result = grade_chronic_gvhd(scores)
    assert result.severity is severity
    assert result.system == "NIH-2014"
    assert result.drivers


def test_cgvhd_01_g_remaining_organs_are_evaluated() -> None:
    scores = ChronicGvhdScores(liver=2, skin=1, excluded=frozenset({"liver"}))  # type: ignore[arg-type]
    result = grade_chronic_gvhd(scores)
    assert result.severity is GlobalSeverity.MILD
    assert result.organ_scores[CgvhdOrgan.LIVER] == 2
    assert CgvhdOrgan.LIVER not in result.counted_organs
    assert result.to_dict()["excluded_organs"] == ["liver"]
    assert "fully explained" in result.notes[0]
    # Not excluded, the same liver score makes it moderate.
    assert grade_chronic_gvhd(replace(scores, excluded=frozenset())).severity is (
        GlobalSeverity.MODERATE
    )


def test_mixed_causes_are_not_down_graded() -> None:
    result = grade_chronic_gvhd(
        ChronicGvhdScores(liver=2, mixed_cause=frozenset({CgvhdOrgan.LIVER}))
    )
    assert result.severity is GlobalSeverity.MODERATE
    assert "without down-grading" in result.notes[0]


@pytest.mark.parametrize(
    ("fev1", "score"),
    [(100, 0), (80, 0), (79.9, 1), (60, 1), (59.9, 2), (40, 2), (39, 3), (10, 3)],
)
def test_fev1_bands(fev1: float, score: int) -> None:
    assert fev1_lung_score(fev1) == score


def test_fev1_bands_are_configurable() -> None:
    stricter = derive(
        CGVHD_PROFILES["nih-2014"], fev1_bands=((85.0, 0), (65.0, 1), (45.0, 2), (0.0, 3))
    )
    assert fev1_lung_score(82, stricter) == 1
    assert (
        grade_chronic_gvhd(ChronicGvhdScores(lung_fev1_percent=62), profile=stricter).severity
        is GlobalSeverity.SEVERE
    )


def test_severity_thresholds_are_data() -> None:
    profile = CGVHD_PROFILES["nih-2014"]
    assert profile.severity == SeverityRules()
    assert any("[U]" in item for item in profile.unconfirmed)
    loose = derive(profile, severity=SeverityRules(moderate_min_organs=4))
    scores = ChronicGvhdScores(skin=1, mouth=1, eyes=1)
    assert grade_chronic_gvhd(scores, profile=loose).severity is GlobalSeverity.MILD


def test_fev1_wins_over_symptom_score() -> None:
    result = grade_chronic_gvhd(ChronicGvhdScores(lung_symptom_score=1, lung_fev1_percent=85))
    assert result.organ_scores[CgvhdOrgan.LUNGS] == 0
    assert result.severity is GlobalSeverity.NONE
    assert "FEV1 score is used" in result.notes[0]
    symptoms_only = grade_chronic_gvhd(ChronicGvhdScores(lung_symptom_score=2))
    assert symptoms_only.severity is GlobalSeverity.SEVERE
    assert symptoms_only.lung_score_basis == "lung symptom score"


def test_higher_skin_score_is_used() -> None:
    result = grade_chronic_gvhd(ChronicGvhdScores(skin=1, skin_features=3))
    assert result.organ_scores[CgvhdOrgan.SKIN] == 3
    assert result.severity is GlobalSeverity.SEVERE


def test_lung_score_1_is_never_mild() -> None:
    assert grade_chronic_gvhd(ChronicGvhdScores(lung_symptom_score=1)).severity is (
        GlobalSeverity.MODERATE
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mouth": 4}, "mouth"),
        ({"skin": -1}, "skin"),
        ({"eyes": 1.5}, "eyes"),
        ({"lung_fev1_percent": -5}, "lung_fev1_percent"),
        ({"excluded": frozenset({"kidney"})}, "excluded"),
        (
            {"excluded": frozenset({"liver"}), "mixed_cause": frozenset({"liver"})},
            "mixed_cause",
        ),
    ],
)
def test_bad_scores(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        ChronicGvhdScores(**kwargs)
    assert caught.value.field == field
