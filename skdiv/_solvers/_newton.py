"""Truncated Newton: conjugate gradients on Hessian products, line search."""

import warnings

import numpy as np
import scipy.linalg.blas
import scipy.linalg.lapack
from sklearn.exceptions import ConvergenceWarning

from ._common import max_abs, warn_not_converged

_EPS = float(np.finfo(np.float64).eps)

# The largest relative CG residual a Newton step accepts. Eisenstat and Walker
# use 0.5; far from the optimum that leaves CG at one or two steps, and the
# extra Newton iterations (a full pass each) cost more than the CG steps saved:
# 0.1 took the sparse 20,000 x 50,000 fit from 7 to 6 iterations and 1.6e-5 to
# 3e-7 from the optimum at tol=1e-8, and the dense 100,000 x 100 one from 11
# to 10 (benchmarks/bench_classifier.py).
_FORCING_CAP = 0.1

# After a full Newton step with an exact Hessian (all rows), the next forcing
# term is Eisenstat and Walker's first choice: how far the step's quadratic
# model was from the objective. Far from a near-separable fit's optimum that
# is 0.3-0.6, and solving CG to 0.03-0.1 there buys nothing; near the optimum
# it falls with the model's error. Capped here, since a looser solve costs a
# Newton iteration more often than it saves one (bench_medium.py: caps 0.2,
# 0.5 and 0.9 were slower than 0.3).
_MODEL_FORCING_CAP = 0.3
# ... and kept above the previous term to this power while that is above 0.1
# (their safeguard: the sequence may not fall faster than the quadratic
# convergence it is meant to preserve).
_GOLDEN = (1 + 5**0.5) / 2

# A line-search step below this fraction of the Newton step counts as "short".
_SHORT_STEP = 1e-8

# An exact (direct) Newton step is doubled while the objective's slope along
# it, at the step, is still below this fraction of the slope at the start
# (negative slopes): the quadratic model undershoots. It took the fits of
# the small benchmark sets from 10-12 Newton iterations to 7-8.
_EXTRAPOLATE = 0.2

# A formed preconditioner (HessianOperator.preconditioner) is formed, and
# factorised, once a solve took more products than this fraction of what
# forming it costs: the next solves, on a Hessian that has changed a little,
# take a few products instead. 0.3 before the model-based forcing terms (whose
# looser far-phase solves take fewer products), 0.25 since (bench_medium.py).
_FORM_AFTER = 0.25

# Diagonal shifts, relative to the mean diagonal entry, that a formed
# preconditioner which is not numerically positive definite is factorised
# with: the first that succeeds.
_PRECONDITIONER_SHIFTS = (0.0, 1e-6, 1e-4, 1e-2)

# Newton-CG keeps its Jacobi diagonal once a step lowers the objective by less
# than this fraction of itself: the sparse 20,000 x 50,000 fit then computes it
# 4 times instead of 6, with the same 36 CG steps, 3% faster.
_STALE_DIAGONAL = 1e-3

# A direct Newton step is taken only where every pivot of the Hessian's
# Cholesky factor, relative to its diagonal entry, is above this: below it
# the factorisation succeeds on rounding, the Hessian is singular (features
# repeated exactly), and the step along its null directions is noise divided
# by noise (coefficients of +-5e6 on a repeated column). CG then takes over.
_DIRECT_RCOND = 1e4 * _EPS


def truncated_cg(hessian, grad, *, floor=0.0, max_iter=200, inverse_diagonal=None,
                 factor=None, forcing=None, return_products=False):
    """Approximately solve ``H p = -grad`` by (preconditioned) conjugate gradients.

    The inner tolerance follows the forcing sequence ``min(0.1,
    sqrt(|g|)) |g|`` (Eisenstat & Walker), which gives superlinear
    convergence of the outer Newton iterations, but never goes below
    ``floor``: the gradient after the step is about the CG residual, so
    solving more exactly than the outer tolerance needs is wasted work. An
    approximate Hessian (``hessian.forcing_floor``, which a subsampled one
    sets) floors the forcing term: its own error bounds how good a step can
    be, and solving much more exactly than that buys no Newton iteration. On
    non-positive curvature CG stops with the step found so far, or with
    (preconditioned) steepest descent if that is the first direction, so the
    step is always a descent direction. ``inverse_diagonal``, the inverse of
    the Hessian's diagonal, makes it Jacobi-preconditioned CG: the same
    iteration on :math:`D^{-1/2} H D^{-1/2}`, whose spread of eigenvalues is
    smaller when curvature differs a lot between coordinates. ``factor``,
    the lower Cholesky factor of a formed approximation :math:`P` of the
    Hessian, preconditions by :math:`P^{-1}` instead (two triangular solves
    per step, and the operator's ``flat_directions`` projected out).
    ``forcing`` replaces the forcing sequence's term (Newton-CG passes
    :func:`model_forcing`'s); the operator's floor still applies.
    ``return_products`` also returns the number of Hessian products made
    and the 2-norm of the final residual :math:`\\lVert g + H p \\rVert`.

    CG works in ``hessian.dtype`` (float32 for
    Hessian products on float32 rows: half the memory traffic per vector
    update, and no less exact than the products themselves); the step is
    returned in float64.
    """
    dtype = hessian.dtype
    grad_norm = np.sqrt(grad @ grad)
    if forcing is None:
        forcing = _default_forcing(grad_norm)
    forcing = max(forcing, hessian.forcing_floor)
    inner_tol = max(forcing * grad_norm, floor)
    if factor is not None:
        dtype = np.dtype(np.float64)
    residual = (-grad).astype(dtype, copy=False)
    step = np.zeros_like(residual)
    if inverse_diagonal is not None:
        inverse_diagonal = inverse_diagonal.astype(dtype, copy=False)

    flat = hessian.flat_directions
    if factor is not None:
        # The factor's precision (float32 for a formed preconditioner).
        trsv = (scipy.linalg.blas.strsv if factor.dtype == np.float32
                else scipy.linalg.blas.dtrsv)

    def precondition(r, out=None):
        # z = M^-1 r (r itself without a preconditioner).
        if factor is not None:
            # Two triangular solves: LAPACK's potrs costs twice as much
            # for one right-hand side.
            z = trsv(factor, trsv(factor, r.astype(factor.dtype, copy=False), lower=1),
                     lower=1, trans=1).astype(np.float64, copy=False)
            if flat is not None:
                # The factor's rounding reaches into the flat directions.
                z -= flat @ (flat.T @ z)
            return z
        if inverse_diagonal is None:
            return r
        return np.multiply(inverse_diagonal, r, out=out)

    # Vector updates are in place, axpy by BLAS: one pass each, twice as fast
    # as numpy's a * x.
    z = precondition(residual)
    direction = z.copy()
    rz = residual @ z
    products = 0
    for i in range(max_iter):
        if np.sqrt(residual @ residual) <= inner_tol:
            break
        h_direction = hessian.matvec(direction)
        products += 1
        curvature = direction @ h_direction
        if curvature <= 1e-12 * (direction @ direction):
            step = (direction if i == 0 else step).astype(np.float64, copy=False)
            if return_products:
                return step, products, float(np.sqrt(residual @ residual))
            return step
        a = rz / curvature
        step = _axpy(a, direction, step)
        residual = _axpy(-a, h_direction, residual)
        z = precondition(residual, out=None if z is residual else z)
        rz_new = residual @ z
        # direction <- z + (rz_new / rz) direction
        direction *= rz_new / rz
        direction = _axpy(1.0, z, direction)
        rz = rz_new
    step = step.astype(np.float64, copy=False)
    if return_products:
        return step, products, float(np.sqrt(residual @ residual))
    return step


def _axpy(a, x, y):
    """``y += a * x`` in place (float64 or float32 ``y``), returning ``y``."""
    axpy = scipy.linalg.blas.saxpy if y.dtype == np.float32 else scipy.linalg.blas.daxpy
    return axpy(x, y, a=a)


def _default_forcing(grad_norm):
    """The forcing sequence's term: :math:`\\min(0.1, \\sqrt{\\lVert g \\rVert})`."""
    return min(_FORCING_CAP, np.sqrt(grad_norm))


def model_forcing(grad_norm, new_grad_norm, residual_norm, previous):
    r"""Eisenstat and Walker's first forcing term, safeguarded and capped.

    After a full step :math:`p` from a point with gradient :math:`g`, CG's
    residual :math:`g + H p` is the gradient the quadratic model predicted,
    and

    .. math::

        \eta = \frac{\bigl|\, \lVert g_{\mathrm{new}} \rVert
                - \lVert g + H p \rVert \,\bigr|}{\lVert g \rVert}

    is how far the model was from the objective, relative to the gradient
    (Eisenstat and Walker, SIAM J. Sci. Comput. 17(1), 1996, choice 1):
    solving the next system much more exactly than that is wasted. The
    term is kept above :math:`\eta_{\mathrm{previous}}^{(1 + \sqrt 5)/2}`
    while that is above 0.1, and capped at :data:`_MODEL_FORCING_CAP`. All
    norms are 2-norms.
    """
    eta = abs(new_grad_norm - residual_norm) / grad_norm
    safeguard = previous**_GOLDEN
    if safeguard > 0.1:
        eta = max(eta, safeguard)
    return min(eta, _MODEL_FORCING_CAP)


def _inverse_diagonal(hessian):
    """``1 / hessian.diagonal()`` when the operator provides it, else None."""
    diagonal = hessian.diagonal()
    if diagonal is None:
        return None
    # A zero diagonal entry is a zero row of the (PSD) Hessian: any scale will do.
    return 1.0 / np.where(diagonal > 0, diagonal, 1.0)


def direct_step(hessian, grad):
    """The Newton step by a Cholesky solve, where the Hessian comes whole.

    None when the operator has no :meth:`~skdiv._model.HessianOperator.dense`
    form or it is not numerically positive definite, or a pivot of its
    factor is at most :data:`_DIRECT_RCOND` of its diagonal entry (then
    conjugate gradients, which handle a singular or indefinite Hessian, take
    over).
    """
    if not hessian.has_dense:
        return None
    matrix = hessian.dense()
    diagonal = np.diagonal(matrix).copy()  # _cholesky overwrites the matrix
    factor = _cholesky(matrix)
    if factor is None:
        return None
    # A pivot L_jj^2 is what is left of H_jj once the directions before j are
    # taken out: a column repeated exactly leaves rounding, about eps H_jj.
    # The smallest relative pivot tells that as LAPACK's condition estimate
    # (dpocon) does, at a fifth of its cost on these small matrices.
    pivots = np.diagonal(factor) ** 2 / diagonal
    if not pivots.min() > _DIRECT_RCOND:
        return None
    step, info = scipy.linalg.lapack.dpotrs(factor, -grad, lower=True)
    return step if info == 0 and np.all(np.isfinite(step)) else None


def _cholesky(matrix):
    """The lower Cholesky factor of symmetric ``matrix`` (overwritten), or None.

    In the matrix's precision (float64, or float32 for a formed
    preconditioner); None when it is not numerically positive definite.
    """
    if not np.all(np.isfinite(matrix)):
        return None
    if not matrix.flags.f_contiguous:
        # The same matrix (symmetric) in LAPACK's order: no copy.
        matrix = matrix.T
    # LAPACK directly (the scipy.linalg wrappers, get_lapack_funcs too, cost
    # more than the factorisation of a small matrix).
    potrf = (scipy.linalg.lapack.spotrf if matrix.dtype == np.float32
             else scipy.linalg.lapack.dpotrf)
    factor, info = potrf(matrix, lower=True, clean=False, overwrite_a=True)
    return factor if info == 0 else None


def _preconditioner_factor(matrix):
    r"""The Cholesky factor of a formed preconditioner, shifted if need be.

    A preconditioner need not be the Hessian: when ``matrix`` is not
    numerically positive definite (float32 sums of a nearly singular
    Hessian, a tiny penalty) it is factorised as :math:`P + s\,
    \bar p\, I`, with :math:`\bar p` its mean diagonal entry and :math:`s`
    the first of :data:`_PRECONDITIONER_SHIFTS` that succeeds; None if none
    does.
    """
    if not np.all(np.isfinite(matrix)):
        return None
    mean_diagonal = np.trace(matrix) / matrix.shape[0]
    diagonal = np.diag_indices_from(matrix)
    for shift in _PRECONDITIONER_SHIFTS:
        trial = matrix.copy(order="K")
        trial[diagonal] += shift * mean_diagonal
        factor = _cholesky(trial)
        if factor is not None:
            return factor
    return None


def _backtrack(t, value, slope, trial_value, trial_slope):
    r"""The next, shorter trial step after step ``t`` failed the Armijo test.

    The minimiser of the cubic that matches :math:`\phi(s) = f(x + s p)` and
    its slope at 0 and at ``t`` (Nocedal and Wright, *Numerical
    Optimization*, eq. 3.59), kept within :math:`[0.1 t, 0.5 t]` and
    rounded to a power of :math:`2^{1/4}`: where the
    quadratic model overshoots by far (a soft-label fit whose confident rows
    pass their targets' logits), one or two evaluations instead of a halving
    per factor 2. Halving when the trial's value is not finite or the cubic
    has no minimiser.
    """
    if not (np.isfinite(trial_value) and np.isfinite(trial_slope)):
        return 0.5 * t
    d1 = slope + trial_slope - 3.0 * (trial_value - value) / t
    discriminant = d1 * d1 - slope * trial_slope
    if discriminant < 0:
        return 0.5 * t
    d2 = np.sqrt(discriminant)
    denominator = trial_slope - slope + 2.0 * d2
    if not denominator > 0:
        return 0.5 * t
    cubic = t - t * (trial_slope + d2 - d1) / denominator
    cubic = min(max(cubic, 0.1 * t), 0.5 * t)
    # On the grid of powers of 2^(1/4): two fits whose values differ only by
    # rounding (rows repeated against integer weights) then take the same
    # steps, as halving did, and end at the same point even where the
    # objective has no optimum to converge to. (The cubic's minimiser comes
    # from a difference of values that cancels for short steps, so its
    # rounding can be far above the values'; a grid of 2^(1/64) flipped.)
    return float(2.0 ** (np.round(4.0 * np.log2(cubic)) / 4.0))


def _value_rounding(value, value_precision):
    """How much of a change of ``value`` is rounding.

    64 float64 roundings of ``max(|value|, 1)``, plus, for values computed
    from float32 data (``value_precision`` above float64's epsilon), 4 of
    ``|value|`` at that precision: the float32 products' rounding, which
    the mean over the rows brings to about one rounding of the value.
    """
    rounding = 64 * _EPS * max(abs(value), 1.0)
    if value_precision is not None and value_precision > _EPS:
        rounding += 4 * value_precision * abs(value)
    return rounding


def newton_cg(fun_hess, x0, *, max_iter=100, tol=1e-4, verbose=0, gradient_norm=None,
              value_precision=None):
    r"""Minimise by a truncated Newton method with a backtracking line search.

    Each iteration solves the Newton system :math:`H p = -g` approximately by
    conjugate gradients on exact Hessian-vector products (no Hessian is
    formed), or, when the operator offers the Hessian whole (small
    problems, :func:`direct_step`), exactly by a Cholesky solve; then it
    backtracks along :math:`p` until the Armijo condition holds, each trial
    at the minimiser of the cubic through the last one (:func:`_backtrack`).
    CG's accuracy follows the quadratic model's error at the last full step
    (:func:`model_forcing`) where the Hessian is exact. After a
    full exact step along which the objective still falls steeply (its
    slope at the step is below :data:`_EXTRAPOLATE` of the slope at the
    start: the far, nearly linear phase of a near-separable logistic fit),
    the step is doubled while that lowers the objective, up to eight times
    the Newton step. Near the optimum the objective's value stops
    resolving progress in floating point before its gradient does, so a
    step that leaves the value unchanged to rounding but lowers the
    gradient norm is accepted too: this
    lets the solver reach gradients far below :math:`\sqrt{\epsilon}`. It
    stops early, without a warning, after five such steps in a row: the
    gradient then sits at the noise floor of the data's precision. When the
    operator's Hessian came free with the gradient (``dense_free``: a Dask
    fit sums it in the gradient's pass), a converged fit takes one last,
    tiny, exact Newton step.

    Parameters
    ----------
    fun_hess : callable
        ``fun_hess(x) -> (value, gradient, hessian)`` with ``hessian`` a
        :class:`~skdiv._model.HessianOperator`: ``hessian.matvec(v)`` the
        product of the Hessian at ``x`` with ``v``.
    x0 : ndarray of shape (n_params,)
        Starting point.
    max_iter : int
        Maximum number of Newton iterations.
    tol : float
        Stop when ``gradient_norm(gradient) <= tol``.
    verbose : int
        Print one line per iteration when positive.
    gradient_norm : callable, default=None
        Maps the gradient to the stopping measure; the max-norm by default.
    value_precision : float, default=None
        The relative rounding of the values (``problem.value_precision``:
        float32 data's epsilon); float64's when None. A step that raises the
        value by no more than its rounding is taken when it lowers the
        gradient.

    Returns
    -------
    x : ndarray of shape (n_params,)
        The solution.
    n_iter : int
        Number of Newton iterations run.
    """
    gradient_norm = max_abs if gradient_norm is None else gradient_norm
    x = np.array(x0, dtype=np.float64)
    value, grad, hessian = fun_hess(x)
    norm = gradient_norm(grad)
    n_iter = stalled = short = 0
    resolved = False
    inverse_diagonal, decrease = None, np.inf
    factor, form = None, False
    forcing = None  # the forcing sequence's own term (see truncated_cg)
    while norm > tol and n_iter < max_iter and stalled < 5 and short < 5:
        n_iter += 1
        # CG's residual is about the next gradient: aim it at 0.1 tol in the
        # stopping measure, converted to CG's norm at the ratio the current
        # gradient has between the two.
        grad_norm = np.sqrt(grad @ grad)
        floor = 0.1 * tol * grad_norm / norm
        step = direct_step(hessian, grad)
        exact = step is not None
        if step is None:
            if form:
                # Kept until it goes stale: a factor that fails (an indefinite
                # Hessian far from a non-convex optimum) leaves Jacobi's.
                factor, form = _preconditioner_factor(hessian.preconditioner()), False
            # Any positive diagonal keeps preconditioned CG exact; once a step
            # changes the objective by less than _STALE_DIAGONAL of itself the
            # curvature has settled, and the last diagonal is kept (it costs a
            # product with X's square).
            if factor is None and (
                inverse_diagonal is None or decrease > _STALE_DIAGONAL * abs(value)
            ):
                inverse_diagonal = _inverse_diagonal(hessian)
            step, products, residual_norm = truncated_cg(
                hessian, grad, floor=floor, inverse_diagonal=inverse_diagonal,
                factor=factor, forcing=forcing, return_products=True,
            )
            if forcing is None:
                forcing = _default_forcing(grad_norm)
            # The cost itself (which may look at the data) is asked after the
            # line search, and only if this bound and a full step allow it.
            form = (
                hessian.has_preconditioner
                and products > _FORM_AFTER * hessian.least_preconditioner_cost
            )
        slope = grad @ step
        rounding = 64 * _EPS * max(abs(value), 1.0)
        # A step within the value's rounding (float32 data's, where the data
        # are float32) that lowers the gradient is progress the value cannot
        # show.
        resolution = _value_rounding(value, value_precision)
        t = 1.0
        for _ in range(50):
            x_new = x + t * step
            value_new, grad_new, hessian_new = fun_hess(x_new)
            norm_new = gradient_norm(grad_new)
            if value_new <= value + 1e-4 * t * slope or (
                value_new <= value + resolution and norm_new < norm
            ):
                break
            t = _backtrack(t, value, slope, value_new, grad_new @ step)
        else:
            # No step makes progress: the optimum is resolved to rounding.
            resolved = True
            break
        if t == 1.0 and exact:
            # Extrapolation: each doubling costs one evaluation, an iteration
            # saved costs a Hessian formed and factorised.
            while grad_new @ step < _EXTRAPOLATE * slope and t < 8:
                x_try = x + 2 * t * step
                trial = fun_hess(x_try)
                if not trial[0] < value_new:
                    break
                t *= 2
                x_new, (value_new, grad_new, hessian_new) = x_try, trial
                norm_new = gradient_norm(grad_new)
        # Steps the value cannot resolve, five in a row, mean the gradient has
        # reached the noise floor of the data's precision (float32 X, say).
        stalled = stalled + 1 if value - value_new <= rounding else 0
        # Steps cut below 1e-8 of the Newton step, five in a row: the
        # quadratic model is wrong at every scale the line search tries (an
        # objective unbounded below, such as a likelihood whose variance can
        # shrink to zero on exactly fitted samples). Stop rather than crawl.
        short = short + 1 if t < _SHORT_STEP else 0
        # A Hessian is formed only where its quadratic model held at the
        # step it gave: after a cut step (smoothed labels far from their
        # optimum), the preconditioner's nearly exact solves overshoot by as
        # much, and every following step is cut too.
        form = form and t == 1.0 and (
            products > _FORM_AFTER * hessian.preconditioner_cost
        )
        decrease = value - value_new
        if not exact and t == 1.0 and hessian.forcing_floor == 0.0:
            # The model's error sets the next solve's accuracy. Not after a
            # cut step (the model was wrong at that length) nor on an
            # approximate (subsampled) Hessian, whose disagreement with the
            # objective is its own error, which a looser solve adds to.
            forcing = model_forcing(grad_norm, np.sqrt(grad_new @ grad_new),
                                    residual_norm, forcing)
        else:
            forcing = None
        x, value, grad, hessian = x_new, value_new, grad_new, hessian_new
        norm = norm_new
        if verbose:
            print(
                f"[newton-cg] iter {n_iter:4d}  objective {value:.10g}  "
                f"gradient max-norm {norm:.3g}  step {t:g}"
            )
    if norm > tol and n_iter >= max_iter:
        warn_not_converged("Newton-CG", max_iter, norm, tol)
    elif norm > tol and short >= 5:
        warnings.warn(
            f"Newton-CG stopped after {n_iter} iterations: five line searches "
            f"in a row had to cut the Newton step below {_SHORT_STEP:g} of its "
            f"length, and the gradient max-norm is {norm:.3g} > tol={tol:g}. "
            "The objective may be unbounded below (a larger alpha helps) or "
            "very badly scaled.",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif norm <= tol and hessian.dense_free:
        # The Hessian at the solution came with its gradient: one more exact
        # Newton step costs nothing and takes a quadratically converging fit
        # to the rounding of its optimum. Taken only when it is tiny (the
        # predicted decrease, half the Newton decrement, below the value's
        # rounding), so that it needs no check.
        step = direct_step(hessian, grad)
        rounding = 64 * _EPS * max(abs(value), 1.0)
        if step is not None and -(grad @ step) <= rounding:
            x = x + step
    elif norm > tol and (resolved or stalled >= 5):
        how = (
            "no step along the Newton direction lowered the objective"
            if resolved else
            "five steps in a row changed the objective by less than its rounding"
        )
        # tol=0 asks for the optimum to rounding: there is no ratio to show.
        ratio = f" ({norm / tol:.3g} times it)" if tol > 0 else ""
        warnings.warn(
            f"Newton-CG stopped after {n_iter} iterations: {how}, and the "
            f"gradient max-norm is {norm:.3g} > tol={tol:g}{ratio}. The optimum "
            "is resolved to the precision the objective is computed in "
            "(float32 X limits it); a larger tol avoids this.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return x, n_iter
