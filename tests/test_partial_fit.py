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

# 100 shuffled passes in calls of 500 rows: 1600 Adam steps of (up to) 128 rows.
N_EPOCHS, STREAM_BATCH = 100, 500


def _stream(estimator, y, first_call=None, seed=0, **per_row):
    """Shuffled passes over the data, one partial_fit call per batch."""
    order = np.random.default_rng(seed)
    first_call = dict(first_call or {})
    for _ in range(N_EPOCHS):
        perm = order.permutation(N)
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


CLASSIFIER_CASES = {
    "hard-multiclass": (dict(), LABELS, dict(classes=["a", "b", "c"]), {}),
    "binary-weighted": (dict(), LABELS == "a", dict(classes=[False, True]),
                        dict(sample_weight=WEIGHT)),
    "soft-weighted": (dict(loss="kl_divergence"), SOFT, {},
                      dict(sample_weight=WEIGHT)),
    "balanced": (dict(class_weight="balanced"), LABELS,
                 dict(classes=["a", "b", "c"]), {}),
}
REGRESSOR_CASES = {
    "heteroscedastic": (dict(), {}),
    "constant-weighted": (dict(variance="constant"), dict(sample_weight=WEIGHT)),
    "kl": (dict(loss="kl_divergence"), dict(y_std=Y_STD)),
    "squared-error": (dict(loss="squared_error"), {}),
    "beta": (dict(beta=0.5), {}),
}


@pytest.mark.parametrize("case", CLASSIFIER_CASES)
def test_classifier_stream_converges_to_fit(case):
    params, y, first_call, per_row = CLASSIFIER_CASES[case]
    reference = DivergenceClassifier(**params).fit(X, y, **per_row)
    estimator = _stream(DivergenceClassifier(**params), y, first_call, **per_row)
    assert_array_equal(estimator.classes_, reference.classes_)
    assert estimator.coef_.shape == reference.coef_.shape
    assert estimator.intercept_.shape == reference.intercept_.shape
    assert _relative_error(estimator, reference, ["coef_", "intercept_"]) < 1e-2
    assert estimator.n_iter_ == N_EPOCHS * (N // STREAM_BATCH) * 4  # 4 steps/call
    assert np.mean(estimator.predict(X) == reference.predict(X)) > 0.98


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


def test_objective_is_the_full_objective_on_the_last_batch():
    estimator = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    # One pass over all rows: objective_ is F on them, at the reported model.
    expected = log_loss(LABELS, estimator.predict_proba(X)) + 0.5 * (
        estimator.alpha * np.sum(estimator.coef_**2)
    )
    assert_allclose(estimator.objective_, expected, rtol=1e-10)


def test_partial_fit_after_fit_continues_from_it():
    fitted = DivergenceClassifier().fit(X, LABELS)
    coef = fitted.coef_.copy()
    fitted.partial_fit(X[:500], LABELS[:500])  # classes_ known from fit
    assert _relative_error(fitted, type(fitted)().fit(X, LABELS), ["coef_"]) < 0.05
    assert not np.array_equal(fitted.coef_, coef)

    reg = GaussianRegressor().fit(X, Y_REG)
    reference = GaussianRegressor().fit(X, Y_REG)
    reg.partial_fit(X[:500], Y_REG[:500])
    names = ["coef_", "intercept_", "var_coef_", "var_intercept_"]
    assert _relative_error(reg, reference, names) < 0.05


def test_fit_after_partial_fit_starts_a_new_stream():
    estimator = DivergenceClassifier().partial_fit(X, LABELS, classes=["a", "b", "c"])
    estimator.fit(X, LABELS)
    assert_allclose(estimator.coef_, DivergenceClassifier().fit(X, LABELS).coef_)
    estimator.partial_fit(X[:10], LABELS[:10])
    assert estimator.n_iter_ > 1000  # continues fit at the warm step


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


def test_soft_label_dataframe_names_the_classes_in_partial_fit():
    # Issue 17 defect 10: as in fit, a soft-label DataFrame's column names
    # are the classes; a later batch with other columns is refused.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(51)
    X = rng.normal(size=(120, 3))
    P = rng.dirichlet(np.ones(3), size=120)
    names = ["cat", "dog", "eel"]
    frame = DivergenceClassifier().partial_fit(X, pd.DataFrame(P, columns=names))
    array = DivergenceClassifier().partial_fit(X, P, classes=names)
    np.testing.assert_array_equal(frame.classes_, names)
    np.testing.assert_array_equal(frame.coef_, array.coef_)
    np.testing.assert_array_equal(frame.predict(X), array.predict(X))
    with pytest.raises(ValueError, match=r"classes=\['dog', 'cat', 'eel'\] is not "
                       r"the same as classes_=\['cat', 'dog', 'eel'\]"):
        frame.partial_fit(X, pd.DataFrame(P, columns=["dog", "cat", "eel"]))
