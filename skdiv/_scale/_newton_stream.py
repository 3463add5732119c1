r"""Streaming Newton: ``partial_fit`` by Newton steps on a quadratic summary.

The objective of a stream is ``fit``'s objective on every row the stream has
delivered, each occurrence counted (so that ``k`` complete passes over a
data set give exactly ``fit``'s objective on it):

.. math::

    F(\theta) = \frac{1}{S} \sum_{t} s_t\, \ell(y_t, z_t(\theta))
              + \alpha P(\theta), \qquad S = \sum_t s_t .

The stream keeps two things (:class:`NewtonStream`):

* a **window** of the rows of the latest calls, exactly (at most
  ``batch_size`` rows plus one call's), and
* a **quadratic summary** of every earlier row: its second-order Taylor
  expansion at the model of the moment it left the window,

  .. math::

      Q(\theta) = \sum_{t \notin \text{window}} s_t \Big[\ell_t(\theta_t)
          + \nabla \ell_t(\theta_t)^\top (\theta - \theta_t)
          + \tfrac12 (\theta - \theta_t)^\top \nabla^2 \ell_t(\theta_t)
          (\theta - \theta_t)\Big]
        = c + \tfrac12 \theta^\top A \theta - b^\top \theta ,

  stored as the dense :math:`A` (``n_params`` squared numbers), :math:`b`
  and :math:`c`, whatever the number of rows it summarises.

Each call appends its rows to the window and takes up to
:data:`NEWTON_ITER` Newton-CG iterations (exact Hessian products on the
window, :math:`A v` on the summary, backtracking line search) on

.. math::

    \Phi(\theta) = \frac{1}{S}\Big[Q(\theta) + \sum_{t \in \text{window}}
        s_t\, \ell_t(\theta)\Big] + \alpha P(\theta),

warm-started at the previous model. When the window holds ``batch_size``
rows it is folded into the summary at the new model and emptied. For the
squared error :math:`Q` is exact, and so is the stream's optimum; for the
other objectives the summary's error is third order in the distance
between the model at which a row was folded and the final one, which
shrinks as the stream converges (each row is folded at a model that
already fits every earlier row). A window of at least one pass over a
data set makes the stream's first solve the batch fit itself.

Memory: ``n_params**2`` numbers for :math:`A`, and the window's rows.
The summary is dense, so a model of more than :data:`MAX_SUMMARY_PARAMS`
parameters streams by Adam instead (:mod:`skdiv._scale._stream`).
"""

import copy
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from sklearn.exceptions import ConvergenceWarning

from .._adapter import linear_risk
from .._model import HessianOperator
from .._model._coordinates import ChangeOfVariables
from .._model._dense import dense_hessian as formed_hessian
from .._model._dense import layout, solver_rows
from .._solvers import newton_cg

#: Largest model (in parameters) whose stream keeps a dense summary.
MAX_SUMMARY_PARAMS = 2048
#: Newton iterations per ``partial_fit`` call (fewer when converged).
NEWTON_ITER = 3
#: Newton iterations of a call that folds its window into the summary.
FOLD_ITER = 30


def auto_batch_size(n_params):
    """``batch_size="auto"``: ten rows per parameter, at least 2,000.

    The window's exact rows carry the nonlinearity the summary misses; with
    several rows per parameter the window's own optimum is close to the
    stream's, and each fold is made at a model that fits it.
    """
    return max(2000, 3 * n_params)


class Summary:
    """The quadratic :math:`c + \\frac12 \\theta^\\top A \\theta - b^\\top \\theta`.

    ``weight`` is the sum of the sample weights of the rows it stands for.
    """

    def __init__(self, A, b, c=0.0, weight=0.0):
        self.A, self.b, self.c, self.weight = A, b, float(c), float(weight)

    @classmethod
    def empty(cls, n_params):
        return cls(np.zeros((n_params, n_params)), np.zeros(n_params))

    def value_grad(self, theta):
        A_theta = self.A @ theta
        return self.c + 0.5 * theta @ A_theta - self.b @ theta, A_theta - self.b

    def plus(self, other):
        # New arrays, never in place: a copied stream shares them.
        return Summary(self.A + other.A, self.b + other.b, self.c + other.c,
                       self.weight + other.weight)


def dense_hessian(objective, X, y, sample_weight, params, *, n_outputs,
                  change_of_variables, fit_intercept, psd=False):
    r"""The Hessian of the rows' weighted loss sum at ``params``, formed.

    With :math:`u_t` a row in solver coordinates and :math:`S_t` the Hessian
    of its weighted loss in raw-prediction space (a ``n_outputs`` square
    block), it is :math:`\sum_t S_t \otimes u_t u_t^\top`, in the solver's
    layout (coefficients output by output, then the intercepts): the linear
    model's own formation (:func:`skdiv._model._dense.dense_hessian`).
    ``psd`` clips negative eigenvalues of each block (the Gaussian
    likelihood's blocks are indefinite away from its optimum).
    """
    k = n_outputs
    coordinates = ChangeOfVariables.from_tuple(change_of_variables)
    U = solver_rows(X, coordinates, fit_intercept)
    d = X.shape[1]
    raw = U[:, :d] @ params[: k * d].reshape(k, d).T
    if fit_intercept:
        raw = raw + params[k * d :]
    flat = raw[:, 0] if k == 1 else raw
    _, _, raw_hessian = objective.loss_gradient_hessian(y, flat, sample_weight)
    blocks = raw_hessian.sample_blocks(flat.shape)
    if psd:
        eigval, eigvec = np.linalg.eigh(0.5 * (blocks + blocks.transpose(0, 2, 1)))
        blocks = (eigvec * np.maximum(eigval, 0.0)[:, None, :]) @ eigvec.transpose(
            0, 2, 1
        )
    return formed_hessian(U, blocks, layout(k, d, fit_intercept))


def taylor_summary(objective, X, y, sample_weight, params, *, n_outputs,
                   change_of_variables, fit_intercept, psd=False):
    r"""The second-order expansion of the rows' weighted loss sum at ``params``.

    :math:`Q(\theta) = L + g^\top (\theta - \theta_0) + \frac12 (\theta -
    \theta_0)^\top A (\theta - \theta_0)` as a :class:`Summary`, with
    :math:`A` from :func:`dense_hessian`.
    """
    risk = linear_risk(
        objective, X, y, n_outputs=n_outputs, sample_weight=sample_weight,
        alpha=0.0, fit_intercept=fit_intercept, precondition=change_of_variables,
        weight_sum=1.0, sum_zero=False, hessian_stride=1,
    )
    value, grad = risk.loss_gradient(params)
    A = dense_hessian(
        objective, X, y, sample_weight, params, n_outputs=n_outputs,
        change_of_variables=change_of_variables, fit_intercept=fit_intercept,
        psd=psd,
    )
    b = A @ params - grad
    c = value - grad @ params + 0.5 * params @ A @ params
    return Summary(A, b, c, float(np.sum(sample_weight)))


def _fitted_prior(objective, X, y, sample_weight, params, risk, *, n_outputs,
                  alpha, change_of_variables, fit_intercept, psd):
    r"""The summary that stands for the data of a ``fit`` the stream continues.

    ``fit``'s rows are gone; the fitted model :math:`\theta_f` is their
    optimum. The prior is the quadratic with that optimum, weight
    :math:`w` that of the first call's rows, and their curvature at
    :math:`\theta_f`: gradient :math:`-w \alpha \nabla P(\theta_f)` (the
    data gradient at a penalised optimum), the rows' Hessian at
    :math:`\theta_f` and their loss there as its value. The stream then
    moves from the fitted model as far as its rows, weighed against as
    many fitted ones, ask.
    """
    rows = taylor_summary(
        objective, X, y, sample_weight, params, n_outputs=n_outputs,
        change_of_variables=change_of_variables, fit_intercept=fit_intercept,
        psd=psd,
    )
    grad = -rows.weight * alpha * risk.model.penalty(params)[1]
    A = rows.A
    # Its value at the fitted model: the rows' loss there.
    c = rows.value_grad(params)[0] + 0.5 * params @ A @ params - grad @ params
    return Summary(A, A @ params - grad, c, rows.weight)


def _masked(fun_hess, mask):
    """``fun_hess`` with the parameters at the zeros of ``mask`` held fixed.

    Their gradient is zeroed and their Hessian rows and columns replaced by
    the identity's: Newton steps never move them.
    """

    def wrapped(theta):
        value, grad, hessian = fun_hess(theta)
        return value, grad * mask, HessianOperator(
            lambda v: mask * hessian.matvec(mask * v) + (1.0 - mask) * v,
            dtype=np.float64, forcing_floor=hessian.forcing_floor,
        )

    return wrapped


def _preconditioned(fun_hess, factor, gradient_norm):
    r"""``fun_hess`` in coordinates :math:`\phi = L^\top \theta`, :math:`P = L L^\top`.

    Newton-CG there sees the Hessian :math:`L^{-1} H L^{-\top}`, close to the
    identity when :math:`P` is close to :math:`H`: CG in a few steps where
    the near-separable problems take dozens without it. The stopping
    measure is the original one, on :math:`g = L \tilde g`.
    """

    def to_theta(phi):
        return solve_triangular(factor, phi, lower=True, trans="T", check_finite=False)

    def pull(g):
        return solve_triangular(factor, g, lower=True, check_finite=False)

    def wrapped(phi):
        value, grad, hessian = fun_hess(to_theta(phi))
        return value, pull(grad), HessianOperator(
            lambda v: pull(hessian.matvec(to_theta(v))), dtype=np.float64,
            forcing_floor=hessian.forcing_floor,
        )

    return wrapped, to_theta, lambda g: gradient_norm(factor @ g)


class NewtonStream:
    """Window, summary and model of one stream (see the module docstring)."""

    kind = "newton"

    def __init__(self, params, change_of_variables, n_params, warm=False):
        self.params = np.array(params, dtype=np.float64)
        self.warm = warm  # params are a fitted model: seed the summary with it
        self.change_of_variables = change_of_variables
        self.summary = Summary.empty(n_params)
        self.window = ()  # tuples (X, target, sample_weight) of recent calls
        self.curvature = np.zeros((n_params, n_params))
        self.curvature_weight = 0.0
        self.n_iter = 0
        self.coef = None  # the coef_ array this stream last produced

    def _preconditioner(self, objective, X, target, sample_weight, total, risk, *,
                        n_outputs, alpha, fit_intercept, psd, mask=None):
        """Cholesky factor of the running curvature: CG's preconditioner.

        The mean Hessian per unit weight of the latest calls, each call's
        rows at the model it started from, older calls' halved at every
        call (the curvature of near-separable problems changes as the model
        grows), plus the penalty's. Only CG's speed depends on it, never
        the solution.
        """
        # Evenly spaced rows suffice for a preconditioner: about one per
        # parameter (the running mean adds the calls up).
        step = max(1, X.shape[0] // max(self.params.size, 200))
        if step > 1:
            X, target, sample_weight = X[::step], target[::step], sample_weight[::step]
        chunk = dense_hessian(
            objective, X, target, sample_weight, self.params, n_outputs=n_outputs,
            change_of_variables=self.change_of_variables,
            fit_intercept=fit_intercept, psd=psd,
        )
        self.curvature = 0.5 * self.curvature + chunk
        self.curvature_weight = 0.5 * self.curvature_weight + float(sample_weight.sum())
        P = self.curvature / max(self.curvature_weight, 1e-300)
        if alpha:
            P[np.diag_indices_from(P)] += alpha * risk.model.penalty_diagonal()
        if mask is not None:
            P = P * np.outer(mask, mask) + np.diag(1.0 - mask)
        # The softmax's shift direction (and empty features) have no curvature.
        P[np.diag_indices_from(P)] += 1e-8 * max(np.trace(P) / P.shape[0], 1e-300)
        return np.linalg.cholesky(P)

    @property
    def window_rows(self):
        return sum(part[0].shape[0] for part in self.window)

    def run(self, objective, X, target, sample_weight, *, n_outputs, alpha,
            fit_intercept, batch_size, tol, prepare=None, project=None,
            psd=False, mask=None):
        """One call: append the rows, Newton on :math:`\\Phi`, maybe fold.

        ``mask`` (ones and zeros) holds the parameters at its zeros fixed.
        ``prepare(X, target, sample_weight) -> (target, sample_weight)``
        makes the window's rows' targets and weights from those kept, at
        every call (the current class weights; the current mean of a
        two-stage fit); ``project`` maps the solution back to
        the set where the optimum lies (zero class sums).
        """
        self.window = self.window + ((X, target, sample_weight),)
        if prepare is None:
            def prepare(X, y, w):
                return y, w
        parts = [prepare(*part) for part in self.window]
        Xw = _stack([part[0] for part in self.window])
        yw = np.concatenate([p[0] for p in parts])
        sw = np.concatenate([p[1] for p in parts])
        total = self.summary.weight + float(sw.sum())
        if not total > 0:
            return
        risk = linear_risk(
            objective, Xw, yw, n_outputs=n_outputs, sample_weight=sw, alpha=alpha,
            fit_intercept=fit_intercept, precondition=self.change_of_variables,
            weight_sum=total, sum_zero=False, hessian_stride=1,
        )
        if self.warm:
            self.warm = False
            self.summary = _fitted_prior(
                objective, X, *parts[-1], self.params, risk, n_outputs=n_outputs,
                alpha=alpha, change_of_variables=self.change_of_variables,
                fit_intercept=fit_intercept, psd=psd,
            )
            total += self.summary.weight
            risk.weight_sum = total
        summary = self.summary
        summary_diagonal = np.diag(summary.A) / total

        def fun_hess(theta):
            value, grad, hessian = risk.loss_gradient_hessian(theta)
            if not summary.weight:
                return value, grad, hessian
            q_value, q_grad = summary.value_grad(theta)
            A = summary.A

            def matvec(v):
                return hessian.matvec(v) + (A @ v) / total

            def diagonal():
                return hessian.diagonal() + summary_diagonal

            return value + q_value / total, grad + q_grad / total, HessianOperator(
                matvec, dtype=np.float64, forcing_floor=hessian.forcing_floor,
                diagonal=diagonal if hessian.has_diagonal else None,
            )

        if mask is not None:
            fun_hess = _masked(fun_hess, mask)
        # The rows are folded at the model found here, and the summary keeps
        # that model's error: those calls solve to the end.
        fold = Xw.shape[0] >= batch_size
        factor = self._preconditioner(
            objective, X, *parts[-1], total, risk, n_outputs=n_outputs,
            alpha=alpha, fit_intercept=fit_intercept, psd=psd, mask=mask,
        )
        solve, to_theta, norm = _preconditioned(fun_hess, factor, risk.gradient_norm)
        with warnings.catch_warnings():
            # A few iterations per call, by design: the stream goes on.
            warnings.simplefilter("ignore", ConvergenceWarning)
            phi, n_iter = newton_cg(
                solve, factor.T @ self.params,
                max_iter=FOLD_ITER if fold else NEWTON_ITER, tol=tol,
                gradient_norm=norm,
            )
        params = to_theta(phi)
        if project is not None:
            params = project(params)
        self.params = params
        self.n_iter += n_iter
        self.objective = fun_hess(params)[0]
        if fold:
            self.summary = summary.plus(taylor_summary(
                objective, Xw, yw, sw, params, n_outputs=n_outputs,
                change_of_variables=self.change_of_variables,
                fit_intercept=fit_intercept, psd=psd,
            ))
            self.window = ()


def _stack(blocks):
    if len(blocks) == 1:
        return blocks[0]
    if sp.issparse(blocks[0]):
        return sp.vstack(blocks, format="csr")
    return np.vstack(blocks)


class TwoStageStream:
    """The regressor's two stages, each a :class:`NewtonStream`.

    The mean by least squares on the standardised target (its summary is
    exact: the mean is the penalised least-squares fit of every row seen,
    at every call); then either the constant log-variance, the log of the
    weighted mean squared residual of every row seen (exact too: twice the
    mean stream's objective less its penalty, plus the running weighted
    mean of :math:`\\tilde\\tau_i^2` for the KL divergence), or the
    heteroscedastic log-variance head by Newton on the likelihood with the
    current mean held fixed (the window's rows take the current mean at
    every call; the summary keeps each row's residual of its fold).
    """

    kind = "two-stage"

    def __init__(self, mean, variance, change_of_variables):
        self.mean = mean
        self.variance = variance  # None: constant variance
        self.change_of_variables = change_of_variables
        self.params = mean.params  # the size "auto" batch sizes look at
        self.tau2_sum = 0.0
        self.n_iter = 0
        self.coef = None

    def __copy__(self):
        # The stages are updated by their runs: a copy owns its own.
        other = TwoStageStream.__new__(TwoStageStream)
        other.__dict__.update(self.__dict__)
        other.mean = copy.copy(self.mean)
        other.variance = None if self.variance is None else copy.copy(self.variance)
        return other
