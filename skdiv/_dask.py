"""Exact fits on Dask arrays: the adapter evaluated block by block.

Every skdiv objective is a sum over samples, so one evaluation of the loss
and gradient (or of a Hessian-vector product) is the sum, over the row
blocks of ``X``, of :func:`skdiv._linear.data_terms` on each block. The
:class:`DaskLinearObjective` builds that sum as one Dask graph per
evaluation: the parameter vector enters the graph once (a single key every
block task depends on), each block task returns a vector of ``1 + n_outputs
* (n_features + 1)`` numbers, and a tree reduction adds them. ``X`` never
leaves the workers that hold (or compute) its blocks; only parameter-sized
vectors travel, and the solver itself runs, unchanged, in the client process.

The estimators' input handling (validation, label encoding, class weights,
target standardisation, the closed-form least-squares start of the
regressor) is redone here with Dask reductions, again without gathering
``X``: at most ``n_features x n_features`` matrices and ``n_classes``
vectors are computed.

Dask is imported lazily: importing this module does not need it, and a Dask
input without Dask installed gets an error naming the extra to install.
"""

import numpy as np
from sklearn.utils import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._loss import (
    LOG_VAR_LIMIT,
    GaussianKL,
    GaussianNLL,
    LogVarianceHead,
    get_objective,
    with_fixed_mean,
)
from ._scale._dask_model import aligned, dask_linear_risk, import_dask, sum_blocks
from ._scale._dask_model import is_dask_array as _is_dask_array
from ._solvers import minimize
from ._validation import PROBA_SUM_TOL, check_labels_known, check_two_classes

__all__ = [
    "fit_classifier",
    "fit_regressor",
    "is_dask_array",
]

is_dask_array = _is_dask_array


def _block_normal_equations(X, y, sample_weight, _):
    """``X^T W X``, ``X^T W y``, ``X^T w`` and ``w^T y`` of one block."""
    Xw = X * sample_weight[:, None]
    return np.concatenate(
        [(X.T @ Xw).ravel(), Xw.T @ y, Xw.sum(axis=0), [sample_weight @ y]]
    )[None, :]



# ------------------------------------------------------------------ inputs
def _aligned(da, values, X, name="y"):
    """``values`` as a Dask array with the row blocks of ``X``."""
    return aligned(values, X, name)


def _check_X(da, X, dtypes):
    """Shape, dtype and block structure of ``X``; finiteness is checked later."""
    if not isinstance(X, da.Array):
        raise TypeError(
            f"Dask input must be a dask.array.Array, got {type(X).__name__}; "
            "convert a Dask DataFrame with .to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array X, got {X.ndim} dimension(s).")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has unknown chunk sizes; call X.compute_chunk_sizes() first."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X has shape {X.shape}; at least 1 sample and 1 feature "
                         "are required.")
    if X.dtype not in dtypes:
        X = X.astype(dtypes[0])
    return X.rechunk({1: -1}) if X.numblocks[1] != 1 else X


def _checked_sample_weight(da, sample_weight, X):
    if sample_weight is None:
        return None, []
    if not _is_dask_array(sample_weight) and np.ndim(sample_weight) == 0:
        sample_weight = np.full(X.shape[0], float(sample_weight))
    sw = _aligned(da, sample_weight, X, "sample_weight").astype(np.float64)
    if sw.ndim != 1:
        raise ValueError("sample_weight must be 1-D of shape (n_samples,).")
    checks = [
        (~da.isfinite(sw)).any(), "sample_weight contains NaN or infinity.",
        (sw < 0).any(), "Negative values in sample_weight are not allowed.",
        ~(sw > 0).any(), "sample_weight must not be all zero.",
    ]
    return sw, checks


def _raise_failed(dask, checks, extra=()):
    """Compute boolean checks (with ``extra`` results) in one pass; raise the first."""
    flags, messages = checks[0::2], checks[1::2]
    results = dask.compute(*flags, *extra)
    for flag, message in zip(results[: len(flags)], messages, strict=True):
        if bool(flag):
            raise ValueError(message)
    return results[len(flags) :]


def _set_n_features(estimator, X):
    estimator.n_features_in_ = X.shape[1]
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def _encode_block(y, classes, order):
    return order[np.searchsorted(classes, y, sorter=order)]


def _take_block(codes, values):
    return values[codes]


def _onehot_block(codes, n_classes):
    onehot = np.zeros((codes.shape[0], n_classes))
    onehot[np.arange(codes.shape[0]), codes] = 1.0
    return onehot


# -------------------------------------------------------------- classifier
def fit_classifier(estimator, X, y, sample_weight=None):
    """:meth:`DivergenceClassifier.fit` on Dask arrays.

    Same model as the in-memory fit: labels are encoded block by block
    against ``da.unique(y)``; soft labels, class weights, label smoothing and
    the starting point are the in-memory rules written as Dask reductions.
    """
    dask, da = import_dask()
    X = _check_X(da, X, (np.float64, np.float32))
    y = _aligned(da, y, X)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    sw, checks = _checked_sample_weight(da, sample_weight, X)
    checks += [(~da.isfinite(X)).any(), "Input X contains NaN or infinity."]
    soft = y.ndim == 2
    classes = None if estimator.classes is None else np.asarray(estimator.classes)
    if classes is not None:
        classes = classes.ravel()
        if np.unique(classes).shape[0] != classes.shape[0]:
            raise ValueError(f"classes must be unique, got {classes!r}.")

    if soft:
        target = y.astype(np.float64)
        n_classes = target.shape[1]
        if classes is None:
            classes = np.arange(n_classes)
        elif classes.shape[0] != n_classes:
            raise ValueError(
                f"Soft-label y has {n_classes} columns but classes names "
                f"{classes.shape[0]} classes."
            )
        sums = target.sum(axis=1)
        checks += [
            (~da.isfinite(target)).any(), "Input y contains NaN or infinity.",
            (target < 0).any(),
            "soft-label y must hold probabilities, but a row has a negative entry.",
            (abs(sums - 1.0) > PROBA_SUM_TOL).any(),
            f"Rows of soft-label y must sum to 1 (tolerance {PROBA_SUM_TOL:g}).",
        ]
        _raise_failed(dask, checks)
        codes = None
    else:
        (labels,) = _raise_failed(dask, checks, [da.unique(y)])
        check_classification_targets(labels)
        if classes is None:
            classes = labels
        else:
            check_labels_known(labels, classes)
        check_two_classes(classes)
        order = np.argsort(classes, kind="stable")
        codes = y.map_blocks(_encode_block, classes, order, dtype=np.intp)
        n_classes = classes.shape[0]
        target = None
    _set_n_features(estimator, X)
    estimator.classes_ = classes

    def onehot():
        return codes.map_blocks(
            _onehot_block, n_classes, new_axis=1,
            chunks=(codes.chunks[0], (n_classes,)), dtype=np.float64,
        )

    # Class weights: the in-memory rule, s_i -> s_i sum_k c_k p_ik and
    # p_ik -> c_k p_ik / sum_k c_k p_ik.
    if estimator.class_weight is not None:
        if estimator.class_weight == "balanced":
            weights_ = da.ones(X.shape[0], chunks=X.chunks[0]) if sw is None else sw
            if soft:
                counts = da.dot(weights_, target).compute()
            else:
                counts = da.bincount(codes, weights=weights_, minlength=n_classes)
                counts = counts.compute()
            present = counts > 0
            class_w = np.ones_like(counts)
            class_w[present] = counts.sum() / (present.sum() * counts[present])
        else:
            class_w = compute_class_weight(
                estimator.class_weight, classes=classes, y=classes
            )
        base = da.ones(X.shape[0], chunks=X.chunks[0]) if sw is None else sw
        if soft:
            weighted = target * class_w
            row_weight = weighted.sum(axis=1)
            keep = row_weight > 0
            target = da.where(
                keep[:, None], weighted / da.where(keep, row_weight, 1.0)[:, None],
                target,
            )
            sw = base * row_weight
        else:
            sw = base * codes.map_blocks(_take_block, class_w, dtype=np.float64)
    if estimator.label_smoothing:
        target = onehot() if target is None else target
        target = (1.0 - estimator.label_smoothing) * target + (
            estimator.label_smoothing / n_classes
        )

    if target is None:  # hard labels: integer codes (one logit if binary)
        y_fit = (codes == 1).astype(np.float64) if n_classes == 2 else codes
    else:
        y_fit = target[:, 1] if n_classes == 2 else target
    n_outputs = 1 if n_classes == 2 else n_classes

    objective = get_objective(
        estimator.loss, allowed=["cross_entropy", "kl_divergence"]
    )
    problem = dask_linear_risk(
        objective, X, y_fit, n_outputs=n_outputs, sample_weight=sw,
        alpha=estimator.alpha, fit_intercept=estimator.fit_intercept,
    )
    coef = np.zeros((n_outputs, X.shape[1]))
    intercept = None
    if (
        estimator.warm_start
        and hasattr(estimator, "coef_")
        and estimator.coef_.shape == coef.shape
    ):
        coef, intercept = estimator.coef_, estimator.intercept_
    elif estimator.fit_intercept:
        # The intercept-only optimum: logits of the weighted class frequencies.
        if target is None:
            counts = da.bincount(codes, weights=sw, minlength=n_classes)
        else:
            counts = target.sum(axis=0) if sw is None else da.dot(sw, target)
        counts = counts.compute()
        prior = np.clip(counts / problem.weight_sum, 1e-10, 1)
        log_prior = np.log(prior)
        if n_outputs == 1:
            intercept = np.array([log_prior[1] - log_prior[0]])
        else:
            intercept = log_prior - log_prior.mean()
    params, estimator.n_iter_ = minimize(
        problem, problem.pack(coef, intercept), solver=estimator.solver,
        max_iter=estimator.max_iter, tol=estimator.tol, verbose=estimator.verbose,
    )
    estimator.coef_, estimator.intercept_ = problem.unpack(params)
    estimator.objective_ = problem.loss(params)
    return estimator


# --------------------------------------------------------------- regressor
def _penalised_least_squares(X, y, sw, sw_sum, alpha, fit_intercept):
    """The closed form of ``_regressor._penalised_least_squares`` by reductions.

    Normal equations from ``X^T W X`` and ``X^T W y`` (``d x d`` and ``d``),
    centred on the Gram matrix; minimum-norm solution when ``alpha == 0``.
    """
    import scipy.linalg

    d = n_features = X.shape[1]
    total = sum_blocks(
        _block_normal_equations, X, [y, sw], None, d * d + 2 * d + 1
    ).compute()
    gram, rhs = total[: d * d].reshape(d, d), total[d * d : d * d + d]
    if fit_intercept:
        x_mean, y_mean = total[d * d + d : -1] / sw_sum, float(total[-1]) / sw_sum
    else:
        x_mean, y_mean = np.zeros(n_features), 0.0
    gram = gram - sw_sum * np.outer(x_mean, x_mean)
    rhs = rhs - sw_sum * x_mean * y_mean
    if alpha > 0:
        gram[np.diag_indices_from(gram)] += alpha * sw_sum
        coef = scipy.linalg.solve(gram, rhs, assume_a="pos")
    else:
        coef = scipy.linalg.lstsq(gram, rhs)[0]
    return coef, y_mean - float(x_mean @ coef)


def fit_regressor(estimator, X, y, sample_weight=None, y_std=None):
    """:meth:`GaussianRegressor.fit` on Dask arrays.

    The target standardisation and the closed-form constant-variance model
    come from Dask reductions; the heteroscedastic refinement (and the
    beta-NLL loop) is the estimator's own, running on the Dask adapter.
    """
    dask, da = import_dask()
    est = estimator
    X = _check_X(da, X, (np.float64,))
    y = _aligned(da, y, X).astype(np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D of shape (n_samples,), got shape {y.shape}.")
    sw, checks = _checked_sample_weight(da, sample_weight, X)
    if sw is None:
        sw = da.ones(X.shape[0], chunks=X.chunks[0])
    checks += [
        (~da.isfinite(X)).any(), "Input X contains NaN or infinity.",
        (~da.isfinite(y)).any(), "Input y contains NaN or infinity.",
    ]
    if est.loss != "kl_divergence":
        if y_std is not None:
            raise ValueError(
                f"y_std is only used with loss='kl_divergence'; "
                f"loss={est.loss!r} fits point targets. Drop y_std or "
                "use loss='kl_divergence'."
            )
    else:
        if y_std is None:
            raise ValueError(
                "loss='kl_divergence' needs the standard deviation of each "
                "target distribution: call fit(X, y, y_std=...)."
            )
        y_std = _aligned(da, y_std, X, "y_std").astype(np.float64)
        if y_std.ndim != 1:
            raise ValueError(
                f"y_std must be 1-D of shape (n_samples,), got shape {y_std.shape}."
            )
        checks += [
            (~da.isfinite(y_std)).any(), "Input y_std contains NaN or infinity.",
            (y_std <= 0).any(), "y_std must be strictly positive.",
        ]
    est._check_beta()
    (sw_sum, y_sum) = _raise_failed(dask, checks, [sw.sum(), (sw * y).sum()])
    _set_n_features(est, X)

    y_offset = float(y_sum) / sw_sum if est.fit_intercept else 0.0
    y_scale = np.sqrt(float((sw * (y - y_offset) ** 2).sum().compute()) / sw_sum)
    if not y_scale > 0:
        y_scale = 1.0
    y_tilde = (y - y_offset) / y_scale
    log_var_min = 2.0 * np.log(est.min_std)
    if y_std is None:
        objective = GaussianNLL(log_var_min, LOG_VAR_LIMIT)
        target = y_tilde
    else:
        objective = GaussianKL(log_var_min, LOG_VAR_LIMIT)
        target = da.stack([y_tilde, y_std / y_scale], axis=1)

    coef, intercept = _penalised_least_squares(
        X, y_tilde, sw, sw_sum, est.alpha, est.fit_intercept
    )
    mean = X @ coef + intercept
    second_moment = (y_tilde - mean) ** 2
    if y_std is not None:
        second_moment = second_moment + target[:, 1] ** 2
    variance = float((sw * second_moment).sum().compute()) / sw_sum
    variance = max(variance, est.min_std**2)
    var_coef = np.zeros_like(coef)
    var_intercept = float(np.log(variance))
    n_iter = 1

    if est.variance == "heteroscedastic":
        if est.loss == "squared_error":
            problem = dask_linear_risk(
                LogVarianceHead(objective), X, with_fixed_mean(da, target, mean),
                n_outputs=1,
                sample_weight=sw, alpha=est.alpha, fit_intercept=True,
            )
            params, n_solver = minimize(
                problem, problem.pack(np.zeros((1, X.shape[1])), [var_intercept]),
                solver=est.solver, max_iter=est.max_iter, tol=est.tol,
                verbose=est.verbose,
            )
            var_coef, var_intercept = problem.unpack(params)
            var_coef, var_intercept = var_coef[0], float(var_intercept[0])
        else:
            # The estimator's own joint fit and beta-NLL loop, on the Dask
            # model.
            (coef, var_coef), (intercept, var_intercept), n_solver = est._fit_joint(
                X, target, sw, objective,
                np.vstack([coef, var_coef]), [intercept, var_intercept],
            )
        n_iter += n_solver

    scoring = dask_linear_risk(
        objective, X, target, n_outputs=2, sample_weight=sw, alpha=est.alpha,
        fit_intercept=True, precondition="none", weight_sum=sw_sum,
    )
    est.objective_ = scoring.loss(
        scoring.pack(np.vstack([coef, var_coef]), [intercept, var_intercept])
    )
    est._set_solution(coef, intercept, var_coef, var_intercept, y_offset, y_scale)
    est.n_iter_ = n_iter
    return est
