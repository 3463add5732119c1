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
``transform``). Variants, such as KL in bits, come from
:func:`make_divergence_scorer`.

The scorers subclass scikit-learn's private ``_BaseScorer`` so that
:func:`~sklearn.metrics.check_scoring`, multi-metric scoring (with its cache
of ``predict_proba``), metadata routing (``set_score_request``) and the
``error_score`` handling of the searches treat them like scikit-learn's own.
"""

import copy
import difflib
import inspect
from functools import partial

import numpy as np
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names
from sklearn.pipeline import Pipeline

from .._compat import _BaseScorer
from ._calibration import brier_score, expected_calibration_error
from ._divergence import (
    cross_entropy,
    gaussian_crps,
    gaussian_nll,
    kl_divergence,
)
from ._interval import (
    interval_coverage_gap,
    interval_score,
    interval_width,
    mean_standardized_log_loss,
    pit_calibration_error,
)

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

_STD_REGRESSORS = (
    "BayesianRidge, ARDRegression, GaussianProcessRegressor or "
    "skdiv.GaussianRegressor"
)
# Key under which a multi-metric cache holds ``predict(X, return_std=True)``;
# not a method name, so it never collides with scikit-learn's own entries.
_MEAN_STD_CACHE_KEY = "predict(return_std=True)"


def _func_name(func):
    if isinstance(func, partial):
        return repr(func)
    return getattr(func, "__name__", repr(func))


def _describe(estimator):
    """``LinearSVC``, or ``Pipeline (last step LinearSVC)``."""
    name = type(estimator).__name__
    if isinstance(estimator, Pipeline):
        return f"{name} (last step {_describe(estimator.steps[-1][1])})"
    return name


def _cache(method_caller):
    """The dict that scikit-learn's multi-metric scorer caches responses in.

    ``_MultimetricScorer`` passes ``partial(_cached_call, cache)`` with
    ``cache`` a dict when several scorers share a response method, ``None``
    otherwise. Anything else means no cache: the predictions are recomputed.
    """
    if (
        isinstance(method_caller, partial)
        and method_caller.args
        and isinstance(method_caller.args[0], dict)
    ):
        return method_caller.args[0]
    return None


class _DivergenceScorer(_BaseScorer):
    """Base of skdiv's scorers: ``sign * metric(y_true, *predictions, **kwargs)``.

    Subclasses define ``_response`` (the value of ``response`` in
    :func:`make_divergence_scorer`), ``_data_params`` (how many leading
    parameters of the metric receive data rather than keyword arguments) and
    ``_predictions``.
    """

    _response = None
    _data_params = 0

    def __init__(self, score_func, sign, kwargs):
        super().__init__(score_func, sign, kwargs, self._response_method)

    def __repr__(self):
        parts = [_func_name(self._score_func)]
        if self._sign > 0:
            parts.append("greater_is_better=True")
        parts.append(f"response={self._response!r}")
        parts.extend(f"{key}={value!r}" for key, value in self._kwargs.items())
        return f"make_divergence_scorer({', '.join(parts)})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        """Score ``estimator`` on ``X`` against ``y_true``.

        Called by ``__call__`` (``method_caller`` then never caches) and
        directly by scikit-learn's multi-metric scorer.
        """
        self._warn_overlap(
            message=(
                "There is an overlap between the keyword arguments of this "
                "scorer and the metadata passed to it; the metadata win."
            ),
            kwargs=kwargs,
        )
        predictions, extra = self._predictions(method_caller, estimator, X, y_true)
        scoring_kwargs = {**self._kwargs, **extra, **kwargs}
        return self._sign * self._score_func(y_true, *predictions, **scoring_kwargs)

    def _get_metadata_request(self):
        # scikit-learn >= 1.9 offers every parameter of the metric beyond the
        # first as requestable metadata, skipping only the names it knows for
        # predictions (y_pred, y_proba, ...). The metric's data parameters
        # (y_mean and y_std of the Gaussian metrics) and the labels the scorer
        # fills in itself are not metadata: left in, a y_std routed to a
        # GaussianRegressor's fit would also demand a request on the scorer.
        requests = super()._get_metadata_request()
        if hasattr(self, "_metadata_request"):
            return requests  # set explicitly by set_score_request
        score = getattr(requests, "score", None)
        requested = getattr(score, "requests", None)
        if isinstance(requested, dict):
            for name in self._reserved_params():
                requested.pop(name, None)
        return requests

    def _reserved_params(self):
        try:
            params = list(inspect.signature(self._score_func).parameters)
        except (TypeError, ValueError):
            return ()
        return params[: self._data_params]


class _ProbaScorer(_DivergenceScorer):
    """Scores ``predict_proba`` with ``labels=estimator.classes_``."""

    _response = "proba"
    _response_method = "predict_proba"
    _data_params = 2

    def _reserved_params(self):
        return (*super()._reserved_params(), "labels")

    def _predictions(self, method_caller, estimator, X, y_true):
        if not hasattr(estimator, "predict_proba"):
            raise AttributeError(
                f"The {_func_name(self._score_func)} scorer needs predicted "
                f"probabilities, but {_describe(estimator)} has no predict_proba "
                "method. Use a probabilistic classifier, or wrap this one in "
                "sklearn.calibration.CalibratedClassifierCV."
            )
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise AttributeError(
                f"The {_func_name(self._score_func)} scorer needs the classes_ "
                f"of a fitted classifier; {_describe(estimator)} has none."
            )
        classes = np.asarray(classes)
        # Through the (possibly cached) response of scikit-learn's scorers: for
        # a binary classifier the probability of classes_[-1], which the
        # metrics expand to [1 - p, p].
        proba = method_caller(estimator, "predict_proba", X, pos_label=None)
        hard_labels = not (np.ndim(y_true) == 2 and np.shape(y_true)[1] > 1)
        if hard_labels and classes.ndim == 1:
            # The metrics order the one-hot columns of class labels by sorted
            # class; classes_ is sorted for scikit-learn's classifiers, but not
            # always (DivergenceClassifier(classes=...)). Soft-label columns
            # follow classes_ as they are, like predict_proba's.
            order = np.argsort(classes, kind="stable")
            if np.any(order != np.arange(classes.shape[0])):
                proba = np.asarray(proba)
                if proba.ndim == 1:
                    proba = np.column_stack([1 - proba, proba])
                proba, classes = proba[:, order], classes[order]
        return (proba,), {"labels": classes}


class _MeanStdScorer(_DivergenceScorer):
    """Scores ``predict(X, return_std=True)``."""

    _response = "mean_std"
    # What the multi-metric scorer checks the estimator for and counts when
    # deciding whether to cache; the call itself is made here.
    _response_method = "predict"
    _data_params = 3

    def _predictions(self, method_caller, estimator, X, y_true):
        cache = _cache(method_caller)
        if cache is not None and _MEAN_STD_CACHE_KEY in cache:
            return cache[_MEAN_STD_CACHE_KEY], {}
        mean_std = self._predict_mean_std(estimator, X)
        if cache is not None:
            cache[_MEAN_STD_CACHE_KEY] = mean_std
        return mean_std, {}

    def _predict_mean_std(self, estimator, X):
        if isinstance(estimator, Pipeline):
            # What Pipeline.predict does with routing off; with routing on it
            # would route return_std as metadata and demand a predict request.
            *transformers, (_, final) = estimator.steps
            for _, step in transformers:
                if step is not None and step != "passthrough":
                    X = step.transform(X)
            if final is None or final == "passthrough":
                raise TypeError(
                    f"The {_func_name(self._score_func)} scorer needs a "
                    "regressor, but the last step of the Pipeline is "
                    f"{final!r}."
                )
            return self._predict_mean_std(final, X)

        predict = getattr(estimator, "predict", None)
        if predict is None:
            raise AttributeError(
                f"The {_func_name(self._score_func)} scorer calls "
                f"predict(X, return_std=True), but {_describe(estimator)} has "
                "no predict method."
            )
        try:
            params = inspect.signature(predict).parameters.values()
        except (TypeError, ValueError):
            params = None
        if params is not None and not any(
            p.name == "return_std" or p.kind is p.VAR_KEYWORD for p in params
        ):
            raise TypeError(
                f"The {_func_name(self._score_func)} scorer calls "
                f"predict(X, return_std=True), but {_describe(estimator)}.predict "
                "has no return_std parameter. Use a regressor that predicts a "
                f"standard deviation, such as {_STD_REGRESSORS}."
            )
        result = predict(X, return_std=True)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"{_describe(estimator)}.predict(X, return_std=True) returned "
                f"{type(result).__name__}, not a (mean, std) pair."
            )
        return result


_SCORER_CLASSES = {cls._response: cls for cls in (_ProbaScorer, _MeanStdScorer)}


def _infer_response(metric):
    """``"proba"`` for ``metric(y_true, y_proba)``, ``"mean_std"`` for three."""
    try:
        params = inspect.signature(metric).parameters.values()
    except (TypeError, ValueError):
        params = None
    if params is not None:
        n_required = sum(
            p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            for p in params
        )
        if n_required == 2:
            return "proba"
        if n_required == 3:
            return "mean_std"
    raise ValueError(
        f"Cannot tell which predictions {_func_name(metric)} takes: pass "
        "response='proba' for metric(y_true, y_proba, **kwargs) or "
        "response='mean_std' for metric(y_true, y_mean, y_std, **kwargs)."
    )


def make_divergence_scorer(
    metric, *, greater_is_better=False, response="auto", **kwargs
):
    """Make a scorer from a metric of probabilities or of means and stds.

    Use it for variants of skdiv's scorers (another ``base``) or for your
    own metrics with the same signatures.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_proba, **kwargs)`` for classifiers, or
        ``metric(y_true, y_mean, y_std, **kwargs)`` for regressors, returning
        a float. It should accept ``sample_weight`` by keyword, which the
        scorer then passes on.

    greater_is_better : bool, default=False
        Whether ``metric`` is a score (True) or a loss (False). The scorer
        returns ``metric`` for a score and ``-metric`` for a loss, so that
        greater is always better.

    response : {"auto", "proba", "mean_std"}, default="auto"
        What the scorer feeds ``metric``:

        - ``"proba"``: ``estimator.predict_proba(X)`` (for a binary
          classifier, the probability of ``classes_[1]``, as in scikit-learn's
          scorers), with ``labels=estimator.classes_``, so ``metric`` must
          take ``labels``;
        - ``"mean_std"``: the mean and standard deviation from
          ``estimator.predict(X, return_std=True)``;
        - ``"auto"``: ``"proba"`` if ``metric`` has two required positional
          parameters, ``"mean_std"`` if it has three.

    **kwargs
        Passed to ``metric`` at every call, e.g. ``base=2``. ``labels`` is
        reserved for classification scorers (always ``estimator.classes_``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, *, sample_weight=None)``, usable as
        ``scoring=`` anywhere in scikit-learn, picklable when ``metric`` is.

    Raises
    ------
    ValueError
        If ``response`` is not one of the options or cannot be inferred, or
        if ``labels`` is given for a classification scorer.
    TypeError
        If ``metric`` is not callable or does not accept ``kwargs``.

    See Also
    --------
    get_scorer : skdiv's predefined scorers by name.
    sklearn.metrics.make_scorer : The general scorer factory.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdiv.metrics import kl_divergence, make_divergence_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 1, 0, 1])
    >>> clf = LogisticRegression().fit(X, y)
    >>> neg_kl_bits = make_divergence_scorer(kl_divergence, base=2)
    >>> neg_kl_bits
    make_divergence_scorer(kl_divergence, response='proba', base=2)
    >>> bits = -neg_kl_bits(clf, X, y)
    >>> bool(np.isclose(bits, kl_divergence(y, clf.predict_proba(X)) / np.log(2)))
    True

    The interval score of central 50% intervals, for a regressor with
    ``predict(X, return_std=True)``:

    >>> from sklearn.linear_model import BayesianRidge
    >>> from skdiv.metrics import interval_score
    >>> neg_interval_score_50 = make_divergence_scorer(interval_score, level=0.5)
    >>> neg_interval_score_50
    make_divergence_scorer(interval_score, response='mean_std', level=0.5)
    >>> reg = BayesianRidge().fit(X, [0.1, 0.9, 2.2, 2.8])
    >>> mean, std = reg.predict(X, return_std=True)
    >>> bool(np.isclose(-neg_interval_score_50(reg, X, [0.1, 0.9, 2.2, 2.8]),
    ...                 interval_score([0.1, 0.9, 2.2, 2.8], mean, std, level=0.5)))
    True
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable, got {metric!r}.")
    if response == "auto":
        response = _infer_response(metric)
    if response not in _SCORER_CLASSES:
        raise ValueError(
            "response must be one of 'auto', 'mean_std', 'proba'; "
            f"got {response!r}."
        )
    if response == "proba" and "labels" in kwargs:
        raise ValueError(
            "labels is set by the scorer to estimator.classes_, the columns of "
            "predict_proba; do not pass it."
        )
    try:
        n_data = _SCORER_CLASSES[response]._data_params
        extra = {"labels": None} if response == "proba" else {}
        inspect.signature(metric).bind_partial(*([None] * n_data), **extra, **kwargs)
    except ValueError:
        pass  # no signature to check (some builtins)
    except TypeError as e:
        raise TypeError(
            f"{_func_name(metric)} does not accept the arguments the scorer "
            f"would pass (response={response!r}, kwargs {sorted(kwargs)}): {e}"
        ) from None
    sign = 1 if greater_is_better else -1
    return _SCORER_CLASSES[response](metric, sign, kwargs)


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
