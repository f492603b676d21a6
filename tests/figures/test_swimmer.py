"""The swimmer SVG: one bar per patient and the right markers, found by element id."""

from __future__ import annotations

import pytest
from matplotlib.patches import Rectangle

from mrdtrack.errors import InputError
from mrdtrack.figures import (
    PatientTimeline,
    SwimmerEvent,
    SwimmerSort,
    element_id,
    swimmer_figure,
    swimmer_pages,
    swimmer_rows,
)
from tests.figures import demo
from tests.figures.svg import element, ids, markers, tree

IDS = [f"SEED1-P{i:02d}" for i in range(1, 12)]
HCT = {"SEED1-P02", "SEED1-P03", "SEED1-P05", "SEED1-P06", "SEED1-P09"}
DLI = {"SEED1-P02": 3, "SEED1-P05": 2, "SEED1-P06": 4, "SEED1-P09": 3}


@pytest.fixture(scope="module")
def root() -> object:
    timelines, _ = demo.demo()
    return tree(swimmer_figure(swimmer_rows(timelines, sort=SwimmerSort.STUDY_ID)))


def test_one_bar_per_patient(root: object) -> None:
    assert ids(root, "swimmer-bar-") == [f"swimmer-bar-{i}" for i in IDS]  # type: ignore[arg-type]


@pytest.mark.parametrize("study_id", IDS)
def test_markers_of_each_patient(root: object, study_id: str) -> None:
    drawn = set(ids(root, "swimmer-"))  # type: ignore[arg-type]
    assert (f"swimmer-hct-{study_id}" in drawn) is (study_id in HCT)
    if study_id in DLI:
        assert markers(root, f"swimmer-dli-{study_id}") == DLI[study_id]  # type: ignore[arg-type]
    else:
        assert f"swimmer-dli-{study_id}" not in drawn
    died = study_id == "SEED1-P05"
    assert (f"swimmer-death-{study_id}" in drawn) is died
    assert (f"swimmer-censored-{study_id}" in drawn) is not died
    assert (f"swimmer-ongoing-{study_id}" in drawn) is not died
    relapsed = study_id in ("SEED1-P04", "SEED1-P05")
    assert (f"swimmer-relapse-{study_id}" in drawn) is relapsed
    # Two blinatumomab cycles per patient (TPOG schedule, SEED-1).
    assert sum(1 for i in drawn if i.startswith(f"swimmer-segment-blinatumomab-{study_id}-")) == 2


def test_mrd_markers_match_the_rows(root: object) -> None:
    timelines, _ = demo.demo()
    for row in swimmer_rows(timelines).rows:
        for kind in (SwimmerEvent.MRD_POSITIVE, SwimmerEvent.MRD_NEGATIVE, SwimmerEvent.CR):
            expected = len(row.markers_of(kind))
            gid = f"swimmer-{kind.value}-{row.study_id}"
            if expected:
                assert markers(root, gid) == expected  # type: ignore[arg-type]
            else:
                assert gid not in ids(root, gid)  # type: ignore[arg-type]


def test_crs_grades_are_drawn_as_digits(root: object) -> None:
    crs = ids(root, "swimmer-crs-")  # type: ignore[arg-type]
    assert len(crs) == 9  # 7 grade 1 and 2 grade 2 (Table 1)
    element(root, "swimmer-crs-SEED1-P05-0")  # type: ignore[arg-type]


def test_bar_lengths_are_the_follow_up(timelines: tuple[PatientTimeline, ...]) -> None:
    cohort = swimmer_rows(timelines, sort=SwimmerSort.STUDY_ID)
    figure = swimmer_figure(cohort)
    (ax,) = figure.axes
    bars = {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle)}
    for row in cohort.rows:
        assert bars[f"swimmer-bar-{row.study_id}"].get_width() == pytest.approx(row.end_month)
    assert ax.get_xlim()[1] > max(r.end_month for r in cohort.rows)


def test_pages_share_one_time_axis() -> None:
    timelines, _ = demo.synthetic()
    cohort = swimmer_rows(timelines)
    pages = swimmer_pages(cohort, rows_per_page=40)
    assert len(pages) == -(-len(cohort.rows) // 40)
    limits = {page.axes[0].get_xlim() for page in pages}
    assert len(limits) == 1
    bars = [
        sum(1 for p in page.axes[0].patches if str(p.get_gid()).startswith("swimmer-bar-"))
        for page in pages
    ]
    assert sum(bars) == len(cohort.rows) and max(bars) == 40


def test_too_many_bars_for_one_page_are_refused() -> None:
    timelines, _ = demo.synthetic()
    with pytest.raises(InputError, match="swimmer_pages"):
        swimmer_figure(swimmer_rows(timelines))
    with pytest.raises(InputError, match="rows_per_page"):
        swimmer_pages(swimmer_rows(timelines), rows_per_page=0)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param(("swimmer-bar", "SEED1-P01"), "swimmer-bar-SEED1-P01", id="plain"),
        pytest.param(("swimmer-bar", "A/B 7"), "swimmer-bar-A_B_7", id="unsafe"),
    ],
)
def test_element_ids(parts: tuple[str, ...], expected: str) -> None:
    assert element_id(*parts) == expected
