"""Objectives in link space: gradients, Hessians, closed forms, stability."""

import numpy as np
import pytest
from scipy.special import expit, log_softmax, rel_entr, softmax
from scipy.stats import entropy as scipy_entropy
from scipy.stats import norm

from skdiv._loss import (
    LOG_VAR_LIMIT,
    OBJECTIVES,
    BetaNLLPotential,
    CrossEntropy,
    GaussianKL,
    GaussianNLL,
    KLDivergence,
    SquaredError,
    get_objective,
    row_entropy,
)

N_SAMPLES = 7


def _soft_targets(rng, n, k):
    p = rng.dirichlet(np.ones(k), size=n)
    p[0] = np.eye(k)[0]  # one hard row, with exact zeros
    return p


def _problem(name, shape, rng):
    """Return (objective, y_true, raw) for an objective and a raw shape."""
    n = N_SAMPLES
    if name in ("cross_entropy", "kl_divergence"):
        objective = OBJECTIVES[name]()
        if shape == "binary":
            return objective, rng.uniform(size=n), rng.normal(size=n) * 3
        if shape == "hard":
            return objective, rng.integers(0, 4, size=n), rng.normal(size=(n, 4)) * 3
        return objective, _soft_targets(rng, n, 4), rng.normal(size=(n, 4)) * 3
    if name == "gaussian_nll":
        raw = np.column_stack([rng.normal(size=n), rng.normal(size=n)])
        return GaussianNLL(), rng.normal(size=n) * 2, raw
    if name == "gaussian_kl":
        raw = np.column_stack([rng.normal(size=n), rng.normal(size=n)])
        target = np.column_stack([rng.normal(size=n), rng.uniform(0.2, 2, size=n)])
        return GaussianKL(), target, raw
    if name.startswith("beta_potential"):
        # "beta_potential-<beta>-<nll|kl>", at a scale c != 1.
        _, beta, base = name.split("-")
        raw = np.column_stack([rng.normal(size=n), rng.normal(size=n)])
        if base == "kl":
            target = np.column_stack([rng.normal(size=n), rng.uniform(0.2, 2, size=n)])
            return BetaNLLPotential(GaussianKL(), float(beta), 1.7), target, raw
        objective = BetaNLLPotential(GaussianNLL(), float(beta), 1.7)
        return objective, rng.normal(size=n), raw
    return SquaredError(), rng.normal(size=n), rng.normal(size=n)


CASES = [
    ("cross_entropy", "binary"),
    ("cross_entropy", "hard"),
    ("cross_entropy", "soft"),
    ("kl_divergence", "binary"),
    ("kl_divergence", "hard"),
    ("kl_divergence", "soft"),
    ("gaussian_nll", "mean-logvar"),
    ("gaussian_kl", "mean-logvar"),
    ("squared_error", "mean"),
    ("beta_potential-0.5-nll", "mean-logvar"),
    ("beta_potential-0.2-kl", "mean-logvar"),
    ("beta_potential-1.0-nll", "mean-logvar"),
]
CASE_IDS = [f"{name}-{shape}" for name, shape in CASES]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, shape", CASES, ids=CASE_IDS)
def test_gradient_matches_central_differences(name, shape, weighted):
    rng = np.random.default_rng(0)
    objective, y, raw = _problem(name, shape, rng)
    sw = rng.uniform(0.1, 3, size=N_SAMPLES) if weighted else None
    loss, grad = objective.loss_gradient(y, raw, sw)
    assert loss.shape == (N_SAMPLES,) and grad.shape == raw.shape
    eps = 1e-6
    numeric = np.zeros_like(raw)
    for idx in np.ndindex(raw.shape):
        step = np.zeros_like(raw)
        step[idx] = eps
        numeric[idx] = (
            objective.loss(y, raw + step, sw).sum()
            - objective.loss(y, raw - step, sw).sum()
        ) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, shape", CASES, ids=CASE_IDS)
def test_hessian_product_matches_gradient_differences(name, shape, weighted):
    rng = np.random.default_rng(1)
    objective, y, raw = _problem(name, shape, rng)
    sw = rng.uniform(0.1, 3, size=N_SAMPLES) if weighted else None
    _, grad, hessp = objective.loss_gradient_hessian(y, raw, sw)
    np.testing.assert_allclose(grad, objective.loss_gradient(y, raw, sw)[1])
    v = rng.normal(size=raw.shape)
    eps = 1e-6
    numeric = (
        objective.loss_gradient(y, raw + eps * v, sw)[1]
        - objective.loss_gradient(y, raw - eps * v, sw)[1]
    ) / (2 * eps)
    np.testing.assert_allclose(hessp.matvec(v), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, shape", CASES, ids=CASE_IDS)
def test_hessian_diagonal_is_the_diagonal_of_the_hessian_product(name, shape, weighted):
    # hessp.diagonal() (the Jacobi preconditioner's source) against H e_j.
    rng = np.random.default_rng(2)
    objective, y, raw = _problem(name, shape, rng)
    sw = rng.uniform(0.1, 3, size=N_SAMPLES) if weighted else None
    *_, hessp = objective.loss_gradient_hessian(y, raw, sw)
    width = 1 if raw.ndim == 1 else raw.shape[1]
    expected = np.zeros((raw.shape[0], width))
    for k in range(width):
        unit = np.zeros((raw.shape[0], width))
        unit[:, k] = 1.0
        # The Hessian is block diagonal over samples: H (1 in column k) has
        # the (k, k) entries of every sample's block in its column k.
        expected[:, k] = hessp.matvec(unit.reshape(raw.shape)).reshape(-1, width)[:, k]
    np.testing.assert_allclose(
        hessp.diagonal().reshape(-1, width), expected, rtol=1e-13, atol=1e-15
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("objective", [CrossEntropy(), KLDivergence()])
def test_softmax_hessian_diagonal_in_another_basis(objective, weighted):
    # hessp.diagonal_in(B): per sample, b^T H_i b for each column b of B,
    # in closed form, against the Hessian product along b.
    rng = np.random.default_rng(3)
    n, k = 20, 4
    raw = rng.normal(size=(n, k)) * 3
    y = rng.dirichlet(np.ones(k), size=n)
    sw = rng.uniform(0.1, 3, size=n) if weighted else None
    *_, hessp = objective.loss_gradient_hessian(y, raw, sw)
    basis = rng.normal(size=(k, 3))
    expected = np.column_stack([
        np.einsum("ik,k->i", hessp.matvec(np.tile(b, (n, 1))), b) for b in basis.T
    ])
    np.testing.assert_allclose(
        hessp.diagonal_in(basis), expected, rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        hessp.diagonal_in(np.eye(k)), hessp.diagonal(), rtol=1e-12, atol=1e-15
    )


def test_cross_entropy_known_values():
    logits = np.array([[1.0, 2.0, 3.0]])
    hard = CrossEntropy().loss(np.array([2]), logits)
    soft = CrossEntropy().loss(np.array([[0.2, 0.3, 0.5]]), logits)
    assert hard[0] == pytest.approx(0.4076059644443804, rel=1e-15)
    assert soft[0] == pytest.approx(1.1076059644443805, rel=1e-15)


def test_kl_is_cross_entropy_minus_entropy_with_identical_gradient():
    rng = np.random.default_rng(2)
    p = _soft_targets(rng, 50, 5)
    z = rng.normal(size=(50, 5)) * 4
    ce, ce_grad = CrossEntropy().loss_gradient(p, z)
    kl, kl_grad = KLDivergence().loss_gradient(p, z)
    np.testing.assert_array_equal(ce_grad, kl_grad)
    np.testing.assert_allclose(ce - kl, scipy_entropy(p, axis=1), rtol=1e-12)
    # Per element, KL is scipy's rel_entr against softmax(z).
    np.testing.assert_allclose(
        kl, rel_entr(p, softmax(z, axis=1)).sum(axis=1), rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(ce, -(p * log_softmax(z, axis=1)).sum(axis=1))


def test_kl_known_value_with_zero_target():
    p = np.array([[0.5, 0.5, 0.0]])
    z = np.log([[0.25, 0.25, 0.5]])
    assert KLDivergence().loss(p, z)[0] == pytest.approx(np.log(2), rel=1e-14)


def test_binary_is_two_class_softmax():
    rng = np.random.default_rng(3)
    z = rng.normal(size=20) * 5
    p = rng.uniform(size=20)
    for cls in (CrossEntropy, KLDivergence):
        binary = cls().loss(p, z)
        two_class = cls().loss(np.column_stack([1 - p, p]), np.column_stack([0 * z, z]))
        np.testing.assert_allclose(binary, two_class, rtol=1e-12)


@pytest.mark.parametrize("cls", [CrossEntropy, KLDivergence], ids=["ce", "kl"])
def test_extreme_logits_are_finite_and_exact(cls):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    p = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = cls().loss_gradient(p, z)
    # Row 0 puts all its mass on a class whose logit is 2e4 below the max.
    ce_expected = np.array([2e4, np.log(2)])
    offset = np.array([0.0, -np.log(2)]) if cls is KLDivergence else 0.0
    np.testing.assert_allclose(loss, ce_expected + offset, rtol=1e-14, atol=1e-12)
    assert np.isfinite(grad).all()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss_b, grad_b = cls().loss_gradient(
            np.array([0.0, 1.0]), np.array([1e4, -1e4])
        )
    np.testing.assert_allclose(loss_b, [1e4, 1e4])
    np.testing.assert_allclose(grad_b, [1.0, -1.0])


def test_gaussian_nll_is_scipy_logpdf():
    rng = np.random.default_rng(4)
    y, mean = rng.normal(size=30), rng.normal(size=30)
    log_var = rng.normal(size=30)
    loss = GaussianNLL().loss(y, np.column_stack([mean, log_var]))
    expected = -norm.logpdf(y, loc=mean, scale=np.exp(log_var / 2))
    np.testing.assert_allclose(loss, expected, rtol=1e-13)
    assert GaussianNLL().loss(np.array([1.0]), np.zeros((1, 2)))[0] == pytest.approx(
        0.5 + 0.5 * np.log(2 * np.pi), rel=1e-15
    )


def test_gaussian_kl_closed_form_and_relation_to_nll():
    rng = np.random.default_rng(5)
    m, s = rng.normal(size=30), rng.uniform(0.1, 2, size=30)
    mean, log_var = rng.normal(size=30), rng.normal(size=30)
    sigma = np.exp(log_var / 2)
    raw = np.column_stack([mean, log_var])
    kl = GaussianKL().loss(np.column_stack([m, s]), raw)
    expected = np.log(sigma / s) + (s**2 + (m - mean) ** 2) / (2 * sigma**2) - 0.5
    np.testing.assert_allclose(kl, expected, rtol=1e-12, atol=1e-14)
    # KL = E_target[NLL] - H(target), H = 0.5 log(2 pi e s^2).
    expected_nll = GaussianNLL().loss(m, raw) + s**2 / (2 * sigma**2)
    entropy = 0.5 * np.log(2 * np.pi * np.e * s**2)
    np.testing.assert_allclose(kl, expected_nll - entropy, rtol=1e-12, atol=1e-12)
    # Zero at a perfect fit.
    assert GaussianKL().loss(np.array([[0.3, 2.0]]), np.array([[0.3, np.log(4.0)]]))[
        0
    ] == pytest.approx(0.0, abs=1e-15)


def test_gaussian_log_variance_is_clipped_without_overflow():
    raw = np.array([[0.0, 1e5], [0.0, -1e5]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = GaussianNLL().loss_gradient(np.array([1.0, 1.0]), raw)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()
    # Beyond the bounds: the bound's loss plus (eta - bound)^2 / 2, whose
    # gradient pulls the log-variance back.
    bound = np.array([LOG_VAR_LIMIT, -LOG_VAR_LIMIT])
    at_bound = GaussianNLL().loss(np.ones(2), np.column_stack([[0, 0], bound]))
    np.testing.assert_allclose(loss, at_bound + 0.5 * (raw[:, 1] - bound) ** 2,
                               rtol=1e-14)
    np.testing.assert_array_equal(grad[:, 1], raw[:, 1] - bound)


@pytest.mark.parametrize("objective", [
    GaussianNLL(-3.0, 3.0), GaussianKL(-3.0, 3.0),
    BetaNLLPotential(GaussianNLL(-3.0, 3.0), 0.5, scale=1.7),
    BetaNLLPotential(GaussianNLL(-3.0, 3.0), 1.0),
])
def test_gaussian_losses_pull_a_log_variance_back_from_beyond_its_bounds(objective):
    # A log-variance beyond the bounds (a warm start from an exactly fitted
    # model) has a gradient pointing back and positive curvature: the
    # derivatives are those of the loss, by central differences, and the
    # values within the bounds are the unclipped formula's.
    rng = np.random.default_rng(3)
    n = 6
    if isinstance(objective, GaussianKL):
        y = np.column_stack([rng.normal(size=n), rng.uniform(0.5, 2, size=n)])
    else:
        y = rng.normal(size=n)
    raw = np.column_stack([rng.normal(size=n), [-9.0, -4.0, -1.0, 0.5, 5.0, 12.0]])
    loss, grad, hessian = objective.loss_gradient_hessian(y, raw)
    assert grad[0, 1] < 0 and grad[1, 1] < 0 and grad[-1, 1] > 0
    assert np.all(hessian.h_ee[[0, 1, 4, 5]] > 0)
    h = 1e-6
    for column in (0, 1):
        step = np.zeros_like(raw)
        step[:, column] = h
        numeric = objective.loss(y, raw + step) - objective.loss(y, raw - step)
        numeric /= 2 * h
        np.testing.assert_allclose(grad[:, column], numeric, rtol=1e-6, atol=1e-8)
    step = np.zeros_like(raw)
    step[:, 1] = h
    up = objective.loss_gradient(y, raw + step)[1][:, 1]
    down = objective.loss_gradient(y, raw - step)[1][:, 1]
    np.testing.assert_allclose(hessian.h_ee, (up - down) / (2 * h), rtol=1e-5,
                               atol=1e-8)


def test_squared_error_is_unit_variance_nll_minus_constant():
    rng = np.random.default_rng(6)
    y, mean = rng.normal(size=10), rng.normal(size=10)
    nll = GaussianNLL().loss(y, np.column_stack([mean, np.zeros(10)]))
    np.testing.assert_allclose(
        SquaredError().loss(y, mean), nll - 0.5 * np.log(2 * np.pi), rtol=1e-12
    )


def test_row_entropy_matches_scipy():
    rng = np.random.default_rng(7)
    p = _soft_targets(rng, 10, 6)
    np.testing.assert_allclose(row_entropy(p), scipy_entropy(p, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(row_entropy(np.array([0, 2, 1])), np.zeros(3))


def test_registry_resolves_names_and_instances():
    for name, cls in OBJECTIVES.items():
        assert type(get_objective(name)) is cls
    instance = KLDivergence()
    assert get_objective(instance) is instance


def test_registry_errors_list_valid_names_sorted():
    valid = str(sorted(OBJECTIVES))
    message = f"valid names are {valid}".replace("[", r"\[")
    with pytest.raises(ValueError, match=message):
        get_objective("hinge")
    with pytest.raises(ValueError, match=r"\['cross_entropy', 'kl_divergence'\]"):
        get_objective("gaussian_nll", allowed=["kl_divergence", "cross_entropy"])
    # KLDivergence subclasses CrossEntropy in code but is not accepted for it.
    with pytest.raises(ValueError, match="instance"):
        get_objective(KLDivergence(), allowed=["cross_entropy"])


# ------------------------------------------------------- the protocol's rest
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, shape", CASES, ids=CASE_IDS)
def test_constant_prediction_zeroes_the_mean_gradient(name, shape, weighted):
    # The intercept-only optimum: the gradient of the weighted loss sum at
    # the same raw prediction for every sample is zero (the softmax's up to
    # its flat direction, which sums to zero anyway).
    rng = np.random.default_rng(3)
    objective, y, raw = _problem(name, shape, rng)
    if shape == "hard":
        y[:4] = [0, 1, 2, 3]  # every class present
    sw = rng.uniform(0.1, 3, size=N_SAMPLES) if weighted else None
    width = 1 if raw.ndim == 1 else raw.shape[1]
    z = objective.constant_prediction(y, sw, n_outputs=width)
    assert z.shape == (width,)
    constant = np.tile(z, (N_SAMPLES, 1)) if raw.ndim == 2 else np.full(N_SAMPLES, z[0])
    _, grad = objective.loss_gradient(y, constant, sw)
    np.testing.assert_allclose(grad.sum(axis=0), 0.0, atol=1e-12)


def test_constant_prediction_closed_forms():
    y = np.array([0, 0, 1, 2, 2, 2])
    z = CrossEntropy().constant_prediction(y, n_outputs=3)
    np.testing.assert_allclose(softmax(z), [2 / 6, 1 / 6, 3 / 6], rtol=1e-14)
    assert z.sum() == pytest.approx(0.0, abs=1e-15)  # the penalty's choice
    p = np.array([0.2, 0.9, 0.4])
    np.testing.assert_allclose(
        CrossEntropy().constant_prediction(p), [np.log(0.5 / 0.5)], atol=1e-15
    )
    target = np.array([1.0, 2.0, 6.0])
    mean, log_var = GaussianNLL().constant_prediction(target)
    assert mean == pytest.approx(3.0) and log_var == pytest.approx(np.log(14 / 3))
    gaussian = np.column_stack([target, [1.0, 2.0, 2.0]])
    mean, log_var = GaussianKL().constant_prediction(gaussian)
    assert mean == pytest.approx(3.0) and log_var == pytest.approx(np.log(23 / 3))
    assert SquaredError().constant_prediction(target)[0] == pytest.approx(3.0)


def test_inverse_link_and_n_outputs():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(5, 3)) * 50
    np.testing.assert_allclose(CrossEntropy().inverse_link(z), softmax(z, axis=1))
    logit = np.array([-800.0, -3.0, 0.0, 3.0, 800.0])
    proba = CrossEntropy().inverse_link(logit)
    np.testing.assert_allclose(proba[:, 1], expit(logit), rtol=1e-15)
    np.testing.assert_allclose(proba[:, 0], expit(-logit), rtol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    raw = np.column_stack([[1.0, -2.0], [np.log(4.0), 500.0]])
    np.testing.assert_allclose(
        GaussianNLL().inverse_link(raw), [[1.0, 2.0], [-2.0, np.exp(40.0)]]
    )
    assert [CrossEntropy().n_outputs(2), KLDivergence().n_outputs(5)] == [1, 5]
    assert GaussianNLL().n_outputs() == GaussianKL().n_outputs() == 2
    assert SquaredError().n_outputs() == 1
    with pytest.raises(ValueError, match="n_classes >= 2"):
        CrossEntropy().n_outputs(1)


@pytest.mark.parametrize("beta", [0.3, 0.5, 0.9])
@pytest.mark.parametrize("base", [GaussianNLL(), GaussianKL()], ids=["nll", "kl"])
def test_beta_potential_gradient_is_the_beta_weighted_nll_gradient(beta, base):
    # The defining property: in (mu, eta), with mu = sqrt(1 - beta) mu', the
    # potential's gradient is sigma^(2 beta) / c times the loss's gradient,
    # the mean component divided by sqrt(1 - beta) (absorbed by mu').
    rng = np.random.default_rng(3)
    n = 9
    y = rng.normal(size=n) * 2
    if isinstance(base, GaussianKL):
        y = np.column_stack([y, rng.uniform(0.2, 2, size=n)])
    raw = np.column_stack([rng.normal(size=n), rng.normal(size=n) * 2])
    potential = BetaNLLPotential(base, beta, scale=0.4)
    k = np.sqrt(1 - beta)
    mean_logvar = np.column_stack([k * raw[:, 0], raw[:, 1]])
    _, nll_grad = base.loss_gradient(y, mean_logvar)
    weight = np.exp(beta * raw[:, 1]) / 0.4
    expected = nll_grad * weight[:, None]
    expected[:, 0] /= k
    np.testing.assert_allclose(potential.loss_gradient(y, raw)[1], expected, rtol=1e-13)


def test_beta_potential_is_bounded_below_where_the_nll_is_not():
    # A sample fitted exactly: the NLL tends to -inf as its variance shrinks,
    # the potential to its infimum -1 / (2 beta c).
    potential = BetaNLLPotential(GaussianNLL(-700.0, 80.0), 0.5, scale=2.0)
    y = np.array([np.sqrt(0.5)])
    nll = GaussianNLL(-700.0, 80.0).loss(y, np.array([[np.sqrt(0.5), -600.0]]))
    assert nll[0] < -299
    # The potential's raw mean is mu / sqrt(1 - beta): 1 is the mean sqrt(0.5).
    np.testing.assert_allclose(
        potential.loss(y, np.array([[1.0, -600.0]])), [-1 / (2 * 0.5 * 2)],
        rtol=1e-15,
    )


@pytest.mark.parametrize("raw_order", ["C", "F", "strided"])
@pytest.mark.parametrize("proba_order", ["C", "F", "strided"])
@pytest.mark.parametrize("shape", [(7, 3), (1, 4), (5, 1)])
def test_hard_label_entries_in_any_memory_layout(raw_order, proba_order, shape):
    # The loss and gradient read and write the labels' entries by one flat
    # gather in the arrays' memory order: the same numbers as indexing by
    # row and column, and the gradient written into the array given.
    from skdiv._loss._classification import softmax_lse

    def laid_out(values, order):
        if order == "strided":
            wide = np.zeros((values.shape[0], 2 * values.shape[1]))
            wide[:, ::2] = values
            return wide[:, ::2]
        return np.array(values, order=order)

    rng = np.random.default_rng(sum(shape))
    n, k = shape
    raw = laid_out(rng.normal(size=shape), raw_order)
    labels = rng.integers(0, k, size=n)
    proba, lse = softmax_lse(raw)
    proba = laid_out(proba, proba_order)
    expected_grad = proba.copy()
    expected_grad[np.arange(n), labels] -= 1
    expected_loss = lse - raw[np.arange(n), labels]
    loss, grad = CrossEntropy._multinomial_from(labels, raw, proba, lse)
    assert grad is proba
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_array_equal(loss, expected_loss)
