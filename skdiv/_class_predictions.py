"""What every classifier of skdiv derives from its logits.

Methods of :class:`~skdiv.DivergenceClassifier` and
:class:`~skdiv.DivergenceMLPClassifier` (assigned in each class body, so
that they are documented as each class's own), written once on top of
``decision_function`` (one logit per sample for two classes, else one per
class) and ``classes_``. The probabilities are the objective's inverse link
(:meth:`skdiv._loss.CrossEntropy.inverse_link`).
"""

import numpy as np
from scipy.special import log_expit
from sklearn.metrics import accuracy_score
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ._loss import CrossEntropy, log_softmax
from ._validation import soft_label_columns


def predict_log_proba(self, X):
    """Log-probabilities, computed from the logits by a stable log-softmax.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    log_proba : ndarray of shape (n_samples, n_classes)
        Finite even where a probability underflows to 0, and where a logit
        overflows (features near the float64 limit): an infinite logit
        counts as the largest finite one, so its log-probability saturates
        at about ``-1.8e308`` instead of ``-inf``.
    """
    scores = self.decision_function(X)
    limit = np.finfo(np.float64).max
    scores = np.clip(scores, -limit, limit)
    if scores.ndim == 1:
        log_proba = np.column_stack([log_expit(-scores), log_expit(scores)])
    else:
        log_proba = log_softmax(scores)[0]
    # Logits 2 * limit apart overflow their difference: saturate it too.
    return np.maximum(log_proba, -limit)


def predict_proba(self, X):
    """Class probabilities.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Columns ordered as ``classes_``; an infinite logit (features near the
        float64 limit) counts as the largest finite one, not as NaN.
    """
    limit = np.finfo(np.float64).max
    scores = np.clip(self.decision_function(X), -limit, limit)
    return CrossEntropy().inverse_link(scores)


def predict(self, X):
    """Most probable class.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    y_pred : ndarray of shape (n_samples,)
    """
    scores = self.decision_function(X)
    index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(1)
    return self.classes_[index]


def score(self, X, y, sample_weight=None):
    """Accuracy on hard labels, or on the argmax of soft-label rows.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels, or target probability rows; a soft row counts as its most
        probable class (the first one on ties). The columns of a pandas
        DataFrame are matched to ``classes_`` by name, as in ``fit``.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    score : float
        Weighted accuracy.
    """
    check_is_fitted(self)
    # A soft-label DataFrame's columns name their classes, as in fit.
    y = soft_label_columns(y, self.classes_)[0]
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] > 1:
        # Probability rows as fit reads them (pandas' nullable dtypes, whose
        # arrays are object arrays, included): a missing value is named.
        y_arr = check_array(y, dtype=np.float64, input_name="y")
        if y_arr.shape[1] != self.classes_.shape[0]:
            raise ValueError(
                f"Soft-label y has {y_arr.shape[1]} columns but the model "
                f"has {self.classes_.shape[0]} classes."
            )
        y = self.classes_[y_arr.argmax(axis=1)]
    return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
