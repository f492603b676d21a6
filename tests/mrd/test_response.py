"""ASH 2021 MRD response categories: rule RESP-MRD (domain rules §5.3)."""

import pytest

from mrdtrack.mrd import (
    FLOW_PROFILES,
    MrdResponseCategory,
    MrdResult,
    flow_mrd,
    mrd_response,
    qpcr_mrd,
)

LOD = FLOW_PROFILES["lod20-lloq50"]


@pytest.mark.parametrize(
    ("result", "in_cr", "category"),
    [
        pytest.param(
            flow_mrd(leukemic_events=0, total_events=5_000_000, profile=LOD),
            True,
            MrdResponseCategory.MRD_CR,
            id="RESP-01",
        ),
        pytest.param(
            qpcr_mrd(
                fusion_copies=3,
                control_copies=100_000,
                diagnosis_ncn=1.59,
                replicates=2,
                fusion_positive_replicates=1,
                lowest_quantifiable_copies=5,
            ),
            True,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="RESP-02",
        ),
        pytest.param(
            flow_mrd(leukemic_events=40, total_events=200_000),
            True,
            MrdResponseCategory.MRD_FAILURE,
            id="RESP-03",
        ),
        pytest.param(
            qpcr_mrd(fusion_copies=0, control_copies=20_000, diagnosis_ncn=0.02),
            True,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="RESP-04",
        ),
        pytest.param(
            flow_mrd(leukemic_events=40, total_events=200_000),
            False,
            MrdResponseCategory.NOT_EVALUABLE,
            id="RESP-05",
        ),
        pytest.param(
            flow_mrd(leukemic_events=37, total_events=4_200_000, profile=LOD),
            True,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="FLOW-02-e",
        ),
        pytest.param(
            flow_mrd(leukemic_events=120, total_events=4_200_000, profile=LOD),
            True,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="FLOW-02-f",
        ),
        pytest.param(
            flow_mrd(leukemic_events=0, total_events=80_000),
            True,
            MrdResponseCategory.NOT_EVALUABLE,
            id="not-evaluable-sample",
        ),
    ],
)
def test_vectors(result: MrdResult, in_cr: bool, category: MrdResponseCategory) -> None:
    response = mrd_response(result, in_hematologic_cr=in_cr)
    assert response.category is category
    assert response.positive_threshold == "MRD-POS-1E-4"


def test_flow_value_of_exactly_1e_4_is_failure_under_ge() -> None:
    result = flow_mrd(leukemic_events=20, total_events=200_000)
    assert mrd_response(result, in_hematologic_cr=True).category is MrdResponseCategory.MRD_FAILURE
