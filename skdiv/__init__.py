"""skdiv: scikit-learn estimators and scorers for cross-entropy, KL and Gaussian NLL."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
