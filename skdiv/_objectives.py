"""Pointwise objectives in link (raw-prediction) space.

Each objective turns raw predictions -- logits for classification, mean and
log-variance for regression -- and a target into a per-sample loss and its
gradient with respect to the raw predictions, computed together. Objectives
know nothing about models: the adapter in :mod:`skdiv._linear` maps
parameters to raw predictions and back.

Conventions shared by every objective:

* ``loss_gradient(y_true, raw_prediction, sample_weight=None)`` returns
  ``(loss, gradient)`` where ``loss`` has shape ``(n_samples,)`` and
  ``gradient`` the shape of ``raw_prediction``; both already multiplied by
  ``sample_weight`` when it is given (as in :mod:`sklearn._loss`).
* ``loss_gradient_hessp(y_true, raw_prediction, sample_weight=None)``
  returns ``(loss, gradient, hessp)`` where ``hessp(v)`` applies the Hessian
  of the weighted pointwise losses (block diagonal over samples) to a
  direction ``v`` in raw space; ``gradient_hessian_product`` returns the last
  two. ``hessp.diagonal()`` returns the diagonal of that Hessian (the shape
  of ``raw_prediction``), computed on demand, which the adapter turns into a
  preconditioner for the solver; the softmax's also has
  ``hessp.diagonal_in(B)``, the diagonal of :math:`B^\top H_i B` per sample
  (its Hessian in another basis of the logits), in closed form.
* Everything is computed stably: log-sum-exp with the maximum subtracted,
  ``xlogy`` for :math:`0 \\log 0 = 0`, log-variance clipped so that the
  variance never under- or overflows.
"""

import numpy as np
from scipy.special import expit, xlogy

# exp(+-LOG_VAR_LIMIT) stays far inside float64 (and float32: 1e-35 .. 1e35 is
# not, but the regressor always works in float64 for the variance head).
LOG_VAR_LIMIT = 80.0
_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def _weighted(values, sample_weight):
    """Multiply per-sample ``values`` (1-D or 2-D) by ``sample_weight``."""
    if sample_weight is None:
        return values
    if values.ndim == 2:
        return values * sample_weight[:, None]
    return values * sample_weight


def _with_diagonal(hessp, diagonal):
    """Attach ``diagonal``, a function of no argument, to a Hessian product."""
    hessp.diagonal = diagonal
    return hessp


def _in_precision(*arrays):
    """``get(dtype) -> arrays`` in ``dtype``, each cast once, when first asked.

    Hessian products follow the precision of the direction they are given:
    a float32 direction (the adapter's float32 rows) gets float32 factors,
    so the product stays float32 end to end.
    """
    cache = {}

    def get(dtype):
        if dtype not in cache:
            cache[dtype] = tuple(a.astype(dtype, copy=False) for a in arrays)
        return cache[dtype]

    return get


def _softmax_lse(raw):
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


def _log_softmax(raw):
    """Row-wise log-softmax and softmax: ``log q = z - lse(z)``, never log(0)."""
    proba, lse = _softmax_lse(raw)
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


class CrossEntropy:
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
    >>> from skdiv._objectives import CrossEntropy
    >>> raw = np.array([[1., 2., 3.]])
    >>> loss, grad = CrossEntropy().loss_gradient(np.array([2]), raw)
    >>> round(float(loss[0]), 12)
    0.407605964444
    """

    name = "cross_entropy"
    # With several logits the model is unchanged by adding the same number to
    # all of them (softmax): the adapter keeps solver steps out of that
    # direction (see LinearObjective._hessian_diagonal).
    shift_invariant = True

    # ------------------------------------------------------------------ API
    def loss(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss, shape ``(n_samples,)``."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight)[0]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient with respect to the logits."""
        if raw_prediction.ndim == 1:
            loss, grad = self._binary(y_true, raw_prediction)
        else:
            loss, grad = self._multinomial(y_true, raw_prediction)
        loss = loss + self.target_offset(y_true)
        return _weighted(loss, sample_weight), _weighted(grad, sample_weight)

    def gradient_hessian_product(self, y_true, raw_prediction, sample_weight=None):
        """Weighted gradient and a function applying the Hessian to ``v``."""
        return self.loss_gradient_hessp(y_true, raw_prediction, sample_weight)[1:]

    def loss_gradient_hessp(self, y_true, raw_prediction, sample_weight=None):
        r"""Weighted loss, gradient, and Hessian product, from one softmax.

        For the softmax the per-sample Hessian is :math:`\mathrm{diag}(q_i) -
        q_i q_i^\top`, so :math:`H v = q \odot v - q\,(q^\top v)`; for the
        sigmoid it is :math:`\sigma(z)(1 - \sigma(z))`.
        """
        if raw_prediction.ndim == 1:
            loss, grad = self._binary(y_true, raw_prediction)
            proba = expit(raw_prediction)
            curvature = _weighted(proba * (1.0 - proba), sample_weight)
            factors = _in_precision(curvature)

            def hessp(v):
                return factors(v.dtype)[0] * v

            hessp = _with_diagonal(hessp, lambda: curvature)
        else:
            proba, lse = _softmax_lse(raw_prediction)
            loss, grad = self._multinomial_from(
                y_true, raw_prediction, proba.copy(), lse
            )
            weighted_proba = _weighted(proba, sample_weight)
            factors = _in_precision(weighted_proba, proba)

            def hessp(v):
                weighted_q, q = factors(v.dtype)
                qv = weighted_q * v
                qv -= q * qv.sum(axis=1, keepdims=True)
                return qv

            # diag(q) - q q^T on the diagonal: q (1 - q).
            hessp = _with_diagonal(hessp, lambda: weighted_proba * (1.0 - proba))

            def diagonal_in(basis):
                # b^T (diag(q) - q q^T) b = q . b^2 - (q . b)^2, per column b.
                return weighted_proba @ basis**2 - (weighted_proba @ basis) * (
                    proba @ basis
                )

            hessp.diagonal_in = diagonal_in

        offset = self.target_offset(y_true)
        return (
            _weighted(loss + offset, sample_weight),
            _weighted(grad, sample_weight),
            hessp,
        )

    def predict_proba(self, raw_prediction):
        """Probabilities from raw predictions (positive class if 1-D)."""
        if raw_prediction.ndim == 1:
            return expit(raw_prediction)
        return _softmax_lse(raw_prediction)[0]

    def target_offset(self, y_true):
        """Per-sample constant added to the cross-entropy (none here)."""
        return 0.0

    @property
    def model_objective(self):
        """This objective without its :meth:`target_offset`: the cross-entropy.

        The offset does not depend on the model, so an adapter may evaluate
        this objective instead and add the offset's sum once per fit.
        """
        return self

    # ------------------------------------------------------------ internals
    @staticmethod
    def _binary(y_true, raw):
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for any z.
        log1pexp = np.maximum(raw, 0) + np.log1p(np.exp(-np.abs(raw)))
        loss = log1pexp - y_true * raw
        return loss, expit(raw) - y_true

    @classmethod
    def _multinomial(cls, y_true, raw):
        return cls._multinomial_from(y_true, raw, *_softmax_lse(raw))

    @staticmethod
    def _multinomial_from(y_true, raw, proba, lse):
        """Loss and gradient from the softmax (overwritten) and log-sum-exp.

        ``CE_i = s_i lse(z_i) - sum_k p_ik z_ik`` with ``s_i = sum_k p_ik``
        (1 for probability rows): no n x K array of log-probabilities is
        formed, and with hard labels the loss is ``lse(z_i) - z_{i y_i}``.
        """
        if y_true.ndim == 1:
            idx = y_true.astype(np.intp, copy=False)
            rows = np.arange(proba.shape[0])
            loss = lse - raw[rows, idx]
            proba[rows, idx] -= 1
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
    >>> from skdiv._objectives import KLDivergence
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


class GaussianNLL:
    r"""Negative log-likelihood of a Gaussian with predicted mean and variance.

    Domain: real targets :math:`y_i`. Raw predictions are an ``(n_samples,
    2)`` array of the mean :math:`\mu_i` and the log-variance :math:`\eta_i =
    \log \sigma_i^2` (identity link on both).

    .. math::

        \ell_i = \tfrac12\left(\log 2\pi + \eta_i + (y_i - \mu_i)^2
            e^{-\eta_i}\right),
        \qquad
        \frac{\partial \ell_i}{\partial \mu_i} = (\mu_i - y_i)\,e^{-\eta_i},
        \qquad
        \frac{\partial \ell_i}{\partial \eta_i} =
            \tfrac12\left(1 - (y_i - \mu_i)^2 e^{-\eta_i}\right).

    The log-variance is clipped to ``[log_var_min, log_var_max]`` (by default
    :math:`\pm 80`) before use, so :math:`e^{\pm\eta}` never overflows; in
    the clipped region the gradient with respect to :math:`\eta` is zero.
    With :math:`\eta` held fixed, :math:`\ell_i` is the squared error scaled
    by :math:`1/(2\sigma^2)` plus a constant, so its minimiser in the mean is
    least squares.

    Parameters
    ----------
    log_var_min, log_var_max : float
        Clipping bounds of the log-variance.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._objectives import GaussianNLL
    >>> float(GaussianNLL().loss(np.array([1.0]), np.array([[0.0, 0.0]]))[0])
    1.4189385332046727
    """

    name = "gaussian_nll"

    def __init__(self, log_var_min=-LOG_VAR_LIMIT, log_var_max=LOG_VAR_LIMIT):
        self.log_var_min = log_var_min
        self.log_var_max = log_var_max

    def _unpack(self, y_true, raw):
        mean = raw[:, 0]
        log_var = np.clip(raw[:, 1], self.log_var_min, self.log_var_max)
        inside = (raw[:, 1] >= self.log_var_min) & (raw[:, 1] <= self.log_var_max)
        return mean, log_var, inside

    def _second_moment(self, y_true, mean):
        """E[(Y - mu)^2] under the target; (y - mu)^2 for point targets."""
        return (y_true - mean) ** 2

    def _residual(self, y_true):
        return y_true

    def loss(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss, shape ``(n_samples,)``."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight)[0]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient w.r.t. (mean, log-variance)."""
        mean, log_var, inside = self._unpack(y_true, raw_prediction)
        inv_var = np.exp(-log_var)
        scaled = self._second_moment(y_true, mean) * inv_var
        loss = 0.5 * (log_var + scaled) + self._constant(y_true)
        grad = np.empty_like(raw_prediction, dtype=np.result_type(loss, np.float64))
        grad[:, 0] = (mean - self._residual(y_true)) * inv_var
        grad[:, 1] = np.where(inside, 0.5 * (1.0 - scaled), 0.0)
        return _weighted(loss, sample_weight), _weighted(grad, sample_weight)

    def gradient_hessian_product(self, y_true, raw_prediction, sample_weight=None):
        """Weighted gradient and a function applying the Hessian to ``v``."""
        return self.loss_gradient_hessp(y_true, raw_prediction, sample_weight)[1:]

    def loss_gradient_hessp(self, y_true, raw_prediction, sample_weight=None):
        r"""Weighted loss, gradient, and the per-sample 2x2 Hessian product.

        .. math::

            H_i = \begin{pmatrix} e^{-\eta} & (y - \mu) e^{-\eta} \\
                  (y - \mu) e^{-\eta} & \tfrac12 m_2 e^{-\eta} \end{pmatrix}

        with :math:`m_2` the second moment of the residual. It is not
        positive definite far from the optimum, which the Newton solver
        handles (truncated CG stops on negative curvature).
        """
        mean, log_var, inside = self._unpack(y_true, raw_prediction)
        loss, grad = self.loss_gradient(y_true, raw_prediction, sample_weight)
        inv_var = np.exp(-log_var)
        h_mm = _weighted(inv_var, sample_weight)
        h_me = _weighted(
            np.where(inside, (self._residual(y_true) - mean) * inv_var, 0.0),
            sample_weight,
        )
        h_ee = _weighted(
            np.where(inside, 0.5 * self._second_moment(y_true, mean) * inv_var, 0.0),
            sample_weight,
        )

        def hessp(v):
            out = np.empty_like(v)
            out[:, 0] = h_mm * v[:, 0] + h_me * v[:, 1]
            out[:, 1] = h_me * v[:, 0] + h_ee * v[:, 1]
            return out

        hessp = _with_diagonal(hessp, lambda: np.column_stack([h_mm, h_ee]))
        return loss, grad, hessp

    def _constant(self, y_true):
        return _HALF_LOG_2PI


class GaussianKL(GaussianNLL):
    r"""KL divergence from Gaussian targets to a Gaussian model.

    Domain: targets are Gaussians :math:`N(m_i, s_i^2)`, passed as an
    ``(n_samples, 2)`` array of ``(m_i, s_i)`` with :math:`s_i > 0`. Raw
    predictions are mean :math:`\mu_i` and log-variance :math:`\eta_i`, as in
    :class:`GaussianNLL`.

    .. math::

        \mathrm{KL}\left(N(m_i, s_i^2) \,\|\, N(\mu_i, \sigma_i^2)\right)
            = \log\frac{\sigma_i}{s_i}
              + \frac{s_i^2 + (m_i - \mu_i)^2}{2\sigma_i^2} - \frac12 .

    It equals the expected Gaussian NLL of the model under the target, minus
    the target's entropy :math:`\tfrac12\log(2\pi e s_i^2)`: the Gaussian
    analogue of KL = CE - H. Compared with :class:`GaussianNLL` at
    :math:`y_i = m_i`, the squared residual is replaced by
    :math:`s_i^2 + (m_i - \mu_i)^2`; the mean gradient is unchanged, and the
    fitted variance grows by the target variance. As :math:`s_i \to 0` the
    minimiser tends to the NLL minimiser.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._objectives import GaussianKL
    >>> target = np.array([[0.0, 1.0]])          # N(0, 1)
    >>> raw = np.array([[0.0, np.log(4.0)]])      # N(0, 4)
    >>> round(float(GaussianKL().loss(target, raw)[0]), 12)  # log 2 + 1/8 - 1/2
    0.318147180560
    """

    name = "gaussian_kl"

    def _second_moment(self, y_true, mean):
        return y_true[:, 1] ** 2 + (y_true[:, 0] - mean) ** 2

    def _residual(self, y_true):
        return y_true[:, 0]

    def _constant(self, y_true):
        return -np.log(y_true[:, 1]) - 0.5


class SquaredError:
    r"""Half squared error of a mean prediction.

    Domain: real targets; raw predictions are the mean (1-D), identity link.

    .. math::

        \ell_i = \tfrac12 (y_i - \mu_i)^2, \qquad
        \frac{\partial \ell_i}{\partial \mu_i} = \mu_i - y_i .

    It is :class:`GaussianNLL` at unit variance, less the constant
    :math:`\tfrac12\log 2\pi`.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._objectives import SquaredError
    >>> SquaredError().loss(np.array([3.0]), np.array([1.0]))
    array([2.])
    """

    name = "squared_error"

    def loss(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss, shape ``(n_samples,)``."""
        return self.loss_gradient(y_true, raw_prediction, sample_weight)[0]

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient w.r.t. the mean."""
        residual = raw_prediction - y_true
        return (
            _weighted(0.5 * residual**2, sample_weight),
            _weighted(residual, sample_weight),
        )

    def gradient_hessian_product(self, y_true, raw_prediction, sample_weight=None):
        """Weighted gradient and a function applying the Hessian to ``v``."""
        return self.loss_gradient_hessp(y_true, raw_prediction, sample_weight)[1:]

    def loss_gradient_hessp(self, y_true, raw_prediction, sample_weight=None):
        """Weighted loss, gradient, and the (diagonal, constant) Hessian product."""
        loss, grad = self.loss_gradient(y_true, raw_prediction, sample_weight)
        ones = _weighted(np.ones_like(grad), sample_weight)
        return loss, grad, _with_diagonal(lambda v: ones * v, lambda: ones)


OBJECTIVES = {
    cls.name: cls
    for cls in (CrossEntropy, KLDivergence, GaussianNLL, GaussianKL, SquaredError)
}


def get_objective(objective, allowed=None):
    """Turn a name or an objective instance into an objective instance.

    Parameters
    ----------
    objective : str or objective instance
        A key of :data:`OBJECTIVES` or an instance of one of its classes.
    allowed : sequence of str, default=None
        Restrict the accepted names (and instance classes) to these.

    Returns
    -------
    objective : objective instance

    Raises
    ------
    ValueError
        For an unknown name, listing the valid names in sorted order.

    Examples
    --------
    >>> from skdiv._objectives import get_objective
    >>> get_objective("kl_divergence").name
    'kl_divergence'
    """
    names = sorted(allowed if allowed is not None else OBJECTIVES)
    if isinstance(objective, str):
        if objective not in names:
            raise ValueError(
                f"Unknown objective {objective!r}; valid names are {names}."
            )
        return OBJECTIVES[objective]()
    # Exact class match: KLDivergence is a CrossEntropy in code, not in meaning.
    if type(objective) in tuple(OBJECTIVES[name] for name in names):
        return objective
    raise ValueError(
        f"objective must be one of {names} or an instance of the matching "
        f"class, got {objective!r}."
    )


__all__ = [
    "CrossEntropy",
    "KLDivergence",
    "GaussianNLL",
    "GaussianKL",
    "SquaredError",
    "OBJECTIVES",
    "get_objective",
    "row_entropy",
]
