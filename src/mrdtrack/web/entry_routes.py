"""Entry forms and their JSON twins: new patient with diagnosis, adverse event, outcome.

Thin routes over :mod:`mrdtrack.web.clinical_entry`: read the form (or the JSON body),
call the service inside :func:`~mrdtrack.web.context.unit_of_work`, and show a refused
input next to its field with HTTP 422. The adverse-event form works like the MRD form:
"Compute grade" runs the grading calculator and shows the grade, "Save event" stores it
with its inputs, scale and grade. A reason, when given, goes to the audit trail (the
audit layer asks for one whenever stored data would change).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.grading import (
    AgvhdSystem,
    CtcaeVersion,
    Hypotension,
    Hypoxia,
)
from mrdtrack.grading.icans import CerebralOedema, Consciousness, Motor, Seizure
from mrdtrack.registry.vocabulary import GeneticSubtype, OutcomeKind, Sex
from mrdtrack.web import forms
from mrdtrack.web.api import BODY_TOO_LARGE, success
from mrdtrack.web.clinical_entry import (
    AeTerm,
    CnsStatus,
    GradedEvent,
    OutcomeEntry,
    PatientEntry,
    add_adverse_event,
    add_outcome,
    create_patient,
    grade_event,
)
from mrdtrack.web.context import (
    WebContext,
    authorize,
    form_fields,
    render,
    today,
    unit_of_work,
    web_context,
)
from mrdtrack.web.patients import load_patient
from mrdtrack.web.policy import Action
from mrdtrack.web.security import Principal

__all__ = ["AE_FIELDS", "api_router", "page_router"]

page_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1", tags=["mrdtrack"])

Context = Annotated[WebContext, Depends(web_context)]
Form = Annotated[dict[str, str], Depends(form_fields)]
Writer = Annotated[Principal, Depends(authorize(Action.PATIENT_WRITE))]
StudyId = Annotated[str, Path(max_length=64)]

_FieldSpec = tuple[str, str, str, type[StrEnum] | None]
_FLAG, _NUM, _NUM_REQ, _COUNT, _COUNT_REQ, _CHOICE, _TEXT = (
    "flag",
    "number",
    "number!",
    "count",
    "count!",
    "choice",
    "text!",
)

AE_FIELDS: Mapping[AeTerm, tuple[_FieldSpec, ...]] = {
    AeTerm.CRS: (
        ("temperature_c", "Highest temperature (°C)", _NUM, None),
        ("hypotension", "Hypotension", _CHOICE, Hypotension),
        ("hypoxia", "Hypoxia", _CHOICE, Hypoxia),
        ("vasopressin", "Vasopressin", _FLAG, None),
        ("anti_cytokine", "Anti-cytokine therapy given", _FLAG, None),
        ("antipyretic", "Antipyretic given", _FLAG, None),
        ("died_of_crs", "Died of CRS", _FLAG, None),
    ),
    AeTerm.ICANS: (
        ("age_years", "Age (years)", _NUM_REQ, None),
        ("ice_score", "ICE score (0–10, age ≥ 12)", _COUNT, None),
        ("capd_score", "CAPD total (age < 12)", _COUNT, None),
        ("consciousness", "Level of consciousness", _CHOICE, Consciousness),
        ("seizure", "Seizure", _CHOICE, Seizure),
        ("motor", "Motor findings", _CHOICE, Motor),
        ("cerebral_oedema", "Cerebral oedema", _CHOICE, CerebralOedema),
        ("developmental_delay", "Developmental delay", _FLAG, None),
    ),
    AeTerm.ACUTE_GVHD: (
        ("system", "Grading system", _CHOICE, AgvhdSystem),
        ("skin_rash_bsa_percent", "Rash (% BSA)", _NUM, None),
        ("bullae_desquamation_bsa_percent", "Bullae / desquamation (% BSA)", _NUM, None),
        ("bilirubin_mg_dl", "Bilirubin (mg/dL)", _NUM, None),
        ("liver_other_cause", "Other cause of hyperbilirubinaemia", _FLAG, None),
        ("diarrhea_ml_per_day", "Stool output (mL/day)", _NUM, None),
        ("diarrhea_ml_per_kg_day", "Stool output (mL/kg/day)", _NUM, None),
        ("stool_episodes_per_day", "Stool episodes per day", _COUNT, None),
        ("stool_mixed_with_urine", "Stool mixed with urine", _FLAG, None),
        ("weight_kg", "Weight (kg)", _NUM, None),
        ("severe_abdominal_pain", "Severe abdominal pain / ileus", _FLAG, None),
        ("grossly_bloody_stool", "Grossly bloody stool", _FLAG, None),
        ("upper_gi_symptoms", "Upper-GI symptoms", _FLAG, None),
        ("upper_gi_biopsy_positive", "Upper-GI biopsy positive", _FLAG, None),
    ),
    AeTerm.CHRONIC_GVHD: (
        ("skin", "Skin (% BSA score 0–3)", _COUNT, None),
        ("skin_features", "Skin features score (0–3)", _COUNT, None),
        ("mouth", "Mouth (0–3)", _COUNT, None),
        ("eyes", "Eyes (0–3)", _COUNT, None),
        ("gi", "GI tract (0–3)", _COUNT, None),
        ("liver", "Liver (0–3)", _COUNT, None),
        ("lung_symptom_score", "Lung symptom score (0–3)", _COUNT, None),
        ("lung_fev1_percent", "FEV1 (% predicted)", _NUM, None),
        ("joints_fascia", "Joints and fascia (0–3)", _COUNT, None),
        ("genital", "Genital tract (0–3)", _COUNT, None),
    ),
    AeTerm.OTHER: (
        ("ctcae_term", "CTCAE term", _TEXT, None),
        ("ctcae_grade", "CTCAE grade (1–5)", _COUNT_REQ, None),
        ("ctcae_version", "CTCAE version", _CHOICE, CtcaeVersion),
    ),
}
"""The grading inputs of each calculator as form fields: name, label, kind, choices."""

_TERM_LABELS = {
    AeTerm.CRS: "CRS (ASTCT 2019)",
    AeTerm.ICANS: "ICANS (ASTCT 2019)",
    AeTerm.ACUTE_GVHD: "Acute GVHD",
    AeTerm.CHRONIC_GVHD: "Chronic GVHD (NIH 2014)",
    AeTerm.OTHER: "Other (CTCAE)",
}
_TRI_STATE = {"yes": True, "no": False, "unknown": None}


def _tri_state(form: Mapping[str, str], name: str) -> bool | None:
    raw = (forms.optional_text(form, name) or "unknown").lower()
    if raw not in _TRI_STATE:
        raise InputError(name, raw, "yes, no or unknown")
    return _TRI_STATE[raw]


def _optional_day(form: Mapping[str, str], name: str) -> date | None:
    return forms.day(form, name) if forms.optional_text(form, name) else None


def patient_entry_from_form(form: Mapping[str, str]) -> PatientEntry:
    """The new-patient form's fields as a :class:`PatientEntry` (types, not ranges)."""
    cns = forms.optional_text(form, "cns_status")
    return PatientEntry(
        study_id=forms.text(form, "study_id", "a study id such as SITE-P012"),
        site_code=forms.optional_text(form, "site_code"),
        sex=forms.choice(form, "sex", Sex),
        birth_date=_optional_day(form, "birth_date"),
        diagnosis_date=forms.day(form, "diagnosis_date"),
        genetic_subtype=forms.choice(form, "genetic_subtype", GeneticSubtype),
        ph_positive=_tri_state(form, "ph_positive"),
        cd19_positive=_tri_state(form, "cd19_positive"),
        wbc_per_ul=forms.optional_number(form, "wbc_per_ul", "white cells per µL, e.g. 12000"),
        cns_status=None if cns is None else forms.choice(form, "cns_status", CnsStatus),
        risk_group=forms.optional_text(form, "risk_group"),
        protocol=forms.optional_text(form, "protocol"),
    )


def ae_inputs_from_form(term: AeTerm, form: Mapping[str, str]) -> dict[str, Any]:
    """The chosen calculator's findings from the form; empty optional fields left out."""
    inputs: dict[str, Any] = {}
    for name, label, kind, enum in AE_FIELDS[term]:
        if kind == _FLAG:
            inputs[name] = forms.flag(form, name)
        elif kind == _CHOICE and enum is not None:
            if forms.optional_text(form, name) is not None:
                inputs[name] = forms.choice(form, name, enum).value
        elif kind == _TEXT:
            inputs[name] = forms.text(form, name, label)
        elif kind in {_NUM, _NUM_REQ}:
            value = forms.optional_number(form, name, label)
            if value is None and kind == _NUM_REQ:
                raise InputError(name, None, label)
            if value is not None:
                inputs[name] = value
        elif forms.optional_text(form, name) is not None or kind == _COUNT_REQ:
            inputs[name] = forms.count(form, name, f"a whole number: {label}")
    return inputs


def outcome_entry_from_form(form: Mapping[str, str]) -> OutcomeEntry:
    """The outcome form's fields as an :class:`OutcomeEntry`."""
    return OutcomeEntry(
        kind=forms.choice(form, "kind", OutcomeKind),
        event_date=forms.day(form, "event_date"),
        detail=forms.optional_text(form, "detail"),
    )


def _values(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k != "csrf_token"}


# ---------------------------------------------------------------- new patient


def _patient_page(
    request: Request,
    principal: Principal,
    values: Mapping[str, str],
    error: InputError | None = None,
) -> Response:
    return render(
        request,
        "patient_new.html",
        {
            "values": values,
            "error": error,
            "sexes": [s.value for s in Sex],
            "subtypes": [s.value for s in GeneticSubtype],
            "cns": [c.value for c in CnsStatus],
            "own_site": principal.site_id is not None,
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/patients/new")
def patient_form(request: Request, principal: Writer) -> Response:
    """The new-patient form: the patient and the diagnosis in one entry."""
    return _patient_page(request, principal, {})


@page_router.post("/patients/new")
def patient_submit(request: Request, context: Context, principal: Writer, form: Form) -> Response:
    """Create the patient and its diagnosis (audited), then open the patient page."""
    try:
        entry = patient_entry_from_form(form)
        with unit_of_work(context, principal.username, forms.optional_text(form, "reason")) as db:
            patient = create_patient(db, principal, entry, today=today(context))
            study_id = patient.study_id
    except InputError as error:
        return _patient_page(request, principal, _values(form), error)
    return RedirectResponse(f"/patients/{study_id}?entered=patient", 303)


# ---------------------------------------------------------------- adverse event


def _ae_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    study_id: str,
    values: Mapping[str, str],
    *,
    graded: GradedEvent | None = None,
    error: InputError | None = None,
) -> Response:
    with context.registry.reading() as db:
        patient_id = load_patient(db, principal, study_id, full=False).study_id
    return render(
        request,
        "ae_new.html",
        {
            "study_id": patient_id,
            "values": values,
            "graded": graded,
            "error": error,
            "terms": [(t.value, _TERM_LABELS[t]) for t in AeTerm],
            "calculators": [
                (
                    t.value,
                    _TERM_LABELS[t],
                    [
                        (name, label, kind, [m.value for m in enum] if enum else [])
                        for name, label, kind, enum in AE_FIELDS[t]
                    ],
                )
                for t in AeTerm
            ],
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/patients/{study_id}/adverse-events/new")
def ae_form(request: Request, context: Context, principal: Writer, study_id: str) -> Response:
    """The adverse-event form with the grading calculators."""
    defaults = {"term": "crs", "onset_date": today(context).isoformat()}
    return _ae_page(request, context, principal, study_id, defaults)


@page_router.post("/patients/{study_id}/adverse-events/new")
def ae_submit(
    request: Request, context: Context, principal: Writer, study_id: str, form: Form
) -> Response:
    """``action=compute`` shows the grade; ``action=save`` stores the graded event."""
    values = _values(form)
    try:
        term = forms.choice(form, "term", AeTerm)
        onset = forms.day(form, "onset_date")
        resolved = _optional_day(form, "resolved_date")
        graded = grade_event(term, ae_inputs_from_form(term, form))
        if form.get("action") == "save":
            reason = forms.optional_text(form, "reason")
            with unit_of_work(context, principal.username, reason) as db:
                add_adverse_event(
                    db,
                    principal,
                    study_id,
                    graded,
                    onset_date=onset,
                    resolved_date=resolved,
                    management=forms.optional_text(form, "management"),
                    today=today(context),
                )
            return RedirectResponse(
                f"/patients/{study_id}?entered=adverse_event#adverse-events", 303
            )
    except InputError as error:
        return _ae_page(request, context, principal, study_id, values, error=error)
    return _ae_page(request, context, principal, study_id, values, graded=graded)


# ---------------------------------------------------------------- outcome


def _outcome_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    study_id: str,
    values: Mapping[str, str],
    error: InputError | None = None,
) -> Response:
    with context.registry.reading() as db:
        patient_id = load_patient(db, principal, study_id, full=False).study_id
    return render(
        request,
        "outcome_new.html",
        {
            "study_id": patient_id,
            "values": values,
            "error": error,
            "kinds": [k.value for k in OutcomeKind],
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@page_router.get("/patients/{study_id}/outcomes/new")
def outcome_form(request: Request, context: Context, principal: Writer, study_id: str) -> Response:
    """The outcome form: relapse (site), death (cause), last contact."""
    defaults = {"kind": "last_contact", "event_date": today(context).isoformat()}
    return _outcome_page(request, context, principal, study_id, defaults)


@page_router.post("/patients/{study_id}/outcomes/new")
def outcome_submit(
    request: Request, context: Context, principal: Writer, study_id: str, form: Form
) -> Response:
    """Store the outcome event (audited), then open the patient page."""
    try:
        entry = outcome_entry_from_form(form)
        with unit_of_work(context, principal.username, forms.optional_text(form, "reason")) as db:
            add_outcome(db, principal, study_id, entry, today=today(context))
    except InputError as error:
        return _outcome_page(request, context, principal, study_id, _values(form), error)
    return RedirectResponse(f"/patients/{study_id}?entered=outcome#outcomes", 303)


# ---------------------------------------------------------------- JSON API


class PatientIn(BaseModel):
    """A new patient and its diagnosis."""

    model_config = ConfigDict(extra="forbid")

    study_id: str = Field(min_length=1, max_length=64)
    site_code: str | None = Field(default=None, max_length=32)
    sex: Sex
    birth_date: date | None = None
    diagnosis_date: date
    genetic_subtype: GeneticSubtype
    ph_positive: bool | None = None
    cd19_positive: bool | None = None
    wbc_per_ul: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    cns_status: CnsStatus | None = None
    risk_group: str | None = Field(default=None, max_length=64)
    protocol: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=200)


class AdverseEventIn(BaseModel):
    """An adverse event: the calculator's findings in ``inputs`` (see ``AE_FIELDS``)."""

    model_config = ConfigDict(extra="forbid")

    term: AeTerm
    onset_date: date
    resolved_date: date | None = None
    management: str | None = Field(default=None, max_length=200)
    inputs: dict[str, bool | int | float | str | None] = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=200)


class OutcomeIn(BaseModel):
    """An outcome event: ``detail`` is the relapse site or the cause of death."""

    model_config = ConfigDict(extra="forbid")

    kind: OutcomeKind
    event_date: date
    detail: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=200)


class PatientCreatedOut(BaseModel):
    """The new patient's study id and site."""

    study_id: str
    site_id: int


class GradedEventOut(BaseModel):
    """An adverse event's grade: term, scale, grade, the findings and the calculator's result.

    ``grade`` is null for chronic GVHD (NIH 2014 gives a severity, in ``result``).
    """

    term: str
    scale: str
    grade: int | None
    grading_inputs: dict[str, Any]
    result: dict[str, Any]


class SavedEventOut(GradedEventOut):
    """A stored adverse event: its row id and grade."""

    id: int


class SavedOutcomeOut(BaseModel):
    """A stored outcome event."""

    id: int
    kind: str
    event_date: date


def _graded_json(graded: GradedEvent) -> dict[str, Any]:
    encoded: dict[str, Any] = jsonable_encoder(
        {
            "term": graded.term,
            "scale": graded.scale,
            "grade": graded.grade,
            "grading_inputs": dict(graded.grading_inputs),
            "result": dict(graded.result),
        }
    )
    return encoded


@api_router.post(
    "/patients",
    status_code=201,
    responses={**success(PatientCreatedOut, "The patient was created.", 201), **BODY_TOO_LARGE},
)
def api_patient_create(context: Context, principal: Writer, body: PatientIn) -> JSONResponse:
    """Create a patient with its diagnosis (audited)."""
    values = body.model_dump(exclude={"reason"})
    with unit_of_work(context, principal.username, body.reason) as db:
        patient = create_patient(db, principal, PatientEntry(**values), today=today(context))
        created = {"study_id": patient.study_id, "site_id": patient.site_id}
    return JSONResponse(created, status_code=201)


def _api_inputs(body: AdverseEventIn) -> dict[str, Any]:
    return {k: v for k, v in body.inputs.items() if v is not None}


@api_router.post(
    "/patients/{study_id}/adverse-events/preview",
    response_model=None,
    responses={**success(GradedEventOut, "The grade (not saved)."), **BODY_TOO_LARGE},
)
def api_ae_preview(
    context: Context, principal: Writer, study_id: StudyId, body: AdverseEventIn
) -> dict[str, Any]:
    """Grade an adverse event with its calculator without saving it."""
    with context.registry.reading() as db:
        load_patient(db, principal, study_id, full=False)
    return _graded_json(grade_event(body.term, _api_inputs(body)))


@api_router.post(
    "/patients/{study_id}/adverse-events",
    status_code=201,
    responses={**success(SavedEventOut, "The stored event.", 201), **BODY_TOO_LARGE},
)
def api_ae_save(
    context: Context, principal: Writer, study_id: StudyId, body: AdverseEventIn
) -> JSONResponse:
    """Grade and store an adverse event (grading inputs, scale and grade; audited)."""
    graded = grade_event(body.term, _api_inputs(body))
    with unit_of_work(context, principal.username, body.reason) as db:
        row = add_adverse_event(
            db,
            principal,
            study_id,
            graded,
            onset_date=body.onset_date,
            resolved_date=body.resolved_date,
            management=body.management,
            today=today(context),
        )
        saved = {"id": row.id, **_graded_json(graded)}
    return JSONResponse(saved, status_code=201)


@api_router.post(
    "/patients/{study_id}/outcomes",
    status_code=201,
    responses={**success(SavedOutcomeOut, "The stored outcome.", 201), **BODY_TOO_LARGE},
)
def api_outcome_save(
    context: Context, principal: Writer, study_id: StudyId, body: OutcomeIn
) -> JSONResponse:
    """Store an outcome event (audited)."""
    detail = None if body.detail is None else body.detail.strip() or None
    entry = OutcomeEntry(body.kind, body.event_date, detail)
    with unit_of_work(context, principal.username, body.reason) as db:
        row = add_outcome(db, principal, study_id, entry, today=today(context))
        saved = {"id": row.id, "kind": row.kind, "event_date": row.event_date.isoformat()}
    return JSONResponse(saved, status_code=201)
