"""Table 1 of the cohort report, summarised and tested by :mod:`mrdtrack.outcomes.table1`.

The report only gathers one value per patient and variable from the timelines;
:func:`mrdtrack.outcomes.table1.table_one` computes the medians, ranges and counts (and,
with groups, chooses and runs the test). Variables: age at the first blinatumomab
infusion, sex, genetic subtype, Ph, status before blinatumomab, HCT after blinatumomab
and the days to it, DLI. With ``groups`` (e.g. the status before blinatumomab) the table
gains one column per group and the test's p-value.
"""

from __future__ import annotations

from collections.abc import Sequence

from mrdtrack.figures.events import status_before_blinatumomab
from mrdtrack.figures.survival_plot import format_p_value
from mrdtrack.figures.timeline import PatientTimeline
from mrdtrack.outcomes.table1 import SummaryCell, TableOne, Variable, VariableKind, table_one
from mrdtrack.registry.vocabulary import TreatmentKind
from mrdtrack.reports.rendering import Cell
from mrdtrack.reports.tables import TableBlock

__all__ = ["summary_table", "table_one_variables"]

_YES_NO = ("yes", "no")
_DAYS_TO_HCT = "Days from first blinatumomab infusion to HCT"
# Variables defined only for some patients: a missing value there is "not applicable".
_CONDITIONAL = frozenset({_DAYS_TO_HCT})


def table_one_variables(timelines: Sequence[PatientTimeline]) -> list[Variable]:
    """One value per patient of each Table 1 variable (``None``: not recorded)."""
    ages: list[float | None] = []
    days: list[float | None] = []
    hct: list[str] = []
    for t in timelines:
        start = t.first_blinatumomab
        age = None if start is None else t.age_years(start)
        # One decimal, as the summary shows ages; the quantiles are then exact to 0.1 y.
        ages.append(None if age is None else round(age, 1))
        after = [
            h.start_date for h in t.courses(TreatmentKind.HCT) if start and h.start_date >= start
        ]
        hct.append("yes" if after else "no")
        days.append(float((after[0] - start).days) if after and start else None)
    ph = [None if t.ph_positive is None else ("yes" if t.ph_positive else "no") for t in timelines]
    return [
        Variable("Age at first blinatumomab, years", VariableKind.CONTINUOUS, ages),
        Variable(
            "Sex",
            VariableKind.CATEGORICAL,
            [t.sex for t in timelines],
            levels=sorted({t.sex for t in timelines}),
        ),
        Variable(
            "Genetic subtype", VariableKind.CATEGORICAL, [t.genetic_subtype for t in timelines]
        ),
        Variable("Ph-positive", VariableKind.CATEGORICAL, ph, levels=_YES_NO),
        Variable(
            "Status before blinatumomab",
            VariableKind.CATEGORICAL,
            [status_before_blinatumomab(t) for t in timelines],
        ),
        Variable("HCT after blinatumomab", VariableKind.CATEGORICAL, hct, levels=_YES_NO),
        Variable(_DAYS_TO_HCT, VariableKind.CONTINUOUS, days),
        Variable(
            "DLI after HCT",
            VariableKind.CATEGORICAL,
            ["yes" if t.courses(TreatmentKind.DLI) else "no" for t in timelines],
            levels=_YES_NO,
        ),
    ]


def summary_table(
    timelines: Sequence[PatientTimeline], groups: Sequence[str | None] | None = None
) -> tuple[TableBlock, TableOne]:
    """Table 1 as a report table, and the :class:`TableOne` it was laid out from."""
    table = table_one(table_one_variables(timelines), groups)
    headers = ["Characteristic", f"All patients (n = {table.n})"]
    headers += [f"{g} (n = {table.n_by_group[g]})" for g in table.groups]
    if table.groups:
        headers.append("p (test)")
    rows: list[tuple[Cell, ...]] = []
    for row in table.rows:
        test = "" if row.test is None else f"{format_p_value(row.test.p_value)} ({row.test.test})"
        if row.kind is VariableKind.CATEGORICAL:
            heading = [Cell(row.name), Cell(_missing("", row.overall.missing))]
            heading += [Cell("") for _ in table.groups]
            if table.groups:
                heading.append(Cell(test))
            rows.append(tuple(heading))
            for level in row.overall.counts:
                cells = [Cell(f"  {level}"), Cell(_level(row.overall, level))]
                cells += [Cell(_level(row.by_group[g], level)) for g in table.groups]
                if table.groups:
                    cells.append(Cell(""))
                rows.append(tuple(cells))
        elif row.name in _CONDITIONAL:
            cells = [Cell(row.name), Cell(f"{row.overall.text} (n = {row.overall.n})")]
            cells += [
                Cell(f"{row.by_group[g].text} (n = {row.by_group[g].n})") for g in table.groups
            ]
            if table.groups:
                cells.append(Cell(test))
            rows.append(tuple(cells))
        else:
            cells = [Cell(row.name), Cell(_missing(row.overall.text, row.overall.missing))]
            cells += [
                Cell(_missing(row.by_group[g].text, row.by_group[g].missing)) for g in table.groups
            ]
            if table.groups:
                cells.append(Cell(test))
            rows.append(tuple(cells))
    block = TableBlock(
        id="table1",
        title="Table 1. Patient characteristics",
        headers=tuple(headers),
        rows=tuple(rows),
        caption=f"Median ({table.spread.value}) or n (%); percentages of the patients with "
        "the value recorded.",
    )
    return block, table


def _level(summary: SummaryCell, level: str) -> str:
    count = summary.counts.get(level, 0)
    if not summary.n:
        return str(count)
    return f"{count}\u00a0({summary.percent[level]:.0f}\u00a0%)"


def _missing(text: str, missing: int) -> str:
    if not missing:
        return text
    return f"{text}; {missing} not recorded" if text else f"{missing} not recorded"
