"""Metric functions: cross-entropy, KL divergence, entropy and Gaussian scores.

Every function validates its inputs up front and raises a ``ValueError`` that
names the problem; none of them returns NaN for bad input.

Conventions shared by the classification metrics:

* ``y_proba`` of shape ``(n_samples,)`` or ``(n_samples, 1)`` is the
  probability of the positive class (what scikit-learn scorers pass for a
  binary classifier); it is expanded to ``[1 - p, p]``.
* Before taking logarithms, ``y_proba`` is clipped to ``[eps, 1 - eps]`` with
  ``eps = np.finfo(y_proba.dtype).eps``, as in :func:`sklearn.metrics.log_loss`.
* A probability row is accepted when its entries lie in ``[0, 1]`` and its sum
  is within ``max(1e-6, sqrt(eps))`` of one (``1e-6`` for float64, about
  ``3.5e-4`` for float32). The one exception is :func:`cross_entropy` on hard
  labels, which follows :func:`sklearn.metrics.log_loss` exactly (a
  ``UserWarning``, and the loss of the rows as given).
"""

import numbers
import warnings

import numpy as np
from scipy.special import entr, erf, kl_div, xlogy
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.multiclass import type_of_target, unique_labels

from .._weights import check_sample_weight
from .._validation import (
    check_probability_rows,
    raise_for_probability_range,
)

__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_crps",
    "gaussian_kl",
    "gaussian_nll",
    "kl_divergence",
]

_FLOAT_DTYPES = (np.float64, np.float32)


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _log_base(base):
    """Return ``ln(base)`` (1.0 for ``base=None``, i.e. nats)."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise ValueError(
            f"base must be None or a positive real number other than 1, got {base!r}."
        )
    if not np.isfinite(base) or base <= 0 or base == 1:
        raise ValueError(
            f"base must be None or a finite positive real number other than 1, "
            f"got {base!r}."
        )
    return float(np.log(base))


def _check_range(a, name):
    if a.size:
        raise_for_probability_range(a.min(), a.max(), name)


def _check_probability_rows(a, name, *, on_bad_sum="raise"):
    """Check that a 2-D float array holds probability rows.

    :func:`skdiv._validation.check_probability_rows`, the estimators' rule,
    except with ``on_bad_sum="warn"``, which reproduces
    :func:`sklearn.metrics.log_loss` for hard labels: a ``UserWarning`` with
    log_loss's own test (``isclose`` with ``rtol=sqrt(eps)``) instead of an
    error.
    """
    if on_bad_sum == "raise":
        check_probability_rows(a, name=name)
        return
    _check_range(a, name)
    eps = np.finfo(a.dtype).eps
    if not np.all(np.isclose(a.sum(axis=1), 1, rtol=np.sqrt(eps))):
        warnings.warn(
            "The y_proba values do not sum to one. "
            "Make sure to pass probabilities.",
            UserWarning,
            stacklevel=4,
        )


def _check_proba(y_proba, name="y_proba"):
    """Validate predicted probabilities and return them as 2-D columns.

    The dtype (float64 or float32) is kept so that clipping uses its ``eps``.
    """
    y_proba = check_array(
        y_proba, ensure_2d=False, dtype=_FLOAT_DTYPES, input_name=name
    )
    # Check before expanding, so that p > 1 is not reported as 1 - p < 0.
    _check_range(y_proba, name)
    if y_proba.ndim == 1:
        y_proba = y_proba[:, np.newaxis]
    if y_proba.shape[1] == 1:
        y_proba = np.concatenate([1 - y_proba, y_proba], axis=1)
    return y_proba


def _is_probability_target(y_true):
    """2-D numeric ``y_true`` with two or more columns holds target rows."""
    shape = np.shape(y_true)
    if len(shape) != 2 or shape[1] < 2:
        return False
    return np.asarray(y_true).dtype.kind in "fiub"


def _one_hot_labels(y_true, labels, n_columns):
    """Encode hard labels like :func:`sklearn.metrics.log_loss` does.

    Columns follow the sorted classes (of ``labels`` if given, otherwise of
    ``y_true``), as :class:`~sklearn.preprocessing.LabelBinarizer` orders them.
    """
    y_true = check_array(y_true, ensure_2d=False, dtype=None, input_name="y_true")
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true.ravel()
    if y_true.ndim != 1:
        raise ValueError(
            "y_true must be 1-D class labels or a 2-D (n_samples, n_classes) "
            f"array of target probabilities, got shape {y_true.shape}."
        )
    y_type = type_of_target(y_true, input_name="y_true")
    if y_type == "continuous":
        raise ValueError(
            "y_true must hold class labels, but its values are continuous. "
            "Pass target probabilities as a 2-D (n_samples, n_classes) array."
        )
    if y_type not in ("binary", "multiclass"):
        raise ValueError(
            "y_true must hold class labels of a single type (numbers or "
            f"strings); scikit-learn's type_of_target says {y_type!r}."
        )

    if labels is None:
        classes = unique_labels(y_true)
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise ValueError(f"labels must be 1-D, got shape {labels.shape}.")
        classes = unique_labels(labels)
        if classes.shape != labels.shape or not np.all(classes == labels):
            warnings.warn(
                f"Labels passed were {labels.tolist()}. But this function "
                "assumes labels are ordered lexicographically. Pass the "
                f"ordered labels={classes.tolist()} and ensure that the "
                "columns of y_proba correspond to this ordering.",
                UserWarning,
                stacklevel=4,
            )
        missing = ~np.isin(y_true, classes)
        if np.any(missing):
            undeclared = sorted(set(y_true[missing].tolist()), key=str)
            raise ValueError(
                f"y_true contains labels {undeclared} that are not in "
                f"labels={classes.tolist()}."
            )

    if classes.shape[0] < 2:
        if labels is None:
            raise ValueError(
                f"y_true contains only one label ({classes[0]!r}). Provide the "
                "list of all expected class labels through the labels argument."
            )
        raise ValueError(
            f"labels must contain at least two labels, got {classes.tolist()}."
        )
    if classes.shape[0] != n_columns:
        if labels is None:
            raise ValueError(
                f"y_true and y_proba contain different numbers of classes: "
                f"{classes.shape[0]} vs {n_columns}. Provide the true labels "
                "explicitly through the labels argument. Classes found in "
                f"y_true: {classes.tolist()}."
            )
        raise ValueError(
            f"labels has {classes.shape[0]} classes but y_proba has "
            f"{n_columns} columns. Classes in labels: {classes.tolist()}."
        )
    return (y_true[:, np.newaxis] == classes[np.newaxis, :]).astype(np.float64)


def _check_weights(sample_weight, reference):
    """Validate ``sample_weight`` against the rows of ``reference``.

    :func:`skdiv._targets.check_sample_weight`, the estimators' validator;
    returns None for unit weights so that the unweighted mean is
    bit-for-bit the one scikit-learn computes.
    """
    if sample_weight is None:
        return None
    return check_sample_weight(sample_weight, np.shape(reference)[0])


def _targets_and_proba(y_true, y_proba, sample_weight, labels, *, strict_hard):
    """Shared validation of :func:`cross_entropy` and :func:`kl_divergence`.

    Returns float64 target rows, clipped float64 predicted rows, the validated
    weights and whether ``y_true`` held probability rows.
    """
    y_proba = _check_proba(y_proba)
    n_columns = y_proba.shape[1]
    soft = _is_probability_target(y_true)
    if soft:
        y_true = check_array(y_true, dtype=_FLOAT_DTYPES, input_name="y_true")
    check_consistent_length(y_true, y_proba)

    if soft:
        if y_true.shape[1] != n_columns:
            raise ValueError(
                f"y_true has {y_true.shape[1]} columns (target probabilities) "
                f"but y_proba has {n_columns}; they must have the same width."
            )
        if labels is not None and len(labels) != n_columns:
            raise ValueError(
                f"labels has {len(labels)} entries but the target probabilities "
                f"have {n_columns} columns."
            )
        _check_probability_rows(y_true, "y_true")
        _check_probability_rows(y_proba, "y_proba")
        targets = y_true.astype(np.float64, copy=False)
    else:
        targets = _one_hot_labels(y_true, labels, n_columns)
        _check_probability_rows(
            y_proba, "y_proba", on_bad_sum="raise" if strict_hard else "warn"
        )

    sample_weight = _check_weights(sample_weight, y_proba)
    eps = np.finfo(y_proba.dtype).eps
    y_proba = np.clip(y_proba, eps, 1 - eps).astype(np.float64, copy=False)
    return targets, y_proba, sample_weight, soft


def _check_1d(y, name):
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name=name)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D of shape (n_samples,), got shape {y.shape}; "
            "multi-output targets are not supported."
        )
    return y


def _check_std(std, shape, name):
    std = np.asarray(std)
    original_shape = std.shape
    if std.ndim == 0:
        std = std.reshape(1)
    std = check_array(std, ensure_2d=False, dtype=np.float64, input_name=name)
    try:
        std = np.broadcast_to(std, shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {original_shape} cannot be broadcast to the "
            f"targets' shape {shape}."
        ) from None
    if np.any(std <= 0):
        raise ValueError(
            f"{name} must be strictly positive, got minimum {float(std.min())!r}."
        )
    return std


# --------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------


def cross_entropy(y_true, y_proba, *, sample_weight=None, labels=None, base=None):
    r"""Cross-entropy of predicted probabilities against labels or soft targets.

    With hard labels this is :func:`sklearn.metrics.log_loss`; with a matrix
    of target probabilities it is the soft-target cross-entropy (the
    ``torch.nn.functional.cross_entropy`` convention for probability targets).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Either class labels (any label type, as for
        :func:`sklearn.metrics.log_loss`), or a 2-D numeric array of target
        probabilities with the same shape as ``y_proba`` (one row per sample,
        rows summing to one).

    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, as returned by ``predict_proba``. A 1-D array
        is the probability of the positive class of a binary problem. Columns
        follow the sorted classes, as in
        :class:`~sklearn.preprocessing.LabelBinarizer`. Values are clipped to
        ``[eps, 1 - eps]``, ``eps = np.finfo(y_proba.dtype).eps``.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba`` for hard labels; if None they
        are inferred from ``y_true``. Every label in ``y_true`` must be in
        ``labels``. With target probabilities ``labels`` only has to have one
        entry per column.

    base : float, default=None
        Base of the logarithm: None for nats, 2 for bits. Must be positive
        and different from 1.

    Returns
    -------
    loss : float
        The weighted mean cross-entropy per sample.

    See Also
    --------
    kl_divergence : Cross-entropy minus the entropy of the targets.
    entropy : Entropy of probability rows.
    sklearn.metrics.log_loss : The same quantity for hard labels.

    Notes
    -----
    With target rows :math:`p_i` (one-hot for hard labels), clipped predicted
    rows :math:`q_i` and weights :math:`w_i`,

    .. math::

        \mathrm{CE} = \frac{1}{\sum_i w_i} \sum_{i=1}^{n} w_i
        \left( -\sum_{k=1}^{K} p_{ik} \log q_{ik} \right) / \log b .

    For hard labels the validation is that of :func:`sklearn.metrics.log_loss`
    (scikit-learn 1.9): probabilities outside ``[0, 1]`` raise, rows of
    ``y_proba`` that do not sum to one only give a ``UserWarning`` and are used
    as given, and unsorted ``labels`` warn. The result then equals ``log_loss``
    to rounding. Two deliberate differences: negative sample weights raise,
    and float32 ``y_proba`` is clipped with the float32 ``eps`` but the
    logarithms and the mean are taken in float64 (``log_loss`` stays in
    float32, so the two agree only to float32 precision there).

    With target probabilities both ``y_true`` and ``y_proba`` must be
    probability rows: entries in ``[0, 1]`` and row sums within
    ``max(1e-6, sqrt(eps))`` of one, otherwise a ``ValueError`` is raised.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv.metrics import cross_entropy
    >>> proba = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    >>> round(cross_entropy([2], [proba], labels=[0, 1, 2]), 6)
    0.407606
    >>> round(cross_entropy([[0.2, 0.3, 0.5]], [proba]), 6)
    1.107606
    >>> round(cross_entropy(["spam", "ham", "ham", "spam"],
    ...                     [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 6)
    0.216162
    >>> round(cross_entropy([0, 1], [0.5, 0.5], base=2), 6)
    1.0
    """
    log_base = _log_base(base)
    targets, y_proba, sample_weight, _ = _targets_and_proba(
        y_true, y_proba, sample_weight, labels, strict_hard=False
    )
    loss = -np.sum(xlogy(targets, y_proba), axis=1)
    return float(np.average(loss, weights=sample_weight)) / log_base


def kl_divergence(y_true, y_proba, *, sample_weight=None, labels=None, base=None):
    r"""Kullback-Leibler divergence of predicted rows from target rows.

    The weighted mean over samples of :math:`\mathrm{KL}(p_i \,\|\, q_i)`,
    summed over classes and averaged over samples only (the
    ``torch.nn.functional.kl_div(..., reduction="batchmean")`` convention).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (their target rows are one-hot) or a 2-D numeric array
        of target probabilities with the same shape as ``y_proba``.

    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities; a 1-D array is the probability of the
        positive class. Values are clipped to ``[eps, 1 - eps]`` as in
        :func:`cross_entropy`.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba`` for hard labels, as in
        :func:`cross_entropy`.

    base : float, default=None
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    divergence : float
        The weighted mean divergence per sample, non-negative up to rounding.

    See Also
    --------
    cross_entropy : Equals ``kl_divergence + entropy`` of the targets.
    entropy : Entropy of probability rows.
    scipy.special.rel_entr : The elementwise terms.

    Notes
    -----
    Each term is computed in the form of :func:`scipy.special.kl_div`,

    .. math::

        \mathrm{KL}(p \,\|\, q) = \sum_{k=1}^{K}
        \left( p_k \log \frac{p_k}{q_k} - p_k + q_k \right) / \log b ,

    with :math:`0 \log 0 = 0`. Every term is non-negative, so the result is
    never negative beyond rounding, even for rows that sum to one only
    within the tolerance. When both rows sum to one the extra terms cancel
    and this is :math:`\sum_k p_k \log(p_k / q_k)`; hence
    ``cross_entropy == kl_divergence + entropy(targets)`` up to rounding
    (and up to ``eps`` per clipped zero in ``q``), and for hard labels
    ``kl_divergence == cross_entropy``.

    Unlike :func:`cross_entropy` on hard labels, rows of ``y_proba`` must sum
    to one within ``max(1e-6, sqrt(eps))`` or a ``ValueError`` is raised: a
    divergence between non-normalised rows has no meaning.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv.metrics import kl_divergence
    >>> kl_divergence([[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]])
    0.6931471805599453
    >>> kl_divergence([[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]], base=2)
    1.0
    >>> kl_divergence([[0.2, 0.8]], [[0.2, 0.8]])
    0.0
    """
    log_base = _log_base(base)
    targets, y_proba, sample_weight, _ = _targets_and_proba(
        y_true, y_proba, sample_weight, labels, strict_hard=True
    )
    divergence = np.sum(kl_div(targets, y_proba), axis=1)
    return float(np.average(divergence, weights=sample_weight)) / log_base


def entropy(y_proba, *, sample_weight=None, base=None):
    r"""Mean Shannon entropy of probability rows.

    Parameters
    ----------
    y_proba : array-like of shape (n_samples, n_classes)
        One probability distribution per row: entries in ``[0, 1]``, rows
        summing to one within ``max(1e-6, sqrt(eps))``. A 1-D array is
        rejected because it is ambiguous (one distribution, or positive-class
        probabilities?): pass ``[p]`` for a single distribution, or
        ``np.column_stack([1 - p, p])`` for binary probabilities.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    base : float, default=None
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    entropy : float
        The weighted mean entropy per row.

    See Also
    --------
    cross_entropy : Cross-entropy against target rows.
    kl_divergence : Cross-entropy minus entropy.
    scipy.stats.entropy : The entropy of one distribution.

    Notes
    -----
    No clipping is applied; zero probabilities contribute zero:

    .. math::

        H(p) = -\sum_{k=1}^{K} p_k \log p_k / \log b,
        \qquad 0 \log 0 = 0 .

    Examples
    --------
    >>> from skdiv.metrics import entropy
    >>> entropy([[0.5, 0.5], [1.0, 0.0]], base=2)
    0.5
    >>> round(entropy([[0.2, 0.3, 0.5]]), 6)
    1.029653
    """
    log_base = _log_base(base)
    y_proba = check_array(
        y_proba, ensure_2d=False, dtype=_FLOAT_DTYPES, input_name="y_proba"
    )
    if y_proba.ndim != 2:
        raise ValueError(
            f"y_proba must be 2-D (n_samples, n_classes), got shape "
            f"{y_proba.shape}. Pass [p] for a single distribution or "
            "np.column_stack([1 - p, p]) for positive-class probabilities."
        )
    _check_probability_rows(y_proba, "y_proba")
    sample_weight = _check_weights(sample_weight, y_proba)
    row_entropy = np.sum(entr(y_proba.astype(np.float64, copy=False)), axis=1)
    return float(np.average(row_entropy, weights=sample_weight)) / log_base


# --------------------------------------------------------------------------
# Gaussian (regression) metrics
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
    y_true : array-like of shape (n_samples,)
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
    return float(np.average(nll, weights=sample_weight))


def gaussian_crps(y_true, y_mean, y_std, *, sample_weight=None):
    r"""Mean continuous ranked probability score of Gaussian predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
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
    density; :math:`2\Phi(z) - 1` is evaluated as
    :math:`\operatorname{erf}(z / \sqrt{2})`.

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
    # Extreme but finite inputs may overflow to inf, which is the right answer.
    with np.errstate(over="ignore", under="ignore"):
        z = (y_true - y_mean) / y_std
        pdf = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        crps = y_std * (z * erf(z / np.sqrt(2)) + 2 * pdf - 1 / np.sqrt(np.pi))
    return float(np.average(crps, weights=sample_weight))


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
    return float(np.average(divergence, weights=sample_weight))
