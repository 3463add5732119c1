"""The Dask linear model's Hessian summed whole over the blocks, and its passes.

:class:`skdiv._scale._dask_model.DaskLinearModel` sums the Hessian of the
loss over the row blocks in the gradient's pass when it is small
(``dense_hessian``), and otherwise computes each Hessian-vector product as a
pass of its own. Both are checked against the Hessian written out here in
NumPy and against the in-memory model's products; the fits on either path
against the in-memory fit, and the number of graphs each computes.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from scipy.special import expit, softmax  # noqa: E402

import skdiv._scale._dask_model as dask_model  # noqa: E402
from skdiv import DivergenceClassifier, GaussianRegressor  # noqa: E402
from skdiv._adapter import linear_risk  # noqa: E402
from skdiv._loss import get_objective  # noqa: E402
from skdiv._scale._dask_model import dask_linear_risk  # noqa: E402

N, CHUNK = 500, 120
rng = np.random.default_rng(3)


def _data(n_features):
    X = rng.normal(size=(N, n_features)) * np.linspace(0.5, 2.0, n_features) + 0.3
    return X


def _dask(values):
    return da.from_array(values, chunks=(CHUNK,) + np.shape(values)[1:])


class _GraphCount(dask.callbacks.Callback):
    """Counts the graphs computed (one ``_start`` per compute) on local schedulers."""

    def __init__(self):
        super().__init__()
        self.graphs = 0

    def _start(self, dsk):
        self.graphs += 1


def test_dense_hessian_is_the_written_out_sum():
    # The data Hessian in (W, b), unnormalised: sum_i s_i (diag(q_i) - q_i
    # q_i^T) kron x~_i x~_i^T for the softmax, s_i p_i (1 - p_i) x~_i x~_i^T
    # for the sigmoid, with x~_i = (x_i, 1).
    X = _data(4)
    X1 = np.hstack([X, np.ones((N, 1))])
    weight = rng.uniform(0.5, 2.0, size=N)
    objective = get_objective("cross_entropy")
    for k in (1, 3):
        y = rng.integers(0, max(k, 2), size=N)
        y_fit = y.astype(np.float64) if k == 1 else y
        risk = dask_linear_risk(
            objective, _dask(X), y_fit, n_outputs=k, sample_weight=weight, alpha=0.1
        )
        model = risk.model
        assert model.dense_hessian()
        coef, intercept = rng.normal(size=(k, 4)) * 0.5, rng.normal(size=k)
        loss, grad_coef, grad_intercept, hessian = model._data_terms_hessian(
            objective, risk.y, risk.sample_weight, coef, intercept
        )
        Z = X @ coef.T + intercept
        if k == 1:
            p = expit(Z[:, 0])
            expected = (X1 * (weight * p * (1 - p))[:, None]).T @ X1
            expected_grad = X1.T @ (weight * (p - y))
        else:
            Q = softmax(Z, axis=1)
            expected = np.zeros((k, 5, k, 5))
            for a in range(k):
                for c in range(k):
                    h = weight * Q[:, a] * ((a == c) - Q[:, c])
                    expected[a, :, c, :] = (X1 * h[:, None]).T @ X1
            expected = expected.reshape(5 * k, 5 * k)
            expected_grad = ((Q - np.eye(k)[y]) * weight[:, None]).T @ X1
        assert_allclose(hessian.matrix, expected, rtol=1e-12, atol=1e-10)
        got_grad = np.hstack([grad_coef, grad_intercept[:, None]])
        assert_allclose(got_grad, np.reshape(expected_grad, (k, 5)), rtol=1e-12)
        v_coef, v_intercept = rng.normal(size=(k, 4)), rng.normal(size=k)
        h_coef, h_intercept = hessian.matvec(v_coef, v_intercept)
        product = expected @ np.hstack([v_coef, v_intercept[:, None]]).ravel()
        assert_allclose(
            np.hstack([h_coef, h_intercept[:, None]]).ravel(), product, rtol=1e-11
        )


@pytest.mark.parametrize(
    "name, n_outputs, n_features, dense",
    [
        ("cross_entropy", 1, 5, True),
        ("cross_entropy", 4, 5, True),
        ("gaussian_nll", 2, 5, True),
        ("cross_entropy", 3, 40, False),
    ],
    ids=["binary", "multiclass", "gaussian", "wide-products"],
)
def test_risk_equals_in_memory(name, n_outputs, n_features, dense):
    # Value, gradient and Hessian products in the solver's coordinates (the
    # same change of variables), penalty included, against the in-memory risk.
    X = _data(n_features)
    weight = rng.uniform(0.5, 2.0, size=N)
    objective = get_objective(name)
    if name == "gaussian_nll":
        y = X @ rng.normal(size=n_features) + rng.normal(size=N)
    elif n_outputs == 1:
        y = rng.integers(0, 2, size=N).astype(np.float64)
    else:
        y = rng.integers(0, n_outputs, size=N)
    options = dict(n_outputs=n_outputs, sample_weight=weight, alpha=0.05)
    memory = linear_risk(objective, X, y, hessian_precision="double", **options)
    # The in-memory model of a small convex problem scales diagonally (its
    # steps are exact); the Dask one whitens: give it the same coordinates.
    risk = dask_linear_risk(objective, _dask(X), y,
                            precondition=memory.model.change_of_variables, **options)
    assert risk.model.dense_hessian() is dense
    params = rng.normal(size=risk.n_params) * 0.3
    value, grad, hessian = risk.loss_gradient_hessian(params)
    expected_value, expected_grad, expected_hessian = memory.loss_gradient_hessian(
        params
    )
    assert_allclose(value, expected_value, rtol=1e-12)
    assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    for _ in range(3):
        v = rng.normal(size=risk.n_params)
        assert_allclose(
            hessian.matvec(v), expected_hessian.matvec(v), rtol=1e-9, atol=1e-11
        )


@pytest.mark.parametrize("n_features", [4, 40], ids=["dense", "products"])
def test_fit_on_either_path_equals_in_memory(n_features):
    X = _data(n_features)
    labels = np.argmax(X @ rng.normal(size=(n_features, 3)) + rng.gumbel(size=(N, 3)),
                       axis=1)
    # The in-memory fit may take direct Newton steps where the Dask one takes
    # conjugate gradients: the same optimum, compared at a tight tol.
    memory_fit = DivergenceClassifier(alpha=1e-3, tol=1e-12).fit(X, labels)
    dask_fit = DivergenceClassifier(alpha=1e-3, tol=1e-12).fit(
        _dask(X), _dask(labels)
    )
    assert_allclose(dask_fit.coef_, memory_fit.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(dask_fit.intercept_, memory_fit.intercept_, rtol=1e-7, atol=1e-9)
    assert_allclose(dask_fit.objective_, memory_fit.objective_, rtol=1e-10)


@pytest.mark.parametrize(
    "make, y",
    [
        # Direct Newton steps on the summed Hessian, conjugate gradients on
        # products: the same optimum, compared at a tight tol.
        (lambda: DivergenceClassifier(tol=1e-12), "binary"),
        (lambda: DivergenceClassifier(tol=1e-12), "multiclass"),
        (lambda: GaussianRegressor(tol=1e-12), "regression"),
    ],
    ids=["binary", "multiclass", "regressor"],
)
def test_dense_path_same_fit_fewer_graphs(monkeypatch, make, y):
    # Forcing the products path (no Hessian is dense) gives the same fit with
    # one graph per Hessian product more; the dense path needs one graph per
    # evaluation of the Newton solver, whatever its conjugate gradients take.
    X = _data(4)
    targets = {
        "binary": (X[:, 0] + rng.logistic(size=N) > 0).astype(int),
        "multiclass": np.argmax(X @ rng.normal(size=(4, 3)) + rng.gumbel(size=(N, 3)),
                                axis=1),
        "regression": X @ [1.0, -1.0, 0.5, 0.0] + rng.normal(size=N),
    }
    Xd, yd = _dask(X), _dask(targets[y])
    fits, graphs = [], []
    for flops in (dask_model.DENSE_HESSIAN_FLOPS, 0):
        monkeypatch.setattr(dask_model, "DENSE_HESSIAN_FLOPS", flops)
        with _GraphCount() as count:
            fits.append(make().fit(Xd, yd))
        graphs.append(count.graphs)
    dense, products = fits
    assert_allclose(dense.coef_, products.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(dense.intercept_, products.intercept_, rtol=1e-7, atol=1e-9)
    assert_allclose(dense.objective_, products.objective_, rtol=1e-10)
    # At least one CG product per Newton iteration is saved.
    assert graphs[0] + np.max(dense.n_iter_) <= graphs[1]


def test_classifier_setup_is_one_graph(monkeypatch):
    # The input checks, the labels and their counts, and the preconditioner's
    # moments are one graph; then one per solver evaluation (the dense Newton
    # path: its Hessian products need none). The objective's value at the
    # solution is the last evaluation's.
    X = _data(4)
    y = (X[:, 0] + rng.logistic(size=N) > 0).astype(int)
    evaluations = []
    original = dask_model.DaskLinearModel._data_terms_hessian

    def counted(self, *args):
        evaluations.append(1)
        return original(self, *args)

    monkeypatch.setattr(dask_model.DaskLinearModel, "_data_terms_hessian", counted)
    with _GraphCount() as count:
        DivergenceClassifier().fit(_dask(X), _dask(y))
    assert len(evaluations) >= 2
    # One more for objective_ at the last, free, Newton step's point.
    assert count.graphs == 2 + len(evaluations)


@pytest.mark.parametrize(
    "target, params",
    [("hard", {}), ("soft", {}), ("hard", {"class_weight": "balanced"})],
    ids=["hard-checked-with-moments", "soft-checked-with-moments", "class-weights"],
)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_values_not_finite_are_refused(target, params, bad):
    # Counted with the preconditioner's moments (no class weights) or on
    # their own: the same error, and the estimator stays unfitted.
    X = _data(3)
    X[7, 1] = bad
    y = rng.integers(0, 3, size=N)
    if target == "soft":
        y = np.eye(3)[y] * 0.8 + 0.2 / 3
    fit = DivergenceClassifier(**params)
    with pytest.raises(ValueError, match=r"^Input X contains NaN or infinity\.$"):
        fit.fit(_dask(X), _dask(y))
    assert not hasattr(fit, "coef_")


@pytest.mark.parametrize(
    "loss, n_outputs, kwargs",
    [
        ("cross_entropy", 1, dict(precondition="diagonal")),
        ("cross_entropy", 3, dict(precondition="whiten")),
        ("cross_entropy", 3, dict(precondition="whiten", fit_intercept=False)),
        ("gaussian_nll", 2, dict(precondition="whiten")),
    ],
    ids=["binary-diagonal", "softmax-whiten", "softmax-no-intercept", "gaussian"],
)
def test_summed_hessian_in_solver_coordinates_equals_in_memory(loss, n_outputs,
                                                                kwargs):
    # The Dask model's Hessian, summed in (W, b) over the blocks and mapped to
    # the solver's coordinates (skdiv._model._dense.to_solver), is the matrix
    # the in-memory model forms from its own solver rows.
    X = _data(4)
    y = {1: (X[:, 0] > 0).astype(float), 3: np.argmax(X[:, :3], axis=1),
         2: X[:, 0] + rng.normal(size=N)}[n_outputs]
    weights = rng.uniform(0.5, 2.0, size=N)
    objective = get_objective(loss)
    memory = linear_risk(objective, X, y, n_outputs=n_outputs, sample_weight=weights,
                         alpha=0.01, **kwargs)
    on_dask = dask_linear_risk(objective, _dask(X), y, n_outputs=n_outputs,
                               sample_weight=weights, alpha=0.01, **kwargs)
    x = rng.normal(size=memory.n_params) * 0.3
    _, _, expected = memory.loss_gradient_hessian(x)
    _, _, summed = on_dask.loss_gradient_hessian(x)
    assert expected.has_dense and summed.has_dense
    assert_allclose(summed.dense(), expected.dense(), rtol=1e-9, atol=1e-12)


def test_summed_hessian_fit_ends_at_the_rounding_of_its_optimum():
    # The Hessian at the solution came with its gradient: the fit at the
    # default tol takes one last exact step and lands where tol=1e-12 does.
    X = _data(4)
    y = (X[:, 0] + rng.logistic(size=N) > 0).astype(int)
    default = DivergenceClassifier().fit(_dask(X), _dask(y))
    tight = DivergenceClassifier(tol=1e-13).fit(X, y)
    assert_allclose(default.coef_, tight.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(default.intercept_, tight.intercept_, rtol=1e-12, atol=1e-14)
