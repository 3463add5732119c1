"""Linear Gaussian regression fitted by NLL, KL divergence or least squares."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from . import _gaussian_predictions
from ._compat import (
    CachedParamNames,
    DocLinkMixin,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from ._gaussian import fit_joint, fit_log_variance, warm_start_point
from ._loss import LOG_VAR_LIMIT
from ._scale import _dask, _stream
from ._targets import (
    GaussianSolution,
    check_sample_weight,
    check_y_std,
    constant_log_variance,
    penalised_least_squares,
    prepare_regression,
    target_scaling,
)
from ._threads import blas_threads
from ._validation import store_fitted, validate_fit_data


class GaussianRegressor(CachedParamNames, DocLinkMixin, RegressorMixin,
                        BaseEstimator):
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
        least-squares gradient), ``beta=0.5`` is a common choice. The fit
        is defined as the fixed point of re-weighting (freeze the weights
        :math:`s_i \sigma_i^{2\beta}`, refit :math:`F` with them), i.e. the
        parameters where :math:`\sum_i s_i \sigma_i^{2\beta} \nabla
        \ell_i / \sum_i s_i \sigma_i^{2\beta}` plus the penalty's gradient
        is zero. It is computed without refitting weighted likelihoods
        (which are unbounded when the weights concentrate on samples that can
        be fitted exactly, and whose iteration can run away): for
        :math:`\beta < 1` that condition is the stationarity of

        .. math::

            \sum_i s_i \left(\frac{\sigma_i^{2\beta} - 1}{2\beta}
            + \frac{(\tilde y_i - \mu_i)^2\, \sigma_i^{-2(1-\beta)}}
            {2(1-\beta)}\right)

        (penalised, with the mean coefficients' penalty scaled by
        :math:`1/(1-\beta)` and everything by the weights' mean), a function
        bounded below (each term is at least :math:`-1/(2\beta)`; minimised
        over :math:`\sigma_i` alone it is :math:`|\tilde y_i -
        \mu_i|^{2\beta} / (2\beta(1-\beta))` less that constant): the
        solver minimises it, then only the scalar weight normaliser is
        re-weighted, until no coefficient (standardised units) changes by
        more than ``tol`` (at most 50 re-weightings, else a
        :class:`~sklearn.exceptions.ConvergenceWarning` saying how far;
        with ``alpha=0`` one minimisation is the fit). ``beta=1`` gives the
        penalised least-squares mean and the log-variance minimising the
        convex :math:`\sum_i s_i (\sigma_i^2 - (\tilde y_i - \mu_i)^2
        \log \sigma_i^2)`. ``n_iter_`` sums the solver iterations.
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
        The solver stops when the max-norm of the gradient of :math:`F` (with
        respect to the intercepts and the coefficients of the standardised
        features, as in :class:`DivergenceClassifier`) is at most ``tol``;
        the beta-NLL re-weighting stops when no coefficient (in
        standardised units) changes by more than ``tol``.

    warm_start : bool, default=False
        Start the heteroscedastic solve of a refit from the previous
        solution (``coef_``, ``intercept_``, ``var_coef_``,
        ``var_intercept_``, converted to the new fit's standardised target)
        instead of the constant-variance model, when the number of features
        is the same; the optimum is the same, found in fewer iterations when
        the data changed little. No effect with ``variance="constant"``
        (closed form).

    verbose : int, default=0
        Print solver progress when positive.

    batch_size : int or "auto", default="auto"
        :meth:`partial_fit` only (not with ``beta > 0``): the rows kept
        exactly before they are folded into the stream's quadratic summary;
        ``"auto"`` is ``max(2000, 3 * n_params)``. See
        :ref:`scaling_partial_fit`.

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
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
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
        warm_start=False,
        verbose=0,
        batch_size="auto",
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
        self.warm_start = warm_start
        self.verbose = verbose
        self.batch_size = batch_size

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

        y_std : float or array-like of shape (n_samples,), default=None
            Standard deviations :math:`\\tau_i > 0` of the target
            distributions (a float: the same for every target). Required
            with ``loss="kl_divergence"`` and refused (``ValueError``) with
            the other losses, whose targets are points. Routable as fit
            metadata (``set_fit_request``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # Every step below works on locals; only _store writes to self, so a
        # fit that raises leaves the estimator as it was.
        if _dask.is_dask_array(X):
            # Dask arrays: exact fit, block by block on the workers.
            return self._store(_dask.fit_regressor(self, X, y, sample_weight, y_std))
        (X, y), features = validate_fit_data(
            self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True
        )
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        y_std = check_y_std(y_std, y, loss=self.loss, beta=self.beta)

        # Standardise the target so that the solver, the penalty and the
        # log-variance bounds see a target of unit scale whatever its units.
        scaling = target_scaling(y, sample_weight, fit_intercept=self.fit_intercept)
        prepared = prepare_regression(y, y_std, scaling, min_std=self.min_std)
        target, objective = prepared.target, prepared.objective
        y_tilde = prepared.mean_target

        # The Gram matrix's product (n d^2) runs on the threads its size pays
        # for, as a solve's products do (skdiv._threads): on small data one.
        work = X.shape[0] * X.shape[1] ** 2 if isinstance(X, np.ndarray) else 0
        with blas_threads(work):
            coef, intercept = penalised_least_squares(
                X, y_tilde, sample_weight, self.alpha, self.fit_intercept
            )
        residual = y_tilde - (X @ coef + intercept)
        second_moment = residual**2
        if y_std is not None:
            second_moment = second_moment + target[:, 1] ** 2
        var_intercept = constant_log_variance(
            float(sample_weight @ second_moment) / sample_weight.sum(), self.min_std
        )
        var_coef = np.zeros_like(coef)
        n_iter = 1
        previous = warm_start_point(self, scaling, X.shape[1])
        if previous is not None and self.loss == "squared_error":
            # The mean is least squares in closed form: only the head restarts.
            var_coef, var_intercept = previous[2:]
        elif previous is not None:
            coef, intercept, var_coef, var_intercept = previous

        options = dict(
            alpha=self.alpha, solver=self.solver, max_iter=self.max_iter,
            tol=self.tol, verbose=self.verbose,
        )
        if self.variance == "heteroscedastic":
            if self.loss == "squared_error":
                var_coef, var_intercept, n_solver = fit_log_variance(
                    X, target, sample_weight, objective, X @ coef + intercept,
                    var_intercept, coef0=var_coef, **options,
                )
            else:
                (coef, var_coef), (intercept, var_intercept), n_solver = fit_joint(
                    X, target, sample_weight, objective,
                    np.vstack([coef, var_coef]), [intercept, var_intercept],
                    fit_intercept=self.fit_intercept, beta=self.beta, **options,
                )
            n_iter += n_solver

        raw = np.column_stack([X @ coef + intercept, X @ var_coef + var_intercept])
        objective_value = float(
            objective.loss(target, raw, sample_weight).sum() / sample_weight.sum()
            + 0.5 * self.alpha * (coef @ coef + var_coef @ var_coef)
        )
        return self._store(
            GaussianSolution(
                coef=coef, intercept=intercept, var_coef=var_coef,
                var_intercept=var_intercept, scaling=scaling, n_iter=n_iter,
                objective=objective_value,
                n_features_in=features["n_features_in_"],
                feature_names_in=features["feature_names_in_"],
            )
        )

    def _store(self, solution):
        """Store a solution found on the standardised target, in target units.

        The commit of :meth:`fit`, the Dask fit and :meth:`partial_fit`, and
        the only place where they write to the estimator: the mean scales by
        ``scale`` and shifts by ``offset``, the log-variance intercept shifts
        by ``2 log scale``.
        """
        offset, scale = solution.scaling.offset, solution.scaling.scale
        log_scale2 = 2.0 * np.log(scale)
        coef = np.asarray(solution.coef * scale, dtype=np.float64)
        attributes = {
            "coef_": coef,
            # NumPy scalars, as scikit-learn's single-target regressors.
            "intercept_": np.float64(offset + scale * solution.intercept),
            "var_coef_": np.asarray(solution.var_coef, dtype=np.float64),
            "var_intercept_": np.float64(solution.var_intercept + log_scale2),
            "std_floor_": float(self.min_std * scale),
            "objective_": float(solution.objective),
            "n_iter_": solution.n_iter,
            "n_features_in_": solution.n_features_in,
            "feature_names_in_": solution.feature_names_in,
            "_log_var_bounds": (
                2.0 * np.log(self.min_std) + log_scale2,
                LOG_VAR_LIMIT + log_scale2,
            ),
        }
        if solution.stream is not None:
            # The stream continues only from the coefficients it produced.
            solution.stream.coef = coef
            attributes["_stream"] = solution.stream
        return store_fitted(self, attributes)

    # ---------------------------------------------------------- partial_fit
    # Streaming over the calls (skdiv._scale._stream, _newton_stream).
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, y_std=None):
        """Update the model with the rows of ``X``.

        The same model as :meth:`fit`, found over a stream of batches:
        repeated calls on batches converge to the model ``fit`` finds on
        their union. The target is standardised, and the floor ``min_std``
        set, with the weighted mean and standard deviation of the first
        batch's ``y``. Each call takes Newton steps on all rows seen (the
        latest ``batch_size`` exactly, the earlier ones through a quadratic
        summary), one stream for the joint likelihood or one per stage for
        the two-stage fits; with ``beta > 0``, one pass of Adam in
        mini-batches. Both are described in the user guide
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
        y_std : float or array-like of shape (n_samples,), default=None
            Standard deviations of the target distributions; required with
            ``loss="kl_divergence"``, as in :meth:`fit`.

        Returns
        -------
        self : GaussianRegressor
            The updated estimator.
        """
        return self._store(
            _stream.partial_fit_regressor(
                self, X, y, sample_weight, y_std, stream=getattr(self, "_stream", None)
            )
        )

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

    # One implementation for every Gaussian regressor (skdiv._gaussian_predictions).
    predict_interval = _gaussian_predictions.predict_interval
    predict_dist = _gaussian_predictions.predict_dist
