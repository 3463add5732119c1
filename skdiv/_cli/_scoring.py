"""Scorer names for ``skdiv compare``, checked against the task before any fit."""

import difflib
import warnings

import numpy as np

from .._compat import scorer_parts
from ._common import UsageError

DEFAULT_SCORING = {
    # On hard labels KL(onehot || q) equals the cross-entropy, so
    # neg_kl_divergence would only repeat neg_cross_entropy.
    # The calibration error and the 90% interval's coverage gap and width:
    # how good the probabilities and the intervals are, beyond the mean.
    "classification": [
        "neg_cross_entropy", "accuracy", "neg_expected_calibration_error",
    ],
    "regression": [
        "neg_gaussian_nll",
        "neg_gaussian_crps",
        "neg_root_mean_squared_error",
        "neg_interval_coverage_gap",
        "neg_interval_width",
    ],
}
# The multi-class form of scorers that take two classes only.
_MULTICLASS_NAME = {
    "roc_auc": "roc_auc_ovr",
    "average_precision": "roc_auc_ovr",
    "f1": "f1_macro",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "jaccard": "jaccard_macro",
    "neg_brier_score": "neg_cross_entropy",
}


def _kind(scorer):
    """"regression", "classification", or None when the scorer does not say."""
    func, method = scorer_parts(scorer)
    module = getattr(func, "__module__", "") or ""
    if module.endswith("._regression"):
        return "regression"
    if module.endswith(("._classification", "._ranking", "._supervised")):
        return "classification"
    if method in ("predict_proba", "decision_function") or (
        isinstance(method, tuple) and "predict" not in method
    ):
        return "classification"
    if type(scorer).__name__ == "_MeanStdScorer":
        return "regression"
    return None


def _try_on_target(scorer, task, y):
    """Score a constant model on the real target: the error a fold would hit."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    X = np.zeros((y.shape[0], 1))
    dummy = DummyClassifier(strategy="prior") if task == "classification" \
        else DummyRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dummy.fit(X, y)
        try:
            scorer(dummy, X, y)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    return None


def resolve_scoring(names, task, y):
    """The scorer names of the run, each checked to fit ``task`` and ``y``."""
    from ..metrics import get_scorer, get_scorer_names

    if not names:
        return list(DEFAULT_SCORING[task])
    valid = sorted(get_scorer_names())
    for name in names:
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"unknown scorer {name!r}{hint} Valid names: " + ", ".join(valid)
            )
    names = list(dict.fromkeys(names))
    n_classes = np.unique(y).size if task == "classification" else 0
    for name in names:
        scorer = get_scorer(name)
        kind = _kind(scorer)
        if kind is not None and kind != task:
            other = ", ".join(DEFAULT_SCORING[task])
            raise UsageError(
                f"--scoring {name} is a {kind} score, but the task is {task}; "
                f"{task} scores include {other}"
            )
        error = _try_on_target(scorer, task, y)
        if error is None:
            continue
        message = f"--scoring {name} does not fit this target"
        if n_classes > 2 and name in _MULTICLASS_NAME:
            message += (f" ({n_classes} classes; {name} is for two): use "
                        f"{_MULTICLASS_NAME[name]} instead")
        raise UsageError(f"{message}. On a constant model it fails with {error}")
    return names
