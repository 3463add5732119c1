"""Metrics of Gaussian predictive intervals: coverage, width, interval score.

The functions take the predictions of a regressor with
``predict(X, return_std=True)``: a mean :math:`\\mu_i` and a standard deviation
:math:`\\sigma_i` per sample, read as the normal distribution
:math:`\\mathcal{N}(\\mu_i, \\sigma_i^2)`. The central interval at ``level``
:math:`1 - \\alpha` is

.. math::

    [l_i, u_i] = [\\mu_i - z \\sigma_i, \\; \\mu_i + z \\sigma_i],
    \\qquad z = \\Phi^{-1}(1 - \\alpha / 2),

the interval of :func:`scipy.stats.norm.interval`. :math:`z` is computed as
``norm.isf(alpha / 2)``: ``norm.ppf(1 - alpha / 2)`` would round ``1 - alpha / 2``
to one for a tiny ``alpha`` and return infinity.

Sample weights are divided by their largest value before they multiply
anything, so that huge but finite weights do not overflow a sum; every
weighted mean is :math:`\\sum_i w_i v_i / \\sum_i w_i`, so a weight of 2
counts like a repeated row.
"""

import numbers

import numpy as np
from scipy.stats import norm

from ._checks import _weighted_mean as _mean
from ._gaussian import _regression_inputs

__all__ = [
    "interval_coverage",
    "interval_coverage_gap",
    "interval_score",
    "interval_width",
]

_LOG2 = float(np.log(2.0))


# --------------------------------------------------------------------------
# Shared validation and arithmetic
# --------------------------------------------------------------------------


def _check_level(level):
    """Return ``level`` as a float in the open interval (0, 1)."""
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise ValueError(
            f"level must be a real number in the open interval (0, 1), got "
            f"{level!r}."
        )
    level = float(level)
    if not 0.0 < level < 1.0:  # also rejects NaN
        raise ValueError(
            f"level must lie in the open interval (0, 1), got {level!r}; it is "
            "the nominal probability of the central interval, e.g. 0.9."
        )
    return level


def _bounds(y_mean, y_std, level):
    """Lower and upper bounds of the central Gaussian interval at ``level``."""
    z = norm.isf((1.0 - level) / 2.0)
    # Extreme but finite inputs may overflow to +-inf, which is the right bound.
    with np.errstate(over="ignore"):
        half = z * y_std
        return y_mean - half, y_mean + half


def _interval_inputs(y_true, y_mean, y_std, level, sample_weight):
    level = _check_level(level)
    y_true, y_mean, y_std, sample_weight = _regression_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    return y_true, y_mean, y_std, level, sample_weight


def _log_abs_diff(a, b):
    """``log|a - b|`` without the overflow of ``a - b`` for finite a and b."""
    with np.errstate(divide="ignore"):  # log(0) = -inf: a == b
        return np.log(np.abs(0.5 * a - 0.5 * b)) + _LOG2


# --------------------------------------------------------------------------
# Interval metrics
# --------------------------------------------------------------------------


def interval_coverage(y_true, y_mean, y_std, *, level=0.9, sample_weight=None):
    r"""Fraction of targets inside the central Gaussian interval at ``level``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive; a scalar applies to
        every sample.

    level : float, default=0.9
        Nominal probability of the central interval, in the open interval
        (0, 1).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    coverage : float
        The weighted fraction of targets in :math:`[l_i, u_i]`, in [0, 1]. A
        calibrated model has a coverage close to ``level``.

    See Also
    --------
    interval_coverage_gap : ``|coverage - level|``, the scorer's metric.
    interval_width : The mean width of the same intervals.
    interval_score : A proper score that weighs width against misses.

    Notes
    -----
    With :math:`[l_i, u_i] = \mu_i \mp \Phi^{-1}(1 - \alpha/2)\,\sigma_i`,
    :math:`\alpha = 1 - \text{level}`, the interval of
    :func:`scipy.stats.norm.interval`, and weights :math:`w_i`,

    .. math::

        \mathrm{coverage} = \frac{\sum_i w_i \,
        \mathbf{1}\{l_i \le y_i \le u_i\}}{\sum_i w_i} .

    Coverage alone is not a score: the widest intervals cover everything.
    Report it with :func:`interval_width`, or use :func:`interval_score`.

    Examples
    --------
    >>> from skdiv.metrics import interval_coverage
    >>> y_true = [0.5, 1.0, 3.0, -2.0]
    >>> interval_coverage(y_true, [0.0, 0.0, 0.0, 0.0], 1.0, level=0.9)
    0.5
    >>> interval_coverage(y_true, [0.0, 0.0, 0.0, 0.0], 1.0,
    ...                   sample_weight=[3, 1, 0, 0])
    1.0
    """
    y_true, y_mean, y_std, level, sample_weight = _interval_inputs(
        y_true, y_mean, y_std, level, sample_weight
    )
    lower, upper = _bounds(y_mean, y_std, level)
    inside = (lower <= y_true) & (y_true <= upper)
    return _mean(inside.astype(np.float64), sample_weight)


def interval_coverage_gap(y_true, y_mean, y_std, *, level=0.9, sample_weight=None):
    r"""Absolute gap between the coverage of Gaussian intervals and ``level``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive.

    level : float, default=0.9
        Nominal probability of the central interval, in the open interval
        (0, 1).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    gap : float
        :math:`|\mathrm{coverage} - \text{level}|`, in [0, 1); 0 for a
        model whose intervals cover exactly the nominal fraction.

    See Also
    --------
    interval_coverage : The coverage itself.

    Notes
    -----
    This is the metric of ``neg_interval_coverage_gap_scorer``: a scorer must
    be greater when better, and a coverage is best neither high nor low but
    at ``level``. Under- and over-coverage by the same amount count alike.

    Examples
    --------
    >>> from skdiv.metrics import interval_coverage_gap
    >>> round(interval_coverage_gap([0.5, 1.0, 3.0, -2.0], [0.0] * 4, 1.0), 6)
    0.4
    """
    coverage = interval_coverage(
        y_true, y_mean, y_std, level=level, sample_weight=sample_weight
    )
    return abs(coverage - _check_level(level))


def interval_width(y_true, y_mean, y_std, *, level=0.9, sample_weight=None):
    r"""Mean width of the central Gaussian intervals at ``level``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets; only their number (and validity) matters, the
        argument is there for the metric signature.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive.

    level : float, default=0.9
        Nominal probability of the central interval, in the open interval
        (0, 1).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    width : float
        The weighted mean of :math:`u_i - l_i`, in the units of ``y_true``.

    See Also
    --------
    interval_coverage : The fraction of targets inside the same intervals.
    interval_score : Width plus penalties for the targets outside.

    Notes
    -----
    .. math::

        \mathrm{width} = \frac{\sum_i w_i (u_i - l_i)}{\sum_i w_i}
        = 2\,\Phi^{-1}(1 - \alpha/2) \, \frac{\sum_i w_i \sigma_i}{\sum_i w_i} .

    Narrow is good only at the nominal coverage; read it next to
    :func:`interval_coverage`.

    Examples
    --------
    >>> from skdiv.metrics import interval_width
    >>> round(interval_width([0.0, 1.0], [0.0, 0.0], [1.0, 2.0], level=0.9), 6)
    4.934561
    """
    y_true, y_mean, y_std, level, sample_weight = _interval_inputs(
        y_true, y_mean, y_std, level, sample_weight
    )
    lower, upper = _bounds(y_mean, y_std, level)
    with np.errstate(over="ignore"):
        return _mean(upper - lower, sample_weight)


def interval_score(y_true, y_mean, y_std, *, level=0.9, sample_weight=None):
    r"""Interval score of central Gaussian intervals (Gneiting and Raftery, 2007).

    A proper scoring rule for central prediction intervals: width, plus a
    penalty proportional to how far each target falls outside its interval.
    Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive.

    level : float, default=0.9
        Nominal probability of the central interval, in the open interval
        (0, 1).

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    score : float
        The weighted mean interval score, in the units of ``y_true``.

    See Also
    --------
    interval_coverage, interval_width : The two things it trades off.
    gaussian_crps : The integral of interval scores over all levels.

    Notes
    -----
    With :math:`\alpha = 1 - \text{level}` and the central interval
    :math:`[l_i, u_i]`, the interval score of equation (43) of Gneiting and
    Raftery (2007), negatively oriented, is

    .. math::

        S_\alpha(l, u; y) = (u - l)
        + \frac{2}{\alpha} (l - y) \, \mathbf{1}\{y < l\}
        + \frac{2}{\alpha} (y - u) \, \mathbf{1}\{y > u\},

    averaged with weights :math:`w_i`. Its expectation under the true
    distribution is smallest when :math:`l` and :math:`u` are the
    :math:`\alpha/2` and :math:`1 - \alpha/2` quantiles of that distribution.

    References
    ----------
    T. Gneiting and A. E. Raftery (2007). Strictly proper scoring rules,
    prediction, and estimation. *Journal of the American Statistical
    Association*, 102(477), 359-378.

    Examples
    --------
    >>> from skdiv.metrics import interval_score
    >>> round(interval_score([0.0], [0.0], 1.0, level=0.9), 6)  # width only
    3.289707
    >>> round(interval_score([3.0], [0.0], 1.0, level=0.9), 6)  # plus 20 * 1.355
    30.392635
    """
    y_true, y_mean, y_std, level, sample_weight = _interval_inputs(
        y_true, y_mean, y_std, level, sample_weight
    )
    lower, upper = _bounds(y_mean, y_std, level)
    penalty = 2.0 / (1.0 - level)
    # Extreme but finite inputs may overflow to inf, which is the right answer.
    with np.errstate(over="ignore"):
        below = np.where(y_true < lower, lower - y_true, 0.0)
        above = np.where(y_true > upper, y_true - upper, 0.0)
        score = (upper - lower) + penalty * (below + above)
        return _mean(score, sample_weight)
