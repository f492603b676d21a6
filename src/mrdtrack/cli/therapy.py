"""``mrdtrack dose …`` and ``mrdtrack calendar …``: blinatumomab dose and cycle calendar.

Thin commands over :mod:`mrdtrack.therapy`; they hold no clinical logic. Errors from the
domain (an implausible weight, a height in metres, a dose in mg) become exit 2 at the
boundary in :mod:`mrdtrack.cli.app`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.table import Table

from mrdtrack.cli.output import (
    EXIT_OK,
    JsonFlag,
    emit_json,
    key_value_table,
    parse_number,
    stdout_console,
)
from mrdtrack.errors import InputError
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    US_LABEL,
    BlinatumomabDose,
    BlinatumomabLabel,
    BsaFormula,
    CycleCalendar,
    Indication,
    Interruption,
    RecordedDoseCheck,
    blinatumomab_dose,
    cycle_calendar,
    format_mcg,
    verify_recorded_dose,
)

__all__ = ["calendar_app", "dose_app"]

dose_app = typer.Typer(help="Dose verification against the label.", no_args_is_help=True)
calendar_app = typer.Typer(help="Treatment calendars.", no_args_is_help=True)

WeightOption = Annotated[
    float, typer.Option(parser=parse_number, help="Body weight in kg (1-250).")
]
HeightOption = Annotated[
    float, typer.Option(parser=parse_number, help="Height in cm (40-230), not metres.")
]
IndicationOption = Annotated[
    Indication, typer.Option(case_sensitive=False, help="mrd, relapsed or consolidation.")
]
FormulaOption = Annotated[
    BsaFormula, typer.Option(case_sensitive=False, help="BSA formula (BSA-01).")
]
ProfileOption = Annotated[
    str,
    typer.Option(
        help=f"Dosing profile: {', '.join(BLINATUMOMAB_LABELS)} (SEED-1 doses 15 mcg/m²/day "
        "at every weight)."
    ),
]


def _profile(profile_id: str) -> BlinatumomabLabel:
    try:
        return BLINATUMOMAB_LABELS[profile_id]
    except KeyError:
        raise InputError(
            "profile", profile_id, f"one of: {', '.join(BLINATUMOMAB_LABELS)}"
        ) from None


def _parse_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise typer.BadParameter(f"got {raw!r}; expected a date as YYYY-MM-DD") from None


def _plain(value: float) -> str:
    return format_mcg(value).removesuffix(" mcg")


@dose_app.command("blinatumomab")
def blinatumomab_command(
    weight_kg: WeightOption,
    height_cm: HeightOption,
    indication: IndicationOption,
    cycle: Annotated[int, typer.Option(help="Cycle number (1 … the indication's maximum).")] = 1,
    bsa_formula: FormulaOption = BsaFormula.MOSTELLER,
    profile: ProfileOption = US_LABEL.id,
    recorded_daily_dose: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="A recorded daily dose to check (in mcg)."),
    ] = None,
    recorded_unit: Annotated[
        str, typer.Option(help="Unit of --recorded-daily-dose: mcg (mg is refused).")
    ] = "mcg",
    infusion_day: Annotated[
        int | None,
        typer.Option(help="Infusion day of the recorded dose (default: the main phase)."),
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Verify the label daily dose of a blinatumomab cycle (BLIN-01, BLIN-02).

    A verification showing its basis (BSA formula, inputs, label version, source), not a
    prescription. JSON keys: bsa_m2, bsa_formula, weight_band (lt45|ge45), daily_dose_ug
    (main phase), steps [{days, daily_dose_ug, dose_basis, …}], infusion_days,
    treatment_free_days, max_daily_dose_ug, warnings, label_version, source, and
    "recorded" when --recorded-daily-dose is given.
    """
    dose = blinatumomab_dose(
        weight_kg=weight_kg,
        height_cm=height_cm,
        indication=indication,
        cycle=cycle,
        bsa_formula=bsa_formula,
        label=_profile(profile),
    )
    check = None
    if recorded_daily_dose is not None:
        check = verify_recorded_dose(
            recorded_daily_dose=recorded_daily_dose,
            recorded_unit=recorded_unit,
            expected=dose,
            infusion_day=infusion_day,
        )
    if as_json:
        payload = dose.to_dict()
        if check is not None:
            payload["recorded"] = check.to_dict()
        emit_json(payload)
    else:
        stdout_console().print(key_value_table("Blinatumomab dose", _dose_rows(dose, check)))
    return EXIT_OK


def _dose_rows(dose: BlinatumomabDose, check: RecordedDoseCheck | None) -> list[tuple[str, str]]:
    band = "≥ 45 kg, fixed dose" if dose.weight_band.value == "ge45" else "< 45 kg, BSA-based"
    formula = "given" if dose.bsa_formula is None else dose.bsa_formula.display_name
    rows = [
        ("what this is", "a check against the label, not a prescription"),
        ("indication", f"{dose.indication.value}, cycle {dose.cycle} ({dose.phase})"),
        ("weight", f"{dose.weight_kg:g} kg ({band})"),
        ("BSA", f"{_plain(dose.bsa_m2)} m² ({formula})"),
    ]
    rows.extend((f"days {step.days}", step.level.formula) for step in dose.steps)
    rows.append(
        (
            "cycle",
            f"{dose.infusion_days} infusion days, {dose.treatment_free_days} treatment-free days",
        )
    )
    rows.append(
        (
            "hard caps",
            f"{format_mcg(dose.max_daily_dose_ug)}/day; step days "
            f"{format_mcg(dose.max_step_daily_dose_ug)}/day",
        )
    )
    if check is not None:
        verdict = "within tolerance" if check.within_tolerance else "OFF the label dose"
        rows.append(
            (
                "recorded dose",
                f"{format_mcg(check.recorded_daily_dose_ug)}/day on day {check.infusion_day}: "
                f"{verdict} ({format_mcg(check.expected_daily_dose_ug)}/day expected)",
            )
        )
        rows.extend(("warning", warning) for warning in check.warnings)
    rows.extend(("warning", warning) for warning in dose.warnings)
    rows.append(("label", f"{dose.label_version} (effective {dose.label_effective_date})"))
    rows.append(("source", dose.source))
    rows.append(("rules", dose.rule))
    return rows


def _interruptions(raw: list[str], start: date) -> list[Interruption]:
    parsed = []
    for item in raw:
        day_text, _, length_text = item.partition(":")
        try:
            day, length = int(day_text), int(length_text)
        except ValueError:
            day = length = 0
        if day < 1 or length < 1:
            raise InputError(
                "interruption",
                item,
                "DAY:LENGTH with whole numbers ≥ 1, e.g. 11:5",
                "DAY is the first day without infusion, counted from --start as day 1",
            )
        parsed.append(Interruption(start + timedelta(days=day - 1), length))
    return parsed


@calendar_app.command("blinatumomab")
def calendar_command(
    start: Annotated[
        date,
        typer.Option(parser=_parse_date, help="Day 1 of the first cycle, YYYY-MM-DD."),
    ],
    indication: IndicationOption,
    cycles: Annotated[int, typer.Option(help="Number of completed cycles to lay out.")] = 1,
    first_cycle: Annotated[
        int, typer.Option(help="Number of the first cycle (6: relapsed continued therapy).")
    ] = 1,
    interruption: Annotated[
        list[str] | None,
        typer.Option(
            help="DAY:LENGTH, repeatable: infusion stopped on DAY (counted from --start as "
            "day 1) for LENGTH days. ≤ 7 days: the same cycle continues; longer: a new cycle."
        ),
    ] = None,
    age_years: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Age; chooses adult or children's premedication."),
    ] = None,
    weight_kg: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Weight in kg: adds the daily doses."),
    ] = None,
    height_cm: Annotated[
        float | None, typer.Option(parser=parse_number, help="Height in cm (with --weight-kg).")
    ] = None,
    bsa_formula: FormulaOption = BsaFormula.MOSTELLER,
    profile: ProfileOption = US_LABEL.id,
    as_json: JsonFlag = False,
) -> int:
    """Lay out dated blinatumomab cycles (BLIN-02 … BLIN-04).

    JSON: {indication, start, first_cycle, cycles_requested, age_group, next_cycle_start,
    warnings, unconfirmed, label_version, source, rule, cycles: [{cycle, phase, status
    (completed|stopped), start, infusion_days, infusion_start, infusion_end,
    treatment_free_days, treatment_free_start, treatment_free_end, next_cycle_start,
    hospitalization_dates, interruptions: [{start, resume, length_days, cycle_day,
    infusion_days_before, outcome (same_cycle|new_cycle)}], events: [{date, kind
    (hospitalization|supervision|premedication|step_up|interruption), text, unconfirmed}],
    steps (dose steps, null without --weight-kg), days: [{date, cycle_day, kind
    (infusion|interrupted|treatment_free), infusion_day, daily_dose_ug, hospitalized}]}]}.
    Dates are ISO (YYYY-MM-DD).
    """
    calendar = cycle_calendar(
        start=start,
        indication=indication,
        cycles=cycles,
        first_cycle=first_cycle,
        interruptions=_interruptions(interruption or [], start),
        age_years=age_years,
        weight_kg=weight_kg,
        height_cm=height_cm,
        bsa_formula=bsa_formula,
        label=_profile(profile),
    )
    if as_json:
        emit_json(calendar.to_dict())
    else:
        _print_calendar(calendar)
    return EXIT_OK


def _print_calendar(calendar: CycleCalendar) -> None:
    console = stdout_console()
    cycles = Table(
        title=f"Blinatumomab calendar ({calendar.indication.value}, {calendar.label_version})",
        title_justify="left",
    )
    for column in ("cycle", "status", "infusion", "treatment-free", "hospitalized", "next"):
        cycles.add_column(column)
    for cycle in calendar.cycles:
        infusion, free = cycle.infusion_dates, cycle.treatment_free_dates
        hospital = cycle.hospitalization_dates
        cycles.add_row(
            f"{cycle.cycle} ({cycle.phase})",
            cycle.status.value,
            f"{len(infusion)} days" + (f", {infusion[0]} to {infusion[-1]}" if infusion else ""),
            f"{len(free)} days, {free[0]} to {free[-1]}" if free else "-",
            f"{hospital[0]} to {hospital[-1]}" if hospital else "supervision",
            cycle.next_cycle_start.isoformat(),
        )
    console.print(cycles)
    events = Table(title="Reminders", title_justify="left")
    for column in ("date", "cycle", "what", "reminder"):
        events.add_column(column)
    for cycle in calendar.cycles:
        for event in cycle.events:
            events.add_row(event.date.isoformat(), str(cycle.cycle), event.kind.value, event.text)
    console.print(events)
    for warning in calendar.warnings:
        console.print(f"warning: {warning}")
    console.print(f"source: {calendar.source}")
