"""The fold loop of ``skdiv compare``.

The loop is written out here rather than delegated to
:func:`~sklearn.model_selection.cross_validate` because the
knowledge-distillation set-up (``--soft-labels``) trains on one target
(teacher probabilities) and scores on others (hard labels, and the teacher's
probabilities), which ``cross_validate``'s single ``y`` cannot carry.
"""

import sys
import time
import warnings

import numpy as np

from ._common import KL_TO_TEACHER, RunError, ScorerFailed


def splitter(task, n_splits, random_state, n_repeats=1):
    from sklearn.model_selection import (
        KFold,
        RepeatedKFold,
        RepeatedStratifiedKFold,
        StratifiedKFold,
    )

    stratified = task == "classification"
    if n_repeats > 1:
        kind = RepeatedStratifiedKFold if stratified else RepeatedKFold
        return kind(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state)
    kind = StratifiedKFold if stratified else KFold
    return kind(n_splits=n_splits, shuffle=True, random_state=random_state)


# ------------------------------------------------------------------ fold tasks
def _proba_over(estimator, X, classes):
    """``predict_proba`` with columns ordered as ``classes`` (0 when absent)."""
    proba = estimator.predict_proba(X)
    out = np.zeros((proba.shape[0], len(classes)))
    index = np.searchsorted(classes, estimator.classes_)
    out[:, index] = proba
    return out


def _score(estimator, X_test, y_test, scoring, teacher_proba, classes):
    from ..metrics import get_scorer, kl_divergence

    scores = {}
    for name in scoring:
        # As cross_validate with error_score=nan: a failing scorer costs its
        # own column, not the fold's other scores.
        try:
            scores[name] = float(get_scorer(name)(estimator, X_test, y_test))
        except Exception as exc:
            warnings.warn(f"{name}: {type(exc).__name__}: {exc}", ScorerFailed,
                          stacklevel=1)
            scores[name] = np.nan
    if teacher_proba is not None:
        scores[KL_TO_TEACHER] = -float(
            kl_divergence(teacher_proba, _proba_over(estimator, X_test, classes))
        )
    return scores


def _diagnostics(estimator, X_test, y_test, classes):
    """What the plots need of a test fold, or None.

    Classification: the top-label confidence and whether it was right (a
    reliability diagram); regression: the probability integral transform
    ``Phi((y - mean) / std)`` (uniform when the predicted normals are right).
    """
    from scipy.stats import norm

    try:
        if classes is not None:
            proba = _proba_over(estimator, X_test, classes)
            return proba.max(axis=1), classes[proba.argmax(axis=1)] == y_test
        mean, std = estimator.predict(X_test, return_std=True)
    except Exception:  # a model without probabilities or std is left out
        return None
    return norm.cdf(y_test, loc=mean, scale=np.maximum(std, 1e-300))


def _quietly(function, *args):
    """Call ``function`` single-threaded, returning its warnings and error.

    Parallelism comes from running folds side by side; nested OpenMP/BLAS
    threads on top of it oversubscribe the cores (gradient boosting slows
    down many times over).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = function(*args), None
        except Exception as exc:  # reported per fold, the other rows still run
            result, error = None, f"{type(exc).__name__}: {exc}"
    messages = sorted({
        f"failed: {w.message}" if issubclass(w.category, ScorerFailed)
        else f"warning: {w.category.__name__}: {w.message}"
        for w in caught
    })
    return result, messages, error


def _fit_and_score(estimator, X_train, y_train, X_test, y_test, scoring,
                   teacher_proba, classes, diagnose):
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    scores = _score(estimator, X_test, y_test, scoring, teacher_proba, classes)
    extra = _diagnostics(estimator, X_test, y_test, classes) if diagnose else None
    return scores, fit_time, extra


def _teach(teacher, inner_cv, X_train, y_train, X_test, y_test, scoring, classes,
           diagnose):
    """Out-of-fold soft labels for the training fold, and the teacher's row."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict

    soft = cross_val_predict(
        clone(teacher), X_train, y_train, cv=inner_cv, method="predict_proba"
    )
    start = time.perf_counter()
    teacher.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    test_proba = _proba_over(teacher, X_test, classes)
    # The teacher's divergence to itself is no comparison: left out.
    scores = _score(teacher, X_test, y_test, scoring, None, classes)
    extra = _diagnostics(teacher, X_test, y_test, classes) if diagnose else None
    return soft, test_proba, scores, fit_time, extra


def _task(kind, key, *args):
    function = _teach if kind == "teach" else _fit_and_score
    return (kind, key, *_quietly(function, *args))


def _progress(total, quiet):
    from tqdm.auto import tqdm

    # The bar counts fits weighted by their expected cost, so that its time
    # estimate does not assume the gradient boosting is as quick as a linear
    # model.
    return tqdm(
        total=total, desc="fitting", file=sys.stderr, leave=False,
        disable=quiet or not sys.stderr.isatty(),
        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
    )


def run(data, candidates, scoring, folds, args, diagnose=False):
    """Fit every candidate on every fold.

    Returns ``fold_scores[i, k] = (scores, fit_time, diagnostics)`` (None
    where the fit failed) and ``problems[i, message] = [fold, ...]``.
    """
    from joblib import Parallel, delayed

    classes = np.unique(data.y) if data.task == "classification" else None
    fold_scores = dict.fromkeys(
        (i, k) for i in range(len(candidates)) for k in range(len(folds))
    )
    problems = {}
    teacher = next((i for i, c in enumerate(candidates) if c.teacher), None)

    def record(kind, key, result, messages, error):
        i, k = (teacher, key) if kind == "teach" else key
        for message in messages:
            problems.setdefault((i, message), []).append(k)
        if error is not None:
            problems.setdefault((i, f"failed: {error}"), []).append(k)
        return result

    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    teacher_out = {}
    total = sum(c.cost for c in candidates) * len(folds)
    with _progress(total, args.quiet) as bar:
        if teacher is not None:
            # The teacher's fits come first: the students learn from them.
            inner = splitter(data.task, args.cv, args.random_state)
            build = candidates[teacher].build
            jobs = (
                delayed(_task)(
                    "teach", k, build(len(train), classes), inner,
                    data.rows(train), data.y[train], data.rows(test), data.y[test],
                    scoring, classes, diagnose,
                )
                for k, (train, test) in enumerate(folds)
            )
            for kind, k, result, messages, error in parallel(jobs):
                bar.update(candidates[teacher].cost)
                result = record(kind, k, result, messages, error)
                if result is None:
                    raise RunError(f"the teacher failed on fold {k + 1}: {error}")
                soft_train, test_proba, scores, fit_time, extra = result
                teacher_out[k] = (soft_train, test_proba)
                fold_scores[teacher, k] = (scores, fit_time, extra)

        def targets(candidate, k, train):
            return teacher_out[k][0] if candidate.soft else data.y[train]

        jobs = (
            delayed(_task)(
                "fit", (i, k), candidate.build(len(train), classes),
                data.rows(train), targets(candidate, k, train),
                data.rows(test), data.y[test], scoring,
                teacher_out[k][1] if teacher_out else None, classes, diagnose,
            )
            for i, candidate in enumerate(candidates) if i != teacher
            for k, (train, test) in enumerate(folds)
        )
        for kind, key, result, messages, error in parallel(jobs):
            bar.update(candidates[key[0]].cost)
            fold_scores[key] = record(kind, key, result, messages, error)
    return fold_scores, problems
