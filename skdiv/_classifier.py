"""DivergenceClassifier: a linear softmax classifier trained by CE or KL."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _class_predictions
from ._adapter import linear_risk
from ._compat import (
    CachedParamNames,
    DocLinkMixin,
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from ._loss import CrossEntropy, get_objective
from ._model._kernels import row_blocks
from ._scale import _dask, _stream
from ._solvers import minimize
from ._targets import (
    LinearSolution,
    check_sample_weight,
    prepare_classification,
)
from ._validation import class_columns, store_fitted, validate_fit_data


class DivergenceClassifier(CachedParamNames, DocLinkMixin, ClassifierMixin,
                           BaseEstimator):
    r"""Linear softmax classifier trained by cross-entropy or KL divergence.

    It accepts hard labels (any label type) or soft labels: a matrix of
    target class probabilities, such as a teacher model's ``predict_proba``,
    smoothed labels or annotator votes. No scikit-learn classifier accepts
    the latter; the usual workaround, one row per class weighted by its
    probability, gives the same model at ``n_classes`` times the memory.

    With :math:`z_i = W x_i + b` the logits, :math:`q_i = \operatorname{softmax}
    (z_i)` and :math:`p_i` the target row, the estimator minimises

    .. math::

        F(W, b) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell(p_i, q_i)
                  + \frac{\alpha}{2} \lVert W \rVert_F^2 ,

    where :math:`s_i` are the sample weights and :math:`\ell` is either

    * ``"cross_entropy"``: :math:`\mathrm{CE}(p_i, q_i) = -\sum_k p_{ik}
      \log q_{ik}`, the negative log-likelihood for hard labels, or
    * ``"kl_divergence"``: :math:`\mathrm{KL}(p_i \| q_i) = \mathrm{CE}(p_i,
      q_i) - H(p_i)`.

    :math:`H(p_i)` does not depend on the model, so both give the same
    coefficients; only ``objective_`` differs, by the mean target entropy. KL
    reaches 0 when the model matches the targets, CE reaches :math:`H(p)`.

    The penalty matches :class:`~sklearn.linear_model.LogisticRegression`:
    ``C`` there is ``alpha = 1 / (C * S)`` here, with :math:`S` the sum of the
    effective sample weights, :math:`S = \sum_i s_i c_{y_i}` with class
    weights :math:`c_k` (scikit-learn multiplies the sample weights by them),
    ``sample_weight.sum()`` without, ``n_samples`` without either. The
    intercept is not penalised.

    Parameters
    ----------
    loss : {"cross_entropy", "kl_divergence"} or objective, default="cross_entropy"
        The training objective; an instance of
        ``skdiv._loss.CrossEntropy`` or ``KLDivergence`` is accepted.
    alpha : float, default=1e-4
        L2 penalty strength, :math:`\alpha \ge 0`. With ``alpha=0`` and
        hard labels that the fitted model separates (every training sample
        classified correctly) the cross-entropy has no minimum: :meth:`fit`
        warns (``ConvergenceWarning``), since the coefficients are then set
        by ``tol``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes. With hard labels sample ``i`` is weighted by
        ``class_weight[y_i]``, as in scikit-learn. With soft labels the loss
        becomes :math:`-\sum_k c_k p_{ik} \log q_{ik}`: the exact equivalent
        of duplicating each row once per class with weight :math:`c_k
        p_{ik}`. ``"balanced"`` uses :math:`c_k = \sum_i s_i / (K \sum_i
        s_i p_{ik})`, scikit-learn's rule (with sample weights :math:`s_i`,
        as in scikit-learn 1.9) on soft class counts. Class weights that
        leave no sample with positive weight (every sample of positive
        ``sample_weight`` in classes of weight 0) are refused.
    classes : array-like of shape (n_classes,), default=None
        The class labels, in any order: ``classes_`` holds them sorted, as
        scikit-learn's classifiers do (its tools read ``predict_proba``'s
        columns in that order). With hard labels they may list classes
        absent from ``y``, which then get a probability column. With soft
        labels given by position (an array) the columns of ``y`` are the
        sorted classes (``np.arange(n_classes)`` when None), and
        ``classes`` not sorted is refused as ambiguous; a pandas DataFrame
        ``y`` names its own columns, which are matched to ``classes`` by
        name in any order (the default names ``0, ..., k-1`` of a frame made
        from an array by position), and column names that are not the
        classes are refused.
    label_smoothing : float in [0, 1), default=0.0
        Replace targets by :math:`(1 - \epsilon) p_i + \epsilon / K` (the
        PyTorch definition). Smoothing comes first and class weights then
        weight each class's term of the smoothed row,
        :math:`-\sum_k c_k p'_{ik} \log q_{ik}`, as in PyTorch's
        ``CrossEntropyLoss(weight, label_smoothing)``: the same model as
        fitting the smoothed rows with the same ``class_weight`` (``"balanced"``
        counts the classes of the rows as given).
    solver : {"auto", "newton-cg", "lbfgs"}, default="auto"
        ``"newton-cg"``: truncated Newton, conjugate gradients on exact
        Hessian-vector products (from a subsample of rows on tall data,
        Jacobi-preconditioned on sparse data), few iterations and robust to
        ill-conditioning; ``"lbfgs"``: quasi-Newton, cheaper iterations.
        ``"auto"`` picks ``"newton-cg"``. Both run in preconditioned
        coordinates and stop on the same criterion, so they give the same
        answer within ``tol``. See :ref:`solvers` in the user guide.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    tol : float, default=1e-8
        Stop when the max-norm of the gradient of :math:`F` with respect to
        ``intercept_`` and the coefficients of the standardised features
        (:math:`\partial F / \partial W_{kj}` divided by feature ``j``'s
        standard deviation: the rule does not depend on the units of ``X``)
        is below ``tol``. The default is tight
        because the Newton solver gets there in one or two more iterations
        than at ``1e-4``, and a tight optimum makes fits reproducible across
        solvers and sample-weight representations; with ``solver="lbfgs"``
        a looser ``tol`` (say ``1e-5``) is usually the better trade.
    warm_start : bool, default=False
        Start from the previous solution when refitting with the same
        classes and features.
    verbose : int, default=0
        Print the objective and gradient norm at each iteration when positive.
    batch_size : int or "auto", default="auto"
        :meth:`partial_fit` only: the rows kept exactly (the window) before
        they are folded into the stream's quadratic summary. ``"auto"`` is
        ``max(2000, 3 * n_params)``. Larger is more exact on
        near-separable data and costs ``batch_size * n_features`` numbers
        of memory; see :ref:`scaling_partial_fit`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients; one row (the positive class's logit) for a binary
        problem, like LogisticRegression.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    n_iter_ : int
        Number of solver iterations.
    objective_ : float
        The value of :math:`F` at the solution (the chosen divergence's
        weighted mean plus the penalty).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model on hard labels.
    skdiv.metrics.kl_divergence : The KL divergence as a metric.

    Notes
    -----
    The solver works on the flattened ``(coef, intercept)`` in coordinates
    preconditioned by the feature means and covariance (whitening up to
    1000 features, scaling beyond; see ``skdiv._model.LinearModel``),
    with analytic gradients and Hessian-vector products. Sparse ``X``
    (CSR) is never densified or centred. ``float32`` ``X`` is used in
    ``float32`` for the matrix products (no copy of ``X``), while losses,
    gradients and coefficients are accumulated in ``float64``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv import DivergenceClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> soft = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
    >>> ce = DivergenceClassifier(alpha=0).fit(X, soft)
    >>> kl = DivergenceClassifier("kl_divergence", alpha=0).fit(X, soft)
    >>> bool(np.allclose(ce.coef_, kl.coef_, atol=1e-4))
    True
    >>> round(ce.objective_ - kl.objective_, 4)  # mean target entropy
    0.468
    >>> ce.predict(X)
    array([0, 0, 1, 1])
    """

    _parameter_constraints: dict = {
        "loss": [StrOptions({"cross_entropy", "kl_divergence"}), CrossEntropy],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "classes": ["array-like", None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
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
        loss="cross_entropy",
        *,
        alpha=1e-4,
        fit_intercept=True,
        class_weight=None,
        classes=None,
        label_smoothing=0.0,
        solver="auto",
        max_iter=1000,
        tol=1e-8,
        warm_start=False,
        verbose=0,
        batch_size="auto",
    ):
        self.loss = loss
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.classes = classes
        self.label_smoothing = label_smoothing
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.batch_size = batch_size

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to hard or soft labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse input is used as CSR.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or rows of target class probabilities (each
            non-negative, summing to 1), columns ordered as ``classes``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : DivergenceClassifier
            The fitted estimator.
        """
        # Every step below works on locals; only _store writes to self, so a
        # fit that raises leaves the estimator as it was.
        if _dask.is_dask_array(X):
            # Dask arrays: exact fit, block by block on the workers.
            return self._store(_dask.fit_classifier(self, X, y, sample_weight))
        y, classes = class_columns(y, self.classes)
        (X, y), features = validate_fit_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=False,
        )
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        # Integer codes for hard labels, probability rows for soft (and
        # smoothed) ones; class weights folded into the sample weights.
        prepared = prepare_classification(
            y,
            sample_weight,
            classes=classes,
            class_weight=self.class_weight,
            label_smoothing=self.label_smoothing,
        )
        objective = get_objective(self.loss, allowed=["cross_entropy", "kl_divergence"])
        problem = linear_risk(
            objective,
            X,
            prepared.target,
            n_outputs=prepared.n_outputs,
            sample_weight=prepared.sample_weight,
            alpha=self.alpha,
            fit_intercept=self.fit_intercept,
        )
        params0 = problem.pack(*self._initial_coef(problem, prepared))
        params, n_iter = minimize(
            problem,
            params0,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        coef, intercept = problem.unpack(params)
        if not self.alpha:
            warn_if_separated(X, coef, intercept, prepared, self.tol)
        return self._store(
            LinearSolution(
                coef=coef,
                intercept=intercept,
                n_iter=n_iter,
                objective=problem.loss(params),
                classes=prepared.classes,
                n_features_in=features["n_features_in_"],
                feature_names_in=features["feature_names_in_"],
            )
        )

    def _initial_coef(self, problem, prepared):
        n_outputs, n_features = problem.n_outputs, problem.n_features
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and self.coef_.shape == (n_outputs, n_features)
            and _same_or_unknown(getattr(self, "classes_", None), prepared.classes)
        ):
            return self.coef_, self.intercept_
        coef = np.zeros((n_outputs, n_features))
        if not self.fit_intercept:
            return coef, None
        return coef, prepared.intercept_start()

    def _store(self, solution):
        """Store a solution: the commit of :meth:`fit`, the Dask fit and
        :meth:`partial_fit`, and the only place where they write to ``self``.
        """
        attributes = {
            "classes_": solution.classes,
            "coef_": solution.coef,
            "intercept_": solution.intercept,
            "n_iter_": solution.n_iter,
            "objective_": solution.objective,
            "n_features_in_": solution.n_features_in,
            "feature_names_in_": solution.feature_names_in,
        }
        if solution.stream is not None:
            # The stream continues only from the coefficients it produced.
            solution.stream.coef = solution.coef
            attributes["_stream"] = solution.stream
        return store_fitted(self, attributes)
    # ---------------------------------------------------------- partial_fit
    # Streaming Newton over the calls (skdiv._scale._newton_stream).
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with the rows of ``X``: Newton on all rows seen.

        The objective is :meth:`fit`'s on every row of every call (repeated
        rows counted each time): the rows of the latest calls (up to
        ``batch_size``) enter it exactly, the earlier ones through a
        quadratic summary, their second-order expansion at the model of the
        moment they were folded into it. Each call takes a few Newton-CG
        steps from the previous model; a few passes over a data set reach
        the model ``fit`` finds on it. The method, its memory and its
        accuracy are described in the user guide (:doc:`/scaling`).
        ``class_weight="balanced"`` uses the class counts of all rows seen
        so far. Called after :meth:`fit`, it continues from the fitted
        model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data; its rows are used in the order given.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels or rows of target class probabilities.
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream, in any order (``classes_`` is
            sorted). Required on the first call with hard labels (unless the
            ``classes`` parameter is set), and must not change afterwards;
            positional soft labels are in the sorted order.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : DivergenceClassifier
            The updated estimator.
        """
        return self._store(
            _stream.partial_fit_classifier(
                self, X, y, classes, sample_weight,
                stream=getattr(self, "_stream", None),
            )
        )

    # -------------------------------------------------------------- predict
    def decision_function(self, X):
        """Logits :math:`W x + b`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For a binary problem the logit of ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False
        )
        coef_t = self.coef_.T
        if X.dtype == np.float64:
            scores = np.asarray(X @ coef_t)
        else:
            # float32 products overflow where the float64 logits are finite
            # (|x| near 3e38): accumulate in float64, a block of rows at a
            # time, so that no float64 copy of all of X is made.
            scores = np.empty((X.shape[0], coef_t.shape[1]))
            for rows in row_blocks(*X.shape):
                scores[rows] = np.asarray(X[rows].astype(np.float64) @ coef_t)
        scores = scores + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    # One implementation for every classifier (skdiv._class_predictions).
    predict_log_proba = _class_predictions.predict_log_proba
    predict_proba = _class_predictions.predict_proba
    predict = _class_predictions.predict
    score = _class_predictions.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def warn_if_separated(X, coef, intercept, prepared, tol):
    """Warn when an unpenalised fit classifies every training sample correctly.

    The data are then linearly separated by the fitted model itself, and the
    cross-entropy of hard labels has no minimum: it decreases towards 0 as the
    coefficients grow along the separating direction, and the solver stopped
    only because the gradient fell below ``tol``.
    """
    target = prepared.target
    if target.ndim != 1 or (prepared.n_outputs == 1 and not np.all(
        (target == 0) | (target == 1)
    )):
        return  # soft rows: a minimum exists unless they are one-hot
    scores = np.asarray(X @ coef.T, dtype=np.float64)
    if intercept is not None:
        scores = scores + intercept
    rows = prepared.sample_weight > 0
    if prepared.n_outputs == 1:
        margin = (2 * target - 1) * scores[:, 0]
    else:
        codes = target.astype(np.intp)
        own = scores[np.arange(scores.shape[0]), codes]
        scores[np.arange(scores.shape[0]), codes] = -np.inf
        margin = own - scores.max(axis=1)
    if rows.any() and np.all(margin[rows] > 0):
        warnings.warn(
            "alpha=0 and the fitted model classifies every training sample "
            "correctly: the classes are linearly separable, the unpenalised "
            "cross-entropy has no minimum, and the coefficients (max |coef| "
            f"{float(np.max(np.abs(coef))):.3g}) are where tol={tol:g} stopped the "
            "solver; they grow without bound as tol decreases. Set alpha > 0 "
            "for a defined solution.",
            ConvergenceWarning,
            stacklevel=3,
        )


def _same_or_unknown(previous, classes):
    """Whether a warm start may go on: the same classes, or none recorded
    (coefficients set by hand)."""
    return previous is None or np.array_equal(previous, classes)
