"""``mrdtrack protocol …``: list, show and evaluate versioned protocols (thin commands)."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
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
from mrdtrack.errors import InputError
from mrdtrack.protocols import (
    BlinatumomabPlan,
    BlinatumomabResponse,
    PatientTimeline,
    Protocol,
    ProtocolEvaluation,
    RuleKind,
    Therapy,
    TreatmentPhase,
    describe_condition,
    evaluate_protocol,
    load_protocol_file,
    load_shipped_protocol,
    load_shipped_protocols,
    load_timeline_file,
    parse_disease_status,
    parse_mrd_value,
    plan_blinatumomab,
)
from mrdtrack.therapy.blinatumomab import format_mcg

__all__ = ["app"]

app = typer.Typer(
    help="Versioned protocols: MRD thresholds, eligibility, next steps, dose and calendar.",
    no_args_is_help=True,
)

ProtocolArg = Annotated[
    str,
    typer.Argument(help="A shipped protocol id (see `protocol list`) or a protocol .yaml file."),
]


def _resolve(protocol_id: str) -> Protocol:
    if protocol_id.endswith((".yaml", ".yml")) and Path(protocol_id).is_file():
        return load_protocol_file(protocol_id)
    return load_shipped_protocol(protocol_id)


@app.command("list")
def list_command(as_json: JsonFlag = False) -> int:
    """List the shipped protocols with their version and sources."""
    protocols = load_shipped_protocols()
    if as_json:
        emit_json(
            {
                "protocols": [
                    {
                        "id": p.id,
                        "version": p.version,
                        "label": p.label,
                        "title": p.title,
                        "effective_date": p.effective_date,
                        "setting": p.setting,
                        "rules": len(p.rules),
                        "eligibility_rules": [r.id for r in p.rules_of(RuleKind.ELIGIBILITY)],
                        "schedule": None if p.schedule is None else p.schedule.id,
                        "sources": [s.citation for s in p.sources],
                    }
                    for p in protocols
                ]
            }
        )
        return EXIT_OK
    table = Table(title="Shipped protocols", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("version", "title", "rules", "schedule"):
        table.add_column(column)
    for p in protocols:
        schedule = "-" if p.schedule is None else p.schedule.id
        table.add_row(p.id, p.version, p.title, str(len(p.rules)), schedule)
    stdout_console().print(table)
    return EXIT_OK


@app.command("show")
def show_command(protocol_id: ProtocolArg, as_json: JsonFlag = False) -> int:
    """Show a protocol: sources, thresholds, rules with citations, schedule, [U] items."""
    protocol = _resolve(protocol_id)
    if as_json:
        emit_json(protocol.to_dict())
        return EXIT_OK
    console = stdout_console()
    console.print(
        key_value_table(
            f"{protocol.label} — {protocol.title}",
            [
                ("effective date", protocol.effective_date),
                ("setting", protocol.setting),
                *((f"source {s.id}", s.citation) for s in protocol.sources),
            ],
        )
    )
    if protocol.thresholds:
        thresholds = Table(title="MRD thresholds", title_justify="left")
        thresholds.add_column("id", no_wrap=True)
        for column in ("rule", "citation"):
            thresholds.add_column(column)
        for t in protocol.thresholds:
            thresholds.add_row(t.id, t.describe(), f"{t.citation.source_id}, {t.citation.where}")
        console.print(thresholds)
    rules = Table(title="Rules", title_justify="left")
    rules.add_column("id", no_wrap=True)
    for column in ("kind", "when", "then", "citation"):
        rules.add_column(column)
    for rule in protocol.rules:
        rules.add_row(
            rule.id,
            rule.kind.value,
            describe_condition(rule.when, protocol),
            _outputs(rule.risk_group, rule.eligible_for, [a.describe() for a in rule.actions])
            or (rule.message or ""),
            f"{rule.citation.source_id}, {rule.citation.where}",
        )
    console.print(rules)
    if protocol.schedule is not None:
        s = protocol.schedule
        console.print(
            key_value_table(
                f"Schedule {s.id}",
                [
                    ("schedule", s.describe()),
                    ("dose basis", s.dose.reference),
                    *(("note", n) for n in s.notes),
                    ("citation", s.citation.text),
                ],
            )
        )
    _print_lines(console, "unconfirmed [U]", protocol.unconfirmed)
    _print_lines(console, "notes", protocol.notes)
    return EXIT_OK


def _outputs(risk_group: str | None, eligible_for: str | None, actions: list[str]) -> str:
    parts = []
    if risk_group:
        parts.append(f"risk group: {risk_group}")
    if eligible_for:
        parts.append(f"eligible for {eligible_for}")
    parts.extend(actions)
    return "; ".join(parts)


def _print_lines(console: Any, title: str, lines: tuple[str, ...]) -> None:
    if lines:
        console.print(key_value_table(title, [("-", line) for line in lines]))


def _split_pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for raw in values:
        tp, sep, value = raw.partition("=")
        if not sep or not tp.strip() or not value.strip():
            raise InputError(option, raw, "TIMEPOINT=VALUE, e.g. EOI=0.0005 or EOC=nd@1e-5")
        pairs.append((tp.strip(), value.strip()))
    return pairs


def _parse_start(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError("--start", raw, "a date YYYY-MM-DD (day 1 of cycle 1)") from None


def _therapies(values: list[str]) -> frozenset[Therapy]:
    if values == ["none"]:
        return frozenset()
    allowed = [t.value for t in Therapy]
    for value in values:
        if value not in allowed:
            raise InputError("--prior-therapy", value, f"one of: {', '.join(allowed)} (or none)")
    return frozenset(Therapy(v) for v in values)


def _build_timeline(
    base: PatientTimeline, overrides: dict[str, Any], mrd: list[tuple[str, str, str]]
) -> PatientTimeline:
    measurements = {m.timepoint: m for m in base.mrd}
    for option, tp, value in mrd:
        text = value
        if option == "--mrd-percent":
            try:
                float(value)
            except ValueError:
                raise InputError(
                    option, f"{tp}={value}", "TIMEPOINT=PERCENT, e.g. EOI=0.05"
                ) from None
            text = f"{value}%"
        measurement = parse_mrd_value(tp, text, field=option)
        measurements[measurement.timepoint] = measurement
    return dataclasses.replace(base, **overrides, mrd=tuple(measurements.values()))


@app.command("evaluate")
def evaluate_command(
    protocol_id: ProtocolArg,
    timeline: Annotated[
        Path | None,
        typer.Option(help="Patient timeline (.yaml, .yml or .json); options below override it."),
    ] = None,
    remission: Annotated[
        str | None,
        typer.Option(
            "--remission",
            "--disease-status",
            help="Disease status: CR1, CR2, … (CR if the number is unknown), relapsed, refractory.",
        ),
    ] = None,
    mrd: Annotated[
        list[str] | None,
        typer.Option(
            help="MRD as TIMEPOINT=FRACTION (EOI=0.0005), =nd@SENSITIVITY, =pnq@LIMIT or =ne; "
            "repeat per time point."
        ),
    ] = None,
    mrd_percent: Annotated[
        list[str] | None,
        typer.Option(help="MRD as TIMEPOINT=PERCENT (EOI=0.05 for 0.05 %); repeatable."),
    ] = None,
    ph: Annotated[
        bool | None, typer.Option("--ph-positive/--ph-negative", help="Philadelphia status.")
    ] = None,
    cd19: Annotated[
        bool | None, typer.Option("--cd19-positive/--cd19-negative", help="CD19 on the blasts.")
    ] = None,
    kmt2a: Annotated[
        bool | None, typer.Option("--kmt2a/--no-kmt2a", help="KMT2A rearrangement.")
    ] = None,
    ikzf1: Annotated[
        bool | None,
        typer.Option("--ikzf1-deletion/--no-ikzf1-deletion", help="IKZF1 intragenic deletion."),
    ] = None,
    age_years: Annotated[
        float | None, typer.Option(parser=parse_number, help="Age in years.")
    ] = None,
    age_months: Annotated[
        float | None, typer.Option(parser=parse_number, help="Age in months (infants).")
    ] = None,
    weight_kg: Annotated[
        float | None, typer.Option(parser=parse_number, help="Weight in kg (for the dose).")
    ] = None,
    height_cm: Annotated[
        float | None, typer.Option(parser=parse_number, help="Height in cm (for the BSA).")
    ] = None,
    phase: Annotated[TreatmentPhase | None, typer.Option(help="Treatment phase now.")] = None,
    prior_therapy: Annotated[
        list[str] | None,
        typer.Option(help="A therapy received (repeatable), or 'none'."),
    ] = None,
    blinatumomab_response: Annotated[
        BlinatumomabResponse | None,
        typer.Option(help="Response to the last blinatumomab course."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Day 1 of blinatumomab cycle 1 (YYYY-MM-DD): adds the calendar."),
    ] = None,
    cycles: Annotated[
        int | None, typer.Option(min=1, help="Cycles to lay out (default: the protocol's count).")
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Evaluate a protocol for one patient: rule statuses, eligibility, next steps, dose."""
    protocol = _resolve(protocol_id)
    base = PatientTimeline() if timeline is None else load_timeline_file(timeline)
    overrides: dict[str, Any] = {}
    if remission is not None:
        status, number = parse_disease_status(remission, "--remission")
        overrides.update(disease_status=status, remission_number=number)
    if age_years is not None and age_months is not None:
        raise InputError("--age-months", age_months, "either --age-years or --age-months")
    if age_years is not None:
        if not 0 <= age_years <= 130:
            raise InputError("--age-years", age_years, "a number ≥ 0 and ≤ 130")
        overrides["age_months"] = age_years * 12
    if age_months is not None:
        overrides["age_months"] = age_months
    for name, value in (
        ("ph_positive", ph),
        ("cd19_positive", cd19),
        ("kmt2a_rearranged", kmt2a),
        ("ikzf1_intragenic_deletion", ikzf1),
        ("weight_kg", weight_kg),
        ("height_cm", height_cm),
        ("phase", phase),
        ("blinatumomab_response", blinatumomab_response),
    ):
        if value is not None:
            overrides[name] = value
    if prior_therapy:
        overrides["prior_therapy"] = _therapies(prior_therapy)
    pairs = [("--mrd", tp, v) for tp, v in _split_pairs(mrd or [], "--mrd")]
    pairs += [
        ("--mrd-percent", tp, v) for tp, v in _split_pairs(mrd_percent or [], "--mrd-percent")
    ]
    patient = _build_timeline(base, overrides, pairs)
    evaluation = evaluate_protocol(protocol, patient)
    plan = _plan(protocol, patient, _parse_start(start), cycles)
    payload = evaluation.to_dict()
    payload["reasons"] = [evaluation.eligibility.reason]
    payload["schedule"] = None if protocol.schedule is None else protocol.schedule.to_dict()
    payload["dose"] = None if plan is None or plan.dose is None else plan.dose.to_dict()
    payload["label_dose"] = (
        None if plan is None or plan.label_dose is None else plan.label_dose.to_dict()
    )
    payload["calendar"] = None if plan is None or plan.calendar is None else plan.calendar.to_dict()
    payload["dose_plan"] = None if plan is None else plan.to_dict(summary=True)
    if as_json:
        emit_json(payload)
    else:
        _print_evaluation(evaluation, plan)
    return EXIT_NOT_EVALUABLE if evaluation.status == "not_evaluable" else EXIT_OK


def _plan(
    protocol: Protocol, patient: PatientTimeline, start: date | None, cycles: int | None
) -> BlinatumomabPlan | None:
    schedule = protocol.schedule
    if schedule is None or schedule.agent != "blinatumomab":
        return None
    has_body = patient.weight_kg is not None and patient.height_cm is not None
    if not has_body and start is None:
        return None
    return plan_blinatumomab(protocol, patient, start=start, cycles=cycles)


def _print_evaluation(evaluation: ProtocolEvaluation, plan: BlinatumomabPlan | None) -> None:
    console = stdout_console()
    p = evaluation.protocol
    eligibility = evaluation.eligibility
    rows = [
        ("eligibility", eligibility.verdict.value.replace("_", " ")),
        ("why", eligibility.reason),
    ]
    rows += [(f"risk group ({rid})", group) for rid, group, _ in evaluation.risk_groups]
    for step in evaluation.next_steps:
        rows.append((f"next step ({step.rule_id})", "; ".join(a.describe() for a in step.actions)))
    rows += [("boundary flag", f.message) for f in evaluation.boundary_flags]
    rows += [(f"review ({f.rule_id})", f.message) for f in evaluation.review_flags]
    if evaluation.missing_data:
        rows.append(("missing data", ", ".join(evaluation.missing_data)))
    console.print(key_value_table(f"{p.label} — {p.title}", rows))
    table = Table(title="Rules", title_justify="left")
    table.add_column("rule", no_wrap=True)
    for column in ("status", "values compared", "citation"):
        table.add_column(column)
    for result in evaluation.rules:
        table.add_row(
            result.rule.id,
            result.status.value.replace("_", " "),
            "\n".join(c.text for c in result.comparisons),
            f"{result.rule.citation.source_id}, {result.rule.citation.where}",
        )
    console.print(table)
    if plan is not None:
        _print_plan(console, plan)


def _print_plan(console: Any, plan: BlinatumomabPlan) -> None:
    rows = [("schedule", plan.schedule_id), ("dosing profile", plan.dose_profile)]
    if plan.dose is not None:
        d = plan.dose
        rows.append(("BSA", f"{d.bsa_m2:.2f} m² ({d.bsa_formula or 'given'})"))
        rows.append(("weight band", d.weight_band.value))
        rows += [(f"days {s.days}", s.level.formula) for s in d.steps]
    if plan.label_dose is not None:
        rows.append(("US label dose", f"{format_mcg(plan.label_dose.daily_dose_ug)}/day"))
    rows += [("warning", w) for w in plan.warnings]
    rows.append(("citation", plan.citation.text))
    console.print(key_value_table("Blinatumomab dose verification (not a prescription)", rows))
    if plan.calendar is not None:
        table = Table(title="Cycle calendar", title_justify="left")
        for column in ("cycle", "infusion", "treatment-free", "next cycle"):
            table.add_column(column)
        for cycle in plan.calendar.cycles:
            c = cycle.to_dict()
            table.add_row(
                str(c["cycle"]),
                f"{c['infusion_start']} → {c['infusion_end']}",
                f"{c['treatment_free_start']} → {c['treatment_free_end']}",
                str(c["next_cycle_start"]),
            )
        console.print(table)
