"""Exact fits on Dask arrays: the adapter evaluated block by block.

Every skdiv objective is a sum over samples, so one evaluation of the loss
and gradient (or of a Hessian-vector product) is the sum, over the row
blocks of ``X``, of the linear model's row-block kernels on each block:
:class:`skdiv._scale._dask_model.DaskLinearModel` builds that sum as one
Dask graph per evaluation, and the solver runs, unchanged, in the client
process on the same adapter as in memory.

The estimators' input handling (validation, label encoding, class weights,
target standardisation, the closed-form least-squares start of the
regressor) follows the rules of :mod:`skdiv._targets`, applied to Dask
arrays or to Dask reductions, again without gathering ``X``: at most
``n_features x n_features`` matrices and ``n_classes`` vectors are
computed. The functions here read the estimator's parameters and return a
solution for it to store; they never write to it.

Dask is imported lazily: importing this module does not need it, and a Dask
input without Dask installed gets an error naming the extra to install.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from .._gaussian import fit_joint, fit_log_variance, warm_start_point
from .._loss import get_objective
from .._solvers import minimize
from .._targets import (
    Y_STD_POSITIVE,
    GaussianSolution,
    LinearSolution,
    check_beta,
    check_sample_weight_shape,
    check_y_std_presence,
    class_weight_vector,
    constant_log_variance,
    intercept_only_start,
    normalised_rows,
    prepare_regression,
    raise_for_sample_weight,
    raise_for_weighted_total,
    reweight_soft_rows,
    sample_weight_reductions,
    solve_centred_normal_equations,
    target_scaling,
)
from .._validation import (
    check_labels_known,
    check_two_classes,
    class_columns,
    feature_scale_limit,
    feature_scale_message,
    raise_for_probability_range,
    raise_for_row_sums,
    row_sum_tolerance,
)
from ._dask_model import (
    aligned,
    dask_linear_risk,
    import_dask,
    is_dask_array,
    moment_totals,
    raise_for_unknown_chunks,
    sum_blocks,
)

__all__ = [
    "fit_classifier",
    "fit_regressor",
    "is_dask_array",
]


def _block_normal_equations(X, y, sample_weight, shift):
    """``X^T W X``, ``X^T W y``, ``X^T w`` and ``w^T y`` of one block, for
    ``X - shift``."""
    X = X - shift
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
    raise_for_unknown_chunks(X, "X")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X has shape {X.shape}; at least 1 sample and 1 feature "
                         "are required.")
    if X.dtype not in dtypes:
        X = X.astype(dtypes[0])
    return X.rechunk({1: -1}) if X.numblocks[1] != 1 else X


def _checked_sample_weight(da, sample_weight, X):
    """Sample weights aligned to ``X``, and their lazy reductions.

    The shape is checked at once, the values by
    :func:`skdiv._targets.raise_for_sample_weight` on the reductions once
    they are computed (with the other checks, in one pass): the in-memory
    validator's rules and messages.
    """
    if sample_weight is None:
        return None, None
    if not is_dask_array(sample_weight) and np.ndim(sample_weight) == 0:
        sample_weight = np.full(X.shape[0], float(sample_weight))
    if not is_dask_array(sample_weight):
        sample_weight = np.asarray(sample_weight)
    raise_for_unknown_chunks(sample_weight, "sample_weight")
    check_sample_weight_shape(sample_weight.shape, X.shape[0])
    sw = _aligned(da, sample_weight, X, "sample_weight").astype(np.float64)
    return sw, sample_weight_reductions(da, sw)


def _feature_scale_check(da, X):
    """The in-memory :func:`~skdiv._validation.check_feature_scale`, lazily."""
    limit = feature_scale_limit(X.dtype, X.shape[0])
    return [
        (abs(X) > limit).any(),
        f"X has entries above {limit:.3g} in absolute value: "
        + feature_scale_message(X.dtype, X.shape[0]),
    ]


def _raise_failed(dask, weight_reductions, checks, extra=()):
    """Compute the checks (with ``extra`` results) in one pass; raise the first.

    ``weight_reductions`` (or None) are checked first, by the in-memory
    rules; ``checks`` alternate lazy booleans and their messages.
    """
    weight_reductions = () if weight_reductions is None else weight_reductions
    flags, messages = checks[0::2], checks[1::2]
    results = dask.compute(*weight_reductions, *flags, *extra)
    n_weight = len(weight_reductions)
    if n_weight:
        raise_for_sample_weight(*results[:n_weight])
    results = results[n_weight:]
    for flag, message in zip(results[: len(flags)], messages, strict=True):
        if bool(flag):
            raise ValueError(message)
    return results[len(flags) :]


def _early_moments(estimator, X, sw):
    """The change of variables' feature moments, to compute with the checks.

    ``[lazy totals]`` of :func:`~skdiv._scale._dask_model.moment_totals`
    when the model's sample weights are already known (no class weights to
    fold in) and its ``"auto"`` preconditioning whitens (up to 1000
    features, :func:`skdiv._model._coordinates.choose_change_of_variables`),
    so that the moments need no pass of their own, with the number of
    entries of ``X`` not finite as their last term; ``[]`` otherwise.
    """
    if estimator.class_weight is not None or X.shape[1] > 1000:
        return []
    return [moment_totals(X, sw, matrix=True, count_nonfinite=True)]


def _finite_check(checks, moments):
    """The check of ``X``'s values from the early moments' count, if computed.

    ``X``'s blocks are then read once for both.
    """
    if moments:
        checks[0] = moments[0][0, -1] > 0


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
    the starting point are the rules of :mod:`skdiv._targets` applied to
    Dask arrays and reductions. Reads the estimator's parameters (and, for
    ``warm_start``, its coefficients), never writes to it: returns a
    :class:`~skdiv._targets.LinearSolution` for the estimator to store.
    """
    dask, da = import_dask()
    X = _check_X(da, X, (np.float64, np.float32))
    y = _aligned(da, y, X)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    sw, weight_checks = _checked_sample_weight(da, sample_weight, X)
    checks = [(~da.isfinite(X)).any(), "Input X contains NaN or infinity.",
              *_feature_scale_check(da, X)]
    soft = y.ndim == 2
    # Sorted, as scikit-learn's classes_ (positional soft columns with them).
    classes = class_columns(y, estimator.classes)[1]
    plain_counts = None

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
        checks += [(~da.isfinite(target)).any(), "Input y contains NaN or infinity."]
        # The in-memory rule of skdiv._validation.check_probability_rows, on
        # reductions: the extreme entries, and the rows off by more than tol.
        tol = row_sum_tolerance(np.float64)
        deviation = abs(target.sum(axis=1) - 1.0)
        proba_checks = [
            target.min(), target.max(), (deviation > tol).sum(), deviation.argmax()
        ]
        moments = _early_moments(estimator, X, sw)
        _finite_check(checks, moments)
        minimum, maximum, n_bad, worst, *moments = _raise_failed(
            dask, weight_checks, checks, proba_checks + moments
        )
        name = "soft-label y"
        raise_for_probability_range(minimum, maximum, name, tol)
        if n_bad:
            worst_sum = float(target[int(worst)].sum().compute())
            raise_for_row_sums(name, tol, n_bad, worst, worst_sum)
        target = normalised_rows(target)
        codes = None
    else:
        moments = _early_moments(estimator, X, sw)
        _finite_check(checks, moments)
        labels, label_counts, *moments = _raise_failed(
            dask, weight_checks, checks,
            [*da.unique(y, return_counts=True), *moments],
        )
        check_classification_targets(labels)
        if classes is None:
            classes = labels
        else:
            check_labels_known(labels, classes)
        check_two_classes(classes)
        if sw is None and estimator.class_weight is None and (
            not estimator.label_smoothing
        ):
            # The unweighted class counts of the intercept-only start.
            by_label = dict(zip(labels.tolist(), label_counts.tolist(), strict=True))
            plain_counts = np.array(
                [by_label.get(c, 0) for c in classes.tolist()], dtype=np.float64
            )
        order = np.argsort(classes, kind="stable")
        codes = y.map_blocks(_encode_block, classes, order, dtype=np.intp)
        n_classes = classes.shape[0]
        target = None

    def onehot():
        return codes.map_blocks(
            _onehot_block, n_classes, new_axis=1,
            chunks=(codes.chunks[0], (n_classes,)), dtype=np.float64,
        )

    def lazy_counts(target, weights):
        if target is None:
            return da.bincount(codes, weights=weights, minlength=n_classes)
        if weights is None:
            return target.sum(axis=0)
        return da.dot(weights, target)

    def counts_of(target, weights):
        return lazy_counts(target, weights).compute()

    # Smoothing, then class weights, as in memory (skdiv._targets);
    # "balanced" counts the rows as given.
    base = da.ones(X.shape[0], chunks=X.chunks[0]) if sw is None else sw
    counts = None
    if estimator.class_weight == "balanced":
        counts = counts_of(target, base)
    if estimator.label_smoothing:
        target = onehot() if target is None else target
        target = (1.0 - estimator.label_smoothing) * target + (
            estimator.label_smoothing / n_classes
        )
    final_counts = None
    if estimator.class_weight is not None:
        class_w = class_weight_vector(estimator.class_weight, classes, counts)
        unweighted = target
        if target is not None:
            target, sw = reweight_soft_rows(target, base, class_w, xp=da)
        else:
            sw = base * codes.map_blocks(_take_block, class_w, dtype=np.float64)
        # The class counts of the intercept-only start, computed with the
        # check that the class weights leave some weight (before the model's
        # moments, which would divide by it).
        final_counts, total = dask.compute(lazy_counts(target, sw), sw.sum())
        raise_for_weighted_total(
            total,
            estimator.class_weight,
            classes,
            class_w,
            lambda: counts_of(unweighted, base),
            soft=unweighted is not None,
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
        # Without the count of entries not finite.
        moments=moments[0][:, :-1] if moments else None,
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
        counts = plain_counts if plain_counts is not None else final_counts
        if counts is None:
            counts = counts_of(target, sw)
        intercept = intercept_only_start(counts, problem.weight_sum, n_outputs)
    params, n_iter = minimize(
        problem, problem.pack(coef, intercept), solver=estimator.solver,
        max_iter=estimator.max_iter, tol=estimator.tol, verbose=estimator.verbose,
    )
    coef, intercept = problem.unpack(params)
    return LinearSolution(
        coef=coef, intercept=intercept, n_iter=n_iter,
        objective=problem.loss(params), classes=classes,
        n_features_in=X.shape[1],
    )


# --------------------------------------------------------------- regressor
def _least_squares_by_reductions(X, y, sw, sw_sum, alpha, fit_intercept):
    """:func:`skdiv._targets.penalised_least_squares` by reductions.

    ``X^T W X``, ``X^T W y``, ``X^T w`` and ``w^T y`` (``d x d`` and ``d``)
    summed over the row blocks, then the shared
    :func:`~skdiv._targets.solve_centred_normal_equations`.
    """
    d = n_features = X.shape[1]
    # The moments of X minus one of its rows: centring them subtracts
    # S (mean - shift)(mean - shift)^T, of the features' spread, where the
    # uncentred moments' S mean mean^T cancelled every digit for features of
    # large mean (X + 1e8).
    shift = (np.asarray(X[0].compute(), dtype=np.float64) if fit_intercept
             else np.zeros(n_features))
    total = sum_blocks(
        _block_normal_equations, X, [y, sw], shift, d * d + 2 * d + 1
    ).compute()[0]
    gram, rhs = total[: d * d].reshape(d, d), total[d * d : d * d + d]
    if fit_intercept:
        x_mean, y_mean = total[d * d + d : -1] / sw_sum, float(total[-1]) / sw_sum
    else:
        x_mean, y_mean = np.zeros(n_features), 0.0
    coef, intercept = solve_centred_normal_equations(
        gram, rhs, x_mean, y_mean, sw_sum, alpha, X.shape[0]
    )
    return coef, intercept - float(shift @ coef)


def fit_regressor(estimator, X, y, sample_weight=None, y_std=None):
    """:meth:`GaussianRegressor.fit` on Dask arrays.

    The target standardisation and the closed-form constant-variance model
    come from Dask reductions; the heteroscedastic refinement (and the
    beta-NLL loop) is :mod:`skdiv._gaussian`'s, running on the Dask adapter.
    Reads the estimator's parameters, never writes to it: returns a
    :class:`~skdiv._targets.GaussianSolution` for the estimator to store.
    """
    dask, da = import_dask()
    est = estimator
    X = _check_X(da, X, (np.float64,))
    y = _aligned(da, y, X).astype(np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D of shape (n_samples,), got shape {y.shape}.")
    sw, weight_checks = _checked_sample_weight(da, sample_weight, X)
    if sw is None:
        sw = da.ones(X.shape[0], chunks=X.chunks[0])
    checks = [
        (~da.isfinite(X)).any(), "Input X contains NaN or infinity.",
        (~da.isfinite(y)).any(), "Input y contains NaN or infinity.",
        *_feature_scale_check(da, X),
    ]
    check_y_std_presence(est.loss, y_std)
    if y_std is not None:
        y_std = _aligned(da, y_std, X, "y_std").astype(np.float64)
        if y_std.ndim != 1:
            raise ValueError(
                f"y_std must be 1-D of shape (n_samples,), got shape {y_std.shape}."
            )
        checks += [
            (~da.isfinite(y_std)).any(), "Input y_std contains NaN or infinity.",
            (y_std <= 0).any(), Y_STD_POSITIVE,
        ]
    check_beta(est.loss, est.beta)
    _raise_failed(dask, weight_checks, checks)

    def compute(reduction):
        return reduction.compute()

    scaling = target_scaling(y, sw, fit_intercept=est.fit_intercept, compute=compute)
    sw_sum = float(sw.sum().compute())
    prepared = prepare_regression(y, y_std, scaling, min_std=est.min_std, xp=da)
    target, objective = prepared.target, prepared.objective
    y_tilde = prepared.mean_target

    coef, intercept = _least_squares_by_reductions(
        X, y_tilde, sw, sw_sum, est.alpha, est.fit_intercept
    )
    mean = X @ coef + intercept
    second_moment = (y_tilde - mean) ** 2
    if y_std is not None:
        second_moment = second_moment + target[:, 1] ** 2
    var_intercept = constant_log_variance(
        float((sw * second_moment).sum().compute()) / sw_sum, est.min_std
    )
    var_coef = np.zeros_like(coef)
    n_iter = 1
    previous = warm_start_point(est, scaling, X.shape[1])
    if previous is not None and est.loss == "squared_error":
        # The mean is least squares in closed form: only the head restarts.
        var_coef, var_intercept = previous[2:]
    elif previous is not None:
        coef, intercept, var_coef, var_intercept = previous

    options = dict(
        alpha=est.alpha, solver=est.solver, max_iter=est.max_iter, tol=est.tol,
        verbose=est.verbose, adapter=dask_linear_risk,
    )
    if est.variance == "heteroscedastic":
        if est.loss == "squared_error":
            var_coef, var_intercept, n_solver = fit_log_variance(
                X, target, sw, objective, mean, var_intercept, xp=da,
                coef0=var_coef, **options,
            )
        else:
            (coef, var_coef), (intercept, var_intercept), n_solver = fit_joint(
                X, target, sw, objective,
                np.vstack([coef, var_coef]), [intercept, var_intercept],
                fit_intercept=est.fit_intercept, beta=est.beta, xp=da, **options,
            )
        n_iter += n_solver

    scoring = dask_linear_risk(
        objective, X, target, n_outputs=2, sample_weight=sw, alpha=est.alpha,
        fit_intercept=True, precondition="none", weight_sum=sw_sum,
    )
    objective_value = scoring.loss(
        scoring.pack(np.vstack([coef, var_coef]), [intercept, var_intercept])
    )
    return GaussianSolution(
        coef=coef, intercept=intercept, var_coef=var_coef,
        var_intercept=var_intercept, scaling=scaling, n_iter=n_iter,
        objective=objective_value, n_features_in=X.shape[1],
    )
