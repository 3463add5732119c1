"""The objective protocol: what every pointwise loss in link space provides.

An objective turns raw predictions -- logits for classification, mean and
log-variance for regression -- and a target into a per-sample loss, its
gradient with respect to the raw predictions and a Hessian operator, all
computed together. It knows nothing about models: a model maps parameters
to raw predictions and pulls gradients back (:mod:`skdiv._model`), and the
adapter (:mod:`skdiv._adapter`) adds the weights' normalisation and the
penalty.

Conventions shared by every objective:

* Losses and gradients come back already multiplied by ``sample_weight``
  when it is given (as in :mod:`sklearn._loss`).
* The Hessian of a sum of pointwise losses is block diagonal over samples:
  :class:`RawHessian` applies it to a direction in raw space, and gives its
  diagonal (the source of Jacobi preconditioners) without forming it.
* Everything is computed stably: log-sum-exp with the maximum subtracted,
  ``xlogy`` for :math:`0 \\log 0 = 0`, log-variance clipped so that the
  variance never under- or overflows.
"""

import numpy as np


def weighted(values, sample_weight):
    """Multiply per-sample ``values`` (1-D or 2-D) by ``sample_weight``."""
    if sample_weight is None:
        return values
    if values.ndim == 2:
        return values * sample_weight[:, None]
    return values * sample_weight


def in_precision(*arrays):
    """``get(dtype) -> arrays`` in ``dtype``, each cast once, when first asked.

    Hessian products follow the precision of the direction they are given:
    a float32 direction (a model's float32 rows) gets float32 factors, so
    the product stays float32 end to end.
    """
    cache = {}

    def get(dtype):
        if dtype not in cache:
            cache[dtype] = tuple(a.astype(dtype, copy=False) for a in arrays)
        return cache[dtype]

    return get


class RawHessian:
    r"""The Hessian of weighted pointwise losses, in raw-prediction space.

    Block diagonal over samples: :meth:`matvec` applies each sample's block
    :math:`\nabla^2 \ell_i` to the matching row of a direction ``v`` (the
    shape of the raw predictions). :meth:`diagonal` gives the diagonal of
    every block, with the shape of the raw predictions, and
    :meth:`diagonal_in` the diagonal of :math:`B^\top \nabla^2 \ell_i B` for
    a basis ``B`` of the raw outputs, where the objective has it in closed
    form (:attr:`has_diagonal_in`).
    """

    has_diagonal_in = False

    def matvec(self, v):
        """Apply the Hessian to ``v``; in ``v``'s precision."""
        raise NotImplementedError

    def diagonal(self):
        """Diagonal of each sample's block, the shape of the raw predictions."""
        raise NotImplementedError

    def rows(self, index):
        """The same Hessian restricted to the samples ``index`` (a slice).

        Hessian products over blocks of rows that stay in cache
        (:class:`skdiv._model._kernels.RowsHessian`) take one per block.
        """
        raise NotImplementedError

    def diagonal_in(self, basis):
        """Per sample, :math:`b^\\top H_i b` for each column ``b`` of ``basis``."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form diagonal in another basis."
        )

    def sample_blocks(self, shape):
        """Every sample's block :math:`\\nabla^2 \\ell_i`: shape ``(n, k, k)``.

        ``shape`` is the raw predictions' (1-D for one output, then ``k =
        1``). By default column ``c`` of the blocks is :meth:`matvec` of the
        unit direction on output ``c``: ``k`` products; objectives with a
        closed form override it. For Hessians formed whole (small problems,
        :mod:`skdiv._model._dense`).
        """
        if len(shape) == 1:
            return self.matvec(np.ones(shape))[:, None, None]
        n, k = shape
        out = np.empty((n, k, k))
        for c in range(k):
            unit = np.zeros(shape)
            unit[:, c] = 1.0
            out[:, :, c] = self.matvec(unit)
        return out


class DiagonalHessian(RawHessian):
    """A Hessian whose blocks are diagonal: ``H v = h * v`` elementwise.

    The sigmoid's :math:`\\sigma(1 - \\sigma)`, the squared error's sample
    weights, the log-variance head's curvature.
    """

    def __init__(self, curvature):
        self.curvature = curvature
        self._factors = in_precision(curvature)

    def matvec(self, v):
        return self._factors(v.dtype)[0] * v

    def diagonal(self):
        return self.curvature

    def rows(self, index):
        return DiagonalHessian(self.curvature[index])

    def sample_blocks(self, shape):
        h = np.asarray(self.curvature, dtype=np.float64)
        if h.ndim == 1:
            return h[:, None, None]
        out = np.zeros((*h.shape, h.shape[1]))
        out[:, np.arange(h.shape[1]), np.arange(h.shape[1])] = h
        return out


class Objective:
    """Base class of the objectives: a pointwise loss in link space.

    Subclasses implement :meth:`loss_gradient`, :meth:`loss_gradient_hessian`,
    :meth:`n_outputs`, :meth:`inverse_link` and :meth:`constant_prediction`;
    :meth:`target_offset` and :attr:`model_objective` have defaults for
    objectives without a model-free term.
    """

    #: Name in the registry (:data:`skdiv._loss.OBJECTIVES`).
    name = None
    #: Whether adding the same number to every raw output changes nothing
    #: (a softmax): models then keep their steps out of that direction.
    shift_invariant = False
    #: Whether every per-sample Hessian block is positive semidefinite at any
    #: raw prediction: a penalised linear model's Hessian is then definite,
    #: and its Newton steps are exact whenever it is formed whole.
    convex = False

    def n_outputs(self, n_classes=None):
        """Number of raw predictions per sample (for ``n_classes`` classes)."""
        raise NotImplementedError

    def loss(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss, shape ``(n_samples,)``."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight)[0]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient w.r.t. the raw predictions."""
        raise NotImplementedError

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        """Weighted loss, gradient and :class:`RawHessian`, from one pass."""
        raise NotImplementedError

    def inverse_link(self, raw_prediction):
        """Raw predictions -> what the user sees (probabilities, mean and std)."""
        raise NotImplementedError

    def constant_prediction(self, y_true, sample_weight=None):
        """The raw prediction, the same for every sample, minimising the loss.

        The intercept-only fit: the starting point of every fit with an
        intercept. Shape ``(n_outputs,)``.
        """
        raise NotImplementedError

    def target_offset(self, y_true):
        """Per-sample constant of the loss that does not depend on the model."""
        return 0.0

    @property
    def model_objective(self):
        """This objective without its :meth:`target_offset`.

        The offset does not depend on the model, so an adapter may evaluate
        this objective instead and add the offset's sum once per fit.
        """
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"
