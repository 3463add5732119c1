r"""The rows the linear model's Hessian products multiply.

**Subsampled Hessian.** On tall problems (many more rows than parameters)
the Hessian of the mean loss is estimated well by the mean over a
systematic subsample of rows, ``X[::stride]``:

.. math::

    \tilde H = \frac{1}{\sum_{i \in S} s_i} \sum_{i \in S} s_i\,
        J_i^\top \nabla^2 \ell_i\, J_i + \alpha I .

A conjugate-gradient step of Newton-CG then costs a fraction ``1 / stride``
of a pass over the data. The value and gradient stay exact, so the optimum
and the stopping rule do not change, only the rate at which Newton
approaches it (linear with a small factor instead of quadratic; Byrd,
Chin, Neveitt and Nocedal, SIAM J. Optim. 21(3), 2011).

**Single precision.** An approximate Hessian needs no float64. With
whitening (dense ``X``) the subsample's rows are stored once, centred, in
float32; all rows (no subsample, a copy of at most ``MAX_SINGLE_COPY``
bytes), centred and whitened, :math:`(X - \mu) M`, in float32, with the
intercept's column of ones when there is one. Under a
diagonal scaling they are stored uncentred in float32 (for
sparse ``X``, a copy of the values sharing ``X``'s index arrays, also when
the stride is 1) when the centring cannot amplify rounding by more than
1000 (:meth:`HessianRows.single_precision_ok`). On float32 rows the
curvature and the raw-space products are float32 as well.

**Solver coordinates.** Under a diagonal scaling the rows are stored
scaled, :math:`X M`, and the whitened copy of all rows as :math:`(X - \mu)
M`; products on either are taken in the solver's coordinates directly
(:meth:`skdiv._model.LinearModel._solver_hessian`), in the rows' precision.
"""

import numpy as np
import scipy.sparse as sp

from ._kernels import centred_square_rows, centred_square_terms

# The subsampled Hessian keeps at least this many rows (and 16 per parameter),
# and at least one row in MAX_STRIDE.
MIN_ROWS = 10_000
MAX_STRIDE = 8
ROWS_PER_PARAM = 16
# A subsampled Hessian is some 10-20% off at those sizes: CG need not solve the
# Newton system to better than 3% (HessianOperator.forcing_floor).
SUBSAMPLED_FORCING_FLOOR = 0.03
# Hessian products in float32 when centring amplifies rounding at most this
# much and values stay this small.
MAX_CANCELLATION = 1e3
MAX_SINGLE = 1e30
# A float32 copy of all rows (whitened, not subsampled) is made up to this
# many bytes.
MAX_SINGLE_COPY = 1 << 26


def auto_stride(n_samples, n_params, sample_weight):
    """The largest stride up to 8 keeping 16 rows per parameter and 10,000 rows."""
    rows = max(ROWS_PER_PARAM * n_params, MIN_ROWS)
    stride = int(np.clip(n_samples // rows, 1, MAX_STRIDE))
    if stride > 1 and sample_weight is not None:
        if not sample_weight[::stride].sum() > 0:
            return 1  # the subsample carries no weight
    return stride


class HessianRows:
    """Which rows Hessian products use, in which precision and coordinates.

    Attributes
    ----------
    X : {ndarray, sparse matrix}
        The matrix the products multiply: ``X`` itself, or its rows
        ``X[::stride]``, or either in solver coordinates :math:`X M`, possibly
        float32, or (whitened subsample) centred at :attr:`centre`.
    rows : slice or None
        The subsample of rows (``slice(None, None, stride)``), None for all.
    weight_sum : float or None
        The sample weights' sum over :attr:`rows` (None for all rows).
    centre : ndarray or None
        The centre subtracted from the stored rows (whitened float32 rows).
    solver_centre : ndarray or None
        :math:`\\mu M` when the rows are stored in solver coordinates (zero
        for rows stored centred, :math:`(X - \\mu) M`).
    whitened_copy : bool
        Whether :attr:`X` is all rows as :math:`[(X - \\mu) M, 1]` (whitened,
        float32, with the intercept's column of ones when there is an
        intercept): the solver rows the Hessian is also formed from.
    intercept_column : bool
        Whether the last column of :attr:`X` is the intercept's ones (the
        whitened copy of a model with an intercept): products then take the
        intercepts in the same two products as the coefficients.
    """

    def __init__(self, X, sample_weight, coordinates, stride, precision,
                 in_memory=True, single_copy=False, fit_intercept=True):
        if precision not in ("auto", "double"):
            raise ValueError(
                f"hessian_precision must be 'auto' or 'double', got {precision!r}."
            )
        self.precision = precision
        self.coordinates = coordinates
        self._source = X
        self.rows = self.centre = self.solver_centre = None
        self.whitened_copy = False  # X is [(X - mu) M, 1], all rows
        self.intercept_column = False
        self.weight_sum = None
        self._centred_square = None  # for the Jacobi diagonal, when sparse
        self.X = X
        diagonal = coordinates.is_diagonal and in_memory
        whitened = not coordinates.is_diagonal
        if stride == 1:
            if diagonal and sp.issparse(X):
                self.X = self._solver_rows(X)
            elif (
                single_copy and whitened and in_memory and isinstance(X, np.ndarray)
                and X.dtype == np.float64 and precision == "auto"
                and X.size * 4 <= MAX_SINGLE_COPY
            ):
                # All rows centred and whitened, (X - mu) M, in float32: products
                # at twice the speed, for problems whose Hessian is neither
                # formed for exact steps nor subsampled, taken in the solver's
                # coordinates directly (no change of variables per product).
                # With the intercept's column of ones: a product's intercept
                # terms come with its two matrix products, not as a broadcast
                # addition and a column sum per row block.
                n, d = X.shape
                self.solver_centre = np.zeros(d)
                # The product as (M^T (X - mu)^T)^T comes out in the copy's
                # (Fortran) order, so that the cast into it is one contiguous
                # pass, not a transposing one (docs/developers.rst).
                product = (coordinates.whitener.T @ (X - coordinates.x_mean).T).T
                width = d + int(fit_intercept)
                rows = np.empty((n, width), dtype=np.float32, order="F")
                rows[:, :d] = product
                if fit_intercept:
                    rows[:, d] = 1.0
                self.X = rows
                self.whitened_copy = True
                self.intercept_column = bool(fit_intercept)
            return
        rows = slice(None, None, stride)
        sw = None if sample_weight is None else sample_weight[rows]
        X_rows = X[rows]
        if whitened and not sp.issparse(X_rows) and precision == "auto":
            # Once the rows are centred (nothing cancels between x_i and the
            # mean) float32 products are exact to 1e-6 relative, against the
            # ~10% of the subsampling.
            self.centre = coordinates.x_mean
            X_rows = np.subtract(
                X_rows, coordinates.x_mean,
                out=np.empty(X_rows.shape, np.float32, order="F"),
                casting="unsafe",
            )
        elif diagonal:
            X_rows = self._solver_rows(X_rows)
        self.rows = rows
        self.X = X_rows
        self.weight_sum = X_rows.shape[0] if sw is None else sw.sum()

    def _solver_rows(self, X):
        r"""Rows of ``X`` in solver coordinates: :math:`X M`, :math:`M` diagonal.

        In float32 where :meth:`single_precision_ok`; sparse rows share
        ``X``'s index arrays. Sets :attr:`solver_centre` to :math:`\mu M`.
        """
        dtype = np.float32 if self.single_precision_ok() else X.dtype
        scale = self.coordinates.x_scale.astype(dtype)
        self.solver_centre = self.coordinates.x_mean * self.coordinates.x_scale
        if dtype == X.dtype and np.all(scale == 1):
            return X  # no scaling (precondition="none"): the rows as they are
        if sp.issparse(X):
            X = X.tocsr()
            data = np.multiply(X.data, scale[X.indices], dtype=dtype)
            return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)
        return np.multiply(X, scale, dtype=dtype)

    def single_precision_ok(self):
        r"""Whether products may use ``X`` in float32 (diagonal scaling).

        The solver's coordinates multiply :math:`c_j (x_{ij} - \mu_j)`, but
        the products use :math:`x_{ij}` uncentred (the centre is folded into
        the intercept), so float32 rounding of :math:`x_{ij} v_j` is
        amplified by :math:`|\mu_j| / \mathrm{std}_j` against the centred
        term. Up to 1000 (and for values float32 holds) the Hessian stays
        exact to about 1e-4 relative: well inside what inexact Newton
        tolerates, for products twice as fast (sparse products by 40%).
        """
        X = self._source
        if (
            self.precision != "auto"
            or X.dtype != np.float64
            or not self.coordinates.is_diagonal
        ):
            return False
        values = X.data if sp.issparse(X) else X
        largest = max(values.max(initial=0.0), -values.min(initial=0.0))
        return (
            self.coordinates.mean_over_std <= MAX_CANCELLATION
            and largest <= MAX_SINGLE
        )

    def take(self, values):
        """``values`` (targets, weights) on the Hessian's rows."""
        if values is None or self.rows is None:
            return values
        return values[self.rows]

    def diagonal_terms(self, curvature):
        r"""The unnormalised sums that give the Hessian diagonal (diagonal scaling).

        :math:`c_j^2 \sum_i h_{ik} (x_{ij} - \mu_j)^2` and :math:`\sum_i h_{ik}`
        over these rows (:func:`~skdiv._model._kernels.centred_square_terms`);
        rows stored in solver coordinates are the :math:`c_j x_{ij}` already,
        centred at :math:`c_j \mu_j`.
        """
        X = self.X
        if self.solver_centre is None:
            centre, data_scale = self.coordinates.x_mean, self.coordinates.x_scale**2
        else:
            centre, data_scale = self.solver_centre, 1.0
        if sp.issparse(X) and self._centred_square is None:
            # Once per fit: the centre is fixed.
            self._centred_square = centred_square_rows(X, centre)
        square, constant = centred_square_terms(
            X, curvature, centre, self._centred_square
        )
        if curvature.min(initial=0.0) >= 0:
            # Then the sums are non-negative too, and a negative one is the
            # rounding of a cancellation (sparse X's x (x - 2c) + c^2).
            np.maximum(square, 0.0, out=square)
        square *= data_scale
        return square, constant


class CentredRowsHessian:
    """Products on rows stored as :math:`x_i - c` (the whitened float32 subsample).

    :math:`x W^\\top + b = (x - c) W^\\top + (b + W c)`, and the coefficient
    part of a product comes back as :math:`\\sum_i g_i (x_i - c)`.
    """

    def __init__(self, centred, centre):
        self.centred, self.centre = centred, centre

    def matvec(self, v_coef, v_intercept):
        h_coef, h_intercept = self.centred.matvec(
            v_coef, v_intercept + v_coef @ self.centre
        )
        h_coef += np.outer(h_intercept, self.centre)
        return h_coef, h_intercept


def whitened_matvec(rows_hessian, rows, n_blocks, n_features, n_params, dtype, flat):
    r"""Hessian products in solver coordinates on the whitened copy of the rows.

    The copy is :math:`[(X - \mu) M, 1]` (:attr:`HessianRows.whitened_copy`,
    the ones when there is an intercept), so a solver direction enters as
    one ``k x (d + 1)`` matrix :math:`[V', v']` and the product comes back
    as one, :math:`G^\top [R, 1]`, whose last column is the intercepts'
    part: its intercept terms come with the two matrix products instead of
    as a broadcast addition and a column sum per row block. The product is
    returned in ``dtype``, its intercepts projected off their common shift
    when ``flat`` (a softmax in all ``k`` classes).
    """
    k, d = n_blocks, n_features
    ones = rows.intercept_column

    def matvec(direction):
        if ones:
            extended = np.empty((k, d + 1), dtype=direction.dtype)
            extended[:, :d] = direction[: k * d].reshape(k, d)
            extended[:, d] = direction[k * d :]
        else:
            extended = direction[: k * d].reshape(k, d)
        product = rows_hessian.matvec(extended, None)[0]
        out = np.empty(n_params, dtype=dtype)
        out[: k * d].reshape(k, d)[...] = product[:, :d]
        if ones:
            out[k * d :] = product[:, d]
            if flat:
                intercepts = out[k * d :]
                intercepts -= intercepts.sum() / k
        return out

    return matvec
