"""Metric functions of Gaussian predictions: NLL, CRPS and KL between Gaussians.

Every function validates its inputs up front and raises a ``ValueError`` that
names the problem; none of them returns NaN for bad input.
"""

import numpy as np
from scipy.special import erf
from sklearn.utils import check_array, check_consistent_length

from ._checks import _check_1d, _check_std, _check_weights, _weighted_mean

__all__ = ["gaussian_crps", "gaussian_kl", "gaussian_nll"]


# --------------------------------------------------------------------------


def _regression_inputs(y_true, y_mean, y_std, sample_weight):
    y_true = _check_1d(y_true, "y_true")
    y_mean = _check_1d(y_mean, "y_mean")
    check_consistent_length(y_true, y_mean)
    y_std = _check_std(y_std, y_true.shape, "y_std")
    sample_weight = _check_weights(sample_weight, y_true)
    return y_true, y_mean, y_std, sample_weight


def gaussian_nll(y_true, y_mean, y_std, *, sample_weight=None):
    r"""Mean negative log-likelihood of targets under Gaussian predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations (not variances, following scikit-learn's
        ``return_std``), strictly positive; a scalar applies to every sample.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    loss : float
        The weighted mean negative log-density, in nats.

    See Also
    --------
    gaussian_crps : A proper score that is less sensitive to tails.
    gaussian_kl : Divergence between two Gaussian predictions.

    Notes
    -----
    The constant is included, so this is a true negative log-density:

    .. math::

        \mathrm{NLL} = \frac{1}{\sum_i w_i} \sum_{i=1}^{n} w_i \left(
        \tfrac{1}{2} \log(2\pi) + \log \sigma_i
        + \frac{(y_i - \mu_i)^2}{2 \sigma_i^2} \right) .

    With a constant :math:`\sigma` it is an affine function of the mean squared
    error, :math:`\tfrac12\log(2\pi) + \log\sigma + \mathrm{MSE} / (2\sigma^2)`.

    Examples
    --------
    >>> from skdiv.metrics import gaussian_nll
    >>> round(gaussian_nll([1.0], [0.0], 1.0), 6)
    1.418939
    >>> round(gaussian_nll([0.0, 2.0], [0.5, 1.0], [1.0, 2.0]), 6)
    1.390512
    """
    y_true, y_mean, y_std, sample_weight = _regression_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    # Extreme but finite inputs may overflow to inf, which is the right answer.
    with np.errstate(over="ignore"):
        z = (y_true - y_mean) / y_std
        nll = 0.5 * np.log(2 * np.pi) + np.log(y_std) + 0.5 * z * z
    return _weighted_mean(nll, sample_weight)


def gaussian_crps(y_true, y_mean, y_std, *, sample_weight=None):
    r"""Mean continuous ranked probability score of Gaussian predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, 1)
        Observed targets.

    y_mean : array-like of shape (n_samples,)
        Predicted means.

    y_std : float or array-like of shape (n_samples,)
        Predicted standard deviations, strictly positive; a scalar applies to
        every sample.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    crps : float
        The weighted mean CRPS, in the units of ``y_true`` (lower is better).

    See Also
    --------
    gaussian_nll : The logarithmic score of the same predictions.

    Notes
    -----
    The CRPS of a predictive CDF :math:`F` at an observation :math:`y` is
    :math:`\int (F(x) - \mathbf{1}\{x \ge y\})^2 \, dx`. For
    :math:`F = \mathcal{N}(\mu, \sigma^2)` it has the closed form
    (Gneiting and Raftery, 2007)

    .. math::

        \mathrm{CRPS} = \sigma \left[ z \left( 2\Phi(z) - 1 \right)
        + 2\varphi(z) - \frac{1}{\sqrt{\pi}} \right],
        \qquad z = \frac{y - \mu}{\sigma},

    where :math:`\Phi` and :math:`\varphi` are the standard normal CDF and
    density. Since :math:`2\Phi(z) - 1 = \operatorname{erf}(z / \sqrt{2})`
    is odd in :math:`z` and :math:`\sigma |z| = |y - \mu|`, it is evaluated
    as

    .. math::

        \mathrm{CRPS} = |y - \mu| \operatorname{erf}\!\left(
        \frac{|z|}{\sqrt{2}}\right)
        + \sigma \left( 2\varphi(z) - \frac{1}{\sqrt{\pi}} \right),

    which never multiplies :math:`\sigma` by :math:`z`: for a tiny
    :math:`\sigma` (:math:`z` overflows to infinity) it is the limit
    :math:`|y - \mu|`, not ``inf``.

    References
    ----------
    T. Gneiting and A. E. Raftery (2007). Strictly proper scoring rules,
    prediction, and estimation. *Journal of the American Statistical
    Association*, 102(477), 359-378.

    Examples
    --------
    >>> from skdiv.metrics import gaussian_crps
    >>> round(gaussian_crps([0.0], [0.0], 1.0), 6)
    0.233695
    >>> round(gaussian_crps([1.0, 3.0], [0.0, 0.0], [1.0, 2.0]), 6)
    1.295645
    """
    y_true, y_mean, y_std, sample_weight = _regression_inputs(
        y_true, y_mean, y_std, sample_weight
    )
    # |z| may overflow to inf for a tiny y_std: erf(inf) = 1 and the density
    # 0 then give |y - mu|, the limit. Only |y - mu| itself overflowing (the
    # CRPS is then beyond float64) gives inf.
    with np.errstate(over="ignore", under="ignore"):
        distance = np.abs(y_true - y_mean)
        z = distance / y_std
        pdf = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        crps = distance * erf(z / np.sqrt(2)) + y_std * (2 * pdf - 1 / np.sqrt(np.pi))
    return _weighted_mean(crps, sample_weight)


def gaussian_kl(mean_p, std_p, mean_q, std_q, *, sample_weight=None):
    r"""Mean KL divergence between two sets of univariate Gaussians.

    Parameters
    ----------
    mean_p, std_p : float or array-like of shape (n_samples,)
        Means and standard deviations of the first distributions
        :math:`P_i = \mathcal{N}(\mu_{p,i}, \sigma_{p,i}^2)`.

    mean_q, std_q : float or array-like of shape (n_samples,)
        Means and standard deviations of the second distributions
        :math:`Q_i`. The four arguments are broadcast together; scalars apply
        to every sample. Standard deviations must be strictly positive.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    Returns
    -------
    divergence : float
        The weighted mean of :math:`\mathrm{KL}(P_i \,\|\, Q_i)` in nats.

    See Also
    --------
    kl_divergence : The discrete counterpart.
    gaussian_nll : Negative log-likelihood under one Gaussian.

    Notes
    -----
    .. math::

        \mathrm{KL}(P \,\|\, Q) = \log \frac{\sigma_q}{\sigma_p}
        + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2 \sigma_q^2} - \frac12 .

    It is evaluated as :math:`\tfrac12 \left(\operatorname{expm1}(2\ell) - 2\ell
    \right) + \tfrac12 \left((\mu_p - \mu_q)/\sigma_q\right)^2` with
    :math:`\ell = \log\sigma_p - \log\sigma_q`, which is non-negative in floating
    point and exactly zero when :math:`P = Q`.

    Examples
    --------
    >>> from skdiv.metrics import gaussian_kl
    >>> round(gaussian_kl(0.0, 1.0, 1.0, 1.0), 6)
    0.5
    >>> round(gaussian_kl([0.0, 0.0], 1.0, 0.0, [1.0, 2.0]), 6)
    0.159074
    """
    names = ("mean_p", "std_p", "mean_q", "std_q")
    arrays = []
    for name, value in zip(names, (mean_p, std_p, mean_q, std_q), strict=True):
        value = np.asarray(value)
        if value.ndim == 0:
            value = value.reshape(1)
        arrays.append(
            check_array(value, ensure_2d=False, dtype=np.float64, input_name=name)
        )
    if any(a.ndim != 1 for a in arrays):
        shapes = ", ".join(
            f"{n}: {a.shape}" for n, a in zip(names, arrays, strict=True)
        )
        raise ValueError(
            f"mean_p, std_p, mean_q and std_q must be scalars or 1-D, got {shapes}."
        )
    try:
        mean_p, std_p, mean_q, std_q = np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(
            f"{n}: {a.shape}" for n, a in zip(names, arrays, strict=True)
        )
        raise ValueError(
            f"mean_p, std_p, mean_q and std_q have incompatible lengths ({shapes})."
        ) from None
    for name, std in (("std_p", std_p), ("std_q", std_q)):
        if np.any(std <= 0):
            raise ValueError(
                f"{name} must be strictly positive, got minimum {float(std.min())!r}."
            )
    sample_weight = _check_weights(sample_weight, mean_p)

    log_ratio = np.log(std_p) - np.log(std_q)
    # Extreme but finite inputs may overflow to inf, which is the right answer.
    with np.errstate(over="ignore", under="ignore"):
        z = (mean_p - mean_q) / std_q
        divergence = 0.5 * (np.expm1(2 * log_ratio) - 2 * log_ratio) + 0.5 * z * z
    return _weighted_mean(divergence, sample_weight)
