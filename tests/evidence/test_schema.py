"""The curated trials file: it validates, every entry is cited, values match the review."""

from __future__ import annotations

import pytest

from mrdtrack.errors import NotFoundError, ProtocolError
from mrdtrack.evidence import Measure, Population, Setting, TrialValue, load_evidence
from mrdtrack.evidence.schema import load_evidence_text

REQUIRED_IDS = {
    "tower", "pooled-5-trials", "20120215", "rialto", "aall1331", "blast",
    "mdacc-mrd-phase2", "graall-real-world", "neuf-rr", "neuf-mrd", "alcantara", "e1910",
    "graall-2014-quest", "graall-2014-questb", "d-alba", "wang-2024-case-series",
}  # fmt: skip


def _value(trial_id: str, measure: Measure, **match: object) -> TrialValue:
    found = [
        v
        for v in load_evidence().get(trial_id).values
        if v.measure is measure and all(getattr(v, k) == m for k, m in match.items())
    ]
    assert len(found) == 1, found
    return found[0]


def test_the_shipped_file_validates_and_holds_the_required_trials() -> None:
    evidence = load_evidence()
    assert set(evidence.ids) >= REQUIRED_IDS
    assert evidence.unconfirmed


def test_every_entry_has_a_citation_with_doi_or_pmid_and_sources() -> None:
    for trial in load_evidence().trials:
        assert trial.citation.authors and trial.citation.journal and trial.citation.year
        assert trial.citation.doi or trial.citation.pmid, trial.id
        assert all(v.source for v in trial.values), trial.id


@pytest.mark.parametrize(
    ("trial_id", "measure", "match", "expected"),
    [
        # Table 1, TOWER: "CR rate % 16 (chemo) 34 (Blina)"
        ("tower", Measure.CR, {"arm": "blinatumomab"}, 34.0),
        # Table 1, 20120215: "4-yr EFS 43% Chemo 69% Blina"
        ("20120215", Measure.EFS, {"arm": "blinatumomab"}, 69.0),
        # Table 1, RIALTO: "CRS 1.8% NE 3.6%"
        ("rialto", Measure.CRS, {}, 1.8),
        # Text: "in the first cycle ... 93% of Ph- and 64% of Ph+ patients achieved an MRD
        # response (MRD < 0.01%)"
        ("neuf-mrd", Measure.MRD_NEGATIVE, {"subgroup": "Ph-positive"}, 64.0),
        # Table 3, QUEST-B: "2.5 years CIR 20% (Blina) 41% (Chemo)"
        ("graall-2014-questb", Measure.CIR, {"arm": "chemotherapy"}, 41.0),
        # Table 3, D-ALBA: "4-year 80.7%"
        ("d-alba", Measure.OS, {"horizon_months": 48.0}, 80.7),
    ],
    ids=["tower-cr", "20120215-efs", "rialto-crs", "neuf-ph+", "questb-cir", "dalba-os"],
)
def test_spot_checks_against_the_review(
    trial_id: str, measure: Measure, match: dict[str, object], expected: float
) -> None:
    assert _value(trial_id, measure, **match).percent == expected


def test_counts_quoted_in_the_text() -> None:
    # "16/45 patients achieved a CR within the first two cycles of Blinatumomab therapy"
    cr = _value("alcantara", Measure.CR)
    assert (cr.k, cr.n) == (16, 45)
    # Case report: "nine patients (82%) were MRD-negative at the first time point"
    mrd = _value("wang-2024-case-series", Measure.MRD_NEGATIVE)
    assert (mrd.k, mrd.n) == (9, 11) and round(mrd.rate_percent or 0) == 82
    # Table 1, TOWER: "mOS 4.0 mo (chemo) 7.7 mo (Blina)"
    assert _value("tower", Measure.OS, arm="blinatumomab").median_months == 7.7


def test_review_errors_are_notes_not_data() -> None:
    evidence = load_evidence()
    blast = evidence.get("blast")
    # domain-rules §12 #8: BLAST's CRS/NE cells copied from TOWER are not recorded.
    assert not [v for v in blast.values if v.measure in (Measure.CRS, Measure.HSCT)]
    assert any("TOWER" in n for n in blast.notes)
    assert any("§12 #2" in n for n in evidence.get("e1910").notes)
    assert not evidence.get("e1910").values
    assert any("reversed" in n for n in evidence.get("graall-2014-quest").notes)


def test_select_by_setting_and_population() -> None:
    trials = load_evidence().select(
        settings=[Setting.MRD_POSITIVE], population=Population.PEDIATRIC
    )
    assert {t.id for t in trials} == {"gu-ngs-pediatric", "wang-2024-case-series"}


def test_unknown_id_lists_the_known() -> None:
    with pytest.raises(NotFoundError, match="known: tower"):
        load_evidence().get("nope")


_MINIMAL = """
id: t
version: "1"
effective_date: "2024-01-01"
source: s
trials:
  - id: a
    name: A
    design: d
    setting: mrd_positive
    population: adult
    source: Table 1
    citation: {authors: X Y, title: T, journal: J, year: 2020, doi: 10.1/x}
    values:
      - {measure: cr, percent: 50, source: Table 1}
"""


def test_minimal_document_loads() -> None:
    assert load_evidence_text(_MINIMAL).get("a").values[0].percent == 50.0


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("percent: 50", "percent: 150", "trials[0].values[0].percent"),
        ("doi: 10.1/x", "journal2: x", "trials[0].citation.journal2"),
        ("setting: mrd_positive", "setting: other", "trials[0].setting"),
        ("measure: cr, percent: 50", "measure: cr", "trials[0].values[0]"),
        ("{measure: cr,", "{measure: cr, grade_min: 3,", "trials[0].values[0].grade_min"),
        ("percent: 50, source: Table 1", "percent: 50", "trials[0].values[0].source"),
    ],
    ids=["percent-range", "unknown-key", "setting", "no-number", "grade-on-cr", "no-source"],
)
def test_invalid_documents_name_file_and_key(old: str, new: str, key: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        load_evidence_text(_MINIMAL.replace(old, new), origin="x.yaml")
    assert raised.value.source == "x.yaml" and raised.value.key == key


def test_missing_citation_identifier_is_refused() -> None:
    with pytest.raises(ProtocolError, match="doi or a pmid"):
        load_evidence_text(_MINIMAL.replace(", doi: 10.1/x", ""))
