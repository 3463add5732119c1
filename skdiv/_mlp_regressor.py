"""GaussianMLPRegressor: a network predicting a Gaussian mean and log-variance."""

import warnings
from numbers import Real
from typing import NamedTuple

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _gaussian_predictions
from ._adapter import EmpiricalRisk, linear_risk
from ._compat import Interval, StrOptions, _fit_context, validate_data
from ._loss import (
    LOG_VAR_LIMIT,
    LogVarianceHead,
    SquaredError,
    Stagewise,
    with_fixed_mean,
)
from ._mlp_base import BaseMLP, check_hidden_layer_sizes, transactional
from ._model import MLPModel
from ._solvers import minimize
from ._targets import (
    TargetScaling,
    check_sample_weight,
    check_y_std,
    constant_log_variance,
    prepare_regression,
    target_scaling,
)
from ._validation import numeric_target

# Cap on the refits of the beta-NLL fixed point (L-BFGS), as the linear model's.
_BETA_MAX_OUTER = 100
# Widest output layer (with its bias) whose squared-residual sums a
# constant-variance partial_fit keeps as a matrix (8 MB), as the linear
# stream's MAX_SUMMARY_PARAMS (2048) bounds its dense summary.
_MAX_VARIANCE_SUMMARY = 1024


def _weighted_mean(values, sample_weight):
    return float(np.average(values, weights=sample_weight))


class _VarianceSums(NamedTuple):
    r"""Sums over the rows seen by a constant-variance ``partial_fit``.

    ``A`` :math:`= \sum s\, \bar h \bar h^\top`, ``b`` :math:`= \sum s\,
    \bar h \tilde y`, ``c`` :math:`= \sum s\, \tilde y^2`, ``tau2``
    :math:`= \sum s\, \tilde\tau^2` and ``weight`` :math:`= \sum s`, so
    that the weighted sum of squared residuals at output weights
    :math:`\theta` is :math:`c - 2 b^\top\theta + \theta^\top A \theta`.
    """

    A: np.ndarray
    b: np.ndarray
    c: float
    tau2: float
    weight: float

    def residual_sum(self, theta):
        """Weighted sum of squared residuals (plus tau^2) at ``theta``."""
        return self.c - 2.0 * self.b @ theta + theta @ self.A @ theta + self.tau2

    def plus(self, other):
        # New arrays: the fitted sums are never updated in place.
        return _VarianceSums(self.A + other.A, self.b + other.b, self.c + other.c,
                             self.tau2 + other.tau2, self.weight + other.weight)


class GaussianMLPRegressor(RegressorMixin, BaseMLP):
    r"""Neural-network regression of a Gaussian mean and (log-)variance.

    A multilayer perceptron with two outputs, the mean :math:`\mu_\theta(x)`
    and the log-variance :math:`\eta_\theta(x) = \log \sigma^2_\theta(x)`,
    sharing the hidden layers, fitted as :class:`GaussianRegressor` fits its
    linear model: on the standardised target :math:`\tilde y = (y - \bar
    y)/s_y` (weighted mean and standard deviation), minimising

    .. math::

        F(\theta) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell_i
                  + \frac{\alpha}{2} \sum_l \lVert W_l \rVert_F^2

    (weights :math:`W_l` only, biases unpenalised), with :math:`\ell_i`

    * ``loss="gaussian_nll"``: :math:`\tfrac12 (\log 2\pi\sigma_i^2 +
      (\tilde y_i - \mu_i)^2 / \sigma_i^2)`, mean and variance jointly;
    * ``loss="kl_divergence"``: :math:`\mathrm{KL}(N(\tilde y_i,
      \tilde\tau_i^2) \| N(\mu_i, \sigma_i^2))` for targets given as
      distributions (``fit(X, y, y_std=tau)``);
    * ``loss="squared_error"``: two stages, the mean network by least
      squares, then the log-variance by maximum likelihood as a linear
      function of the last hidden layer (of ``X`` with no hidden layer),
      the mean and the hidden layers held fixed. (With Adam both stages run
      together: the mean output's least-squares gradient trains the whole
      network, the log-variance's likelihood gradient only its output
      weights; the fixed point is the same.)

    With ``variance="constant"`` every loss fits a one-output mean network
    by penalised least squares and sets the variance to its maximum
    likelihood value given that mean (the weighted mean squared residual,
    plus the mean :math:`\tilde\tau_i^2` for ``kl_divergence``); the
    log-variance column of the output layer is then zero and its bias that
    constant. With ``hidden_layer_sizes=()`` every configuration is
    :class:`GaussianRegressor`'s model and objective.

    **Penalty conversion.** scikit-learn's ``MLPRegressor(alpha=a)`` adds
    :math:`a / (2 n_b) \sum_l \lVert W_l \rVert^2` to each batch's mean loss:
    ``alpha = a / batch_size`` here for Adam, ``a / n_samples`` for L-BFGS
    (here the loss is in standardised target units).

    Parameters
    ----------
    loss : {"gaussian_nll", "kl_divergence", "squared_error"}, default="gaussian_nll"
    variance : {"heteroscedastic", "constant"}, default="heteroscedastic"
    hidden_layer_sizes : tuple of int, default=(100,)
    activation : {"relu", "tanh", "logistic"}, default="relu"
    alpha : float, default=1e-4
    beta : float in [0, 1], default=0.0
        beta-NLL (Seitzer et al., 2022): each sample's loss weighted by
        :math:`\operatorname{stop\_grad}(\sigma_i^{2\beta})`. With Adam the
        weights are those of the batch's current variances (normalised over
        the batch); with L-BFGS the fit is the fixed point of frozen-weight
        refits, as in :class:`GaussianRegressor` (at most 100). Rejected
        with ``squared_error``; no effect with ``variance="constant"``.
    min_std : float in (0, 1), default=1e-6
        Floor on the predicted standard deviation relative to :math:`s_y`
        (``std_floor_`` in target units).
    solver : {"adam", "lbfgs"}, default="adam"
    batch_size : int or "auto", default="auto"
    learning_rate_init : float, default=1e-3
    max_iter : int, default=200
        Epochs for Adam, iterations for L-BFGS (per stage).
    tol : float, default=1e-4
        Adam: the least improvement that counts; L-BFGS: the gradient
        max-norm (and the beta fixed point's largest weight change).
    n_iter_no_change : int, default=10
    early_stopping : bool, default=False
        Stop on the held-out NLL (KL) of ``validation_fraction`` of the rows.
    validation_fraction : float in (0, 1), default=0.1
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
    verbose : int, default=0

    Attributes
    ----------
    coefs_ : list of ndarray of shape (fan_in, fan_out)
        Weights of each layer; the last has two columns, mean and
        log-variance, in standardised target units.
    intercepts_ : list of ndarray of shape (fan_out,)
    y_offset_, y_scale_ : float
        The standardisation :math:`\bar y` and :math:`s_y`.
    std_floor_ : float
        ``min_std * y_scale_``.
    n_iter_ : int
    loss_curve_ : list of float
        Adam: the training objective of each epoch.
    objective_ : float
        :math:`F` with the loss of ``loss`` (the NLL for ``squared_error``;
        without beta weights), in standardised units.
    best_loss_, validation_scores_, best_validation_score_
        As in :class:`DivergenceMLPClassifier`.
    n_layers_, n_outputs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    GaussianRegressor : The linear model.
    sklearn.neural_network.MLPRegressor : A mean-only network (squared error).

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv import GaussianMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(400, 1))
    >>> y = np.sin(2 * X[:, 0]) + rng.normal(size=400) * 0.1 * (1 + X[:, 0] ** 2)
    >>> reg = GaussianMLPRegressor(hidden_layer_sizes=(20,), activation="tanh",
    ...                            solver="lbfgs", max_iter=500, random_state=0)
    >>> reg = reg.fit(X, y)
    >>> mean, std = reg.predict([[0.0], [2.0]], return_std=True)
    >>> bool(std[1] > 2 * std[0])
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"gaussian_nll", "squared_error", "kl_divergence"})],
        "variance": [StrOptions({"heteroscedastic", "constant"})],
        "beta": [Interval(Real, 0, 1, closed="both")],
        "min_std": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        loss="gaussian_nll",
        *,
        hidden_layer_sizes=(100,),
        variance="heteroscedastic",
        activation="relu",
        alpha=1e-4,
        beta=0.0,
        min_std=1e-6,
        solver="adam",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.variance = variance
        self.activation = activation
        self.alpha = alpha
        self.beta = beta
        self.min_std = min_std
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, y_std=None):
        """Fit the mean and variance network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets (the target means for ``loss="kl_divergence"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.
        y_std : float or array-like of shape (n_samples,), default=None
            Standard deviations of the target distributions: required with
            ``loss="kl_divergence"``, refused with the other losses.

        Returns
        -------
        self : GaussianMLPRegressor
        """
        return self._fit(X, y, sample_weight, y_std, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, y_std=None):
        """One epoch of Adam over ``X``, continuing from the current weights.

        The first call fixes the standardisation (the first batch's weighted
        mean and standard deviation of ``y``). With ``variance="constant"``
        the variance is the weighted mean squared residual of every row
        delivered since the last ``fit`` (and of ``fit``'s rows), the earlier
        rows at the current output layer with the hidden layers of their
        call (exact with no hidden layer, as :class:`GaussianRegressor`'s
        stream).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        y_std : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMLPRegressor
        """
        return self._fit(X, y, sample_weight, y_std, incremental=True)

    @transactional
    def _fit(self, X, y, sample_weight, y_std, *, incremental):
        first = not (incremental and hasattr(self, "y_scale_"))
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
            y_numeric=True, reset=first,
        )
        y = np.asarray(numeric_target(np.asarray(y)), dtype=np.float64)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        target, objective = self._prepare_target(y, sample_weight, y_std, first)
        check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.variance == "constant":
            self._fit_constant(X, target, sample_weight, objective, incremental)
            return self
        # Only a constant variance keeps running sums.
        self.__dict__.pop("_variance_sums", None)
        if self.loss == "squared_error":
            self._fit_two_stage(X, target, sample_weight, objective, incremental)
        else:
            self._fit_joint(X, target, sample_weight, objective, incremental)
        return self

    def _prepare_target(self, y, sample_weight, y_std, first):
        """Check ``y_std`` and ``beta``; standardise; the Gaussian objective.

        :mod:`skdiv._targets`' regression steps; the first call of
        ``partial_fit`` (or ``fit``) fixes the standardisation.
        """
        y_std = check_y_std(y_std, y, loss=self.loss, beta=self.beta)
        if first:
            scaling = target_scaling(y, sample_weight, fit_intercept=True)
            self.y_offset_, self.y_scale_ = scaling.offset, scaling.scale
            self.std_floor_ = float(self.min_std * self.y_scale_)
        scaling = TargetScaling(self.y_offset_, self.y_scale_)
        prepared = prepare_regression(y, y_std, scaling, min_std=self.min_std)
        return prepared.target, prepared.objective

    # ------------------------------------------------------------ the fits
    @staticmethod
    def _point(target):
        return target if target.ndim == 1 else target[:, 0]

    def _mean_network(self, X, target, sample_weight, incremental):
        """Stage one: the one-output mean network by penalised least squares."""
        params = self._solve(X, self._point(target), sample_weight, SquaredError(), 1,
                             incremental=incremental, previous=self._fitted_mean())
        return params, self._network(X).forward(params)

    def _fitted_mean(self):
        """The fitted network as a one-output mean network (to continue from).

        New lists and arrays: the fitted ones are not touched, so a fit that
        raises leaves them as they were (:func:`~skdiv._mlp_base.transactional`).
        """
        coefs = getattr(self, "coefs_", None)
        if coefs is None or coefs[-1].shape[1] != 2:
            return None
        return ([*coefs[:-1], coefs[-1][:, :1].copy()],
                [*self.intercepts_[:-1], self.intercepts_[-1][:1].copy()])

    def _set_two_outputs(self, var_coef, var_intercept):
        """Append the log-variance column to the mean network's output layer."""
        self.coefs_ = [*self.coefs_[:-1],
                       np.column_stack([self.coefs_[-1][:, 0], var_coef])]
        self.intercepts_ = [*self.intercepts_[:-1],
                            np.array([self.intercepts_[-1][0], var_intercept])]
        self.n_outputs_ = 2

    def _final_objective(self, X, target, sample_weight, objective):
        model = self._network(X)
        risk = EmpiricalRisk(objective, model, target, sample_weight=sample_weight,
                             alpha=self.alpha)
        self.objective_ = risk.loss(model.pack(self.coefs_, self.intercepts_))

    def _fit_constant(self, X, target, sample_weight, objective, incremental):
        r"""The mean network, then the variance: the weighted mean second moment.

        .. math::

            \tilde\sigma^2 = \frac{1}{\sum_i s_i} \sum_i s_i
                \big[(\tilde y_i - w^\top h_i - b)^2 + \tilde\tau_i^2\big]

        over the rows of ``fit``, and for ``partial_fit`` over every row
        delivered since (each occurrence counted), as the linear stream's
        constant variance (:class:`~skdiv._scale._newton_stream.\
TwoStageStream`, the residuals at the current mean). :math:`w, b` are
        the current output layer of the mean, :math:`h_i` the last hidden
        layer of row :math:`i` (:math:`x_i` with no hidden layer), and
        :math:`\tilde\tau_i = 0` but for ``kl_divergence``. The rows are
        gone, so earlier calls are kept as the sums :math:`\sum s\, \bar h
        \bar h^\top`, :math:`\sum s\, \bar h \tilde y`, :math:`\sum s\,
        \tilde y^2` (:math:`\bar h = (h, 1)`) and :math:`\sum s`, with the
        hidden layers of the call that delivered each row: exact with no
        hidden layer, where every residual is at the current mean as in the
        linear stream. (Above 1024 units, or features with no hidden layer,
        each row keeps its residual at the mean of its call instead.) The
        sums restart with ``fit``, or when ``partial_fit`` restarts the
        network (changed ``hidden_layer_sizes``).
        """
        hidden = tuple(c.shape[1] for c in getattr(self, "coefs_", [None])[:-1])
        sums = getattr(self, "_variance_sums", None)
        if not (incremental and hidden == check_hidden_layer_sizes(
                self.hidden_layer_sizes)):
            sums = None
        _, mean = self._mean_network(X, target, sample_weight, incremental)
        point = self._point(target)
        tau2 = target[:, 1] ** 2 if target.ndim == 2 else np.zeros_like(point)
        # The rows of this call at the current mean, directly.
        total = float(sample_weight @ ((point - mean) ** 2 + tau2))
        weight = float(sample_weight.sum())
        theta = np.append(self.coefs_[-1][:, 0], self.intercepts_[-1][0])
        if theta.size <= _MAX_VARIANCE_SUMMARY:
            features = self._last_hidden(X)
            features = np.column_stack([
                features.toarray() if hasattr(features, "toarray") else features,
                np.ones(X.shape[0]),
            ])
        else:
            # Too wide a last layer for the matrix: each row keeps its
            # residual at the mean of its call (theta empty).
            features, point, theta = np.zeros((X.shape[0], 0)), point - mean, theta[:0]
        weighted = features.T * sample_weight
        batch = _VarianceSums(weighted @ features, weighted @ point,
                              float(sample_weight @ point**2),
                              float(sample_weight @ tau2), weight)
        if sums is not None:
            # Earlier rows at the current output layer of the mean.
            total += max(sums.residual_sum(theta), 0.0)
            weight += sums.weight
            batch = sums.plus(batch)
        self._variance_sums = batch
        log_var = constant_log_variance(total / weight, self.min_std)
        self._set_two_outputs(np.zeros(self.coefs_[-1].shape[0]), log_var)
        self._final_objective(X, target, sample_weight, objective)

    def _last_hidden(self, X):
        """The last hidden layer's activations (``X`` with no hidden layer)."""
        model = self._network(X)
        activations, _ = model._forward(
            model._weights(model.pack(self.coefs_, self.intercepts_)), X
        )
        return activations[-1]

    def _fit_two_stage(self, X, target, sample_weight, objective, incremental):
        if incremental or self.solver == "adam":
            # Both stages at once: the log-variance's gradient is stopped at
            # the output layer (features learnt for the mean), the mean's is
            # least squares (Stagewise).
            self._solve(X, target, sample_weight, Stagewise(objective), 2,
                        incremental=incremental, detach_outputs=(1,))
            self._final_objective(X, target, sample_weight, objective)
            return
        _, mean = self._mean_network(X, target, sample_weight, False)
        n_mean = self.n_iter_
        features = self._last_hidden(X)
        problem = linear_risk(
            LogVarianceHead(objective), features, with_fixed_mean(np, target, mean),
            n_outputs=1, sample_weight=sample_weight, alpha=self.alpha,
            fit_intercept=True,
        )
        start = constant_log_variance(
            _weighted_mean((self._point(target) - mean) ** 2, sample_weight),
            self.min_std,
        )
        x0 = problem.pack(np.zeros((1, features.shape[1])), [start])
        params, n_var = minimize(problem, x0, solver="lbfgs", max_iter=self.max_iter,
                                 tol=self.tol, verbose=self.verbose)
        var_coef, var_intercept = problem.unpack(params)
        self._set_two_outputs(var_coef[0], float(var_intercept[0]))
        self.n_iter_ = n_mean + n_var
        self._final_objective(X, target, sample_weight, objective)

    def _log_variance(self, params, model, X):
        return np.clip(model.forward(params, X)[:, 1], 2.0 * np.log(self.min_std),
                       LOG_VAR_LIMIT)

    def _beta_weights(self, model):
        def weights(params, X_rows, sw_rows):
            log_var = self._log_variance(params, model, X_rows)
            # Shifted by the max: the batch's normalisation cancels it.
            w = np.exp(self.beta * (log_var - log_var.max()))
            return w if sw_rows is None else w * sw_rows
        return weights

    def _fit_joint(self, X, target, sample_weight, objective, incremental):
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        model = MLPModel(X, hidden, 2, activation=self.activation)
        if self.beta == 0:
            self._solve(X, target, sample_weight, objective, 2, incremental=incremental)
        elif incremental or self.solver == "adam":
            self._solve(X, target, sample_weight, objective, 2, incremental=incremental,
                        batch_weights=self._beta_weights(model))
        else:
            self._fit_beta_fixed_point(X, target, sample_weight, objective, model)
        self._final_objective(X, target, sample_weight, objective)

    def _fit_beta_fixed_point(self, X, target, sample_weight, objective, model):
        """beta-NLL by L-BFGS: refit with the weights frozen, until they settle."""
        params = self._solve(X, target, sample_weight, objective, 2)
        n_iter = self.n_iter_
        for _ in range(_BETA_MAX_OUTER - 1):
            log_var = self._log_variance(params, model, X)
            weights = sample_weight * np.exp(self.beta * (log_var - log_var.max()))
            new = self._solve(X, target, weights, objective, 2, start=params)
            n_iter += self.n_iter_
            change = np.max(np.abs(new - params))
            params = new
            if change <= self.tol:
                break
        else:
            warnings.warn(
                f"The beta-NLL re-weighting (beta={self.beta}) did not converge in "
                f"{_BETA_MAX_OUTER} refits: the weights still change by "
                f"{change:.3g} > tol={self.tol:g}.",
                ConvergenceWarning, stacklevel=3,
            )
        self.n_iter_ = n_iter

    # -------------------------------------------------------------- predict
    def _mean_log_var(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr",
                          dtype=[np.float64, np.float32], reset=False)
        raw = self._raw(X)
        log_scale2 = 2.0 * np.log(self.y_scale_)
        mean = self.y_offset_ + self.y_scale_ * raw[:, 0]
        log_var = np.clip(raw[:, 1], 2.0 * np.log(self.min_std), LOG_VAR_LIMIT)
        return mean, log_var + log_scale2

    def predict(self, X, return_std=False):
        """Predict the mean, and optionally the standard deviation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        return_std : bool, default=False

        Returns
        -------
        y_mean : ndarray of shape (n_samples,)
        y_std : ndarray of shape (n_samples,)
            At least ``std_floor_``; only when ``return_std=True``.
        """
        mean, log_var = self._mean_log_var(X)
        if return_std:
            return mean, np.exp(0.5 * log_var)
        return mean

    # One implementation for every Gaussian regressor (skdiv._gaussian_predictions).
    predict_interval = _gaussian_predictions.predict_interval
    predict_dist = _gaussian_predictions.predict_dist
