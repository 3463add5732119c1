r"""The regressor's solve steps, as free functions over in-memory or Dask ``X``.

:class:`~skdiv.GaussianRegressor` fits in stages: a closed-form
constant-variance start (:mod:`skdiv._targets`), then either the
log-variance head with the mean held fixed (:func:`fit_log_variance`,
``loss="squared_error"``) or the joint mean and log-variance fit with the
beta-NLL fixed point (:func:`fit_joint`). These functions are shared by the
in-memory fit and the Dask fit (:mod:`skdiv._dask`), which pass the adapter
class to use (``LinearObjective`` or ``DaskLinearObjective``): neither calls
into the estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _fixed_point
from ._linear import LinearObjective
from ._objectives import LOG_VAR_LIMIT, _with_diagonal
from ._solvers import minimize

__all__ = ["fit_joint", "fit_log_variance"]


class _LogVarianceHead:
    """A Gaussian objective with the mean held fixed.

    Raw predictions are the log-variance alone (1-D), so that
    :class:`~skdiv._linear.LinearObjective` with ``n_outputs=1`` fits the
    variance head of a model whose mean is already fitted. The fixed mean is
    the last column of ``y_true`` (see :func:`_with_fixed_mean`): it travels
    with each row, so row subsets and Dask blocks carry their own.
    """

    def __init__(self, objective):
        self.objective = objective

    @staticmethod
    def _split(y_true, raw_prediction):
        target = y_true[:, 0] if y_true.shape[1] == 2 else y_true[:, :-1]
        return target, np.column_stack([y_true[:, -1], raw_prediction])

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        target, raw = self._split(y_true, raw_prediction)
        loss, grad = self.objective.loss_gradient(target, raw, sample_weight)
        return loss, grad[:, 1]

    def loss_gradient_hessp(self, y_true, raw_prediction, sample_weight=None):
        target, raw = self._split(y_true, raw_prediction)
        loss, grad, hessp = self.objective.loss_gradient_hessp(
            target, raw, sample_weight
        )
        # The (log-variance, log-variance) entry of the 2x2 per-sample Hessian.
        curvature = hessp.diagonal()[:, 1]
        hessp = _with_diagonal(lambda v: curvature * v, lambda: curvature)
        return loss, grad[:, 1], hessp


def _with_fixed_mean(xp, target, mean):
    """``y_true`` of :class:`_LogVarianceHead`: the target, then the mean."""
    return xp.concatenate(
        [target.reshape(-1, 1) if target.ndim == 1 else target, mean[:, None]], axis=1
    )


class _ZeroMeanIntercept:
    """A two-output :class:`LinearObjective` with the mean intercept fixed at 0.

    ``fit_intercept=False`` removes the intercept of the mean only: the
    log-variance keeps its intercept (the constant-variance model is the
    special case with zero log-variance coefficients). The adapter's solver
    parameters are ``theta = (W'_0, W'_1, b'_0, b'_1)`` with ``W = W' M``
    (``M`` symmetric) and ``b = b' - W mu``, so ``b_0 = 0`` is the linear
    constraint ``b'_0 = W'_0 . u`` with ``u = M mu``. This class eliminates
    ``b'_0`` by that constraint, keeping the adapter's preconditioning.
    """

    def __init__(self, linear):
        self.linear = linear
        d = self._d = linear.n_features
        # unpack maps W'_0 = mu to W_0 = mu M = (M mu)^T, since M is symmetric.
        probe = np.zeros(linear.n_params)
        probe[:d] = linear.x_mean
        self._u = linear.unpack(probe)[0][0]

    def _full(self, theta):
        d = self._d
        return np.insert(theta, 2 * d, theta[:d] @ self._u)

    def _reduce(self, grad):
        """Transpose of :meth:`_full`: a full gradient to a reduced one."""
        d = self._d
        reduced = np.delete(grad, 2 * d)
        reduced[:d] += grad[2 * d] * self._u
        return reduced

    def loss_gradient(self, theta):
        value, grad = self.linear.loss_gradient(self._full(theta))
        return value, self._reduce(grad)

    def loss_gradient_hessp(self, theta):
        value, grad, hessp = self.linear.loss_gradient_hessp(self._full(theta))
        # _full is affine with linear part A; the Hessian is A^T H A.
        linear_part = self._full(np.zeros_like(theta))
        return (
            value,
            self._reduce(grad),
            lambda v: self._reduce(hessp(self._full(v) - linear_part)),
        )

    def pack(self, coef, intercept):
        return np.delete(self.linear.pack(coef, intercept), 2 * self._d)

    def unpack(self, theta):
        return self.linear.unpack(self._full(theta))

    def gradient_norm(self, grad):
        # b'_0 moves b_0 alone, so a reduced gradient padded with 0 for b'_0
        # is the adapter's image of the original-coordinate gradient with
        # its b_0 component removed: exactly the stopping measure wanted.
        return self.linear.gradient_norm(np.insert(grad, 2 * self._d, 0.0))



def fit_log_variance(
    X, target, sample_weight, objective, mean, start, *, alpha, solver, max_iter,
    tol, verbose, adapter=LinearObjective, xp=np,
):
    """Second stage of ``squared_error``: the log-variance head, mean fixed.

    ``mean`` holds the fitted means (standardised units), ``start`` the
    constant log-variance to start from. ``adapter`` is the
    :class:`~skdiv._linear.LinearObjective` class to use (the Dask one for
    Dask arrays, with ``xp`` ``dask.array``).

    Returns ``(var_coef, var_intercept, n_iter)``.
    """
    problem = adapter(
        _LogVarianceHead(objective),
        X,
        _with_fixed_mean(xp, target, mean),
        n_outputs=1,
        sample_weight=sample_weight,
        alpha=alpha,
        fit_intercept=True,
    )
    x0 = problem.pack(np.zeros((1, X.shape[1])), [start])
    params, n_iter = minimize(
        problem, x0, solver=solver, max_iter=max_iter, tol=tol, verbose=verbose
    )
    coef, intercept = problem.unpack(params)
    return coef[0], float(intercept[0]), n_iter


_BETA_MESSAGES = {
    # The weighted likelihood has no finite optimum here (samples fitted
    # exactly): re-weighting cannot help.
    "refit_failed": (
        "stopped: a weighted refit did not converge, as happens "
        "when samples can be fitted exactly and the likelihood "
        "is unbounded; a larger alpha helps"
    ),
    "diverged": (
        "diverged: the re-weighted fit drives predicted "
        "variances to the upper bound. The last iterate before "
        "that is kept; a smaller beta or a larger alpha helps"
    ),
}


def fit_joint(
    X, target, sample_weight, objective, coef, intercept, *, alpha, fit_intercept,
    beta, solver, max_iter, tol, verbose, adapter=LinearObjective,
):
    """Mean and log-variance jointly, with the beta-NLL fixed point.

    ``coef`` (2, n_features) and ``intercept`` (2,) are the start, in
    original coordinates. With ``beta > 0`` the fit is the fixed point
    of ``T``: freeze the weights :math:`s_i \\sigma_i^{2\\beta}` at the
    current variances, refit (:func:`~skdiv._fixed_point.anderson_fixed_point`).
    The parameters are carried between refits in original coordinates,
    since each re-weighting changes the adapter's preconditioning and so
    the solver coordinates; a refit's image that puts a log-variance above
    the upper clip bound counts as diverged (the objective is flat there,
    so such points are spurious fixed points). A
    :class:`~sklearn.exceptions.ConvergenceWarning` says why a fixed point
    was not reached. ``adapter`` is the
    :class:`~skdiv._linear.LinearObjective` class to use.

    Returns ``(coef, intercept, n_iter)``.
    """
    n_features = X.shape[1]

    def problem_for(weights):
        problem = adapter(
            objective,
            X,
            target,
            n_outputs=2,
            sample_weight=weights,
            alpha=alpha,
            fit_intercept=True,
        )
        return problem if fit_intercept else _ZeroMeanIntercept(problem)

    def refit(theta):
        coef, intercept = theta[:-2].reshape(2, n_features), theta[-2:]
        weights = sample_weight
        if beta > 0:
            log_var = np.clip(
                X @ coef[1] + intercept[1], objective.log_var_min, LOG_VAR_LIMIT
            )
            # Shifted by the max: the objective's normalisation by the sum
            # of the weights makes the common factor irrelevant.
            weights = sample_weight * np.exp(beta * (log_var - log_var.max()))
        problem = problem_for(weights)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            params, n_iter = minimize(
                problem,
                problem.pack(coef, intercept),
                solver=solver,
                max_iter=max_iter,
                tol=tol,
                verbose=verbose,
            )
        converged = True
        for warning in caught:
            if beta > 0 and issubclass(warning.category, ConvergenceWarning):
                # Reported once, by the re-weighting loop.
                converged = False
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename,
                    warning.lineno,
                )
        coef, intercept = problem.unpack(params)
        return np.concatenate([coef.ravel(), intercept]), n_iter, converged

    def diverged(theta):
        return np.any(X @ theta[n_features:-2] + theta[-1] > LOG_VAR_LIMIT)

    theta = np.concatenate([np.ravel(coef), np.asarray(intercept, dtype=float)])
    if beta > 0:
        # The cap is read at call time, so that tests can lower it.
        max_refits = _fixed_point.MAX_REFITS
        result = _fixed_point.anderson_fixed_point(
            refit, diverged, theta, tol=tol, max_refits=max_refits
        )
        image, n_iter = result.theta, result.n_iter
        message = _BETA_MESSAGES.get(result.status)
        if result.status == "max_refits":
            message = (
                f"did not converge in {max_refits} re-weightings: the "
                f"coefficients still change by {result.change:.3g} > tol={tol:g}"
            )
        if message is not None:
            warnings.warn(
                f"The beta-NLL re-weighting (beta={beta}) {message}.",
                ConvergenceWarning,
                stacklevel=4,
            )
    else:
        image, n_iter, _ = refit(theta)
    coef, intercept = image[:-2].reshape(2, n_features), image[-2:]
    if not fit_intercept:
        intercept[0] = 0.0
    return coef, intercept, n_iter
