"""Validation shared by estimators, metrics and scorers."""

import numpy as np

# Rows of probabilities may carry float32 rounding: accept |sum - 1| up to this.
PROBA_SUM_TOL = 1e-6


def check_probability_rows(proba, *, name="y", sum_tol=PROBA_SUM_TOL):
    """Check that every row of a 2-D array is a probability distribution.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Finite values (check those first, e.g. with ``check_array``).
    name : str
        How the error message calls the array.
    sum_tol : float
        Largest accepted ``|row sum - 1|``.

    Raises
    ------
    ValueError
        Naming the first offending row, for a negative entry or a row whose
        sum is not 1.
    """
    negative = np.flatnonzero((proba < 0).any(axis=1))
    if negative.size:
        i = negative[0]
        raise ValueError(
            f"{name} must hold probabilities, but row {i} has a negative "
            f"entry ({proba[i].min():.6g}); {negative.size} row(s) do."
        )
    sums = proba.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > sum_tol)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"Rows of {name} must sum to 1, but row {i} sums to {sums[i]:.10g}; "
            f"{bad.size} row(s) do not sum to 1 (tolerance {sum_tol:g})."
        )
    return proba


def encode_labels(y, classes):
    """Integer codes of hard labels ``y`` in the known ``classes``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels (any comparable type).
    classes : ndarray of shape (n_classes,)
        The classes, in the order of the model's columns (not necessarily
        sorted).

    Returns
    -------
    codes : ndarray of shape (n_samples,)
        ``classes[codes] == y``.

    Raises
    ------
    ValueError
        Naming the labels of ``y`` that are not in ``classes``.
    """
    check_labels_known(y, classes)
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes, y, sorter=order)]


def check_labels_known(labels, classes):
    """Raise a ValueError naming the ``labels`` missing from ``classes``."""
    missing = np.setdiff1d(labels, classes)
    if missing.size:
        raise ValueError(
            f"y contains labels {missing.tolist()} that are not in "
            f"classes={classes.tolist()}."
        )


def check_two_classes(classes):
    """Raise a ValueError when fewer than two classes are known."""
    if classes.shape[0] < 2:
        raise ValueError(
            "DivergenceClassifier needs samples of at least 2 classes in "
            f"the data, but the data contain only one class: {classes[0]!r}."
        )
