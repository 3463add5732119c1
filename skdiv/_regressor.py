"""Linear Gaussian regression fitted by NLL, KL divergence or least squares."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.stats
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _dask, _stochastic
from ._adapter import ZeroInterceptConstraint, linear_risk
from ._loss import (
    LOG_VAR_LIMIT,
    GaussianKL,
    GaussianNLL,
    LogVarianceHead,
    with_fixed_mean,
)
from ._model._kernels import row_blocks
from ._scale._dask_model import dask_linear_risk, is_dask_array
from ._solvers import minimize

# Cap on the refits of the beta-NLL fixed point, and the number of previous
# refits its Anderson acceleration combines.
_BETA_MAX_OUTER = 100
_ANDERSON_MEMORY = 5


def _weighted_mean(values, sample_weight):
    return float(np.average(values, weights=sample_weight))


def _ridge_normal_equations(X, target, sample_weight, x_mean, alpha):
    r"""Penalised weighted least squares for dense, tall ``X``, without copying it.

    Solves :math:`(X_c^\top S X_c + \lambda I) w = X_c^\top S t` with
    :math:`X_c = X - \bar x`, :math:`\lambda = \alpha \sum_i s_i`, the Gram
    matrix accumulated over row blocks and factored by ``eigh``
    (pseudo-inverse when :math:`\lambda = 0` and :math:`X_c` is rank
    deficient, giving the minimum-norm solution as ``LinearRegression``). One
    step of iterative refinement on the true residual recovers the digits
    that forming the Gram matrix loses.
    """
    n_samples, n_features = X.shape
    sw_sum = sample_weight.sum()
    gram = np.zeros((n_features, n_features))
    for rows in row_blocks(n_samples, n_features):
        block = X[rows]
        gram += block.T @ (block * sample_weight[rows, None])
    gram -= sw_sum * np.outer(x_mean, x_mean)
    gram[np.diag_indices_from(gram)] += alpha * sw_sum
    eigval, eigvec = np.linalg.eigh((gram + gram.T) / 2)
    cutoff = np.finfo(np.float64).eps * n_samples * max(eigval.max(), 0.0)
    inverse = np.where(eigval > cutoff, 1.0 / np.where(eigval > 0, eigval, 1.0), 0.0)

    def solve(rhs):
        return eigvec @ (inverse * (eigvec.T @ rhs))

    def normal_residual(coef):
        residual = sample_weight * (target - (X @ coef - x_mean @ coef))
        return X.T @ residual - x_mean * residual.sum() - alpha * sw_sum * coef

    coef = solve(normal_residual(np.zeros(n_features)))
    return coef + solve(normal_residual(coef))


def _penalised_least_squares(X, y, sample_weight, alpha, fit_intercept):
    r"""Closed-form minimiser of the penalised weighted squared error.

    Minimises :math:`\frac{1}{2S}\sum_i s_i (y_i - x_i w - b)^2 +
    \frac{\alpha}{2}\lVert w \rVert^2` with :math:`S = \sum_i s_i`, i.e.
    ``Ridge(alpha=alpha * S)``. Dense, tall ``X`` (at least four rows per
    feature): normal equations, see :func:`_ridge_normal_equations`. Other
    dense ``X``: least squares on the augmented,
    weighted, centred system (minimum-norm solution when ``alpha == 0``, as
    ``LinearRegression``). Sparse ``X``: normal equations built with sparse
    products, centring applied to the Gram matrix so ``X`` is never densified.

    Returns ``(coef, intercept)``.
    """
    n_features = X.shape[1]
    sw_sum = sample_weight.sum()
    if fit_intercept:
        x_mean = np.asarray(X.T @ sample_weight).ravel() / sw_sum
        y_mean = _weighted_mean(y, sample_weight)
    else:
        x_mean = np.zeros(n_features)
        y_mean = 0.0
    if n_features == 0:
        return np.zeros(0), y_mean
    if sp.issparse(X):
        weighted_x = X.multiply(sample_weight[:, None]).tocsr()
        gram = np.asarray((X.T @ weighted_x).toarray(), dtype=np.float64)
        gram -= sw_sum * np.outer(x_mean, x_mean)
        rhs = np.asarray(weighted_x.T @ y).ravel() - sw_sum * x_mean * y_mean
        if alpha > 0:
            gram[np.diag_indices_from(gram)] += alpha * sw_sum
            coef = scipy.linalg.solve(gram, rhs, assume_a="pos")
        else:
            coef = scipy.linalg.lstsq(gram, rhs)[0]
    elif X.shape[0] >= 4 * n_features:
        coef = _ridge_normal_equations(X, y - y_mean, sample_weight, x_mean, alpha)
    else:
        root_w = np.sqrt(sample_weight)
        design = (X - x_mean) * root_w[:, None]
        target = (y - y_mean) * root_w
        if alpha > 0:
            design = np.vstack([design, np.sqrt(alpha * sw_sum) * np.eye(n_features)])
            target = np.concatenate([target, np.zeros(n_features)])
        coef = scipy.linalg.lstsq(design, target)[0]
    return coef, y_mean - float(x_mean @ coef)


class GaussianRegressor(RegressorMixin, BaseEstimator):
    r"""Linear regression of a Gaussian mean and (log-)variance.

    The model predicts, for each sample, a normal distribution
    :math:`N(\mu_i, \sigma_i^2)` with a mean linear in the features and a
    log-variance that is either linear in the features too
    (``variance="heteroscedastic"``) or a single learned constant
    (``variance="constant"``):

    .. math::

        \mu_i = x_i^\top w + b, \qquad
        \log \sigma_i^2 = x_i^\top v + c .

    Fitting works on the internally standardised target
    :math:`\tilde y_i = (y_i - \bar y)/s_y` (weighted mean :math:`\bar y`,
    only with ``fit_intercept``, and weighted standard deviation :math:`s_y`
    about it) and minimises

    .. math::

        F = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell_i
            + \frac{\alpha}{2}\left(\lVert \tilde w \rVert^2
            + \lVert v \rVert^2\right),

    with :math:`s_i` the sample weights, :math:`\tilde w = w / s_y` the mean
    coefficients in standardised units (:math:`s_y = 1` for a constant
    target) and :math:`\ell_i` the per-sample loss, in which
    :math:`\mu_i` and :math:`\sigma_i^2` are the predictions in standardised
    units too:

    * ``loss="gaussian_nll"``: the Gaussian negative log-likelihood
      :math:`\ell_i = \tfrac12\left(\log 2\pi\sigma_i^2
      + (\tilde y_i - \mu_i)^2/\sigma_i^2\right)`, mean and variance fitted
      jointly.
    * ``loss="kl_divergence"``: targets are distributions
      :math:`N(y_i, \tau_i^2)` given by ``fit(X, y, y_std=tau)`` and
      :math:`\ell_i = \mathrm{KL}(N(y_i, \tau_i^2) \,\|\, N(\mu_i,
      \sigma_i^2))`; it is the NLL with the squared residual replaced by
      :math:`(\tilde y_i - \mu_i)^2 + \tilde\tau_i^2`, so the fitted variance
      also accounts for the target's own variance, and it tends to the NLL
      fit as :math:`\tau_i \to 0`.
    * ``loss="squared_error"``: two stages. The mean by penalised least
      squares, then the variance by maximum likelihood with the mean held
      fixed (the NLL above minimised over :math:`v, c` only).

    With ``variance="constant"`` every loss first fits the mean by penalised
    weighted least squares in closed form and then sets the variance to its
    maximum-likelihood value given that mean, the weighted mean squared
    residual (plus the weighted mean of :math:`\tau_i^2` for
    ``kl_divergence``). For ``alpha=0`` this is the joint NLL minimiser; for
    ``alpha > 0`` it is the NLL minimiser over the variance at the
    penalised-least-squares mean. So ``gaussian_nll`` and ``squared_error``
    give the same constant-variance model, and its mean coefficients are
    those of :class:`~sklearn.linear_model.LinearRegression` (``alpha=0``) or
    of ``Ridge(alpha=alpha * sample_weight.sum())`` fitted on the raw data
    (``Ridge`` is equivariant to the scale of ``y``, so the standardisation
    does not change the conversion; without ``sample_weight`` the sum is
    ``n_samples``).

    With ``variance="heteroscedastic"`` the fit starts from that
    constant-variance model and refines it with the ``solver``.

    Parameters
    ----------
    loss : {"gaussian_nll", "squared_error", "kl_divergence"}, default="gaussian_nll"
        Loss minimised; see above.

    variance : {"heteroscedastic", "constant"}, default="heteroscedastic"
        Whether the log-variance is linear in the features or a constant.

    alpha : float, default=1e-4
        L2 penalty on the mean coefficients (in standardised target units)
        and on the log-variance coefficients; intercepts are not penalised.
        The matching ``Ridge`` penalty for the mean is
        ``alpha * sample_weight.sum()``.

    fit_intercept : bool, default=True
        Whether the mean has an intercept. The log-variance always has one
        (it is the constant variance when its coefficients are zero).

    min_std : float, default=1e-6
        Floor on the predicted standard deviation, relative to the scale of
        the training target: no fit or prediction goes below
        ``min_std * s_y`` (stored in target units as ``std_floor_``). It is
        the lower clip bound of the log-variance during fitting, and it keeps
        the likelihood bounded when a subset of samples can be fitted exactly.
        Being relative, it makes fits exactly equivariant to the scale of
        ``y``.

    beta : float in [0, 1], default=0.0
        The beta-NLL weighting of Seitzer et al. (ICLR 2022): each sample's
        loss is weighted by :math:`\operatorname{stop\_grad}(\sigma_i^{2\beta})`.
        ``beta=0`` is the plain NLL. In heteroscedastic fits the plain NLL
        can neglect the mean fit where the predicted variance is large
        (residuals there are down-weighted by :math:`1/\sigma_i^2`); ``beta``
        between 0 and 1 trades that off (``beta=1`` gives the mean the
        least-squares gradient), ``beta=0.5`` is a common choice. Computed
        by a fixed point: freeze the weights :math:`s_i \sigma_i^{2\beta}`,
        refit from the previous solution, update the weights,
        until a refit changes no coefficient by more than ``tol`` (at most
        100 re-weightings, else a
        :class:`~sklearn.exceptions.ConvergenceWarning`);
        the iteration is Anderson-accelerated, since on misspecified models
        the plain one can converge very slowly. ``n_iter_`` sums the solver
        iterations of all refits. On degenerate data (few samples per
        parameter) the re-weighting can run away, each refit giving ever
        more weight to the samples it predicts to be noisiest; the fit then
        stops with a ``ConvergenceWarning`` at the last iterate whose
        variances stay bounded, or as soon as a refit cannot converge because
        the weighted likelihood has no optimum (samples fitted exactly).
        It has no effect with ``variance="constant"`` and is rejected with
        ``loss="squared_error"``, whose mean is least squares already.

    solver : {"auto", "newton-cg", "lbfgs"}, default="auto"
        Solver of the heteroscedastic fits. ``"newton-cg"``: truncated
        Newton with exact Hessian-vector products (negative curvature, which
        the NLL has away from its optimum, is handled by the CG
        truncation); ``"lbfgs"``: quasi-Newton. ``"auto"`` is
        ``"newton-cg"``. Both work in the same preconditioned coordinates
        and stop on the same criterion.

    max_iter : int, default=1000
        Maximum number of solver iterations per solve.

    tol : float, default=1e-6
        The solver stops when the max-norm of the gradient of :math:`F` is at
        most ``tol``; the beta-NLL fixed point stops when no coefficient (in
        standardised units) changes by more than ``tol``.

    verbose : int, default=0
        Print solver progress when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Mean coefficients :math:`w`, in target units.

    intercept_ : float
        Mean intercept :math:`b` (0.0 when ``fit_intercept=False``).

    var_coef_ : ndarray of shape (n_features,)
        Log-variance coefficients :math:`v` (zeros for constant variance).

    var_intercept_ : float
        Log-variance intercept :math:`c`, for the variance in squared target
        units (the standardised intercept shifted by :math:`2 \log s_y`).

    std_floor_ : float
        The floor ``min_std * s_y`` on the predicted standard deviation, in
        target units.

    objective_ : float
        Value of :math:`F` (with the loss of ``loss``; the NLL for
        ``squared_error``; without beta weights) at the fitted parameters,
        in standardised target units.

    n_iter_ : int
        Iterations run: 1 for the closed-form least-squares step plus the
        solver iterations (summed over stages and beta-NLL outer iterations).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.BayesianRidge : Bayesian linear regression with a
        predictive standard deviation from parameter uncertainty.

    Notes
    -----
    ``score`` is the :math:`R^2` of the mean, as for every scikit-learn
    regressor.

    The heteroscedastic likelihood is unbounded when some samples can be
    fitted exactly (few samples per parameter): their predicted variance
    collapses to the floor ``std_floor_ ** 2`` and the fit may need many
    iterations. A larger ``alpha`` regularises the log-variance head in that
    regime.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv import GaussianRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(2000, 1))
    >>> y = 2 * X[:, 0] + rng.normal(size=2000) * np.exp(X[:, 0])
    >>> reg = GaussianRegressor().fit(X, y)
    >>> round(float(reg.coef_[0]), 1), round(float(reg.var_coef_[0]), 1)
    (2.0, 2.0)
    >>> mean, std = reg.predict([[0.0], [1.0]], return_std=True)
    >>> np.round(std, 1)
    array([1. , 2.8])
    >>> reg.predict_interval([[0.0]], coverage=0.9).round(1)
    array([[-1.6,  1.6]])
    """

    _parameter_constraints = {
        "loss": [StrOptions({"gaussian_nll", "squared_error", "kl_divergence"})],
        "variance": [StrOptions({"heteroscedastic", "constant"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "min_std": [Interval(Real, 0, 1, closed="neither")],
        "beta": [Interval(Real, 0, 1, closed="both")],
        "solver": [StrOptions({"auto", "newton-cg", "lbfgs"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        loss="gaussian_nll",
        *,
        variance="heteroscedastic",
        alpha=1e-4,
        fit_intercept=True,
        min_std=1e-6,
        beta=0.0,
        solver="auto",
        max_iter=1000,
        tol=1e-6,
        verbose=0,
    ):
        self.loss = loss
        self.variance = variance
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.min_std = min_std
        self.beta = beta
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, y_std=None):
        """Fit the mean and variance model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target values (the target means for ``loss="kl_divergence"``).

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to repeating
            rows.

        y_std : array-like of shape (n_samples,), default=None
            Standard deviations :math:`\\tau_i > 0` of the target
            distributions. Required with ``loss="kl_divergence"`` and
            refused (``ValueError``) with the other losses, whose targets
            are points. Routable as fit metadata (``set_fit_request``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # Dask arrays: exact fit, block by block on the workers (skdiv._dask).
        if _dask.is_dask_array(X):
            return _dask.fit_regressor(self, X, y, sample_weight, y_std)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        y_std = self._check_y_std(y_std, y)

        # Standardise the target so that the solver, the penalty and the
        # log-variance bounds see a target of unit scale whatever its units.
        y_offset = _weighted_mean(y, sample_weight) if self.fit_intercept else 0.0
        y_scale = np.sqrt(_weighted_mean((y - y_offset) ** 2, sample_weight))
        if not y_scale > 0:
            y_scale = 1.0
        y_tilde = (y - y_offset) / y_scale
        if y_std is None:
            objective = GaussianNLL(2.0 * np.log(self.min_std), LOG_VAR_LIMIT)
            target = y_tilde
        else:
            objective = GaussianKL(2.0 * np.log(self.min_std), LOG_VAR_LIMIT)
            target = np.column_stack([y_tilde, y_std / y_scale])

        coef, intercept = _penalised_least_squares(
            X, y_tilde, sample_weight, self.alpha, self.fit_intercept
        )
        residual = y_tilde - (X @ coef + intercept)
        second_moment = residual**2
        if y_std is not None:
            second_moment = second_moment + target[:, 1] ** 2
        variance = max(_weighted_mean(second_moment, sample_weight), self.min_std**2)
        var_coef = np.zeros_like(coef)
        var_intercept = float(np.log(variance))
        n_iter = 1

        if self.variance == "heteroscedastic":
            if self.loss == "squared_error":
                var_coef, var_intercept, n_lbfgs = self._fit_log_variance(
                    X,
                    target,
                    sample_weight,
                    objective,
                    X @ coef + intercept,
                    var_intercept,
                )
            else:
                (coef, var_coef), (intercept, var_intercept), n_lbfgs = self._fit_joint(
                    X,
                    target,
                    sample_weight,
                    objective,
                    np.vstack([coef, var_coef]),
                    [intercept, var_intercept],
                )
            n_iter += n_lbfgs

        raw = np.column_stack([X @ coef + intercept, X @ var_coef + var_intercept])
        self.objective_ = float(
            objective.loss(target, raw, sample_weight).sum() / sample_weight.sum()
            + 0.5 * self.alpha * (coef @ coef + var_coef @ var_coef)
        )
        self._set_solution(coef, intercept, var_coef, var_intercept, y_offset, y_scale)
        self.n_iter_ = n_iter
        return self

    def _set_solution(self, coef, intercept, var_coef, var_intercept, offset, scale):
        """Store a solution found on the standardised target in target units.

        Shared by :meth:`fit`, the Dask path and :meth:`partial_fit`: the
        mean scales by ``scale`` and shifts by ``offset``, the log-variance
        intercept shifts by ``2 log scale``.
        """
        log_scale2 = 2.0 * np.log(scale)
        self.coef_ = coef * scale
        self.intercept_ = float(offset + scale * intercept)
        self.var_coef_ = np.asarray(var_coef, dtype=np.float64)
        self.var_intercept_ = float(var_intercept + log_scale2)
        self.std_floor_ = float(self.min_std * scale)
        self._log_var_bounds = (
            2.0 * np.log(self.min_std) + log_scale2,
            LOG_VAR_LIMIT + log_scale2,
        )

    def _check_beta(self):
        if self.loss == "squared_error" and self.beta > 0:
            raise ValueError(
                "beta > 0 weights the joint mean-variance fit of "
                "loss='gaussian_nll' or 'kl_divergence'; loss='squared_error' "
                f"fits the mean by least squares already. Got beta={self.beta}."
            )

    def _check_y_std(self, y_std, y):
        """Validate ``y_std`` against ``loss`` (and ``beta`` against ``loss``)."""
        self._check_beta()
        if self.loss != "kl_divergence":
            if y_std is not None:
                raise ValueError(
                    f"y_std is only used with loss='kl_divergence'; "
                    f"loss={self.loss!r} fits point targets. Drop y_std or "
                    "use loss='kl_divergence'."
                )
            return None
        if y_std is None:
            raise ValueError(
                "loss='kl_divergence' needs the standard deviation of each "
                "target distribution: call fit(X, y, y_std=...)."
            )
        y_std = check_array(
            y_std, ensure_2d=False, dtype=np.float64, input_name="y_std"
        )
        if y_std.ndim != 1:
            raise ValueError(
                f"y_std must be 1-D of shape (n_samples,), got shape {y_std.shape}."
            )
        check_consistent_length(y, y_std)
        if np.any(y_std <= 0):
            raise ValueError("y_std must be strictly positive.")
        return y_std

    def _fit_log_variance(self, X, target, sample_weight, objective, mean, start):
        """Second stage of ``squared_error``: log-variance head, mean fixed."""
        problem = linear_risk(
            LogVarianceHead(objective),
            X,
            with_fixed_mean(np, target, mean),
            n_outputs=1,
            sample_weight=sample_weight,
            alpha=self.alpha,
            fit_intercept=True,
        )
        x0 = problem.pack(np.zeros((1, X.shape[1])), [start])
        params, n_iter = minimize(
            problem,
            x0,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        coef, intercept = problem.unpack(params)
        return coef[0], float(intercept[0]), n_iter

    def _joint_problem(self, X, target, weights, objective):
        make_risk = dask_linear_risk if is_dask_array(X) else linear_risk
        problem = make_risk(
            objective,
            X,
            target,
            n_outputs=2,
            sample_weight=weights,
            alpha=self.alpha,
            fit_intercept=True,
        )
        return problem if self.fit_intercept else ZeroInterceptConstraint(problem)

    def _fit_joint(self, X, target, sample_weight, objective, coef, intercept):
        """Mean and log-variance jointly by L-BFGS, with the beta-NLL loop.

        ``coef`` (2, n_features) and ``intercept`` (2,) are the start, in
        original coordinates. With ``beta > 0`` the fit is the fixed point
        of ``T``: freeze the weights at the current variances, refit. The
        parameters are carried between refits in original coordinates,
        since each re-weighting changes the adapter's preconditioning and so
        the solver coordinates. The plain iteration converges linearly, at
        a rate that can be close to 1 when the model is misspecified, so it
        is Anderson-accelerated (the next point is the combination of the
        last few ``T`` images whose residuals ``T(theta) - theta`` combine
        to the least norm; restarted whenever the residual grows, and
        dropped for the plain step when its refit diverges).
        """
        n_features = X.shape[1]

        def refit(theta):
            coef, intercept = theta[:-2].reshape(2, n_features), theta[-2:]
            weights = sample_weight
            if self.beta > 0:
                log_var = np.clip(
                    X @ coef[1] + intercept[1], objective.log_var_min, LOG_VAR_LIMIT
                )
                # Shifted by the max: the objective's normalisation by the sum
                # of the weights makes the common factor irrelevant.
                weights = sample_weight * np.exp(self.beta * (log_var - log_var.max()))
            problem = self._joint_problem(X, target, weights, objective)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                params, n_iter = minimize(
                    problem,
                    problem.pack(coef, intercept),
                    solver=self.solver,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    verbose=self.verbose,
                )
            converged = True
            for warning in caught:
                if self.beta > 0 and issubclass(warning.category, ConvergenceWarning):
                    # Reported once, by the re-weighting loop below.
                    converged = False
                else:
                    warnings.warn_explicit(
                        warning.message, warning.category, warning.filename,
                        warning.lineno,
                    )
            coef, intercept = problem.unpack(params)
            return np.concatenate([coef.ravel(), intercept]), n_iter, converged

        def diverged(theta):
            # Above the upper clip bound the objective is flat in the
            # log-variance, so such points are spurious fixed points.
            return np.any(X @ theta[n_features:-2] + theta[-1] > LOG_VAR_LIMIT)

        theta = np.concatenate([np.ravel(coef), np.asarray(intercept, dtype=float)])
        image, n_iter, converged = refit(theta)
        if self.beta > 0:
            images, residuals = [], []
            message = None
            for _ in range(_BETA_MAX_OUTER - 1):
                if not converged:
                    # The weighted likelihood has no finite optimum here
                    # (samples fitted exactly): re-weighting cannot help.
                    message = (
                        "stopped: a weighted refit did not converge, as happens "
                        "when samples can be fitted exactly and the likelihood "
                        "is unbounded; a larger alpha helps"
                    )
                    break
                residual = image - theta
                change = np.max(np.abs(residual))
                if change <= self.tol:
                    break
                if residuals and change > np.max(np.abs(residuals[-1])):
                    images, residuals = [], []
                images = [*images[-_ANDERSON_MEMORY:], image]
                residuals = [*residuals[-_ANDERSON_MEMORY:], residual]
                if len(images) > 1:
                    d_residual = np.diff(residuals, axis=0).T
                    gamma = scipy.linalg.lstsq(d_residual, residual)[0]
                    extrapolated = image - np.diff(images, axis=0).T @ gamma
                    candidate, n_last, converged = refit(extrapolated)
                    n_iter += n_last
                    if not diverged(candidate):
                        theta, image = extrapolated, candidate
                        continue
                    images, residuals = [image], [residual]
                candidate, n_last, converged = refit(image)
                n_iter += n_last
                if diverged(candidate):
                    message = (
                        "diverged: the re-weighted fit drives predicted "
                        "variances to the upper bound. The last iterate before "
                        "that is kept; a smaller beta or a larger alpha helps"
                    )
                    break
                theta, image = image, candidate
            else:
                change = np.max(np.abs(image - theta))
                if change > self.tol:
                    message = (
                        f"did not converge in {_BETA_MAX_OUTER} re-weightings: the "
                        f"coefficients still change by {change:.3g} > tol={self.tol:g}"
                    )
            if message is not None:
                warnings.warn(
                    f"The beta-NLL re-weighting (beta={self.beta}) {message}.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        coef, intercept = image[:-2].reshape(2, n_features), image[-2:]
        if not self.fit_intercept:
            intercept[0] = 0.0
        return coef, intercept, n_iter

    # ---------------------------------------------------------- partial_fit
    # Streaming: one pass of Adam over the rows given (skdiv._stochastic).
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, y_std=None):
        """Update the model with one pass of Adam over ``X`` in mini-batches.

        The same model as :meth:`fit`, found by a stochastic optimiser over
        a stream of batches: repeated calls on (shuffled) batches converge
        to the model ``fit`` finds on their union. The target is
        standardised, and the floor ``min_std`` set, with the weighted mean
        and standard deviation of the first batch's ``y``; the schedule
        (Adam, step size :math:`0.3/\\sqrt{t}`, mini-batches of 128 rows,
        averaged iterates) is described in the user guide
        (:doc:`/scaling`). Called after :meth:`fit`, it continues from the
        fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data; its rows are used in the order given.
        y : array-like of shape (n_samples,)
            Target values (the target means for ``loss="kl_divergence"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.
        y_std : array-like of shape (n_samples,), default=None
            Standard deviations of the target distributions; required with
            ``loss="kl_divergence"``, as in :meth:`fit`.

        Returns
        -------
        self : GaussianRegressor
            The updated estimator.
        """
        return _stochastic.partial_fit_regressor(self, X, y, sample_weight, y_std)

    # -------------------------------------------------------------- predict
    def _mean_log_var(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        mean = np.asarray(X @ self.coef_).ravel() + self.intercept_
        log_var = np.asarray(X @ self.var_coef_).ravel() + self.var_intercept_
        return mean, np.clip(log_var, *self._log_var_bounds)

    def predict(self, X, return_std=False):
        """Predict the mean, and optionally the standard deviation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        return_std : bool, default=False
            Also return the predicted standard deviation (the
            :class:`~sklearn.linear_model.BayesianRidge` convention).

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
            Predicted mean.

        y_std : ndarray of shape (n_samples,)
            Predicted standard deviation, at least ``std_floor_``; only when
            ``return_std=True``.
        """
        mean, log_var = self._mean_log_var(X)
        if return_std:
            return mean, np.exp(0.5 * log_var)
        return mean

    def predict_interval(self, X, coverage=0.9):
        """Central prediction interval of the predicted normal distribution.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        coverage : float in (0, 1), default=0.9
            Probability mass inside the interval.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2)
            Lower and upper bounds, ``mean -+ norm.ppf((1 + coverage) / 2) *
            std``.
        """
        if not (isinstance(coverage, Real) and 0 < coverage < 1):
            raise ValueError(
                f"coverage must be a float in the open interval (0, 1), "
                f"got {coverage!r}."
            )
        mean, std = self.predict(X, return_std=True)
        half_width = scipy.stats.norm.ppf(0.5 + 0.5 * coverage) * std
        return np.column_stack([mean - half_width, mean + half_width])

    def predict_dist(self, X):
        """Predicted distributions as a frozen ``scipy.stats.norm``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        dist : scipy.stats frozen distribution
            ``scipy.stats.norm(loc=mean, scale=std)`` with arrays of shape
            ``(n_samples,)``, e.g. ``dist.logpdf(y)`` or ``dist.cdf(y)``.
        """
        mean, std = self.predict(X, return_std=True)
        return scipy.stats.norm(loc=mean, scale=std)
