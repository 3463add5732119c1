"""The models ``skdiv compare`` sets side by side, each with its preprocessing."""

from dataclasses import dataclass

from ._common import LOGISTIC_C
from ._features import boosting_features, linear_features


@dataclass
class Candidate:
    """One row of the comparison.

    ``build(n_train, classes)`` returns the unfitted estimator for a training
    fold of ``n_train`` samples, so that penalties defined per sample can be
    matched fold by fold. ``label`` is the short name of the table, whose
    legend spells out ``model`` and ``objective``. ``cost`` is a rough fit
    time relative to a linear model, for the progress bar's estimate.
    """

    model: str
    objective: str
    label: str
    build: object
    # "hard" or "soft (teacher)" for classifiers, None for regressors.
    targets: object = None
    # With --soft-labels, the model whose probabilities the students learn.
    teacher: bool = False
    cost: float = 1.0

    @property
    def soft(self):
        return self.targets == "soft (teacher)"

    def legend(self, show_targets):
        """``label: model, objective``, for the table's notes."""
        return f"{self.label} = {self.model} ({self.objective}" + (
            f", {self.targets} labels)" if show_targets else ")"
        )


def _boosting(estimator, data):
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    transformer, categorical = boosting_features(data)
    if transformer is None:
        return clone(estimator)
    return make_pipeline(
        transformer, clone(estimator).set_params(categorical_features=categorical)
    )


def classifiers(data, random_state, soft, n_splits):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from .._classifier import DivergenceClassifier
    from .._mlp_classifier import DivergenceMLPClassifier

    def network(n_train, classes):
        # One hidden layer of 64, the linear models' penalty per sample;
        # tanh keeps the objective smooth, so L-BFGS reaches its tol (ReLU's
        # kinks stall it on small data).
        return make_pipeline(
            linear_features(data),
            DivergenceMLPClassifier(
                "cross_entropy", hidden_layer_sizes=(64,), activation="tanh",
                solver="lbfgs",
                alpha=1.0 / (LOGISTIC_C * n_train), max_iter=500,
                random_state=random_state, classes=classes if soft else None,
            ),
        )

    def divergence(loss):
        def build(n_train, classes):
            return make_pipeline(
                linear_features(data),
                DivergenceClassifier(
                    loss, alpha=1.0 / (LOGISTIC_C * n_train),
                    classes=classes if soft else None,
                ),
            )
        return build

    boosting = HistGradientBoostingClassifier(random_state=random_state)
    targets = "soft (teacher)" if soft else "hard"
    return [
        Candidate("DivergenceClassifier", "cross_entropy", "Divergence CE",
                  divergence("cross_entropy"), targets),
        Candidate("DivergenceClassifier", "kl_divergence", "Divergence KL",
                  divergence("kl_divergence"), targets),
        Candidate("DivergenceMLPClassifier", "cross_entropy, 64 tanh", "MLP CE",
                  network, targets, cost=20.0),
        Candidate(
            "LogisticRegression", "log_loss", "LogisticRegression",
            lambda n_train, classes: make_pipeline(
                linear_features(data),
                LogisticRegression(C=LOGISTIC_C, max_iter=1000),
            ),
            "hard",
        ),
        Candidate(
            "HistGradientBoostingClassifier" + (" (teacher)" if soft else ""),
            "log_loss", "HistGB teacher" if soft else "HistGradientBoosting",
            lambda n_train, classes: _boosting(boosting, data),
            "hard", teacher=soft,
            # The teacher is fitted once per inner fold and once on the whole
            # training fold.
            cost=30.0 * (n_splits + 1 if soft else 1),
        ),
    ]


def regressors(data):
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline

    from .._mlp_regressor import GaussianMLPRegressor
    from .._regressor import GaussianRegressor

    def gaussian(**params):
        return lambda n_train, classes: make_pipeline(
            linear_features(data), GaussianRegressor(**params)
        )

    return [
        Candidate("GaussianRegressor", "gaussian_nll, heteroscedastic",
                  "Gaussian NLL hetero",
                  gaussian(loss="gaussian_nll", variance="heteroscedastic")),
        Candidate("GaussianRegressor", "gaussian_nll, constant", "Gaussian NLL const",
                  gaussian(loss="gaussian_nll", variance="constant")),
        Candidate("GaussianRegressor", "squared_error, heteroscedastic",
                  "Gaussian SE hetero",
                  gaussian(loss="squared_error", variance="heteroscedastic")),
        Candidate(
            "GaussianMLPRegressor", "gaussian_nll, heteroscedastic, 16 tanh",
            "MLP NLL hetero",
            lambda n_train, classes: make_pipeline(
                linear_features(data),
                # A small network, penalised as by 32 samples' worth of prior
                # (alpha = 32 / n_train): mean and variance both bend with X,
                # and a fixed alpha either overfits a few dozen rows (the
                # variance collapses) or underfits a few thousand. tanh keeps
                # the objective smooth, so L-BFGS reaches its tol.
                GaussianMLPRegressor(
                    hidden_layer_sizes=(16,), activation="tanh",
                    alpha=32.0 / n_train, solver="lbfgs", max_iter=1000,
                    random_state=0,
                ),
            ),
            cost=20.0,
        ),
        Candidate(
            "BayesianRidge", "evidence", "BayesianRidge",
            lambda n_train, classes: make_pipeline(
                linear_features(data), BayesianRidge()
            ),
        ),
    ]
