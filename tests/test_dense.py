"""The Hessian formed whole (skdiv._model._dense) and the direct Newton step.

References: the Hessian-vector products of the same operator, applied to
every unit vector (an independent path: products with X, never the formed
matrix), a finite-difference Hessian of the adapter's gradient, and the
minimum-norm solution of the singular Newton system by least squares.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import softmax
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import skdiv._model._dense as dense_module
import skdiv._model._preconditioner as preconditioner_module
from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv._adapter import linear_risk
from skdiv._loss import get_objective
from skdiv._loss._base import RawHessian
from skdiv._solvers._newton import direct_step

RNG = np.random.default_rng(0)
N, D = 80, 4
X = RNG.normal(size=(N, D)) * [1.0, 3.0, 0.2, 1.0] + [0.0, 2.0, -1.0, 5.0]
X[:, 3] += 0.5 * X[:, 0]  # correlated: the whitening is not diagonal
WEIGHT = RNG.uniform(0.2, 3.0, size=N)
LABELS3 = RNG.integers(0, 3, size=N)
SOFT3 = RNG.dirichlet(np.ones(3), size=N)
Y_REG = X[:, 0] + RNG.normal(size=N) * np.exp(0.3 * X[:, 2])

CASES = {
    # name: (objective, targets, n_outputs, X, linear_risk keywords)
    "binary": ("cross_entropy", (LABELS3 == 1).astype(float), 1, X, {}),
    # (a small convex problem scales diagonally unless told: see LinearModel)
    "multinomial-whiten": (
        "cross_entropy", LABELS3, 3, X, dict(precondition="whiten")
    ),
    "multinomial-diagonal": (
        "cross_entropy",
        LABELS3,
        3,
        X,
        dict(precondition="diagonal"),
    ),
    "soft-kl-no-intercept": ("kl_divergence", SOFT3, 3, X, dict(fit_intercept=False)),
    "sparse-sum-zero": (
        "cross_entropy",
        LABELS3,
        3,
        sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0)),
        # A small convex problem scales diagonally, and sparse rows scaled
        # so are float32 for products by default: compare in float64.
        dict(sum_zero=True, hessian_precision="double"),
    ),
    "gaussian-nll": ("gaussian_nll", Y_REG, 2, X, {}),
}


def _risk(name, alpha=0.05, weights=True):
    loss, y, n_outputs, X_case, kwargs = CASES[name]
    return linear_risk(
        get_objective(loss),
        X_case,
        y,
        n_outputs=n_outputs,
        sample_weight=WEIGHT if weights else None,
        alpha=alpha,
        **kwargs,
    )


def _point(risk, scale=0.3):
    return np.random.default_rng(1).normal(size=risk.n_params) * scale


@pytest.mark.parametrize("name", list(CASES))
def test_dense_hessian_equals_the_hessian_vector_products(name):
    risk = _risk(name)
    assert risk.model.dense
    x = _point(risk)
    _, _, hessian = risk.loss_gradient_hessian(x)
    by_products = np.column_stack([hessian.matvec(e) for e in np.eye(risk.n_params)])
    matrix = hessian.dense()
    flat = risk.model.flat_directions(True)
    if flat.shape[1]:
        # The dense form adds s N N^T along the flat directions.
        projector = np.eye(risk.n_params) - flat @ flat.T
        matrix = projector @ matrix @ projector
        assert_allclose(flat.T @ by_products, 0, atol=1e-12)
    assert_allclose(matrix, by_products, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["binary", "multinomial-whiten", "gaussian-nll"])
def test_dense_hessian_equals_a_finite_difference_of_the_gradient(name):
    risk = _risk(name)
    x = _point(risk)
    _, _, hessian = risk.loss_gradient_hessian(x)
    h = 1e-6
    columns = []
    for e in np.eye(risk.n_params):
        columns.append(
            (risk.loss_gradient(x + h * e)[1] - risk.loss_gradient(x - h * e)[1])
            / (2 * h)
        )
    numeric = np.column_stack(columns)
    matrix = hessian.dense()
    flat = risk.model.flat_directions(True)
    if flat.shape[1]:
        projector = np.eye(risk.n_params) - flat @ flat.T
        matrix = projector @ matrix @ projector
    assert_allclose(matrix, numeric, rtol=1e-5, atol=1e-7)


def test_softmax_blocks_equal_the_generic_ones_from_products():
    raw = RNG.normal(size=(N, 3))
    hessian = get_objective("cross_entropy").loss_gradient_hessian(
        LABELS3, raw, WEIGHT
    )[2]
    closed = hessian.sample_blocks(raw.shape)
    generic = RawHessian.sample_blocks(hessian, raw.shape)
    q = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    by_hand = WEIGHT[:, None, None] * (
        np.einsum("ik,kl->ikl", q, np.eye(3)) - q[:, :, None] * q[:, None, :]
    )
    assert_allclose(closed, by_hand, rtol=1e-12, atol=1e-15)
    assert_allclose(generic, by_hand, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.05, 0.0])
def test_direct_step_is_the_minimum_norm_newton_step_of_a_singular_softmax(alpha):
    # A softmax in all k classes: the Hessian is singular along the common
    # shift of the intercepts (and, at alpha=0, of the coefficients).
    risk = _risk("multinomial-whiten", alpha=alpha)
    x = _point(risk)
    _, grad, hessian = risk.loss_gradient_hessian(x)
    by_products = np.column_stack([hessian.matvec(e) for e in np.eye(risk.n_params)])
    rank = np.linalg.matrix_rank(by_products, tol=1e-10)
    assert rank == risk.n_params - (1 if alpha else D + 1)
    expected = np.linalg.lstsq(by_products, -grad, rcond=1e-10)[0]
    assert_allclose(direct_step(hessian, grad), expected, rtol=1e-8, atol=1e-12)


def test_direct_step_declines_an_indefinite_hessian():
    # The Gaussian NLL is not convex in (mean, log-variance) far from the
    # optimum: Cholesky fails, and the solver falls back to CG.
    risk = _risk("gaussian-nll", alpha=0.0)
    x = _point(risk, scale=3.0)
    _, grad, hessian = risk.loss_gradient_hessian(x)
    eig = np.linalg.eigvalsh(hessian.dense())
    assert eig.min() < 0
    assert direct_step(hessian, grad) is None


def test_large_problems_do_not_form_the_hessian():
    big = RNG.normal(size=(2000, 60))
    risk = linear_risk(
        get_objective("cross_entropy"), big, RNG.integers(0, 5, size=2000), n_outputs=5
    )
    assert not risk.model.dense
    _, _, hessian = risk.loss_gradient_hessian(np.zeros(risk.n_params))
    assert not hessian.has_dense


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_direct_and_conjugate_gradient_fits_agree(monkeypatch):
    X_iris, y = _iris()
    weights = 1.0 + np.arange(len(y)) % 3
    assert linear_risk(
        get_objective("cross_entropy"), X_iris, y, n_outputs=3
    ).model.dense
    direct = DivergenceClassifier(tol=1e-10).fit(X_iris, y, sample_weight=weights)
    monkeypatch.setattr(dense_module, "DENSE_MAX_PARAMS", 0)
    assert not linear_risk(
        get_objective("cross_entropy"), X_iris, y, n_outputs=3
    ).model.dense
    by_cg = DivergenceClassifier(tol=1e-10).fit(X_iris, y, sample_weight=weights)
    assert_allclose(direct.coef_, by_cg.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(direct.intercept_, by_cg.intercept_, rtol=1e-7, atol=1e-9)
    assert direct.objective_ == pytest.approx(by_cg.objective_, rel=1e-13)


def test_direct_fit_matches_logistic_regression():
    # C = 1 in scikit-learn is alpha = 1 / n_samples here.
    X_iris, y = _iris()
    ours = DivergenceClassifier(alpha=1 / len(y), tol=1e-10).fit(X_iris, y)
    theirs = LogisticRegression(
        C=1.0, tol=1e-12, max_iter=10_000, solver="newton-cg"
    ).fit(X_iris, y)
    assert_allclose(ours.predict_proba(X_iris), theirs.predict_proba(X_iris), atol=1e-8)


def test_direct_regressor_fit_matches_the_cg_fit(monkeypatch):
    direct = GaussianRegressor(tol=1e-10).fit(X, Y_REG)
    monkeypatch.setattr(dense_module, "DENSE_MAX_PARAMS", 0)
    by_cg = GaussianRegressor(tol=1e-10).fit(X, Y_REG)
    assert_allclose(direct.coef_, by_cg.coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("k, fit_intercept", [(2, True), (3, False), (4, True)])
def test_paired_rows_form_the_hessian_of_the_block_products(k, fit_intercept):
    # One product of the rows' pairwise products against dense_hessian's one
    # product per pair of blocks, on symmetric blocks that are no softmax's.
    rng = np.random.default_rng(3)
    n, d = 37, 5
    rows = rng.normal(size=(n, d + int(fit_intercept)))
    blocks = rng.normal(size=(n, k, k))
    blocks = blocks + blocks.transpose(0, 2, 1)
    index = dense_module.layout(k, d, fit_intercept)
    expected = dense_module.dense_hessian(rows, blocks, index)
    paired = dense_module.PairedRows(rows, k, index)
    assert_allclose(paired.hessian(blocks), expected, rtol=1e-12, atol=1e-12)
    # Written out: entry (a j, b l) in the parameters' layout.
    width = rows.shape[1]
    by_hand = np.einsum("iab,ij,il->ajbl", blocks, rows, rows).reshape(k * width, -1)
    assert_allclose(
        by_hand.ravel().take(index).reshape(by_hand.shape), expected, rtol=1e-12,
        atol=1e-12,
    )


# ---------------------------------------------- medium softmax problems
def _medium(n=600, d=40, k=5, seed=4):
    # Near-separable, 205 parameters: above the exact steps' size, all rows
    # in the Hessian (not tall enough to subsample).
    rng = np.random.default_rng(seed)
    X_medium = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + 1.0
    y = np.argmax(X_medium[:, :k] * 3 + rng.gumbel(size=(n, k)), axis=1)
    weights = rng.uniform(0.5, 2.0, size=n)
    return X_medium, y, weights


def test_outer_form_hessian_is_the_block_products_hessian():
    raw = RNG.normal(size=(N, 4))
    labels = RNG.integers(0, 4, size=N)
    hessian = get_objective("cross_entropy").loss_gradient_hessian(
        labels, raw, WEIGHT
    )[2]
    diagonal, outer = hessian.outer_form()
    blocks = hessian.sample_blocks(raw.shape)
    by_hand = np.einsum("ik,kl->ikl", diagonal, np.eye(4)) - (
        outer[:, :, None] * outer[:, None, :]
    )
    assert_allclose(by_hand, blocks, rtol=1e-12, atol=1e-15)
    centred = RNG.normal(size=(N, 3))
    # Every class coupled: the Hessian. Some couplings left out: the same
    # sum with those entries of d_i and u_i zeroed, written out per sample.
    some = RNG.uniform(size=outer.shape) < 0.6
    for coupled in (np.ones(outer.shape, dtype=bool), some):
        kept = np.where(coupled, outer, 0.0)
        by_hand = np.einsum("ik,kl->ikl", np.where(coupled, diagonal, 0.0),
                            np.eye(4)) - kept[:, :, None] * kept[:, None, :]
        for fit_intercept in (True, False):
            rows = np.column_stack([centred, np.ones(N)]) if fit_intercept else centred
            index = dense_module.layout(4, 3, fit_intercept)
            expected = dense_module.dense_hessian(rows, by_hand, index)
            formed = preconditioner_module.dense_hessian_outer(
                rows.astype(np.float32), diagonal, outer, coupled, fit_intercept,
            )
            # float32 sums: rounding relative to the largest entry. The lower
            # triangle only (what the Cholesky factorisation reads).
            assert formed.dtype == np.float32 and formed.flags.f_contiguous
            assert_allclose(np.tril(formed), np.tril(expected), rtol=0,
                            atol=1e-6 * np.abs(expected).max())
            # A softmax's blocks with couplings left out stay semidefinite.
            symmetric = np.tril(formed) + np.tril(formed, -1).T
            assert np.linalg.eigvalsh(symmetric.astype(np.float64)).min() >= (
                -1e-6 * np.abs(symmetric).max())


def test_coupled_classes_are_the_likely_ones():
    # q rows: confident (0.9 with 0.08, 0.015 and 0.005 outside: the rest is
    # 0.1, so 1% of it is 0.001), uncertain, and a certain one (q = 1).
    q = np.array([[0.9, 0.08, 0.015, 0.005, 0.0],
                  [0.3, 0.3, 0.2, 0.1999, 0.0001],
                  [1.0, 0.0, 0.0, 0.0, 0.0]])
    weight = np.array([[2.0], [1.0], [0.5]])
    diagonal, outer = weight * q, np.sqrt(weight) * q
    assert_array_equal(
        preconditioner_module.coupled_classes(diagonal, outer, 0.01),
        [[True, True, True, True, False],
         [True, True, True, True, False],
         [True, False, False, False, False]],
    )
    assert_array_equal(preconditioner_module.coupled_classes(diagonal, outer, 0.1)[0],
                       [True, True, True, False, False])


def _medium_preconditioner(monkeypatch, dropped, share=0.0):
    X_medium, y, weights = _medium()
    monkeypatch.setattr(preconditioner_module, "PRECONDITIONER_DROPPED_TRACE", dropped)
    monkeypatch.setattr(preconditioner_module, "PRECONDITIONER_COUPLED_SHARE", share)
    risk = linear_risk(
        get_objective("cross_entropy"), X_medium, y, n_outputs=5,
        sample_weight=weights, alpha=1e-3,
    )
    assert not risk.model.dense and risk.model.preconditioned
    _, _, hessian = risk.loss_gradient_hessian(_point(risk, 0.2))
    assert not hessian.has_dense and hessian.has_preconditioner
    by_products = np.column_stack([hessian.matvec(e) for e in np.eye(risk.n_params)])
    flat = hessian.flat_directions
    assert flat.shape == (risk.n_params, 1)
    projector = np.eye(risk.n_params) - flat @ flat.T
    lower = np.tril(hessian.preconditioner())  # the upper triangle is not read
    assert lower.dtype == np.float32
    formed = lower + np.tril(lower, -1).T
    return risk, X_medium, weights, by_products, projector @ formed @ projector, hessian


def _formation_cost(block_rows, n_rows=600, width=41, k=5):
    # D^2 multiply-adds per (row, block) the formation sums, (kD)^3 / 6 for
    # the Cholesky factor, over a product's 2 n k D, and the blocks' calls.
    n_params = k * width
    work = block_rows * width**2 + n_params**3 / 6
    calls = preconditioner_module.FORMATION_BLOCK_CALL * k * (k + 1) / 2
    return work / (2 * n_rows * n_params) + calls


def test_medium_softmax_offers_its_hessian_as_a_preconditioner(monkeypatch):
    # With every row and every coupling kept, the formed matrix is the
    # Hessian (up to its float32 sums) on the directions off the flat one.
    _, _, _, by_products, formed, hessian = _medium_preconditioner(monkeypatch, 0.0)
    assert_allclose(formed, by_products, rtol=0,
                    atol=1e-5 * np.abs(by_products).max())
    # Every row adds to all k (k + 1) / 2 = 15 blocks: the estimate, above
    # the schedule's nominal cost (the bound the solver compares first).
    nominal = preconditioner_module.nominal_preconditioner_cost(41, 5)
    assert nominal == pytest.approx((5 * 41 / 4 + 41 / 2) / 3)
    assert hessian.least_preconditioner_cost == pytest.approx(nominal)
    assert _formation_cost(600 * 15) > nominal
    assert hessian.preconditioner_cost == pytest.approx(_formation_cost(600 * 15))


def test_preconditioner_leaves_out_the_least_curved_rows(monkeypatch):
    # The default preconditioner is the Hessian less the rows of least
    # curvature carrying at most 1% of its trace, with the unlikely classes
    # of each row left out: checked against sum_i H_i (x) r_i r_i^T over the
    # rows kept, with those classes' q_ik zeroed in H_i, written out here.
    # (A coupled share of 0.1, not the default 0.01 under which these mild
    # probabilities keep 99% of the couplings.)
    risk, X_medium, weights, by_products, formed, hessian = _medium_preconditioner(
        monkeypatch, 0.01, share=0.1
    )
    coef, intercept = risk.unpack(_point(risk, 0.2))
    q = softmax(X_medium @ coef.T + intercept, axis=1)
    blocks = weights[:, None, None] * (
        np.einsum("ik,kl->ikl", q, np.eye(5)) - q[:, :, None] * q[:, None, :]
    )
    coordinates = risk.model.coordinates
    rows = np.column_stack([(X_medium - coordinates.x_mean) @ coordinates.whitener,
                            np.ones(len(X_medium))])
    share = np.trace(blocks, axis1=1, axis2=2) * (rows**2).sum(axis=1)
    order = np.argsort(share)
    n_dropped = np.searchsorted(np.cumsum(share[order]), 0.01 * share.sum(),
                                side="right")
    assert 0 < n_dropped < len(share) // 2
    kept = np.sort(order[n_dropped:])
    top = q.argmax(axis=1)
    rest = q.sum(axis=1) - q.max(axis=1)  # outside the most probable class
    coupled = (q >= 0.1 * rest[:, None]) & (q > 0)
    coupled[np.arange(len(q)), top] = True
    assert 0.3 < coupled.mean() < 0.9
    # The formation's cost counts a kept row once per block it adds to (and
    # is never below the nominal one).
    count = coupled[kept].sum(axis=1)
    assert hessian.preconditioner_cost == pytest.approx(max(
        _formation_cost((count * (count + 1) // 2).sum()),
        preconditioner_module.nominal_preconditioner_cost(41, 5),
    ))
    q_coupled = np.where(coupled, q, 0.0)
    approximate = weights[:, None, None] * (
        np.einsum("ik,kl->ikl", q_coupled, np.eye(5))
        - q_coupled[:, :, None] * q_coupled[:, None, :]
    )
    index = dense_module.layout(5, 40, True)
    # The products' Hessian (penalty included) with the data part swapped.
    expected = by_products + (
        dense_module.dense_hessian(rows[kept], approximate[kept], index)
        - dense_module.dense_hessian(rows, blocks, index)
    ) / weights.sum()
    flat = np.zeros(risk.n_params)
    flat[-5:] = 1 / np.sqrt(5)  # the intercepts' common shift
    projector = np.eye(risk.n_params) - np.outer(flat, flat)
    assert_allclose(formed, projector @ expected @ projector, rtol=0,
                    atol=1e-5 * np.abs(by_products).max())


def test_curved_rows_keep_all_but_the_fraction():
    weight = np.array([5.0, 0.01, 3.0, 0.02, 0.0, 2.0])
    # 1% of 10.03 is 0.1003: 0.0, 0.01 and 0.02 go, in any order of the rows.
    assert_array_equal(preconditioner_module.curved_rows(weight, 0.01), [0, 2, 5])
    assert_array_equal(preconditioner_module.curved_rows(weight, 0.0), [0, 1, 2, 3, 5])
    assert_array_equal(preconditioner_module.curved_rows(weight, -1.0), np.arange(6))


def test_cg_preconditioned_by_the_exact_hessian_takes_one_product():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 30))
    matrix = A @ A.T + 0.1 * np.eye(30)
    grad = rng.normal(size=30)
    from skdiv._model import HessianOperator
    from skdiv._solvers._newton import _cholesky, truncated_cg

    factor = _cholesky(matrix.copy())
    step, products, _ = truncated_cg(
        HessianOperator(lambda v: matrix @ v), grad, factor=factor,
        return_products=True,
    )
    assert products == 1
    assert_allclose(step, np.linalg.solve(matrix, -grad), rtol=1e-9)


def _medium_fit(X_medium, y, weights, alpha, tol=1e-10, **kwargs):
    from skdiv._solvers import minimize

    risk = linear_risk(
        get_objective("cross_entropy"), X_medium, y, n_outputs=5,
        sample_weight=weights, alpha=alpha, **kwargs,
    )
    params, _ = minimize(risk, np.zeros(risk.n_params), tol=tol, max_iter=200)
    return risk, params


@pytest.mark.parametrize("alpha", [1e-3, 1e-6])
def test_preconditioned_fit_is_the_jacobi_fit(monkeypatch, alpha):
    # The formed preconditioner changes how CG gets there, not where: with
    # exact (float64) products the same objective, and coefficients and
    # intercepts (no drift along their flat common shift) as the fit
    # preconditioned by the diagonal alone, within what the two gradients
    # certify: |theta - theta*| <= |g| / lambda_min near the optimum, with
    # lambda_min the Hessian's least eigenvalue off the flat direction.
    X_medium, y, weights = _medium()
    calls = []
    original = dense_module.DenseForms._outer_hessian

    def counted(self, selection):
        calls.append(1)
        return original(self, selection)

    monkeypatch.setattr(dense_module.DenseForms, "_outer_hessian", counted)
    # tol=1e-12: a fit stops just below tol, and the bound must be tight
    # enough to say something (below 1e-4 of the coefficients' scale).
    risk, formed = _medium_fit(X_medium, y, weights, alpha, tol=1e-12,
                               hessian_precision="double")
    assert calls, "the fit never formed its preconditioner"
    monkeypatch.setattr(dense_module, "PRECONDITIONER_MAX_PARAMS", 0)
    _, jacobi = _medium_fit(X_medium, y, weights, alpha, tol=1e-12,
                            hessian_precision="double")
    _, grad, hessian = risk.loss_gradient_hessian(formed)
    jacobi_grad = risk.loss_gradient(jacobi)[1]
    matrix = np.column_stack([hessian.matvec(e) for e in np.eye(risk.n_params)])
    least = np.linalg.eigvalsh((matrix + matrix.T) / 2)[1]  # [0]: the flat one
    bound = (np.linalg.norm(grad) + np.linalg.norm(jacobi_grad)) / least
    coef, intercept = risk.unpack(formed)
    jacobi_coef, jacobi_intercept = risk.unpack(jacobi)
    scale = np.abs(jacobi_coef).max()
    assert bound < 1e-4 * scale
    assert_allclose(coef, jacobi_coef, rtol=0, atol=bound)
    assert_allclose(intercept, jacobi_intercept, rtol=0, atol=bound)
    assert risk.loss(formed) == pytest.approx(risk.loss(jacobi), rel=1e-12)


@pytest.mark.parametrize("alpha", [1e-3, 1e-6])
def test_float32_products_reach_the_same_optimum(alpha):
    # Products on a centred float32 copy of the rows (the default here) are
    # exact to ~1e-7: the fit stops where tol says, at the optimum of the
    # exact-product fit up to the curvature's conditioning.
    X_medium, y, weights = _medium()
    risk, single = _medium_fit(X_medium, y, weights, alpha)
    assert risk.model.hessian_rows.X.dtype == np.float32
    _, double = _medium_fit(X_medium, y, weights, alpha, hessian_precision="double")
    assert risk.gradient_norm(risk.loss_gradient(single)[1]) <= 1e-10
    proba = {}
    for name, params in (("single", single), ("double", double)):
        coef, intercept = risk.unpack(params)
        proba[name] = softmax(X_medium @ coef.T + intercept, axis=1)
    assert_allclose(proba["single"], proba["double"], rtol=0, atol=1e-6)
    assert risk.loss(single) == pytest.approx(risk.loss(double), rel=1e-10)


def test_float32_data_keep_the_jacobi_preconditioner():
    # A nearly exact solve would amplify float32 rounding in the gradient
    # along the least-curved directions: the fit must reach tol, unwarned.
    X_medium, y, _ = _medium()
    risk = linear_risk(
        get_objective("cross_entropy"), X_medium.astype(np.float32), y, n_outputs=5,
        alpha=1e-4,
    )
    assert not risk.model.preconditioned
    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X = StandardScaler().fit_transform(digits_X).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = DivergenceClassifier().fit(digits_X, digits_y)
    reference = DivergenceClassifier(tol=1e-10).fit(digits_X.astype(np.float64),
                                                     digits_y)
    assert_allclose(fitted.predict_proba(digits_X), reference.predict_proba(digits_X),
                    atol=1e-5)


@pytest.mark.parametrize(
    "name", ["multinomial-whiten", "multinomial-diagonal", "binary"]
)
@pytest.mark.parametrize("alpha", [0.05, 0.0])
def test_penalty_and_projector_entries_are_their_matrices(name, alpha):
    from skdiv._adapter import _projector_entries

    risk = _risk(name, alpha=alpha)
    model, n_params = risk.model, risk.n_params
    from skdiv._model._base import Model

    # The structured entries, and the base class's from the dense matrix.
    for index, values in (model.penalty_entries(), Model.penalty_entries(model)):
        rebuilt = np.zeros(n_params * n_params)
        np.add.at(rebuilt, index, values)
        assert_allclose(rebuilt.reshape(n_params, n_params), model.penalty_dense(),
                        rtol=0, atol=1e-15)
    flat = model.flat_directions(bool(alpha))
    if flat.shape[1]:
        index, values = _projector_entries(flat)
        rebuilt = np.zeros(n_params * n_params)
        np.add.at(rebuilt, index, values)
        assert_allclose(rebuilt.reshape(n_params, n_params), flat @ flat.T,
                        rtol=0, atol=1e-15)


def test_preconditioner_is_formed_only_after_a_full_step(monkeypatch, capsys):
    # Digits with label_smoothing=0.05 cuts its fourth Newton step to a
    # hundredth of its length, after a solve of many products. A Hessian
    # formed there made the next steps as long and as cut; it is formed only
    # once the step it follows was taken whole (the hard labels' fit, whose
    # steps are all whole, still forms it).
    from skdiv import DivergenceClassifier
    from skdiv._solvers import _newton

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    original = _newton._preconditioner_factor
    for smoothing, cuts in ((0.0, False), (0.05, True)):
        printed, formed_after = [], []  # verbose lines; how many per formation

        def recorded(matrix, printed=printed, formed_after=formed_after):
            printed.extend(capsys.readouterr().out.splitlines())
            formed_after.append(len(printed))
            return original(matrix)

        monkeypatch.setattr(_newton, "_preconditioner_factor", recorded)
        capsys.readouterr()
        model = DivergenceClassifier(label_smoothing=smoothing, verbose=1).fit(X, y)
        printed.extend(capsys.readouterr().out.splitlines())
        steps = [float(line.split("step")[-1]) for line in printed]
        assert len(steps) == model.n_iter_
        assert (min(steps) < 0.05) == cuts
        if not cuts:
            assert formed_after, "the hard labels' fit no longer forms it"
        for done in formed_after:
            assert steps[done - 1] == 1.0, (smoothing, done, steps)
