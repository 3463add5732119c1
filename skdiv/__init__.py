"""skdiv: scikit-learn estimators and scorers for cross-entropy, KL and Gaussian NLL."""

__version__ = "0.1.0.dev0"

from ._classifier import DivergenceClassifier  # noqa: E402
from ._regressor import GaussianRegressor  # noqa: E402

__all__ = ["DivergenceClassifier", "GaussianRegressor", "__version__"]
