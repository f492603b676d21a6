"""Outcome analytics: survival estimators and tests (rule END-02), pure and vectorised.

No I/O, no database, no clock: arrays in, frozen result objects out, each carrying its
:class:`~mrdtrack.outcomes.basis.EstimatorBasis` (formula, variance, rule, source). Every
estimator is one sort of the times followed by run lengths and cumulative sums.

=====================  ============================================================
module                 concept
=====================  ============================================================
``kaplan_meier``       Kaplan–Meier, Greenwood variance, CIs, median, milestones
``logrank``            log-rank test (k groups, stratified) and the test for trend
``competing_risks``    Aalen–Johansen cumulative incidence with delta-method variance
``cox``                Cox proportional hazards (Efron/Breslow ties, strata)
``followup``           median follow-up by reverse Kaplan–Meier
``rmst``               restricted mean survival time and two-group contrasts
``ph_check``           scaled Schoenfeld residuals, proportional-hazards test
``gray``               Gray's K-sample test for cumulative incidence
``endpoints``          OS, EFS, RFS, CIR, NRM, GRFS from event histories (END-01)
``histories``          per-patient event histories (plain dates)
``group_stats``        Mann–Whitney, Fisher, chi-square, binomial CIs
``logistic``           logistic regression with Firth's correction
``table1``             the cohort "Table 1" with the right summary and test
``summary``            the cohort summary (the case report's numbers)
``confidence``         pointwise intervals (log-log, log, plain)
``risk_sets``          validation, the sorted event table, at-risk counts
``basis``              what produced a result: formula, source, [U] items
=====================  ============================================================
"""

from mrdtrack.outcomes.basis import EstimatorBasis
from mrdtrack.outcomes.competing_risks import (
    CumulativeIncidence,
    IncidenceMilestones,
    cumulative_incidence,
)
from mrdtrack.outcomes.confidence import CiMethod
from mrdtrack.outcomes.cox import CoxFit, Ties, cox_ph
from mrdtrack.outcomes.followup import FollowUp, median_follow_up
from mrdtrack.outcomes.gray import GrayTest, gray_test
from mrdtrack.outcomes.kaplan_meier import KaplanMeier, Milestones, TimeEstimate, kaplan_meier
from mrdtrack.outcomes.logrank import LogRankResult, logrank_test, logrank_trend_test
from mrdtrack.outcomes.ph_check import PhTest, TimeTransform, proportional_hazards_test
from mrdtrack.outcomes.rmst import RestrictedMean, RmstComparison, rmst, rmst_comparison

__all__ = [
    "CiMethod",
    "CoxFit",
    "CumulativeIncidence",
    "EstimatorBasis",
    "FollowUp",
    "GrayTest",
    "IncidenceMilestones",
    "KaplanMeier",
    "LogRankResult",
    "Milestones",
    "PhTest",
    "RestrictedMean",
    "RmstComparison",
    "Ties",
    "TimeEstimate",
    "TimeTransform",
    "cox_ph",
    "cumulative_incidence",
    "gray_test",
    "kaplan_meier",
    "logrank_test",
    "logrank_trend_test",
    "median_follow_up",
    "proportional_hazards_test",
    "rmst",
    "rmst_comparison",
]
