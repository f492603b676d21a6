"""Ig/TR RQ-PCR result categories: rule IGTR-02 (§2), assay QR 10⁻⁴ and sensitivity 10⁻⁵."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd import (
    MrdResponseCategory,
    MrdStatus,
    QcFlag,
    fit_standard_curve,
    igtr_levels_from_ct,
    igtr_mrd,
    mrd_response,
)


@pytest.mark.parametrize(
    ("levels", "sensitivity", "status", "response"),
    [
        pytest.param(
            [3e-4, 3e-4, 3e-4],
            1e-5,
            MrdStatus.POSITIVE,
            MrdResponseCategory.MRD_FAILURE,
            id="IGTR-02-a",
        ),
        pytest.param(
            [4e-5, None, None],
            1e-5,
            MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="IGTR-02-b",
        ),
        pytest.param(
            [None, None, None], 1e-5, MrdStatus.NEGATIVE, MrdResponseCategory.MRD_CR, id="IGTR-02-c"
        ),
        pytest.param(
            [None, None, None],
            1e-3,
            MrdStatus.NEGATIVE,
            MrdResponseCategory.MRD_INTERMEDIATE,
            id="IGTR-02-d",
        ),
    ],
)
def test_vectors(
    levels: list[float | None], sensitivity: float, status: MrdStatus, response: MrdResponseCategory
) -> None:
    qr = max(1e-4, sensitivity)
    result = igtr_mrd(
        replicate_levels=levels,
        quantitative_range_fraction=qr,
        assay_sensitivity_fraction=sensitivity,
    )
    assert result.status is status
    assert mrd_response(result, in_hematologic_cr=True).category is response
    if status is MrdStatus.NEGATIVE:
        assert result.sensitivity_fraction == sensitivity
        assert result.mrd_fraction is None
    if sensitivity > 1e-4:
        assert result.has_flag(QcFlag.INSUFFICIENT_SENSITIVITY)


def test_discordant_replicates_are_not_quantifiable() -> None:
    result = igtr_mrd(
        replicate_levels=[3e-4, 2e-4, 3e-4],
        replicate_cts=[30.0, 32.0, 30.1],
        quantitative_range_fraction=1e-4,
        assay_sensitivity_fraction=1e-5,
    )
    assert result.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE
    assert result.has_flag(QcFlag.REPLICATE_DISCORDANCE)


def test_levels_from_ct_on_a_dilution_curve() -> None:
    curve = fit_standard_curve([-1.0, -2.0, -3.0, -4.0, -5.0], [24.0, 27.3, 30.6, 33.9, 37.2])
    levels = igtr_levels_from_ct([30.6, None], curve)
    assert levels[0] == pytest.approx(1e-3, rel=1e-6)
    assert levels[1] is None


def test_sensitivity_worse_than_qr_is_refused() -> None:
    with pytest.raises(InputError, match="assay_sensitivity_fraction"):
        igtr_mrd(
            replicate_levels=[None],
            quantitative_range_fraction=1e-4,
            assay_sensitivity_fraction=1e-3,
        )
