"""The adapter and the protocol: an objective written only against it fits.

``Brier`` below is written here, against :class:`skdiv._loss.Objective`
alone (nothing of skdiv's own objectives): the multiclass Brier score of a
softmax, with its exact Hessian. If the protocol were missing anything the
linear model, the adapter or a solver needs, fitting it would fail.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import softmax

from skdiv._adapter import EmpiricalRisk, linear_risk
from skdiv._loss import Objective, RawHessian
from skdiv._model import LinearModel
from skdiv._solvers import minimize


class _ExplicitHessian(RawHessian):
    """Per-sample ``k x k`` Hessians, applied by einsum."""

    def __init__(self, blocks):
        self.blocks = blocks

    def matvec(self, v):
        return np.einsum("ikm,im->ik", self.blocks, v)

    def diagonal(self):
        return np.einsum("ikk->ik", self.blocks)


class Brier(Objective):
    r"""The Brier score :math:`\sum_k (q_{ik} - p_{ik})^2` of a softmax :math:`q_i`."""

    name = "brier"

    def n_outputs(self, n_classes=None):
        return n_classes

    @staticmethod
    def _parts(y_true, raw):
        q = softmax(raw, axis=1)
        p = np.eye(raw.shape[1])[y_true] if y_true.ndim == 1 else y_true
        # J = dq/dz = diag(q) - q q^T, symmetric.
        J = np.einsum("ik,km->ikm", q, np.eye(q.shape[1])) - np.einsum(
            "ik,im->ikm", q, q
        )
        return q, q - p, J

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        q, r, J = self._parts(y_true, raw_prediction)
        loss, grad = (r**2).sum(axis=1), 2 * np.einsum("ikm,ik->im", J, r)
        if sample_weight is not None:
            loss, grad = loss * sample_weight, grad * sample_weight[:, None]
        return loss, grad

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        loss, grad = self.loss_gradient(y_true, raw_prediction, sample_weight)
        q, r, J = self._parts(y_true, raw_prediction)
        k = q.shape[1]
        # d J_km / d z_n = J_kn (delta_km - q_m) - q_k J_mn.
        T = np.einsum("ikn,km->ikmn", J, np.eye(k)) - np.einsum(
            "ikn,im->ikmn", J, q
        ) - np.einsum("ik,imn->ikmn", q, J)
        H = 2 * (np.einsum("ikm,ikn->imn", J, J) + np.einsum("ik,ikmn->imn", r, T))
        if sample_weight is not None:
            H = H * sample_weight[:, None, None]
        return loss, grad, _ExplicitHessian(H)

    def inverse_link(self, raw_prediction):
        return softmax(raw_prediction, axis=1)

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        p = np.eye(n_outputs)[y_true] if y_true.ndim == 1 else y_true
        log_mean = np.log(np.average(p, axis=0, weights=sample_weight))
        return log_mean - log_mean.mean()


def _data(rng, n=120, d=4, k=3):
    X = rng.normal(size=(n, d)) * [0.5, 1.0, 3.0, 10.0][:d] + 2.0
    logits = (X - X.mean(0)) / X.std(0) @ rng.normal(size=(d, k))
    y = (logits + rng.gumbel(size=(n, k))).argmax(axis=1)
    return X, y, rng.uniform(0.5, 2.0, size=n)


def _reference_value(X, y, sw, alpha, coef, intercept):
    """The penalised Brier objective written out in numpy."""
    q = softmax(X @ coef.T + intercept, axis=1)
    loss = ((q - np.eye(coef.shape[0])[y]) ** 2).sum(axis=1)
    return loss @ sw / sw.sum() + 0.5 * alpha * np.sum(coef**2)


@pytest.mark.parametrize("precondition", ["none", "diagonal", "whiten"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_protocol_objective_value_gradient_and_hessian(precondition, sparse):
    rng = np.random.default_rng(0)
    X, y, sw = _data(rng)
    alpha = 0.01
    risk = linear_risk(
        Brier(), sp.csr_matrix(X) if sparse else X, y, n_outputs=3,
        sample_weight=sw, alpha=alpha, precondition=precondition,
        sum_zero=False, hessian_precision="double",
    )
    params = rng.normal(size=risk.n_params) * 0.2
    value, grad = risk.loss_gradient(params)
    assert value == pytest.approx(
        _reference_value(X, y, sw, alpha, *risk.unpack(params)), rel=1e-12
    )
    eps = 1e-6
    numeric = np.array([
        (risk.loss(params + eps * e) - risk.loss(params - eps * e)) / (2 * eps)
        for e in np.eye(risk.n_params)
    ])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    _, grad2, hessian = risk.loss_gradient_hessian(params)
    np.testing.assert_allclose(grad2, grad, rtol=1e-14)
    for v in rng.normal(size=(3, risk.n_params)):
        numeric_hv = (
            risk.loss_gradient(params + eps * v)[1]
            - risk.loss_gradient(params - eps * v)[1]
        ) / (2 * eps)
        np.testing.assert_allclose(hessian.matvec(v), numeric_hv, rtol=1e-5, atol=1e-7)
    if precondition != "whiten":
        exact = np.array([hessian.matvec(e) @ e for e in np.eye(risk.n_params)])
        # Brier is not shift invariant: the diagonal is the exact one.
        np.testing.assert_allclose(hessian.diagonal(), exact, rtol=1e-9, atol=1e-12)


def test_protocol_objective_fits_with_both_solvers_to_a_scipy_reference():
    rng = np.random.default_rng(1)
    X, y, sw = _data(rng)
    alpha = 0.01

    def reference(theta):
        coef, intercept = theta[:12].reshape(3, 4), theta[12:]
        return _reference_value(X, y, sw, alpha, coef, intercept)

    start = np.r_[np.zeros(12), Brier().constant_prediction(y, sw, n_outputs=3)]
    expected = scipy.optimize.minimize(
        reference, start, method="BFGS", options={"gtol": 1e-10}
    ).x
    # L-BFGS cannot resolve gradients below about 1e-8 here (the value stops
    # decreasing in floating point first); Newton-CG can.
    for solver, tol in (("lbfgs", 1e-7), ("newton-cg", 1e-10)):
        risk = linear_risk(Brier(), X, y, n_outputs=3, sample_weight=sw, alpha=alpha)
        x0 = risk.pack(np.zeros((3, 4)), start[12:])
        params, _ = minimize(risk, x0, solver=solver, tol=tol, max_iter=2000)
        coef, intercept = risk.unpack(params)
        assert risk.gradient_norm(risk.loss_gradient(params)[1]) <= tol
        assert risk.loss(params) <= reference(expected) + 1e-12
        np.testing.assert_allclose(coef.ravel(), expected[:12], atol=1e-5)
        # Brier's logits are defined up to a common shift, fixed by the penalty
        # on the coefficients only: compare probabilities, not intercepts.
        np.testing.assert_allclose(
            softmax(X @ coef.T + intercept, axis=1),
            softmax(X @ expected[:12].reshape(3, 4).T + expected[12:], axis=1),
            atol=1e-6,
        )


def test_constant_prediction_is_the_intercept_only_optimum():
    rng = np.random.default_rng(2)
    _, y, sw = _data(rng)
    z = Brier().constant_prediction(y, sw, n_outputs=3)
    raw = np.tile(z, (y.shape[0], 1))
    _, grad = Brier().loss_gradient(y, raw, sw)
    np.testing.assert_allclose(grad.sum(axis=0), 0.0, atol=1e-12)


def test_adapter_normalises_weights_and_adds_the_penalty_once():
    # F = sum_i s_i l_i / sum_i s_i + alpha P: scaling the weights changes
    # nothing, and the penalty is the model's, times alpha.
    rng = np.random.default_rng(3)
    X, y, sw = _data(rng)
    model = LinearModel(X, 3, sample_weight=sw, precondition="none")
    params = rng.normal(size=model.n_params)
    values = [
        EmpiricalRisk(Brier(), model, y, sample_weight=c * sw, alpha=0.3).loss(params)
        for c in (1.0, 7.5)
    ]
    assert values[0] == pytest.approx(values[1], rel=1e-14)
    unpenalised = EmpiricalRisk(Brier(), model, y, sample_weight=sw).loss(params)
    coef, _ = model.unpack(params)
    assert values[0] - unpenalised == pytest.approx(0.15 * np.sum(coef**2), rel=1e-12)
    # Equal weights are dropped: the same function, no per-evaluation products.
    equal = EmpiricalRisk(Brier(), model, y, sample_weight=np.full(len(y), 2.0))
    assert equal.sample_weight is None
    assert equal.loss(params) == pytest.approx(
        EmpiricalRisk(Brier(), model, y).loss(params), rel=1e-14
    )
