"""Regression targets: y_std and beta checks, y standardisation, Gaussian objective."""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from .._loss import LOG_VAR_LIMIT, GaussianKL, GaussianNLL


def check_beta(loss, beta):
    """Raise a ValueError for ``beta > 0`` with ``loss="squared_error"``."""
    if loss == "squared_error" and beta > 0:
        raise ValueError(
            "beta > 0 weights the joint mean-variance fit of "
            "loss='gaussian_nll' or 'kl_divergence'; loss='squared_error' "
            f"fits the mean by least squares already. Got beta={beta}."
        )


def check_y_std_presence(loss, y_std):
    """``y_std`` is required by ``loss="kl_divergence"`` and refused otherwise."""
    if loss != "kl_divergence":
        if y_std is not None:
            raise ValueError(
                f"y_std is only used with loss='kl_divergence'; "
                f"loss={loss!r} fits point targets. Drop y_std or "
                "use loss='kl_divergence'."
            )
    elif y_std is None:
        raise ValueError(
            "loss='kl_divergence' needs the standard deviation of each "
            "target distribution: call fit(X, y, y_std=...)."
        )


#: The message for a ``y_std`` that is not strictly positive.
Y_STD_POSITIVE = "y_std must be strictly positive."


def check_y_std(y_std, y, *, loss, beta):
    """Validate ``y_std`` (and ``beta``) against ``loss``.

    Returns
    -------
    y_std : ndarray of shape (n_samples,) or None
        None unless ``loss="kl_divergence"``.
    """
    check_beta(loss, beta)
    check_y_std_presence(loss, y_std)
    if y_std is None:
        return None
    y_std = check_array(y_std, ensure_2d=False, dtype=np.float64, input_name="y_std")
    if y_std.ndim != 1:
        raise ValueError(
            f"y_std must be 1-D of shape (n_samples,), got shape {y_std.shape}."
        )
    check_consistent_length(y, y_std)
    if np.any(y_std <= 0):
        raise ValueError(Y_STD_POSITIVE)
    return y_std


@dataclass(frozen=True)
class TargetScaling:
    r"""The standardisation :math:`\tilde y = (y - \text{offset}) / \text{scale}`."""

    offset: float
    scale: float

    def standardise(self, y):
        return (y - self.offset) / self.scale


def target_scaling(y, sample_weight, *, fit_intercept, compute=None):
    r"""The weighted mean and standard deviation of ``y``.

    .. math::

        \bar y = \frac{\sum_i s_i y_i}{\sum_i s_i}, \qquad
        s_y = \sqrt{\frac{\sum_i s_i (y_i - \bar y)^2}{\sum_i s_i}},

    with :math:`\bar y = 0` without ``fit_intercept`` (the deviation is
    then about 0) and :math:`s_y = 1` for a constant target.

    Parameters
    ----------
    y, sample_weight : arrays of shape (n_samples,)
        NumPy or Dask arrays.
    fit_intercept : bool
    compute : callable, default=None
        Applied to each reduction before it is used (``dask.compute`` for
        Dask arrays); None for NumPy.

    Returns
    -------
    TargetScaling
    """
    def value(reduction):
        return float(reduction if compute is None else compute(reduction))

    weight_sum = value(sample_weight.sum())
    offset = value((sample_weight * y).sum()) / weight_sum if fit_intercept else 0.0
    scale = np.sqrt(value((sample_weight * (y - offset) ** 2).sum()) / weight_sum)
    return TargetScaling(offset, float(scale) if scale > 0 else 1.0)


@dataclass(frozen=True)
class PreparedRegression:
    """What the regressor's objective is fitted to.

    Attributes
    ----------
    target : ndarray of shape (n_samples,) or (n_samples, 2)
        The standardised target, with the standardised ``y_std`` as a second
        column for ``loss="kl_divergence"``.
    objective : GaussianNLL or GaussianKL
        The Gaussian objective, with the log-variance bounds of ``min_std``.
    scaling : TargetScaling
    """

    target: np.ndarray
    objective: object
    scaling: TargetScaling

    @property
    def mean_target(self):
        """The standardised point target (the first column)."""
        return self.target if self.target.ndim == 1 else self.target[:, 0]


def prepare_regression(y, y_std, scaling, *, min_std, xp=np):
    r"""Standardised target and Gaussian objective of the regressor.

    ``y_std`` (already validated) makes the objective the Gaussian KL
    divergence with the target's standard deviation
    :math:`\tau_i / s_y` as a second column.
    """
    y_tilde = scaling.standardise(y)
    log_var_min = 2.0 * np.log(min_std)
    if y_std is None:
        return PreparedRegression(
            y_tilde, GaussianNLL(log_var_min, LOG_VAR_LIMIT), scaling
        )
    target = xp.stack([y_tilde, y_std / scaling.scale], axis=1)
    return PreparedRegression(target, GaussianKL(log_var_min, LOG_VAR_LIMIT), scaling)


def constant_log_variance(second_moment, min_std):
    r"""Log of the maximum-likelihood variance, floored at ``min_std ** 2``.

    ``second_moment`` is the weighted mean squared residual (plus the
    weighted mean of :math:`\tau_i^2` for the KL divergence).
    """
    return float(np.log(max(second_moment, min_std**2)))
