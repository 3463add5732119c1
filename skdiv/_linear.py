"""The adapter between an objective and a linear model.

:class:`LinearObjective` owns everything that sits between the pointwise
objective of :mod:`skdiv._objectives` and the solvers of
:mod:`skdiv._solvers`: packing coefficients and intercepts into one flat
vector, the L2 penalty, the normalisation by the sum of sample weights, and
changes of variables that precondition the problem: on the features (a
scaling or a whitening) and, for a softmax, on the classes (the sum-zero
basis of :class:`SumZeroObjective`). Solvers only ever see
``fun(params) -> (loss, grad)`` (and a Hessian-vector product).

The objective is a sum over samples. The per-sample part lives in
:func:`data_terms`, :func:`data_terms_hessp` and :func:`hessian_terms`, free
functions of one block of rows that return *unnormalised* sums;
:class:`LinearObjective` adds the normalisation, the penalty and the changes
of variables around them. The Dask adapter
(:class:`skdiv._dask.DaskLinearObjective`) evaluates the same functions on
every row block of a Dask array and adds the results, so the two adapters
compute the same function.
"""

import numpy as np
import scipy.sparse as sp

# The subsampled Hessian keeps at least this many rows (and 16 per parameter),
# and at least one row in _MAX_HESSIAN_STRIDE.
_MIN_HESSIAN_ROWS = 10_000
_MAX_HESSIAN_STRIDE = 8
_HESSIAN_ROWS_PER_PARAM = 16
# A subsampled Hessian is some 10-20% off at those sizes: CG need not solve the
# Newton system to better than 3% (hessp.forcing_floor). On dense 100,000 x
# 100 with 10 classes: 54 CG steps instead of 68, the same 10 Newton
# iterations (0.05: 50 steps, 11 iterations).
_SUBSAMPLED_FORCING_FLOOR = 0.03
# Hessian products in float32 (see LinearObjective._single_precision_ok) when
# centring amplifies rounding at most this much and values stay this small.
_MAX_CANCELLATION = 1e3
_MAX_SINGLE = 1e30


def _is_dask_array(X):
    """Whether ``X`` is a Dask collection, decided without importing Dask."""
    return type(X).__module__.split(".")[0] == "dask"


def row_blocks(n_rows, n_columns, nbytes=1 << 22, min_rows=1):
    """Slices of consecutive rows holding about ``nbytes`` of float64 each.

    For loops over a matrix that bound their temporaries (or stay in cache)
    whatever ``n_rows``: 4 MB by default.
    """
    size = max(min_rows, nbytes // (8 * max(n_columns, 1)))
    return [slice(start, start + size) for start in range(0, n_rows, size)]


def sum_zero_basis(k):
    r"""Orthonormal basis ``Q`` (``k x (k - 1)``) of the vectors summing to zero.

    The first ``k - 1`` columns of the Householder reflection that swaps
    :math:`e_k` and :math:`\mathbf 1 / \sqrt k`: orthogonal to its last
    column, :math:`\mathbf 1 / \sqrt k`, and to each other.
    """
    v = np.full(k, 1.0 / np.sqrt(k))
    v[-1] -= 1.0
    return (np.eye(k) - 2.0 * np.outer(v, v) / (v @ v))[:, :-1]


class SumZeroObjective:
    r"""A shift-invariant objective on ``k`` outputs, seen through ``k - 1``.

    A softmax does not change when the same number is added to every logit,
    so an L2-penalised optimum has coefficients whose classes sum to zero
    (and the intercepts may be taken so). Writing them in an orthonormal
    basis :math:`Q` of that subspace (:func:`sum_zero_basis`),
    :math:`W = Q \tilde W` and :math:`Z = \tilde Z Q^\top`, the model has
    ``k - 1`` outputs and loses nothing: the penalty is the same
    (:math:`\lVert W \rVert = \lVert \tilde W \rVert`), the flat direction is
    gone, and every product with ``X`` has ``k - 1`` columns instead of
    ``k``. This class is the objective in those coordinates: it maps raw
    predictions by :math:`Q^\top` on the way in, and gradients and Hessian
    products by :math:`Q` on the way out.
    """

    shift_invariant = False

    def __init__(self, objective, basis):
        self.objective = objective
        self.basis = basis
        self._basis32 = basis.astype(np.float32)

    def _basis(self, dtype):
        """:math:`Q` in the precision of the arrays it maps (float32 rows)."""
        return self._basis32 if dtype == np.float32 else self.basis

    def _expand(self, raw):
        r"""``(n, k - 1) -> (n, k)``: :math:`\tilde Z Q^\top`, class-major."""
        return (self._basis(raw.dtype) @ raw.T).T

    def _reduce(self, grad):
        """``(n, k) -> (n, k - 1)``: :math:`G Q`, row-major (for sparse products)."""
        return grad @ self._basis(grad.dtype)

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        loss, grad = self.objective.loss_gradient(
            y_true, self._expand(raw_prediction), sample_weight
        )
        return loss, self._reduce(grad)

    def loss_gradient_hessp(self, y_true, raw_prediction, sample_weight=None):
        loss, grad, hessp = self.objective.loss_gradient_hessp(
            y_true, self._expand(raw_prediction), sample_weight
        )

        def reduced_hessp(v):
            return self._reduce(hessp(self._expand(v)))

        if hasattr(hessp, "diagonal_in"):
            # diag(Q^T H_i Q) per sample, from the objective's closed form.
            reduced_hessp.diagonal = lambda: hessp.diagonal_in(self.basis)
        return loss, self._reduce(grad), reduced_hessp


def _raw(X, coef, intercept, dtype=np.float64):
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


def _column_sums(A):
    """``A.sum(axis=0)`` of a 2-D array, by BLAS.

    numpy's sum down the rows of a C-ordered ``n x k`` array walks ``n``
    short rows: 20 times slower on 20,000 x 4.
    """
    return np.ones(A.shape[0], dtype=A.dtype) @ A


def _back(X, grad_raw, dtype=np.float64):
    """Raw-space gradient -> unnormalised ``(grad_coef, grad_intercept)`` sums.

    ``grad_coef`` is computed as ``G.T @ X``: with ``G`` Fortran-ordered (as
    :func:`_raw` makes it) ``G.T`` is contiguous and the product is fast. A
    Fortran-ordered dense ``X`` (the whitened Hessian's float32 rows, stored
    so because ``W @ X.T`` is then a third faster) takes ``(X.T @ G).T``.
    Both sums come back in ``dtype``: float64 for gradients, the rows' own
    precision for Hessian products on float32 rows.
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
    return grad_coef, _column_sums(grad_raw_2d).astype(dtype, copy=False)


def data_terms(objective, coef, intercept, X, y, sample_weight=None):
    """Per-sample sums of one block of rows at ``(coef, intercept)``.

    Returns ``(loss_sum, grad_coef, grad_intercept)``: the weighted sum of the
    pointwise losses and its gradient with respect to ``coef`` (shape
    ``(n_outputs, n_features)``) and ``intercept`` (``(n_outputs,)``), in
    original coordinates, neither normalised nor penalised. Being sums, the
    terms of row blocks add up to the terms of their union.
    """
    raw = _raw(X, coef, intercept)
    loss, grad_raw = objective.loss_gradient(y, raw, sample_weight)
    grad_coef, grad_intercept = _back(X, grad_raw)
    return float(loss.sum()), grad_coef, grad_intercept


def data_terms_hessp(
    objective, coef, intercept, X, y, sample_weight=None, *, hessian_X=None
):
    """:func:`data_terms` plus the Hessian product of the same sums.

    Returns ``(loss_sum, grad_coef, grad_intercept, hessp)`` with
    ``hessp(v_coef, v_intercept) -> (h_coef, h_intercept)`` applying the
    Hessian of the unnormalised loss sum (in original coordinates) to a
    direction; each call costs two products with ``X``, or with
    ``hessian_X``, the same rows in another precision, when given.
    """
    raw = _raw(X, coef, intercept)
    loss, grad_raw, hessp_raw = objective.loss_gradient_hessp(y, raw, sample_weight)
    grad_coef, grad_intercept = _back(X, grad_raw)
    hessp = _hessian_product(hessp_raw, X if hessian_X is None else hessian_X)
    return float(loss.sum()), grad_coef, grad_intercept, hessp


def hessian_terms(objective, coef, intercept, X, y, sample_weight=None):
    """The ``hessp`` of :func:`data_terms_hessp` alone: no loss or gradient sums.

    For Hessians that have rows of their own (a subsample); on float32 rows
    the curvature is computed in float32 too, and so are the products.
    """
    raw = _raw(X, coef, intercept, dtype=X.dtype)
    hessp_raw = objective.loss_gradient_hessp(y, raw, sample_weight)[2]
    return _hessian_product(hessp_raw, X)


def _hessian_product(hessp_raw, X):
    """Raw-space Hessian product -> product in ``(coef, intercept)`` over rows ``X``.

    When the objective knows its diagonal, ``hessp.curvature(shared=False)``
    returns it per sample (class-averaged, one column, when ``shared``): the
    :math:`h_{ik}` of :func:`centred_square_terms`.
    """

    def hessp(v_coef, v_intercept):
        raw = _raw(X, v_coef, v_intercept, dtype=X.dtype)
        return _back(X, hessp_raw(raw), dtype=X.dtype)

    if hasattr(hessp_raw, "diagonal"):

        def curvature(shared=False):
            h = hessp_raw.diagonal()
            return h.mean(axis=1) if shared and h.ndim == 2 else h

        hessp.curvature = curvature
    return hessp


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
    which takes one product with ``centred_square`` (:func:`_centred_square`
    of ``X``, built here when not given).
    """
    h = curvature[:, None] if curvature.ndim == 1 else curvature
    constant = _column_sums(h)
    if sp.issparse(X):
        if centred_square is None:
            centred_square = _centred_square(X, centre)
        square = _back(centred_square, h)[0]
        square += np.outer(constant, centre**2)
        return square, constant
    square = np.zeros((h.shape[1], X.shape[1]))
    centre = centre.astype(X.dtype)
    for rows in row_blocks(*X.shape):
        block = X[rows] - centre
        block *= block
        square += _back(block, h[rows])[0]
    return square, constant


def _centred_square(X, centre):
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


class LinearObjective:
    r"""Penalised mean objective of a linear model with ``n_outputs`` heads.

    The model maps features to raw predictions (logits, or mean and
    log-variance) linearly, :math:`Z = X W^\top + b`, with :math:`W` of shape
    ``(n_outputs, n_features)``. The function minimised is

    .. math::

        F(W, b) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell(y_i, z_i)
                  + \frac{\alpha}{2} \lVert W \rVert_F^2 ,

    with :math:`s_i` the sample weights and :math:`\ell` the objective; the
    intercept is not penalised. When ``n_outputs == 1`` the raw predictions
    are 1-D (binary logit, or a mean).

    **Preconditioning.** The solver works on :math:`\theta = (W', b')` with

    .. math::

        W = W' M, \qquad b = b' - W \mu ,

    where :math:`\mu` holds the (weighted) feature means when there is an
    intercept and :math:`M` is either :math:`\operatorname{diag}(1 /
    \mathrm{std}(x_j))` or the whitening :math:`(\Sigma + \alpha I)^{-1/2}`.
    This is the model fitted on standardised (or whitened) features, written
    without ever copying, centring or densifying ``X``: the products use
    :math:`W` and :math:`b` directly. The
    penalty is still computed on the original :math:`W`, so the optimum maps
    back exactly and ``alpha`` keeps its meaning; only the conditioning of the
    problem the solver sees changes.

    Parameters
    ----------
    objective : objective instance
        From :mod:`skdiv._objectives`.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    y : ndarray
        Target in the form the objective takes.
    n_outputs : int
        Number of raw predictions per sample.
    sample_weight : ndarray of shape (n_samples,) or None
    alpha : float
        L2 penalty strength.
    fit_intercept : bool
    precondition : {"auto", "whiten", "diagonal", "none"} or tuple, default="auto"
        The change of variables: :math:`M = \operatorname{diag}(c)` as above
        (``"diagonal"``), the whitening :math:`M = (\Sigma + \alpha
        I)^{-1/2}` of the feature covariance :math:`\Sigma` (``"whiten"``,
        which also undoes correlations between features), or none.
        ``"auto"`` whitens up to 1000 features. A tuple is a fixed change of
        variables taken from another adapter's :attr:`change_of_variables`
        (the stochastic solver keeps the one of its first mini-batch).
    weight_sum : float, default=None
        The normaliser :math:`\sum_i s_i` of the data term; the sum of
        ``sample_weight`` (or ``n_samples``) when None. The stochastic solver
        passes a running estimate so that mini-batch gradients average to the
        full gradient.
    hessian_stride : "auto" or int, default="auto"
        Hessian products use every ``hessian_stride``-th row only (value and
        gradient always use all rows); see **Subsampled Hessian** below.
        ``"auto"`` picks the largest stride up to 8 that keeps at least 16
        rows per parameter and 10,000 rows, and 1 (all rows) for Dask
        arrays.
    hessian_precision : {"auto", "double"}, default="auto"
        ``"auto"`` lets Hessian products use a float32 copy of their rows
        where that is safe (see **Single precision** below); ``"double"``
        keeps them in ``X``'s own precision.
    sum_zero : {"auto", True, False}, default="auto"
        For a shift-invariant objective (the softmax) with three or more
        outputs, solve for ``k - 1`` coefficient blocks in the basis of
        :class:`SumZeroObjective`: the same optimum, products with ``X``
        one column narrower. ``"auto"`` does so for sparse ``X``.
        :meth:`unpack` and :meth:`pack` speak all ``k`` outputs either way.

    **Subsampled Hessian.** On tall problems (many more rows than
    parameters) the Hessian of the mean loss is estimated well by the mean
    over a systematic subsample of rows, ``X[::stride]``:

    .. math::

        \tilde H = \frac{1}{\sum_{i \in S} s_i} \sum_{i \in S} s_i\,
            J_i^\top \nabla^2 \ell_i\, J_i + \alpha I .

    For dense ``X`` the feature moments of the change of variables come from
    the same rows (any centre and any positive definite :math:`M` leave the
    optimum where it is). A conjugate-gradient step of Newton-CG then costs
    a fraction ``1 / stride`` of a pass over the data. The value and
    gradient stay exact, so the optimum and the stopping rule do not change,
    only the rate at which Newton approaches it (linear with a small factor
    instead of quadratic; Byrd, Chin, Neveitt and Nocedal, SIAM J. Optim.
    21(3), 2011). On dense 100,000 x 100 with 10 classes this
    halves the fit time (``benchmarks/bench_classifier.py``).

    **Single precision.** An approximate Hessian needs no float64. With
    whitening (dense ``X``) the Hessian's rows are stored once, centred, in
    float32. Under a diagonal scaling they are stored uncentred in float32
    (for sparse ``X``, a copy of the values sharing ``X``'s index arrays,
    also when the stride is 1) when the centring cannot amplify rounding by
    more than 1000 (:meth:`_single_precision_ok`). Float32 products are
    twice as fast dense, 40% faster sparse. On float32 rows the curvature
    (the softmax's probabilities, say) and the raw-space products are
    float32 as well.

    **Solver coordinates.** Under a diagonal scaling the Hessian's rows are
    stored scaled, :math:`X M` (:meth:`_solver_rows`), and its products are
    taken in the solver's coordinates directly (:meth:`_solver_hessp`), in
    the rows' precision: on float32 rows Newton-CG's conjugate gradients
    run in float32 too.

    Notes
    -----
    Constructed with a Dask array ``X``, the class returns a
    :class:`skdiv._dask.DaskLinearObjective`: the same function, evaluated
    block by block on the Dask workers. Code written against this adapter
    (such as the regressor's wrappers) thereby runs on Dask data unchanged.
    """

    def __new__(cls, *args, **kwargs):
        X = args[1] if len(args) > 1 else kwargs.get("X")
        if cls is LinearObjective and _is_dask_array(X):
            from ._dask import DaskLinearObjective

            cls = DaskLinearObjective
        return super().__new__(cls)

    def __init__(
        self,
        objective,
        X,
        y,
        *,
        n_outputs,
        sample_weight=None,
        alpha=0.0,
        fit_intercept=True,
        precondition="auto",
        weight_sum=None,
        hessian_stride="auto",
        hessian_precision="auto",
        sum_zero="auto",
    ):
        self.objective = objective
        self.X = X
        self.y = y
        self.n_outputs = n_outputs
        # The solver's coefficient blocks: one per output, or k - 1 in the
        # sum-zero basis of a shift-invariant objective, which the data terms
        # then evaluate through SumZeroObjective.
        self._class_basis = None
        self._blocks = n_outputs
        # KL = CE - H(p), and H(p) does not depend on the model: the data
        # terms are the cross-entropy's (no entropy per evaluation, a quarter
        # of a dense soft-label evaluation), the entropy's sum is added to
        # the value once (_offset_sum, set below).
        model_objective = getattr(objective, "model_objective", objective)
        if _is_dask_array(X):
            model_objective = objective  # y stays on the workers
        self._blocks_objective = model_objective
        if sum_zero == "auto":
            # Measured: 18% faster on sparse 20,000 x 50,000 with 5 classes,
            # where products cost per nonzero and class; 8% slower on dense
            # 100,000 x 100 with 10, where the maps by Q cost as much.
            sum_zero = sp.issparse(X)
        if sum_zero and n_outputs >= 3 and getattr(objective, "shift_invariant", False):
            self._class_basis = sum_zero_basis(n_outputs)
            self._blocks_objective = SumZeroObjective(
                model_objective, self._class_basis
            )
            self._blocks = n_outputs - 1
        if (
            weight_sum is None
            and isinstance(sample_weight, np.ndarray)
            and sample_weight.size
            and np.all(sample_weight == sample_weight[0])
        ):
            # Equal weights cancel in the normalised objective: skip the
            # per-evaluation products with them (and their n x k buffers).
            sample_weight = None
        self.sample_weight = sample_weight
        self._offset_sum = 0.0
        if model_objective is not objective:
            offset = objective.target_offset(y)
            weighted = offset if sample_weight is None else offset * sample_weight
            self._offset_sum = float(np.sum(weighted))
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        n_samples, n_features = X.shape
        self.n_features = n_features
        if weight_sum is not None:
            self.sw_sum = weight_sum
        else:
            self.sw_sum = self._weight_sum()
        if hessian_stride == "auto":
            hessian_stride = 1
            if not _is_dask_array(X):
                rows = max(_HESSIAN_ROWS_PER_PARAM * self.n_params, _MIN_HESSIAN_ROWS)
                hessian_stride = int(np.clip(n_samples // rows, 1, _MAX_HESSIAN_STRIDE))
        if (
            hessian_stride > 1
            and sample_weight is not None
            and not sample_weight[::hessian_stride].sum() > 0
        ):
            hessian_stride = 1  # the subsample carries no weight
        self.hessian_stride = hessian_stride
        if hessian_precision not in ("auto", "double"):
            raise ValueError(
                "hessian_precision must be 'auto' or 'double', got "
                f"{hessian_precision!r}."
            )
        self.hessian_precision = hessian_precision
        self._offset_scale(precondition)
        self._set_hessian_rows(hessian_stride)

    def _set_hessian_rows(self, stride):
        r"""The rows Hessian products use: ``X[::stride]``, their precision, weight sum.

        Sets :attr:`_hessian_rows` to ``(X_rows, y_rows, sw_rows)`` when the
        Hessian has rows of its own (``stride > 1``), and :attr:`_hessian_X`
        to the matrix its products multiply. Under a diagonal scaling that
        matrix is stored in solver coordinates, :math:`X M` (see
        :meth:`_solver_hessp`), for sparse ``X`` (a copy of its values) and
        for a subsample (a copy anyway): :attr:`_solver_centre` is then
        :math:`\mu M`, else None. Dense ``X`` at stride 1 is not copied.
        """
        self._hessian_rows = self._hessian_centre = self._solver_centre = None
        self._centred_square_rows = None  # for the Jacobi diagonal, when sparse
        self.hessian_weight_sum = self.sw_sum
        self._hessian_X = self.X  # the matrix Hessian products multiply
        diagonal = self._whitener is None and not _is_dask_array(self.X)
        if stride == 1:
            if diagonal and sp.issparse(self.X):
                self._hessian_X = self._solver_rows(self.X)
            return
        rows = slice(None, None, stride)
        sw = None if self.sample_weight is None else self.sample_weight[rows]
        X_rows = self.X[rows]
        if (
            self._whitener is not None
            and not sp.issparse(X_rows)
            and self.hessian_precision == "auto"
        ):
            # Once the rows are centred (nothing cancels between x_i and the
            # mean) float32 products are exact to 1e-6 relative, against the
            # ~10% of the subsampling.
            self._hessian_centre = self.x_mean
            X_rows = np.subtract(
                X_rows, self.x_mean,
                out=np.empty(X_rows.shape, np.float32, order="F"),
                casting="unsafe",
            )
        elif diagonal:
            X_rows = self._solver_rows(X_rows)
        self._hessian_rows = (X_rows, self.y[rows], sw)
        self._hessian_X = X_rows
        self.hessian_weight_sum = X_rows.shape[0] if sw is None else sw.sum()

    def _solver_rows(self, X):
        r"""Rows of ``X`` in solver coordinates, :math:`X M`.

        :math:`M = \operatorname{diag}(c)` is the diagonal scaling. In
        float32 where :meth:`_single_precision_ok`; sparse rows share ``X``'s
        index arrays. Sets :attr:`_solver_centre` to :math:`\mu M`.
        """
        dtype = np.float32 if self._single_precision_ok() else X.dtype
        scale = self.x_scale.astype(dtype)
        self._solver_centre = self.x_mean * self.x_scale
        if dtype == X.dtype and np.all(scale == 1):
            return X  # no scaling (precondition="none"): the rows as they are
        if sp.issparse(X):
            X = X.tocsr()
            data = np.multiply(X.data, scale[X.indices], dtype=dtype)
            rows = sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape)
        else:
            rows = np.multiply(X, scale, dtype=dtype)
        return rows

    def _single_precision_ok(self):
        r"""Whether Hessian products may use ``X`` in float32 (diagonal scaling).

        The solver's coordinates multiply :math:`c_j (x_{ij} - \mu_j)`, but
        the products use :math:`x_{ij}` uncentred (the centre is folded into
        the intercept), so float32 rounding of :math:`x_{ij} v_j` is
        amplified by :math:`|\mu_j| / \mathrm{std}_j` against the centred
        term. Up to 1000 (and for values float32 holds) the Hessian stays
        exact to about 1e-4 relative: well inside what inexact Newton
        tolerates, for products twice as fast (sparse products by 40%).
        """
        if (
            self.hessian_precision != "auto"
            or self.X.dtype != np.float64
            or self._whitener is not None
            or _is_dask_array(self.X)
        ):
            return False
        values = self.X.data if sp.issparse(self.X) else self.X
        largest = max(values.max(initial=0.0), -values.min(initial=0.0))
        return self._mean_over_std <= _MAX_CANCELLATION and largest <= _MAX_SINGLE

    def _weight_sum(self):
        if self.sample_weight is None:
            return self.X.shape[0]
        return self.sample_weight.sum()

    # ----------------------------------------------------- parametrisation
    def _offset_scale(self, precondition):
        """Choose the change of variables ``W = W' M``, ``b = b' - W mu``.

        ``M`` is ``diag(1 / std)`` (``"diagonal"``), or the symmetric
        ``(Cov + alpha I)^(-1/2)`` (``"whiten"``), computed from one
        eigendecomposition of the ``d x d`` covariance; the floor ``alpha``
        (plus a tiny relative one) keeps ``M`` bounded when features are
        redundant and ``Cov`` is singular. ``"auto"`` whitens when the
        covariance is cheap next to the fit (``n_features <= 1000``).
        The data enter only through :meth:`_feature_moments`.
        """
        if precondition is True:
            precondition = "auto"
        n_features = self.n_features
        self.x_mean = np.zeros(n_features)
        self.x_scale = np.ones(n_features)
        self._whitener = self._whitener_inv = None
        # max_j |mu_j| / std_j: how much centring amplifies rounding.
        self._mean_over_std = 0.0
        if isinstance(precondition, tuple):
            x_mean, x_scale, whitener, whitener_inv = precondition
            self.x_mean = np.array(x_mean, dtype=np.float64)
            self.x_scale = np.array(x_scale, dtype=np.float64)
            self._whitener, self._whitener_inv = whitener, whitener_inv
            if self.x_mean.any():
                self._mean_over_std = np.inf  # std unknown here
            return
        if precondition in (False, None, "none"):
            return
        if precondition == "auto":
            precondition = "whiten" if n_features <= 1000 else "diagonal"
        mean, second = self._feature_moments(precondition == "whiten")
        centre = mean if self.fit_intercept else np.zeros(n_features)
        if precondition == "whiten":
            cov = second - np.outer(centre, mean) - np.outer(mean, centre)
            cov += np.outer(centre, centre)
            eigval, eigvec = np.linalg.eigh((cov + cov.T) / 2)
            floor = self.alpha + 1e-10 * max(eigval.max(), 1e-300)
            eigval = np.maximum(eigval, 0.0) + floor
            self._whitener = (eigvec / np.sqrt(eigval)) @ eigvec.T
            self._whitener_inv = (eigvec * np.sqrt(eigval)) @ eigvec.T
        else:
            std = np.sqrt(second)
            # A constant column keeps scale 1: nothing to gain, nothing to break.
            tiny = 1e-12 * max(1.0, np.abs(mean).max(initial=0))
            self.x_scale = np.where(std > tiny, 1.0 / np.where(std > 0, std, 1.0), 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(centre != 0, np.abs(centre) / std, 0.0)
            self._mean_over_std = float(np.max(ratio, initial=0.0))
        self.x_mean = centre

    def _feature_moments(self, matrix):
        """Weighted feature means and second moments.

        Returns ``(mean, second)``: ``second`` is the uncentred
        :math:`\\sum_i s_i x_i x_i^\\top / \\sum_i s_i` (``d x d``) when
        ``matrix``, else the weighted variance of each feature.
        """
        X, sw = self.X, self.sample_weight
        weights = None if sw is None else sw / self.sw_sum
        if sp.issparse(X):
            # Products with a weight vector: one pass over the nonzeros each.
            X = X.tocsr()
            if weights is None:
                weights = np.full(X.shape[0], 1.0 / X.shape[0])
            mean = np.asarray(X.T @ weights, dtype=np.float64)
            if matrix:
                Xw = X.multiply(weights[:, None]).tocsr()
                return mean, np.asarray((X.T @ Xw).toarray(), dtype=np.float64)
            if not X.has_canonical_format:
                X = X.copy()
                X.sum_duplicates()
            square = sp.csr_matrix((X.data**2, X.indices, X.indptr), shape=X.shape)
            second = np.asarray(square.T @ weights, dtype=np.float64)
            return mean, np.maximum(second - mean**2, 0.0)
        # Any centre and any positive definite M give the same optimum, so
        # on tall data the moments come from the Hessian's rows X[::stride].
        if self.hessian_stride > 1:
            X = X[:: self.hessian_stride]
            if weights is not None:
                weights = weights[:: self.hessian_stride]
                weights = weights / weights.sum()
        n_samples, n_features = X.shape
        unweighted = weights is None
        if unweighted:
            weights = np.full(n_samples, 1.0 / n_samples)
        mean = np.asarray(X.T @ weights.astype(X.dtype), dtype=np.float64)
        # Row blocks bound the temporaries whatever n_samples: a weighted
        # copy of all of X would double the fit's memory.
        second = np.zeros((n_features, n_features) if matrix else n_features)
        for rows in row_blocks(n_samples, n_features):
            block = X[rows]
            w = weights[rows, None]
            if matrix and unweighted:
                second += block.T @ block
            elif matrix:
                second += block.T @ (block * w.astype(X.dtype))
            else:
                second += ((block - mean) ** 2 * w).sum(axis=0)
        if matrix and unweighted:
            second /= n_samples
        return mean, second

    @property
    def change_of_variables(self):
        """The fixed ``(x_mean, x_scale, whitener, whitener_inv)``.

        Passing it as ``precondition`` to another adapter gives that adapter
        the same solver coordinates.
        """
        return self.x_mean, self.x_scale, self._whitener, self._whitener_inv

    def _solver_to_coef(self, coef_solver):
        if self._whitener is not None:
            return coef_solver @ self._whitener
        return coef_solver * self.x_scale

    def _coef_to_solver(self, coef):
        if self._whitener is not None:
            return coef @ self._whitener_inv
        return coef / self.x_scale

    @property
    def n_params(self):
        return self._blocks * (self.n_features + int(self.fit_intercept))

    def unpack(self, params):
        """Solver parameters -> ``(coef, intercept)`` in original coordinates.

        ``coef`` has shape ``(n_outputs, n_features)`` and ``intercept``
        ``(n_outputs,)`` (zeros without an intercept).
        """
        coef, intercept = self._unpack(params)
        if self._class_basis is not None:
            return self._class_basis @ coef, self._class_basis @ intercept
        return coef, intercept

    def _unpack(self, params):
        """:meth:`unpack` in the solver's blocks (the sum-zero basis, if any)."""
        k, d = self._blocks, self.n_features
        coef = self._solver_to_coef(params[: k * d].reshape(k, d))
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
        if self._class_basis is not None:
            coef = self._class_basis.T @ coef
            intercept = self._class_basis.T @ intercept
        parts = [self._coef_to_solver(coef).ravel()]
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
        if self._whitener is not None:
            coef_part[...] = coef_part @ self._whitener
        else:
            coef_part *= self.x_scale
        return out

    def gradient_norm(self, grad):
        """Max-norm of a solver-space gradient in original coordinates.

        This is the stopping measure of every solver: the same number whether
        the problem is preconditioned or not.
        """
        k, d = self._blocks, self.n_features
        # A new array (in place from here on: this runs once per iteration on
        # all the coefficients).
        grad_coef = self._coef_to_solver(grad[: k * d].reshape(k, d))
        norm = 0.0
        if self.fit_intercept:
            grad_intercept = grad[k * d :]
            grad_coef += np.outer(grad_intercept, self.x_mean)
            if self._class_basis is not None:
                grad_intercept = self._class_basis @ grad_intercept
            norm = np.max(np.abs(grad_intercept), initial=0.0)
        if self._class_basis is not None:
            # The gradient in all k outputs: Q times the blocks' (its class
            # sum is zero, as the objective is shift invariant).
            grad_coef = self._class_basis @ grad_coef
        np.abs(grad_coef, out=grad_coef)
        return float(max(norm, grad_coef.max(initial=0.0)))

    # --------------------------------------------------------- evaluation
    def raw_prediction(self, coef, intercept, X=None):
        """:math:`X W^\\top + b`, 1-D when there is one output."""
        return _raw(self.X if X is None else X, coef, intercept)

    def _data_terms(self, coef, intercept):
        """Unnormalised loss sum and gradient over all samples (:func:`data_terms`).

        Dense ``X`` goes in blocks of rows (half a megabyte each) that stay in
        cache from the product giving the raw predictions to the one giving
        the gradient; the sums add up. On 100,000 x 100 with 10 classes this
        is a fifth faster than two passes over all of ``X`` (a block of 1 MB
        gained a little less, 2 MB half as much).
        """
        X, y, sw = self.X, self.y, self.sample_weight
        blocks = [] if sp.issparse(X) else row_blocks(*X.shape, 1 << 19, 256)
        if len(blocks) < 4:
            return data_terms(self._blocks_objective, coef, intercept, X, y, sw)
        loss_sum, grad_coef, grad_intercept = 0.0, 0.0, 0.0
        for rows in blocks:
            terms = data_terms(
                self._blocks_objective, coef, intercept, X[rows], y[rows],
                None if sw is None else sw[rows],
            )
            loss_sum += terms[0]
            grad_coef = grad_coef + terms[1]
            grad_intercept = grad_intercept + terms[2]
        return loss_sum, grad_coef, grad_intercept

    def _data_terms_hessp(self, coef, intercept):
        """:meth:`_data_terms` and the Hessian product (:func:`data_terms_hessp`).

        The Hessian product sums over the rows of :meth:`_set_hessian_rows`
        and is to be normalised by :attr:`hessian_weight_sum`.
        """
        if self._hessian_rows is None:
            return data_terms_hessp(
                self._blocks_objective, coef, intercept, self.X, self.y,
                self.sample_weight,
                hessian_X=self._hessian_X,
            )
        loss_sum, grad_coef, grad_intercept = self._data_terms(coef, intercept)
        centre = self._hessian_centre
        if centre is None:
            if self._solver_centre is not None:
                # Rows X M: the raw predictions are X_rows M W'^T + b.
                coef = self._coef_to_solver(coef)
            hessp = hessian_terms(
                self._blocks_objective, coef, intercept, *self._hessian_rows
            )
            return loss_sum, grad_coef, grad_intercept, hessp
        # Rows stored as x_i - c: x W^T + b = (x - c) W^T + (b + W c), and
        # the coefficient part of a product comes back as sum_i g_i (x_i - c).
        centred = hessian_terms(
            self._blocks_objective, coef, intercept + coef @ centre,
            *self._hessian_rows,
        )

        def hessp(v_coef, v_intercept):
            h_coef, h_intercept = centred(v_coef, v_intercept + v_coef @ centre)
            h_coef += np.outer(h_intercept, centre)
            return h_coef, h_intercept

        return loss_sum, grad_coef, grad_intercept, hessp

    def loss_gradient(self, params):
        """Objective value and gradient with respect to the solver parameters."""
        coef, intercept = self._unpack(params)
        terms = self._data_terms(coef, intercept)
        return self._value_gradient(params, coef, *terms)

    def _value_gradient(self, params, coef, loss_sum, grad_coef, grad_intercept):
        """Normalise and penalise the data terms: value and solver gradient.

        The value is kept with its point, for :meth:`loss` at the end.
        """
        grad_coef /= self.sw_sum
        grad_coef += self.alpha * coef
        data_term = (loss_sum + self._offset_sum) / self.sw_sum
        value = float(data_term + 0.5 * self.alpha * np.vdot(coef, coef))
        self._last_value = (params.copy(), value)
        return value, self._pullback(grad_coef, grad_intercept / self.sw_sum)

    def loss(self, params):
        """Objective value at ``params``.

        The estimators report it at the solution, where the solver has just
        evaluated it: a point equal to the last one evaluated costs no pass
        over the data.
        """
        last = getattr(self, "_last_value", None)
        if last is not None and np.array_equal(last[0], params):
            return last[1]
        return self.loss_gradient(params)[0]

    def gradient_hessian_product(self, params):
        """Gradient and Hessian-vector product function at ``params``."""
        return self.loss_gradient_hessp(params)[1:]

    def loss_gradient_hessp(self, params):
        """Objective value, gradient and a Hessian-vector product function.

        All with respect to the solver parameters; the Hessian is
        :math:`J^\\top \\nabla^2 F J` for the linear change of variables
        :math:`J`, so Newton steps in either coordinates agree. One pass over
        the data computes all three; ``hessp`` costs two more products with
        ``X`` per call.
        """
        coef, intercept = self._unpack(params)
        *terms, hessp_data = self._data_terms_hessp(coef, intercept)
        value, grad = self._value_gradient(params, coef, *terms)
        if self._solver_centre is not None:
            hessp = self._solver_hessp(hessp_data)
        else:

            def hessp(direction):
                v_coef, v_intercept = self._unpack(direction)
                h_coef, h_intercept = hessp_data(v_coef, v_intercept)
                h_coef /= self.hessian_weight_sum
                h_coef += self.alpha * v_coef
                return self._pullback(h_coef, h_intercept / self.hessian_weight_sum)

        if self._hessian_rows is not None:
            hessp.forcing_floor = _SUBSAMPLED_FORCING_FLOOR
        if self._whitener is None and hasattr(hessp_data, "curvature"):
            shared = self._blocks > 1 and getattr(
                self._blocks_objective, "shift_invariant", False
            )
            hessp.diagonal = lambda: self._hessian_diagonal(
                hessp_data.curvature(shared)
            )
        return value, grad, hessp

    def _solver_hessp(self, hessp_rows):
        r"""Hessian products in solver coordinates, on rows stored as :math:`X M`.

        ``hessp_rows(V, v)`` applies the Hessian of the unnormalised loss sum
        over the stored rows :math:`R = X M` (:meth:`_solver_rows`) to the
        coefficients :math:`V` of :math:`R` and an intercept :math:`v`,
        returning :math:`(G^\top R, \sum_i g_i)`. With :math:`c = \mu M`
        the raw predictions are :math:`R W'^\top + b' - W' c`, so a solver
        direction :math:`(V', v')` enters as :math:`(V', v' - V' c)`, and the
        product comes back by the transposed map:

        .. math::

            H \begin{pmatrix} V' \\ v' \end{pmatrix} =
            \frac{1}{\sum_i s_i} \begin{pmatrix}
                G^\top R - (\textstyle\sum_i g_i)\, c^\top \\
                \textstyle\sum_i g_i
            \end{pmatrix}
            + \begin{pmatrix} \alpha V' M^2 \\ 0 \end{pmatrix} .

        The same product as through :meth:`_unpack` and :meth:`_pullback`,
        without their two passes over the coefficients and the transposing
        copies around them. It is computed, and returned, in the rows'
        precision (``hessp.dtype``): on float32 rows the conjugate gradients
        work in float32 too, an approximate solve on an approximate Hessian.
        Except along a flat direction (a softmax in all ``k`` classes, whose
        intercepts may all move together): the exact Hessian maps into the
        intercepts that sum to zero, a float32 product only up to rounding,
        so the product is projected back there, and CG, which then stays out
        of the flat direction up to the rounding of its own vectors, works in
        float64.
        """
        k, d = self._blocks, self.n_features
        weight_sum = self.hessian_weight_sum
        flat = k > 1 and getattr(self._blocks_objective, "shift_invariant", False)
        dtype = np.float64 if flat else self._hessian_X.dtype
        centre = self._solver_centre.astype(dtype)
        penalty = ((self.alpha * weight_sum) * self.x_scale**2).astype(dtype)

        def hessp(direction):
            v_coef = direction[: k * d].reshape(k, d)
            v_intercept = -(v_coef @ centre)
            if self.fit_intercept:
                v_intercept += direction[k * d :]
            h_coef, h_intercept = hessp_rows(v_coef, v_intercept)
            if flat:
                h_intercept = h_intercept.astype(np.float64)
                h_intercept -= h_intercept.mean()
            out = np.empty(self.n_params, dtype=dtype)
            coef_part = out[: k * d].reshape(k, d)
            np.multiply(penalty, v_coef, out=coef_part)
            coef_part += h_coef
            coef_part -= np.outer(h_intercept, centre)
            coef_part /= weight_sum
            if self.fit_intercept:
                out[k * d :] = h_intercept / weight_sum
            return out

        hessp.dtype = dtype
        return hessp

    def _hessian_diagonal(self, curvature):
        r"""Diagonal of the solver-space Hessian under a diagonal scaling.

        The solver coefficient :math:`W'_{kj}` multiplies :math:`c_j (x_{ij}
        - \mu_j)`, so its diagonal entry is

        .. math::

            \frac{c_j^2}{\sum_i s_i} \sum_i h_{ik} (x_{ij} - \mu_j)^2
            + \alpha c_j^2 ,

        and the intercept's is :math:`\sum_i h_{ik} / \sum_i s_i` (the sums
        from :func:`centred_square_terms`, over the Hessian's rows). Newton-CG
        uses its inverse as the preconditioner of conjugate gradients
        (Jacobi).

        For a softmax in all ``k`` classes the entries are averaged over
        classes (the sums then come from the class-averaged curvature, one
        column instead of one per class). Adding the same vector to every
        class's coefficients (and the same number to every intercept) leaves
        the model unchanged, so the gradient never has a component along
        those directions; a scale shared by the classes keeps CG out of them
        too, as plain CG from zero stays out, and the intercepts come out as
        without preconditioning.

        Rows stored in solver coordinates (:meth:`_solver_rows`) are the
        :math:`c_j x_{ij}` already, centred at :math:`c_j \mu_j`.
        """
        X = self._hessian_X
        scale2 = self.x_scale**2
        if self._solver_centre is None:
            centre, data_scale = self.x_mean, scale2
        else:
            centre, data_scale = self._solver_centre, 1.0
        if sp.issparse(X) and self._centred_square_rows is None:
            # Once per fit: the centre is fixed.
            self._centred_square_rows = _centred_square(X, centre)
        square, constant = centred_square_terms(
            X, curvature, centre, self._centred_square_rows
        )
        weight_sum = self.hessian_weight_sum
        # Cancellation can leave tiny negatives; curvature is never negative.
        np.maximum(square, 0.0, out=square)
        square *= data_scale / weight_sum
        square += self.alpha * scale2
        diagonal = [square]
        if self.fit_intercept:
            diagonal.append(constant[:, None] / weight_sum)
        # The terms of a class-averaged curvature have one row: one per class.
        diagonal = [
            np.broadcast_to(part, (self._blocks, part.shape[1])) for part in diagonal
        ]
        return np.concatenate([part.ravel() for part in diagonal])
