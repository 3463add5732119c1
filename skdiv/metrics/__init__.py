"""Metrics: cross-entropy, KL divergence, entropy and Gaussian scores."""

from ._divergence import (
    cross_entropy,
    entropy,
    gaussian_crps,
    gaussian_kl,
    gaussian_nll,
    kl_divergence,
)

__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_crps",
    "gaussian_kl",
    "gaussian_nll",
    "kl_divergence",
]
