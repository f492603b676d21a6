"""``mrdtrack grade …``: CRS, ICANS, acute and chronic GVHD, IgG (pure, no registry needed).

Each command passes its options to one function of :mod:`mrdtrack.grading` and prints
the result: a Rich table, or with ``--json`` one JSON object whose keys each command's
help lists. Domain errors name the domain field (``temperature_c``); they are re-raised
here under the option's name (``--temperature-c``) so that the one stderr line names
what the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

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
from mrdtrack.grading import (
    AcuteGvhdFindings,
    AcuteGvhdGrade,
    AgvhdSystem,
    CerebralOedema,
    CgvhdOrgan,
    ChronicGvhdScores,
    Consciousness,
    Hypotension,
    Hypoxia,
    IceItems,
    IgGStatus,
    IgGUnit,
    Motor,
    Seizure,
    agvhd_profile,
    assess_igg,
    grade_acute_gvhd,
    grade_chronic_gvhd,
    grade_crs,
    grade_icans,
)

__all__ = ["app"]

app = typer.Typer(
    help="Grading: CRS and ICANS (ASTCT 2019), acute GVHD (Keystone, MAGIC), chronic GVHD "
    "(NIH 2014), hypogammaglobulinemia.",
    no_args_is_help=True,
)

# Help texts are single-line paragraphs: Typer keeps a docstring's line breaks.
_CRS_HELP = (
    "CRS grade, ASTCT 2019 (Lee 2019): max(hypotension, hypoxia), 1 if febrile with neither."
    '\n\nJSON keys: grade (0–5), system ("ASTCT-2019"), drivers (the findings that set the '
    "grade), meets_definition, febrile, hypotension_grade, hypoxia_grade, notes, profile, "
    "source, rule, unconfirmed, inputs."
)
_ICANS_HELP = (
    "ICANS grade, ASTCT 2019: the most severe domain of encephalopathy (ICE from 12 years, "
    "CAPD below), consciousness, seizure, motor and raised ICP / cerebral oedema."
    '\n\nJSON keys: grade (0–4), system ("ASTCT-2019"), drivers, tool ("ICE" | "CAPD"), '
    "encephalopathy_score, domain_grades (encephalopathy, consciousness, seizure, motor, "
    "cerebral_oedema), profile, source, rule, unconfirmed, inputs."
)
_AGVHD_HELP = (
    "Acute GVHD organ stages and overall grade (Keystone 1994 / modified Glucksberg, or MAGIC)."
    "\n\nJSON keys: skin_stage, liver_stage, gut_stage (Keystone: GI with biopsy-proven upper "
    'GI; MAGIC: lower GI), upper_gi_stage, lower_gi_stage, grade (0–4), grade_roman ("0", '
    '"I" … "IV"), system ("Glucksberg-Keystone-1994" | "MAGIC-2016"), drivers, '
    "stage_reasons, child_stool_thresholds, notes, profile, source, rule, unconfirmed, inputs."
)
_CGVHD_HELP = (
    "Chronic GVHD global severity, NIH 2014 (Jagasia 2015): none, mild, moderate, severe."
    '\n\nJSON keys: severity ("none" | "mild" | "moderate" | "severe"), system '
    '("NIH-2014"), drivers, organ_scores (skin, mouth, eyes, gi, liver, lungs, joints_fascia, '
    "genital), excluded_organs, lung_score_basis, notes, profile, source, rule, unconfirmed, "
    "inputs."
)
_IGG_HELP = (
    "Hypogammaglobulinemia: IgG below the profile's (or the age band's) lower limit. Exit 3 "
    "when not evaluable (drawn within the post-IVIG window, or no limit for the age)."
    '\n\nJSON keys: status ("hypogammaglobulinemia" | "normal" | "not_evaluable"), '
    "hypogammaglobulinemia (true | false | null), igg_mg_dl, threshold_mg_dl, operator "
    '("<"), age_band, flags (e.g. "post_ivig"), drivers, warnings, system (the profile '
    "id), profile, source, rule, unconfirmed, inputs."
)

T = TypeVar("T")
_FIELD = re.compile(r"^([a-z][a-z0-9_]*)(.*)$")


def _as_option(error: InputError) -> InputError:
    """The same error under the option's name (``ice_items.naming`` → ``--ice-items.naming``)."""
    match = _FIELD.match(error.field)
    if match is None:
        return error
    name, rest = match.groups()
    return InputError(f"--{name.replace('_', '-')}{rest}", error.value, error.expected, error.hint)


def _call(grade: Callable[[], T]) -> T:
    try:
        return grade()
    except InputError as error:
        raise _as_option(error) from None


def _show(as_json: bool, payload: dict[str, Any], title: str, rows: list[tuple[str, str]]) -> None:
    if as_json:
        emit_json(payload)
        return
    rows = [
        *rows,
        *(("driver", text) for text in payload["drivers"]),
        *(("note", text) for text in payload.get("notes", ())),
        *(("warning", text) for text in payload.get("warnings", ())),
        ("system", str(payload["system"])),
        ("profile", str(payload["profile"])),
        ("source", str(payload["source"])),
        *(("unconfirmed", text) for text in payload["unconfirmed"]),
    ]
    stdout_console().print(key_value_table(title, rows))


def _int_list(option: str, raw: str | None, count: int, example: str) -> list[int] | None:
    if raw is None:
        return None
    expected = f"{count} comma-separated whole numbers, e.g. {example}"
    try:
        values = [int(part) for part in raw.split(",")]
    except ValueError:
        raise InputError(option, raw, expected) from None
    if len(values) != count:
        raise InputError(option, raw, expected)
    return values


@app.command("crs", help=_CRS_HELP)
def crs_command(
    temperature_c: Annotated[
        float | None,
        typer.Option(
            parser=parse_number,
            help="Highest temperature in °C (25–45). May be left out once antipyretic or "
            "anti-cytokine therapy was given.",
        ),
    ] = None,
    hypotension: Annotated[
        Hypotension,
        typer.Option(
            help="Treatment hypotension needed, counting vasopressors other than vasopressin."
        ),
    ] = Hypotension.NONE,
    hypoxia: Annotated[Hypoxia, typer.Option(help="Oxygen support hypoxia needed.")] = Hypoxia.NONE,
    vasopressin: Annotated[
        bool,
        typer.Option(
            "--vasopressin",
            help="Vasopressin was also given: never counted as a second vasopressor (alone it "
            "is one vasopressor).",
        ),
    ] = False,
    anti_cytokine: Annotated[
        bool,
        typer.Option(
            "--anti-cytokine",
            help="Tocilizumab or corticosteroids given: fever no longer required.",
        ),
    ] = False,
    antipyretic: Annotated[
        bool, typer.Option("--antipyretic", help="Antipyretic given: fever no longer required.")
    ] = False,
    died_of_crs: Annotated[
        bool, typer.Option("--died-of-crs", help="Death due to CRS (grade 5).")
    ] = False,
    as_json: JsonFlag = False,
) -> int:
    """CRS grade, ASTCT 2019 (Lee 2019): max(hypotension, hypoxia), 1 if febrile with neither."""
    result = _call(
        lambda: grade_crs(
            temperature_c=temperature_c,
            hypotension=hypotension,
            hypoxia=hypoxia,
            vasopressin=vasopressin,
            anti_cytokine=anti_cytokine,
            antipyretic=antipyretic,
            died_of_crs=died_of_crs,
        )
    )
    payload = result.to_dict()
    rows = [("CRS grade", str(result.grade))]
    if not result.meets_definition:
        rows.append(("ASTCT definition", "not met"))
    _show(as_json, payload, "CRS (ASTCT 2019)", rows)
    return EXIT_OK


@app.command("icans", help=_ICANS_HELP)
def icans_command(
    age_years: Annotated[
        float,
        typer.Option(parser=parse_number, help="Age in years: ICE from 12, CAPD below."),
    ],
    ice_score: Annotated[int | None, typer.Option(help="ICE score 0–10.")] = None,
    ice_items: Annotated[
        str | None,
        typer.Option(
            help="ICE items instead of the total: orientation,naming,commands,writing,attention "
            "(e.g. 4,3,1,1,1).",
        ),
    ] = None,
    capd_score: Annotated[int | None, typer.Option(help="CAPD total 0–32.")] = None,
    capd_items: Annotated[
        str | None,
        typer.Option(
            help="CAPD item points 0–4 in Traube's order, reverse scoring applied "
            "(e.g. 4,4,0,0,4,0,0,0).",
        ),
    ] = None,
    consciousness: Annotated[
        Consciousness, typer.Option(help="Level of consciousness (not from sedation).")
    ] = Consciousness.NORMAL,
    seizure: Annotated[Seizure, typer.Option(help="Worst seizure finding.")] = Seizure.NONE,
    motor: Annotated[Motor, typer.Option(help="Motor finding.")] = Motor.NONE,
    cerebral_oedema: Annotated[
        CerebralOedema, typer.Option(help="Raised ICP / cerebral oedema.")
    ] = CerebralOedema.NONE,
    developmental_delay: Annotated[
        bool, typer.Option("--developmental-delay", help="Use CAPD at any age.")
    ] = False,
    as_json: JsonFlag = False,
) -> int:
    """ICANS grade, ASTCT 2019: the most severe domain."""
    ice_values = _int_list("--ice-items", ice_items, 5, "4,3,1,1,1")
    capd_values = _int_list("--capd-items", capd_items, 8, "4,4,0,0,4,0,0,0")
    result = _call(
        lambda: grade_icans(
            age_years=age_years,
            ice_score=ice_score,
            ice_items=None if ice_values is None else IceItems.from_scores(ice_values),
            capd_score=capd_score,
            capd_items=capd_values,
            consciousness=consciousness,
            seizure=seizure,
            motor=motor,
            cerebral_oedema=cerebral_oedema,
            developmental_delay=developmental_delay,
        )
    )
    rows = [
        ("ICANS grade", str(result.grade)),
        (
            result.tool.value,
            "unable to perform"
            if result.encephalopathy_score is None
            else str(result.encephalopathy_score),
        ),
    ]
    _show(as_json, result.to_dict(), "ICANS (ASTCT 2019)", rows)
    return EXIT_OK


@app.command("agvhd", help=_AGVHD_HELP)
def agvhd_command(
    skin_rash_bsa_percent: Annotated[
        float, typer.Option(parser=parse_number, help="Rash, % body-surface area (0–100).")
    ] = 0.0,
    bullae_desquamation_bsa_percent: Annotated[
        float,
        typer.Option(parser=parse_number, help="Bullae and desquamation, % BSA (stage 4 > 5)."),
    ] = 0.0,
    bilirubin_mg_dl: Annotated[
        float | None, typer.Option(parser=parse_number, help="Total bilirubin, mg/dL.")
    ] = None,
    liver_other_cause: Annotated[
        bool,
        typer.Option("--liver-other-cause", help="Another documented cause of the bilirubin."),
    ] = False,
    downstage_liver: Annotated[
        bool,
        typer.Option(
            "--downstage-liver",
            help="Older Glucksberg rule: lower the liver stage by one for --liver-other-cause.",
        ),
    ] = False,
    diarrhea_ml_per_day: Annotated[
        float | None, typer.Option(parser=parse_number, help="Stool output, mL/day.")
    ] = None,
    diarrhea_ml_per_kg_day: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Stool output, mL/kg/day (children)."),
    ] = None,
    stool_episodes_per_day: Annotated[
        int | None, typer.Option(help="Unquantified stool episodes per day.")
    ] = None,
    stool_mixed_with_urine: Annotated[
        bool, typer.Option("--stool-mixed-with-urine", help="Count 50 % of the volume as stool.")
    ] = False,
    weight_kg: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Weight, kg (adult stool thresholds above 50)."),
    ] = None,
    severe_abdominal_pain: Annotated[
        bool,
        typer.Option("--severe-abdominal-pain", help="Severe pain with or without ileus (GI 4)."),
    ] = False,
    grossly_bloody_stool: Annotated[
        bool, typer.Option("--grossly-bloody-stool", help="Grossly bloody stool (GI 4).")
    ] = False,
    upper_gi: Annotated[
        bool, typer.Option("--upper-gi", help="Persistent nausea, vomiting or anorexia.")
    ] = False,
    upper_gi_biopsy_positive: Annotated[
        bool,
        typer.Option("--upper-gi-biopsy-positive", help="Upper-GI biopsy shows GVHD (Keystone)."),
    ] = False,
    system: Annotated[AgvhdSystem, typer.Option(help="Grading system.")] = AgvhdSystem.GLUCKSBERG,
    as_json: JsonFlag = False,
) -> int:
    """Acute GVHD organ stages and overall grade (Keystone 1994 / modified Glucksberg, or MAGIC)."""

    def grade() -> AcuteGvhdGrade:
        findings = AcuteGvhdFindings(
            skin_rash_bsa_percent=skin_rash_bsa_percent,
            bullae_desquamation_bsa_percent=bullae_desquamation_bsa_percent,
            bilirubin_mg_dl=bilirubin_mg_dl,
            liver_other_cause=liver_other_cause,
            diarrhea_ml_per_day=diarrhea_ml_per_day,
            diarrhea_ml_per_kg_day=diarrhea_ml_per_kg_day,
            stool_episodes_per_day=stool_episodes_per_day,
            stool_mixed_with_urine=stool_mixed_with_urine,
            weight_kg=weight_kg,
            severe_abdominal_pain=severe_abdominal_pain,
            grossly_bloody_stool=grossly_bloody_stool,
            upper_gi_symptoms=upper_gi,
            upper_gi_biopsy_positive=upper_gi_biopsy_positive,
        )
        profile = agvhd_profile(system, downstage_liver_for_other_causes=downstage_liver)
        return grade_acute_gvhd(findings, profile=profile)

    result = _call(grade)
    payload = result.to_dict()
    rows = [
        ("acute GVHD grade", result.roman),
        ("skin stage", str(payload["skin_stage"])),
        ("liver stage", str(payload["liver_stage"])),
        ("GI stage", str(payload["gut_stage"])),
    ]
    if system is AgvhdSystem.MAGIC:
        rows.append(("upper GI stage", str(payload["upper_gi_stage"])))
    _show(as_json, payload, f"Acute GVHD ({result.system})", rows)
    return EXIT_OK


OrganScore = Annotated[int, typer.Option(help="Organ score 0–3.")]


@app.command("cgvhd", help=_CGVHD_HELP)
def cgvhd_command(
    skin: Annotated[int, typer.Option(help="Skin % BSA score 0–3.")] = 0,
    skin_features: Annotated[int, typer.Option(help="Skin-features (sclerosis) score 0–3.")] = 0,
    mouth: OrganScore = 0,
    eyes: OrganScore = 0,
    gi: OrganScore = 0,
    liver: OrganScore = 0,
    lung_symptom_score: Annotated[
        int | None, typer.Option(help="Lung symptom score 0–3 (used only without FEV1).")
    ] = None,
    lung_fev1_percent: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="FEV1 % predicted: gives the lung score."),
    ] = None,
    joints_fascia: OrganScore = 0,
    genital: OrganScore = 0,
    excluded: Annotated[
        list[CgvhdOrgan] | None,
        typer.Option(help="Organ fully explained by a non-GVHD cause (repeatable)."),
    ] = None,
    mixed_cause: Annotated[
        list[CgvhdOrgan] | None,
        typer.Option(help="Organ with GVHD plus another cause: not down-graded (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Chronic GVHD global severity, NIH 2014 (Jagasia 2015): none, mild, moderate, severe."""
    result = _call(
        lambda: grade_chronic_gvhd(
            ChronicGvhdScores(
                skin=skin,
                skin_features=skin_features,
                mouth=mouth,
                eyes=eyes,
                gi=gi,
                liver=liver,
                lung_symptom_score=lung_symptom_score,
                lung_fev1_percent=lung_fev1_percent,
                joints_fascia=joints_fascia,
                genital=genital,
                excluded=frozenset(excluded or ()),
                mixed_cause=frozenset(mixed_cause or ()),
            )
        )
    )
    payload = result.to_dict()
    rows = [("global severity", result.severity.value)]
    rows.extend((f"{organ} score", str(score)) for organ, score in payload["organ_scores"].items())
    _show(as_json, payload, "Chronic GVHD (NIH 2014)", rows)
    return EXIT_OK


@app.command("igg", help=_IGG_HELP)
def igg_command(
    igg_mg_dl: Annotated[
        float | None, typer.Option(parser=parse_number, help="Serum IgG, mg/dL.")
    ] = None,
    igg_g_l: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Serum IgG, g/L (converted × 100 to mg/dL)."),
    ] = None,
    age_years: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Age in years (chooses the default profile)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="adult-400 | adult-500 | pediatric-example (default: by age)."),
    ] = None,
    days_since_ivig: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Days from the last IVIG to the sample."),
    ] = None,
    ivig_window_days: Annotated[
        float | None,
        typer.Option(parser=parse_number, help="Post-IVIG window in days (default 28)."),
    ] = None,
    as_json: JsonFlag = False,
) -> int:
    """Hypogammaglobulinemia: IgG below the profile's (or age band's) lower limit."""
    value, unit = _igg_value(igg_mg_dl, igg_g_l)
    result = _call(
        lambda: assess_igg(
            value,
            unit=unit,
            age_years=age_years,
            profile=profile,
            days_since_ivig=days_since_ivig,
            ivig_window_days=ivig_window_days,
        )
    )
    threshold = result.threshold_mg_dl
    rows = [
        ("status", result.status.value.replace("_", " ")),
        ("IgG", f"{result.igg_mg_dl:g} mg/dL"),
        ("lower limit", "none" if threshold is None else f"{threshold:g} mg/dL"),
    ]
    _show(as_json, result.to_dict(), "IgG", rows)
    return EXIT_NOT_EVALUABLE if result.status is IgGStatus.NOT_EVALUABLE else EXIT_OK


def _igg_value(igg_mg_dl: float | None, igg_g_l: float | None) -> tuple[float, IgGUnit]:
    if igg_mg_dl is not None and igg_g_l is None:
        return igg_mg_dl, IgGUnit.MG_DL
    if igg_g_l is not None and igg_mg_dl is None:
        return igg_g_l, IgGUnit.G_L
    raise InputError(
        "--igg-mg-dl",
        igg_mg_dl,
        "one serum IgG value: --igg-mg-dl or --igg-g-l (not both, not neither)",
    )
