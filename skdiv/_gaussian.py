r"""The regressor's solve steps, as free functions over in-memory or Dask ``X``.

:class:`~skdiv.GaussianRegressor` fits in stages: a closed-form
constant-variance start (:mod:`skdiv._targets`), then either the
log-variance head with the mean held fixed (:func:`fit_log_variance`,
``loss="squared_error"``) or the joint mean and log-variance fit, plain or
beta-NLL (:func:`fit_joint`). These functions are shared by the
in-memory fit and the Dask fit (:mod:`skdiv._scale._dask`), which pass the adapter
builder to use (:func:`~skdiv._adapter.linear_risk` or the Dask one,
:func:`~skdiv._scale._dask_model.dask_linear_risk`): neither calls into the
estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._adapter import ZeroInterceptConstraint, linear_risk
from ._loss import (
    LOG_VAR_LIMIT,
    BetaNLLPotential,
    LogVarianceHead,
    SquaredError,
    with_fixed_mean,
)
from ._solvers import minimize

__all__ = ["fit_joint", "fit_log_variance", "warm_start_point"]


def warm_start_point(estimator, scaling, n_features):
    r"""The previous solution of a ``warm_start`` regressor, in the new units.

    ``None`` unless ``estimator.warm_start`` is set, the estimator is fitted
    with ``n_features`` features and its variance is heteroscedastic (a
    constant variance is closed form). The fitted attributes are in target
    units; the solve works on :math:`\tilde y = (y - \bar y)/s_y` of the new
    fit (``scaling``): :math:`\tilde w = w / s_y`, :math:`\tilde b = (b -
    \bar y)/s_y`, :math:`\tilde c = c - 2 \log s_y`. Only reads the estimator.

    Returns ``(coef, intercept, var_coef, var_intercept)`` or None.
    """
    coef = getattr(estimator, "coef_", None)
    if (
        not estimator.warm_start
        or estimator.variance != "heteroscedastic"
        or coef is None
        or coef.shape != (n_features,)
    ):
        return None
    offset, scale = scaling.offset, scaling.scale
    intercept = (float(estimator.intercept_) - offset) / scale
    if not estimator.fit_intercept:
        intercept = 0.0
    return (
        coef / scale,
        intercept,
        np.array(estimator.var_coef_, dtype=np.float64),
        float(estimator.var_intercept_) - 2.0 * np.log(scale),
    )


def fit_log_variance(
    X, target, sample_weight, objective, mean, start, *, alpha, solver, max_iter,
    tol, verbose, adapter=linear_risk, xp=np, coef0=None,
):
    """Second stage of ``squared_error``: the log-variance head, mean fixed.

    ``mean`` holds the fitted means (standardised units), ``start`` the
    constant log-variance to start from (with coefficients ``coef0``, zeros
    by default). ``adapter`` builds the
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
    coef0 = np.zeros(X.shape[1]) if coef0 is None else coef0
    x0 = problem.pack(np.reshape(coef0, (1, -1)), [start])
    params, n_iter = minimize(
        problem, x0, solver=solver, max_iter=max_iter, tol=tol, verbose=verbose
    )
    coef, intercept = problem.unpack(params)
    return coef[0], float(intercept[0]), n_iter


#: Cap on the re-weightings of the beta-NLL (the first one included).
MAX_REWEIGHTINGS = 50


def _beta_scale(X, var_coef, var_intercept, sample_weight, objective, beta):
    r"""The weighted mean of :math:`\sigma_i^{2\beta}` (log-variances clipped)."""
    log_var = np.clip(X @ var_coef + var_intercept, objective.log_var_min,
                      LOG_VAR_LIMIT)
    total = (sample_weight * np.exp(beta * log_var)).sum()
    return float(total) / float(sample_weight.sum())


def fit_joint(
    X, target, sample_weight, objective, coef, intercept, *, alpha, fit_intercept,
    beta, solver, max_iter, tol, verbose, adapter=linear_risk, xp=np,
):
    r"""Mean and log-variance jointly; with ``beta > 0``, the beta-NLL.

    ``coef`` (2, n_features) and ``intercept`` (2,) are the start, in
    original coordinates. ``beta = 0``: one solve of the penalised
    objective. ``beta > 0``: the beta-NLL fit is defined as the fixed point
    of re-weighting (freeze the weights :math:`s_i \sigma_i^{2\beta}`, refit
    the weight-normalised, penalised objective), that is

    .. math::

        \frac{\sum_i s_i \sigma_i^{2\beta} \nabla \ell_i}
             {\sum_i s_i \sigma_i^{2\beta}} + \alpha \theta = 0 .

    It is not found by refitting -- a weighted likelihood can be unbounded
    (samples fitted exactly), and re-weighting can run away -- but as a
    stationary point of a function bounded below: for :math:`0 < \beta < 1`
    the condition is that of :class:`~skdiv._loss.BetaNLLPotential`
    divided by :math:`c = \sum_i s_i \sigma_i^{2\beta} / \sum_i s_i`, with
    the L2 penalty, and :math:`c` is the only quantity re-weighted: each
    re-weighting minimises that function with :math:`c` frozen at the
    current variances (warm-started), until no coefficient (standardised
    units) changes by more than ``tol``; with ``alpha = 0``, :math:`c`
    cancels and one minimisation is the fit. For :math:`\beta = 1` the
    condition splits: the mean is penalised least squares (penalty
    :math:`\alpha c`), the log-variance the minimiser of the convex
    :math:`\phi` of ``BetaNLLPotential`` at that mean. A
    :class:`~sklearn.exceptions.ConvergenceWarning` says how far the
    coefficients still move when :data:`MAX_REWEIGHTINGS` is reached (each
    solver reports its own). ``adapter`` and ``xp`` build the risk, as in
    :func:`fit_log_variance`.

    Returns ``(coef, intercept, n_iter)``.
    """
    options = dict(solver=solver, max_iter=max_iter, tol=tol, verbose=verbose)

    def joint_problem(objective):
        problem = adapter(
            objective, X, target, n_outputs=2, sample_weight=sample_weight,
            alpha=alpha, fit_intercept=True,
        )
        return problem if fit_intercept else ZeroInterceptConstraint(problem)

    coef = np.array(coef, dtype=float)
    intercept = np.array(intercept, dtype=float)
    if beta == 0:
        problem = joint_problem(objective)
        params, n_iter = minimize(problem, problem.pack(coef, intercept), **options)
        coef, intercept = problem.unpack(params)
        if not fit_intercept:
            intercept[0] = 0.0
        return coef, intercept, n_iter

    n_iter, change = 0, np.inf
    max_reweightings = MAX_REWEIGHTINGS  # read at call time: tests lower it
    for _ in range(max_reweightings):
        scale = _beta_scale(X, coef[1], intercept[1], sample_weight, objective, beta)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if beta < 1:
                potential = BetaNLLPotential(objective, beta, scale)
                new_coef, new_intercept, n_solve = _beta_potential_step(
                    joint_problem(potential), potential.mean_factor, coef,
                    intercept, options,
                )
            else:
                new_coef, new_intercept, n_solve = _beta_one_step(
                    X, target, sample_weight, objective, coef, intercept, scale,
                    alpha=alpha, fit_intercept=fit_intercept, adapter=adapter,
                    xp=xp, options=options,
                )
        # A solver's ConvergenceWarning matters only for the last
        # re-weighting (the earlier ones are superseded): kept until then.
        unconverged = [w for w in caught if w.category is ConvergenceWarning]
        for w in caught:
            if w.category is not ConvergenceWarning:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        n_iter += n_solve
        change = max(float(np.max(np.abs(new_coef - coef), initial=0.0)),
                     float(np.max(np.abs(new_intercept - intercept))))
        coef, intercept = new_coef, new_intercept
        if change <= tol or alpha == 0:
            break
    else:
        warnings.warn(
            f"The beta-NLL re-weighting (beta={beta}) did not converge in "
            f"{max_reweightings} re-weightings: the coefficients still change "
            f"by {change:.3g} > tol={tol:g}.",
            ConvergenceWarning,
            stacklevel=4,
        )
    for w in unconverged:
        warnings.warn(
            f"The beta-NLL fit (beta={beta}), last re-weighting: {w.message}",
            ConvergenceWarning, stacklevel=4,
        )
    if not fit_intercept:
        intercept[0] = 0.0
    return coef, intercept, n_iter


def _beta_potential_step(problem, k, coef, intercept, options):
    """Minimise the potential at a frozen scale; its raw mean is mu / k."""
    start_coef = np.vstack([coef[0] / k, coef[1]])
    start_intercept = np.array([intercept[0] / k, intercept[1]])
    params, n_iter = minimize(problem, problem.pack(start_coef, start_intercept),
                              **options)
    new_coef, new_intercept = problem.unpack(params)
    new_coef, new_intercept = np.array(new_coef), np.array(new_intercept)
    new_coef[0] *= k
    new_intercept[0] *= k
    return new_coef, new_intercept, n_iter


def _beta_one_step(X, target, sample_weight, objective, coef, intercept, scale, *,
                   alpha, fit_intercept, adapter, xp, options):
    """beta = 1 at a frozen scale: least-squares mean, then the variance head."""
    point = target if target.ndim == 1 else target[:, 0]
    # (1/S) sum s r^2 / (2c) + alpha/2 |w|^2 has the minimiser of the
    # squared error with penalty alpha c.
    mean_problem = adapter(
        SquaredError(), X, point, n_outputs=1, sample_weight=sample_weight,
        alpha=alpha * scale, fit_intercept=fit_intercept,
    )
    params, n_mean = minimize(
        mean_problem, mean_problem.pack(coef[:1], intercept[:1]), **options
    )
    mean_coef, mean_intercept = mean_problem.unpack(params)
    mean_intercept = float(mean_intercept[0]) if fit_intercept else 0.0
    var_coef, var_intercept, n_var = fit_log_variance(
        X, target, sample_weight, BetaNLLPotential(objective, 1.0, scale),
        X @ mean_coef[0] + mean_intercept, intercept[1], coef0=coef[1],
        alpha=alpha, adapter=adapter, xp=xp, **options,
    )
    return (np.vstack([mean_coef[0], var_coef]),
            np.array([mean_intercept, var_intercept]), n_mean + n_var)
