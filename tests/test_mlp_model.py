"""The network model through the adapter: forward, back-propagation, Gauss-Newton."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier

from skdiv._adapter import EmpiricalRisk
from skdiv._loss import (
    CrossEntropy,
    GaussianKL,
    GaussianNLL,
    KLDivergence,
    SquaredError,
)
from skdiv._model import MLPModel, glorot_uniform

ACTIVATIONS = ["relu", "tanh", "logistic"]
HIDDEN = {"one-hidden": (4,), "two-hidden": (4, 3)}


def reference_forward(X, coefs, intercepts, activation):
    """The network written out with numpy only: the test's own forward pass."""
    a = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    f = {
        "relu": lambda z: np.maximum(z, 0.0),
        "tanh": np.tanh,
        "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    }[activation]
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        z = a @ W + b
        a = f(z) if layer < len(coefs) - 1 else z
    return z


def _problem(name, rng, n):
    """Objective, target and number of outputs of each objective."""
    if name == "softmax-hard":
        return CrossEntropy(), rng.integers(0, 3, size=n), 3
    if name == "softmax-soft-ce":
        return CrossEntropy(), rng.dirichlet(np.ones(3), size=n), 3
    if name == "softmax-soft-kl":
        return KLDivergence(), rng.dirichlet(np.ones(3), size=n), 3
    if name == "sigmoid-kl":
        return KLDivergence(), rng.uniform(size=n), 1
    if name == "gaussian-nll":
        return GaussianNLL(), rng.normal(size=n), 2
    if name == "gaussian-kl":
        target = np.column_stack([rng.normal(size=n), rng.uniform(0.2, 1.0, size=n)])
        return GaussianKL(), target, 2
    if name == "squared":
        return SquaredError(), rng.normal(size=n), 1
    raise AssertionError(name)


PROBLEMS = [
    "softmax-hard", "softmax-soft-ce", "softmax-soft-kl", "sigmoid-kl",
    "gaussian-nll", "gaussian-kl", "squared",
]


def _setup(problem, activation, hidden, weighted, seed=0, n=30, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    objective, y, n_outputs = _problem(problem, rng, n)
    sw = rng.uniform(0.1, 3.0, size=n) if weighted else None
    model = MLPModel(X, hidden, n_outputs, activation=activation)
    coefs, intercepts = glorot_uniform(model.layer_units, activation, seed)
    params = model.pack(coefs, intercepts)
    # Away from zero so that every unit is in play (relu units alive).
    params += 0.3 * rng.normal(size=params.shape)
    risk = EmpiricalRisk(objective, model, y, sample_weight=sw, alpha=0.05)
    return risk, params, X, y, sw


def _reference_value(risk, params, X, y, sw, activation):
    model = risk.model
    coefs, intercepts = model.unpack(params)
    raw = reference_forward(X, coefs, intercepts, activation)
    raw = raw[:, 0] if raw.shape[1] == 1 else raw
    loss = risk.objective.loss(y, raw)
    sw = np.ones(X.shape[0]) if sw is None else sw
    penalty = 0.5 * sum(np.sum(W**2) for W in coefs)
    return np.sum(sw * loss) / sw.sum() + risk.alpha * penalty


def _central_differences(fun, x, eps=1e-6):
    grad = np.empty_like(x)
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = eps
        grad[j] = (fun(x + step) - fun(x - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_value_and_gradient(problem, activation, hidden, weighted):
    risk, params, X, y, sw = _setup(problem, activation, hidden, weighted)
    value, grad = risk.loss_gradient(params)
    reference = _reference_value(risk, params, X, y, sw, activation)
    np.testing.assert_allclose(value, reference, rtol=1e-12)
    numeric = _central_differences(
        lambda p: _reference_value(risk, p, X, y, sw, activation), params
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def _fd_jacobian(model, params, eps=1e-6):
    """Jacobian of the flattened raw predictions, by central differences."""
    columns = []
    for j in range(params.size):
        step = np.zeros_like(params)
        step[j] = eps
        diff = model.forward(params + step) - model.forward(params - step)
        columns.append(np.ravel(diff) / (2 * eps))
    return np.column_stack(columns)


def _raw_hessian_blocks(objective, y, raw, sw):
    """Each sample's raw Hessian block, from the operator on unit directions."""
    n_out = 1 if raw.ndim == 1 else raw.shape[1]
    hessian = objective.loss_gradient_hessian(y, raw, sw)[2]
    blocks = np.zeros((raw.shape[0], n_out, n_out))
    for k in range(n_out):
        e = np.zeros((raw.shape[0], n_out))
        e[:, k] = 1.0
        column = hessian.matvec(e[:, 0] if raw.ndim == 1 else e)
        blocks[:, :, k] = column.reshape(raw.shape[0], n_out)
    return blocks


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_gauss_newton_product(problem, activation, hidden, weighted):
    """The operator equals J^T H J / sum(s) + alpha P'' with J by differences."""
    risk, params, X, y, sw = _setup(problem, activation, hidden, weighted, seed=1)
    model = risk.model
    value, grad, operator = risk.loss_gradient_hessian(params)
    np.testing.assert_allclose(value, risk.loss_gradient(params)[0], rtol=1e-14)
    raw = model.forward(params)
    # The objective the adapter evaluates (CE for KL: same Hessian).
    blocks = _raw_hessian_blocks(risk.objective, y, raw, sw)
    n, n_out = raw.shape[0], blocks.shape[1]
    J = _fd_jacobian(model, params).reshape(n, n_out, -1)
    gauss_newton = np.einsum("nkp,nkl,nlq->pq", J, blocks, J)
    weight_sum = n if sw is None else sw.sum()
    expected = gauss_newton / weight_sum + risk.alpha * np.diag(
        model.penalty_diagonal()
    )
    rng = np.random.default_rng(2)
    for _ in range(3):
        v = rng.normal(size=params.size)
        np.testing.assert_allclose(
            operator.matvec(v), expected @ v, rtol=1e-6, atol=1e-8
        )


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(), (6,), (5, 4)], ids=["linear", "one", "two"])
def test_forward_matches_reference_dense_sparse_float32(hidden, activation):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 7))
    X[rng.uniform(size=X.shape) < 0.6] = 0.0
    model = MLPModel(X, hidden, 3, activation=activation)
    params = model.pack(*glorot_uniform(model.layer_units, activation, 0))
    reference = reference_forward(X, *model.unpack(params), activation)
    np.testing.assert_allclose(model.forward(params), reference, rtol=1e-13, atol=1e-14)
    csr = sp.csr_matrix(X)
    sparse_model = MLPModel(csr, hidden, 3, activation=activation)
    np.testing.assert_allclose(
        sparse_model.forward(params), reference, rtol=1e-13, atol=1e-14
    )
    # float32 rows: the products stay float32 (float32 accuracy), the raw
    # predictions come back float64.
    model32 = MLPModel(X.astype(np.float32), hidden, 3, activation=activation)
    weights = model32._weights(params)
    activations, z = model32._forward(weights, model32.X)
    assert z.dtype == np.float32 and all(a.dtype == np.float32 for a in activations)
    raw32 = model32.forward(params)
    assert raw32.dtype == np.float64
    np.testing.assert_allclose(raw32, reference, rtol=1e-4, atol=1e-5)
    # Sparse float32: a sparse first layer in float32 too.
    sparse32 = MLPModel(csr.astype(np.float32), hidden, 3, activation=activation)
    np.testing.assert_allclose(sparse32.forward(params), raw32, rtol=1e-5, atol=1e-6)


def test_sparse_gradient_equals_dense_and_x_stays_sparse():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 30))
    X[rng.uniform(size=X.shape) < 0.8] = 0.0
    csr = sp.csr_matrix(X)
    y = rng.integers(0, 3, size=40)
    dense = EmpiricalRisk(CrossEntropy(), MLPModel(X, (5,), 3), y, alpha=0.1)
    sparse = EmpiricalRisk(CrossEntropy(), MLPModel(csr, (5,), 3), y, alpha=0.1)
    params = dense.model.pack(*glorot_uniform(dense.model.layer_units, "relu", 1))
    value_d, grad_d = dense.loss_gradient(params)
    value_s, grad_s = sparse.loss_gradient(params)
    np.testing.assert_allclose(value_s, value_d, rtol=1e-14)
    np.testing.assert_allclose(grad_s, grad_d, rtol=1e-12, atol=1e-15)
    v = rng.normal(size=params.size)
    np.testing.assert_allclose(
        sparse.loss_gradient_hessian(params)[2].matvec(v),
        dense.loss_gradient_hessian(params)[2].matvec(v), rtol=1e-12, atol=1e-14,
    )
    assert sp.issparse(sparse.model.X)


def test_glorot_uniform_is_scikit_learns_initialisation():
    """A fixed random_state draws scikit-learn's MLPClassifier starting point."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    for activation in ACTIVATIONS:
        # One SGD step of size 1e-300 leaves scikit-learn's initial weights.
        sk = MLPClassifier((6, 5), activation=activation, solver="sgd",
                           learning_rate_init=1e-300, momentum=0.0, random_state=7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk.partial_fit(X, y, classes=[0, 1, 2])
        coefs, intercepts = glorot_uniform([4, 6, 5, 3], activation, 7)
        theirs_all = sk.coefs_ + sk.intercepts_
        for ours, theirs in zip(coefs + intercepts, theirs_all, strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_pack_unpack_layout():
    model = MLPModel(np.zeros((3, 4)), (5, 2), 3)
    coefs, intercepts = glorot_uniform(model.layer_units, "relu", 0)
    params = model.pack(coefs, intercepts)
    # scikit-learn's _pack: every coefs_ raveled, then every intercepts_.
    expected = np.hstack([c.ravel() for c in coefs] + [b.ravel() for b in intercepts])
    np.testing.assert_array_equal(params, expected)
    assert model.n_params == 4 * 5 + 5 * 2 + 2 * 3 + 5 + 2 + 3
    back_coefs, back_intercepts = model.unpack(params)
    for a, b in zip(back_coefs + back_intercepts, coefs + intercepts, strict=True):
        np.testing.assert_array_equal(a, b)
    value, grad = model.penalty(params)
    assert value == pytest.approx(0.5 * sum(np.sum(c**2) for c in coefs), rel=1e-14)
    np.testing.assert_array_equal(grad[model._n_coef:], 0.0)


def test_detached_outputs_stop_the_gradient_at_the_output_layer():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(20, 3))
    y = rng.normal(size=20)
    full = MLPModel(X, (4,), 2, activation="tanh")
    detached = MLPModel(X, (4,), 2, activation="tanh", detach_outputs=(1,))
    params = full.pack(*glorot_uniform(full.layer_units, "tanh", 0))
    objective = GaussianNLL()
    _, g_full = full.loss_gradient_sums(objective, y, None, params)
    _, g_det = detached.loss_gradient_sums(objective, y, None, params)
    # Output layer: the same gradient. Hidden layer: only the mean's part,
    # which is the full network's gradient of the mean output alone.
    out = list(range(12, 20)) + [24, 25]
    np.testing.assert_allclose(g_det[out], g_full[out], rtol=1e-14)
    raw = full.forward(params)
    grad_raw = objective.loss_gradient(y, raw)[1]
    grad_raw[:, 1] = 0.0
    g_mean = full.pullback(params, grad_raw)
    hidden = list(range(12)) + [20, 21, 22, 23]
    np.testing.assert_allclose(g_det[hidden], g_mean[hidden], rtol=1e-14)
    with pytest.raises(NotImplementedError, match="no Hessian"):
        detached.loss_gradient_hessian_sums(objective, y, None, params)
