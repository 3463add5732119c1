r"""Targets and weights, prepared once for every fitting path.

The in-memory ``fit``, the Dask fit (:mod:`skdiv._dask`) and the streaming
``partial_fit`` (:mod:`skdiv._stochastic`) prepare what the objective sees
with the functions of this module, so that the rules (and the error
messages) are written once:

* **Sample weights**: :func:`check_sample_weight`, whose value checks are
  :func:`raise_for_sample_weight` on four reductions (any NaN, any infinity,
  minimum, maximum), so that a Dask fit computes the same reductions lazily
  and raises the same messages.
* **Classification**: label encoding (:func:`encode_classes`), class
  weights (:func:`class_weight_vector` on weighted, possibly soft, class
  counts; :func:`reweight_soft_rows`), label smoothing (:func:`smooth`), the
  objective's target (:func:`objective_target`) and the intercept-only start
  (:func:`intercept_only_start`), composed by
  :func:`prepare_classification`.
* **Regression**: the checks of ``y_std`` and ``beta`` against the loss,
  the standardisation of ``y`` (:func:`target_scaling`), and the
  closed-form constant-variance start (:func:`penalised_least_squares`,
  :func:`solve_centred_normal_equations`, :func:`constant_log_variance`).

Every function is pure: it returns arrays or small frozen dataclasses and
touches no estimator, so that an estimator can validate and prepare
everything before it changes any of its attributes (a fit that raises
leaves it as it was). The fitted solutions that the scale layer hands back
to the estimators (:class:`LinearSolution`, :class:`GaussianSolution`) are
defined here too, as they are expressed in the prepared target's units.
"""

import numbers
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils import check_array, check_consistent_length, compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from ._linear import row_blocks
from ._objectives import LOG_VAR_LIMIT, GaussianKL, GaussianNLL
from ._validation import check_probability_rows, check_two_classes, encode_labels

__all__ = [
    "GaussianSolution",
    "LinearSolution",
    "PreparedClassification",
    "PreparedRegression",
    "TargetScaling",
    "check_beta",
    "check_sample_weight",
    "check_unique_classes",
    "check_y_std",
    "class_counts",
    "class_weight_vector",
    "constant_log_variance",
    "encode_classes",
    "intercept_only_start",
    "objective_target",
    "penalised_least_squares",
    "prepare_classification",
    "prepare_regression",
    "probabilities",
    "raise_for_sample_weight",
    "reweight_soft_rows",
    "ridge_normal_equations",
    "smooth",
    "solve_centred_normal_equations",
    "target_scaling",
]


# ------------------------------------------------------------ sample weights
def raise_for_sample_weight(any_nan, any_inf, minimum, maximum):
    """Raise the ValueError for the first problem of a weight vector, if any.

    The one set of messages for sample weights in skdiv: estimators (``fit``,
    ``partial_fit``, the Dask fit) and metrics all end here. It works on
    four reductions of the weights, so that a Dask fit can compute them
    lazily, together with its other checks, in one pass over the data.

    Parameters
    ----------
    any_nan, any_inf : bool
        Whether some weight is NaN, or infinite.
    minimum, maximum : float
        The smallest and largest weight (meaningless when ``any_nan``).

    Raises
    ------
    ValueError
        For NaN or infinite weights, negative weights, or weights that are
        all zero.
    """
    if any_nan:
        raise ValueError("Input sample_weight contains NaN.")
    if any_inf:
        raise ValueError("Input sample_weight contains infinity.")
    if minimum < 0:
        raise ValueError(
            f"sample_weight must be non-negative, got minimum {float(minimum)!r}."
        )
    if not maximum > 0:
        raise ValueError(
            "sample_weight must contain at least one non-zero weight, "
            "but all weights are zero."
        )


def sample_weight_reductions(xp, sample_weight):
    """The four reductions :func:`raise_for_sample_weight` needs (lazy on Dask)."""
    return (
        xp.isnan(sample_weight).any(),
        xp.isinf(sample_weight).any(),
        sample_weight.min(),
        sample_weight.max(),
    )


def check_sample_weight_shape(shape, n_samples):
    """Raise a ValueError unless ``shape`` is ``(n_samples,)``."""
    if len(shape) != 1:
        raise ValueError(
            f"sample_weight must be 1-D of shape (n_samples,) = ({n_samples},), "
            f"got shape {tuple(shape)}."
        )
    if shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {shape[0]} entries but there are {n_samples} "
            "samples."
        )


def check_sample_weight(sample_weight, n_samples):
    """Validate sample weights: the one validator of skdiv.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        Weights; None gives ones, a number gives that weight to every sample.
    n_samples : int
        The number of samples the weights belong to.

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,), float64
        Finite, non-negative and not all zero.

    Raises
    ------
    ValueError
        For a wrong shape, a non-numeric value, NaN or infinity, a negative
        weight, or weights that are all zero (see
        :func:`raise_for_sample_weight`).
    """
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    else:
        sample_weight = check_array(
            sample_weight, ensure_2d=False, ensure_all_finite=False,
            ensure_min_samples=0, dtype=np.float64, input_name="sample_weight",
        )
        check_sample_weight_shape(sample_weight.shape, n_samples)
    if n_samples:
        raise_for_sample_weight(*sample_weight_reductions(np, sample_weight))
    return sample_weight


# ------------------------------------------------------------ classification
def check_unique_classes(classes):
    """``classes`` as a 1-D array, or None; a ValueError if it repeats a label."""
    if classes is None:
        return None
    classes = column_or_1d(classes)
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise ValueError(f"classes must be unique, got {classes!r}.")
    return classes


def is_soft(y):
    """Whether a validated ``y`` holds probability rows (2-D, several columns)."""
    return y.ndim == 2 and y.shape[1] > 1


def encode_classes(y, classes=None):
    """Integer codes of hard labels, or soft labels as probability rows.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Labels (any type), or rows of probabilities.
    classes : array-like of shape (n_classes,), default=None
        The class labels: with soft labels they name the columns
        (``arange(n_classes)`` when None); with hard labels they may list
        classes absent from ``y``.

    Returns
    -------
    target : ndarray of shape (n_samples,) of int or (n_samples, n_classes)
        ``classes[target] == y`` for hard labels; the validated float64 rows
        for soft ones.
    classes : ndarray of shape (n_classes,)
    """
    classes = check_unique_classes(classes)
    if is_soft(y):
        y = check_array(y, dtype=np.float64, ensure_all_finite=True, input_name="y")
        if classes is None:
            classes = np.arange(y.shape[1])
        elif classes.shape[0] != y.shape[1]:
            raise ValueError(
                f"Soft-label y has {y.shape[1]} columns but classes names "
                f"{classes.shape[0]} classes."
            )
        check_probability_rows(y, name="soft-label y")
        return y, classes
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if classes is None:
        classes, codes = np.unique(y, return_inverse=True)
    else:
        codes = encode_labels(y, classes)
    check_two_classes(classes)
    return codes, classes


def probabilities(target, n_classes):
    """Rows of class probabilities: one-hot rows for integer codes."""
    if target.ndim == 2:
        return target
    onehot = np.zeros((target.shape[0], n_classes))
    onehot[np.arange(target.shape[0]), target] = 1.0
    return onehot


def class_counts(target, sample_weight, n_classes):
    r"""Weighted (soft) class counts :math:`\sum_i s_i p_{ik}`."""
    if target.ndim == 1:
        return np.bincount(target, weights=sample_weight, minlength=n_classes)
    return sample_weight @ target


def class_weight_vector(class_weight, classes, counts=None):
    r"""The weight :math:`c_k` of each class.

    Parameters
    ----------
    class_weight : dict or "balanced"
        A dict maps labels to weights (classes not named get 1), as
        :func:`sklearn.utils.compute_class_weight`. ``"balanced"`` is
        scikit-learn's rule on weighted, possibly soft, class counts
        :math:`n_k = \sum_i s_i p_{ik}`:

        .. math::

            c_k = \frac{\sum_j n_j}{K' n_k}

        over the :math:`K'` classes with :math:`n_k > 0` (the others get 1).
    classes : ndarray of shape (n_classes,)
    counts : ndarray of shape (n_classes,), default=None
        The class counts; needed for ``"balanced"`` only (see
        :func:`class_counts`).

    Returns
    -------
    weights : ndarray of shape (n_classes,)
    """
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        present = counts > 0
        weights = np.ones_like(counts)
        weights[present] = counts.sum() / (present.sum() * counts[present])
        return weights
    return compute_class_weight(class_weight, classes=classes, y=classes)


def reweight_soft_rows(target, sample_weight, weights, xp=np):
    r"""Class weights on probability rows, as row weights and renormalised rows.

    .. math::

        -\sum_k c_k p_{ik} \log q_{ik} = s'_i\, \mathrm{CE}(p'_i, q_i),
        \qquad s'_i = \sum_k c_k p_{ik}, \quad p'_{ik} = c_k p_{ik} / s'_i ,

    the exact equivalent of duplicating each row once per class with weight
    :math:`c_k p_{ik}`. Rows with :math:`s'_i = 0` keep their target (their
    weight is 0). ``xp`` is ``numpy`` or ``dask.array``.

    Returns
    -------
    target : array of shape (n_samples, n_classes)
    sample_weight : array of shape (n_samples,)
    """
    weighted = target * weights
    row_weight = weighted.sum(axis=1)
    keep = row_weight > 0
    target = xp.where(
        keep[:, None], weighted / xp.where(keep, row_weight, 1.0)[:, None], target
    )
    return target, sample_weight * row_weight


def smooth(target, label_smoothing, n_classes):
    r"""Label smoothing :math:`(1 - \epsilon) p_i + \epsilon / K` (PyTorch's)."""
    return (1.0 - label_smoothing) * probabilities(target, n_classes) + (
        label_smoothing / n_classes
    )


def objective_target(target, n_classes):
    """What the objective sees: one column for two classes, codes when one-hot.

    Binary: the probability of the second class (one logit). Otherwise
    integer codes when every row is one-hot (a cheaper objective path), else
    the rows.
    """
    if n_classes == 2:
        return target[:, 1].copy() if target.ndim == 2 else (target == 1) * 1.0
    if target.ndim == 1:
        return target
    if np.all(target.max(axis=1) == 1.0):
        return target.argmax(axis=1)
    return target


def intercept_only_start(counts, weight_sum, n_outputs):
    r"""The intercept-only optimum: logits of the weighted class frequencies.

    :math:`\pi_k = n_k / \sum_i s_i`, clipped to :math:`[10^{-10}, 1]`; the
    intercepts are :math:`\log \pi_k` centred to sum zero, or
    :math:`\log \pi_1 - \log \pi_0` for one output.
    """
    log_prior = np.log(np.clip(counts / weight_sum, 1e-10, 1))
    if n_outputs == 1:
        return np.array([log_prior[1] - log_prior[0]])
    return log_prior - log_prior.mean()


@dataclass(frozen=True)
class PreparedClassification:
    """What the classifier's objective is fitted to.

    Attributes
    ----------
    target : ndarray
        The objective's target (see :func:`objective_target`).
    sample_weight : ndarray of shape (n_samples,)
        Sample weights with the class weights folded in.
    classes : ndarray of shape (n_classes,)
    n_outputs : int
        1 for two classes, else ``n_classes``.
    counts : ndarray of shape (n_classes,)
        Weighted class counts of the final (weighted, smoothed) targets,
        for the intercept-only start.
    """

    target: np.ndarray
    sample_weight: np.ndarray
    classes: np.ndarray
    n_outputs: int
    counts: np.ndarray = field(repr=False)

    def intercept_start(self):
        """The intercept-only start (:func:`intercept_only_start`)."""
        return intercept_only_start(
            self.counts, self.sample_weight.sum(), self.n_outputs
        )


def prepare_classification(
    y, sample_weight, *, classes=None, class_weight=None, label_smoothing=0.0
):
    """Encode, weight and smooth classification targets (in memory).

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Validated labels or probability rows.
    sample_weight : ndarray of shape (n_samples,)
        Validated sample weights (:func:`check_sample_weight`).
    classes, class_weight, label_smoothing
        The classifier's parameters of those names.

    Returns
    -------
    PreparedClassification
    """
    target, classes = encode_classes(y, classes)
    n_classes = classes.shape[0]
    if class_weight is not None:
        counts = None
        if isinstance(class_weight, str):
            counts = class_counts(target, sample_weight, n_classes)
        weights = class_weight_vector(class_weight, classes, counts)
        if target.ndim == 1:
            # A hard label's row is one-hot: its weight is its class's.
            sample_weight = sample_weight * weights[target]
        else:
            target, sample_weight = reweight_soft_rows(target, sample_weight, weights)
    if label_smoothing:
        target = smooth(target, label_smoothing, n_classes)
    return PreparedClassification(
        target=objective_target(target, n_classes),
        sample_weight=sample_weight,
        classes=classes,
        n_outputs=1 if n_classes == 2 else n_classes,
        counts=class_counts(target, sample_weight, n_classes),
    )


# ---------------------------------------------------------------- regression
def check_beta(loss, beta):
    """Raise a ValueError for ``beta > 0`` with ``loss="squared_error"``."""
    if loss == "squared_error" and beta > 0:
        raise ValueError(
            "beta > 0 weights the joint mean-variance fit of "
            "loss='gaussian_nll' or 'kl_divergence'; loss='squared_error' "
            f"fits the mean by least squares already. Got beta={beta}."
        )


def check_y_std_presence(loss, y_std):
    """``y_std`` is required by ``loss="kl_divergence"`` and refused otherwise."""
    if loss != "kl_divergence":
        if y_std is not None:
            raise ValueError(
                f"y_std is only used with loss='kl_divergence'; "
                f"loss={loss!r} fits point targets. Drop y_std or "
                "use loss='kl_divergence'."
            )
    elif y_std is None:
        raise ValueError(
            "loss='kl_divergence' needs the standard deviation of each "
            "target distribution: call fit(X, y, y_std=...)."
        )


#: The message for a ``y_std`` that is not strictly positive.
Y_STD_POSITIVE = "y_std must be strictly positive."


def check_y_std(y_std, y, *, loss, beta):
    """Validate ``y_std`` (and ``beta``) against ``loss``.

    Returns
    -------
    y_std : ndarray of shape (n_samples,) or None
        None unless ``loss="kl_divergence"``.
    """
    check_beta(loss, beta)
    check_y_std_presence(loss, y_std)
    if y_std is None:
        return None
    y_std = check_array(y_std, ensure_2d=False, dtype=np.float64, input_name="y_std")
    if y_std.ndim != 1:
        raise ValueError(
            f"y_std must be 1-D of shape (n_samples,), got shape {y_std.shape}."
        )
    check_consistent_length(y, y_std)
    if np.any(y_std <= 0):
        raise ValueError(Y_STD_POSITIVE)
    return y_std


@dataclass(frozen=True)
class TargetScaling:
    r"""The standardisation :math:`\tilde y = (y - \text{offset}) / \text{scale}`."""

    offset: float
    scale: float

    def standardise(self, y):
        return (y - self.offset) / self.scale


def target_scaling(y, sample_weight, *, fit_intercept, compute=None):
    r"""The weighted mean and standard deviation of ``y``.

    .. math::

        \bar y = \frac{\sum_i s_i y_i}{\sum_i s_i}, \qquad
        s_y = \sqrt{\frac{\sum_i s_i (y_i - \bar y)^2}{\sum_i s_i}},

    with :math:`\bar y = 0` without ``fit_intercept`` (the deviation is
    then about 0) and :math:`s_y = 1` for a constant target.

    Parameters
    ----------
    y, sample_weight : arrays of shape (n_samples,)
        NumPy or Dask arrays.
    fit_intercept : bool
    compute : callable, default=None
        Applied to each reduction before it is used (``dask.compute`` for
        Dask arrays); None for NumPy.

    Returns
    -------
    TargetScaling
    """
    def value(reduction):
        return float(reduction if compute is None else compute(reduction))

    weight_sum = value(sample_weight.sum())
    offset = value((sample_weight * y).sum()) / weight_sum if fit_intercept else 0.0
    scale = np.sqrt(value((sample_weight * (y - offset) ** 2).sum()) / weight_sum)
    return TargetScaling(offset, float(scale) if scale > 0 else 1.0)


@dataclass(frozen=True)
class PreparedRegression:
    """What the regressor's objective is fitted to.

    Attributes
    ----------
    target : ndarray of shape (n_samples,) or (n_samples, 2)
        The standardised target, with the standardised ``y_std`` as a second
        column for ``loss="kl_divergence"``.
    objective : GaussianNLL or GaussianKL
        The Gaussian objective, with the log-variance bounds of ``min_std``.
    scaling : TargetScaling
    """

    target: np.ndarray
    objective: object
    scaling: TargetScaling

    @property
    def mean_target(self):
        """The standardised point target (the first column)."""
        return self.target if self.target.ndim == 1 else self.target[:, 0]


def prepare_regression(y, y_std, scaling, *, min_std, xp=np):
    r"""Standardised target and Gaussian objective of the regressor.

    ``y_std`` (already validated) makes the objective the Gaussian KL
    divergence with the target's standard deviation
    :math:`\tau_i / s_y` as a second column.
    """
    y_tilde = scaling.standardise(y)
    log_var_min = 2.0 * np.log(min_std)
    if y_std is None:
        return PreparedRegression(
            y_tilde, GaussianNLL(log_var_min, LOG_VAR_LIMIT), scaling
        )
    target = xp.stack([y_tilde, y_std / scaling.scale], axis=1)
    return PreparedRegression(target, GaussianKL(log_var_min, LOG_VAR_LIMIT), scaling)


def constant_log_variance(second_moment, min_std):
    r"""Log of the maximum-likelihood variance, floored at ``min_std ** 2``.

    ``second_moment`` is the weighted mean squared residual (plus the
    weighted mean of :math:`\tau_i^2` for the KL divergence).
    """
    return float(np.log(max(second_moment, min_std**2)))


def ridge_normal_equations(X, target, sample_weight, x_mean, alpha):
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


def solve_centred_normal_equations(gram, rhs, x_mean, y_mean, sw_sum, alpha):
    r"""Penalised least squares from uncentred weighted moments.

    ``gram`` is :math:`X^\top S X` and ``rhs`` :math:`X^\top S y`; centring
    is applied to them (:math:`- S_\Sigma \bar x \bar x^\top` and
    :math:`- S_\Sigma \bar x \bar y`, :math:`S_\Sigma = \sum_i s_i`), so the
    data are never centred. ``alpha > 0`` solves the positive-definite
    system with :math:`\alpha S_\Sigma` added to the diagonal; ``alpha == 0``
    takes the least-squares (minimum-norm) solution. Used for sparse ``X``
    and, on reductions over row blocks, for Dask arrays.

    Returns ``(coef, intercept)``.
    """
    gram = gram - sw_sum * np.outer(x_mean, x_mean)
    rhs = rhs - sw_sum * x_mean * y_mean
    if alpha > 0:
        gram[np.diag_indices_from(gram)] += alpha * sw_sum
        coef = scipy.linalg.solve(gram, rhs, assume_a="pos")
    else:
        coef = scipy.linalg.lstsq(gram, rhs)[0]
    return coef, y_mean - float(x_mean @ coef)


def penalised_least_squares(X, y, sample_weight, alpha, fit_intercept):
    r"""Closed-form minimiser of the penalised weighted squared error.

    Minimises :math:`\frac{1}{2S}\sum_i s_i (y_i - x_i w - b)^2 +
    \frac{\alpha}{2}\lVert w \rVert^2` with :math:`S = \sum_i s_i`, i.e.
    ``Ridge(alpha=alpha * S)``. Dense, tall ``X`` (at least four rows per
    feature): normal equations, see :func:`ridge_normal_equations`. Other
    dense ``X``: least squares on the augmented,
    weighted, centred system (minimum-norm solution when ``alpha == 0``, as
    ``LinearRegression``). Sparse ``X``: normal equations built with sparse
    products, centring applied to the Gram matrix so ``X`` is never densified
    (:func:`solve_centred_normal_equations`).

    Returns ``(coef, intercept)``.
    """
    n_features = X.shape[1]
    sw_sum = sample_weight.sum()
    if fit_intercept:
        x_mean = np.asarray(X.T @ sample_weight).ravel() / sw_sum
        y_mean = float(np.average(y, weights=sample_weight))
    else:
        x_mean = np.zeros(n_features)
        y_mean = 0.0
    if n_features == 0:
        return np.zeros(0), y_mean
    if sp.issparse(X):
        weighted_x = X.multiply(sample_weight[:, None]).tocsr()
        gram = np.asarray((X.T @ weighted_x).toarray(), dtype=np.float64)
        rhs = np.asarray(weighted_x.T @ y).ravel()
        return solve_centred_normal_equations(
            gram, rhs, x_mean, y_mean, sw_sum, alpha
        )
    if X.shape[0] >= 4 * n_features:
        coef = ridge_normal_equations(X, y - y_mean, sample_weight, x_mean, alpha)
    else:
        root_w = np.sqrt(sample_weight)
        design = (X - x_mean) * root_w[:, None]
        target = (y - y_mean) * root_w
        if alpha > 0:
            design = np.vstack([design, np.sqrt(alpha * sw_sum) * np.eye(n_features)])
            target = np.concatenate([target, np.zeros(n_features)])
        coef = scipy.linalg.lstsq(design, target)[0]
    return coef, y_mean - float(x_mean @ coef)


# ------------------------------------------------------------------ solutions
@dataclass(frozen=True)
class LinearSolution:
    """A fitted linear classifier, as the estimator stores it.

    ``n_features_in_`` and ``feature_names_in_`` (None: no names) are the
    feature attributes validated with the data; ``stream`` the state of a
    streaming fit (None for ``fit``).
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    objective: float
    classes: np.ndarray
    n_features_in: int
    feature_names_in: object = None
    stream: object = None


@dataclass(frozen=True)
class GaussianSolution:
    """A fitted Gaussian regressor, in standardised target units.

    ``coef`` and ``intercept`` are the mean's, ``var_coef`` and
    ``var_intercept`` the log-variance's, for the target standardised by
    ``scaling``; the estimator maps them to target units.
    """

    coef: np.ndarray
    intercept: float
    var_coef: np.ndarray
    var_intercept: float
    scaling: TargetScaling
    n_iter: int
    objective: float
    n_features_in: int
    feature_names_in: object = None
    stream: object = None
