"""What every solver shares: the default stopping measure and its warning."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning


def max_abs(grad):
    """The max-norm of a gradient: the default stopping measure."""
    return float(np.max(np.abs(grad), initial=0.0))


def warn_not_converged(name, max_iter, norm, tol):
    warnings.warn(
        f"{name} did not converge in max_iter={max_iter} iterations: the "
        f"gradient max-norm is {norm:.3g} > tol={tol:g}. Increase max_iter, "
        "or scale the features.",
        ConvergenceWarning,
        stacklevel=3,
    )
