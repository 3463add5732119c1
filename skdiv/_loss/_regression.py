"""Regression objectives: Gaussian NLL, Gaussian KL, squared error.

Raw predictions of the Gaussian objectives are an ``(n_samples, 2)`` array
of the mean and the log-variance (identity link on both); the squared
error's are the mean alone (1-D). Also here: the wrappers the regressor's
two-stage fits use (:class:`LogVarianceHead`, :class:`Stagewise`).
"""

import numpy as np

from ._base import DiagonalHessian, Objective, RawHessian, weighted

# exp(+-LOG_VAR_LIMIT) stays far inside float64 (and float32: 1e-35 .. 1e35 is
# not, but the regressor always works in float64 for the variance head).
LOG_VAR_LIMIT = 80.0
_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


class GaussianHessian(RawHessian):
    r"""The per-sample 2x2 Hessian of a Gaussian loss in (mean, log-variance).

    .. math::

        H_i = \begin{pmatrix} h_{\mu\mu} & h_{\mu\eta} \\
              h_{\mu\eta} & h_{\eta\eta} \end{pmatrix}
    """

    def __init__(self, h_mm, h_me, h_ee):
        self.h_mm, self.h_me, self.h_ee = h_mm, h_me, h_ee

    def matvec(self, v):
        out = np.empty_like(v)
        out[:, 0] = self.h_mm * v[:, 0] + self.h_me * v[:, 1]
        out[:, 1] = self.h_me * v[:, 0] + self.h_ee * v[:, 1]
        return out

    def diagonal(self):
        return np.column_stack([self.h_mm, self.h_ee])

    def rows(self, index):
        return GaussianHessian(self.h_mm[index], self.h_me[index], self.h_ee[index])

    def sample_blocks(self, shape):
        out = np.empty((len(self.h_mm), 2, 2))
        out[:, 0, 0], out[:, 1, 1] = self.h_mm, self.h_ee
        out[:, 0, 1] = out[:, 1, 0] = self.h_me
        return out


class GaussianNLL(Objective):
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
    :math:`\pm 80`) before use, so :math:`e^{\pm\eta}` never overflows.
    Beyond the bounds the loss is the bound's plus :math:`\tfrac12 (\eta -
    \bar\eta)^2`, with :math:`\bar\eta` the clipped value: its gradient
    :math:`\eta - \bar\eta` pulls a log-variance that left the bounds back
    to them, so that a fit started out there (warm-started from an exactly
    fitted model, whose likelihood has no optimum and whose variance ran
    past the floor) is not held by a zero gradient. Within the bounds
    nothing changes.
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
    >>> from skdiv._loss import GaussianNLL
    >>> float(GaussianNLL().loss(np.array([1.0]), np.array([[0.0, 0.0]]))[0])
    1.4189385332046727
    """

    name = "gaussian_nll"

    def __init__(self, log_var_min=-LOG_VAR_LIMIT, log_var_max=LOG_VAR_LIMIT):
        self.log_var_min = log_var_min
        self.log_var_max = log_var_max

    def __repr__(self):
        return f"{type(self).__name__}({self.log_var_min!r}, {self.log_var_max!r})"

    def n_outputs(self, n_classes=None):
        """Two: the mean and the log-variance."""
        return 2

    def _unpack(self, y_true, raw):
        mean = raw[:, 0]
        log_var = np.clip(raw[:, 1], self.log_var_min, self.log_var_max)
        inside = (raw[:, 1] >= self.log_var_min) & (raw[:, 1] <= self.log_var_max)
        return mean, log_var, inside

    @staticmethod
    def _beyond(raw, log_var):
        """How far the raw log-variance lies beyond its bounds (0 within)."""
        return raw[:, 1] - log_var

    def _second_moment(self, y_true, mean):
        """E[(Y - mu)^2] under the target; (y - mu)^2 for point targets."""
        return (y_true - mean) ** 2

    def _point(self, y_true):
        """The target's mean: ``y`` itself for point targets."""
        return y_true

    def _constant(self, y_true):
        return _HALF_LOG_2PI

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient w.r.t. (mean, log-variance)."""
        mean, log_var, inside = self._unpack(y_true, raw_prediction)
        beyond = self._beyond(raw_prediction, log_var)
        inv_var = np.exp(-log_var)
        scaled = self._second_moment(y_true, mean) * inv_var
        loss = 0.5 * (log_var + scaled + beyond**2) + self._constant(y_true)
        grad = np.empty_like(raw_prediction, dtype=np.result_type(loss, np.float64))
        grad[:, 0] = (mean - self._point(y_true)) * inv_var
        grad[:, 1] = np.where(inside, 0.5 * (1.0 - scaled), beyond)
        return weighted(loss, sample_weight), weighted(grad, sample_weight)

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        r"""Weighted loss, gradient, and the per-sample 2x2 Hessian.

        .. math::

            H_i = \begin{pmatrix} e^{-\eta} & (\mu - y) e^{-\eta} \\
                  (\mu - y) e^{-\eta} & \tfrac12 m_2 e^{-\eta} \end{pmatrix}

        with :math:`m_2` the second moment of the residual. It is not
        positive definite far from the optimum, which the Newton solver
        handles (truncated CG stops on negative curvature).
        """
        mean, log_var, inside = self._unpack(y_true, raw_prediction)
        loss, grad = self.loss_gradient(y_true, raw_prediction, sample_weight)
        inv_var = np.exp(-log_var)
        h_mm = weighted(inv_var, sample_weight)
        h_me = weighted(
            np.where(inside, (self._point(y_true) - mean) * inv_var, 0.0),
            sample_weight,
        )
        h_ee = weighted(
            np.where(inside, 0.5 * self._second_moment(y_true, mean) * inv_var, 1.0),
            sample_weight,
        )
        return loss, grad, GaussianHessian(h_mm, h_me, h_ee)

    def inverse_link(self, raw_prediction):
        """``(n_samples, 2)``: the mean and the standard deviation."""
        log_var = np.clip(raw_prediction[:, 1], self.log_var_min, self.log_var_max)
        return np.column_stack([raw_prediction[:, 0], np.exp(0.5 * log_var)])

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        """The weighted mean and the log of the weighted second moment about it."""
        point = self._point(y_true)
        mean = float(np.average(point, weights=sample_weight))
        second = self._second_moment(y_true, mean)
        second = float(np.average(second, weights=sample_weight))
        log_var = np.log(second) if second > 0 else self.log_var_min
        return np.array([mean, np.clip(log_var, self.log_var_min, self.log_var_max)])


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
    >>> from skdiv._loss import GaussianKL
    >>> target = np.array([[0.0, 1.0]])          # N(0, 1)
    >>> raw = np.array([[0.0, np.log(4.0)]])      # N(0, 4)
    >>> round(float(GaussianKL().loss(target, raw)[0]), 12)  # log 2 + 1/8 - 1/2
    0.318147180560
    """

    name = "gaussian_kl"

    def _second_moment(self, y_true, mean):
        return y_true[:, 1] ** 2 + (y_true[:, 0] - mean) ** 2

    def _point(self, y_true):
        return y_true[:, 0]

    def _constant(self, y_true):
        return -np.log(y_true[:, 1]) - 0.5


class SquaredError(Objective):
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
    >>> from skdiv._loss import SquaredError
    >>> SquaredError().loss(np.array([3.0]), np.array([1.0]))
    array([2.])
    """

    name = "squared_error"

    def n_outputs(self, n_classes=None):
        """One: the mean."""
        return 1

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted per-sample loss and gradient w.r.t. the mean."""
        residual = raw_prediction - y_true
        return (
            weighted(0.5 * residual**2, sample_weight),
            weighted(residual, sample_weight),
        )

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        """Weighted loss, gradient, and the (diagonal, constant) Hessian."""
        loss, grad = self.loss_gradient(y_true, raw_prediction, sample_weight)
        return loss, grad, DiagonalHessian(weighted(np.ones_like(grad), sample_weight))

    def inverse_link(self, raw_prediction):
        """The mean itself (identity link)."""
        return raw_prediction

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        """The weighted mean of the targets."""
        return np.array([float(np.average(y_true, weights=sample_weight))])


def with_fixed_mean(xp, target, mean):
    """``y_true`` of :class:`LogVarianceHead`: the target, then the mean.

    ``xp`` is the array namespace (numpy, or ``dask.array`` on Dask blocks).
    """
    return xp.concatenate(
        [target.reshape(-1, 1) if target.ndim == 1 else target, mean[:, None]], axis=1
    )


class LogVarianceHead(Objective):
    """A Gaussian objective with the mean held fixed.

    Raw predictions are the log-variance alone (1-D), so that a linear model
    with one output fits the variance head of a model whose mean is already
    fitted. The fixed mean is the last column of ``y_true`` (see
    :func:`with_fixed_mean`): it travels with each row, so row subsets and
    Dask blocks carry their own.
    """

    def __init__(self, objective):
        self.objective = objective
        self.name = objective.name

    def __repr__(self):
        return f"LogVarianceHead({self.objective!r})"

    def n_outputs(self, n_classes=None):
        return 1

    @staticmethod
    def _split(y_true, raw_prediction):
        target = y_true[:, 0] if y_true.shape[1] == 2 else y_true[:, :-1]
        return target, np.column_stack([y_true[:, -1], raw_prediction])

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        target, raw = self._split(y_true, raw_prediction)
        loss, grad = self.objective.loss_gradient(target, raw, sample_weight)
        return loss, grad[:, 1]

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        target, raw = self._split(y_true, raw_prediction)
        loss, grad, hessian = self.objective.loss_gradient_hessian(
            target, raw, sample_weight
        )
        # The (log-variance, log-variance) entry of the 2x2 per-sample Hessian.
        return loss, grad[:, 1], DiagonalHessian(hessian.diagonal()[:, 1])

    def inverse_link(self, raw_prediction):
        log_var = np.clip(
            raw_prediction, self.objective.log_var_min, self.objective.log_var_max
        )
        return np.exp(0.5 * log_var)

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        """The log of the weighted second moment about the fixed mean."""
        target, _ = self._split(y_true, np.zeros(y_true.shape[0]))
        second = self.objective._second_moment(target, y_true[:, -1])
        log_var = np.log(max(float(np.average(second, weights=sample_weight)), 1e-300))
        return np.array(
            [np.clip(log_var, self.objective.log_var_min, self.objective.log_var_max)]
        )


class Stagewise(Objective):
    """Least-squares gradient for the mean, the objective's for the variance.

    Not the gradient of one function: its zero is the least-squares mean
    together with the variance that minimises ``objective`` given that mean,
    i.e. the regressor's two-stage model (``loss="squared_error"``, and
    every ``variance="constant"`` fit), which the stochastic solver follows.
    The loss value is the objective's. It has no Hessian.
    """

    def __init__(self, objective):
        self.objective = objective
        self.name = objective.name

    def __repr__(self):
        return f"Stagewise({self.objective!r})"

    def n_outputs(self, n_classes=None):
        return 2

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        loss, grad = self.objective.loss_gradient(y_true, raw_prediction, sample_weight)
        point = y_true if y_true.ndim == 1 else y_true[:, 0]
        residual = raw_prediction[:, 0] - point
        grad[:, 0] = residual if sample_weight is None else residual * sample_weight
        return loss, grad

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        raise NotImplementedError(
            "Stagewise is a stochastic-gradient field, not the gradient of one "
            "function: it has no Hessian."
        )

    def inverse_link(self, raw_prediction):
        return self.objective.inverse_link(raw_prediction)

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        return self.objective.constant_prediction(y_true, sample_weight)


class BetaNLLPotential(Objective):
    r"""The function whose stationary points are the beta-NLL fits.

    The beta-NLL of Seitzer et al. (ICLR 2022) weights each sample's Gaussian
    loss :math:`\ell_i` (:class:`GaussianNLL` or :class:`GaussianKL`, through
    its second moment :math:`m_i`: :math:`(y_i - \mu_i)^2`, plus
    :math:`\tau_i^2` for the KL) by :math:`\operatorname{stop\_grad}
    (\sigma_i^{2\beta})`. That weighted gradient field is, up to the factor
    :math:`1/(1-\beta)` on its mean component, the gradient of

    .. math::

        \phi_i = \frac{e^{\beta\eta_i} - 1}{2\beta}
            + \frac{m_i\, e^{-(1-\beta)\eta_i}}{2(1-\beta)}, \qquad
        \frac{\partial \phi_i}{\partial \mu_i}
            = \frac{\sigma_i^{2\beta}}{1-\beta}
              \frac{\partial \ell_i}{\partial \mu_i}, \qquad
        \frac{\partial \phi_i}{\partial \eta_i}
            = \sigma_i^{2\beta} \frac{\partial \ell_i}{\partial \eta_i},

    (:math:`0 < \beta < 1`), so the beta-NLL fits are its stationary points.
    Unlike the weighted likelihood, :math:`\phi_i \ge -1/(2\beta)` is bounded
    below: minimised over :math:`\eta_i` it is :math:`|y_i - \mu_i|^{2\beta}
    / (2\beta(1-\beta))` up to a constant (the log of the NLL at
    :math:`\beta \to 0`, least absolute deviations at :math:`\beta = 1/2`,
    least squares at :math:`\beta = 1`). The factor :math:`1/(1-\beta)` is
    absorbed by the change of variables :math:`\mu_i = \sqrt{1-\beta}\,
    \mu'_i`: the raw predictions are :math:`(\mu'_i, \eta_i)`, and an L2
    penalty :math:`\tfrac\alpha2 \lVert w' \rVert^2` on :math:`\mu'` is the
    penalty :math:`\tfrac{\alpha}{2(1-\beta)} \lVert w \rVert^2` whose
    stationarity condition matches the weighted one. Every term is divided
    by ``scale`` :math:`c` (the regressor passes the weighted mean of
    :math:`\sigma_i^{2\beta}`, the normaliser of the weighted fit).

    At :math:`\beta = 1` the weighted mean gradient is the least-squares one
    and does not involve the variance; the log-variance condition is the
    gradient of :math:`\phi_i = (e^{\eta_i} - 1 - m_i \eta_i) / 2`, convex
    in :math:`\eta_i`, which this objective then computes (with
    :math:`\mu' = \mu`): it is meant for the log-variance head with the
    mean held fixed (:class:`LogVarianceHead`).

    The log-variance is clipped to the bounds of ``objective``, and pulled
    back to them from beyond by :math:`\tfrac12 (\eta - \bar\eta)^2 / c`,
    as in :class:`GaussianNLL`.

    Parameters
    ----------
    objective : GaussianNLL or GaussianKL
    beta : float in (0, 1]
    scale : float, default=1.0

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv._loss import BetaNLLPotential, GaussianNLL
    >>> potential = BetaNLLPotential(GaussianNLL(), 0.5)
    >>> raw = np.array([[0.0, np.log(4.0)]])      # mean 0, variance 4
    >>> # ((e^(0.5 log 4) - 1) / 0.5 + 2^2 e^(-0.5 log 4) / 0.5) / 2
    >>> float(potential.loss(np.array([2.0]), raw)[0])
    3.0
    """

    def __init__(self, objective, beta, scale=1.0):
        self.objective = objective
        self.beta = beta
        self.scale = scale
        self.name = objective.name
        self.mean_factor = np.sqrt(1.0 - beta) if beta < 1 else 1.0

    def __repr__(self):
        return (f"BetaNLLPotential({self.objective!r}, {self.beta!r}, "
                f"{self.scale!r})")

    @property
    def log_var_min(self):
        return self.objective.log_var_min

    @property
    def log_var_max(self):
        return self.objective.log_var_max

    def n_outputs(self, n_classes=None):
        return 2

    def _parts(self, y_true, raw):
        base = self.objective
        mean = self.mean_factor * raw[:, 0]
        _, log_var, inside = base._unpack(y_true, raw)
        return mean, log_var, inside, base._second_moment(y_true, mean)

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None):
        """Weighted :math:`\\phi_i / c` and its gradient in :math:`(\\mu', \\eta)`."""
        return self._loss_gradient(y_true, raw_prediction, sample_weight)[:2]

    def _loss_gradient(self, y_true, raw_prediction, sample_weight):
        beta, k, c = self.beta, self.mean_factor, self.scale
        mean, log_var, inside, second = self._parts(y_true, raw_prediction)
        beyond = self.objective._beyond(raw_prediction, log_var)
        delta = mean - self.objective._point(y_true)
        grad = np.empty_like(raw_prediction, dtype=np.float64)
        if beta < 1:
            up = np.exp(beta * log_var)
            down = np.exp(-(1.0 - beta) * log_var)
            loss = (np.expm1(beta * log_var) / beta
                    + second * down / (1.0 - beta) + beyond**2) / (2.0 * c)
            # d/dmu' = k * d/dmu, and k^2 / (1 - beta) = 1.
            grad[:, 0] = delta * down / (k * c)
            grad[:, 1] = np.where(inside, 0.5 * (up - second * down), beyond) / c
        else:
            up = np.exp(log_var)
            loss = (np.expm1(log_var) - second * log_var + beyond**2) / (2.0 * c)
            grad[:, 0] = -delta * log_var / c
            grad[:, 1] = np.where(inside, 0.5 * (up - second), beyond) / c
            down = None
        return (weighted(loss, sample_weight), weighted(grad, sample_weight),
                (up, down, delta, log_var), inside, second)

    def loss_gradient_hessian(self, y_true, raw_prediction, sample_weight=None):
        r"""Weighted loss, gradient and the per-sample 2x2 Hessian.

        In :math:`(\mu', \eta)`, with :math:`a = e^{\beta\eta}`,
        :math:`b = e^{-(1-\beta)\eta}`, :math:`\delta = \mu - y`:

        .. math::

            c\,H_i = \begin{pmatrix} b & -\sqrt{1-\beta}\,\delta b \\
                  -\sqrt{1-\beta}\,\delta b &
                  \tfrac12\left(\beta a + (1-\beta) m_i b\right)
                  \end{pmatrix},

        not positive definite far from the optimum (truncated CG handles
        it); at :math:`\beta = 1` the :math:`(\eta, \eta)` entry is
        :math:`\tfrac12 e^{\eta}`.
        """
        beta, k, c = self.beta, self.mean_factor, self.scale
        loss, grad, (up, down, delta, log_var), inside, second = self._loss_gradient(
            y_true, raw_prediction, sample_weight
        )
        if beta < 1:
            h_mm = down / c
            h_me = np.where(inside, -k * delta * down / c, 0.0)
            h_ee = np.where(
                inside, 0.5 * (beta * up + (1.0 - beta) * second * down), 1.0
            ) / c
        else:
            h_mm = -log_var / c
            h_me = np.where(inside, -delta / c, 0.0)
            h_ee = np.where(inside, 0.5 * up, 1.0) / c
        return loss, grad, GaussianHessian(
            weighted(h_mm, sample_weight), weighted(h_me, sample_weight),
            weighted(h_ee, sample_weight),
        )

    def inverse_link(self, raw_prediction):
        """``(n_samples, 2)``: the mean :math:`\\mu = \\sqrt{1-\\beta}\\,\\mu'`
        and the standard deviation."""
        raw = np.column_stack([self.mean_factor * raw_prediction[:, 0],
                               raw_prediction[:, 1]])
        return self.objective.inverse_link(raw)

    def constant_prediction(self, y_true, sample_weight=None, n_outputs=None):
        """The base objective's constant prediction, mean in :math:`\\mu'`."""
        constant = self.objective.constant_prediction(y_true, sample_weight)
        constant[0] /= self.mean_factor
        return constant
