"""K-fold splitters stratified on soft labels.

scikit-learn's ``cv=5`` stratifies only 1-D class labels: a probability
matrix is ``continuous-multioutput`` to :func:`sklearn.model_selection.check_cv`,
which then falls back to unshuffled, unstratified ``KFold``, and
:class:`~sklearn.model_selection.StratifiedKFold` rejects it outright. On
rows sorted by class that gives test folds without a class. The splitters
here take class labels or probability rows and stratify on the most probable
class of each row.
"""

import numbers

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_array, check_random_state

from .._validation import check_probability_rows, holds_numbers

__all__ = ["RepeatedSoftStratifiedKFold", "SoftStratifiedKFold"]


def _stratification_labels(y, owner):
    """Class labels to stratify on: ``y`` itself, or the argmax of its rows."""
    if y is None:
        raise ValueError(
            f"{owner} stratifies on y: pass class labels or a 2-D array of "
            "target probabilities, not y=None."
        )
    shape = np.shape(y)
    if len(shape) != 2 or shape[1] < 2:
        return y  # class labels, validated by StratifiedKFold
    if not holds_numbers(y):
        raise ValueError(
            f"{owner} takes 1-D class labels or a 2-D numeric array of target "
            f"probabilities; got a 2-D array of dtype {np.asarray(y).dtype}."
        )
    y = check_array(y, dtype=np.float64, input_name="y")
    check_probability_rows(y, name="y")
    # np.argmax picks the first of tied columns, so the strata are a
    # deterministic function of y.
    return np.argmax(y, axis=1)


class SoftStratifiedKFold(StratifiedKFold):
    """Stratified K-fold for class labels and soft labels.

    On 1-D class labels this is :class:`~sklearn.model_selection.StratifiedKFold`,
    fold for fold. On a 2-D array of target probabilities (one row per
    sample, rows summing to one) it stratifies on the most probable class of
    each row, so every test fold holds each of those classes in the
    proportion of the whole data set (to within one sample). Use it as
    ``cv=`` in :func:`~sklearn.model_selection.cross_validate`,
    :class:`~sklearn.model_selection.GridSearchCV` and the other tools.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.

    shuffle : bool, default=False
        Whether to shuffle each stratum's samples before splitting them into
        batches. The samples within each split are not shuffled.

    random_state : int, RandomState instance or None, default=None
        With ``shuffle=True``, controls the order of the samples in each
        stratum, as for :class:`~sklearn.model_selection.StratifiedKFold`:
        an int gives the same folds at every call of ``split``. Must be None
        with ``shuffle=False``.

    See Also
    --------
    RepeatedSoftStratifiedKFold : Repeats it with different shuffles.
    sklearn.model_selection.StratifiedKFold : The same on class labels.

    Notes
    -----
    *Why the argmax, not labels sampled from the rows.* The strata are
    then a function of ``y`` alone: ``split`` with ``shuffle=False`` is
    deterministic, with ``shuffle=True`` it depends on ``random_state``
    exactly as ``StratifiedKFold`` does, and two runs with the same seed
    give the same folds whatever else the random state is used for.
    Sampled labels would add a second source of randomness, and with it
    folds whose class counts vary from draw to draw by the binomial noise of
    the sampling, which stratification is meant to remove. The argmax also
    matches how a soft-label model is judged by accuracy, and for
    hard-looking soft labels (label smoothing, annotator agreement) it is
    the label itself. The price: a class that is never the most probable
    one of any row forms no stratum; its probability mass is spread over the
    folds only as well as the other classes' strata spread it.

    A 2-D ``y`` with two or more numeric columns is read as probability
    rows and must have non-negative entries summing to one (within
    ``1e-6``) in every row; anything else is treated as class labels and
    handed to ``StratifiedKFold``, which rejects what it cannot stratify.
    ``groups`` is ignored, with the warning of ``StratifiedKFold``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv.model_selection import SoftStratifiedKFold
    >>> y = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4],
    ...               [0.3, 0.7], [0.2, 0.8], [0.1, 0.9], [0.4, 0.6]])
    >>> cv = SoftStratifiedKFold(n_splits=2)
    >>> for train, test in cv.split(np.zeros((8, 1)), y):
    ...     print(test, y[test].argmax(axis=1))
    [0 1 4 5] [0 0 1 1]
    [2 3 6 7] [0 0 1 1]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its number of rows is used, so
            ``np.zeros(n_samples)`` will do.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or target probabilities (rows summing to one), whose
            argmax is stratified on.

        groups : object
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.

        test : ndarray
            The testing set indices for that split.
        """
        strata = _stratification_labels(y, type(self).__name__)
        return super().split(X, strata, groups)


class RepeatedSoftStratifiedKFold:
    """Repeated stratified K-fold for class labels and soft labels.

    Repeats :class:`SoftStratifiedKFold` ``n_repeats`` times with a
    different shuffle each time. On class labels it gives the folds of
    :class:`~sklearn.model_selection.RepeatedStratifiedKFold` with the same
    arguments.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.

    n_repeats : int, default=10
        Number of times the K-fold split is repeated.

    random_state : int, RandomState instance or None, default=None
        Controls the shuffles: one random generator, seeded once per call of
        ``split``, shuffles every repetition in turn (as in scikit-learn's
        repeated splitters). An int gives the same splits at every call.

    See Also
    --------
    SoftStratifiedKFold : One repetition, and why it stratifies on the argmax.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv.model_selection import RepeatedSoftStratifiedKFold
    >>> y = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    >>> cv = RepeatedSoftStratifiedKFold(n_splits=2, n_repeats=3, random_state=0)
    >>> cv
    RepeatedSoftStratifiedKFold(n_repeats=3, n_splits=2, random_state=0)
    >>> cv.get_n_splits()
    6
    >>> all(sorted(y[test].argmax(axis=1)) == [0, 1]
    ...     for _, test in cv.split(np.zeros(4), y))
    True
    """

    def __init__(self, *, n_splits=5, n_repeats=10, random_state=None):
        if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral):
            raise ValueError(
                f"n_repeats must be a positive integer, got {n_repeats!r}."
            )
        if n_repeats <= 0:
            raise ValueError(
                f"n_repeats must be a positive integer, got {n_repeats!r}."
            )
        # Validates n_splits now, as scikit-learn's splitters do.
        SoftStratifiedKFold(n_splits, shuffle=True)
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its number of rows is used.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels or target probabilities, as for
            :meth:`SoftStratifiedKFold.split`.

        groups : object
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.

        test : ndarray
            The testing set indices for that split.
        """
        rng = check_random_state(self.random_state)
        for _ in range(self.n_repeats):
            cv = SoftStratifiedKFold(self.n_splits, shuffle=True, random_state=rng)
            yield from cv.split(X, y, groups)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, ``n_splits * n_repeats``.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
            The number of (train, test) pairs that ``split`` yields.
        """
        return self.n_splits * self.n_repeats

    def __repr__(self):
        return (
            f"{type(self).__name__}(n_repeats={self.n_repeats!r}, "
            f"n_splits={self.n_splits!r}, random_state={self.random_state!r})"
        )
