"""DivergenceMLPClassifier: a neural softmax classifier trained by CE or KL."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from . import _class_predictions
from ._compat import Interval, StrOptions, _fit_context, validate_data
from ._loss import CrossEntropy, get_objective
from ._mlp_base import BaseMLP, transactional
from ._targets import (
    check_sample_weight,
    check_unique_classes,
    class_counts,
    encode_classes,
    incremental_soft_label_columns,
    is_soft,
    objective_target,
    smooth,
    weigh_classes,
)


class DivergenceMLPClassifier(ClassifierMixin, BaseMLP):
    r"""Neural-network classifier trained by cross-entropy or KL divergence.

    A multilayer perceptron (scikit-learn's architecture and parameter
    names) whose training objective is :class:`DivergenceClassifier`'s: hard
    labels or soft labels (rows of target class probabilities, such as a
    teacher's ``predict_proba``), label smoothing and class weights, all as
    there. With :math:`z_\theta(x_i)` the network's logits, :math:`q_i` their
    softmax (the sigmoid of one logit for two classes) and :math:`p_i` the
    target row, it minimises

    .. math::

        F(\theta) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell(p_i, q_i)
                  + \frac{\alpha}{2} \sum_l \lVert W_l \rVert_F^2 ,

    with :math:`\ell` the cross-entropy :math:`-\sum_k p_{ik} \log q_{ik}` or
    the KL divergence :math:`\mathrm{CE} - H(p_i)`, :math:`s_i` the sample
    weights and :math:`W_l` the layers' weights (biases unpenalised). CE and
    KL have the same gradient, so fits from the same ``random_state`` give
    the same weights; ``objective_`` differs by the mean target entropy.
    With ``hidden_layer_sizes=()`` this is :class:`DivergenceClassifier`'s
    model and objective.

    **Penalty conversion.** scikit-learn's ``MLPClassifier(alpha=a)`` adds
    :math:`a / (2 n_b) \sum_l \lVert W_l \rVert^2` to the mean loss of each
    batch of :math:`n_b` rows: ``alpha = a / batch_size`` here for
    ``solver="adam"``, and ``alpha = a / n_samples`` (``a /
    sample_weight.sum()``) for ``solver="lbfgs"``, whose batch is every row.

    Parameters
    ----------
    loss : {"cross_entropy", "kl_divergence"} or objective, default="cross_entropy"
        The training objective.
    hidden_layer_sizes : tuple of int, default=(100,)
        Widths of the hidden layers; ``()`` is the linear model.
    activation : {"relu", "tanh", "logistic"}, default="relu"
        Activation of the hidden layers. The output layer's is the
        objective's link (softmax, or the sigmoid for two classes).
    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights (see above).
    class_weight : dict, "balanced" or None, default=None
        As in :class:`DivergenceClassifier`; in :meth:`partial_fit`,
        ``"balanced"`` uses the class counts of all rows seen so far.
    classes : array-like of shape (n_classes,), default=None
        As in :class:`DivergenceClassifier`.
    label_smoothing : float in [0, 1), default=0.0
        Targets :math:`(1 - \epsilon) p_i + \epsilon / K`, then class weights
        on each class's term, as in :class:`DivergenceClassifier`.
    solver : {"adam", "lbfgs"}, default="adam"
        ``"adam"``: mini-batch Adam (scikit-learn's rules and generator
        calls); ``"lbfgs"``: full-batch L-BFGS, stopped when the gradient's
        max-norm is at most ``tol``.
    batch_size : int or "auto", default="auto"
        Rows per Adam batch; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Adam's step size.
    max_iter : int, default=200
        Epochs for Adam, iterations for L-BFGS.
    tol : float, default=1e-4
        Adam: the least improvement of the training objective (or of the
        validation score) that counts; L-BFGS: the gradient max-norm.
    n_iter_no_change : int, default=10
        Adam stops after more than this many epochs in a row that do not
        improve by ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified on hard
        labels) and stop on the held-out divergence: ``validation_scores_``
        are its negatives (higher is better), and the weights of the best
        epoch are kept. Adam only.
    validation_fraction : float in (0, 1), default=0.1
    random_state : int, RandomState instance or None, default=None
        Initialisation, validation split and batch order, drawn as
        scikit-learn's MLP draws them.
    warm_start : bool, default=False
        Start ``fit`` from the previous weights (same architecture); ``y``
        must then have the classes of the previous fit.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of ndarray of shape (fan_in, fan_out)
        The weights of each layer, scikit-learn's layout.
    intercepts_ : list of ndarray of shape (fan_out,)
    n_iter_ : int
        Epochs (Adam; summed over :meth:`partial_fit` calls) or iterations.
    loss_curve_ : list of float
        Adam: the training objective of each epoch (the mean of the batch
        objectives along the epoch, in the units of ``loss``).
    objective_ : float
        :math:`F` at the fitted weights, on all the training rows.
    best_loss_ : float or None
        Adam without early stopping: the best epoch's training objective.
    validation_scores_ : list of float or None
        With early stopping: minus the held-out divergence of each epoch.
    best_validation_score_ : float or None
    n_layers_ : int
    n_outputs_ : int
        Width of the output layer (1 for two classes).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    DivergenceClassifier : The linear model.
    sklearn.neural_network.MLPClassifier : The same network on hard labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skdiv import DivergenceMLPClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10)
    >>> y = np.array([0, 1, 1, 0] * 10)  # XOR: no linear model fits it
    >>> clf = DivergenceMLPClassifier(hidden_layer_sizes=(8,), activation="tanh",
    ...                               solver="lbfgs", alpha=0.0, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> clf.predict([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 1, 1, 0])
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"cross_entropy", "kl_divergence"}), CrossEntropy],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "classes": ["array-like", None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        loss="cross_entropy",
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        alpha=1e-4,
        class_weight=None,
        classes=None,
        label_smoothing=0.0,
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
        self.activation = activation
        self.alpha = alpha
        self.class_weight = class_weight
        self.classes = classes
        self.label_smoothing = label_smoothing
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
    def fit(self, X, y, sample_weight=None):
        """Fit the network to hard or soft labels.

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
        self : DivergenceMLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of Adam over ``X``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        classes : array-like of shape (n_classes,), default=None
            All the classes, in any order (``classes_`` is sorted); required
            on the first call with hard labels (unless the ``classes``
            parameter is set), then fixed.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : DivergenceMLPClassifier
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    @transactional
    def _fit(self, X, y, sample_weight, *, incremental, classes=None):
        first = not (incremental and hasattr(self, "classes_"))
        if classes is None:
            classes = self.classes
        # A soft-label DataFrame's columns are matched by name to the
        # classes (those of the first call, on later ones), or name them.
        y, classes = incremental_soft_label_columns(
            y, classes, getattr(self, "classes_", None), first
        )
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
            multi_output=True, y_numeric=False, reset=first,
        )
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        y_fit, sample_weight, n_outputs = self._prepare_target(
            y, sample_weight, incremental=incremental, first=first, classes=classes
        )
        objective = get_objective(self.loss, allowed=["cross_entropy", "kl_divergence"])
        stratify = y_fit if y_fit.ndim == 1 and y_fit.dtype.kind == "i" else None
        if stratify is not None:
            # train_test_split cannot stratify a class of one row: split plainly.
            counts = np.bincount(stratify)
            if counts[counts > 0].min() < 2:
                stratify = None
        self._solve(X, y_fit, sample_weight, objective, n_outputs,
                    incremental=incremental, stratify=stratify)
        self._centre_logits()
        return self

    def _centre_logits(self):
        """Output biases summing to zero (softmax): the same probabilities.

        A softmax does not see a common shift of its logits, so neither the
        loss nor the penalty (biases are unpenalised) fixes it: centring
        makes the biases unique, those of :class:`DivergenceClassifier`.
        """
        if self.n_outputs_ > 1:
            self.intercepts_[-1] -= self.intercepts_[-1].mean()

    def _prepare_target(self, y, sample_weight, *, incremental, first, classes):
        """Labels -> the objective's target, the weights and the output width.

        :func:`skdiv._targets.prepare_classification`'s steps (encode, class
        weights, smoothing, the objective's target), composed here because
        ``partial_fit`` keeps the classes of its first call and balances
        classes on the counts of every row seen so far.
        """
        if classes is None:
            classes = self.classes
        known = None if first else self.classes_
        classes = check_unique_classes(classes)
        if known is not None and classes is not None and not np.array_equal(
            classes, known
        ):
            raise ValueError(
                f"classes={classes.tolist()} is not the same as classes_="
                f"{known.tolist()} of the first call to partial_fit."
            )
        if incremental and classes is None and known is None and not is_soft(y):
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(with hard labels; soft-label columns name their classes)."
            )
        target, classes = encode_classes(y, known if classes is None else classes)
        previous = getattr(self, "classes_", None)
        if (not incremental and self.warm_start and previous is not None
                and not np.array_equal(previous, classes)):
            # The previous network's outputs stand for other classes: going on
            # from it is not a warm start (scikit-learn's MLPClassifier refuses).
            raise ValueError(
                "warm_start can only be used where y has the same classes as in "
                f"the previous call to fit: previously {previous.tolist()}, "
                f"now {classes.tolist()}."
            )
        n_classes = classes.shape[0]
        self.classes_ = classes
        # Smoothing, then class weights, as in skdiv._targets; "balanced"
        # counts the rows as given (of every call so far for partial_fit).
        counts = None
        if isinstance(self.class_weight, str):
            counts = class_counts(target, sample_weight, n_classes)
            if incremental and not first:
                counts = counts + getattr(self, "_class_counts", 0.0)
            self._class_counts = counts
        if self.label_smoothing:
            target = smooth(target, self.label_smoothing, n_classes)
        if self.class_weight is not None:
            target, sample_weight = weigh_classes(
                target, sample_weight, self.class_weight, classes, counts
            )
        n_outputs = 1 if n_classes == 2 else n_classes
        return objective_target(target, n_classes), sample_weight, n_outputs

    # -------------------------------------------------------------- predict
    def decision_function(self, X):
        """The network's logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the logit of ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr",
                          dtype=[np.float64, np.float32], reset=False)
        return self._raw(X)

    # One implementation for every classifier (skdiv._class_predictions).
    predict_log_proba = _class_predictions.predict_log_proba
    predict_proba = _class_predictions.predict_proba
    predict = _class_predictions.predict
    score = _class_predictions.score
