"""The linear model through the adapter: packing, penalty, preconditioning."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import entropy as scipy_entropy

from skdiv._adapter import linear_risk
from skdiv._loss import (
    CrossEntropy,
    GaussianNLL,
    KLDivergence,
    SquaredError,
    SumZero,
    sum_zero_basis,
)
from skdiv._model._hessian_rows import SUBSAMPLED_FORCING_FLOOR
from skdiv._model._kernels import centred_square_terms, data_terms
from skdiv._solvers import newton_cg

PRECONDITIONERS = ["none", "diagonal", "whiten"]


def _data(rng, n=40, d=5):
    # Badly scaled, off-centre, correlated columns, one constant column.
    X = rng.normal(size=(n, d)) * np.logspace(-2, 2, d) + 5.0
    X[:, 1] += 0.5 * X[:, 0]
    X[:, 2] = 3.0
    return X


def _problems(rng, X):
    n = X.shape[0]
    return {
        "softmax-hard": (CrossEntropy(), rng.integers(0, 3, size=n), 3),
        "softmax-soft-kl": (KLDivergence(), rng.dirichlet(np.ones(3), size=n), 3),
        "sigmoid": (CrossEntropy(), rng.uniform(size=n), 1),
        "gaussian": (GaussianNLL(), rng.normal(size=n), 2),
        "squared": (SquaredError(), rng.normal(size=n), 1),
    }


def _reference_objective(objective, X, y, n_outputs, sw, alpha, coef, intercept):
    """The objective written out directly, in original coordinates."""
    raw = X @ coef.T + intercept
    raw = raw[:, 0] if n_outputs == 1 else raw
    sw = np.ones(X.shape[0]) if sw is None else sw
    loss = objective.loss(y, raw)
    return np.sum(sw * loss) / sw.sum() + 0.5 * alpha * np.sum(coef**2)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("precondition", PRECONDITIONERS)
@pytest.mark.parametrize(
    "problem", ["softmax-hard", "softmax-soft-kl", "sigmoid", "gaussian", "squared"]
)
def test_value_gradient_and_hessp(problem, precondition, fit_intercept, sparse):
    rng = np.random.default_rng(0)
    X = _data(rng)
    objective, y, k = _problems(rng, X)[problem]
    sw = rng.uniform(0.2, 2.0, size=X.shape[0])
    alpha = 0.05
    Xfit = sp.csr_matrix(X) if sparse else X
    adapter = linear_risk(
        objective, Xfit, y, n_outputs=k, sample_weight=sw, alpha=alpha,
        fit_intercept=fit_intercept, precondition=precondition,
    )
    params = rng.normal(size=adapter.n_params) * 0.1
    coef, intercept = adapter.unpack(params)
    value, grad = adapter.loss_gradient(params)
    expected = _reference_objective(objective, X, y, k, sw, alpha, coef, intercept)
    assert value == pytest.approx(expected, rel=1e-12)

    eps = 1e-6
    numeric = np.array([
        (adapter.loss(params + eps * e) - adapter.loss(params - eps * e)) / (2 * eps)
        for e in np.eye(adapter.n_params)
    ])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)

    grad2, hessp = adapter.loss_gradient_hessian(params)[1:]
    np.testing.assert_allclose(grad2, grad, rtol=1e-12)
    v = rng.normal(size=adapter.n_params)
    numeric_hv = (
        adapter.loss_gradient(params + eps * v)[1]
        - adapter.loss_gradient(params - eps * v)[1]
    ) / (2 * eps)
    np.testing.assert_allclose(hessp(v), numeric_hv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("precondition", ["none", "diagonal"])
@pytest.mark.parametrize(
    "problem", ["softmax-hard", "softmax-soft-kl", "sigmoid", "gaussian", "squared"]
)
def test_hessian_diagonal_matches_the_explicit_hessian(
    problem, precondition, fit_intercept, sparse
):
    # The Jacobi preconditioner: the diagonal of the solver-space Hessian,
    # built from sums over X, X**2 and the curvature, against H e_j.
    rng = np.random.default_rng(4)
    X = _data(rng)
    objective, y, k = _problems(rng, X)[problem]
    sw = rng.uniform(0.2, 2.0, size=X.shape[0])
    adapter = linear_risk(
        objective, sp.csr_matrix(X) if sparse else X, y, n_outputs=k,
        sample_weight=sw, alpha=0.05, fit_intercept=fit_intercept,
        precondition=precondition, hessian_precision="double",
    )
    params = rng.normal(size=adapter.n_params) * 0.1
    _, _, hessp = adapter.loss_gradient_hessian(params)
    exact = np.array([hessp(e) @ e for e in np.eye(adapter.n_params)])
    diagonal = hessp.diagonal()
    softmax = k > 1 and isinstance(objective, CrossEntropy)
    if softmax and adapter.model.class_basis is None:
        # Softmax in all k classes: averaged over classes, feature by feature
        # (and intercepts). In the sum-zero basis (sparse X) there is no flat
        # direction to keep out of, and the diagonal is the exact one.
        n_coef = k * X.shape[1]
        intercepts = exact[n_coef:]
        exact = np.concatenate([
            np.tile(exact[:n_coef].reshape(k, -1).mean(axis=0), k),
            np.full(intercepts.size, intercepts.mean() if intercepts.size else 0.0),
        ])
    np.testing.assert_allclose(diagonal, exact, rtol=1e-9, atol=1e-12)


def test_whitening_offers_no_diagonal():
    rng = np.random.default_rng(5)
    X = _data(rng)
    adapter = linear_risk(
        CrossEntropy(), X, rng.integers(0, 3, size=X.shape[0]), n_outputs=3,
        precondition="whiten",
    )
    _, _, hessp = adapter.loss_gradient_hessian(np.zeros(adapter.n_params))
    assert hessp.diagonal() is None


@pytest.mark.parametrize(
    "sparse, precondition",
    [(False, "diagonal"), (True, "diagonal"), (False, "whiten"), (True, "whiten")],
)
def test_subsampled_hessian_is_the_hessian_of_every_stride_th_row(sparse, precondition):
    rng = np.random.default_rng(6)
    X = _data(rng, n=90)
    y = rng.integers(0, 3, size=90)
    sw = rng.uniform(0.2, 2.0, size=90)
    Xfit = sp.csr_matrix(X) if sparse else X
    common = dict(n_outputs=3, alpha=0.05)
    adapter = linear_risk(
        CrossEntropy(), Xfit, y, sample_weight=sw, hessian_stride=3,
        precondition=precondition, **common,
    )
    rows = linear_risk(
        CrossEntropy(), Xfit[::3], y[::3], sample_weight=sw[::3], hessian_stride=1,
        precondition=adapter.model.change_of_variables, **common,
    )
    full = linear_risk(
        CrossEntropy(), Xfit, y, sample_weight=sw,
        precondition=adapter.model.change_of_variables, **common,
    )
    params = rng.normal(size=adapter.n_params) * 0.1
    value, grad, hessp = adapter.loss_gradient_hessian(params)
    # Value and gradient from every row, exactly.
    value_full, grad_full = full.loss_gradient(params)
    assert value == pytest.approx(value_full, rel=1e-14)
    np.testing.assert_allclose(grad, grad_full, rtol=1e-12, atol=1e-15)
    # Hessian products from X[::3]: in float64 as given, or (dense, whitened)
    # from the rows stored centred in float32, exact to float32 rounding.
    # (Uncentred float32 rows need no constant column: see the next test.)
    _, _, hessp_rows = rows.loss_gradient_hessian(params)
    # Only the subsample says its Hessian is approximate (CG's forcing floor).
    assert hessp.forcing_floor == SUBSAMPLED_FORCING_FLOOR
    assert hessp_rows.forcing_floor == 0.0
    v = rng.normal(size=adapter.n_params)
    expected = hessp_rows(v)
    single = precondition == "whiten" and not sparse
    assert (adapter.model.hessian_rows.X.dtype == np.float32) == single
    if single:
        np.testing.assert_allclose(
            hessp(v), expected, rtol=0, atol=1e-5 * np.abs(expected).max()
        )
    else:
        np.testing.assert_allclose(hessp(v), expected, rtol=1e-12, atol=1e-15)
    if precondition == "diagonal":
        np.testing.assert_allclose(hessp.diagonal(), hessp_rows.diagonal(), rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_single_precision_hessian_matches_double(sparse):
    # Sparse X at stride 1, or any X at a stride, under a diagonal scaling:
    # Hessian products and their diagonal from a float32 copy of the rows
    # (sharing X's index arrays), within float32 rounding of float64.
    rng = np.random.default_rng(8)
    # Badly scaled and uncentred (centring is folded into the intercept).
    X = rng.normal(size=(90, 5)) * np.logspace(-2, 2, 5) + 3.0
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    y = rng.integers(0, 3, size=90)
    sw = rng.uniform(0.2, 2.0, size=90)
    Xfit = sp.csr_matrix(X) if sparse else X
    stride = 1 if sparse else 3
    common = dict(
        n_outputs=3, sample_weight=sw, alpha=0.05, precondition="diagonal",
        hessian_stride=stride,
    )
    single = linear_risk(CrossEntropy(), Xfit, y, **common)
    double = linear_risk(
        CrossEntropy(), Xfit, y, hessian_precision="double", **common
    )
    if sparse:
        assert single.model.hessian_rows.X.dtype == np.float32
        assert np.shares_memory(single.model.hessian_rows.X.indices, Xfit.indices)
        assert double.model.hessian_rows.X.dtype == np.float64
    else:
        assert single.model.hessian_rows.X.dtype == np.float32
        assert double.model.hessian_rows.X.dtype == np.float64
    params = rng.normal(size=single.n_params) * 0.1
    value, grad, hessp = single.loss_gradient_hessian(params)
    value64, grad64, hessp64 = double.loss_gradient_hessian(params)
    # Value and gradient are float64 either way.
    assert value == value64
    np.testing.assert_array_equal(grad, grad64)
    for v in rng.normal(size=(3, single.n_params)):
        expected = hessp64(v)
        np.testing.assert_allclose(
            hessp(v), expected, rtol=0, atol=1e-6 * np.abs(expected).max()
        )
    np.testing.assert_allclose(hessp.diagonal(), hessp64.diagonal(), rtol=1e-5)


@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("problem", ["softmax-hard", "sigmoid", "gaussian"])
def test_hessian_in_solver_coordinates_is_the_change_of_variables(
    problem, fit_intercept
):
    # Sparse X: products on the rows stored as X M, in solver coordinates.
    # Dense X (stride 1): products through unpack and pullback. The same
    # Hessian to rounding, and the same Jacobi diagonal.
    rng = np.random.default_rng(13)
    X = rng.normal(size=(50, 4)) * np.logspace(-1, 1, 4) + 2.0
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    objective, y, k = _problems(rng, X)[problem]
    common = dict(
        n_outputs=k, sample_weight=rng.uniform(0.2, 2.0, size=50), alpha=0.05,
        fit_intercept=fit_intercept, precondition="diagonal",
        hessian_precision="double", sum_zero=False,
    )
    rows = linear_risk(objective, sp.csr_matrix(X), y, **common)
    plain = linear_risk(objective, X, y, **common)
    assert rows.model.hessian_rows.solver_centre is not None
    assert plain.model.hessian_rows.solver_centre is None
    np.testing.assert_allclose(rows.model.x_scale, plain.model.x_scale, rtol=1e-14)
    params = rng.normal(size=rows.n_params) * 0.3
    _, _, hessp = rows.loss_gradient_hessian(params)
    _, _, expected = plain.loss_gradient_hessian(params)
    for v in rng.normal(size=(3, rows.n_params)):
        np.testing.assert_allclose(hessp(v), expected(v), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(hessp.diagonal(), expected.diagonal(), rtol=1e-11)


def test_float32_products_keep_the_softmax_flat_direction_out():
    # A softmax in all k classes: moving every intercept together changes
    # nothing, so its Hessian products sum to zero over the intercepts. On
    # float32 rows they are projected so exactly, and CG stays float64; in
    # the sum-zero basis (no flat direction) CG works in float32.
    rng = np.random.default_rng(14)
    X = sp.random(200, 30, density=0.2, random_state=1, format="csr") * 3
    y = rng.integers(0, 4, size=200)
    common = dict(n_outputs=4, alpha=0.01, precondition="diagonal")
    full = linear_risk(CrossEntropy(), X, y, sum_zero=False, **common)
    reduced = linear_risk(CrossEntropy(), X, y, sum_zero=True, **common)
    assert full.model.hessian_rows.X.dtype == np.float32
    assert reduced.model.hessian_rows.X.dtype == np.float32
    params = rng.normal(size=full.n_params)
    _, _, hessp = full.loss_gradient_hessian(params)
    product = hessp(rng.normal(size=full.n_params))
    assert hessp.dtype == product.dtype == np.float64
    intercepts = product[-4:]
    assert abs(intercepts.sum()) <= 1e-15 * np.abs(intercepts).max()
    _, _, hessp = reduced.loss_gradient_hessian(rng.normal(size=reduced.n_params))
    assert hessp.dtype == hessp(np.ones(reduced.n_params)).dtype == np.float32


def test_single_precision_only_where_centring_keeps_rounding_small():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(60, 4))
    y = rng.integers(0, 2, size=60).astype(float)
    sparse_X = sp.csr_matrix(X)
    assert linear_risk(
        CrossEntropy(), sparse_X, y, n_outputs=1, precondition="diagonal"
    ).model.hessian_rows.X.dtype == np.float32
    # A feature whose mean is 1e4 of its spread: float32 x_ij v_j would lose
    # the centred value to rounding.
    shifted = sp.csr_matrix(X + [0.0, 0.0, 0.0, 1e5])
    for X_bad in (shifted, sp.csr_matrix(X * 1e35)):
        adapter = linear_risk(
            CrossEntropy(), X_bad, y, n_outputs=1, precondition="diagonal"
        )
        assert adapter.model.hessian_rows.X.dtype == np.float64
    # Whitening keeps sparse X as it is, float64.
    adapter = linear_risk(
        CrossEntropy(), sparse_X, y, n_outputs=1, precondition="whiten"
    )
    assert adapter.model.hessian_rows.X is sparse_X
    # Float32 X keeps its precision: no decision to take.
    adapter = linear_risk(
        CrossEntropy(), sparse_X.astype(np.float32), y, n_outputs=1,
        precondition="diagonal",
    )
    assert not adapter.model.hessian_rows.single_precision_ok()
    assert adapter.model.hessian_rows.X.dtype == np.float32
    with pytest.raises(ValueError, match="hessian_precision"):
        linear_risk(CrossEntropy(), X, y, n_outputs=1, hessian_precision="half")


def test_hessian_stride_auto_keeps_enough_rows():
    rng = np.random.default_rng(7)
    cases = [(1_000, 5, 1), (40_000, 5, 4), (200_000, 5, 8), (200_000, 20_000, 1)]
    for n, d, expected in cases:
        X = sp.eye(n, d, format="csr") if d > 100 else rng.normal(size=(n, d))
        adapter = linear_risk(
            SquaredError(), X, np.zeros(n), n_outputs=1, precondition="none"
        )
        assert adapter.model.hessian_stride == expected, (n, d)


@pytest.mark.parametrize("precondition", PRECONDITIONERS)
def test_pack_unpack_round_trip_and_gradient_norm(precondition):
    rng = np.random.default_rng(1)
    X = _data(rng)
    y = rng.integers(0, 3, size=X.shape[0])
    adapter = linear_risk(
        CrossEntropy(), X, y, n_outputs=3, alpha=0.1, precondition=precondition
    )
    coef, intercept = rng.normal(size=(3, X.shape[1])), rng.normal(size=3)
    coef2, intercept2 = adapter.unpack(adapter.pack(coef, intercept))
    np.testing.assert_allclose(coef2, coef, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(intercept2, intercept, rtol=1e-9, atol=1e-9)

    # The stopping measure is the gradient in (coef / std, intercept), the
    # coefficients of the standardised features: the same number whatever
    # the coordinates (std = 1 without a change of variables).
    plain = linear_risk(CrossEntropy(), X, y, n_outputs=3, alpha=0.1,
                            precondition="none")
    _, grad_plain = plain.loss_gradient(plain.pack(coef, intercept))
    _, grad = adapter.loss_gradient(adapter.pack(coef, intercept))
    d = X.shape[1]
    std = np.ones(d) if precondition == "none" else X.std(axis=0)
    std[2] = 1.0  # the constant column
    expected = max(
        np.abs(grad_plain[: 3 * d].reshape(3, d) / std).max(),
        np.abs(grad_plain[3 * d :]).max(),
    )
    assert adapter.gradient_norm(grad) == pytest.approx(expected, rel=1e-8)
    assert plain.gradient_norm(grad_plain) == pytest.approx(
        np.abs(grad_plain).max(), rel=1e-12
    )


def test_whitening_survives_redundant_features_and_zero_alpha():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    X = np.column_stack([X, X[:, 0] + X[:, 1], X[:, 2]])  # singular covariance
    y = rng.integers(0, 2, size=30).astype(float)
    adapter = linear_risk(CrossEntropy(), X, y, n_outputs=1, alpha=0.0,
                              precondition="whiten")
    params = adapter.pack(np.ones((1, 5)), np.zeros(1))
    value, grad = adapter.loss_gradient(params)
    assert np.isfinite(value) and np.isfinite(grad).all()
    coef, _ = adapter.unpack(params)
    np.testing.assert_allclose(coef, np.ones((1, 5)), rtol=1e-6)


def test_float32_input_is_not_copied_and_matches_float64():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 4))
    y = rng.integers(0, 3, size=200)
    a64 = linear_risk(CrossEntropy(), X, y, n_outputs=3, alpha=0.01)
    X32 = X.astype(np.float32)
    a32 = linear_risk(CrossEntropy(), X32, y, n_outputs=3, alpha=0.01)
    assert a32.model.X is X32
    params = a64.pack(rng.normal(size=(3, 4)), rng.normal(size=3))
    v64, g64 = a64.loss_gradient(params)
    v32, g32 = a32.loss_gradient(a32.pack(*a64.unpack(params)))
    assert g32.dtype == np.float64
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_loss_at_the_last_point_evaluated_is_not_recomputed():
    rng = np.random.default_rng(10)
    X = _data(rng)
    y = rng.integers(0, 3, size=X.shape[0])
    adapter = linear_risk(CrossEntropy(), X, y, n_outputs=3, alpha=0.1)
    fresh = linear_risk(CrossEntropy(), X, y, n_outputs=3, alpha=0.1)
    a, b = rng.normal(size=(2, adapter.n_params))
    value_a = adapter.loss_gradient_hessian(a)[0]
    a_copy = a.copy()
    a[0] += 1.0  # the caller's array changes after the evaluation
    adapter.model.X = None  # any pass over the data would fail now
    assert adapter.loss(a_copy) == value_a == fresh.loss(a_copy)
    adapter.model.X = X
    assert adapter.loss(b) == fresh.loss(b)  # another point: evaluated


@pytest.mark.parametrize("k", [3, 4, 10])
def test_sum_zero_basis_is_orthonormal_and_orthogonal_to_ones(k):
    basis = sum_zero_basis(k)
    assert basis.shape == (k, k - 1)
    np.testing.assert_allclose(basis.T @ basis, np.eye(k - 1), atol=1e-14)
    np.testing.assert_allclose(basis.T @ np.ones(k), 0.0, atol=1e-14)


@pytest.mark.parametrize(
    "objective, soft", [(CrossEntropy(), False), (KLDivergence(), True)]
)
def test_sum_zero_objective_is_the_objective_in_the_basis(objective, soft):
    # Loss, gradient, Hessian product and its diagonal, in k - 1 coordinates,
    # against the k-output objective mapped by Q by hand.
    rng = np.random.default_rng(11)
    n, k = 30, 4
    y = rng.dirichlet(np.ones(k), size=n) if soft else rng.integers(0, k, size=n)
    sw = rng.uniform(0.2, 2.0, size=n)
    basis = sum_zero_basis(k)
    reduced = SumZero(objective, basis)
    raw = rng.normal(size=(n, k - 1))
    loss, grad, hessp = reduced.loss_gradient_hessian(y, raw, sw)
    loss_full, grad_full, hessp_full = objective.loss_gradient_hessian(
        y, raw @ basis.T, sw
    )
    np.testing.assert_allclose(loss, loss_full, rtol=1e-14)
    np.testing.assert_allclose(grad, grad_full @ basis, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(reduced.loss_gradient(y, raw, sw)[1], grad, rtol=1e-14)
    v = rng.normal(size=(n, k - 1))
    np.testing.assert_allclose(
        hessp.matvec(v), hessp_full.matvec(v @ basis.T) @ basis, rtol=1e-12, atol=1e-15
    )
    explicit = np.array([
        [hessp.matvec(np.outer(np.eye(n)[i], e))[i] @ e for e in np.eye(k - 1)]
        for i in range(n)
    ])
    np.testing.assert_allclose(hessp.diagonal(), explicit, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("precondition", ["none", "diagonal", "whiten"])
def test_sum_zero_adapter_is_the_same_function(sparse, precondition):
    # The adapter in the sum-zero basis (k - 1 blocks) against all k outputs:
    # the same value, stopping measure and (class-centred) coefficients at
    # the same model, and the same optimum.
    rng = np.random.default_rng(12)
    X = _data(rng, n=60)
    Xfit = sp.csr_matrix(X) if sparse else X
    y = rng.integers(0, 4, size=60)
    sw = rng.uniform(0.2, 2.0, size=60)
    common = dict(n_outputs=4, sample_weight=sw, alpha=0.05, precondition=precondition)
    reduced = linear_risk(CrossEntropy(), Xfit, y, sum_zero=True, **common)
    full = linear_risk(CrossEntropy(), Xfit, y, sum_zero=False, **common)
    assert reduced.n_params == 3 * (X.shape[1] + 1)
    assert full.n_params == 4 * (X.shape[1] + 1)
    assert (
        linear_risk(CrossEntropy(), Xfit, y, **common).n_params
        == (reduced if sparse else full).n_params
    )
    coef, intercept = rng.normal(size=(4, X.shape[1])), rng.normal(size=4)
    coef -= coef.mean(axis=0)
    intercept -= intercept.mean()
    value, grad = reduced.loss_gradient(reduced.pack(coef, intercept))
    value_full, grad_full = full.loss_gradient(full.pack(coef, intercept))
    assert value == pytest.approx(value_full, rel=1e-13)
    assert reduced.gradient_norm(grad) == pytest.approx(
        full.gradient_norm(grad_full), rel=1e-10
    )
    # pack drops the classes' mean: same probabilities, smaller penalty.
    shifted = reduced.unpack(reduced.pack(coef + 1.0, intercept + 2.0))
    np.testing.assert_allclose(shifted[0], coef, atol=1e-12)
    np.testing.assert_allclose(shifted[1], intercept, atol=1e-12)
    x_r, _ = newton_cg(
        reduced.loss_gradient_hessian, reduced.pack(np.zeros((4, X.shape[1]))),
        tol=1e-11, gradient_norm=reduced.gradient_norm,
    )
    x_f, _ = newton_cg(
        full.loss_gradient_hessian, full.pack(np.zeros((4, X.shape[1]))),
        tol=1e-11, gradient_norm=full.gradient_norm,
    )
    for a, b in zip(reduced.unpack(x_r), full.unpack(x_f), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_dense_value_and_gradient_in_row_blocks_equal_one_pass(weighted):
    # 3000 x 200: rows in blocks of 327 (the last one short), soft labels.
    rng = np.random.default_rng(13)
    X = rng.normal(size=(3000, 200))
    y = rng.dirichlet(np.ones(3), size=3000)
    sw = rng.uniform(0.2, 2.0, size=3000) if weighted else None
    adapter = linear_risk(
        KLDivergence(), X, y, n_outputs=3, sample_weight=sw, alpha=0.1
    )
    coef, intercept = rng.normal(size=(3, 200)) * 0.1, rng.normal(size=3)
    blocked = adapter.model._data_terms(
        adapter._evaluated, y, adapter.sample_weight, coef, intercept
    )
    whole = data_terms(KLDivergence(), coef, intercept, X, y, sw)
    # The blocks sum the cross-entropy; KL's entropy term is added once.
    assert blocked[0] + adapter._offset_sum == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(blocked[1], whole[1], rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(blocked[2], whole[2], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_centred_square_terms_closed_form(sparse):
    # sum_i h_ik (x_ij - c_j)^2: sparse X through its nonzeros' x (x - 2c)
    # (duplicate entries summed first) plus c^2 sum_i h_ik, dense X centred
    # in row blocks.
    rng = np.random.default_rng(14)
    X = rng.normal(size=(50, 6)) + 2.0
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    h = rng.uniform(size=(50, 3))
    centre = rng.normal(size=6)
    X[0, -1] = 1.5
    expected = np.einsum("ik,ij->kj", h, (X - centre) ** 2)
    for X_fit in [_duplicated_csr(X), sp.csr_matrix(X)] if sparse else [X]:
        square, constant = centred_square_terms(X_fit, h, centre)
        np.testing.assert_allclose(square, expected, rtol=1e-12)
    np.testing.assert_allclose(constant, h.sum(axis=0), rtol=1e-14)
    square_1d, _ = centred_square_terms(X, h[:, 0], centre)
    np.testing.assert_allclose(square_1d, expected[:1], rtol=1e-12)


def _duplicated_csr(X):
    """CSR ``X`` with its entry (0, last column) split into two duplicates."""
    csr = sp.csr_matrix(X)
    col = X.shape[1] - 1
    start, stop = csr.indptr[0], csr.indptr[1]
    data = np.insert(csr.data, stop, 0.25 * X[0, col])
    indices = np.insert(csr.indices, stop, col)
    data[start:stop][csr.indices[start:stop] == col] -= 0.25 * X[0, col]
    indptr = csr.indptr + np.r_[0, np.ones(X.shape[0], dtype=int)]
    duplicated = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert X[0, col] != 0 and not duplicated.has_canonical_format
    np.testing.assert_allclose(duplicated.toarray(), X, rtol=1e-15)
    return duplicated


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_feature_moments_equal_dense(weighted):
    # The diagonal scaling from sparse X (products with the weight vector,
    # duplicate entries summed first) equals the one from the same X dense.
    rng = np.random.default_rng(15)
    X = rng.normal(size=(30, 4)) * [0.1, 1.0, 10.0, 3.0] + [0.0, 2.0, -1.0, 5.0]
    X[rng.uniform(size=X.shape) < 0.4] = 0.0
    X[0, 3] = 4.0
    sw = rng.uniform(0.2, 2.0, size=30) if weighted else None
    common = dict(n_outputs=1, sample_weight=sw, precondition="diagonal")
    y = (X[:, 0] > 0).astype(float)
    dense = linear_risk(CrossEntropy(), X, y, **common)
    for X_sparse in (sp.csr_matrix(X), _duplicated_csr(X)):
        adapter = linear_risk(CrossEntropy(), X_sparse, y, **common)
        np.testing.assert_allclose(adapter.model.x_mean, dense.model.x_mean, rtol=1e-13)
        np.testing.assert_allclose(
            adapter.model.x_scale, dense.model.x_scale, rtol=1e-12
        )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("k", [2, 4])
def test_kl_evaluates_the_cross_entropy_and_adds_the_entropy_once(k, sparse):
    # KL = CE - H(p), H(p) free of the model: the adapter computes the
    # targets' entropy once, evaluates the cross-entropy, and its values are
    # KL's (the gradients are the same function).
    calls = []

    class CountingKL(KLDivergence):
        def target_offset(self, y_true):
            calls.append(1)
            return super().target_offset(y_true)

    rng = np.random.default_rng(16)
    X = rng.normal(size=(80, 5))
    Y = rng.dirichlet(np.ones(k), size=80)
    y_fit, n_outputs = (Y[:, 1], 1) if k == 2 else (Y, k)
    sw = rng.uniform(0.2, 2.0, size=80)
    common = dict(n_outputs=n_outputs, sample_weight=sw, alpha=0.1)
    Xfit = sp.csr_matrix(X) if sparse else X
    kl = linear_risk(CountingKL(), Xfit, y_fit, **common)
    ce = linear_risk(CrossEntropy(), Xfit, y_fit, **common)
    assert calls == [1]
    entropy = scipy_entropy(Y, axis=1) @ sw / sw.sum()
    for params in rng.normal(size=(3, kl.n_params)):
        value, grad, hessp = kl.loss_gradient_hessian(params)
        value_ce, grad_ce, hessp_ce = ce.loss_gradient_hessian(params)
        assert value == pytest.approx(value_ce - entropy, rel=1e-13, abs=1e-15)
        np.testing.assert_array_equal(grad, grad_ce)
        v = rng.normal(size=kl.n_params)
        np.testing.assert_array_equal(hessp(v), hessp_ce(v))
    assert calls == [1]


def _raw_hessians(n, rng):
    """One raw-space Hessian of each kind, with its raw predictions."""
    weights = rng.uniform(0.5, 2.0, size=n)
    softmax_raw = rng.normal(size=(n, 4))
    labels = rng.integers(0, 4, size=n)
    gaussian_raw = np.column_stack([rng.normal(size=n), rng.normal(size=n) * 0.3])
    cases = {
        "softmax": (CrossEntropy(), labels, softmax_raw),
        "sigmoid": (CrossEntropy(), rng.integers(0, 2, size=n), rng.normal(size=n)),
        "gaussian": (GaussianNLL(), rng.normal(size=n), gaussian_raw),
        "sum-zero": (SumZero(CrossEntropy(), sum_zero_basis(4)), labels,
                     softmax_raw @ sum_zero_basis(4)),
    }
    for name, (objective, y, raw) in cases.items():
        hessian = objective.loss_gradient_hessian(y, raw, weights)[2]
        yield name, hessian, raw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_hessian_products_equal_one_product(monkeypatch, dtype):
    # Tall dense rows are multiplied in row blocks (each within OpenBLAS's
    # small-matrix size): the sum over the blocks is the product over all
    # rows, sum_i x_i (H_i (x_i V^T + v)), written out here per sample.
    import skdiv._model._kernels as kernels

    # Blocks of 256-550 rows (2 to 4 of them, by the number of outputs).
    monkeypatch.setattr(kernels, "SMALL_PRODUCT_WORK", 4 * 6 * 256)
    rng = np.random.default_rng(7)
    n, d = 1100, 6
    X = np.asfortranarray(rng.normal(size=(n, d))).astype(dtype)
    for name, raw_hessian, raw in _raw_hessians(n, rng):
        k = 1 if raw.ndim == 1 else raw.shape[1]
        v_coef, v_intercept = rng.normal(size=(k, d)), rng.normal(size=k)
        blocks = raw_hessian.sample_blocks(raw.shape)  # (n, k, k)
        direction = X.astype(np.float64) @ v_coef.T + v_intercept
        per_sample = np.einsum("ikl,il->ik", blocks, direction)
        expected_coef = per_sample.T @ X.astype(np.float64)
        expected_intercept = per_sample.sum(axis=0)
        rows_hessian = kernels.RowsHessian(raw_hessian, X)
        h_coef, h_intercept = rows_hessian.matvec(v_coef, v_intercept)
        sizes = [block.shape[0] for block, _ in rows_hessian._blocks]
        assert len(sizes) >= 2 and sum(sizes) == n and min(sizes) >= 256, name
        assert h_coef.dtype == dtype
        rtol = 1e-4 if dtype == np.float32 else 1e-12
        scale = np.abs(expected_coef).max()
        np.testing.assert_allclose(h_coef, expected_coef, rtol=0, atol=rtol * scale)
        np.testing.assert_allclose(h_intercept, expected_intercept, rtol=0,
                                   atol=rtol * np.abs(expected_intercept).max())
        # Rows carrying the intercept's ones as a last column (the whitened
        # copy's), the intercept's coefficient in the direction: the same
        # product, the intercepts' part in the last column, none returned.
        ones = np.asfortranarray(np.column_stack([X, np.ones(n, dtype=dtype)]))
        extended = kernels.RowsHessian(raw_hessian, ones)
        h_extended, h_none = extended.matvec(
            np.column_stack([v_coef, v_intercept]), None
        )
        assert h_none is None and len(extended._blocks) >= 2
        np.testing.assert_allclose(h_extended[:, :d], expected_coef, rtol=0,
                                   atol=rtol * scale)
        np.testing.assert_allclose(h_extended[:, d], expected_intercept, rtol=0,
                                   atol=rtol * np.abs(expected_intercept).max())
        # The blocks' raw Hessians are the whole one's restricted rows.
        part = slice(256, 512)
        restricted = raw_hessian.rows(part)
        unit = rng.normal(size=raw.shape)
        np.testing.assert_allclose(restricted.matvec(unit[part]),
                                   raw_hessian.matvec(unit)[part], rtol=1e-13)


def test_small_and_sparse_rows_are_multiplied_whole():
    import skdiv._model._kernels as kernels

    rng = np.random.default_rng(8)
    n = 3000
    hessian = next(_raw_hessians(n, rng))[1]  # softmax, 4 outputs
    dense = kernels.RowsHessian(hessian, rng.normal(size=(n, 20)))
    dense.matvec(np.ones((4, 20)), np.zeros(4))
    # 3,000 x 4 x 20 multiply-adds and 480 KB: one product.
    assert dense._blocks == []
    # 1,800 x 4 x 150 > 1e6 (and 1.1 MB of float32 rows): two blocks of 900.
    wide_rows = rng.normal(size=(1800, 150)).astype(np.float32)
    wide = kernels.RowsHessian(hessian.rows(slice(0, 1800)), wide_rows)
    wide.matvec(np.ones((4, 150)), np.zeros(4))
    assert [block.shape[0] for block, _ in wide._blocks] == [900, 900]
    sparse = kernels.RowsHessian(hessian, sp.random(n, 2000, density=0.01,
                                                    format="csr", random_state=0))
    sparse.matvec(np.ones((4, 2000)), np.zeros(4))
    assert sparse._blocks == []


@pytest.mark.parametrize(
    "fit_intercept", [True, False], ids=["intercept", "no-intercept"]
)
@pytest.mark.parametrize("problem", ["softmax-hard", "sigmoid", "gaussian"])
def test_whitened_rows_give_the_hessian_in_solver_coordinates(problem, fit_intercept):
    # A whitened fit whose Hessian uses all rows (neither formed whole nor
    # subsampled) keeps them as (X - mu) M in float32 and multiplies in the
    # solver's coordinates directly: the float64 Hessian through unpack and
    # pullback, to float32's rounding.
    rng = np.random.default_rng(15)
    n, d = 600, 130  # over 128 parameters: above the exact steps' size
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.1 + 1.0
    objective, y, k = _problems(rng, X)[problem]
    common = dict(n_outputs=k, sample_weight=rng.uniform(0.2, 2.0, size=n),
                  alpha=0.01, fit_intercept=fit_intercept, precondition="whiten",
                  sum_zero=False)
    single = linear_risk(objective, X, y, **common)
    double = linear_risk(objective, X, y, hessian_precision="double", **common)
    rows = single.model.hessian_rows
    assert not single.model.dense and rows.rows is None and rows.whitened_copy
    coordinates = single.model.coordinates
    # [(X - mu) M, 1]: the intercept's ones as a last column, if any.
    expected_rows = (X - coordinates.x_mean) @ coordinates.whitener
    if fit_intercept:
        expected_rows = np.column_stack([expected_rows, np.ones(n)])
    assert rows.intercept_column == fit_intercept
    assert rows.X.shape == expected_rows.shape and rows.X.flags.f_contiguous
    np.testing.assert_allclose(
        rows.X, expected_rows, rtol=0, atol=1e-6 * np.abs(rows.X).max(),
    )
    assert rows.X.dtype == np.float32 and not double.model.hessian_rows.whitened_copy
    params = rng.normal(size=single.n_params) * 0.3
    _, _, hessp = single.loss_gradient_hessian(params)
    _, _, expected = double.loss_gradient_hessian(params)
    for v in rng.normal(size=(3, single.n_params)):
        reference = expected(v)
        np.testing.assert_allclose(hessp(v), reference, rtol=0,
                                   atol=1e-5 * np.abs(reference).max())


@pytest.mark.parametrize("precondition", ["whiten", "diagonal"])
@pytest.mark.parametrize("sum_zero", [False, True])
def test_penalty_is_half_the_squared_norm_of_the_coefficients(precondition, sum_zero):
    # In the solver's parameters the penalty is the quadratic theta^T P theta
    # / 2: its value is 1/2 |W|_F^2 of the coefficients in X's units (from
    # unpack, written out here), its gradient P theta that quadratic's, by
    # central differences, and P v the same in float32 after float64 (the
    # model keeps M^2 per precision).
    rng = np.random.default_rng(21)
    X = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 3.0
    y = rng.integers(0, 4, size=300)
    risk = linear_risk(CrossEntropy(), X, y, n_outputs=4, alpha=0.1,
                       precondition=precondition, sum_zero=sum_zero)
    params = rng.normal(size=risk.n_params)
    value, gradient = risk.model.penalty(params)
    coef, _ = risk.unpack(params)
    assert value == pytest.approx(0.5 * np.sum(coef**2), rel=1e-12)
    step = 1e-6
    numeric = np.array([
        (risk.model.penalty(params + step * e)[0]
         - risk.model.penalty(params - step * e)[0]) / (2 * step)
        for e in np.eye(risk.n_params)
    ])
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)
    single = risk.model.penalty_hessian(params.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, gradient, rtol=1e-5,
                               atol=1e-5 * np.abs(gradient).max())
    np.testing.assert_array_equal(risk.model.penalty_hessian(params), gradient)
