"""Cross-method MRD response categories (rule RESP-MRD).

ASH Education Program 2021;2021(1):718-725, Table 1 (doi:10.1182/hematology.2021000224),
evaluated only in patients in hematologic complete remission:

* **MRD CR** (MRD-negative): not detected, with an assay sensitivity of at least 10⁻⁴;
* **MRD failure**: positive at ≥ 10⁻⁴;
* **MRD intermediate**: everything else: positive below 10⁻⁴, positive not quantifiable
  below 10⁻⁴, or negative with insufficient sensitivity.

This module is the one place where a result meets the 10⁻⁴ classification thresholds
(reliability goal 29): every interface that shows a response category calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mrdtrack.mrd.result import MrdResult, MrdStatus
from mrdtrack.mrd.thresholds import THRESHOLDS, Threshold
from mrdtrack.mrd.units import format_fraction

__all__ = ["MrdResponse", "MrdResponseCategory", "mrd_response"]


class MrdResponseCategory(StrEnum):
    """ASH 2021 MRD response categories."""

    MRD_CR = "mrd_cr"
    MRD_FAILURE = "mrd_failure"
    MRD_INTERMEDIATE = "mrd_intermediate"
    NOT_EVALUABLE = "not_evaluable"


@dataclass(frozen=True, slots=True)
class MrdResponse:
    """A response category with the reason and the thresholds that decided it."""

    category: MrdResponseCategory
    reason: str
    positive_threshold: str
    sensitivity_threshold: str
    source: str = "ASH Educ Program 2021;2021(1):718-725, Table 1"


def mrd_response(
    result: MrdResult,
    *,
    in_hematologic_cr: bool,
    positive_threshold: Threshold | None = None,
    sensitivity_threshold: Threshold | None = None,
) -> MrdResponse:
    """The ASH 2021 MRD response category of one result (RESP-MRD).

    Parameters
    ----------
    result
        Any method's :class:`MrdResult`.
    in_hematologic_cr
        MRD response is defined only in hematologic CR (< 5 % blasts, SEED-1).
    positive_threshold, sensitivity_threshold
        Defaults: ``MRD-POS-1E-4`` (≥ 10⁻⁴) and ``MRD-SENS-1E-4`` (≤ 10⁻⁴).
    """
    pos = positive_threshold or THRESHOLDS["MRD-POS-1E-4"]
    sens = sensitivity_threshold or THRESHOLDS["MRD-SENS-1E-4"]

    def respond(category: MrdResponseCategory, reason: str) -> MrdResponse:
        return MrdResponse(category, reason, pos.id, sens.id)

    if not in_hematologic_cr:
        return respond(
            MrdResponseCategory.NOT_EVALUABLE,
            "not in hematologic CR: MRD response is not evaluable",
        )
    if result.status is MrdStatus.NOT_EVALUABLE:
        return respond(MrdResponseCategory.NOT_EVALUABLE, "the MRD sample is not evaluable")
    if result.detected:
        if result.mrd_fraction is None:
            return respond(
                MrdResponseCategory.NOT_EVALUABLE,
                "MRD detected but its level is not computable (e.g. no diagnosis reference)",
            )
        shown = format_fraction(result.mrd_fraction)
        if pos.check(result.mrd_fraction).met:
            return respond(
                MrdResponseCategory.MRD_FAILURE, f"MRD positive {shown}: {pos.describe()}"
            )
        kind = "not quantifiable" if not result.quantifiable else "positive"
        return respond(
            MrdResponseCategory.MRD_INTERMEDIATE,
            f"MRD {kind} below the threshold ({shown})",
        )
    limit = result.sensitivity_fraction
    if limit is None:
        return respond(
            MrdResponseCategory.NOT_EVALUABLE,
            "negative without a known sensitivity: cannot call MRD-negative",
        )
    if sens.check(limit).met:
        return respond(
            MrdResponseCategory.MRD_CR,
            f"MRD not detected with sensitivity {format_fraction(limit)}",
        )
    return respond(
        MrdResponseCategory.MRD_INTERMEDIATE,
        f"negative with insufficient sensitivity ({format_fraction(limit)})",
    )
