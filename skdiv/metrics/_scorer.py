"""Scorers: skdiv's metrics wherever scikit-learn takes ``scoring=``.

scikit-learn has no public way to register a scorer name, so skdiv hands out
scorer objects, which every ``scoring=`` parameter accepts (alone, or as
values of a multi-metric dict), and resolves its own names with
:func:`get_scorer`.

The scorer objects are negated losses, so greater is better, like
scikit-learn's ``neg_*`` scorers. Each takes ``sample_weight`` by keyword and
is picklable.

neg_cross_entropy_scorer
    ``-cross_entropy(y, estimator.predict_proba(X), labels=estimator.classes_)``.
    ``y`` holds class labels or soft labels (2-D rows of target
    probabilities, columns ordered as ``estimator.classes_``). On class labels
    it equals scikit-learn's ``neg_log_loss``; unlike it, a test fold that
    lacks a class still scores, and soft labels work.

neg_kl_divergence_scorer
    ``-kl_divergence(y, estimator.predict_proba(X), labels=estimator.classes_)``.
    On class labels it equals ``neg_cross_entropy_scorer``; on soft labels it
    is larger by the mean entropy of the held-out targets, which does not
    depend on the model, so both rank models identically. KL is 0 for a
    perfect model whatever the targets.

neg_expected_calibration_error_scorer, neg_multiclass_brier_score_scorer
    ``-expected_calibration_error(y, proba, labels=classes_)`` (top-label, 15
    bins) and ``-brier_score(y, proba, labels=classes_)``, on class or soft
    labels. The Brier scorer is not named ``neg_brier_score``, scikit-learn's
    name for the score that is halved on binary problems.

neg_gaussian_nll_scorer
    ``-gaussian_nll(y, *estimator.predict(X, return_std=True))``: the mean
    negative log-density of ``y`` under the predicted normal distributions.

neg_gaussian_crps_scorer
    ``-gaussian_crps(y, *estimator.predict(X, return_std=True))``: the mean
    continuous ranked probability score, in the units of ``y``.

neg_interval_score_scorer, neg_interval_width_scorer
    ``-interval_score(y, mean, std, level=0.9)`` and ``-interval_width(...)``
    of the central 90% Gaussian intervals; other levels through
    ``make_divergence_scorer(interval_score, level=0.5)``.

neg_interval_coverage_gap_scorer
    ``-|interval_coverage(y, mean, std, level=0.9) - 0.9|``: 0 at the nominal
    coverage, negative for over- and under-coverage alike.

neg_mean_standardized_log_loss_scorer, neg_pit_calibration_error_scorer
    ``-mean_standardized_log_loss(y, mean, std)`` (against the mean and
    variance of the held-out ``y``) and ``-pit_calibration_error(y, mean,
    std)``, the Kolmogorov distance of the PIT values from uniform.

Classification scorers call ``predict_proba``; regression scorers call
``predict(X, return_std=True)``, the convention of
:class:`~sklearn.linear_model.BayesianRidge`,
:class:`~sklearn.linear_model.ARDRegression`,
:class:`~sklearn.gaussian_process.GaussianProcessRegressor` and
:class:`skdiv.GaussianRegressor`. A :class:`~sklearn.pipeline.Pipeline` is
scored through its last step (``return_std`` is an output switch, not
metadata, so it is not routed: the pipeline's other steps only
``transform``), and a fitted search such as
:class:`~sklearn.model_selection.GridSearchCV` through its
``best_estimator_``, whose ``predict`` is the search's (nested
cross-validation). Variants, such as KL in bits, come from
:func:`make_divergence_scorer`.

The scorers subclass scikit-learn's private ``_BaseScorer`` so that
:func:`~sklearn.metrics.check_scoring`, multi-metric scoring (with its cache
of ``predict_proba``), metadata routing (``set_score_request``) and the
``error_score`` handling of the searches treat them like scikit-learn's own.
"""

import copy
import difflib

from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names

from ._calibration import brier_score, expected_calibration_error
from ._divergence import cross_entropy, kl_divergence
from ._gaussian import gaussian_crps, gaussian_nll
from ._interval import (
    interval_coverage_gap,
    interval_score,
    interval_width,
)
from ._make_scorer import make_divergence_scorer
from ._predictive import mean_standardized_log_loss, pit_calibration_error

__all__ = [
    "get_scorer",
    "get_scorer_names",
    "make_divergence_scorer",
    "neg_cross_entropy_scorer",
    "neg_expected_calibration_error_scorer",
    "neg_gaussian_crps_scorer",
    "neg_gaussian_nll_scorer",
    "neg_interval_coverage_gap_scorer",
    "neg_interval_score_scorer",
    "neg_interval_width_scorer",
    "neg_kl_divergence_scorer",
    "neg_mean_standardized_log_loss_scorer",
    "neg_multiclass_brier_score_scorer",
    "neg_pit_calibration_error_scorer",
]

neg_cross_entropy_scorer = make_divergence_scorer(cross_entropy)
neg_kl_divergence_scorer = make_divergence_scorer(kl_divergence)
neg_gaussian_nll_scorer = make_divergence_scorer(gaussian_nll)
neg_gaussian_crps_scorer = make_divergence_scorer(gaussian_crps)
# Instance docstrings, shown by the API reference (autodoc takes __doc__).
neg_cross_entropy_scorer.__doc__ = """Negated cross-entropy of ``predict_proba``.

``-cross_entropy(y, estimator.predict_proba(X), labels=estimator.classes_)``,
see :func:`~skdiv.metrics.cross_entropy`. ``y`` holds class labels or soft
labels (rows of target probabilities, columns ordered as ``classes_``). On
class labels it equals scikit-learn's ``neg_log_loss``.
"""
neg_kl_divergence_scorer.__doc__ = """Negated KL divergence of ``predict_proba``.

``-kl_divergence(y, estimator.predict_proba(X), labels=estimator.classes_)``,
see :func:`~skdiv.metrics.kl_divergence`. On class labels it equals
``neg_cross_entropy_scorer``; on soft labels it is larger by the mean entropy
of the held-out targets, so both rank models alike.
"""
neg_gaussian_nll_scorer.__doc__ = """Negated Gaussian NLL of predicted means and stds.

``-gaussian_nll(y, *estimator.predict(X, return_std=True))``, see
:func:`~skdiv.metrics.gaussian_nll`.
"""
neg_gaussian_crps_scorer.__doc__ = """Negated Gaussian CRPS of predicted means and stds.

``-gaussian_crps(y, *estimator.predict(X, return_std=True))``, see
:func:`~skdiv.metrics.gaussian_crps`.
"""

neg_expected_calibration_error_scorer = make_divergence_scorer(
    expected_calibration_error
)
neg_multiclass_brier_score_scorer = make_divergence_scorer(brier_score)
neg_interval_score_scorer = make_divergence_scorer(interval_score)
neg_interval_width_scorer = make_divergence_scorer(interval_width)
neg_interval_coverage_gap_scorer = make_divergence_scorer(interval_coverage_gap)
neg_mean_standardized_log_loss_scorer = make_divergence_scorer(
    mean_standardized_log_loss
)
neg_pit_calibration_error_scorer = make_divergence_scorer(pit_calibration_error)
neg_expected_calibration_error_scorer.__doc__ = """Negated ECE of ``predict_proba``.

``-expected_calibration_error(y, estimator.predict_proba(X),
labels=estimator.classes_)``, top-label with 15 bins, see
:func:`~skdiv.metrics.expected_calibration_error`. ``y`` holds class labels or
soft labels. Classwise: ``make_divergence_scorer(expected_calibration_error,
kind="classwise")``.
"""
neg_multiclass_brier_score_scorer.__doc__ = """Negated Brier score of ``predict_proba``.

``-brier_score(y, estimator.predict_proba(X), labels=estimator.classes_)``,
see :func:`~skdiv.metrics.brier_score`: summed over all classes, on class or
soft labels. On binary class labels it is twice scikit-learn's
``neg_brier_score``, hence the other name.
"""
neg_interval_score_scorer.__doc__ = """Negated interval score of 90% Gaussian intervals.

``-interval_score(y, *estimator.predict(X, return_std=True), level=0.9)``, see
:func:`~skdiv.metrics.interval_score`. Other levels:
``make_divergence_scorer(interval_score, level=...)``.
"""
neg_interval_width_scorer.__doc__ = """Negated mean width of 90% Gaussian intervals.

``-interval_width(y, *estimator.predict(X, return_std=True), level=0.9)``, see
:func:`~skdiv.metrics.interval_width`. A report next to the coverage, not a
criterion to select on: the narrowest intervals win it.
"""
neg_interval_coverage_gap_scorer.__doc__ = """Negated gap of the coverage to its level.

``-|interval_coverage(y, *estimator.predict(X, return_std=True), level=0.9)
- 0.9|``, see :func:`~skdiv.metrics.interval_coverage_gap`: 0 at the nominal
coverage.
"""
neg_mean_standardized_log_loss_scorer.__doc__ = """Negated mean standardised log loss.

``-mean_standardized_log_loss(y, *estimator.predict(X, return_std=True))``,
the trivial model fitted to the held-out ``y``, see
:func:`~skdiv.metrics.mean_standardized_log_loss`.
"""
neg_pit_calibration_error_scorer.__doc__ = """Negated PIT calibration error.

``-pit_calibration_error(y, *estimator.predict(X, return_std=True))``, the
Kolmogorov distance of the PIT values from uniform, see
:func:`~skdiv.metrics.pit_calibration_error`.
"""

_SCORERS = {
    "neg_cross_entropy": neg_cross_entropy_scorer,
    "neg_expected_calibration_error": neg_expected_calibration_error_scorer,
    "neg_gaussian_crps": neg_gaussian_crps_scorer,
    "neg_gaussian_nll": neg_gaussian_nll_scorer,
    "neg_interval_coverage_gap": neg_interval_coverage_gap_scorer,
    "neg_interval_score": neg_interval_score_scorer,
    "neg_interval_width": neg_interval_width_scorer,
    "neg_kl_divergence": neg_kl_divergence_scorer,
    "neg_mean_standardized_log_loss": neg_mean_standardized_log_loss_scorer,
    "neg_multiclass_brier_score": neg_multiclass_brier_score_scorer,
    "neg_pit_calibration_error": neg_pit_calibration_error_scorer,
}


def get_scorer_names():
    """Names that :func:`get_scorer` resolves: skdiv's and scikit-learn's.

    Returns
    -------
    names : list of str
        Sorted names: skdiv's ``neg_cross_entropy``,
        ``neg_expected_calibration_error``, ``neg_gaussian_crps``,
        ``neg_gaussian_nll``, ``neg_interval_coverage_gap``,
        ``neg_interval_score``, ``neg_interval_width``, ``neg_kl_divergence``,
        ``neg_mean_standardized_log_loss``, ``neg_multiclass_brier_score`` and
        ``neg_pit_calibration_error``, and those of
        :func:`sklearn.metrics.get_scorer_names` (none of which they shadow).

    See Also
    --------
    get_scorer : The scorer of a name.

    Examples
    --------
    >>> from skdiv.metrics import get_scorer_names
    >>> names = get_scorer_names()
    >>> [name for name in names if name.startswith("neg_") and "gauss" in name]
    ['neg_gaussian_crps', 'neg_gaussian_nll']
    >>> "accuracy" in names and "neg_kl_divergence" in names
    True
    """
    return sorted(set(_SCORERS) | set(_sklearn_get_scorer_names()))


def get_scorer(scoring):
    """Get a scorer by name: skdiv's, or any of scikit-learn's.

    Parameters
    ----------
    scoring : str, callable or None
        A name from :func:`get_scorer_names`. A callable (a scorer object) or
        None is returned as is, as by :func:`sklearn.metrics.get_scorer`.

    Returns
    -------
    scorer : callable or None
        For a name, a new copy of the scorer, so that ``set_score_request``
        on it does not change the module's instance.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid names.

    See Also
    --------
    get_scorer_names : The names resolved here.
    make_divergence_scorer : Variants of skdiv's scorers.

    Notes
    -----
    scikit-learn's own ``scoring=`` parameters accept only scikit-learn's
    names, so pass skdiv's scorers as objects: ``get_scorer(name)`` or the
    module's instances such as ``neg_kl_divergence_scorer``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from skdiv.metrics import get_scorer
    >>> X = np.arange(12.0).reshape(-1, 1)
    >>> y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1])
    >>> scoring = {name: get_scorer(name)
    ...            for name in ["neg_kl_divergence", "neg_log_loss", "accuracy"]}
    >>> scoring["neg_kl_divergence"]
    make_divergence_scorer(kl_divergence, response='proba')
    >>> cv = cross_validate(LogisticRegression(), X, y, scoring=scoring, cv=3)
    >>> bool(np.allclose(cv["test_neg_kl_divergence"], cv["test_neg_log_loss"]))
    True
    """
    if isinstance(scoring, str):
        if scoring in _SCORERS:
            return copy.deepcopy(_SCORERS[scoring])
        sklearn_names = _sklearn_get_scorer_names()
        if scoring not in sklearn_names:
            close = difflib.get_close_matches(scoring, get_scorer_names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"{scoring!r} is not a valid scoring value.{hint} Valid names "
                f"are skdiv's {', '.join(sorted(_SCORERS))} and "
                f"scikit-learn's {', '.join(sorted(sklearn_names))} "
                "(all listed by skdiv.metrics.get_scorer_names())."
            )
    return _sklearn_get_scorer(scoring)
