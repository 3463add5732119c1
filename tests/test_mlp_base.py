"""The network estimators' shared path (skdiv._mlp_base): failed fits roll back.

A fit or ``partial_fit`` that raises, anywhere in the solve and with any
exception (``KeyboardInterrupt`` too), leaves every fitted attribute and the
Adam state the next ``partial_fit`` reads exactly as they were: compared
with ``np.array_equal`` to a deep copy taken before, and the next
``partial_fit`` equal, bit for bit, to that of a twin that never saw the
failed call.
"""

import copy
import dataclasses
import warnings

import numpy as np
import pytest

import skdiv._adapter
from skdiv import DivergenceMLPClassifier, GaussianMLPRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(100, 3))
Y_CLASS = (X[:, 0] > 0).astype(int)
Y_REG = X[:, 0] + 0.1 * rng.normal(size=100)


def assert_same(a, b, where="state"):
    """``a`` equals ``b`` exactly: arrays by ``np.array_equal``, containers
    element by element, dataclasses (the Adam state) field by field."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        assert_same(vars(a), vars(b), where)
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def _fitted(est):
    """The attributes a fit wrote (everything but the constructor's)."""
    params = est.get_params(deep=False)
    return {k: v for k, v in vars(est).items() if k not in params}


def _y(est):
    return Y_CLASS if isinstance(est, DivergenceMLPClassifier) else Y_REG


def _predictions(est):
    if isinstance(est, DivergenceMLPClassifier):
        return est.predict_proba(X)
    return np.column_stack(est.predict(X, return_std=True))


def _interrupt_after(monkeypatch, n_calls, exception):
    """Make the adapter's loss and gradient raise at its call n_calls + 1."""
    original = skdiv._adapter.EmpiricalRisk.loss_gradient
    calls = []

    def loss_gradient(self, params):
        calls.append(None)
        if len(calls) > n_calls:
            raise exception("interrupted during the solve")
        return original(self, params)

    monkeypatch.setattr(skdiv._adapter.EmpiricalRisk, "loss_gradient", loss_gradient)
    return calls


def _check_rolled_back(est, before, predictions, twin):
    """Unchanged state and predictions; the next partial_fit equals the twin's."""
    assert_same(_fitted(est), _fitted(before))
    np.testing.assert_array_equal(_predictions(est), predictions)
    est.set_params(**twin.get_params())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X, _y(est))
        twin.partial_fit(X, _y(twin))
    assert_same(_fitted(est), _fitted(twin))


def _start(est, how):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "partial_fit":
            classifier = isinstance(est, DivergenceMLPClassifier)
            est.partial_fit(X, _y(est), **({"classes": [0, 1]} if classifier else {}))
            est.partial_fit(X, _y(est))
        else:
            est.fit(X, _y(est))
    return est


def _estimator(kind):
    common = dict(hidden_layer_sizes=(4,), random_state=0, batch_size=10, max_iter=5)
    if kind == "constant":
        return GaussianMLPRegressor(variance="constant", **common)
    if kind == "heteroscedastic":
        return GaussianMLPRegressor(**common)
    if kind == "squared-lbfgs":
        return GaussianMLPRegressor("squared_error", solver="lbfgs", **common)
    return DivergenceMLPClassifier(**common)


# Every configuration that continues from fitted state: each used to be left
# without its log-variance column (predict then raised IndexError), or with
# the Adam step count and moments of the interrupted steps.
CONTINUING = [
    ("constant", "partial_fit"),
    ("constant", "warm_start"),
    ("heteroscedastic", "partial_fit"),
    ("squared-lbfgs", "warm_start"),
    ("squared-lbfgs", "partial_fit"),
    ("classifier", "partial_fit"),
]


@pytest.mark.parametrize("exception", [KeyboardInterrupt, ValueError, MemoryError])
@pytest.mark.parametrize(("kind", "how"), CONTINUING, ids=lambda v: str(v))
def test_a_fit_interrupted_in_the_solve_leaves_the_estimator_as_it_was(
    monkeypatch, kind, how, exception
):
    est = _start(_estimator(kind).set_params(warm_start=how == "warm_start"), how)
    twin = copy.deepcopy(est)
    before = copy.deepcopy(est)
    predictions = _predictions(est)
    # Three steps (Adam batches, L-BFGS evaluations) in, then the interruption.
    calls = _interrupt_after(monkeypatch, 3, exception)
    with pytest.raises(exception, match="interrupted"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "partial_fit":
            est.partial_fit(X, _y(est))
        else:
            est.fit(X, _y(est))
    assert len(calls) == 4  # it did stop midway
    monkeypatch.undo()
    _check_rolled_back(est, before, predictions, twin)


# A seed whose split puts rows 0 and 1 in the validation half, in every
# configuration below (found by trying; the tests check the error they get).
_BOTH_IN_VALIDATION = 20


@pytest.mark.parametrize(
    ("failure", "how"),
    [
        ("partial_fit-early-stopping", "partial_fit"),
        ("small-validation", "partial_fit"),
        ("small-validation", "warm_start"),
        ("zero-training-weight", "partial_fit"),
        ("zero-training-weight", "warm_start"),
    ],
)
def test_a_constant_variance_fit_refused_in_the_solve_rolls_back(failure, how):
    # The natural triggers of issue B1: a refusal after the log-variance
    # column had been dropped from the fitted network. "partial_fit" fits
    # by partial_fit first, "warm_start" by fit; then the failing call (a
    # warm-started fit but for partial_fit's own refusal).
    est = _start(_estimator("constant").set_params(warm_start=True), how)
    twin = copy.deepcopy(est)
    before = copy.deepcopy(est)
    predictions = _predictions(est)
    sample_weight = None
    if failure == "partial_fit-early-stopping":
        est.set_params(early_stopping=True)
        match = "partial_fit does not support early_stopping=True"
    elif failure == "small-validation":
        est.set_params(early_stopping=True, validation_fraction=0.01)
        match = "The validation set is too small"
    else:
        est.set_params(early_stopping=True, validation_fraction=0.5,
                       random_state=_BOTH_IN_VALIDATION)
        sample_weight = np.zeros(X.shape[0])
        sample_weight[:2] = 1.0
        match = "Every training row has zero sample_weight"
    with pytest.raises(ValueError, match=match):
        if how == "partial_fit" and failure == "partial_fit-early-stopping":
            est.partial_fit(X, Y_REG, sample_weight=sample_weight)
        else:
            est.fit(X, Y_REG, sample_weight=sample_weight)
    _check_rolled_back(est, before, predictions, twin)


# ------------------------------------------ no weight on the training rows (B4)
@pytest.mark.parametrize("kind", ["classifier", "constant", "heteroscedastic"])
def test_early_stopping_with_no_training_weight_is_refused_by_name(kind):
    # All the weight on rows the split puts in the validation set: the
    # training objective divides by zero (a bare ZeroDivisionError before).
    est = _estimator(kind).set_params(
        early_stopping=True, validation_fraction=0.5, random_state=_BOTH_IN_VALIDATION
    )
    X50, y50 = X[:50], _y(est)[:50]
    sample_weight = np.zeros(50)
    sample_weight[:2] = 1.0
    unfitted = copy.deepcopy(vars(est))
    with pytest.raises(
        ValueError,
        match=r"Every training row has zero sample_weight \(all the weight is on "
        r"the validation rows\): the training objective is undefined\. Change "
        r"validation_fraction or random_state\.",
    ):
        est.fit(X50, y50, sample_weight=sample_weight)
    assert_same(vars(est), unfitted)
    # A fitted estimator keeps its model too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.set_params(early_stopping=False).fit(X50, y50)
    before = copy.deepcopy(est)
    predictions = _predictions(est)
    with pytest.raises(ValueError, match="Every training row has zero sample_weight"):
        est.set_params(early_stopping=True).fit(X50, y50, sample_weight=sample_weight)
    assert_same(_fitted(est), _fitted(before))
    np.testing.assert_array_equal(_predictions(est), predictions)
    # Some weight on a training row is enough.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X50, y50, sample_weight=sample_weight + 1.0)
    assert np.all(np.isfinite(_predictions(est)))
