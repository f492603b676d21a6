"""BCR::ABL1 International Scale and MR levels: rule PCR-08 (domain rules §1.8, §1.5)."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd import MolecularResponse, Transcript, international_scale


def test_is_conversion_PCR_08_a() -> None:
    # raw ratio 0.05 % × CF 0.8 → 0.040 % IS
    result = international_scale(bcr_abl1_copies=50, abl1_copies=100_000, conversion_factor=0.8)
    assert result.percent_is == pytest.approx(0.040)
    assert result.reached(MolecularResponse.MMR)
    assert not result.reached(MolecularResponse.MR4)
    assert result.level is MolecularResponse.MMR


def test_undetectable_scored_by_abl1_copies_PCR_05_c() -> None:
    result = international_scale(bcr_abl1_copies=0, abl1_copies=25_000, conversion_factor=1.0)
    assert result.percent_is is None
    assert result.reached(MolecularResponse.MR4)
    assert not result.reached(MolecularResponse.MR4_5)
    assert result.level is MolecularResponse.MR4


@pytest.mark.parametrize(
    ("abl1", "level"),
    [
        pytest.param(9_999, MolecularResponse.MMR, id="below-MR4-copies"),
        pytest.param(10_000, MolecularResponse.MR4, id="MR4-boundary"),
        pytest.param(32_000, MolecularResponse.MR4_5, id="MR4.5-boundary"),
        pytest.param(100_000, MolecularResponse.MR5, id="MR5-boundary"),
    ],
)
def test_undetectable_depth_boundaries(abl1: float, level: MolecularResponse) -> None:
    assert (
        international_scale(bcr_abl1_copies=0, abl1_copies=abl1, conversion_factor=1.0).level
        is level
    )


@pytest.mark.parametrize(
    ("percent_raw", "level"),
    [
        pytest.param(0.2, MolecularResponse.NONE, id="no-MMR"),
        pytest.param(0.1, MolecularResponse.MMR, id="MMR-boundary"),
        pytest.param(0.01, MolecularResponse.MR4, id="MR4-boundary"),
        pytest.param(0.0032, MolecularResponse.MR4_5, id="MR4.5-boundary"),
        pytest.param(0.001, MolecularResponse.MR5, id="MR5-boundary"),
    ],
)
def test_detectable_levels(percent_raw: float, level: MolecularResponse) -> None:
    abl1 = 1_000_000
    result = international_scale(
        bcr_abl1_copies=percent_raw / 100 * abl1, abl1_copies=abl1, conversion_factor=1.0
    )
    assert result.level is level


def test_p190_is_refused() -> None:
    with pytest.raises(InputError, match="p210"):
        international_scale(
            bcr_abl1_copies=10,
            abl1_copies=50_000,
            conversion_factor=1.0,
            transcript=Transcript.BCR_ABL1_P190,
        )
