"""skdiv: scikit-learn estimators and scorers for cross-entropy, KL and Gaussian NLL."""

from ._classifier import DivergenceClassifier  # noqa: E402
from ._mlp_classifier import DivergenceMLPClassifier  # noqa: E402
from ._mlp_regressor import GaussianMLPRegressor  # noqa: E402
from ._regressor import GaussianRegressor  # noqa: E402
from ._version import __version__  # noqa: E402
from .metrics import (  # noqa: E402
    get_scorer,
    get_scorer_names,
    make_divergence_scorer,
    neg_cross_entropy_scorer,
    neg_expected_calibration_error_scorer,
    neg_gaussian_crps_scorer,
    neg_gaussian_nll_scorer,
    neg_interval_coverage_gap_scorer,
    neg_interval_score_scorer,
    neg_interval_width_scorer,
    neg_kl_divergence_scorer,
    neg_mean_standardized_log_loss_scorer,
    neg_multiclass_brier_score_scorer,
    neg_pit_calibration_error_scorer,
)

__all__ = [
    "DivergenceClassifier",
    "DivergenceMLPClassifier",
    "GaussianMLPRegressor",
    "GaussianRegressor",
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
    "__version__",
]
