"""Row-block kernels of the linear model: products with ``X`` and their sums.

Free functions of one block of rows that return *unnormalised* sums over
those rows, in the model's original coordinates :math:`(W, b)`: being sums,
the terms of row blocks add up to the terms of their union, which is what
lets :class:`~skdiv._model.LinearModel` loop over cache-sized blocks and the
Dask model (:mod:`skdiv._scale`) map them over a Dask array's blocks.
"""

import numpy as np
import scipy.sparse as sp

# Hessian products with dense rows go over blocks of rows whose products take
# at most this many multiply-adds (RowsHessian): up to there OpenBLAS
# multiplies by its small-matrix kernels, without packing the operands, at
# about twice the speed for the few outputs of these products.
SMALL_PRODUCT_WORK = 1_000_000
# ... and of at most this many bytes of rows, which then stay in cache from the
# product giving a block's raw direction to the one giving its part of the
# result.
PRODUCT_BLOCK_BYTES = 1 << 20


def row_blocks(n_rows, n_columns, nbytes=1 << 22, min_rows=1):
    """Slices of consecutive rows holding about ``nbytes`` of float64 each.

    For loops over a matrix that bound their temporaries (or stay in cache)
    whatever ``n_rows``: 4 MB by default.
    """
    size = max(min_rows, nbytes // (8 * max(n_columns, 1)))
    return [slice(start, start + size) for start in range(0, n_rows, size)]


def raw_prediction(X, coef, intercept, dtype=np.float64):
    """:math:`X W^\\top + b` in ``dtype``, 1-D when there is one output.

    For dense ``X`` the result is Fortran-ordered (class-major memory):
    ``W @ X.T`` is a third faster than ``X @ W.T`` for few outputs, and the
    objectives' row-wise reductions over a few contiguous columns are three
    times faster than over short rows. Hessian products on float32 rows
    stay in float32 (``dtype=X.dtype``).
    """
    if not coef.any():
        # The usual starting point (zero coefficients): no pass over X.
        raw = np.empty((X.shape[0], coef.shape[0]), dtype=dtype, order="F")
        raw[...] = intercept
        return raw[:, 0] if coef.shape[0] == 1 else raw
    if sp.issparse(X):
        # scipy copies a non-contiguous right-hand side: transpose it here,
        # in the same pass as the cast to X's precision.
        coef_t = np.empty(coef.shape[::-1], dtype=X.dtype)
        coef_t[...] = coef.T
        raw = X @ coef_t
    else:
        raw = (coef.astype(X.dtype, copy=False) @ X.T).T
    raw = np.asarray(raw, dtype=dtype)
    raw += np.asarray(intercept, dtype=dtype)
    return raw[:, 0] if coef.shape[0] == 1 else raw


def column_sums(A):
    """``A.sum(axis=0)`` of a 2-D array, by BLAS.

    numpy's sum down the rows of a C-ordered ``n x k`` array walks ``n``
    short rows: 20 times slower on 20,000 x 4.
    """
    return np.ones(A.shape[0], dtype=A.dtype) @ A


def back(X, grad_raw, dtype=np.float64):
    """Raw-space gradient -> unnormalised ``(grad_coef, grad_intercept)`` sums.

    ``grad_coef`` is computed as ``G.T @ X``: with ``G`` Fortran-ordered (as
    :func:`raw_prediction` makes it) ``G.T`` is contiguous and the product
    is fast. A Fortran-ordered dense ``X`` (the whitened Hessian's float32
    rows, stored so because ``W @ X.T`` is then a third faster) takes
    ``(X.T @ G).T``. Both sums come back in ``dtype``: float64 for
    gradients, the rows' own precision for Hessian products on float32 rows.
    """
    grad_raw_2d = grad_raw[:, None] if grad_raw.ndim == 1 else grad_raw
    if sp.issparse(X):
        # A C-contiguous G is one scipy does not copy again.
        product = (X.T @ np.ascontiguousarray(grad_raw_2d, dtype=X.dtype)).T
    elif not X.flags.c_contiguous:
        # X Fortran-ordered (the Hessian's float32 rows).
        product = (X.T @ grad_raw_2d.astype(X.dtype, copy=False)).T
    else:
        product = grad_raw_2d.astype(X.dtype, copy=False).T @ X
    grad_coef = np.ascontiguousarray(product, dtype=dtype)
    return grad_coef, column_sums(grad_raw_2d).astype(dtype, copy=False)


class RowsHessian:
    r"""The Hessian of a loss sum over rows ``X``, in :math:`(W, b)`.

    :math:`\sum_i J_i^\top \nabla^2 \ell_i J_i` with :math:`J_i` the
    Jacobian of :math:`x_i W^\top + b`: :meth:`matvec` costs two products
    with ``X``, over blocks of rows for tall dense ``X`` (:meth:`_row_blocks`).
    :meth:`curvature` returns the per-sample diagonal of the raw-space
    Hessian (class-averaged, one column, when ``shared``): the
    :math:`h_{ik}` of :func:`centred_square_terms`.
    """

    def __init__(self, raw_hessian, X):
        self.raw_hessian = raw_hessian
        self.X = X
        self._blocks = None

    def matvec(self, v_coef, v_intercept):
        """``(H_coef, H_intercept)`` of the direction ``(v_coef, v_intercept)``.

        ``v_intercept=None`` for rows that carry the intercept's ones as a
        column (its coefficient is then in ``v_coef``): no intercept terms,
        and ``H_intercept`` is None.
        """
        dtype = self.X.dtype
        blocks = self._row_blocks(v_coef.shape[0])
        if not blocks:
            intercept = 0.0 if v_intercept is None else v_intercept
            raw = raw_prediction(self.X, v_coef, intercept, dtype=dtype)
            h_coef, h_intercept = back(self.X, self.raw_hessian.matvec(raw),
                                       dtype=dtype)
            return h_coef, None if v_intercept is None else h_intercept
        # Dense rows by blocks: the direction cast once, each block's two
        # products by BLAS directly (raw_prediction's and back's checks and
        # copies cost a fifth of these small products).
        coef = v_coef.astype(dtype, copy=False)
        intercept = None if v_intercept is None else np.asarray(v_intercept, dtype)
        h_coef = h_intercept = None
        single = coef.shape[0] == 1
        for X_block, raw_hessian in blocks:
            # Fortran-ordered raw directions, n x k (as raw_prediction's).
            raw = (coef @ X_block.T).T
            if intercept is not None:
                raw += intercept
            grad_raw = raw_hessian.matvec(raw[:, 0] if single else raw)
            grad_raw = grad_raw[:, None] if grad_raw.ndim == 1 else grad_raw
            if h_coef is None:
                h_coef = X_block.T @ grad_raw
                if intercept is not None:
                    h_intercept = grad_raw.sum(axis=0)
            else:
                h_coef += X_block.T @ grad_raw
                if intercept is not None:
                    h_intercept += grad_raw.sum(axis=0)
        return h_coef.T, h_intercept

    def _row_blocks(self, n_outputs):
        """``[(rows of X, their raw Hessian)]`` for blocked products, or ``[]``.

        Made at the first product, for dense ``X`` whose products with
        ``n_outputs`` columns take more than :data:`SMALL_PRODUCT_WORK`
        multiply-adds: the fewest equal blocks (of at least 256 rows) within
        that and within :data:`PRODUCT_BLOCK_BYTES`. On Fortran-ordered
        float32 rows (the model's copies) of 1,800-40,000 x 20-400 with 2 to
        10 outputs a product then took 0.48-0.75 of its time over all rows
        at once (digits' 0.13 -> 0.09 ms), on C-ordered rows (``X`` itself,
        where no copy is made) 0.82-0.95 (``docs/developers.rst``).
        """
        if self._blocks is None:
            X = self.X
            self._blocks = []
            if sp.issparse(X):
                return self._blocks
            n, d = X.shape
            n_blocks = -(-n * n_outputs * d // SMALL_PRODUCT_WORK)
            if n_blocks >= 2:
                n_blocks = max(n_blocks, -(-X.nbytes // PRODUCT_BLOCK_BYTES))
            n_blocks = min(n_blocks, n // 256)
            if n_blocks >= 2:
                size = -(-n // n_blocks)
                self._blocks = [
                    (X[rows], self.raw_hessian.rows(rows))
                    for rows in (slice(i, i + size) for i in range(0, n, size))
                ]
        return self._blocks

    def curvature(self, shared=False):
        h = self.raw_hessian.diagonal()
        return h.mean(axis=1) if shared and h.ndim == 2 else h


def data_terms(objective, coef, intercept, X, y, sample_weight=None):
    """Per-sample sums of one block of rows at ``(coef, intercept)``.

    Returns ``(loss_sum, grad_coef, grad_intercept)``: the weighted sum of the
    pointwise losses and its gradient with respect to ``coef`` (shape
    ``(n_outputs, n_features)``) and ``intercept`` (``(n_outputs,)``), in
    original coordinates, neither normalised nor penalised.
    """
    raw = raw_prediction(X, coef, intercept)
    loss, grad_raw = objective.loss_gradient(y, raw, sample_weight)
    grad_coef, grad_intercept = back(X, grad_raw)
    return float(loss.sum()), grad_coef, grad_intercept


def data_terms_hessian(
    objective, coef, intercept, X, y, sample_weight=None, *, hessian_X=None
):
    """:func:`data_terms` plus the :class:`RowsHessian` of the same sums.

    Its products multiply ``hessian_X``, the same rows in another precision,
    when given.
    """
    raw = raw_prediction(X, coef, intercept)
    loss, grad_raw, raw_hessian = objective.loss_gradient_hessian(
        y, raw, sample_weight
    )
    grad_coef, grad_intercept = back(X, grad_raw)
    hessian = RowsHessian(raw_hessian, X if hessian_X is None else hessian_X)
    return float(loss.sum()), grad_coef, grad_intercept, hessian


def hessian_terms(objective, coef, intercept, X, y, sample_weight=None):
    """The :class:`RowsHessian` of :func:`data_terms_hessian` alone.

    For Hessians that have rows of their own (a subsample, a Dask block);
    on float32 rows the curvature is computed in float32 too, and so are
    the products.
    """
    raw = raw_prediction(X, coef, intercept, dtype=X.dtype)
    return RowsHessian(objective.loss_gradient_hessian(y, raw, sample_weight)[2], X)


def centred_square_terms(X, curvature, centre, centred_square=None):
    r"""The sums that give the diagonal of the Hessian in any diagonal scaling.

    With :math:`h_{ik}` the diagonal of the per-sample Hessian in raw space
    (``curvature``, shape ``(n_samples, n_outputs)``, or 1-D for one output)
    and :math:`c` the ``centre``, returns ``(square, constant)``:
    :math:`\sum_i h_{ik} (x_{ij} - c_j)^2` (``(n_outputs, n_features)``) and
    :math:`\sum_i h_{ik}`. The Hessian diagonal for the coefficient of
    :math:`s_j (x_{ij} - c_j)` is :math:`s_j^2\, \text{square}`.

    One product with ``X``'s shape. Dense ``X`` is centred and squared in row
    blocks. Sparse ``X`` is not centred: over its nonzeros the sum is of
    :math:`h\, x (x - 2c)`, and :math:`c^2 \sum_i h_{ik}` adds the rest,
    which takes one product with ``centred_square`` (:func:`centred_square`
    of ``X``, built here when not given).
    """
    h = curvature[:, None] if curvature.ndim == 1 else curvature
    constant = column_sums(h)
    if sp.issparse(X):
        if centred_square is None:
            centred_square = centred_square_rows(X, centre)
        square = back(centred_square, h)[0]
        square += np.outer(constant, centre**2)
        return square, constant
    square = np.zeros((h.shape[1], X.shape[1]))
    centre = centre.astype(X.dtype)
    for rows in row_blocks(*X.shape):
        block = X[rows] - centre
        block *= block
        square += back(block, h[rows])[0]
    return square, constant


def centred_square_rows(X, centre):
    """Sparse ``X`` with its values ``x`` replaced by ``x (x - 2 c_j)``.

    In ``X``'s precision, sharing its index arrays (unless ``X`` has
    duplicate entries: the square is of their sum, so they are summed first).
    """
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    data = X.data * (X.data - 2 * centre.astype(X.dtype)[X.indices])
    return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)

