"""scikit-learn's estimator checks for the network estimators, no expected failures."""

import pytest
from _estimator_checks import parametrize_with_checks

from skdiv import DivergenceMLPClassifier, GaussianMLPRegressor

# Small networks: the checks fit hundreds of times. Adam at a larger step than
# the default, to fit the checks' small sets in few epochs; L-BFGS to a tight
# gradient, with a penalty that makes the checks' 15 x 30 sets well posed, so
# that weighted and repeated rows meet at the same optimum.
_ADAM = dict(
    hidden_layer_sizes=(6,), max_iter=60, learning_rate_init=0.03, random_state=0
)
_LBFGS = dict(
    hidden_layer_sizes=(6,),
    solver="lbfgs",
    alpha=1.0,
    max_iter=3000,
    tol=1e-10,
    random_state=0,
)

# The beta-NLL fixed point of L-BFGS refits is tested in test_mlp_regressor.py:
# on the checks' 15 x 30 set it has several fixed points. early_stopping is not
# among them: like scikit-learn's MLP, it refuses
# partial_fit and the checks' smallest sets (a validation set of one row).
ESTIMATORS = [
    DivergenceMLPClassifier(**_ADAM),
    DivergenceMLPClassifier(
        activation="logistic", **{**_ADAM, "hidden_layer_sizes": (5, 4)}
    ),
    DivergenceMLPClassifier(
        loss="kl_divergence", activation="relu", **{**_LBFGS, "alpha": 0.3}
    ),
    DivergenceMLPClassifier(
        class_weight="balanced",
        label_smoothing=0.1,
        **{**_LBFGS, "hidden_layer_sizes": ()},
    ),
    GaussianMLPRegressor(**_ADAM),
    # A larger floor on the standard deviation bounds the likelihood of the
    # checks' 15 rows, which a heteroscedastic network could otherwise fit
    # exactly (variances at the floor: many optima).
    GaussianMLPRegressor(activation="tanh", min_std=0.1, **_LBFGS),
    GaussianMLPRegressor(variance="constant", **_LBFGS),
    GaussianMLPRegressor(loss="squared_error", **_ADAM),
    GaussianMLPRegressor(loss="squared_error", **_LBFGS),
    GaussianMLPRegressor(beta=0.5, **_ADAM),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
