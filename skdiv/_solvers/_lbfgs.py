"""L-BFGS-B from :func:`scipy.optimize.minimize`, stopped on skdiv's criterion."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._compat import minimize
from ._common import max_abs, warn_not_converged


def lbfgs(fun, x0, *, max_iter=1000, tol=1e-4, verbose=0, gradient_norm=None):
    """Minimise ``fun`` with L-BFGS-B from :func:`scipy.optimize.minimize`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient)``.
    x0 : ndarray of shape (n_params,)
        Starting point.
    max_iter : int
        Maximum number of L-BFGS iterations.
    tol : float
        Stop when ``gradient_norm(gradient) <= tol``.
    verbose : int
        Print one line per iteration when positive.
    gradient_norm : callable, default=None
        Maps the gradient to the stopping measure; the max-norm by default.

    Returns
    -------
    x : ndarray of shape (n_params,)
        The solution.
    n_iter : int
        Number of iterations run.
    """
    gradient_norm = max_abs if gradient_norm is None else gradient_norm
    last = {"x": None, "value": np.inf, "grad": None}

    def wrapped(x):
        value, grad = fun(x)
        last.update(x=x.copy(), value=value, grad=grad)
        return value, grad

    state = {"n_iter": 0, "norm": np.inf}

    def callback(intermediate_result):
        state["n_iter"] += 1
        x = intermediate_result.x
        if last["x"] is None or not np.array_equal(x, last["x"]):
            wrapped(x)
        state["norm"] = gradient_norm(last["grad"])
        if verbose:
            print(
                f"[lbfgs] iter {state['n_iter']:4d}  objective "
                f"{last['value']:.10g}  gradient max-norm {state['norm']:.3g}"
            )
        if state["norm"] <= tol:
            raise StopIteration

    # Converged already (warm start at the optimum): nothing to do.
    value0, grad0 = wrapped(np.asarray(x0, dtype=np.float64))
    if gradient_norm(grad0) <= tol:
        return last["x"], 0

    result = minimize(
        wrapped,
        last["x"],
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        # gtol=0 and ftol=0: stopping is ours (see the package docstring).
        # L-BFGS-B's own tests stop on a relative decrease of the value, which
        # at 64 eps (scikit-learn's choice) ends fits with gradients 10-100
        # times tol; without them it runs until tol or until no line search
        # can decrease the value any more, which is then reported.
        options={"maxiter": max_iter, "maxls": 50, "gtol": 0.0, "ftol": 0.0},
    )
    x = result.x
    if last["x"] is None or not np.array_equal(x, last["x"]):
        wrapped(x)
    norm = gradient_norm(last["grad"])
    if norm > tol:
        if state["n_iter"] >= max_iter:
            warn_not_converged("L-BFGS", max_iter, norm, tol)
        else:
            warnings.warn(
                f"L-BFGS stopped after {state['n_iter']} iterations with the "
                f"gradient max-norm at {norm:.3g} > tol={tol:g}: no line search "
                f"could decrease the objective any further ({result.message}). "
                "The optimum is resolved to the objective's rounding; a larger "
                "tol, or solver='newton-cg', which resolves gradients below "
                "it, avoids this.",
                ConvergenceWarning,
                stacklevel=3,
            )
    return x, state["n_iter"]
