"""SoftStratifiedKFold and RepeatedSoftStratifiedKFold: folds, seeds, use as cv=."""

import re

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.preprocessing import StandardScaler

from skdiv import DivergenceClassifier
from skdiv.metrics import (
    get_scorer,
    kl_divergence,
    neg_expected_calibration_error_scorer,
    neg_kl_divergence_scorer,
    neg_multiclass_brier_score_scorer,
)
from skdiv.model_selection import RepeatedSoftStratifiedKFold, SoftStratifiedKFold

RNG = np.random.default_rng(0)
N = 103  # not a multiple of the number of folds
Y_HARD = RNG.choice(4, size=N, p=[0.5, 0.25, 0.15, 0.1])
# Soft labels whose argmax is Y_HARD: more than half the mass on the label.
_peak = RNG.uniform(0.5, 0.9, size=N)
_rest = RNG.dirichlet([1.0] * 3, size=N) * (1 - _peak)[:, None] * 0.99
Y_SOFT = np.empty((N, 4))
for i in range(N):
    others = [k for k in range(4) if k != Y_HARD[i]]
    Y_SOFT[i, others] = _rest[i]
    Y_SOFT[i, Y_HARD[i]] = 1 - _rest[i].sum()
X = RNG.normal(size=(N, 2))


def _iris_sorted_soft():
    X, y = load_iris(return_X_y=True)  # sorted by class
    X = StandardScaler().fit_transform(X)
    soft = 0.7 * np.eye(3)[y] + 0.1
    return X, y, soft


def _assert_partition(folds, n):
    tests = np.concatenate([test for _, test in folds])
    assert_array_equal(np.sort(tests), np.arange(n))  # each row tested once
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == n


def test_public_import():
    import skdiv.model_selection as ms

    assert ms.__all__ == ["RepeatedSoftStratifiedKFold", "SoftStratifiedKFold"]
    assert issubclass(SoftStratifiedKFold, StratifiedKFold)


def test_argmax_has_the_hard_labels():
    assert_array_equal(Y_SOFT.argmax(axis=1), Y_HARD)
    assert np.allclose(Y_SOFT.sum(axis=1), 1, atol=1e-12)


@pytest.mark.parametrize("n_splits", [2, 5, 10])
@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0), (True, 42)])
def test_every_fold_holds_every_class_in_proportion(n_splits, shuffle, seed):
    cv = SoftStratifiedKFold(n_splits, shuffle=shuffle, random_state=seed)
    folds = list(cv.split(X, Y_SOFT))
    assert len(folds) == cv.get_n_splits() == n_splits
    _assert_partition(folds, N)
    counts = np.bincount(Y_HARD, minlength=4)
    for _, test in folds:
        in_fold = np.bincount(Y_HARD[test], minlength=4)
        # Each class's share of a fold is its share of the data, to one sample.
        assert np.all(in_fold >= np.floor(counts / n_splits))
        assert np.all(in_fold <= np.ceil(counts / n_splits))
        assert abs(test.size - N / n_splits) < 1


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0), (True, 7)])
def test_hard_labels_and_soft_labels_give_stratified_k_fold(shuffle, seed):
    reference = list(StratifiedKFold(5, shuffle=shuffle, random_state=seed)
                     .split(X, Y_HARD))
    for y in (Y_HARD, Y_SOFT, Y_HARD.astype(str)):
        folds = list(SoftStratifiedKFold(5, shuffle=shuffle, random_state=seed)
                     .split(X, y))
        for (train, test), (ref_train, ref_test) in zip(folds, reference,
                                                        strict=True):
            assert_array_equal(train, ref_train)
            assert_array_equal(test, ref_test)


def test_random_state_semantics_follow_stratified_k_fold():
    def tests(cv):
        return [test.tolist() for _, test in cv.split(X, Y_SOFT)]

    seeded = SoftStratifiedKFold(5, shuffle=True, random_state=3)
    assert tests(seeded) == tests(seeded)  # an int: same folds every call
    assert tests(seeded) != tests(SoftStratifiedKFold(5, shuffle=True,
                                                      random_state=4))
    assert tests(seeded) != tests(SoftStratifiedKFold(5))
    # A RandomState instance advances: another call, other folds (as for
    # StratifiedKFold with the same generator state).
    ours = SoftStratifiedKFold(5, shuffle=True,
                               random_state=np.random.RandomState(0))
    theirs = StratifiedKFold(5, shuffle=True, random_state=np.random.RandomState(0))
    first, second = tests(ours), tests(ours)
    assert first != second
    assert first == [t.tolist() for _, t in theirs.split(X, Y_HARD)]
    assert second == [t.tolist() for _, t in theirs.split(X, Y_HARD)]
    with pytest.raises(ValueError, match="Setting a random_state has no effect"):
        SoftStratifiedKFold(5, random_state=0)


def test_repeated_matches_repeated_stratified_k_fold():
    ours = RepeatedSoftStratifiedKFold(n_splits=4, n_repeats=3, random_state=5)
    theirs = RepeatedStratifiedKFold(n_splits=4, n_repeats=3, random_state=5)
    assert ours.get_n_splits() == theirs.get_n_splits() == 12
    assert repr(ours) == repr(theirs).replace("Repeated", "RepeatedSoft")
    reference = list(theirs.split(X, Y_HARD))
    for y in (Y_HARD, Y_SOFT):
        folds = list(ours.split(X, y))
        assert len(folds) == 12
        for (train, test), (ref_train, ref_test) in zip(folds, reference,
                                                        strict=True):
            assert_array_equal(train, ref_train)
            assert_array_equal(test, ref_test)
    for repeat in range(3):
        _assert_partition(folds[4 * repeat:4 * repeat + 4], N)
    assert folds[0][1].tolist() != folds[4][1].tolist()  # another shuffle


def test_repr():
    assert repr(SoftStratifiedKFold()) == (
        "SoftStratifiedKFold(n_splits=5, random_state=None, shuffle=False)"
    )
    assert repr(RepeatedSoftStratifiedKFold()) == (
        "RepeatedSoftStratifiedKFold(n_repeats=10, n_splits=5, random_state=None)"
    )


# --------------------------------------------------------------------------
# As cv= in scikit-learn's tools
# --------------------------------------------------------------------------


def test_sorted_iris_soft_labels_every_fold_has_every_class():
    X_iris, y_iris, soft = _iris_sorted_soft()
    scoring = {"kl": neg_kl_divergence_scorer,
               "ece": neg_expected_calibration_error_scorer,
               "brier": neg_multiclass_brier_score_scorer}
    cv = cross_validate(DivergenceClassifier(alpha=1e-2), X_iris, soft,
                        cv=SoftStratifiedKFold(5), scoring=scoring,
                        return_indices=True, error_score="raise")
    for test in cv["indices"]["test"]:
        assert_array_equal(np.bincount(y_iris[test], minlength=3), [10, 10, 10])
    assert np.all(np.isfinite(cv["test_kl"])) and np.all(cv["test_kl"] < 0)
    assert np.all(cv["test_ece"] <= 0) and np.all(cv["test_brier"] < 0)

    # What cv=5 does with soft labels: unshuffled KFold, classes missing.
    assert type(check_cv(5, soft, classifier=True)) is KFold
    plain = cross_validate(DivergenceClassifier(alpha=1e-2), X_iris, soft, cv=5,
                           scoring=scoring, return_indices=True)
    n_classes = [np.unique(y_iris[test]).size for test in plain["indices"]["test"]]
    assert n_classes == [1, 2, 1, 2, 1]


def test_grid_search_and_cross_val_score_with_soft_labels():
    X_iris, _, soft = _iris_sorted_soft()
    search = GridSearchCV(
        DivergenceClassifier(), {"alpha": [1e-3, 1e-1]},
        cv=SoftStratifiedKFold(3, shuffle=True, random_state=0),
        scoring=neg_kl_divergence_scorer, error_score="raise",
    ).fit(X_iris, soft)
    assert search.n_splits_ == 3
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = cross_val_score(
        DivergenceClassifier(), X_iris, soft,
        cv=RepeatedSoftStratifiedKFold(n_splits=3, n_repeats=2, random_state=0),
        scoring=neg_kl_divergence_scorer, error_score="raise",
    )
    assert scores.shape == (6,) and np.all(np.isfinite(scores))


def test_hard_labels_in_a_third_party_classifier():
    X_iris, y_iris, _ = _iris_sorted_soft()
    ours = cross_val_score(LogisticRegression(), X_iris, y_iris,
                           cv=SoftStratifiedKFold(5, shuffle=True, random_state=1))
    theirs = cross_val_score(LogisticRegression(), X_iris, y_iris,
                             cv=StratifiedKFold(5, shuffle=True, random_state=1))
    assert_array_equal(ours, theirs)


def test_metadata_routing_on():
    X_iris, y_iris, soft = _iris_sorted_soft()
    weights = np.random.default_rng(2).uniform(0.5, 2.0, size=y_iris.shape[0])
    with sklearn.config_context(enable_metadata_routing=True):
        for cv in (SoftStratifiedKFold(3),
                   RepeatedSoftStratifiedKFold(n_splits=3, n_repeats=2,
                                               random_state=0)):
            scores = cross_validate(
                DivergenceClassifier().set_fit_request(sample_weight=True),
                X_iris, soft, cv=cv, params={"sample_weight": weights},
                scoring=get_scorer("neg_kl_divergence").set_score_request(
                    sample_weight=True),
                return_estimator=True, return_indices=True, error_score="raise",
            )
            assert scores["test_score"].shape == (cv.get_n_splits(),)
            for fitted, test, score in zip(scores["estimator"],
                                           scores["indices"]["test"],
                                           scores["test_score"], strict=True):
                assert score == -kl_divergence(soft[test],
                                               fitted.predict_proba(X_iris[test]),
                                               sample_weight=weights[test])


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([[0.5, 0.6]] * 10), re.escape("The rows of y must sum to one")),
        (np.array([[1.2, -0.2]] * 10), re.escape("y contains negative values")),
        (np.array([[0.5, np.nan]] * 10), "y contains NaN"),
        (np.array([["a", "b"]] * 10), "2-D numeric array of target probabilities"),
        (None, "SoftStratifiedKFold stratifies on y"),
        (np.linspace(0, 1, 10), "Supported target types are"),
    ],
    ids=["row-sum", "negative", "nan", "strings", "none", "continuous"],
)
def test_bad_targets(y, match):
    for cv in (SoftStratifiedKFold(2),
               RepeatedSoftStratifiedKFold(n_splits=2, n_repeats=2)):
        with pytest.raises(ValueError, match=match.replace("SoftStratifiedKFold",
                                                           ".*SoftStratifiedKFold")):
            next(cv.split(np.zeros((10, 1)), y))


def test_too_few_members_per_class():
    y = np.array([[0.9, 0.1]] * 3 + [[0.1, 0.9]] * 3)
    with pytest.raises(ValueError, match="n_splits=4 cannot be greater than the "
                       "number of members in each class"):
        next(SoftStratifiedKFold(4).split(np.zeros(6), y))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_repeats": 0}, "n_repeats must be a positive integer, got 0"),
     ({"n_repeats": 2.5}, "n_repeats must be a positive integer"),
     ({"n_splits": 1}, "k-fold cross-validation requires at least one")],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RepeatedSoftStratifiedKFold(**kwargs)


def test_groups_are_ignored_with_a_warning():
    groups = np.arange(N) % 7
    with pytest.warns(UserWarning, match="groups parameter is ignored by "
                      "SoftStratifiedKFold"):
        with_groups = list(SoftStratifiedKFold(3).split(X, Y_SOFT, groups))
    for (_, test), (_, ref) in zip(with_groups, SoftStratifiedKFold(3).split(X, Y_SOFT),
                                   strict=True):
        assert_array_equal(test, ref)


def test_soft_labels_of_pandas_nullable_dtypes_are_stratified():
    # A soft-label DataFrame of pandas' nullable Float64, which the
    # estimators fit, was refused as "a 2-D array of dtype object".
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    soft = rng.dirichlet(np.ones(3), size=60)
    frame = pd.DataFrame(soft).astype("Float64")
    for cv in (SoftStratifiedKFold(3, shuffle=True, random_state=0),
               RepeatedSoftStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)):
        for (train, test), (train_ref, test_ref) in zip(
            cv.split(X, frame), cv.split(X, soft), strict=True
        ):
            assert_array_equal(test, test_ref)
            assert_array_equal(train, train_ref)
