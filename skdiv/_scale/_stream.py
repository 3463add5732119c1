r"""Streaming fits: what ``partial_fit`` prepares, and the Adam fallback.

``partial_fit_classifier`` and ``partial_fit_regressor`` validate a call's
rows, prepare its targets by the rules of ``fit`` and hand them to the
stream: a :class:`~skdiv._scale._newton_stream.NewtonStream` (or one per
stage, :class:`~skdiv._scale._newton_stream.TwoStageStream`) whenever the
model's dense summary fits (:data:`~skdiv._scale._newton_stream.\
MAX_SUMMARY_PARAMS`), Adam below otherwise and for the beta-NLL.

Adam: each ``partial_fit(X, y)`` call splits its rows, in the order given, into
mini-batches of :data:`BATCH_SIZE` rows and takes one Adam step per
mini-batch on the same objective as ``fit``, evaluated on the mini-batch by
an :class:`~skdiv._adapter.EmpiricalRisk`:

* **Coordinates.** The adapter's solver coordinates with a *fixed* diagonal
  change of variables, the weighted means and standard deviations of the
  features of the first call (standardised features: the step size means
  the same whatever the units of ``X``).
* **Normalisation.** A mini-batch's data term is divided by its number of
  rows times the running mean sample weight (:math:`\bar s`, over all rows
  seen so far), not by its own weight sum, and the penalty is added in
  full at every step. Averaged over the batches of a pass, the stochastic
  gradient is then the gradient of

  .. math::

      F(W, b) = \frac{1}{\sum_i s_i} \sum_i s_i\, \ell(y_i, z_i)
                + \frac{\alpha}{2} \lVert W \rVert_F^2 ,

  the objective ``fit`` minimises, so the fixed point is ``fit``'s optimum.
* **Schedule.** Adam (:math:`\beta_1 = 0.9`, :math:`\beta_2 = 0.999`,
  :math:`\epsilon = 10^{-8}`) with step size :math:`\eta_t =
  \eta_0 / \sqrt{t}`, :math:`\eta_0 =` :data:`LEARNING_RATE`, :math:`t`
  counting steps over all calls. The decreasing step lets the iterates
  settle; the model reported after each call is the polynomial-decay
  average of the iterates (Shamir and Zhang, 2013),
  :math:`\bar\theta_t = (1 - \frac{c + 1}{t + c})\,\bar\theta_{t-1} +
  \frac{c + 1}{t + c}\,\theta_t` with :math:`c =` :data:`AVERAGING`, an
  average over roughly the last :math:`1/(c+1)` of the steps, which removes
  most of the mini-batch noise.

``partial_fit`` after ``fit`` (or after ``fit`` replaced the coefficients)
starts from the fitted model, at step :data:`WARM_STEP` of the schedule so
that the first steps do not undo it.
"""

import copy

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from .._adapter import linear_risk
from .._loss import (
    LOG_VAR_LIMIT,
    LogVarianceHead,
    SquaredError,
    Stagewise,
    get_objective,
    with_fixed_mean,
)
from .._model import LinearModel
from .._targets import (
    GaussianSolution,
    LinearSolution,
    check_sample_weight,
    check_unique_classes,
    check_y_std,
    class_weight_vector,
    constant_log_variance,
    incremental_soft_label_columns,
    is_soft,
    normalised_rows,
    prepare_regression,
    probabilities,
    raise_for_weighted_total,
    reweight_soft_rows,
    smooth,
    target_scaling,
)
from .._validation import check_probability_rows, encode_labels, validate_fit_data
from ._newton_stream import (
    MAX_SUMMARY_PARAMS,
    NewtonStream,
    TwoStageStream,
    auto_batch_size,
)

#: Rows per Adam step.
BATCH_SIZE = 128
#: :math:`\eta_0` of the step size :math:`\eta_0 / \sqrt{t}`, in standardised
#: coordinates.
LEARNING_RATE = 0.3
#: :math:`c` of the polynomial-decay average of the iterates.
AVERAGING = 4
#: Schedule step at which a stream continuing a ``fit`` starts.
WARM_STEP = 1000
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


class _AdamStream:
    """Adam state, fixed coordinates and running weight mean of one stream."""

    def __init__(self, params, change_of_variables, step=0):
        self.params = np.array(params, dtype=np.float64)
        self.average = self.params.copy()
        self.m = np.zeros_like(self.params)
        self.v = np.zeros_like(self.params)
        self.t = step  # schedule step
        self.k = 0  # steps since the moments were reset (bias correction)
        self.change_of_variables = change_of_variables
        self.n_seen = 0
        self.weight_seen = 0.0
        self.coef = None  # the coef_ array this stream last produced

    def run(self, make_problem, n_rows, *, mask=None, project=None, weights=None):
        """One pass over ``n_rows`` rows in mini-batches of BATCH_SIZE.

        ``make_problem(rows, sample_weight, weight_sum)`` returns the
        adapter of the rows ``rows``; ``weights(rows, params)`` the sample
        weights of those rows at ``params``; ``mask`` zeroes gradient
        components (parameters held fixed); ``project`` maps iterates back
        onto the set where the solution lies.
        """
        for start in range(0, n_rows, BATCH_SIZE):
            rows = slice(start, min(start + BATCH_SIZE, n_rows))
            sample_weight = weights(rows, self.params)
            self.n_seen += rows.stop - rows.start
            self.weight_seen += float(sample_weight.sum())
            if not self.weight_seen > 0:
                continue
            mean_weight = self.weight_seen / self.n_seen
            problem = make_problem(
                rows, sample_weight, (rows.stop - rows.start) * mean_weight
            )
            grad = problem.loss_gradient(self.params)[1]
            if mask is not None:
                grad = grad * mask
            self.t += 1
            self.k += 1
            self.m = _BETA1 * self.m + (1 - _BETA1) * grad
            self.v = _BETA2 * self.v + (1 - _BETA2) * grad**2
            m_hat = self.m / (1 - _BETA1**self.k)
            v_hat = self.v / (1 - _BETA2**self.k)
            step = LEARNING_RATE / np.sqrt(self.t)
            self.params = self.params - step * m_hat / (np.sqrt(v_hat) + _EPS)
            if project is not None:
                self.params = project(self.params)
            rate = (AVERAGING + 1) / (self.t + AVERAGING)
            # A new array, not an update in place: a copied stream shares it.
            self.average = self.average + min(rate, 1.0) * (self.params - self.average)

def _diagonal_coordinates(X, sample_weight, centre):
    """The fixed change of variables: feature means (if ``centre``) and scales."""
    probe = LinearModel(
        X, 1, sample_weight=sample_weight, fit_intercept=centre,
        precondition="diagonal", hold_constant=False,
    )
    return probe.change_of_variables


def _stream(stream, estimator, X, sample_weight, centre, start, newton=True,
            two_stage=None):
    """A copy of ``stream`` if it produced the current ``coef_``, else a new one.

    The copy (shallow: :meth:`_AdamStream.run` replaces its arrays rather
    than writing into them) is what this call updates; the estimator keeps
    it only when the call succeeds. ``start(coordinates)`` returns the
    initial ``(params, step, state)`` of a new stream: its start in solver
    coordinates, the schedule step to start at and attributes to set on it.
    """
    if stream is not None and stream.coef is getattr(estimator, "coef_", None):
        return copy.copy(stream)
    coordinates = _diagonal_coordinates(X, sample_weight, centre)
    params, step, state = start(coordinates)
    if two_stage is not None and params.size <= 2 * MAX_SUMMARY_PARAMS:
        stream = two_stage(params, coordinates, step > 0)
    elif newton and params.size <= MAX_SUMMARY_PARAMS:
        stream = NewtonStream(params, coordinates, params.size, warm=step > 0)
    else:
        stream = _AdamStream(params, coordinates, step)
    stream.__dict__.update(state)
    return stream


def _batch_size(est, stream):
    """The estimator's ``batch_size``, ``"auto"`` resolved for the model's size."""
    if est.batch_size == "auto":
        return auto_batch_size(stream.params.size)
    return est.batch_size


def _linear_solution(stream, X, n_outputs, fit_intercept, classes, features):
    probe = LinearModel(
        X[:1], n_outputs, fit_intercept=fit_intercept,
        precondition=stream.change_of_variables, sum_zero=False,
    )
    coef, intercept = probe.unpack(stream.params)
    return LinearSolution(
        coef=coef, intercept=intercept, n_iter=stream.n_iter,
        objective=stream.objective, classes=classes,
        n_features_in=features["n_features_in_"],
        feature_names_in=features["feature_names_in_"], stream=stream,
    )


# -------------------------------------------------------------- classifier
def partial_fit_classifier(est, X, y, classes=None, sample_weight=None, stream=None):
    """:meth:`DivergenceClassifier.partial_fit`: one pass of Adam over ``X``.

    Reads the estimator's parameters and fitted attributes, never writes
    them: returns a :class:`~skdiv._targets.LinearSolution` (with the
    updated stream) for the estimator to store.
    """
    first = not hasattr(est, "classes_")
    if classes is None:
        classes = est.classes
    # A soft-label DataFrame's columns are matched by name to the classes
    # (those of the first call, on later ones), or name them, as in fit.
    y, classes = incremental_soft_label_columns(
        y, classes, getattr(est, "classes_", None), first
    )
    (X, y), features = validate_fit_data(
        est, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
        multi_output=True, y_numeric=False, reset=first,
    )
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    soft = is_soft(y)
    classes = check_unique_classes(classes)
    if first:
        if classes is None:
            if not soft:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit "
                    "(with hard labels; soft-label columns name their classes)."
                )
            classes = np.arange(y.shape[1])
        if classes.shape[0] < 2:
            raise ValueError(
                f"DivergenceClassifier needs at least 2 classes, got {classes!r}."
            )
    elif classes is not None and not np.array_equal(classes, est.classes_):
        raise ValueError(
            f"classes={classes.tolist()} is not the same as classes_="
            f"{est.classes_.tolist()} of the first call to partial_fit (or fit)."
        )
    else:
        classes = est.classes_
    n_classes = classes.shape[0]

    if soft:
        if y.shape[1] != n_classes:
            raise ValueError(
                f"Soft-label y has {y.shape[1]} columns but the model has "
                f"{n_classes} classes."
            )
        target = check_array(y, dtype=np.float64, input_name="y")
        target = normalised_rows(check_probability_rows(target, name="soft-label y"))
    else:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target = probabilities(encode_labels(y, classes), n_classes)

    objective = get_objective(est.loss, allowed=["cross_entropy", "kl_divergence"])
    n_outputs = 1 if n_classes == 2 else n_classes
    n_features = X.shape[1]

    def start(coordinates):
        probe = LinearModel(
            X[:1], n_outputs, fit_intercept=est.fit_intercept,
            precondition=coordinates, sum_zero=False,
        )
        if hasattr(est, "coef_") and est.coef_.shape == (n_outputs, n_features):
            return probe.pack(est.coef_, est.intercept_), WARM_STEP, {}
        return np.zeros(probe.n_params), 0, {}

    stream = _stream(stream, est, X, sample_weight, est.fit_intercept, start)

    # Smoothing, then class weights, as in fit (skdiv._targets); "balanced"
    # from the running (soft) class counts of the rows as given.
    counts = None
    if est.class_weight == "balanced":
        counts = getattr(stream, "class_counts", np.zeros(n_classes))
        stream.class_counts = counts = counts + sample_weight @ target
    if est.label_smoothing:
        target = smooth(target, est.label_smoothing, n_classes)
    class_weight = None
    if est.class_weight is not None:
        class_weight = class_weight_vector(est.class_weight, classes, counts)
        # Each call's rows must carry weight, as each call's sample_weight
        # must: refused, as fit refuses them, rather than skipped.
        weighted_counts = sample_weight @ target
        raise_for_weighted_total(
            weighted_counts @ class_weight,
            est.class_weight,
            classes,
            class_weight,
            lambda: weighted_counts,
            soft=soft,
        )

    def reweight(target, sample_weight):
        if class_weight is not None:
            target, sample_weight = reweight_soft_rows(
                target, sample_weight, class_weight
            )
        return (target[:, 1] if n_outputs == 1 else target), sample_weight

    project = None
    if n_outputs > 2:
        # Adding one vector to every class's logit changes no probability;
        # the penalty's optimum (fit's) has zero class sums. Adam's
        # per-coordinate steps would drift along that direction, so iterates
        # are projected back (the diagonal change of variables keeps the
        # class sums of W' and b' those of W and b).
        k = n_outputs

        def project(params):
            coef = params[: k * n_features].reshape(k, n_features)
            out = [(coef - coef.mean(axis=0)).ravel()]
            if est.fit_intercept:
                out.append(params[k * n_features :] - params[k * n_features :].mean())
            return np.concatenate(out)

    if isinstance(stream, NewtonStream):
        stream.run(
            objective, X, target, sample_weight, n_outputs=n_outputs,
            alpha=est.alpha, fit_intercept=est.fit_intercept,
            batch_size=_batch_size(est, stream), tol=est.tol,
            prepare=lambda X, target, weight: reweight(target, weight),
            project=project,
        )
        return _linear_solution(stream, X, n_outputs, est.fit_intercept, classes,
                                features)
    y_fit, sample_weight = reweight(target, sample_weight)

    def make_problem(rows, weights, weight_sum):
        return linear_risk(
            objective, X[rows], y_fit[rows], n_outputs=n_outputs,
            sample_weight=weights, alpha=est.alpha, fit_intercept=est.fit_intercept,
            precondition=stream.change_of_variables, weight_sum=weight_sum,
            sum_zero=False,  # all k classes, projected below
        )

    stream.run(
        make_problem, X.shape[0], project=project,
        weights=lambda rows, params: sample_weight[rows],
    )
    full = make_problem(slice(None), sample_weight, None)
    coef, intercept = full.unpack(stream.average)
    return LinearSolution(
        coef=coef, intercept=intercept, n_iter=stream.t,
        objective=full.loss(stream.average), classes=classes,
        n_features_in=features["n_features_in_"],
        feature_names_in=features["feature_names_in_"], stream=stream,
    )


# --------------------------------------------------------------- regressor
def partial_fit_regressor(est, X, y, sample_weight=None, y_std=None, stream=None):
    """:meth:`GaussianRegressor.partial_fit`: one pass of Adam over ``X``.

    Reads the estimator's parameters and fitted attributes, never writes
    them: returns a :class:`~skdiv._targets.GaussianSolution` (with the
    updated stream) for the estimator to store.
    """
    first = not hasattr(est, "coef_")
    (X, y), features = validate_fit_data(
        est, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True,
        reset=first,
    )
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    y_std = check_y_std(y_std, y, loss=est.loss, beta=est.beta)
    n_features = X.shape[1]

    def start(coordinates):
        # The standardisation of the target, fixed by the first batch.
        scaling = target_scaling(y, sample_weight, fit_intercept=est.fit_intercept)
        offset, scale = scaling.offset, scaling.scale
        probe = LinearModel(X[:1], 2, fit_intercept=True, precondition=coordinates)
        state = {"scaling": scaling}
        if hasattr(est, "coef_") and est.coef_.shape == (n_features,):
            coef = np.vstack([est.coef_ / scale, est.var_coef_])
            intercept = [
                (est.intercept_ - offset) / scale,
                est.var_intercept_ - 2.0 * np.log(scale),
            ]
            return probe.pack(coef, intercept), WARM_STEP, state
        return np.zeros(probe.n_params), 0, state

    stagewise = est.loss == "squared_error" or est.variance == "constant"
    # The joint likelihood streams by Newton, the two stages by a Newton
    # stream each; the beta-NLL's moving weights by Adam.
    newton = not stagewise and not est.beta > 0
    mean_model = _probe(X, 1, est.fit_intercept)
    var_model = _probe(X, 1, True)

    def two_stage(params, coordinates, warm):
        # The (mean, log-variance) model's parameters, one stage each.
        coef, intercept = _probe(X, 2, True, coordinates).unpack(params)
        mean = mean_model(coordinates).pack(coef[:1], intercept[:1])
        variance = None
        if est.variance == "heteroscedastic":
            variance = NewtonStream(
                var_model(coordinates).pack(coef[1:], intercept[1:]), coordinates,
                X.shape[1] + 1, warm=warm,
            )
        return TwoStageStream(
            NewtonStream(mean, coordinates, mean.size, warm=warm), variance,
            coordinates,
        )

    stream = _stream(stream, est, X, sample_weight, est.fit_intercept, start,
                     newton=newton, two_stage=two_stage if stagewise else None)
    prepared = prepare_regression(y, y_std, stream.scaling, min_std=est.min_std)
    target, objective = prepared.target, prepared.objective
    fit_objective = Stagewise(objective) if stagewise else objective
    if isinstance(stream, TwoStageStream):
        return _two_stage_solution(
            est, stream, X, prepared, sample_weight, mean_model, var_model, features
        )

    # Parameters held fixed: the log-variance coefficients of a constant
    # variance, and the mean intercept without fit_intercept (the change of
    # variables is then not centred, so b'_0 = b_0).
    mask = np.ones(2 * n_features + 2)
    if est.variance == "constant":
        mask[n_features : 2 * n_features] = 0.0
    if not est.fit_intercept:
        mask[2 * n_features] = 0.0

    if isinstance(stream, NewtonStream):
        stream.run(
            objective, X, target, sample_weight, n_outputs=2, alpha=est.alpha,
            fit_intercept=True, batch_size=_batch_size(est, stream), tol=est.tol,
            psd=True, mask=None if est.fit_intercept else mask,
        )
        params, n_iter, value = stream.params, stream.n_iter, stream.objective
    else:
        params, n_iter, value = _adam_regressor(
            est, stream, X, target, sample_weight, objective, fit_objective,
            stagewise, mask,
        )
    probe = LinearModel(X[:1], 2, fit_intercept=True,
                        precondition=stream.change_of_variables)
    (coef, var_coef), (intercept, var_intercept) = probe.unpack(params)
    if not est.fit_intercept:
        intercept = 0.0
    return GaussianSolution(
        coef=coef, intercept=intercept, var_coef=var_coef,
        var_intercept=var_intercept, scaling=stream.scaling, n_iter=n_iter,
        objective=float(value), n_features_in=features["n_features_in_"],
        feature_names_in=features["feature_names_in_"], stream=stream,
    )


def _probe(X, n_outputs, fit_intercept, coordinates=None):
    """A linear model on one row: packs and unpacks parameters.

    Without ``coordinates``, a function of them.
    """
    if coordinates is None:
        return lambda coordinates: _probe(X, n_outputs, fit_intercept, coordinates)
    return LinearModel(X[:1], n_outputs, fit_intercept=fit_intercept,
                       precondition=coordinates, sum_zero=False)


def _two_stage_solution(est, stream, X, prepared, sample_weight, mean_model,
                        var_model, features):
    """One call of the two-stage stream (:class:`TwoStageStream`): the solution."""
    coordinates = stream.change_of_variables
    mean_stream = stream.mean
    mean_stream.run(
        SquaredError(), X, prepared.mean_target, sample_weight, n_outputs=1,
        alpha=est.alpha, fit_intercept=est.fit_intercept,
        batch_size=_batch_size(est, mean_stream), tol=est.tol,
    )
    coef, intercept = mean_model(coordinates).unpack(mean_stream.params)
    coef, intercept = coef[0], float(intercept[0]) if est.fit_intercept else 0.0
    penalty = 0.5 * est.alpha * coef @ coef
    target, objective = prepared.target, prepared.objective
    n_iter = mean_stream.n_iter
    if stream.variance is None:
        # The exact weighted mean squared residual of every row seen: the
        # mean stream's objective is half of it plus the penalty.
        if target.ndim == 2:
            stream.tau2_sum = stream.tau2_sum + float(sample_weight @ target[:, 1] ** 2)
        weight = mean_stream.summary.weight + sum(
            float(w.sum()) for _, _, w in mean_stream.window
        )
        second_moment = 2.0 * (mean_stream.objective - penalty)
        second_moment += stream.tau2_sum / weight
        var_coef = np.zeros_like(coef)
        var_intercept = constant_log_variance(second_moment, est.min_std)
        value = 0.5 * (np.log(2 * np.pi) + var_intercept
                       + second_moment * np.exp(-var_intercept)) + penalty
    else:
        def prepare(rows, target, weight):
            return with_fixed_mean(np, target, rows @ coef + intercept), weight

        variance = stream.variance
        variance.run(
            LogVarianceHead(objective), X, target, sample_weight, n_outputs=1,
            alpha=est.alpha, fit_intercept=True,
            batch_size=_batch_size(est, variance), tol=est.tol, prepare=prepare,
            psd=True,
        )
        var_coef, var_intercept = var_model(coordinates).unpack(variance.params)
        var_coef, var_intercept = var_coef[0], float(var_intercept[0])
        value = variance.objective + penalty
        n_iter += variance.n_iter
    stream.n_iter = n_iter
    return GaussianSolution(
        coef=coef, intercept=intercept, var_coef=var_coef,
        var_intercept=var_intercept, scaling=stream.scaling, n_iter=n_iter,
        objective=float(value), n_features_in=features["n_features_in_"],
        feature_names_in=features["feature_names_in_"], stream=stream,
    )


def _adam_regressor(est, stream, X, target, sample_weight, objective,
                    fit_objective, stagewise, mask):
    """One pass of Adam (the two-stage and beta-NLL streams): params, steps, F."""
    n_features = X.shape[1]
    log_var_min = 2.0 * np.log(est.min_std)

    def weights(rows, params):
        if not est.beta > 0 or stagewise:
            return sample_weight[rows]
        # beta-NLL: weights s_i sigma_i^(2 beta) at the current iterate.
        theta = params[n_features : 2 * n_features] * stream.change_of_variables[1]
        intercept = params[-1] - theta @ stream.change_of_variables[0]
        log_var = np.clip(X[rows] @ theta + intercept, log_var_min, LOG_VAR_LIMIT)
        return sample_weight[rows] * np.exp(est.beta * log_var)

    def make_problem(rows, weights, weight_sum, objective=fit_objective):
        return linear_risk(
            objective, X[rows], target[rows], n_outputs=2, sample_weight=weights,
            alpha=est.alpha, fit_intercept=True,
            precondition=stream.change_of_variables, weight_sum=weight_sum,
        )

    stream.run(make_problem, X.shape[0], mask=mask, weights=weights)
    full = make_problem(slice(None), sample_weight, None, objective)
    return stream.average, stream.t, full.loss(stream.average)
