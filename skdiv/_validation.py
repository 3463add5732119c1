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
