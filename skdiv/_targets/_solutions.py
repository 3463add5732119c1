"""Fitted solutions handed from the fitting paths to the estimators that store them."""

from dataclasses import dataclass

import numpy as np

from ._regression import TargetScaling


@dataclass(frozen=True)
class LinearSolution:
    """A fitted linear classifier, as the estimator stores it.

    ``n_features_in_`` and ``feature_names_in_`` (None: no names) are the
    feature attributes validated with the data; ``stream`` the state of a
    streaming fit (None for ``fit``).
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    objective: float
    classes: np.ndarray
    n_features_in: int
    feature_names_in: object = None
    stream: object = None


@dataclass(frozen=True)
class GaussianSolution:
    """A fitted Gaussian regressor, in standardised target units.

    ``coef`` and ``intercept`` are the mean's, ``var_coef`` and
    ``var_intercept`` the log-variance's, for the target standardised by
    ``scaling``; the estimator maps them to target units.
    """

    coef: np.ndarray
    intercept: float
    var_coef: np.ndarray
    var_intercept: float
    scaling: TargetScaling
    n_iter: int
    objective: float
    n_features_in: int
    feature_names_in: object = None
    stream: object = None
