"""The evidence base: published blinatumomab trials as frozen, validated, cited records.

The shipped file ``mrdtrack/evidence/data/trials.yaml`` (package data) transcribes the
trials and studies of the review by Testa U et al., *Mediterr J Hematol Infect Dis*
2024;16:e2024070 (doi:10.4084/MJHID.2024.070) [SEED-2], Tables 1-3 and text, plus the case
series of Wang Y-L et al., *Hematol Rep* 2024;16:347-353 [SEED-1]. Every value carries a
``source`` locator; the review's errors are kept as printed with a ``note``
(shared/spec/domain-rules.md §12), never corrected silently.

:func:`load_evidence_text` validates a document strictly (unknown keys, wrong types,
missing citations, duplicate ids, out-of-range percentages are refused) and raises
:class:`~mrdtrack.errors.ProtocolError` naming the file, the key path
(``trials[3].values[2].percent``) and what was expected. :func:`load_evidence` reads the
shipped file only when called, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import yaml

from mrdtrack.errors import NotFoundError, ProtocolError
from mrdtrack.provenance import VersionedProfile

__all__ = [
    "Arm",
    "Citation",
    "EvidenceBase",
    "Measure",
    "Population",
    "Setting",
    "Trial",
    "TrialValue",
    "ValueStatus",
    "load_evidence",
    "load_evidence_text",
]


class Setting(StrEnum):
    """The clinical setting a trial studied."""

    RELAPSED_REFRACTORY = "relapsed_refractory"
    MRD_POSITIVE = "mrd_positive"
    MRD_NEGATIVE_CONSOLIDATION = "mrd_negative_consolidation"
    FRONTLINE_PH_POSITIVE = "frontline_ph_positive"
    FRONTLINE_PH_NEGATIVE = "frontline_ph_negative"
    POST_HSCT_RELAPSE = "post_hsct_relapse"


class Population(StrEnum):
    """Age group of a trial (``mixed``: values may name their own group)."""

    PEDIATRIC = "pediatric"
    ADULT = "adult"
    MIXED = "mixed"


class Measure(StrEnum):
    """What a reported value measures."""

    CR = "cr"
    RESPONSE = "response"
    MRD_NEGATIVE = "mrd_negative"
    MRD_RESPONSE_DURATION = "mrd_response_duration"
    OS = "os"
    EFS = "efs"
    RFS = "rfs"
    DFS = "dfs"
    CIR = "cir"
    RELAPSE = "relapse"
    CRS = "crs"
    NEUROTOXICITY = "neurotoxicity"
    HSCT = "hsct"


class ValueStatus(StrEnum):
    """A median the source reports without a number."""

    NOT_REACHED = "not_reached"
    NOT_ESTIMABLE = "not_estimable"


@dataclass(frozen=True, slots=True)
class Citation:
    """A publication as the review's reference list gives it."""

    authors: str
    title: str
    journal: str
    year: int
    doi: str | None = None
    pmid: str | None = None
    review_reference: int | None = None

    def short(self) -> str:
        """``"Kantarjian H et al. N Engl J Med 2017, doi:…"``."""
        first = self.authors.split(",")[0].strip()
        ident = f"doi:{self.doi}" if self.doi else f"PMID {self.pmid}"
        return f"{first} et al. {self.journal} {self.year}, {ident}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "authors": self.authors,
            "title": self.title,
            "journal": self.journal,
            "year": self.year,
            "doi": self.doi,
            "pmid": self.pmid,
            "review_reference": self.review_reference,
        }


@dataclass(frozen=True, slots=True)
class Arm:
    """A trial arm (or cohort) and its size."""

    name: str
    n: int


@dataclass(frozen=True, slots=True)
class TrialValue:
    """One number the source reports: a percentage, a count ``k/n`` or a median in months.

    ``n`` is the denominator only where the source states it; ``percent`` is as printed
    (for a count it is ``100·k/n``, derived).
    """

    measure: Measure
    source: str
    percent: float | None = None
    k: int | None = None
    n: int | None = None
    median_months: float | None = None
    status: ValueStatus | None = None
    arm: str | None = None
    subgroup: str | None = None
    population: Population | None = None
    horizon_months: float | None = None
    threshold: str | None = None
    timepoint: str | None = None
    grade_min: int | None = None
    note: str | None = None

    @property
    def rate_percent(self) -> float | None:
        """The value as a percentage (printed, or ``100·k/n``); ``None`` for a median."""
        if self.percent is not None:
            return self.percent
        if self.k is not None and self.n:
            return 100.0 * self.k / self.n
        return None

    def label(self) -> str:
        """A short description: arm, subgroup, time point, horizon, grade, threshold."""
        parts = [p for p in (self.arm, self.subgroup, self.timepoint) if p]
        if self.horizon_months is not None:
            parts.append(f"{self.horizon_months:g} mo")
        if self.grade_min is not None:
            parts.append(f"grade ≥ {self.grade_min}")
        if self.threshold:
            parts.append(f"MRD {self.threshold}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (``None`` fields kept, so that consumers see every key)."""
        return {
            "measure": self.measure.value,
            "percent": self.percent,
            "k": self.k,
            "n": self.n,
            "median_months": self.median_months,
            "status": None if self.status is None else self.status.value,
            "arm": self.arm,
            "subgroup": self.subgroup,
            "population": None if self.population is None else self.population.value,
            "horizon_months": self.horizon_months,
            "threshold": self.threshold,
            "timepoint": self.timepoint,
            "grade_min": self.grade_min,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Trial:
    """One trial or study with its reported values and citation."""

    id: str
    name: str
    design: str
    setting: Setting
    population: Population
    citation: Citation
    source: str
    n: int | None = None
    arms: tuple[Arm, ...] = ()
    age_years: Mapping[str, float | str | None] | None = None
    philadelphia: str | None = None
    also_cited: tuple[Citation, ...] = ()
    notes: tuple[str, ...] = ()
    values: tuple[TrialValue, ...] = ()

    def arm_size(self, name: str | None) -> int | None:
        """The size of a named arm (``None`` when the trial has no such arm)."""
        return next((a.n for a in self.arms if a.name == name), None)

    def summary_dict(self) -> dict[str, Any]:
        """The ``evidence list --json`` item: id, name, setting, population, n, citation."""
        return {
            "id": self.id,
            "name": self.name,
            "setting": self.setting.value,
            "population": self.population.value,
            "n": self.n,
            "arms": [{"name": a.name, "n": a.n} for a in self.arms],
            "citation": self.citation.short(),
            "doi": self.citation.doi,
            "pmid": self.citation.pmid,
            "values": len(self.values),
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (``evidence show --json``)."""
        return {
            **self.summary_dict(),
            "design": self.design,
            "philadelphia": self.philadelphia,
            "age_years": None if self.age_years is None else dict(self.age_years),
            "citation": self.citation.to_dict(),
            "also_cited": [c.to_dict() for c in self.also_cited],
            "source": self.source,
            "notes": list(self.notes),
            "values": [v.to_dict() for v in self.values],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceBase(VersionedProfile):
    """The versioned collection of trials."""

    trials: tuple[Trial, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every trial id, in file order."""
        return tuple(t.id for t in self.trials)

    def get(self, trial_id: str) -> Trial:
        """The trial with this id; :class:`~mrdtrack.errors.NotFoundError` lists the known."""
        for trial in self.trials:
            if trial.id == trial_id:
                return trial
        raise NotFoundError("trial", trial_id, self.ids)

    def select(
        self,
        *,
        settings: Sequence[Setting] = (),
        population: Population | None = None,
    ) -> tuple[Trial, ...]:
        """Trials of any of ``settings`` (all when empty) and of ``population``.

        A ``mixed`` trial is kept for any population (its values name their own group).
        """
        return tuple(
            t
            for t in self.trials
            if (not settings or t.setting in settings)
            and (population is None or t.population in (population, Population.MIXED))
        )


# --- validation -------------------------------------------------------------------------

_TOP_KEYS = {"id", "version", "effective_date", "source", "unconfirmed", "trials"}
_TRIAL_KEYS = {
    "id",
    "name",
    "design",
    "setting",
    "population",
    "philadelphia",
    "n",
    "arms",
    "age_years",
    "citation",
    "also_cited",
    "source",
    "notes",
    "values",
}
_TRIAL_REQUIRED = {"id", "name", "design", "setting", "population", "citation", "source"}
_CITATION_KEYS = {"authors", "title", "journal", "year", "doi", "pmid", "review_reference"}
_AGE_KEYS = {"median", "min", "max", "note"}
_VALUE_KEYS = {
    "measure",
    "percent",
    "k",
    "n",
    "median_months",
    "status",
    "arm",
    "subgroup",
    "population",
    "horizon_months",
    "threshold",
    "timepoint",
    "grade_min",
    "source",
    "note",
}


E = TypeVar("E", bound=StrEnum)


class _Reader:
    """Typed access to a parsed document; every failure names the file and key path."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, key: str, expected: str) -> NoReturn:
        raise ProtocolError(self.origin, key, expected)

    def mapping(self, value: object, key: str, allowed: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(key, "a mapping")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            self.fail(f"{key}.{unknown[0]}", f"one of the keys {', '.join(sorted(allowed))}")
        return value

    def text(self, data: Mapping[str, Any], name: str, key: str, *, required: bool) -> str | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(f"{key}.{name}", "a non-empty text (required)")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            self.fail(f"{key}.{name}", "a non-empty text")
        return str(value).strip()

    def count(self, data: Mapping[str, Any], name: str, key: str) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(f"{key}.{name}", "a whole number ≥ 0")
        return value

    def number(
        self, data: Mapping[str, Any], name: str, key: str, *, maximum: float | None = None
    ) -> float | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(f"{key}.{name}", "a number ≥ 0")
        if maximum is not None and value > maximum:
            self.fail(f"{key}.{name}", f"a number ≤ {maximum:g}")
        return float(value)

    def choice(self, data: Mapping[str, Any], name: str, key: str, enum: type[E]) -> E | None:
        value = data.get(name)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            self.fail(f"{key}.{name}", "one of " + ", ".join(e.value for e in enum))

    def texts(self, data: Mapping[str, Any], name: str, key: str) -> tuple[str, ...]:
        value = data.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"{key}.{name}", "a list of texts")
        return tuple(value)

    def citation(self, value: object, key: str) -> Citation:
        data = self.mapping(value, key, _CITATION_KEYS)
        year = self.count(data, "year", key)
        if year is None or not 1900 <= year <= 2100:
            self.fail(f"{key}.year", "a publication year")
        doi = self.text(data, "doi", key, required=False)
        pmid = self.text(data, "pmid", key, required=False)
        if doi is None and pmid is None:
            self.fail(key, "a doi or a pmid (every entry must be citable)")
        if doi is not None and not doi.startswith("10."):
            self.fail(f"{key}.doi", "a DOI starting with '10.'")
        if pmid is not None and not pmid.isdigit():
            self.fail(f"{key}.pmid", "a PubMed id (digits)")
        return Citation(
            authors=str(self.text(data, "authors", key, required=True)),
            title=str(self.text(data, "title", key, required=True)),
            journal=str(self.text(data, "journal", key, required=True)),
            year=year,
            doi=doi,
            pmid=pmid,
            review_reference=self.count(data, "review_reference", key),
        )

    def value(self, raw: object, key: str) -> TrialValue:
        data = self.mapping(raw, key, _VALUE_KEYS)
        measure = self.choice(data, "measure", key, Measure)
        if measure is None:
            self.fail(f"{key}.measure", "a measure (required)")
        percent = self.number(data, "percent", key, maximum=100.0)
        k, n = self.count(data, "k", key), self.count(data, "n", key)
        median = self.number(data, "median_months", key)
        status = self.choice(data, "status", key, ValueStatus)
        if k is not None and (n is None or n == 0 or k > n):
            self.fail(f"{key}.k", "a count with a denominator n ≥ k")
        kinds = [percent is not None or k is not None, median is not None, status is not None]
        if sum(kinds) != 1:
            self.fail(key, "exactly one of percent (or k/n), median_months or status")
        # A printed percentage beside its count must agree with it to the printed digit.
        if percent is not None and k is not None and n and abs(100.0 * k / n - percent) > 0.5:
            self.fail(f"{key}.percent", f"{100.0 * k / n:.1f} (= 100·k/n)")
        grade = self.count(data, "grade_min", key)
        if grade is not None and (measure not in (Measure.CRS, Measure.NEUROTOXICITY) or grade > 5):
            self.fail(f"{key}.grade_min", "a grade 1-5, on a crs or neurotoxicity value")
        return TrialValue(
            measure=measure,
            source=str(self.text(data, "source", key, required=True)),
            percent=percent,
            k=k,
            n=n,
            median_months=median,
            status=status,
            arm=self.text(data, "arm", key, required=False),
            subgroup=self.text(data, "subgroup", key, required=False),
            population=self.choice(data, "population", key, Population),
            horizon_months=self.number(data, "horizon_months", key),
            threshold=self.text(data, "threshold", key, required=False),
            timepoint=self.text(data, "timepoint", key, required=False),
            grade_min=grade,
            note=self.text(data, "note", key, required=False),
        )

    def trial(self, raw: object, key: str) -> Trial:
        data = self.mapping(raw, key, _TRIAL_KEYS)
        for name in sorted(_TRIAL_REQUIRED - set(data)):
            self.fail(f"{key}.{name}", "a value (required)")
        arms_raw = data.get("arms") or []
        if not isinstance(arms_raw, list):
            self.fail(f"{key}.arms", "a list of {name, n}")
        arms = []
        for index, arm_raw in enumerate(arms_raw):
            arm_key = f"{key}.arms[{index}]"
            arm = self.mapping(arm_raw, arm_key, {"name", "n"})
            size = self.count(arm, "n", arm_key)
            if size is None:
                self.fail(f"{arm_key}.n", "the arm's size (required)")
            arms.append(Arm(str(self.text(arm, "name", arm_key, required=True)), size))
        age = data.get("age_years")
        if age is not None:
            age_data = self.mapping(age, f"{key}.age_years", _AGE_KEYS)
            for name in ("median", "min", "max"):
                self.number(age_data, name, f"{key}.age_years", maximum=120.0)
        values_raw = data.get("values") or []
        if not isinstance(values_raw, list):
            self.fail(f"{key}.values", "a list of values")
        also = data.get("also_cited") or []
        if not isinstance(also, list):
            self.fail(f"{key}.also_cited", "a list of citations")
        trial_id = str(self.text(data, "id", key, required=True))
        setting = self.choice(data, "setting", key, Setting)
        population = self.choice(data, "population", key, Population)
        if setting is None or population is None:
            self.fail(key, "a setting and a population")
        return Trial(
            id=trial_id,
            name=str(self.text(data, "name", key, required=True)),
            design=str(self.text(data, "design", key, required=True)),
            setting=setting,
            population=population,
            citation=self.citation(data.get("citation"), f"{key}.citation"),
            source=str(self.text(data, "source", key, required=True)),
            n=self.count(data, "n", key),
            arms=tuple(arms),
            age_years=None if age is None else dict(age),
            philadelphia=self.text(data, "philadelphia", key, required=False),
            also_cited=tuple(
                self.citation(c, f"{key}.also_cited[{i}]") for i, c in enumerate(also)
            ),
            notes=self.texts(data, "notes", key),
            values=tuple(self.value(v, f"{key}.values[{i}]") for i, v in enumerate(values_raw)),
        )


def load_evidence_text(text: str, *, origin: str = "<text>") -> EvidenceBase:
    """Parse and validate an evidence document (YAML).

    Raises
    ------
    ProtocolError
        Naming ``origin``, the key path and what was expected, for any schema violation.
    """
    reader = _Reader(origin)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        reader.fail("(document)", f"valid YAML ({' '.join(str(error).split())})")
    top = reader.mapping(document, "(document)", _TOP_KEYS)
    trials_raw = top.get("trials")
    if not isinstance(trials_raw, list) or not trials_raw:
        reader.fail("trials", "a non-empty list of trials")
    trials = tuple(reader.trial(raw, f"trials[{i}]") for i, raw in enumerate(trials_raw))
    seen: set[str] = set()
    for index, trial in enumerate(trials):
        if trial.id in seen:
            reader.fail(f"trials[{index}].id", f"a unique id ({trial.id!r} is repeated)")
        seen.add(trial.id)
    return EvidenceBase(
        id=str(reader.text(top, "id", "(document)", required=True)),
        version=str(reader.text(top, "version", "(document)", required=True)),
        effective_date=str(reader.text(top, "effective_date", "(document)", required=True)),
        source=str(reader.text(top, "source", "(document)", required=True)),
        unconfirmed=reader.texts(top, "unconfirmed", "(document)"),
        trials=trials,
    )


@cache
def load_evidence(path: Path | None = None) -> EvidenceBase:
    """The shipped evidence base (or the document at ``path``), read when first asked for."""
    if path is not None:
        return load_evidence_text(path.read_text(encoding="utf-8"), origin=str(path))
    data = resources.files("mrdtrack.evidence").joinpath("data", "trials.yaml")
    return load_evidence_text(data.read_text(encoding="utf-8"), origin="evidence/trials.yaml")
