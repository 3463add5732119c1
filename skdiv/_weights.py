"""Sample weights: the one validator of skdiv and its one set of messages."""

import numbers

import numpy as np
from sklearn.utils import check_array


def raise_for_sample_weight(any_nan, any_inf, minimum, maximum):
    """Raise the ValueError for the first problem of a weight vector, if any.

    The one set of messages for sample weights in skdiv: estimators (``fit``,
    ``partial_fit``, the Dask fit) and metrics all end here. It works on
    four reductions of the weights, so that a Dask fit can compute them
    lazily, together with its other checks, in one pass over the data.

    Parameters
    ----------
    any_nan, any_inf : bool
        Whether some weight is NaN, or infinite.
    minimum, maximum : float
        The smallest and largest weight (meaningless when ``any_nan``).

    Raises
    ------
    ValueError
        For NaN or infinite weights, negative weights, or weights that are
        all zero.
    """
    if any_nan:
        raise ValueError("Input sample_weight contains NaN.")
    if any_inf:
        raise ValueError("Input sample_weight contains infinity.")
    if minimum < 0:
        raise ValueError(
            f"sample_weight must be non-negative, got minimum {float(minimum)!r}."
        )
    if not maximum > 0:
        raise ValueError(
            "sample_weight must contain at least one non-zero weight, "
            "but all weights are zero."
        )


def sample_weight_reductions(xp, sample_weight):
    """The four reductions :func:`raise_for_sample_weight` needs (lazy on Dask)."""
    return (
        xp.isnan(sample_weight).any(),
        xp.isinf(sample_weight).any(),
        sample_weight.min(),
        sample_weight.max(),
    )


def check_sample_weight_shape(shape, n_samples):
    """Raise a ValueError unless ``shape`` is ``(n_samples,)``."""
    if len(shape) != 1:
        raise ValueError(
            f"sample_weight must be 1-D of shape (n_samples,) = ({n_samples},), "
            f"got shape {tuple(shape)}."
        )
    if shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {shape[0]} entries but there are {n_samples} "
            "samples."
        )


def check_sample_weight(sample_weight, n_samples):
    """Validate sample weights: the one validator of skdiv.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        Weights; None gives ones, a number gives that weight to every sample.
    n_samples : int
        The number of samples the weights belong to.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), float64
        Finite, non-negative and not all zero.

    Raises
    ------
    ValueError
        For a wrong shape, a non-numeric value, NaN or infinity, a negative
        weight, or weights that are all zero (see
        :func:`raise_for_sample_weight`).
    """
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    else:
        sample_weight = check_array(
            sample_weight, ensure_2d=False, ensure_all_finite=False,
            ensure_min_samples=0, dtype=np.float64, input_name="sample_weight",
        )
        check_sample_weight_shape(sample_weight.shape, n_samples)
    if n_samples:
        raise_for_sample_weight(*sample_weight_reductions(np, sample_weight))
    return sample_weight
