"""Tests for :class:`skdiv.GaussianRegressor`."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.stats import norm
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import BayesianRidge, LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skdiv import GaussianRegressor

# scikit-learn's estimator checks for every configuration live in test_common.py.


# --------------------------------------------------------------------- data
def _linear_data(n=300, d=4, seed=0, offset=3.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 10.0, 0.1, 2.0])[:d] + 1.0
    y = X @ rng.normal(size=d) + offset + rng.normal(size=n)
    return X, y


def _hetero_data(n, seed, w=1.5, v=1.2, b=0.5, c=-0.3):
    """y = b + w x + eps, log var(eps) = c + v x, x ~ U(-1.5, 1.5)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, size=n)
    y = b + w * x + rng.normal(size=n) * np.exp((c + v * x) / 2)
    return x[:, None], y


def _sparse_copy(X, seed=0):
    """CSR matrix with some exact zeros, and its dense twin."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    return X, sp.csr_matrix(X)


def _nll(y, mean, std):
    return float(
        np.mean(0.5 * np.log(2 * np.pi * std**2) + 0.5 * ((y - mean) / std) ** 2)
    )


# ---------------------------------------------------------- constant variance
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.05], ids=["alpha0", "alpha0.05"])
@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("loss", ["gaussian_nll", "squared_error"])
def test_constant_variance_is_ridge(loss, fit_intercept, alpha, weighted, sparse):
    X, y = _linear_data()
    X, Xs = _sparse_copy(X)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, size=len(y)) if weighted else None
    reg = GaussianRegressor(
        loss, variance="constant", alpha=alpha, fit_intercept=fit_intercept
    ).fit(Xs if sparse else X, y, sample_weight=sw)

    sw_sum = len(y) if sw is None else sw.sum()
    if alpha == 0:
        ref = LinearRegression(fit_intercept=fit_intercept)
    else:
        ref = Ridge(alpha=alpha * sw_sum, fit_intercept=fit_intercept, solver="svd")
    ref.fit(X, y, sample_weight=sw)  # dense reference, also for sparse X
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)

    residual = y - ref.predict(X)
    expected_std = np.sqrt(np.average(residual**2, weights=sw))
    mean, std = reg.predict(X, return_std=True)
    assert_allclose(mean, ref.predict(X), rtol=1e-8)
    assert_allclose(std, expected_std, rtol=1e-8)
    assert_allclose(reg.var_coef_, 0.0)
    assert_allclose(reg.var_intercept_, np.log(expected_std**2), rtol=1e-8)
    assert reg.n_iter_ == 1


def test_constant_variance_same_for_nll_and_squared_error():
    X, y = _linear_data()
    a = GaussianRegressor("gaussian_nll", variance="constant").fit(X, y)
    b = GaussianRegressor("squared_error", variance="constant").fit(X, y)
    for attr in ["coef_", "intercept_", "var_coef_", "var_intercept_", "objective_"]:
        assert_allclose(getattr(a, attr), getattr(b, attr), rtol=1e-12)


# ---------------------------------------------------- heteroscedastic recovery
@pytest.fixture(scope="module")
def hetero_fits():
    X, y = _hetero_data(20_000, seed=0)
    X_test, y_test = _hetero_data(20_000, seed=1)
    hetero = GaussianRegressor().fit(X, y)
    const = GaussianRegressor(variance="constant").fit(X, y)
    bayes = BayesianRidge().fit(X, y)
    return X, y, X_test, y_test, hetero, const, bayes


def test_heteroscedastic_recovers_parameters(hetero_fits):
    X, y, _, _, hetero, _, _ = hetero_fits
    x, n = X[:, 0], len(y)
    w, v, b, c = 1.5, 1.2, 0.5, -0.3
    # Asymptotic standard errors: the mean by weighted least squares (weights
    # 1 / sigma^2), the log-variance with Fisher information 1/2 per sample.
    inv_var = np.exp(-(c + v * x))
    design = np.column_stack([x, np.ones(n)])
    se_mean = np.sqrt(np.diag(np.linalg.inv(design.T @ (design * inv_var[:, None]))))
    se_var = np.sqrt(np.diag(np.linalg.inv(0.5 * design.T @ design)))
    assert abs(hetero.coef_[0] - w) < 4 * se_mean[0]
    assert abs(hetero.intercept_ - b) < 4 * se_mean[1]
    assert abs(hetero.var_coef_[0] - v) < 4 * se_var[0]
    assert abs(hetero.var_intercept_ - c) < 4 * se_var[1]


def test_heteroscedastic_intervals_calibrated_per_bin(hetero_fits):
    _, _, X_test, y_test, hetero, const, _ = hetero_fits
    bins = np.digitize(X_test[:, 0], np.quantile(X_test[:, 0], [0.2, 0.4, 0.6, 0.8]))

    def coverage(reg):
        lo, hi = reg.predict_interval(X_test, coverage=0.9).T
        inside = (lo <= y_test) & (y_test <= hi)
        return inside.mean(), np.array([inside[bins == k].mean() for k in range(5)])

    overall, per_bin = coverage(hetero)
    assert 0.88 <= overall <= 0.92
    assert np.all((0.88 <= per_bin) & (per_bin <= 0.92)), per_bin

    overall, per_bin = coverage(const)
    assert 0.88 <= overall <= 0.92  # right on average ...
    assert per_bin.max() > 0.97 and per_bin.min() < 0.8  # ... wrong per bin


def test_heteroscedastic_beats_constant_and_bayesian_ridge(hetero_fits):
    _, _, X_test, y_test, hetero, const, bayes = hetero_fits
    nll = {
        name: -np.mean(norm.logpdf(y_test, *reg.predict(X_test, return_std=True)))
        for name, reg in [("hetero", hetero), ("const", const), ("bayes", bayes)]
    }
    assert_allclose(
        nll["hetero"], _nll(y_test, *hetero.predict(X_test, return_std=True))
    )
    assert nll["hetero"] < nll["const"] - 0.05
    assert nll["hetero"] < nll["bayes"] - 0.05


def test_predict_interval_and_dist_agree(hetero_fits):
    _, _, X_test, _, hetero, _, _ = hetero_fits
    X_test = X_test[:50]
    mean, std = hetero.predict(X_test, return_std=True)
    dist = hetero.predict_dist(X_test)
    assert_allclose(dist.mean(), mean)
    assert_allclose(dist.std(), std)
    interval = hetero.predict_interval(X_test, coverage=0.8)
    assert interval.shape == (50, 2)
    assert_allclose(interval[:, 0], dist.ppf(0.1))
    assert_allclose(interval[:, 1], dist.ppf(0.9))
    assert_allclose(hetero.predict(X_test), mean)


# ---------------------------------------------------------- optimum checks
def _reference_fit(X, y, sw, alpha, fit_intercept, y_std=None, fixed_mean=None):
    """Minimise the documented objective with BFGS, written out from scratch.

    Returns (coef, intercept, var_coef, var_intercept, objective) in original
    target units. ``fixed_mean`` (standardised) fits the log-variance head only.
    """
    sw = np.ones(len(y)) if sw is None else sw
    S = sw.sum()
    y_off = np.sum(sw * y) / S if fit_intercept else 0.0
    y_sc = np.sqrt(np.sum(sw * (y - y_off) ** 2) / S)
    t = (y - y_off) / y_sc
    tau2 = 0.0 if y_std is None else (y_std / y_sc) ** 2
    d = X.shape[1]

    def split(p):
        if fixed_mean is not None:
            return None, None, p[:d], p[d]
        w, rest = p[:d], p[d:]
        v = rest[:d]
        b = rest[d + 1] if fit_intercept else 0.0
        return w, b, v, rest[d]

    def f(p):
        w, b, v, c = split(p)
        mu = fixed_mean if w is None else X @ w + b
        eta = X @ v + c
        m2 = (t - mu) ** 2 + tau2
        loss = 0.5 * (np.log(2 * np.pi) + eta + m2 * np.exp(-eta))
        if y_std is not None:  # KL = expected NLL - target entropy
            loss -= 0.5 * np.log(2 * np.pi * np.e * tau2)
        pen = v @ v + (0.0 if w is None else w @ w)
        return np.sum(sw * loss) / S + 0.5 * alpha * pen

    n_params = d + 1 if fixed_mean is not None else 2 * d + 1 + int(fit_intercept)
    res = scipy.optimize.minimize(
        f, np.zeros(n_params), method="BFGS", options={"gtol": 1e-10, "maxiter": 10_000}
    )
    w, b, v, c = split(res.x)
    if w is None:
        w, b = np.zeros(d), 0.0
    return w * y_sc, y_off + y_sc * b, v, c + 2 * np.log(y_sc), res.fun


@pytest.mark.parametrize(
    "kind", ["nll", "nll-weighted", "nll-no-intercept", "kl", "squared_error"]
)
def test_heteroscedastic_matches_direct_minimisation(kind):
    rng = np.random.default_rng(3)
    n, d = 150, 2
    X = rng.normal(size=(n, d)) * np.array([2.0, 0.5]) + 0.5
    y = 10 + X @ np.array([1.0, -2.0]) + rng.normal(size=n) * np.exp(0.4 * X[:, 0])
    sw = rng.uniform(0.5, 2.0, size=n) if kind == "nll-weighted" else None
    y_std = rng.uniform(0.2, 1.0, size=n) if kind == "kl" else None
    fit_intercept = kind != "nll-no-intercept"
    loss = {"kl": "kl_divergence", "squared_error": "squared_error"}.get(
        kind, "gaussian_nll"
    )
    alpha = 0.01

    reg = GaussianRegressor(loss, alpha=alpha, fit_intercept=fit_intercept, tol=1e-10)
    reg.fit(X, y, sample_weight=sw, y_std=y_std)

    fixed_mean = None
    if kind == "squared_error":
        ols = Ridge(alpha=alpha * n, solver="svd").fit(X, y)
        assert_allclose(reg.coef_, ols.coef_, rtol=1e-8)
        y_sc = np.std(y)
        fixed_mean = (ols.predict(X) - y.mean()) / y_sc
    w, b, v, c, objective = _reference_fit(
        X, y, sw, alpha, fit_intercept, y_std=y_std, fixed_mean=fixed_mean
    )
    if fixed_mean is None:
        assert_allclose(reg.coef_, w, rtol=1e-5)
        assert_allclose(reg.intercept_, b, rtol=1e-5, atol=1e-8)
    assert_allclose(reg.var_coef_, v, rtol=1e-5)
    assert_allclose(reg.var_intercept_, c, rtol=1e-5)
    if kind == "squared_error":
        objective += 0.5 * alpha * np.sum((reg.coef_ / y_sc) ** 2)
    assert_allclose(reg.objective_, objective, rtol=1e-8)


# ----------------------------------------------------------- equivalences
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize(
    "params", [{}, {"loss": "squared_error"}, {"beta": 0.5}], ids=["nll", "se", "beta"]
)
def test_integer_weights_equal_repeated_rows(params, sparse):
    X, y = _hetero_data(200, seed=4)
    X = np.column_stack([X, np.random.default_rng(5).normal(size=200)])
    sw = np.random.default_rng(6).integers(0, 4, size=200)
    X_rep, y_rep = X.repeat(sw, axis=0), y.repeat(sw)
    if sparse:
        X, X_rep = sp.csr_matrix(X), sp.csr_matrix(X_rep)
    weighted = GaussianRegressor(**params, tol=1e-10).fit(X, y, sample_weight=sw)
    repeated = GaussianRegressor(**params, tol=1e-10).fit(X_rep, y_rep)
    for attr in ["coef_", "intercept_", "var_coef_", "var_intercept_", "objective_"]:
        assert_allclose(
            getattr(weighted, attr), getattr(repeated, attr), rtol=1e-6, atol=1e-8
        )


@pytest.mark.parametrize("variance", ["heteroscedastic", "constant"])
def test_scale_equivariance(variance):
    X, y = _hetero_data(500, seed=7)
    scale = 1e6
    small = GaussianRegressor(variance=variance).fit(X, y)
    big = GaussianRegressor(variance=variance).fit(X, scale * y)
    assert_allclose(big.coef_, scale * small.coef_, rtol=1e-7)
    assert_allclose(big.intercept_, scale * small.intercept_, rtol=1e-7)
    assert_allclose(big.var_coef_, small.var_coef_, rtol=1e-7, atol=1e-12)
    assert_allclose(
        big.var_intercept_, small.var_intercept_ + 2 * np.log(scale), rtol=1e-7
    )
    assert_allclose(big.objective_, small.objective_, rtol=1e-7)
    _, std_small = small.predict(X, return_std=True)
    _, std_big = big.predict(X, return_std=True)
    assert_allclose(std_big, scale * std_small, rtol=1e-7)


def test_sparse_equals_dense_heteroscedastic():
    X, y = _hetero_data(400, seed=8)
    X = np.column_stack([X, np.random.default_rng(9).normal(size=400)])
    X, Xs = _sparse_copy(X)
    dense = GaussianRegressor(tol=1e-10).fit(X, y)
    sparse = GaussianRegressor(tol=1e-10).fit(Xs, y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6)
    assert_allclose(sparse.var_coef_, dense.var_coef_, rtol=1e-6)
    assert_allclose(sparse.predict(Xs), dense.predict(X), rtol=1e-6)


# ------------------------------------------------------------------- beta
def test_beta_zero_is_plain_nll_and_half_moves_towards_least_squares():
    # A misspecified linear mean (the truth is curved) with variance growing
    # in x: the NLL fits the mean by 1/sigma^2-weighted least squares and so
    # favours the low-variance end; beta=1 would be ordinary least squares;
    # beta=0.5 lands in between.
    rng = np.random.default_rng(10)
    x = rng.uniform(0, 3, size=3000)
    y = x + 0.5 * x**2 + rng.normal(size=3000) * np.exp(0.6 * x)
    X = x[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        plain = GaussianRegressor().fit(X, y)
        beta0 = GaussianRegressor(beta=0.0).fit(X, y)
        beta_half = GaussianRegressor(beta=0.5).fit(X, y)
    assert_allclose(beta0.coef_, plain.coef_, rtol=0)
    ols = LinearRegression().fit(X, y).coef_[0]
    assert plain.coef_[0] < beta_half.coef_[0] < ols
    assert beta_half.coef_[0] - plain.coef_[0] > 0.1
    # The variance head still follows the data.
    assert beta_half.var_coef_[0] > 0.5


def test_beta_on_degenerate_data_stays_bounded_without_warning():
    # 20 samples, 12 parameters, an integer target: the plain NLL drives some
    # variances to the floor (its likelihood is unbounded), and re-weighting
    # refits used to run away from it. The beta-NLL's potential is bounded
    # below: a fit with bounded variances, no warning.
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 5))
    y = X[:, 0].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = GaussianRegressor().fit(X, y)
    for beta in (0.5, 1.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            reg = GaussianRegressor(beta=beta).fit(X, y)
        _, std = reg.predict(X, return_std=True)
        _, std_plain = plain.predict(X, return_std=True)
        assert np.all(np.isfinite(std)) and std.max() <= std_plain.max()
        assert std.min() > 1e3 * reg.std_floor_
        assert reg.n_iter_ < 50


def test_beta_reweighting_warns_when_capped(monkeypatch):
    # With alpha > 0 the weights' normaliser is re-weighted: one pass is not
    # enough at tol=1e-12, and the warning says how far the fit still moves.
    monkeypatch.setattr("skdiv._gaussian.MAX_REWEIGHTINGS", 1)
    X, y = _hetero_data(300, seed=11)
    with pytest.warns(
        ConvergenceWarning,
        match=r"beta-NLL re-weighting \(beta=0.5\) did not converge in 1 "
        r"re-weightings: the coefficients still change by",
    ):
        GaussianRegressor(beta=0.5, alpha=0.1, tol=1e-12).fit(X, y)


# --------------------------------------------------------------------- KL
def test_kl_constant_variance_adds_target_variance():
    X, y = _linear_data(seed=12)
    y_std = np.random.default_rng(13).uniform(0.1, 2.0, size=len(y))
    sw = np.random.default_rng(14).uniform(0.5, 2.0, size=len(y))
    nll = GaussianRegressor(variance="constant").fit(X, y, sample_weight=sw)
    kl = GaussianRegressor("kl_divergence", variance="constant").fit(
        X, y, sample_weight=sw, y_std=y_std
    )
    assert_allclose(kl.coef_, nll.coef_, rtol=1e-12)
    var_nll = np.exp(nll.var_intercept_)
    assert_allclose(
        np.exp(kl.var_intercept_), var_nll + np.average(y_std**2, weights=sw)
    )


def test_kl_tends_to_nll_as_target_std_vanishes():
    X, y = _hetero_data(2000, seed=15)
    nll = GaussianRegressor(tol=1e-10).fit(X, y)
    previous = np.inf
    for tau in [0.3, 0.03, 1e-4]:
        kl = GaussianRegressor("kl_divergence", tol=1e-10).fit(
            X, y, y_std=np.full(len(y), tau)
        )
        gap = abs(kl.var_intercept_ - nll.var_intercept_) + abs(
            kl.var_coef_[0] - nll.var_coef_[0]
        )
        assert gap < previous
        previous = gap
    assert previous < 1e-6
    assert_allclose(kl.coef_, nll.coef_, rtol=1e-5)


def test_y_std_is_routed_as_fit_metadata():
    X, y = _hetero_data(300, seed=16)
    y_std = np.full(len(y), 0.5)
    with config_context(enable_metadata_routing=True):
        reg = GaussianRegressor("kl_divergence").set_fit_request(y_std=True)
        result = cross_validate(reg, X, y, cv=3, params={"y_std": y_std})
        assert np.all(np.isfinite(result["test_score"]))
        pipe = make_pipeline(StandardScaler(), clone(reg)).fit(X, y, y_std=y_std)
        assert pipe[-1].std_floor_ > 0


# ------------------------------------------------------ ecosystem use
def test_pipeline_search_clone_pickle():
    X, y = _hetero_data(600, seed=17)
    X = np.column_stack([X, 100 * X[:, 0] + np.random.default_rng(18).normal(size=600)])
    pipe = make_pipeline(StandardScaler(), GaussianRegressor())
    pipe.fit(X, y)
    mean, std = pipe.predict(X, return_std=True)
    direct = GaussianRegressor().fit(StandardScaler().fit_transform(X), y)
    assert_allclose(mean, direct.predict(StandardScaler().fit_transform(X)), rtol=1e-6)
    assert std.shape == mean.shape and np.all(std > 0)

    search = GridSearchCV(
        pipe, {"gaussianregressor__alpha": [1e-4, 1.0]}, cv=KFold(3)
    ).fit(X, y)
    assert search.best_params_["gaussianregressor__alpha"] == 1e-4
    scores = cross_validate(GaussianRegressor(), X, y, cv=3)["test_score"]
    assert np.all(scores > 0.3)

    reg = GaussianRegressor(variance="constant", alpha=0.1)
    cloned = clone(reg)
    assert cloned.get_params() == reg.get_params() and not hasattr(cloned, "coef_")
    restored = pickle.loads(pickle.dumps(direct))
    assert_allclose(
        restored.predict(X, return_std=True), direct.predict(X, return_std=True)
    )


def test_std_floor_and_no_overflow():
    # An exactly linear target: every residual is 0, the likelihood is
    # unbounded without the floor. Extrapolating far out must not overflow.
    X = np.linspace(-1, 1, 50)[:, None]
    y = 3 * X[:, 0] + 1
    for variance in ["heteroscedastic", "constant"]:
        reg = GaussianRegressor(variance=variance, min_std=1e-4).fit(X, y)
        _, std = reg.predict(np.array([[-1e6], [0.0], [1e6]]), return_std=True)
        assert np.all(np.isfinite(std))
        assert np.all(std >= reg.std_floor_ * (1 - 1e-12))
        assert_allclose(reg.std_floor_, 1e-4 * np.std(y))
    X, y = _hetero_data(300, seed=19)
    reg = GaussianRegressor().fit(X, y)
    _, std = reg.predict(np.array([[-1e9], [1e9]]), return_std=True)
    assert np.all(np.isfinite(std)) and np.all(std >= reg.std_floor_ * (1 - 1e-12))


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        ({"loss": "kl_divergence"}, {}, "needs the standard deviation"),
        ({"loss": "kl_divergence"}, {"y_std": "zeros"}, "strictly positive"),
        ({"loss": "kl_divergence"}, {"y_std": "negative"}, "strictly positive"),
        ({"loss": "kl_divergence"}, {"y_std": "nan"}, "Input y_std contains NaN"),
        ({"loss": "kl_divergence"}, {"y_std": "short"}, "inconsistent numbers"),
        ({}, {"y_std": "ones"}, "only used with loss='kl_divergence'"),
        ({"loss": "squared_error"}, {"y_std": "ones"}, "only used with"),
        (
            {},
            {"sample_weight": "negative"},
            "sample_weight must be non-negative",
        ),
        (
            {},
            {"sample_weight": "zeros"},
            "sample_weight must contain at least one non-zero weight",
        ),
        ({"loss": "squared_error", "beta": 0.5}, {}, "least squares already"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_fit_input(params, fit_kwargs, match):
    X, y = _linear_data(n=20)
    arrays = {
        "zeros": np.zeros(20),
        "ones": np.ones(20),
        "nan": np.r_[np.nan, np.ones(19)],
        "negative": np.r_[-1.0, np.ones(19)],
        "short": np.ones(19),
    }
    kwargs = {key: arrays[value] for key, value in fit_kwargs.items()}
    with pytest.raises(ValueError, match=match):
        GaussianRegressor(**params).fit(X, y, **kwargs)


@pytest.mark.parametrize("value, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_data(value, match):
    X, y = _linear_data(n=20)
    X_bad = X.copy()
    X_bad[3, 1] = value
    with pytest.raises(ValueError, match=f"Input X contains {match}"):
        GaussianRegressor().fit(X_bad, y)
    y_bad = y.copy()
    y_bad[2] = value
    with pytest.raises(ValueError, match=f"Input y contains {match}"):
        GaussianRegressor().fit(X, y_bad)
    reg = GaussianRegressor(variance="constant").fit(X, y)
    with pytest.raises(ValueError, match=f"Input X contains {match}"):
        reg.predict(X_bad)


@pytest.mark.parametrize(
    "params", [{"min_std": 0.0}, {"min_std": -1.0}, {"beta": 2.0}, {"loss": "nll"}]
)
def test_bad_parameters(params):
    X, y = _linear_data(n=20)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        GaussianRegressor(**params).fit(X, y)


@pytest.mark.parametrize("coverage", [0.0, 1.0, -0.5, 1.5, "0.9"])
def test_bad_coverage(coverage):
    X, y = _linear_data(n=20)
    reg = GaussianRegressor(variance="constant").fit(X, y)
    with pytest.raises(
        ValueError, match=r"coverage must be a float in the open interval \(0, 1\)"
    ):
        reg.predict_interval(X, coverage=coverage)


# ------------------------------------------------- transactional fits (#17)
def _state(estimator):
    """The estimator's attributes, by identity: a failed fit must keep them."""
    return {name: id(value) for name, value in vars(estimator).items()}


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_refit_on_new_features_leaves_the_regressor_unchanged(method):
    X, y = _linear_data(n=40, d=3)
    reg = GaussianRegressor().fit(X, y)
    state, mean = _state(reg), reg.predict(X)
    with pytest.raises(ValueError, match="needs the standard deviation|features"):
        getattr(reg.set_params(loss="kl_divergence"), method)(np.hstack([X, X]), y)
    reg.set_params(loss="gaussian_nll")
    assert _state(reg) == state and reg.n_features_in_ == 3
    assert_allclose(reg.predict(X), mean, rtol=0)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_first_fit_leaves_the_regressor_unfitted(method):
    X, y = _linear_data(n=20)
    reg = GaussianRegressor()
    with pytest.raises(ValueError, match="non-negative"):
        getattr(reg, method)(X, y, sample_weight=np.r_[-1.0, np.ones(19)])
    assert vars(reg) == vars(GaussianRegressor())
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_regressor_intercepts_are_numpy_scalars():
    X, y = _linear_data(n=40)
    reg = GaussianRegressor().fit(X, y)
    for value in (reg.intercept_, reg.var_intercept_):
        assert isinstance(value, np.float64) and np.ndim(value) == 0
    assert_allclose(reg.predict(X), X @ reg.coef_ + reg.intercept_, rtol=1e-14)


@pytest.mark.parametrize("coverage", [0.5, 0.9, 0.999, np.nextafter(1.0, 0.0)])
def test_predict_interval_is_scipy_norm_interval_and_finite(coverage):
    # Issue 17, defect 5: norm.ppf((1 + c) / 2) rounded to inf for c an ulp
    # below 1; norm.isf((1 - c) / 2) stays finite, for both Gaussian models.
    from scipy.stats import norm

    from skdiv import GaussianMLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + rng.normal(size=60) * np.exp(0.5 * X[:, 1])
    for model in (
        GaussianRegressor().fit(X, y),
        GaussianMLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs",
                             random_state=0).fit(X, y),
    ):
        interval = model.predict_interval(X, coverage=coverage)
        mean, std = model.predict(X, return_std=True)
        assert np.all(np.isfinite(interval))
        low, high = norm.interval(coverage, loc=mean, scale=std)
        if np.all(np.isfinite(low)) and np.all(np.isfinite(high)):
            atol = 1e-13 * np.abs(interval).max()
            np.testing.assert_allclose(interval[:, 0], low, rtol=1e-12, atol=atol)
            np.testing.assert_allclose(interval[:, 1], high, rtol=1e-12, atol=atol)
        z = norm.isf((1 - coverage) / 2)
        np.testing.assert_allclose(interval[:, 1] - mean, z * std, rtol=1e-14)


# ------------------------------------- extreme scales (issue 17, defects 5, 7)
@pytest.mark.parametrize("factor", [1e155, 1e300])
def test_targets_near_the_float64_limit_are_fitted_by_their_scale(factor):
    # y * 1e155 used to give NaN coefficients (its squares overflow): the
    # standardisation is computed without overflow, and the fit is the same
    # model in the new units.
    X, y = _hetero_data(300, seed=21)
    reference = GaussianRegressor(tol=1e-10).fit(X, y)
    scaled = GaussianRegressor(tol=1e-10).fit(X, y * factor)
    assert_allclose(scaled.coef_, reference.coef_ * factor, rtol=1e-9)
    assert_allclose(scaled.intercept_, reference.intercept_ * factor, rtol=1e-9)
    assert_allclose(scaled.var_coef_, reference.var_coef_, rtol=1e-9)
    assert_allclose(
        scaled.var_intercept_, reference.var_intercept_ + 2 * np.log(factor),
        rtol=1e-12,
    )
    _, std = scaled.predict(X[:5], return_std=True)
    _, std_reference = reference.predict(X[:5], return_std=True)
    assert_allclose(std, std_reference * factor, rtol=1e-9)
    # partial_fit standardises by the first batch the same way.
    stream_reference = GaussianRegressor().partial_fit(X, y)
    stream = GaussianRegressor().partial_fit(X, y * factor)
    assert_allclose(stream.coef_, stream_reference.coef_ * factor, rtol=1e-9)
    assert_allclose(stream.var_coef_, stream_reference.var_coef_, rtol=1e-9)


def test_targets_whose_deviations_overflow_are_refused():
    X, _ = _hetero_data(4, seed=22)
    y = np.array([1.7e308, -1.7e308, -1.7e308, -1.7e308])
    reg = GaussianRegressor()
    with pytest.raises(ValueError, match=r"deviations from its mean overflow float64"
                       r" \(y spans about 1.7e\+308"):
        reg.fit(X, y)
    assert not hasattr(reg, "coef_")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_features_whose_products_overflow_are_refused(sparse):
    # |X| near 1e155 used to end in "LinAlgError: Eigenvalues did not
    # converge"; 1e150 still fits.
    X, y = _hetero_data(100, seed=23)
    GaussianRegressor().fit(X * 1e150, y)
    X_big = sp.csr_matrix(X * 1e155) if sparse else X * 1e155
    peak = f"{np.abs(X).max() * 1e155:.3g}".replace("+", r"\+")
    with pytest.raises(ValueError, match=f"X has entries up to {peak} in absolute "
                       r"value.*overflow float64 beyond about 1\.34e\+152 "
                       "for 100 samples"):
        GaussianRegressor().fit(X_big, y)


def test_string_targets_are_converted_or_refused_as_scikit_learn_does():
    X, y = _hetero_data(50, seed=24)
    numbers = np.array([repr(float(value)) for value in y])
    assert_allclose(GaussianRegressor().fit(X, numbers).coef_,
                    GaussianRegressor().fit(X, y).coef_, rtol=0)
    words = np.array(["a", "b"] * 25)
    with pytest.raises(ValueError, match="y must be numeric for a regressor; got "
                       "<U1 values such as 'a', and could not convert string"):
        GaussianRegressor().fit(X, words)
    with pytest.raises(ValueError, match="could not convert string"):
        GaussianRegressor().partial_fit(X, words)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    "missing, match",
    [(None, r"^Input y contains NaN\.$"), (np.inf, "^Input y contains infinity"),
     (np.nan, "contains NaN")],
    ids=["None", "inf", "nan"],
)
def test_object_targets_with_missing_values_are_refused_by_name(
    method, missing, match
):
    # validate_data checks an object y before casting it to float: None became
    # NaN after the check and surfaced as "deviations ... overflow float64".
    X, y = _hetero_data(60, seed=26)
    fitted = GaussianRegressor().fit(X, y)
    coef = fitted.coef_.copy()
    bad = y.astype(object)
    bad[-1] = missing
    with pytest.raises(ValueError, match=match):
        getattr(fitted, method)(X, bad)
    assert_allclose(fitted.coef_, coef, rtol=0)  # left as it was
    # An object y of floats is the float y.
    assert_allclose(GaussianRegressor().fit(X, y.astype(object)).coef_,
                    GaussianRegressor().fit(X, y).coef_, rtol=0)


def test_target_deviations_beyond_the_variance_bound_are_refused():
    # y_std=1e20 with targets of scale ~4 was silently capped at e^40 s_y.
    X, y = _hetero_data(100, seed=25)
    y = 4 * y / y.std()
    with pytest.raises(ValueError, match=r"y_std reaches 1e\+20, 2\.5e\+19 times "
                       r"the target's standard deviation 4; predicted standard "
                       r"deviations are bounded by 9\.42e\+17"):
        GaussianRegressor("kl_divergence").fit(X, y, y_std=np.full(100, 1e20))
    # Inside the bound: fitted, the variance follows the target's.
    reg = GaussianRegressor("kl_divergence", variance="constant").fit(
        X, y, y_std=np.full(100, 1e17)
    )
    assert_allclose(reg.predict(X[:1], return_std=True)[1], 1e17, rtol=1e-12)


# -------------------------------------------- warm_start (issue 17 defect 10)
@pytest.mark.parametrize(
    "params", [{}, {"loss": "squared_error"}, {"fit_intercept": False}],
    ids=["nll", "squared-error", "no-intercept"],
)
def test_warm_start_reaches_the_cold_optimum_in_fewer_iterations(params):
    rng = np.random.default_rng(41)
    X = rng.normal(size=(2000, 5))
    y = 1 + X[:, 0] + rng.normal(size=2000) * np.exp(0.5 * X[:, 1])
    cold = GaussianRegressor(tol=1e-10, **params).fit(X, y)
    warm = GaussianRegressor(tol=1e-10, warm_start=True, **params)
    warm.fit(X[:1500], y[:1500]).fit(X, y)
    for name in ("coef_", "intercept_", "var_coef_", "var_intercept_"):
        assert_allclose(getattr(warm, name), getattr(cold, name), rtol=0,
                        atol=1e-9)
    assert warm.n_iter_ < cold.n_iter_
    # A refit on the same data starts at the optimum: the closed-form step
    # and no solver iteration.
    assert warm.fit(X, y).n_iter_ == 1
    # Without warm_start, or with another feature count, fits start cold.
    assert clone(warm).set_params(warm_start=False).fit(X, y).n_iter_ == cold.n_iter_
    narrow = GaussianRegressor(tol=1e-10, **params).fit(X[:, :4], y)
    assert warm.fit(X[:, :4], y).n_iter_ == narrow.n_iter_


@pytest.mark.parametrize("rows", [slice(0, 3), slice(0, 6)], ids=["3-rows", "6-rows"])
def test_warm_start_after_an_exactly_fitted_model_reaches_the_cold_optimum(rows):
    # At most n_features + 1 rows (or a constant target) are fitted exactly:
    # the likelihood has no optimum and the variance runs past its floor.
    # A warm start from there used to find a zero log-variance gradient on
    # every row and keep the floor for good (std 3e-6 instead of 0.3).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = 3 * X[:, 0] + 0.3 * np.exp(0.2 * X[:, 1]) * rng.normal(size=300)
    cold = GaussianRegressor(tol=1e-10).fit(X, y)
    warm = GaussianRegressor(tol=1e-10, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X[rows], y[rows])
    assert warm.var_intercept_ < np.log(warm.std_floor_**2)  # past the floor
    warm.fit(X, y)
    for name in ("coef_", "intercept_", "var_coef_", "var_intercept_"):
        assert_allclose(getattr(warm, name), getattr(cold, name), rtol=0,
                        atol=1e-8)


def test_closed_form_least_squares_keeps_to_the_thread_policy(monkeypatch):
    # A small problem's Gram product runs on one BLAS thread, as a solve's
    # products do (skdiv._threads), whatever the pools are set to; a large
    # one may use what the user allows. Two threads for a 5,000 x 20 Gram
    # matrix made the fit several times slower right after another
    # library's multithreaded fit (benchmarks/bench_small.py).
    from threadpoolctl import threadpool_info, threadpool_limits

    import skdiv._regressor as regressor
    import skdiv._threads as threads

    def blas():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    if not blas():
        pytest.skip("no BLAS thread pool found")
    seen = []
    original = regressor.penalised_least_squares

    def recorded(*args, **kwargs):
        seen.append(blas())
        return original(*args, **kwargs)

    monkeypatch.setattr(regressor, "penalised_least_squares", recorded)
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=500)
    with threadpool_limits(limits=2, user_api="blas"):
        GaussianRegressor(variance="constant").fit(X, y)
        assert seen == [{1}]
        assert blas() == {2}  # restored after the fit
        # 200,000 x 20: 8e7 multiply-adds, above the one-thread size.
        X_large = rng.normal(size=(200_000, 20))
        y_large = X_large @ rng.normal(size=20) + rng.normal(size=200_000)
        GaussianRegressor(variance="constant").fit(X_large, y_large)
        assert seen[1] == {2}


@pytest.mark.parametrize(
    "params", [{"variance": "constant"}, {"loss": "squared_error"}]
)
def test_unpenalised_closed_form_does_not_depend_on_the_features_units(params):
    # A feature 1e7 times smaller than the others was cut from the mean by
    # the pseudo-inverse's cutoff on the unscaled Gram matrix (R^2 0.003),
    # while the heteroscedastic fit kept it. The fit on the rescaled feature
    # is the fit on the original one, its coefficient rescaled.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    y = 3 * X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=300)
    small = X * [1e-7, 1.0, 1.0]
    original = GaussianRegressor(alpha=0, **params).fit(X, y)
    rescaled = GaussianRegressor(alpha=0, **params).fit(small, y)
    assert_allclose(rescaled.coef_ * [1e-7, 1.0, 1.0], original.coef_, rtol=1e-8)
    assert_allclose(rescaled.predict(small, return_std=True),
                    original.predict(X, return_std=True), rtol=1e-8)


def test_heteroscedastic_fit_with_a_repeated_column_splits_it_evenly():
    # The Hessian is singular along (column - repeat): its Cholesky factor
    # succeeded on rounding and the direct Newton step put +-5e6 on the two
    # columns (+-7e5 in the log-variance). The minimum-norm split is the even
    # one, as for LinearRegression and the constant-variance closed form.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -1.0, 0.5] + np.exp(0.3 * X[:, 0]) * rng.normal(size=300)
    repeated = np.column_stack([X, X[:, 0]])
    fitted = GaussianRegressor(alpha=0, tol=1e-10).fit(repeated, y)
    without = GaussianRegressor(alpha=0, tol=1e-10).fit(X, y)
    for coef, reference in [(fitted.coef_, without.coef_),
                            (fitted.var_coef_, without.var_coef_)]:
        assert_allclose(coef[3], coef[0], rtol=1e-5)
        assert_allclose(coef[:3] + [coef[3], 0, 0], reference, rtol=1e-7)
    assert_allclose(fitted.predict(repeated, return_std=True),
                    without.predict(X, return_std=True), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("variance", ["constant", "heteroscedastic"])
@pytest.mark.parametrize("layout", ["tall", "sparse", "wide", "augmented"])
def test_large_sample_weights_and_penalty_give_the_unit_weight_fit(variance, layout):
    # The closed form's penalty alpha * sum(sample_weight) overflowed (1e7 *
    # 200 * 1e300): NaN coefficients, with only numpy's overflow warning.
    rng = np.random.default_rng(0)
    n_samples = {"wide": 2, "augmented": 10}.get(layout, 200)
    X = rng.normal(size=(n_samples, 3))
    y = X @ [1.5, -2.0, 0.7] + rng.normal(size=n_samples)
    if layout == "sparse":
        X = sp.csr_matrix(X)
    params = dict(variance=variance, alpha=1e7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        heavy = GaussianRegressor(**params).fit(
            X, y, sample_weight=np.full(n_samples, 1e300)
        )
    unit = GaussianRegressor(**params).fit(X, y)
    # Ridge's coefficients at the same penalty (alpha * n_samples).
    reference = Ridge(alpha=1e7 * n_samples).fit(X, y)
    assert_allclose(heavy.coef_, reference.coef_, rtol=1e-6)
    assert_allclose(heavy.predict(X, return_std=True),
                    unit.predict(X, return_std=True), rtol=1e-9)


@pytest.mark.parametrize("shift", [1e6, 1e8, 1e10])
def test_constant_variance_fit_of_features_with_a_large_mean(shift):
    # The tall dense closed form formed X^T S X - S mean mean^T: at X + 1e8 the
    # subtraction cancelled every digit and the coefficients were off by 1.2
    # (6e-7 at X + 1e6), where LinearRegression, which centres, is exact.
    rng = np.random.default_rng(15)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -1.0, 2.0] + np.exp(0.4 * X[:, 1]) * rng.normal(size=300)
    sample_weight = rng.uniform(0.5, 2.0, 300)
    for alpha, reference in [
        (0, LinearRegression()), (1e-2, Ridge(alpha=1e-2 * sample_weight.sum()))
    ]:
        fitted = GaussianRegressor(variance="constant", alpha=alpha).fit(
            X + shift, y, sample_weight=sample_weight
        )
        reference.fit(X + shift, y, sample_weight=sample_weight)
        # The features' own rounding (ulp(shift) against a unit spread)
        # bounds what any fit can resolve.
        assert_allclose(fitted.coef_, reference.coef_, rtol=0,
                        atol=10 * np.spacing(shift))


@pytest.mark.parametrize("alpha", [0, 1e-2])
def test_sparse_constant_variance_fit_of_features_with_a_large_mean(alpha):
    # Sparse X is never centred: its Gram matrix is X^T S X - S mean mean^T,
    # which loses digits for features of large mean (1e4 times their spread:
    # coefficients 5e-7 off Ridge). One step of refinement on the true
    # residual recovers them.
    rng = np.random.default_rng(15)
    X = rng.normal(size=(600, 3))
    y = X @ [1.0, -1.0, 2.0] + np.exp(0.4 * X[:, 1]) * rng.normal(size=600)
    X[:, 0] += 1e4
    X[rng.uniform(size=600) < 0.5, 1] = 0.0
    sample_weight = rng.uniform(0.5, 2.0, 600)
    fitted = GaussianRegressor(variance="constant", alpha=alpha).fit(
        sp.csr_matrix(X), y, sample_weight=sample_weight
    )
    reference = Ridge(alpha=alpha * sample_weight.sum(), solver="svd").fit(
        X, y, sample_weight=sample_weight
    )
    assert_allclose(fitted.coef_, reference.coef_, rtol=1e-11)
    assert_allclose(fitted.intercept_, reference.intercept_, rtol=1e-11)


class _WeightedLstsq:
    """Weighted least squares by ``numpy.linalg.lstsq``, as an estimator."""

    def __init__(self, fit_intercept):
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight):
        root = np.sqrt(sample_weight)
        design = np.column_stack([X, np.ones(len(X))]) if self.fit_intercept else X
        solution = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
        self.coef_ = solution[: X.shape[1]]
        self.intercept_ = solution[-1] if self.fit_intercept else 0.0
        return self


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("ratio", [1e4, 1e8, 1e12])
def test_sparse_constant_variance_fit_of_a_dense_feature_of_large_mean(
    ratio, fit_intercept
):
    # The sparse closed form centred the uncentred Gram matrix, X^T S X -
    # S mean mean^T, which for a feature 1e8 times its spread cancelled every
    # digit: coefficients off by 1 (at 1e12 and alpha > 0 SciPy refused the
    # matrix as singular).
    # Features of large mean are now centred as dense columns. Without an
    # intercept nothing is centred, and the fit must stay as it was.
    rng = np.random.default_rng(16)
    X = rng.normal(size=(600, 4))
    y = X @ [1.0, -1.0, 2.0, 0.5] + 0.3 * rng.normal(size=600) + 3.0
    X[:, 0] += ratio
    X[rng.uniform(size=600) < 0.7, 1:] = 0.0
    # Ridge's own centring by the rounded mean costs it digits at 1e12; X
    # minus one of its rows (exact) gives the same coefficients, exactly.
    shift = X[0] if fit_intercept else np.zeros(4)
    for sample_weight in [np.ones(600), rng.uniform(0.5, 2.0, 600)]:
        for alpha, reference in [
            # At alpha=0 least squares by numpy's SVD on the weighted rows:
            # without an intercept scikit-learn 1.9's LinearRegression gives
            # the unit-scale coefficients as 1e-17 here (its rank cutoff on
            # the 1e8 column), where 1.6's and lstsq give them.
            (0, _WeightedLstsq(fit_intercept)),
            (1e-2, Ridge(alpha=1e-2 * sample_weight.sum(), solver="svd",
                         fit_intercept=fit_intercept)),
        ]:
            with warnings.catch_warnings():
                # Without an intercept the 1e12 feature makes the penalised
                # system ill-conditioned (as it is), which SciPy says.
                warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
                fitted = GaussianRegressor(
                    variance="constant", alpha=alpha, fit_intercept=fit_intercept
                ).fit(sp.csr_matrix(X), y, sample_weight=sample_weight)
            reference.fit(X - shift, y, sample_weight=sample_weight)
            # Coefficients of unit scale: the small one without an intercept
            # (3e-4, for the 1e4 feature) is as ill-determined as X makes it.
            assert_allclose(fitted.coef_, reference.coef_, rtol=1e-13,
                            atol=1e-13)
            assert_allclose(fitted.intercept_,
                            reference.intercept_ - shift @ reference.coef_,
                            rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("value", [1.0, 1e8])
@pytest.mark.parametrize("alpha", [0, 1e-2])
def test_sparse_constant_variance_fit_with_a_constant_feature(value, alpha):
    # A constant feature (a column of ones) carries nothing once centred, and
    # LinearRegression gives it a zero coefficient. The sparse closed form's
    # X^T S X - S mean mean^T left rounding in its place: a coefficient of
    # -0.1 for the ones (the intercept moved to match), and for a column of
    # 1e8 at alpha > 0 SciPy refused the matrix as singular. The constant
    # column is now centred exactly to zero.
    rng = np.random.default_rng(17)
    X = rng.normal(size=(600, 3))
    y = X @ [1.0, -1.0, 2.0] + np.exp(0.4 * X[:, 1]) * rng.normal(size=600)
    X[rng.uniform(size=600) < 0.5, 1] = 0.0
    X = np.column_stack([np.full(600, value), X])
    sample_weight = rng.uniform(0.5, 2.0, 600)
    fitted = GaussianRegressor(variance="constant", alpha=alpha).fit(
        sp.csr_matrix(X), y, sample_weight=sample_weight
    )
    # On X itself Ridge's rounded mean leaves 2e-9 in the 1e8 column; X
    # minus one of its rows has the same coefficients and a zero column.
    reference = Ridge(alpha=alpha * sample_weight.sum(), solver="svd").fit(
        X - X[0], y, sample_weight=sample_weight
    )
    assert fitted.coef_[0] == 0.0
    assert_allclose(fitted.coef_, reference.coef_, rtol=1e-13, atol=1e-13)
    assert_allclose(fitted.intercept_, reference.intercept_ - X[0] @ reference.coef_,
                    rtol=1e-13)


@pytest.mark.parametrize("ratio", [1e4, 1e8, 1e12])
def test_wide_sparse_constant_variance_fit_of_a_dense_feature_of_large_mean(ratio):
    # Wide sparse X (fewer rows than columns) takes the kernel form, whose
    # X X^T was centred afterwards: for a feature 1e8 times its spread the
    # coefficients were off by units to thousands (9e-12 at 1e4). It is now
    # centred as a dense column, as in the tall form.
    rng = np.random.default_rng(18)
    X = rng.normal(size=(40, 60))
    y = X[:, :3] @ [1.0, 2.0, 3.0] + rng.normal(size=40) + 3.0
    X[rng.uniform(size=X.shape) < 0.6] = 0.0
    X[:, 0] += ratio
    for sample_weight in [np.ones(40), rng.uniform(0.5, 2.0, 40)]:
        for alpha, reference in [
            (0, LinearRegression()),
            (1e-2, Ridge(alpha=1e-2 * sample_weight.sum(), solver="svd")),
        ]:
            fitted = GaussianRegressor(variance="constant", alpha=alpha).fit(
                sp.csr_matrix(X), y, sample_weight=sample_weight
            )
            # X minus one of its rows (exact): see the tall test above.
            reference.fit(X - X[0], y, sample_weight=sample_weight)
            assert_allclose(fitted.coef_, reference.coef_, rtol=1e-12,
                            atol=1e-13)
            assert_allclose(fitted.intercept_,
                            reference.intercept_ - X[0] @ reference.coef_,
                            rtol=1e-13)
