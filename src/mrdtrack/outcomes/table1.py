"""Table 1: the patients' characteristics, overall and by group, with the right test each.

Per variable (the usual reporting of a small clinical series, e.g. Lang TA, Altman DG.
SAMPL guidelines 2013):

* continuous — median with range (default) or interquartile range, n and missing;
  between groups the Mann–Whitney U test (2 groups) or the Kruskal–Wallis test (≥ 3);
* categorical — n (%) per level (percent of the non-missing); between groups Fisher's
  exact test when any expected count is below 5 (2 × 2 and r × c), Pearson's χ² test
  otherwise.

The test's name is part of every row's output.

Censored values are not numbers. A laboratory value reported as ``"<0.01 %"`` (MRD below
the assay's limit) or ``">1e5"`` is a :class:`Censored` bound: it is never coerced to
the bound, to zero or to missing (cBioPortal issue #6228 shows what silent coercion does
to a summary). Order statistics use it only where the result does not depend on its
unknown value — otherwise the median is reported as a bound (``"<0.012"``) — and rank
tests treat left-censored values as tied below every observed value (right-censored:
above), which is valid only when no observed value lies beyond a censoring bound; when
one does, the test is not computed and the row says why. Text that is neither a number
nor a censored form raises :class:`~mrdtrack.errors.InputError` naming the variable and
the position.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice
from mrdtrack.outcomes.group_stats import (
    TestResult,
    chi_square,
    expected_counts,
    fisher_exact,
    kruskal_wallis,
    mann_whitney_u,
)

__all__ = [
    "FISHER_BELOW",
    "Censored",
    "Spread",
    "SummaryCell",
    "TableOne",
    "Variable",
    "VariableKind",
    "VariableRow",
    "parse_value",
    "table_one",
]

FloatArray = NDArray[np.float64]

_CENSORED = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(%?)\s*$")
_NUMBER = re.compile(r"^\s*([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(%?)\s*$")
FISHER_BELOW = 5.0
"""Default expected count under which Fisher's exact test replaces χ² (Cochran WG.
Biometrics 1954;10:417-451: χ² is unreliable when expected counts fall below 5)."""


class VariableKind(StrEnum):
    """How a variable is summarised and tested."""

    CONTINUOUS = "continuous"
    CATEGORICAL = "categorical"


class Spread(StrEnum):
    """The spread shown beside a median."""

    RANGE = "range"
    IQR = "iqr"


@dataclass(frozen=True, slots=True)
class Censored:
    """A value known only to lie below (``below=True``) or above a bound."""

    bound: float
    below: bool = True

    def __str__(self) -> str:
        return f"{'<' if self.below else '>'}{self.bound:g}"


Value = float | Censored


def parse_value(raw: object, field: str, *, percent: bool = False) -> Value | None:
    """A recorded value as a number, a :class:`Censored` bound, or ``None`` (missing).

    Parameters
    ----------
    raw
        A number, ``None`` (missing), or text: ``"12.5"``, ``"<0.01"``, ``"≥ 1e5"``,
        with a trailing ``%`` only when ``percent`` is true.
    field
        The variable's name and position, for the error message.
    percent
        Whether the variable is in percent (a trailing ``%`` is then allowed).

    Raises
    ------
    InputError
        For any other text, NaN or infinity (never coerced).
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InputError(field, raw, "a number, a censored value such as '<0.01', or None")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise InputError(field, raw, "a finite number", "give None for a missing value")
        return float(raw)
    if isinstance(raw, str):
        for pattern, censored in ((_NUMBER, False), (_CENSORED, True)):
            match = pattern.fullmatch(raw)
            if match is None:
                continue
            unit = match.groups()[-1]
            if unit and not percent:
                break
            if not censored:
                return float(match.group(1))
            return Censored(float(match.group(2)), below=match.group(1) in ("<", "<=", "≤"))
    raise InputError(
        field,
        raw,
        "a number or a censored value such as '<0.01'"
        + (" (a trailing % allowed)" if percent else ""),
        "record non-numeric results in a categorical variable",
    )


@dataclass(frozen=True, slots=True)
class Variable:
    """One Table 1 variable: its values in the patients' order.

    ``levels`` orders the categories of a categorical variable (default: sorted); ``unit``
    is shown with continuous values (``"%"`` also allows values written with ``%``).
    """

    name: str
    kind: VariableKind
    values: Sequence[object]
    unit: str = ""
    levels: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class SummaryCell:
    """The summary of one variable in one column (overall or a group).

    Continuous: ``median``, ``low``, ``high`` (range or quartiles; a :class:`Censored` bound
    where the value depends on censored data). Categorical: ``counts`` and ``percent`` per
    level. ``text`` is the printed cell.
    """

    n: int
    missing: int
    text: str
    censored: int = 0
    median: Value | None = None
    low: Value | None = None
    high: Value | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    percent: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VariableRow:
    """One variable of Table 1: overall, by group, and the test between the groups."""

    name: str
    kind: VariableKind
    overall: SummaryCell
    by_group: Mapping[str, SummaryCell]
    test: TestResult | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableOne:
    """Table 1: one row per variable."""

    groups: tuple[str, ...]
    n_by_group: Mapping[str, int]
    n: int
    spread: Spread
    rows: tuple[VariableRow, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (cells as text and numbers, tests with their names)."""

        def cell(c: SummaryCell) -> dict[str, object]:
            shown = {
                k: str(v) if isinstance(v, Censored) else v
                for k, v in (("median", c.median), ("low", c.low), ("high", c.high))
            }
            return {
                "text": c.text,
                "n": c.n,
                "missing": c.missing,
                "censored": c.censored,
                **shown,
                "counts": dict(c.counts),
                "percent": dict(c.percent),
            }

        return {
            "n": self.n,
            "groups": list(self.groups),
            "n_by_group": dict(self.n_by_group),
            "spread": self.spread.value,
            "variables": [
                {
                    "name": r.name,
                    "kind": r.kind.value,
                    "overall": cell(r.overall),
                    "by_group": {g: cell(c) for g, c in r.by_group.items()},
                    "test": None if r.test is None else r.test.to_dict(),
                    "notes": list(r.notes),
                }
                for r in self.rows
            ],
        }


def table_one(
    variables: Sequence[Variable],
    groups: Sequence[str | None] | None = None,
    *,
    spread: Spread | str = Spread.RANGE,
    fisher_below: float = FISHER_BELOW,
) -> TableOne:
    """Build Table 1 (see the module docstring for the summaries and tests).

    Parameters
    ----------
    variables
        The variables, each with one value per patient.
    groups
        Each patient's group (``None``: in the overall column only); no groups, no tests.
    spread
        ``"range"`` (default) or ``"iqr"`` beside the median.
    fisher_below
        Categorical variables use Fisher's exact test when any expected count is below
        this (default 5), Pearson's χ² otherwise.
    """
    chosen = require_choice("spread", spread, Spread)
    n = len(variables[0].values) if variables else len(groups or ())
    labels: list[str | None] = list(groups) if groups is not None else [None] * n
    if len(labels) != n:
        raise InputError("groups", len(labels), f"one group per patient ({n})")
    names = sorted({g for g in labels if g is not None})
    rows = []
    for variable in variables:
        if len(variable.values) != n:
            raise InputError(variable.name, len(variable.values), f"one value per patient ({n})")
        kind = require_choice(f"{variable.name}.kind", variable.kind, VariableKind)
        if kind is VariableKind.CONTINUOUS:
            rows.append(_continuous(variable, labels, names, chosen))
        else:
            rows.append(_categorical(variable, labels, names, fisher_below))
    return TableOne(
        groups=tuple(names),
        n_by_group={g: labels.count(g) for g in names},
        n=n,
        spread=chosen,
        rows=tuple(rows),
    )


def _continuous(
    variable: Variable, labels: Sequence[str | None], names: list[str], spread: Spread
) -> VariableRow:
    percent = variable.unit.strip() in ("%", "percent")
    values = [
        parse_value(v, f"{variable.name}[{i}]", percent=percent)
        for i, v in enumerate(variable.values)
    ]

    def summary(chosen: list[Value | None]) -> SummaryCell:
        present = [v for v in chosen if v is not None]
        censored = sum(isinstance(v, Censored) for v in present)
        missing = len(chosen) - len(present)
        if not present:
            return SummaryCell(0, missing, "—", censored)
        quantiles = (0.0, 1.0) if spread is Spread.RANGE else (0.25, 0.75)
        median, low, high = (_quantile(present, q) for q in (0.5, *quantiles))
        text = f"{_show(median)} ({_show(low)}–{_show(high)})"
        if variable.unit:
            text += f" {variable.unit}"
        return SummaryCell(len(present), missing, text, censored, median, low, high)

    by_group = {
        g: summary([v for v, group in zip(values, labels, strict=True) if group == g])
        for g in names
    }
    notes: list[str] = []
    test = None
    samples = [
        [v for v, group in zip(values, labels, strict=True) if group == g and v is not None]
        for g in names
    ]
    if len(names) >= 2 and all(samples):
        ranked = _rank_equivalent([v for s in samples for v in s])
        if ranked is None:
            notes.append(
                "rank test not computed: an observed value lies beyond a censoring bound, "
                "so the censored values cannot be ranked"
            )
        else:
            bounds = np.cumsum([len(s) for s in samples])[:-1]
            parts = np.split(ranked, bounds)
            test = mann_whitney_u(parts[0], parts[1]) if len(parts) == 2 else kruskal_wallis(parts)
            if any(isinstance(v, Censored) for s in samples for v in s):
                notes.append("censored values ranked as ties beyond every observed value")
    return VariableRow(
        variable.name,
        VariableKind.CONTINUOUS,
        summary(values),
        by_group,
        test,
        tuple(notes),
    )


def _quantile(values: list[Value], q: float) -> Value | None:
    """The ``q`` quantile (linear interpolation), or the bound it is known to respect.

    Computed twice, with each censored value at the far end of what it allows and at its
    bound; equal results are exact; otherwise the result is a bound in the censoring's
    direction (``None`` when values are censored in both directions and it matters).
    """
    numbers = [v for v in values if not isinstance(v, Censored)]
    bounds = [v.bound for v in values if isinstance(v, Censored)]
    spread = max([*numbers, *bounds]) - min([*numbers, *bounds]) + 1.0
    floor, ceiling = min([*numbers, *bounds]) - spread, max([*numbers, *bounds]) + spread

    def at(left: float | None, right: float | None) -> float:
        # Left- (right-) censored values at ``left`` (``right``), at their bound if None.
        filled = []
        for v in values:
            if not isinstance(v, Censored):
                filled.append(v)
            else:
                chosen = left if v.below else right
                filled.append(v.bound if chosen is None else chosen)
        return float(np.quantile(np.array(filled, dtype=np.float64), q))

    lowest = at(floor, None)  # left-censored at the far left, right-censored at their bound
    highest = at(None, ceiling)
    if math.isclose(lowest, highest, rel_tol=0.0, abs_tol=1e-12):
        return lowest
    left = any(isinstance(v, Censored) and v.below for v in values)
    right = any(isinstance(v, Censored) and not v.below for v in values)
    if left and right:
        return None
    return Censored(highest, below=True) if left else Censored(lowest, below=False)


def _rank_equivalent(values: list[Value]) -> FloatArray | None:
    """Numbers with the same ranks, censored values as ties beyond every observed value.

    ``None`` when that order is not determined (an observed value beyond a bound).
    """
    numbers = np.array([v for v in values if not isinstance(v, Censored)], dtype=np.float64)
    lows = [v.bound for v in values if isinstance(v, Censored) and v.below]
    highs = [v.bound for v in values if isinstance(v, Censored) and not v.below]
    if numbers.size and (
        (lows and numbers.min() < max(lows)) or (highs and numbers.max() > min(highs))
    ):
        return None
    bottom = (numbers.min() if numbers.size else 0.0) - 1.0
    top = (numbers.max() if numbers.size else 0.0) + 1.0
    return np.array(
        [v if not isinstance(v, Censored) else (bottom if v.below else top) for v in values],
        dtype=np.float64,
    )


def _categorical(
    variable: Variable, labels: Sequence[str | None], names: list[str], fisher_below: float
) -> VariableRow:
    values: list[str | None] = []
    for i, raw in enumerate(variable.values):
        if raw is None:
            values.append(None)
        elif isinstance(raw, str | int | bool) and str(raw).strip():
            values.append(str(raw).strip())
        else:
            raise InputError(f"{variable.name}[{i}]", raw, "a category (text) or None")
    levels = (
        list(variable.levels)
        if variable.levels is not None
        else sorted({v for v in values if v is not None})
    )
    unknown = sorted({v for v in values if v is not None and v not in levels})
    if unknown:
        raise InputError(
            variable.name, unknown[0], "one of the declared levels: " + ", ".join(levels)
        )

    def summary(chosen: list[str | None]) -> SummaryCell:
        present = [v for v in chosen if v is not None]
        counts = {level: present.count(level) for level in levels}
        percent = {k: (100.0 * c / len(present) if present else 0.0) for k, c in counts.items()}
        text = "; ".join(f"{k} {c} ({percent[k]:.0f} %)" for k, c in counts.items())
        return SummaryCell(
            len(present), len(chosen) - len(present), text, counts=counts, percent=percent
        )

    by_group = {
        g: summary([v for v, group in zip(values, labels, strict=True) if group == g])
        for g in names
    }
    notes: list[str] = []
    test = None
    if len(names) >= 2:
        table = np.array([[by_group[g].counts[level] for level in levels] for g in names])
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if min(table.shape) >= 2:
            small = bool((expected_counts(table) < fisher_below).any())
            if small:
                try:
                    test = fisher_exact(table)
                except InputError:
                    test = chi_square(table)
                    notes.append(
                        "expected counts below 5 but the table is too large for exact "
                        "enumeration: χ² approximation (interpret with care)"
                    )
            else:
                test = chi_square(table)
    return VariableRow(
        variable.name, VariableKind.CATEGORICAL, summary(values), by_group, test, tuple(notes)
    )


def _show(value: Value | None) -> str:
    if value is None:
        return "n.d."
    if isinstance(value, Censored):
        return str(value)
    return f"{value:.4g}"
