"""``mrdtrack survival …``: survival estimators and tests over a CSV file (rule END-02).

One row per patient, a header row; the columns are named by options. Codes of the event
column are declared (``--event-value``, ``--censor-value``, ``--competing-value``) and
any other code is refused with its row, so that a typo never becomes a censoring.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from numpy.typing import NDArray
from rich.table import Table

from mrdtrack.cli.output import (
    EXIT_NOT_EVALUABLE,
    EXIT_OK,
    JsonFlag,
    emit_json,
    key_value_table,
    parse_number,
    stdout_console,
)
from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.outcomes import (
    CiMethod,
    Ties,
    cox_ph,
    cumulative_incidence,
    kaplan_meier,
    logrank_test,
    logrank_trend_test,
    median_follow_up,
)

__all__ = ["app"]

app = typer.Typer(
    help="Survival analysis of a CSV: Kaplan–Meier, log-rank, cumulative incidence, Cox.",
    no_args_is_help=True,
)

InputOption = Annotated[
    Path, typer.Option("--input", help="CSV file with a header row, one row per patient.")
]
TimeOption = Annotated[str, typer.Option("--time", help="Column of follow-up times (≥ 0).")]
EventOption = Annotated[
    str, typer.Option("--event", help="Column of the status code (event or censored).")
]
EventValues = Annotated[
    list[str] | None,
    typer.Option("--event-value", help="Status code meaning 'event' (repeatable; default 1)."),
]
CensorValues = Annotated[
    list[str] | None,
    typer.Option("--censor-value", help="Status code meaning 'censored' (repeatable; default 0)."),
]
GroupOption = Annotated[
    str | None, typer.Option("--group", help="Column of the group (arm, risk group).")
]
AtOption = Annotated[
    list[float] | None,
    typer.Option("--at", parser=parse_number, help="Milestone time (repeatable), e.g. 24."),
]
LevelOption = Annotated[
    float,
    typer.Option("--confidence-level", parser=parse_number, help="Interval coverage (0–1)."),
]
CiOption = Annotated[CiMethod, typer.Option("--ci-method", help="Pointwise interval scale.")]


@app.command("km")
def km_command(
    input_csv: InputOption,
    time: TimeOption,
    event: EventOption,
    group: GroupOption = None,
    event_value: EventValues = None,
    censor_value: CensorValues = None,
    at: AtOption = None,
    confidence_level: LevelOption = 0.95,
    ci_method: CiOption = CiMethod.LOG_LOG,
    as_json: JsonFlag = False,
) -> int:
    """Kaplan–Meier curves with Greenwood log-log intervals and medians, per group."""
    table = _read_csv(input_csv, [("--time", time), ("--event", event), ("--group", group)])
    times = table.times(time)
    status = table.status(event, event_value or ["1"], censor_value or ["0"])
    groups: dict[str, Any] = {}
    for name, rows in table.split(group):
        km = kaplan_meier(
            times[rows], status[rows], confidence_level=confidence_level, ci_method=ci_method
        )
        entry: dict[str, Any] = {
            "n": km.n,
            "events": km.events,
            "median": km.median,
            "median_ci_lower": km.median_ci_lower,
            "median_ci_upper": km.median_ci_upper,
            "timeline": _floats(km.timeline),
            "survival": _floats(km.survival),
            "std_error": _floats(km.std_error),
            "ci_lower": _floats(km.ci_lower),
            "ci_upper": _floats(km.ci_upper),
            "ci_method": km.ci_method.value,
            "n_at_risk": km.n_at_risk.tolist(),
            "n_events": km.n_events.tolist(),
            "n_censored": km.n_censored.tolist(),
        }
        if at:
            milestones = km.at(at)
            entry["milestones"] = [
                {
                    "time": float(milestones.times[i]),
                    "survival": float(milestones.survival[i]),
                    "ci_lower": _float(milestones.ci_lower[i]),
                    "ci_upper": _float(milestones.ci_upper[i]),
                    "n_at_risk": int(milestones.at_risk[i]),
                    "events": int(milestones.events[i]),
                    "censored": int(milestones.censored[i]),
                }
                for i in range(milestones.times.size)
            ]
        groups[name] = entry
    payload = {
        "groups": groups,
        "confidence_level": confidence_level,
        "estimator": "Kaplan–Meier, Greenwood variance",
        "rule": "END-02",
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    summary = Table(title="Kaplan–Meier", title_justify="left")
    for column in ("group", "n", "events", f"median ({confidence_level:.0%} CI)"):
        summary.add_column(column)
    for name, entry in groups.items():
        summary.add_row(
            name,
            str(entry["n"]),
            str(entry["events"]),
            _with_interval(entry["median"], entry["median_ci_lower"], entry["median_ci_upper"]),
        )
    stdout_console().print(summary)
    if at:
        stdout_console().print(_milestone_table(groups, "survival"))
    return EXIT_OK


@app.command("logrank")
def logrank_command(
    input_csv: InputOption,
    time: TimeOption,
    event: EventOption,
    group: Annotated[str, typer.Option("--group", help="Column of the groups to compare.")],
    strata: Annotated[
        str | None, typer.Option("--strata", help="Column of strata (a stratified test).")
    ] = None,
    trend: Annotated[
        bool, typer.Option("--trend", help="Test for trend; group labels are the scores.")
    ] = False,
    event_value: EventValues = None,
    censor_value: CensorValues = None,
    as_json: JsonFlag = False,
) -> int:
    """Log-rank test of equal survival across groups (stratified, or for trend)."""
    table = _read_csv(
        input_csv,
        [("--time", time), ("--event", event), ("--group", group), ("--strata", strata)],
    )
    times = table.times(time)
    status = table.status(event, event_value or ["1"], censor_value or ["0"])
    labels = table.labels(group)
    layers = None if strata is None else table.labels(strata)
    if not status.any():
        return _not_evaluable(
            {"statistic": None, "df": 0, "p_value": None},
            "no events: the log-rank test needs at least one event",
            as_json,
        )
    if trend:
        scores = {label: _score(label, group) for label in set(labels.tolist())}
        result = logrank_trend_test(times, status, labels, scores=scores, strata=layers)
    else:
        result = logrank_test(times, status, labels, strata=layers)
    per_group = {
        str(label): {
            "n": int(result.n[i]),
            "observed": float(result.observed[i]),
            "expected": float(result.expected[i]),
        }
        for i, label in enumerate(result.groups)
    }
    payload = {
        "statistic": result.statistic,
        "df": result.df,
        "p_value": result.p_value,
        "test": result.basis.estimator,
        "groups": per_group,
        "strata": [str(s) for s in result.strata],
        "rule": "END-02",
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    rows = [
        ("test", result.basis.estimator + (" (stratified)" if result.strata else "")),
        ("chi-square", f"{result.statistic:.4g} on {result.df} df"),
        ("p-value", f"{result.p_value:.4g}"),
    ]
    rows += [
        (f"{label}", f"n {g['n']}, observed {g['observed']:g}, expected {g['expected']:.4g}")
        for label, g in per_group.items()
    ]
    stdout_console().print(key_value_table("Log-rank test", rows))
    return EXIT_OK


@app.command("cif")
def cif_command(
    input_csv: InputOption,
    time: TimeOption,
    event: Annotated[
        str, typer.Option("--event", help="Column of the cause code (cause, competing, censored).")
    ],
    cause: Annotated[
        str, typer.Option("--cause", help="Code of the cause of interest (e.g. relapse).")
    ] = "1",
    competing_value: Annotated[
        list[str] | None,
        typer.Option(
            "--competing-value", help="Code of a competing cause (repeatable; default 2)."
        ),
    ] = None,
    censor_value: CensorValues = None,
    group: GroupOption = None,
    at: AtOption = None,
    confidence_level: LevelOption = 0.95,
    ci_method: CiOption = CiMethod.LOG_LOG,
    as_json: JsonFlag = False,
) -> int:
    """Cumulative incidence (Aalen–Johansen) of one cause with competing causes."""
    table = _read_csv(input_csv, [("--time", time), ("--event", event), ("--group", group)])
    times = table.times(time)
    competing = competing_value or ["2"]
    codes = table.causes(event, cause, competing, censor_value or ["0"])
    groups: dict[str, Any] = {}
    for name, rows in table.split(group):
        cif = cumulative_incidence(
            times[rows],
            codes[rows],
            1,
            censor_code=0,
            confidence_level=confidence_level,
            ci_method=ci_method,
        )
        entry: dict[str, Any] = {
            "n": cif.n,
            "events": cif.events,
            "competing_events": cif.competing_events,
            "timeline": _floats(cif.timeline),
            "cif": _floats(cif.cif),
            "std_error": _floats(cif.std_error),
            "ci_lower": _floats(cif.ci_lower),
            "ci_upper": _floats(cif.ci_upper),
            "ci_method": cif.ci_method.value,
            "n_at_risk": cif.n_at_risk.tolist(),
        }
        if at:
            milestones = cif.at(at)
            entry["milestones"] = [
                {
                    "time": float(milestones.times[i]),
                    "cif": float(milestones.cif[i]),
                    "ci_lower": _float(milestones.ci_lower[i]),
                    "ci_upper": _float(milestones.ci_upper[i]),
                }
                for i in range(milestones.times.size)
            ]
        groups[name] = entry
    payload = {
        "cause_of_interest": cause,
        "competing_causes": competing,
        "groups": groups,
        "confidence_level": confidence_level,
        "estimator": "Aalen–Johansen",
        "variance": "delta method (Marubini & Valsecchi 1995)",
        "rule": "END-02",
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    summary = Table(title=f"Cumulative incidence of cause {cause}", title_justify="left")
    for column in ("group", "n", "events", "competing", "final CIF"):
        summary.add_column(column)
    for name, entry in groups.items():
        summary.add_row(
            name,
            str(entry["n"]),
            str(entry["events"]),
            str(entry["competing_events"]),
            f"{entry['cif'][-1]:.3f}",
        )
    stdout_console().print(summary)
    if at:
        stdout_console().print(_milestone_table(groups, "cif"))
    return EXIT_OK


@app.command("cox")
def cox_command(
    input_csv: InputOption,
    time: TimeOption,
    event: EventOption,
    covariate: Annotated[
        list[str], typer.Option("--covariate", help="Numeric covariate column (repeatable).")
    ],
    strata: Annotated[
        str | None, typer.Option("--strata", help="Column of strata (separate baselines).")
    ] = None,
    ties: Annotated[Ties, typer.Option("--ties", help="Handling of tied event times.")] = (
        Ties.EFRON
    ),
    event_value: EventValues = None,
    censor_value: CensorValues = None,
    confidence_level: LevelOption = 0.95,
    as_json: JsonFlag = False,
) -> int:
    """Cox proportional-hazards model: coefficients, hazard ratios, Wald CIs, LR test."""
    table = _read_csv(
        input_csv,
        [
            ("--time", time),
            ("--event", event),
            *(("--covariate", column) for column in covariate),
            ("--strata", strata),
        ],
    )
    times = table.times(time)
    status = table.status(event, event_value or ["1"], censor_value or ["0"])
    matrix = np.column_stack([table.numbers(column) for column in covariate])
    layers = None if strata is None else table.labels(strata)
    if not status.any():
        return _not_evaluable({}, "no events: a Cox model needs at least one event", as_json)
    fit = cox_ph(
        times,
        status,
        matrix,
        names=covariate,
        ties=ties,
        strata=layers,
        confidence_level=confidence_level,
    )
    reasons = (
        []
        if fit.converged
        else [
            f"Newton–Raphson did not converge in {fit.iterations} iterations; a coefficient "
            "may be infinite (a covariate separating events from censorings)"
        ]
    )
    payload: dict[str, Any] = {
        "status": "ok" if fit.converged else "not_evaluable",
        "reasons": reasons,
        "n": fit.n,
        "events": fit.events,
        "ties": fit.ties.value,
        "covariates": {
            name: {
                "coef": _float(fit.coef[i]),
                "se": _float(fit.se[i]),
                "z": _float(fit.z[i]),
                "p_value": _float(fit.p_value[i]),
                "hazard_ratio": _float(fit.hazard_ratio[i]),
                "hazard_ratio_ci_lower": _float(fit.hazard_ratio_ci_lower[i]),
                "hazard_ratio_ci_upper": _float(fit.hazard_ratio_ci_upper[i]),
            }
            for i, name in enumerate(fit.names)
        },
        "log_likelihood": fit.log_likelihood,
        "log_likelihood_null": fit.log_likelihood_null,
        "lr_statistic": fit.lr_statistic,
        "lr_df": fit.lr_df,
        "lr_p_value": fit.lr_p_value,
        "score_statistic": fit.score_statistic,
        "score_p_value": fit.score_p_value,
        "strata": [str(s) for s in fit.strata],
        "iterations": fit.iterations,
        "converged": fit.converged,
        "confidence_level": confidence_level,
        "rule": "END-02",
    }
    code = EXIT_OK if fit.converged else EXIT_NOT_EVALUABLE
    if as_json:
        emit_json(payload)
        return code
    result = Table(title=f"Cox model ({fit.ties.value} ties)", title_justify="left")
    for column in ("covariate", "coef", "se", f"HR ({confidence_level:.0%} CI)", "p"):
        result.add_column(column)
    for name, row in payload["covariates"].items():
        result.add_row(
            name,
            f"{row['coef']:.4g}",
            f"{row['se']:.4g}",
            _with_interval(
                row["hazard_ratio"], row["hazard_ratio_ci_lower"], row["hazard_ratio_ci_upper"]
            ),
            f"{row['p_value']:.3g}",
        )
    stdout_console().print(result)
    footer = f"n {fit.n}, events {fit.events}; LR test {fit.lr_statistic:.4g} on {fit.lr_df} df"
    stdout_console().print(f"{footer}, p {fit.lr_p_value:.3g}", *reasons)
    return code


@app.command("followup")
def followup_command(
    input_csv: InputOption,
    time: TimeOption,
    event: Annotated[
        str, typer.Option("--event", help="Column of the end-point status (death for OS).")
    ],
    event_value: EventValues = None,
    censor_value: CensorValues = None,
    as_json: JsonFlag = False,
) -> int:
    """Median follow-up by reverse Kaplan–Meier (not the median of observed times)."""
    table = _read_csv(input_csv, [("--time", time), ("--event", event)])
    follow_up = median_follow_up(
        table.times(time), table.status(event, event_value or ["1"], censor_value or ["0"])
    )
    payload = {
        "median": follow_up.median,
        "ci_lower": follow_up.ci_lower,
        "ci_upper": follow_up.ci_upper,
        "min": follow_up.minimum,
        "max": follow_up.maximum,
        "n": follow_up.n,
        "method": follow_up.method,
        "median_observed_time": follow_up.median_observed_time,
        "unconfirmed": list(follow_up.basis.unconfirmed),
        "rule": "END-02",
    }
    if as_json:
        emit_json(payload)
        return EXIT_OK
    rows = [
        (
            "median follow-up",
            _with_interval(follow_up.median, follow_up.ci_lower, follow_up.ci_upper),
        ),
        ("range", f"{follow_up.minimum:g}–{follow_up.maximum:g}"),
        ("method", follow_up.method),
        ("not follow-up: median observed time", f"{follow_up.median_observed_time:g}"),
    ]
    stdout_console().print(key_value_table("Follow-up", rows))
    return EXIT_OK


@dataclass(frozen=True, slots=True)
class _Csv:
    """The needed columns of a CSV as text, with the file's row number of each record."""

    name: str
    columns: dict[str, list[str]]
    rows: list[int]

    def _fail(self, column: str, index: int, raw: str, expected: str, hint: str) -> InputError:
        return ImportValidationError(
            column, raw, expected, location=f"{self.name} row {self.rows[index]}", hint=hint
        )

    def times(self, column: str) -> NDArray[np.float64]:
        values = np.empty(len(self.rows))
        for index, raw in enumerate(self.columns[column]):
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value >= 0):
                raise self._fail(
                    column, index, raw, "a time ≥ 0", "fill in or remove the follow-up time"
                )
            values[index] = value
        return values

    def numbers(self, column: str) -> NDArray[np.float64]:
        values = np.empty(len(self.rows))
        for index, raw in enumerate(self.columns[column]):
            try:
                values[index] = float(raw)
            except ValueError:
                values[index] = math.nan
            if not math.isfinite(values[index]):
                raise self._fail(
                    column, index, raw, "a number", "code categories as 0/1 columns first"
                )
        return values

    def status(
        self, column: str, event_values: list[str], censor_values: list[str]
    ) -> NDArray[np.bool_]:
        events = {_code(v) for v in event_values}
        censored = {_code(v) for v in censor_values}
        if events & censored:
            raise InputError(
                "--event-value",
                sorted(events & censored),
                "codes different from --censor-value",
            )
        flags = np.empty(len(self.rows), dtype=np.bool_)
        for index, raw in enumerate(self.columns[column]):
            code = _code(raw)
            if code not in events and code not in censored:
                raise self._fail(
                    column,
                    index,
                    raw,
                    f"an event code ({', '.join(sorted(events))}) or a censoring code "
                    f"({', '.join(sorted(censored))})",
                    "declare other codes with --event-value / --censor-value",
                )
            flags[index] = code in events
        return flags

    def causes(
        self, column: str, cause: str, competing: list[str], censor_values: list[str]
    ) -> NDArray[np.int64]:
        """0 censored, 1 the cause of interest, 2 any declared competing cause."""
        meaning = {_code(v): 0 for v in censor_values}
        for value in competing:
            meaning[_code(value)] = 2
        if _code(cause) in meaning:
            raise InputError("--cause", cause, "a code not also declared competing or censored")
        meaning[_code(cause)] = 1
        codes = np.empty(len(self.rows), dtype=np.int64)
        for index, raw in enumerate(self.columns[column]):
            code = meaning.get(_code(raw))
            if code is None:
                raise self._fail(
                    column,
                    index,
                    raw,
                    f"one of the declared codes: cause {cause}, competing "
                    f"{', '.join(competing)}, censored {', '.join(censor_values)}",
                    "declare other codes with --competing-value / --censor-value",
                )
            codes[index] = code
        return codes

    def labels(self, column: str) -> NDArray[np.str_]:
        for index, raw in enumerate(self.columns[column]):
            if not raw:
                raise self._fail(column, index, raw, "a label", "fill in the group or stratum")
        return np.array(self.columns[column], dtype=np.str_)

    def split(self, column: str | None) -> list[tuple[str, NDArray[np.int64]]]:
        """``("all", every row)`` or one ``(label, rows)`` per label, labels sorted."""
        if column is None:
            return [("all", np.arange(len(self.rows)))]
        labels = self.labels(column)
        return [(str(label), np.flatnonzero(labels == label)) for label in np.unique(labels)]


def _read_csv(path: Path, needed: list[tuple[str, str | None]]) -> _Csv:
    """Read the columns named by ``(option, column)`` pairs (``None``: option not given)."""
    if not path.is_file():
        raise InputError("--input", str(path), "an existing CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError("--input", str(path), "a readable UTF-8 CSV file", str(error)) from None
    reader = csv.DictReader(text.splitlines())
    found = [name for name in (reader.fieldnames or []) if name is not None]
    wanted = [(option, column) for option, column in needed if column is not None]
    for option, column in wanted:
        if column not in found:
            raise InputError(
                option, column, f"a column of {path.name}; found: {', '.join(found) or 'none'}"
            )
    columns: dict[str, list[str]] = {column: [] for _, column in wanted}
    rows: list[int] = []
    for row_number, record in enumerate(reader, start=2):
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue  # blank line
        rows.append(row_number)
        for column in columns:
            columns[column].append((record.get(column) or "").strip())
    if not rows:
        raise InputError("--input", str(path), "at least one data row")
    return _Csv(name=path.name, columns=columns, rows=rows)


def _code(raw: str) -> str:
    """Codes compare as numbers when they are numbers ("1.0" is "1"), else case-blind."""
    text = raw.strip()
    try:
        number = float(text)
    except ValueError:
        return text.casefold()
    return str(int(number)) if number.is_integer() else repr(number)


def _score(label: str, column: str) -> float:
    try:
        return float(label)
    except ValueError:
        raise InputError(
            "--trend", label, f"numeric labels in {column} (they are the trend scores)"
        ) from None


def _float(value: float | np.floating[Any]) -> float | None:
    """A JSON-safe float: NaN (undefined, e.g. the variance where S = 0) becomes null."""
    number = float(value)
    return number if math.isfinite(number) else None


def _floats(values: NDArray[np.floating[Any]]) -> list[float | None]:
    if np.isfinite(values).all():
        return [float(v) for v in values.tolist()]
    return [_float(v) for v in values]


def _with_interval(value: float | None, lower: float | None, upper: float | None) -> str:
    def show(number: float | None) -> str:
        return "not reached" if number is None else f"{number:.4g}"

    return f"{show(value)} ({show(lower)} to {show(upper)})"


def _milestone_table(groups: dict[str, Any], quantity: str) -> Table:
    table = Table(title="Milestones", title_justify="left")
    for column in ("group", "time", quantity, "CI"):
        table.add_column(column)
    for name, entry in groups.items():
        for row in entry["milestones"]:
            table.add_row(
                name,
                f"{row['time']:g}",
                f"{row[quantity]:.3f}",
                f"{row['ci_lower']:.3f} to {row['ci_upper']:.3f}"
                if row["ci_lower"] is not None and row["ci_upper"] is not None
                else "—",
            )
    return table


def _not_evaluable(keys: dict[str, Any], reason: str, as_json: bool) -> int:
    if as_json:
        emit_json({**keys, "status": "not_evaluable", "reasons": [reason]})
    else:
        stdout_console().print(f"not evaluable: {reason}")
    return EXIT_NOT_EVALUABLE
