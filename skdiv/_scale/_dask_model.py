"""The linear model on Dask arrays: its sums as row-block reductions.

Every skdiv objective is a sum over samples, so one evaluation of the loss
and gradient (or of a Hessian-vector product) is the sum, over the row
blocks of ``X``, of :func:`skdiv._model._kernels.data_terms` on each block.
:class:`DaskLinearModel` builds that sum as one Dask graph per evaluation:
the parameters enter the graph once (a single key every block task depends
on), each block task returns a vector of ``1 + n_outputs * (n_features +
1)`` numbers, and a tree reduction adds them. ``X`` never leaves the
workers that hold (or compute) its blocks; only parameter-sized vectors
travel, and the solver itself runs, unchanged, in the client process, on
the same adapter (:class:`skdiv._adapter.EmpiricalRisk`) as in memory.
When the Hessian is small (:data:`DENSE_HESSIAN_FLOPS`), the evaluation of
the Newton solver sums it whole in the same pass (``(n_outputs *
(n_features + 1))^2`` more numbers per block), and its products cost no
pass at all.

Dask is imported lazily: importing this module does not need it, and a Dask
input without Dask installed gets an error naming the extra to install.
"""

import functools

import numpy as np

from .._adapter import linear_risk
from .._model import LinearModel
from .._model._dense import FormedHessian
from .._model._kernels import (
    back,
    column_sums,
    data_terms,
    hessian_terms,
    raw_prediction,
)

# The Hessian is summed whole over the blocks, in the pass of the gradient,
# when its ``k (k + 1) / 2`` weighted Gram matrices of the rows (with a
# column of ones) cost at most this many times the multiply-adds of one
# Hessian-vector product over the same rows (``2 k (d + 1)`` per row): the
# products, one pass over the blocks each, then cost nothing. A pass is a
# round trip to the scheduler and a product is memory-bound where the Gram
# matrices run at BLAS speed: on 400,000 x 20 with 5 classes (a ratio of 31.5)
# both paths took about the same time on 2 local workers, where round trips
# are cheapest (benchmarks/bench_dask.py).
DENSE_HESSIAN_FLOPS = 32


def is_dask_array(X):
    """Whether ``X`` is a Dask collection, decided without importing Dask."""
    return type(X).__module__.split(".")[0] == "dask"


def import_dask():
    """``(dask, dask.array)``, or an ImportError naming the extra."""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        raise ImportError(
            "Fitting skdiv estimators on Dask arrays needs dask[array] (and "
            "distributed for a cluster): install the optional extra with "
            "pip install \"skdiv[dask]\"."
        ) from exc
    return dask, da


# --------------------------------------------------------------- block tasks
def _block_terms(X, y, sample_weight, problem):
    """Data terms of one row block, flattened to a ``(1, n_terms)`` row."""
    objective, coef, intercept = problem
    loss_sum, grad_coef, grad_intercept = data_terms(
        objective, coef, intercept, X, y, sample_weight
    )
    return np.concatenate([[loss_sum], grad_coef.ravel(), grad_intercept])[None, :]


def _block_hessp(X, y, sample_weight, problem):
    """Hessian product of one row block at a point, along a direction."""
    objective, coef, intercept, v_coef, v_intercept = problem
    hessian = hessian_terms(objective, coef, intercept, X, y, sample_weight)
    h_coef, h_intercept = hessian.matvec(v_coef, v_intercept)
    # float64 whatever X's precision: the blocks' sums add up in float64.
    return np.concatenate([h_coef.ravel(), h_intercept], dtype=np.float64)[None, :]


def _weighted_gram(X, h):
    r""":math:`\sum_i h_i \tilde x_i \tilde x_i^\top`, :math:`\tilde x_i = (x_i, 1)`.

    By blocks, :math:`X^\top H X`, :math:`X^\top h` and :math:`\sum_i h_i`,
    without copying ``X`` next to a column of ones (a third faster on
    50,000 x 20).
    """
    d = X.shape[1]
    Xh = X * h[:, None]
    gram = np.empty((d + 1, d + 1))
    gram[:d, :d] = X.T @ Xh
    gram[:d, d] = gram[d, :d] = column_sums(Xh)
    gram[d, d] = h.sum()
    return gram


def _block_terms_hessian(X, y, sample_weight, problem):
    r"""Data terms and the whole Hessian of one block, as one ``(1, n_terms)`` row.

    With :math:`\tilde x_i = (x_i, 1)` and :math:`H_i` the raw-space Hessian
    of sample :math:`i` (weighted), the Hessian of the loss sum in
    :math:`(W, b)` has the blocks :math:`\sum_i (H_i)_{ml}\, \tilde x_i
    \tilde x_i^\top` for each pair of outputs :math:`(m, l)`: ``k (k + 1) /
    2`` weighted Gram matrices, as :math:`H_i` is symmetric. Its columns come
    from the objective's own products with the unit directions, so every
    objective is covered. Laid out as ``(k, d + 1, k, d + 1)``, the intercept
    last in each output's row.
    """
    objective, coef, intercept = problem
    raw = raw_prediction(X, coef, intercept)
    loss, grad_raw, raw_hessian = objective.loss_gradient_hessian(
        y, raw, sample_weight
    )
    grad_coef, grad_intercept = back(X, grad_raw)
    n, d = X.shape
    k = coef.shape[0]
    X = X.astype(np.float64, copy=False)
    hessian = np.empty((k, d + 1, k, d + 1))
    for out in range(k):
        if k == 1:
            column = raw_hessian.matvec(np.ones(n))[:, None]
        else:
            unit = np.zeros((n, k), order="F")
            unit[:, out] = 1.0
            column = raw_hessian.matvec(unit)  # column[:, m] = (H_i)_{m, out}
        for other in range(out, k):
            gram = _weighted_gram(X, column[:, other])
            hessian[other, :, out, :] = gram
            hessian[out, :, other, :] = gram
    return np.concatenate([
        [float(loss.sum())], grad_coef.ravel(), grad_intercept, hessian.ravel()
    ])[None, :]


def _block_moments(X, sample_weight, matrix):
    """Weight sum, weighted feature sums and second moments of one block.

    Computed with the input checks (:func:`skdiv._scale._dask.fit_classifier`),
    so on bad input too: silent, as the checks' own errors then follow.
    """
    X = X.astype(np.float64, copy=False)
    weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    with np.errstate(all="ignore"):
        Xw = X * weight[:, None]
        second = (X.T @ Xw).ravel() if matrix else np.einsum("ij,ij->j", X, Xw)
        return np.concatenate([[weight.sum()], Xw.sum(axis=0), second])[None, :]


def sum_blocks(func, X, arrays, args, n_terms):
    """Lazy sum over the row blocks of ``func(X_b, *arrays_b, args) -> (1, n_terms)``.

    One task per block, which returns one short row: no array of
    ``n_samples`` rows outlives its block's task, and the sum is one such
    row too, of shape ``(1, n_terms)``. ``args`` becomes one key
    of the graph, which every block task depends on: with a distributed
    client it is sent to each worker once, not once per block.
    """
    dask, da = import_dask()
    pairs = [X, "ij"]
    for index, array in enumerate(arrays):
        if array is None:
            pairs += [None, None]
        else:
            pairs += [array, "i" + "klmn"[index] * (array.ndim - 1)]
    per_block = da.blockwise(
        func,
        "iz",
        *pairs,
        dask.delayed(args, pure=True),
        None,
        new_axes={"z": n_terms},
        adjust_chunks={"i": 1},
        concatenate=True,
        dtype=np.float64,
        meta=np.empty((0, 0), dtype=np.float64),
    )
    return per_block.sum(axis=0, keepdims=True)


def _block_checked_moments(X, sample_weight, matrix):
    """:func:`_block_moments` and the number of entries of ``X`` not finite.

    Computed before ``X`` is checked: on input the checks refuse (entries
    not finite, or products that overflow) the moments are never used, so
    their overflow is not reported, and an overflowed moment is NaN rather
    than infinite (a sum of infinities of both signs would warn again).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        moments = _block_moments(X, sample_weight, matrix)
    moments = np.where(np.isfinite(moments), moments, np.nan)
    n_bad = X.size - np.count_nonzero(np.isfinite(X))
    return np.concatenate([moments[0], [n_bad]])[None, :]


def moment_totals(X, sample_weight, matrix, count_nonfinite=False):
    """Lazy ``(sum w, X^T w, X^T W X or its diagonal)``, flattened, over the blocks.

    A ``(1, n_terms)`` row; with ``count_nonfinite`` one more term, the
    number of entries of ``X`` that are not finite (the input check, in the
    same read of the blocks).
    """
    d = X.shape[1]
    n_terms = 1 + d + (d * d if matrix else d)
    if count_nonfinite:
        return sum_blocks(
            _block_checked_moments, X, [sample_weight], matrix, n_terms + 1
        )
    return sum_blocks(_block_moments, X, [sample_weight], matrix, n_terms)


def raise_for_unknown_chunks(values, name):
    """A ValueError, naming ``values``, if its row blocks have unknown sizes.

    Dask leaves them unknown after boolean indexing (``y[y > 0]``): the
    length is NaN, and comparing it with ``X``'s would report a mismatch
    that is not there.
    """
    if is_dask_array(values) and any(np.isnan(c) for c in values.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() "
            "first."
        )


def aligned(values, X, name="y"):
    """``values`` as a Dask array with the row blocks of ``X``."""
    _, da = import_dask()
    if not is_dask_array(values):
        values = np.asarray(values)
    raise_for_unknown_chunks(values, name)
    if values.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has {values.shape[0]} rows but X has {X.shape[0]} samples."
        )
    chunks = (X.chunks[0],) + tuple((n,) for n in values.shape[1:])
    if not is_dask_array(values):
        return da.from_array(values, chunks=chunks)
    if values.chunks != chunks:
        values = values.rechunk(chunks)
    return values


class _DaskRowsHessian:
    """The Hessian of the loss sum over all blocks, one block reduction per product."""

    def __init__(self, model, objective, y, sample_weight, coef, intercept):
        self.model, self.objective = model, objective
        self.y, self.sample_weight = y, sample_weight
        self.coef, self.intercept = coef, intercept

    def matvec(self, v_coef, v_intercept):
        model = self.model
        total = model._reduce(
            _block_hessp, self.y, self.sample_weight,
            (self.objective, self.coef, self.intercept, v_coef, v_intercept),
            model._blocks * (model.n_features + 1),
        )
        h_coef, h_intercept = model._split(total)
        return h_coef.copy(), h_intercept.copy()


class DaskLinearModel(LinearModel):
    """:class:`~skdiv._model.LinearModel` on a Dask array ``X``.

    Same parameters, parametrisation (``pack``, ``unpack``, preconditioning,
    ``gradient_norm``) and values as the in-memory model; the feature
    moments of the preconditioner are Dask reductions (the covariance is a
    ``d x d`` matrix) and every evaluation maps the row-block kernels over
    the blocks and adds the results. A gradient costs one pass over the
    blocks, and each Hessian product one more (the per-block curvature is
    recomputed rather than kept on the workers, so nothing of size
    ``n_samples`` outlives an evaluation): no subsample, no float32 rows,
    no Jacobi diagonal. Unless the Hessian is small enough to sum whole in
    the gradient's pass (:data:`DENSE_HESSIAN_FLOPS`): then a Newton
    iteration costs one pass however many products its conjugate gradients
    take.

    ``X`` must have whole rows in each block (one block along the features)
    and the targets and weights its row blocks (:func:`dask_linear_risk`
    arranges both). The scheduler is Dask's current one: the
    ``distributed.Client`` in effect, or the local threaded scheduler.
    """

    _in_memory = False

    def __init__(self, X, n_outputs, *, moments=None, **kwargs):
        # Totals of moment_totals(X, sample_weight, matrix=True) computed
        # already (with the input checks): the change of variables then
        # costs no pass of its own.
        self._moment_totals = moments
        super().__init__(X, n_outputs, **kwargs)

    def _feature_moments(self, matrix):
        d = self.n_features
        total = self._moment_totals
        if total is None or total.shape[1] != 1 + d + d * d:
            total = moment_totals(self.X, self.sample_weight, matrix).compute()
        total = total[0]
        weight_sum, mean = total[0], total[1 : 1 + d] / total[0]
        second = total[1 + d :] / weight_sum
        if second.shape[0] == d * d:
            second = second.reshape(d, d)
            if matrix:
                return mean, second
            second = np.diag(second)
        return mean, np.maximum(second - mean**2, 0.0)

    def _reduce(self, func, y, sample_weight, problem, n_terms):
        """Sum over row blocks of ``func(X_block, y_block, sw_block, problem)``."""
        total = sum_blocks(func, self.X, [y, sample_weight], problem, n_terms)
        return total.compute()[0]

    def _split(self, flat):
        k, d = self._blocks, self.n_features
        return flat[: k * d].reshape(k, d), flat[k * d :]

    def _data_terms(self, objective, y, sample_weight, coef, intercept):
        n_terms = 1 + self._blocks * (self.n_features + 1)
        total = self._reduce(
            _block_terms, y, sample_weight, (objective, coef, intercept), n_terms
        )
        grad_coef, grad_intercept = self._split(total[1:])
        return float(total[0]), grad_coef.copy(), grad_intercept.copy()

    def dense_hessian(self, n_outputs=None):
        """Whether the Hessian is summed whole over the blocks (see the class).

        The ``k (k + 1) / 2`` Gram matrices cost ``k (k + 1) (d + 1)^2 / 2``
        multiply-adds per row, and a Hessian-vector product ``2 k (d + 1)``
        (the raw predictions along the direction, and back).
        """
        k = self._blocks if n_outputs is None else n_outputs
        d1 = self.n_features + 1
        return k * (k + 1) * d1 * d1 / 2 <= DENSE_HESSIAN_FLOPS * 2 * k * d1

    def _data_terms_hessian(self, objective, y, sample_weight, coef, intercept):
        k, d = coef.shape
        if self.dense_hessian(k):
            n_grad = k * (d + 1)
            total = self._reduce(
                _block_terms_hessian, y, sample_weight, (objective, coef, intercept),
                1 + n_grad + n_grad * n_grad,
            )
            grad_coef, grad_intercept = self._split(total[1 : 1 + n_grad])
            hessian = FormedHessian(
                total[1 + n_grad :].reshape(n_grad, n_grad), k, d
            )
            return float(total[0]), grad_coef.copy(), grad_intercept.copy(), hessian
        terms = self._data_terms(objective, y, sample_weight, coef, intercept)
        hessian = _DaskRowsHessian(self, objective, y, sample_weight, coef, intercept)
        return (*terms, hessian)


def dask_linear_risk(objective, X, y, *, sample_weight=None, moments=None,
                     **kwargs):
    """:func:`~skdiv._adapter.linear_risk` on Dask arrays, aligned to ``X``'s rows.

    ``X`` is rechunked to whole rows (one block along the features); ``y``
    and ``sample_weight`` (Dask or NumPy) are aligned to its row blocks.
    ``moments``, the computed :func:`moment_totals` of ``X`` with these
    sample weights, spares the change of variables its pass.
    """
    X = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
    y = aligned(y, X)
    if sample_weight is not None:
        sample_weight = aligned(sample_weight, X, "sample_weight")
    model_class = DaskLinearModel
    if moments is not None:
        model_class = functools.partial(DaskLinearModel, moments=moments)
    return linear_risk(
        objective, X, y, sample_weight=sample_weight, model_class=model_class,
        **kwargs,
    )
