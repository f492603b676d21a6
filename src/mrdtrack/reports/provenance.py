"""The data-provenance appendix: where the data came from and what was reconstructed.

Registry rows carry their ``source`` and the dotted paths of values a source did not state
(``reconstructed``; docs/demo-cohort.md). The appendix counts, per registry table, the
rows that hold a reconstructed value (a whole section marked on the patient, such as
``samples``, covers each of its rows) and lists each patient's reconstructed paths.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from mrdtrack.figures.timeline import PatientTimeline

__all__ = ["ProvenanceBlock", "provenance_block"]

_SECTIONS: tuple[tuple[str, str], ...] = (
    ("treatments", "Treatment courses"),
    ("assessments", "Disease assessments"),
    ("samples", "MRD results (samples)"),
    ("adverse_events", "Adverse events"),
    ("lab_values", "Laboratory values"),
    ("outcomes", "Outcome events"),
)


@dataclass(frozen=True, slots=True)
class ProvenanceBlock:
    """Sources, per-table counts and per-patient reconstructed paths.

    ``tables`` rows: (table, rows, rows with a reconstructed value, which fields in how
    many rows); ``patients`` rows: (study id, reconstructed paths) for at most ``listed``
    patients.
    """

    sources: tuple[tuple[str, int], ...]
    tables: tuple[tuple[str, int, int, str], ...]
    patients: tuple[tuple[str, tuple[str, ...]], ...]
    patients_with_reconstructed: int
    listed: int
    total_patients: int


def provenance_block(timelines: Sequence[PatientTimeline], *, listed: int = 50) -> ProvenanceBlock:
    """Build the appendix for ``timelines`` (at most ``listed`` patients listed by name)."""
    sources = Counter(t.source or "not recorded" for t in timelines)
    births = sum(1 for t in timelines if "birth_date" in t.reconstructed)
    diagnosis_fields: Counter[str] = Counter()
    for t in timelines:
        diagnosis_fields.update({_field(p) for p in t.diagnosis_reconstructed})
    tables: list[tuple[str, int, int, str]] = [
        ("Patients", len(timelines), births, _fields(Counter({"birth_date": births}))),
        (
            "Diagnoses",
            sum(1 for t in timelines if t.diagnosis_date is not None),
            sum(1 for t in timelines if t.diagnosis_reconstructed),
            _fields(diagnosis_fields),
        ),
    ]
    for section, label in _SECTIONS:
        total = 0
        flagged = 0
        fields: Counter[str] = Counter()
        for t in timelines:
            entries = t.mrd if section == "samples" else getattr(t, section)
            whole = t.section_reconstructed(section)
            total += len(entries)
            for entry in entries:
                if whole:
                    fields["whole section"] += 1
                elif entry.reconstructed:
                    fields.update({_field(p) for p in entry.reconstructed})
                flagged += bool(whole or entry.reconstructed)
        tables.append((label, total, flagged, _fields(fields)))
    patients = [(t.study_id, t.all_reconstructed) for t in timelines if t.all_reconstructed]
    return ProvenanceBlock(
        sources=tuple(sorted(sources.items())),
        tables=tuple(tables),
        patients=tuple(patients[:listed]),
        patients_with_reconstructed=len(patients),
        listed=min(listed, len(patients)),
        total_patients=len(timelines),
    )


def _field(path: str) -> str:
    """``treatments[2].details.donor_type`` → ``details``; ``treatments[2]`` → whole row."""
    _, dot, tail = path.partition(".")
    return tail.split(".", 1)[0] if dot else "whole row"


def _fields(counts: Counter[str]) -> str:
    return ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()) if n) or "—"
