"""The adapter between an objective and a linear model.

:class:`LinearObjective` owns everything that sits between the pointwise
objective of :mod:`skdiv._objectives` and the solvers of
:mod:`skdiv._solvers`: packing coefficients and intercepts into one flat
vector, the L2 penalty, the normalisation by the sum of sample weights, and a
change of variables that preconditions the problem. Solvers only ever see
``fun(params) -> (loss, grad)`` (and a Hessian-vector product).
"""

import numpy as np
import scipy.sparse as sp


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
    precondition : {"auto", "whiten", "diagonal", "none"}, default="auto"
        The change of variables: :math:`M = \operatorname{diag}(c)` as above
        (``"diagonal"``), the whitening :math:`M = (\Sigma + \alpha
        I)^{-1/2}` of the feature covariance :math:`\Sigma` (``"whiten"``,
        which also undoes correlations between features), or none.
        ``"auto"`` whitens up to 1000 features.
    """

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
    ):
        self.objective = objective
        self.X = X
        self.y = y
        self.n_outputs = n_outputs
        self.sample_weight = sample_weight
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        n_samples, n_features = X.shape
        self.n_features = n_features
        self.sw_sum = n_samples if sample_weight is None else sample_weight.sum()
        self._offset_scale(precondition)

    # ----------------------------------------------------- parametrisation
    def _offset_scale(self, precondition):
        """Choose the change of variables ``W = W' M``, ``b = b' - W mu``.

        ``M`` is ``diag(1 / std)`` (``"diagonal"``), or the symmetric
        ``(Cov + alpha I)^(-1/2)`` (``"whiten"``), computed from one
        eigendecomposition of the ``d x d`` covariance; the floor ``alpha``
        (plus a tiny relative one) keeps ``M`` bounded when features are
        redundant and ``Cov`` is singular. ``"auto"`` whitens when the
        covariance is cheap next to the fit (``n_features <= 1000``).
        """
        if precondition is True:
            precondition = "auto"
        n_features = self.n_features
        X, sw = self.X, self.sample_weight
        self.x_mean = np.zeros(n_features)
        self.x_scale = np.ones(n_features)
        self._whitener = self._whitener_inv = None
        if precondition in (False, None, "none"):
            return
        weights = None if sw is None else sw / self.sw_sum
        if sp.issparse(X):
            mean = np.asarray(X.mean(axis=0) if weights is None else X.T @ weights)
            mean = mean.ravel().astype(np.float64)
        else:
            mean = np.average(X, axis=0, weights=weights).astype(np.float64)
        centre = mean if self.fit_intercept else np.zeros(n_features)
        if precondition == "auto":
            precondition = "whiten" if n_features <= 1000 else "diagonal"
        if precondition == "whiten":
            if sp.issparse(X):
                Xw = X if weights is None else X.multiply(weights[:, None]).tocsr()
                second = np.asarray((X.T @ Xw).toarray(), dtype=np.float64)
                if weights is None:
                    second /= X.shape[0]
            else:
                Xw = X if weights is None else X * weights[:, None].astype(X.dtype)
                second = np.asarray(X.T @ Xw, dtype=np.float64)
                if weights is None:
                    second /= X.shape[0]
            cov = second - np.outer(centre, mean) - np.outer(mean, centre)
            cov += np.outer(centre, centre)
            eigval, eigvec = np.linalg.eigh((cov + cov.T) / 2)
            floor = self.alpha + 1e-10 * max(eigval.max(), 1e-300)
            eigval = np.maximum(eigval, 0.0) + floor
            self._whitener = (eigvec / np.sqrt(eigval)) @ eigvec.T
            self._whitener_inv = (eigvec * np.sqrt(eigval)) @ eigvec.T
        else:
            if sp.issparse(X):
                sq = X.multiply(X)
                sq = np.asarray(sq.mean(axis=0) if weights is None else sq.T @ weights)
                var = np.maximum(sq.ravel() - mean**2, 0.0)
            else:
                var = np.average((X - mean) ** 2, axis=0, weights=weights)
            std = np.sqrt(var)
            # A constant column keeps scale 1: nothing to gain, nothing to break.
            tiny = 1e-12 * max(1.0, np.abs(mean).max(initial=0))
            self.x_scale = np.where(std > tiny, 1.0 / np.where(std > 0, std, 1.0), 1.0)
        self.x_mean = centre

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
        return self.n_outputs * (self.n_features + int(self.fit_intercept))

    def unpack(self, params):
        """Solver parameters -> ``(coef, intercept)`` in original coordinates.

        ``coef`` has shape ``(n_outputs, n_features)`` and ``intercept``
        ``(n_outputs,)`` (zeros without an intercept).
        """
        k, d = self.n_outputs, self.n_features
        coef = self._solver_to_coef(params[: k * d].reshape(k, d))
        if self.fit_intercept:
            intercept = params[k * d :] - coef @ self.x_mean
        else:
            intercept = np.zeros(k)
        return coef, intercept

    def pack(self, coef, intercept=None):
        """``(coef, intercept)`` in original coordinates -> solver parameters."""
        coef = np.asarray(coef, dtype=np.float64).reshape(self.n_outputs, -1)
        parts = [self._coef_to_solver(coef).ravel()]
        if self.fit_intercept:
            intercept = np.zeros(self.n_outputs) if intercept is None else intercept
            parts.append(np.asarray(intercept, dtype=np.float64) + coef @ self.x_mean)
        return np.concatenate(parts)

    def _pullback(self, grad_coef, grad_intercept):
        """Gradient in (coef, intercept) -> gradient in solver parameters.

        The transpose of the Jacobian of :meth:`unpack`; ``M`` is symmetric.
        """
        if self.fit_intercept:
            grad_coef = grad_coef - np.outer(grad_intercept, self.x_mean)
        parts = [self._solver_to_coef(grad_coef).ravel()]
        if self.fit_intercept:
            parts.append(grad_intercept)
        return np.concatenate(parts)

    def gradient_norm(self, grad):
        """Max-norm of a solver-space gradient in original coordinates.

        This is the stopping measure of every solver: the same number whether
        the problem is preconditioned or not.
        """
        k, d = self.n_outputs, self.n_features
        grad_coef = self._coef_to_solver(grad[: k * d].reshape(k, d))
        norm = 0.0
        if self.fit_intercept:
            grad_intercept = grad[k * d :]
            grad_coef = grad_coef + np.outer(grad_intercept, self.x_mean)
            norm = np.max(np.abs(grad_intercept), initial=0.0)
        return float(max(norm, np.max(np.abs(grad_coef), initial=0.0)))

    # --------------------------------------------------------- evaluation
    def raw_prediction(self, coef, intercept, X=None):
        """:math:`X W^\\top + b`, 1-D when there is one output."""
        X = self.X if X is None else X
        raw = X @ coef.T.astype(X.dtype, copy=False)
        raw = np.asarray(raw, dtype=np.float64) + intercept
        return raw[:, 0] if self.n_outputs == 1 else raw

    def _backward(self, grad_raw, coef):
        """Raw-space gradient (already weighted) -> (grad_coef, grad_intercept)."""
        X = self.X
        grad_raw_2d = grad_raw[:, None] if grad_raw.ndim == 1 else grad_raw
        grad_coef = np.asarray(
            X.T @ grad_raw_2d.astype(X.dtype, copy=False), dtype=np.float64
        ).T
        grad_coef /= self.sw_sum
        grad_intercept = grad_raw_2d.sum(axis=0) / self.sw_sum
        return grad_coef, grad_intercept

    def loss_gradient(self, params):
        """Objective value and gradient with respect to the solver parameters."""
        coef, intercept = self.unpack(params)
        raw = self.raw_prediction(coef, intercept)
        loss, grad_raw = self.objective.loss_gradient(
            self.y, raw, self.sample_weight
        )
        grad_coef, grad_intercept = self._backward(grad_raw, coef)
        grad_coef += self.alpha * coef
        value = loss.sum() / self.sw_sum + 0.5 * self.alpha * np.vdot(coef, coef)
        return float(value), self._pullback(grad_coef, grad_intercept)

    def loss(self, params):
        """Objective value at ``params``."""
        return self.loss_gradient(params)[0]

    def gradient_hessian_product(self, params):
        """Gradient and Hessian-vector product function at ``params``."""
        return self.loss_gradient_hessp(params)[1:]

    def loss_gradient_hessp(self, params):
        """Objective value, gradient and a Hessian-vector product function.

        All with respect to the solver parameters; the Hessian is
        :math:`J^\top \nabla^2 F J` for the linear change of variables
        :math:`J`, so Newton steps in either coordinates agree. One pass over
        the data computes all three; ``hessp`` costs two more products with
        ``X`` per call.
        """
        coef, intercept = self.unpack(params)
        raw = self.raw_prediction(coef, intercept)
        loss, grad_raw, hessp_raw = self.objective.loss_gradient_hessp(
            self.y, raw, self.sample_weight
        )
        grad_coef, grad_intercept = self._backward(grad_raw, coef)
        grad_coef += self.alpha * coef
        value = loss.sum() / self.sw_sum + 0.5 * self.alpha * np.vdot(coef, coef)

        def hessp(direction):
            v_coef, v_intercept = self.unpack(direction)
            v_raw = self.raw_prediction(v_coef, v_intercept)
            h_coef, h_intercept = self._backward(hessp_raw(v_raw), v_coef)
            h_coef += self.alpha * v_coef
            return self._pullback(h_coef, h_intercept)

        return float(value), self._pullback(grad_coef, grad_intercept), hessp
