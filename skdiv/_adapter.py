r"""The adapter: objective + model + sample weights + penalty -> what solvers see.

:class:`EmpiricalRisk` is the one place where the per-sample sums that a
model computes (:mod:`skdiv._model`) are normalised by the sample weights
and the penalty is added. The function minimised is

.. math::

    F(\theta) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell(y_i, f_\theta(x_i))
              + \alpha\, P(\theta),

with :math:`\ell` the objective (:mod:`skdiv._loss`), :math:`f_\theta` the
model's raw predictions and :math:`P` its penalty (for the linear model
:math:`\tfrac12 \lVert W \rVert_F^2`, intercepts unpenalised). Solvers
(:mod:`skdiv._solvers`) only ever see ``loss_gradient(params) -> (value,
grad)``, ``loss_gradient_hessian(params) -> (value, grad, operator)`` and
``gradient_norm``.

:func:`linear_risk` composes the linear model with an objective; the scale
layer (:mod:`skdiv._scale`) passes a model of its own (Dask row-block
reductions) or feeds mini-batches through the same adapter.
"""

import numpy as np

from ._model import HessianOperator, LinearModel


def effective_sample_weight(sample_weight, weight_sum=None):
    """``sample_weight``, or None when every weight is the same and positive.

    Equal weights cancel in the normalised objective: dropping them skips
    the per-evaluation products with them (and their n x k buffers). Not
    when the normaliser ``weight_sum`` is imposed (a stream's running mean),
    nor when they are all zero: those rows count for nothing, and dropping
    the weights would count each of them fully (a mini-batch of zero-weight
    rows trained at weight one).
    """
    if (
        weight_sum is None
        and isinstance(sample_weight, np.ndarray)
        and sample_weight.size
        and sample_weight[0] > 0
        and np.all(sample_weight == sample_weight[0])
    ):
        return None
    return sample_weight


class EmpiricalRisk:
    """The penalised, weight-normalised mean objective of a model.

    Parameters
    ----------
    objective : :class:`~skdiv._loss.Objective`
    model : :class:`~skdiv._model.Model`
        Holds the rows ``X``; computes loss sums, their gradients and
        Hessian operators at a parameter vector.
    y : array-like
        Targets in the form the objective takes (a NumPy or Dask array).
    sample_weight : array-like of shape (n_samples,) or None
    alpha : float, default=0.0
        Strength of the model's penalty.
    weight_sum : float, default=None
        The normaliser :math:`\\sum_i s_i`; the sum of ``sample_weight`` (or
        ``n_samples``) when None. A stream passes a running estimate so that
        mini-batch gradients average to the full gradient.

    Notes
    -----
    KL = CE - H(p), and H(p) does not depend on the model: with targets in
    memory the adapter evaluates the objective's :attr:`model_objective`
    (the cross-entropy: no entropy per evaluation, a quarter of a dense
    soft-label evaluation) and adds the offset's weighted sum, computed once
    here, to every value.
    """

    def __init__(self, objective, model, y, *, sample_weight=None, alpha=0.0,
                 weight_sum=None):
        self.objective = objective
        self.model = model
        self.y = y
        self.sample_weight = effective_sample_weight(sample_weight, weight_sum)
        self.alpha = alpha
        self._offset_sum = 0.0
        self._evaluated = objective
        if isinstance(y, np.ndarray) and objective.model_objective is not objective:
            self._evaluated = objective.model_objective
            offset = objective.target_offset(y)
            sw = self.sample_weight
            self._offset_sum = float(np.sum(offset if sw is None else offset * sw))
        if weight_sum is None:
            sw = self.sample_weight
            weight_sum = y.shape[0] if sw is None else float(sw.sum(dtype=np.float64))
        self.weight_sum = weight_sum
        self._last_value = None

    # --------------------------------------------------- the model's side
    @property
    def n_params(self):
        return self.model.n_params

    @property
    def n_outputs(self):
        return self.model.n_outputs

    @property
    def n_features(self):
        return self.model.n_features

    @property
    def product_work(self):
        return self.model.product_work

    @property
    def value_precision(self):
        return self.model.value_precision

    def pack(self, *args, **kwargs):
        return self.model.pack(*args, **kwargs)

    def unpack(self, params):
        return self.model.unpack(params)

    def gradient_norm(self, grad):
        return self.model.gradient_norm(grad)

    # --------------------------------------------------------- evaluation
    def _finish(self, params, loss_sum, grad):
        """Normalise and penalise: value and gradient. The value is kept."""
        grad /= self.weight_sum
        value = (loss_sum + self._offset_sum) / self.weight_sum
        if self.alpha:
            penalty, penalty_grad = self.model.penalty(params)
            value += self.alpha * penalty
            grad += self.alpha * penalty_grad
        value = float(value)
        self._last_value = (params.copy(), value)
        return value, grad

    def loss_gradient(self, params):
        """Objective value and gradient with respect to the parameters."""
        loss_sum, grad = self.model.loss_gradient_sums(
            self._evaluated, self.y, self.sample_weight, params
        )
        return self._finish(params, loss_sum, grad)

    def loss(self, params):
        """Objective value at ``params``.

        The estimators report it at the solution, where the solver has just
        evaluated it: a point equal to the last one evaluated costs no pass
        over the data.
        """
        last = self._last_value
        if last is not None and np.array_equal(last[0], params):
            return last[1]
        return self.loss_gradient(params)[0]

    def _dense_parts(self):
        """The penalty's Hessian, the flat directions and their projector.

        Fixed for the model: built at the first Hessian formed whole. The
        two matrices are kept as their nonzeros, ``(flat index, value)``:
        the penalty is block diagonal and the projector on the common shifts
        nearly empty, and adding a whole ``n_params^2`` matrix to a large
        Hessian costs more than forming the rest of it. Both are symmetric,
        so the indices hold in either memory order.
        """
        if getattr(self, "_dense_cache", None) is None:
            model = self.model
            penalty = None
            if self.alpha:
                penalty = model.penalty_entries()
            flat = model.flat_directions(bool(self.alpha))
            if not flat.shape[1]:
                flat = None
            self._dense_cache = (penalty, flat,
                                 None if flat is None else _projector_entries(flat))
        return self._dense_cache

    def loss_gradient_hessian(self, params):
        """Value, gradient and the normalised, penalised Hessian operator."""
        loss_sum, grad, data = self.model.loss_gradient_hessian_sums(
            self._evaluated, self.y, self.sample_weight, params
        )
        value, grad = self._finish(params, loss_sum, grad)
        weight_sum = self.weight_sum if data.weight_sum is None else data.weight_sum
        alpha, model = self.alpha, self.model

        def matvec(v):
            out = data.matvec(v)
            out /= weight_sum
            if alpha:
                penalty = model.penalty_hessian(v)
                penalty *= alpha
                out += penalty
            return out

        def diagonal():
            diag = data.diagonal() / weight_sum
            if alpha:
                diag += alpha * model.penalty_diagonal()
            return diag

        def dense(form):
            # H + s N N^T, N the flat directions: the gradient has no
            # component along them, so the Newton step is the same, and the
            # matrix is definite (a Cholesky factorisation exists).
            matrix = form()
            matrix /= weight_sum
            penalty, flat, projector = self._dense_parts()
            if not (matrix.flags.c_contiguous or matrix.flags.f_contiguous):
                matrix = np.ascontiguousarray(matrix)
            entries = matrix.ravel(order="K")  # a view, in memory order
            if alpha:
                entries[penalty[0]] += alpha * penalty[1]
            if flat is not None:
                shift = max(np.trace(matrix) / matrix.shape[0], 1e-300)
                entries[projector[0]] += shift * projector[1]
            return matrix

        has_diagonal = data.has_diagonal and (
            not alpha or model.penalty_diagonal() is not None
        )
        operator = HessianOperator(
            matvec, diagonal=diagonal if has_diagonal else None, dtype=data.dtype,
            forcing_floor=data.forcing_floor,
            dense=(lambda: dense(data.dense)) if data.has_dense else None,
            dense_free=data.dense_free,
            preconditioner=(
                (lambda: dense(data.preconditioner)) if data.has_preconditioner
                else None
            ),
            # Read when the solver asks (it may look at the data).
            preconditioner_cost=lambda: data.preconditioner_cost,
            least_preconditioner_cost=data.least_preconditioner_cost,
            flat_directions=self._dense_parts()[1] if data.has_preconditioner else None,
        )
        return value, grad, operator


def _projector_entries(flat):
    """:math:`N N^\\top`'s entries where ``N``'s rows are nonzero: ``(index, value)``.

    A softmax's intercept shift touches only the ``k`` intercepts: the
    projector is then ``k x k``, not ``n_params^2``.
    """
    n_params = flat.shape[0]
    support = np.flatnonzero(np.any(flat != 0, axis=1))
    block = flat[support] @ flat[support].T
    index, values = _nonzeros(block)
    rows, columns = np.divmod(index, support.size)
    return support[rows] * n_params + support[columns], values


def _nonzeros(matrix):
    """``(flat indices, values)`` of ``matrix``'s nonzero entries (C order)."""
    index = np.flatnonzero(matrix)
    return index, matrix.ravel()[index]


def linear_risk(objective, X, y, *, n_outputs, sample_weight=None, alpha=0.0,
                fit_intercept=True, precondition="auto", weight_sum=None,
                hessian_stride="auto", hessian_precision="auto", sum_zero="auto",
                model_class=LinearModel):
    """:class:`EmpiricalRisk` of ``objective`` and a linear model on ``X``.

    The parameters after ``sample_weight`` are :class:`~skdiv._model.\
LinearModel`'s; ``model_class`` is another class with its signature (the
    Dask model of :mod:`skdiv._scale`).
    """
    sample_weight = effective_sample_weight(sample_weight, weight_sum)
    model = model_class(
        X, n_outputs, sample_weight=sample_weight, fit_intercept=fit_intercept,
        precondition=precondition, alpha=alpha, hessian_stride=hessian_stride,
        hessian_precision=hessian_precision, sum_zero=sum_zero,
        shift_invariant=objective.shift_invariant, convex=objective.convex,
    )
    return EmpiricalRisk(
        objective, model, y, sample_weight=sample_weight, alpha=alpha,
        weight_sum=weight_sum,
    )


class ZeroInterceptConstraint:
    """A two-output linear risk with the first output's intercept fixed at 0.

    The regressor's ``fit_intercept=False`` removes the intercept of the mean
    only: the log-variance keeps its intercept (the constant-variance model
    is the special case with zero log-variance coefficients). The linear
    model's parameters are ``theta = (W'_0, W'_1, b'_0, b'_1)`` with ``W =
    W' M`` (``M`` symmetric) and ``b = b' - W mu``, so ``b_0 = 0`` is the
    linear constraint ``b'_0 = W'_0 . u`` with ``u = M mu``. This class
    eliminates ``b'_0`` by that constraint, keeping the preconditioning.
    """

    def __init__(self, risk):
        self.risk = risk
        model = risk.model
        d = self._d = model.n_features
        # unpack maps W'_0 = mu to W_0 = mu M = (M mu)^T, since M is symmetric.
        probe = np.zeros(model.n_params)
        probe[:d] = model.x_mean
        self._u = model.unpack(probe)[0][0]

    @property
    def n_params(self):
        return self.risk.n_params - 1

    @property
    def product_work(self):
        return self.risk.product_work

    @property
    def value_precision(self):
        return self.risk.value_precision

    def _full(self, theta):
        d = self._d
        return np.insert(theta, 2 * d, theta[:d] @ self._u)

    def _reduce(self, grad):
        """Transpose of :meth:`_full`: a full gradient to a reduced one."""
        d = self._d
        reduced = np.delete(grad, 2 * d)
        reduced[:d] += grad[2 * d] * self._u
        return reduced

    def loss_gradient(self, theta):
        value, grad = self.risk.loss_gradient(self._full(theta))
        return value, self._reduce(grad)

    def loss(self, theta):
        return self.risk.loss(self._full(theta))

    def loss_gradient_hessian(self, theta):
        value, grad, hessian = self.risk.loss_gradient_hessian(self._full(theta))
        # _full is linear here (its affine part is zero): the Hessian is A^T H A.
        return value, self._reduce(grad), HessianOperator(
            lambda v: self._reduce(hessian.matvec(self._full(v))),
            dtype=np.float64, forcing_floor=hessian.forcing_floor,
        )

    def pack(self, coef, intercept):
        return np.delete(self.risk.pack(coef, intercept), 2 * self._d)

    def unpack(self, theta):
        return self.risk.unpack(self._full(theta))

    def gradient_norm(self, grad):
        # b'_0 moves b_0 alone, so a reduced gradient padded with 0 for b'_0
        # is the model's image of the original-coordinate gradient with its
        # b_0 component removed: exactly the stopping measure wanted.
        return self.risk.gradient_norm(np.insert(grad, 2 * self._d, 0.0))
