"""partial_fit: convergence to fit over a shuffled stream, classes, errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import log_loss

from skdiv import DivergenceClassifier, GaussianRegressor

N, D = 2000, 4

rng = np.random.default_rng(0)
X = rng.normal(size=(N, D)) @ (np.eye(D) + 0.3) * [1.0, 3.0, 0.3, 2.0] + 1.0
CODES = np.argmax(0.4 * X @ rng.normal(size=(D, 3)) + rng.gumbel(size=(N, 3)), axis=1)
LABELS = np.array(["a", "b", "c"])[CODES]
SOFT = 0.5 * rng.dirichlet(np.ones(3), size=N) + 0.5 * np.eye(3)[CODES]
WEIGHT = rng.uniform(0.2, 2.0, size=N)
Y_REG = X @ [1.0, -1.0, 2.0, 0.5] + rng.normal(size=N) * np.exp(0.3 * X[:, 0]) + 3.0
Y_STD = rng.uniform(0.1, 1.0, size=N)

# 100 shuffled passes in calls of 500 rows (the regressor's Adam stream).
N_EPOCHS, STREAM_BATCH = 100, 500
# The classifier's Newton stream: a few passes reach fit's objective.
N_PASSES = 4


def _stream(estimator, y, first_call=None, seed=0, n_epochs=N_EPOCHS, shuffle=True,
            **per_row):
    """Passes over the data, one partial_fit call per batch of 500 rows."""
    order = np.random.default_rng(seed)
    first_call = dict(first_call or {})
    for _ in range(n_epochs):
        perm = order.permutation(N) if shuffle else np.arange(N)
        for start in range(0, N, STREAM_BATCH):
            rows = perm[start : start + STREAM_BATCH]
            kwargs = {name: values[rows] for name, values in per_row.items()}
            estimator.partial_fit(X[rows], y[rows], **first_call, **kwargs)
            first_call = {}
    return estimator


def _relative_error(estimator, reference, names):
    flat = [np.concatenate([np.ravel(getattr(e, n)) for n in names])
            for e in (estimator, reference)]
    return np.max(np.abs(flat[0] - flat[1])) / np.max(np.abs(flat[1]))


def _softmax_objective(coef, intercept, target, sample_weight, alpha):
    """F(W, b) written out: weighted mean cross-entropy plus the L2 penalty.

    ``target`` holds probability rows (one-hot for hard labels) over all the
    classes; a binary model's single logit row is the second class's.
    """
    logits = X @ coef.T + intercept
    if logits.shape[1] == 1:
        logits = np.hstack([np.zeros_like(logits), logits])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_q = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    ce = -np.sum(target * log_q, axis=1)
    return np.sum(sample_weight * ce) / np.sum(sample_weight) + 0.5 * alpha * np.sum(
        coef**2
    )


ONE_HOT = np.eye(3)[CODES]
BALANCED = len(CODES) / (3 * np.bincount(CODES))  # scikit-learn's rule
CLASSIFIER_CASES = {
    # params, y, first call, per-row arguments, target rows, effective weights
    "hard-multiclass": (dict(), LABELS, dict(classes=["a", "b", "c"]), {},
                        ONE_HOT, np.ones(N)),
    "binary-weighted": (dict(), LABELS == "a", dict(classes=[False, True]),
                        dict(sample_weight=WEIGHT),
                        np.column_stack([CODES != 0, CODES == 0]).astype(float),
                        WEIGHT),
    "soft-weighted": (dict(loss="kl_divergence"), SOFT, {},
                      dict(sample_weight=WEIGHT), SOFT, WEIGHT),
    "balanced": (dict(class_weight="balanced"), LABELS,
                 dict(classes=["a", "b", "c"]), {}, ONE_HOT, BALANCED[CODES]),
    "smoothed": (dict(label_smoothing=0.1), LABELS, dict(classes=["a", "b", "c"]),
                 {}, 0.9 * ONE_HOT + 0.1 / 3, np.ones(N)),
}


@pytest.mark.parametrize("batch_size", ["auto", 300], ids=["window-2000", "window-300"])
@pytest.mark.parametrize("case", CLASSIFIER_CASES)
def test_classifier_stream_reaches_the_batch_objective(case, batch_size):
    params, y, first_call, per_row, target, weight = CLASSIFIER_CASES[case]
    reference = DivergenceClassifier(**params).fit(X, y, **per_row)
    estimator = _stream(DivergenceClassifier(batch_size=batch_size, **params), y,
                        first_call, n_epochs=N_PASSES, **per_row)
    assert_array_equal(estimator.classes_, reference.classes_)
    assert estimator.coef_.shape == reference.coef_.shape
    # Both models on the objective written out here; KL differs from CE by
    # the mean target entropy, a constant.
    alpha = reference.alpha
    batch = _softmax_objective(reference.coef_, reference.intercept_, target,
                               weight, alpha)
    if params.get("loss") != "kl_divergence":
        assert_allclose(batch, reference.objective_, rtol=1e-10)
    streamed = _softmax_objective(estimator.coef_, estimator.intercept_, target,
                                  weight, alpha)
    gap = (streamed - batch) / batch
    # A window of all 2,000 rows makes the stream's solve fit's own problem;
    # a window of 300 rows leaves the summary's (third-order) error.
    assert -1e-12 < gap < (1e-9 if batch_size == "auto" else 1e-4)
    assert _relative_error(estimator, reference, ["coef_", "intercept_"]) < (
        1e-4 if batch_size == "auto" else 1e-2
    )


def test_hard_label_stream_reaches_logistic_regression():
    """The optimum itself from scikit-learn: C = 1 / (alpha n)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1 / (1e-4 * N), tol=1e-12, max_iter=10_000).fit(X, LABELS)
    optimum = _softmax_objective(lr.coef_, lr.intercept_, ONE_HOT, np.ones(N), 1e-4)
    for shuffle in (True, False):
        estimator = _stream(DivergenceClassifier(batch_size=300), LABELS,
                            dict(classes=["a", "b", "c"]), n_epochs=N_PASSES,
                            shuffle=shuffle)
        streamed = _softmax_objective(estimator.coef_, estimator.intercept_, ONE_HOT,
                                      np.ones(N), 1e-4)
        assert abs(streamed - optimum) / optimum < 1e-4


REGRESSOR_CASES = {
    "heteroscedastic": (dict(), {}),
    "constant-weighted": (dict(variance="constant"), dict(sample_weight=WEIGHT)),
    "kl": (dict(loss="kl_divergence"), dict(y_std=Y_STD)),
    "squared-error": (dict(loss="squared_error"), {}),
    "beta": (dict(beta=0.5), {}),
}


@pytest.mark.parametrize("case", REGRESSOR_CASES)
def test_regressor_stream_converges_to_fit(case):
    params, per_row = REGRESSOR_CASES[case]
    reference = GaussianRegressor(**params).fit(X, Y_REG, **per_row)
    estimator = _stream(GaussianRegressor(**params), Y_REG, **per_row)
    names = ["coef_", "intercept_", "var_coef_", "var_intercept_"]
    assert _relative_error(estimator, reference, names) < 1e-2
    if params.get("variance") == "constant":
        assert_array_equal(estimator.var_coef_, 0.0)
    mean, std = estimator.predict(X[:3], return_std=True)
    assert mean.shape == std.shape == (3,)


def _gaussian_objective(estimator, sample_weight, y_std=None):
    """Weighted mean Gaussian NLL in target units, written out (KL up to a constant).

    With ``y_std`` the squared residual gains the target's variance, the
    KL divergence to N(y, y_std^2) less the target's own entropy.
    """
    mean = X @ estimator.coef_ + estimator.intercept_
    log_var = X @ estimator.var_coef_ + estimator.var_intercept_
    square = (Y_REG - mean) ** 2 + (0.0 if y_std is None else y_std**2)
    nll = 0.5 * (np.log(2 * np.pi) + log_var + square * np.exp(-log_var))
    return np.sum(sample_weight * nll) / np.sum(sample_weight)


NEWTON_REGRESSOR_CASES = {
    "nll-weighted": (dict(), dict(sample_weight=WEIGHT)),
    "kl": (dict(loss="kl_divergence"), dict(y_std=Y_STD)),
    "no-intercept": (dict(fit_intercept=False), {}),
    # The two stages: least squares, then the variance given the mean.
    "constant-weighted": (dict(variance="constant"), dict(sample_weight=WEIGHT)),
    "constant-kl": (dict(variance="constant", loss="kl_divergence"),
                    dict(y_std=Y_STD)),
    "squared-error": (dict(loss="squared_error"), {}),
    "squared-error-no-intercept": (dict(loss="squared_error", fit_intercept=False),
                                   {}),
}


@pytest.mark.parametrize("batch_size", ["auto", 300], ids=["window-2000", "window-300"])
@pytest.mark.parametrize("case", NEWTON_REGRESSOR_CASES)
def test_regressor_stream_reaches_the_batch_objective(case, batch_size):
    # alpha=0: the objective in target units does not depend on the target
    # scaling, which the stream takes from its first call and fit from all y.
    params, per_row = NEWTON_REGRESSOR_CASES[case]
    reference = GaussianRegressor(alpha=0.0, tol=1e-10, **params).fit(
        X, Y_REG, **per_row
    )
    estimator = _stream(GaussianRegressor(alpha=0.0, batch_size=batch_size, **params),
                        Y_REG, n_epochs=N_PASSES, **per_row)
    weight = per_row.get("sample_weight", np.ones(N))
    y_std = per_row.get("y_std")
    batch = _gaussian_objective(reference, weight, y_std)
    streamed = _gaussian_objective(estimator, weight, y_std)
    gap = (streamed - batch) / abs(batch)
    # The window of 2,000 rows: fit's problem, to the solvers' tolerance (the
    # two-stage fit's second stage stops at a gradient of 1e-10, a relative
    # 1e-10 or so either way).
    assert (-1e-8 if batch_size == "auto" else -1e-12) < gap < (
        1e-8 if batch_size == "auto" else 1e-4
    )
    names = ["coef_", "intercept_", "var_coef_", "var_intercept_"]
    assert _relative_error(estimator, reference, names) < (
        1e-4 if batch_size == "auto" else 3e-2
    )
    if not params.get("fit_intercept", True):
        assert estimator.intercept_ == 0.0


def test_regressor_stream_of_single_rows_recovers_from_the_first_exact_fit():
    # One row at a time, the textbook partial_fit: the first call fits its
    # row exactly and drives the variance past its floor, where the
    # log-variance gradient used to be zero on every later row (the std
    # stayed at 1e-6 for good). One pass now ends near the batch fit.
    n = 300
    reference = GaussianRegressor().fit(X[:n], Y_REG[:n])
    estimator = GaussianRegressor()
    for i in range(n):
        estimator.partial_fit(X[i : i + 1], Y_REG[i : i + 1])
    std = estimator.predict(X[:50], return_std=True)[1]
    assert_allclose(std, reference.predict(X[:50], return_std=True)[1], rtol=1e-3)
    # The means were right before: within a hundredth of the noise's std.
    assert_allclose(estimator.predict(X[:50]), reference.predict(X[:50]),
                    rtol=0, atol=0.01 * std.min())


def test_objective_is_the_full_objective_on_the_last_batch():
    estimator = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    # One pass over all rows: objective_ is F on them, at the reported model.
    expected = log_loss(LABELS, estimator.predict_proba(X)) + 0.5 * (
        estimator.alpha * np.sum(estimator.coef_**2)
    )
    assert_allclose(estimator.objective_, expected, rtol=1e-10)


def test_partial_fit_after_fit_continues_from_it():
    # The fitted model stands for fit's rows, worth as many as the call's:
    # the stream lands between fit's model and the call's own optimum.
    full = DivergenceClassifier().fit(X, LABELS)
    fitted = DivergenceClassifier().fit(X, LABELS)
    coef = fitted.coef_.copy()
    fitted.partial_fit(X[:500], LABELS[:500])  # classes_ known from fit
    fresh = DivergenceClassifier().partial_fit(X[:500], LABELS[:500],
                                               classes=["a", "b", "c"])
    assert not np.array_equal(fitted.coef_, coef)
    to_fit = _relative_error(fitted, full, ["coef_"])
    assert to_fit < 0.7 * _relative_error(fresh, full, ["coef_"])
    assert _relative_error(fitted, fresh, ["coef_"]) < _relative_error(
        full, fresh, ["coef_"]
    )

    reg = GaussianRegressor().fit(X, Y_REG)
    reference = GaussianRegressor().fit(X, Y_REG)
    reg.partial_fit(X[:500], Y_REG[:500])
    names = ["coef_", "intercept_", "var_coef_", "var_intercept_"]
    assert _relative_error(reg, reference, names) < 0.05


def test_fit_after_partial_fit_starts_a_new_stream():
    estimator = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    estimator.fit(X, LABELS)
    assert_allclose(estimator.coef_, DivergenceClassifier().fit(X, LABELS).coef_)
    stream = estimator._stream
    estimator.partial_fit(X[:10], LABELS[:10])
    assert estimator._stream is not stream  # a new one, from fit's model


# ----------------------------------------------------------------- classes
def test_classes_required_on_first_call():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        DivergenceClassifier().partial_fit(X, LABELS)


def test_classes_must_not_change():
    estimator = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    estimator.partial_fit(X, LABELS, classes=["a", "b", "c"])  # same: fine
    with pytest.raises(ValueError, match="is not the same as classes_"):
        estimator.partial_fit(X, LABELS, classes=["a", "b", "c", "d"])


def test_classes_may_be_absent_from_a_batch():
    estimator = DivergenceClassifier().partial_fit(
        X[:50], np.full(50, "b"), classes=["a", "b", "c"]
    )
    assert_array_equal(estimator.classes_, ["a", "b", "c"])
    assert estimator.predict_proba(X[:2]).shape == (2, 3)
    with pytest.raises(ValueError, match=r"labels \['z'\] that are not in classes"):
        estimator.partial_fit(X[:1], ["z"])


def test_classes_from_the_constructor_and_from_soft_columns():
    by_parameter = DivergenceClassifier(classes=["a", "b", "c"]).partial_fit(X, LABELS)
    by_argument = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    assert_allclose(by_parameter.coef_, by_argument.coef_)
    soft = DivergenceClassifier().partial_fit(X, SOFT)
    assert_array_equal(soft.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match="Soft-label y has 2 columns"):
        soft.partial_fit(X, SOFT[:, :2] / SOFT[:, :2].sum(axis=1, keepdims=True))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: DivergenceClassifier().partial_fit(X, LABELS, classes=["a"]),
         "at least 2 classes"),
        (lambda: DivergenceClassifier().partial_fit(
            X, LABELS, classes=["a", "b", "c"], sample_weight=np.zeros(N)),
         "non-zero"),
        (lambda: DivergenceClassifier().partial_fit(X, SOFT * 0.5),
         "must sum to one"),
        (lambda: GaussianRegressor(loss="kl_divergence").partial_fit(X, Y_REG),
         "needs the standard deviation"),
        (lambda: GaussianRegressor().partial_fit(X, Y_REG, y_std=Y_STD),
         "y_std is only used with loss='kl_divergence'"),
        (lambda: GaussianRegressor(loss="squared_error", beta=0.5).partial_fit(
            X, Y_REG), "beta > 0"),
        (lambda: GaussianRegressor().partial_fit(X, Y_REG).partial_fit(
            X[:, :2], Y_REG), "features"),
    ],
    ids=["one-class", "zero-weights", "soft-sum", "missing-y_std", "extra-y_std",
         "beta-squared-error", "n-features"],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------ with Dask
def test_dask_ml_incremental_is_the_plain_loop_over_blocks():
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    Xd = da.from_array(X, chunks=(500, D))
    yd = da.from_array(LABELS, chunks=500)

    incremental = wrappers.Incremental(DivergenceClassifier(), shuffle_blocks=False)
    incremental.fit(Xd, yd, classes=["a", "b", "c"])

    loop = DivergenceClassifier()
    for X_block, y_block in zip(Xd.to_delayed().ravel(), yd.to_delayed(),
                                strict=True):
        loop.partial_fit(X_block.compute(), y_block.compute(), classes=["a", "b", "c"])
    assert_allclose(incremental.estimator_.coef_, loop.coef_, rtol=1e-12)
    assert_array_equal(incremental.predict(Xd).compute(), loop.predict(X))


# ------------------------------------------------- transactional fits (#17)
def test_failed_first_partial_fit_does_not_lock_the_classes():
    clf = DivergenceClassifier()
    # The labels are strings, the classes given integers: refused after the
    # classes were checked, which used to store them.
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, LABELS, classes=[0, 1, 2])
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X, LABELS, classes=["a", "b", "c"])
    assert_array_equal(clf.classes_, ["a", "b", "c"])


def test_failed_partial_fit_leaves_the_stream_unchanged():
    clf = DivergenceClassifier(class_weight="balanced").partial_fit(
        X, LABELS, classes=["a", "b", "c"]
    )
    twin = DivergenceClassifier(class_weight="balanced").partial_fit(
        X, LABELS, classes=["a", "b", "c"]
    )
    state = dict(vars(clf))
    stream = dict(vars(clf._stream))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, np.where(CODES == 0, "z", LABELS))
    assert vars(clf).keys() == state.keys()
    assert all(vars(clf)[name] is value for name, value in state.items())
    assert vars(clf._stream).keys() == stream.keys()
    assert all(vars(clf._stream)[k] is v for k, v in stream.items())
    # The next call continues exactly as if the failed one had not happened.
    clf.partial_fit(X, LABELS)
    twin.partial_fit(X, LABELS)
    assert_array_equal(clf.coef_, twin.coef_)
    assert_array_equal(clf.intercept_, twin.intercept_)


@pytest.mark.parametrize("network", [False, True], ids=["linear", "mlp"])
def test_soft_label_dataframe_names_the_classes_in_partial_fit(network):
    # Issue 17 defect 10: as in fit, a soft-label DataFrame's column names
    # are the classes. A later batch's columns are matched to them by name
    # (reordered columns are the same targets); other names are refused.
    pd = pytest.importorskip("pandas")
    from skdiv import DivergenceMLPClassifier

    rng = np.random.default_rng(51)
    X = rng.normal(size=(120, 3))
    P = rng.dirichlet(np.ones(3), size=120)
    names = ["cat", "dog", "eel"]

    def make():
        if network:
            return DivergenceMLPClassifier(hidden_layer_sizes=(3,), random_state=0)
        return DivergenceClassifier()

    frame = make().partial_fit(X, pd.DataFrame(P, columns=names))
    array = make().partial_fit(X, P, classes=names)
    np.testing.assert_array_equal(frame.classes_, names)
    np.testing.assert_array_equal(frame.predict_proba(X), array.predict_proba(X))
    frame.partial_fit(
        X[:60], pd.DataFrame(P[:60, [1, 0, 2]], columns=["dog", "cat", "eel"])
    )
    array.partial_fit(X[:60], P[:60])
    np.testing.assert_array_equal(frame.classes_, names)
    np.testing.assert_allclose(
        frame.predict_proba(X), array.predict_proba(X), rtol=0, atol=1e-12
    )
    with pytest.raises(
        ValueError,
        match=r"columns \['cat', 'dog', 'fox'\] are "
        r"not the classes \['cat', 'dog', 'eel'\]",
    ):
        frame.partial_fit(X, pd.DataFrame(P, columns=["cat", "dog", "fox"]))
