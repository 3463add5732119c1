r"""Adam over mini-batches of rows, with scikit-learn's MLP stopping rules.

:func:`adam` is a free function over a flat parameter vector, like the
other solvers: it sees ``batch_fun(params, rows) -> (value, grad)`` for a
mini-batch of row indices and knows nothing about models or objectives.
Each epoch visits every row once, in batches of ``batch_size`` consecutive
indices of a permutation drawn from ``random_state`` by
:func:`sklearn.utils.shuffle` (scikit-learn's ``MLPClassifier`` draws its
permutations the same way, so the same generator gives the same batches).
The update is Kingma and Ba's,

.. math::

    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
    v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
    \theta_t = \theta_{t-1} - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
        \frac{m_t}{\sqrt{v_t} + \epsilon},

in scikit-learn's form (bias corrections folded into the step size).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, gen_batches, shuffle

# An epoch whose training objective exceeds this multiple of the first
# batch's (plus one) has diverged: a fit only ever lowers it, and a ReLU
# network at too large a step grows its logits without bound.
_DIVERGENCE_FACTOR = 100.0


@dataclass
class AdamState:
    """The optimiser's moments and step count, carried across ``partial_fit``."""

    m: np.ndarray
    v: np.ndarray
    t: int = 0

    @classmethod
    def zeros(cls, n_params):
        return cls(np.zeros(n_params), np.zeros(n_params), 0)


@dataclass
class AdamResult:
    """What :func:`adam` returns: the parameters and the record of the run."""

    x: np.ndarray
    n_iter: int
    state: AdamState
    loss_curve: list = field(default_factory=list)
    validation_scores: list = None
    best_validation_score: float = None
    best_loss: float = None
    diverged: bool = False


def adam(batch_fun, x0, n_samples, *, batch_size=200, learning_rate_init=1e-3,
         max_iter=200, tol=1e-4, n_iter_no_change=10, random_state=None,
         shuffle_rows=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
         validation_score=None, state=None, best_loss=np.inf, incremental=False,
         verbose=0):
    r"""Minimise a sum over rows by Adam on mini-batches.

    Parameters
    ----------
    batch_fun : callable
        ``batch_fun(x, rows) -> (value, grad)``: the objective of the rows
        ``rows`` (an index array) and its gradient, scaled so that the
        batches' values average (weighted by their sizes) to the full
        objective.
    x0 : ndarray of shape (n_params,)
    n_samples : int
        Number of rows.
    batch_size : int, default=200
        Rows per batch (the last batch of an epoch may be smaller).
    learning_rate_init : float, default=1e-3
        The step size :math:`\eta`.
    max_iter : int, default=200
        Maximum number of epochs.
    tol, n_iter_no_change : float, int
        scikit-learn's rule: an epoch that does not improve the best
        training objective (or, with ``validation_score``, the best
        validation score) by more than ``tol`` counts; the run stops when
        more than ``n_iter_no_change`` epochs in a row count.
    random_state : int, RandomState instance or None
        The generator of the permutations.
    shuffle_rows : bool, default=True
        Whether to permute the rows each epoch.
    beta_1, beta_2, epsilon : float
        Adam's moment decay rates and denominator offset.
    validation_score : callable, default=None
        ``validation_score(x) -> float``, higher is better: early stopping.
        The parameters of the best score are returned.
    state : AdamState, default=None
        Moments and step count to continue from (``partial_fit``). Not
        modified: the run updates a copy, returned as ``result.state``, so
        a run that raises (or is interrupted) leaves the caller's state as
        it was.
    best_loss : float, default=inf
        The best training objective so far, when continuing.
    incremental : bool, default=False
        Run one epoch and return, without stopping rules or warnings.
    verbose : int, default=0
        Print the objective of each epoch when positive.

    Returns
    -------
    result : AdamResult

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` epochs end before the stopping rule, and when the
        run diverges: a non-finite objective or gradient, or an epoch's
        objective above 100 times the first batch's (plus one). The run
        then stops and returns the parameters of the best epoch so far
        (``x0`` if none): never non-finite weights.
    """
    rng = check_random_state(random_state)
    x = np.array(x0, dtype=np.float64)
    if state is None:
        state = AdamState.zeros(x.size)
    else:
        state = AdamState(np.array(state.m, dtype=np.float64),
                          np.array(state.v, dtype=np.float64), state.t)
    result = AdamResult(x=x, n_iter=0, state=state, best_loss=best_loss)
    if validation_score is not None:
        result.validation_scores = []
        result.best_validation_score = -np.inf
    best_x = x.copy()
    no_improvement = 0
    sample_idx = np.arange(n_samples)
    first_value = None
    for epoch in range(max_iter):
        if shuffle_rows:
            sample_idx = shuffle(sample_idx, random_state=rng)
        epoch_loss = 0.0
        failure = None
        for batch in gen_batches(n_samples, batch_size):
            rows = sample_idx[batch]
            value, grad = batch_fun(x, rows)
            if first_value is None:
                first_value = value
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                failure = "a non-finite training objective or gradient"
                break
            epoch_loss += value * (batch.stop - batch.start)
            state.t += 1
            state.m *= beta_1
            state.m += (1 - beta_1) * grad
            state.v *= beta_2
            state.v += (1 - beta_2) * grad**2
            step = (learning_rate_init * np.sqrt(1 - beta_2**state.t)
                    / (1 - beta_1**state.t))
            x -= step * state.m / (np.sqrt(state.v) + epsilon)
        epoch_loss /= n_samples
        if failure is None and not (
            np.isfinite(epoch_loss)
            and epoch_loss <= _DIVERGENCE_FACTOR * (abs(first_value) + 1.0)
            and np.all(np.isfinite(x))
        ):
            failure = (
                f"a training objective of {epoch_loss:.3g} (the first batch's "
                f"was {first_value:.3g})"
            )
        if failure is not None:
            result.diverged = True
            result.x = best_x
            warnings.warn(
                f"Adam diverged in epoch {epoch + 1}: {failure}. The weights of "
                f"the best epoch so far are kept. Lower learning_rate_init "
                f"(now {learning_rate_init:g}) or scale the features.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return result
        result.n_iter += 1
        result.loss_curve.append(epoch_loss)
        if verbose:
            print(f"[adam] epoch {result.n_iter:4d}  objective {epoch_loss:.10g}")
        if validation_score is not None:
            score = float(validation_score(x))
            result.validation_scores.append(score)
            if verbose:
                print(f"[adam] validation score {score:.10g}")
            if score < result.best_validation_score + tol:
                no_improvement += 1
            else:
                no_improvement = 0
            if score > result.best_validation_score:
                result.best_validation_score = score
                best_x = x.copy()
        else:
            if epoch_loss > result.best_loss - tol:
                no_improvement += 1
            else:
                no_improvement = 0
            if epoch_loss < result.best_loss:
                result.best_loss = epoch_loss
                best_x = x.copy()
        if incremental:
            break
        if no_improvement > n_iter_no_change:
            if verbose:
                what = "Validation score" if validation_score else "Training loss"
                print(f"[adam] {what} did not improve more than tol={tol:g} for "
                      f"{n_iter_no_change} consecutive epochs. Stopping.")
            break
        if result.n_iter == max_iter:
            warnings.warn(
                f"Adam did not converge in max_iter={max_iter} epochs: the "
                "stopping rule (tol, n_iter_no_change) was not met. Increase "
                "max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
    result.x = best_x if validation_score is not None else x
    return result
