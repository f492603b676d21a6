"""The patient report: timeline, MRD kinetics, MRD results, doses, grading, labs, outcomes."""

from __future__ import annotations

import pytest

from mrdtrack.figures import PatientTimeline, TimeZero
from mrdtrack.reports import ReportContext, patient_report


@pytest.fixture
def p05(timelines: tuple[PatientTimeline, ...]) -> PatientTimeline:
    return timelines[4]


def test_patient_report_sections(p05: PatientTimeline, context: ReportContext) -> None:
    report = patient_report(p05, context)
    assert [f.id for f in report.figures] == ["timeline", "mrd-kinetics"]
    assert report.html.count("<svg ") == 2
    facts = dict(report.facts)
    assert facts["Status at last follow-up"] == "DOD"
    assert facts["Genetic subtype"] == "TCF3::PBX1"
    assert "diagnosis NCN 4.8" in facts["MRD marker"]
    mrd = report.table("mrd-results")
    assert len(mrd.rows) == len(p05.mrd) == 11
    not_detected = [row for row in mrd.rows if str(row[5]).startswith("not detected")]
    assert len(not_detected) == sum(not r.detected for r in p05.mrd)
    assert all("×10" in str(row[6]) for row in not_detected)  # the achieved sensitivity
    assert "MRD CR" in {str(row[9]) for row in not_detected}


def test_doses_and_grading_history(p05: PatientTimeline, context: ReportContext) -> None:
    report = patient_report(p05, context)
    treatments = [[str(c).rstrip("†") for c in row] for row in report.table("treatments").rows]
    blinatumomab = [r for r in treatments if r[0] == "blinatumomab"]
    assert [r[4] for r in blinatumomab] == ["15 µg/m²/day", "15 µg/m²/day"]
    dli = [r[4] for r in treatments if r[0] == "dli"]
    assert dli == ["CD3⁺ 1.00×10⁷ cells/kg", "CD3⁺ 3.00×10⁷ cells/kg"]
    hct = next(r for r in treatments if r[0] == "hct")
    assert hct[3] == "—" and "MSD" in hct[4] and "CyBu" in hct[4]
    (crs,) = report.table("adverse-events").rows
    assert str(crs[3]).rstrip("†") == "2"
    assert "hypoxia: low-flow" in str(crs[5])
    (igg,) = report.table("labs").rows
    assert str(igg[3]).startswith("normal")
    outcomes = [str(c[0]) for c in report.table("outcomes").rows]
    assert outcomes == ["relapse", "death"]
    assert "samples" in report.html and "†" in report.html


def test_time_zero_changes_the_axis(p05: PatientTimeline, context: ReportContext) -> None:
    report = patient_report(p05, context, time_zero=TimeZero.DIAGNOSIS)
    assert "Months from diagnosis" in report.html
