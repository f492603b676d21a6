"""The HTML pages: patients, the patient page, MRD entry, the calculators, the cohort.

Thin routes: read the form, call :mod:`mrdtrack.web.patients`, :mod:`.cohort`,
:mod:`.tools` or the domain core, render a template. A refused input comes back as
the same form with the message next to its field (HTTP 422), never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.grading import Hypotension, Hypoxia, grade_crs
from mrdtrack.mrd import FLOW_PROFILES, QPCR_PROFILES
from mrdtrack.registry.records import MrdInputValue
from mrdtrack.registry.vocabulary import Timepoint, Tissue
from mrdtrack.therapy import BLINATUMOMAB_LABELS, US_LABEL, BsaFormula, Indication
from mrdtrack.web import forms
from mrdtrack.web.cohort import cohort_dashboard
from mrdtrack.web.cohort_routes import dashboard_body
from mrdtrack.web.context import (
    WebContext,
    authorize,
    form_fields,
    render,
    today,
    unit_of_work,
    web_context,
)
from mrdtrack.web.dashboard_cache import cache_of
from mrdtrack.web.filters import filter_choices, parse_filter, site_choices
from mrdtrack.web.mrd_entry import MrdEntry, compute_mrd, entry_context, save_mrd
from mrdtrack.web.patients import list_patients, patient_detail
from mrdtrack.web.policy import Action, is_allowed
from mrdtrack.web.security import Principal
from mrdtrack.web.tools import plan_cycle

__all__ = ["mrd_entry_from_form", "router"]

router = APIRouter(include_in_schema=False)

Context = Annotated[WebContext, Depends(web_context)]
Form = Annotated[dict[str, str], Depends(form_fields)]
Reader = Annotated[Principal, Depends(authorize(Action.PATIENT_READ))]
Writer = Annotated[Principal, Depends(authorize(Action.MRD_WRITE))]
CohortReader = Annotated[Principal, Depends(authorize(Action.COHORT_READ))]
ToolUser = Annotated[Principal, Depends(authorize(Action.TOOLS_USE))]

_ENTRY_METHODS = ("flow", "rq-pcr")
_ENTERED = {"patient": "Patient", "adverse_event": "Adverse event", "outcome": "Outcome event"}


@router.get("/patients")
def patients_page(
    request: Request,
    context: Context,
    principal: Reader,
    q: str = "",
    offset: int = 0,
) -> Response:
    """The patient list: search by study id; subtype, site, therapy, MRD and year filters."""
    error = None
    on = today(context)
    with context.registry.reading() as db:
        sites = site_choices(db, principal)
        try:
            chosen = parse_filter(dict(request.query_params), sites)
            page = list_patients(
                db, principal, today=on, query=q, filters=chosen, sites=sites, offset=offset
            )
        except InputError as refused:
            error = refused
            page = list_patients(db, principal, today=on, sites=sites)
    return render(
        request,
        "patients.html",
        {
            "page": page,
            "choices": filter_choices(sites),
            "error": error,
            "can_enter": is_allowed(principal.role, Action.PATIENT_WRITE),
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@router.get("/patients/{study_id}")
def patient_page(
    request: Request,
    context: Context,
    principal: Reader,
    study_id: str,
    protocol: str = "",
    saved: int | None = None,
    entered: str = "",
) -> Response:
    """Key facts, MRD results with status and sensitivity, courses, protocol evaluation."""
    with context.registry.reading() as db:
        detail = patient_detail(
            db,
            principal,
            study_id,
            as_of=today(context),
            protocols=context.protocols,
            protocol_id=protocol or None,
        )
    return render(
        request,
        "patient.html",
        {
            "patient": detail,
            "protocols": sorted(context.protocols.values(), key=lambda p: p.id),
            "saved": saved,
            # A fixed message per kind: the query text itself is never shown.
            "entered": _ENTERED.get(entered),
            "can_write": is_allowed(principal.role, Action.MRD_WRITE),
            "can_enter": is_allowed(principal.role, Action.PATIENT_WRITE),
        },
        principal=principal,
    )


def mrd_entry_from_form(form: Mapping[str, str]) -> MrdEntry:
    """The MRD entry form's fields as an :class:`MrdEntry` (types checked, not ranges)."""
    method = forms.text(form, "method", "flow or rq-pcr")
    if method not in _ENTRY_METHODS:
        raise InputError("method", method, "flow or rq-pcr")
    inputs: dict[str, MrdInputValue] = {}
    if method == "flow":
        inputs["leukemic_events"] = forms.count(form, "leukemic_events", "a whole number of events")
        inputs["total_events"] = forms.count(form, "total_events", "a whole number of events")
    else:
        inputs["fusion_copies"] = forms.number(form, "fusion_copies", "copies, a number ≥ 0")
        inputs["control_copies"] = forms.number(form, "control_copies", "copies, a number > 0")
        inputs["replicates"] = forms.count(form, "replicates", "a whole number ≥ 1", default=1)
        sensitivity = forms.optional_number(
            form, "assay_sensitivity_fraction", "a fraction such as 1e-5"
        )
        if sensitivity is not None:
            inputs["assay_sensitivity_fraction"] = sensitivity
    return MrdEntry(
        method=method,
        sample_date=forms.day(form, "sample_date"),
        timepoint=forms.text(form, "timepoint", "a time point"),
        tissue=forms.text(form, "tissue", "BM or PB"),
        marker=forms.optional_text(form, "marker"),
        inputs=inputs,
        profile=forms.optional_text(form, "profile"),
    )


def _entry_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    study_id: str,
    values: Mapping[str, str],
    *,
    computed: object = None,
    error: InputError | None = None,
) -> Response:
    with context.registry.transaction() as db:
        patient = entry_context(db, principal, study_id)
    return render(
        request,
        "mrd_new.html",
        {
            "patient": patient,
            "values": values,
            "computed": computed,
            "error": error,
            "timepoints": [t.value for t in Timepoint],
            "tissues": [t.value for t in Tissue],
            "profiles": {"flow": list(FLOW_PROFILES), "rq-pcr": list(QPCR_PROFILES)},
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@router.get("/patients/{study_id}/mrd/new")
def mrd_form(request: Request, context: Context, principal: Writer, study_id: str) -> Response:
    """The MRD entry form: raw inputs in, the engine's result out."""
    method = request.query_params.get("method", "flow")
    with context.registry.reading() as db:
        patient = entry_context(db, principal, study_id)
    wanted = "fusion_transcript" if method == "rq-pcr" else "laip"
    marker = next((key for key, kind, _ in patient.markers if kind == wanted), "")
    defaults = {
        "method": method,
        "sample_date": today(context).isoformat(),
        "tissue": "BM",
        "marker": marker,
        "profile": "seed1-tpog",
        "replicates": "3",
    }
    return _entry_page(request, context, principal, study_id, defaults)


@router.post("/patients/{study_id}/mrd/new")
def mrd_submit(
    request: Request, context: Context, principal: Writer, study_id: str, form: Form
) -> Response:
    """``action=compute`` shows the engine's result; ``action=save`` stores it (audited)."""
    values = {k: v for k, v in form.items() if k != "csrf_token"}
    try:
        entry = mrd_entry_from_form(form)
        if form.get("action") == "save":
            with unit_of_work(context, principal.username) as db:
                saved = save_mrd(db, principal, study_id, entry, today=today(context))
            return RedirectResponse(f"/patients/{study_id}?saved={saved.id}#mrd", 303)
        with context.registry.transaction() as db:
            computed = compute_mrd(db, principal, study_id, entry, today=today(context))
    except InputError as error:
        return _entry_page(request, context, principal, study_id, values, error=error)
    return _entry_page(request, context, principal, study_id, values, computed=computed)


@router.get("/tools/crs")
def crs_tool(request: Request, principal: ToolUser) -> Response:
    """ASTCT 2019 CRS grade from the findings (submitting the form recomputes it)."""
    values = dict(request.query_params)
    grade = error = None
    if values:
        try:
            grade = grade_crs(
                temperature_c=forms.optional_number(values, "temperature_c", "°C, e.g. 38.6"),
                hypotension=forms.choice(values, "hypotension", Hypotension, Hypotension.NONE),
                hypoxia=forms.choice(values, "hypoxia", Hypoxia, Hypoxia.NONE),
                vasopressin=forms.flag(values, "vasopressin"),
                anti_cytokine=forms.flag(values, "anti_cytokine"),
                antipyretic=forms.flag(values, "antipyretic"),
                died_of_crs=forms.flag(values, "died_of_crs"),
            )
        except InputError as refused:
            error = refused
    return render(
        request,
        "tools_crs.html",
        {
            "values": values,
            "grade": grade,
            "error": error,
            "hypotension": [h.value for h in Hypotension],
            "hypoxia": [h.value for h in Hypoxia],
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@router.get("/tools/blinatumomab")
def blinatumomab_tool(request: Request, principal: ToolUser) -> Response:
    """Blinatumomab dose verification against the label, and the dated cycle calendar."""
    values = dict(request.query_params)
    plan = error = None
    if values:
        try:
            start = forms.day(values, "start") if forms.optional_text(values, "start") else None
            plan = plan_cycle(
                weight_kg=forms.number(values, "weight_kg", "kg, e.g. 20"),
                height_cm=forms.number(values, "height_cm", "cm, e.g. 115"),
                indication=forms.choice(values, "indication", Indication),
                cycle=forms.count(values, "cycle", "a cycle number ≥ 1", default=1),
                profile=forms.optional_text(values, "profile") or US_LABEL.id,
                bsa_formula=forms.choice(values, "bsa_formula", BsaFormula, BsaFormula.MOSTELLER),
                start=start,
                cycles=forms.count(values, "cycles", "a number of cycles ≥ 1", default=1),
                age_years=forms.optional_number(values, "age_years", "years, e.g. 6"),
                recorded_daily_dose=forms.optional_number(
                    values, "recorded_daily_dose", "mcg/day, e.g. 12"
                ),
            )
        except InputError as refused:
            error = refused
    return render(
        request,
        "tools_blinatumomab.html",
        {
            "values": values,
            "plan": plan,
            "error": error,
            "indications": [i.value for i in Indication],
            "profiles": list(BLINATUMOMAB_LABELS),
            "formulas": [f.value for f in BsaFormula],
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@router.get("/cohort")
def cohort_page(request: Request, context: Context, principal: CohortReader) -> Response:
    """The dashboard of the patients the viewer may see, narrowed by the filters."""
    cache, on = cache_of(request.app), today(context)
    error = None
    try:
        dashboard = cohort_dashboard(
            context.registry, cache, principal, dict(request.query_params), today=on
        )
    except InputError as refused:
        error = refused
        dashboard = cohort_dashboard(context.registry, cache, principal, {}, today=on)
    return render(
        request,
        "cohort.html",
        {"body": dashboard_body(request, principal, dashboard, on=on, error=error)},
        status_code=422 if error else 200,
        principal=principal,
    )
