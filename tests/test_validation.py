"""Shared validation (skdiv._validation): probability rows, transactional fits."""

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skdiv import DivergenceClassifier
from skdiv._validation import (
    check_labels_known,
    check_probability_rows,
    row_sum_tolerance,
    store_fitted,
    validate_fit_data,
)


def test_one_row_sum_tolerance():
    assert row_sum_tolerance(np.float64) == 1e-6
    assert row_sum_tolerance(np.float32) == pytest.approx(np.sqrt(2.0**-23))
    rows = np.array([[0.5, 0.5 + 9e-7], [0.25, 0.75]])
    assert check_probability_rows(rows) is rows
    with pytest.raises(ValueError, match=r"row 0 sums to 1\.0000011 \(1 row"):
        check_probability_rows(rows + [[0.0, 2e-7], [0.0, 0.0]])
    # float32 rows get sqrt(eps): 1e-4 off is accepted there, not in float64.
    off = np.array([[0.5, 0.5001]])
    check_probability_rows(off.astype(np.float32))
    with pytest.raises(ValueError, match="must sum to one"):
        check_probability_rows(off)
    with pytest.raises(ValueError, match=r"negative values \(minimum -0\.1\)"):
        check_probability_rows(np.array([[1.1, -0.1]]), name="y")
    with pytest.raises(ValueError, match=r"greater than 1 \(maximum 1\.5\)"):
        check_probability_rows(np.array([[1.5, 0.0]]), name="y")


def test_validate_fit_data_leaves_the_estimator_alone():
    pd = pytest.importorskip("pandas")
    clf = DivergenceClassifier()
    frame = pd.DataFrame(np.ones((4, 2)), columns=["u", "v"])
    (X, y), features = validate_fit_data(clf, frame, [0, 1, 0, 1])
    assert vars(clf) == vars(DivergenceClassifier())
    assert X.shape == (4, 2) and features["n_features_in_"] == 2
    assert_array_equal(features["feature_names_in_"], ["u", "v"])
    store_fitted(clf, features)
    assert clf.n_features_in_ == 2
    # reset=False checks against the stored attributes, still without writing.
    with (
        pytest.warns(UserWarning, match="does not have valid feature names"),
        pytest.raises(ValueError, match="X has 3 features"),
    ):
        validate_fit_data(clf, np.ones((4, 3)), reset=False)
    # A refit without names: the names are to be removed, on commit only.
    _, features = validate_fit_data(clf, np.ones((4, 3)), [0, 1, 0, 1])
    assert features["feature_names_in_"] is None and hasattr(clf, "feature_names_in_")
    store_fitted(clf, features)
    assert not hasattr(clf, "feature_names_in_") and clf.n_features_in_ == 3


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "labels, classes, missing",
    [
        (["b", "a", "b"], [0, 1, 2], "['a', 'b']"),
        ([2, 0, 1], ["0", "1", "2"], "[0, 1, 2]"),
        ([0, 3, 1, 3], [0, 1, 2], "[3]"),
        (["a", "z"], ["a", "b"], "['z']"),
        (np.array(["x", "a"], dtype=object), ["a", "b"], "['x']"),
    ],
)
def test_unknown_labels_are_named_without_numpy_warnings(labels, classes, missing):
    # Text against numbers included: NumPy < 1.25 compares those arrays with
    # a FutureWarning instead of elementwise.
    with pytest.raises(ValueError, match=rf"labels {re.escape(missing)} that are"):
        check_labels_known(np.asarray(labels), np.asarray(classes))
    check_labels_known(np.asarray(labels), np.unique(labels))
