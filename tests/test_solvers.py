"""Solvers: same optimum for every solver and parametrisation; warnings."""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skdiv._adapter import linear_risk
from skdiv._loss import CrossEntropy, GaussianNLL, KLDivergence
from skdiv._model import HessianOperator
from skdiv._solvers import lbfgs, minimize, newton_cg, truncated_cg
from skdiv._solvers._newton import _MODEL_FORCING_CAP, _backtrack, model_forcing


def _features(kind, rng, n=300, d=6):
    X = rng.normal(size=(n, d)) + 1.0
    if kind == "badly-scaled":
        X *= np.logspace(-2, 2, d)
    if kind == "sparse":
        X = sp.random(n, 3 * d, density=0.2, random_state=0, format="csr") * 3
    return X


def _target(name, X, rng):
    n = X.shape[0]
    Xd = X.toarray() if sp.issparse(X) else X
    Xs = (Xd - Xd.mean(0)) / (Xd.std(0) + 1e-12)
    if name == "ce-hard":
        logits = Xs[:, :3] @ rng.normal(size=(3, 3))
        return CrossEntropy(), (logits + rng.gumbel(size=logits.shape)).argmax(1), 3
    if name == "kl-soft":
        logits = Xs[:, :4] @ rng.normal(size=(4, 4))
        return KLDivergence(), rng.dirichlet(np.ones(4), size=n) * 0.5 + 0.5 * np.exp(
            logits - np.log(np.exp(logits).sum(1, keepdims=True))
        ), 4
    # Heteroscedastic Gaussian: log-variance linear in the features.
    y = Xs[:, 0] + np.exp(0.5 * 0.7 * Xs[:, 1]) * rng.normal(size=n)
    return GaussianNLL(), y, 2


def _reference(adapter):
    """A tight solve in the original coordinates, by SciPy's trust-ncg."""
    plain = linear_risk(
        adapter.objective, adapter.model.X, adapter.y, n_outputs=adapter.n_outputs,
        sample_weight=adapter.sample_weight, alpha=adapter.alpha,
        fit_intercept=adapter.model.fit_intercept, precondition="none",
    )
    cache = {}

    def hessp(x, v):
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = plain.loss_gradient_hessian(x)[2]
        return cache[key].matvec(v)

    x0 = plain.pack(np.zeros((adapter.n_outputs, adapter.n_features)))
    result = scipy.optimize.minimize(
        plain.loss_gradient, x0, jac=True, hessp=hessp, method="trust-ncg",
        options={"gtol": 1e-11, "maxiter": 2000},
    )
    # trust-ncg stops when the value no longer resolves progress.
    assert plain.gradient_norm(result.jac) < 1e-7
    return plain.unpack(result.x)


@pytest.mark.parametrize("features", ["well-scaled", "badly-scaled", "sparse"])
@pytest.mark.parametrize("target", ["ce-hard", "kl-soft", "gaussian-nll"])
def test_every_solver_and_parametrisation_reaches_the_reference(target, features):
    rng = np.random.default_rng(0)
    X = _features(features, rng)
    objective, y, k = _target(target, X, rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    common = dict(n_outputs=k, sample_weight=sw, alpha=1e-3)
    ref_coef, ref_intercept = _reference(linear_risk(objective, X, y, **common))
    # Newton-CG also with a Hessian from every third row only (the value and
    # gradient, hence the optimum, stay exact) and, with the diagonal
    # parametrisation, Jacobi-preconditioned CG.
    runs = [("lbfgs", 1), ("newton-cg", 1), ("newton-cg", 3)]
    for precondition in ["diagonal", "whiten"]:
        for solver, stride in runs:
            adapter = linear_risk(
                objective, X, y, precondition=precondition, hessian_stride=stride,
                **common,
            )
            x, n_iter = minimize(
                adapter, adapter.pack(np.zeros((k, adapter.n_features))),
                solver=solver, tol=1e-9, max_iter=5000,
            )
            coef, intercept = adapter.unpack(x)
            scale = max(1.0, np.abs(ref_coef).max())
            label = f"{precondition}/{solver}/stride {stride}"
            np.testing.assert_allclose(coef, ref_coef, atol=1e-5 * scale, err_msg=label)
            np.testing.assert_allclose(
                intercept, ref_intercept, atol=1e-5 * scale, err_msg=label
            )


def _cosh(x):
    """sum(cosh(x)): minimum 2 at 0, Hessian diag(cosh(x))."""
    return np.sum(np.cosh(x)), np.sinh(x), HessianOperator(lambda v: np.cosh(x) * v)


def _quadratic(x):
    scales = np.array([1.0, 100.0])
    return 0.5 * np.sum(scales * x**2), scales * x


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_max_iter_reached_warns(solver):
    if solver == "lbfgs":
        run = lambda: lbfgs(_quadratic, np.array([1.0, 1.0]), max_iter=1, tol=1e-12)  # noqa: E731
    else:
        # A non-quadratic function needs more than one Newton step.
        run = lambda: newton_cg(_cosh, np.array([3.0, -2.0]), max_iter=1,  # noqa: E731
                                tol=1e-12)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        x, n_iter = run()
    assert n_iter == 1


def test_newton_stops_when_line_searches_keep_cutting_the_step():
    # A Hessian model wrong by a factor 1e10 or more: every Newton step must
    # be cut below 1e-8 of its length. Five such steps in a row stop the
    # solver with a ConvergenceWarning instead of crawling to max_iter (on an
    # unbounded beta-NLL this took 1000 iterations of ~40 line-search
    # evaluations). The curvatures span 1e4, so that even the best step along
    # each (steepest-descent) direction leaves most of the way to go.
    eigenvalues = np.logspace(0, 4, 10)

    def wrong_curvature(x):
        return (0.5 * x @ (eigenvalues * x), eigenvalues * x,
                HessianOperator(lambda v: 1e-10 * v))

    start = np.ones(10)
    with pytest.warns(ConvergenceWarning, match="five line searches"):
        x, n_iter = newton_cg(wrong_curvature, start, tol=1e-12, max_iter=1000)
    assert n_iter == 5
    # Every accepted step still descended.
    assert x @ (eigenvalues * x) < start @ (eigenvalues * start)


def test_backtracking_lands_on_the_minimum_of_a_cubic_along_the_step():
    # phi(t) = f(x + t p) a cubic: matched with its slope at 0 and at the
    # failed trial, the interpolant is phi itself, so the next trial is its
    # minimiser (within [0.1 t, 0.5 t]), on the grid of powers of 2^(1/4);
    # halving when there is none.
    def phi(t):
        return 1.0 - 2.0 * t + 3.0 * t**2 + 2.0 * t**3

    def slope(t):
        return -2.0 + 6.0 * t + 6.0 * t**2

    t = 1.0
    minimiser = (-6.0 + np.sqrt(36.0 + 48.0)) / 12.0  # slope(t) = 0, t > 0
    trial = _backtrack(t, phi(0), slope(0), phi(t), slope(t))
    assert trial == 2.0 ** (np.round(4 * np.log2(minimiser)) / 4)
    assert abs(np.log2(trial / minimiser)) <= 1 / 8
    # Values that differ by rounding give the same trial.
    assert _backtrack(t, phi(0), slope(0), phi(t) * (1 + 1e-15), slope(t)) == trial
    # A much longer failed trial: clamped to a tenth of it.
    assert _backtrack(40.0, phi(0), slope(0), phi(40.0), slope(40.0)) == 4.0
    assert _backtrack(1.0, 0.0, -1.0, np.inf, np.nan) == 0.5


def test_soft_labels_far_from_their_optimum_need_few_evaluations():
    # Smoothed labels on near-separable data: the confident rows' logits
    # pass their targets' and the full Newton step overshoots by far. The
    # interpolating line search finds the step in a few evaluations where
    # halving took six per step (and 26 Newton iterations on digits).
    from sklearn.datasets import load_digits

    from skdiv._adapter import linear_risk
    from skdiv._loss import get_objective

    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 1e-12)
    Y = np.full((len(y), 10), 0.01)
    Y[np.arange(len(y)), y] = 0.91
    risk = linear_risk(get_objective("cross_entropy"), X, Y, n_outputs=10,
                       alpha=1e-4)
    calls = []
    original = risk.loss_gradient_hessian

    def counted(params):
        calls.append(1)
        return original(params)

    x, n_iter = newton_cg(counted, np.zeros(risk.n_params), tol=1e-8,
                          gradient_norm=risk.gradient_norm)
    assert risk.gradient_norm(risk.loss_gradient(x)[1]) <= 1e-8
    assert n_iter <= 16
    assert len(calls) <= 2 * n_iter + 1


def test_unbounded_nll_stops_early_with_one_warning():
    # Exactly fittable data: the likelihood has no optimum.
    from skdiv import GaussianRegressor

    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 5))
    y = (X[:, 0] * 4).astype(int)
    with pytest.warns(ConvergenceWarning) as record:
        model = GaussianRegressor().fit(X, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1 and "five line searches" in messages[0]
    assert model.n_iter_ < 1000
    assert np.all(np.isfinite(model.predict(X, return_std=True)))


def test_start_at_optimum_returns_without_iterating():
    x, n_iter = lbfgs(_quadratic, np.zeros(2), tol=1e-8)
    assert n_iter == 0 and np.all(x == 0)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_verbose_prints_progress(solver, capsys):
    if solver == "lbfgs":
        x, n_iter = lbfgs(lambda x: _cosh(x)[:2], np.array([2.0, -1.0]), tol=1e-7,
                          verbose=1)
    else:
        # Gradients far below sqrt(eps), where the value no longer changes.
        x, n_iter = newton_cg(_cosh, np.array([2.0, -1.0]), tol=1e-14, verbose=1)
        np.testing.assert_allclose(x, 0.0, atol=1e-14)
    np.testing.assert_allclose(x, 0.0, atol=1e-7)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == n_iter and "gradient max-norm" in lines[-1]


def test_unknown_solver_lists_valid_names():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    adapter = linear_risk(CrossEntropy(), X, rng.uniform(size=10), n_outputs=1)
    with pytest.raises(ValueError, match=r"\['lbfgs', 'newton-cg'\]"):
        minimize(adapter, np.zeros(3), solver="sag")


def test_cg_solves_an_approximate_hessian_only_as_far_as_its_forcing_floor():
    # A Hessian that says it is approximate (forcing_floor, as a subsampled
    # one does) is solved to that relative residual and no further; without
    # it, CG follows min(0.1, sqrt(|g|)) |g|.
    rng = np.random.default_rng(5)
    eigenvalues = np.logspace(0, 3, 200)
    grad = rng.normal(size=200) * 1e-3
    calls = []

    def matvec(v):
        calls.append(1)
        return eigenvalues * v

    def solve(forcing_floor=0.0):
        calls.clear()
        step = truncated_cg(HessianOperator(matvec, forcing_floor=forcing_floor), grad)
        return step, len(calls)

    exact, n_exact = solve()
    relative = np.linalg.norm(eigenvalues * exact + grad) / np.linalg.norm(grad)
    assert relative <= min(0.1, np.sqrt(np.linalg.norm(grad)))
    rough, n_rough = solve(forcing_floor=0.3)
    relative = np.linalg.norm(eigenvalues * rough + grad) / np.linalg.norm(grad)
    assert 0.1 < relative <= 0.3
    assert n_rough < n_exact
    assert grad @ rough < 0


def test_model_forcing_is_the_relative_error_of_the_quadratic_model():
    # |  |g_new| - |g + H p|  | / |g|, Eisenstat and Walker's choice 1.
    assert model_forcing(2.0, 0.5, 0.1, previous=0.2) == pytest.approx(0.2)
    assert model_forcing(2.0, 0.1, 0.5, previous=0.2) == pytest.approx(0.2)
    # Safeguard: not below previous ** golden ratio while that is above 0.1.
    golden = (1 + np.sqrt(5)) / 2
    assert model_forcing(2.0, 0.02, 0.0, previous=0.25) == pytest.approx(0.25**golden)
    # ... and not applied below 0.1 (0.2 ** golden = 0.074).
    assert model_forcing(2.0, 0.02, 0.0, previous=0.2) == pytest.approx(0.01)
    # Capped.
    assert model_forcing(2.0, 3.0, 0.1, previous=0.2) == _MODEL_FORCING_CAP


def test_cg_stops_at_the_forcing_it_is_given_and_reports_its_residual():
    rng = np.random.default_rng(7)
    eigenvalues = np.logspace(0, 3, 200)
    grad = rng.normal(size=200)
    operator = HessianOperator(lambda v: eigenvalues * v)
    rough, rough_products, rough_residual = truncated_cg(
        operator, grad, forcing=0.25, return_products=True
    )
    tight, tight_products, tight_residual = truncated_cg(
        operator, grad, forcing=1e-6, return_products=True
    )
    for step, residual in ((rough, rough_residual), (tight, tight_residual)):
        assert_allclose(residual, np.linalg.norm(eigenvalues * step + grad), rtol=1e-6)
    assert rough_residual <= 0.25 * np.linalg.norm(grad)
    assert tight_residual <= 1e-6 * np.linalg.norm(grad)
    assert rough_products < tight_products


def test_newton_solves_exactly_once_the_model_is_exact():
    # On a quadratic the model after the first step is exact (its error is
    # 0), so the second solve goes down to the floor and Newton stops after
    # two iterations; the forcing sequence's min(0.1, sqrt|g|) alone would
    # take one iteration per decade or so. A subsampled (approximate)
    # Hessian keeps that sequence: its disagreement with the objective is
    # its own error.
    rng = np.random.default_rng(8)
    eigenvalues = np.logspace(0, 2, 300)
    b = rng.normal(size=300)
    products = []

    def fun_hess(x, forcing_floor):
        def matvec(v):
            products.append(1)
            return eigenvalues * v

        grad = eigenvalues * x - b
        value = 0.5 * x @ (eigenvalues * x) - b @ x
        return value, grad, HessianOperator(matvec, forcing_floor=forcing_floor)

    x, n_iter = newton_cg(lambda x: fun_hess(x, 0.0), np.zeros(300), tol=1e-10)
    assert n_iter == 2
    assert_allclose(x, b / eigenvalues, rtol=1e-9)
    x, n_iter = newton_cg(lambda x: fun_hess(x, 1e-12), np.zeros(300), tol=1e-10)
    assert n_iter > 2
    assert_allclose(x, b / eigenvalues, rtol=1e-9)


def test_newton_keeps_its_jacobi_diagonal_once_the_objective_settles():
    # Any positive diagonal keeps preconditioned CG exact, so once a step
    # changes the objective by less than 1e-3 of itself the last diagonal is
    # kept: fewer diagonals than iterations, and the same optimum.
    rng = np.random.default_rng(6)
    X = sp.random(400, 60, density=0.1, random_state=2, format="csr") * 3
    y = rng.integers(0, 4, size=400)
    problem = linear_risk(
        CrossEntropy(), X, y, n_outputs=4, alpha=1e-3, precondition="diagonal"
    )
    diagonals = []

    def fun_hess(params):
        value, grad, hessian = problem.loss_gradient_hessian(params)
        counted = HessianOperator(
            hessian.matvec,
            diagonal=lambda: diagonals.append(1) or hessian.diagonal(),
            dtype=hessian.dtype, forcing_floor=hessian.forcing_floor,
        )
        return value, grad, counted

    x0 = np.zeros(problem.n_params)
    x, n_iter = newton_cg(
        fun_hess, x0, tol=1e-10, gradient_norm=problem.gradient_norm
    )
    assert n_iter >= 4 and len(diagonals) < n_iter
    assert problem.gradient_norm(problem.loss_gradient(x)[1]) <= 1e-10
    for a, b in zip(problem.unpack(x), _reference(problem), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_limit_nests_across_interleaved_solves():
    # Solve A starts, solve B starts, A ends, B ends (overlapping fits): A
    # owns the limit and restores the setting it found when it ends; B joins
    # it and restores nothing, so the user's setting is back after both.
    from threadpoolctl import threadpool_limits

    from skdiv._threads import single_blas_thread

    if not _blas_threads():
        pytest.skip("no BLAS thread pool found")
    with threadpool_limits(limits=2, user_api="blas"):
        a, b = single_blas_thread(), single_blas_thread()
        a.__enter__()
        assert set(_blas_threads()) == {1}
        b.__enter__()
        assert set(_blas_threads()) == {1}
        a.__exit__(None, None, None)
        assert set(_blas_threads()) == {2}  # the owner restored it
        b.__exit__(None, None, None)
        assert set(_blas_threads()) == {2}  # the user's block, unchanged
        # B first this time, then A inside it, A ends first: B still owns.
        b, a = single_blas_thread(), single_blas_thread()
        b.__enter__()
        a.__enter__()
        a.__exit__(None, None, None)
        assert set(_blas_threads()) == {1}
        b.__exit__(None, None, None)
        assert set(_blas_threads()) == {2}


def test_solves_overlapping_in_threads_leave_the_thread_pools_as_they_were():
    # Two solves in threads, in the order that left the process at one
    # thread before: A enters, B enters, A ends, B ends.
    import threading

    if not _blas_threads() or max(_blas_threads()) < 2:
        pytest.skip("no BLAS thread pool of more than one thread")
    a_inside, b_inside, a_done = (threading.Event() for _ in range(3))

    class Problem:
        def __init__(self, signal, wait_for):
            self.signal, self.wait_for = signal, wait_for

        def gradient_norm(self, grad):
            return float(np.abs(grad).max())

        def loss_gradient(self, x):
            self.signal.set()
            assert self.wait_for.wait(timeout=60)
            return 0.0, np.zeros_like(x)  # at the optimum: the solve ends

    def solve(problem, done=None):
        minimize(problem, np.zeros(2), solver="lbfgs")
        if done is not None:
            done.set()

    # (OpenBLAS ignores a limit set in a thread while the main thread is in
    # a threadpool_limits block of its own: no such block here.)
    before = _blas_threads()
    first = threading.Thread(target=solve, args=(Problem(a_inside, b_inside), a_done))
    first.start()
    assert a_inside.wait(timeout=60)
    second = threading.Thread(target=solve, args=(Problem(b_inside, a_done),))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert a_done.is_set() and not second.is_alive()
    assert _blas_threads() == before, (before, _blas_threads())


def test_thread_budget_follows_size_user_limit_and_free_cores():
    from skdiv._threads import WORK_PER_THREAD, thread_budget

    small, large = WORK_PER_THREAD / 2, 100 * WORK_PER_THREAD
    assert thread_budget(small, current=8, free=8) == 1
    assert thread_budget(large, current=8, free=8) == 8
    assert thread_budget(3 * WORK_PER_THREAD, current=8, free=8) == 3
    assert thread_budget(large, current=1, free=8) == 1  # the user's limit
    assert thread_budget(large, current=4, free=8) == 4  # never raised
    assert thread_budget(large, current=8, free=1) == 1  # a busy machine
    assert thread_budget(large, current=None, free=8) == 1  # no BLAS pool


def test_blas_threads_obey_the_users_limits(monkeypatch):
    from threadpoolctl import threadpool_limits

    import skdiv._threads as threads

    if not _blas_threads():
        pytest.skip("no BLAS thread pool found")
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    large = 100 * threads.WORK_PER_THREAD
    with threadpool_limits(limits=1, user_api="blas"):
        with threads.blas_threads(large):
            assert set(_blas_threads()) == {1}  # not raised
        assert set(_blas_threads()) == {1}
    with threadpool_limits(limits=2, user_api="blas"):
        with threads.blas_threads(large):
            assert set(_blas_threads()) == {2}  # large products keep both
        with threads.blas_threads(threads.WORK_PER_THREAD / 2):
            assert set(_blas_threads()) == {1}  # small ones run on one
        assert set(_blas_threads()) == {2}
    monkeypatch.setattr(threads, "free_cores", lambda: 1)
    with threadpool_limits(limits=2, user_api="blas"):
        with threads.blas_threads(large):
            assert set(_blas_threads()) == {1}  # the other core is busy
        assert set(_blas_threads()) == {2}


def test_product_work_sizes_the_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 7))
    risk = linear_risk(CrossEntropy(), X, rng.integers(0, 3, 300), n_outputs=3)
    assert risk.product_work == 300 * 3 * 8
    sparse = linear_risk(CrossEntropy(), sp.csr_matrix(X), rng.integers(0, 3, 300),
                         n_outputs=3)
    assert sparse.product_work == 0  # scipy's sparse products are not BLAS's


@pytest.mark.parametrize("scale", [1e-8, 1e-13, 1e-20])
@pytest.mark.parametrize("solver", ["newton-cg", "lbfgs"])
def test_stopping_rule_does_not_depend_on_the_units_of_X(solver, scale):
    # Issue 17, defect 6: at alpha=0 the fit on X * 1e-8 stopped at once
    # (n_iter_=0, zero coefficients), its gradient being 1e-8 of X's. Below
    # 1e-12 every feature was then taken for a constant (a fixed floor on
    # the standard deviations), with the same result.
    from sklearn.datasets import load_wine
    from sklearn.preprocessing import StandardScaler

    from skdiv import DivergenceClassifier

    X, y = load_wine(return_X_y=True)
    Z = StandardScaler().fit_transform(X)
    tol = 1e-8 if solver == "newton-cg" else 1e-5
    on_z = DivergenceClassifier(alpha=0, solver=solver, tol=tol, max_iter=5000)
    on_small = DivergenceClassifier(alpha=0, solver=solver, tol=tol,
                                    max_iter=5000)
    on_z.fit(Z, y)
    on_small.fit(Z * scale, y)
    assert on_small.n_iter_ > 0
    np.testing.assert_allclose(on_small.predict_proba(Z * scale),
                               on_z.predict_proba(Z), atol=1e-4)
    np.testing.assert_allclose(on_small.coef_ * scale, on_z.coef_, rtol=1e-3,
                               atol=1e-3)


def test_newton_warns_when_rounding_stops_it_short_of_tol():
    # The objective is computed in float32 (as on float32 rows), the gradient
    # exactly, and the Hessian over-estimated tenfold: each step removes a
    # tenth of the error, and once the value stops resolving the decrease
    # the solver stops, short of tol. It must say so, and how far.
    def fun_hess(x):
        value = float(np.float32(1.0 + 0.5 * np.sum((x - 1.0) ** 2)))
        return value, x - 1.0, HessianOperator(lambda v: 10.0 * v)

    with pytest.warns(ConvergenceWarning, match=r"rounding.*> tol=1e-12 \("):
        x, n_iter = newton_cg(fun_hess, np.zeros(3), tol=1e-12, max_iter=500)
    assert n_iter < 500
    assert 1e-12 < np.abs(x - 1.0).max() < 1e-2


def test_tol_zero_fits_to_rounding_and_warns_without_dividing_by_it():
    # tol=0 (allowed, as in scikit-learn) asks for the optimum to rounding:
    # the fit ends where the value stops resolving progress, with a warning
    # that has no ratio to tol. It crashed on that ratio before.
    from skdiv import DivergenceClassifier, GaussianRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    with pytest.warns(ConvergenceWarning, match=r"> tol=0\. The optimum"):
        exact = DivergenceClassifier(tol=0).fit(X, y)
    reference = DivergenceClassifier(tol=1e-12).fit(X, y)
    assert_allclose(exact.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(exact.intercept_, reference.intercept_, rtol=1e-9, atol=1e-12)

    target = X @ [1.0, -2.0, 0.5] + np.exp(0.3 * X[:, 1]) * rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor = GaussianRegressor(tol=0).fit(X, target)
    reference = GaussianRegressor(tol=1e-12).fit(X, target)
    assert_allclose(regressor.coef_, reference.coef_, rtol=1e-8, atol=1e-10)


def test_float32_factor_preconditions_cg_to_the_float64_solution():
    # A formed preconditioner comes in float32 (its factor and solves are
    # twice as fast): CG by its factor needs one product, and its step
    # solves the float64 system to float32's rounding times the condition
    # number, well inside the forcing term.
    from skdiv._solvers._newton import _cholesky

    rng = np.random.default_rng(3)
    A = rng.normal(size=(40, 40))
    matrix = A @ A.T + 0.5 * np.eye(40)
    grad = rng.normal(size=40)
    factor = _cholesky(matrix.astype(np.float32))
    assert factor.dtype == np.float32
    step, products, residual = truncated_cg(
        HessianOperator(lambda v: matrix @ v), grad, factor=factor,
        return_products=True,
    )
    assert step.dtype == np.float64
    assert products == 1
    # The residual CG reports is the Newton system's, g + H p.
    assert_allclose(residual, np.linalg.norm(grad + matrix @ step), rtol=1e-6)
    exact = np.linalg.solve(matrix, -grad)
    error = np.linalg.norm(step - exact) / np.linalg.norm(exact)
    assert error <= np.linalg.cond(matrix) * 10 * np.finfo(np.float32).eps
    assert error < 1e-3


def test_preconditioner_factor_shifts_a_matrix_that_is_not_definite():
    from skdiv._solvers._newton import _PRECONDITIONER_SHIFTS, _preconditioner_factor

    rng = np.random.default_rng(4)
    B = rng.normal(size=(30, 10))
    singular = (B @ B.T).astype(np.float32)  # rank 10 of 30
    mean_diagonal = np.trace(singular) / 30
    expected = None
    for shift in _PRECONDITIONER_SHIFTS:
        try:
            expected = np.linalg.cholesky(
                singular.astype(np.float64) + shift * mean_diagonal * np.eye(30)
            )
        except np.linalg.LinAlgError:
            continue
        break
    assert shift > 0, "the test needs a matrix that the first shift cannot factor"
    factor = _preconditioner_factor(singular.copy())
    lower = np.tril(factor)
    np.testing.assert_allclose(lower @ lower.T, expected @ expected.T,
                               rtol=0, atol=1e-4 * mean_diagonal)
    # The caller's matrix is left as it was, and no shift fixes an
    # indefinite one.
    np.testing.assert_array_equal(singular, (B @ B.T).astype(np.float32))
    assert _preconditioner_factor(-np.eye(5, dtype=np.float32)) is None
    assert _preconditioner_factor(np.full((3, 3), np.nan)) is None


def test_value_rounding_allows_for_float32_data():
    from skdiv._solvers._newton import _value_rounding

    eps64, eps32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps
    assert _value_rounding(0.5, None) == 64 * eps64
    assert _value_rounding(3.0, eps64) == 64 * eps64 * 3.0
    assert _value_rounding(0.5, eps32) == pytest.approx(64 * eps64 + 4 * eps32 * 0.5)


def test_models_report_the_precision_of_their_values():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = rng.integers(0, 3, size=50)
    for data, eps in [(X, np.finfo(np.float64).eps),
                      (X.astype(np.float32), np.finfo(np.float32).eps),
                      (sp.csr_matrix(X.astype(np.float32)), np.finfo(np.float32).eps)]:
        risk = linear_risk(CrossEntropy(), data, y, n_outputs=3, alpha=1e-3)
        assert risk.value_precision == eps


@pytest.mark.parametrize("alpha", [1e-4, 1e-3])
def test_float32_data_reach_tol_where_the_value_cannot_show_progress(alpha):
    # With float32 data the objective's value is rounded at about float32's
    # epsilon: near the optimum a Newton step may raise it by that much
    # while lowering the gradient. Such steps are taken, so the fit reaches
    # the default tol, unwarned, at the float64 fit's probabilities to
    # float32's accuracy. (Before, breast_cancer in float32 stopped after
    # 14-16 iterations with a ConvergenceWarning at both alphas.)
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    from skdiv import DivergenceClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        single = DivergenceClassifier(alpha=alpha).fit(X.astype(np.float32), y)
    double = DivergenceClassifier(alpha=alpha, tol=1e-12).fit(X, y)
    assert single.n_iter_ <= 10
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X),
                               rtol=0, atol=1e-5)


def test_set_up_copies_keep_to_the_thread_policy(monkeypatch):
    # The whitened float32 copy is a product of X with the whitener (n d^2):
    # on a problem whose set-up is small it runs on one BLAS thread, as the
    # moments and the solve do, whatever the pools are set to. Left at the
    # pools' two threads, its worker spun through the whole fit.
    from threadpoolctl import threadpool_limits

    import skdiv._model._linear as linear
    import skdiv._threads as threads

    if not _blas_threads():
        pytest.skip("no BLAS thread pool found")
    seen = []
    original = linear.HessianRows

    def recorded(*args, **kwargs):
        seen.append(set(_blas_threads()))
        return original(*args, **kwargs)

    monkeypatch.setattr(linear, "HessianRows", recorded)
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 30))
    y = rng.integers(0, 5, size=600)
    with threadpool_limits(limits=2, user_api="blas"):
        risk = linear_risk(CrossEntropy(), X, y, n_outputs=5, alpha=1e-4)
        assert risk.model.hessian_rows.whitened_copy
        assert seen == [{1}]
        assert set(_blas_threads()) == {2}
