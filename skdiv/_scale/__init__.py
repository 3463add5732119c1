"""Scale-out: Dask row-block reductions and streaming mini-batches.

Both feed the adapter (:mod:`skdiv._adapter`): the Dask model sums the
linear model's row-block kernels over a Dask array's blocks
(:mod:`skdiv._scale._dask_model`), and streaming evaluates the same adapter
on each mini-batch.
"""
