"""Classification targets: labels, soft labels, class weights, smoothing, start."""

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_array, compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from .._validation import (
    check_probability_rows,
    check_two_classes,
    check_unique_classes,
    class_columns,
    encode_labels,
    soft_label_columns,
)


def is_soft(y):
    """Whether a validated ``y`` holds probability rows (2-D, several columns)."""
    return y.ndim == 2 and y.shape[1] > 1


def incremental_soft_label_columns(y, classes, fitted_classes, first):
    """:func:`~skdiv._validation.class_columns` for one call of ``partial_fit``.

    On a later call without ``classes`` the columns are matched to the
    classes of the first (``fitted_classes``, sorted). Returns ``(y,
    classes)``: the classes sorted (those the columns name, on the first
    call), or None when neither ``classes`` nor the columns give them.
    """
    if classes is None and not first:
        return soft_label_columns(y, fitted_classes)[0], None
    return class_columns(y, classes)

def check_label_vector(y):
    """``y`` as a 1-D array of class labels, as scikit-learn checks them.

    Integer, boolean and integral float vectors, the common case after
    :func:`~skdiv._validation.validate_fit_data`, are binary or multiclass
    targets by construction: they skip scikit-learn's
    :func:`~sklearn.utils.multiclass.check_classification_targets`, whose
    array checks cost more than a small fit's Newton step. Anything else
    (columns, strings, objects, continuous values) goes through
    scikit-learn's checks and errors.
    """
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.size:
        if y.dtype.kind in "biu":
            return y
        if y.dtype.kind == "f" and np.isfinite(y).all() and (y == np.round(y)).all():
            return y
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    return y


def encode_classes(y, classes=None):
    """Integer codes of hard labels, or soft labels as probability rows.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Labels (any type), or rows of probabilities.
    classes : array-like of shape (n_classes,), default=None
        The class labels: with soft labels they name the columns
        (``arange(n_classes)`` when None); with hard labels they may list
        classes absent from ``y``.

    Returns
    -------
    target : ndarray of shape (n_samples,) of int or (n_samples, n_classes)
        ``classes[target] == y`` for hard labels; the validated float64 rows
        for soft ones.
    classes : ndarray of shape (n_classes,)
    """
    classes = check_unique_classes(classes)
    if is_soft(y):
        y = check_array(y, dtype=np.float64, ensure_all_finite=True, input_name="y")
        if classes is None:
            classes = np.arange(y.shape[1])
        elif classes.shape[0] != y.shape[1]:
            raise ValueError(
                f"Soft-label y has {y.shape[1]} columns but classes names "
                f"{classes.shape[0]} classes."
            )
        check_probability_rows(y, name="soft-label y")
        return normalised_rows(y), classes
    y = check_label_vector(y)
    if classes is None:
        classes, codes = np.unique(y, return_inverse=True)
    else:
        codes = encode_labels(y, classes)
    check_two_classes(classes)
    return codes, classes


def probabilities(target, n_classes):
    """Rows of class probabilities: one-hot rows for integer codes."""
    if target.ndim == 2:
        return target
    onehot = np.zeros((target.shape[0], n_classes))
    onehot[np.arange(target.shape[0]), target] = 1.0
    return onehot


def normalised_rows(target):
    r"""Probability rows divided by their sums, once they passed the checks.

    Rows are accepted when they sum to one within a tolerance, but the
    objectives' gradient :math:`q_i - p_i` is that of their loss only for
    rows summing to exactly one: a row summing to :math:`1 + \delta` left a
    gradient of :math:`\delta / K` along the logits' common shift, which the
    solvers could not remove. Entries accepted within the tolerance of
    :math:`[0, 1]` (``-4e-16``) are clipped into it first. Works on numpy
    and Dask arrays.
    """
    target = target.clip(0.0, None)
    return target / target.sum(axis=1, keepdims=True)


def class_counts(target, sample_weight, n_classes):
    r"""Weighted (soft) class counts :math:`\sum_i s_i p_{ik}`."""
    if target.ndim == 1:
        return np.bincount(target, weights=sample_weight, minlength=n_classes)
    return sample_weight @ target


def class_weight_vector(class_weight, classes, counts=None):
    r"""The weight :math:`c_k` of each class.

    Parameters
    ----------
    class_weight : dict or "balanced"
        A dict maps labels to weights (classes not named get 1), as
        :func:`sklearn.utils.compute_class_weight`. ``"balanced"`` is
        scikit-learn's rule on weighted, possibly soft, class counts
        :math:`n_k = \sum_i s_i p_{ik}`:

        .. math::

            c_k = \frac{\sum_j n_j}{K' n_k}

        over the :math:`K'` classes with :math:`n_k > 0` (the others get 1).
    classes : ndarray of shape (n_classes,)
    counts : ndarray of shape (n_classes,), default=None
        The class counts; needed for ``"balanced"`` only (see
        :func:`class_counts`).

    Returns
    -------
    weights : ndarray of shape (n_classes,)
    """
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        present = counts > 0
        weights = np.ones_like(counts)
        weights[present] = counts.sum() / (present.sum() * counts[present])
        return weights
    bad = {
        label: value for label, value in class_weight.items()
        if isinstance(value, bool) or not isinstance(value, numbers.Real)
        or not np.isfinite(value) or value < 0
    }
    if bad:
        raise ValueError(
            "class_weight must map classes to finite, non-negative numbers, "
            f"got {_plain(bad)}."
        )
    weights = compute_class_weight(class_weight, classes=classes, y=classes)
    if not np.any(weights > 0):
        raise ValueError(
            f"class_weight={_plain(class_weight)} gives every class weight 0: no "
            "sample would count in the objective. Give at least one class a "
            "positive weight."
        )
    return weights


def _plain(mapping):
    """A dict with numpy scalars shown as Python values (``'a'``, not ``np.str_``)."""
    return {
        (k.item() if isinstance(k, np.generic) else k):
        (v.item() if isinstance(v, np.generic) else v)
        for k, v in mapping.items()
    }


def reweight_soft_rows(target, sample_weight, weights, xp=np):
    r"""Class weights on probability rows, as row weights and renormalised rows.

    .. math::

        -\sum_k c_k p_{ik} \log q_{ik} = s'_i\, \mathrm{CE}(p'_i, q_i),
        \qquad s'_i = \sum_k c_k p_{ik}, \quad p'_{ik} = c_k p_{ik} / s'_i ,

    the exact equivalent of duplicating each row once per class with weight
    :math:`c_k p_{ik}`. Rows with :math:`s'_i = 0` keep their target (their
    weight is 0). ``xp`` is ``numpy`` or ``dask.array``.

    Returns
    -------
    target : array of shape (n_samples, n_classes)
    sample_weight : array of shape (n_samples,)
    """
    weighted = target * weights
    row_weight = weighted.sum(axis=1)
    keep = row_weight > 0
    target = xp.where(
        keep[:, None], weighted / xp.where(keep, row_weight, 1.0)[:, None], target
    )
    return target, sample_weight * row_weight


def fold_class_weights(target, sample_weight, weights, xp=np):
    r"""Class weights folded into the sample weights (and soft rows).

    A hard label's row is one-hot: its weight becomes :math:`s_i c_{y_i}`.
    Probability rows go through :func:`reweight_soft_rows`.

    Returns
    -------
    target : array of shape (n_samples,) or (n_samples, n_classes)
    sample_weight : array of shape (n_samples,)
    """
    if target.ndim == 1:
        return target, sample_weight * weights[target]
    return reweight_soft_rows(target, sample_weight, weights, xp=xp)


def weigh_classes(target, sample_weight, class_weight, classes, counts=None):
    """Class weights folded into ``(target, sample_weight)``, checked.

    :func:`class_weight_vector` (``counts`` for ``"balanced"``), then
    :func:`fold_class_weights`, refusing weights that leave no sample of
    positive weight (:func:`raise_for_weighted_total`).
    """
    weights = class_weight_vector(class_weight, classes, counts)
    weighted, folded = fold_class_weights(target, sample_weight, weights)
    raise_for_weighted_total(
        folded.sum(),
        class_weight,
        classes,
        weights,
        lambda: class_counts(target, sample_weight, classes.shape[0]),
        soft=target.ndim == 2,
    )
    return weighted, folded


def raise_for_weighted_total(
    total, class_weight, classes, weights, counts, *, soft=False
):
    r"""Raise a ValueError unless the class-weighted sample weights sum above 0.

    :func:`class_weight_vector` refuses class weights that are all 0; this
    is the check of the data: :math:`\sum_i s_i \sum_k c_k p_{ik} > 0`,
    which fails when every sample of positive weight has its label (or all
    its target probability) in classes of weight 0. The objective would
    then divide 0 by 0.

    Parameters
    ----------
    total : float
        The sum of the sample weights with the class weights folded in.
    class_weight : dict or "balanced"
    classes : ndarray of shape (n_classes,)
    weights : ndarray of shape (n_classes,)
        The class weights :math:`c_k` (:func:`class_weight_vector`).
    counts : callable
        Returns the weighted class counts before the class weights,
        :math:`\sum_i s_i p_{ik}` (:func:`class_counts`); called only to
        write the message, so that a Dask fit computes them only then.
    soft : bool, default=False
        Whether the targets are probability rows (for the message).
    """
    if total > 0:
        return
    counts = np.asarray(counts(), dtype=np.float64)
    present = counts > 0
    shown = _plain(class_weight) if isinstance(class_weight, dict) else class_weight
    where = "have all their target probability on" if soft else "are all of"
    raise ValueError(
        f"class_weight={shown!r} and sample_weight leave no sample with "
        f"positive weight: the samples of positive sample_weight {where} the "
        f"classes {classes[present].tolist()}, whose class weights are "
        f"{weights[present].tolist()}. Give one of these classes a positive "
        "weight."
    )


def smooth(target, label_smoothing, n_classes):
    r"""Label smoothing :math:`(1 - \epsilon) p_i + \epsilon / K` (PyTorch's)."""
    return (1.0 - label_smoothing) * probabilities(target, n_classes) + (
        label_smoothing / n_classes
    )


def objective_target(target, n_classes):
    """What the objective sees: one column for two classes, codes when one-hot.

    Binary: the probability of the second class (one logit). Otherwise
    integer codes when every row is one-hot (a cheaper objective path), else
    the rows.
    """
    if n_classes == 2:
        return target[:, 1].copy() if target.ndim == 2 else (target == 1) * 1.0
    if target.ndim == 1:
        return target
    if np.all(target.max(axis=1) == 1.0):
        return target.argmax(axis=1)
    return target


def intercept_only_start(counts, weight_sum, n_outputs):
    r"""The intercept-only optimum: logits of the weighted class frequencies.

    :math:`\pi_k = n_k / \sum_i s_i`, clipped to :math:`[10^{-10}, 1]`; the
    intercepts are :math:`\log \pi_k` centred to sum zero, or
    :math:`\log \pi_1 - \log \pi_0` for one output.
    """
    log_prior = np.log(np.clip(counts / weight_sum, 1e-10, 1))
    if n_outputs == 1:
        return np.array([log_prior[1] - log_prior[0]])
    return log_prior - log_prior.mean()


@dataclass(frozen=True)
class PreparedClassification:
    """What the classifier's objective is fitted to.

    Attributes
    ----------
    target : ndarray
        The objective's target (see :func:`objective_target`).
    sample_weight : ndarray of shape (n_samples,)
        Sample weights with the class weights folded in.
    classes : ndarray of shape (n_classes,)
    n_outputs : int
        1 for two classes, else ``n_classes``.
    counts : ndarray of shape (n_classes,)
        Weighted class counts of the final (weighted, smoothed) targets,
        for the intercept-only start.
    """

    target: np.ndarray
    sample_weight: np.ndarray
    classes: np.ndarray
    n_outputs: int
    counts: np.ndarray = field(repr=False)

    def intercept_start(self):
        """The intercept-only start (:func:`intercept_only_start`)."""
        return intercept_only_start(
            self.counts, self.sample_weight.sum(), self.n_outputs
        )


def prepare_classification(
    y, sample_weight, *, classes=None, class_weight=None, label_smoothing=0.0
):
    """Encode, weight and smooth classification targets (in memory).

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Validated labels or probability rows.
    sample_weight : ndarray of shape (n_samples,)
        Validated sample weights (:func:`check_sample_weight`).
    classes, class_weight, label_smoothing
        The classifier's parameters of those names.

    Returns
    -------
    PreparedClassification
    """
    target, classes = encode_classes(y, classes)
    n_classes = classes.shape[0]
    # "balanced" counts the classes of the data as given, before smoothing.
    counts = None
    if isinstance(class_weight, str):
        counts = class_counts(target, sample_weight, n_classes)
    # Smoothing first, then each class's term weighted by its own weight
    # (PyTorch's CrossEntropyLoss(weight, label_smoothing)): the same model as
    # fitting the smoothed rows with the same class weights.
    if label_smoothing:
        target = smooth(target, label_smoothing, n_classes)
    if class_weight is not None:
        target, sample_weight = weigh_classes(
            target, sample_weight, class_weight, classes, counts
        )
    return PreparedClassification(
        target=objective_target(target, n_classes),
        sample_weight=sample_weight,
        classes=classes,
        n_outputs=1 if n_classes == 2 else n_classes,
        counts=class_counts(target, sample_weight, n_classes),
    )
