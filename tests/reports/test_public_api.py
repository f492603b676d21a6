"""The public API of mrdtrack.reports is pinned."""

from __future__ import annotations

import mrdtrack.reports as reports


def test_public_api() -> None:
    assert sorted(reports.__all__) == [
        "Cell",
        "CohortReport",
        "FigureBlock",
        "PatientReport",
        "ProvenanceBlock",
        "ReportContext",
        "SampleReport",
        "TableBlock",
        "chromium_path",
        "cohort_report",
        "html_to_pdf",
        "patient_report",
        "provenance_block",
        "redacted_url",
        "sample_report",
        "software_versions",
    ]
    assert all(getattr(reports, name) for name in reports.__all__)


def test_redacted_url_hides_the_password() -> None:
    shown = reports.redacted_url("postgresql+psycopg://ana:secret@db.example/registry")
    assert "secret" not in shown and "ana" in shown
    assert reports.redacted_url("not a url") == "(unparsed database URL)"
