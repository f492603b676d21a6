"""Blinatumomab cycle planning of a patient: the page, the stored cycle's calendar, the API.

Thin routes over :mod:`mrdtrack.web.cycle_entry`. The form works like the other entry
forms: "Verify and plan" shows the dose verification and the dated cycle (nothing is
stored), and only then offers "Save cycle", which stores the course inside
:func:`~mrdtrack.web.context.unit_of_work` and opens the stored cycle's calendar. A
refused input comes back next to its field with HTTP 422. The JSON twins take the same
entry and answer with the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from mrdtrack.errors import InputError
from mrdtrack.therapy import DOSE_SAFETY_LIMITS, MRD_ASSESSMENTS, BsaFormula, Indication
from mrdtrack.web import forms
from mrdtrack.web.api import (
    BODY_TOO_LARGE,
    BlinatumomabDoseOut,
    RecordedDoseOut,
    success,
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
from mrdtrack.web.cycle_entry import (
    CycleEntry,
    PlannedCycle,
    cycle_form,
    plan_patient_cycle,
    save_cycle,
)
from mrdtrack.web.cycle_records import stored_cycle
from mrdtrack.web.policy import Action, is_allowed
from mrdtrack.web.security import Principal

__all__ = ["BlinatumomabCycleIn", "cycle_entry_from_form", "router"]

router = APIRouter()

Context = Annotated[WebContext, Depends(web_context)]
Form = Annotated[dict[str, str], Depends(form_fields)]
Writer = Annotated[Principal, Depends(authorize(Action.PATIENT_WRITE))]
Reader = Annotated[Principal, Depends(authorize(Action.PATIENT_READ))]
StudyId = Annotated[str, Path(max_length=64)]

_WEIGHT = DOSE_SAFETY_LIMITS.weight_kg_hard
_HEIGHT = DOSE_SAFETY_LIMITS.height_cm_hard


def cycle_entry_from_form(form: Mapping[str, str]) -> CycleEntry:
    """The planning form's fields as a :class:`CycleEntry` (types checked, not ranges)."""
    indication = forms.optional_text(form, "indication")
    cycle = forms.optional_text(form, "cycle")
    start = forms.optional_text(form, "start_date")
    return CycleEntry(
        protocol=forms.optional_text(form, "protocol"),
        indication=None if indication is None else forms.choice(form, "indication", Indication),
        cycle=None if cycle is None else forms.count(form, "cycle", "a cycle number ≥ 1"),
        start_date=None if start is None else forms.day(form, "start_date"),
        weight_kg=forms.optional_number(form, "weight_kg", "kg, e.g. 30"),
        height_cm=forms.optional_number(form, "height_cm", "cm, e.g. 135"),
        prescribed_daily_dose=forms.optional_number(
            form, "prescribed_daily_dose", "mcg/day, e.g. 15.9"
        ),
        prescribed_unit=forms.optional_text(form, "prescribed_unit") or "mcg",
        bsa_formula=forms.choice(form, "bsa_formula", BsaFormula, BsaFormula.MOSTELLER),
    )


def _values(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k != "csrf_token"}


def _form_page(
    request: Request,
    context: WebContext,
    principal: Principal,
    study_id: str,
    values: Mapping[str, str] | None = None,
    *,
    planned: PlannedCycle | None = None,
    error: InputError | None = None,
) -> Response:
    with context.registry.reading() as db:
        patient = cycle_form(
            db, principal, study_id, protocols=context.protocols, today=today(context)
        )
    defaults = {
        "protocol": patient.default_protocol,
        "cycle": str(patient.next_cycle),
        "start_date": patient.next_start.isoformat(),
        "prescribed_unit": "mcg",
        "bsa_formula": BsaFormula.MOSTELLER.value,
    }
    return render(
        request,
        "cycle_new.html",
        {
            "patient": patient,
            "values": defaults if values is None else values,
            "planned": planned,
            "error": error,
            "indications": [i.value for i in Indication],
            "formulas": [(f.value, f.display_name) for f in BsaFormula],
            "mrd_unconfirmed": MRD_ASSESSMENTS.unconfirmed,
        },
        status_code=422 if error else 200,
        principal=principal,
    )


@router.get("/patients/{study_id}/blinatumomab/new", include_in_schema=False)
def cycle_new(request: Request, context: Context, principal: Writer, study_id: str) -> Response:
    """The planning form, with the patient's recorded cycles and defaults."""
    return _form_page(request, context, principal, study_id)


@router.post("/patients/{study_id}/blinatumomab/new", include_in_schema=False)
def cycle_submit(
    request: Request, context: Context, principal: Writer, study_id: str, form: Form
) -> Response:
    """``action=plan`` shows the verified cycle; ``action=save`` stores it (audited)."""
    values = _values(form)
    try:
        entry = cycle_entry_from_form(form)
        if form.get("action") == "save":
            reason = forms.optional_text(form, "reason")
            with unit_of_work(context, principal.username, reason) as db:
                saved = save_cycle(
                    db,
                    principal,
                    study_id,
                    entry,
                    protocols=context.protocols,
                    today=today(context),
                    reason=reason,
                )
            where = f"/patients/{quote(saved.planned.study_id, safe='')}/blinatumomab/{saved.id}"
            return RedirectResponse(f"{where}?saved=1", 303)
        with context.registry.reading() as db:
            planned = plan_patient_cycle(
                db, principal, study_id, entry, protocols=context.protocols, today=today(context)
            )
    except InputError as error:
        return _form_page(request, context, principal, study_id, values, error=error)
    return _form_page(request, context, principal, study_id, values, planned=planned)


@router.get("/patients/{study_id}/blinatumomab/{course_id}", include_in_schema=False)
def cycle_view(
    request: Request,
    context: Context,
    principal: Reader,
    study_id: str,
    course_id: int,
    saved: int = 0,
) -> Response:
    """A recorded blinatumomab cycle: its stored dose, basis and calendar."""
    with context.registry.reading() as db:
        cycle = stored_cycle(db, principal, study_id, course_id)
    return render(
        request,
        "cycle_view.html",
        {
            "cycle": cycle,
            "saved": bool(saved),
            "can_enter": is_allowed(principal.role, Action.PATIENT_WRITE),
        },
        principal=principal,
    )


# ---------------------------------------------------------------- JSON API


class BlinatumomabCycleIn(BaseModel):
    """A blinatumomab cycle to plan; a field left out takes the patient's default."""

    model_config = ConfigDict(extra="forbid")

    protocol: str | None = Field(
        default=None,
        max_length=64,
        description="A shipped protocol with a blinatumomab schedule (blincyto-us-mrd, "
        "blincyto-us-rr, blincyto-us-consolidation, tpog-mrd); default: the one the "
        "diagnosis names, else blincyto-us-mrd.",
    )
    indication: Indication | None = Field(
        default=None, description="Must match the protocol's; default: the protocol's."
    )
    cycle: int | None = Field(
        default=None, ge=1, le=9, description="Default: the one after the recorded cycles."
    )
    start_date: date | None = Field(
        default=None, description="Day 1; default: the next start after the recorded cycles."
    )
    weight_kg: float | None = Field(
        default=None,
        ge=_WEIGHT[0],
        le=_WEIGHT[1],
        description="Default: the latest lab value 'weight' (kg) on or before the start.",
    )
    height_cm: float | None = Field(
        default=None,
        ge=_HEIGHT[0],
        le=_HEIGHT[1],
        description="Default: the latest lab value 'height' (cm) on or before the start.",
    )
    prescribed_daily_dose: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="The prescribed daily dose (required to save); mg and 10× entries and "
        "doses above the caps are refused.",
    )
    prescribed_unit: str = Field(default="mcg", min_length=1, max_length=8)
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER
    reason: str | None = Field(
        default=None,
        max_length=200,
        description="Required to save a dose off the label dose by more than the tolerance.",
    )

    def entry(self) -> CycleEntry:
        """As the service's :class:`CycleEntry`."""
        return CycleEntry(**self.model_dump(exclude={"reason"}))


class MrdAssessmentOut(BaseModel):
    """An MRD assessment the cycle calls for."""

    timepoint: str
    date: date
    text: str


class PatientCycleOut(BaseModel):
    """A verified cycle: dose by weight band or BSA, prescribed-dose check, dated cycle.

    ``calendar`` is the cycle of ``mrdtrack calendar blinatumomab --json`` (days,
    hospitalization, reminders, treatment-free interval, next start); ``details`` are the
    values stored with the course.
    """

    study_id: str
    protocol: str
    protocol_title: str
    indication: str
    cycle: int
    phase: str
    start_date: date
    end_date: date
    next_cycle_start: date
    weight_kg: float
    weight_source: str
    height_cm: float
    age_years: float | None
    dose: BlinatumomabDoseOut
    prescribed: RecordedDoseOut | None
    calendar: dict[str, Any]
    mrd_assessments: list[MrdAssessmentOut]
    mrd_assessment_profile: str
    warnings: list[str]
    unconfirmed: list[str]
    details: dict[str, Any]


class SavedCycleOut(PatientCycleOut):
    """A stored cycle: its treatment-course id and what it holds."""

    id: int


_API = "/api/v1/patients/{study_id}/blinatumomab"


@router.post(
    f"{_API}/preview",
    tags=["mrdtrack"],
    response_model=None,
    responses={**success(PatientCycleOut, "The verified cycle (not saved)."), **BODY_TOO_LARGE},
)
def api_cycle_preview(
    context: Context, principal: Writer, study_id: StudyId, body: BlinatumomabCycleIn
) -> JSONResponse:
    """Verify a blinatumomab cycle and lay it out, without saving it."""
    with context.registry.reading() as db:
        planned = plan_patient_cycle(
            db, principal, study_id, body.entry(), protocols=context.protocols, today=today(context)
        )
    return JSONResponse(jsonable_encoder(planned.to_dict()))


@router.post(
    _API,
    tags=["mrdtrack"],
    status_code=201,
    responses={**success(SavedCycleOut, "The stored cycle.", 201), **BODY_TOO_LARGE},
)
def api_cycle_save(
    context: Context, principal: Writer, study_id: StudyId, body: BlinatumomabCycleIn
) -> JSONResponse:
    """Verify and store a blinatumomab cycle (one treatment course, audited)."""
    with unit_of_work(context, principal.username, body.reason) as db:
        saved = save_cycle(
            db,
            principal,
            study_id,
            body.entry(),
            protocols=context.protocols,
            today=today(context),
            reason=body.reason,
        )
        payload = {"id": saved.id, **saved.planned.to_dict()}
    return JSONResponse(jsonable_encoder(payload), status_code=201)
