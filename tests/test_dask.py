"""Fits on Dask arrays equal the in-memory fits; the Dask model-search recipe.

The cluster tests start a LocalCluster of two single-threaded worker
processes on the loopback interface, once for the module, and use it only
inside ``client.as_current()``: the other tests run on Dask's default
(threaded) scheduler.
"""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skdiv import DivergenceClassifier, GaussianRegressor  # noqa: E402
from skdiv.metrics import (  # noqa: E402
    neg_cross_entropy_scorer,
    neg_kl_divergence_scorer,
)

N, D, CHUNK = 600, 3, 150

rng = np.random.default_rng(0)
X = rng.normal(size=(N, D)) * [1.0, 3.0, 0.3] + [1.0, -2.0, 0.0]
X[:, 1] += 0.5 * X[:, 0]
LABELS = np.array(["a", "b", "c"])[
    np.argmax(X @ rng.normal(size=(D, 3)) + rng.gumbel(size=(N, 3)), axis=1)
]
SOFT = 0.5 * rng.dirichlet(np.ones(3), size=N) + 0.5 * (
    LABELS[:, None] == np.array(["a", "b", "c"])
)
WEIGHT = rng.uniform(0.2, 2.0, size=N)
Y_REG = X @ [1.0, -0.5, 2.0] + rng.normal(size=N) * np.exp(0.3 * X[:, 0]) + 3.0
Y_STD = rng.uniform(0.1, 1.0, size=N)

CLASSIFIER_CASES = {
    "hard-multiclass": (dict(), LABELS, None),
    "binary-weighted": (dict(alpha=1e-2), LABELS == "a", WEIGHT),
    "soft-kl-weighted": (dict(loss="kl_divergence"), SOFT, WEIGHT),
    "balanced-smoothed": (
        dict(class_weight="balanced", label_smoothing=0.1), LABELS, WEIGHT
    ),
}
REGRESSOR_CASES = {
    "heteroscedastic": (dict(), None, WEIGHT),
    "constant": (dict(variance="constant"), None, WEIGHT),
    "kl": (dict(loss="kl_divergence"), Y_STD, None),
    "squared-error-no-intercept": (
        dict(loss="squared_error", fit_intercept=False), None, None
    ),
    "beta": (dict(beta=0.5), None, None),
    "beta-one-weighted": (dict(beta=1.0, alpha=0.1), None, WEIGHT),
}
CLIENT_CLASSIFIER_CASES = ["hard-multiclass", "soft-kl-weighted"]
CLIENT_REGRESSOR_CASES = ["heteroscedastic", "kl"]


def _dask(values):
    return da.from_array(values, chunks=(CHUNK,) + np.shape(values)[1:])


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True,
        dashboard_address=None, host="127.0.0.1",
    )
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def _assert_same_classifier(dask_fit, memory_fit):
    assert_array_equal(dask_fit.classes_, memory_fit.classes_)
    assert_allclose(dask_fit.coef_, memory_fit.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(dask_fit.intercept_, memory_fit.intercept_, rtol=1e-7, atol=1e-9)
    assert_allclose(dask_fit.objective_, memory_fit.objective_, rtol=1e-10)
    assert dask_fit.n_features_in_ == D


def _assert_same_regressor(dask_fit, memory_fit):
    for name in ["coef_", "intercept_", "var_coef_", "var_intercept_",
                 "std_floor_", "objective_"]:
        assert_allclose(
            getattr(dask_fit, name), getattr(memory_fit, name),
            rtol=1e-6, atol=1e-8, err_msg=name,
        )
    assert_allclose(dask_fit.predict(X[:5]), memory_fit.predict(X[:5]), rtol=1e-6)


# --------------------------------------------------------------- no client
@pytest.mark.parametrize("case", CLASSIFIER_CASES)
def test_classifier_dask_equals_in_memory(case):
    params, y, weight = CLASSIFIER_CASES[case]
    memory_fit = DivergenceClassifier(**params).fit(X, y, sample_weight=weight)
    dask_fit = DivergenceClassifier(**params).fit(
        _dask(X), _dask(y), sample_weight=None if weight is None else _dask(weight)
    )
    _assert_same_classifier(dask_fit, memory_fit)


@pytest.mark.parametrize("case", REGRESSOR_CASES)
def test_regressor_dask_equals_in_memory(case):
    params, y_std, weight = REGRESSOR_CASES[case]
    memory_fit = GaussianRegressor(**params).fit(
        X, Y_REG, sample_weight=weight, y_std=y_std
    )
    dask_fit = GaussianRegressor(**params).fit(
        _dask(X), _dask(Y_REG),
        sample_weight=None if weight is None else _dask(weight),
        y_std=None if y_std is None else _dask(y_std),
    )
    _assert_same_regressor(dask_fit, memory_fit)


def test_numpy_targets_and_other_chunks_are_aligned():
    # y and sample_weight in memory, X chunked along both axes.
    Xd = da.from_array(X, chunks=(100, 2))
    # The same optimum, at a tol where the Dask fit's last free Newton step
    # (skdiv._solvers._newton) does not tell the two apart.
    memory_fit = DivergenceClassifier(tol=1e-12).fit(X, LABELS, sample_weight=WEIGHT)
    dask_fit = DivergenceClassifier(tol=1e-12).fit(Xd, LABELS, sample_weight=WEIGHT)
    _assert_same_classifier(dask_fit, memory_fit)


class _LargestBlock(dask.callbacks.Callback):
    """Records the largest number of rows of any task result."""

    def __init__(self):
        super().__init__()
        self.rows = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        if isinstance(result, np.ndarray) and result.ndim:
            self.rows = max(self.rows, result.shape[0])


@pytest.mark.parametrize(
    "fit",
    [
        lambda Xd: DivergenceClassifier(class_weight="balanced").fit(
            Xd, _dask(LABELS), sample_weight=_dask(WEIGHT)
        ),
        lambda Xd: GaussianRegressor(beta=0.5).fit(Xd, _dask(Y_REG)),
    ],
    ids=["classifier", "regressor"],
)
def test_no_task_gathers_the_rows(fit):
    # Every result computed during the fit has at most one block of rows:
    # X (or any per-sample array) is never concatenated in one place.
    with _LargestBlock() as largest:
        fit(_dask(X))
    assert 0 < largest.rows <= CHUNK


# ---------------------------------------------------------- LocalCluster
@pytest.mark.parametrize("case", CLIENT_CLASSIFIER_CASES)
def test_classifier_on_local_cluster(client, case):
    distributed = pytest.importorskip("distributed")
    params, y, weight = CLASSIFIER_CASES[case]
    memory_fit = DivergenceClassifier(**params).fit(X, y, sample_weight=weight)
    with client.as_current(), distributed.get_task_stream(client) as tasks:
        Xd = client.persist(_dask(X))
        dask_fit = DivergenceClassifier(**params).fit(
            Xd, _dask(y), sample_weight=None if weight is None else _dask(weight)
        )
    _assert_same_classifier(dask_fit, memory_fit)
    # The data terms were computed by both workers, block by block.
    block_tasks = [t for t in tasks.data if "block_terms" in str(t["key"])]
    assert {t["worker"] for t in block_tasks} == set(client.scheduler_info()["workers"])


@pytest.mark.parametrize("case", CLIENT_REGRESSOR_CASES)
def test_regressor_on_local_cluster(client, case):
    params, y_std, weight = REGRESSOR_CASES[case]
    memory_fit = GaussianRegressor(**params).fit(
        X, Y_REG, sample_weight=weight, y_std=y_std
    )
    with client.as_current():
        dask_fit = GaussianRegressor(**params).fit(
            client.persist(_dask(X)), _dask(Y_REG),
            sample_weight=None if weight is None else _dask(weight),
            y_std=None if y_std is None else _dask(y_std),
        )
    _assert_same_regressor(dask_fit, memory_fit)


def test_grid_search_on_dask_joblib_backend(client):
    # The documented recipe: scikit-learn's search, skdiv's scorers, joblib's
    # Dask backend; the candidates are fitted on the workers, in memory.
    joblib = pytest.importorskip("joblib")

    def search(n_jobs):
        return GridSearchCV(
            DivergenceClassifier(), {"alpha": [1e-3, 1e-1, 1.0]}, cv=3,
            scoring={"kl": neg_kl_divergence_scorer, "ce": neg_cross_entropy_scorer},
            refit="kl", n_jobs=n_jobs, error_score="raise",
        )

    local = search(None).fit(X, SOFT)
    with client.as_current(), joblib.parallel_backend("dask"):
        distributed_search = search(-1).fit(X, SOFT)
    for key in ["mean_test_kl", "std_test_kl", "mean_test_ce", "rank_test_kl"]:
        assert_allclose(distributed_search.cv_results_[key], local.cv_results_[key],
                        rtol=1e-12, err_msg=key)
    assert distributed_search.best_params_ == local.best_params_


# ------------------------------------------------------------------ errors
def _unknown_chunks(values):
    """``values`` as a Dask array whose row blocks have unknown sizes."""
    import dask.array as da

    array = da.from_array(values, chunks=(200,) + np.shape(values)[1:])
    keep = da.from_array(np.ones(len(values), dtype=bool), chunks=200)
    return array[keep]


def test_missing_extra_names_it(monkeypatch):
    Xd = _dask(X)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r'pip install "skdiv\[dask\]"'):
        DivergenceClassifier().fit(Xd, LABELS)
    with pytest.raises(ImportError, match=r"skdiv\[dask\]"):
        GaussianRegressor().fit(Xd, Y_REG)


@pytest.mark.parametrize(
    "fit, match",
    [
        (lambda: DivergenceClassifier().fit(_dask(np.where(X > 2, np.nan, X)), LABELS),
         "X contains NaN"),
        (lambda: DivergenceClassifier().fit(_dask(X), LABELS, sample_weight=-WEIGHT),
         "sample_weight must be non-negative"),
        (lambda: DivergenceClassifier().fit(_dask(X), np.zeros(N)),
         "only one class"),
        (lambda: DivergenceClassifier(classes=["a", "b"]).fit(_dask(X), LABELS),
         r"labels \['c'\] that are not in classes"),
        (lambda: DivergenceClassifier().fit(_dask(X), SOFT * 0.9),
         "must sum to one"),
        (lambda: DivergenceClassifier().fit(_dask(X), LABELS[:-1]),
         "has 599 rows but X has 600"),
        (lambda: GaussianRegressor(loss="kl_divergence").fit(_dask(X), Y_REG),
         "needs the standard deviation"),
        (lambda: GaussianRegressor(loss="kl_divergence").fit(
            _dask(X), Y_REG, y_std=-Y_STD), "y_std must be strictly positive"),
        # Boolean indexing leaves Dask's block sizes unknown: named as for X,
        # not reported as a length mismatch or as NaN weights.
        (lambda: GaussianRegressor().fit(_dask(X), _unknown_chunks(Y_REG)),
         r"y has unknown chunk sizes; call y\.compute_chunk_sizes\(\)"),
        (lambda: DivergenceClassifier().fit(_dask(X), _unknown_chunks(LABELS)),
         r"y has unknown chunk sizes"),
        (lambda: GaussianRegressor().fit(
            _dask(X), Y_REG, sample_weight=_unknown_chunks(WEIGHT)),
         r"sample_weight has unknown chunk sizes; call "
         r"sample_weight\.compute_chunk_sizes\(\)"),
        (lambda: GaussianRegressor().fit(_unknown_chunks(X), Y_REG),
         r"X has unknown chunk sizes"),
    ],
    ids=["nan", "negative-weight", "one-class", "unknown-label", "soft-sum",
         "length", "missing-y_std", "negative-y_std", "unknown-chunks-y",
         "unknown-chunks-labels", "unknown-chunks-weight", "unknown-chunks-X"],
)
def test_bad_dask_input(fit, match):
    with pytest.raises(ValueError, match=match):
        fit()


def test_dask_dataframe_is_refused():
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        # Not only when absent: Dask 2024.8's dataframe refuses pandas < 2
        # (the oldest environment of .ci/run), and then no Dask DataFrame
        # can reach skdiv.
        pytest.skip(f"dask.dataframe: {str(exc).splitlines()[0]}")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(X, columns=list("abc")), npartitions=2)
    with pytest.raises(TypeError, match="to_dask_array"):
        DivergenceClassifier().fit(frame, LABELS)


def test_regressor_targets_near_the_float64_limit():
    # Issue 17 defect 5: NaN coefficients on Dask too; the standardisation's
    # reductions no longer overflow.
    memory = GaussianRegressor(tol=1e-10).fit(X, Y_REG)
    scaled = GaussianRegressor(tol=1e-10).fit(_dask(X), _dask(Y_REG * 1e155))
    assert_allclose(scaled.coef_, memory.coef_ * 1e155, rtol=1e-9)
    assert_allclose(scaled.var_coef_, memory.var_coef_, rtol=1e-9)


def test_regressor_warm_start_on_dask_continues_from_the_previous_fit():
    memory = GaussianRegressor(tol=1e-10).fit(X, Y_REG)
    warm = GaussianRegressor(tol=1e-10, warm_start=True).fit(X[:200], Y_REG[:200])
    warm.fit(_dask(X), _dask(Y_REG))
    _assert_same_regressor(warm, memory)
    assert warm.n_iter_ < memory.n_iter_


@pytest.mark.parametrize("estimator", [GaussianRegressor(), DivergenceClassifier()],
                         ids=["regressor", "classifier"])
def test_features_whose_products_overflow_are_refused(estimator):
    # The in-memory fits' check, on a lazy reduction: not a LinAlgError.
    y = Y_REG if isinstance(estimator, GaussianRegressor) else LABELS
    with pytest.raises(ValueError, match=r"X has entries above .* in absolute value:"
                       r" sums of products of features overflow float64"):
        clone(estimator).fit(_dask(X * 1e155), _dask(y))


def test_unsorted_classes_are_sorted_as_in_memory():
    # classes_ is sorted, as scikit-learn's (its tools read predict_proba's
    # columns in that order); positional soft columns with unsorted classes
    # are ambiguous and refused, on Dask arrays as in memory.
    lazy = DivergenceClassifier(classes=["c", "a", "b"]).fit(_dask(X), _dask(LABELS))
    memory = DivergenceClassifier().fit(X, LABELS)
    assert_array_equal(lazy.classes_, ["a", "b", "c"])
    assert_allclose(lazy.predict_proba(X), memory.predict_proba(X),
                    rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match=r"classes=\['c', 'a', 'b'\] is not sorted"):
        DivergenceClassifier(classes=["c", "a", "b"]).fit(_dask(X), _dask(SOFT))


def test_soft_rows_summing_to_one_within_the_tolerance_fit_as_their_normalised_rows():
    # The in-memory fit divides the accepted rows by their sums; so does this one
    # (rows off by 5e-7 left a gradient the solver could not remove).
    rows = rng.dirichlet(np.ones(3), N)
    rows[:, 1] += 5e-7
    normalised = rows / rows.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        lazy = DivergenceClassifier().fit(_dask(X), _dask(rows))
    memory = DivergenceClassifier().fit(X, normalised)
    assert_allclose(lazy.coef_, memory.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(lazy.intercept_, memory.intercept_, rtol=1e-8, atol=1e-10)


def test_regressor_with_large_sample_weights_and_penalty_equals_in_memory():
    # The reductions' closed form added alpha * sum(sample_weight) to the Gram
    # matrix: inf for weights of 1e300 and alpha=1e7 (NaN coefficients).
    weights = np.full(N, 1e300)
    params = dict(variance="constant", alpha=1e7)
    lazy = GaussianRegressor(**params).fit(_dask(X), _dask(Y_REG), _dask(weights))
    memory = GaussianRegressor(**params).fit(X, Y_REG)
    assert_allclose(lazy.coef_, memory.coef_, rtol=1e-8)
    assert_allclose(lazy.intercept_, memory.intercept_, rtol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_regressor_on_features_with_a_large_mean_equals_in_memory(fit_intercept):
    # The reductions were the uncentred X^T W X, centred by - S mean mean^T:
    # at X + 1e8 that cancelled every digit (coefficients off by about 1).
    shifted = X + 1e8
    params = dict(variance="constant", alpha=0, fit_intercept=fit_intercept)
    lazy = GaussianRegressor(**params).fit(_dask(shifted), _dask(Y_REG), _dask(WEIGHT))
    memory = GaussianRegressor(**params).fit(shifted, Y_REG, sample_weight=WEIGHT)
    assert_allclose(lazy.coef_, memory.coef_, rtol=0, atol=10 * np.spacing(1e8))
    # Predictions at X + 1e8 hold that rounding times 1e8 (a few ulps of the
    # features' times the coefficients).
    assert_allclose(lazy.predict(shifted), memory.predict(shifted), rtol=0, atol=1e-6)


def test_unpenalised_regressor_without_intercept_beside_a_large_feature():
    # Without an intercept a feature of mean 1e8 dominates the moments; the
    # reductions' solve ranked them with scipy's lstsq on the matrix itself,
    # which dropped the other features (coefficients 0). It now shares the
    # in-memory closed forms' rule (the rank decided on the equilibrated
    # matrix), and equals least squares on the rows.
    rng = np.random.default_rng(16)
    X_big = rng.normal(size=(600, 4))
    y_big = X_big @ [1.0, -1.0, 2.0, 0.5] + 0.3 * rng.normal(size=600) + 3.0
    X_big[:, 0] += 1e8
    X_big[rng.uniform(size=600) < 0.7, 1:] = 0.0
    lazy = GaussianRegressor(variance="constant", alpha=0, fit_intercept=False).fit(
        da.from_array(X_big, chunks=(150, 4)), da.from_array(y_big, chunks=150)
    )
    reference = np.linalg.lstsq(X_big, y_big, rcond=None)[0]
    assert_allclose(lazy.coef_, reference, rtol=1e-10, atol=1e-12)
