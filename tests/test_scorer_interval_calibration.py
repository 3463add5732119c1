"""Interval, MSLL, PIT, ECE and Brier scorers inside scikit-learn's searches."""

import pickle

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import ARDRegression, BayesianRidge, LogisticRegression
from sklearn.metrics import brier_score_loss, check_scoring, r2_score
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skdiv.metrics
from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv.metrics import (
    brier_score,
    expected_calibration_error,
    get_scorer,
    get_scorer_names,
    interval_coverage,
    interval_coverage_gap,
    interval_score,
    interval_width,
    make_divergence_scorer,
    mean_standardized_log_loss,
    neg_expected_calibration_error_scorer,
    neg_interval_coverage_gap_scorer,
    neg_interval_score_scorer,
    neg_interval_width_scorer,
    neg_mean_standardized_log_loss_scorer,
    neg_multiclass_brier_score_scorer,
    neg_pit_calibration_error_scorer,
    pit_calibration_error,
)
from skdiv.model_selection import SoftStratifiedKFold

REGRESSION = {
    "neg_interval_score": (neg_interval_score_scorer, interval_score),
    "neg_interval_width": (neg_interval_width_scorer, interval_width),
    "neg_interval_coverage_gap": (neg_interval_coverage_gap_scorer,
                                  interval_coverage_gap),
    "neg_mean_standardized_log_loss": (neg_mean_standardized_log_loss_scorer,
                                       mean_standardized_log_loss),
    "neg_pit_calibration_error": (neg_pit_calibration_error_scorer,
                                  pit_calibration_error),
}
CLASSIFICATION = {
    "neg_expected_calibration_error": (neg_expected_calibration_error_scorer,
                                       expected_calibration_error),
    "neg_multiclass_brier_score": (neg_multiclass_brier_score_scorer, brier_score),
}
ALL = {**REGRESSION, **CLASSIFICATION}

_rng = np.random.default_rng(0)
X_REG = _rng.uniform(-1, 1, size=(90, 3))
Y_REG = (3 * X_REG[:, 0] - 2 * X_REG[:, 1]
         + 0.5 * np.exp(X_REG[:, 0]) * _rng.normal(size=90))
W_REG = _rng.uniform(0.2, 2.0, size=90)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
Y_SOFT = 0.8 * LogisticRegression(C=0.05).fit(X_IRIS, Y_IRIS).predict_proba(X_IRIS)
Y_SOFT += 0.2 / 3
W_IRIS = np.random.default_rng(1).uniform(0.2, 2.0, size=Y_IRIS.shape[0])
X_BIN, Y_BIN = make_classification(n_samples=120, n_features=4, n_informative=2,
                                   random_state=0)

CV3 = KFold(3, shuffle=True, random_state=0)


def _mean_std_by_hand(metric, estimator, X, y, sample_weight=None, **kwargs):
    mean, std = estimator.predict(X, return_std=True)
    return metric(y, mean, std, sample_weight=sample_weight, **kwargs)


def _proba_by_hand(metric, estimator, X, y, sample_weight=None, **kwargs):
    return metric(y, estimator.predict_proba(X), labels=estimator.classes_,
                  sample_weight=sample_weight, **kwargs)


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL))
def test_names_resolve_to_copies(name):
    instance, metric = ALL[name]
    assert name in get_scorer_names()
    scorer = get_scorer(name)
    assert scorer is not instance
    assert repr(scorer) == repr(instance) == repr(pickle.loads(pickle.dumps(scorer)))
    assert repr(scorer).startswith(f"make_divergence_scorer({metric.__name__}, ")
    assert scorer._sign == -1
    assert f"{name}_scorer" in skdiv.metrics.__all__


def test_names_do_not_shadow_scikit_learn():
    assert not set(ALL) & set(sklearn.metrics.get_scorer_names())
    # scikit-learn's neg_brier_score still means scikit-learn's.
    assert repr(get_scorer("neg_brier_score")) == repr(
        sklearn_get_scorer("neg_brier_score"))


# --------------------------------------------------------------------------
# cross_validate, mixed with scikit-learn's scorers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [BayesianRidge(), ARDRegression(), GaussianRegressor(),
     GaussianRegressor(variance="heteroscedastic", alpha=1e-2),
     GaussianProcessRegressor(RBF() + WhiteKernel(), normalize_y=True),
     make_pipeline(StandardScaler(), BayesianRidge())],
    ids=["bayesian-ridge", "ard", "gaussian-regressor", "heteroscedastic", "gp",
         "pipeline"],
)
def test_cross_validate_regression_scores_match_metrics(estimator):
    scoring = {name: get_scorer(name) for name in REGRESSION}
    scoring.update(r2="r2", mse="neg_mean_squared_error")
    cv = cross_validate(estimator, X_REG, Y_REG, cv=CV3, scoring=scoring,
                        return_estimator=True, return_indices=True,
                        error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        for name, (_, metric) in REGRESSION.items():
            expected = _mean_std_by_hand(metric, fitted, X_REG[test], Y_REG[test])
            assert_allclose(-cv[f"test_{name}"][fold], expected, rtol=1e-12)
        assert_allclose(cv["test_r2"][fold],
                        r2_score(Y_REG[test], fitted.predict(X_REG[test])),
                        rtol=1e-12)
    assert np.all(cv["test_neg_interval_coverage_gap"] <= 0)
    assert np.all(cv["test_neg_interval_coverage_gap"] > -0.5)


@pytest.mark.parametrize(
    "estimator, X, y",
    [(LogisticRegression(), X_IRIS, Y_IRIS),
     (LogisticRegression(), X_BIN, Y_BIN),
     (RandomForestClassifier(n_estimators=10, random_state=0), X_IRIS, Y_IRIS),
     (HistGradientBoostingClassifier(max_iter=10, random_state=0), X_BIN, Y_BIN),
     (DivergenceClassifier(alpha=1e-2), X_IRIS, Y_SOFT),
     (make_pipeline(StandardScaler(), LogisticRegression()), X_BIN, Y_BIN)],
    ids=["logreg-multiclass", "logreg-binary", "random-forest",
         "hist-gradient-boosting", "divergence-soft", "pipeline"],
)
def test_cross_validate_classification_scores_match_metrics(estimator, X, y):
    soft = y.ndim == 2
    scoring = {name: get_scorer(name) for name in CLASSIFICATION}
    scoring["ece_classwise"] = make_divergence_scorer(expected_calibration_error,
                                                      kind="classwise", n_bins=5)
    binary = not soft and np.unique(y).size == 2
    if not soft:
        scoring.update(accuracy="accuracy", log_loss="neg_log_loss")
    if binary:  # scikit-learn < 1.7 has a binary Brier score only
        scoring["sk_brier"] = "neg_brier_score"
    cv_splitter = SoftStratifiedKFold(3, shuffle=True, random_state=0)
    with threadpool_limits(limits=1, user_api="openmp"):
        cv = cross_validate(estimator, X, y, cv=cv_splitter, scoring=scoring,
                            return_estimator=True, return_indices=True,
                            error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        for name, (_, metric) in CLASSIFICATION.items():
            expected = _proba_by_hand(metric, fitted, X[test], y[test])
            assert_allclose(-cv[f"test_{name}"][fold], expected, rtol=1e-12)
        assert_allclose(
            -cv["test_ece_classwise"][fold],
            _proba_by_hand(expected_calibration_error, fitted, X[test], y[test],
                           kind="classwise", n_bins=5),
            rtol=1e-12,
        )
        if binary:
            # scikit-learn halves the binary score.
            assert_allclose(cv["test_neg_multiclass_brier_score"][fold],
                            2 * cv["test_sk_brier"][fold], rtol=1e-12)
            assert_allclose(
                -cv["test_sk_brier"][fold],
                brier_score_loss(y[test], fitted.predict_proba(X[test])[:, 1]),
                rtol=1e-12)


def test_multimetric_scoring_predicts_mean_and_std_once():
    calls = []

    class CountingBayesianRidge(BayesianRidge):
        def predict(self, X, return_std=False):
            calls.append(return_std)
            return super().predict(X, return_std=return_std)

    reg = CountingBayesianRidge().fit(X_REG, Y_REG)
    scoring = check_scoring(reg, {**{n: get_scorer(n) for n in REGRESSION},
                                  "nll": get_scorer("neg_gaussian_nll"), "r2": "r2"})
    scores = scoring(reg, X_REG, Y_REG)
    assert sorted(calls) == [False, True]
    assert_allclose(scores["neg_interval_score"],
                    -_mean_std_by_hand(interval_score, reg, X_REG, Y_REG))


# --------------------------------------------------------------------------
# GridSearchCV
# --------------------------------------------------------------------------


# The noise-free RBF drives its length scale to the lower bound: expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_refits_on_the_interval_score_at_a_level():
    scorer = make_divergence_scorer(interval_score, level=0.5)
    assert repr(scorer) == (
        "make_divergence_scorer(interval_score, response='mean_std', level=0.5)"
    )
    search = GridSearchCV(
        GaussianProcessRegressor(normalize_y=True),
        {"kernel": [RBF(), RBF() + WhiteKernel()]},
        cv=CV3,
        scoring={"is50": scorer, "coverage": neg_interval_coverage_gap_scorer,
                 "width": neg_interval_width_scorer, "r2": "r2"},
        refit="is50", error_score="raise",
    ).fit(X_REG, Y_REG)
    results = search.cv_results_
    assert search.best_index_ == np.argmax(results["mean_test_is50"])
    # The noise-free kernel interpolates the noise: its intervals miss.
    assert search.best_params_["kernel"] == RBF() + WhiteKernel()
    for i, (train, test) in enumerate(CV3.split(X_REG)):
        for j, params in enumerate(results["params"]):
            fitted = GaussianProcessRegressor(normalize_y=True, **params).fit(
                X_REG[train], Y_REG[train])
            assert_allclose(
                -results[f"split{i}_test_is50"][j],
                _mean_std_by_hand(interval_score, fitted, X_REG[test], Y_REG[test],
                                  level=0.5), rtol=1e-9)
    assert_allclose(
        search.score(X_REG, Y_REG),
        -_mean_std_by_hand(interval_score, search.best_estimator_, X_REG, Y_REG,
                           level=0.5), rtol=1e-12)


def test_grid_search_classification_refits_on_brier():
    search = GridSearchCV(
        LogisticRegression(), {"C": [1e-3, 1.0]}, cv=3,
        scoring={"brier": neg_multiclass_brier_score_scorer,
                 "ece": neg_expected_calibration_error_scorer,
                 "log_loss": "neg_log_loss"},
        refit="brier", error_score="raise",
    ).fit(X_IRIS, Y_IRIS)
    results = search.cv_results_
    assert search.best_params_ == {"C": 1.0}
    assert search.best_index_ == np.argmax(results["mean_test_brier"])
    assert np.argmax(results["mean_test_log_loss"]) == search.best_index_
    assert_allclose(search.score(X_IRIS, Y_IRIS),
                    -brier_score(Y_IRIS, search.predict_proba(X_IRIS)), rtol=1e-12)


def test_grid_search_soft_labels_with_the_soft_splitter():
    search = GridSearchCV(
        DivergenceClassifier(), {"alpha": [1e-3, 1.0]},
        cv=SoftStratifiedKFold(3),
        scoring={"brier": neg_multiclass_brier_score_scorer,
                 "ece": neg_expected_calibration_error_scorer,
                 "kl": get_scorer("neg_kl_divergence")},
        refit="kl", error_score="raise",
    ).fit(X_IRIS, Y_SOFT)
    results = search.cv_results_
    assert np.all(results["mean_test_brier"] < 0)
    assert_allclose(search.score(X_IRIS, Y_SOFT),
                    -get_scorer("neg_kl_divergence")._score_func(
                        Y_SOFT, search.predict_proba(X_IRIS)), rtol=1e-12)


# --------------------------------------------------------------------------
# Metadata-routed sample weights
# --------------------------------------------------------------------------


def test_cross_validate_routes_weights_to_every_scorer():
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {name: get_scorer(name).set_score_request(sample_weight=True)
                   for name in REGRESSION}
        scoring["r2"] = sklearn_get_scorer("r2").set_score_request(sample_weight=True)
        estimator = BayesianRidge().set_fit_request(sample_weight=True)
        cv = cross_validate(estimator, X_REG, Y_REG, cv=CV3, scoring=scoring,
                            params={"sample_weight": W_REG},
                            return_estimator=True, return_indices=True,
                            error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        for name, (_, metric) in REGRESSION.items():
            expected = _mean_std_by_hand(metric, fitted, X_REG[test], Y_REG[test],
                                         W_REG[test])
            assert_allclose(-cv[f"test_{name}"][fold], expected, rtol=1e-12)
            unweighted = _mean_std_by_hand(metric, fitted, X_REG[test], Y_REG[test])
            if name != "neg_interval_coverage_gap":  # a step function of weights
                assert not np.isclose(expected, unweighted)
        assert_allclose(cv["test_r2"][fold],
                        r2_score(Y_REG[test], fitted.predict(X_REG[test]),
                                 sample_weight=W_REG[test]), rtol=1e-12)
    # The module's instances are untouched.
    assert neg_interval_score_scorer.get_metadata_routing().score.requests.get(
        "sample_weight") is not True


def test_grid_search_routes_weights_to_classification_scorers():
    folds = list(SoftStratifiedKFold(3, shuffle=True, random_state=0)
                 .split(X_IRIS, Y_SOFT))
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {name: get_scorer(name).set_score_request(sample_weight=True)
                   for name in CLASSIFICATION}
        search = GridSearchCV(
            DivergenceClassifier(alpha=1e-2).set_fit_request(sample_weight=True),
            {"loss": ["kl_divergence"]}, cv=folds, scoring=scoring,
            refit=False, error_score="raise",
        ).fit(X_IRIS, Y_SOFT, sample_weight=W_IRIS)
    for i, (train, test) in enumerate(folds):
        fitted = DivergenceClassifier(alpha=1e-2, loss="kl_divergence").fit(
            X_IRIS[train], Y_SOFT[train], sample_weight=W_IRIS[train])
        for name, (_, metric) in CLASSIFICATION.items():
            expected = _proba_by_hand(metric, fitted, X_IRIS[test], Y_SOFT[test],
                                      W_IRIS[test])
            assert_allclose(-search.cv_results_[f"split{i}_test_{name}"][0],
                            expected, rtol=1e-9)


def test_direct_call_with_weights():
    reg = BayesianRidge().fit(X_REG, Y_REG)
    mean, std = reg.predict(X_REG, return_std=True)
    assert_allclose(
        get_scorer("neg_interval_coverage_gap")(reg, X_REG, Y_REG,
                                                sample_weight=W_REG),
        -abs(interval_coverage(Y_REG, mean, std, sample_weight=W_REG) - 0.9),
        rtol=1e-12)
    clf = LogisticRegression().fit(X_IRIS, Y_IRIS)
    assert_allclose(
        neg_multiclass_brier_score_scorer(clf, X_IRIS, Y_IRIS, sample_weight=W_IRIS),
        -brier_score(Y_IRIS, clf.predict_proba(X_IRIS), sample_weight=W_IRIS),
        rtol=1e-12)
