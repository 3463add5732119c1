"""Adam (skdiv._solvers._adam) and the network estimators' training behaviour."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle

from skdiv import DivergenceMLPClassifier, GaussianMLPRegressor
from skdiv._adapter import EmpiricalRisk
from skdiv._loss import CrossEntropy
from skdiv._model import MLPModel, glorot_uniform
from skdiv._solvers import AdamState, adam


def _least_squares(seed=0, n=50, d=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d))
    b = A @ np.arange(1.0, d + 1) + 0.1 * rng.normal(size=n)

    def batch_fun(x, rows):
        r = A[rows] @ x - b[rows]
        return 0.5 * float(r @ r) / len(rows), A[rows].T @ r / len(rows)

    return A, b, batch_fun


def test_adam_is_kingma_and_ba_on_scikit_learns_batches():
    """An Adam loop written out here, on the same permutations, gives the same x."""
    A, b, batch_fun = _least_squares()
    with pytest.warns(ConvergenceWarning, match="max_iter=7"):
        result = adam(batch_fun, np.zeros(3), 50, batch_size=16,
                      learning_rate_init=0.05, max_iter=7, tol=0.0,
                      n_iter_no_change=100, random_state=0)
    rng = check_random_state(0)
    x, m, v, t = np.zeros(3), np.zeros(3), np.zeros(3), 0
    curve = []
    idx = np.arange(50)
    for _ in range(7):
        # scikit-learn shuffles the previous epoch's permutation.
        idx = shuffle(idx, random_state=rng)
        total = 0.0
        for batch in gen_batches(50, 16):
            value, g = batch_fun(x, idx[batch])
            total += value * (batch.stop - batch.start)
            t += 1
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            step = 0.05 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            x = x - step * m / (np.sqrt(v) + 1e-8)
        curve.append(total / 50)
    np.testing.assert_allclose(result.x, x, rtol=1e-13)
    np.testing.assert_allclose(result.loss_curve, curve, rtol=1e-13)
    assert result.n_iter == 7 and result.state.t == 7 * 4


def test_adam_continues_from_a_state_without_modifying_it():
    """A run continues from the state it is given and leaves it as it was,
    also when it raises (the estimators' rollback relies on it)."""
    A, b, batch_fun = _least_squares()
    kwargs = dict(batch_size=16, learning_rate_init=0.05, tol=0.0,
                  n_iter_no_change=100, incremental=True)
    rng = check_random_state(3)
    first = adam(batch_fun, np.zeros(3), 50, random_state=rng, **kwargs)
    saved = AdamState(first.state.m.copy(), first.state.v.copy(), first.state.t)
    second = adam(batch_fun, first.x, 50, random_state=rng, state=first.state,
                  **kwargs)
    np.testing.assert_array_equal(first.state.m, saved.m)
    np.testing.assert_array_equal(first.state.v, saved.v)
    assert first.state.t == saved.t == 4 and second.state.t == 8

    def failing(x, rows, calls=[]):  # noqa: B006 - counts the calls
        calls.append(None)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return batch_fun(x, rows)

    with pytest.raises(KeyboardInterrupt):
        adam(failing, first.x, 50, random_state=3, state=first.state, **kwargs)
    np.testing.assert_array_equal(first.state.m, saved.m)
    np.testing.assert_array_equal(first.state.v, saved.v)
    assert first.state.t == saved.t


def test_adam_converges_and_stops_on_no_improvement():
    A, b, batch_fun = _least_squares()
    result = adam(batch_fun, np.zeros(3), 50, batch_size=50, learning_rate_init=0.02,
                  max_iter=5000, tol=1e-10, n_iter_no_change=10, random_state=0)
    np.testing.assert_allclose(result.x, np.linalg.lstsq(A, b, rcond=None)[0],
                               atol=1e-3)
    assert result.n_iter < 5000
    # The rule: stop after more than n_iter_no_change epochs without a gain of
    # tol, so a constant objective stops after n_iter_no_change + 1 epochs.
    flat = adam(lambda x, rows: (1.0, np.zeros_like(x)), np.zeros(2), 10,
                batch_size=5, max_iter=100, tol=1e-4, n_iter_no_change=3)
    assert flat.n_iter == 5  # the first epoch improves on inf, then 4 more


def test_adam_warns_at_max_iter():
    _, _, batch_fun = _least_squares()
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs"):
        adam(batch_fun, np.zeros(3), 50, max_iter=3, random_state=0)


def test_adam_divergence_keeps_the_best_weights():
    calls = {"n": 0}

    def batch_fun(x, rows):
        calls["n"] += 1
        value = float(x @ x) + 1.0
        if calls["n"] > 12:
            return np.inf, np.full_like(x, np.nan)
        return value, -np.ones_like(x)  # moves x away: the value grows

    with pytest.warns(ConvergenceWarning, match="diverged in epoch 7.*non-finite"):
        result = adam(batch_fun, np.zeros(2), 4, batch_size=2, max_iter=50,
                      learning_rate_init=0.1, tol=-np.inf)
    assert result.diverged and np.all(np.isfinite(result.x))
    # Every epoch was worse than the first: its end point is kept.
    np.testing.assert_allclose(result.x, 0.2, rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda lr: DivergenceMLPClassifier(hidden_layer_sizes=(50, 50),
                                       learning_rate_init=lr, random_state=0),
    lambda lr: GaussianMLPRegressor(hidden_layer_sizes=(50, 50),
                                    learning_rate_init=lr, random_state=0),
], ids=["classifier", "regressor"])
def test_relu_network_at_a_huge_step_warns_and_keeps_finite_weights(make):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * 10
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    est = make(1e3)
    with pytest.warns(ConvergenceWarning, match="Adam diverged"):
        est.fit(X, y)
    assert all(np.all(np.isfinite(c)) for c in est.coefs_ + est.intercepts_)
    assert np.all(np.isfinite(est.predict(X)))


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5)
    return X, y


def test_loss_curve_starts_at_the_objective_of_scikit_learns_start():
    X, y = _blobs()
    clf = DivergenceMLPClassifier(hidden_layer_sizes=(6,), batch_size=200, max_iter=3,
                                  alpha=0.01, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    model = MLPModel(X, (6,), 3)
    start = model.pack(*glorot_uniform(model.layer_units, "relu", 5))
    risk = EmpiricalRisk(CrossEntropy(), model, y, alpha=0.01)
    assert clf.loss_curve_[0] == pytest.approx(risk.loss(start), rel=1e-13)
    assert len(clf.loss_curve_) == clf.n_iter_ == 3


def test_partial_fit_is_fit_one_epoch_at_a_time():
    """Full batches: k partial_fit calls are k epochs of one fit (same Adam state)."""
    X, y = _blobs()
    params = dict(hidden_layer_sizes=(6,), batch_size=200, learning_rate_init=0.01,
                  random_state=1, tol=0.0, n_iter_no_change=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = DivergenceMLPClassifier(max_iter=4, **params).fit(X, y)
    streamed = DivergenceMLPClassifier(**params)
    for _ in range(4):
        streamed.partial_fit(X, y, classes=[0, 1, 2])
    for a, b in zip(streamed.coefs_, fitted.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(streamed.loss_curve_, fitted.loss_curve_, rtol=1e-10)
    assert streamed.n_iter_ == 4


def test_regressor_partial_fit_continues():
    X, y = _blobs()
    y = X[:, 0] * 2 + X[:, 1] ** 2
    reg = GaussianMLPRegressor(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                               random_state=0)
    for _ in range(30):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 30 and len(reg.loss_curve_) == 30
    assert reg.loss_curve_[-1] < reg.loss_curve_[0] - 0.5
    with pytest.raises(ValueError, match="partial_fit does not support early"):
        GaussianMLPRegressor(early_stopping=True).partial_fit(X, y)


def test_early_stopping_scores_are_the_held_out_divergence():
    X, y = _blobs(n=400)
    clf = DivergenceMLPClassifier(hidden_layer_sizes=(8,), early_stopping=True,
                                  validation_fraction=0.2, learning_rate_init=0.01,
                                  n_iter_no_change=3, max_iter=300, random_state=2)
    clf.fit(X, y)
    # The split, reproduced: the generator after the initial weights.
    rng = check_random_state(2)
    glorot_uniform([3, 8, 3], "relu", rng)
    _, val = train_test_split(np.arange(400), random_state=rng, test_size=0.2,
                              stratify=y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    held_out = log_loss(y[val], clf.predict_proba(X[val]), labels=[0, 1, 2])
    assert clf.best_validation_score_ == pytest.approx(-held_out, rel=1e-10)
    assert clf.n_iter_ < 300 and clf.best_loss_ is None


def test_warm_start_continues_from_the_fitted_weights():
    X, y = _blobs()
    clf = DivergenceMLPClassifier(hidden_layer_sizes=(5,), activation="tanh",
                                  solver="lbfgs", alpha=0.01, tol=1e-6,
                                  max_iter=2000, random_state=0).fit(X, y)
    coefs = [c.copy() for c in clf.coefs_]
    objective, n_iter = clf.objective_, clf.n_iter_
    clf.set_params(warm_start=True, random_state=99).fit(X, y)
    # From the optimum (not the new random_state's start): a few iterations.
    assert clf.n_iter_ < n_iter / 10
    assert clf.objective_ <= objective + 1e-15
    for a, b in zip(clf.coefs_, coefs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    # An L-BFGS fit after an Adam one keeps no stale Adam record.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(solver="adam", max_iter=2, warm_start=False).fit(X, y)
    assert len(clf.loss_curve_) == 2
    clf.set_params(solver="lbfgs", max_iter=2000, warm_start=True).fit(X, y)
    assert not hasattr(clf, "loss_curve_") and not hasattr(clf, "best_loss_")
    # A new architecture starts afresh.
    clf.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    assert clf.coefs_[0].shape == (3, 4)


@pytest.mark.parametrize("sizes", [(5, 0), (-3,), (2.5,), ("a",)])
def test_bad_hidden_layer_sizes(sizes):
    X, y = _blobs(n=20)
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive"):
        DivergenceMLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


def test_bad_targets_raise_clear_errors():
    X, y = _blobs(n=20)
    soft = np.full((20, 3), 0.3)
    with pytest.raises(ValueError, match="must sum to one"):
        DivergenceMLPClassifier(hidden_layer_sizes=(3,)).fit(X, soft)
    with pytest.raises(ValueError, match="classes must be passed on the first"):
        DivergenceMLPClassifier(hidden_layer_sizes=(3,)).partial_fit(X, y)
    clf = DivergenceMLPClassifier(hidden_layer_sizes=(3,)).partial_fit(
        X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="is not the same as classes_"):
        clf.partial_fit(X, y, classes=[0, 1, 5])
    with pytest.raises(ValueError, match="at least one non-zero"):
        DivergenceMLPClassifier().fit(X, y, sample_weight=np.zeros(20))
    reg = GaussianMLPRegressor(hidden_layer_sizes=(3,))
    with pytest.raises(ValueError, match="y_std is only used with"):
        reg.fit(X, X[:, 0], y_std=np.ones(20))
    with pytest.raises(ValueError, match="needs the standard deviation"):
        reg.set_params(loss="kl_divergence").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="y_std must be strictly positive"):
        reg.fit(X, X[:, 0], y_std=np.zeros(20))
    with pytest.raises(ValueError, match="beta > 0"):
        GaussianMLPRegressor(loss="squared_error", beta=0.5).fit(X, X[:, 0])
