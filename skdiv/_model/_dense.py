r"""The linear model's Hessian formed whole, for problems small enough.

On a small problem (iris: 15 parameters) a conjugate-gradient step costs
little arithmetic but a fixed overhead per product, and near-separable data
need many of them per Newton iteration. Forming the Hessian instead costs

.. math::

    H = \sum_i H_i \otimes r_i r_i^\top ,

with :math:`H_i` the per-sample raw-space Hessian (``k x k``) and
:math:`r_i = [(x_i - \mu) M, 1]` the row in the solver's coordinates: one
product of the ``n x D`` rows with a weighted copy of themselves per pair
of outputs, about :math:`n D^2 k (k + 1) / 2` multiply-adds, and the
Newton step is one Cholesky solve. :func:`dense_affordable` decides when
that is cheaper than the products conjugate gradients would take.

On a medium problem (digits: 650 parameters) forming costs a few dozen
products, too many for every iteration, but near the optimum of a
near-separable fit conjugate gradients take 40-90 products per Newton
iteration. There a softmax's Hessian is formed, in float32 and coupling
only the likely classes of each row (:mod:`skdiv._model._preconditioner`),
only when a solve took many products for what forming it costs, and its
Cholesky factor preconditions the next solves (:class:`DenseForms`,
:func:`skdiv._solvers._newton.newton_cg`).

Parameters are laid out as the linear model's: the ``k`` coefficient blocks
of ``d`` entries, then the ``k`` intercepts.
"""

import numpy as np
import scipy.sparse as sp

from ._kernels import RowsHessian
from ._preconditioner import (
    dense_hessian_outer,
    nominal_preconditioner_cost,
    preconditioner_cost,
    select_rows,
)

# The Hessian is formed whole only up to this many parameters (its Cholesky
# factorisation, n_params^3 / 3, stays far below one pass over the data) ...
DENSE_MAX_PARAMS = 128
# ... and when forming it takes at most this many multiply-adds: about what
# a few dozen Hessian-vector products cost in overhead and arithmetic on
# the problems it is meant for.
DENSE_MAX_WORK = 3e7


# Above the exact steps' size, a softmax Hessian of at most this many
# parameters is formed as the preconditioner of conjugate gradients when they
# need many products (its Cholesky factor, n_params^3 / 3, and its 8 n_params^2
# bytes stay affordable next to the products it saves).
PRECONDITIONER_MAX_PARAMS = 2048


def dense_affordable(n_samples, n_features, n_blocks, fit_intercept):
    """Whether :func:`dense_hessian` is cheaper than conjugate gradients here."""
    width = n_features + int(fit_intercept)
    n_params = n_blocks * width
    work = n_samples * width**2 * n_blocks * (n_blocks + 1) / 2
    return n_params <= DENSE_MAX_PARAMS and work <= DENSE_MAX_WORK


def solver_rows(X, coordinates, fit_intercept):
    r"""The rows in the solver's coordinates: :math:`[(X - \mu) M, 1]`, dense.

    The raw prediction of row :math:`x` is :math:`x W^\top + b = (x - \mu)
    M W'^\top + b'`, so these rows multiply the solver's parameters
    directly (an intercept column when there is an intercept).
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    centred = X - coordinates.x_mean
    if coordinates.is_diagonal:
        centred *= coordinates.x_scale
    else:
        centred = centred @ coordinates.whitener
    if fit_intercept:
        centred = np.column_stack([centred, np.ones(X.shape[0])])
    return np.ascontiguousarray(centred, dtype=np.float64)


def layout(n_blocks, n_features, fit_intercept):
    """Where each entry of the parameters' Hessian sits in the blocks' one.

    The blocks' layout is ``(block, column of the solver rows)``; the
    returned flat index gathers a ``(k D)^2`` matrix in that layout into
    the parameters' (coefficient blocks, then intercepts).
    """
    k, d = n_blocks, n_features
    index = np.empty((k, d + int(fit_intercept)), dtype=np.intp)
    index[:, :d] = np.arange(k * d).reshape(k, d)
    if fit_intercept:
        index[:, d] = k * d + np.arange(k)
    order = np.argsort(index.ravel())
    return (order[:, None] * order.size + order[None, :]).ravel()


def dense_hessian(rows, blocks, index):
    r"""The Hessian of a loss sum, formed whole, in the parameters' layout.

    ``rows`` is ``(n, D)`` (:func:`solver_rows`), ``blocks`` the per-sample
    raw-space Hessians ``(n, k, k)``; block ``(a, b)`` of
    :math:`\sum_i H_i \otimes r_i r_i^\top` is :math:`\sum_i h_{iab}\, r_i
    r_i^\top`, one product per pair of outputs (half of them, by symmetry).
    ``index`` is :func:`layout`.
    """
    k, width = blocks.shape[1], rows.shape[1]
    if k == 1:
        full = rows.T @ (rows * blocks[:, 0, 0, None])
        return full.ravel().take(index).reshape(full.shape)
    full = np.empty((k, width, k, width))
    for a in range(k):
        for b in range(a, k):
            block = rows.T @ (rows * blocks[:, a, b, None])
            full[a, :, b, :] = block
            if b != a:
                full[b, :, a, :] = block.T
    return full.ravel().take(index).reshape(k * width, k * width)


# Rows' pairwise products are kept (:class:`PairedRows`) up to this many
# entries (16 MB).
MAX_PAIRED_ENTRIES = 1 << 21


class PairedRows:
    r"""The rows' pairwise products, to form a Hessian with one product.

    Entry :math:`(a j, b l)` of :math:`\sum_i H_i \otimes r_i r_i^\top` is
    :math:`\sum_i h_{iab}\, r_{ij} r_{il}`: the products :math:`r_{ij}
    r_{il}` (``j <= l``, ``n x D (D + 1) / 2``, fixed for a fit) times the
    blocks' upper triangles (``n x k (k + 1) / 2``), gathered into the
    parameters' layout. One matrix product and one gather per Hessian,
    where :func:`dense_hessian` makes ``k (k + 1) / 2`` products and their
    temporaries: on small problems the calls, not the arithmetic, are the
    cost.
    """

    def __init__(self, rows, n_blocks, index):
        width = rows.shape[1]
        first, second = np.triu_indices(width)
        self.products = rows[:, first] * rows[:, second]
        self._blocks = np.triu_indices(n_blocks)
        self._size = n_blocks * width
        self._gather = _pair_gather(n_blocks, width)[index]

    @staticmethod
    def affordable(n_samples, width):
        return n_samples * width * (width + 1) // 2 <= MAX_PAIRED_ENTRIES

    def hessian(self, blocks):
        """The Hessian for ``blocks`` (``(n, k, k)``), in the parameters' layout."""
        sums = self.products.T @ blocks[:, self._blocks[0], self._blocks[1]]
        return sums.ravel().take(self._gather).reshape(self._size, self._size)


def _pair_gather(k, width):
    """Flat index into ``(row pair, block pair)`` sums of every ``(a, j, b, l)``."""
    def pair_index(m):
        # Position of (min, max) in np.triu_indices(m)'s order.
        first, second = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
        low, high = np.minimum(first, second), np.maximum(first, second)
        return low * m - low * (low - 1) // 2 + (high - low)

    rows = pair_index(width)  # (j, l)
    blocks = pair_index(k)  # (a, b)
    n_block_pairs = k * (k + 1) // 2
    gather = rows[None, :, None, :] * n_block_pairs + blocks[:, None, :, None]
    return gather.ravel()


def penalty_dense(coordinates, n_blocks, fit_intercept):
    r"""The Hessian of :math:`\tfrac12 \lVert W' M \rVert_F^2`: :math:`M^2` per block.

    Zero on the intercepts.
    """
    d = coordinates.x_mean.shape[0]
    if coordinates.is_diagonal:
        square = np.diag(coordinates.x_scale**2)
    else:
        square = coordinates.whitener @ coordinates.whitener
    n_params = n_blocks * (d + int(fit_intercept))
    out = np.zeros((n_params, n_params))
    for a in range(n_blocks):
        out[a * d : (a + 1) * d, a * d : (a + 1) * d] = square
    return out


def shift_directions(n_blocks, n_features, fit_intercept, coefficients):
    r"""A softmax's flat directions: every block moved by the same amount.

    :math:`W' \to W' + \mathbf 1 u^\top` and :math:`b' \to b' + c \mathbf 1`
    change every logit of a row by the same number. Orthonormal columns:
    the intercepts' common shift, and (``coefficients``) each feature's.
    """
    k, d = n_blocks, n_features
    columns = []
    if coefficients:
        for j in range(d):
            v = np.zeros(k * (d + int(fit_intercept)))
            v[j : k * d : d] = 1.0
            columns.append(v)
    if fit_intercept:
        v = np.zeros(k * (d + 1))
        v[k * d :] = 1.0
        columns.append(v)
    if not columns:
        return np.zeros((k * (d + int(fit_intercept)), 0))
    return np.column_stack(columns) / np.sqrt(k)


class FormedHessian:
    r"""A Hessian of a loss sum formed whole in :math:`(W, b)`: free products.

    ``matrix`` is laid out ``(k, d + 1, k, d + 1)`` flattened to a square,
    each output's intercept after its ``d`` coefficients (the Dask model
    sums it over row blocks in the gradient's pass). :meth:`matvec` is the
    rows' Hessian product of :class:`~skdiv._model._kernels.RowsHessian`,
    from the matrix; :func:`to_solver` gives the matrix in the solver's
    coordinates.
    """

    def __init__(self, matrix, n_outputs, n_features):
        self.matrix = matrix
        self.shape = (n_outputs, n_features + 1)

    def matvec(self, v_coef, v_intercept):
        k, d1 = self.shape
        direction = np.empty(self.shape)
        direction[:, : d1 - 1] = v_coef
        direction[:, d1 - 1] = v_intercept
        product = (self.matrix @ direction.ravel()).reshape(self.shape)
        return product[:, : d1 - 1].copy(), product[:, d1 - 1].copy()


def to_solver(matrix, coordinates, n_blocks, fit_intercept, index):
    r"""A :class:`FormedHessian`'s matrix in the solver's coordinates and layout.

    Per output, the solver's :math:`(w', b')` map to :math:`(w, b) = (M w',
    b' - \mu^\top M w')`: :math:`J = \begin{pmatrix} M & 0 \\ -\mu^\top M
    & 1 \end{pmatrix}`, and the Hessian is :math:`J^\top H J` block by block.
    Without an intercept its row and column are dropped first. ``index`` is
    :func:`layout`'s.
    """
    d = coordinates.x_mean.shape[0]
    k = n_blocks
    full = matrix.reshape(k, d + 1, k, d + 1)
    if coordinates.is_diagonal:
        scale = np.diag(coordinates.x_scale)
    else:
        scale = coordinates.whitener
    if fit_intercept:
        jacobian = np.zeros((d + 1, d + 1))
        jacobian[:d, :d] = scale
        jacobian[d, :d] = -(coordinates.x_mean @ scale)
        jacobian[d, d] = 1.0
    else:
        full = full[:, :d, :, :d]
        jacobian = scale
    solver = np.einsum("ai,kalb,bj->kilj", jacobian, full, jacobian, optimize=True)
    width = jacobian.shape[1]
    return solver.reshape(k * width, k * width).ravel().take(index).reshape(
        k * width, k * width
    )


class DenseForms:
    """The linear model's Hessian as a matrix: exact steps, or a preconditioner.

    Mixed into :class:`~skdiv._model.LinearModel`, whose ``X``,
    ``coordinates``, ``fit_intercept``, ``dense`` (:func:`dense_affordable`)
    and ``preconditioned`` (:meth:`preconditioner_affordable`) it reads.
    :meth:`_formed` gives the :class:`~skdiv._model.HessianOperator` its
    ``dense`` (a small problem's Hessian, for exact Newton steps; the Dask
    model's, summed in the gradient's pass) or its ``preconditioner`` (a
    medium softmax's, formed only when conjugate gradients need many
    products).
    """

    def preconditioner_affordable(self):
        """Whether a softmax Hessian may be formed as CG's preconditioner.

        Only for float64 ``X``: float32 data leave rounding noise in the
        gradient, which a nearly exact Newton solve amplifies along the
        directions of least curvature (the line search then cuts the steps
        and the fit stalls above ``tol``); truncated Jacobi-preconditioned
        CG does not resolve those directions and damps it.
        """
        return (
            isinstance(self.X, np.ndarray)
            and self.X.dtype == np.float64
            and not self.dense
            and self.hessian_rows.rows is None
            and self._blocks > 2
            and self.n_params <= PRECONDITIONER_MAX_PARAMS
        )

    def _formed(self, rows_hessian):
        """``HessianOperator`` keywords: what ``rows_hessian`` can be formed as."""
        if isinstance(rows_hessian, FormedHessian):
            # Formed already (the Dask model's, summed over row blocks).
            return dict(dense_free=True, dense=lambda: to_solver(
                rows_hessian.matrix, self.coordinates, self._blocks,
                self.fit_intercept, self._layout(),
            ))
        if not isinstance(rows_hessian, RowsHessian):
            return {}
        raw = rows_hessian.raw_hessian
        if self.dense and hasattr(raw, "sample_blocks"):
            return dict(dense=lambda: self._dense_hessian(raw))
        if self.preconditioned and hasattr(raw, "outer_form"):
            width = self.n_features + int(self.fit_intercept)
            k, n = self._blocks, self.X.shape[0]
            selected = []  # the rows and couplings, chosen once when asked

            def selection():
                if not selected:
                    selected.append(self._preconditioner_rows(raw))
                return selected[0]

            nominal = nominal_preconditioner_cost(width, k)

            def cost():
                # Asked only once a solve passed the nominal cost's trigger.
                count = selection()[3].sum(axis=1)
                block_rows = int((count * (count + 1) // 2).sum())
                return max(nominal, preconditioner_cost(width, k, n, block_rows))

            return dict(
                preconditioner=lambda: self._outer_hessian(selection()),
                preconditioner_cost=cost,
                least_preconditioner_cost=nominal,
            )
        return {}

    def _dense_hessian(self, raw_hessian):
        """The Hessian of the loss sum as a matrix (:func:`dense_hessian`)."""
        if self._dense_rows is None:
            # Once per fit: the coordinates are fixed.
            self._dense_rows = solver_rows(self.X, self.coordinates, self.fit_intercept)
            if self._blocks > 1 and PairedRows.affordable(*self._dense_rows.shape):
                self._dense_rows = PairedRows(self._dense_rows, self._blocks,
                                              self._layout())
        shape = (self.X.shape[0],) if self._blocks == 1 else (
            self.X.shape[0], self._blocks)
        blocks = raw_hessian.sample_blocks(shape)
        if isinstance(self._dense_rows, PairedRows):
            return self._dense_rows.hessian(blocks)
        return dense_hessian(self._dense_rows, blocks, self._layout())

    def _preconditioner_rows(self, raw_hessian):
        """The rows and couplings the preconditioner sums (:func:`select_rows`)."""
        return select_rows(raw_hessian, self._solver_row_norms())

    def _outer_hessian(self, selection):
        """A softmax's Hessian of the loss sum over the selected rows.

        :func:`dense_hessian_outer` of ``selection``
        (:meth:`_preconditioner_rows`).
        """
        keep, diagonal, outer, coupled = selection
        if self.hessian_rows.whitened_copy:
            rows = self.hessian_rows.X[keep]  # with the ones, if an intercept
        else:
            rows = solver_rows(self.X[keep], self.coordinates,
                               self.fit_intercept).astype(np.float32)
        return dense_hessian_outer(rows, diagonal, outer, coupled, self.fit_intercept)

    def _solver_row_norms(self):
        r""":math:`\lVert r_i \rVert^2` of the rows in solver coordinates.

        With the intercept's 1 in :math:`r_i`; once per fit (the coordinates
        are fixed), in row blocks.
        """
        if getattr(self, "_row_norms", None) is None:
            n = self.X.shape[0]
            norms = np.zeros(n)
            for start in range(0, n, 4096):
                rows = slice(start, start + 4096)
                if self.hessian_rows.whitened_copy:
                    # With the ones already, if there is an intercept.
                    r = self.hessian_rows.X[rows].astype(np.float64)
                else:
                    r = solver_rows(self.X[rows], self.coordinates,
                                    self.fit_intercept)
                # Squared in place and summed by a matrix-vector product:
                # numpy's sums along the rows of a Fortran-ordered block (the
                # whitened copy's order) took eight times as long.
                np.square(r, out=r)
                norms[rows] += r @ np.ones(r.shape[1])
            self._row_norms = norms
        return self._row_norms

    def _layout(self):
        """:func:`layout` of the parameters (fixed: built once)."""
        if getattr(self, "_dense_index", None) is None:
            self._dense_index = layout(self._blocks, self.n_features,
                                       self.fit_intercept)
        return self._dense_index

    def penalty_dense(self):
        """The penalty's Hessian as a matrix: :math:`M^2` on each coefficient block."""
        return penalty_dense(self.coordinates, self._blocks, self.fit_intercept)

    def penalty_entries(self):
        """:meth:`penalty_dense`'s nonzeros as ``(flat index, value)``, C order.

        Built from the blocks: scanning a medium problem's dense
        ``n_params^2`` matrix for them costs more than forming the rest.
        """
        d, n_params = self.n_features, self.n_params
        coordinates = self.coordinates
        if coordinates.is_diagonal:
            rows = np.arange(self._blocks * d)
            return rows * (n_params + 1), np.tile(coordinates.x_scale**2, self._blocks)
        square = coordinates.whitener @ coordinates.whitener
        block = np.arange(d)
        index = [
            ((a * d + block)[:, None] * n_params + (a * d + block)[None, :]).ravel()
            for a in range(self._blocks)
        ]
        return np.concatenate(index), np.tile(square.ravel(), self._blocks)

    def flat_directions(self, penalised):
        """A softmax's common shifts (:func:`shift_directions`); none otherwise.

        The penalty curves the coefficients' shifts: only the intercepts'
        stays flat when ``penalised``.
        """
        if not (self._blocks > 1 and self._flat_direction):
            return np.zeros((self.n_params, 0))
        return shift_directions(self._blocks, self.n_features, self.fit_intercept,
                                coefficients=not penalised)
