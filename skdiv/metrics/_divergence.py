"""Metric functions: cross-entropy, KL divergence and entropy.

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

import numpy as np
from scipy.special import entr, kl_div, xlogy
from sklearn.utils import check_array

from ._checks import (
    _FLOAT_DTYPES,
    _check_probability_rows,
    _check_weights,
    _log_base,
    _targets_and_proba,
    _weighted_mean,
)

__all__ = ["cross_entropy", "entropy", "kl_divergence"]


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
        entry per column, and names them: the columns of a pandas DataFrame
        ``y_true`` are matched to ``labels`` by name (as the estimators
        match them to their classes).

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
    return _weighted_mean(loss, sample_weight) / log_base


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
        :func:`cross_entropy`; a DataFrame of target probabilities has its
        columns matched to them by name.

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
    return _weighted_mean(divergence, sample_weight) / log_base


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
    return _weighted_mean(row_entropy, sample_weight) / log_base


# --------------------------------------------------------------------------
# Gaussian (regression) metrics
