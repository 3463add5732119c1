"""Input checks shared by the metric functions (classification and Gaussian).

Every metric validates its inputs up front and raises a ``ValueError`` that
names the problem; none of them returns NaN for bad input. The conventions
for probability rows are stated in :mod:`skdiv.metrics._divergence`.
"""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.multiclass import type_of_target, unique_labels

from .._validation import (
    check_probability_rows,
    holds_numbers,
    raise_for_probability_range,
    row_sum_tolerance,
    soft_label_columns,
)
from .._weights import check_sample_weight

_FLOAT_DTYPES = (np.float64, np.float32)


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _normalised(sample_weight):
    """Weights scaled to a largest value of one (None stays None)."""
    if sample_weight is None:
        return None
    return sample_weight / sample_weight.max()


def _weighted_mean(values, sample_weight):
    """``sum(w * v) / sum(w)`` with the weights normalised first.

    Normalised weights cannot overflow a sum (weights near 1e308 are
    finite, and valid). Rows of zero weight are left out rather than
    multiplied: ``0 * inf`` would be NaN for a row whose value overflowed.
    """
    if sample_weight is None:
        return float(np.mean(values))
    values = np.broadcast_to(values, sample_weight.shape)
    keep = sample_weight > 0
    return float(np.average(values[keep], weights=_normalised(sample_weight)[keep]))


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
        raise_for_probability_range(a.min(), a.max(), name,
                                    row_sum_tolerance(a.dtype))


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


def _labelled_columns(y_true, labels):
    """A soft-label DataFrame's columns in the order of ``labels``.

    The estimators match such a frame's column names to their classes
    (:func:`skdiv._validation.soft_label_columns`); so do the metrics, to
    ``labels`` (the columns of ``y_proba``) when given, so that a held-out
    frame scores against the columns it names, whatever their order.
    """
    if labels is None:
        return y_true
    return soft_label_columns(y_true, labels)[0]


def _is_probability_target(y_true):
    """2-D numeric ``y_true`` with two or more columns holds target rows."""
    shape = np.shape(y_true)
    if len(shape) != 2 or shape[1] < 2:
        return False
    return holds_numbers(y_true)


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
    y_true = _labelled_columns(y_true, labels)
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
        # Entries within the tolerance of [0, 1] (-4e-16 from 1 - p) into
        # it: a negative target would make the KL's p log p undefined.
        targets = np.clip(y_true, 0.0, 1.0).astype(np.float64, copy=False)
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
    if y.ndim == 2 and y.shape[1] == 1:
        # One column is one output: scikit-learn's regression metrics read it
        # so, and the regressors fit such a y (a one-column DataFrame).
        y = y[:, 0]
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
