"""Tests for skdiv.metrics: exact values, references, properties, bad input."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from scipy import integrate, special, stats
from sklearn.metrics import log_loss

from skdiv.metrics import (
    brier_score,
    cross_entropy,
    entropy,
    expected_calibration_error,
    gaussian_crps,
    gaussian_kl,
    gaussian_nll,
    kl_divergence,
)

# No example database: the suite must not write into the checkout.
SETTINGS = settings(max_examples=60, deadline=None, database=None)

SOFTMAX_123 = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()


def _rows(n_rows, n_classes, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(n_classes), size=n_rows)


# --------------------------------------------------------------------------
# Hypothesis strategies
# --------------------------------------------------------------------------


@st.composite
def probability_rows(draw, n_rows=None, n_classes=None):
    """Rows of non-negative floats normalised to sum to one (zeros allowed)."""
    n_rows = n_rows or draw(st.integers(1, 6))
    n_classes = n_classes or draw(st.integers(2, 5))
    raw = draw(
        arrays(
            np.float64,
            (n_rows, n_classes),
            elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
        )
    )
    raw[:, 0] += 1e-3  # keep every row sum positive
    return raw / raw.sum(axis=1, keepdims=True)


@st.composite
def target_and_prediction(draw):
    n_rows = draw(st.integers(1, 6))
    n_classes = draw(st.integers(2, 5))
    p = draw(probability_rows(n_rows, n_classes))
    q = draw(probability_rows(n_rows, n_classes))
    return p, q


gaussian_params = st.tuples(
    st.floats(-10, 10), st.floats(0.05, 10), st.floats(-10, 10), st.floats(0.05, 10)
)


# --------------------------------------------------------------------------
# Exact values
# --------------------------------------------------------------------------


def test_cross_entropy_hard_label_exact():
    value = cross_entropy([2], [SOFTMAX_123], labels=[0, 1, 2])
    assert value == pytest.approx(0.4076059644443804, rel=1e-14)


def test_cross_entropy_soft_target_exact():
    value = cross_entropy([[0.2, 0.3, 0.5]], [SOFTMAX_123])
    assert value == pytest.approx(1.1076059644443805, rel=1e-14)


def test_kl_divergence_exact_ln2():
    value = kl_divergence([[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]])
    assert value == pytest.approx(math.log(2), rel=1e-14)
    assert kl_divergence([[0.5, 0.5, 0.0]], [[0.25, 0.25, 0.5]], base=2) == (
        pytest.approx(1.0, rel=1e-14)
    )


def test_gaussian_nll_exact():
    value = gaussian_nll([1.0], [0.0], 1.0)
    assert value == pytest.approx(0.5 + 0.5 * math.log(2 * math.pi), rel=1e-14)


def test_entropy_exact():
    assert entropy([[0.5, 0.5], [1.0, 0.0]], base=2) == pytest.approx(0.5)
    assert entropy([[0.25] * 4]) == pytest.approx(math.log(4), rel=1e-14)


def test_gaussian_kl_exact():
    # KL(N(0, 1) || N(1, 2^2)) = log 2 + (1 + 1) / 8 - 1/2
    expected = math.log(2) + 2 / 8 - 0.5
    assert gaussian_kl(0.0, 1.0, 1.0, 2.0) == pytest.approx(expected, rel=1e-14)


def test_gaussian_crps_exact_at_mean():
    # z = 0: sigma * (2 phi(0) - 1/sqrt(pi)) = sigma * (sqrt(2) - 1) / sqrt(pi)
    expected = 3.0 * (math.sqrt(2) - 1) / math.sqrt(math.pi)
    assert gaussian_crps([5.0], [5.0], 3.0) == pytest.approx(expected, rel=1e-14)


def test_all_return_python_float():
    values = [
        cross_entropy([0, 1], [0.2, 0.7]),
        kl_divergence([0, 1], [0.2, 0.7]),
        entropy([[0.2, 0.8]]),
        gaussian_nll([0.0], [1.0], 1.0),
        gaussian_kl(0.0, 1.0, 0.0, 2.0),
        gaussian_crps([0.0], [1.0], 1.0),
    ]
    assert all(type(v) is float for v in values)


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------

rng = np.random.default_rng(42)
LOG_LOSS_CASES = {
    "strings": (rng.choice(["ham", "spam", "eggs"], 30), _rows(30, 3, 1), {}),
    "ints": (rng.integers(0, 4, 30), _rows(30, 4, 2), {}),
    "binary-1d-proba": (
        rng.integers(0, 2, 30),
        np.random.default_rng(3).random(30),
        {},
    ),
    "binary-strings-1d-proba": (
        rng.choice(["no", "yes"], 30),
        np.random.default_rng(4).random(30),
        {},
    ),
    "labels-with-absent-class": (
        rng.choice([0, 1, 3], 30),
        _rows(30, 4, 5),
        {"labels": [0, 1, 2, 3]},
    ),
    "sample-weight": (
        rng.integers(0, 3, 30),
        _rows(30, 3, 6),
        {"sample_weight": np.random.default_rng(7).random(30)},
    ),
    "zeros-and-ones-clipped": (
        np.array([0, 1, 2, 2]),
        np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0], [0.5, 0.5, 0]]),
        {},
    ),
    "one-class-present-with-labels": (
        np.array([1, 1, 1]),
        np.array([0.2, 0.9, 0.6]),
        {"labels": [0, 1]},
    ),
}


@pytest.mark.parametrize(
    "y_true, y_proba, kwargs", LOG_LOSS_CASES.values(), ids=LOG_LOSS_CASES.keys()
)
def test_cross_entropy_matches_sklearn_log_loss(y_true, y_proba, kwargs):
    expected = log_loss(y_true, y_proba, **kwargs)
    assert cross_entropy(y_true, y_proba, **kwargs) == pytest.approx(
        expected, rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize(
    "y_true, y_proba, kwargs", LOG_LOSS_CASES.values(), ids=LOG_LOSS_CASES.keys()
)
def test_kl_divergence_equals_cross_entropy_on_hard_labels(y_true, y_proba, kwargs):
    assert kl_divergence(y_true, y_proba, **kwargs) == pytest.approx(
        cross_entropy(y_true, y_proba, **kwargs), rel=1e-12, abs=1e-12
    )


def test_soft_one_hot_targets_equal_hard_labels():
    y = np.array([0, 2, 1, 2])
    q = _rows(4, 3, 8)
    one_hot = np.eye(3)[y]
    assert cross_entropy(one_hot, q) == pytest.approx(cross_entropy(y, q), rel=1e-14)
    assert cross_entropy(one_hot.astype(int), q) == pytest.approx(
        log_loss(y, q), rel=1e-14
    )


def test_cross_entropy_unnormalised_rows_warn_like_sklearn():
    y, q = np.array([0, 1, 1]), _rows(3, 2, 9) * 0.9
    with pytest.warns(UserWarning, match="do not sum to one") as record:
        value = cross_entropy(y, q)
    assert record[0].filename == __file__  # points at the caller
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert value == pytest.approx(log_loss(y, q), rel=1e-12)


def test_cross_entropy_unsorted_labels_warn_like_sklearn():
    y, q = np.array([0, 1, 2]), _rows(3, 3, 10)
    with pytest.warns(UserWarning, match="ordered lexicographically") as record:
        value = cross_entropy(y, q, labels=[2, 0, 1])
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert value == pytest.approx(log_loss(y, q, labels=[2, 0, 1]), rel=1e-12)


def test_float32_predictions_use_float32_tolerance_and_eps():
    y = np.array([0, 1, 2, 1])
    q32 = _rows(4, 3, 16).astype(np.float32)
    q32[0] = [0.0, 0.5, 0.5]  # the true class gets float32 eps after clipping
    q32[1] *= np.float32(1 - 1e-4)  # within float32's tolerance sqrt(eps)
    expected = log_loss(y, q32)  # float32 arithmetic inside scikit-learn
    assert cross_entropy(y, q32) == pytest.approx(expected, rel=1e-6)
    assert -math.log(np.finfo(np.float32).eps) / 4 < expected
    # The kl_div form adds sum(q) - 1 = -1e-4 on row 1 (mean over 4 rows).
    assert kl_divergence(y, q32) == pytest.approx(expected - 1e-4 / 4, rel=1e-6)
    with pytest.raises(ValueError, match="must sum to one"):
        kl_divergence(y, q32.astype(np.float64))


def test_pandas_inputs():
    pd = pytest.importorskip("pandas")
    y = np.array([0, 2, 1, 2])
    q = _rows(4, 3, 17)
    expected = log_loss(y, q)
    assert cross_entropy(pd.Series(y), pd.DataFrame(q)) == pytest.approx(expected)
    assert cross_entropy(pd.Series(y).astype("category"), q) == pytest.approx(expected)
    assert cross_entropy(pd.DataFrame(np.eye(3)[y]), q) == pytest.approx(expected)
    assert gaussian_nll(pd.Series([0.0, 1.0]), pd.Series([0.5, 0.5]), 1.0) == (
        pytest.approx(gaussian_nll([0.0, 1.0], [0.5, 0.5], 1.0))
    )


def test_extreme_gaussian_inputs_give_inf_not_nan():
    assert gaussian_nll([1e300], [-1e300], 1e-300) == np.inf
    # The CRPS is bounded by |y - mu| + std / sqrt(pi): inf only where
    # |y - mu| itself is beyond float64. (|y - mu| = 2e300 is finite: the
    # CRPS is 2e300 - 1e-300 / sqrt(pi), that is 2e300.)
    assert gaussian_crps([1e300], [-1e300], 1e-300) == 2e300
    with np.errstate(over="ignore"):
        assert gaussian_crps([1.5e308], [-1.5e308], 1.0) == np.inf
    assert gaussian_kl(0.0, 1e300, 0.0, 1e-300) == np.inf


def _crps_closed_form(y, mean, std):
    """Gneiting and Raftery's sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)]."""
    z = (y - mean) / std
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return std * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi))


def test_gaussian_crps_matches_closed_form_with_weights():
    r = np.random.default_rng(21)
    y, mean = 3 * r.normal(size=30), r.normal(size=30)
    std, w = r.random(30) * 2 + 0.05, r.random(30)
    y[:3] = mean[:3]  # z = 0
    y[3] = mean[3] + 30 * std[3]  # far in the tail, where erf is 1
    per_sample = [_crps_closed_form(*a) for a in zip(y, mean, std, strict=True)]
    assert gaussian_crps(y, mean, std) == pytest.approx(np.mean(per_sample), rel=1e-14)
    assert gaussian_crps(y, mean, std, sample_weight=w) == pytest.approx(
        np.average(per_sample, weights=w), rel=1e-14
    )
    # Each sample on its own, the far one and z = 0 included.
    for a, expected in zip(zip(y, mean, std, strict=True), per_sample, strict=True):
        assert gaussian_crps([a[0]], [a[1]], a[2]) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "y, mean, std, expected",
    [
        # z = 1e310 overflows; the CRPS is |y - mu| - std / sqrt(pi) -> |y - mu|.
        (1e10, 0.0, 1e-300, 1e10),
        (1.0, 0.0, 1e-320, 1.0),  # std subnormal
        (-1.0, 0.0, 5e-324, 1.0),  # the smallest float
        (0.0, -3.0, 1e-300, 3.0),
        # z = 1e10 is finite: erf(z / sqrt 2) = 1 and phi(z) = 0 in float64.
        (1.0, 0.0, 1e-10, 1.0 - 1e-10 / math.sqrt(math.pi)),
    ],
    ids=["z-overflows", "subnormal-std", "smallest-std", "below-mean", "z-1e10"],
)
def test_gaussian_crps_tiny_std_is_the_absolute_error(y, mean, std, expected):
    assert gaussian_crps([y], [mean], std) == pytest.approx(expected, rel=1e-15)
    # The same limit, weighted, beside an ordinary sample.
    value = gaussian_crps([y, 0.0], [mean, 0.0], [std, 1.0], sample_weight=[3, 1])
    at_mean = (math.sqrt(2) - 1) / math.sqrt(math.pi)
    assert value == pytest.approx((3 * expected + at_mean) / 4, rel=1e-15)


@SETTINGS
@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(1e-3, 50))
def test_gaussian_crps_equals_gneiting_raftery_form(y, mean, std):
    # |y - mu| erf(|z| / sqrt 2) = sigma z (2 Phi(z) - 1): the evaluated form
    # and the published one agree to rounding.
    expected = _crps_closed_form(y, mean, std)
    assert gaussian_crps([y], [mean], std) == pytest.approx(
        expected, rel=1e-12, abs=1e-15 * std
    )


def test_entropy_matches_scipy_per_row():
    p = _rows(10, 4, 11)
    p[0] = [0.5, 0.5, 0.0, 0.0]
    w = np.random.default_rng(12).random(10)
    expected = np.average(stats.entropy(p, axis=1), weights=w)
    assert entropy(p, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    expected_bits = np.mean(stats.entropy(p, base=2, axis=1))
    assert entropy(p, base=2) == pytest.approx(expected_bits, rel=1e-12)


def test_kl_divergence_matches_scipy_rel_entr():
    p, q = _rows(10, 5, 13), _rows(10, 5, 14)
    p[0, :2] = [0.0, p[0, 0] + p[0, 1]]
    expected = np.mean(special.rel_entr(p, q).sum(axis=1))
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)


def test_gaussian_nll_matches_scipy_logpdf():
    r = np.random.default_rng(15)
    y, mean = r.normal(size=20), r.normal(size=20)
    std, w = r.random(20) + 0.1, r.random(20)
    expected = -np.average(stats.norm.logpdf(y, mean, std), weights=w)
    assert gaussian_nll(y, mean, std, sample_weight=w) == pytest.approx(
        expected, rel=1e-12
    )


def _crps_by_quadrature(y, mean, std):
    cdf = stats.norm(mean, std).cdf
    below = integrate.quad(lambda x: cdf(x) ** 2, -np.inf, y)[0]
    above = integrate.quad(lambda x: (1 - cdf(x)) ** 2, y, np.inf)[0]
    return below + above


@pytest.mark.parametrize(
    "y, mean, std",
    [
        (0.0, 0.0, 1.0),
        (1.0, 0.0, 1.0),
        (-2.5, 1.0, 0.5),
        (10.0, 3.0, 4.0),
        (4.0, -1.0, 0.2),
        (-0.3, 0.2, 7.0),
    ],
    ids=[
        "at-mean",
        "one-sd-above",
        "far-below-narrow",
        "wide",
        "25-sd-above",
        "wider-than-error",
    ],
)
def test_gaussian_crps_matches_quadrature(y, mean, std):
    expected = _crps_by_quadrature(y, mean, std)
    assert gaussian_crps([y], [mean], std) == pytest.approx(expected, rel=1e-7)
    assert _crps_closed_form(y, mean, std) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize(
    "mean_p, std_p, mean_q, std_q",
    [
        (0.0, 1.0, 0.0, 1.0),
        (0.0, 1.0, 1.0, 2.0),
        (2.0, 0.5, -1.0, 1.5),
        (0.0, 3.0, 0.0, 1.0),
    ],
    ids=["equal", "shift-and-widen", "narrow-vs-wide", "wide-vs-narrow"],
)
def test_gaussian_kl_matches_quadrature(mean_p, std_p, mean_q, std_q):
    p, q = stats.norm(mean_p, std_p), stats.norm(mean_q, std_q)
    expected = integrate.quad(
        lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)),
        mean_p - 12 * std_p,
        mean_p + 12 * std_p,
    )[0]
    assert gaussian_kl(mean_p, std_p, mean_q, std_q) == pytest.approx(
        expected, rel=1e-7, abs=1e-10
    )


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------


@SETTINGS
@given(target_and_prediction())
def test_kl_non_negative(pq):
    p, q = pq
    assert kl_divergence(p, q) >= -1e-12


@SETTINGS
@given(probability_rows())
def test_kl_of_identical_rows_is_zero(p):
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


@SETTINGS
@given(target_and_prediction())
def test_cross_entropy_is_kl_plus_entropy(pq):
    p, q = pq
    assert cross_entropy(p, q) == pytest.approx(
        kl_divergence(p, q) + entropy(p), rel=1e-10, abs=1e-12
    )


@SETTINGS
@given(target_and_prediction())
def test_bits_are_nats_over_ln2(pq):
    p, q = pq
    for metric in (cross_entropy, kl_divergence):
        assert metric(p, q, base=2) == pytest.approx(
            metric(p, q) / math.log(2), rel=1e-12, abs=1e-15
        )
    assert entropy(p, base=2) == pytest.approx(
        entropy(p) / math.log(2), rel=1e-12, abs=1e-15
    )


@SETTINGS
@given(target_and_prediction(), st.data())
def test_integer_weights_equal_repeated_rows(pq, data):
    p, q = pq
    w = data.draw(
        arrays(np.int64, p.shape[0], elements=st.integers(0, 4)).filter(
            lambda w: w.sum() > 0
        )
    )
    p_rep, q_rep = np.repeat(p, w, axis=0), np.repeat(q, w, axis=0)
    for metric in (cross_entropy, kl_divergence):
        assert metric(p, q, sample_weight=w) == pytest.approx(
            metric(p_rep, q_rep), rel=1e-10, abs=1e-12
        )
    assert entropy(p, sample_weight=w) == pytest.approx(
        entropy(p_rep), rel=1e-10, abs=1e-12
    )
    y, m, s = p[:, 0], q[:, 0], p[:, 1] + 0.1
    for metric in (gaussian_nll, gaussian_crps):
        assert metric(y, m, s, sample_weight=w) == pytest.approx(
            metric(np.repeat(y, w), np.repeat(m, w), np.repeat(s, w)),
            rel=1e-10,
            abs=1e-12,
        )


@SETTINGS
@given(st.lists(gaussian_params, min_size=1, max_size=6))
def test_gaussian_kl_non_negative_and_zero_on_self(params):
    mean_p, std_p, mean_q, std_q = map(np.array, zip(*params, strict=True))
    assert gaussian_kl(mean_p, std_p, mean_q, std_q) >= 0.0
    assert gaussian_kl(mean_p, std_p, mean_p, std_p) == 0.0


@SETTINGS
@given(
    arrays(np.float64, st.integers(1, 8), elements=st.floats(-100, 100)),
    arrays(np.float64, st.integers(1, 8), elements=st.floats(-100, 100)),
    st.floats(0.01, 100),
)
def test_gaussian_nll_with_constant_std_is_affine_in_mse(y, mean, std):
    n = min(len(y), len(mean))
    y, mean = y[:n], mean[:n]
    mse = np.mean((y - mean) ** 2)
    expected = 0.5 * math.log(2 * math.pi) + math.log(std) + mse / (2 * std**2)
    assert gaussian_nll(y, mean, std) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@SETTINGS
@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.01, 50))
def test_gaussian_crps_non_negative(y, mean, std):
    assert gaussian_crps([y], [mean], std) >= 0.0


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

Q3 = _rows(4, 3, 20)
Y3 = np.array([0, 1, 2, 1])
P3 = _rows(4, 3, 21)

CLASSIFICATION_BAD_INPUT = {
    "negative-proba": (cross_entropy, (Y3, Q3 - 0.5), {}, "negative values"),
    "proba-above-one": (cross_entropy, (Y3, Q3 * 3), {}, "greater than 1"),
    "binary-1d-proba-above-one": (
        cross_entropy,
        ([0, 1], [0.5, 1.5]),
        {},
        "greater than 1",
    ),
    "nan-proba": (cross_entropy, (Y3, np.where(Q3 > 0.5, np.nan, Q3)), {}, "NaN"),
    "inf-proba": (cross_entropy, ([0, 1], [0.5, np.inf]), {}, "infinity"),
    "nan-label": (cross_entropy, ([0.0, np.nan], [0.5, 0.5]), {}, "NaN"),
    "soft-target-not-summing": (
        cross_entropy,
        (P3 * 0.9, Q3),
        {},
        "rows of y_true must sum to one",
    ),
    "soft-target-negative": (
        cross_entropy,
        (P3 - P3.max(), Q3),
        {},
        "y_true contains negative",
    ),
    "soft-prediction-not-summing": (
        cross_entropy,
        (P3, Q3 * 0.9),
        {},
        "rows of y_proba must sum to one",
    ),
    "kl-hard-prediction-not-summing": (
        kl_divergence,
        (Y3, Q3 * 0.9),
        {},
        "rows of y_proba must sum to one",
    ),
    "soft-width-mismatch": (cross_entropy, (_rows(4, 4, 22), Q3), {}, "same width"),
    "kl-soft-width-mismatch": (kl_divergence, (_rows(4, 2, 22), Q3), {}, "same width"),
    "length-mismatch": (
        cross_entropy,
        (Y3[:3], Q3),
        {},
        "inconsistent numbers of samples",
    ),
    "soft-length-mismatch": (
        kl_divergence,
        (P3[:3], Q3),
        {},
        "inconsistent numbers of samples",
    ),
    "label-not-in-labels": (
        cross_entropy,
        (Y3, Q3),
        {"labels": [0, 1, 3]},
        r"labels \[2\]",
    ),
    "labels-too-few": (
        cross_entropy,
        ([1, 1], [0.5, 0.5]),
        {"labels": [1]},
        "at least two",
    ),
    "single-class-without-labels": (
        cross_entropy,
        ([1, 1], [0.5, 0.5]),
        {},
        "only one label",
    ),
    "class-count-mismatch": (
        cross_entropy,
        ([0, 1, 0, 1], Q3),
        {},
        "different numbers of classes",
    ),
    "labels-count-mismatch": (
        cross_entropy,
        (Y3, Q3),
        {"labels": [0, 1, 2, 3]},
        "3 columns",
    ),
    "soft-labels-count-mismatch": (
        cross_entropy,
        (P3, Q3),
        {"labels": [0, 1]},
        "2 entries",
    ),
    "continuous-y-true": (cross_entropy, ([0.2, 0.7], [0.3, 0.4]), {}, "continuous"),
    "mixed-label-types": (
        cross_entropy,
        (np.array([0, "a"], dtype=object), [0.3, 0.4]),
        {},
        "single type",
    ),
    "empty": (cross_entropy, ([], []), {}, "0 sample"),
    "empty-2d": (kl_divergence, (np.empty((0, 3)), np.empty((0, 3))), {}, "0 sample"),
    "negative-weight": (
        cross_entropy,
        (Y3, Q3),
        {"sample_weight": [1, -1, 1, 1]},
        "non-negative",
    ),
    "zero-weights": (
        kl_divergence,
        (Y3, Q3),
        {"sample_weight": np.zeros(4)},
        "non-zero",
    ),
    "weight-length": (
        cross_entropy,
        (Y3, Q3),
        {"sample_weight": [1, 1]},
        "sample_weight has 2 entries but there are 4 samples",
    ),
    "nan-weight": (
        cross_entropy,
        (Y3, Q3),
        {"sample_weight": [1, np.nan, 1, 1]},
        "NaN",
    ),
    "base-zero": (cross_entropy, (Y3, Q3), {"base": 0}, "base must be"),
    "base-negative": (kl_divergence, (Y3, Q3), {"base": -2}, "base must be"),
    "base-one": (cross_entropy, (Y3, Q3), {"base": 1}, "base must be"),
    "base-string": (cross_entropy, (Y3, Q3), {"base": "2"}, "base must be"),
    "y-true-3d": (cross_entropy, (np.zeros((4, 1, 1)), Q3), {}, "y_true must be|dim 3"),
}


@pytest.mark.parametrize(
    "metric, args, kwargs, match",
    CLASSIFICATION_BAD_INPUT.values(),
    ids=CLASSIFICATION_BAD_INPUT.keys(),
)
def test_classification_bad_input_raises(metric, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric(*args, **kwargs)


ENTROPY_BAD_INPUT = {
    "one-dimensional": ([0.2, 0.8], {}, "must be 2-D"),
    "negative": ([[1.2, -0.2]], {}, "negative values"),
    "above-one": ([[1.2, 0.0]], {}, "greater than 1"),
    "not-summing": ([[0.2, 0.2]], {}, "must sum to one"),
    "nan": ([[np.nan, 1.0]], {}, "NaN"),
    "empty": (np.empty((0, 2)), {}, "0 sample"),
    "negative-weight": ([[0.5, 0.5]], {"sample_weight": [-1.0]}, "non-negative"),
    "zero-weights": ([[0.5, 0.5]], {"sample_weight": [0.0]}, "non-zero"),
    "base-one": ([[0.5, 0.5]], {"base": 1.0}, "base must be"),
    "base-inf": ([[0.5, 0.5]], {"base": np.inf}, "base must be"),
}


@pytest.mark.parametrize(
    "y_proba, kwargs, match", ENTROPY_BAD_INPUT.values(), ids=ENTROPY_BAD_INPUT.keys()
)
def test_entropy_bad_input_raises(y_proba, kwargs, match):
    with pytest.raises(ValueError, match=match):
        entropy(y_proba, **kwargs)


Y = np.array([0.0, 1.0, 2.0])
M = np.array([0.5, 1.0, 1.5])

REGRESSION_BAD_INPUT = {
    "zero-std": ((Y, M, [1.0, 0.0, 1.0]), {}, "strictly positive"),
    "negative-scalar-std": ((Y, M, -1.0), {}, "strictly positive"),
    "nan-std": ((Y, M, [1.0, np.nan, 1.0]), {}, "NaN"),
    "std-wrong-length": ((Y, M, [1.0, 1.0]), {}, "cannot be broadcast"),
    "std-column": ((Y, M, np.ones((3, 1))), {}, "cannot be broadcast"),
    "length-mismatch": ((Y, M[:2], 1.0), {}, "inconsistent numbers of samples"),
    # Two columns are two outputs; one column is one (as in scikit-learn).
    "y-true-2d": ((np.c_[Y, Y], M, 1.0), {}, "must be 1-D"),
    "y-mean-2d": ((Y, np.c_[M, M], 1.0), {}, "must be 1-D"),
    "inf-target": ((np.array([0.0, np.inf, 1.0]), M, 1.0), {}, "infinity"),
    "nan-mean": ((Y, np.array([0.0, np.nan, 1.0]), 1.0), {}, "NaN"),
    "empty": (([], [], 1.0), {}, "0 sample"),
    "negative-weight": ((Y, M, 1.0), {"sample_weight": [1, -1, 1]}, "non-negative"),
    "zero-weights": ((Y, M, 1.0), {"sample_weight": [0, 0, 0]}, "non-zero"),
}


@pytest.mark.parametrize("metric", [gaussian_nll, gaussian_crps], ids=["nll", "crps"])
@pytest.mark.parametrize(
    "args, kwargs, match",
    REGRESSION_BAD_INPUT.values(),
    ids=REGRESSION_BAD_INPUT.keys(),
)
def test_regression_bad_input_raises(metric, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric(*args, **kwargs)


GAUSSIAN_KL_BAD_INPUT = {
    "zero-std-p": ((0.0, 0.0, 0.0, 1.0), {}, "std_p must be strictly positive"),
    "negative-std-q": (([0.0, 1.0], 1.0, 0.0, [1.0, -1.0]), {}, "std_q must be"),
    "length-mismatch": (
        ([0.0, 1.0], 1.0, [0.0, 1.0, 2.0], 1.0),
        {},
        "incompatible lengths",
    ),
    "two-dimensional": ((np.zeros((2, 2)), 1.0, 0.0, 1.0), {}, "scalars or 1-D"),
    "nan-mean": ((np.nan, 1.0, 0.0, 1.0), {}, "NaN"),
    "empty": (([], 1.0, 0.0, 1.0), {}, "0 sample"),
    "weight-length": (
        ([0.0, 1.0], 1.0, 0.0, 1.0),
        {"sample_weight": [1, 1, 1]},
        "sample_weight has 3 entries but there are 2 samples",
    ),
    "negative-weight": (
        (0.0, 1.0, 0.0, 1.0),
        {"sample_weight": [-1.0]},
        "non-negative",
    ),
}


@pytest.mark.parametrize(
    "args, kwargs, match",
    GAUSSIAN_KL_BAD_INPUT.values(),
    ids=GAUSSIAN_KL_BAD_INPUT.keys(),
)
def test_gaussian_kl_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gaussian_kl(*args, **kwargs)


# Weights near the float64 limit (issue 17, defect 5): normalised before
# they multiply, so the means equal those of unit weights.
_HUGE_WEIGHT_CASES = {
    "cross_entropy": (cross_entropy, ([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])),
    "kl_divergence": (
        kl_divergence, ([[0.5, 0.5], [0.1, 0.9], [1, 0]], [[0.9, 0.1], [0.2, 0.8],
                                                          [0.4, 0.6]])),
    "entropy": (entropy, ([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]],)),
    "brier_score": (brier_score, ([0, 1, 1], [0.1, 0.8, 0.6])),
    "gaussian_nll": (gaussian_nll, ([0.0, 1, 2], [0.1, 1.5, 1], [1.0, 2, 0.5])),
    "gaussian_crps": (gaussian_crps, ([0.0, 1, 2], [0.1, 1.5, 1], [1.0, 2, 0.5])),
    "gaussian_kl": (gaussian_kl, ([0.0, 1.0, 2.0], [1.0, 2.0, 0.5], [0.1, 1.5, 1.0],
                                  [1.5, 1.0, 1.0])),
}


@pytest.mark.parametrize("name", sorted(_HUGE_WEIGHT_CASES))
def test_weights_near_the_float64_limit_give_the_unit_weight_mean(name):
    metric, args = _HUGE_WEIGHT_CASES[name]
    weights = np.array([1.0, 2.0, 3.0])
    expected = metric(*args, sample_weight=weights)
    huge = metric(*args, sample_weight=weights * 5e307)  # sum: 3e308 = inf
    assert np.isfinite(expected)
    assert huge == pytest.approx(expected, rel=1e-14)


def test_zero_weight_row_whose_term_overflows_is_left_out():
    # The third row's NLL is ~1e616 (inf in float64): with weight 0 it must not
    # turn the mean into NaN (0 * inf).
    y, mean, std = [0.0, 1.0, 1e300], [0.1, 1.5, -1e300], [1.0, 2.0, 1e-10]
    with np.errstate(over="ignore"):
        value = gaussian_nll(y, mean, std, sample_weight=[1.0, 3.0, 0.0])
    assert value == pytest.approx(
        gaussian_nll(y[:2], mean[:2], std[:2], sample_weight=[1.0, 3.0]), rel=1e-15
    )


@pytest.mark.parametrize("dtype", ["Float64", "Float32"])
def test_soft_labels_of_pandas_nullable_dtypes(dtype):
    # The estimators fit soft labels held in a DataFrame of pandas' nullable
    # float dtypes (scikit-learn's check_array converts them), but the
    # metrics took such a frame for hard labels (np.asarray of it is an
    # object array) and refused it as "y_true must be 1-D class labels".
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(3), size=40)
    proba = rng.dirichlet(np.ones(3), size=40)
    frame = pd.DataFrame(target).astype(dtype)
    # As the same numbers in a NumPy array of the dtype they convert to.
    plain = frame.to_numpy(dtype=dtype.lower())
    for metric in (cross_entropy, kl_divergence, brier_score,
                   expected_calibration_error):
        assert metric(frame, proba) == metric(plain, proba)
    exact = plain.astype(np.float64)
    assert_allclose(cross_entropy(frame, proba),
                    -np.mean(np.sum(exact * np.log(proba), axis=1)), rtol=1e-6)
    assert_allclose(brier_score(frame, proba),
                    np.mean(np.sum((proba - exact) ** 2, axis=1)), rtol=1e-6)
    frame.iloc[0, 0] = pd.NA
    with pytest.raises(ValueError, match="Input y_true contains NaN"):
        cross_entropy(frame, proba)
