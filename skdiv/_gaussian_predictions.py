"""What every Gaussian regressor derives from its mean and standard deviation.

The two functions are methods of :class:`~skdiv.GaussianRegressor` and
:class:`~skdiv.GaussianMLPRegressor` (assigned in each class body, so that
they are documented as each class's own), written once here on top of
``predict(X, return_std=True)``.
"""

from numbers import Real

import numpy as np
import scipy.stats


def predict_interval(self, X, coverage=0.9):
    r"""Central prediction interval of the predicted normal distribution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    coverage : float in (0, 1), default=0.9
        Probability mass inside the interval.

    Returns
    -------
    interval : ndarray of shape (n_samples, 2)
        Lower and upper bounds, :math:`\mu \mp z \sigma` with
        :math:`z = \Phi^{-1}(1 - \alpha / 2)`, :math:`\alpha = 1 -`
        ``coverage``: the interval of :func:`scipy.stats.norm.interval`.
        :math:`z` is computed as ``norm.isf(alpha / 2)``, finite for any
        coverage below 1 (``norm.ppf((1 + coverage) / 2)`` rounds to
        infinity for a coverage within an ulp of 1).
    """
    if isinstance(coverage, bool) or not (
        isinstance(coverage, Real) and 0 < coverage < 1
    ):
        raise ValueError(
            f"coverage must be a float in the open interval (0, 1), "
            f"got {coverage!r}."
        )
    mean, std = self.predict(X, return_std=True)
    half_width = scipy.stats.norm.isf(0.5 * (1.0 - float(coverage))) * std
    return np.column_stack([mean - half_width, mean + half_width])

def predict_dist(self, X):
    """Predicted distributions as a frozen ``scipy.stats.norm``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Samples.

    Returns
    -------
    dist : scipy.stats frozen distribution
        ``scipy.stats.norm(loc=mean, scale=std)`` with arrays of shape
        ``(n_samples,)``, e.g. ``dist.logpdf(y)`` or ``dist.cdf(y)``.
    """
    mean, std = self.predict(X, return_std=True)
    return scipy.stats.norm(loc=mean, scale=std)
