"""Classification objectives: cross-entropy and KL divergence of a softmax.

Raw predictions are logits: ``(n_samples, K)`` for a softmax over ``K``
classes, or 1-D (one logit per sample, the sigmoid) for two classes. Also
here: :class:`SumZero`, the softmax seen through the ``K - 1`` logits that
sum to zero, and the stable softmax helpers the estimators predict with.
"""

import numpy as np
from scipy.special import expit, log_expit, xlogy

from ._base import DiagonalHessian, Objective, RawHessian, in_precision, weighted


def softmax_lse(raw):
    """Row-wise softmax and log-sum-exp of a 2-D array of logits.

    One pass of ``exp`` on max-shifted logits, so that logits of any
    magnitude neither overflow nor lose the largest term:
    ``lse = max + log(sum(exp(z - max)))``.
    """
    row_max = raw.max(axis=1, keepdims=True)
    proba = np.subtract(raw, row_max)
    np.exp(proba, out=proba)
    sum_exp = proba.sum(axis=1, keepdims=True)
    proba /= sum_exp
    return proba, (row_max + np.log(sum_exp))[:, 0]


def log_softmax(raw):
    """Row-wise log-softmax and softmax: ``log q = z - lse(z)``, never log(0)."""
    proba, lse = softmax_lse(raw)
    return raw - lse[:, None], proba


def row_entropy(y_true):
    """Entropy :math:`H(p_i) = -\\sum_k p_{ik} \\log p_{ik}` of each target row.

    Hard labels (1-D) have zero entropy. For a 1-D vector of binary
    positive-class probabilities pass ``np.column_stack([1 - p, p])``.
    """
    y_true = np.asarray(y_true)
    if y_true.ndim == 1:
        return np.zeros(y_true.shape[0])
    return -xlogy(y_true, y_true).sum(axis=1)


def class_sums(y_true, sample_weight, n_classes):
    """Weighted (soft) class counts :math:`\\sum_i s_i p_{ik}`.

    ``y_true`` is integer codes, binary positive-class probabilities (1-D
    floats, ``n_classes == 2``) or probability rows.
    """
    n_samples = y_true.shape[0]
    sw = np.ones(n_samples) if sample_weight is None else sample_weight
    if y_true.ndim == 2:
        return sw @ y_true
    if y_true.dtype.kind == "f":
        positive = sw @ y_true
        return np.array([sw.sum() - positive, positive])
    return np.bincount(y_true, weights=sw, minlength=n_classes)


def _label_entries(array, labels):
    """``(flat, index)`` with ``flat[index]`` the entries ``array[i, labels[i]]``.

    ``flat`` is a view of ``array`` in its memory order, so that the entries
    are read, and written, by one flat gather: twice as fast as indexing by
    row and column. Other layouts (not C- or Fortran-contiguous) get
    ``(array, (rows, labels))``, indexing by row and column.
    """
    n, k = array.shape
    if array.flags.f_contiguous:
        return array.T.reshape(-1), labels * n + np.arange(n)
    if array.flags.c_contiguous:
        return array.reshape(-1), np.arange(n) * k + labels
    return array, (np.arange(n), labels)


class SoftmaxHessian(RawHessian):
    r"""The softmax's per-sample Hessian :math:`\mathrm{diag}(q_i) - q_i q_i^\top`.

    :math:`H v = q \odot v - q\,(q^\top v)`, weighted by the sample weights.
    """

    has_diagonal_in = True

    def __init__(self, proba, weighted_proba):
        self.proba = proba
        self.weighted_proba = weighted_proba
        self._factors = in_precision(weighted_proba, proba)

    def rows(self, index):
        return SoftmaxHessian(self.proba[index], self.weighted_proba[index])

    def matvec(self, v):
        weighted_q, q = self._factors(v.dtype)
        qv = weighted_q * v
        qv -= q * qv.sum(axis=1, keepdims=True)
        return qv

    def diagonal(self):
        # diag(q) - q q^T on the diagonal: q (1 - q).
        return self.weighted_proba * (1.0 - self.proba)

    def diagonal_in(self, basis):
        # b^T (diag(q) - q q^T) b = q . b^2 - (q . b)^2, per column b.
        return self.weighted_proba @ basis**2 - (self.weighted_proba @ basis) * (
            self.proba @ basis
        )

    def outer_form(self):
        r"""The blocks as a diagonal minus an outer product: ``(d, u)``.

        :math:`s_i (\mathrm{diag}(q_i) - q_i q_i^\top) = \mathrm{diag}(d_i)
        - u_i u_i^\top` with :math:`d_i = s_i q_i` and :math:`u_i =
        \sqrt{s_i}\, q_i = \sqrt{d_i \odot q_i}`: a model then forms the
        diagonal blocks from :math:`d_i - u_i^2` and couples two classes by
        :math:`u_{ia} u_{ib}` only where both are likely
        (:func:`skdiv._model._preconditioner.dense_hessian_outer`).
        """
        weighted_q = np.asarray(self.weighted_proba, dtype=np.float64)
        q = np.asarray(self.proba, dtype=np.float64)
        return weighted_q, np.sqrt(weighted_q * q)

    def sample_blocks(self, shape):
        # s_i (diag(q_i) - q_i q_i^T), with s_i q_i the weighted probabilities.
        weighted_q = np.asarray(self.weighted_proba, dtype=np.float64)
        q = np.asarray(self.proba, dtype=np.float64)
        out = -weighted_q[:, :, None] * q[:, None, :]
        k = q.shape[1]
        out[:, np.arange(k), np.arange(k)] += weighted_q
        return out


class CrossEntropy(Objective):
    r"""Cross-entropy between target distributions and a softmax model.

    Domain: targets are hard labels (1-D integer class indices) or rows of
    class probabilities; raw predictions are logits :math:`z_i \in
    \mathbb{R}^K`. Link: softmax, :math:`q_{ik} = e^{z_{ik}} / \sum_j
    e^{z_{ij}}`.

    .. math::

        \mathrm{CE}(p_i, q_i) = -\sum_k p_{ik} \log q_{ik}
            = \operatorname{logsumexp}(z_i) - \sum_k p_{ik} z_{ik},
        \qquad
        \frac{\partial\,\mathrm{CE}}{\partial z_{ik}} = q_{ik} - p_{ik}.

    With hard labels :math:`p_i` is one-hot and the loss is the negative
    log-likelihood :math:`-\log q_{i y_i}`.

    Binary case: when ``raw_prediction`` is 1-D it is a single logit per
    sample, the link is the sigmoid and ``y_true`` is the positive-class
    probability (0/1 for hard labels):

    .. math::

        \mathrm{CE} = \log(1 + e^{z}) - p z, \qquad
        \frac{\partial\,\mathrm{CE}}{\partial z} = \sigma(z) - p.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._loss import CrossEntropy
    >>> raw = np.array([[1., 2., 3.]])
    >>> loss, grad = CrossEntropy().loss_gradient(np.array([2]), raw)
    >>> round(float(loss[0]), 12)
    0.407605964444
    """

    name = "cross_entropy"
    shift_invariant = True
    convex = True

    def n_outputs(self, n_classes=None):
        """One logit for two classes (the sigmoid), else one per class."""
        if n_classes is None or n_classes < 2:
            raise ValueError(
                f"A classification objective needs n_classes >= 2, got {n_classes!r}."
            )
        return 1 if n_classes == 2 else n_classes

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient with respect to the logits."""
        if raw_prediction.ndim == 1:
            loss, grad = self._binary(y_true, raw_prediction)
        else:
            loss, grad = self._multinomial(y_true, raw_prediction)
        loss = loss + self.target_offset(y_true)
        return weighted(loss, sample_weight), weighted(grad, sample_weight)

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        """Weighted loss, gradient, and the Hessian operator, from one softmax."""
        if raw_prediction.ndim == 1:
            loss, grad = self._binary(y_true, raw_prediction)
            proba = expit(raw_prediction)
            hessian = DiagonalHessian(weighted(proba * (1.0 - proba), sample_weight))
        else:
            proba, lse = softmax_lse(raw_prediction)
            # The copy in proba's (Fortran) order: the gradient's product
            # with X reads it transposed, in place.
            loss, grad = self._multinomial_from(
                y_true, raw_prediction, proba.copy(order="K"), lse
            )
            hessian = SoftmaxHessian(proba, weighted(proba, sample_weight))
        offset = self.target_offset(y_true)
        return (
            weighted(loss + offset, sample_weight),
            weighted(grad, sample_weight),
            hessian,
        )

    def inverse_link(self, raw_prediction):
        """Class probabilities, ``(n_samples, K)``; two columns for one logit."""
        if raw_prediction.ndim == 1:
            return np.column_stack(
                [np.exp(log_expit(-raw_prediction)), np.exp(log_expit(raw_prediction))]
            )
        return softmax_lse(raw_prediction)[0]

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        r"""Logits of the weighted class frequencies: the intercept-only fit.

        :math:`z_k = \log \pi_k - \frac1K \sum_j \log \pi_j` (centred, the
        penalty's choice among equivalent logits), or the log-odds
        :math:`\log(\pi_1 / \pi_0)` for one logit. Frequencies are clipped
        at 1e-10, so an absent class gets a large negative logit, not
        :math:`-\infty`. ``n_outputs`` is needed for integer class codes,
        which do not show the number of classes.
        """
        if y_true.ndim == 2:
            n_classes = y_true.shape[1]
        elif y_true.dtype.kind == "f":
            n_classes = 2
        else:
            n_classes = n_outputs if n_outputs is not None else int(y_true.max()) + 1
        counts = class_sums(y_true, sample_weight, n_classes)
        total = y_true.shape[0] if sample_weight is None else sample_weight.sum()
        log_prior = np.log(np.clip(counts / total, 1e-10, 1))
        if n_classes == 2 and (n_outputs in (None, 1)):
            return np.array([log_prior[1] - log_prior[0]])
        return log_prior - log_prior.mean()

    # ------------------------------------------------------------ internals
    @staticmethod
    def _binary(y_true, raw):
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for any z.
        log1pexp = np.maximum(raw, 0) + np.log1p(np.exp(-np.abs(raw)))
        loss = log1pexp - y_true * raw
        return loss, expit(raw) - y_true

    @classmethod
    def _multinomial(cls, y_true, raw):
        return cls._multinomial_from(y_true, raw, *softmax_lse(raw))

    @staticmethod
    def _multinomial_from(y_true, raw, proba, lse):
        """Loss and gradient from the softmax (overwritten) and log-sum-exp.

        ``CE_i = s_i lse(z_i) - sum_k p_ik z_ik`` with ``s_i = sum_k p_ik``
        (1 for probability rows): no n x K array of log-probabilities is
        formed, and with hard labels the loss is ``lse(z_i) - z_{i y_i}``.
        """
        if y_true.ndim == 1:
            labels = y_true.astype(np.intp, copy=False)
            proba_flat, at = _label_entries(proba, labels)
            if raw.strides == proba.strides and proba_flat is not proba:
                # The same contiguous layout (softmax_lse keeps raw's): one index.
                raw_flat, raw_at = raw.reshape(-1, order="A"), at
            else:
                raw_flat, raw_at = _label_entries(raw, labels)
            loss = lse - raw_flat[raw_at]
            proba_flat[at] -= 1
            return loss, proba
        loss = lse * y_true.sum(axis=1) - np.einsum("ij,ij->i", y_true, raw)
        proba -= y_true
        return loss, proba


class KLDivergence(CrossEntropy):
    r"""Kullback-Leibler divergence from target distributions to a softmax model.

    Same domain and link as :class:`CrossEntropy`. The value is the
    cross-entropy minus the entropy of the target, which does not depend on
    the model, so the gradient (and the Hessian) is identical to the
    cross-entropy's and both objectives have the same minimiser:

    .. math::

        \mathrm{KL}(p_i \,\|\, q_i) = \sum_k p_{ik} \log \frac{p_{ik}}{q_{ik}}
            = \mathrm{CE}(p_i, q_i) - H(p_i),
        \qquad
        \frac{\partial\,\mathrm{KL}}{\partial z_{ik}} = q_{ik} - p_{ik}.

    KL reaches 0 at a perfect fit, where the cross-entropy reaches
    :math:`H(p_i)`. With hard labels :math:`H(p_i) = 0` and the two coincide.
    The term :math:`0 \log 0` is taken as 0 (``xlogy``), and since the model
    probabilities come from logits no :math:`\log 0` is ever taken of them.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._loss import KLDivergence
    >>> p = np.array([[0.5, 0.5, 0.0]])
    >>> z = np.log(np.array([[0.25, 0.25, 0.5]]))
    >>> round(float(KLDivergence().loss(p, z)[0]), 12)  # ln 2
    0.693147180560
    """

    name = "kl_divergence"

    @property
    def model_objective(self):
        """The cross-entropy: KL without its model-free :math:`-H(p_i)`."""
        return CrossEntropy()

    def target_offset(self, y_true):
        """Per-sample constant :math:`-H(p_i)` that turns CE into KL."""
        y_true = np.asarray(y_true)
        if y_true.ndim == 1 and y_true.dtype.kind == "f":
            # Binary positive-class probabilities.
            return -row_entropy(np.column_stack([1.0 - y_true, y_true]))
        return -row_entropy(y_true)


def sum_zero_basis(k):
    r"""Orthonormal basis ``Q`` (``k x (k - 1)``) of the vectors summing to zero.

    The first ``k - 1`` columns of the Householder reflection that swaps
    :math:`e_k` and :math:`\mathbf 1 / \sqrt k`: orthogonal to its last
    column, :math:`\mathbf 1 / \sqrt k`, and to each other.
    """
    v = np.full(k, 1.0 / np.sqrt(k))
    v[-1] -= 1.0
    return (np.eye(k) - 2.0 * np.outer(v, v) / (v @ v))[:, :-1]


class _ReducedHessian(RawHessian):
    """:math:`Q^\\top H Q` of a :class:`SumZero` objective, per sample."""

    def __init__(self, inner, reduce, expand, basis):
        self.inner = inner
        self._reduce, self._expand, self._basis = reduce, expand, basis

    def matvec(self, v):
        return self._reduce(self.inner.matvec(self._expand(v)))

    def rows(self, index):
        return _ReducedHessian(self.inner.rows(index), self._reduce, self._expand,
                               self._basis)

    def diagonal(self):
        # diag(Q^T H_i Q) per sample, from the objective's closed form.
        return self.inner.diagonal_in(self._basis)


class SumZero(Objective):
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
        self.name = objective.name

    def __repr__(self):
        return f"SumZero({self.objective!r}, k={self.basis.shape[0]})"

    def _basis_in(self, dtype):
        """:math:`Q` in the precision of the arrays it maps (float32 rows)."""
        return self._basis32 if dtype == np.float32 else self.basis

    def _expand(self, raw):
        r"""``(n, k - 1) -> (n, k)``: :math:`\tilde Z Q^\top`, class-major."""
        return (self._basis_in(raw.dtype) @ raw.T).T

    def _reduce(self, grad):
        """``(n, k) -> (n, k - 1)``: :math:`G Q`, row-major (for sparse products)."""
        return grad @ self._basis_in(grad.dtype)

    def n_outputs(self, n_classes=None):
        return self.basis.shape[1]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        loss, grad = self.objective.loss_gradient(
            y_true, self._expand(raw_prediction), sample_weight
        )
        return loss, self._reduce(grad)

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        loss, grad, hessian = self.objective.loss_gradient_hessian(
            y_true, self._expand(raw_prediction), sample_weight
        )
        reduced = _ReducedHessian(hessian, self._reduce, self._expand, self.basis)
        return loss, self._reduce(grad), reduced

    def inverse_link(self, raw_prediction):
        return self.objective.inverse_link(self._expand(raw_prediction))

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        full = self.objective.constant_prediction(
            y_true, sample_weight, n_outputs=self.basis.shape[0]
        )
        return self.basis.T @ full

    def target_offset(self, y_true):
        return self.objective.target_offset(y_true)

    @property
    def model_objective(self):
        inner = self.objective.model_objective
        return self if inner is self.objective else SumZero(inner, self.basis)
