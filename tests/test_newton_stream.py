"""The streaming Newton's pieces: the formed Hessian, the Taylor summary, a stream."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv._adapter import linear_risk
from skdiv._loss import CrossEntropy, GaussianNLL, SquaredError
from skdiv._scale._newton_stream import (
    Summary,
    auto_batch_size,
    dense_hessian,
    taylor_summary,
)
from skdiv._scale._stream import _diagonal_coordinates

rng = np.random.default_rng(0)
N, D = 300, 4
X = rng.normal(size=(N, D)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 1.0, -2.0, 5.0]
WEIGHT = rng.uniform(0.2, 2.0, size=N)
CODES = rng.integers(0, 3, size=N)
Y_REG = X @ [1.0, -0.5, 2.0, 0.3] + rng.normal(size=N)

CASES = {
    # objective, targets, n_outputs
    "binary": (CrossEntropy(), (CODES == 1).astype(float), 1),
    "softmax": (CrossEntropy(), np.eye(3)[CODES], 3),
    "gaussian": (GaussianNLL(), Y_REG, 2),
    "squared": (SquaredError(), Y_REG, 1),
}


def _setup(case):
    objective, y, k = CASES[case]
    coordinates = _diagonal_coordinates(X, WEIGHT, True)
    risk = linear_risk(
        objective, X, y, n_outputs=k, sample_weight=WEIGHT, alpha=0.0,
        fit_intercept=True, precondition=coordinates, weight_sum=1.0,
        sum_zero=False, hessian_stride=1, hessian_precision="double",
    )
    params = 0.3 * np.random.default_rng(1).normal(size=risk.n_params)
    return objective, y, k, coordinates, risk, params


@pytest.mark.parametrize("case", CASES)
def test_dense_hessian_is_the_models_hessian(case):
    # Against the adapter's Hessian-vector products, an independent code path
    # (the model's pull-back of the objective's raw-space Hessian).
    objective, y, k, coordinates, risk, params = _setup(case)
    H = dense_hessian(objective, X, y, WEIGHT, params, n_outputs=k,
                      change_of_variables=coordinates, fit_intercept=True)
    operator = risk.loss_gradient_hessian(params)[2]
    columns = np.column_stack([operator.matvec(e) for e in np.eye(risk.n_params)])
    assert_allclose(H, columns, rtol=1e-10, atol=1e-10 * np.abs(columns).max())
    assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())


@pytest.mark.parametrize("case", CASES)
def test_taylor_summary_matches_value_gradient_and_curvature(case):
    objective, y, k, coordinates, risk, params = _setup(case)
    summary = taylor_summary(objective, X, y, WEIGHT, params, n_outputs=k,
                             change_of_variables=coordinates, fit_intercept=True)
    value, grad = risk.loss_gradient(params)
    q_value, q_grad = summary.value_grad(params)
    assert_allclose(q_value, value, rtol=1e-12)
    assert_allclose(q_grad, grad, rtol=1e-10, atol=1e-12 * np.abs(grad).max())
    assert summary.weight == pytest.approx(WEIGHT.sum())
    # Second order: along a direction the error is O(h^3).
    direction = np.random.default_rng(2).normal(size=params.size)
    errors = [
        abs(summary.value_grad(params + h * direction)[0]
            - risk.loss_gradient(params + h * direction)[0])
        for h in (1e-2, 5e-3)
    ]
    if case == "squared":
        assert max(errors) < 1e-9 * abs(value)  # a quadratic: exact
    else:
        assert 6 < errors[0] / errors[1] < 10  # halving h divides it by ~8


def test_summaries_add():
    a = Summary(np.eye(2), np.ones(2), 1.0, 3.0)
    b = Summary(2 * np.eye(2), np.zeros(2), 0.5, 1.0)
    total = a.plus(b)
    theta = np.array([0.5, -1.0])
    assert_allclose(total.value_grad(theta)[0],
                    a.value_grad(theta)[0] + b.value_grad(theta)[0])
    assert total.weight == 4.0
    assert a.A[0, 0] == 1.0  # not modified


def test_auto_batch_size():
    assert auto_batch_size(15) == 2000
    assert auto_batch_size(1000) == 3000


def test_squared_error_summary_is_exact_whatever_the_window():
    # The summary of the squared error is its Taylor expansion, exact: a
    # stream of windows of 50 rows, one pass, is the least-squares fit.
    from sklearn.linear_model import Ridge

    coordinates = _diagonal_coordinates(X, None, True)
    from skdiv._scale._newton_stream import NewtonStream

    stream = NewtonStream(np.zeros(D + 1), coordinates, D + 1)
    for start in range(0, N, 25):
        rows = slice(start, start + 25)
        stream.run(SquaredError(), X[rows], Y_REG[rows], np.ones(25), n_outputs=1,
                   alpha=0.0, fit_intercept=True, batch_size=50, tol=1e-12)
    probe = linear_risk(SquaredError(), X[:1], Y_REG[:1], n_outputs=1,
                        precondition=coordinates, sum_zero=False)
    coef, intercept = probe.unpack(stream.params)
    ridge = Ridge(alpha=0.0).fit(X, Y_REG)
    assert_allclose(coef[0], ridge.coef_, rtol=1e-9)
    assert_allclose(intercept[0], ridge.intercept_, rtol=1e-9)


def test_a_stream_seen_once_is_close_to_fit():
    # One pass, calls of 100 rows, windows of 200: the rows are seen once.
    y = np.array(["a", "b", "c"])[CODES]
    clf = DivergenceClassifier(batch_size=200)
    for start in range(0, N, 100):
        clf.partial_fit(X[start : start + 100], y[start : start + 100],
                        classes=["a", "b", "c"])
    reference = DivergenceClassifier().fit(X, y)
    proba = clf.predict_proba(X)
    batch_proba = reference.predict_proba(X)
    streamed = -np.mean(np.log(proba[np.arange(N), CODES])) + 0.5 * 1e-4 * np.sum(
        clf.coef_**2)
    assert (streamed - reference.objective_) / reference.objective_ < 1e-3
    assert np.abs(proba - batch_proba).max() < 0.05


def test_large_models_stream_by_adam():
    from skdiv._scale._newton_stream import (
        MAX_SUMMARY_PARAMS,
        NewtonStream,
        TwoStageStream,
    )

    wide = np.random.default_rng(3).normal(size=(50, MAX_SUMMARY_PARAMS))
    clf = DivergenceClassifier().partial_fit(wide, np.arange(50) % 2, classes=[0, 1])
    assert not isinstance(clf._stream, NewtonStream)
    narrow = DivergenceClassifier().partial_fit(X, CODES, classes=[0, 1, 2])
    assert isinstance(narrow._stream, NewtonStream)
    reg = GaussianRegressor(variance="constant").partial_fit(X, Y_REG)
    assert isinstance(reg._stream, TwoStageStream)
    assert reg._stream.variance is None  # the constant variance: closed form
    beta = GaussianRegressor(beta=0.5).partial_fit(X, Y_REG)
    assert not isinstance(beta._stream, (NewtonStream, TwoStageStream))  # Adam


@pytest.mark.parametrize("params", [dict(), dict(loss="squared_error")],
                         ids=["joint", "two-stage"])
def test_a_call_never_modifies_the_stream_it_continues(params):
    # partial_fit runs on a copy and keeps it only when the call succeeds:
    # the stream the estimator held is left as it was, stage by stage.
    reg = GaussianRegressor(batch_size=150, **params).partial_fit(X[:100], Y_REG[:100])
    stream = reg._stream
    stages = [stream] + [getattr(stream, name) for name in ("mean", "variance")
                         if getattr(stream, name, None) is not None]
    before = [dict(vars(stage)) for stage in stages]
    reg.partial_fit(X[100:200], Y_REG[100:200])  # folds a window
    assert reg._stream is not stream
    for stage, state in zip(stages, before, strict=True):
        assert vars(stage).keys() == state.keys()
        assert all(vars(stage)[name] is value for name, value in state.items())


def test_sparse_and_float32_streams_are_the_dense_stream():
    import scipy.sparse as sp

    sparse_X = np.where(np.abs(X) > 1.0, X, 0.0)
    models = []
    for rows_of in (lambda r: sparse_X[r], lambda r: sp.csr_matrix(sparse_X[r]),
                    lambda r: sparse_X[r].astype(np.float32)):
        clf = DivergenceClassifier(batch_size=150)
        for _ in range(2):
            for start in range(0, N, 100):
                rows = slice(start, start + 100)
                clf.partial_fit(rows_of(rows), CODES[rows], classes=[0, 1, 2])
        models.append(clf)
    dense, sparse, single = models
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-8, atol=1e-10)
    # float32 rows: the same model to float32's precision of the rows.
    assert_allclose(single.coef_, dense.coef_, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("estimator", [DivergenceClassifier, GaussianRegressor])
@pytest.mark.parametrize("batch_size", [0, -5, 2.5, "big"])
def test_bad_batch_size_is_refused(estimator, batch_size):
    y = CODES if estimator is DivergenceClassifier else Y_REG
    kwargs = {"classes": [0, 1, 2]} if estimator is DivergenceClassifier else {}
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        estimator(batch_size=batch_size).partial_fit(X, y, **kwargs)
