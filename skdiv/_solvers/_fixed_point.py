r"""Anderson-accelerated fixed-point iteration over a flat parameter vector.

The solver of fits defined as a fixed point :math:`\theta = T(\theta)` where
each application of :math:`T` is itself a fit (a *refit*), such as the
beta-NLL of :class:`~skdiv.GaussianRegressor`: freeze the weights at the
current variances, refit, repeat. It knows nothing of the model: it sees
``refit(theta) -> (image, n_iter, converged)`` and a predicate
``diverged(theta)``.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["FixedPointResult", "anderson_fixed_point"]

#: Cap on the refits (the first one included).
MAX_REFITS = 100
#: Number of previous refits the Anderson step combines.
ANDERSON_MEMORY = 5


@dataclass(frozen=True)
class FixedPointResult:
    """Outcome of :func:`anderson_fixed_point`.

    Attributes
    ----------
    theta : ndarray
        The last accepted image :math:`T(\\theta)`.
    n_iter : int
        Solver iterations summed over all refits.
    status : {"converged", "refit_failed", "diverged", "max_refits"}
        ``"refit_failed"``: a refit reported that it did not converge;
        ``"diverged"``: the plain step's image satisfied ``diverged`` (the
        last image before it is returned); ``"max_refits"``: the cap was
        reached with the change still above ``tol``.
    change : float
        Max-norm of the last residual :math:`T(\\theta) - \\theta`.
    """

    theta: np.ndarray
    n_iter: int
    status: str
    change: float


def anderson_fixed_point(
    refit, diverged, theta, *, tol, max_refits=MAX_REFITS, memory=ANDERSON_MEMORY
):
    r"""Solve :math:`\theta = T(\theta)` by Anderson-accelerated iteration.

    The plain iteration :math:`\theta_{k+1} = T(\theta_k)` converges
    linearly, at a rate that can be close to 1. Each step here first tries
    the Anderson extrapolation: with the last (at most ``memory + 1``)
    images :math:`g_j = T(\theta_j)` and residuals :math:`r_j = g_j -
    \theta_j`,

    .. math::

        \gamma = \arg\min_\gamma \lVert r_k - \Delta R\, \gamma \rVert_2,
        \qquad \theta' = g_k - \Delta G\, \gamma ,

    with :math:`\Delta R, \Delta G` the differences of consecutive
    residuals and images. :math:`\theta'` is accepted unless its image is
    ``diverged``, in which case the history is dropped and the plain step is
    taken. The history is also restarted whenever the residual grows. The
    iteration stops when :math:`\lVert r_k \rVert_\infty \le` ``tol``, when
    a refit fails to converge (re-weighting cannot help then), when the
    plain step's image is ``diverged``, or after ``max_refits`` refits.

    Parameters
    ----------
    refit : callable
        ``refit(theta) -> (image, n_iter, converged)``.
    diverged : callable
        ``diverged(theta) -> bool``: points that must not be accepted (for
        instance spurious fixed points where the objective is flat).
    theta : ndarray
        The start.
    tol : float
        Tolerance on the max-norm of the residual.
    max_refits : int, default=100
        Cap on the number of refits, the first one included.
    memory : int, default=5
        Number of previous refits an Anderson step combines.

    Returns
    -------
    FixedPointResult
    """
    image, n_iter, converged = refit(theta)
    images, residuals = [], []
    status = None
    for _ in range(max_refits - 1):
        if not converged:
            status = "refit_failed"
            break
        residual = image - theta
        change = np.max(np.abs(residual))
        if change <= tol:
            status = "converged"
            break
        if residuals and change > np.max(np.abs(residuals[-1])):
            images, residuals = [], []
        images = [*images[-memory:], image]
        residuals = [*residuals[-memory:], residual]
        if len(images) > 1:
            d_residual = np.diff(residuals, axis=0).T
            gamma = scipy.linalg.lstsq(d_residual, residual)[0]
            extrapolated = image - np.diff(images, axis=0).T @ gamma
            candidate, n_last, converged = refit(extrapolated)
            n_iter += n_last
            if not diverged(candidate):
                theta, image = extrapolated, candidate
                continue
            images, residuals = [image], [residual]
        candidate, n_last, converged = refit(image)
        n_iter += n_last
        if diverged(candidate):
            status = "diverged"
            break
        theta, image = image, candidate
    change = float(np.max(np.abs(image - theta)))
    if status is None:
        status = "max_refits" if change > tol else "converged"
    return FixedPointResult(image, n_iter, status, change)
