"""Flow-cytometry MRD from LAIP events (rules FLOW-01, FLOW-02).

``MRD_fraction = N_LAIP / N_denominator`` (Wang Y-L et al. Hematol Rep 2024;16:347-353
[SEED-1], as a percentage of bone-marrow mononuclear cells); the denominator is recorded
with every result. Adequacy, detection and positivity come from a named profile:

* ``seed1-tpog``: fewer than 10⁵ MNC → not evaluable; ≥ 10 LAIP events and ≥ 0.01 % →
  positive (SEED-1);
* ``lod20-lloq50``: LOD 20 events, LLOQ 50 events [U] (ICCS/ESCCA-type convention;
  Theunissen P et al. Blood 2017;129:347-357 for EuroFlow sensitivity).

The achieved sensitivity of an acquisition is ``lod_events / N_denominator``: the
smallest MRD it could call detected. Profiles are never mixed in one result.
"""

from __future__ import annotations

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_count
from mrdtrack.mrd.profiles import FLOW_PROFILES, FlowProfile
from mrdtrack.mrd.result import MrdMethod, MrdResult, MrdStatus, QcFlag, ScalarValue
from mrdtrack.mrd.units import format_fraction, format_percent

__all__ = ["flow_mrd"]


def flow_mrd(
    *,
    leukemic_events: int,
    total_events: int,
    profile: FlowProfile | None = None,
) -> MrdResult:
    """Flow MRD of one acquisition under one profile (FLOW-01, FLOW-02).

    Parameters
    ----------
    leukemic_events
        Events in the LAIP (or different-from-normal) gate.
    total_events
        Events in the denominator population (``profile.denominator``).
    profile
        Default ``seed1-tpog``.

    Examples
    --------
    >>> r = flow_mrd(leukemic_events=12, total_events=100_000)
    >>> r.status.value, round(r.mrd_percent, 4)
    ('positive', 0.012)
    """
    rules = profile or FLOW_PROFILES["seed1-tpog"]
    laip = require_count("leukemic_events", leukemic_events)
    total = require_count("total_events", total_events, minimum=1)
    if laip > total:
        raise InputError(
            "leukemic_events",
            laip,
            f"at most total_events ({total})",
            "the LAIP gate must be a subset of the denominator population",
        )
    inputs: dict[str, ScalarValue] = {
        "leukemic_events": laip,
        "total_events": total,
        "denominator": rules.denominator,
    }
    sensitivity = rules.lod_events / total
    lod_percent = format_percent(sensitivity)
    details: dict[str, ScalarValue] = {
        "lod_events": rules.lod_events,
        "lloq_events": rules.lloq_events,
        "lod_fraction": sensitivity,
        "lloq_fraction": None if rules.lloq_events is None else rules.lloq_events / total,
        "threshold_fraction": None if rules.threshold is None else rules.threshold.limit_fraction,
        "measured_fraction": laip / total,
    }
    rule = "FLOW-01, FLOW-02"

    def result(
        status: MrdStatus,
        detected: bool,
        quantifiable: bool,
        reasons: list[str],
        flags: list[QcFlag],
    ) -> MrdResult:
        return MrdResult(
            method=MrdMethod.FLOW,
            status=status,
            detected=detected,
            # Below the LOD nothing was detected: the raw ratio stays in the details only.
            mrd_fraction=laip / total if detected else None,
            sensitivity_fraction=sensitivity,
            quantifiable=quantifiable,
            reasons=tuple(reasons),
            qc_flags=tuple(flags),
            inputs=inputs,
            profile=rules.label,
            rule=rule,
            details=details,
        )

    if rules.min_total_events is not None and total < rules.min_total_events:
        return result(
            MrdStatus.NOT_EVALUABLE,
            False,
            False,
            [
                f"{total:,} {rules.denominator} acquired; at least {rules.min_total_events:,} "
                f"are needed ({rules.label}): acquire more events or report as not evaluable"
            ],
            [QcFlag.INSUFFICIENT_CELLS],
        )

    flags: list[QcFlag] = []
    insufficient = sensitivity > rules.required_sensitivity_fraction
    if laip < rules.lod_events:
        reasons = [f"MRD not detected (< {lod_percent}, {laip} < {rules.lod_events} LAIP events)"]
        if insufficient:
            flags.append(QcFlag.INSUFFICIENT_SENSITIVITY)
            reasons.append(
                f"sensitivity {lod_percent} is insufficient for a negative call at "
                f"{format_fraction(rules.required_sensitivity_fraction)}"
            )
        return result(MrdStatus.NEGATIVE, False, False, reasons, flags)

    value = laip / total
    shown = f"{format_percent(value)} ({format_fraction(value)})"
    if rules.threshold is not None:
        check = rules.threshold.check(value)
        if check.on_boundary:
            flags.append(QcFlag.ON_THRESHOLD)
        if not check.met:
            flags.append(QcFlag.DETECTED_BELOW_THRESHOLD)
            return result(
                MrdStatus.NEGATIVE,
                True,
                True,
                [
                    f"{laip} LAIP events ({shown}) detected but below the positivity "
                    f"threshold {rules.threshold.describe()}: negative at that threshold"
                ],
                flags,
            )
        reasons = [f"MRD positive, {shown}"]
        if check.on_boundary:
            reasons.append(f"exactly on the threshold {rules.threshold.describe()}: review")
        return result(MrdStatus.POSITIVE, True, True, reasons, flags)
    if rules.lloq_events is not None and laip < rules.lloq_events:
        flags.append(QcFlag.BELOW_LLOQ)
        return result(
            MrdStatus.POSITIVE_NOT_QUANTIFIABLE,
            True,
            False,
            [
                f"MRD detected below the LLOQ (~{shown}; {rules.lod_events} ≤ {laip} < "
                f"{rules.lloq_events} events)"
            ],
            flags,
        )
    return result(MrdStatus.POSITIVE, True, True, [f"MRD positive, {shown}"], flags)
