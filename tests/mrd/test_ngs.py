"""NGS clonotype MRD: rules NGS-01 and NGS-02 (domain rules §4)."""

import pytest

from mrdtrack.errors import InputError
from mrdtrack.mrd import (
    NGS_PROFILES,
    MrdStatus,
    QcFlag,
    SequenceCombination,
    cells_from_dna,
    derive,
    ngs_limit_of_detection,
    ngs_mrd,
)


def test_cells_from_dna_NGS_02_e() -> None:
    assert cells_from_dna(6_500) == pytest.approx(1.0e6)


def test_cells_floor_and_lod_NGS_02_a() -> None:
    cells = cells_from_dna(20_000)
    assert cells == pytest.approx(3.08e6, rel=1e-3)
    assert 1 / cells == pytest.approx(3.3e-7, rel=0.02)
    assert ngs_limit_of_detection(cells) == pytest.approx(9.8e-7, rel=0.01)


def test_four_templates_in_20_ug_is_positive_NGS_02_b() -> None:
    result = ngs_mrd(clonal_cells=[4], dna_input_ng=20_000)
    assert result.status is MrdStatus.POSITIVE
    assert result.mrd_fraction == pytest.approx(1.3e-6, rel=0.01)
    assert result.details["mrd_per_million"] == pytest.approx(1.3, rel=0.01)


@pytest.mark.parametrize(
    ("dna_ng", "negative_at"),
    [pytest.param(20_000, 1e-6, id="NGS-02-c"), pytest.param(2_000, 1e-5, id="NGS-02-d")],
)
def test_negative_is_labelled_at_the_level_its_lod_supports(
    dna_ng: float, negative_at: float
) -> None:
    result = ngs_mrd(clonal_cells=[0], dna_input_ng=dna_ng)
    assert result.status is MrdStatus.NEGATIVE
    assert not result.detected and result.mrd_fraction is None
    assert result.details["negative_at_fraction"] == pytest.approx(negative_at)


def test_low_input_negative_has_insufficient_sensitivity() -> None:
    result = ngs_mrd(clonal_cells=[0], dna_input_ng=100)  # 15,385 cells: LoD ~2e-4
    assert result.has_flag(QcFlag.INSUFFICIENT_SENSITIVITY)


def test_lab_lod_and_loq_replace_the_estimates() -> None:
    result = ngs_mrd(
        clonal_cells=[2], cells_evaluated=1e6, lab_lod_fraction=1e-6, lab_loq_fraction=5e-6
    )
    assert result.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE
    assert result.sensitivity_fraction == pytest.approx(1e-6)


def test_several_sequences_combine_by_profile_rule() -> None:
    highest = ngs_mrd(clonal_cells=[3, 5], cells_evaluated=1e6)
    summed = ngs_mrd(
        clonal_cells=[3, 5],
        cells_evaluated=1e6,
        profile=derive(NGS_PROFILES["clonoseq-style"], combine=SequenceCombination.SUM),
    )
    assert highest.mrd_fraction == pytest.approx(5e-6)
    assert summed.mrd_fraction == pytest.approx(8e-6)
    assert "combine=sum" in summed.profile


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"clonal_cells": [1]}, "dna_input_ng / cells_evaluated", id="no-denominator"),
        pytest.param(
            {"clonal_cells": [1], "dna_input_ng": 1, "cells_evaluated": 1},
            "dna_input_ng / cells_evaluated",
            id="both",
        ),
        pytest.param({"clonal_cells": [], "dna_input_ng": 10}, "clonal_cells", id="no-sequences"),
        pytest.param({"clonal_cells": [-1], "dna_input_ng": 10}, "clonal_cells", id="negative"),
        pytest.param(
            {"clonal_cells": [1e9], "dna_input_ng": 10}, "clonal_cells", id="more-than-cells"
        ),
        pytest.param({"clonal_cells": [1], "dna_input_ng": 0}, "dna_input_ng", id="zero-dna"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        ngs_mrd(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field
