"""The medium softmax fits' preconditioner: the Hessian formed where it is curved.

Above the exact steps' size (digits: 650 parameters) a softmax's Hessian
costs a few dozen products to form, too many for every Newton iteration,
but near the optimum of a near-separable fit conjugate gradients take
40-90 products per iteration. Newton-CG then forms it once
(:class:`~skdiv._model._dense.DenseForms` offers it) and preconditions the
following solves by its Cholesky factor. It is made cheaply, and its cost
is told to the solver in Hessian products:

* over the rows that carry all but 1% of the trace (:func:`curved_rows`),
* coupling two classes of a row only where both are likely
  (:func:`coupled_classes`), in float32 sums (:func:`dense_hessian_outer`),
* costed from those couplings (:func:`preconditioner_cost`): soft targets
  keep every class of every row likely, and their formation costs some
  four times a near-separable fit's.
"""

import numpy as np

# How much faster a multiply-add of forming the float32 Hessian is than one of
# a Hessian-vector product's two products with k columns, in the schedule's
# nominal cost (nominal_preconditioner_cost).
FORMATION_SPEEDUP = 3.0
# Forming the preconditioner costs, besides its multiply-adds (at about the
# Hessian products' rate: float32 BLAS both), about this many products per
# block of classes: the calls, the rows gathered and the block written into
# place (measured on digits, docs/developers.rst).
FORMATION_BLOCK_CALL = 0.3
# The preconditioner leaves out the least curved rows that together carry at
# most this fraction of the Hessian's trace (confidently fitted rows of a
# near-separable fit carry almost none): its formation costs in proportion
# to the rows it keeps.
PRECONDITIONER_DROPPED_TRACE = 0.01
# ... and couples two classes in a row only where both are likely enough:
# each class of at least this share of the row's probability outside its most
# probable class (coupled_classes). A row of a near-separable fit has a few
# such classes, and the formation costs in proportion to the pairs of them.
PRECONDITIONER_COUPLED_SHARE = 0.01


def dense_hessian_outer(rows, diagonal, outer, coupled, fit_intercept):
    r"""The Hessian for :math:`H_i = \mathrm{diag}(d_i) - u_i u_i^\top`, float32 sums.

    With :math:`\tilde d_i, \tilde u_i` the entries of :math:`d_i, u_i` in
    the ``coupled`` classes of row :math:`i` (the others zero) and
    :math:`\tilde r_i = [r_i, 1]`, the matrix formed is

    .. math::

        P = \sum_i \big(\mathrm{diag}(\tilde d_i) - \tilde u_i \tilde u_i^\top\big)
            \otimes \tilde r_i \tilde r_i^\top ,

    block by block: the diagonal block of class :math:`a` sums
    :math:`d_{ia} - u_{ia}^2` over the rows coupling :math:`a`, the block of
    classes :math:`a \neq b` sums :math:`-u_{ia} u_{ib}` over the rows
    coupling both, so its cost is in proportion to those rows. With every
    class coupled everywhere it is the Hessian. Otherwise it stays positive
    semidefinite: for a softmax :math:`d_i = s_i q_i` and :math:`u_i =
    \sqrt{s_i}\, q_i`, and :math:`\mathrm{diag}(\tilde d_i) - \tilde u_i
    \tilde u_i^\top` is semidefinite because the coupled :math:`q_{ik}` sum
    to at most 1. ``rows`` are the rows in solver coordinates (float32,
    with the intercept's column of ones last when ``fit_intercept``: the
    :math:`\tilde r_i`), ``(d, u)`` a softmax's
    :meth:`~skdiv._loss._classification.SoftmaxHessian.outer_form` and
    ``coupled`` a boolean mask of their shape. The matrix is returned in
    float32 and in the parameters' layout; its lower triangle holds it
    (LAPACK's lower storage: the upper one is not read, and holds the upper
    halves of the diagonal blocks, zeros elsewhere): a preconditioner, whose
    rounding costs conjugate gradients nothing but a step now and then, and
    whose Cholesky factor and triangular solves are then twice as fast as
    in float64.
    """
    n, width = rows.shape
    k = diagonal.shape[1]
    d = width - int(fit_intercept)
    extended = np.asarray(rows, dtype=np.float32)
    coupling = np.where(coupled, outer, 0.0).astype(np.float32)
    own = (diagonal - outer**2).astype(np.float32)
    full = np.zeros((k * width, k * width), dtype=np.float32, order="F")

    def put(b, a, block):
        # Block (b, a), b >= a, into the lower triangle of the layout: the
        # coefficients of b against those of a, the intercept of b against
        # the coefficients of a, and the other way round, and the intercepts.
        # Each entry is written once; a diagonal block whole (the upper
        # triangle is not read).
        coef_a, coef_b = slice(a * d, (a + 1) * d), slice(b * d, (b + 1) * d)
        full[coef_b, coef_a] = block[:d, :d]
        if fit_intercept:
            full[k * d + b, coef_a] = block[d, :d]
            if a != b:
                full[k * d + a, coef_b] = block[:d, d]
            full[k * d + b, k * d + a] = block[d, d]

    for a in range(k):
        rows_a = np.flatnonzero(coupled[:, a])
        if rows_a.size:
            own_rows = extended[rows_a]
            put(a, a, (own_rows.T * own[rows_a, a]) @ own_rows)
        for b in range(a + 1, k):
            both = np.flatnonzero(coupled[:, a] & coupled[:, b])
            if both.size:
                pair = extended[both]
                weight = coupling[both, a] * coupling[both, b]
                put(b, a, -((pair.T * weight) @ pair))
    return full


def coupled_classes(diagonal, outer, share):
    r"""Which classes of each row :func:`dense_hessian_outer` couples.

    A row's most probable class and each class whose probability is at
    least ``share`` of the row's probability outside that class,
    :math:`m_i = \sum_{k \neq \mathrm{top}} q_{ik}`. A class left out has
    :math:`q_{ib} < \mathrm{share}\; m_i`, so each of its couplings
    :math:`q_{ia} q_{ib}` and its own curvature :math:`q_{ib}(1 - q_{ib})`
    are below ``share`` times :math:`m_i`, about half the row's trace
    :math:`\mathrm{tr}(H_i) / s_i \approx 2 m_i` when the row is
    confident. ``(d, u)`` as for :func:`dense_hessian_outer` (:math:`q =
    u^2 / d`).
    """
    q = np.divide(outer**2, diagonal, out=np.zeros_like(diagonal),
                  where=diagonal > 0)
    top = q.max(axis=1, keepdims=True)
    # The others' sum as such: 1 - max q cancels for confident rows.
    rest = np.where(q == top, 0.0, q).sum(axis=1, keepdims=True)
    return (q == top) | ((q >= share * rest) & (q > 0))


def curved_rows(weight, fraction):
    r"""The rows that carry all but at most ``fraction`` of ``weight``'s sum.

    ``weight`` is each row's share of the Hessian's trace, :math:`w_i =
    \mathrm{tr}(H_i)\, \lVert r_i \rVert^2` (non-negative). The rows of
    least weight are left out while their sum stays within ``fraction`` of
    the total; the others are returned as sorted indices. The Hessian
    formed from them differs from the whole one by a positive semidefinite
    matrix of trace at most ``fraction`` of its own.
    """
    order = np.argsort(weight, kind="stable")
    dropped = np.cumsum(weight[order]) <= fraction * weight.sum()
    return np.sort(order[~dropped])


def nominal_preconditioner_cost(width, n_blocks):
    """The schedule's cost of forming the Hessian, in products.

    Forming with every coupling takes about :math:`n (kD)^2 / 2 + n k D^2`
    multiply-adds, a product :math:`2 n k D`, at :data:`FORMATION_SPEEDUP`
    times their speed: the ratio does not depend on ``n``. Newton-CG's
    trigger (``_FORM_AFTER``) was tuned with this measure on near-separable
    fits, whose rows couple few classes; :func:`preconditioner_cost`, the
    estimate from the rows' couplings, can only raise it.
    """
    return (n_blocks * width / 4 + width / 2) / FORMATION_SPEEDUP


def preconditioner_cost(width, n_blocks, n_rows, block_rows):
    r"""What forming and factorising the preconditioner costs, in products.

    :func:`dense_hessian_outer` sums :math:`D^2` multiply-adds for each of
    its ``block_rows`` (a row counts once for each block it adds to:
    :math:`c_i (c_i + 1) / 2` for a row coupling :math:`c_i` classes), the
    Cholesky factorisation takes :math:`(kD)^3 / 6`, and a Hessian product
    on ``n_rows`` rows :math:`2 n k D`, at about the same rate; and each of
    the :math:`k (k + 1) / 2` blocks :data:`FORMATION_BLOCK_CALL`. A
    near-separable fit's rows couple a few classes each, and forming costs
    a few dozen products (digits: about 50, measured); soft targets (label
    smoothing, a teacher's probabilities) keep every class of every row
    likely, and forming costs some four times that (digits with
    ``label_smoothing=0.3``: about 200).
    """
    n_params = n_blocks * width
    work = block_rows * width**2 + n_params**3 / 6
    calls = FORMATION_BLOCK_CALL * n_blocks * (n_blocks + 1) / 2
    return work / (2 * n_rows * n_params) + calls


def select_rows(raw_hessian, row_norms):
    r"""``(keep, d, u, coupled)``: the rows and couplings the preconditioner sums.

    The rows that carry all but :data:`PRECONDITIONER_DROPPED_TRACE` of the
    trace :math:`\mathrm{tr}(H_i) \lVert r_i \rVert^2` (:func:`curved_rows`,
    ``row_norms`` the :math:`\lVert r_i \rVert^2`): a preconditioner needs
    the directions of large curvature, and leaving out rows that add almost
    none makes the formation cheaper in proportion; their ``(d, u)``
    (``outer_form``) and which classes of each they couple
    (:func:`coupled_classes`).
    """
    diagonal, outer = raw_hessian.outer_form()
    # tr(diag(d_i) - u_i u_i^T) = sum_k d_ik - u_ik^2.
    trace = np.maximum((diagonal - outer**2).sum(axis=1), 0.0)
    keep = curved_rows(trace * row_norms, PRECONDITIONER_DROPPED_TRACE)
    diagonal, outer = diagonal[keep], outer[keep]
    coupled = coupled_classes(diagonal, outer, PRECONDITIONER_COUPLED_SHARE)
    return keep, diagonal, outer, coupled
