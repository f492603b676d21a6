"""Synthetic cohorts of blinatumomab-treated B-ALL patients, for demos, tests and load.

Nothing here is data about real people, and the numbers are illustrative, not estimates
from a source: the subtype mix leans to the high-risk subtypes that reach
blinatumomab; the MRD kinetics follow the shape of the MRD-directed trials (most
MRD-positive patients become MRD-negative after cycle 1 — BLAST: 78 %, Gökbuget N et al.
Blood 2018;131:1522-1531 — fewer when refractory); persistent MRD leads to HCT, MRD after
HCT to DLI on a half-log ladder (domain rules DLI-05), relapse is likelier with persistent
MRD. Every patient gets raw MRD inputs in the format of :mod:`mrdtrack.registry.records`
(flow events, RQ-PCR copies with the marker's diagnosis NCN, NGS clonal cells), never MRD
values, so the registry recomputes them like any other data.

The random draws are made for all patients at once (numpy), in a fixed order, so a seed
gives the same cohort on every machine; the Python loop only assembles the records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mrdtrack.inputs import require_count
from mrdtrack.mrd.qpcr import DIAGNOSIS_NCN_RANGES, Transcript
from mrdtrack.registry.records import (
    AdverseEventRecord,
    AssessmentRecord,
    CohortDocument,
    DiagnosisRecord,
    LabValueRecord,
    MarkerRecord,
    MrdInputRecord,
    OutcomeRecord,
    PatientRecord,
    SampleRecord,
    SiteRecord,
    TreatmentRecord,
)
from mrdtrack.registry.vocabulary import (
    GeneticSubtype,
    MarkerKind,
    OutcomeKind,
    Response,
    Sex,
    Tissue,
    TreatmentKind,
)

__all__ = ["SUBTYPE_WEIGHTS", "synthetic_cohort"]

G = GeneticSubtype
SUBTYPE_WEIGHTS: dict[GeneticSubtype, float] = {
    # Illustrative mix of a blinatumomab-treated cohort (not from a source).
    G.HIGH_HYPERDIPLOID: 0.14,
    G.ETV6_RUNX1: 0.12,
    G.TCF3_PBX1: 0.06,
    G.BCR_ABL1_P190: 0.07,
    G.BCR_ABL1_P210: 0.02,
    G.PH_LIKE_JAK2: 0.04,
    G.PH_LIKE_OTHER: 0.06,
    G.KMT2A_R: 0.07,
    G.DUX4_R: 0.06,
    G.ZNF384_R: 0.03,
    G.IAMP21: 0.03,
    G.HYPODIPLOID: 0.03,
    G.IKZF1_DELETION: 0.03,
    G.IKZF1PLUS: 0.04,
    G.COMPLEX_KARYOTYPE: 0.03,
    G.OTHER: 0.12,
    G.NOT_AVAILABLE: 0.05,
}
"""Probability of each genetic subtype in a synthetic cohort (sums to 1)."""

_SUBTYPES = list(SUBTYPE_WEIGHTS)
_FUSIONS = {G.ETV6_RUNX1, G.TCF3_PBX1, G.BCR_ABL1_P190, G.BCR_ABL1_P210}
_SITES = (
    SiteRecord("SYN-A", "Synthetic site A"),
    SiteRecord("SYN-B", "Synthetic site B"),
    SiteRecord("SYN-C", "Synthetic site C"),
)
_DONORS = ("MSD", "MUD", "haplo", "cord")
_CONDITIONING = ("TBI-VP16", "CyBu", "FluBuTT")
_CRS_FINDINGS = {  # worst grade → (hypotension, hypoxia) consistent with ASTCT 2019
    1: ("none", "none"),
    2: ("fluids", "low-flow"),
    3: ("one-vasopressor", "high-flow"),
    4: ("multiple-vasopressors", "positive-pressure"),
}
_RECONSTRUCTED = (
    "birth_date",
    "diagnosis",
    "markers",
    "samples",
    "assessments",
    "treatments",
    "adverse_events",
    "lab_values",
    "outcomes",
)
_MAX_SAMPLES = 24  # ≥ the most one course yields: 8 fixed + 12 half-yearly follow-ups
_CYCLE_DAYS, _CYCLE_GAP = 28, 14


def _day(ordinal: int | np.integer[Any]) -> date:
    return date.fromordinal(int(ordinal))


@dataclass(frozen=True, slots=True)
class _Draws:
    """Every random quantity of a cohort, one array entry per patient (or patient × slot)."""

    site: NDArray[Any]
    male: NDArray[Any]
    subtype: NDArray[Any]
    age_days: NDArray[Any]
    setting: NDArray[Any]  # 0 MRD-positive CR1, 1 MRD-negative, 2 relapsed CR2, 3 R/R
    start: NDArray[Any]
    gap: NDArray[Any]
    log_mrd: NDArray[Any]
    responder: NDArray[Any]
    late_conversion: NDArray[Any]
    reduction: NDArray[Any]
    u_hct: NDArray[Any]
    hct_day: NDArray[Any]
    donor: NDArray[Any]
    conditioning: NDArray[Any]
    u_post_hct: NDArray[Any]
    n_dli: NDArray[Any]
    u_relapse: NDArray[Any]
    relapse_day: NDArray[Any]
    u_death: NDArray[Any]
    death_delay: NDArray[Any]
    censor: NDArray[Any]
    crs_grade: NDArray[Any]
    crs_days: NDArray[Any]
    temperature: NDArray[Any]
    igg: NDArray[Any]
    ncn: NDArray[Any]
    use_ngs: NDArray[Any]
    flow_total: NDArray[Any]
    noise_events: NDArray[Any]
    control: NDArray[Any]
    dna_ng: NDArray[Any]
    clone_share: NDArray[Any]
    blood: NDArray[Any]


def _draw(n: int, rng: np.random.Generator, first: int, last: int) -> _Draws:
    crs_p = np.array([0.45, 0.33, 0.16, 0.05, 0.01])
    slots = (n, _MAX_SAMPLES)
    return _Draws(
        site=rng.integers(0, len(_SITES), n),
        male=rng.random(n) < 0.55,
        subtype=rng.choice(len(_SUBTYPES), n, p=np.array(list(SUBTYPE_WEIGHTS.values()))),
        age_days=np.round((1.0 + 24.0 * rng.beta(1.4, 2.6, n)) * 365.25).astype(int),
        setting=rng.choice(4, n, p=[0.55, 0.12, 0.23, 0.10]),
        start=rng.integers(first, last, n),
        gap=rng.integers(60, 1200, n),
        log_mrd=rng.normal(-2.6, 0.6, n),
        responder=rng.random(n),
        late_conversion=rng.random(n) < 0.3,
        reduction=rng.uniform(0.3, 1.5, n),
        u_hct=rng.random(n),
        hct_day=rng.integers(90, 281, n),
        donor=rng.choice(len(_DONORS), n, p=[0.25, 0.45, 0.25, 0.05]),
        conditioning=rng.integers(0, len(_CONDITIONING), n),
        u_post_hct=rng.random(n),
        n_dli=rng.integers(1, 5, n),
        u_relapse=rng.random(n),
        relapse_day=(40 + rng.exponential(300.0, n)).astype(int),
        u_death=rng.random(n),
        death_delay=rng.integers(30, 400, n),
        censor=rng.integers(0, 120, n),
        crs_grade=rng.choice(5, n, p=crs_p),
        crs_days=rng.integers(1, 8, n),
        temperature=np.round(rng.uniform(38.0, 40.5, n), 1),
        igg=np.round(np.exp(rng.normal(math.log(650.0), 0.35, n))),
        ncn=rng.normal(0.0, 0.5, n),
        use_ngs=rng.random(n) < 0.3,
        flow_total=rng.integers(200_000, 1_000_000, slots),
        noise_events=rng.integers(0, 4, slots),
        control=3 * rng.integers(25_000, 60_000, slots),
        dna_ng=np.round(rng.uniform(5_000.0, 40_000.0, slots)),
        clone_share=rng.uniform(0.0, 0.5, slots),
        blood=rng.random(slots) < 0.1,
    )


def synthetic_cohort(
    n_patients: int, seed: int, *, data_cutoff: date = date(2025, 6, 30)
) -> CohortDocument:
    """A synthetic cohort of ``n_patients`` patients, the same for the same ``seed``.

    Parameters
    ----------
    n_patients
        Number of patients (≥ 0).
    seed
        Seed of the random generator (≥ 0).
    data_cutoff
        The last date of follow-up; the first blinatumomab infusions fall in the six
        years before it, at least 180 days before it.

    Examples
    --------
    >>> doc = synthetic_cohort(3, seed=1)
    >>> len(doc.patients), doc.patients[0].study_id
    (3, 'SYN1-00001')
    """
    n = require_count("n_patients", n_patients)
    chosen = require_count("seed", seed)
    cutoff = data_cutoff.toordinal()
    draws = _draw(n, np.random.default_rng(chosen), cutoff - 6 * 365, cutoff - 180)
    patients = tuple(_patient(i, draws, chosen, cutoff) for i in range(n))
    return CohortDocument(
        id=f"synthetic-{chosen}-{n}",
        title=f"Synthetic blinatumomab cohort ({n} patients, seed {chosen})",
        source=f"synthetic: mrdtrack.registry.synth.synthetic_cohort({n}, seed={chosen})",
        version="1",
        sites=_SITES,
        patients=patients,
    )


class _Builder:
    """Collects one patient's records; samples get raw inputs from the patient's slots."""

    def __init__(self, i: int, draws: _Draws, marker: MarkerRecord) -> None:
        self.i, self.draws, self.marker = i, draws, marker
        self.samples: list[SampleRecord] = []
        self.assessments: list[AssessmentRecord] = []
        self.treatments: list[TreatmentRecord] = []

    def sample(self, day: int, timepoint: str, log_mrd: float | None) -> None:
        slot = len(self.samples)
        if slot >= _MAX_SAMPLES:
            return
        d, i = self.draws, self.i
        fraction = 0.0 if log_mrd is None else 10.0 ** min(log_mrd, -0.2)
        inputs: dict[str, Any]
        if self.marker.kind is MarkerKind.FUSION_TRANSCRIPT:
            control = int(d.control[i, slot])
            ncn = self.marker.diagnosis_ncn or 1.0
            inputs = {
                "fusion_copies": round(fraction * ncn * control),
                "control_copies": control,
                "replicates": 3,
            }
            method = "rq-pcr"
        elif self.marker.kind is MarkerKind.NGS_CLONOTYPE:
            dna = float(d.dna_ng[i, slot])
            cells = dna * 1000.0 / 6.5
            first = float(round(fraction * cells))
            inputs = {
                "clonal_cells": (first, float(round(first * d.clone_share[i, slot]))),
                "dna_input_ng": dna,
            }
            method = "ngs"
        else:
            total = int(d.flow_total[i, slot])
            events = round(fraction * total) if log_mrd is not None else d.noise_events[i, slot]
            inputs = {"leukemic_events": int(events), "total_events": total}
            method = "flow"
        tissue = Tissue.PB if d.blood[i, slot] and timepoint == "FOLLOW_UP" else Tissue.BM
        mrd = MrdInputRecord(method, self.marker.key, inputs, None)
        self.samples.append(SampleRecord(_day(day), timepoint, tissue, (mrd,)))

    def assess(self, day: int, response: Response, blasts: float, remission: int | None) -> None:
        record = AssessmentRecord(_day(day), response, blasts, False, remission)
        self.assessments.append(record)

    def treat(
        self,
        kind: TreatmentKind,
        start: int,
        end: int | None,
        cycle: int | None,
        **details: str | float | int | None,
    ) -> None:
        stop = None if end is None else _day(end)
        self.treatments.append(TreatmentRecord(kind, _day(start), stop, cycle, details))


def _marker(i: int, d: _Draws, subtype: GeneticSubtype) -> MarkerRecord:
    if subtype in _FUSIONS:
        median, low, high = DIAGNOSIS_NCN_RANGES[Transcript(subtype.value)]
        ncn = float(np.clip(round(median * math.exp(d.ncn[i]), 3), low, high))
        return MarkerRecord("fusion", MarkerKind.FUSION_TRANSCRIPT, subtype.value, ncn, None)
    if d.use_ngs[i]:
        return MarkerRecord("clones", MarkerKind.NGS_CLONOTYPE, None, None, "IGH/IGK clonotypes")
    return MarkerRecord("laip", MarkerKind.LAIP, None, None, "CD19+ CD10+ CD34+ CD45dim")


@dataclass(frozen=True, slots=True)
class _Course:
    """One patient's disease course as day ordinals and log10 MRD (``None``: not detected)."""

    setting: int  # 0 MRD-positive CR1, 1 MRD-negative, 2 relapsed CR2, 3 refractory
    dx: int
    start: int
    pre: float | None
    responds: bool
    post_c1: float | None
    post_c2: float | None
    hct: int | None
    relapse: int | None
    death: int | None
    end: int

    @property
    def refractory(self) -> bool:
        return self.setting == 3

    @property
    def remission(self) -> int:
        return 2 if self.setting >= 2 else 1


def _course(i: int, d: _Draws, cutoff: int) -> _Course:
    setting, start, age_days = int(d.setting[i]), int(d.start[i]), int(d.age_days[i])
    # Diagnosis precedes blinatumomab by 2–8 months (first line) or 5 months–3 years
    # (after a relapse), and follows birth.
    gap = max(int(d.gap[i]), 150) if setting >= 2 else 60 + int(d.gap[i]) % 180
    gap = min(gap, age_days - 30)
    # Persisting MRD stays above 10⁻⁴, where every method detects it.
    pre = None if setting == 1 else float(np.clip(d.log_mrd[i], -3.8, -0.7))
    if setting == 3:
        pre = -1.0 + 0.4 * float(d.reduction[i])
    responds = pre is None or bool(d.responder[i] < (0.45 if setting == 3 else 0.78))
    post_c1 = None if responds else max((pre or -3.0) - float(d.reduction[i]), -3.9)
    post_c2 = None if responds or d.late_conversion[i] else max((post_c1 or -3.9) - 0.3, -3.95)
    wants_hct = d.u_hct[i] < (0.8 if post_c2 is not None else 0.25 if setting >= 2 else 0.1)
    relapse = (
        start + int(d.relapse_day[i]) if d.u_relapse[i] < (0.12 if responds else 0.45) else None
    )
    if relapse is not None and relapse >= cutoff:
        relapse = None
    hct = start + int(d.hct_day[i]) if wants_hct else None
    if hct is not None and relapse is not None and relapse <= hct:
        hct = None
    death = None
    if relapse is not None and d.u_death[i] < 0.55:
        death = relapse + int(d.death_delay[i])
    elif hct is not None and d.u_death[i] > 0.96:
        death = hct + int(d.death_delay[i]) // 2  # transplant-related death
        relapse = None if relapse is not None and relapse >= death else relapse
    if death is not None and death > cutoff:
        death = None
    end = death if death is not None else max(cutoff - int(d.censor[i]), relapse or 0)
    return _Course(
        setting, start - gap, start, pre, responds, post_c1, post_c2, hct, relapse, death, end
    )


def _history(b: _Builder, c: _Course, subtype: GeneticSubtype) -> None:
    """Induction, a relapse and re-induction when there was one, the PRE_BLIN status."""
    b.treat(TreatmentKind.CHEMOTHERAPY, c.dx + 1, c.dx + 33, None, phase="induction")
    if subtype in (G.BCR_ABL1_P190, G.BCR_ABL1_P210):
        b.treat(TreatmentKind.TKI, c.dx + 14, None, None, agent="imatinib")
    # First-line patients were MRD-positive at the end of induction (the indication).
    b.sample(c.dx + 33, "EOI", None if c.setting >= 2 else min((c.pre or -3.5) + 0.5, -0.7))
    b.assess(c.dx + 33, Response.CR, 1.0, 1)
    if c.setting >= 2:
        relapse = c.start - 75
        b.sample(relapse, "RELAPSE", -0.5)
        b.assess(relapse, Response.RELAPSE, 45.0, None)
        b.treat(
            TreatmentKind.CHEMOTHERAPY,
            relapse + 2,
            relapse + 30,
            None,
            phase="relapse re-induction",
        )
    b.sample(c.start - 7, "PRE_BLIN", c.pre)
    if c.refractory:
        b.assess(c.start - 7, Response.NR, 15.0, None)
    else:
        b.assess(c.start - 7, Response.CR, 1.0, c.remission)


def _blinatumomab(b: _Builder, c: _Course, adult_dose: bool) -> None:
    """Two cycles of 28 days on, 14 off, unless relapse comes first (BLIN-01, BLIN-02)."""
    dose: dict[str, str | float | int | None] = (
        {"dose_basis": "ug/day", "daily_dose_ug": 28}
        if adult_dose
        else {"dose_basis": "ug/m2/day", "daily_dose_ug_per_m2": 15}
    )
    for cycle in (1, 2):
        day1 = c.start + (cycle - 1) * (_CYCLE_DAYS + _CYCLE_GAP)
        if c.relapse is not None and c.relapse <= day1 + _CYCLE_DAYS:
            break
        b.treat(TreatmentKind.BLINATUMOMAB, day1, day1 + _CYCLE_DAYS - 1, cycle, **dose)
        b.sample(day1 + _CYCLE_DAYS, f"POST_C{cycle}", c.post_c1 if cycle == 1 else c.post_c2)
    if c.refractory and not c.responds:
        b.assess(c.start + _CYCLE_DAYS, Response.NR, 8.0, None)
    else:
        b.assess(c.start + _CYCLE_DAYS, Response.CR, 1.0, c.remission)


def _transplant(b: _Builder, c: _Course, i: int, d: _Draws) -> int:
    """HCT, day +30 MRD and DLI on a half-log ladder (DLI-05); returns follow-up's start."""
    if c.hct is None:
        follow_from = c.start + 2 * (_CYCLE_DAYS + _CYCLE_GAP)
        if c.relapse is None or c.relapse > follow_from:
            b.treat(TreatmentKind.CHEMOTHERAPY, follow_from, None, None, phase="maintenance")
        return follow_from
    b.sample(c.hct - 14, "PRE_HCT", c.post_c2)
    donor = _DONORS[int(d.donor[i])]
    b.treat(
        TreatmentKind.HCT,
        c.hct,
        None,
        None,
        donor_type=donor,
        graft_source=None,
        conditioning=_CONDITIONING[int(d.conditioning[i])],
    )
    positive = bool(d.u_post_hct[i] < (0.35 if c.post_c2 is not None else 0.12))
    b.sample(c.hct + 30, "POST_HCT_D30", -3.3 if positive else None)
    if positive:
        first_dose = {"MSD": 1e7, "MUD": 1e6, "haplo": 1e5, "cord": 1e6}[donor]  # DLI-06 [U]
        for k in range(int(d.n_dli[i])):
            day = c.hct + 45 + 42 * k
            b.treat(
                TreatmentKind.DLI,
                day,
                day,
                k + 1,
                cd3_cells_per_kg=round(first_dose * 10 ** (0.5 * k)),
            )
    return c.hct + 100


def _follow_up(b: _Builder, c: _Course, follow_from: int) -> tuple[OutcomeRecord, ...]:
    """Half-yearly samples (MRD-positive in the 3 months before a relapse) and outcomes."""
    persistent = c.post_c2 is not None and c.hct is None
    day = follow_from
    while day < c.end and (c.relapse is None or day < c.relapse):
        near_relapse = c.relapse is not None and c.relapse - day < 90
        b.sample(day, "FOLLOW_UP", -2.5 if near_relapse else (-3.2 if persistent else None))
        day += 182
    outcomes: list[OutcomeRecord] = []
    if c.relapse is not None:
        b.sample(c.relapse, "RELAPSE", -0.6)
        b.assess(c.relapse, Response.RELAPSE, 40.0, None)
        outcomes.append(OutcomeRecord(OutcomeKind.RELAPSE, _day(c.relapse), "bone marrow"))
    if c.death is not None:
        cause = "relapse" if c.relapse is not None else "transplant-related"
        outcomes.append(OutcomeRecord(OutcomeKind.DEATH, _day(c.death), cause))
    else:
        outcomes.append(OutcomeRecord(OutcomeKind.LAST_CONTACT, _day(c.end), None))
    return tuple(outcomes)


def _crs(i: int, d: _Draws, c: _Course) -> tuple[AdverseEventRecord, ...]:
    """The worst CRS of cycle 1 with ASTCT 2019 findings that give its grade."""
    grade = int(d.crs_grade[i]) + (1 if c.refractory and d.crs_grade[i] < 3 else 0)
    if not grade:
        return ()
    hypotension, hypoxia = _CRS_FINDINGS[grade]
    onset = c.start + 1 + int(d.crs_days[i]) % 3
    inputs: dict[str, str | float | int | bool | None] = {
        "temperature_c": float(d.temperature[i]),
        "hypotension": hypotension,
        "hypoxia": hypoxia,
    }
    management = "tocilizumab" if grade >= 3 else None
    return (
        AdverseEventRecord(
            "cytokine release syndrome",
            _day(onset),
            _day(onset + int(d.crs_days[i])),
            grade,
            "ASTCT-2019",
            inputs,
            management,
        ),
    )


def _patient(i: int, d: _Draws, seed: int, cutoff: int) -> PatientRecord:
    subtype = _SUBTYPES[int(d.subtype[i])]
    c = _course(i, d, cutoff)
    b = _Builder(i, d, _marker(i, d, subtype))
    _history(b, c, subtype)
    _blinatumomab(b, c, adult_dose=d.age_days[i] >= 16 * 365.25)  # stands in for ≥ 45 kg
    outcomes = _follow_up(b, c, _transplant(b, c, i, d))
    events = _crs(i, d, c)
    labs = (LabValueRecord("IgG", _day(c.start + 75), float(d.igg[i]), "mg/dL"),)
    # Nothing is recorded after death or the last contact.
    last = _day(c.death if c.death is not None else c.end)
    return PatientRecord(
        study_id=f"SYN{seed}-{i + 1:05d}",
        site_code=_SITES[int(d.site[i])].code,
        sex=Sex.MALE if d.male[i] else Sex.FEMALE,
        birth_date=_day(c.start - int(d.age_days[i])),
        diagnosis=DiagnosisRecord(
            _day(c.dx),
            subtype,
            subtype.value.startswith("BCR::ABL1"),
            True,
            None,
            None,
            None,
            None,
        ),
        markers=(b.marker,),
        samples=tuple(s for s in b.samples if s.sample_date <= last),
        assessments=tuple(a for a in b.assessments if a.assessment_date <= last),
        treatments=tuple(_clip(t, c.death) for t in b.treatments if t.start_date <= last),
        adverse_events=tuple(e for e in events if (e.resolved_date or e.onset_date) <= last),
        lab_values=tuple(lab for lab in labs if lab.sample_date <= last),
        outcomes=outcomes,
        reconstructed=_RECONSTRUCTED,
        notes="synthetic patient",
    )


def _clip(treatment: TreatmentRecord, death: int | None) -> TreatmentRecord:
    """A course cannot outlast the patient: its end moves to the date of death."""
    if death is None or treatment.end_date is None or treatment.end_date.toordinal() <= death:
        return treatment
    return TreatmentRecord(
        treatment.kind, treatment.start_date, _day(death), treatment.cycle, treatment.details
    )
