"""FCS file + gating strategy → gate counts → flow MRD with provenance (rules FLOW-01, FLOW-02).

The per-patient LAIP strategy is defined at diagnosis (Wang Y-L et al. Hematol Rep
2024;16:347-353 [SEED-1]: six antibodies; the "different-from-normal" approach works the
same way) and kept with the patient's MRD marker; each follow-up file is gated with it.
The LAIP events counted are those of the leukemic gate that also lie in the denominator
gate (all events when none is named), and :func:`mrdtrack.mrd.flow_mrd` turns the two
counts into the :class:`~mrdtrack.mrd.MrdResult`: this module computes no MRD itself.
The result's inputs carry the file's SHA-256 and the strategy's id and version, so a
stored value can always be traced to the exact file and gates that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from mrdtrack.errors import InputError
from mrdtrack.lab.fcs import SpilloverMatrix, read_fcs
from mrdtrack.lab.gating import GatingResult, GatingStrategy, apply_strategy
from mrdtrack.lab.gatingml import load_strategy
from mrdtrack.mrd import FlowProfile, MrdResult, flow_mrd

__all__ = ["FcsAnalysis", "analyze_fcs", "gate_fcs"]


@dataclass(frozen=True, slots=True)
class FcsAnalysis:
    """Gate counts of one FCS file under one strategy, and the MRD when a LAIP gate is named.

    Attributes
    ----------
    file_name, file_sha256
        The file analysed and its SHA-256 (hex).
    events_total
        ``$TOT``.
    gate_counts
        Events per gate id (every gate and quadrant of the strategy).
    strategy_id, strategy_version, strategy_sha256
        Which gating strategy, and the digest of its document.
    leukemic_gate, denominator_gate
        The gates behind the MRD (``denominator_gate`` None = all events).
    leukemic_events, denominator_events
        The counts passed to the engine (LAIP events inside the denominator).
    mrd
        The engine's result, or None when no leukemic gate was named.
    notes
        What the analysis had to assume (e.g. no spillover in the file).
    """

    file_name: str
    file_sha256: str
    events_total: int
    gate_counts: Mapping[str, int]
    strategy_id: str
    strategy_version: str
    strategy_sha256: str | None
    leukemic_gate: str | None
    denominator_gate: str | None
    leukemic_events: int | None
    denominator_events: int | None
    mrd: MrdResult | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the keys of the ``mrdtrack lab fcs --json`` contract."""
        return {
            "file": self.file_name,
            "file_sha256": self.file_sha256,
            "events_total": self.events_total,
            "gate_counts": dict(self.gate_counts),
            "strategy": {
                "id": self.strategy_id,
                "version": self.strategy_version,
                "sha256": self.strategy_sha256,
            },
            "leukemic_gate": self.leukemic_gate,
            "denominator_gate": self.denominator_gate,
            "leukemic_events": self.leukemic_events,
            "denominator_events": self.denominator_events,
            "mrd": None if self.mrd is None else self.mrd.to_dict(),
            "notes": list(self.notes),
        }


def gate_fcs(
    fcs_path: str | Path,
    strategy: GatingStrategy | str | Path,
    *,
    spillover: SpilloverMatrix | None = None,
) -> tuple[GatingResult, str, str]:
    """Gate one file: ``(result with masks, file name, file SHA-256)``."""
    rules = strategy if isinstance(strategy, GatingStrategy) else load_strategy(strategy)
    fcs = read_fcs(fcs_path)
    return apply_strategy(rules, fcs, spillover=spillover), fcs.name, fcs.sha256


def analyze_fcs(
    fcs_path: str | Path,
    strategy_path: str | Path | GatingStrategy,
    *,
    leukemic_gate: str | None = None,
    denominator_gate: str | None = None,
    profile: FlowProfile | None = None,
    spillover: SpilloverMatrix | None = None,
) -> FcsAnalysis:
    """Gate an FCS file with a strategy and, with a leukemic gate, compute its flow MRD.

    Parameters
    ----------
    fcs_path
        FCS 2.0/3.0/3.1 file.
    strategy_path
        GatingML 2.0 or YAML strategy (or an already parsed :class:`GatingStrategy`).
    leukemic_gate
        Gate whose events are the LAIP; default: the strategy's ``leukemic_gate``.
    denominator_gate
        Gate of the MRD denominator; default: the strategy's ``denominator_gate``, else
        all events.
    profile
        Flow MRD profile for :func:`mrdtrack.mrd.flow_mrd` (default ``seed1-tpog``).
    spillover
        A compensation matrix that replaces the file's ``$SPILLOVER``.

    Raises
    ------
    InputError
        A named gate is not in the strategy (or the file, strategy or gates are invalid:
        :class:`~mrdtrack.errors.ImportValidationError`).
    """
    rules = (
        strategy_path if isinstance(strategy_path, GatingStrategy) else load_strategy(strategy_path)
    )
    laip_gate = leukemic_gate or rules.leukemic_gate
    den_gate = denominator_gate or rules.denominator_gate
    known = rules.gate_ids
    for option, name in (("leukemic_gate", laip_gate), ("denominator_gate", den_gate)):
        if name is not None and name not in known:
            raise InputError(option, name, "one of the strategy's gates: " + ", ".join(known))
    result, file_name, sha256 = gate_fcs(fcs_path, rules, spillover=spillover)
    notes = list(result.notes)
    mrd = None
    laip_events = den_events = None
    if laip_gate is not None:
        laip_mask = result.masks[laip_gate]
        if den_gate is None:
            den_events = result.events_total
            laip_events = result.counts[laip_gate]
        else:
            den_mask = result.masks[den_gate]
            den_events = result.counts[den_gate]
            laip_events = int(np.count_nonzero(laip_mask & den_mask))
            outside = result.counts[laip_gate] - laip_events
            if outside:
                notes.append(
                    f"{outside} events of {laip_gate!r} lie outside {den_gate!r} and were not "
                    "counted: make the LAIP gate a descendant of the denominator gate"
                )
        if den_events == 0:
            raise InputError(
                "denominator_gate",
                den_gate or "all events",
                "a population with at least one event",
                f"{file_name} has no events in it: check the file and the gates",
            )
        engine = flow_mrd(leukemic_events=laip_events, total_events=den_events, profile=profile)
        provenance = {
            **dict(engine.inputs),
            "fcs_file": file_name,
            "fcs_sha256": sha256,
            "strategy": f"{rules.id}@{rules.version}",
            "strategy_sha256": rules.sha256,
            "leukemic_gate": laip_gate,
            "denominator_gate": den_gate or "all events",
        }
        mrd = replace(engine, inputs=provenance)
    return FcsAnalysis(
        file_name=file_name,
        file_sha256=sha256,
        events_total=result.events_total,
        gate_counts=MappingProxyType(dict(result.counts)),
        strategy_id=rules.id,
        strategy_version=rules.version,
        strategy_sha256=rules.sha256,
        leukemic_gate=laip_gate,
        denominator_gate=den_gate,
        leukemic_events=laip_events,
        denominator_events=den_events,
        mrd=mrd,
        notes=tuple(notes),
    )
