"""What the two network estimators share: parameters, solving, storing.

:class:`BaseMLP` holds the parameters named as in scikit-learn's MLP and the
one fitting path behind both estimators: an :class:`~skdiv._model.MLPModel`
on the rows, the objective the estimator prepared, the adapter
(:class:`~skdiv._adapter.EmpiricalRisk`: weights normalised, penalty added)
and a solver (:func:`~skdiv._solvers.minimize` for L-BFGS,
:func:`~skdiv._solvers.adam` over mini-batches fed through the same adapter).
"""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._adapter import EmpiricalRisk
from ._compat import CachedParamNames, DocLinkMixin, Interval, StrOptions
from ._model import MLPModel, glorot_uniform
from ._solvers import adam, minimize
from ._threads import blas_threads

# Newton-CG iterations that may finish an L-BFGS fit stalled by rounding.
_POLISH_MAX_ITER = 50


def transactional(fit):
    """Make ``fit`` leave the estimator as it was when it raises.

    The attributes are restored from a shallow copy of ``__dict__`` taken on
    entry, on any exception (``KeyboardInterrupt`` too): enough because a fit
    replaces its fitted arrays and lists, and the optimiser state it hands
    on to the next ``partial_fit``, rather than updating them in place (the
    rule for every fit behind this decorator; :func:`~skdiv._solvers.adam`
    updates a copy of the state it is given). A failed fit or
    ``partial_fit`` so leaves a fitted estimator fitted with its old model,
    and an unfitted one unfitted (``predict`` then raises
    ``NotFittedError``).
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def check_hidden_layer_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints; ``()`` is linear."""
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(
            "hidden_layer_sizes must be an int or a sequence of ints, got "
            f"{hidden_layer_sizes!r}."
        ) from None
    for size in sizes:
        if not isinstance(size, Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(
                "hidden_layer_sizes must hold positive ints (a layer of size "
                f"{size!r} has no units), got {hidden_layer_sizes!r}. Use () "
                "for no hidden layer (the linear model)."
            )
    return tuple(int(s) for s in sizes)


class BaseMLP(CachedParamNames, DocLinkMixin, BaseEstimator):
    """Shared parameters and fitting path of the network estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions({"relu", "tanh", "logistic"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"adam", "lbfgs"})],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ----------------------------------------------------------- the network
    def _start(self, model, rng, incremental, previous=None):
        """The starting parameters: the last fit's when continuing, else Glorot.

        Continuing needs the same layer widths (warm_start, partial_fit).
        ``previous``, ``(coefs, intercepts)``, stands for the fitted network
        (the regressor's mean network without its log-variance column).
        """
        if previous is None:
            previous = (getattr(self, "coefs_", None),
                        getattr(self, "intercepts_", None))
        coefs, intercepts = previous
        if (incremental or self.warm_start) and coefs is not None and [
            c.shape for c in coefs
        ] == [s[1] for s in model._coef_slices]:
            return model.pack(coefs, intercepts), True
        start = glorot_uniform(model.layer_units, self.activation, rng)
        return model.pack(*start), False

    def _store(self, model, params):
        coefs, intercepts = model.unpack(params)
        self.coefs_ = [c.copy() for c in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]
        self.n_layers_ = model.n_layers + 1
        self.n_outputs_ = model.n_outputs

    def _network(self, X):
        """The fitted network on rows ``X`` (a model holding them)."""
        return MLPModel(X, tuple(c.shape[1] for c in self.coefs_[:-1]),
                        self.coefs_[-1].shape[1], activation=self.activation)

    def _raw(self, X):
        """Raw predictions of the fitted network (1-D for one output)."""
        model = self._network(X)
        return model.forward(model.pack(self.coefs_, self.intercepts_))

    # ---------------------------------------------------------------- solve
    def _solve(self, X, y, sample_weight, objective, n_outputs, *, incremental=False,
               stratify=None, detach_outputs=(), batch_weights=None, start=None,
               previous=None):
        """Fit the network to ``objective`` on ``(X, y)``; store what it found.

        ``batch_weights(params, X_rows, sw_rows) -> weights`` re-weights each
        mini-batch at the current parameters (beta-NLL). ``start`` is a flat
        starting point that overrides :meth:`_start`; ``previous`` the
        fitted network it continues from (see :meth:`_start`). Returns the
        parameters.
        """
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: one pass has "
                "no epochs to stop between. Use fit, or early_stopping=False."
            )
        # One generator for the initialisation, the validation split and the
        # permutations, drawn in scikit-learn's order: the same random_state
        # gives scikit-learn's MLP its batches.
        rng = check_random_state(self.random_state)
        model = MLPModel(X, hidden, n_outputs, activation=self.activation,
                         detach_outputs=detach_outputs)
        params0, continued = self._start(model, rng, incremental, previous)
        if start is not None:
            params0 = start
        solver = "adam" if incremental else self.solver
        if solver == "lbfgs":
            risk = EmpiricalRisk(objective, model, y, sample_weight=sample_weight,
                                 alpha=self.alpha)
            params, self.n_iter_ = self._lbfgs(risk, params0, bool(detach_outputs))
            self._store(model, params)
            self.objective_ = risk.loss(params)
            # Adam's record of an earlier fit does not describe this one.
            for name in ("loss_curve_", "validation_scores_", "best_validation_score_",
                         "best_loss_", "_adam_state"):
                self.__dict__.pop(name, None)
            return params
        return self._solve_adam(model, X, y, sample_weight, objective, params0,
                                rng, incremental, continued, stratify,
                                batch_weights)

    def _lbfgs(self, risk, params0, detached):
        """L-BFGS, polished by Newton-CG on the Gauss-Newton operator if it stalls.

        L-BFGS's line search works on values, which stop resolving progress
        at gradients of about the square root of the rounding (1e-8 on an
        objective near 1): it then stops above a smaller ``tol``. Newton-CG
        also accepts steps that leave the value unchanged to rounding but
        lower the gradient, so a few of its iterations, on the Gauss-Newton
        products (exact with no hidden layer), finish the job. Its warnings
        replace L-BFGS's only when it does not reach ``tol`` either.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            params, n_iter = minimize(
                risk, params0, solver="lbfgs", max_iter=self.max_iter,
                tol=self.tol, verbose=self.verbose,
            )
        norm = risk.gradient_norm(risk.loss_gradient(params)[1])
        if norm > self.tol and n_iter < self.max_iter and not detached:
            with warnings.catch_warnings(record=True) as polish_caught:
                warnings.simplefilter("always", ConvergenceWarning)
                polished, n_polish = minimize(
                    risk, params, solver="newton-cg", tol=self.tol,
                    max_iter=_POLISH_MAX_ITER, verbose=self.verbose,
                )
            polished_norm = risk.gradient_norm(risk.loss_gradient(polished)[1])
            if polished_norm < norm:
                params, n_iter = polished, n_iter + n_polish
                caught = [] if polished_norm <= self.tol else polish_caught
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category,
                                   warning.filename, warning.lineno)
        return params, n_iter

    def _solve_adam(self, model, X, y, sample_weight, objective, params0, rng,
                    incremental, continued, stratify, batch_weights):
        n_samples = X.shape[0]
        train = np.arange(n_samples)
        validation_score = None
        if self.early_stopping:
            train, val = train_test_split(
                train, random_state=rng, test_size=self.validation_fraction,
                stratify=stratify,
            )
            if val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase "
                    "'validation_fraction' or the size of your dataset."
                )
            sw_val = None if sample_weight is None else sample_weight[val]
            if sw_val is not None and not sw_val.any():
                raise ValueError(
                    "Every validation row has zero sample_weight: the held-out "
                    "divergence is undefined. Change validation_fraction or "
                    "random_state."
                )
            if sample_weight is not None and not sample_weight[train].any():
                raise ValueError(
                    "Every training row has zero sample_weight (all the weight "
                    "is on the validation rows): the training objective is "
                    "undefined. Change validation_fraction or random_state."
                )
            val_risk = EmpiricalRisk(objective, model.on_rows(X[val]), y[val],
                                     sample_weight=sw_val)

            def validation_score(params):
                # The held-out divergence, without the penalty; higher is better.
                return -val_risk.loss(params)

        n_train = train.shape[0]
        sw_train = None if sample_weight is None else sample_weight[train]
        total = n_train if sw_train is None else float(sw_train.sum())
        if self.batch_size == "auto":
            batch_size = min(200, n_train)
        else:
            if self.batch_size > n_train:
                warnings.warn(
                    f"batch_size={self.batch_size} is larger than the {n_train} "
                    "training rows: clipped to the number of rows.",
                    UserWarning, stacklevel=3,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_train))

        def batch_fun(params, rows):
            rows = train[rows]
            X_rows = X[rows]
            sw_rows = None if sample_weight is None else sample_weight[rows]
            weight_sum = total * rows.shape[0] / n_train
            if batch_weights is not None:
                sw_rows = batch_weights(params, X_rows, sw_rows)
                # Normalised by the batch's own weights (the beta-NLL's);
                # a batch of zero-weight rows keeps the imposed share, and
                # so contributes only the penalty, as without beta.
                if sw_rows is None or sw_rows.sum() > 0:
                    weight_sum = None
            risk = EmpiricalRisk(objective, model.on_rows(X_rows), y[rows],
                                 sample_weight=sw_rows, alpha=self.alpha,
                                 weight_sum=weight_sum)
            return risk.loss_gradient(params)

        continuing = incremental and continued
        state = getattr(self, "_adam_state", None) if continuing else None
        if state is not None and state.m.shape[0] != params0.shape[0]:
            state = None
        best_loss = getattr(self, "best_loss_", None) if continuing else None
        # BLAS threads as for the other solvers, by the work of a mini-batch's
        # product (skdiv._threads).
        with blas_threads(batch_size * model.n_params):
            result = adam(
                batch_fun, params0, n_train, batch_size=batch_size,
                learning_rate_init=self.learning_rate_init,
                max_iter=1 if incremental else self.max_iter,
                tol=self.tol, n_iter_no_change=self.n_iter_no_change,
                random_state=rng, validation_score=validation_score, state=state,
                best_loss=np.inf if best_loss is None else best_loss,
                incremental=incremental, verbose=self.verbose,
            )
        params = result.x
        self._adam_state = result.state
        if continuing:
            self.n_iter_ = getattr(self, "n_iter_", 0) + result.n_iter
            self.loss_curve_ = [*getattr(self, "loss_curve_", []), *result.loss_curve]
        else:
            self.n_iter_ = result.n_iter
            self.loss_curve_ = list(result.loss_curve)
        self.validation_scores_ = result.validation_scores
        self.best_validation_score_ = result.best_validation_score
        self.best_loss_ = None if self.early_stopping else result.best_loss
        self._store(model, params)
        full = EmpiricalRisk(objective, model, y, sample_weight=sample_weight,
                             alpha=self.alpha)
        self.objective_ = full.loss(params)
        return params
