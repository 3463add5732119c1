"""Target and weight preparation (skdiv._targets), checked against references."""

import inspect
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.utils.class_weight import compute_class_weight

from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv._targets import (
    TargetScaling,
    check_beta,
    check_sample_weight,
    check_y_std,
    class_counts,
    class_weight_vector,
    constant_log_variance,
    intercept_only_start,
    objective_target,
    penalised_least_squares,
    prepare_classification,
    prepare_regression,
    reweight_soft_rows,
    smooth,
    soft_label_columns,
    target_scaling,
)
from skdiv._targets._least_squares import _cholesky_solver, ridge_normal_equations
from skdiv.metrics import cross_entropy, entropy, gaussian_kl, gaussian_nll

RNG = np.random.default_rng(0)
N = 40
SW = RNG.uniform(0.2, 3.0, size=N)
LABELS = np.array(["a", "b", "c"])[RNG.integers(0, 3, size=N)]
SOFT = RNG.dirichlet(np.ones(3), size=N)


# ------------------------------------------------------------ sample weights
def test_check_sample_weight_values():
    assert_array_equal(check_sample_weight(None, 3), np.ones(3))
    assert_array_equal(check_sample_weight(2.5, 3), [2.5, 2.5, 2.5])
    weights = check_sample_weight([1, 0, 2], 3)
    assert weights.dtype == np.float64
    assert_array_equal(weights, [1.0, 0.0, 2.0])


# One message per problem, whoever validates: fit, partial_fit, the Dask fit
# and the metrics all end in skdiv._targets.check_sample_weight (or, for
# Dask, raise_for_sample_weight on the same reductions).
WEIGHT_PROBLEMS = {
    "nan": (np.r_[np.nan, np.ones(N - 1)], "Input sample_weight contains NaN."),
    "inf": (np.r_[np.inf, np.ones(N - 1)], "Input sample_weight contains infinity."),
    "negative": (
        np.r_[-0.5, np.ones(N - 1)],
        "sample_weight must be non-negative, got minimum -0.5.",
    ),
    "all-zero": (
        np.zeros(N),
        "sample_weight must contain at least one non-zero weight, but all "
        "weights are zero.",
    ),
    "length": (np.ones(N - 1), f"sample_weight has {N - 1} entries but there are "
               f"{N} samples."),
    "2-d": (np.ones((N, 2)), f"sample_weight must be 1-D of shape (n_samples,) = "
            f"({N},), got shape ({N}, 2)."),
}

X = RNG.normal(size=(N, 3))
Y_REG = X @ [1.0, -1.0, 0.5] + RNG.normal(size=N)


def _dask(array):
    da = pytest.importorskip("dask.array")
    return da.from_array(array, chunks=(N // 2,) + array.shape[1:])


CALLERS = {
    "classifier-fit": lambda sw: DivergenceClassifier().fit(
        X, LABELS, sample_weight=sw),
    "classifier-partial_fit": lambda sw: DivergenceClassifier().partial_fit(
        X, LABELS, classes=["a", "b", "c"], sample_weight=sw),
    "regressor-fit": lambda sw: GaussianRegressor().fit(X, Y_REG, sample_weight=sw),
    "regressor-partial_fit": lambda sw: GaussianRegressor().partial_fit(
        X, Y_REG, sample_weight=sw),
    "classifier-dask-fit": lambda sw: DivergenceClassifier().fit(
        _dask(X), LABELS, sample_weight=sw),
    "regressor-dask-fit": lambda sw: GaussianRegressor().fit(
        _dask(X), Y_REG, sample_weight=sw),
    "cross_entropy": lambda sw: cross_entropy(SOFT, SOFT, sample_weight=sw),
    "entropy": lambda sw: entropy(SOFT, sample_weight=sw),
    "gaussian_nll": lambda sw: gaussian_nll(Y_REG, Y_REG, 1.0, sample_weight=sw),
    "gaussian_kl": lambda sw: gaussian_kl(Y_REG, 1.0, Y_REG, 2.0, sample_weight=sw),
}


@pytest.mark.parametrize("caller", CALLERS.values(), ids=CALLERS.keys())
@pytest.mark.parametrize(
    "weights, message", WEIGHT_PROBLEMS.values(), ids=WEIGHT_PROBLEMS.keys()
)
def test_one_sample_weight_message(caller, weights, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        caller(weights)


# ------------------------------------------------------------ class weights
def test_dict_class_weight_matches_scikit_learn():
    classes = np.array(["a", "b", "c"])
    weights = {"a": 2.0, "c": 0.25}
    assert_array_equal(
        class_weight_vector(weights, classes),
        compute_class_weight(weights, classes=classes, y=classes),
    )
    assert_array_equal(class_weight_vector(weights, classes), [2.0, 1.0, 0.25])


def test_balanced_class_weight_on_hard_labels_matches_scikit_learn():
    classes, codes = np.unique(LABELS, return_inverse=True)
    counts = class_counts(codes, np.ones(N), 3)
    assert_allclose(
        class_weight_vector("balanced", classes, counts),
        compute_class_weight("balanced", classes=classes, y=LABELS),
        rtol=1e-14,
    )
    # With sample weights: scikit-learn's weighted rule (>= 1.9), and by hand.
    counts = class_counts(codes, SW, 3)
    by_hand = np.array(
        [SW.sum() / (3 * SW[LABELS == label].sum()) for label in classes]
    )
    assert_allclose(class_weight_vector("balanced", classes, counts), by_hand,
                    rtol=1e-14)
    if "sample_weight" in inspect.signature(compute_class_weight).parameters:
        assert_allclose(
            compute_class_weight("balanced", classes=classes, y=LABELS,
                                 sample_weight=SW),
            by_hand, rtol=1e-14,
        )


def test_balanced_class_weight_on_soft_counts_by_hand():
    # Soft counts n_k = sum_i s_i p_ik: here n = (0.5*1 + 0.2*2, 0.5*1 +
    # 0.8*2, 0) = (0.9, 2.1, 0); the absent class gets weight 1 and the
    # others sum(n) / (K' n_k) with K' = 2 classes present.
    target = np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])
    counts = class_counts(target, np.array([1.0, 2.0]), 3)
    assert_allclose(counts, [0.9, 2.1, 0.0], rtol=1e-15)
    weights = class_weight_vector("balanced", np.arange(3), counts)
    assert_allclose(weights, [3.0 / 1.8, 3.0 / 4.2, 1.0], rtol=1e-15)


def test_reweighted_soft_rows_equal_weighted_duplicated_rows():
    # -sum_k c_k s_i p_ik log q_ik: the loss of the rows duplicated once per
    # class with weight s_i c_k p_ik, equals s'_i CE(p'_i, q_i).
    c = np.array([0.5, 2.0, 1.5])
    log_q = np.log(RNG.dirichlet(np.ones(3), size=N))
    target, weights = reweight_soft_rows(SOFT, SW, c)
    duplicated = -np.sum(SW[:, None] * c * SOFT * log_q)
    assert_allclose(-np.sum(weights[:, None] * target * log_q), duplicated,
                    rtol=1e-13)
    assert_allclose(target.sum(axis=1), 1.0, rtol=1e-15)
    # A row whose classes all weigh 0 keeps its target and gets weight 0.
    target, weights = reweight_soft_rows(
        np.array([[1.0, 0.0], [0.3, 0.7]]), np.ones(2), np.array([0.0, 1.0])
    )
    assert_array_equal(target, [[1.0, 0.0], [0.0, 1.0]])
    assert_array_equal(weights, [0.0, 0.7])


# ------------------------------ class weights that leave no weight (B3)
# Class weights 0, 0, 1; every row of positive sample weight in class 0 or 1
# (or with all its target probability there) leaves the objective 0 / 0:
# a NaN model, a ZeroDivisionError, a LinAlgError or an AttributeError from
# deep inside, depending on the path, until the one check below.
NO_WEIGHT = {0: 0, 1: 0, 2: 1}
Y3 = np.arange(N) % 3
NO_WEIGHT_HARD = (
    "class_weight={0: 0, 1: 0, 2: 1} and sample_weight leave no sample with "
    "positive weight: the samples of positive sample_weight are all of the "
    "classes [0, 1], whose class weights are [0.0, 0.0]. Give one of these "
    "classes a positive weight."
)
NO_WEIGHT_SOFT = NO_WEIGHT_HARD.replace(
    "are all of", "have all their target probability on"
)
_share = RNG.uniform(0.1, 0.9, size=N)
NO_WEIGHT_DATA = {
    # Labels of the weightless classes only.
    "labels": (Y3 % 2, None, NO_WEIGHT_HARD),
    # Class 2 present, with sample weight 0.
    "sample_weight": (Y3, (Y3 != 2) * 1.0, NO_WEIGHT_HARD),
    # Soft rows with no probability on class 2.
    "soft": (np.c_[_share, 1 - _share, np.zeros(N)], None, NO_WEIGHT_SOFT),
}


def _no_weight_model(kind):
    from skdiv import DivergenceMLPClassifier

    if kind.startswith("mlp"):
        return DivergenceMLPClassifier(
            hidden_layer_sizes=(4,),
            solver=kind.split("-")[1],
            max_iter=5,
            class_weight=NO_WEIGHT,
            classes=[0, 1, 2],
            random_state=0,
        )
    return DivergenceClassifier(class_weight=NO_WEIGHT, classes=[0, 1, 2])


NO_WEIGHT_CALLERS = {
    "fit": ("fit", lambda m, y, sw: m.fit(X, y, sample_weight=sw)),
    "partial_fit": ("fit", lambda m, y, sw: m.partial_fit(X, y, sample_weight=sw)),
    "dask-fit": (
        "fit",
        lambda m, y, sw: m.fit(
            _dask(X), _dask(y), sample_weight=None if sw is None else _dask(sw)
        ),
    ),
    "mlp-adam-fit": ("mlp-adam", lambda m, y, sw: m.fit(X, y, sample_weight=sw)),
    "mlp-lbfgs-fit": ("mlp-lbfgs", lambda m, y, sw: m.fit(X, y, sample_weight=sw)),
    "mlp-partial_fit": (
        "mlp-adam",
        lambda m, y, sw: m.partial_fit(X, y, sample_weight=sw),
    ),
}


def _assert_same(after, before, where="estimator"):
    """``after`` equals the deep copy ``before``: arrays by np.array_equal."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), where
        assert np.array_equal(after, before, equal_nan=True), where
    elif isinstance(before, (list, tuple)):
        assert type(after) is type(before) and len(after) == len(before), where
        for i, (a, b) in enumerate(zip(after, before, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(before, dict):
        assert after.keys() == before.keys(), where
        for key in before:
            _assert_same(after[key], before[key], f"{where}.{key}")
    elif hasattr(before, "__dict__") and not isinstance(before, type):
        assert type(after) is type(before), where
        _assert_same(vars(after), vars(before), where)
    else:
        assert after == before or (after != after and before != before), where


@pytest.mark.parametrize("data", NO_WEIGHT_DATA.values(), ids=NO_WEIGHT_DATA.keys())
@pytest.mark.parametrize(
    "kind, call", NO_WEIGHT_CALLERS.values(), ids=NO_WEIGHT_CALLERS.keys()
)
def test_class_weights_that_leave_no_weight_are_refused(kind, call, data):
    import copy

    y, sw, message = data
    # A refit: refused with the one message, the previous model kept (every
    # attribute, and the stream's, equal to a copy taken before).
    model = _no_weight_model(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=5: ConvergenceWarning
        call(model, Y3, None)
    before, ids = copy.deepcopy(vars(model)), {k: id(v) for k, v in vars(model).items()}
    proba = model.predict_proba(X)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call(model, y, sw)
    assert {k: id(v) for k, v in vars(model).items()} == ids
    _assert_same(vars(model), before)
    assert_array_equal(model.predict_proba(X), proba)
    # A first fit: refused, and the estimator stays unfitted.
    model = _no_weight_model(kind)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call(model, y, sw)
    assert vars(model).keys() == vars(_no_weight_model(kind)).keys()


def test_prepare_classification_refuses_class_weights_that_leave_no_weight():
    for y, sw, message in NO_WEIGHT_DATA.values():
        sw = np.ones(N) if sw is None else sw
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            prepare_classification(y, sw, classes=[0, 1, 2], class_weight=NO_WEIGHT)
    # Smoothing puts probability on every class: the rows keep weight.
    prepared = prepare_classification(
        Y3 % 2,
        np.ones(N),
        classes=[0, 1, 2],
        class_weight=NO_WEIGHT,
        label_smoothing=0.3,
    )
    assert_allclose(prepared.sample_weight, np.full(N, 0.1), rtol=1e-15)


@pytest.mark.parametrize("how", ["fit", "soft", "dask"])
def test_one_row_of_positive_weight_still_fits(how):
    # Just inside the boundary: one row of positive weight among rows that
    # class weights (or sample weights) zero. Without an intercept the
    # optimum is in closed form. The gradient of CE(e_2, softmax(W x)) +
    # alpha/2 |W|^2 is (q - e_2) x^T + alpha W, so W = u x^T with
    # u = (e_2 - q) / alpha; classes 0 and 1 are symmetric, u = (-a/2, -a/2,
    # a), and alpha a = 1 - q_2 with q_2 = 1 / (1 + 2 exp(-3 a r / 2)),
    # r = |x|^2.
    from scipy.optimize import brentq
    from sklearn.linear_model import LogisticRegression

    alpha, row = 0.1, 5
    assert Y3[row] == 2
    x = X[row]
    r = x @ x
    a = brentq(
        lambda a: alpha * a - 2 / (np.exp(1.5 * a * r) + 2),
        0,
        1 / alpha,
        xtol=1e-15,
        rtol=1e-15,
    )
    expected = np.outer([-a / 2, -a / 2, a], x)
    # Hard labels: class 2's other rows have sample weight 0, the row 2.5.
    sw = np.where(Y3 == 2, 0.0, 1.0)
    sw[row] = 2.5
    y = Y3
    if how == "soft":
        # Soft rows on classes 0 and 1, but the row's 0.3 on class 2.
        y, sw = NO_WEIGHT_DATA["soft"][0].copy(), None
        y[row] = [0.2, 0.5, 0.3]
    model = DivergenceClassifier(
        alpha=alpha,
        fit_intercept=False,
        class_weight=NO_WEIGHT,
        classes=[0, 1, 2],
        tol=1e-12,
    )
    if how == "dask":
        model.fit(_dask(X), _dask(y), sample_weight=_dask(sw))
    else:
        model.fit(X, y, sample_weight=sw)
    assert_allclose(model.coef_, expected, rtol=0, atol=1e-10)
    assert_array_equal(model.intercept_, np.zeros(3))
    assert_allclose(model.predict_proba(X), softmax(X @ expected.T, axis=1), rtol=1e-10)
    if how == "fit":
        # scikit-learn on the same rows and weights; its C is alpha times the
        # effective weight, 2.5 (the estimator's docstring).
        reference = LogisticRegression(
            C=1 / (alpha * 2.5),
            fit_intercept=False,
            class_weight=NO_WEIGHT,
            tol=1e-14,
            max_iter=10_000,
        ).fit(X, y, sample_weight=sw)
        assert_allclose(reference.coef_, expected, rtol=0, atol=1e-7)


# ------------------------------------------------- smoothing, encoding, start
def test_label_smoothing_formula():
    codes = np.array([0, 2, 1])
    expected = np.full((3, 3), 0.1 / 3)
    expected[np.arange(3), codes] += 0.9
    assert_allclose(smooth(codes, 0.1, 3), expected, rtol=1e-15)
    assert_allclose(smooth(SOFT, 0.3, 3), 0.7 * SOFT + 0.1, rtol=1e-15)


def test_objective_target():
    # Two classes: the second class's probability; one-hot rows: codes.
    assert_array_equal(objective_target(np.array([0, 1, 1]), 2), [0.0, 1.0, 1.0])
    assert_array_equal(objective_target(SOFT[:, :2], 2), SOFT[:, 1])
    onehot = np.eye(3)[[2, 0, 1]]
    assert_array_equal(objective_target(onehot, 3), [2, 0, 1])
    assert objective_target(SOFT, 3) is SOFT


@pytest.mark.parametrize("n_classes", [2, 3])
def test_intercept_only_start_gives_the_weighted_class_frequencies(n_classes):
    codes = RNG.integers(0, n_classes, size=N)
    counts = class_counts(codes, SW, n_classes)
    n_outputs = 1 if n_classes == 2 else n_classes
    intercept = intercept_only_start(counts, SW.sum(), n_outputs)
    frequencies = counts / SW.sum()
    if n_outputs == 1:
        assert_allclose(1 / (1 + np.exp(-intercept[0])), frequencies[1], rtol=1e-14)
    else:
        assert_allclose(softmax(intercept), frequencies, rtol=1e-14)
        assert abs(intercept.sum()) < 1e-14


def test_prepare_classification_composes_the_rules():
    classes = np.array(["c", "b", "a", "z"])  # column order, with an absent class
    prepared = prepare_classification(
        LABELS, SW, classes=classes, class_weight={"a": 2.0}, label_smoothing=0.2
    )
    assert_array_equal(prepared.classes, classes)
    assert prepared.n_outputs == 4
    codes = np.array([{"c": 0, "b": 1, "a": 2}[label] for label in LABELS])
    # Smoothing of the one-hot rows first, then each class's term weighted by
    # its class weight (PyTorch's rule): row weight sum_k c_k p'_ik, rows
    # c_k p'_ik renormalised.
    smoothed = np.full((N, 4), 0.05)
    smoothed[np.arange(N), codes] += 0.8
    c = np.array([1.0, 1.0, 2.0, 1.0])
    row_weight = smoothed @ c
    expected = smoothed * c / row_weight[:, None]
    assert_allclose(prepared.sample_weight, SW * row_weight, rtol=1e-15)
    assert_allclose(prepared.target, expected, rtol=1e-15)
    assert_allclose(
        prepared.counts, (SW * row_weight) @ expected, rtol=1e-14
    )


def test_prepare_classification_refuses_bad_targets():
    with pytest.raises(ValueError, match="classes must be unique"):
        prepare_classification(LABELS, SW, classes=["a", "a", "b"])
    with pytest.raises(ValueError, match=r"labels \['c'\] that are not in classes"):
        prepare_classification(LABELS, SW, classes=["a", "b"])
    with pytest.raises(ValueError, match="3 columns but classes names 2"):
        prepare_classification(SOFT, SW, classes=["a", "b"])


def test_soft_label_columns_match_the_classes_by_name():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(SOFT, columns=["a", "b", "c"])
    y, classes = soft_label_columns(frame, None)
    assert y is frame
    assert_array_equal(classes, ["a", "b", "c"])
    # The same names in another order: the columns follow the classes.
    y, classes = soft_label_columns(frame, ["c", "a", "b"])
    assert list(y.columns) == ["c", "a", "b"]
    assert_array_equal(y.to_numpy(), SOFT[:, [2, 0, 1]])
    assert classes == ["c", "a", "b"]
    # pandas' default names 0, ..., k-1 name nothing: taken by position.
    plain = pd.DataFrame(SOFT)
    assert soft_label_columns(plain, ["x", "y", "z"])[0] is plain
    assert_array_equal(soft_label_columns(plain, None)[1], [0, 1, 2])
    # Other names, or repeated ones: refused, naming both.
    message = (
        "The soft-label DataFrame's columns ['a', 'b', 'c'] are not the classes "
        "['a', 'b', 'z']: its columns name the classes they hold. Name them as "
        "classes (in any order), or pass y.to_numpy() to take the columns in "
        "classes' order by position."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        soft_label_columns(frame, ["a", "b", "z"])
    with pytest.raises(ValueError, match=r"columns \['a', 'a', 'b'\] are not"):
        soft_label_columns(pd.DataFrame(SOFT, columns=["a", "a", "b"]), ["a", "b", "c"])
    with pytest.raises(ValueError, match="classes must be unique"):
        soft_label_columns(frame, ["a", "b", "b"])
    # A column count other than the classes' is encode_classes' error; arrays
    # and single columns pass unchanged.
    assert soft_label_columns(frame, ["a", "b"])[0] is frame
    assert soft_label_columns(SOFT, ["c", "b", "a"])[0] is SOFT
    column = pd.DataFrame({"label": LABELS})
    assert soft_label_columns(column, ["c", "b", "a"])[0] is column


# ---------------------------------------------------------------- regression
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_target_scaling(fit_intercept):
    scaling = target_scaling(Y_REG, SW, fit_intercept=fit_intercept)
    offset = np.sum(SW * Y_REG) / np.sum(SW) if fit_intercept else 0.0
    scale = np.sqrt(np.sum(SW * (Y_REG - offset) ** 2) / np.sum(SW))
    assert_allclose([scaling.offset, scaling.scale], [offset, scale], rtol=1e-14)
    assert_allclose(scaling.standardise(Y_REG), (Y_REG - offset) / scale,
                    rtol=1e-14)
    # A constant target keeps its units.
    assert target_scaling(np.full(5, 3.0), np.ones(5), fit_intercept=True) == (
        TargetScaling(3.0, 1.0)
    )


def test_prepare_regression_standardises_y_std_too():
    y_std = RNG.uniform(0.5, 1.0, size=N)
    scaling = TargetScaling(2.0, 4.0)
    prepared = prepare_regression(Y_REG, y_std, scaling, min_std=1e-3)
    assert_allclose(prepared.target, np.column_stack([(Y_REG - 2) / 4, y_std / 4]))
    assert_allclose(prepared.objective.log_var_min, 2 * np.log(1e-3))
    plain = prepare_regression(Y_REG, None, scaling, min_std=1e-3)
    assert plain.target.ndim == 1 and type(plain.objective).__name__ == "GaussianNLL"


def test_constant_log_variance_floor():
    assert constant_log_variance(4.0, 1e-3) == np.log(4.0)
    assert constant_log_variance(0.0, 1e-3) == np.log(1e-6)


def _design(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.normal(size=d)
    if kind == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    return X, X @ rng.normal(size=d) + rng.normal(size=n), rng.uniform(0.5, 2, n)


@pytest.mark.parametrize("kind, n, d", [("dense", 80, 5), ("dense", 12, 8),
                                        ("sparse", 80, 5)],
                         ids=["tall", "wide", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_closed_form_start_matches_ridge(kind, n, d, fit_intercept):
    X, y, sw = _design(kind, n, d, seed=n + d)
    alpha = 0.05
    coef, intercept = penalised_least_squares(X, y, sw, alpha, fit_intercept)
    ridge = Ridge(alpha=alpha * sw.sum(), fit_intercept=fit_intercept, solver="svd"
                  if kind == "dense" else "auto", tol=1e-12)
    ridge.fit(X, y, sample_weight=sw)
    assert_allclose(coef, ridge.coef_, rtol=1e-7, atol=1e-10)
    assert_allclose(intercept, ridge.intercept_, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("collinear", [False, True])
def test_penalised_normal_equations_by_cholesky_match_the_augmented_lstsq(collinear):
    # alpha > 0 factors the penalised Gram matrix by Cholesky; the reference
    # is least squares on the weighted, centred system augmented with
    # sqrt(alpha S) I, solved by an SVD. Nearly collinear columns (a
    # condition number of the Gram matrix near 1e10) need the refinement.
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 6)) + 3.0
    if collinear:
        X[:, 5] = X[:, 4] + 1e-5 * rng.normal(size=300)
    y = X @ rng.normal(size=6) + rng.normal(size=300)
    sw = rng.uniform(0.5, 2.0, size=300)
    alpha = 1e-6
    x_mean = sw @ X / sw.sum()
    y_mean = sw @ y / sw.sum()
    coef = ridge_normal_equations(X, y - y_mean, sw, x_mean, alpha)
    root = np.sqrt(sw)[:, None]
    design = np.vstack([(X - x_mean) * root, np.sqrt(alpha * sw.sum()) * np.eye(6)])
    target = np.concatenate([(y - y_mean) * root[:, 0], np.zeros(6)])
    reference = np.linalg.lstsq(design, target, rcond=None)[0]
    assert_allclose(coef, reference, rtol=1e-9, atol=1e-12)


def test_cholesky_solver_hands_an_indefinite_matrix_back():
    assert _cholesky_solver(np.array([[1.0, 2.0], [2.0, 1.0]])) is None
    matrix = np.array([[4.0, 1.0], [1.0, 3.0]])
    rhs = np.array([1.0, 2.0])
    assert_allclose(_cholesky_solver(matrix)(rhs), np.linalg.solve(matrix, rhs),
                    rtol=1e-14)


@pytest.mark.parametrize("kind, n, d", [("dense", 80, 5), ("sparse", 80, 5)],
                         ids=["tall", "sparse"])
def test_closed_form_start_without_penalty_matches_linear_regression(kind, n, d):
    X, y, sw = _design(kind, n, d, seed=3)
    coef, intercept = penalised_least_squares(X, y, sw, 0.0, True)
    reference = LinearRegression().fit(X, y, sample_weight=sw)
    assert_allclose(coef, reference.coef_, rtol=1e-9)
    assert_allclose(intercept, reference.intercept_, rtol=1e-9)


@pytest.mark.parametrize("case", ["small-units", "collinear", "both"])
def test_unpenalised_normal_equations_decide_the_rank_whatever_the_units(case):
    # The rank of the Gram matrix is decided on its equilibrated form: a
    # feature 1e7 times smaller than the others (full rank) is kept, where
    # the cutoff on the Gram matrix itself dropped it; exactly collinear
    # features (a duplicate, a multiple) still give the minimum-norm
    # solution in the features' own units. The reference solves the four
    # independent columns by lstsq and splits each collinear group's
    # coefficient as the minimum norm does: w_0 = w_4 = c_0 / 2, and
    # (w_1, w_5) = (1, 3) c_1 / 10 for the column 3 x_1.
    rng = np.random.default_rng(12)
    X = rng.normal(size=(300, 4)) + [0.0, 2.0, -1.0, 0.5]
    y = X @ [1.0, -2.0, 0.5, 3.0] + 0.1 * rng.normal(size=300)
    if case in ("small-units", "both"):
        X[:, 3] *= 1e-7
    sw = rng.uniform(0.5, 2.0, size=300)
    x_mean = np.average(X, axis=0, weights=sw)
    root_w = np.sqrt(sw)[:, None]
    target = (y - np.average(y, weights=sw)) * root_w[:, 0]
    reference = scipy.linalg.lstsq((X - x_mean) * root_w, target)[0]
    if case in ("collinear", "both"):
        X = np.column_stack([X, X[:, 0], 3.0 * X[:, 1]])
        c = reference
        reference = np.array([c[0] / 2, c[1] / 10, c[2], c[3], c[0] / 2,
                              3 * c[1] / 10])
    coef, intercept = penalised_least_squares(X, y, sw, 0.0, True)
    # Compared in units where each feature's coefficient is of order 1.
    scale = np.abs(X - np.average(X, axis=0, weights=sw)).max(axis=0)
    assert_allclose(coef * scale, reference * scale, rtol=1e-9, atol=1e-9)
    assert_allclose(intercept, np.average(y - X @ reference, weights=sw),
                    rtol=1e-9, atol=1e-9)


def test_y_std_and_beta_checks():
    with pytest.raises(ValueError, match="least squares already"):
        check_beta("squared_error", 0.5)
    check_beta("gaussian_nll", 0.5)
    assert check_y_std(None, Y_REG, loss="gaussian_nll", beta=0.0) is None
    with pytest.raises(ValueError, match="only used with loss='kl_divergence'"):
        check_y_std(np.ones(N), Y_REG, loss="gaussian_nll", beta=0.0)
    with pytest.raises(ValueError, match="needs the standard deviation"):
        check_y_std(None, Y_REG, loss="kl_divergence", beta=0.0)
    with pytest.raises(ValueError, match="strictly positive"):
        check_y_std(np.zeros(N), Y_REG, loss="kl_divergence", beta=0.0)
    assert_array_equal(
        check_y_std([1, 2], [0.0, 1.0], loss="kl_divergence", beta=0.0), [1.0, 2.0]
    )
    # A scalar is the same standard deviation for every target.
    assert_array_equal(
        check_y_std(0.5, [0.0, 1.0, 2.0], loss="kl_divergence", beta=0.0),
        [0.5, 0.5, 0.5],
    )
    with pytest.raises(ValueError, match="strictly positive"):
        check_y_std(0.0, [0.0, 1.0], loss="kl_divergence", beta=0.0)
    with pytest.raises(ValueError, match="y_std must be a number or an array"):
        check_y_std("wide", [0.0, 1.0], loss="kl_divergence", beta=0.0)


def test_scalar_y_std_fits_as_the_same_value_for_every_target():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=200)
    scalar = GaussianRegressor(loss="kl_divergence").fit(X, y, y_std=0.5)
    array = GaussianRegressor(loss="kl_divergence").fit(X, y, y_std=np.full(200, 0.5))
    for name in ("coef_", "intercept_", "var_coef_", "var_intercept_"):
        assert_array_equal(getattr(scalar, name), getattr(array, name))


def _lstsq_reference(X, y, sw, alpha, fit_intercept):
    """Weighted ridge (minimum-norm least squares at alpha=0) by lstsq."""
    X = X.toarray() if sp.issparse(X) else X
    x_mean = np.average(X, axis=0, weights=sw) if fit_intercept else 0 * X[0]
    y_mean = np.average(y, weights=sw) if fit_intercept else 0.0
    root_w = np.sqrt(sw)[:, None]
    design, target = (X - x_mean) * root_w, (y - y_mean) * root_w[:, 0]
    if alpha > 0:
        design = np.vstack([design, np.sqrt(alpha * sw.sum()) * np.eye(X.shape[1])])
        target = np.concatenate([target, np.zeros(X.shape[1])])
    # Centring leaves a singular value at the rounding level (1e-14 here):
    # lstsq's default cutoff (relative eps) keeps it and adds a large
    # component along it; the minimum-norm solution needs a real cutoff.
    coef = scipy.linalg.lstsq(design, target, cond=1e-12)[0]
    return coef, y_mean - x_mean @ coef


@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_closed_form_start_on_wide_data_matches_lstsq(kind, alpha, fit_intercept):
    # 30 x 300: the n x n kernel form (no p x p matrix), against lstsq on
    # the augmented system; at alpha=0 both are the minimum-norm solution.
    X, y, sw = _design(kind, 30, 300, seed=5)
    coef, intercept = penalised_least_squares(X, y, sw, alpha, fit_intercept)
    ref_coef, ref_intercept = _lstsq_reference(X, y, sw, alpha, fit_intercept)
    scale = np.abs(ref_coef).max()
    assert_allclose(coef, ref_coef, rtol=1e-10, atol=1e-10 * scale)
    assert_allclose(intercept, ref_intercept, rtol=1e-10, atol=1e-10 * scale)


def test_regressor_on_very_wide_data_stays_within_memory():
    # 50 x 50,000 used to ask for a 50,000 x 50,000 identity (18.6 GiB).
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50, 50_000))
    y = X[:, 0] + rng.normal(size=50)
    tracemalloc.start()
    try:
        constant = GaussianRegressor(variance="constant", alpha=0.01).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * X.nbytes
    # Sparse, 200 x 50,000: the Gram matrix would be 18.6 GiB too.
    Xs = sp.random(200, 50_000, density=0.01, random_state=7, format="csr")
    ys = rng.normal(size=200)
    tracemalloc.start()
    try:
        coef, _ = penalised_least_squares(Xs, ys, np.ones(200), 0.01, True)
        peak_sparse = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak_sparse < 50 * 2**20
    sparse_ridge = Ridge(alpha=0.01 * 200, solver="sparse_cg", tol=1e-12)
    assert_allclose(coef, sparse_ridge.fit(Xs, ys).coef_, rtol=1e-6, atol=1e-9)
    ridge = Ridge(alpha=0.01 * 50, solver="cholesky").fit(X, y)
    assert_allclose(constant.coef_, ridge.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(constant.intercept_, ridge.intercept_, rtol=1e-9)


# ------------------------------------------------------------ label vectors
@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 2, 1, 2]),
        np.array([3, 3, 7], dtype=np.uint8),
        np.array([True, False, True]),
        np.array([0.0, 1.0, 1.0, -2.0]),
        np.array(["a", "b", "a"]),
        np.array([[0], [1], [1]]),
    ],
)
def test_label_vector_is_what_scikit_learn_checks_give(y):
    # The fast path for numeric vectors returns what scikit-learn's
    # column_or_1d + check_classification_targets return.
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    from skdiv._targets._classification import check_label_vector

    expected = column_or_1d(y)
    check_classification_targets(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the column vector's conversion warning
        got = check_label_vector(y)
    assert got.dtype == expected.dtype
    assert_array_equal(got, expected)


@pytest.mark.parametrize("y", [np.array([0.0, 0.5, 1.0]), np.array([2.5, 1.0])])
def test_label_vector_refuses_continuous_values_as_scikit_learn_does(y):
    from sklearn.utils.multiclass import check_classification_targets

    from skdiv._targets._classification import check_label_vector

    with pytest.raises(ValueError) as expected:
        check_classification_targets(y)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        check_label_vector(y)


@pytest.mark.parametrize(
    "classes, match",
    [
        ([[0, 1, 2]], r"classes must be a 1-D list of labels, got an array of "
                      r"shape \(1, 3\)"),
        ([0.0, 1.0, 2.0, np.nan], "classes must not hold a missing value"),
        ([0, 1, None], "classes must not hold a missing value"),
        ([np.float32(0), np.float32("nan")], "classes must not hold a missing value"),
        ([0, "a", 2], "classes mixes strings and numbers"),
        ([0, 1, 1], "classes must be unique"),
    ],
)
def test_bad_classes_are_refused_naming_the_parameter(classes, match):
    # The messages used to name y ("y should be a 1d array"), or to accept a
    # NaN class, or to turn the numbers into strings and then report labels
    # missing from classes.
    from skdiv import DivergenceClassifier

    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match=match):
        DivergenceClassifier(classes=classes).fit(X, np.arange(30) % 3)


def test_good_classes_pass_through_as_one_dimensional_arrays():
    from skdiv._targets import check_unique_classes

    for classes in ([2, 0, 1], ["b", "a"], np.array([1.5, 0.5]), (True, False)):
        checked = check_unique_classes(classes)
        assert checked.ndim == 1
        assert_array_equal(checked, np.asarray(classes))
