"""ECE and Brier score against scikit-learn, hand-binned sums and known answers."""

import inspect
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import brier_score_loss

from skdiv.metrics import brier_score, expected_calibration_error

# scikit-learn >= 1.7: multiclass brier_score_loss and scale_by_half.
HAS_SCALE_BY_HALF = "scale_by_half" in inspect.signature(brier_score_loss).parameters

RNG = np.random.default_rng(3)
N = 300
PROBA3 = RNG.dirichlet([1.0, 2.0, 3.0], size=N)
Y3 = RNG.integers(0, 3, size=N)
PROBA2 = RNG.uniform(size=N)
Y2 = (RNG.uniform(size=N) < 0.3 + 0.4 * PROBA2).astype(int)
SOFT3 = RNG.dirichlet([2.0, 2.0, 2.0], size=N)
WEIGHTS = RNG.integers(0, 4, size=N)


def _one_hot(y, k):
    return np.eye(k)[y]


def _binned_by_hand(predicted, observed, weights, n_bins):
    """ECE over the bins (b/M, (b+1)/M], the first one closed at 0."""
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        in_bin = (predicted <= hi) & ((predicted > lo) | (b == 0))
        w = weights[in_bin]
        if w.sum() == 0:
            continue
        mean_observed = np.average(observed[in_bin], weights=w)
        mean_predicted = np.average(predicted[in_bin], weights=w)
        total += w.sum() / weights.sum() * abs(mean_observed - mean_predicted)
    return total


def _ece_by_hand(targets, proba, weights, n_bins, kind):
    if kind == "top-label":
        top = proba.argmax(axis=1)
        rows = np.arange(proba.shape[0])
        return _binned_by_hand(proba[rows, top], targets[rows, top], weights, n_bins)
    return np.mean([_binned_by_hand(proba[:, k], targets[:, k], weights, n_bins)
                    for k in range(proba.shape[1])])


# --------------------------------------------------------------------------
# Brier score against scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_brier_binary_matches_brier_score_loss(weighted):
    w = WEIGHTS if weighted else None
    if HAS_SCALE_BY_HALF:
        expected = brier_score_loss(Y2, PROBA2, sample_weight=w, scale_by_half=False)
    else:
        expected = 2 * brier_score_loss(Y2, PROBA2, sample_weight=w)
    assert_allclose(brier_score(Y2, PROBA2, sample_weight=w), expected, rtol=1e-12)
    two_columns = np.column_stack([1 - PROBA2, PROBA2])
    assert_allclose(brier_score(Y2, two_columns, sample_weight=w), expected,
                    rtol=1e-12)
    # One-hot rows as soft labels are the same targets.
    assert_allclose(brier_score(_one_hot(Y2, 2), two_columns, sample_weight=w),
                    expected, rtol=1e-12)
    # String labels, sorted as scikit-learn sorts them.
    names = np.array(["ham", "spam"])[Y2]
    assert_allclose(brier_score(names, PROBA2, sample_weight=w), expected,
                    rtol=1e-12)


@pytest.mark.skipif(not HAS_SCALE_BY_HALF,
                    reason="multiclass brier_score_loss needs scikit-learn >= 1.7")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_brier_multiclass_matches_brier_score_loss(weighted):
    w = WEIGHTS if weighted else None
    expected = brier_score_loss(Y3, PROBA3, sample_weight=w, scale_by_half=False)
    assert_allclose(brier_score(Y3, PROBA3, sample_weight=w), expected, rtol=1e-12)
    assert_allclose(brier_score(_one_hot(Y3, 3), PROBA3, sample_weight=w), expected,
                    rtol=1e-12)
    # labels for a subset of the classes in y_true.
    part = Y3 < 2
    expected = brier_score_loss(Y3[part], PROBA3[part], labels=[0, 1, 2],
                                scale_by_half=False)
    assert_allclose(brier_score(Y3[part], PROBA3[part], labels=[0, 1, 2]),
                    expected, rtol=1e-12)


def test_brier_soft_labels_by_hand():
    expected = np.average(np.sum((PROBA3 - SOFT3) ** 2, axis=1), weights=WEIGHTS)
    assert_allclose(brier_score(SOFT3, PROBA3, sample_weight=WEIGHTS), expected,
                    rtol=1e-12)
    assert brier_score(SOFT3, SOFT3) == 0.0
    # Soft labels: the score on drawn labels, less the targets' 1 - sum p^2.
    rng = np.random.default_rng(0)
    n = 100_000
    p = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    q = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    drawn = (rng.uniform(size=(n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    assert_allclose(brier_score(p, q) + np.mean(1 - np.sum(p**2, axis=1)),
                    brier_score(drawn, q, labels=[0, 1, 2]), atol=0.01)


# --------------------------------------------------------------------------
# ECE against a hand-binned computation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["top-label", "classwise"])
@pytest.mark.parametrize("n_bins", [1, 5, 15])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("data", ["multiclass", "binary", "soft"])
def test_ece_against_hand_binned(kind, n_bins, weighted, data):
    y, proba, targets = {
        "multiclass": (Y3, PROBA3, _one_hot(Y3, 3)),
        "binary": (Y2, PROBA2, _one_hot(Y2, 2)),
        "soft": (SOFT3, PROBA3, SOFT3),
    }[data]
    w = WEIGHTS if weighted else None
    rows = proba if proba.ndim == 2 else np.column_stack([1 - proba, proba])
    expected = _ece_by_hand(targets, rows, np.ones(N) if w is None else w * 1.0,
                            n_bins, kind)
    ece = expected_calibration_error(y, proba, n_bins=n_bins, kind=kind,
                                     sample_weight=w)
    assert_allclose(ece, expected, rtol=1e-12)
    assert 0 < ece < 1


def test_ece_of_a_single_bin_is_the_gap_of_the_means():
    # One bin: |mean confidence - accuracy|, the "overall" calibration gap.
    top = PROBA3.argmax(axis=1)
    expected = abs(np.mean(PROBA3.max(axis=1)) - np.mean(top == Y3))
    assert_allclose(expected_calibration_error(Y3, PROBA3, n_bins=1), expected,
                    rtol=1e-12)


def test_ece_bins_are_closed_on_the_right():
    # 0.5 lies in the first of two bins, so the two predictions share it.
    assert expected_calibration_error([0, 1], [[0.5, 0.5], [0.5, 0.5]],
                                      n_bins=2, kind="classwise") == 0.0
    # Top-label ties pick the first column: class 0, right once in two.
    assert expected_calibration_error([0, 1], [[0.5, 0.5], [0.5, 0.5]],
                                      n_bins=2) == 0.0
    assert expected_calibration_error([1, 1], [[0.5, 0.5], [0.5, 0.5]],
                                      n_bins=2, labels=[0, 1]) == 0.5


@pytest.mark.parametrize("kind", ["top-label", "classwise"])
def test_ece_of_predictions_equal_to_soft_targets_is_zero(kind):
    assert expected_calibration_error(SOFT3, SOFT3, kind=kind) == 0.0


# --------------------------------------------------------------------------
# Known answers at large n
# --------------------------------------------------------------------------


def _calibrated_sample(n, seed):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet([0.7, 1.0, 1.5], size=n)
    y = (rng.uniform(size=(n, 1)) > np.cumsum(proba, axis=1)).sum(axis=1)
    return y, proba


@pytest.mark.parametrize("kind", ["top-label", "classwise"])
def test_calibrated_model_has_ece_near_zero(kind):
    y, proba = _calibrated_sample(200_000, seed=11)
    assert expected_calibration_error(y, proba, kind=kind) < 0.005
    # Sharpened probabilities (temperature 1/2) are overconfident.
    sharp = proba**2 / np.sum(proba**2, axis=1, keepdims=True)
    assert expected_calibration_error(y, sharp, kind=kind) > 0.05
    # The Brier score prefers the calibrated one.
    assert brier_score(y, proba) < brier_score(y, sharp)


# --------------------------------------------------------------------------
# Weights: a weight of k is k repeated rows
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [brier_score,
     expected_calibration_error,
     lambda y, p, **kw: expected_calibration_error(y, p, kind="classwise", **kw)],
    ids=["brier", "ece-top-label", "ece-classwise"],
)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_weights_equal_repeated_rows(metric, soft):
    y = SOFT3 if soft else Y3
    weighted = metric(y, PROBA3, sample_weight=WEIGHTS)
    repeated = metric(np.repeat(y, WEIGHTS, axis=0), np.repeat(PROBA3, WEIGHTS, axis=0))
    assert_allclose(weighted, repeated, rtol=1e-12)
    assert_allclose(metric(y, PROBA3, sample_weight=WEIGHTS * 1e307), weighted,
                    rtol=1e-12)
    assert not np.isclose(weighted, metric(y, PROBA3))


# --------------------------------------------------------------------------
# Bad input: clear errors
# --------------------------------------------------------------------------

BAD_ROW = np.array([[0.5, 0.4, 0.2], [0.2, 0.3, 0.5]])


@pytest.mark.parametrize("metric", [brier_score, expected_calibration_error],
                         ids=["brier", "ece"])
@pytest.mark.parametrize(
    "y_true, y_proba, kwargs, match",
    [
        ([0, 2], BAD_ROW, {"labels": [0, 1, 2]},
         re.escape("The rows of y_proba must sum to one (tolerance 1e-06); row 0")),
        (BAD_ROW[::-1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], {},
         "The rows of y_true must sum to one.*row 1"),
        ([0, 1], [[0.5, 0.5], [1.2, -0.2]], {}, "y_proba contains negative values"),
        ([0, 1], [0.3, 1.5], {}, "y_proba contains values greater than 1"),
        ([0, 1, 1], [0.3, 0.5], {}, "inconsistent numbers of samples"),
        ([[0.5, 0.5]], [[0.2, 0.3, 0.5]], {}, "must have the same width"),
        ([0, 1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], {},
         "different numbers of classes"),
        ([0, 3], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1]},
         r"y_true contains labels \[3\] that are not in labels"),
        ([1, 1], [0.3, 0.6], {}, "y_true contains only one label"),
        ([0.5, 1.5], [0.3, 0.6], {}, "values are continuous"),
        ([0, 1], [np.nan, 0.6], {}, "y_proba contains NaN"),
        ([0, 1], [0.3, 0.6], {"sample_weight": [-1, 1]}, "non-negative"),
    ],
    ids=["proba-rows", "soft-rows", "negative", "above-one", "lengths", "width",
         "classes", "unknown-label", "one-class", "continuous", "nan",
         "negative-weight"],
)
def test_bad_classification_input(metric, y_true, y_proba, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric(y_true, y_proba, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_bins": 0}, "n_bins must be a positive integer, got 0"),
     ({"n_bins": 2.5}, "n_bins must be a positive integer, got 2.5"),
     ({"n_bins": True}, "n_bins must be a positive integer, got True"),
     ({"kind": "toplabel"}, "kind must be one of 'classwise', 'top-label'")],
    ids=["zero-bins", "float-bins", "bool-bins", "kind"],
)
def test_ece_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(Y3, PROBA3, **kwargs)
