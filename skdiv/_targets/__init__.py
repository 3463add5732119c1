r"""Targets and weights, prepared once for every fitting path.

The in-memory ``fit``, the Dask fit (:mod:`skdiv._scale._dask`) and the streaming
``partial_fit`` (:mod:`skdiv._scale._stream`) prepare what the objective sees
with the functions of this module, so that the rules (and the error
messages) are written once:

* **Sample weights**: :func:`check_sample_weight`, whose value checks are
  :func:`raise_for_sample_weight` on four reductions (any NaN, any infinity,
  minimum, maximum), so that a Dask fit computes the same reductions lazily
  and raises the same messages.
* **Classification**: label encoding (:func:`encode_classes`), the columns
  of a soft-label DataFrame (:func:`soft_label_columns`), class weights
  (:func:`class_weight_vector` on weighted, possibly soft, class counts;
  :func:`fold_class_weights`, :func:`reweight_soft_rows`, and
  :func:`raise_for_weighted_total` when they leave no sample with positive
  weight), label smoothing (:func:`smooth`), the objective's target
  (:func:`objective_target`) and the intercept-only start
  (:func:`intercept_only_start`), composed by
  :func:`prepare_classification`.
* **Regression**: the checks of ``y_std`` and ``beta`` against the loss,
  the standardisation of ``y`` (:func:`target_scaling`), and the
  closed-form constant-variance start (:func:`penalised_least_squares`,
  :func:`solve_centred_normal_equations`, :func:`constant_log_variance`).

Every function is pure: it returns arrays or small frozen dataclasses and
touches no estimator, so that an estimator can validate and prepare
everything before it changes any of its attributes (a fit that raises
leaves it as it was). The fitted solutions that the scale layer hands back
to the estimators (:class:`LinearSolution`, :class:`GaussianSolution`) are
defined here too, as they are expressed in the prepared target's units.

The package's files: ``_weights.py``, ``_classification.py``,
``_regression.py``, ``_least_squares.py`` (the closed-form start) and
``_solutions.py``; everything is imported from ``skdiv._targets``.
"""

from .._weights import (
    check_sample_weight,
    check_sample_weight_shape,
    raise_for_sample_weight,
    sample_weight_reductions,
)
from ._classification import (
    PreparedClassification,
    check_unique_classes,
    class_counts,
    class_weight_vector,
    encode_classes,
    fold_class_weights,
    incremental_soft_label_columns,
    intercept_only_start,
    is_soft,
    normalised_rows,
    objective_target,
    prepare_classification,
    probabilities,
    raise_for_weighted_total,
    reweight_soft_rows,
    smooth,
    soft_label_columns,
    weigh_classes,
)
from ._least_squares import (
    penalised_least_squares,
    ridge_dual,
    ridge_normal_equations,
    solve_centred_normal_equations,
    sparse_normal_equations,
)
from ._regression import (
    Y_STD_POSITIVE,
    PreparedRegression,
    TargetScaling,
    check_beta,
    check_y_std,
    check_y_std_presence,
    constant_log_variance,
    power_of_two_below,
    prepare_regression,
    target_scaling,
)
from ._solutions import GaussianSolution, LinearSolution

__all__ = [
    "GaussianSolution",
    "LinearSolution",
    "PreparedClassification",
    "PreparedRegression",
    "TargetScaling",
    "Y_STD_POSITIVE",
    "check_beta",
    "check_sample_weight",
    "check_sample_weight_shape",
    "check_unique_classes",
    "check_y_std",
    "check_y_std_presence",
    "class_counts",
    "class_weight_vector",
    "constant_log_variance",
    "encode_classes",
    "fold_class_weights",
    "intercept_only_start",
    "is_soft",
    "normalised_rows",
    "objective_target",
    "penalised_least_squares",
    "prepare_classification",
    "power_of_two_below",
    "prepare_regression",
    "probabilities",
    "raise_for_sample_weight",
    "raise_for_weighted_total",
    "reweight_soft_rows",
    "ridge_dual",
    "ridge_normal_equations",
    "sample_weight_reductions",
    "smooth",
    "weigh_classes",
    "incremental_soft_label_columns",
    "soft_label_columns",
    "solve_centred_normal_equations",
    "sparse_normal_equations",
    "target_scaling",
]
