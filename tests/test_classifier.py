"""DivergenceClassifier against scikit-learn, closed forms and itself."""

import inspect
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight

from skdiv import DivergenceClassifier
from skdiv.metrics import cross_entropy, entropy, kl_divergence


def _soft_problem(n=300, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    logits = X @ rng.normal(size=(d, k))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    # Mix with noise so the targets are not exactly representable.
    p = 0.7 * p + 0.3 * rng.dirichlet(np.ones(k), size=n)
    return X, p


@pytest.mark.parametrize("load", [load_iris, load_digits, load_breast_cancer],
                         ids=["iris", "digits", "breast_cancer-binary"])
def test_matches_logistic_regression(load):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C = 0.5
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)
    dc = DivergenceClassifier(alpha=1 / (C * X.shape[0]), tol=1e-10).fit(X, y)
    np.testing.assert_allclose(dc.predict_proba(X), lr.predict_proba(X), atol=1e-5)
    assert dc.coef_.shape == lr.coef_.shape
    np.testing.assert_array_equal(dc.classes_, lr.classes_)
    np.testing.assert_array_equal(dc.predict(X), lr.predict(X))
    # objective_ is LogisticRegression's loss / n plus the matched penalty.
    expected = cross_entropy(y, lr.predict_proba(X)) + 0.5 / (C * X.shape[0]) * np.sum(
        lr.coef_**2
    )
    assert dc.objective_ == pytest.approx(expected, rel=1e-6)


def test_matches_logistic_regression_with_sample_weight_and_sparse():
    X, y = make_classification(n_samples=400, n_features=30, n_informative=8,
                               n_classes=4, random_state=0)
    X[X < 0.5] = 0.0
    sw = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    C = 2.0
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
    lr.fit(X, y, sample_weight=sw)
    for Xfit in (X, sp.csr_matrix(X)):
        dc = DivergenceClassifier(alpha=1 / (C * sw.sum()))
        dc.fit(Xfit, y, sample_weight=sw)
        np.testing.assert_allclose(
            dc.predict_proba(Xfit), lr.predict_proba(X), atol=1e-5
        )


@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
def test_ce_and_kl_same_coefficients_objectives_differ_by_target_entropy(solver):
    X, p = _soft_problem()
    kw = dict(alpha=1e-3, solver=solver, tol=1e-9)
    ce = DivergenceClassifier("cross_entropy", **kw).fit(X, p)
    kl = DivergenceClassifier("kl_divergence", **kw).fit(X, p)
    np.testing.assert_allclose(ce.coef_, kl.coef_, atol=1e-7)
    np.testing.assert_allclose(ce.intercept_, kl.intercept_, atol=1e-7)
    assert ce.objective_ - kl.objective_ == pytest.approx(entropy(p), rel=1e-10)
    # The data terms are the public metrics of the fitted model's predictions.
    penalty = 0.5 * 1e-3 * np.sum(ce.coef_**2)
    ce_value = cross_entropy(p, ce.predict_proba(X)) + penalty
    kl_value = kl_divergence(p, kl.predict_proba(X)) + penalty
    assert ce.objective_ == pytest.approx(ce_value)
    assert kl.objective_ == pytest.approx(kl_value)


def test_kl_objective_reaches_zero_when_model_can_match_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    logits = X @ rng.normal(size=(3, 4)) + rng.normal(size=4)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    kl = DivergenceClassifier("kl_divergence", alpha=0.0, tol=1e-10).fit(X, p)
    ce = DivergenceClassifier("cross_entropy", alpha=0.0, tol=1e-10).fit(X, p)
    assert abs(kl.objective_) < 1e-12
    assert ce.objective_ == pytest.approx(entropy(p), rel=1e-10)
    np.testing.assert_allclose(kl.predict_proba(X), p, atol=1e-7)


def test_soft_fit_equals_duplicated_rows_workaround():
    X, p = _soft_problem(n=200, k=3)
    n, k = p.shape
    C = 1.0
    X_dup = np.repeat(X, k, axis=0)
    y_dup = np.tile(np.arange(k), n)
    w_dup = p.ravel()
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(
        X_dup, y_dup, sample_weight=w_dup
    )
    # The duplicated problem has sum(w) = n: the same alpha as n rows.
    dc = DivergenceClassifier(alpha=1 / (C * n)).fit(X, p)
    np.testing.assert_allclose(dc.predict_proba(X), lr.predict_proba(X), atol=1e-6)


def test_one_hot_soft_targets_equal_hard_labels():
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4,
                               random_state=1)
    hard = DivergenceClassifier().fit(X, y)
    soft = DivergenceClassifier().fit(X, np.eye(3)[y])
    np.testing.assert_allclose(soft.coef_, hard.coef_, atol=1e-8)
    np.testing.assert_allclose(soft.intercept_, hard.intercept_, atol=1e-8)
    # Binary, one-hot with two columns -> one logit, as for hard labels.
    yb = (y > 0).astype(int)
    hard_b = DivergenceClassifier().fit(X, yb)
    soft_b = DivergenceClassifier().fit(X, np.eye(2)[yb])
    assert soft_b.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(soft_b.coef_, hard_b.coef_, atol=1e-8)


def test_integer_sample_weight_equals_repeated_rows():
    X, y = make_classification(n_samples=60, n_classes=3, n_informative=4,
                               random_state=2)
    sw = np.random.default_rng(0).integers(0, 4, size=60)
    weighted = DivergenceClassifier(alpha=1e-2).fit(X, y, sample_weight=sw)
    repeated = DivergenceClassifier(alpha=1e-2)
    repeated.fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)


def test_class_weight_balanced_matches_scikit_learn():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               weights=[0.7, 0.2, 0.1], random_state=3)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    C = 1.0
    # scikit-learn's weighted "balanced" rule (scikit-learn >= 1.9), written
    # out so that the test means the same on the oldest supported version,
    # whose "balanced" ignores sample weights: c_k = sum(s) / (K sum_{y=k} s).
    counts = np.bincount(y, weights=sw)
    cw = sw.sum() / (len(counts) * counts)
    if "sample_weight" in inspect.signature(compute_class_weight).parameters:
        np.testing.assert_allclose(
            compute_class_weight("balanced", classes=np.unique(y), y=y,
                                 sample_weight=sw), cw, rtol=1e-12)
        reference = "balanced"
    else:
        reference = dict(enumerate(cw))
    lr = LogisticRegression(C=C, class_weight=reference, tol=1e-12,
                            max_iter=100_000).fit(X, y, sample_weight=sw)
    # scikit-learn folds class weights into sample weights before scaling C.
    dc = DivergenceClassifier(alpha=1 / (C * (sw * cw[y]).sum()),
                              class_weight="balanced").fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(dc.predict_proba(X), lr.predict_proba(X), atol=1e-5)
    # A dict too.
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    lr = LogisticRegression(C=C, class_weight=weights, tol=1e-12,
                            max_iter=100_000).fit(X, y)
    dc = DivergenceClassifier(alpha=1 / (C * np.vectorize(weights.get)(y).sum()),
                              class_weight=weights).fit(X, y)
    np.testing.assert_allclose(dc.predict_proba(X), lr.predict_proba(X), atol=1e-5)


def test_class_weight_on_soft_labels_equals_weighted_duplicated_rows():
    X, p = _soft_problem(n=150, k=3, seed=4)
    n, k = p.shape
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    dc = DivergenceClassifier(alpha=1e-2, class_weight=cw).fit(X, p)
    X_dup = np.repeat(X, k, axis=0)
    y_dup = np.tile(np.arange(k), n)
    w_dup = (p * np.array([2.0, 0.5, 1.0])).ravel()
    # Both normalise by sum_i sum_k c_k p_ik = w_dup.sum(): the same alpha.
    dup = DivergenceClassifier(alpha=1e-2).fit(X_dup, y_dup, sample_weight=w_dup)
    np.testing.assert_allclose(dc.predict_proba(X), dup.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("labels", ["hard", "soft", "smoothed"])
def test_sparse_fit_equals_dense_fit(labels, fit_intercept):
    # Sparse X is solved in the sum-zero basis of the classes, with float32
    # Hessian products; dense X with all k classes. Same optimum, with
    # sample weights and class weights.
    X, p = _soft_problem(n=200, d=6, k=4, seed=5)
    X[np.abs(X) < 0.6] = 0.0
    rng = np.random.default_rng(5)
    sw = rng.uniform(0.2, 2.0, size=X.shape[0])
    y = p if labels == "soft" else p.argmax(axis=1)
    params = dict(
        alpha=1e-2, tol=1e-10, class_weight={0: 2.0, 1: 1.0, 2: 0.5, 3: 1.0},
        fit_intercept=fit_intercept,
    )
    if labels == "smoothed":
        params["label_smoothing"] = 0.1
    dense = DivergenceClassifier(**params).fit(X, y, sample_weight=sw)
    sparse = DivergenceClassifier(**params).fit(sp.csr_matrix(X), y, sample_weight=sw)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-9)
    assert sparse.objective_ == pytest.approx(dense.objective_, rel=1e-12)
    # Both have classes summing to zero (the penalty's optimum).
    np.testing.assert_allclose(sparse.coef_.sum(axis=0), 0.0, atol=1e-12)
    # A warm start from the other fit is already converged.
    warm = DivergenceClassifier(warm_start=True, **params)
    warm.coef_, warm.intercept_ = dense.coef_, dense.intercept_
    warm.fit(sp.csr_matrix(X), y, sample_weight=sw)
    assert warm.n_iter_ <= 1


def test_label_smoothing_is_the_pytorch_mixture():
    X, y = make_classification(n_samples=200, n_classes=3, n_informative=4,
                               random_state=5)
    eps = 0.2
    smoothed = DivergenceClassifier(label_smoothing=eps).fit(X, y)
    manual = DivergenceClassifier().fit(X, (1 - eps) * np.eye(3)[y] + eps / 3)
    np.testing.assert_allclose(smoothed.coef_, manual.coef_, atol=1e-8)
    # Smoothing keeps probabilities away from 0 and 1.
    hard = DivergenceClassifier().fit(X, y)
    assert smoothed.predict_proba(X).min() > hard.predict_proba(X).min()


def test_string_labels_classes_parameter_and_missing_class():
    X, y = make_classification(n_samples=150, n_classes=3, n_informative=4,
                               random_state=6)
    labels = np.array(["cat", "dog", "emu"])[y]
    dc = DivergenceClassifier().fit(X, labels)
    np.testing.assert_array_equal(dc.classes_, ["cat", "dog", "emu"])
    assert set(dc.predict(X)) <= {"cat", "dog", "emu"}
    # A class named in `classes` but absent from y gets a (small) column.
    dc4 = DivergenceClassifier(classes=["cat", "dog", "emu", "fox"]).fit(X, labels)
    proba = dc4.predict_proba(X)
    assert proba.shape == (150, 4) and proba[:, 3].max() < 1e-3
    # Soft targets with named classes.
    soft = DivergenceClassifier(classes=["a", "b", "c"]).fit(X, np.eye(3)[y])
    np.testing.assert_array_equal(soft.classes_, ["a", "b", "c"])


def test_predict_log_proba_is_stable_and_consistent():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    dc = DivergenceClassifier(alpha=0.0, tol=1e-6, max_iter=5)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        dc.fit(X, y)  # separable: the coefficients would grow without bound
    far = np.array([[-1e6], [1e6]])
    log_proba = dc.predict_log_proba(far)
    assert np.isfinite(log_proba).all() and log_proba.min() < -700
    np.testing.assert_allclose(np.exp(dc.predict_log_proba(X)), dc.predict_proba(X))
    X3, y3 = make_classification(n_samples=100, n_classes=3, n_informative=3,
                                 random_state=0)
    dc3 = DivergenceClassifier().fit(X3, y3)
    assert np.isfinite(dc3.predict_log_proba(X3 * 1e6)).all()
    np.testing.assert_allclose(dc3.predict_proba(X3).sum(1), 1.0)


def test_score_on_soft_targets_uses_argmax():
    X, p = _soft_problem(seed=7)
    dc = DivergenceClassifier().fit(X, p)
    expected = np.mean(dc.predict(X) == p.argmax(1))
    assert dc.score(X, p) == pytest.approx(expected)


def test_float32_input_kept_and_close_to_float64():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               random_state=8)
    dc64 = DivergenceClassifier().fit(X, y)
    dc32 = DivergenceClassifier().fit(X.astype(np.float32), y)
    np.testing.assert_allclose(dc32.predict_proba(X), dc64.predict_proba(X), atol=1e-4)


def test_warm_start_starts_from_previous_solution():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4,
                               random_state=9)
    dc = DivergenceClassifier(warm_start=True).fit(X, y)
    dc.fit(X, y)
    assert dc.n_iter_ == 0


def test_verbose_prints_iterations(capsys):
    X, y = load_iris(return_X_y=True)
    DivergenceClassifier(verbose=1).fit(X, y)
    assert "[newton-cg] iter" in capsys.readouterr().out


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    dc = DivergenceClassifier().fit(X, y)
    np.testing.assert_array_equal(dc.feature_names_in_, X.columns)
    soft = pd.DataFrame(np.eye(3)[y], columns=["a", "b", "c"])
    dc2 = DivergenceClassifier().fit(X, soft)
    np.testing.assert_allclose(dc2.coef_, dc.coef_, atol=1e-8)


def test_works_in_the_ecosystem():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), DivergenceClassifier())
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.9
    search = GridSearchCV(pipe, {"divergenceclassifier__alpha": [1e-3, 1e-1]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["divergenceclassifier__alpha"] in (1e-3, 1e-1)
    calibrated = CalibratedClassifierCV(DivergenceClassifier(), cv=3).fit(X, y)
    np.testing.assert_allclose(calibrated.predict_proba(X).sum(1), 1.0)
    fitted = DivergenceClassifier().fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    cloned = clone(fitted)
    assert not hasattr(cloned, "coef_") and cloned.get_params() == fitted.get_params()


BAD_INPUT = [
    ("negative soft entry", {}, lambda X: np.tile([1.2, -0.2, 0.0], (len(X), 1)),
     "contains negative values"),
    ("rows not summing to 1", {}, lambda X: np.tile([0.5, 0.2, 0.2], (len(X), 1)),
     "must sum to one"),
    ("width disagrees with classes", {"classes": [0, 1]},
     lambda X: np.tile([0.2, 0.3, 0.5], (len(X), 1)), "3 columns but classes names 2"),
    ("single class", {}, lambda X: np.zeros(len(X)), "only one class"),
    ("label outside classes", {"classes": [0, 1]}, lambda X: np.arange(len(X)) % 3,
     "not in classes"),
    ("continuous labels", {}, lambda X: np.linspace(0, 1, len(X)),
     "Unknown label type"),
    # Soft labels of object dtype: None is NaN once cast to float.
    ("object soft label None", {},
     lambda X: np.array([[None, 1.0]] + [[0.3, 0.7]] * (len(X) - 1), dtype=object),
     r"^Input y contains NaN\.$"),
    ("object soft label inf", {},
     lambda X: np.array([[np.inf, 1.0]] + [[0.3, 0.7]] * (len(X) - 1), dtype=object),
     "^Input y contains infinity"),
]


@pytest.mark.parametrize("name, params, make_y, match", BAD_INPUT,
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_targets_raise_clear_errors(name, params, make_y, match):
    X = np.random.default_rng(0).normal(size=(12, 2))
    with pytest.raises(ValueError, match=match):
        DivergenceClassifier(**params).fit(X, make_y(X))


def test_bad_parameters_and_inputs_raise_clear_errors():
    X = np.random.default_rng(0).normal(size=(12, 2))
    y = np.arange(12) % 2
    for smoothing in (1.0, -0.1):
        with pytest.raises(InvalidParameterError, match="label_smoothing"):
            DivergenceClassifier(label_smoothing=smoothing).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        DivergenceClassifier(loss="hinge").fit(X, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        DivergenceClassifier().fit(X_nan, y)
    with pytest.raises(ValueError, match="non-zero"):
        DivergenceClassifier().fit(X, y, sample_weight=np.zeros(12))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        DivergenceClassifier().fit(X, y, sample_weight=-np.ones(12))
    soft = np.tile([0.5, np.nan], (12, 1))
    with pytest.raises(ValueError, match="NaN"):
        DivergenceClassifier().fit(X, soft)


# ------------------------------------------------- transactional fits (#17)
def _state(estimator):
    """The estimator's attributes, by identity: a failed fit must keep them."""
    return {name: id(value) for name, value in vars(estimator).items()}


def test_failed_refit_leaves_the_fitted_classifier_unchanged():
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DivergenceClassifier(class_weight={0: 1, 1: 2}).fit(X, y)
    state, proba = _state(clf), clf.predict_proba(X)
    # The class weights name classes 0 and 1, absent from a/b/c.
    with pytest.raises(ValueError, match="class_weight"):
        clf.fit(X, np.array(list("abc"))[np.arange(30) % 3])
    assert _state(clf) == state
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_refit_on_new_features_keeps_n_features_and_names():
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(1).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    clf = DivergenceClassifier().fit(frame, y)
    state = _state(clf)
    with pytest.raises(ValueError, match="non-negative"):
        clf.fit(np.hstack([X, X]), y, sample_weight=-np.ones(30))
    assert _state(clf) == state
    assert clf.n_features_in_ == 3
    np.testing.assert_array_equal(clf.feature_names_in_, ["u", "v", "w"])
    np.testing.assert_array_equal(clf.predict(frame), clf.predict(frame))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_first_fit_leaves_the_classifier_unfitted(method):
    X = np.random.default_rng(2).normal(size=(20, 2))
    y = np.arange(20) % 2
    clf = DivergenceClassifier()
    kwargs = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="non-zero"):
        getattr(clf, method)(X, y, sample_weight=np.zeros(20), **kwargs)
    assert vars(clf) == vars(DivergenceClassifier())
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_failed_dask_refit_leaves_the_classifier_unchanged():
    da = pytest.importorskip("dask.array")
    X = np.random.default_rng(3).normal(size=(40, 2))
    y = np.arange(40) % 2
    clf = DivergenceClassifier().fit(X, y)
    state = _state(clf)
    with pytest.raises(ValueError, match="non-negative"):
        clf.fit(da.from_array(np.hstack([X, X]), chunks=(20, 4)), y,
                sample_weight=-np.ones(40))
    assert _state(clf) == state and clf.n_features_in_ == 2


@pytest.mark.parametrize(
    "class_weight, match",
    [
        ({0: np.nan}, r"finite, non-negative numbers, got \{0: nan\}"),
        ({0: np.inf}, r"finite, non-negative numbers, got \{0: inf\}"),
        ({0: -1.0}, r"finite, non-negative numbers, got \{0: -1.0\}"),
        ({0: 0, 1: 0}, r"class_weight=\{0: 0, 1: 0\} gives every class weight 0"),
    ],
    ids=["nan", "inf", "negative", "all-zero"],
)
@pytest.mark.parametrize("how", ["fit", "partial_fit", "mlp"])
def test_bad_class_weights_are_refused_naming_the_value(class_weight, match, how):
    # Issue 17, defects 5 and 7: these gave NaN coefficients or a LinAlgError
    # from deep inside the solver; the estimator stays unfitted.
    from sklearn.exceptions import NotFittedError

    from skdiv import DivergenceMLPClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), np.arange(30) % 2
    if how == "mlp":
        model = DivergenceMLPClassifier(class_weight=class_weight, solver="lbfgs")
        fit = model.fit
    else:
        model = DivergenceClassifier(class_weight=class_weight)
        fit = model.fit if how == "fit" else (
            lambda X, y: model.partial_fit(X, y, classes=[0, 1])
        )
    with pytest.raises(ValueError, match=match):
        fit(X, y)
    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_failed_network_refit_leaves_the_fitted_model(how):
    # A refit that raises (new labels with a class weight naming old ones)
    # leaves the network as fitted before: classes, weights and predictions.
    from skdiv import DivergenceMLPClassifier

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    model = DivergenceMLPClassifier(
        hidden_layer_sizes=(5,), solver="lbfgs", class_weight={0: 1, 1: 2},
        random_state=0,
    ).fit(X, y)
    before = model.predict_proba(X)
    coefs = [c.copy() for c in model.coefs_]
    with pytest.raises(ValueError):
        if how == "fit":
            model.fit(X, np.array(list("abc") * 13 + ["a"]))
        else:
            model.partial_fit(X[:5], np.full(5, 7))
    np.testing.assert_array_equal(model.classes_, [0, 1])
    for a, b in zip(model.coefs_, coefs, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict_proba(X), before)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_float32_logits_near_the_float32_limit_are_accumulated_in_float64(sparse):
    # Issue 17, defect 5: X = [[3e38, 0]] in float32 gave NaN probabilities
    # (the float32 product overflowed); the logits are those of float64 X.
    import scipy.sparse as sp_

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = DivergenceClassifier().fit(X, y)
    X_big = np.array([[3e38, 0.0], [-3e38, 1.0]], dtype=np.float32)
    X_in = sp_.csr_matrix(X_big) if sparse else X_big
    expected = X_big.astype(np.float64) @ model.coef_.T + model.intercept_
    np.testing.assert_array_equal(model.decision_function(X_in), expected[:, 0])
    proba = model.predict_proba(X_in)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_label_smoothing_then_class_weights_as_pytorch():
    # Issue 17, defect 8: each class's term of the smoothed row weighted by
    # its own class weight (torch.nn.CrossEntropyLoss(weight, label_smoothing),
    # normalised by the effective weights): the same model as fitting the
    # smoothed rows with the same class weights, and objective_ is that sum.
    from scipy.special import log_softmax

    from skdiv import DivergenceMLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 3))
    y = (X @ rng.normal(size=(3, 3)) + rng.gumbel(size=(120, 3))).argmax(axis=1)
    cw, eps, alpha = {0: 1.0, 1: 3.0, 2: 0.5}, 0.2, 1e-2
    smoothed = (1 - eps) * np.eye(3)[y] + eps / 3
    fitted = DivergenceClassifier(
        class_weight=cw, label_smoothing=eps, alpha=alpha, tol=1e-10
    ).fit(X, y)
    on_rows = DivergenceClassifier(class_weight=cw, alpha=alpha, tol=1e-10).fit(
        X, smoothed
    )
    np.testing.assert_allclose(
        fitted.predict_proba(X), on_rows.predict_proba(X), atol=1e-9
    )
    c = np.array([cw[k] for k in range(3)])
    log_q = log_softmax(X @ fitted.coef_.T + fitted.intercept_, axis=1)
    terms = smoothed * c
    expected = -(terms * log_q).sum() / terms.sum() + 0.5 * alpha * np.sum(
        fitted.coef_**2
    )
    assert fitted.objective_ == pytest.approx(expected, rel=1e-12)
    # The same rule in partial_fit's and the network's target preparation.
    for model in (
        DivergenceMLPClassifier(hidden_layer_sizes=(), solver="lbfgs", alpha=alpha,
                                class_weight=cw, label_smoothing=eps, tol=1e-10),
    ):
        model.fit(X, y)
        np.testing.assert_allclose(
            model.predict_proba(X), fitted.predict_proba(X), atol=1e-6
        )


def test_penalty_conversion_with_class_weights_uses_the_effective_weights():
    # Issue 17, defect 8: LogisticRegression(C, class_weight=cw) is
    # alpha = 1 / (C * sum_i s_i c_{y_i}) here, not 1 / (C * sum_i s_i).
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, size=200)
    cw, C = {0: 1.0, 1: 3.0}, 0.5
    reference = LogisticRegression(
        C=C, class_weight=cw, tol=1e-12, max_iter=10_000
    ).fit(X, y, sample_weight=sw)
    effective = (sw * np.array([cw[k] for k in y])).sum()
    model = DivergenceClassifier(
        alpha=1.0 / (C * effective), class_weight=cw, tol=1e-12
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-7)


def test_soft_label_dataframe_names_the_classes():
    # Issue 17, defect 10: a soft-label DataFrame's column names were ignored
    # (classes_ came out as 0..K-1).
    pd = pytest.importorskip("pandas")
    from skdiv import DivergenceMLPClassifier

    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 2))
    P = rng.dirichlet(np.ones(3), size=60)
    names = ["cat", "dog", "fish"]
    frame = pd.DataFrame(P, columns=names)
    for make in (
        lambda: DivergenceClassifier(),
        lambda: DivergenceMLPClassifier(
            hidden_layer_sizes=(3,), solver="lbfgs", random_state=0
        ),
    ):
        model = make().fit(X, frame)
        np.testing.assert_array_equal(model.classes_, names)
        explicit = make().set_params(classes=names).fit(X, P)
        proba = model.predict_proba(X)
        np.testing.assert_allclose(proba, explicit.predict_proba(X), atol=1e-6)
        np.testing.assert_array_equal(
            model.predict(X), np.array(names)[proba.argmax(axis=1)]
        )


def _named_columns_model(how, classes):
    from skdiv import DivergenceMLPClassifier

    if how.startswith("mlp"):
        return DivergenceMLPClassifier(
            hidden_layer_sizes=(3,),
            solver="lbfgs",
            max_iter=50,
            classes=classes,
            random_state=0,
        )
    return DivergenceClassifier(classes=classes, tol=1e-10)


@pytest.mark.parametrize("how", ["fit", "partial_fit", "mlp-fit", "mlp-partial_fit"])
def test_soft_label_dataframe_columns_are_matched_to_classes_by_name(how):
    # A DataFrame with columns a, b, c and classes=["c", "b", "a"] was read
    # by position: the column of 'c' was called 'a', silently.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(90, 3))
    P = 0.8 * np.eye(3)[np.digitize(X[:, 0], [-0.5, 0.5])] + 0.2 / 3
    frame = pd.DataFrame(P, columns=["a", "b", "c"])
    method = how.split("-")[-1]

    def fitted(classes, y):
        model = _named_columns_model(how, classes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return getattr(model, method)(X, y)

    # The network's 50 L-BFGS steps amplify rounding: fits of the same
    # targets were seen to differ by up to 7e-11 from one run to the next
    # (the convex linear model's optimum does not move).
    atol = 1e-9 if how.startswith("mlp") else 1e-12
    by_name = fitted(["c", "b", "a"], frame)
    # classes_ is sorted, as scikit-learn's, and positional columns follow it.
    by_position = fitted(["a", "b", "c"], P)
    np.testing.assert_array_equal(by_name.classes_, ["a", "b", "c"])
    np.testing.assert_allclose(
        by_name.predict_proba(X), by_position.predict_proba(X), rtol=0, atol=atol
    )
    if how in ("fit", "partial_fit"):
        # The label predicted is the column's name, whatever the classes'
        # order (the convex model's optimum does not depend on that order;
        # the network's random start does).
        assert by_name.predict([[3.0, 0.0, 0.0]])[0] == "c"
        np.testing.assert_array_equal(
            by_name.predict(X), fitted(None, frame).predict(X)
        )
    # Names that are not the classes: refused, naming both.
    with pytest.raises(
        ValueError,
        match=r"The soft-label DataFrame's columns "
        r"\['a', 'b', 'x'\] are not the classes \['a', 'b', 'c'\]",
    ):
        fitted(["c", "b", "a"], frame.rename(columns={"c": "x"}))
    # Positional columns with classes not sorted: which order is meant?
    with pytest.raises(ValueError, match=r"classes=\['c', 'b', 'a'\] is not sorted"):
        fitted(["c", "b", "a"], P[:, [2, 1, 0]])
    # Integer names are names too: columns 2, 1, 0 hold classes 2, 1, 0.
    ints = fitted([0, 1, 2], pd.DataFrame(P[:, [2, 1, 0]], columns=[2, 1, 0]))
    np.testing.assert_allclose(
        ints.predict_proba(X),
        fitted([0, 1, 2], P).predict_proba(X),
        rtol=0,
        atol=atol,
    )
    # A frame made from an array names nothing (pandas' default 0, ..., k-1):
    # its columns are the classes' positions, as the array's.
    plain = fitted(["x", "y", "z"], pd.DataFrame(P))
    np.testing.assert_allclose(
        plain.predict_proba(X),
        fitted(["x", "y", "z"], P).predict_proba(X),
        rtol=0,
        atol=atol,
    )


# ------------------------------------- extreme scales (issue 17, defects 5, 7)
def test_features_whose_products_overflow_are_refused():
    rng = np.random.default_rng(31)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DivergenceClassifier()
    with pytest.raises(ValueError, match=r"X has entries up to .*e\+155 in absolute "
                       r"value: sums of products of features overflow float64"):
        clf.fit(X * 1e155, y)
    assert not hasattr(clf, "coef_")
    with pytest.raises(ValueError, match=r"overflow float64"):
        DivergenceClassifier().partial_fit(X * 1e155, y, classes=[0, 1])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_proba_saturates_where_logits_overflow(n_classes):
    # At +-1e308 the logits overflow to +-inf; the log-probabilities stay
    # finite (documented), saturating at the largest float.
    rng = np.random.default_rng(32)
    X = rng.normal(size=(200, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5][: n_classes - 1])
    clf = DivergenceClassifier().fit(X, y)
    extreme = np.array([[1e308, 0.0], [-1e308, 0.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        log_proba = clf.predict_log_proba(extreme)
        proba = clf.predict_proba(extreme)
    assert np.all(np.isfinite(log_proba))
    # The most probable class has log-probability 0, the others saturate.
    np.testing.assert_array_equal(log_proba.max(axis=1), 0.0)
    np.testing.assert_array_equal(np.exp(log_proba), proba)


@pytest.mark.parametrize("value", [1.0, 5.0, 1000.0])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_unpenalised_fit_with_a_constant_feature_is_the_fit_without_it(
    value, sparse, n_classes
):
    # A constant column (a bias column from PolynomialFeatures, say) is the
    # intercept's column scaled. Without a penalty its centred values were
    # rounding noise that the solver chased: coefficients of 1e8 cancelled
    # by the intercept, accuracy 0.57 instead of 0.85. It is held at zero;
    # the model is the one fitted without the column, which scikit-learn's
    # unpenalised LogisticRegression confirms.
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    score = 2 * X[:, 0] + rng.normal(size=300)
    y = (score > 0).astype(int) if n_classes == 2 else np.digitize(score, [-1, 1])
    with_column = np.column_stack([X, np.full(300, value)])
    fitted = DivergenceClassifier(alpha=0, tol=1e-12).fit(
        sp.csr_matrix(with_column) if sparse else with_column, y
    )
    without = DivergenceClassifier(alpha=0, tol=1e-12).fit(X, y)
    assert_allclose(fitted.objective_, without.objective_, rtol=1e-13)
    assert_array_equal(fitted.coef_[:, 3], 0.0)
    assert_allclose(fitted.coef_[:, :3], without.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(fitted.intercept_, without.intercept_, rtol=1e-9, atol=1e-11)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert_allclose(fitted.predict_proba(with_column), reference.predict_proba(X),
                    atol=1e-6)


def test_unpenalised_regression_with_a_constant_feature_is_the_fit_without_it():
    from skdiv import GaussianRegressor

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + np.exp(0.3 * X[:, 1]) * rng.normal(size=300)
    with_column = np.column_stack([X, np.full(300, 7.0)])
    fitted = GaussianRegressor(alpha=0, tol=1e-12).fit(with_column, y)
    without = GaussianRegressor(alpha=0, tol=1e-12).fit(X, y)
    assert_allclose(fitted.objective_, without.objective_, rtol=1e-13)
    assert fitted.coef_[3] == 0.0 and fitted.var_coef_[3] == 0.0
    assert_allclose(fitted.predict(with_column, return_std=True),
                    without.predict(X, return_std=True), rtol=1e-9)


@pytest.mark.parametrize("fit", ["newton-cg", "lbfgs", "partial_fit"])
def test_soft_rows_summing_to_one_within_the_tolerance_fit_as_their_normalised_rows(
    fit,
):
    # Rows off by 5e-7 (within the 1e-6 tolerance) left the gradient q - p a
    # component of 5e-7 / K along the logits' common shift: a ConvergenceWarning
    # blaming float32 and coefficients off by 1e-7 (partial_fit: 3e-4).
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 2))
    rows = rng.dirichlet(np.ones(3), 40)
    rows[:, 1] += 5e-7
    normalised = rows / rows.sum(axis=1, keepdims=True)
    estimators = [DivergenceClassifier(solver=fit if fit != "partial_fit" else "auto")
                  for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        method = "partial_fit" if fit == "partial_fit" else "fit"
        off, exact = (getattr(est, method)(X, y)
                      for est, y in zip(estimators, [rows, normalised], strict=True))
    assert_allclose(off.coef_, exact.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(off.intercept_, exact.intercept_, rtol=1e-10, atol=1e-12)
    assert_allclose(off.objective_, exact.objective_, rtol=1e-12)


def test_unpenalised_binary_fit_with_a_repeated_column_splits_it_evenly():
    # A singular Hessian's Cholesky factor succeeded on rounding and the direct
    # Newton step moved the coefficients along (column - repeat): 0.65 and 1.06
    # where LogisticRegression (and lbfgs here) split 1.71 evenly.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 3))
    y = (X @ [1.5, -2.0, 0.7] + rng.logistic(size=(2, 300))[1] > 0).astype(int)
    repeated = np.column_stack([X, X[:, 0]])
    fitted = DivergenceClassifier(alpha=0, solver="newton-cg").fit(repeated, y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
        repeated, y
    )
    assert_allclose(fitted.coef_[0, 3], fitted.coef_[0, 0], rtol=1e-7)
    assert_allclose(fitted.coef_, reference.coef_, rtol=1e-6)
    assert_allclose(fitted.intercept_, reference.intercept_, rtol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_unpenalised_fit_of_separable_classes_warns(n_classes):
    # Without a penalty the cross-entropy of separable classes has no minimum:
    # the fit returned, silently, coefficients set by where tol stopped it.
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 6.0]])[:n_classes]
    y = np.repeat(np.arange(n_classes), 50)
    X = centres[y] + rng.normal(size=(y.size, 2))
    match = r"alpha=0 and the fitted model classifies every training sample correctly"
    for data in (X, sp.csr_matrix(X)):
        with pytest.warns(ConvergenceWarning, match=match):
            loose = DivergenceClassifier(alpha=0).fit(data, y)
    with pytest.warns(ConvergenceWarning, match=match):
        tight = DivergenceClassifier(alpha=0, tol=1e-12).fit(X, y)
    assert np.abs(tight.coef_).max() > np.abs(loose.coef_).max()
    assert loose.score(X, y) == 1.0
    # A penalty, or one sample on the wrong side, defines the optimum: no warning.
    overlapping = y.copy()
    overlapping[0] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DivergenceClassifier(alpha=1e-4).fit(X, y)
        DivergenceClassifier(alpha=0).fit(X, overlapping)
        DivergenceClassifier(alpha=0, label_smoothing=0.1).fit(X, y)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_soft_entries_within_the_tolerance_of_zero_and_one_are_clipped(method):
    # A teacher's probabilities computed as 1 - p come out at -4e-16: the row
    # passed the sum tolerance but the entry was refused ("contains negative
    # values"), while rows off by 5e-7 were accepted. Both are accepted now,
    # and fit as the clipped, normalised rows.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    P = rng.dirichlet(np.ones(3), size=60)
    P[0] = [0.0, 0.25, 0.75]
    noisy = P.copy()
    noisy[0] = [-4e-16, 0.25, 0.75 + 4e-16]
    noisy[1, 0] += 3e-10  # above 1 - ... and a sum off by 3e-10
    fitted = getattr(DivergenceClassifier(tol=1e-10), method)(X, noisy)
    clean = np.clip(noisy, 0, 1)
    clean /= clean.sum(axis=1, keepdims=True)
    reference = getattr(DivergenceClassifier(tol=1e-10), method)(X, clean)
    assert_allclose(fitted.coef_, reference.coef_, rtol=0, atol=1e-12)
    assert np.isfinite(kl_divergence(noisy, fitted.predict_proba(X)))
    assert_allclose(kl_divergence(noisy, fitted.predict_proba(X)),
                    kl_divergence(np.clip(noisy, 0, 1), fitted.predict_proba(X)),
                    rtol=1e-12)
    bad = P.copy()
    bad[0] = [-1e-3, 0.25, 0.751]
    with pytest.raises(ValueError, match="contains negative values"):
        getattr(DivergenceClassifier(), method)(X, bad)


def test_warm_start_with_other_classes_starts_cold():
    # warm_start is documented for refits with the same classes; with other
    # classes of the same count it went on from coefficients of other labels.
    # It now starts where a cold fit starts, and ends where it ends, exactly.
    X, y = load_iris(return_X_y=True)
    warm = DivergenceClassifier(warm_start=True).fit(X, y)
    warm.fit(X, y + 5)
    cold = DivergenceClassifier().fit(X, y + 5)
    assert warm.n_iter_ == cold.n_iter_
    assert_array_equal(warm.coef_, cold.coef_)


def test_score_names_a_missing_value_in_a_nullable_soft_frame():
    # score() on a Float64 frame holding pd.NA raised pandas' "boolean value
    # of NA is ambiguous"; fit names the problem, and so does score now.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    frame = pd.DataFrame(rng.dirichlet(np.ones(3), 30),
                         columns=["a", "b", "c"]).astype("Float64")
    model = DivergenceClassifier().fit(X, frame)
    assert model.score(X, frame) == np.mean(
        model.predict(X) == np.array(["a", "b", "c"])[frame.to_numpy(float).argmax(1)]
    )
    frame.iloc[0, 0] = pd.NA
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.score(X, frame)
