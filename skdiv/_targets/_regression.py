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

    A scalar ``y_std`` is the same standard deviation for every target.

    Returns
    -------
    y_std : ndarray of shape (n_samples,) or None
        None unless ``loss="kl_divergence"``.
    """
    check_beta(loss, beta)
    check_y_std_presence(loss, y_std)
    if y_std is None:
        return None
    if np.ndim(y_std) == 0:
        # One standard deviation for every target, as a scalar sample_weight
        # is one weight for every sample.
        try:
            value = float(y_std)
        except (TypeError, ValueError):
            raise ValueError(
                f"y_std must be a number or an array of shape (n_samples,), "
                f"got {y_std!r}."
            ) from None
        y_std = np.full(np.shape(y)[0], value)
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

    # Targets and weights near the float64 limit must give their scale, not
    # inf or NaN: the weights are divided by their largest value and y by a
    # power of two near its largest (exact, so ordinary targets get the
    # digits of the plain formulas), which bounds every sum by n.
    weights = sample_weight / value(sample_weight.max())
    weight_sum = value(weights.sum())
    unit = power_of_two_below(value(abs(y).max()))
    offset = unit * value((weights * (y / unit)).sum()) / weight_sum
    offset = offset if fit_intercept else 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        deviation = y - offset
        peak = value(abs(deviation).max())
    if not np.isfinite(peak) or not np.isfinite(offset):
        raise ValueError(
            "The target's deviations from its mean overflow float64 (y spans "
            f"about {value(abs(y).max()):.3g} in absolute value); divide y by a "
            "constant before fitting (the model is equivariant to its scale)."
        )
    if peak == 0:
        return TargetScaling(offset, 1.0)
    unit = power_of_two_below(peak)
    squares = value((weights * (deviation / unit) ** 2).sum())
    scale = unit * np.sqrt(squares / weight_sum)
    return TargetScaling(offset, float(scale) if scale > 0 else 1.0)


def power_of_two_below(value):
    """The power of two within a factor 2 below ``value`` (1 for 0 or not finite).

    Division by it is exact, so statistics of values divided by it and
    multiplied back are the plain ones to the last digit, while the
    quotients lie within [-2, 2], whose squares cannot overflow. It stays
    finite even for the largest float (the power above could be 2^1024).
    """
    if not (value > 0 and np.isfinite(value)):
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(value)[1]) - 1))


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
    if xp is np:
        check_y_std_scale(y_std, scaling.scale)
    target = xp.stack([y_tilde, y_std / scaling.scale], axis=1)
    return PreparedRegression(target, GaussianKL(log_var_min, LOG_VAR_LIMIT), scaling)


def check_y_std_scale(y_std, scale):
    r"""Refuse target deviations beyond what the log-variance bound represents.

    The fitted variance of a sample is at least its target's :math:`\tau_i^2`
    (the KL's second moment), while the predicted log-variance is clipped at
    ``LOG_VAR_LIMIT`` in standardised units: a :math:`\tau_i` above
    :math:`e^{\mathrm{LOG\_VAR\_LIMIT}/2}\, s_y` would be silently capped.
    ``y_std`` (NumPy) and the target's scale :math:`s_y` in target units.
    """
    largest = float(np.max(y_std, initial=0.0))
    limit = np.exp(0.5 * LOG_VAR_LIMIT) * scale
    if largest > limit:
        raise ValueError(
            f"y_std reaches {largest:.3g}, {largest / scale:.3g} times the "
            f"target's standard deviation {scale:.3g}; predicted standard "
            f"deviations are bounded by {limit:.3g} (e^{0.5 * LOG_VAR_LIMIT:g} "
            "times it), so these targets cannot be fitted. Rescale y and y_std "
            "together, or clip y_std."
        )


def constant_log_variance(second_moment, min_std):
    r"""Log of the maximum-likelihood variance, floored at ``min_std ** 2``.

    ``second_moment`` is the weighted mean squared residual (plus the
    weighted mean of :math:`\tau_i^2` for the KL divergence).
    """
    return float(np.log(max(second_moment, min_std**2)))
