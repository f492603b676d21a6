"""The cohort report holds the case series' Table 1 numbers, figures, methods, provenance."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from mrdtrack.errors import InputError
from mrdtrack.figures import PatientTimeline
from mrdtrack.reports import CohortReport, ReportContext, cohort_report
from tests.figures import demo
from tests.registry.test_case_series import TABLE_1

NBSP = "\u00a0"


def _cells(report: CohortReport, table_id: str) -> list[list[str]]:
    return [[str(c) for c in row] for row in report.table(table_id).rows]


@pytest.mark.parametrize("row", range(11), ids=[f"SEED1-P{i + 1:02d}" for i in range(11)])
def test_listing_reproduces_table_1_of_the_paper(report: CohortReport, row: int) -> None:
    age, sex, _, subtype, before, crs, days, regimen, graft, status = TABLE_1[row]
    cells = [c.rstrip("†") for c in _cells(report, "listing")[row]]
    assert cells[0] == f"SEED1-P{row + 1:02d}"
    assert float(cells[1]) == age
    assert cells[2] == sex
    assert cells[3] == subtype
    shown_before = cells[4].replace("−", "–")
    assert shown_before.endswith(before.split()[-1]) if before != "R/R" else shown_before == "R/R"
    assert cells[5] == (f"Gr {crs}" if crs else "No")
    assert cells[6] == ("—" if days is None else str(days))
    assert cells[7] == (regimen or "—")
    assert cells[8] == (graft or "—")
    assert cells[10].replace("−", "–") == status


def test_html_holds_the_table_1_numbers(report: CohortReport) -> None:
    html = report.html
    for value in ("11.5 (3.0–19.0)", "7 / 4", "157 (97–270)", f"9{NBSP}(82{NBSP}%)"):
        assert value in html
    for days in (165, 157, 97, 125, 270):
        assert f">{days}<" in html
    assert "CyBu" in html and "MSD" in html and "DOD" in html
    table1 = _cells(report, "table1")
    age = next(r for r in table1 if r[0].startswith("Age at first blinatumomab"))
    assert age[1] == "11.5 (3–19)"
    female = next(r for r in table1 if r[0].strip() == "female")
    assert female[1] == f"7{NBSP}(64{NBSP}%)"


def test_key_facts_come_from_the_cohort_summary(report: CohortReport) -> None:
    facts = dict(report.key_facts)
    summary = report.summary.to_dict()
    assert facts["Patients"] == "11" == str(summary["n_patients"])
    assert facts["Deaths"] == f"1{NBSP}(9{NBSP}%)"
    assert facts["Patients with a relapse after blinatumomab"] == f"2{NBSP}(18{NBSP}%)"
    assert "simple median 28.0 (range 15.2–52.2)" in facts["Follow-up from diagnosis, months"]


def test_report_is_self_contained_with_one_svg_per_figure(report: CohortReport) -> None:
    html = report.html
    assert html.count("<svg ") == len(report.figures)
    assert {f.id for f in report.figures} >= {
        "swimmer-1",
        "os",
        "efs",
        "efs-by-status",
        "cir",
        "rates",
    }
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    parser = HTMLParser()
    parser.feed(html)  # well-formed enough to parse
    for study_id in (f"SEED1-P{i:02d}" for i in range(1, 12)):
        assert f'id="swimmer-bar-{study_id}"' in html


def test_survival_estimates_and_their_tables(report: CohortReport) -> None:
    endpoints = {d.endpoint.value: d for d in report.endpoints}
    assert endpoints["os"].events == 1 and endpoints["efs"].events == 2
    assert endpoints["cir"].events == 2 and endpoints["cir"].competing_events == 0
    rows = {str(r[0]): r for r in report.table("milestones").rows}
    assert str(rows["Overall survival at 12 months"][1]) == f"90{NBSP}%"
    assert str(rows["Median overall survival, months"][1]) == "not reached"
    assert "reverse Kaplan–Meier" in str(rows["Median follow-up from diagnosis, months"][1])


def test_mrd_response_table(report: CohortReport) -> None:
    rows = {r[0]: r for r in _cells(report, "mrd-response")}
    last = rows["Last result"]
    assert last[1] == "11"
    assert last[2] == f"9{NBSP}(82{NBSP}%)"  # 9 of 11 MRD-negative at last follow-up
    assert last[3] == f"2{NBSP}(18{NBSP}%)"
    assert rows["Before blinatumomab"][3] == f"8{NBSP}(73{NBSP}%)"  # 7 MRD+ and the R/R patient


def test_adverse_event_table(report: CohortReport) -> None:
    rows = [(r[0].strip(), r[1]) for r in _cells(report, "adverse-events")]
    crs = rows[: rows.index(next(r for r in rows if r[0].startswith("ICANS")))]
    assert ("none recorded", f"2{NBSP}(18{NBSP}%)") in crs
    assert ("grade 1", f"7{NBSP}(64{NBSP}%)") in crs
    assert ("grade 2", f"2{NBSP}(18{NBSP}%)") in crs
    assert ("grade ≥ 3", f"0{NBSP}(0{NBSP}%)") in crs
    hypo = next(r for r in rows if r[0].startswith("Hypogammaglobulinemia"))
    assert hypo[1] == f"5{NBSP}(45{NBSP}%)"


def test_methods_are_written_from_what_was_computed(report: CohortReport) -> None:
    text = " ".join(report.methods)
    for phrase in (
        "Kaplan–Meier",
        "Greenwood",
        "log-log",
        "Aalen–Johansen",
        "log-rank test (2 degree(s) of freedom)",
        "reverse Kaplan–Meier",
        "Wilson score",
        "seed1-tpog",
        "ASTCT-2019",
        "mrdtrack 0.1.0",
        "numpy 2.x",
        "time zero: blinatumomab",
    ):
        assert phrase in text, phrase
    assert report.html.count("<p>") >= len(report.methods)


def test_provenance_flags_reconstructed_values(report: CohortReport) -> None:
    tables = {
        name: (rows, flagged, fields) for name, rows, flagged, fields in report.provenance.tables
    }
    assert tables["MRD results (samples)"][:2] == (99, 99)
    assert "whole section (99)" in tables["MRD results (samples)"][2]
    assert report.provenance.sources == (
        ("Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035", 11),
    )
    assert report.table("listing").has_reconstructed
    assert 'class="rc"' in report.html and "Appendix: data provenance" in report.html


def test_text_is_escaped(timelines: tuple[PatientTimeline, ...], context: ReportContext) -> None:
    _, cohort = demo.demo()
    odd = dataclasses.replace(timelines[0], genetic_subtype="<b>bold</b>")
    built = cohort_report([odd, *timelines[1:]], cohort, context, title="<i>T</i>")
    assert "<b>bold</b>" not in built.html and "&lt;b&gt;bold&lt;/b&gt;" in built.html
    assert "&lt;i&gt;T&lt;/i&gt;" in built.html


def test_large_cohorts_are_cut_with_a_note(
    timelines: tuple[PatientTimeline, ...], context: ReportContext
) -> None:
    _, cohort = demo.demo()
    built = cohort_report(timelines, cohort, context, listing_limit=5, swimmer_limit=4)
    assert not any(t.id == "listing" for t in built.tables)
    assert any("listing is left out" in n for n in built.notes)
    assert any("shows the 4 patients with the longest follow-up" in n for n in built.notes)
    assert built.html.count('id="swimmer-bar-') == 4


def test_an_empty_registry_is_refused(context: ReportContext) -> None:
    _, cohort = demo.demo()
    with pytest.raises(InputError, match="mrdtrack demo"):
        cohort_report([], cohort, context)


def test_evidence_section_uses_the_compare_functions(report: CohortReport) -> None:
    html = report.html
    assert "<h2>Evidence</h2>" in html and 'id="evidence-section"' in html
    assert report.evidence is not None and report.evidence.caution in html
    assert 'id="figure-evidence-forest"' in html and "<svg" in report.figure("evidence-forest").svg
    rates = _cells(report, "evidence")
    cohort_mrd = next(r for r in rates if r[0] == "mrd_negative")
    assert cohort_mrd[1] == "9/11" and cohort_mrd[3] == f"52.3–94.9{NBSP}%"
    assert any("RIALTO" in r[0] for r in rates)
    survival = _cells(report, "evidence-survival")
    cohort_os = next(r for r in survival if r[0] == "OS at 48 months" and "registry" in r[1])
    assert cohort_os[2] == "not reached" and "first blinatumomab infusion" in cohort_os[1]
