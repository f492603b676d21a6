"""Reports assembled from the registry: cohort, patient and MRD-sample reports, HTML and PDF.

Each report is one self-contained HTML page (figures inlined as SVG, styles inline, no
external resources) rendered from Jinja2 templates with autoescaping; :func:`html_to_pdf`
prints it with headless Chromium. Reports only lay out what other packages computed:
estimates from :mod:`mrdtrack.outcomes`, MRD values stored by the MRD engine, grades from
:mod:`mrdtrack.grading`, figures from :mod:`mrdtrack.figures`. Every report carries a
methods text written from what was computed and flags values a source did not state.
"""

from mrdtrack.reports.cohort import CohortReport, FigureBlock, cohort_report
from mrdtrack.reports.patient import PatientReport, patient_report
from mrdtrack.reports.pdf import chromium_path, html_to_pdf
from mrdtrack.reports.provenance import ProvenanceBlock, provenance_block
from mrdtrack.reports.rendering import Cell, ReportContext, redacted_url, software_versions
from mrdtrack.reports.sample import SampleReport, sample_report
from mrdtrack.reports.tables import TableBlock

__all__ = [
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
