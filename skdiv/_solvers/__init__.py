"""Solvers as free functions over a flat parameter vector.

A solver takes ``fun(params) -> (loss, grad)`` (for the second-order
solver, ``fun_hess(params) -> (loss, grad, hessian)`` with ``hessian`` a
:class:`~skdiv._model.HessianOperator`) and knows nothing about models or
objectives: :func:`lbfgs` (:mod:`skdiv._solvers._lbfgs`), :func:`newton_cg`
(:mod:`skdiv._solvers._newton`); :func:`minimize` is the one place where a
solver's name becomes a solver. Every solver stops on the same criterion, so that a
user switching solvers gets the same answer:

.. math::

    \\max_j \\lvert \\nabla_j F \\rvert \\le \\mathrm{tol},

the max-norm of the gradient of the (sample-weight normalised) objective
with respect to the model's own parameters, whatever coordinates the solver
works in; for the linear model, its intercepts and the coefficients of the
standardised features, :math:`\\partial F / \\partial W_{kj}` divided
by feature ``j``'s standard deviation, so that the rule does not depend on
the units of ``X`` (:meth:`skdiv._model.LinearModel.gradient_norm`). The
caller passes ``gradient_norm``, which maps a solver-space gradient to that
number.
"""

from .._threads import blas_threads
from ._adam import AdamResult, AdamState, adam
from ._lbfgs import lbfgs
from ._newton import newton_cg, truncated_cg

SOLVERS = {"lbfgs": lbfgs, "newton-cg": newton_cg}


def minimize(problem, x0, *, solver="auto", max_iter=1000, tol=1e-4, verbose=0):
    """Minimise a problem exposing ``loss_gradient`` and friends.

    The one place where a solver name becomes a solver: estimators pass
    their ``solver`` parameter and an adapter from :mod:`skdiv._adapter`.

    Parameters
    ----------
    problem : EmpiricalRisk
        Provides ``loss_gradient``, ``loss_gradient_hessian`` and
        ``gradient_norm`` (:class:`skdiv._adapter.EmpiricalRisk`, or a
        wrapper of it with the same methods).
    x0 : ndarray of shape (n_params,)
    solver : {"auto", "lbfgs", "newton-cg"}
        ``"auto"`` is ``"newton-cg"``: on every problem measured (see
        ``benchmarks/``) it was as fast as L-BFGS or much faster, and it
        does not stall on ill-conditioned problems.
    max_iter, tol, verbose
        As in :func:`lbfgs`.

    Returns
    -------
    x : ndarray of shape (n_params,)
    n_iter : int
    """
    if solver == "auto":
        solver = "newton-cg"
    if solver not in SOLVERS:
        raise ValueError(
            f"Unknown solver {solver!r}; valid names are {sorted(SOLVERS)}."
        )
    options = dict(max_iter=max_iter, tol=tol, verbose=verbose,
                   gradient_norm=problem.gradient_norm)
    # As many BLAS threads as help products of this size, within the user's
    # limits and the free cores (skdiv._threads).
    with blas_threads(getattr(problem, "product_work", 0)):
        if solver == "lbfgs":
            return lbfgs(problem.loss_gradient, x0, **options)
        return newton_cg(
            problem.loss_gradient_hessian, x0,
            value_precision=getattr(problem, "value_precision", None), **options,
        )


__all__ = [
    "SOLVERS",
    "AdamResult",
    "AdamState",
    "adam",
    "blas_threads",
    "lbfgs",
    "minimize",
    "newton_cg",
    "truncated_cg",
]
