"""The Anderson-accelerated fixed point (skdiv._solvers._fixed_point)."""

import numpy as np
from numpy.testing import assert_allclose

from skdiv._solvers._fixed_point import anderson_fixed_point

RNG = np.random.default_rng(0)
Q, _ = np.linalg.qr(RNG.normal(size=(3, 3)))
# A symmetric contraction with rate 0.99: the plain iteration needs about
# log(1e-10) / log(0.99) ~ 2300 steps.
A = Q @ np.diag([0.99, 0.5, -0.3]) @ Q.T
B = RNG.normal(size=3)
FIXED_POINT = np.linalg.solve(np.eye(3) - A, B)


class Map:
    """theta -> A theta + b, counting its calls; each reports 2 iterations."""

    def __init__(self, fail_at=None):
        self.calls = 0
        self.fail_at = fail_at

    def __call__(self, theta):
        self.calls += 1
        return A @ theta + B, 2, self.calls != self.fail_at


def test_converges_to_the_fixed_point_of_a_linear_map():
    refit = Map()
    result = anderson_fixed_point(refit, lambda theta: False, np.zeros(3), tol=1e-10)
    assert result.status == "converged"
    assert result.change <= 1e-10
    assert_allclose(result.theta, FIXED_POINT, rtol=1e-8)
    # Anderson on a linear map of dimension 3 with memory 5 is GMRES: a
    # handful of refits, not thousands.
    assert refit.calls < 20
    assert result.n_iter == 2 * refit.calls


def test_stops_when_a_refit_fails():
    refit = Map(fail_at=3)
    result = anderson_fixed_point(refit, lambda theta: False, np.zeros(3), tol=1e-10)
    assert result.status == "refit_failed" and refit.calls == 3


def test_keeps_the_last_image_before_divergence():
    # Points whose first coordinate passes a bound are refused: the plain
    # step that reaches one ends the iteration with the previous image.
    images = []

    def refit(theta):
        image = 1.5 * theta + 1.0  # expanding: no fixed point to approach
        images.append(image)
        return image, 1, True

    result = anderson_fixed_point(
        refit, lambda theta: theta[0] > 10, np.zeros(1), tol=1e-10
    )
    assert result.status == "diverged"
    assert result.theta[0] <= 10 and result.theta[0] in [im[0] for im in images]


def test_reports_the_cap():
    refit = Map()
    result = anderson_fixed_point(
        refit, lambda theta: False, np.zeros(3), tol=1e-12, max_refits=2
    )
    assert result.status == "max_refits" and refit.calls == 2
    assert_allclose(result.change, np.max(np.abs(A @ B + B - B)), rtol=1e-12)
