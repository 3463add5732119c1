r"""The regressor's solve steps, as free functions over in-memory or Dask ``X``.

:class:`~skdiv.GaussianRegressor` fits in stages: a closed-form
constant-variance start (:mod:`skdiv._targets`), then either the
log-variance head with the mean held fixed (:func:`fit_log_variance`,
``loss="squared_error"``) or the joint mean and log-variance fit with the
beta-NLL fixed point (:func:`fit_joint`). These functions are shared by the
in-memory fit and the Dask fit (:mod:`skdiv._scale._dask`), which pass the adapter
builder to use (:func:`~skdiv._adapter.linear_risk` or the Dask one,
:func:`~skdiv._scale._dask_model.dask_linear_risk`): neither calls into the
estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._adapter import ZeroInterceptConstraint, linear_risk
from ._loss import LOG_VAR_LIMIT, LogVarianceHead, with_fixed_mean
from ._solvers import _fixed_point, minimize

__all__ = ["fit_joint", "fit_log_variance"]


def fit_log_variance(
    X, target, sample_weight, objective, mean, start, *, alpha, solver, max_iter,
    tol, verbose, adapter=linear_risk, xp=np,
):
    """Second stage of ``squared_error``: the log-variance head, mean fixed.

    ``mean`` holds the fitted means (standardised units), ``start`` the
    constant log-variance to start from. ``adapter`` builds the
    risk (``linear_risk``, or ``dask_linear_risk`` for Dask arrays, with
    ``xp`` ``dask.array``).

    Returns ``(var_coef, var_intercept, n_iter)``.
    """
    problem = adapter(
        LogVarianceHead(objective),
        X,
        with_fixed_mean(xp, target, mean),
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
    beta, solver, max_iter, tol, verbose, adapter=linear_risk,
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
    was not reached. ``adapter`` builds the
    risk, as in :func:`fit_log_variance`.

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
        return problem if fit_intercept else ZeroInterceptConstraint(problem)

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
