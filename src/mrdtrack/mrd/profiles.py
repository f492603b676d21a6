"""MRD rule profiles: versioned data with their source, one per lab, protocol or guideline.

The sources disagree (the case report calls 10 LAIP events in 10⁵ cells positive; a
20-event LOD would call the same sample not detected), so no number lives in the
calculators: they read it from a profile, and every result names the profile and its
version. Values the domain rules tag **[U]** (unconfirmed) are listed in each profile's
``unconfirmed`` field and are overridable; ``docs/mrd.md`` lists them with their defaults.

Profiles must never be mixed within one result (domain rules §3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mrdtrack.errors import NotFoundError
from mrdtrack.mrd.thresholds import THRESHOLDS, Threshold
from mrdtrack.provenance import VersionedProfile, derive

__all__ = [
    "FLOW_PROFILES",
    "IGTR_PROFILES",
    "NGS_PROFILES",
    "QPCR_PROFILES",
    "ControlBasis",
    "CurveAcceptance",
    "FlowProfile",
    "IgTrProfile",
    "NgsProfile",
    "QpcrProfile",
    "SequenceCombination",
    "VersionedProfile",
    "derive",
    "get_profile",
]

_SEED1 = "Wang Y-L et al. Hematol Rep 2024;16:347-353, doi:10.3390/hematolrep16020035"
_ASH2021 = "Hematology Am Soc Hematol Educ Program 2021;2021(1):718-725, Table 1"


class ControlBasis(StrEnum):
    """Whether the control-gene minimum applies to the mean per replicate or the sum."""

    MEAN = "mean"
    SUM = "sum"


class SequenceCombination(StrEnum):
    """How several tracked NGS clonotypes give one sample-level MRD value."""

    HIGHEST = "highest"
    SUM = "sum"


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveAcceptance(VersionedProfile):
    """Acceptance of a qPCR standard curve (rule PCR-01).

    Efficiency ``E = 10^(−1/m) − 1`` within [min_efficiency, max_efficiency] and
    ``R² > min_r_squared`` (MIQE-style practice; Bustin SA et al. Clin Chem 2009).
    """

    min_efficiency: float = 0.90
    max_efficiency: float = 1.10
    min_r_squared: float = 0.98
    min_levels: int = 3
    slope_window: tuple[float, float] | None = None
    intercept_window: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QpcrProfile(VersionedProfile):
    """Fusion-transcript RQ-PCR rules (PCR-02 … PCR-07).

    ``min_control_copies`` excludes a sample whose control-gene copies are *below* it
    (the case report's "< 2×10⁴ ABL1 copies" exclusion: exactly 2×10⁴ is evaluable).
    """

    control_gene: str = "ABL1"
    min_control_copies: float | None = 2e4
    control_basis: ControlBasis = ControlBasis.MEAN
    required_sensitivity_fraction: float = 1e-4
    discordance_delta_ct: float = 1.5
    lowest_quantifiable_copies: float | None = None
    curve: CurveAcceptance = field(
        default_factory=lambda: CURVE_ACCEPTANCE["miqe"],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class IgTrProfile(VersionedProfile):
    """Ig/TR allele-specific RQ-PCR interpretation (EuroMRD-style, rule IGTR-02)."""

    max_delta_ct: float = 1.5
    required_sensitivity_fraction: float = 1e-4


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowProfile(VersionedProfile):
    """Flow-cytometry MRD rules (FLOW-01, FLOW-02).

    A sample with fewer than ``min_total_events`` denominator events is not evaluable.
    ``lod_events`` LAIP events are needed to call MRD detected; with ``lloq_events`` set,
    detected values below it are positive but not quantifiable. With ``threshold`` set,
    a detected value must also meet it to be called positive (the case report's
    "≥ 10 LAIP cells per 10⁵ MNC, i.e. ≥ 0.01 %").
    """

    denominator: str
    min_total_events: int | None
    lod_events: int
    lloq_events: int | None = None
    threshold: Threshold | None = None
    required_sensitivity_fraction: float = 1e-4


@dataclass(frozen=True, slots=True, kw_only=True)
class NgsProfile(VersionedProfile):
    """Clonotype NGS MRD rules (NGS-01, NGS-02)."""

    pg_dna_per_cell: float = 6.5
    templates_for_detection: float = 3.0
    limit_of_blank_templates: float = 0.0
    combine: SequenceCombination = SequenceCombination.HIGHEST
    required_sensitivity_fraction: float = 1e-4


CURVE_ACCEPTANCE: dict[str, CurveAcceptance] = {
    "miqe": CurveAcceptance(
        id="miqe",
        version="1",
        effective_date="2009-04-01",
        source="MIQE-style practice: efficiency 90-110 %, R² > 0.98 (Bustin SA et al. Clin Chem "
        "2009; domain rules PCR-01)",
        unconfirmed=(
            "min_levels=3: fewer than 3 distinct standard levels → invalid curve (local policy)",
            "slope_window, intercept_window: EAC/EuroMRD numeric windows not retrieved (None)",
        ),
    ),
}

QPCR_PROFILES: dict[str, QpcrProfile] = {
    "seed1-tpog": QpcrProfile(
        id="seed1-tpog",
        version="1",
        effective_date="2024-05-01",
        source=f"{_SEED1} (ABL1 < 2×10⁴ excluded); ASH 2021 reporting ({_ASH2021})",
        unconfirmed=(
            "control_basis=mean: mean per replicate or sum of replicates not stated (PCR-05)",
            "discordance_delta_ct=1.5: borrowed from EuroMRD Ig/TR practice (PCR-02)",
            "lowest_quantifiable_copies=None: the run's lowest reproducible standard is used "
            "(PCR-07)",
        ),
    ),
    "eac-generic": QpcrProfile(
        id="eac-generic",
        version="1",
        effective_date="2003-12-01",
        source="Gabert J et al. Leukemia 2003;17:2318 (EAC); Beillard E et al. Leukemia "
        "2003;17:2474",
        min_control_copies=None,
        unconfirmed=(
            "min_control_copies=None: the EAC 'poor sample' ABL1 cut-off was not retrieved; "
            "set the lab's own value",
            "control_basis=mean (PCR-05)",
            "discordance_delta_ct=1.5 (PCR-02)",
        ),
    ),
}

IGTR_PROFILES: dict[str, IgTrProfile] = {
    "euromrd-2007": IgTrProfile(
        id="euromrd-2007",
        version="1",
        effective_date="2007-03-01",
        source="van der Velden VHJ et al. Leukemia 2007;21:604-611, doi:10.1038/sj.leu.2404586; "
        f"PNQ term and grouping: {_ASH2021}",
        unconfirmed=(
            "max_delta_ct=1.5 between replicates inside the quantitative range",
            "quantitative range and sensitivity are per-assay inputs (the 2007 numeric criteria "
            "were not retrieved)",
        ),
    ),
}

FLOW_PROFILES: dict[str, FlowProfile] = {
    "seed1-tpog": FlowProfile(
        id="seed1-tpog",
        version="1",
        effective_date="2024-05-01",
        source=f"{_SEED1}: ≥ 10 LAIP cells per 10⁵ MNC (≥ 0.01 %) positive; < 10⁵ MNC excluded",
        denominator="bone-marrow mononuclear cells (Ficoll)",
        min_total_events=100_000,
        lod_events=10,
        threshold=THRESHOLDS["MRD-POS-1E-4"],
    ),
    "lod20-lloq50": FlowProfile(
        id="lod20-lloq50",
        version="1",
        effective_date="2017-01-01",
        source="ICCS/ESCCA-type event-count convention: LOD 20 clustered events, LLOQ 50 events "
        "(domain rules FLOW-02)",
        denominator="viable nucleated cells",
        min_total_events=None,
        lod_events=20,
        lloq_events=50,
        unconfirmed=(
            "lod_events=20, lloq_events=50 for B-ALL (ICCS/ESCCA, EuroFlow papers)",
            "min_total_events=None: no adequacy cut-off; the achieved LOD is always reported",
        ),
    ),
}

NGS_PROFILES: dict[str, NgsProfile] = {
    "clonoseq-style": NgsProfile(
        id="clonoseq-style",
        version="1",
        effective_date="2020-08-01",
        source="clonoSEQ report template (6.5 pg DNA per diploid cell; LOB 0; LoD at 95 % "
        "detection); FDA 510(k) K200009; Ching T et al. BMC Cancer 2020;20:612",
        unconfirmed=(
            "combine=highest: the sample-level value when several sequences are tracked is not "
            "confirmed (highest or sum)",
        ),
    ),
}

_CATALOGUES: dict[str, Mapping[str, VersionedProfile]] = {
    "qpcr": QPCR_PROFILES,
    "igtr": IGTR_PROFILES,
    "flow": FLOW_PROFILES,
    "ngs": NGS_PROFILES,
    "curve": CURVE_ACCEPTANCE,
}


def get_profile(kind: str, profile_id: str) -> VersionedProfile:
    """Look up a profile of ``kind`` (``qpcr``, ``igtr``, ``flow``, ``ngs``, ``curve``)."""
    catalogue = _CATALOGUES.get(kind)
    if catalogue is None:
        raise NotFoundError("profile kind", kind, tuple(_CATALOGUES))
    try:
        return catalogue[profile_id]
    except KeyError:
        raise NotFoundError(f"{kind} profile", profile_id, tuple(catalogue)) from None
