"""The JSON REST API under ``/api/v1``: the pages' operations, for programs.

Same services, same policy, same session: a program signs in through ``/login`` like
a browser, reads its CSRF token from ``GET /api/v1/session`` and sends it as the
``X-CSRF-Token`` header with every POST. Pydantic models exist here only, at the
boundary; errors are ``{"detail": …, "field": …}`` with 422 (input), 404, 403 or 401.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from mrdtrack.grading import Hypotension, Hypoxia, grade_crs
from mrdtrack.registry.records import MRD_INPUT_KEYS, MrdInputValue
from mrdtrack.registry.vocabulary import Timepoint, Tissue
from mrdtrack.therapy import (
    BLINATUMOMAB_LABELS,
    DOSE_SAFETY_LIMITS,
    US_LABEL,
    BsaFormula,
    Indication,
)
from mrdtrack.web.cohort import cohort_payload
from mrdtrack.web.context import WebContext, authorize, today, unit_of_work, web_context
from mrdtrack.web.dashboard_cache import cache_of
from mrdtrack.web.filters import (
    NO_THERAPY,
    SUBTYPES,
    THERAPIES,
    MrdFilter,
    parse_filter,
    site_choices,
)
from mrdtrack.web.mrd_entry import ComputedMrd, MrdEntry, compute_mrd, save_mrd
from mrdtrack.web.patients import PatientDetail, list_patients, patient_detail
from mrdtrack.web.policy import Action
from mrdtrack.web.security import Principal
from mrdtrack.web.tools import plan_cycle

__all__ = ["API_ERRORS", "BODY_TOO_LARGE", "InvalidInput", "Problem", "router", "success"]

router = APIRouter(prefix="/api/v1", tags=["mrdtrack"])

Context = Annotated[WebContext, Depends(web_context)]
Reader = Annotated[Principal, Depends(authorize(Action.PATIENT_READ))]
Writer = Annotated[Principal, Depends(authorize(Action.MRD_WRITE))]
CohortReader = Annotated[Principal, Depends(authorize(Action.COHORT_READ))]
ToolUser = Annotated[Principal, Depends(authorize(Action.TOOLS_USE))]
Anyone = Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))]
StudyId = Annotated[str, Path(max_length=64)]


_TIMEPOINT_PATTERN = "^(" + "|".join(t.value for t in Timepoint) + r"|POST_HCT_D\d{1,4})$"


class MrdEntryIn(BaseModel):
    """Raw inputs of one MRD measurement; ``inputs`` are the engine's keywords."""

    model_config = ConfigDict(extra="forbid")

    # The vocabularies are documented as enums and a pattern (the schema says what the
    # server accepts); the MRD entry service still checks them and names the field.
    method: str = Field(
        description="flow, rq-pcr or ngs",
        max_length=16,
        json_schema_extra={"enum": list(MRD_INPUT_KEYS)},
    )
    sample_date: date
    timepoint: str = Field(
        description="EOI, EOC, MRD1 … or POST_HCT_D<day>",
        max_length=32,
        json_schema_extra={"pattern": _TIMEPOINT_PATTERN},
    )
    tissue: str = Field(
        description="BM or PB", max_length=8, json_schema_extra={"enum": [t.value for t in Tissue]}
    )
    marker: str | None = Field(default=None, max_length=64)
    profile: str | None = Field(default=None, max_length=64)
    inputs: dict[str, int | float | list[float] | None] = Field(
        description="flow: leukemic_events, total_events; rq-pcr: fusion_copies, "
        "control_copies, replicates, …; ngs: clonal_cells, …",
        max_length=16,
    )

    def entry(self) -> MrdEntry:
        """As the service's :class:`MrdEntry`."""
        inputs: dict[str, MrdInputValue] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in self.inputs.items()
        }
        return MrdEntry(
            method=self.method,
            sample_date=self.sample_date,
            timepoint=self.timepoint,
            tissue=self.tissue,
            marker=self.marker,
            inputs=inputs,
            profile=self.profile,
        )


class CrsIn(BaseModel):
    """Findings of one CRS episode (ASTCT 2019)."""

    model_config = ConfigDict(extra="forbid")

    temperature_c: float | None = Field(
        default=None, ge=25, le=45, allow_inf_nan=False, description="highest temperature, °C"
    )
    hypotension: Hypotension = Hypotension.NONE
    hypoxia: Hypoxia = Hypoxia.NONE
    vasopressin: bool = False
    anti_cytokine: bool = False
    antipyretic: bool = False
    died_of_crs: bool = False


class CyclePlanIn(BaseModel):
    """A blinatumomab cycle to verify and, with ``start``, to lay out."""

    model_config = ConfigDict(extra="forbid")

    weight_kg: float = Field(
        ge=DOSE_SAFETY_LIMITS.weight_kg_hard[0],
        le=DOSE_SAFETY_LIMITS.weight_kg_hard[1],
        allow_inf_nan=False,
    )
    height_cm: float = Field(
        ge=DOSE_SAFETY_LIMITS.height_cm_hard[0],
        le=DOSE_SAFETY_LIMITS.height_cm_hard[1],
        allow_inf_nan=False,
    )
    indication: Indication
    cycle: int = Field(default=1, ge=1, le=9)
    profile: str = Field(
        default=US_LABEL.id,
        max_length=64,
        json_schema_extra={"enum": list(BLINATUMOMAB_LABELS)},
    )
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER
    start: date | None = None
    cycles: int = Field(default=1, ge=1, le=9)
    age_years: float | None = Field(default=None, ge=0, le=130, allow_inf_nan=False)
    recorded_daily_dose: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    recorded_unit: str = Field(default="mcg", max_length=8)


# ---------------------------------------------------------------- OpenAPI: response bodies
# Documented, not enforced (``response_model=None``): FastAPI would silently drop a key a
# model lacks. The schemathesis contract test (tests/web/test_schemathesis.py) checks every
# answer against these models, so a body and its model cannot drift apart unnoticed.


class Problem(BaseModel):
    """An error: what went wrong and what to do; for a refused input, the field to correct."""

    detail: str = Field(description="The message, saying what to do.")
    field: str | None = Field(default=None, description="The refused input (422 only).")
    reason: str | None = Field(
        default=None,
        description="403 while an account must finish its set-up: the step still due.",
    )


class ValidationIssue(BaseModel):
    """One way a request does not match this schema (FastAPI's own format)."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidInput(BaseModel):
    """422: a rule refused an input, or the request does not match this schema.

    A refused input has ``detail`` (the message: what was given, what is accepted, what
    to do) and ``field`` (its name); a request that does not match the schema has
    ``detail`` as the list of its problems.
    """

    detail: str | list[ValidationIssue]
    field: str | None = None


def _problem(description: str, model: type[BaseModel] = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("The request body cannot be read (not JSON, or not UTF-8)."),
    401: _problem("Not signed in, or the session has ended: sign in through /login."),
    403: _problem(
        "The role may not do this, the CSRF token (X-CSRF-Token) is missing or wrong, or "
        "the account must first finish its set-up."
    ),
    404: _problem(
        "No such patient, protocol or other named record for this caller (another site's "
        "patient reads as absent), or no such API path."
    ),
    422: _problem("A refused input, or a request that does not match this schema.", InvalidInput),
}
"""The error answers of every API route (attached to every route by :func:`create_app`)."""

BODY_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: _problem("The request body is larger than the server accepts.")
}
"""The extra error answer of a route that takes a request body."""


def success(model: type[BaseModel], description: str, status: int = 200) -> dict[int | str, Any]:
    """``responses=`` documenting a route's success body."""
    return {status: {"model": model, "description": description}}


class SessionOut(BaseModel):
    """The signed-in user and the CSRF token to send as ``X-CSRF-Token``."""

    username: str
    role: str
    site_id: int | None
    csrf_token: str


class LatestMrdOut(BaseModel):
    """A patient's most recent MRD result."""

    sample_date: date
    timepoint: str
    method: str
    status: str
    mrd_fraction: float | None
    sensitivity_fraction: float | None


class PatientRowOut(BaseModel):
    """One patient of the list."""

    study_id: str
    site_code: str
    sex: str
    diagnosis_date: date | None
    genetic_subtype: str | None
    risk_group: str | None
    latest_mrd: LatestMrdOut | None
    current_therapy: list[str]


class PatientListOut(BaseModel):
    """One page of the patient list with the filters that made it."""

    rows: list[PatientRowOut]
    total: int
    limit: int
    offset: int
    query: str
    filters: dict[str, Any]


class MrdResultOut(BaseModel):
    """A stored MRD result: the engine's call, its basis and its ASH 2021 response."""

    id: int
    sample_date: date
    timepoint: str
    tissue: str
    method: str
    marker: str | None
    status: str
    detected: bool
    quantifiable: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None
    qc_flags: list[str]
    reasons: list[str]
    profile: str
    rule: str
    engine_version: str
    response: dict[str, Any] | None
    response_note: str | None
    reconstructed: bool


class PatientDetailOut(BaseModel):
    """One patient: key facts, MRD results, courses, events, protocol evaluation.

    Clinical rows are their stored columns; ``evaluation`` is the protocol engine's
    object (``mrdtrack protocol evaluate --json``).
    """

    study_id: str
    site_code: str
    site_name: str
    sex: str
    birth_date: date | None
    notes: str | None
    reconstructed: list[str]
    diagnosis: dict[str, Any] | None
    markers: list[dict[str, Any]]
    mrd: list[MrdResultOut]
    assessments: list[dict[str, Any]]
    treatments: list[dict[str, Any]]
    adverse_events: list[dict[str, Any]]
    lab_values: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    protocol_id: str | None
    evaluation: dict[str, Any] | None
    as_of: date


class EngineResultOut(BaseModel):
    """The MRD engine's result (``mrdtrack mrd … --json``), with its method's details."""

    method: str
    status: str
    detected: bool
    quantifiable: bool
    mrd_fraction: float | None
    sensitivity_fraction: float | None
    reasons: list[str]
    qc_flags: list[str]
    profile: str
    rule: str
    inputs: dict[str, Any]


class ComputedMrdOut(BaseModel):
    """The engine's result of an entry, and its response category on the sample's day."""

    result: EngineResultOut
    response: dict[str, Any] | None
    response_note: str | None


class CrsGradeOut(BaseModel):
    """An ASTCT 2019 CRS grade with the findings that set it."""

    grade: int
    system: str
    drivers: list[str]
    meets_definition: bool
    notes: list[str]
    source: str
    rule: str
    unconfirmed: list[str]
    inputs: dict[str, Any]


class DoseStepOut(BaseModel):
    """The daily dose of a run of infusion days, with its formula."""

    days: str
    daily_dose_ug: float
    dose_basis: str
    cap_ug: float
    cap_binds: bool
    formula: str


class BlinatumomabDoseOut(BaseModel):
    """The label dose of one cycle with its basis (``mrdtrack dose blinatumomab --json``)."""

    kind: str
    indication: str
    cycle: int
    phase: str
    bsa_m2: float
    bsa_formula: str | None
    weight_band: str
    daily_dose_ug: float
    steps: list[DoseStepOut]
    infusion_days: int
    treatment_free_days: int
    max_daily_dose_ug: float
    max_step_daily_dose_ug: float
    warnings: list[str]
    inputs: dict[str, Any]
    label_version: str
    label_effective_date: str
    source: str
    rule: str
    unconfirmed: list[str]


class RecordedDoseOut(BaseModel):
    """A recorded (prescribed) daily dose checked against the label dose of its day."""

    recorded_daily_dose_ug: float
    expected_daily_dose_ug: float
    infusion_day: int
    step_days: str
    cap_ug: float
    deviation_fraction: float
    tolerance_fraction: float
    within_tolerance: bool
    warnings: list[str]
    label_version: str
    source: str
    rule: str


class CyclePlanOut(BaseModel):
    """The label dose, the recorded-dose check and the calendar (``mrdtrack calendar …``)."""

    dose: BlinatumomabDoseOut
    recorded: RecordedDoseOut | None
    calendar: dict[str, Any] | None


class CohortOut(BaseModel):
    """The dashboard's numbers for the filters given (``mrdtrack.web.cohort``).

    Counts of 1-4 are null for a de-identified caller (``small_cells_suppressed``).
    """

    filters: dict[str, Any]
    patients: int | None
    sites: int | None
    mrd_results: int | None
    by_subtype: list[list[str | int | None]]
    by_sex: list[list[str | int | None]]
    patients_with: dict[str, int | None]
    response_table: list[dict[str, Any]]
    summary: dict[str, Any] | None
    endpoints: dict[str, Any]
    mrd_response_rates: list[dict[str, Any]]
    small_cells_suppressed: bool


class FilterQuery(BaseModel):
    """The patient filters of the list and the dashboard (allowlists: ``web.filters``)."""

    # The allowlists are documented as enums (the schema says what the server accepts);
    # parse_filter still checks them and names the parameter it refuses.
    subtype: str | None = Field(
        default=None,
        max_length=64,
        description="genetic subtype",
        json_schema_extra={"enum": list(SUBTYPES)},
    )
    site: str | None = Field(default=None, max_length=32, description="site code")
    therapy: str | None = Field(
        default=None,
        max_length=32,
        description="current treatment kind, or none",
        json_schema_extra={"enum": [*THERAPIES, NO_THERAPY]},
    )
    mrd: str | None = Field(
        default=None,
        max_length=16,
        description="latest MRD status: positive, negative, not_evaluable or none",
        json_schema_extra={"enum": [m.value for m in MrdFilter]},
    )
    year_from: int | None = Field(default=None, ge=1900, le=2100, description="diagnosis year ≥")
    year_to: int | None = Field(default=None, ge=1900, le=2100, description="diagnosis year ≤")

    def params(self) -> dict[str, str]:
        """The filters as the query parameters :func:`~mrdtrack.web.filters.parse_filter` reads."""
        return {k: str(v) for k, v in self.model_dump().items() if v is not None}


def _detail_json(detail: PatientDetail) -> dict[str, Any]:
    payload: dict[str, Any] = jsonable_encoder(
        {f.name: getattr(detail, f.name) for f in fields(detail) if f.name != "evaluation"}
    )
    payload["evaluation"] = None if detail.evaluation is None else detail.evaluation.to_dict()
    return payload


def _computed_json(computed: ComputedMrd) -> dict[str, Any]:
    return {
        "result": computed.result.to_dict(),
        "response": jsonable_encoder(computed.response),
        "response_note": computed.response_note,
    }


@router.get("/session", response_model=None, responses=success(SessionOut, "The session."))
def session_info(request: Request, principal: Anyone) -> dict[str, Any]:
    """Who is signed in, their role, and the CSRF token to send with every POST."""
    return {
        "username": principal.username,
        "role": principal.role.value,
        "site_id": principal.site_id,
        "csrf_token": request.state.web_session.csrf_token,
    }


@router.get(
    "/patients", response_model=None, responses=success(PatientListOut, "One page of patients.")
)
def api_patients(
    context: Context,
    principal: Reader,
    filters: Annotated[FilterQuery, Query()],
    q: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The patients the caller may see, by study-id text and the filters.

    Subtype, site, current therapy, latest MRD status and diagnosis years, as the
    patient list page filters them (``mrdtrack.web.filters``).
    """
    with context.registry.reading() as db:
        sites = site_choices(db, principal)
        page = list_patients(
            db,
            principal,
            today=today(context),
            query=q,
            filters=parse_filter(filters.params(), sites),
            sites=sites,
            limit=limit,
            offset=offset,
        )
    encoded: dict[str, Any] = jsonable_encoder(page)
    return encoded


@router.get(
    "/patients/{study_id}", response_model=None, responses=success(PatientDetailOut, "The patient.")
)
def api_patient(
    context: Context,
    principal: Reader,
    study_id: StudyId,
    protocol: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """One patient: key facts, MRD results with responses, courses, protocol evaluation."""
    with context.registry.reading() as db:
        detail = patient_detail(
            db,
            principal,
            study_id,
            as_of=today(context),
            protocols=context.protocols,
            protocol_id=protocol,
        )
    return _detail_json(detail)


@router.post(
    "/patients/{study_id}/mrd/preview",
    response_model=None,
    responses={**success(ComputedMrdOut, "The engine's result (not saved)."), **BODY_TOO_LARGE},
)
def api_mrd_preview(
    context: Context, principal: Writer, study_id: StudyId, body: MrdEntryIn
) -> dict[str, Any]:
    """Run the MRD engine on raw inputs without saving: status, fraction, sensitivity."""
    with context.registry.transaction() as db:
        computed = compute_mrd(db, principal, study_id, body.entry(), today=today(context))
    return _computed_json(computed)


@router.post(
    "/patients/{study_id}/mrd",
    status_code=201,
    responses={**success(MrdResultOut, "The stored result.", 201), **BODY_TOO_LARGE},
)
def api_mrd_save(
    context: Context, principal: Writer, study_id: StudyId, body: MrdEntryIn
) -> JSONResponse:
    """Compute and store an MRD result (a new sample and its result, audited)."""
    with unit_of_work(context, principal.username) as db:
        saved = save_mrd(db, principal, study_id, body.entry(), today=today(context))
    return JSONResponse(jsonable_encoder(saved), status_code=201)


@router.post(
    "/tools/crs",
    response_model=None,
    responses={**success(CrsGradeOut, "The grade."), **BODY_TOO_LARGE},
)
def api_crs(principal: ToolUser, body: CrsIn) -> dict[str, Any]:
    """ASTCT 2019 CRS grade with the findings that set it."""
    return grade_crs(**body.model_dump()).to_dict()


@router.post(
    "/tools/blinatumomab",
    response_model=None,
    responses={**success(CyclePlanOut, "Dose check and calendar."), **BODY_TOO_LARGE},
)
def api_blinatumomab(principal: ToolUser, body: CyclePlanIn) -> dict[str, Any]:
    """Label dose verification of a cycle, a recorded-dose check, and the calendar."""
    return plan_cycle(**body.model_dump()).to_dict()


@router.get("/cohort", response_model=None, responses=success(CohortOut, "The cohort overview."))
def api_cohort(
    request: Request,
    context: Context,
    principal: CohortReader,
    filters: Annotated[FilterQuery, Query()],
) -> Response:
    """The dashboard's numbers: counts, Table 1, OS/EFS/CIR curves, MRD response.

    The same filters as the patient list; counts of 1–4 are ``null`` for a
    de-identified caller (``small_cells_suppressed``); see ``mrdtrack.web.cohort``.
    The encoded JSON is cached with the dashboard, until the registry changes.
    """
    body = cohort_payload(
        context.registry,
        cache_of(request.app),
        principal,
        filters.params(),
        today=today(context),
    )
    return Response(body, media_type="application/json")
