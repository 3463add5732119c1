"""Scale-out: Dask row-block reductions and streaming mini-batches.

Both feed the adapter (:mod:`skdiv._adapter`), never an estimator's private
method: the Dask model sums the linear model's row-block kernels over a Dask
array's blocks (:mod:`skdiv._scale._dask_model`), the Dask fits prepare
targets by the same rules as in memory (:mod:`skdiv._scale._dask`), and
streaming evaluates the same adapter on a window of recent rows, with a
quadratic summary of the earlier ones (:mod:`skdiv._scale._newton_stream`;
Adam on mini-batches for large models, :mod:`skdiv._scale._stream`). Each
returns a solution for the estimator to store.
"""
