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

Dask is imported lazily: importing this module does not need it, and a Dask
input without Dask installed gets an error naming the extra to install.
"""

import numpy as np

from .._adapter import linear_risk
from .._model import LinearModel
from .._model._kernels import data_terms, hessian_terms


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


def _block_moments(X, sample_weight, matrix):
    """Weight sum, weighted feature sums and second moments of one block."""
    X = X.astype(np.float64, copy=False)
    weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    Xw = X * weight[:, None]
    second = (X.T @ Xw).ravel() if matrix else np.einsum("ij,ij->j", X, Xw)
    return np.concatenate([[weight.sum()], Xw.sum(axis=0), second])[None, :]


def sum_blocks(func, X, arrays, args, n_terms):
    """Lazy sum over the row blocks of ``func(X_b, *arrays_b, args) -> (1, n_terms)``.

    One task per block, which returns one short row: no array of
    ``n_samples`` rows outlives its block's task. ``args`` becomes one key
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
    return per_block.sum(axis=0)


def aligned(values, X, name="y"):
    """``values`` as a Dask array with the row blocks of ``X``."""
    _, da = import_dask()
    if not is_dask_array(values):
        values = np.asarray(values)
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
    no Jacobi diagonal.

    ``X`` must have whole rows in each block (one block along the features)
    and the targets and weights its row blocks (:func:`dask_linear_risk`
    arranges both). The scheduler is Dask's current one: the
    ``distributed.Client`` in effect, or the local threaded scheduler.
    """

    _in_memory = False

    def _feature_moments(self, matrix):
        d = self.n_features
        n_terms = 1 + d + (d * d if matrix else d)
        total = sum_blocks(
            _block_moments, self.X, [self.sample_weight], matrix, n_terms
        ).compute()
        weight_sum, mean = total[0], total[1 : 1 + d] / total[0]
        second = total[1 + d :] / weight_sum
        if matrix:
            return mean, second.reshape(d, d)
        return mean, np.maximum(second - mean**2, 0.0)

    def _reduce(self, func, y, sample_weight, problem, n_terms):
        """Sum over row blocks of ``func(X_block, y_block, sw_block, problem)``."""
        return sum_blocks(func, self.X, [y, sample_weight], problem, n_terms).compute()

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

    def _data_terms_hessian(self, objective, y, sample_weight, coef, intercept):
        terms = self._data_terms(objective, y, sample_weight, coef, intercept)
        hessian = _DaskRowsHessian(self, objective, y, sample_weight, coef, intercept)
        return (*terms, hessian)


def dask_linear_risk(objective, X, y, *, sample_weight=None, **kwargs):
    """:func:`~skdiv._adapter.linear_risk` on Dask arrays, aligned to ``X``'s rows.

    ``X`` is rechunked to whole rows (one block along the features); ``y``
    and ``sample_weight`` (Dask or NumPy) are aligned to its row blocks.
    """
    X = X.rechunk({1: -1}) if X.numblocks[1] != 1 else X
    y = aligned(y, X)
    if sample_weight is not None:
        sample_weight = aligned(sample_weight, X, "sample_weight")
    return linear_risk(
        objective, X, y, sample_weight=sample_weight, model_class=DaskLinearModel,
        **kwargs,
    )
