"""The MRD sample report: inputs, QC, result, achieved sensitivity, interpretation."""

from __future__ import annotations

import pytest

from mrdtrack.errors import NotFoundError
from mrdtrack.figures import PatientTimeline
from mrdtrack.registry.database import open_registry
from mrdtrack.reports import ReportContext, sample_report
from mrdtrack.reports.sample import SampleRecord, load_sample
from tests.figures import demo


def _load(sample_id: int) -> SampleRecord:
    registry = open_registry(demo.demo_url())
    try:
        with registry.sessions() as session:
            return load_sample(session, sample_id)
    finally:
        registry.dispose()


def test_a_not_detected_sample(
    timelines: tuple[PatientTimeline, ...], context: ReportContext
) -> None:
    p05 = timelines[4]
    entry = next(r for r in p05.mrd if r.timepoint == "POST_HCT_D35")
    record = _load(entry.sample_id)
    assert record.timeline.study_id == "SEED1-P05" and record.timepoint == "POST_HCT_D35"
    report = sample_report(record, context)
    (result,) = report.results
    assert result.status == "negative"
    assert result.level == "not detected"
    assert entry.sensitivity_fraction is not None
    assert result.sensitivity.startswith("2.0×10⁻⁶")
    assert result.category == "MRD CR"  # in CR (assessment on the same day), sensitivity ≤ 10⁻⁴
    inputs = dict(result.inputs)
    assert inputs["fusion_copies"] == "0" and inputs["control_copies"] == "105,000"
    assert result.reconstructed
    html = report.html
    for text in ("not detected", "Achieved sensitivity", "fusion_copies", "seed1-tpog", "MRD CR"):
        assert text in html


def test_a_positive_sample_shows_its_level(
    timelines: tuple[PatientTimeline, ...], context: ReportContext
) -> None:
    entry = next(r for r in timelines[4].mrd if r.timepoint == "PRE_BLIN")
    (result,) = sample_report(_load(entry.sample_id), context).results
    assert result.status == "positive"
    assert result.level.startswith("6.0×10⁻⁴") and "(0.06 %)" in result.level
    assert result.category == "MRD failure"
    assert any("positive" in reason.lower() for reason in result.reasons)


def test_an_unknown_sample_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="999999"):
        _load(999999)
