"""Calibration metrics of predicted probabilities: expected calibration error, Brier.

Both take hard class labels or soft labels (rows of target probabilities),
with the conventions of :func:`~skdiv.metrics.cross_entropy`: a 1-D
``y_proba`` is the probability of the positive class, columns follow the
sorted classes for hard labels (or ``labels``), and both ``y_proba`` and soft
``y_true`` must hold probability rows (entries in [0, 1], row sums within
``max(1e-6, sqrt(eps))`` of one), otherwise a ``ValueError`` is raised. Unlike
the logarithmic metrics, nothing is clipped: no logarithm is taken.
"""

import numbers

import numpy as np
from sklearn.utils import check_array, check_consistent_length

from ._checks import (
    _FLOAT_DTYPES,
    _check_proba,
    _check_probability_rows,
    _check_weights,
    _is_probability_target,
    _labelled_columns,
    _one_hot_labels,
    _weighted_mean,
)

__all__ = ["brier_score", "expected_calibration_error"]

_ECE_KINDS = ("classwise", "top-label")


def _targets_and_rows(y_true, y_proba, sample_weight, labels):
    """Float64 target rows, predicted rows and weights (normalised to max 1).

    The checks of :func:`~skdiv.metrics.kl_divergence` (strict row sums on
    hard labels too), without its clipping.
    """
    y_proba = _check_proba(y_proba)
    n_columns = y_proba.shape[1]
    y_true = _labelled_columns(y_true, labels)
    soft = _is_probability_target(y_true)
    if soft:
        y_true = check_array(y_true, dtype=_FLOAT_DTYPES, input_name="y_true")
    check_consistent_length(y_true, y_proba, sample_weight)
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
        targets = y_true.astype(np.float64, copy=False)
    else:
        targets = _one_hot_labels(y_true, labels, n_columns)
    _check_probability_rows(y_proba, "y_proba")
    sample_weight = _check_weights(sample_weight, y_proba)
    if sample_weight is None:
        weights = np.ones(y_proba.shape[0])
    else:
        # Normalised before they multiply, so that huge weights cannot overflow.
        weights = sample_weight / sample_weight.max()
    return targets, y_proba.astype(np.float64, copy=False), weights


def _check_n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral):
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    if n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return int(n_bins)


def _binned_gap(predicted, observed, weights, n_bins):
    r"""``sum_b |sum_{i in b} w_i (observed_i - predicted_i)| / sum_i w_i``.

    Bins are :math:`(b / B, (b + 1) / B]`, the first one closed at 0.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, predicted, side="left") - 1, 0, n_bins - 1)
    gaps = np.bincount(bins, weights=weights * (observed - predicted),
                       minlength=n_bins)
    return float(np.sum(np.abs(gaps)) / np.sum(weights))


def expected_calibration_error(
    y_true,
    y_proba,
    *,
    n_bins=15,
    kind="top-label",
    sample_weight=None,
    labels=None,
):
    r"""Expected calibration error of predicted probabilities, binned.

    The weighted mean, over equal-width bins of predicted probability, of
    the absolute gap between the mean prediction in the bin and the mean
    outcome. 0 for a calibrated model (up to the noise of the bins' means);
    lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels, or a 2-D numeric array of target probabilities with the
        shape of ``y_proba``. The outcome of a class is then its target
        probability instead of 0 or 1.

    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, as returned by ``predict_proba``; a 1-D array
        is the probability of the positive class. Rows must sum to one.

    n_bins : int, default=15
        Number of equal-width bins of [0, 1].

    kind : {"top-label", "classwise"}, default="top-label"
        ``"top-label"`` (Guo et al., 2017) bins the confidence, the largest
        probability of each row, against whether (or how probably, for soft
        labels) the top class is the target; ``"classwise"`` (Kull et al.,
        2019) bins every class's probability against its outcome and
        averages the classes' errors.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba`` for hard labels, as in
        :func:`cross_entropy`; with target probabilities only their number is
        checked, and a DataFrame's columns are matched to them by name.

    Returns
    -------
    error : float
        The expected calibration error, in [0, 1].

    See Also
    --------
    brier_score : A proper score that includes calibration.
    sklearn.calibration.calibration_curve : The binned means themselves.

    Notes
    -----
    With bins :math:`B_b = (b/M, (b+1)/M]` (the first closed at 0), outcomes
    :math:`o_i` and predictions :math:`c_i`,

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{M} \frac{W_b}{W}
        \left| \bar o_b - \bar c_b \right|
        = \frac{1}{W} \sum_{b=1}^{M}
        \Bigl| \sum_{i : c_i \in B_b} w_i (o_i - c_i) \Bigr|,

    where :math:`W_b` is the weight in bin :math:`b`, :math:`W` the total
    weight and :math:`\bar o_b`, :math:`\bar c_b` the weighted means in the
    bin. Top-label: :math:`c_i = \max_k q_{ik}` and :math:`o_i = p_{i\hat k}`
    at :math:`\hat k = \arg\max_k q_{ik}` (the first of tied columns).
    Classwise: the mean over classes :math:`k` of the same sum with
    :math:`c_i = q_{ik}`, :math:`o_i = p_{ik}`.

    The ECE is biased upwards by the sampling noise in each bin, of order
    :math:`\sqrt{M / n}`, so compare models on the same data and the same
    ``n_bins``. It is not a proper score: a model that predicts the class
    frequencies everywhere has an ECE near 0. Report it next to a proper
    score such as :func:`brier_score` or :func:`cross_entropy`.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger (2017). On calibration of
    modern neural networks. *ICML*.

    M. Kull, M. Perello-Nieto, M. Kängsepp, T. Silva Filho, H. Song and P.
    Flach (2019). Beyond temperature scaling: obtaining well-calibrated
    multiclass probabilities with Dirichlet calibration. *NeurIPS*.

    Examples
    --------
    >>> from skdiv.metrics import expected_calibration_error
    >>> y_true = [0, 1, 1, 1]
    >>> y_proba = [[0.8, 0.2], [0.4, 0.6], [0.1, 0.9], [0.3, 0.7]]
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=2), 6)
    0.25
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=2,
    ...                                  kind="classwise"), 6)
    0.25
    >>> round(expected_calibration_error([[0.2, 0.8]], [[0.2, 0.8]]), 6)
    0.0
    """
    n_bins = _check_n_bins(n_bins)
    if kind not in _ECE_KINDS:
        raise ValueError(
            f"kind must be one of {', '.join(map(repr, _ECE_KINDS))}; got {kind!r}."
        )
    targets, y_proba, weights = _targets_and_rows(
        y_true, y_proba, sample_weight, labels
    )
    if kind == "top-label":
        top = np.argmax(y_proba, axis=1)
        rows = np.arange(y_proba.shape[0])
        return _binned_gap(y_proba[rows, top], targets[rows, top], weights, n_bins)
    return float(np.mean([
        _binned_gap(y_proba[:, k], targets[:, k], weights, n_bins)
        for k in range(y_proba.shape[1])
    ]))


def brier_score(y_true, y_proba, *, sample_weight=None, labels=None):
    r"""Brier score: mean over rows of the squared distance to the target row.

    Brier's (1950) original score, summed over all classes; a strictly
    proper score for hard and soft labels, lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels, or a 2-D numeric array of target probabilities with the
        shape of ``y_proba``.

    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities; a 1-D array is the probability of the
        positive class. Rows must sum to one.

    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative sample weights, not all zero.

    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba`` for hard labels, as in
        :func:`cross_entropy`; a DataFrame of target probabilities has its
        columns matched to them by name.

    Returns
    -------
    score : float
        The weighted mean squared distance, in [0, 2].

    See Also
    --------
    sklearn.metrics.brier_score_loss : The same on hard labels with
        ``scale_by_half=False``; half of it for binary problems by default.
    expected_calibration_error : The calibration part, binned.

    Notes
    -----
    With target rows :math:`p_i` (one-hot for hard labels) and predicted
    rows :math:`q_i`,

    .. math::

        \mathrm{BS} = \frac{1}{\sum_i w_i} \sum_{i=1}^{n} w_i
        \sum_{k=1}^{K} (q_{ik} - p_{ik})^2 .

    For a binary problem this is twice the mean of :math:`(q_{i1} -
    p_{i1})^2`, the score :func:`sklearn.metrics.brier_score_loss` returns
    by default. On soft labels its expectation differs from the one on
    labels drawn from :math:`p_i` by :math:`1 - \sum_k p_{ik}^2`, a constant
    of the targets, so both rank models alike.

    References
    ----------
    G. W. Brier (1950). Verification of forecasts expressed in terms of
    probability. *Monthly Weather Review*, 78(1), 1-3.

    Examples
    --------
    >>> from skdiv.metrics import brier_score
    >>> round(brier_score([0, 1, 1], [0.1, 0.8, 0.6]), 6)
    0.14
    >>> round(brier_score([[0.2, 0.8]], [[0.5, 0.5]]), 6)
    0.18
    """
    targets, y_proba, weights = _targets_and_rows(
        y_true, y_proba, sample_weight, labels
    )
    squares = np.sum((y_proba - targets) ** 2, axis=1)
    return _weighted_mean(squares, weights)
