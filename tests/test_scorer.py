"""Scorers inside scikit-learn's model selection and inspection tools."""

import pickle
import re
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import DataConversionWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.inspection import permutation_importance
from sklearn.linear_model import (
    ARDRegression,
    BayesianRidge,
    LinearRegression,
    LogisticRegression,
)
from sklearn.metrics import check_scoring, log_loss, roc_auc_score
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics._scorer import _SCORERS as SKLEARN_SCORERS
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
    learning_curve,
    validation_curve,
)
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

import skdiv
from skdiv import DivergenceClassifier, GaussianRegressor
from skdiv.metrics import (
    cross_entropy,
    entropy,
    gaussian_crps,
    gaussian_kl,
    gaussian_nll,
    get_scorer,
    get_scorer_names,
    kl_divergence,
    make_divergence_scorer,
    neg_cross_entropy_scorer,
    neg_gaussian_crps_scorer,
    neg_gaussian_nll_scorer,
    neg_kl_divergence_scorer,
)

SKDIV_NAMES = [
    "neg_cross_entropy",
    "neg_gaussian_crps",
    "neg_gaussian_nll",
    "neg_kl_divergence",
]
# scikit-learn >= 1.7 forwards fit's sample_weight to the scorers of a search
# with metadata routing off (scikit-learn PR #30743).
SEARCH_FORWARDS_WEIGHTS = hasattr(BaseSearchCV, "_check_scorers_accept_sample_weight")


# --------------------------------------------------------------------------
# Data: small, so that the whole file runs in seconds.
# --------------------------------------------------------------------------


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


X_IRIS, Y_IRIS = _iris()
# Soft labels: a teacher's probabilities, smoothed so that every row has
# entropy and no exact zeros.
Y_SOFT = 0.8 * LogisticRegression(C=0.05).fit(X_IRIS, Y_IRIS).predict_proba(X_IRIS)
Y_SOFT += 0.2 / 3
X_BIN, Y_BIN = make_classification(
    n_samples=80, n_features=4, n_informative=2, random_state=0
)
Y_BIN_SOFT = np.column_stack([1 - 0.8 * Y_BIN - 0.1, 0.8 * Y_BIN + 0.1])

_rng = np.random.default_rng(0)
X_REG = _rng.uniform(-1, 1, size=(60, 3))
Y_REG = (3 * X_REG[:, 0] - 2 * X_REG[:, 1]
         + 0.5 * np.exp(X_REG[:, 0]) * _rng.normal(size=60))
W_REG = _rng.uniform(0.2, 2.0, size=60)
W_IRIS = np.random.default_rng(1).uniform(0.2, 2.0, size=Y_IRIS.shape[0])

CV3 = KFold(3, shuffle=True, random_state=0)


def _proba_by_hand(metric, estimator, X, y, sample_weight=None):
    proba = estimator.predict_proba(X)
    return metric(y, proba, labels=estimator.classes_, sample_weight=sample_weight)


def _mean_std_by_hand(metric, estimator, X, y, sample_weight=None):
    mean, std = estimator.predict(X, return_std=True)
    return metric(y, mean, std, sample_weight=sample_weight)


# --------------------------------------------------------------------------
# Names, objects, repr, pickling
# --------------------------------------------------------------------------


def test_public_names():
    for name in [
        "get_scorer",
        "get_scorer_names",
        "make_divergence_scorer",
        "neg_cross_entropy_scorer",
        "neg_kl_divergence_scorer",
        "neg_gaussian_nll_scorer",
        "neg_gaussian_crps_scorer",
    ]:
        assert name in skdiv.__all__
        assert getattr(skdiv, name) is getattr(skdiv.metrics, name)


def test_get_scorer_names_lists_both_sorted():
    names = get_scorer_names()
    assert names == sorted(names)
    assert set(SKDIV_NAMES) <= set(names)
    assert set(sklearn.metrics.get_scorer_names()) <= set(names)


@pytest.mark.parametrize(
    "name, instance, text",
    [
        ("neg_cross_entropy", neg_cross_entropy_scorer,
         "make_divergence_scorer(cross_entropy, response='proba')"),
        ("neg_kl_divergence", neg_kl_divergence_scorer,
         "make_divergence_scorer(kl_divergence, response='proba')"),
        ("neg_gaussian_nll", neg_gaussian_nll_scorer,
         "make_divergence_scorer(gaussian_nll, response='mean_std')"),
        ("neg_gaussian_crps", neg_gaussian_crps_scorer,
         "make_divergence_scorer(gaussian_crps, response='mean_std')"),
    ],
)
def test_get_scorer_returns_copies_with_readable_repr(name, instance, text):
    scorer = get_scorer(name)
    assert scorer is not instance and scorer is not get_scorer(name)
    assert repr(scorer) == repr(instance) == text
    assert repr(pickle.loads(pickle.dumps(instance))) == text
    assert scorer._sign == -1


def test_get_scorer_falls_back_to_scikit_learn():
    assert repr(get_scorer("accuracy")) == repr(sklearn_get_scorer("accuracy"))
    assert get_scorer(None) is None
    assert get_scorer(neg_kl_divergence_scorer) is neg_kl_divergence_scorer
    scoring = {name: get_scorer(name) for name in ["neg_kl_divergence", "accuracy"]}
    scores = check_scoring(LogisticRegression(), scoring)(
        LogisticRegression().fit(X_IRIS, Y_IRIS), X_IRIS, Y_IRIS
    )
    assert set(scores) == {"neg_kl_divergence", "accuracy"}


def test_make_divergence_scorer_variants():
    clf = LogisticRegression().fit(X_IRIS, Y_IRIS)
    bits = make_divergence_scorer(kl_divergence, base=2)
    assert repr(bits) == (
        "make_divergence_scorer(kl_divergence, response='proba', base=2)"
    )
    assert_allclose(bits(clf, X_IRIS, Y_IRIS),
                    neg_kl_divergence_scorer(clf, X_IRIS, Y_IRIS) / np.log(2),
                    rtol=1e-12)
    # A score (greater is better) keeps its sign.
    plus = make_divergence_scorer(cross_entropy, greater_is_better=True)
    assert plus(clf, X_IRIS, Y_IRIS) == -neg_cross_entropy_scorer(clf, X_IRIS, Y_IRIS)
    assert "greater_is_better=True" in repr(plus)

    # A user's own metric of mean and std, response inferred from its arity.
    def interval_width(y_true, y_mean, y_std, *, sample_weight=None):
        return float(np.average(2 * 1.645 * y_std, weights=sample_weight))

    width = make_divergence_scorer(interval_width)
    assert "response='mean_std'" in repr(width)
    reg = BayesianRidge().fit(X_REG, Y_REG)
    assert_allclose(width(reg, X_REG, Y_REG),
                    -2 * 1.645 * reg.predict(X_REG, return_std=True)[1].mean())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"metric": kl_divergence, "labels": [0, 1]}, ValueError,
         "labels is set by the scorer"),
        ({"metric": kl_divergence, "response": "decision"}, ValueError,
         "response must be one of"),
        ({"metric": gaussian_kl}, ValueError, "Cannot tell which predictions"),
        ({"metric": kl_divergence, "bse": 2}, TypeError,
         r"kl_divergence does not accept.*\['bse'\]"),
        ({"metric": "kl_divergence"}, TypeError, "metric must be callable"),
    ],
    ids=["labels", "bad-response", "uninferable", "typo-kwarg", "not-callable"],
)
def test_make_divergence_scorer_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_divergence_scorer(**kwargs)


# --------------------------------------------------------------------------
# cross_validate: scores equal the metrics applied by hand to every fold
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator, X, y",
    [
        (LogisticRegression(), X_IRIS, Y_IRIS),
        (LogisticRegression(), X_BIN, Y_BIN),
        (DivergenceClassifier(alpha=1e-2), X_IRIS, Y_IRIS),
        (DivergenceClassifier(alpha=1e-2), X_IRIS, Y_SOFT),
        (DivergenceClassifier(alpha=1e-2), X_BIN, Y_BIN_SOFT),
        (make_pipeline(StandardScaler(), LogisticRegression()), X_BIN, Y_BIN),
    ],
    ids=["logreg-multiclass", "logreg-binary", "divergence-hard",
         "divergence-soft", "divergence-soft-binary", "pipeline"],
)
def test_cross_validate_classification_scores_match_metrics(estimator, X, y):
    soft = y.ndim == 2
    scoring = {"kl": neg_kl_divergence_scorer, "ce": neg_cross_entropy_scorer}
    if not soft:
        scoring.update(log_loss="neg_log_loss", accuracy="accuracy")
    cv = cross_validate(estimator, X, y, cv=CV3, scoring=scoring,
                        return_estimator=True, return_indices=True,
                        error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        X_test, y_test = X[test], y[test]
        kl = _proba_by_hand(kl_divergence, fitted, X_test, y_test)
        ce = _proba_by_hand(cross_entropy, fitted, X_test, y_test)
        assert_allclose(-cv["test_kl"][fold], kl, rtol=1e-12)
        assert_allclose(-cv["test_ce"][fold], ce, rtol=1e-12)
        if soft:
            # CE - KL is the held-out targets' entropy, fold by fold.
            assert_allclose(cv["test_kl"][fold] - cv["test_ce"][fold],
                            entropy(y_test), rtol=0, atol=1e-12)
        else:
            assert_allclose(cv["test_kl"][fold], cv["test_log_loss"][fold],
                            rtol=0, atol=1e-12)
            assert_allclose(cv["test_ce"][fold], cv["test_log_loss"][fold],
                            rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "estimator",
    [
        BayesianRidge(),
        ARDRegression(),
        GaussianRegressor(),
        GaussianProcessRegressor(RBF() + WhiteKernel(), normalize_y=True),
        make_pipeline(StandardScaler(), BayesianRidge()),
        make_pipeline(StandardScaler(), GaussianRegressor()),
    ],
    ids=["bayesian-ridge", "ard", "gaussian-regressor", "gp",
         "pipeline-bayesian-ridge", "pipeline-gaussian-regressor"],
)
def test_cross_validate_regression_scores_match_metrics(estimator):
    scoring = {"nll": neg_gaussian_nll_scorer, "crps": neg_gaussian_crps_scorer,
               "r2": "r2"}
    cv = cross_validate(estimator, X_REG, Y_REG, cv=CV3, scoring=scoring,
                        return_estimator=True, return_indices=True,
                        error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        X_test, y_test = X_REG[test], Y_REG[test]
        assert_allclose(-cv["test_nll"][fold],
                        _mean_std_by_hand(gaussian_nll, fitted, X_test, y_test),
                        rtol=1e-12)
        assert_allclose(-cv["test_crps"][fold],
                        _mean_std_by_hand(gaussian_crps, fitted, X_test, y_test),
                        rtol=1e-12)
    assert np.all(cv["test_r2"] > 0.2)


@pytest.mark.parametrize(
    "estimator",
    [
        RandomForestClassifier(n_estimators=10, random_state=0),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        LogisticRegression(),
        DivergenceClassifier(),
    ],
    ids=["random-forest", "hist-gradient-boosting", "logreg", "divergence"],
)
@pytest.mark.parametrize("X, y", [(X_IRIS, Y_IRIS), (X_BIN, Y_BIN)],
                         ids=["multiclass", "binary"])
def test_hard_labels_kl_equals_ce_equals_neg_log_loss(estimator, X, y):
    # One OpenMP thread: HistGradientBoosting's default of one per core is
    # slower than one on these tiny problems, badly so on a busy machine.
    with threadpool_limits(limits=1, user_api="openmp"):
        cv = cross_validate(
            estimator, X, y, cv=3,
            scoring={"kl": neg_kl_divergence_scorer, "ce": neg_cross_entropy_scorer,
                     "log_loss": "neg_log_loss"},
            error_score="raise",
        )
    assert_allclose(cv["test_kl"], cv["test_log_loss"], rtol=0, atol=1e-12)
    assert_allclose(cv["test_ce"], cv["test_log_loss"], rtol=0, atol=1e-12)
    assert np.all(cv["test_kl"] < 0)


def test_cross_val_score():
    estimator = DivergenceClassifier(alpha=1e-2)
    for scorer in (neg_kl_divergence_scorer, neg_cross_entropy_scorer):
        scores = cross_val_score(estimator, X_IRIS, Y_SOFT, cv=CV3, scoring=scorer,
                                 error_score="raise")
        cv = cross_validate(estimator, X_IRIS, Y_SOFT, cv=CV3, scoring=scorer)
        assert_array_equal(scores, cv["test_score"])
    scores = cross_val_score(BayesianRidge(), X_REG, Y_REG, cv=CV3,
                             scoring=neg_gaussian_crps_scorer, error_score="raise")
    assert scores.shape == (3,) and np.all(scores < 0)


def test_test_fold_without_a_class_still_scores():
    clf = LogisticRegression().fit(X_IRIS, Y_IRIS)
    part = Y_IRIS < 2  # class 2 absent from the scored rows
    expected = log_loss(Y_IRIS[part], clf.predict_proba(X_IRIS[part]),
                        labels=clf.classes_)
    for scorer in (neg_kl_divergence_scorer, neg_cross_entropy_scorer):
        assert_allclose(scorer(clf, X_IRIS[part], Y_IRIS[part]), -expected,
                        rtol=1e-12)


def test_unsorted_classes_are_sorted_as_scikit_learns():
    # classes_ kept the order of classes=[2, 0, 1], and scikit-learn's tools
    # read predict_proba's columns in sorted order: neg_log_loss -7.6 and
    # roc_auc 0.014 for a model whose own are -0.14 and 0.99, soft voting
    # wrong. classes is a set of labels; classes_ is sorted.
    clf = DivergenceClassifier(classes=[2, 0, 1]).fit(X_IRIS, Y_IRIS)
    default = DivergenceClassifier().fit(X_IRIS, Y_IRIS)
    assert_array_equal(clf.classes_, [0, 1, 2])
    assert_allclose(clf.predict_proba(X_IRIS), default.predict_proba(X_IRIS),
                    rtol=0, atol=1e-14)
    proba = default.predict_proba(X_IRIS)
    assert_allclose(sklearn_get_scorer("neg_log_loss")(clf, X_IRIS, Y_IRIS),
                    -log_loss(Y_IRIS, proba), rtol=1e-12)
    assert_allclose(sklearn_get_scorer("roc_auc_ovr")(clf, X_IRIS, Y_IRIS),
                    roc_auc_score(Y_IRIS, proba, multi_class="ovr"), rtol=1e-12)
    for scorer in (neg_kl_divergence_scorer, neg_cross_entropy_scorer):
        assert_allclose(scorer(clf, X_IRIS, Y_IRIS), -log_loss(Y_IRIS, proba),
                        rtol=1e-12)
    # Positional soft labels are in classes_' (sorted) order: with classes
    # not sorted, which order they are in is ambiguous, and refused.
    with pytest.raises(ValueError, match=r"classes=\[2, 0, 1\] is not sorted"):
        DivergenceClassifier(classes=[2, 0, 1]).fit(X_IRIS, Y_SOFT)
    soft = DivergenceClassifier(classes=[0, 1, 2]).fit(X_IRIS, Y_SOFT)
    assert_allclose(neg_cross_entropy_scorer(soft, X_IRIS, Y_SOFT),
                    -cross_entropy(Y_SOFT, soft.predict_proba(X_IRIS)), rtol=1e-12)
    # partial_fit takes classes as a set too, as SGDClassifier's.
    stream = DivergenceClassifier().partial_fit(X_IRIS, Y_IRIS, classes=[2, 0, 1])
    stream.partial_fit(X_IRIS, Y_IRIS, classes=[1, 2, 0])
    assert_array_equal(stream.classes_, [0, 1, 2])
    reference = DivergenceClassifier().partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])
    reference.partial_fit(X_IRIS, Y_IRIS)
    assert_allclose(stream.coef_, reference.coef_, rtol=0, atol=1e-14)


# --------------------------------------------------------------------------
# Searches, curves, importances
# --------------------------------------------------------------------------


def test_grid_search_soft_labels_kl_and_ce_rank_alike():
    search = GridSearchCV(
        DivergenceClassifier(),
        {"alpha": [1e-4, 1e-2, 1e-1, 1.0]},
        cv=3,  # soft labels are "continuous-multioutput": KFold, not stratified
        scoring={"kl": get_scorer("neg_kl_divergence"),
                 "ce": get_scorer("neg_cross_entropy")},
        refit="kl",
        error_score="raise",
    ).fit(X_IRIS, Y_SOFT)
    results = search.cv_results_
    assert_array_equal(results["rank_test_kl"], results["rank_test_ce"])
    assert search.best_index_ == np.argmax(results["mean_test_kl"])
    # The gap is the mean held-out entropy, the same for every candidate.
    folds = KFold(3).split(X_IRIS)
    gap = np.mean([entropy(Y_SOFT[test]) for _, test in folds])
    assert_allclose(results["mean_test_kl"] - results["mean_test_ce"], gap,
                    rtol=0, atol=1e-12)
    # ``score`` of the search uses the refit scorer.
    assert_allclose(search.score(X_IRIS, Y_SOFT),
                    -kl_divergence(Y_SOFT, search.predict_proba(X_IRIS)),
                    rtol=1e-12)


def test_grid_search_pipeline_with_scikit_learn_strings():
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.01, 1.0]},
        cv=3,
        scoring={"ce": neg_cross_entropy_scorer, "log_loss": "neg_log_loss",
                 "accuracy": "accuracy"},
        refit="ce",
        error_score="raise",
    ).fit(X_IRIS, Y_IRIS)
    results = search.cv_results_
    assert_allclose(results["mean_test_ce"], results["mean_test_log_loss"],
                    rtol=0, atol=1e-12)
    assert search.best_params_ == {"logisticregression__C": 1.0}


def test_randomized_search_regression_refit_on_nll():
    search = RandomizedSearchCV(
        make_pipeline(StandardScaler(), GaussianRegressor()),
        {"gaussianregressor__variance": ["constant", "heteroscedastic"],
         "gaussianregressor__alpha": [1e-4, 1e-1]},
        n_iter=4,
        cv=3,
        random_state=0,
        scoring={"nll": neg_gaussian_nll_scorer, "crps": neg_gaussian_crps_scorer,
                 "r2": "r2"},
        refit="nll",
        error_score="raise",
    ).fit(X_REG, Y_REG)
    results = search.cv_results_
    assert search.best_index_ == np.argmax(results["mean_test_nll"])
    # The noise grows with x0: a heteroscedastic model has the better NLL.
    assert search.best_params_["gaussianregressor__variance"] == "heteroscedastic"
    assert_allclose(search.score(X_REG, Y_REG),
                    -_mean_std_by_hand(gaussian_nll, search.best_estimator_,
                                       X_REG, Y_REG), rtol=1e-12)


def test_learning_and_validation_curves():
    sizes, train, test = learning_curve(
        DivergenceClassifier(), X_IRIS, Y_SOFT, cv=CV3,
        train_sizes=[0.3, 1.0], scoring=neg_kl_divergence_scorer,
        error_score="raise",
    )
    assert train.shape == test.shape == (2, 3)
    assert np.all(test <= 0) and np.all(np.isfinite(test))

    train, test = validation_curve(
        BayesianRidge(), X_REG, Y_REG, param_name="alpha_init",
        param_range=[0.1, 1.0], cv=CV3, scoring=neg_gaussian_crps_scorer,
        error_score="raise",
    )
    assert train.shape == test.shape == (2, 3)
    assert np.all(test < 0)


def test_permutation_importance_finds_the_informative_features():
    clf = DivergenceClassifier().fit(X_BIN, Y_BIN_SOFT)
    result = permutation_importance(clf, X_BIN, Y_BIN_SOFT, n_repeats=3,
                                    random_state=0,
                                    scoring=neg_kl_divergence_scorer)
    assert result.importances.shape == (4, 3)
    assert result.importances_mean.max() > 0.1

    reg = BayesianRidge().fit(X_REG, Y_REG)
    result = permutation_importance(
        reg, X_REG, Y_REG, n_repeats=3, random_state=0,
        scoring={"nll": neg_gaussian_nll_scorer, "crps": neg_gaussian_crps_scorer},
    )
    assert np.argmax(result["nll"].importances_mean) == 0
    assert np.argmin(result["crps"].importances_mean) == 2  # x2 is noise


# --------------------------------------------------------------------------
# Sample weights, with metadata routing off and on
# --------------------------------------------------------------------------


def test_direct_call_weights_the_score():
    clf = LogisticRegression().fit(X_IRIS, Y_IRIS)
    reg = BayesianRidge().fit(X_REG, Y_REG)
    for scorer, metric in [(neg_kl_divergence_scorer, kl_divergence),
                           (neg_cross_entropy_scorer, cross_entropy)]:
        assert_allclose(scorer(clf, X_IRIS, Y_IRIS, sample_weight=W_IRIS),
                        -_proba_by_hand(metric, clf, X_IRIS, Y_IRIS, W_IRIS),
                        rtol=1e-12)
    for scorer, metric in [(neg_gaussian_nll_scorer, gaussian_nll),
                           (neg_gaussian_crps_scorer, gaussian_crps)]:
        weighted = scorer(reg, X_REG, Y_REG, sample_weight=W_REG)
        assert_allclose(weighted,
                        -_mean_std_by_hand(metric, reg, X_REG, Y_REG, W_REG),
                        rtol=1e-12)
        assert not np.isclose(weighted, scorer(reg, X_REG, Y_REG))


def _folds(n):
    return list(KFold(3, shuffle=True, random_state=0).split(np.zeros(n)))


@pytest.mark.skipif(not SEARCH_FORWARDS_WEIGHTS,
                    reason="searches forward sample_weight to scorers from 1.7")
def test_grid_search_weights_scores_with_routing_off():
    folds = _folds(len(Y_IRIS))
    search = GridSearchCV(
        DivergenceClassifier(alpha=1e-2), {"loss": ["cross_entropy"]}, cv=folds,
        scoring={"kl": neg_kl_divergence_scorer, "ce": neg_cross_entropy_scorer},
        refit=False, error_score="raise",
    ).fit(X_IRIS, Y_SOFT, sample_weight=W_IRIS)
    for i, (train, test) in enumerate(folds):
        fitted = DivergenceClassifier(alpha=1e-2).fit(
            X_IRIS[train], Y_SOFT[train], sample_weight=W_IRIS[train]
        )
        for key, metric in [("kl", kl_divergence), ("ce", cross_entropy)]:
            expected = _proba_by_hand(metric, fitted, X_IRIS[test], Y_SOFT[test],
                                      W_IRIS[test])
            assert_allclose(-search.cv_results_[f"split{i}_test_{key}"][0],
                            expected, rtol=1e-10)


def test_cross_validate_weights_scores_with_routing_on():
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = {
            "kl": get_scorer("neg_kl_divergence").set_score_request(
                sample_weight=True),
            "ce": get_scorer("neg_cross_entropy").set_score_request(
                sample_weight=True),
        }
        estimator = DivergenceClassifier(alpha=1e-2).set_fit_request(
            sample_weight=True)
        cv = cross_validate(estimator, X_IRIS, Y_SOFT, cv=CV3, scoring=scoring,
                            params={"sample_weight": W_IRIS},
                            return_estimator=True, return_indices=True,
                            error_score="raise")
    for fold, (fitted, test) in enumerate(
        zip(cv["estimator"], cv["indices"]["test"], strict=True)
    ):
        for key, metric in [("kl", kl_divergence), ("ce", cross_entropy)]:
            expected = _proba_by_hand(metric, fitted, X_IRIS[test], Y_SOFT[test],
                                      W_IRIS[test])
            assert_allclose(-cv[f"test_{key}"][fold], expected, rtol=1e-12)
    # The module's instances were not touched by set_score_request on copies.
    assert neg_kl_divergence_scorer.get_metadata_routing().score.requests.get(
        "sample_weight") is not True


def test_grid_search_weights_scores_with_routing_on():
    folds = _folds(len(Y_REG))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_gaussian_nll").set_score_request(
            sample_weight=True)
        search = GridSearchCV(
            BayesianRidge().set_fit_request(sample_weight=True),
            {"alpha_init": [None]}, cv=folds, scoring=scorer,
            error_score="raise",
        ).fit(X_REG, Y_REG, sample_weight=W_REG)
    for i, (train, test) in enumerate(folds):
        fitted = BayesianRidge().fit(X_REG[train], Y_REG[train],
                                     sample_weight=W_REG[train])
        expected = _mean_std_by_hand(gaussian_nll, fitted, X_REG[test],
                                     Y_REG[test], W_REG[test])
        assert_allclose(-search.cv_results_[f"split{i}_test_score"][0], expected,
                        rtol=1e-10)


def test_routing_on_leaves_fit_metadata_to_the_estimator():
    # y_std is fit metadata of GaussianRegressor(loss="kl_divergence") and a
    # data argument of gaussian_nll: the scorer must not claim it.
    y_std = np.full_like(Y_REG, 0.5)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = make_pipeline(
            StandardScaler(),
            GaussianRegressor(loss="kl_divergence").set_fit_request(y_std=True),
        )
        scores = cross_val_score(estimator, X_REG, Y_REG, cv=CV3,
                                 scoring=neg_gaussian_nll_scorer,
                                 params={"y_std": y_std}, error_score="raise")
    assert np.all(np.isfinite(scores))


# --------------------------------------------------------------------------
# Caching, pickling, parallel searches
# --------------------------------------------------------------------------

CALLS = []


class CountingBayesianRidge(BayesianRidge):
    def predict(self, X, return_std=False):
        CALLS.append(return_std)
        return super().predict(X, return_std=return_std)


class CountingLogisticRegression(LogisticRegression):
    def predict_proba(self, X):
        CALLS.append("predict_proba")
        return super().predict_proba(X)


def test_multimetric_scoring_predicts_once_per_response():
    clf = CountingLogisticRegression().fit(X_BIN, Y_BIN)
    scoring = check_scoring(clf, {"kl": neg_kl_divergence_scorer,
                                  "ce": neg_cross_entropy_scorer,
                                  "log_loss": "neg_log_loss"})
    CALLS.clear()
    scores = scoring(clf, X_BIN, Y_BIN)
    assert CALLS == ["predict_proba"]  # shared with scikit-learn's scorer
    assert_allclose(scores["kl"], scores["log_loss"], rtol=0, atol=1e-12)


def test_multimetric_scoring_predicts_mean_and_std_once():
    reg = CountingBayesianRidge().fit(X_REG, Y_REG)
    scoring = check_scoring(reg, {"nll": neg_gaussian_nll_scorer,
                                  "crps": neg_gaussian_crps_scorer,
                                  "r2": "r2", "mse": "neg_mean_squared_error"})
    CALLS.clear()
    scores = scoring(reg, X_REG, Y_REG)
    assert sorted(CALLS) == [False, True]  # one mean-only call, one with std
    assert_allclose(scores["nll"], neg_gaussian_nll_scorer(reg, X_REG, Y_REG))
    assert_allclose(scores["r2"], sklearn_get_scorer("r2")(reg, X_REG, Y_REG))


def test_pickled_search_and_parallel_search():
    search = GridSearchCV(
        DivergenceClassifier(), {"alpha": [1e-3, 1e-1]}, cv=3,
        scoring={"kl": neg_kl_divergence_scorer, "accuracy": "accuracy"},
        refit="kl", n_jobs=2, error_score="raise",
    ).fit(X_BIN, Y_BIN)
    serial = GridSearchCV(
        DivergenceClassifier(), {"alpha": [1e-3, 1e-1]}, cv=3,
        scoring={"kl": neg_kl_divergence_scorer, "accuracy": "accuracy"},
        refit="kl", error_score="raise",
    ).fit(X_BIN, Y_BIN)
    assert_allclose(search.cv_results_["mean_test_kl"],
                    serial.cv_results_["mean_test_kl"], rtol=1e-12)

    loaded = pickle.loads(pickle.dumps(search))
    assert repr(loaded.scorer_["kl"]) == repr(neg_kl_divergence_scorer)
    assert loaded.score(X_BIN, Y_BIN) == search.score(X_BIN, Y_BIN)
    assert_allclose(loaded.score(X_BIN, Y_BIN),
                    -log_loss(Y_BIN, search.predict_proba(X_BIN)), rtol=1e-12)


# --------------------------------------------------------------------------
# Bad input: clear errors
# --------------------------------------------------------------------------


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'neg_kl_divergenc' is not a valid") as info:
        get_scorer("neg_kl_divergenc")
    message = str(info.value)
    assert "Did you mean 'neg_kl_divergence'?" in message
    for name in SKDIV_NAMES + ["accuracy", "neg_log_loss"]:
        assert name in message


@pytest.mark.parametrize(
    "estimator, match",
    [
        (LinearSVC(), r"LinearSVC has no predict_proba method"),
        (make_pipeline(StandardScaler(), LinearSVC()),
         r"Pipeline \(last step LinearSVC\) has no predict_proba method"),
    ],
    ids=["linear-svc", "pipeline"],
)
def test_classifier_without_predict_proba(estimator, match):
    with pytest.raises(AttributeError, match="kl_divergence scorer needs predicted"):
        cross_val_score(estimator, X_BIN, Y_BIN, cv=3,
                        scoring=neg_kl_divergence_scorer, error_score="raise")
    estimator.fit(X_BIN, Y_BIN)
    with pytest.raises(AttributeError, match=match):
        neg_cross_entropy_scorer(estimator, X_BIN, Y_BIN)


@pytest.mark.parametrize(
    "estimator, match",
    [
        (LinearRegression(), r"LinearRegression\.predict has no return_std"),
        (make_pipeline(StandardScaler(), LinearRegression()),
         r"LinearRegression\.predict has no return_std"),
        (LogisticRegression(), r"LogisticRegression\.predict has no return_std"),
    ],
    ids=["linear-regression", "pipeline", "classifier"],
)
def test_regressor_without_return_std(estimator, match):
    y = Y_BIN if isinstance(estimator, LogisticRegression) else X_BIN[:, 0]
    with pytest.raises(TypeError, match=match):
        cross_val_score(estimator, X_BIN, y, cv=3,
                        scoring=neg_gaussian_nll_scorer, error_score="raise")


def test_soft_labels_that_do_not_sum_to_one():
    clf = DivergenceClassifier().fit(X_IRIS, Y_SOFT)
    bad = Y_SOFT.copy()
    bad[5] *= 1.2
    for scorer in (neg_kl_divergence_scorer, neg_cross_entropy_scorer):
        with pytest.raises(ValueError, match=re.escape("row 5 sums to")):
            scorer(clf, X_IRIS, bad)


def test_soft_labels_of_the_wrong_width():
    clf = DivergenceClassifier().fit(X_IRIS, Y_SOFT)
    two_columns = Y_SOFT[:, :2] / Y_SOFT[:, :2].sum(axis=1, keepdims=True)
    with pytest.raises(ValueError, match="must have the same width"):
        neg_kl_divergence_scorer(clf, X_IRIS, two_columns)


def _sample_weight_request(scorer):
    return scorer.get_metadata_routing().score.requests.get("sample_weight")


@pytest.mark.parametrize(
    "lookup, name, module_scorer",
    [
        (sklearn_get_scorer, "neg_log_loss",
         lambda: SKLEARN_SCORERS["neg_log_loss"]),
        (get_scorer, "neg_kl_divergence", lambda: neg_kl_divergence_scorer),
    ],
    ids=["scikit-learn", "skdiv"],
)
def test_set_score_request_follows_scikit_learn(lookup, name, module_scorer):
    # Issue 17 defect 10, with scikit-learn's own registry as the reference:
    # the lookup hands out copies, so a request on one leaves the registry's
    # object alone; the registry's object itself is an ordinary mutable
    # scorer (set_score_request returns it, and later copies inherit it).
    with sklearn.config_context(enable_metadata_routing=True):
        shared = module_scorer()
        copy = lookup(name)
        assert copy is not shared
        assert copy.set_score_request(sample_weight=True) is copy
        assert _sample_weight_request(copy) is True
        assert _sample_weight_request(shared) is None
        assert _sample_weight_request(lookup(name)) is None
        try:
            assert shared.set_score_request(sample_weight=False) is shared
            assert _sample_weight_request(lookup(name)) is False
        finally:
            shared.set_score_request(sample_weight=None)
        assert _sample_weight_request(lookup(name)) is None


def test_soft_label_frames_score_by_column_name():
    # A soft-label DataFrame's columns name their classes: fit matches them
    # to classes= by name, and so must score() and the scorers (they took the
    # columns by position, so a model fitted with classes in another order
    # than the frame's columns scored against the wrong columns: accuracy
    # 0.33 and cross-entropy 4.5 where the model's own are 1.0 and 0.45).
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    logits = 2 * X @ rng.normal(size=(3, 3))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(P, columns=["c", "a", "b"])
    weight = rng.uniform(0.5, 2.0, size=90)
    order = [1, 2, 0]  # classes_ = ["a", "b", "c"], sorted
    cv = KFold(3)
    clf = DivergenceClassifier(classes=["c", "b", "a"])
    result = cross_validate(clf, X, frame, cv=cv,
                            scoring={"ce": neg_cross_entropy_scorer})
    own = cross_validate(clf, X, frame, cv=cv)["test_score"]
    for k, (train, test) in enumerate(cv.split(X)):
        model = DivergenceClassifier(classes=["c", "b", "a"]).fit(
            X[train], frame.iloc[train]
        )
        proba = model.predict_proba(X[test])
        target = P[test][:, order]
        assert_allclose(result["test_ce"][k],
                        np.mean(np.sum(target * np.log(proba), axis=1)), rtol=1e-12)
        accuracy = np.mean(target.argmax(axis=1) == proba.argmax(axis=1))
        assert own[k] == accuracy
        assert_allclose(
            model.score(X[test], frame.iloc[test], sample_weight=weight[test]),
            np.average(target.argmax(axis=1) == proba.argmax(axis=1),
                       weights=weight[test]),
            rtol=1e-12,
        )
    # The metrics match the frame's columns to labels the same way.
    model = clf.fit(X, frame)
    proba = model.predict_proba(X)
    for metric in (cross_entropy, kl_divergence, skdiv.metrics.brier_score,
                   skdiv.metrics.expected_calibration_error):
        assert_allclose(metric(frame, proba, labels=model.classes_),
                        metric(P[:, order], proba), rtol=1e-12)
    with pytest.raises(ValueError, match=r"columns \['c', 'a', 'b'\] are not"):
        cross_entropy(frame, proba, labels=["x", "y", "z"])


def test_mean_std_scorers_score_a_fitted_search_by_its_best_estimator():
    # Nested cross-validation, cross_validate(GridSearchCV(...), scoring=...):
    # the outer scorer called the search's predict(X, return_std=True), which
    # the search does not take, so every outer fold scored NaN (with a
    # warning). A fitted search predicts with best_estimator_, and so does
    # the scorer now.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = X @ [1.0, 2.0, 0.0] + rng.normal(size=150) * (1 + np.abs(X[:, 2]))
    inner, outer = KFold(3), KFold(3, shuffle=True, random_state=0)
    grid = {"alpha": [1e-4, 1e-1]}
    search = GridSearchCV(GaussianRegressor(), grid, cv=inner,
                          scoring=neg_gaussian_nll_scorer)
    scoring = {"nll": neg_gaussian_nll_scorer, "crps": neg_gaussian_crps_scorer}
    result = cross_validate(search, X, y, cv=outer, scoring=scoring,
                            error_score="raise")
    for k, (train, test) in enumerate(outer.split(X)):
        best = GridSearchCV(GaussianRegressor(), grid, cv=inner,
                            scoring=neg_gaussian_nll_scorer).fit(X[train], y[train])
        mean, std = best.best_estimator_.predict(X[test], return_std=True)
        z = (y[test] - mean) / std
        assert_allclose(result["test_nll"][k],
                        -np.mean(0.5 * np.log(2 * np.pi * std**2) + 0.5 * z**2),
                        rtol=1e-12)
        assert_allclose(result["test_crps"][k],
                        -gaussian_crps(y[test], mean, std), rtol=1e-12)
    # Without a refitted estimator there is nothing to predict with.
    unrefitted = GridSearchCV(GaussianRegressor(), grid, cv=inner, refit=False)
    with pytest.raises(AttributeError, match="GridSearchCV has no predict method"):
        neg_gaussian_nll_scorer(unrefitted.fit(X, y), X, y)


def test_mean_std_scorers_take_a_one_column_target():
    # The regressors fit a one-column y (a DataFrame with one target column,
    # with scikit-learn's DataConversionWarning) and scikit-learn's r2
    # scorer reads it, but the Gaussian metrics refused it as multi-output,
    # so every skdiv scorer of such a cross_validate was NaN.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, 2.0, 0.0] + rng.normal(size=60)
    names = ["neg_gaussian_nll", "neg_gaussian_crps", "neg_interval_score",
             "neg_pit_calibration_error", "neg_mean_standardized_log_loss"]
    scoring = {name: get_scorer(name) for name in names}
    cv = KFold(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        result = cross_validate(GaussianRegressor(), X, pd.DataFrame({"t": y}),
                                cv=cv, scoring=scoring, error_score="raise")
    for k, (train, test) in enumerate(cv.split(X)):
        mean, std = GaussianRegressor().fit(X[train], y[train]).predict(
            X[test], return_std=True
        )
        z = (y[test] - mean) / std
        assert_allclose(result["test_neg_gaussian_nll"][k],
                        -np.mean(0.5 * np.log(2 * np.pi * std**2) + 0.5 * z**2),
                        rtol=1e-12)
        for name, metric in zip(names[1:], (
            gaussian_crps, skdiv.metrics.interval_score,
            skdiv.metrics.pit_calibration_error,
            skdiv.metrics.mean_standardized_log_loss,
        ), strict=True):
            assert_allclose(result[f"test_{name}"][k],
                            -metric(y[test], mean, std), rtol=1e-12)
    # A column of targets and of means, as LinearRegression fitted on one
    # column predicts.
    column = y[:, None]
    assert gaussian_nll(column, column + 1, 2.0) == gaussian_nll(y, y + 1, 2.0)
