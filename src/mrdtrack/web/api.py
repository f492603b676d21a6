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
from starlette.responses import JSONResponse

from mrdtrack.grading import Hypotension, Hypoxia, grade_crs
from mrdtrack.registry.records import MrdInputValue
from mrdtrack.therapy import US_LABEL, BsaFormula, Indication
from mrdtrack.web.cohort import cohort_overview, cohort_table_one
from mrdtrack.web.context import WebContext, authorize, today, unit_of_work, web_context
from mrdtrack.web.mrd_entry import ComputedMrd, MrdEntry, compute_mrd, save_mrd
from mrdtrack.web.patients import PatientDetail, list_patients, patient_detail
from mrdtrack.web.policy import Action
from mrdtrack.web.security import Principal
from mrdtrack.web.tools import plan_cycle

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["mrdtrack"])

Context = Annotated[WebContext, Depends(web_context)]
Reader = Annotated[Principal, Depends(authorize(Action.PATIENT_READ))]
Writer = Annotated[Principal, Depends(authorize(Action.MRD_WRITE))]
CohortReader = Annotated[Principal, Depends(authorize(Action.COHORT_READ))]
ToolUser = Annotated[Principal, Depends(authorize(Action.TOOLS_USE))]
Anyone = Annotated[Principal, Depends(authorize(Action.ACCOUNT_SELF))]
StudyId = Annotated[str, Path(max_length=64)]


class MrdEntryIn(BaseModel):
    """Raw inputs of one MRD measurement; ``inputs`` are the engine's keywords."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(description="flow, rq-pcr or ngs", max_length=16)
    sample_date: date
    timepoint: str = Field(description="EOI, EOC, MRD1 … or POST_HCT_D<day>", max_length=32)
    tissue: str = Field(description="BM or PB", max_length=8)
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

    temperature_c: float | None = None
    hypotension: Hypotension = Hypotension.NONE
    hypoxia: Hypoxia = Hypoxia.NONE
    vasopressin: bool = False
    anti_cytokine: bool = False
    antipyretic: bool = False
    died_of_crs: bool = False


class CyclePlanIn(BaseModel):
    """A blinatumomab cycle to verify and, with ``start``, to lay out."""

    model_config = ConfigDict(extra="forbid")

    weight_kg: float
    height_cm: float
    indication: Indication
    cycle: int = 1
    profile: str = Field(default=US_LABEL.id, max_length=64)
    bsa_formula: BsaFormula = BsaFormula.MOSTELLER
    start: date | None = None
    cycles: int = 1
    age_years: float | None = None
    recorded_daily_dose: float | None = None
    recorded_unit: str = Field(default="mcg", max_length=8)


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


@router.get("/session")
def session_info(request: Request, principal: Anyone) -> dict[str, Any]:
    """Who is signed in, their role, and the CSRF token to send with every POST."""
    return {
        "username": principal.username,
        "role": principal.role.value,
        "site_id": principal.site_id,
        "csrf_token": request.state.web_session.csrf_token,
    }


@router.get("/patients")
def api_patients(
    context: Context,
    principal: Reader,
    q: Annotated[str, Query(max_length=64)] = "",
    subtype: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The patients the caller may see, filtered by study-id text and subtype."""
    with context.registry.reading() as db:
        page = list_patients(db, principal, query=q, subtype=subtype, limit=limit, offset=offset)
    encoded: dict[str, Any] = jsonable_encoder(page)
    return encoded


@router.get("/patients/{study_id}")
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


@router.post("/patients/{study_id}/mrd/preview")
def api_mrd_preview(
    context: Context, principal: Writer, study_id: StudyId, body: MrdEntryIn
) -> dict[str, Any]:
    """Run the MRD engine on raw inputs without saving: status, fraction, sensitivity."""
    with context.registry.transaction() as db:
        computed = compute_mrd(db, principal, study_id, body.entry(), today=today(context))
    return _computed_json(computed)


@router.post("/patients/{study_id}/mrd", status_code=201)
def api_mrd_save(
    context: Context, principal: Writer, study_id: StudyId, body: MrdEntryIn
) -> JSONResponse:
    """Compute and store an MRD result (a new sample and its result, audited)."""
    with unit_of_work(context, principal.username) as db:
        saved = save_mrd(db, principal, study_id, body.entry(), today=today(context))
    return JSONResponse(jsonable_encoder(saved), status_code=201)


@router.post("/tools/crs")
def api_crs(principal: ToolUser, body: CrsIn) -> dict[str, Any]:
    """ASTCT 2019 CRS grade with the findings that set it."""
    return grade_crs(**body.model_dump()).to_dict()


@router.post("/tools/blinatumomab")
def api_blinatumomab(principal: ToolUser, body: CyclePlanIn) -> dict[str, Any]:
    """Label dose verification of a cycle, a recorded-dose check, and the calendar."""
    return plan_cycle(**body.model_dump()).to_dict()


@router.get("/cohort")
def api_cohort(context: Context, principal: CohortReader) -> dict[str, Any]:
    """Counts, the MRD response table and (all-site callers) the case-series summary."""
    with context.registry.reading() as db:
        overview = cohort_overview(db, principal)
    summary = cohort_table_one(context.registry, principal)
    encoded: dict[str, Any] = jsonable_encoder(overview)
    encoded["summary"] = None if summary is None else summary.to_dict()
    return encoded
