"""Metrics and scorers: divergences, Gaussian scores, intervals and calibration."""

from ._calibration import brier_score, expected_calibration_error
from ._divergence import cross_entropy, entropy, kl_divergence
from ._gaussian import gaussian_crps, gaussian_kl, gaussian_nll
from ._interval import (
    interval_coverage,
    interval_coverage_gap,
    interval_score,
    interval_width,
)
from ._predictive import mean_standardized_log_loss, pit_calibration_error
from ._scorer import (
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
    "brier_score",
    "cross_entropy",
    "entropy",
    "expected_calibration_error",
    "gaussian_crps",
    "gaussian_kl",
    "gaussian_nll",
    "get_scorer",
    "get_scorer_names",
    "interval_coverage",
    "interval_coverage_gap",
    "interval_score",
    "interval_width",
    "kl_divergence",
    "make_divergence_scorer",
    "mean_standardized_log_loss",
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
    "pit_calibration_error",
]
