"""Interval and PIT metrics against scipy.stats, their definitions and known answers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import kstest, norm

from skdiv.metrics import (
    gaussian_nll,
    interval_coverage,
    interval_coverage_gap,
    interval_score,
    interval_width,
    mean_standardized_log_loss,
    pit_calibration_error,
)

RNG = np.random.default_rng(42)
N = 400
Y_MEAN = RNG.normal(size=N)
Y_STD = RNG.uniform(0.3, 2.0, size=N)
# Targets drawn from a wider distribution than predicted, so every metric
# sees misses on both sides.
Y_TRUE = Y_MEAN + 1.3 * Y_STD * RNG.standard_normal(N)
WEIGHTS = RNG.integers(0, 4, size=N)  # zeros included
LEVELS = [0.1, 0.5, 0.8, 0.9, 0.95, 0.99]

INTERVAL_METRICS = [interval_coverage, interval_coverage_gap, interval_width,
                    interval_score]
ALL_METRICS = INTERVAL_METRICS + [mean_standardized_log_loss, pit_calibration_error]


def _repeated(*arrays, weights):
    return [np.repeat(a, weights) for a in arrays]


# --------------------------------------------------------------------------
# Against scipy.stats.norm.interval and the definitions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_coverage_and_width_count_against_norm_interval(level, weighted):
    w = WEIGHTS if weighted else None
    lower, upper = norm.interval(level, loc=Y_MEAN, scale=Y_STD)
    inside = (lower <= Y_TRUE) & (Y_TRUE <= upper)
    expected = np.average(inside, weights=w)
    coverage = interval_coverage(Y_TRUE, Y_MEAN, Y_STD, level=level, sample_weight=w)
    # Exact without weights; with them the sums are taken in another order.
    assert_allclose(coverage, expected, rtol=0 if w is None else 1e-14)
    assert 0 < coverage < 1
    assert_allclose(
        interval_coverage_gap(Y_TRUE, Y_MEAN, Y_STD, level=level, sample_weight=w),
        abs(expected - level), rtol=0 if w is None else 1e-13,
    )
    assert_allclose(
        interval_width(Y_TRUE, Y_MEAN, Y_STD, level=level, sample_weight=w),
        np.average(upper - lower, weights=w), rtol=1e-12,
    )


def _interval_score_by_definition(y, lower, upper, alpha):
    score = upper - lower
    score = score + np.where(y < lower, 2 / alpha * (lower - y), 0.0)
    score = score + np.where(y > upper, 2 / alpha * (y - upper), 0.0)
    return score


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_interval_score_against_its_definition(level, weighted):
    w = WEIGHTS if weighted else None
    lower, upper = norm.interval(level, loc=Y_MEAN, scale=Y_STD)
    expected = np.average(
        _interval_score_by_definition(Y_TRUE, lower, upper, 1 - level), weights=w
    )
    assert_allclose(
        interval_score(Y_TRUE, Y_MEAN, Y_STD, level=level, sample_weight=w),
        expected, rtol=1e-12,
    )


def test_interval_metrics_near_level_one_use_the_upper_tail():
    # 1 - alpha/2 rounds in norm.ppf(1 - alpha/2) (scipy's interval);
    # norm.isf(alpha/2) does not.
    level = 1 - 1e-12
    z = norm.isf((1 - level) / 2)  # 1 - level is exact (Sterbenz)
    assert_allclose(interval_width(Y_TRUE, Y_MEAN, Y_STD, level=level),
                    2 * z * Y_STD.mean(), rtol=1e-13)
    lower, upper = norm.interval(level, loc=Y_MEAN, scale=Y_STD)
    assert_allclose(interval_width(Y_TRUE, Y_MEAN, Y_STD, level=level),
                    np.mean(upper - lower), rtol=1e-5)  # scipy: ~1e-6 off
    assert interval_coverage(Y_TRUE, Y_MEAN, Y_STD, level=level) == 1.0


def test_scalar_std_applies_to_every_sample():
    for metric in ALL_METRICS:
        assert_allclose(metric(Y_TRUE, Y_MEAN, 0.7),
                        metric(Y_TRUE, Y_MEAN, np.full(N, 0.7)), rtol=1e-14)


def _msll_by_formula(y, mean, std, m, s2):
    model = 0.5 * np.log(2 * np.pi * std**2) + (y - mean) ** 2 / (2 * std**2)
    trivial = 0.5 * np.log(2 * np.pi * s2) + (y - m) ** 2 / (2 * s2)
    return model - trivial


def test_msll_against_the_formula_with_y_train():
    y_train = RNG.normal(0.4, 1.7, size=50)
    expected = np.mean(_msll_by_formula(Y_TRUE, Y_MEAN, Y_STD, y_train.mean(),
                                        y_train.var()))
    assert_allclose(
        mean_standardized_log_loss(Y_TRUE, Y_MEAN, Y_STD, y_train=y_train),
        expected, rtol=1e-12,
    )
    # Weights apply to the test rows only.
    expected = np.average(
        _msll_by_formula(Y_TRUE, Y_MEAN, Y_STD, y_train.mean(), y_train.var()),
        weights=WEIGHTS,
    )
    assert_allclose(
        mean_standardized_log_loss(Y_TRUE, Y_MEAN, Y_STD, y_train=y_train,
                                   sample_weight=WEIGHTS),
        expected, rtol=1e-12,
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_msll_without_y_train_uses_the_held_out_targets(weighted):
    w = WEIGHTS if weighted else None
    m = np.average(Y_TRUE, weights=w)
    s2 = np.average((Y_TRUE - m) ** 2, weights=w)
    expected = np.average(_msll_by_formula(Y_TRUE, Y_MEAN, Y_STD, m, s2), weights=w)
    msll = mean_standardized_log_loss(Y_TRUE, Y_MEAN, Y_STD, sample_weight=w)
    assert_allclose(msll, expected, rtol=1e-12)
    # The NLL minus that of the trivial Gaussian of the same targets.
    trivial = gaussian_nll(Y_TRUE, np.full(N, m), np.sqrt(s2), sample_weight=w)
    assert_allclose(msll, gaussian_nll(Y_TRUE, Y_MEAN, Y_STD, sample_weight=w)
                    - trivial, rtol=1e-12)


def test_msll_of_the_trivial_model_is_zero():
    y_train = RNG.normal(size=30)
    msll = mean_standardized_log_loss(
        Y_TRUE, np.full(N, y_train.mean()), y_train.std(), y_train=y_train
    )
    assert abs(msll) < 1e-13


def test_pit_error_equals_the_kolmogorov_smirnov_statistic():
    pit = norm.cdf(Y_TRUE, loc=Y_MEAN, scale=Y_STD)
    expected = kstest(pit, "uniform").statistic
    assert_allclose(pit_calibration_error(Y_TRUE, Y_MEAN, Y_STD), expected,
                    rtol=1e-14)
    # By hand: the largest gap of the empirical CDF, on either side of a jump.
    u = np.sort(pit)
    n = u.shape[0]
    by_hand = max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))
    assert_allclose(pit_calibration_error(Y_TRUE, Y_MEAN, Y_STD), by_hand,
                    rtol=1e-14)


# --------------------------------------------------------------------------
# Sample weights: a weight of k is k repeated rows; scale does not matter
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda f: f.__name__)
def test_weights_equal_repeated_rows(metric):
    weighted = metric(Y_TRUE, Y_MEAN, Y_STD, sample_weight=WEIGHTS)
    repeated = metric(*_repeated(Y_TRUE, Y_MEAN, Y_STD, weights=WEIGHTS))
    assert_allclose(weighted, repeated, rtol=1e-12)
    # Huge weights are normalised before they multiply anything.
    assert_allclose(metric(Y_TRUE, Y_MEAN, Y_STD, sample_weight=WEIGHTS * 1e307),
                    weighted, rtol=1e-12)
    assert not np.isclose(weighted, metric(Y_TRUE, Y_MEAN, Y_STD))


# --------------------------------------------------------------------------
# Known answers at large n
# --------------------------------------------------------------------------

N_LARGE = 200_000
_rng = np.random.default_rng(7)
MU_LARGE = _rng.normal(size=N_LARGE)
SIGMA_LARGE = _rng.uniform(0.5, 3.0, size=N_LARGE)
Y_LARGE = MU_LARGE + SIGMA_LARGE * _rng.standard_normal(N_LARGE)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.99])
def test_calibrated_model_covers_the_nominal_fraction(level):
    coverage = interval_coverage(Y_LARGE, MU_LARGE, SIGMA_LARGE, level=level)
    # Binomial standard error at most 0.0012; allow five of them.
    assert abs(coverage - level) < 5 * np.sqrt(level * (1 - level) / N_LARGE)
    assert pit_calibration_error(Y_LARGE, MU_LARGE, SIGMA_LARGE) < 1.36 / np.sqrt(
        N_LARGE)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.99])
def test_half_the_variance_covers_much_less(level):
    std = SIGMA_LARGE * np.sqrt(0.5)
    coverage = interval_coverage(Y_LARGE, MU_LARGE, std, level=level)
    # P(|Z| <= z / sqrt(2)) for Z standard normal.
    expected = 2 * norm.cdf(norm.isf((1 - level) / 2) / np.sqrt(2)) - 1
    assert abs(coverage - expected) < 5 * np.sqrt(expected * (1 - expected) / N_LARGE)
    assert coverage < level - 0.05
    assert interval_coverage_gap(Y_LARGE, MU_LARGE, std, level=level) > 0.05
    assert pit_calibration_error(Y_LARGE, MU_LARGE, std) > 0.05


@pytest.mark.parametrize("level", [0.5, 0.9])
def test_interval_score_is_proper(level):
    # For the true Gaussian E[S] = 4 phi(z) / alpha (the excess beyond each
    # bound has mean phi(z) - z alpha / 2); any other scale does worse.
    alpha = 1 - level
    z = norm.isf(alpha / 2)
    true = interval_score(Y_LARGE, MU_LARGE, SIGMA_LARGE, level=level)
    expected = np.mean(SIGMA_LARGE) * 4 * norm.pdf(z) / alpha
    assert_allclose(true, expected, rtol=0.01)
    for factor in (0.7, 0.9, 1.1, 1.4):
        assert interval_score(Y_LARGE, MU_LARGE, factor * SIGMA_LARGE,
                              level=level) > true


def test_msll_of_the_true_model_beats_the_trivial_one():
    # The trivial model's variance is var(mu) + E[sigma^2]; the true model's
    # expected MSLL is E[log sigma] - log s.
    msll = mean_standardized_log_loss(Y_LARGE, MU_LARGE, SIGMA_LARGE)
    s2 = 1.0 + np.mean(SIGMA_LARGE**2)
    assert_allclose(msll, np.mean(np.log(SIGMA_LARGE)) - 0.5 * np.log(s2), atol=0.01)
    assert msll < -0.1


# --------------------------------------------------------------------------
# Extreme but finite input: inf where it overflows, never NaN or warnings
# --------------------------------------------------------------------------


def test_overflow_gives_inf_not_nan():
    y = np.array([1e308, -1e308, 0.0])
    mean = np.array([-1e308, 1e308, 0.0])
    std = np.array([1e-300, 1e-300, 1e307])
    z = norm.isf(0.05)
    assert interval_coverage(y, mean, std) == 1 / 3
    assert_allclose(interval_width(y, mean, std), 2 * z * 1e307 / 3, rtol=1e-12)
    assert interval_width(y, mean, 1e308) == np.inf
    assert interval_score(y, mean, std) == np.inf  # misses by 2e308
    # PIT values 1, 0 and 0.5: the empirical CDF is 1/3 at 0.
    assert_allclose(pit_calibration_error(y, mean, std), 1 / 3, rtol=1e-15)
    assert mean_standardized_log_loss(y, mean, std) == np.inf
    # A zero-weight row whose score overflowed does not count.
    assert_allclose(interval_score(y, mean, std, sample_weight=[0, 0, 1]),
                    2 * z * 1e307, rtol=1e-12)


def test_msll_of_two_overflowing_squares_is_their_finite_difference():
    # z and t are both about 1e600, and equal: the naive difference is
    # inf - inf = NaN, the answer 0.
    y_train = np.array([-1e-300, 1e-300])
    y = np.array([1e300, -1e300])
    assert mean_standardized_log_loss(y, [0.0, 0.0], 1e-300, y_train=y_train) == 0.0
    # Beyond the float range with the right sign.
    assert mean_standardized_log_loss(y, [0.0, 0.0], 2e-300,
                                      y_train=y_train) == -np.inf


def test_exact_predictions():
    y = np.array([1.0, 2.0, 4.0])
    assert interval_coverage(y, y, 1e-3) == 1.0
    assert_allclose(interval_score(y, y, 1e-3), 2 * norm.isf(0.05) * 1e-3)
    assert np.isfinite(mean_standardized_log_loss(y, y, 1e-3))


# --------------------------------------------------------------------------
# Bad input: clear errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric", INTERVAL_METRICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "level, match",
    [(0.0, r"open interval \(0, 1\), got 0\.0"),
     (1.0, r"open interval \(0, 1\), got 1\.0"),
     (-0.5, "open interval"), (90, "open interval"), (np.nan, "open interval"),
     (True, "real number"), ("0.9", "real number"), (None, "real number")],
    ids=["zero", "one", "negative", "percent", "nan", "bool", "str", "none"],
)
def test_level_outside_the_open_unit_interval(metric, level, match):
    with pytest.raises(ValueError, match="level must .*" + match):
        metric(Y_TRUE, Y_MEAN, Y_STD, level=level)


@pytest.mark.parametrize("metric", ALL_METRICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([1.0, 2.0], [1.0, 2.0], [1.0, -0.5]), {},
         r"y_std must be strictly positive, got minimum -0\.5"),
        (([1.0, 2.0], [1.0, 2.0], 0.0), {}, "y_std must be strictly positive"),
        (([1.0, 2.0, 3.0], [1.0, 2.0], 1.0), {},
         "inconsistent numbers of samples"),
        (([1.0, 2.0], [1.0, 2.0], [1.0, 1.0, 1.0]), {}, "cannot be broadcast"),
        (([1.0, np.nan], [1.0, 2.0], 1.0), {}, "y_true contains NaN"),
        (([1.0, 2.0], [1.0, np.inf], 1.0), {}, "y_mean contains infinity"),
        (([[1.0, 2.0]], [[1.0, 2.0]], 1.0), {}, "y_true must be 1-D"),
        (([1.0, 2.0], [1.0, 2.0], 1.0), {"sample_weight": [1.0, -1.0]},
         "sample_weight must be non-negative"),
        (([1.0, 2.0], [1.0, 2.0], 1.0), {"sample_weight": [0.0, 0.0]},
         "at least one non-zero"),
        (([1.0, 2.0], [1.0, 2.0], 1.0), {"sample_weight": [1.0]},
         "sample_weight has 1 entries but there are 2 samples"),
    ],
    ids=["negative-std", "zero-std", "lengths", "std-length", "nan", "inf",
         "2d", "negative-weight", "zero-weights", "weight-length"],
)
def test_bad_regression_input(metric, args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        metric(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"y_train": [2.0, 2.0, 2.0]}, r"y_train has zero variance"),
     ({"y_train": [1.0, np.nan]}, "y_train contains NaN"),
     ({"y_train": [[1.0, 2.0]]}, "y_train must be 1-D")],
    ids=["constant", "nan", "2d"],
)
def test_msll_bad_y_train(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mean_standardized_log_loss([1.0, 2.0], [1.0, 2.0], 1.0, **kwargs)


def test_msll_constant_held_out_targets():
    with pytest.raises(ValueError, match="y_true has zero variance"):
        mean_standardized_log_loss([3.0, 3.0], [1.0, 2.0], 1.0)


def test_crps_is_the_integral_of_interval_scores_over_levels():
    # Gneiting and Raftery (2007): CRPS = int_0^1 (alpha / 2) S_alpha d alpha.
    from scipy.integrate import quad

    from skdiv.metrics import gaussian_crps

    for y, mu, sigma in [(0.3, 0.0, 1.0), (2.5, -1.0, 0.7), (-4.0, 1.0, 3.0)]:
        kink = 2 * norm.sf(abs(y - mu) / sigma)  # where y leaves the interval
        integral, _ = quad(
            lambda alpha, y=y, mu=mu, sigma=sigma: alpha / 2 * interval_score(
                [y], [mu], sigma, level=1 - alpha),
            0, 1, points=[kink], limit=200, epsabs=1e-12, epsrel=1e-10,
        )
        assert_allclose(integral, gaussian_crps([y], [mu], sigma), rtol=1e-8)
