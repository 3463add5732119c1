"""scikit-learn's own estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skdiv import DivergenceClassifier, GaussianRegressor

ESTIMATORS = [
    DivergenceClassifier(),
    DivergenceClassifier(loss="kl_divergence"),
    DivergenceClassifier(class_weight="balanced", label_smoothing=0.1),
    GaussianRegressor(),
    GaussianRegressor(variance="constant"),
    GaussianRegressor(loss="squared_error"),
    GaussianRegressor(beta=0.5),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
