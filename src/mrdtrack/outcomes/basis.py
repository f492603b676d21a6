"""The basis every survival result carries: estimator, formula, variance, rule, source.

Domain rules §0.2 ask that a result travels with what produced it. The estimators of this
package are standard methods (rule END-02 [D]); the constants below name each method, its
formula and its reference once, and the results point at them. Citations that the domain
rules mark **[U]** (not retrieved when the rules were written) are listed in
``unconfirmed`` so that a report can show them as such.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AALEN_JOHANSEN",
    "COX_PH",
    "ESTIMATOR_VERSION",
    "KAPLAN_MEIER",
    "LOGRANK",
    "LOGRANK_TREND",
    "REVERSE_KAPLAN_MEIER",
    "EstimatorBasis",
]

ESTIMATOR_VERSION = "mrdtrack.outcomes/1"


@dataclass(frozen=True, slots=True)
class EstimatorBasis:
    """What produced a survival result.

    Attributes
    ----------
    estimator
        The method's name.
    formula
        The estimator in one line.
    variance
        How its variance (or the test's null distribution) is obtained.
    rule
        The domain-rules rule id.
    source
        The reference(s), with the R function that computes the same numbers.
    version
        The version of mrdtrack's implementation.
    unconfirmed
        Items the domain rules mark [U] (citation or convention not yet verified).
    """

    estimator: str
    formula: str
    variance: str
    rule: str
    source: str
    version: str = ESTIMATOR_VERSION
    unconfirmed: tuple[str, ...] = ()


KAPLAN_MEIER = EstimatorBasis(
    estimator="Kaplan–Meier",
    formula="S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)",
    variance="Greenwood: Var S(t) = S(t)² Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i))",
    rule="END-02",
    source="Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-481; Greenwood M 1926; "
    "R: survival::survfit(Surv(time, status) ~ 1, conf.type = 'log-log')",
)

REVERSE_KAPLAN_MEIER = EstimatorBasis(
    estimator="reverse Kaplan–Meier median follow-up",
    formula="Kaplan–Meier with the indicator swapped (alive/censored → event, death → "
    "censored); median = smallest t with S(t) ≤ 0.5",
    variance="Greenwood, as for Kaplan–Meier",
    rule="END-02",
    source="Schemper M, Smith TL. Control Clin Trials 1996;17:343-346; "
    "R: survival::survfit(Surv(time, 1 - status) ~ 1)",
    unconfirmed=("Schemper & Smith 1996 citation not retrieved (domain rules §11.3, §13)",),
)

AALEN_JOHANSEN = EstimatorBasis(
    estimator="Aalen–Johansen cumulative incidence",
    formula="F_k(t) = Σ_{t_i ≤ t} S(t_{i−1}) d_{k,i} / n_i, S = all-cause Kaplan–Meier",
    variance="delta method (Greenwood-type): Var F_k(t) = Σ (F_k(t) − F_k(t_i))² d_i / "
    "(n_i (n_i − d_i)) + Σ S(t_{i−1})² d_{k,i} (n_i − d_{k,i}) / n_i³ − "
    "2 Σ (F_k(t) − F_k(t_i)) S(t_{i−1}) d_{k,i} / n_i²",
    rule="END-02",
    source="Aalen OO, Johansen S. Scand J Stat 1978;5:141-150; variance: Marubini E, "
    "Valsecchi MG. Analysing Survival Data from Clinical Trials, Wiley 1995; Collett D. "
    "Modelling Survival Data in Medical Research, 3rd ed. 2015, p. 411; as SAS PROC "
    "LIFETEST, lifelines AalenJohansenFitter and statsmodels CumIncidenceRight",
)

LOGRANK = EstimatorBasis(
    estimator="log-rank test",
    formula="χ² = (O − E)ᵀ V⁻ (O − E) over the groups, O − E and V summed over distinct "
    "event times (and over strata)",
    variance="hypergeometric: V_gh = Σ d (n − d) / (n − 1) · n_g / n · (δ_gh − n_h / n); "
    "df = rank of V",
    rule="END-02",
    source="Mantel N. Cancer Chemother Rep 1966;50:163-170; Peto R, Peto J. J R Stat Soc A "
    "1972;135:185-207; R: survival::survdiff(Surv(time, status) ~ group + strata(s))",
)

LOGRANK_TREND = EstimatorBasis(
    estimator="log-rank test for trend",
    formula="χ²₁ = (sᵀ (O − E))² / (sᵀ V s), s = ordered group scores",
    variance="the log-rank variance matrix V projected on the scores; df = 1",
    rule="END-02",
    source="Collett D. Modelling Survival Data in Medical Research, 3rd ed. 2015, §2.6; "
    "Peto R, Pike MC et al. Br J Cancer 1977;35:1-39",
)

COX_PH = EstimatorBasis(
    estimator="Cox proportional hazards (partial likelihood)",
    formula="h(t | x) = h₀(t) exp(βᵀx); Efron (default) or Breslow handling of ties; "
    "Newton–Raphson with step halving",
    variance="inverse of the observed information matrix at β̂",
    rule="END-02",
    source="Cox DR. J R Stat Soc B 1972;34:187-220; Efron B. J Am Stat Assoc "
    "1977;72:557-565; Breslow NE. Biometrics 1974;30:89-99; R: survival::coxph(Surv(time, "
    "status) ~ x, ties = 'efron')",
)
