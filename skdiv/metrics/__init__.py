"""Metrics and scorers: cross-entropy, KL divergence, entropy and Gaussian scores."""

from ._divergence import (
    cross_entropy,
    entropy,
    gaussian_crps,
    gaussian_kl,
    gaussian_nll,
    kl_divergence,
)
from ._scorer import (
    get_scorer,
    get_scorer_names,
    make_divergence_scorer,
    neg_cross_entropy_scorer,
    neg_gaussian_crps_scorer,
    neg_gaussian_nll_scorer,
    neg_kl_divergence_scorer,
)

__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_crps",
    "gaussian_kl",
    "gaussian_nll",
    "get_scorer",
    "get_scorer_names",
    "kl_divergence",
    "make_divergence_scorer",
    "neg_cross_entropy_scorer",
    "neg_gaussian_crps_scorer",
    "neg_gaussian_nll_scorer",
    "neg_kl_divergence_scorer",
]
