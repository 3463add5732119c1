"""The regressor's solve steps (skdiv._gaussian): the beta-NLL fit.

The beta-NLL fit is defined by its stationarity condition (the fixed point of
frozen-weight refits); the tests check that condition directly, written out
here in NumPy from the Gaussian NLL's gradient, on the fitted model.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from skdiv import GaussianRegressor


def _reproducer():
    """Issue 17, defect 1: 10 samples per parameter, log-variance 2 x_1."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 30))
    eps = rng.normal(size=300)
    return X, X[:, 0] + eps * np.exp(X[:, 1])


def _beta_stationarity(reg, X, y, sample_weight, beta, y_std=None):
    r"""Max-norm of the beta-weighted gradient at the fitted model.

    In standardised units (:math:`\tilde y = (y - \bar y)/s_y`):
    :math:`\sum_i w_i \nabla_\theta \ell_i / \sum_i w_i + \alpha \theta` with
    :math:`w_i = s_i \sigma_i^{2\beta}` and :math:`\ell_i` the Gaussian NLL
    (KL: squared residual plus :math:`\tau_i^2`); intercepts unpenalised.
    """
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    offset = np.average(y, weights=sw) if reg.fit_intercept else 0.0
    scale = np.sqrt(np.average((y - offset) ** 2, weights=sw))
    t = (y - offset) / scale
    coef, intercept = reg.coef_ / scale, (reg.intercept_ - offset) / scale
    var_coef, var_intercept = reg.var_coef_, reg.var_intercept_ - 2 * np.log(scale)
    mean = X @ coef + intercept
    log_var = X @ var_coef + var_intercept
    second = (t - mean) ** 2 + (0.0 if y_std is None else (y_std / scale) ** 2)
    d_mean = (mean - t) * np.exp(-log_var)
    d_log_var = 0.5 * (1 - second * np.exp(-log_var))
    w = sw * np.exp(beta * log_var)
    w = w / w.sum()
    grad = [
        X.T @ (w * d_mean) + reg.alpha * coef,
        X.T @ (w * d_log_var) + reg.alpha * var_coef,
        [np.sum(w * d_log_var)],
    ]
    if reg.fit_intercept:
        grad.append([np.sum(w * d_mean)])
    return np.max(np.abs(np.concatenate(grad)))


def test_beta_reproducer_is_the_bounded_stationary_point():
    # The re-weighting refits used to return a log-variance slope of -6.8 on
    # x_1 (std up to 4e10) with a ConvergenceWarning. The beta-NLL solution
    # is bounded, near the plain NLL fit (+2.37) and the truth (+2).
    X, y = _reproducer()
    plain = GaussianRegressor(tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = GaussianRegressor(beta=0.5, tol=1e-10).fit(X, y)
    assert _beta_stationarity(reg, X, y, None, 0.5) < 1e-9
    assert abs(reg.var_coef_[1] - plain.var_coef_[1]) < 0.5
    assert 1.5 < reg.var_coef_[1] < 2.5
    _, std = reg.predict(X, return_std=True)
    _, std_plain = plain.predict(X, return_std=True)
    assert std.max() < 2 * std_plain.max()
    assert reg.n_iter_ < 100


def test_beta_one_is_least_squares_mean_with_bounded_work():
    # beta=1 at 10 samples per parameter ran 1,000 Newton iterations. With
    # alpha=0 its mean is ordinary least squares.
    X, y = _reproducer()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = GaussianRegressor(beta=1.0, alpha=0.0, tol=1e-10).fit(X, y)
        default = GaussianRegressor(beta=1.0).fit(X, y)
    ols = LinearRegression().fit(X, y)
    assert_allclose(reg.coef_, ols.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(reg.intercept_, ols.intercept_, rtol=1e-9)
    assert _beta_stationarity(reg, X, y, None, 1.0) < 1e-9
    assert reg.n_iter_ < 60 and default.n_iter_ < 60
    assert abs(default.var_coef_[1] - 2.0) < 0.5


@pytest.mark.parametrize("beta", [0.3, 0.9, 1.0])
@pytest.mark.parametrize(
    "params",
    [
        dict(alpha=0.1),
        dict(alpha=0.01, fit_intercept=False),
        dict(alpha=0.05, loss="kl_divergence"),
    ],
    ids=["alpha", "no-intercept", "kl"],
)
def test_beta_fit_is_the_weighted_fixed_point(beta, params):
    # alpha > 0: the weights' normaliser enters the condition, so the fit
    # re-weights it; weighted samples, the KL's target variance.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    y = 1.0 + X[:, 0] + rng.normal(size=400) * np.exp(0.5 * X[:, 1])
    sw = rng.uniform(0.2, 3.0, size=400)
    y_std = rng.uniform(0.1, 1.0, size=400) if "loss" in params else None
    kwargs = {} if y_std is None else dict(y_std=y_std)
    reg = GaussianRegressor(beta=beta, tol=1e-11, **params).fit(
        X, y, sample_weight=sw, **kwargs
    )
    assert _beta_stationarity(reg, X, y, sw, beta, y_std) < 1e-9


def test_beta_reports_the_last_unconverged_solve_once():
    # A solver warning of an earlier re-weighting is superseded by the later
    # solves; the last one's is relayed once, saying how far from tol it
    # stopped (alpha=0: one minimisation, here capped at one iteration).
    X, y = _reproducer()
    with pytest.warns(ConvergenceWarning) as record:
        GaussianRegressor(beta=0.5, alpha=0.0, max_iter=1).fit(X, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    relayed = [m for m in messages if m.startswith("The beta-NLL fit (beta=0.5)")]
    assert len(relayed) == 1
    assert re.search(
        r"last re-weighting: Newton-CG did not converge in max_iter=1 iterations: "
        r"the gradient max-norm is \S+ > tol=1e-06",
        relayed[0],
    )
