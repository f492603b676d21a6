"""Acute GVHD organ staging: the exact boundaries of domain rules §8.1 and the MAGIC rules."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    AGVHD_PROFILES,
    AcuteGvhdFindings,
    Cutoff,
    stage_acute_gvhd,
)
from mrdtrack.grading.agvhd_staging import stage_for

KEYSTONE = AGVHD_PROFILES["glucksberg-keystone-1994"].staging
MAGIC = AGVHD_PROFILES["magic-2016"].staging


@pytest.mark.parametrize(
    ("bilirubin", "stage"),
    [
        (0.0, 0),
        (1.99, 0),
        (2.0, 1),
        pytest.param(3.0, 1, id="AGVHD-02-i"),
        (3.01, 2),
        (6.0, 2),
        (6.01, 3),
        (15.0, 3),
        (15.01, 4),
    ],
)
def test_liver_boundaries(bilirubin: float, stage: int) -> None:
    assert stage_acute_gvhd(AcuteGvhdFindings(bilirubin_mg_dl=bilirubin), KEYSTONE).liver == stage


@pytest.mark.parametrize(
    ("rash", "stage"),
    [(0.0, 0), (0.5, 1), (24.9, 1), (25.0, 2), (50.0, 2), (50.1, 3), (100.0, 3)],
)
def test_skin_boundaries(rash: float, stage: int) -> None:
    findings = AcuteGvhdFindings(skin_rash_bsa_percent=rash)
    assert stage_acute_gvhd(findings, KEYSTONE).skin == stage
    assert stage_acute_gvhd(findings, MAGIC).skin == stage


@pytest.mark.parametrize(
    ("volume", "stage"),
    [(0, 0), (499, 0), (500, 1), (999, 1), (1000, 2), (1500, 2), (1501, 3)],
)
def test_adult_stool_boundaries(volume: float, stage: int) -> None:
    findings = AcuteGvhdFindings(diarrhea_ml_per_day=volume)
    assert stage_acute_gvhd(findings, KEYSTONE).lower_gi == stage


@pytest.mark.parametrize(
    ("volume", "stage"),
    [(9.9, 0), (10, 1), (19.9, 1), (20, 2), (30, 2), (30.1, 3)],
)
def test_child_stool_boundaries(volume: float, stage: int) -> None:
    findings = AcuteGvhdFindings(diarrhea_ml_per_kg_day=volume, weight_kg=25)
    stages = stage_acute_gvhd(findings, KEYSTONE)
    assert stages.lower_gi == stage
    assert stages.child_stool_thresholds


def test_agvhd_02_e_child_volume_is_converted_per_kg() -> None:
    stages = stage_acute_gvhd(AcuteGvhdFindings(diarrhea_ml_per_day=500, weight_kg=20), KEYSTONE)
    assert stages.lower_gi == 2
    assert "25 mL/kg/day" in " ".join(stages.notes)


@pytest.mark.parametrize(
    ("weight", "volume", "stage", "child"),
    [
        pytest.param(60.0, 700, 1, False, id="AGVHD-02-h"),
        pytest.param(50.1, 1200, 2, False, id="just-over-50-kg-adult"),
        # Exactly 50 kg is not > 50: child thresholds, 1200 / 50 = 24 mL/kg/day.
        pytest.param(50.0, 1200, 2, True, id="50-kg-child"),
    ],
)
def test_adult_thresholds_above_50_kg(
    weight: float, volume: float, stage: int, child: bool
) -> None:
    stages = stage_acute_gvhd(
        AcuteGvhdFindings(diarrhea_ml_per_day=volume, weight_kg=weight), KEYSTONE
    )
    assert stages.lower_gi == stage
    assert stages.child_stool_thresholds is child


def test_per_kg_volume_of_a_heavier_patient_uses_adult_thresholds() -> None:
    stages = stage_acute_gvhd(AcuteGvhdFindings(diarrhea_ml_per_kg_day=15, weight_kg=80), KEYSTONE)
    assert not stages.child_stool_thresholds
    assert stages.lower_gi == 2  # 1200 mL/day


def test_stool_mixed_with_urine_counts_half() -> None:
    findings = AcuteGvhdFindings(diarrhea_ml_per_day=1200, stool_mixed_with_urine=True)
    assert stage_acute_gvhd(findings, KEYSTONE).lower_gi == 1


@pytest.mark.parametrize(
    ("findings", "stage"),
    [
        (AcuteGvhdFindings(severe_abdominal_pain=True), 4),
        (AcuteGvhdFindings(grossly_bloody_stool=True, diarrhea_ml_per_day=100), 4),
    ],
)
def test_gi_stage_4(findings: AcuteGvhdFindings, stage: int) -> None:
    assert stage_acute_gvhd(findings, KEYSTONE).lower_gi == stage
    assert stage_acute_gvhd(findings, MAGIC).lower_gi == stage


@pytest.mark.parametrize(("episodes", "stage"), [(2, 0), (3, 1), (4, 1), (5, 2), (7, 2), (8, 3)])
def test_magic_adult_episode_counts(episodes: int, stage: int) -> None:
    findings = AcuteGvhdFindings(stool_episodes_per_day=episodes)
    assert stage_acute_gvhd(findings, MAGIC).lower_gi == stage
    # 200 mL per unquantified episode gives the same stage by volume.
    assert stage_acute_gvhd(findings, KEYSTONE).lower_gi == stage


@pytest.mark.parametrize(("episodes", "stage"), [(3, 0), (4, 1), (6, 1), (7, 2), (10, 2), (11, 3)])
def test_magic_child_episode_counts(episodes: int, stage: int) -> None:
    findings = AcuteGvhdFindings(stool_episodes_per_day=episodes, weight_kg=20)
    assert stage_acute_gvhd(findings, MAGIC).lower_gi == stage
    # 3 mL/kg per episode for children < 50 kg gives the same stage by volume.
    assert stage_acute_gvhd(findings, KEYSTONE).lower_gi == stage


def test_unquantified_episodes_add_to_a_measured_volume() -> None:
    findings = AcuteGvhdFindings(diarrhea_ml_per_day=400, stool_episodes_per_day=1)
    assert stage_acute_gvhd(findings, MAGIC).lower_gi == 1  # 400 + 200 mL


def test_skin_stage_4_bullae() -> None:
    bullae = AcuteGvhdFindings(bullae_desquamation_bsa_percent=10)
    assert stage_acute_gvhd(bullae, KEYSTONE).skin == 4
    # MAGIC also needs generalized erythroderma (> 50 % BSA).
    assert stage_acute_gvhd(bullae, MAGIC).skin == 0
    assert "erythroderma" in " ".join(stage_acute_gvhd(bullae, MAGIC).notes)
    both = AcuteGvhdFindings(skin_rash_bsa_percent=60, bullae_desquamation_bsa_percent=10)
    assert stage_acute_gvhd(both, MAGIC).skin == 4
    exactly_5 = AcuteGvhdFindings(bullae_desquamation_bsa_percent=5)
    assert stage_acute_gvhd(exactly_5, KEYSTONE).skin == 0


def test_upper_gi() -> None:
    symptoms = AcuteGvhdFindings(upper_gi_symptoms=True)
    assert stage_acute_gvhd(symptoms, KEYSTONE).gut == 0
    assert stage_acute_gvhd(symptoms, MAGIC).upper_gi == 1
    assert stage_acute_gvhd(symptoms, MAGIC).gut == 0
    proven = AcuteGvhdFindings(upper_gi_symptoms=True, upper_gi_biopsy_positive=True)
    assert stage_acute_gvhd(proven, KEYSTONE).gut == 1


def test_liver_other_cause_is_not_down_staged_by_default() -> None:
    findings = AcuteGvhdFindings(bilirubin_mg_dl=4.5, liver_other_cause=True)
    stages = stage_acute_gvhd(findings, KEYSTONE)
    assert stages.liver == 2
    assert "not down-staged" in " ".join(stages.notes)


def test_missing_measurements_are_named() -> None:
    notes = " ".join(stage_acute_gvhd(AcuteGvhdFindings(), KEYSTONE).notes)
    assert "bilirubin not given" in notes
    assert "stool output not given" in notes


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"skin_rash_bsa_percent": 120}, "skin_rash_bsa_percent"),
        ({"skin_rash_bsa_percent": -1}, "skin_rash_bsa_percent"),
        ({"bullae_desquamation_bsa_percent": 101}, "bullae_desquamation_bsa_percent"),
        ({"bilirubin_mg_dl": -0.5}, "bilirubin_mg_dl"),
        ({"diarrhea_ml_per_day": -10}, "diarrhea_ml_per_day"),
        ({"diarrhea_ml_per_kg_day": float("inf")}, "diarrhea_ml_per_kg_day"),
        ({"weight_kg": 0}, "weight_kg"),
        ({"stool_episodes_per_day": 2.5}, "stool_episodes_per_day"),
        ({"diarrhea_ml_per_day": 500, "diarrhea_ml_per_kg_day": 10}, "diarrhea_ml_per_kg_day"),
    ],
)
def test_bad_findings(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as caught:
        AcuteGvhdFindings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_stage_for_operators() -> None:
    cutoffs = (Cutoff(1, 10.0, True), Cutoff(2, 20.0, False))
    assert stage_for(9.99, cutoffs) == (0, None)
    assert stage_for(10.0, cutoffs)[0] == 1
    assert stage_for(20.0, cutoffs)[0] == 1
    assert stage_for(20.01, cutoffs)[0] == 2
