"""Private scikit-learn names and dependency version differences, in one place.

scikit-learn gives no stability promise for names that start with an
underscore (or live in modules that do). skdiv imports each of them here and
nowhere else, so that a scikit-learn release that moves or changes one is
fixed in this file alone. Each entry says what skdiv uses and the versions it
was checked on: the oldest scikit-learn that ``pyproject.toml`` allows (1.6,
tested by the second environment of ``.ci/run``) and the newest (1.9); the
third environment runs them on 1.7, the newest release for Python 3.10.
The pattern is imbalanced-learn's ``imblearn/utils/_sklearn_compat.py``.

Public names that only exist from a given version on (``validate_data``,
``ensure_all_finite``) are listed too, since they set the floor. So are the
few places where an older NumPy, SciPy or pandas that ``pyproject.toml``
still allows behaves differently (checked on its floors, NumPy 1.23.5, SciPy
1.9.3 and pandas 1.5.3, in the second environment of ``.ci/run``).
"""

import numpy as np
import scipy
import scipy.optimize

# ``fit`` and ``partial_fit`` decorator: validates ``_parameter_constraints``
# and sets ``skip_parameter_validation`` for nested estimators.
# sklearn.base._fit_context, private; checked on 1.6.1 and 1.9.1.
from sklearn.base import _fit_context

# The base class of skdiv's scorer objects. skdiv uses its constructor
# ``(score_func, sign, kwargs, response_method)``, its attributes
# ``_score_func``, ``_sign``, ``_kwargs``, ``_response_method`` and its
# methods ``_warn_overlap`` and ``_get_metadata_request``, and relies on
# ``_MultimetricScorer`` passing ``partial(_cached_call, cache)`` as the
# method caller (see ``skdiv.metrics._make_scorer._cache``).
# sklearn.metrics._scorer._BaseScorer, private; checked on 1.6.1 and 1.9.1.
from sklearn.metrics._scorer import _BaseScorer

# The base class of GridSearchCV, RandomizedSearchCV and the halving
# searches, whose ``predict`` is its ``best_estimator_``'s: the mean-std
# scorers score a fitted search through that estimator.
# sklearn.model_selection._search.BaseSearchCV, private; checked on 1.6.1
# and 1.9.1.
from sklearn.model_selection._search import BaseSearchCV

# Parameter constraints of ``_parameter_constraints``.
# sklearn.utils._param_validation.{Interval, StrOptions}, private module;
# checked on 1.6.1 and 1.9.1.
from sklearn.utils._param_validation import Interval, StrOptions

# Input validation of estimators, setting ``n_features_in_`` and
# ``feature_names_in_``. Public, but a function only since 1.6 (before, the
# private method ``BaseEstimator._validate_data``): the reason for the floor.
from sklearn.utils.validation import validate_data


def _version(module):
    """``(major, minor)`` of a module's ``__version__``."""
    return tuple(int(part) for part in module.__version__.split(".")[:2])


# SciPy 1.11 passes ``minimize``'s callback an ``OptimizeResult`` when its
# parameter is named ``intermediate_result``, and ends the minimisation when
# the callback raises ``StopIteration``; before, the callback gets the
# iterate ``xk`` and a ``StopIteration`` escapes from ``minimize``.
_SCIPY_CALLBACK_RESULT = _version(scipy) >= (1, 11)


class _CallbackStop(Exception):
    """A callback's ``StopIteration``, carried out of SciPy < 1.11."""


def minimize(fun, x0, *, callback, **kwargs):
    """:func:`scipy.optimize.minimize` with SciPy 1.11's callback protocol.

    ``callback(intermediate_result)`` is called after each iteration with an
    :class:`~scipy.optimize.OptimizeResult` whose ``x`` is the iterate, and
    may raise ``StopIteration`` to end the minimisation, which then returns
    that iterate. On SciPy >= 1.11 this is ``minimize`` itself. On older
    SciPy the callback's result holds ``x`` and ``nit`` only, and the
    returned result ``x``, ``nit``, ``success=False`` and the message SciPy
    1.11 gives (``"`callback` raised `StopIteration`."``).

    ``callback`` must be a Python function: SciPy >= 1.11 reads its
    signature, which builtins such as ``print`` lack on Python 3.10.
    """
    if _SCIPY_CALLBACK_RESULT:
        return scipy.optimize.minimize(fun, x0, callback=callback, **kwargs)
    seen = {"nit": 0, "x": None}

    def xk_callback(xk):
        seen["nit"] += 1
        seen["x"] = np.array(xk, dtype=np.float64)
        try:
            callback(scipy.optimize.OptimizeResult(x=seen["x"], nit=seen["nit"]))
        except StopIteration:
            # Carried as skdiv's own exception, so that only the callback's
            # stop is caught below, never a StopIteration from ``fun``.
            raise _CallbackStop from None

    try:
        return scipy.optimize.minimize(fun, x0, callback=xk_callback, **kwargs)
    except _CallbackStop:
        return scipy.optimize.OptimizeResult(
            x=seen["x"],
            nit=seen["nit"],
            success=False,
            status=99,
            message="`callback` raised `StopIteration`.",
        )


def csv_float_options():
    """Keyword arguments for :func:`pandas.read_csv` that read numbers exactly.

    pandas before 3.0 converts decimal text with its own parser by default
    (``float_precision="high"``), which is off by one unit in the last place
    for many 17-digit numbers (such as those Python's ``repr`` writes);
    ``"round_trip"`` uses Python's correctly rounded conversion and accepts the
    same text (checked on pandas 1.5.3). pandas 3 converts exactly in every
    mode and deprecates the argument from 3.1, so it is passed only before.
    """
    import pandas as pd

    return {"float_precision": "round_trip"} if _version(pd) < (3, 1) else {}


def scorer_parts(scorer):
    """``(score_func, response_method)`` of a scikit-learn scorer object.

    Read from the private attributes ``_score_func`` and ``_response_method``
    of ``_BaseScorer`` (checked on 1.6.1 and 1.9.1); ``(None, None)`` for a
    scorer that has neither (a plain callable).
    """
    return (
        getattr(scorer, "_score_func", None),
        getattr(scorer, "_response_method", None),
    )


__all__ = [
    "BaseSearchCV",
    "Interval",
    "StrOptions",
    "_BaseScorer",
    "_fit_context",
    "csv_float_options",
    "minimize",
    "scorer_parts",
    "validate_data",
]


class CachedParamNames:
    """``get_params`` without reading ``__init__``'s signature at every call.

    scikit-learn's ``BaseEstimator._get_param_names`` inspects the
    constructor's signature each time, and ``fit`` asks for the parameters
    (to validate them) on every call: on a small problem that is a tenth of
    the fit. The names are the same for the life of a class, so each class
    keeps its own list (in its own ``__dict__``: a subclass with another
    ``__init__`` reads its own signature once too).
    """

    @classmethod
    def _get_param_names(cls):
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = super()._get_param_names()
            cls._param_names = names
        return list(names)


class DocLinkMixin:
    """The estimators' HTML representation links to their API page, as scikit-learn's.

    scikit-learn's ``_HTMLDocumentationLinkMixin`` (a base of
    ``BaseEstimator``) formats ``_doc_link_template`` with the estimator's
    public module and name when the estimator's root module is
    ``_doc_link_module``; this gives both for skdiv's pages
    (:func:`skdiv._version.docs_url`).
    """

    _doc_link_module = "skdiv"

    @property
    def _doc_link_template(self):
        from ._version import docs_url

        return getattr(
            self,
            "__doc_link_template",
            docs_url() + "generated/{estimator_module}.{estimator_name}.html",
        )

    @_doc_link_template.setter
    def _doc_link_template(self, value):
        setattr(self, "__doc_link_template", value)
