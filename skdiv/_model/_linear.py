r"""The linear model: raw predictions :math:`Z = X W^\top + b`.

:class:`LinearModel` maps a flat parameter vector to coefficients
:math:`W` (``(n_outputs, n_features)``) and intercepts :math:`b` through a
change of variables that preconditions the problem
(:mod:`skdiv._model._coordinates`), and, for a softmax on sparse ``X``,
through the sum-zero basis of the classes
(:class:`~skdiv._loss.SumZero`). It evaluates loss sums and gradients in
cache-sized row blocks (:mod:`skdiv._model._kernels`) and Hessian products
on rows of their own (:mod:`skdiv._model._hessian_rows`).
"""

import numpy as np
import scipy.sparse as sp

from .._loss import SumZero, sum_zero_basis
from .._threads import blas_threads
from ._base import HessianOperator, Model
from ._coordinates import (
    choose_change_of_variables,
    constant_columns,
    feature_moments,
)
from ._dense import DenseForms, dense_affordable
from ._hessian_rows import (
    SUBSAMPLED_FORCING_FLOOR,
    CentredRowsHessian,
    HessianRows,
    auto_stride,
    whitened_matvec,
)
from ._kernels import (
    back,
    data_terms,
    data_terms_hessian,
    hessian_terms,
    row_blocks,
)
from ._kernels import raw_prediction as _raw


class LinearModel(DenseForms, Model):
    r"""A linear model with ``n_outputs`` heads, in preconditioned coordinates.

    The solver works on :math:`\theta = (W', b')` with :math:`W = W' M`,
    :math:`b = b' - W \mu` (see :mod:`skdiv._model._coordinates`); the
    penalty :math:`\tfrac12 \lVert W \rVert_F^2` is on the original
    :math:`W`, so the optimum maps back exactly and ``alpha`` keeps its
    meaning. The intercept is not penalised. When ``n_outputs == 1`` the
    raw predictions are 1-D (binary logit, or a mean).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    n_outputs : int
        Number of raw predictions per sample.
    sample_weight : ndarray of shape (n_samples,) or None
        For the weighted feature moments of the change of variables and the
        weight of the Hessian's subsample.
    fit_intercept : bool, default=True
    precondition : {"auto", "whiten", "diagonal", "none"} or tuple, default="auto"
        The change of variables (:func:`~skdiv._model._coordinates.\
choose_change_of_variables`); a tuple is another model's
        :attr:`change_of_variables` (the stochastic solver keeps the one of
        its first mini-batch). ``"auto"`` is ``"diagonal"`` for a
        ``convex`` objective whose Hessian is formed whole (:attr:`dense`):
        its Newton steps are then all exact, and exact steps do not depend
        on the coordinates, so the whitening's eigendecomposition and
        products would only add to a small fit. (A non-convex one, the
        Gaussian NLL far from its optimum, may fall back to conjugate
        gradients, which the whitening helps.)
    alpha : float, default=0.0
        The penalty strength: it floors the whitening's eigenvalues.
    hessian_stride : "auto" or int, default="auto"
        Hessian products use every ``hessian_stride``-th row only (value and
        gradient always use all rows; :mod:`skdiv._model._hessian_rows`).
    hessian_precision : {"auto", "double"}, default="auto"
        ``"auto"`` lets Hessian products use a float32 copy of their rows
        where that is safe; ``"double"`` keeps ``X``'s own precision.
    sum_zero : {"auto", True, False}, default="auto"
        For a ``shift_invariant`` objective with three or more outputs,
        solve for ``k - 1`` coefficient blocks in the sum-zero basis: the
        same optimum, products with ``X`` one column narrower. ``"auto"``
        does so for sparse ``X``. :meth:`unpack` and :meth:`pack` speak all
        ``k`` outputs either way.
    shift_invariant : bool, default=False
        Whether the objective is unchanged by adding the same number to all
        outputs (a softmax).
    convex : bool, default=False
        Whether the objective's per-sample Hessians are positive
        semidefinite everywhere (:attr:`~skdiv._loss.Objective.convex`).
    hold_constant : bool, default=True
        Whether a feature constant on every row of ``X`` has its coefficient
        held at zero without a penalty (:func:`choose_change_of_variables`).
        False for coordinates that will serve other rows (a stream's, fixed
        by its first call: a feature constant there need not be later).
    """

    # Dask's model (skdiv._scale) keeps X on the workers: no row copies.
    _in_memory = True

    def __init__(
        self,
        X,
        n_outputs,
        *,
        sample_weight=None,
        fit_intercept=True,
        precondition="auto",
        alpha=0.0,
        hessian_stride="auto",
        hessian_precision="auto",
        sum_zero="auto",
        shift_invariant=False,
        convex=False,
        hold_constant=True,
    ):
        self.X = X
        self.n_outputs = n_outputs
        self.fit_intercept = fit_intercept
        self.shift_invariant = shift_invariant
        self.n_features = X.shape[1]
        self.sample_weight = sample_weight
        # The solver's coefficient blocks: one per output, or k - 1 in the
        # sum-zero basis of a shift-invariant objective.
        self.class_basis = None
        self._blocks = n_outputs
        if sum_zero == "auto":
            # Measured: 18% faster on sparse 20,000 x 50,000 with 5 classes,
            # where products cost per nonzero and class; 8% slower on dense
            # 100,000 x 100 with 10, where the maps by Q cost as much.
            sum_zero = sp.issparse(X)
        if sum_zero and n_outputs >= 3 and shift_invariant:
            self.class_basis = sum_zero_basis(n_outputs)
            self._blocks = n_outputs - 1
        self._wrapped = {}
        if hessian_stride == "auto":
            hessian_stride = 1
            if self._in_memory:
                hessian_stride = auto_stride(X.shape[0], self.n_params, sample_weight)
        self.hessian_stride = hessian_stride
        # Small problems form their Hessian whole (skdiv._model._dense).
        self.dense = (
            self._in_memory
            and hessian_stride == 1
            and dense_affordable(X.shape[0], self.n_features, self._blocks,
                                 fit_intercept)
        )
        if self.dense and convex and precondition in ("auto", True):
            precondition = "diagonal"
        # The moments' product (n d^2), the covariance's eigendecomposition
        # (d^3) and the whitened copy's product (n d^2) run on BLAS threads as
        # the solve's products would.
        work = X.shape[0] * self.n_features**2 if isinstance(X, np.ndarray) else 0
        with blas_threads(work):
            self.coordinates = choose_change_of_variables(
                precondition, self.n_features, fit_intercept, alpha,
                self._feature_moments,
                constant_columns=(
                    (lambda candidates: constant_columns(X, candidates))
                    if self._in_memory and hold_constant else None
                ),
            )
            self.hessian_rows = HessianRows(
                X, sample_weight, self.coordinates, hessian_stride,
                hessian_precision, in_memory=self._in_memory,
                single_copy=not self.dense, fit_intercept=fit_intercept,
            )
        self.preconditioned = self.preconditioner_affordable()
        self._dense_rows = None

    # ----------------------------------------------------- parametrisation
    def _feature_moments(self, matrix):
        sw = self.sample_weight
        weight_sum = self.X.shape[0] if sw is None else sw.sum()
        return feature_moments(self.X, sw, weight_sum, matrix, self.hessian_stride)

    @property
    def x_mean(self):
        return self.coordinates.x_mean

    @property
    def x_scale(self):
        return self.coordinates.x_scale

    @property
    def change_of_variables(self):
        """The fixed ``(x_mean, x_scale, whitener, whitener_inv)``.

        Passing it as ``precondition`` to another model gives that model the
        same solver coordinates.
        """
        return self.coordinates.as_tuple()

    @property
    def n_params(self):
        return self._blocks * (self.n_features + int(self.fit_intercept))

    @property
    def _flat_direction(self):
        """Whether moving all outputs together changes nothing (a k-output softmax)."""
        return self.shift_invariant and self.class_basis is None

    def _objective(self, objective):
        """``objective`` in the solver's blocks (the sum-zero basis, if any)."""
        if self.class_basis is None:
            return objective
        key = id(objective)
        if key not in self._wrapped:
            self._wrapped[key] = (objective, SumZero(objective, self.class_basis))
        return self._wrapped[key][1]

    def unpack(self, params):
        """Solver parameters -> ``(coef, intercept)`` in original coordinates.

        ``coef`` has shape ``(n_outputs, n_features)`` and ``intercept``
        ``(n_outputs,)`` (zeros without an intercept).
        """
        coef, intercept = self._unpack(params)
        if self.class_basis is not None:
            return self.class_basis @ coef, self.class_basis @ intercept
        return coef, intercept

    def _unpack(self, params):
        """:meth:`unpack` in the solver's blocks (the sum-zero basis, if any)."""
        k, d = self._blocks, self.n_features
        coef = self.coordinates.to_coef(params[: k * d].reshape(k, d))
        if self.fit_intercept:
            intercept = params[k * d :] - coef @ self.x_mean
        else:
            intercept = np.zeros(k)
        return coef, intercept

    def pack(self, coef, intercept=None):
        """``(coef, intercept)`` in original coordinates -> solver parameters.

        In the sum-zero basis the classes' mean is dropped from ``coef`` and
        ``intercept``: the same probabilities, and no larger a penalty.
        """
        coef = np.asarray(coef, dtype=np.float64).reshape(self.n_outputs, -1)
        intercept = np.zeros(self.n_outputs) if intercept is None else intercept
        intercept = np.asarray(intercept, dtype=np.float64)
        if self.class_basis is not None:
            coef = self.class_basis.T @ coef
            intercept = self.class_basis.T @ intercept
        parts = [self.coordinates.to_solver(coef).ravel()]
        if self.fit_intercept:
            parts.append(intercept + coef @ self.x_mean)
        return np.concatenate(parts)

    def _pullback(self, grad_coef, grad_intercept):
        """Gradient in (coef, intercept) -> gradient in solver parameters.

        The transpose of the Jacobian of :meth:`unpack`; ``M`` is symmetric.
        Written into one new vector (it runs once per Hessian product).
        """
        k, d = self._blocks, self.n_features
        out = np.empty(self.n_params)
        coef_part = out[: k * d].reshape(k, d)
        coef_part[...] = grad_coef
        if self.fit_intercept:
            coef_part -= grad_intercept[:, None] * self.x_mean
            out[k * d :] = grad_intercept
        if not self.coordinates.is_diagonal:
            coef_part[...] = coef_part @ self.coordinates.whitener
        else:
            coef_part *= self.x_scale
        return out

    def gradient_norm(self, grad):
        r"""The stopping measure of a solver-space gradient: in the units of the loss.

        :math:`\max\bigl(\max_{kj} |\partial F / \partial W_{kj}| /
        \sigma_j,\; \max_k |\partial F / \partial b_k|\bigr)`, with
        :math:`\sigma_j` feature ``j``'s (weighted) standard deviation (1 for
        a constant feature): the gradient with respect to the coefficients of
        the *standardised* features. It does not change when a feature's
        units do (``X * 1e-8`` stops where ``X`` does), and on standardised
        data it is the plain gradient's max-norm. Every solver stops on it,
        whether the problem is preconditioned or not; without a change of
        variables (``precondition="none"``) :math:`\sigma_j = 1`.
        """
        k, d = self._blocks, self.n_features
        # A new array (in place from here on: this runs once per iteration on
        # all the coefficients).
        grad_coef = self.coordinates.to_solver(grad[: k * d].reshape(k, d))
        norm = 0.0
        if self.fit_intercept:
            grad_intercept = grad[k * d :]
            grad_coef += np.outer(grad_intercept, self.x_mean)
            if self.class_basis is not None:
                grad_intercept = self.class_basis @ grad_intercept
            norm = np.max(np.abs(grad_intercept), initial=0.0)
        if self.class_basis is not None:
            # The gradient in all k outputs: Q times the blocks' (its class
            # sum is zero, as the objective is shift invariant).
            grad_coef = self.class_basis @ grad_coef
        np.abs(grad_coef, out=grad_coef)
        grad_coef *= self.coordinates.inverse_std
        return float(max(norm, grad_coef.max(initial=0.0)))

    # ------------------------------------------------------ forward, back
    def forward(self, params, X=None):
        """:math:`X W^\\top + b` for all ``n_outputs``, 1-D for one output."""
        return _raw(self.X if X is None else X, *self.unpack(params))

    def pullback(self, params, grad_raw, X=None):
        """:math:`\\sum_i g_i x_i` and :math:`\\sum_i g_i`, in solver parameters.

        ``grad_raw`` is on all ``n_outputs`` (as :meth:`forward` gives them).
        """
        grad_coef, grad_intercept = back(self.X if X is None else X, grad_raw)
        if self.class_basis is not None:
            grad_coef = grad_coef.T @ self.class_basis
            grad_coef, grad_intercept = grad_coef.T, grad_intercept @ self.class_basis
        return self._pullback(grad_coef, grad_intercept)

    # ---------------------------------------------------------- penalty
    def penalty(self, params):
        r"""``(value, gradient)`` of :math:`\tfrac12 \lVert W \rVert_F^2`.

        A quadratic in the solver parameters :math:`\theta`, :math:`\tfrac12
        \theta^\top P \theta` with :math:`P` the penalty's Hessian
        (:meth:`penalty_hessian`): the gradient is :math:`P \theta` and the
        value half its product with :math:`\theta`.
        """
        gradient = self.penalty_hessian(params)
        return 0.5 * float(params @ gradient), gradient

    def penalty_hessian(self, v):
        r"""The penalty's Hessian applied to ``v``, in ``v``'s precision.

        :math:`V' M^2` on the coefficients (the whitening :math:`M` or the
        diagonal scaling), zero on the intercepts.
        """
        k, d = self._blocks, self.n_features
        out = np.empty_like(v)
        out[k * d :] = 0.0
        v_coef = v[: k * d].reshape(k, d)
        if self.coordinates.is_diagonal:
            scale2 = (self.x_scale**2).astype(v.dtype, copy=False)
            np.multiply(v_coef, scale2, out=out[: k * d].reshape(k, d))
        else:
            # M^2 once per fit and precision (float64 for the penalty's value
            # and gradient, the rows' for float32 CG products, which
            # alternate): one product per Hessian product, not two.
            cache = self.__dict__.setdefault("_whitener_squared", {})
            squared = cache.get(v.dtype)
            if squared is None:
                whitener = self.coordinates.whitener
                squared = cache[v.dtype] = (whitener @ whitener).astype(v.dtype)
            np.matmul(v_coef, squared, out=out[: k * d].reshape(k, d))
        return out

    def penalty_diagonal(self):
        """:math:`M^2`'s diagonal on every coefficient, 0 on intercepts (diagonal M)."""
        if not self.coordinates.is_diagonal:
            return None
        # The coordinates are fixed: built once, asked at every evaluation.
        if getattr(self, "_penalty_diagonal", None) is None:
            parts = [np.tile(self.x_scale**2, self._blocks)]
            if self.fit_intercept:
                parts.append(np.zeros(self._blocks))
            self._penalty_diagonal = np.concatenate(parts)
        return self._penalty_diagonal

    # --------------------------------------------------------- evaluation
    def _data_terms(self, objective, y, sample_weight, coef, intercept):
        """Unnormalised loss sum and gradient over all samples (:func:`data_terms`).

        Dense ``X`` goes in blocks of rows (half a megabyte each) that stay in
        cache from the product giving the raw predictions to the one giving
        the gradient; the sums add up. On 100,000 x 100 with 10 classes this
        is a fifth faster than two passes over all of ``X`` (a block of 1 MB
        gained a little less, 2 MB half as much).
        """
        X, sw = self.X, sample_weight
        blocks = [] if sp.issparse(X) else row_blocks(*X.shape, 1 << 19, 256)
        if len(blocks) < 4:
            return data_terms(objective, coef, intercept, X, y, sw)
        loss_sum, grad_coef, grad_intercept = 0.0, 0.0, 0.0
        for rows in blocks:
            terms = data_terms(
                objective, coef, intercept, X[rows], y[rows],
                None if sw is None else sw[rows],
            )
            loss_sum += terms[0]
            grad_coef = grad_coef + terms[1]
            grad_intercept = grad_intercept + terms[2]
        return loss_sum, grad_coef, grad_intercept

    def _data_terms_hessian(self, objective, y, sample_weight, coef, intercept):
        """:meth:`_data_terms` and the Hessian of the sum over the Hessian's rows."""
        rows = self.hessian_rows
        if rows.rows is None:
            # All rows: the value's pass gives the curvature too.
            *terms, hessian = data_terms_hessian(
                objective, coef, intercept, self.X, y, sample_weight,
                hessian_X=rows.X,
            )
            return (*terms, hessian)
        terms = self._data_terms(objective, y, sample_weight, coef, intercept)
        y_rows, sw_rows = rows.take(y), rows.take(sample_weight)
        if rows.centre is None:
            if rows.solver_centre is not None:
                # Rows X M: the raw predictions are X_rows M W'^T + b.
                coef = self.coordinates.to_solver(coef)
            hessian = hessian_terms(objective, coef, intercept, rows.X, y_rows, sw_rows)
            return (*terms, hessian)
        centred = hessian_terms(
            objective, coef, intercept + coef @ rows.centre, rows.X, y_rows, sw_rows
        )
        return (*terms, CentredRowsHessian(centred, rows.centre))

    def loss_gradient_sums(self, objective, y, sample_weight, params):
        """Weighted loss sum and its gradient in the solver parameters."""
        coef, intercept = self._unpack(params)
        loss_sum, grad_coef, grad_intercept = self._data_terms(
            self._objective(objective), y, sample_weight, coef, intercept
        )
        return loss_sum, self._pullback(grad_coef, grad_intercept)

    def loss_gradient_hessian_sums(self, objective, y, sample_weight, params):
        """:meth:`loss_gradient_sums` and the Hessian of the sum, as an operator.

        The Hessian is :math:`J^\\top (\\sum_i \\ldots) J` for the linear change
        of variables :math:`J`, so Newton steps in either coordinates agree.
        One pass over the data computes all three; each product costs two more
        products with the Hessian's rows.
        """
        objective = self._objective(objective)
        coef, intercept = self._unpack(params)
        loss_sum, grad_coef, grad_intercept, rows_hessian = self._data_terms_hessian(
            objective, y, sample_weight, coef, intercept
        )
        grad = self._pullback(grad_coef, grad_intercept)
        if self.hessian_rows.solver_centre is not None:
            matvec, dtype = self._solver_hessian(rows_hessian)
        else:
            dtype = np.float64

            def matvec(direction):
                return self._pullback(*rows_hessian.matvec(*self._unpack(direction)))

        diagonal = None
        if self.coordinates.is_diagonal and hasattr(rows_hessian, "curvature"):
            # A softmax in all k outputs (not in the sum-zero basis).
            shared = self._blocks > 1 and self._flat_direction
            diagonal = lambda: self._hessian_diagonal(  # noqa: E731
                rows_hessian.curvature(shared)
            )
        rows = self.hessian_rows
        operator = HessianOperator(
            matvec, diagonal=diagonal, dtype=dtype,
            forcing_floor=0.0 if rows.rows is None else SUBSAMPLED_FORCING_FLOOR,
            weight_sum=rows.weight_sum, **self._formed(rows_hessian),
        )
        return loss_sum, grad, operator

    def _solver_hessian(self, rows_hessian):
        r"""Hessian products in solver coordinates, on rows stored as :math:`R = X M`.

        With :math:`c = \mu M` the raw predictions are :math:`R W'^\top + b'
        - W' c`, so a solver direction :math:`(V', v')` enters as
        :math:`(V', v' - V' c)`, and the product comes back by the
        transposed map, :math:`(G^\top R - (\sum_i g_i)\, c^\top, \sum_i
        g_i)`: the same product as through :meth:`_unpack` and
        :meth:`_pullback`, without their two passes over the coefficients and
        the transposing copies around them. It is computed, and returned, in
        the rows' precision: on float32 rows the conjugate gradients work in
        float32 too, an approximate solve on an approximate Hessian. Except
        along a flat direction (a softmax in all ``k`` classes, whose
        intercepts may all move together): the exact Hessian maps into the
        intercepts that sum to zero, a float32 product only up to rounding,
        so the product is projected back there, and CG, which then stays out
        of the flat direction up to the rounding of its own vectors, works
        in float64. Returns ``(matvec, dtype)``.
        """
        k, d = self._blocks, self.n_features
        flat = k > 1 and self._flat_direction
        dtype = np.dtype(np.float64 if flat else self.hessian_rows.X.dtype)
        n_params, fit_intercept = self.n_params, self.fit_intercept
        if self.hessian_rows.whitened_copy:
            # Centred already (c = 0), the intercept's ones as a column.
            return whitened_matvec(rows_hessian, self.hessian_rows, k, d,
                                   n_params, dtype, flat), dtype
        centre = self.hessian_rows.solver_centre.astype(dtype)

        def matvec(direction):
            v_coef = direction[: k * d].reshape(k, d)
            v_intercept = -(v_coef @ centre)
            if fit_intercept:
                v_intercept += direction[k * d :]
            h_coef, h_intercept = rows_hessian.matvec(v_coef, v_intercept)
            if flat:
                h_intercept = h_intercept.astype(np.float64)
                h_intercept -= h_intercept.sum() / k
            out = np.empty(n_params, dtype=dtype)
            np.subtract(
                h_coef, np.outer(h_intercept, centre),
                out=out[: k * d].reshape(k, d), casting="unsafe",
            )
            if fit_intercept:
                out[k * d :] = h_intercept
            return out

        return matvec, dtype

    def _hessian_diagonal(self, curvature):
        r"""Diagonal of the solver-space Hessian of the loss sum (diagonal scaling).

        The solver coefficient :math:`W'_{kj}` multiplies :math:`c_j (x_{ij}
        - \mu_j)`, so its entry is :math:`c_j^2 \sum_i h_{ik} (x_{ij} -
        \mu_j)^2`, and the intercept's :math:`\sum_i h_{ik}` (the sums of
        :meth:`HessianRows.diagonal_terms`). Newton-CG uses the inverse of
        the normalised, penalised diagonal as the preconditioner of
        conjugate gradients (Jacobi).

        For a softmax in all ``k`` classes the entries are averaged over
        classes (the sums then come from the class-averaged curvature, one
        column instead of one per class). Adding the same vector to every
        class's coefficients (and the same number to every intercept) leaves
        the model unchanged, so the gradient never has a component along
        those directions; a scale shared by the classes keeps CG out of them
        too, as plain CG from zero stays out, and the intercepts come out as
        without preconditioning.
        """
        square, constant = self.hessian_rows.diagonal_terms(curvature)
        diagonal = [square]
        if self.fit_intercept:
            diagonal.append(constant[:, None])
        # The terms of a class-averaged curvature have one row: one per class.
        diagonal = [
            np.broadcast_to(part, (self._blocks, part.shape[1])) for part in diagonal
        ]
        return np.concatenate([part.ravel() for part in diagonal])
