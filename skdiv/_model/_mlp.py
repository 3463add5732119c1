r"""The multilayer perceptron: a second model behind the same objectives.

A fully connected network with hidden layers of widths :math:`h_1, \dots,
h_{L-1}` and an output layer of the objective's width (``n_outputs``):

.. math::

    a_0 = x, \qquad
    a_l = f(a_{l-1} W_l + b_l) \quad (l < L), \qquad
    z = a_{L-1} W_L + b_L ,

with :math:`f` the hidden activation (relu, tanh or logistic) and
:math:`z` the raw predictions the objective receives: the output
activation is the objective's link (softmax or sigmoid, identity on mean
and log-variance), applied by the objective, not here. :math:`W_l` has
shape ``(fan_in, fan_out)`` and the flat parameter vector holds every
:math:`W_l` (row-major) and then every :math:`b_l`, the layout of
scikit-learn's ``MLPClassifier._pack``, so that ``coefs_`` and
``intercepts_`` are scikit-learn's.

The gradient is back-propagation (:meth:`MLPModel.pullback`). The Hessian
operator is the Gauss-Newton matrix :math:`\sum_i J_i^\top H_i J_i`, with
:math:`J_i` the Jacobian of sample ``i``'s raw predictions and :math:`H_i`
the objective's Hessian in raw space: a forward-mode product :math:`J v`,
the objective's :class:`~skdiv._loss.RawHessian`, and back-propagation.
It omits the curvature of the network itself, so it is positive
semi-definite wherever :math:`H_i` is (the softmax, the squared error).

The penalty is :math:`\tfrac12 \sum_l \lVert W_l \rVert_F^2`, weights
only, the biases unpenalised, the linear model's convention: with no hidden
layer the network *is* the linear model (:class:`~skdiv._model.LinearModel`
in original coordinates).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._base import HessianOperator, Model
from ._kernels import column_sums

ACTIVATIONS = ("identity", "logistic", "relu", "tanh")


def _activate(name, z):
    """:math:`f(z)` in place (``z`` is a fresh pre-activation)."""
    if name == "relu":
        np.maximum(z, 0, out=z)
    elif name == "tanh":
        np.tanh(z, out=z)
    elif name == "logistic":
        # 1 / (1 + e^-z), with e^-z clipped so that float32 never overflows.
        np.negative(z, out=z)
        np.clip(z, -80.0, 80.0, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)
    return z


def _derivative(name, a):
    r""":math:`f'` from the activation's *output* :math:`a = f(z)`.

    relu: :math:`[a > 0]`; tanh: :math:`1 - a^2`; logistic: :math:`a (1 - a)`.
    Storing outputs only (as scikit-learn does) halves the forward pass's
    memory.
    """
    if name == "relu":
        return (a > 0).astype(a.dtype)
    if name == "tanh":
        return 1.0 - a * a
    if name == "logistic":
        return a * (1.0 - a)
    return np.ones_like(a)


def _dot(A, W):
    """``A @ W`` for dense or CSR ``A``, a dense ndarray in ``W``'s dtype."""
    if sp.issparse(A):
        return np.asarray(A @ W)
    return A @ W


def glorot_uniform(layer_units, activation, random_state, dtype=np.float64):
    r"""Initial ``coefs`` and ``intercepts``, drawn as scikit-learn's MLP draws them.

    Each layer, in order, draws its weights and then its biases from
    :math:`U(-r, r)` with :math:`r = \sqrt{c / (\text{fan\_in} +
    \text{fan\_out})}`, :math:`c = 2` for the logistic activation and 6
    otherwise (Glorot and Bengio, 2010), by ``random_state.uniform``: the
    same generator calls as ``MLPClassifier._init_coef``, so a fixed
    ``random_state`` gives scikit-learn's starting point.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : str
    random_state : int, RandomState instance or None
    dtype : numpy dtype, default=np.float64

    Returns
    -------
    coefs : list of ndarray of shape (fan_in, fan_out)
    intercepts : list of ndarray of shape (fan_out,)
    """
    rng = check_random_state(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
        intercepts.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return coefs, intercepts


class MLPModel(Model):
    """A fully connected network from rows ``X`` to ``n_outputs`` raw predictions.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The rows. CSR ``X`` enters only products of the first layer (never
        densified); float32 ``X`` keeps the network's products in float32,
        while losses, gradients and parameters are float64.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers; ``()`` is the linear model.
    n_outputs : int
        Width of the output layer (the objective's ``n_outputs``).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    detach_outputs : tuple of int, default=()
        Outputs whose gradient reaches the output layer only, not the hidden
        layers (stop-gradient): the regressor's two-stage ``squared_error``
        fits a log-variance that is linear in the last hidden layer, on
        features learnt for the mean.
    """

    def __init__(self, X, hidden_layer_sizes, n_outputs, *, activation="relu",
                 detach_outputs=()):
        self.X = X
        self.n_features = X.shape[1]
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.n_outputs = int(n_outputs)
        self.activation = activation
        self.detach_outputs = tuple(detach_outputs)
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.layer_units = [self.n_features, *self.hidden_layer_sizes, self.n_outputs]
        self._coef_slices, self._intercept_slices = [], []
        start = 0
        units = self.layer_units
        for fan_in, fan_out in zip(units[:-1], units[1:], strict=True):
            self._coef_slices.append((slice(start, start + fan_in * fan_out),
                                      (fan_in, fan_out)))
            start += fan_in * fan_out
        for fan_out in self.layer_units[1:]:
            self._intercept_slices.append(slice(start, start + fan_out))
            start += fan_out
        self._n_params = start
        self._n_coef = self._intercept_slices[0].start

    def on_rows(self, X):
        """The same network on other rows (a mini-batch, a validation set)."""
        return MLPModel(X, self.hidden_layer_sizes, self.n_outputs,
                        activation=self.activation, detach_outputs=self.detach_outputs)

    # ------------------------------------------------------------ packing
    @property
    def n_params(self):
        return self._n_params

    @property
    def n_layers(self):
        return len(self.layer_units) - 1

    def pack(self, coefs, intercepts):
        """``coefs_`` and ``intercepts_`` (scikit-learn's layout) -> flat vector."""
        return np.concatenate(
            [np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts]
        ).astype(np.float64)

    def unpack(self, params):
        """Flat vector -> ``(coefs, intercepts)``: views of ``params``."""
        coefs = [params[s].reshape(shape) for s, shape in self._coef_slices]
        intercepts = [params[s] for s in self._intercept_slices]
        return coefs, intercepts

    def _weights(self, params):
        """The layers in the products' precision (X's: float32 for float32 X)."""
        coefs, intercepts = self.unpack(params)
        dtype = self.dtype
        return ([c.astype(dtype, copy=False) for c in coefs],
                [b.astype(dtype, copy=False) for b in intercepts])

    # ------------------------------------------------------ forward, back
    def _forward(self, weights, X):
        """Activations :math:`a_0 = X, a_1, \\dots, a_{L-1}` and the raw :math:`z`."""
        coefs, intercepts = weights
        activations = [X]
        a = X
        for layer in range(self.n_layers):
            z = _dot(a, coefs[layer])
            z += intercepts[layer]
            if layer < self.n_layers - 1:
                a = _activate(self.activation, z)
                activations.append(a)
        return activations, z

    def _raw(self, z):
        raw = np.asarray(z, dtype=np.float64)
        return raw[:, 0] if self.n_outputs == 1 else raw

    def forward(self, params, X=None):
        """Raw predictions at ``params``, 1-D when there is one output (float64)."""
        X = self.X if X is None else X
        return self._raw(self._forward(self._weights(params), X)[1])

    def _backward(self, weights, activations, delta):
        r"""Back-propagation of :math:`\delta_L = \partial \ell / \partial z`.

        :math:`\nabla W_l = a_{l-1}^\top \delta_l`, :math:`\nabla b_l =
        \mathbf 1^\top \delta_l`, :math:`\delta_{l-1} = (\delta_l
        W_l^\top) \odot f'(a_{l-1})`. Returns the flat float64 gradient.
        """
        coefs = weights[0]
        grad = np.empty(self._n_params)
        delta = np.asarray(delta, dtype=self.dtype)
        if delta.ndim == 1:
            delta = delta[:, None]
        for layer in range(self.n_layers - 1, -1, -1):
            a = activations[layer]
            s, shape = self._coef_slices[layer]
            if sp.issparse(a):
                # X^T delta by the CSR matrix's transpose: no dense copy of X.
                grad_coef = np.asarray(a.T @ delta)
            else:
                grad_coef = a.T @ delta
            grad[s] = grad_coef.ravel()
            # Column sums by BLAS: numpy's sum down the rows of an n x k array
            # walks n short rows (see skdiv._model._kernels.column_sums).
            grad[self._intercept_slices[layer]] = column_sums(delta)
            if layer == 0:
                break
            if layer == self.n_layers - 1 and self.detach_outputs:
                delta = delta.copy()
                delta[:, list(self.detach_outputs)] = 0.0
            delta = delta @ coefs[layer].T
            if self.activation == "relu":
                # f' is [a > 0]: a boolean mask, no float copy of it.
                delta *= a > 0
            else:
                delta *= _derivative(self.activation, a)
        return grad

    def pullback(self, params, grad_raw, X=None):
        """:math:`\\sum_i J_i^\\top g_i` by back-propagation (a forward pass first)."""
        X = self.X if X is None else X
        weights = self._weights(params)
        activations, _ = self._forward(weights, X)
        return self._backward(weights, activations, grad_raw)

    def _jvp(self, weights, activations, v):
        r"""Forward-mode :math:`J v`: the raw predictions' derivative along ``v``.

        :math:`\dot z_l = \dot a_{l-1} W_l + a_{l-1} \dot W_l + \dot b_l`,
        :math:`\dot a_l = f'(a_l) \odot \dot z_l`, :math:`\dot a_0 = 0`.
        """
        coefs = weights[0]
        v_coefs, v_intercepts = self.unpack(np.asarray(v, dtype=np.float64))
        dtype = self.dtype
        da = None
        for layer in range(self.n_layers):
            a = activations[layer]
            dz = _dot(a, v_coefs[layer].astype(dtype, copy=False))
            dz += v_intercepts[layer].astype(dtype, copy=False)
            if da is not None:
                dz += da @ coefs[layer]
            if layer < self.n_layers - 1:
                da = dz * _derivative(self.activation, activations[layer + 1])
        return self._raw(dz)

    # --------------------------------------------------------- evaluation
    def loss_gradient_sums(self, objective, y, sample_weight, params):
        """Weighted loss sum and gradient: one forward and one backward pass."""
        weights = self._weights(params)
        activations, z = self._forward(weights, self.X)
        loss, grad_raw = objective.loss_gradient(y, self._raw(z), sample_weight)
        return float(loss.sum()), self._backward(weights, activations, grad_raw)

    def loss_gradient_hessian_sums(self, objective, y, sample_weight, params):
        r"""Loss sum, gradient and the Gauss-Newton operator :math:`J^\top H J`.

        Each product is a forward-mode pass, the objective's raw Hessian and
        a backward pass, on the activations of this evaluation. With
        ``detach_outputs`` there is none (``NotImplementedError``).
        """
        if self.detach_outputs:
            raise NotImplementedError(
                "A network with detached outputs follows a field that is not the "
                "gradient of one function: it has no Hessian."
            )
        weights = self._weights(params)
        activations, z = self._forward(weights, self.X)
        loss, grad_raw, raw_hessian = objective.loss_gradient_hessian(
            y, self._raw(z), sample_weight
        )
        grad = self._backward(weights, activations, grad_raw)

        def matvec(v):
            jv = self._jvp(weights, activations, v)
            return self._backward(weights, activations, raw_hessian.matvec(jv))

        return float(loss.sum()), grad, HessianOperator(matvec, dtype=np.float64)

    # ---------------------------------------------------------- penalty
    def penalty(self, params):
        r"""``(value, gradient)`` of :math:`\tfrac12 \sum_l \lVert W_l \rVert_F^2`."""
        weights = params[: self._n_coef]
        grad = np.zeros_like(params)
        grad[: self._n_coef] = weights
        return 0.5 * float(weights @ weights), grad

    def penalty_hessian(self, v):
        """Identity on the weights, zero on the biases."""
        out = np.zeros_like(v)
        out[: self._n_coef] = v[: self._n_coef]
        return out

    def penalty_diagonal(self):
        diag = np.zeros(self._n_params)
        diag[: self._n_coef] = 1.0
        return diag
