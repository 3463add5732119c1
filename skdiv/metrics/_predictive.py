"""The calibration of Gaussian predictions beyond intervals: MSLL and the PIT.

The functions take a mean :math:`\\mu_i` and a standard deviation
:math:`\\sigma_i` per sample (``predict(X, return_std=True)``), read as the
normal distribution :math:`\\mathcal{N}(\\mu_i, \\sigma_i^2)`, with the
sample-weight conventions of :mod:`skdiv.metrics._interval`.
"""

import numpy as np
from scipy.special import logsumexp, ndtr

from ._checks import _check_1d, _normalised
from ._gaussian import _regression_inputs
from ._interval import _log_abs_diff, _mean

__all__ = ["mean_standardized_log_loss", "pit_calibration_error"]


def _log_std_and_centre(y, sample_weight, name):
    """Weighted mean and log standard deviation of ``y`` (ddof=0), overflow-safe.

    The values are divided by their largest magnitude first, so that squares
    of values near the float maximum do not overflow.
    """
    scale = float(np.max(np.abs(y)))
    if scale == 0.0:
        scaled = y
    else:
        scaled = y / scale
    centre = np.average(scaled, weights=_normalised(sample_weight))
    var = np.average((scaled - centre) ** 2, weights=_normalised(sample_weight))
    if not var > 0.0:
        raise ValueError(
            f"{name} has zero variance (its values of non-zero weight are all "
            "equal), so the trivial Gaussian model of the mean standardised log "
            "loss is degenerate; pass a y_train with at least two distinct values."
        )
    log_std = np.log(scale) + 0.5 * np.log(var)
    return float(centre * scale), float(log_std)


def _log_mean_square(log_abs, sample_weight):
    """``log(sum(w * exp(2 log_abs)) / sum(w))``, overflow-free."""
    w = _normalised(sample_weight)
    if w is None:
        w = np.ones_like(log_abs)
    return float(logsumexp(2.0 * log_abs, b=w) - np.log(np.sum(w)))


def mean_standardized_log_loss(
    y_true, y_mean, y_std, *, y_train=None, sample_weight=None
):
    r"""Mean standardised log loss of Gaussian predictions (Rasmussen and Williams).

    The Gaussian negative log-likelihood of the predictions minus that of a
    trivial model: a single Gaussian with the mean and variance of
    ``y_train``. Negative values mean the model beats the trivial one, zero
    means it is no better; lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive.

    y_train : array-like of shape (n_train,), default=None
        Targets the trivial model is fitted to: its mean :math:`m` and
        variance :math:`s^2` (with denominator ``n_train``, the maximum
        likelihood estimate) are those of ``y_train``, unweighted. When
        None, the (weighted) mean and variance of ``y_true`` are used, so
        that the metric needs only held-out data and works as a scorer. Must
        not be constant.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights of ``y_true``, not all zero.

    Returns
    -------
    msll : float
        The weighted mean standardised log loss, in nats.

    See Also
    --------
    gaussian_nll : The first term, alone.

    Notes
    -----
    Following Rasmussen and Williams (2006, section 2.5),

    .. math::

        \mathrm{MSLL} = \frac{1}{\sum_i w_i} \sum_i w_i \left[
        \log \sigma_i + \frac{(y_i - \mu_i)^2}{2 \sigma_i^2}
        - \log s - \frac{(y_i - m)^2}{2 s^2} \right],

    the :math:`\tfrac12 \log 2\pi` of both log densities cancelling. With
    ``y_train=None``, :math:`m` and :math:`s^2` are the weighted mean and
    variance of ``y_true``, and the last term averages to exactly
    :math:`\tfrac12`; the metric is then the NLL minus a constant of the
    held-out targets, so it ranks models as :func:`gaussian_nll` does on the
    same data.

    The two mean squares are accumulated as log-sum-exps of
    :math:`2 \log |y_i - \mu_i| - 2 \log \sigma_i`, so that the difference of
    two terms that each overflow is still the right finite (or infinite)
    number, never NaN.

    References
    ----------
    C. E. Rasmussen and C. K. I. Williams (2006). *Gaussian Processes for
    Machine Learning*. MIT Press, section 2.5.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv.metrics import mean_standardized_log_loss
    >>> y = [0.0, 1.0, 2.0, 3.0]
    >>> round(mean_standardized_log_loss(y, [0.1, 0.9, 2.1, 2.9], 0.2), 6)
    -2.09601
    >>> trivial = mean_standardized_log_loss(y, [1.5] * 4, np.sqrt(1.25))
    >>> abs(round(trivial, 12))  # the trivial model itself
    0.0
    """
    y_true, y_mean, y_std, sample_weight = _regression_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    if y_train is None:
        centre, log_s = _log_std_and_centre(y_true, sample_weight, "y_true")
    else:
        y_train = _check_1d(y_train, "y_train")
        centre, log_s = _log_std_and_centre(y_train, None, "y_train")

    log_std = np.log(y_std)
    log_z = _log_abs_diff(y_true, y_mean) - log_std
    log_t = _log_abs_diff(y_true, centre) - log_s
    # 0.5 * (mean z^2 - mean t^2) as 0.5 * exp(M) * (exp(a - M) - exp(b - M)).
    a = _log_mean_square(log_z, sample_weight)
    b = _log_mean_square(log_t, sample_weight)
    top = max(a, b)
    if top == -np.inf:  # every residual is zero
        squares = 0.0
    else:
        diff = np.exp(a - top) - np.exp(b - top)
        with np.errstate(over="ignore"):
            squares = 0.0 if diff == 0.0 else 0.5 * diff * np.exp(top)
    return _mean(log_std, sample_weight) - log_s + float(squares)


def pit_calibration_error(y_true, y_mean, y_std, *, sample_weight=None):
    r"""Kolmogorov distance of the probability integral transform from uniform.

    If the predicted distributions are the true ones, the probability
    integral transforms :math:`u_i = \Phi((y_i - \mu_i) / \sigma_i)` are
    uniform on [0, 1]. This metric is the largest gap between their
    (weighted) empirical distribution function and the identity: 0 for a
    calibrated model (up to sampling noise of order :math:`1/\sqrt{n}`), up to
    1 for one whose intervals are all far off. Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    error : float
        The Kolmogorov-Smirnov statistic of the PIT values against the
        uniform distribution, in [0, 1].

    See Also
    --------
    interval_coverage : Calibration at a single level.
    scipy.stats.kstest : The unweighted statistic.

    Notes
    -----
    With :math:`F_w(t) = \sum_i w_i \mathbf{1}\{u_i \le t\} / \sum_i w_i`,

    .. math::

        \mathrm{PIT\ error} = \sup_{t \in [0, 1]} \left| F_w(t) - t \right| .

    The Kolmogorov distance was chosen over the mean absolute gap at a grid
    of quantile levels because it needs no grid, is invariant to how the
    levels are spaced, and has a known null distribution
    (:math:`\sqrt{n}\,D` tends to Kolmogorov's, whose 95% quantile is 1.36):
    a value well above :math:`1.36 / \sqrt{n}` is evidence of miscalibration.
    Without weights it equals ``scipy.stats.kstest(u, "uniform").statistic``.
    Every miscoverage of a central interval at any level is bounded by twice
    this distance.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from skdiv.metrics import pit_calibration_error
    >>> y = norm.ppf([0.1, 0.3, 0.5, 0.7, 0.9])  # PIT values spread evenly
    >>> round(pit_calibration_error(y, np.zeros(5), 1.0), 6)
    0.1
    >>> round(pit_calibration_error(y, np.zeros(5), 0.1), 6)  # overconfident
    0.4
    """
    y_true, y_mean, y_std, sample_weight = _regression_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    with np.errstate(over="ignore"):
        pit = ndtr((y_true - y_mean) / y_std)
    order = np.argsort(pit, kind="stable")
    pit = pit[order]
    if sample_weight is None:
        cumulative = np.arange(1, pit.shape[0] + 1, dtype=np.float64)
    else:
        cumulative = np.cumsum(_normalised(sample_weight)[order])
    total = cumulative[-1]
    after = cumulative / total  # F_w at each sorted PIT value
    before = np.concatenate([[0.0], after[:-1]])  # just below it
    return float(max(np.max(after - pit), np.max(pit - before)))
