"""Controlled vocabularies of the registry records (enum values are the stored codes).

The values are the registry's contract with the database, the import formats and the
reports: a stored code is never renamed, only added. Sources: the case report's Table 1
cytogenetics (Wang Y-L et al. Hematol Rep 2024;16:347-353 [SEED-1]); WHO-HAEM5 / ICC
2022 B-ALL genetic subtype names with ``::`` fusion notation; domain rules §5.4 for the
time-point codes [P] and §11.1 for the response terms.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "GeneticSubtype",
    "MarkerKind",
    "OutcomeKind",
    "Response",
    "Sex",
    "Timepoint",
    "Tissue",
    "TreatmentKind",
]


class Sex(StrEnum):
    """Sex as recorded in the clinical record."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class GeneticSubtype(StrEnum):
    """The leading genetic lesion of the leukemia at diagnosis.

    ``not available`` means no result exists (the case report's "NA"); ``other`` means a
    result exists that none of the listed subtypes describes.
    """

    ETV6_RUNX1 = "ETV6::RUNX1"
    TCF3_PBX1 = "TCF3::PBX1"
    BCR_ABL1_P190 = "BCR::ABL1 p190"
    BCR_ABL1_P210 = "BCR::ABL1 p210"
    PH_LIKE_JAK2 = "Ph-like (JAK2)"
    PH_LIKE_OTHER = "Ph-like (other)"
    KMT2A_R = "KMT2A-r"
    DUX4_R = "DUX4-r"
    ZNF384_R = "ZNF384-r"
    IAMP21 = "iAMP21"
    HIGH_HYPERDIPLOID = "high hyperdiploid"
    HYPODIPLOID = "hypodiploid"
    IKZF1_DELETION = "IKZF1 deletion"
    IKZF1PLUS = "IKZF1plus"
    COMPLEX_KARYOTYPE = "complex karyotype"
    OTHER = "other"
    NOT_AVAILABLE = "not available"


class Tissue(StrEnum):
    """The specimen a sample was taken from."""

    BM = "BM"
    """Bone marrow."""
    PB = "PB"
    """Peripheral blood."""


class MarkerKind(StrEnum):
    """The kind of MRD marker defined on the diagnostic sample."""

    FUSION_TRANSCRIPT = "fusion_transcript"
    """A fusion transcript followed by RQ-PCR, with the patient's diagnosis NCN."""
    LAIP = "laip"
    """A leukemia-associated immunophenotype followed by flow cytometry."""
    NGS_CLONOTYPE = "ngs_clonotype"
    """Immunoglobulin/TR clonotypes followed by NGS."""
    IGTR = "igtr"
    """An allele-specific Ig/TR rearrangement followed by RQ-PCR on DNA."""


class TreatmentKind(StrEnum):
    """A course of therapy."""

    CHEMOTHERAPY = "chemotherapy"
    BLINATUMOMAB = "blinatumomab"
    HCT = "hct"
    DLI = "dli"
    TKI = "tki"
    CAR_T = "car_t"
    INOTUZUMAB = "inotuzumab"
    INTRATHECAL = "intrathecal"


class OutcomeKind(StrEnum):
    """An outcome event of follow-up."""

    RELAPSE = "relapse"
    DEATH = "death"
    LAST_CONTACT = "last_contact"
    SECOND_MALIGNANCY = "second_malignancy"


class Response(StrEnum):
    """The disease response at one assessment (domain rules §11.1)."""

    CR = "CR"
    """< 5 % marrow blasts, no extramedullary disease, count recovery (SEED-1)."""
    CRH = "CRh"
    """CR with partial hematologic recovery."""
    CRI = "CRi"
    """CR with incomplete count recovery."""
    PR = "PR"
    NR = "NR"
    """No response (refractory)."""
    RELAPSE = "relapse"


class Timepoint(StrEnum):
    """Sample time-point codes (domain rules §5.4 [P]).

    A post-transplant sample may also carry its day, ``POST_HCT_D30`` (§5.4
    ``POST_HCT_Dxx``); :data:`POST_HCT` is the code without a day.
    """

    DIAGNOSIS = "DIAGNOSIS"
    D8_PB = "D8_PB"
    D15_BM = "D15_BM"
    D29 = "D29"
    D33 = "D33"
    EOI = "EOI"
    """End of induction (also of a relapse re-induction)."""
    EOC = "EOC"
    """End of consolidation."""
    MRD1 = "MRD1"
    MRD2 = "MRD2"
    PRE_BLIN = "PRE_BLIN"
    POST_C1 = "POST_C1"
    POST_C2 = "POST_C2"
    PRE_HCT = "PRE_HCT"
    POST_HCT = "POST_HCT"
    FOLLOW_UP = "FOLLOW_UP"
    RELAPSE = "RELAPSE"
