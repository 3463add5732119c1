"""Objectives: pointwise losses in link (raw-prediction) space.

The bottom layer of skdiv. :class:`Objective` is the protocol
(:mod:`skdiv._loss._base`); the classification objectives live in
:mod:`skdiv._loss._classification`, the regression ones in
:mod:`skdiv._loss._regression`. :func:`get_objective` turns a name into an
instance.
"""

from ._base import DiagonalHessian, Objective, RawHessian, in_precision, weighted
from ._classification import (
    CrossEntropy,
    KLDivergence,
    SoftmaxHessian,
    SumZero,
    class_sums,
    log_softmax,
    row_entropy,
    softmax_lse,
    sum_zero_basis,
)
from ._regression import (
    LOG_VAR_LIMIT,
    BetaNLLPotential,
    GaussianHessian,
    GaussianKL,
    GaussianNLL,
    LogVarianceHead,
    SquaredError,
    Stagewise,
    with_fixed_mean,
)

OBJECTIVES = {
    cls.name: cls
    for cls in (CrossEntropy, KLDivergence, GaussianNLL, GaussianKL, SquaredError)
}


def get_objective(objective, allowed=None):
    """Turn a name or an objective instance into an objective instance.

    Parameters
    ----------
    objective : str or objective instance
        A key of :data:`OBJECTIVES` or an instance of one of its classes.
    allowed : sequence of str, default=None
        Restrict the accepted names (and instance classes) to these.

    Returns
    -------
    objective : objective instance

    Raises
    ------
    ValueError
        For an unknown name, listing the valid names in sorted order.

    Examples
    --------
    >>> from skdiv._loss import get_objective
    >>> get_objective("kl_divergence").name
    'kl_divergence'
    """
    names = sorted(allowed if allowed is not None else OBJECTIVES)
    if isinstance(objective, str):
        if objective not in names:
            raise ValueError(
                f"Unknown objective {objective!r}; valid names are {names}."
            )
        return OBJECTIVES[objective]()
    # Exact class match: KLDivergence is a CrossEntropy in code, not in meaning.
    if type(objective) in tuple(OBJECTIVES[name] for name in names):
        return objective
    raise ValueError(
        f"objective must be one of {names} or an instance of the matching "
        f"class, got {objective!r}."
    )


__all__ = [
    "LOG_VAR_LIMIT",
    "OBJECTIVES",
    "BetaNLLPotential",
    "CrossEntropy",
    "DiagonalHessian",
    "GaussianHessian",
    "GaussianKL",
    "GaussianNLL",
    "KLDivergence",
    "LogVarianceHead",
    "Objective",
    "RawHessian",
    "SoftmaxHessian",
    "SquaredError",
    "Stagewise",
    "SumZero",
    "class_sums",
    "get_objective",
    "in_precision",
    "log_softmax",
    "row_entropy",
    "softmax_lse",
    "sum_zero_basis",
    "weighted",
    "with_fixed_mean",
]
