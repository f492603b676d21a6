"""One patient's timeline as plain values: what a protocol is evaluated against.

The timeline holds what the protocol rules ask about and nothing else: diagnosis and
genetics (Ph, KMT2A, IKZF1, CD19), age, weight and height, disease status (CR1, CR2, …,
relapsed, refractory), treatment phase, prior therapy, the response to blinatumomab, and
MRD results by time-point code (domain rules §5.4).

Unknown is not false: every attribute is ``None`` when not given, and the engine then
reports a rule as *not evaluable* instead of *not met*. MRD follows domain rules §0.2:
a fraction is stored, a not-detected result is ``negative`` with the sensitivity the test
reached (never a stored 0), and a positive-not-quantifiable result keeps the limit of
quantification below which it lies.

:data:`FIELDS` is the vocabulary of the protocol condition language: the loader refuses
a condition on any other field, and the engine reads the values through
:meth:`PatientTimeline.field_value`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count, require_number
from mrdtrack.mrd.result import MrdStatus
from mrdtrack.mrd.units import format_fraction, format_percent

__all__ = [
    "FIELDS",
    "TIMELINE_KEYS",
    "BlinatumomabResponse",
    "DiseaseStatus",
    "FieldKind",
    "FieldSpec",
    "MrdMeasurement",
    "PatientTimeline",
    "Therapy",
    "TreatmentPhase",
    "normalize_timepoint",
    "parse_disease_status",
    "parse_mrd_value",
    "timeline_from_mapping",
]

PlainValue = bool | int | float | str | tuple[str, ...] | None


class DiseaseStatus(StrEnum):
    """Where the disease stands now (domain rules §11.1)."""

    CR = "cr"
    """Complete remission; the remission number says which (CR1, CR2, …)."""
    RELAPSED = "relapsed"
    REFRACTORY = "refractory"


class TreatmentPhase(StrEnum):
    """The phase of therapy the patient is in now."""

    INDUCTION = "induction"
    CONSOLIDATION = "consolidation"
    INTENSIFICATION = "intensification"
    MAINTENANCE = "maintenance"
    SALVAGE = "salvage"
    PRE_HCT = "pre_hct"
    POST_HCT = "post_hct"
    FOLLOW_UP = "follow_up"


class Therapy(StrEnum):
    """Therapies a patient may have received (``prior_therapy``)."""

    CHEMOTHERAPY = "chemotherapy"
    BLINATUMOMAB = "blinatumomab"
    INOTUZUMAB = "inotuzumab"
    TKI = "tki"
    HCT = "hct"
    CAR_T = "car_t"
    DLI = "dli"


class BlinatumomabResponse(StrEnum):
    """The response to the last blinatumomab course (SEED-2 Figure 1 branches)."""

    RESPONSE = "response"
    """CR after blinatumomab (with or without MRD)."""
    NO_RESPONSE = "no_response"
    """Resistant: no CR after blinatumomab."""


class FieldKind(StrEnum):
    """The type of a timeline field, which decides the operators a condition may use."""

    BOOLEAN = "boolean"
    NUMBER = "number"
    INTEGER = "integer"
    CHOICE = "choice"
    SET = "set"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of the condition language: its name, type, allowed values and meaning."""

    name: str
    kind: FieldKind
    description: str
    choices: tuple[str, ...] = ()


FIELDS: Mapping[str, FieldSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            FieldSpec("ph_positive", FieldKind.BOOLEAN, "Philadelphia chromosome (BCR::ABL1)"),
            FieldSpec("cd19_positive", FieldKind.BOOLEAN, "CD19 expressed on the blasts"),
            FieldSpec("kmt2a_rearranged", FieldKind.BOOLEAN, "KMT2A rearrangement"),
            FieldSpec("ikzf1_intragenic_deletion", FieldKind.BOOLEAN, "IKZF1 intragenic deletion"),
            FieldSpec("age_years", FieldKind.NUMBER, "age in years"),
            FieldSpec("age_months", FieldKind.NUMBER, "age in months"),
            FieldSpec("weight_kg", FieldKind.NUMBER, "body weight in kg"),
            FieldSpec("height_cm", FieldKind.NUMBER, "height in cm"),
            FieldSpec(
                "disease_status",
                FieldKind.CHOICE,
                "disease status now",
                tuple(s.value for s in DiseaseStatus),
            ),
            FieldSpec("remission_number", FieldKind.INTEGER, "1 for CR1, 2 for CR2, …"),
            FieldSpec(
                "phase",
                FieldKind.CHOICE,
                "treatment phase now",
                tuple(p.value for p in TreatmentPhase),
            ),
            FieldSpec(
                "prior_therapy",
                FieldKind.SET,
                "therapies received so far",
                tuple(t.value for t in Therapy),
            ),
            FieldSpec(
                "blinatumomab_response",
                FieldKind.CHOICE,
                "response to the last blinatumomab course",
                tuple(r.value for r in BlinatumomabResponse),
            ),
        )
    }
)

# Registry vocabulary of domain rules §5.4 [P]; D<n> covers D8, D15, D19, D29, D33.
_TIMEPOINT = re.compile(
    r"^(D\d{1,3}(_PB|_BM)?|EOI|EOC|MRD[1-9]|PRE_BLIN|POST_C[1-9]|PRE_HCT|POST_HCT(_D\d{1,4})?)$"
)
_TIMEPOINT_HELP = (
    "a time-point code: EOI, EOC, MRD1, MRD2, PRE_BLIN, POST_C1 … POST_C9, PRE_HCT, "
    "POST_HCT, POST_HCT_D<day>, D<day>[_PB|_BM] (domain rules §5.4)"
)


def normalize_timepoint(code: object, field: str = "timepoint") -> str:
    """Return a time-point code in upper case, or raise :class:`InputError`."""
    if not isinstance(code, str) or not _TIMEPOINT.match(code.strip().upper()):
        raise InputError(field, code, _TIMEPOINT_HELP)
    return code.strip().upper()


@dataclass(frozen=True, slots=True)
class MrdMeasurement:
    """One MRD result at one time point, reduced to what a threshold needs.

    Attributes
    ----------
    timepoint
        Domain rules §5.4 code (``EOI``, ``EOC``, ``MRD1`` …).
    status
        ``positive`` (quantified), ``negative`` (not detected),
        ``positive_not_quantifiable`` or ``not_evaluable`` (the sample failed QC).
    mrd_fraction
        The quantified level; only for ``positive``, and > 0.
    sensitivity_fraction
        For ``negative``: the level the test could have detected; the true level lies
        below it. ``None`` when unknown, and then no threshold can be decided.
    quantification_limit_fraction
        For ``positive_not_quantifiable``: the limit of quantification; the true level
        lies above 0 and below it.
    """

    timepoint: str
    status: MrdStatus
    mrd_fraction: float | None = None
    sensitivity_fraction: float | None = None
    quantification_limit_fraction: float | None = None

    def __post_init__(self) -> None:
        field_name = f"mrd.{self.timepoint}"
        if self.status is MrdStatus.POSITIVE:
            if self.mrd_fraction is None:
                raise InputError(field_name, None, "an MRD fraction > 0 for a positive result")
            require_number(
                field_name,
                self.mrd_fraction,
                minimum=0.0,
                min_inclusive=False,
                hint="a not-detected result is 'nd' (with '@sensitivity'), never 0",
            )
        elif self.mrd_fraction is not None:
            raise InputError(field_name, self.mrd_fraction, f"no fraction for {self.status}")
        for name, value in (
            ("sensitivity", self.sensitivity_fraction),
            ("quantification limit", self.quantification_limit_fraction),
        ):
            if value is not None:
                require_number(
                    f"{field_name} {name}", value, minimum=0.0, maximum=1.0, min_inclusive=False
                )

    @property
    def upper_bound_fraction(self) -> float | None:
        """The level the true MRD lies below, for a negative or PNQ result."""
        if self.status is MrdStatus.NEGATIVE:
            return self.sensitivity_fraction
        if self.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE:
            return self.quantification_limit_fraction
        return None

    def describe(self) -> str:
        """``"5.0×10⁻⁴ (0.05 %)"``, ``"not detected (sensitivity 1.0×10⁻⁵)"`` …."""
        if self.status is MrdStatus.POSITIVE and self.mrd_fraction is not None:
            return f"{format_fraction(self.mrd_fraction)} ({format_percent(self.mrd_fraction)})"
        if self.status is MrdStatus.NEGATIVE:
            s = self.sensitivity_fraction
            return "not detected" + (
                f" (sensitivity {format_fraction(s)})" if s else " (sensitivity unknown)"
            )
        if self.status is MrdStatus.POSITIVE_NOT_QUANTIFIABLE:
            q = self.quantification_limit_fraction
            return "positive, not quantifiable" + (f" (< {format_fraction(q)})" if q else "")
        return "not evaluable"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping (fractions only; percent is for display)."""
        return {
            "timepoint": self.timepoint,
            "status": self.status.value,
            "mrd_fraction": self.mrd_fraction,
            "sensitivity_fraction": self.sensitivity_fraction,
            "quantification_limit_fraction": self.quantification_limit_fraction,
        }


_MRD_HELP = (
    "an MRD fraction (0.0005), a percentage ('0.05%'), 'nd' or 'nd@<sensitivity>' "
    "(not detected), 'pnq@<limit>' (positive not quantifiable) or 'ne' (not evaluable)"
)


def _fraction_text(text: str, field: str) -> float:
    """Parse ``0.0005``, ``5e-4`` or ``0.05%`` without binary rounding on the percent."""
    raw = text.strip()
    try:
        # Decimal keeps 0.01 % exactly 1e-4, so a boundary value stays on the boundary.
        scale = 100 if raw.endswith("%") else 1
        value = float(Decimal(raw.removesuffix("%").strip()) / scale)
    except InvalidOperation:
        raise InputError(field, text, _MRD_HELP) from None
    return require_number(field, value, minimum=0.0, maximum=1.0, min_inclusive=False)


def parse_mrd_value(timepoint: str, value: object, field: str = "mrd") -> MrdMeasurement:
    """Build an :class:`MrdMeasurement` from a number, a shorthand string or a mapping.

    Accepted forms: a fraction (``0.0005``); a string fraction or percentage (``"5e-4"``,
    ``"0.05%"``); ``"nd"`` / ``"nd@1e-5"`` (not detected, with the sensitivity reached);
    ``"pnq@1e-4"`` (positive below the limit of quantification); ``"ne"`` (sample not
    evaluable); or a mapping with ``status`` and ``mrd_fraction`` /
    ``sensitivity_fraction`` / ``quantification_limit_fraction``.
    """
    tp = normalize_timepoint(timepoint, f"{field} time point")
    where = f"{field}.{tp}"
    if isinstance(value, bool) or value is None:
        raise InputError(where, value, _MRD_HELP)
    if isinstance(value, int | float):
        number = require_number(
            where,
            value,
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            hint="give MRD as a fraction (0.0005 = 0.05 %); 'nd@<sensitivity>' if not detected",
        )
        return MrdMeasurement(tp, MrdStatus.POSITIVE, mrd_fraction=number)
    if isinstance(value, str):
        return _mrd_from_text(tp, value, where)
    if isinstance(value, Mapping):
        return _mrd_from_mapping(tp, value, where)
    raise InputError(where, value, _MRD_HELP)


def _mrd_from_text(tp: str, text: str, where: str) -> MrdMeasurement:
    lowered = text.strip().lower()
    head, _, tail = lowered.partition("@")
    if head in {"nd", "not_detected", "negative"}:
        limit = _fraction_text(tail, f"{where} sensitivity") if tail else None
        return MrdMeasurement(tp, MrdStatus.NEGATIVE, sensitivity_fraction=limit)
    if head in {"pnq", "positive_not_quantifiable"}:
        limit = _fraction_text(tail, f"{where} quantification limit") if tail else None
        return MrdMeasurement(
            tp, MrdStatus.POSITIVE_NOT_QUANTIFIABLE, quantification_limit_fraction=limit
        )
    if lowered in {"ne", "not_evaluable"}:
        return MrdMeasurement(tp, MrdStatus.NOT_EVALUABLE)
    if tail:
        raise InputError(where, text, _MRD_HELP)
    return MrdMeasurement(tp, MrdStatus.POSITIVE, mrd_fraction=_fraction_text(text, where))


_MRD_KEYS = ("status", "mrd_fraction", "sensitivity_fraction", "quantification_limit_fraction")


def _mrd_from_mapping(tp: str, data: Mapping[object, object], where: str) -> MrdMeasurement:
    for key in data:
        if key not in _MRD_KEYS:
            raise InputError(
                f"{where}.{key}", data[key], f"one of the keys: {', '.join(_MRD_KEYS)}"
            )
    if "status" not in data and data.get("mrd_fraction") is None:
        raise InputError(
            f"{where}.status", None, f"one of: {', '.join(s.value for s in MrdStatus)}"
        )
    raw_status = data.get("status", MrdStatus.POSITIVE.value)
    try:
        status = MrdStatus(str(raw_status))
    except ValueError:
        raise InputError(
            f"{where}.status", raw_status, f"one of: {', '.join(s.value for s in MrdStatus)}"
        ) from None
    numbers: dict[str, float | None] = {}
    for key in _MRD_KEYS[1:]:
        raw = data.get(key)
        if raw is None:
            numbers[key] = None
        elif isinstance(raw, str):
            numbers[key] = _fraction_text(raw, f"{where}.{key}")
        else:
            numbers[key] = require_number(
                f"{where}.{key}", raw, minimum=0.0, maximum=1.0, min_inclusive=False
            )
    return MrdMeasurement(
        tp,
        status,
        mrd_fraction=numbers["mrd_fraction"],
        sensitivity_fraction=numbers["sensitivity_fraction"],
        quantification_limit_fraction=numbers["quantification_limit_fraction"],
    )


_STATUS = re.compile(r"^CR(\d{1,2})?$")


def parse_disease_status(
    value: object, field: str = "disease_status"
) -> tuple[DiseaseStatus, int | None]:
    """``"CR2"`` → (cr, 2); ``"CR"`` → (cr, None); ``"relapsed"`` → (relapsed, None)."""
    expected = "CR1, CR2, … (or CR with the number unknown), relapsed or refractory"
    if not isinstance(value, str):
        raise InputError(field, value, expected)
    text = value.strip()
    match = _STATUS.match(text.upper())
    if match:
        number = int(match.group(1)) if match.group(1) else None
        if number == 0:
            raise InputError(field, value, expected)
        return DiseaseStatus.CR, number
    if text.lower() in (DiseaseStatus.RELAPSED, DiseaseStatus.REFRACTORY):
        return DiseaseStatus(text.lower()), None
    raise InputError(field, value, expected)


@dataclass(frozen=True, slots=True)
class PatientTimeline:
    """The plain values one protocol evaluation reads; ``None`` means not known.

    ``prior_therapy`` is ``None`` when not given (a rule asking about it is then not
    evaluable) and an empty set when the patient has had none of the listed therapies.
    """

    patient_id: str | None = None
    disease_status: DiseaseStatus | None = None
    remission_number: int | None = None
    ph_positive: bool | None = None
    cd19_positive: bool | None = None
    kmt2a_rearranged: bool | None = None
    ikzf1_intragenic_deletion: bool | None = None
    age_months: float | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    phase: TreatmentPhase | None = None
    prior_therapy: frozenset[Therapy] | None = None
    blinatumomab_response: BlinatumomabResponse | None = None
    mrd: tuple[MrdMeasurement, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.remission_number is not None:
            require_count("remission_number", self.remission_number, minimum=1)
            if self.disease_status not in (None, DiseaseStatus.CR):
                raise InputError(
                    "remission_number",
                    self.remission_number,
                    "no remission number unless the disease status is CR",
                )
        if self.age_months is not None:
            require_number("age_months", self.age_months, minimum=0.0, maximum=130 * 12)
        if self.weight_kg is not None:
            require_number(
                "weight_kg", self.weight_kg, minimum=0.0, maximum=400.0, min_inclusive=False
            )
        if self.height_cm is not None:
            require_number(
                "height_cm", self.height_cm, minimum=0.0, maximum=260.0, min_inclusive=False
            )
        seen: set[str] = set()
        for measurement in self.mrd:
            if measurement.timepoint in seen:
                raise InputError(
                    f"mrd.{measurement.timepoint}",
                    measurement.describe(),
                    "one result per time point",
                )
            seen.add(measurement.timepoint)

    @property
    def age_years(self) -> float | None:
        """Age in years (months / 12)."""
        return None if self.age_months is None else self.age_months / 12.0

    def mrd_at(self, timepoint: str) -> MrdMeasurement | None:
        """The MRD result at ``timepoint``, if the timeline has one."""
        for measurement in self.mrd:
            if measurement.timepoint == timepoint:
                return measurement
        return None

    def field_value(self, name: str) -> PlainValue:
        """The value of a :data:`FIELDS` entry as a plain value (``None`` = not known)."""
        if name not in FIELDS:
            raise InputError("field", name, f"one of: {', '.join(FIELDS)}")
        if name == "age_years":
            return self.age_years
        value = getattr(self, name)
        if isinstance(value, frozenset):
            return tuple(sorted(t.value for t in value))
        if isinstance(value, StrEnum):
            return value.value
        return value  # type: ignore[no-any-return]

    def describe_status(self) -> str | None:
        """``"CR1"``, ``"CR"``, ``"relapsed"`` …, as a person writes it."""
        if self.disease_status is None:
            return None
        if self.disease_status is DiseaseStatus.CR:
            return f"CR{self.remission_number or ''}"
        return self.disease_status.value

    def to_dict(self) -> dict[str, object]:
        """JSON-ready mapping of every value, the unknown ones as ``null``."""
        return {
            "patient_id": self.patient_id,
            "disease_status": self.describe_status(),
            "ph_positive": self.ph_positive,
            "cd19_positive": self.cd19_positive,
            "kmt2a_rearranged": self.kmt2a_rearranged,
            "ikzf1_intragenic_deletion": self.ikzf1_intragenic_deletion,
            "age_months": self.age_months,
            "age_years": self.age_years,
            "weight_kg": self.weight_kg,
            "height_cm": self.height_cm,
            "phase": None if self.phase is None else self.phase.value,
            "prior_therapy": None
            if self.prior_therapy is None
            else sorted(t.value for t in self.prior_therapy),
            "blinatumomab_response": None
            if self.blinatumomab_response is None
            else self.blinatumomab_response.value,
            "mrd": {m.timepoint: m.to_dict() for m in self.mrd},
        }


TIMELINE_KEYS: tuple[str, ...] = (
    "patient_id",
    "disease_status",
    "ph_positive",
    "cd19_positive",
    "kmt2a_rearranged",
    "ikzf1_intragenic_deletion",
    "age_years",
    "age_months",
    "weight_kg",
    "height_cm",
    "phase",
    "prior_therapy",
    "blinatumomab_response",
    "mrd",
)


def _boolean(key: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError(key, value, "true or false (leave it out when unknown)")


def _choice(key: str, value: object, enum: type[StrEnum]) -> str | None:
    if value is None:
        return None
    allowed = [member.value for member in enum]
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise InputError(key, value, f"one of: {', '.join(allowed)}")
    return value.strip().lower()


def timeline_from_mapping(data: Mapping[str, object]) -> PatientTimeline:
    """Validate a mapping (a parsed YAML/JSON timeline) into a :class:`PatientTimeline`.

    Keys are those of :data:`TIMELINE_KEYS`; ``disease_status`` takes ``CR1``, ``CR2`` …,
    ``relapsed`` or ``refractory``; give ``age_years`` or ``age_months``, not both;
    ``mrd`` maps time-point codes to values in any form :func:`parse_mrd_value` accepts.
    Errors name the key (``mrd.EOI``, ``weight_kg``) and what is accepted.
    """
    for key in data:
        if key not in TIMELINE_KEYS:
            raise InputError(str(key), data[key], f"one of the keys: {', '.join(TIMELINE_KEYS)}")
    status: DiseaseStatus | None = None
    number: int | None = None
    if data.get("disease_status") is not None:
        status, number = parse_disease_status(data["disease_status"])
    if data.get("age_years") is not None and data.get("age_months") is not None:
        raise InputError("age_months", data["age_months"], "either age_years or age_months")
    age_months: float | None = None
    if data.get("age_years") is not None:
        age_months = require_number("age_years", data["age_years"], minimum=0.0, maximum=130.0) * 12
    elif data.get("age_months") is not None:
        age_months = require_number("age_months", data["age_months"], minimum=0.0)
    therapies: frozenset[Therapy] | None = None
    raw_therapy = data.get("prior_therapy")
    if raw_therapy is not None:
        if not isinstance(raw_therapy, list | tuple):
            raise InputError(
                "prior_therapy", raw_therapy, f"a list of: {', '.join(t.value for t in Therapy)}"
            )
        therapies = frozenset(
            Therapy(_choice(f"prior_therapy[{i}]", item, Therapy) or "")
            for i, item in enumerate(raw_therapy)
        )
    raw_mrd = data.get("mrd")
    measurements: list[MrdMeasurement] = []
    if raw_mrd is not None:
        if not isinstance(raw_mrd, Mapping):
            raise InputError(
                "mrd", raw_mrd, "a mapping of time point to MRD value, e.g. {EOI: 0.0005}"
            )
        for tp, value in raw_mrd.items():
            measurements.append(parse_mrd_value(str(tp), value))
    phase = _choice("phase", data.get("phase"), TreatmentPhase)
    response = _choice(
        "blinatumomab_response", data.get("blinatumomab_response"), BlinatumomabResponse
    )
    patient_id = data.get("patient_id")
    if patient_id is not None and not isinstance(patient_id, str | int):
        raise InputError("patient_id", patient_id, "a text or number label")
    return PatientTimeline(
        patient_id=None if patient_id is None else str(patient_id),
        disease_status=status,
        remission_number=number,
        ph_positive=_boolean("ph_positive", data.get("ph_positive")),
        cd19_positive=_boolean("cd19_positive", data.get("cd19_positive")),
        kmt2a_rearranged=_boolean("kmt2a_rearranged", data.get("kmt2a_rearranged")),
        ikzf1_intragenic_deletion=_boolean(
            "ikzf1_intragenic_deletion", data.get("ikzf1_intragenic_deletion")
        ),
        age_months=age_months,
        weight_kg=None
        if data.get("weight_kg") is None
        else require_number("weight_kg", data["weight_kg"], minimum=0.0, min_inclusive=False),
        height_cm=None
        if data.get("height_cm") is None
        else require_number("height_cm", data["height_cm"], minimum=0.0, min_inclusive=False),
        phase=None if phase is None else TreatmentPhase(phase),
        prior_therapy=therapies,
        blinatumomab_response=None if response is None else BlinatumomabResponse(response),
        mrd=tuple(measurements),
    )
