"""The methods paragraph of a report, written from what was actually computed.

While the cohort report is built, each estimator, test and end point it used is recorded
here (with the basis objects the results carry); :meth:`Methods.paragraphs` turns the
record into text: time zero and end-point definitions (END-01), estimators with their
variance and interval scale (END-02), tests, the MRD engine's profiles and versions, the
grading scales, and the software versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from mrdtrack.figures.timeline import PatientTimeline
from mrdtrack.outcomes import CumulativeIncidence, KaplanMeier, LogRankResult
from mrdtrack.outcomes.basis import AALEN_JOHANSEN, KAPLAN_MEIER, LOGRANK
from mrdtrack.outcomes.endpoints import EndpointData
from mrdtrack.reports.rendering import ReportContext

__all__ = ["Methods"]


def _percent(value: float) -> str:
    return f"{value * 100:.0f}\u00a0%"


class Methods:
    """What was computed, collected while a report is built."""

    def __init__(self) -> None:
        self.endpoints: list[EndpointData] = []
        self.km: KaplanMeier | None = None
        self.cif: CumulativeIncidence | None = None
        self.logrank: LogRankResult | None = None
        self.follow_up: str | None = None
        self.binomial: str | None = None
        self.table1_tests: list[str] = []
        self.mrd: list[str] = []
        self.grading: list[str] = []

    def record_data(self, timelines: Sequence[PatientTimeline]) -> None:
        """Record the MRD engine profiles and grading scales behind the data."""
        profiles = sorted({r.profile for t in timelines for r in t.mrd})
        methods = sorted({r.method.value for t in timelines for r in t.mrd})
        engines = sorted({r.engine_version for t in timelines for r in t.mrd})
        if profiles:
            self.mrd.append(
                f"MRD ({', '.join(methods)}) was computed by the mrdtrack MRD engine from the "
                f"raw inputs stored with each result (profiles {', '.join(profiles)}; engine "
                f"version {', '.join(engines)}); a not-detected result is reported with its "
                "achieved sensitivity, never as zero. Response categories follow ASH 2021 "
                "(MRD CR: not detected at a sensitivity of at least 10⁻⁴; rule RESP-MRD)."
            )
        scales = sorted({e.scale for t in timelines for e in t.adverse_events})
        if scales:
            self.grading.append(
                "Adverse events were graded from their recorded inputs "
                f"({', '.join(scales)}); the worst grade per patient is reported."
            )

    def paragraphs(self, context: ReportContext) -> list[str]:
        """The methods text, one paragraph per topic."""
        text: list[str] = []
        if self.endpoints:
            sentences = ["Times were counted in months (days / 30.4375)."]
            for data in self.endpoints:
                d = data.definition
                competing = f"; competing event: {d.competing}" if d.competing else ""
                sentences.append(
                    f"{d.name[:1].upper()}{d.name[1:]} ({data.n} patients; time zero: "
                    f"{data.origin.value}): {d.events}{competing}; censored: {d.censoring} "
                    f"({d.source})."
                )
            text.append(" ".join(sentences))
        estimators = []
        if self.km is not None:
            estimators.append(
                f"Survival was estimated with the {KAPLAN_MEIER.estimator} method with "
                f"{KAPLAN_MEIER.variance.split(':')[0]} variance and pointwise "
                f"{_percent(self.km.confidence_level)} confidence intervals on the "
                f"{self.km.ci_method.value} scale; a median is the smallest time with "
                "S(t) ≤ 0.5."
            )
        if self.cif is not None:
            estimators.append(
                "The cumulative incidence of relapse was estimated with the Aalen–Johansen "
                "estimator with death without relapse as the competing event (delta-method "
                f"variance, {self.cif.ci_method.value}-scale intervals), not as 1 − Kaplan–Meier."
            )
        if self.logrank is not None:
            estimators.append(
                f"Groups were compared with the {LOGRANK.estimator} ({self.logrank.df} "
                "degree(s) of freedom)."
            )
        if self.follow_up:
            estimators.append(
                f"Median follow-up from diagnosis was estimated by the {self.follow_up} method."
            )
        if self.binomial:
            estimators.append(f"Proportions are given with {self.binomial} confidence intervals.")
        if self.table1_tests:
            estimators.append(
                "Table 1 compares groups with " + ", ".join(sorted(set(self.table1_tests))) + "."
            )
        if estimators:
            text.append(" ".join(estimators))
        text.extend(self.mrd + self.grading)
        versions = context.versions
        software = ", ".join(f"{name} {version}" for name, version in versions.items())
        text.append(
            f"Analyses were computed by mrdtrack {versions.get('mrdtrack', '?')} from the "
            f"registry ({context.registry}) on {context.generated_at:%Y-%m-%d}; software: "
            f"{software}. Estimator references: {KAPLAN_MEIER.source}; "
            f"{AALEN_JOHANSEN.source}; {LOGRANK.source}."
        )
        return text
