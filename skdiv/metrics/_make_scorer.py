"""The scorer objects: metrics of skdiv.metrics read through an estimator.

:func:`make_divergence_scorer` infers from a metric's signature what it
reads of the estimator (``predict_proba``, or ``predict(X,
return_std=True)``) and returns a :class:`_DivergenceScorer` subclass, a
scikit-learn ``_BaseScorer``, so that the searches, multi-metric scoring and
metadata routing treat it like scikit-learn's own scorers (see
:mod:`skdiv.metrics._scorer`).
"""

import inspect
from functools import partial

import numpy as np
from sklearn.pipeline import Pipeline

from .._compat import BaseSearchCV, _BaseScorer

__all__ = ["make_divergence_scorer"]

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
        if isinstance(estimator, BaseSearchCV) and hasattr(
            estimator, "best_estimator_"
        ):
            # A fitted search predicts with its refitted best estimator (its
            # own predict takes no return_std): nested cross-validation.
            return self._predict_mean_std(estimator.best_estimator_, X)

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
