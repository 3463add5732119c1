"""Validation shared by estimators, metrics and scorers."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import assert_all_finite, column_or_1d

from ._compat import validate_data

#: Smallest tolerance on ``|row sum - 1|`` of probability rows; see
#: :func:`row_sum_tolerance`.
PROBA_SUM_TOL = 1e-6


def row_sum_tolerance(dtype):
    r"""The one tolerance on :math:`|\sum_k p_k - 1|` of probability rows.

    :math:`\max(10^{-6}, \sqrt{\epsilon})` with :math:`\epsilon` the
    machine epsilon of ``dtype``: ``1e-6`` for float64 (rows computed in
    float32 and stored as float64 pass), about ``3.5e-4`` for float32.
    Shared by the estimators' soft labels and the metrics.
    """
    return max(PROBA_SUM_TOL, float(np.sqrt(np.finfo(dtype).eps)))


def raise_for_probability_range(minimum, maximum, name, tol=0.0):
    """Raise a ValueError unless ``minimum >= -tol`` and ``maximum <= 1 + tol``.

    ``tol`` is the rows' sum tolerance (:func:`row_sum_tolerance`): an entry
    computed as ``1 - p`` may come out at ``-4e-16``, and its row passes
    the sum test; the callers then clip it into :math:`[0, 1]`.
    """
    if minimum < -tol:
        raise ValueError(
            f"{name} contains negative values (minimum {float(minimum)!r}); "
            "probabilities must lie in [0, 1]."
        )
    if maximum > 1 + tol:
        raise ValueError(
            f"{name} contains values greater than 1 (maximum {float(maximum)!r}); "
            "probabilities must lie in [0, 1]."
        )


def raise_for_row_sums(name, tol, n_bad, worst_row, worst_sum):
    """Raise the ValueError for ``n_bad`` rows whose sum is off by more than ``tol``.

    ``worst_row`` is the row whose sum is farthest from 1, ``worst_sum`` its
    sum. A function of reductions, so that Dask arrays get the same message.
    """
    if n_bad:
        raise ValueError(
            f"The rows of {name} must sum to one (tolerance {tol:.2g}); "
            f"row {int(worst_row)} sums to {float(worst_sum)!r} ({int(n_bad)} "
            "row(s) do not sum to one)."
        )


def check_probability_rows(proba, *, name="y"):
    """Check that every row of a 2-D array is a probability distribution.

    Entries must lie in :math:`[0, 1]` and each row must sum to one, both
    within :func:`row_sum_tolerance` of the array's dtype.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Finite values (check those first, e.g. with ``check_array``).
    name : str
        How the error message calls the array.

    Raises
    ------
    ValueError
        For an entry outside :math:`[0, 1]`, naming the extreme value, or for
        rows whose sum is not one, naming the row farthest from one.
    """
    tol = row_sum_tolerance(proba.dtype)
    if proba.size:
        raise_for_probability_range(proba.min(), proba.max(), name, tol)
    sums = proba.sum(axis=1)
    deviation = np.abs(sums - 1.0)
    bad = deviation > tol
    if bad.any():
        worst = int(np.argmax(deviation))
        raise_for_row_sums(name, tol, bad.sum(), worst, sums[worst])
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
    labels, classes = np.asarray(labels), np.asarray(classes)
    if (labels.dtype.kind in "US") != (classes.dtype.kind in "US") and "O" not in (
        labels.dtype.kind + classes.dtype.kind
    ):
        # Text against numbers: none is known. Said directly, since NumPy
        # < 1.25 compares such arrays with a FutureWarning, not elementwise.
        missing = np.unique(labels)
    else:
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


# ------------------------------------------------------------ class labels
def holds_numbers(y):
    """Whether an array-like holds numbers (booleans included).

    ``np.asarray`` of a pandas DataFrame of nullable dtypes (``Float64``,
    ``Int64``, ``boolean``) is an object array, although scikit-learn's
    ``check_array`` (and so every fit) reads it as numbers: such dtypes'
    ``kind`` is that of the NumPy dtype they convert to.
    """
    if hasattr(y, "columns") and hasattr(y, "dtypes"):
        return all(getattr(dtype, "kind", "O") in "fiub" for dtype in y.dtypes)
    dtype = getattr(y, "dtype", None)
    if dtype is None:
        dtype = np.asarray(y).dtype
    return getattr(dtype, "kind", "O") in "fiub"


def check_unique_classes(classes):
    """``classes`` as a 1-D array, or None.

    A ValueError, naming ``classes``, if it is not 1-D, holds a missing
    value (NaN or None), mixes strings and numbers (numpy would turn the
    numbers into strings) or repeats a label.
    """
    if classes is None:
        return None
    values = np.asarray(classes, dtype=object)
    if values.ndim != 1:
        raise ValueError(
            f"classes must be a 1-D list of labels, got an array of shape "
            f"{values.shape}."
        )
    # NaN is the one value unequal to itself.
    if any(label is None or label != label for label in values.tolist()):
        raise ValueError(f"classes must not hold a missing value, got {classes!r}.")
    kinds = {isinstance(label, str) for label in values.tolist()}
    if len(kinds) > 1:
        raise ValueError(
            f"classes mixes strings and numbers: {classes!r}. Use labels of one "
            "type, as in y."
        )
    classes = column_or_1d(classes)
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise ValueError(f"classes must be unique, got {classes!r}.")
    return classes


def _default_columns(columns):
    """Whether DataFrame columns are pandas' default names ``0, ..., k-1``.

    ``pd.DataFrame(array)`` gets a ``RangeIndex``: such a frame names no
    classes, and its columns are the classes' positions, as an array's.
    """
    return (
        type(columns).__name__ == "RangeIndex"
        and columns.start == 0
        and columns.step == 1
    )


def soft_label_columns(y, classes):
    """A soft-label DataFrame's columns put in the order of ``classes``.

    A pandas DataFrame of probability rows names its classes in its columns
    (issue 17); read them before validation turns ``y`` into an array.

    * ``classes`` None: the column names are the classes.
    * Column names the same set as ``classes``: the columns are reordered
      to ``classes``' order (matched by name, never by position).
    * Column names another set of as many labels: a ValueError naming both.
    * The default names ``0, ..., k-1`` (a frame made from an array): no
      names, matched by position as an array is.

    Anything else (arrays, a single column, a column count that differs
    from ``classes``, which :func:`encode_classes` refuses) is returned as
    given.

    Returns
    -------
    y : array-like
        ``y``, or its columns in ``classes``' order (a pandas DataFrame
        stays one; another frame with ``columns`` becomes an array).
    classes : ndarray or None
    """
    columns = getattr(y, "columns", None)
    if columns is None or len(columns) < 2:
        return y, classes
    if classes is None:
        return y, np.asarray(columns)
    if _default_columns(columns):
        return y, classes
    names = np.asarray(columns).tolist()
    labels = check_unique_classes(classes).tolist()
    if len(labels) != len(names):
        return y, classes
    position = {name: j for j, name in enumerate(names)}
    if len(position) == len(names) and set(labels) == set(names):
        order = [position[label] for label in labels]
        if order == sorted(order):
            return y, classes
        if hasattr(y, "iloc"):  # pandas: keep the frame (and its dtypes)
            return y.iloc[:, order], classes
        return np.asarray(y)[:, order], classes
    raise ValueError(
        f"The soft-label DataFrame's columns {names} are not the classes "
        f"{labels}: its columns name the classes they hold. Name them as "
        "classes (in any order), or pass y.to_numpy() to take the columns "
        "in classes' order by position."
    )


def class_columns(y, classes):
    """The classes sorted, as scikit-learn's ``classes_``, and y's columns with them.

    scikit-learn's classifiers keep ``classes_`` sorted (``np.unique``), and
    its tools read ``predict_proba``'s columns in that order: a soft
    ``VotingClassifier``, ``cross_val_predict``, the ``neg_log_loss`` and
    ``roc_auc`` scorers. So the estimators sort ``classes`` (a set of labels
    for hard targets) and put soft targets' columns in the sorted order:

    * a DataFrame whose columns name the classes is matched by name
      (:func:`soft_label_columns`), in any order, and ``classes`` may be
      None (the names are the classes);
    * probability rows given by position (an array, or a frame of default
      column names) are in the order of ``classes_``, so in sorted order:
      with ``classes`` not sorted, the columns' order would be ambiguous
      (``classes``' or ``classes_``'), and a ValueError says so.

    Returns
    -------
    y : array-like
        ``y``, a named frame's columns in sorted order.
    classes : ndarray or None
        The classes sorted, or None when neither ``classes`` nor the
        columns name them.
    """
    given = check_unique_classes(classes)
    ordered = None if given is None else np.sort(given, kind="stable")
    columns = getattr(y, "columns", None)
    named = (columns is not None and len(columns) > 1
             and not _default_columns(columns))
    if ordered is not None and not named and not np.array_equal(ordered, given):
        shape = np.shape(y)
        if len(shape) == 2 and shape[1] > 1:
            raise ValueError(
                f"classes={given.tolist()} is not sorted, and the soft-label y "
                "gives its columns by position: they are taken in the order of "
                "classes_, which is sorted as in scikit-learn "
                f"({ordered.tolist()}). Pass classes sorted with y's columns in "
                "that order, or a DataFrame whose columns name the classes."
            )
    if named and ordered is None:
        ordered = np.sort(np.asarray(columns), kind="stable")
    return soft_label_columns(y, ordered)


# ----------------------------------------------------------- transactional fit
def validate_fit_data(estimator, X, y="no_validation", *, reset=True, **check_params):
    """:func:`~sklearn.utils.validation.validate_data` that leaves ``estimator`` alone.

    scikit-learn's ``validate_data(estimator, X, y, reset=True)`` sets
    ``n_features_in_`` and ``feature_names_in_`` on the estimator (or deletes
    the latter) before the fit has checked anything else, so a fit that
    raises later would leave an estimator whose feature attributes disagree
    with its coefficients. Here validation runs on a *stand-in*: a bare
    instance of the estimator's class whose ``__dict__`` is a shallow copy
    of the estimator's (no array is copied, no ``__init__`` or pickling hook
    runs). ``validate_data`` reads the stand-in's parameters, tags and (with
    ``reset=False``) its fitted ``n_features_in_`` and
    ``feature_names_in_``, exactly as it would the estimator's, and writes
    its feature attributes on the stand-in only. The caller commits them with
    :func:`store_fitted` once the whole fit has succeeded.

    This is simpler and safer than snapshotting and restoring the
    estimator's attributes on failure: nothing needs undoing, so an
    exception of any kind (including one raised in the middle of a solver)
    cannot leave a half-written estimator.

    Parameters
    ----------
    estimator : estimator instance
        Read, never written.
    X, y, reset, **check_params
        As for :func:`~sklearn.utils.validation.validate_data`.

    Returns
    -------
    validated : ndarray or tuple
        What ``validate_data`` returns: ``X``, or ``(X, y)``.
    features : dict
        ``{"n_features_in_": int, "feature_names_in_": ndarray or None}``,
        None meaning that the attribute must not exist.
    """
    stand_in = object.__new__(type(estimator))
    stand_in.__dict__.update(estimator.__dict__)
    validated = validate_data(stand_in, X, y, reset=reset, **check_params)
    has_y = isinstance(validated, tuple)
    check_feature_scale(validated[0] if has_y else validated)
    if has_y and check_params.get("y_numeric"):
        validated = (validated[0], numeric_target(validated[1]))
    features = {
        "n_features_in_": stand_in.n_features_in_,
        "feature_names_in_": getattr(stand_in, "feature_names_in_", None),
    }
    return validated, features


def check_feature_scale(X):
    r"""Raise a ValueError when products of features would overflow.

    The fits form sums of squares and products of features (the moments of
    the preconditioner, Hessian products) in ``X``'s precision: with
    :math:`n` rows, entries beyond :math:`\sqrt{\max / (100\, n)}` (about
    ``1e153`` for 100 float64 rows) overflow them, which would surface as a
    ``LinAlgError`` deep in an eigendecomposition.
    """
    if not (sp.issparse(X) or isinstance(X, np.ndarray)) or X.dtype.kind != "f":
        return
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    # Two reductions, no |X| temporary (a copy of X: the fit's peak memory).
    peak = float(max(values.max(), -values.min()))
    limit = feature_scale_limit(X.dtype, X.shape[0])
    if peak > limit:
        raise ValueError(
            f"X has entries up to {peak:.3g} in absolute value: "
            + feature_scale_message(X.dtype, X.shape[0])
        )


def feature_scale_limit(dtype, n_samples):
    """The largest ``|X|`` whose sums of squares over ``n_samples`` rows are safe."""
    return float(np.sqrt(np.finfo(dtype).max / (100 * max(n_samples, 1))))


def feature_scale_message(dtype, n_samples):
    """The end of :func:`check_feature_scale`'s message (also the Dask fits')."""
    return (
        f"sums of products of features overflow {np.dtype(dtype)} beyond about "
        f"{feature_scale_limit(dtype, n_samples):.3g} for {n_samples} samples. "
        "Divide X by a constant (for instance with a StandardScaler in a "
        "pipeline)."
    )


def numeric_target(y):
    """A regression target as finite floats, or a clear ValueError.

    scikit-learn's regressors convert numeric strings and refuse the others
    with ``could not convert string to float``; so does this. The result is
    checked for NaN and infinity: ``validate_data(..., y_numeric=True)``
    checks an object-dtype ``y`` *before* it casts it to float, and that
    check lets ``None`` (NaN after the cast) and ``inf`` through, which
    would surface later as a misleading overflow error.
    """
    if y.dtype.kind in "USV":
        try:
            y = y.astype(np.float64)
        except ValueError as error:
            raise ValueError(
                f"y must be numeric for a regressor; got {y.dtype} values such as "
                f"{str(y.flat[0])!r}, and {error}."
            ) from None
    # scikit-learn's message, where there is something to say (its check
    # costs more than the fit of a small problem's closed form).
    if not np.isfinite(y).all():
        assert_all_finite(y, input_name="y")
    return y


def store_fitted(estimator, attributes):
    """Set fitted attributes in one step; a value of None deletes the attribute.

    The commit of a transactional fit: called last, after everything that
    can fail, with every attribute the fit produces.
    """
    for name, value in attributes.items():
        if value is None:
            estimator.__dict__.pop(name, None)
        else:
            setattr(estimator, name, value)
    return estimator
