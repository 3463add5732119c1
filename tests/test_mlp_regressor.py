"""GaussianMLPRegressor against the linear model, closed forms and itself."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats
from sklearn.exceptions import ConvergenceWarning

from skdiv import GaussianMLPRegressor, GaussianRegressor


def _data(n=200, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, size=(n, d))
    y = 3 + np.sin(2 * X[:, 0]) - X[:, 1] + rng.normal(size=n) * 0.3 * np.exp(X[:, 0])
    return X, y


def _reference_nll(reg, X, y, sample_weight=None):
    """F rebuilt from coefs_, intercepts_ and the standardisation, in numpy."""
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "logistic": lambda z: 1 / (1 + np.exp(-z))}[reg.activation]
    a = X
    for i, (W, b) in enumerate(zip(reg.coefs_, reg.intercepts_, strict=True)):
        z = a @ W + b
        a = f(z) if i < len(reg.coefs_) - 1 else z
    sw = np.ones(len(X)) if sample_weight is None else sample_weight
    offset = np.average(y, weights=sw)
    scale = np.sqrt(np.average((y - offset) ** 2, weights=sw))
    y_tilde = (y - offset) / scale
    log_var = np.clip(z[:, 1], 2 * np.log(reg.min_std), 80)
    residual2 = (y_tilde - z[:, 0]) ** 2
    nll = 0.5 * (np.log(2 * np.pi) + log_var + residual2 / np.exp(log_var))
    penalty = 0.5 * sum(np.sum(W**2) for W in reg.coefs_)
    return np.sum(sw * nll) / sw.sum() + reg.alpha * penalty


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"loss": "squared_error"}, {"variance": "constant"},
     {"variance": "constant", "loss": "squared_error"}, {"beta": 0.5}],
    ids=["nll", "squared", "constant", "constant-squared", "beta"],
)
def test_no_hidden_layer_is_the_linear_regressor(kwargs):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.5, 2, size=len(X))
    linear = GaussianRegressor(alpha=1e-3, tol=1e-10, **kwargs).fit(X, y, sw)
    mlp = GaussianMLPRegressor(hidden_layer_sizes=(), solver="lbfgs", alpha=1e-3,
                               tol=1e-10, max_iter=10000, random_state=0, **kwargs)
    mlp.fit(X, y, sw)
    mean_l, std_l = linear.predict(X, return_std=True)
    mean_m, std_m = mlp.predict(X, return_std=True)
    np.testing.assert_allclose(mean_m, mean_l, rtol=1e-6)
    np.testing.assert_allclose(std_m, std_l, rtol=1e-6)
    assert mlp.objective_ == pytest.approx(linear.objective_, rel=1e-8)
    # The network's weights, standardised, are the linear model's.
    np.testing.assert_allclose(mlp.coefs_[0][:, 0] * mlp.y_scale_, linear.coef_,
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(mlp.coefs_[0][:, 1], linear.var_coef_, atol=1e-6)
    assert mlp.std_floor_ == pytest.approx(linear.std_floor_, rel=1e-14)


def test_kl_divergence_no_hidden_layer_is_the_linear_regressor():
    X, y = _data()
    y_std = np.random.default_rng(2).uniform(0.1, 0.5, size=len(X))
    linear = GaussianRegressor("kl_divergence", alpha=1e-3, tol=1e-10)
    linear.fit(X, y, y_std=y_std)
    mlp = GaussianMLPRegressor("kl_divergence", hidden_layer_sizes=(), solver="lbfgs",
                               alpha=1e-3, tol=1e-10, max_iter=10000, random_state=0)
    mlp.fit(X, y, y_std=y_std)
    np.testing.assert_allclose(mlp.predict(X, return_std=True),
                               linear.predict(X, return_std=True), rtol=1e-6)
    assert mlp.objective_ == pytest.approx(linear.objective_, rel=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_lbfgs_objective_rebuilt_from_weights(activation):
    X, y = _data()
    sw = np.random.default_rng(3).uniform(0.5, 2, size=len(X))
    reg = GaussianMLPRegressor(hidden_layer_sizes=(6,), activation=activation,
                               solver="lbfgs", alpha=1e-2, tol=1e-7, max_iter=5000,
                               random_state=0).fit(X, y, sw)
    assert reg.objective_ == pytest.approx(_reference_nll(reg, X, y, sw), rel=1e-12)
    eps = 1e-6
    worst = 0.0
    for params in reg.coefs_ + reg.intercepts_:
        flat = params.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = _reference_nll(reg, X, y, sw)
            flat[j] = old - eps
            down = _reference_nll(reg, X, y, sw)
            flat[j] = old
            worst = max(worst, abs(up - down) / (2 * eps))
    assert worst < 1e-6


def test_predictions_in_target_units():
    """Mean and std scale with y; the interval and the distribution agree."""
    X, y = _data()
    # A few Adam epochs: the same arithmetic on a target equal to rounding.
    params = dict(hidden_layer_sizes=(5,), activation="tanh", max_iter=10,
                  learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GaussianMLPRegressor(**params).fit(X, y)
        b = GaussianMLPRegressor(**params).fit(X, 10 * y - 4)
    mean_a, std_a = a.predict(X, return_std=True)
    mean_b, std_b = b.predict(X, return_std=True)
    np.testing.assert_allclose(mean_b, 10 * mean_a - 4, rtol=1e-9)
    np.testing.assert_allclose(std_b, 10 * std_a, rtol=1e-9)
    interval = a.predict_interval(X[:5], coverage=0.8)
    z = scipy.stats.norm.ppf(0.9)
    np.testing.assert_allclose(interval[:, 1] - mean_a[:5], z * std_a[:5], rtol=1e-12)
    np.testing.assert_allclose(a.predict_dist(X[:5]).logpdf(y[:5]),
                               scipy.stats.norm(mean_a[:5], std_a[:5]).logpdf(y[:5]))


def test_heteroscedastic_network_finds_the_variance():
    """A nonlinear mean and variance: the fitted std follows the true one."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, size=(2000, 1))
    true_std = 0.1 + 0.4 * X[:, 0] ** 2
    y = np.sin(2 * X[:, 0]) + rng.normal(size=2000) * true_std
    reg = GaussianMLPRegressor(hidden_layer_sizes=(16,), activation="tanh",
                               solver="lbfgs", alpha=1e-4, max_iter=2000,
                               random_state=0).fit(X, y)
    grid = np.linspace(-1.8, 1.8, 7)[:, None]
    mean, std = reg.predict(grid, return_std=True)
    # Within sampling error: the edges hold few rows, with a std of 1.4.
    np.testing.assert_allclose(mean, np.sin(2 * grid[:, 0]), atol=0.2)
    np.testing.assert_allclose(std, 0.1 + 0.4 * grid[:, 0] ** 2, rtol=0.1)


def test_integer_weights_equal_repeated_rows_and_sparse_equals_dense():
    X, y = _data(n=80)
    sw = np.random.default_rng(5).integers(0, 4, size=80)
    params = dict(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs",
                  alpha=0.05, tol=1e-9, max_iter=5000, random_state=0)
    weighted = GaussianMLPRegressor(**params).fit(X, y, sample_weight=sw)
    repeated = GaussianMLPRegressor(**params).fit(X.repeat(sw, axis=0), y.repeat(sw))
    # To L-BFGS's accuracy (it stops where values stop resolving progress).
    np.testing.assert_allclose(weighted.predict(X, return_std=True),
                               repeated.predict(X, return_std=True), rtol=1e-4)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.5] = 0.0
    dense = GaussianMLPRegressor(**params).fit(Xs, y)
    sparse = GaussianMLPRegressor(**params).fit(sp.csr_matrix(Xs), y)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(Xs), return_std=True),
                               dense.predict(Xs, return_std=True), rtol=1e-5)


def test_squared_error_adam_reaches_the_two_stage_fixed_point():
    """Adam's joint field (mean by least squares, variance head detached) and
    L-BFGS's two stages have the same zero: with no hidden layer, both are
    the linear two-stage model."""
    X, y = _data(n=400)
    linear = GaussianRegressor("squared_error", alpha=1e-3, tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = GaussianMLPRegressor("squared_error", hidden_layer_sizes=(),
                                    alpha=1e-3, learning_rate_init=0.01,
                                    max_iter=1000, tol=0.0, batch_size=400,
                                    random_state=0).fit(X, y)
    np.testing.assert_allclose(adam.predict(X, return_std=True),
                               linear.predict(X, return_std=True), rtol=1e-4)


def test_beta_nll_adam_reaches_the_linear_fixed_point():
    """Full batches: Adam on the beta-weighted field stops where the linear
    model's re-weighting fixed point is (the weights of the current variances,
    normalised over the batch, are the fixed point's)."""
    X, y = _data(n=400)
    linear = GaussianRegressor(beta=0.5, alpha=1e-3, tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = GaussianMLPRegressor(beta=0.5, hidden_layer_sizes=(), alpha=1e-3,
                                    learning_rate_init=0.01, max_iter=3000,
                                    tol=0.0, n_iter_no_change=3000,
                                    batch_size=400,
                                    random_state=0).fit(X, y)
    np.testing.assert_allclose(adam.predict(X, return_std=True),
                               linear.predict(X, return_std=True), rtol=1e-3)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    "missing, match",
    [(None, r"^Input y contains NaN\.$"), (np.inf, "^Input y contains infinity")],
    ids=["None", "inf"],
)
def test_object_targets_with_missing_values_are_refused_by_name(method, missing, match):
    X, y = _data(n=40)
    bad = y.astype(object)
    bad[3] = missing
    with pytest.raises(ValueError, match=match):
        getattr(GaussianMLPRegressor(max_iter=5), method)(X, bad)
    with pytest.raises(ValueError, match="y must be numeric for a regressor; got "
                       "<U1 values such as 'a', and could not convert string"):
        getattr(GaussianMLPRegressor(max_iter=5), method)(X, np.array(["a"] * 40))
    # Numeric strings are converted, as GaussianRegressor converts them.
    params = {"hidden_layer_sizes": (4,), "max_iter": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        from_strings = GaussianMLPRegressor(**params).fit(
            X, np.array([repr(float(v)) for v in y])
        )
        from_floats = GaussianMLPRegressor(**params).fit(X, y)
    np.testing.assert_array_equal(from_strings.predict(X), from_floats.predict(X))


def test_zero_weight_mini_batches_count_for_nothing_with_beta():
    # With beta > 0 each mini-batch is normalised by its own weights; a
    # batch of zero-weight rows had its weights dropped as "all equal" and
    # was trained at weight one: with batch_size=1 every ignored row was
    # fitted, and the slope came out -7.7 instead of +2. Such a batch now
    # keeps its share of the total weight, zero, as without beta.
    from skdiv._adapter import effective_sample_weight

    assert effective_sample_weight(np.zeros(4)) is not None
    assert effective_sample_weight(np.full(4, 2.0)) is None
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1))
    y = 2 * X[:, 0] + 0.1 * rng.normal(size=200)
    y[:100] = -50 * X[:100, 0]  # rows to ignore
    sw = np.r_[np.zeros(100), np.ones(100)]
    params = dict(hidden_layer_sizes=(), batch_size=1, random_state=0, max_iter=30,
                  learning_rate_init=0.01)
    slopes = {}
    for beta in (0.0, 0.5):
        model = GaussianMLPRegressor(beta=beta, **params).fit(X, y, sample_weight=sw)
        grid = np.array([[0.0], [1.0]])
        slopes[beta] = float(np.diff(model.predict(grid))[0])
    assert abs(slopes[0.0] - 2.0) < 0.1
    assert abs(slopes[0.5] - slopes[0.0]) < 0.05


# ----------------------------- constant variance streamed by partial_fit (B3)
def _linear_data(n=200, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, 2 + X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.normal(size=n)


@pytest.mark.parametrize("after_fit", [False, True], ids=["stream", "after-fit"])
@pytest.mark.parametrize("loss", ["gaussian_nll", "kl_divergence"])
@pytest.mark.parametrize("batch", [1, 50])
def test_streamed_constant_variance_is_the_mean_square_residual_of_every_row(
    batch, loss, after_fit
):
    # With no hidden layer the mean is linear and the running sums are the
    # linear stream's: after each call the variance is the weighted mean
    # squared residual, at the current mean, of every row delivered so far
    # (each occurrence counted; fit's rows too), plus the mean y_std^2 for
    # the KL divergence. It used to be the last call's rows only.
    X, y = _linear_data()
    rng = np.random.default_rng(0)
    weight = rng.integers(1, 4, size=y.size).astype(float)
    y_std = rng.uniform(0.1, 0.3, size=y.size)
    kl = loss == "kl_divergence"
    reg = GaussianMLPRegressor(loss, hidden_layer_sizes=(), variance="constant",
                               random_state=0, learning_rate_init=0.01)
    seen = []
    if after_fit:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X[:100], y[:100], sample_weight=weight[:100],
                    y_std=y_std[:100] if kl else None)
        seen.append(np.arange(100))
    checked = 0
    for _ in range(2):
        for start in range(0, y.size, batch):
            rows = np.arange(start, min(start + batch, y.size))
            reg.partial_fit(X[rows], y[rows], sample_weight=weight[rows],
                            y_std=y_std[rows] if kl else None)
            seen.append(rows)
            # Every call of 50 rows; every 37th call of one row, and the last.
            if batch == 1 and len(seen) % 37 and start + batch < y.size:
                continue
            every = np.concatenate(seen)
            second = (y[every] - reg.predict(X[every])) ** 2
            if kl:
                second += y_std[every] ** 2
            expected = np.sqrt(np.average(second, weights=weight[every]))
            std = reg.predict(X[:3], return_std=True)[1]
            np.testing.assert_allclose(std, expected, rtol=1e-10)
            checked += 1
    assert checked >= 4


def test_streamed_constant_variance_of_a_network_keeps_each_calls_features():
    # With a hidden layer the earlier rows keep the hidden activations of
    # the call that delivered them and are evaluated at the current output
    # layer: written out here with a numpy forward pass.
    X, y = _linear_data()
    weight = np.random.default_rng(1).integers(1, 4, size=y.size).astype(float)
    reg = GaussianMLPRegressor(hidden_layer_sizes=(4,), variance="constant",
                               random_state=0, learning_rate_init=0.01)
    targets, features, weights = [], [], []
    for _ in range(2):
        for start in range(0, y.size, 25):
            rows = slice(start, start + 25)
            reg.partial_fit(X[rows], y[rows], sample_weight=weight[rows])
            hidden = np.maximum(X[rows] @ reg.coefs_[0] + reg.intercepts_[0], 0.0)
            features.append(hidden)
            targets.append((y[rows] - reg.y_offset_) / reg.y_scale_)
            weights.append(weight[rows])
    w, b = reg.coefs_[-1][:, 0], reg.intercepts_[-1][0]
    residual = np.concatenate(targets) - (np.concatenate(features) @ w + b)
    expected = reg.y_scale_ * np.sqrt(
        np.average(residual**2, weights=np.concatenate(weights))
    )
    assert reg.coefs_[-1][:, 1].tolist() == [0.0] * 4
    np.testing.assert_allclose(reg.predict(X[:2], return_std=True)[1], expected,
                               rtol=1e-10)
    # The last call's rows are at the current network: their residuals are
    # the predictions'.
    np.testing.assert_allclose(
        reg.y_offset_ + reg.y_scale_ * (features[-1] @ w + b), reg.predict(X[-25:]),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("batch", "learning_rate", "passes", "rtol"),
    # Adam's constant step leaves the one-row iterates jittering about the
    # least-squares mean (their RMS residual 0.1-0.3% above its, measured
    # over passes 4 to 8); batches of 50 take 4 steps a pass, so more passes
    # (within 1e-4 from pass 25). The variance before the fix, the last
    # call's rows only, was off by a factor between 0 and 3.
    [(1, 0.01, 6, 1e-2), (50, 0.05, 30, 1e-3)],
    ids=["rows", "batches"],
)
def test_streamed_constant_variance_approaches_the_batch_fit(
    batch, learning_rate, passes, rtol
):
    X, y = _linear_data()
    # The batch fit at its optimum (L-BFGS), same architecture and seed.
    fitted = GaussianMLPRegressor(hidden_layer_sizes=(), variance="constant",
                                  solver="lbfgs", random_state=0).fit(X, y)
    reg = GaussianMLPRegressor(hidden_layer_sizes=(), variance="constant",
                               random_state=0, learning_rate_init=learning_rate)
    for _ in range(passes):
        for start in range(0, y.size, batch):
            reg.partial_fit(X[start:start + batch], y[start:start + batch])
    np.testing.assert_allclose(reg.predict(X[:2], return_std=True)[1],
                               fitted.predict(X[:2], return_std=True)[1], rtol=rtol)


def test_streamed_constant_variance_of_a_wide_layer_keeps_each_calls_residuals():
    # Above 1024 inputs to the output layer the (p+1)^2 sums are not kept:
    # each row counts at the mean of the call that delivered it.
    rng = np.random.default_rng(4)
    X = sp.random(30, 1100, density=0.01, format="csr", random_state=4)
    y = rng.normal(size=30)
    reg = GaussianMLPRegressor(hidden_layer_sizes=(), variance="constant",
                               random_state=0, learning_rate_init=0.01)
    second = []
    for start in range(0, 30, 3):
        reg.partial_fit(X[start:start + 3], y[start:start + 3])
        second.append((y[start:start + 3] - reg.predict(X[start:start + 3])) ** 2)
    np.testing.assert_allclose(reg.predict(X[:1], return_std=True)[1],
                               np.sqrt(np.mean(np.concatenate(second))), rtol=1e-12)
