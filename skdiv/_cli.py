"""The ``skdiv`` command.

``skdiv compare`` cross-validates skdiv's estimators next to their
scikit-learn peers on the same folds and prints their scores. The fold loop is
written out here rather than delegated to :func:`~sklearn.model_selection.
cross_validate` because the knowledge-distillation set-up (``--soft-labels``)
trains on one target (teacher probabilities) and scores on others (hard
labels, and the teacher's probabilities), which ``cross_validate``'s single
``y`` cannot carry.
"""

import argparse
import csv
import json
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The default penalty of LogisticRegression, which DivergenceClassifier is
# given through alpha = 1 / (C * n_train) so the two fit the same model.
_LOGISTIC_C = 1.0
# An integer target with at most this many distinct values is a class label.
_MAX_CLASSES_INFERRED = 20
# The extra score of --soft-labels: minus the KL divergence from the teacher's
# test-fold probabilities to the model's.
_KL_TO_TEACHER = "neg_kl_to_teacher"
_DEFAULT_SCORING = {
    # On hard labels KL(onehot || q) equals the cross-entropy, so
    # neg_kl_divergence would only repeat neg_cross_entropy.
    "classification": ["neg_cross_entropy", "accuracy"],
    "regression": [
        "neg_gaussian_nll",
        "neg_gaussian_crps",
        "neg_root_mean_squared_error",
    ],
}
_EXTRA = 'pip install "skdiv[examples]"'


class _UsageError(Exception):
    """Bad arguments or unusable input data: reported by ``parser.error``."""


class _RunError(Exception):
    """A failure while running: reported on stderr with exit code 1."""


class _ScorerFailed(UserWarning):
    """One score of one fold could not be computed; it is NaN."""


# ---------------------------------------------------------------------- parser
_COMPARE_DESCRIPTION = """\
Cross-validate skdiv's estimators next to scikit-learn's on the same folds
and report each score's mean +/- standard deviation over the folds (higher is
better for every score), and the mean fit time.

Without --data it uses data that ship with scikit-learn (nothing is
downloaded):

  classification  load_digits (1797 samples, 64 features, 10 classes):
                  DivergenceClassifier with loss="cross_entropy" and
                  "kl_divergence", LogisticRegression (C=1), each after a
                  StandardScaler, and HistGradientBoostingClassifier.
                  The penalties are matched: DivergenceClassifier gets
                  alpha = 1 / (C * n_train) with C=1 and n_train the size of
                  each training fold, which is LogisticRegression's C=1.
  regression      load_diabetes (442 samples, 10 features):
                  GaussianRegressor with loss="gaussian_nll" and a
                  heteroscedastic or a constant variance, and with
                  loss="squared_error" (variance fitted afterwards), and
                  BayesianRidge, each after a StandardScaler and with their
                  default penalties.

Default scores: classification neg_cross_entropy and accuracy (on hard labels
the KL divergence equals the cross-entropy); regression neg_gaussian_nll,
neg_gaussian_crps and neg_root_mean_squared_error.

--soft-labels is knowledge distillation: in each training fold the teacher
(HistGradientBoostingClassifier) gives out-of-fold predict_proba by an inner
K-fold cross_val_predict, and the DivergenceClassifier students are trained on
those probabilities. No test label reaches the students. Scores are on the
hard test labels, plus neg_kl_to_teacher, minus the KL divergence from the
teacher (fitted on the whole training fold) to the model on the test fold.
LogisticRegression cannot take soft labels and is trained on hard labels.
"""

_COMPARE_EPILOG = """\
With --data, every column but --target must be numeric with no missing
values. The task is classification when the target is non-numeric or integer
with at most 20 distinct values, regression otherwise; --task overrides it.
Folds are stratified for classification and shuffled with --random-state.

examples:
  skdiv compare
  skdiv compare --task regression --cv 10 --format json
  skdiv compare --soft-labels --plot distillation.png
  skdiv compare --data measurements.csv --target label --scoring f1_macro
"""


def _build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skdiv",
        description=(
            "skdiv: scikit-learn estimators trained and judged by "
            "cross-entropy, KL divergence or Gaussian NLL."
        ),
    )
    parser.add_argument("--version", action="version", version=f"skdiv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    compare = commands.add_parser(
        "compare",
        help="cross-validate skdiv's estimators next to scikit-learn's",
        description=_COMPARE_DESCRIPTION,
        epilog=_COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = compare.add_argument_group("data")
    data.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="what to compare (default: classification, or inferred from --target)",
    )
    data.add_argument(
        "--data", metavar="FILE.csv", type=Path,
        help="a CSV file with a header row, instead of the built-in data",
    )
    data.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    data.add_argument(
        "--soft-labels", action="store_true",
        help="train the classifiers on a teacher's out-of-fold probabilities",
    )
    evaluation = compare.add_argument_group("evaluation")
    evaluation.add_argument(
        "--cv", metavar="K", type=_int_at_least(2), default=5,
        help="number of cross-validation folds (default: 5)",
    )
    evaluation.add_argument(
        "--scoring", metavar="NAME", action="append",
        help="a scorer name, skdiv's (neg_cross_entropy, neg_kl_divergence, "
        "neg_gaussian_nll, neg_gaussian_crps) or scikit-learn's; repeat for "
        "several (default: see above)",
    )
    evaluation.add_argument(
        "--n-jobs", metavar="N", type=_nonzero_int, default=1,
        help="folds fitted in parallel; -1 for all cores (default: 1). Each "
        "fit runs single-threaded",
    )
    evaluation.add_argument(
        "--random-state", metavar="SEED", type=int, default=0,
        help="seed of the fold shuffling and of the gradient boosting (default: 0)",
    )
    output = compare.add_argument_group("output")
    output.add_argument(
        "--format", choices=["table", "json", "csv"], default="table",
        help="output on stdout (default: table)",
    )
    output.add_argument(
        "--plot", metavar="FILE.png", type=Path,
        help=f"also draw the scores with error bars (needs matplotlib: {_EXTRA})",
    )
    output.add_argument(
        "--quiet", action="store_true",
        help="no progress bar and no warnings on stderr",
    )
    compare.set_defaults(handler=_compare, parser=compare)
    return parser


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _nonzero_int(text):
    value = _int_at_least(-(2**31))(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1 runs one fit at a time)")
    return value


def main(argv=None):
    """Run the ``skdiv`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when the run fails. Usage errors exit with status 2
        through :meth:`argparse.ArgumentParser.error`.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except _UsageError as exc:
        args.parser.error(str(exc))
    except _RunError as exc:
        print(f"{args.parser.prog}: error: {exc}", file=sys.stderr)
        return 1


# ------------------------------------------------------------------------ data
@dataclass
class _Dataset:
    X: np.ndarray
    y: np.ndarray
    task: str
    name: str


def _load_builtin(task):
    from sklearn.datasets import load_diabetes, load_digits

    if task == "regression":
        bunch, name = load_diabetes(), "load_diabetes"
    else:
        bunch, name = load_digits(), "load_digits"
    return _Dataset(bunch.data.astype(np.float64), bunch.target, task, name)


# Cells read as missing values, besides the empty string.
_MISSING = {"na", "n/a", "nan", "null", "none"}


def _parse_floats(values):
    """Column of strings as floats (NaN where missing), or None if one is text."""
    try:
        return np.array(
            [np.nan if not v or v.lower() in _MISSING else float(v) for v in values],
            dtype=np.float64,
        )
    except ValueError:
        return None


def _load_csv(path, target, task):
    if not path.is_file():
        raise _UsageError(f"--data: no such file: {str(path)!r}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            rows = [row for row in csv.reader(stream) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise _UsageError(f"--data: cannot read {str(path)!r}: {exc}") from None
    if len(rows) < 2:
        raise _UsageError(f"--data: {str(path)!r} needs a header row and data rows")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise _UsageError(
            f"--target: no column {target!r} in {path.name}; the columns are: "
            + ", ".join(header)
        )
    body = rows[1:]
    ragged = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    if ragged:
        raise _UsageError(
            f"--data: {path.name} has {len(header)} columns in its header but "
            f"line {ragged[0]} has {len(body[ragged[0] - 2])}"
        )
    columns = {name: [row[j].strip() for row in body] for j, name in enumerate(header)}
    y_text = np.array(columns.pop(target))
    if not columns:
        raise _UsageError(
            f"--data: {path.name} has no feature columns besides {target!r}"
        )

    features, non_numeric, missing = [], [], []
    for name, values in columns.items():
        parsed = _parse_floats(values)
        if parsed is None:
            example = next(v for v in values if _parse_floats([v]) is None)
            non_numeric.append(f"{name} (e.g. {example!r})")
        elif not np.all(np.isfinite(parsed)):
            missing.append(name)
        else:
            features.append(parsed)
    if non_numeric:
        raise _UsageError(
            "features must be numeric; non-numeric columns: " + ", ".join(non_numeric)
            + ". Encode them as numbers or drop them."
        )
    if missing:
        raise _UsageError(
            "features have missing or infinite values in columns: "
            + ", ".join(missing) + ". Impute them or drop those rows."
        )
    if any(not v or v.lower() in _MISSING for v in y_text):
        raise _UsageError(
            f"the target column {target!r} has missing values; drop those rows"
        )
    X = np.column_stack(features)
    y_numeric = _parse_floats(y_text)
    if y_numeric is not None and not np.all(np.isfinite(y_numeric)):
        raise _UsageError(f"the target column {target!r} has infinite values")

    if task is None:
        integer = y_numeric is not None and np.all(y_numeric == np.round(y_numeric))
        if y_numeric is None or (
            integer and np.unique(y_numeric).size <= _MAX_CLASSES_INFERRED
        ):
            task = "classification"
        else:
            task = "regression"
    if task == "regression":
        if y_numeric is None:
            example = next(v for v in y_text if _parse_floats([v]) is None)
            raise _UsageError(
                f"--task regression needs a numeric target; column {target!r} "
                f"has values such as {example!r}"
            )
        y = y_numeric
    elif y_numeric is not None and np.all(y_numeric == np.round(y_numeric)):
        y = y_numeric.astype(np.int64)
    else:
        y = y_text
    return _Dataset(X, y, task, path.name)


def _check_classes(y, cv):
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise _UsageError(
            f"the target has a single class ({classes[0].item()!r}); "
            "classification needs at least two"
        )
    rare = [f"{c.item()!r} ({n})" for c, n in zip(classes, counts, strict=True)
            if n < cv]
    if rare:
        raise _UsageError(
            f"every class needs at least --cv {cv} samples for stratified folds; "
            "too few: " + ", ".join(rare) + ". Lower --cv or drop those classes."
        )
    return classes


# ---------------------------------------------------------------------- models
@dataclass
class _Candidate:
    """One row of the comparison.

    ``build(n_train, classes)`` returns the unfitted estimator for a training
    fold of ``n_train`` samples, so that penalties defined per sample can be
    matched fold by fold.
    """

    model: str
    objective: str
    build: object
    # "hard" or "soft (teacher)" for classifiers, None for regressors.
    targets: object = None
    # With --soft-labels, the model whose probabilities the students learn.
    teacher: bool = False

    @property
    def soft(self):
        return self.targets == "soft (teacher)"


def _classifiers(random_state, soft):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._classifier import DivergenceClassifier

    def divergence(loss):
        def build(n_train, classes):
            return make_pipeline(
                StandardScaler(),
                DivergenceClassifier(
                    loss, alpha=1.0 / (_LOGISTIC_C * n_train),
                    classes=classes if soft else None,
                ),
            )
        return build

    targets = "soft (teacher)" if soft else "hard"
    return [
        _Candidate("DivergenceClassifier", "cross_entropy", divergence("cross_entropy"),
                   targets),
        _Candidate("DivergenceClassifier", "kl_divergence", divergence("kl_divergence"),
                   targets),
        _Candidate(
            "LogisticRegression", "log_loss",
            lambda n_train, classes: make_pipeline(
                StandardScaler(), LogisticRegression(C=_LOGISTIC_C, max_iter=1000)
            ),
            "hard",
        ),
        _Candidate(
            "HistGradientBoostingClassifier" + (" (teacher)" if soft else ""),
            "log_loss",
            lambda n_train, classes: HistGradientBoostingClassifier(
                random_state=random_state
            ),
            "hard",
            teacher=soft,
        ),
    ]


def _regressors():
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._regressor import GaussianRegressor

    def gaussian(**params):
        return lambda n_train, classes: make_pipeline(
            StandardScaler(), GaussianRegressor(**params)
        )

    return [
        _Candidate("GaussianRegressor", "gaussian_nll, heteroscedastic",
                   gaussian(loss="gaussian_nll", variance="heteroscedastic")),
        _Candidate("GaussianRegressor", "gaussian_nll, constant",
                   gaussian(loss="gaussian_nll", variance="constant")),
        _Candidate("GaussianRegressor", "squared_error, heteroscedastic",
                   gaussian(loss="squared_error", variance="heteroscedastic")),
        _Candidate(
            "BayesianRidge", "evidence",
            lambda n_train, classes: make_pipeline(StandardScaler(), BayesianRidge()),
        ),
    ]


# ------------------------------------------------------------------ fold tasks
def _proba_over(estimator, X, classes):
    """``predict_proba`` with columns ordered as ``classes`` (0 when absent)."""
    proba = estimator.predict_proba(X)
    out = np.zeros((proba.shape[0], len(classes)))
    index = np.searchsorted(classes, estimator.classes_)
    out[:, index] = proba
    return out


def _score(estimator, X_test, y_test, scoring, teacher_proba, classes):
    from .metrics import get_scorer, kl_divergence

    scores = {}
    for name in scoring:
        # As cross_validate with error_score=nan: a failing scorer costs its
        # own column, not the fold's other scores.
        try:
            scores[name] = float(get_scorer(name)(estimator, X_test, y_test))
        except Exception as exc:
            warnings.warn(f"{name}: {type(exc).__name__}: {exc}", _ScorerFailed,
                          stacklevel=1)
            scores[name] = np.nan
    if teacher_proba is not None:
        scores[_KL_TO_TEACHER] = -float(
            kl_divergence(teacher_proba, _proba_over(estimator, X_test, classes))
        )
    return scores


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
        f"failed: {w.message}" if issubclass(w.category, _ScorerFailed)
        else f"warning: {w.category.__name__}: {w.message}"
        for w in caught
    })
    return result, messages, error


def _fit_and_score(estimator, X_train, y_train, X_test, y_test, scoring,
                   teacher_proba, classes):
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    scores = _score(estimator, X_test, y_test, scoring, teacher_proba, classes)
    return scores, fit_time


def _teach(teacher, inner_cv, X_train, y_train, X_test, y_test, scoring, classes):
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
    return soft, test_proba, scores, fit_time


def _task(kind, key, *args):
    function = _teach if kind == "teach" else _fit_and_score
    return (kind, key, *_quietly(function, *args))


# ------------------------------------------------------------------- the run
def _splitter(task, cv, random_state):
    from sklearn.model_selection import KFold, StratifiedKFold

    kind = StratifiedKFold if task == "classification" else KFold
    return kind(n_splits=cv, shuffle=True, random_state=random_state)


def _resolve_scoring(names, task):
    from .metrics import get_scorer_names

    if not names:
        return list(_DEFAULT_SCORING[task])
    valid = set(get_scorer_names())
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise _UsageError(
            "unknown scorer " + ", ".join(map(repr, unknown))
            + "; valid names: " + ", ".join(sorted(valid))
        )
    return list(dict.fromkeys(names))


def _progress(total, quiet):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc="fitting", unit="fit", file=sys.stderr, leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )


def _run(data, candidates, scoring, args):
    from joblib import Parallel, delayed

    cv = _splitter(data.task, args.cv, args.random_state)
    folds = list(cv.split(data.X, data.y))
    classes = np.unique(data.y) if data.task == "classification" else None
    n_fits = len(candidates) * len(folds)
    fold_scores = dict.fromkeys(
        (i, k) for i in range(len(candidates)) for k in range(len(folds))
    )
    problems = {}

    def record(kind, key, result, messages, error):
        i, k = (teacher, key) if kind == "teach" else key
        for message in messages:
            problems.setdefault((i, message), []).append(k)
        if error is not None:
            problems.setdefault((i, f"failed: {error}"), []).append(k)
        return result

    parallel = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")
    teacher = next((i for i, c in enumerate(candidates) if c.teacher), None)
    teacher_out = {}
    with _progress(n_fits, args.quiet) as bar:
        if teacher is not None:
            # The teacher's fits come first: the students learn from them.
            inner = _splitter(data.task, args.cv, args.random_state)
            build = candidates[teacher].build
            jobs = (
                delayed(_task)(
                    "teach", k, build(len(train), classes), inner,
                    data.X[train], data.y[train], data.X[test], data.y[test],
                    scoring, classes,
                )
                for k, (train, test) in enumerate(folds)
            )
            for kind, k, result, messages, error in parallel(jobs):
                bar.update()
                result = record(kind, k, result, messages, error)
                if result is None:
                    raise _RunError(
                        f"the teacher failed on fold {k + 1}: {error}"
                    )
                soft_train, test_proba, scores, fit_time = result
                teacher_out[k] = (soft_train, test_proba)
                fold_scores[teacher, k] = (scores, fit_time)

        def targets(candidate, k, train):
            return teacher_out[k][0] if candidate.soft else data.y[train]

        jobs = (
            delayed(_task)(
                "fit", (i, k), candidate.build(len(train), classes),
                data.X[train], targets(candidate, k, train),
                data.X[test], data.y[test], scoring,
                teacher_out[k][1] if teacher_out else None, classes,
            )
            for i, candidate in enumerate(candidates) if i != teacher
            for k, (train, test) in enumerate(folds)
        )
        for kind, key, result, messages, error in parallel(jobs):
            bar.update()
            fold_scores[key] = record(kind, key, result, messages, error)
    return fold_scores, problems


def _summarise(candidates, scoring, fold_scores, n_folds):
    """Per-row statistics; a score is None where it does not apply."""
    names = scoring + ([_KL_TO_TEACHER] if any(c.soft for c in candidates) else [])
    rows = []
    for i, candidate in enumerate(candidates):
        per_fold = [fold_scores[i, k] for k in range(n_folds)]
        done = [f[0] for f in per_fold if f is not None]
        scores = {}
        for name in names:
            if done and all(name not in s for s in done):
                scores[name] = None
                continue
            values = np.array([np.nan if f is None else f[0][name] for f in per_fold])
            scores[name] = _stats(values)
        times = np.array([np.nan if f is None else f[1] for f in per_fold])
        rows.append({
            "model": candidate.model,
            "objective": candidate.objective,
            "targets": candidate.targets,
            "scores": scores,
            "fit_time": _stats(times),
        })
    return names, rows


def _stats(values):
    def number(x):
        return None if not np.isfinite(x) else float(x)

    finite = values[np.isfinite(values)]
    return {
        "mean": number(finite.mean()) if finite.size == values.size else None,
        "std": number(finite.std()) if finite.size == values.size else None,
        "folds": [number(v) for v in values],
    }


# ---------------------------------------------------------------------- output
def _header(data, args, n_classes):
    shape = f"{data.X.shape[0]} samples, {data.X.shape[1]} features"
    if n_classes:
        shape += f", {n_classes} classes"
    split = "stratified " if data.task == "classification" else ""
    return (f"{data.task} on {data.name} ({shape}); {args.cv}-fold {split}"
            f"cross-validation, random_state={args.random_state}")


def _notes(data, soft):
    if data.task == "regression":
        return [
            "Linear models are fitted after a StandardScaler, with their default "
            "penalties (GaussianRegressor alpha=1e-4; BayesianRidge learns its own).",
            "Scores are higher-is-better; std is over folds (ddof=0).",
        ]
    notes = [
        "Penalties are matched: DivergenceClassifier alpha = 1 / (C * n_train) "
        "with LogisticRegression's C=1, n_train the size of each training fold.",
        "Linear models are fitted after a StandardScaler; the gradient boosting "
        "on raw features.",
        "cross_entropy and kl_divergence differ by the targets' entropy, a "
        "constant: they fit the same model.",
        "Fit times are at each model's default tolerance: DivergenceClassifier "
        "stops when the gradient's max-norm is 1e-8, LogisticRegression at "
        "1e-4, farther from the optimum.",
    ]
    if soft:
        notes += [
            "Students are trained on the teacher's out-of-fold probabilities within "
            "each training fold; LogisticRegression cannot take soft labels and "
            "is trained on hard labels. Scores are on hard test labels, "
            "neg_kl_to_teacher against the teacher's test probabilities.",
        ]
    notes.append("Scores are higher-is-better; std is over folds (ddof=0).")
    return notes


def _fmt(stats):
    if stats is None:
        return "n/a"
    if stats["mean"] is None:
        return "failed"
    return f"{stats['mean']:.3f} +/- {stats['std']:.3f}"


def _table(header, names, rows, notes, show_targets):
    columns = ["model", "objective"] + (["targets"] if show_targets else [])
    lines = []
    for row in rows:
        cells = [row["model"], row["objective"]]
        if show_targets:
            cells.append(row["targets"])
        cells += [_fmt(row["scores"][n]) for n in names]
        t = row["fit_time"]["mean"]
        cells.append("failed" if t is None else f"{t:.3f}")
        lines.append(cells)
    titles = columns + names + ["fit time (s)"]
    widths = [max(map(len, column)) for column in zip(titles, *lines, strict=True)]
    n_left = len(columns)

    def render(cells):
        return "  ".join(
            c.ljust(w) if j < n_left else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [header, "", render(titles), render(["-" * w for w in widths])]
    out += [render(cells) for cells in lines]
    out += [""] + [f"* {note}" for note in notes]
    return "\n".join(out) + "\n"


def _csv(names, rows):
    import io

    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(
        ["model", "objective", "targets"]
        + [f"{n}_{s}" for n in names for s in ("mean", "std")]
        + ["fit_time_mean", "fit_time_std"]
    )
    for row in rows:
        stats = [row["scores"][n] for n in names] + [row["fit_time"]]
        writer.writerow(
            [row["model"], row["objective"], row["targets"] or ""]
            + ["" if s is None or s[key] is None else repr(s[key]) for s in stats
               for key in ("mean", "std")]
        )
    return stream.getvalue()


def _check_plotting():
    try:
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise _RunError(f"--plot needs matplotlib; install it with: {_EXTRA}") from None


def _plot(path, header, names, rows):
    from matplotlib.figure import Figure

    labels = [f"{r['model']}\n{r['objective']}" for r in rows]
    positions = np.arange(len(rows))[::-1]
    fig = Figure(figsize=(3.2 * len(names) + 2.5, 0.5 * len(rows) + 1.8),
                 layout="constrained")
    axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        stats = [r["scores"][name] or {"mean": None, "std": None} for r in rows]
        means = [np.nan if s["mean"] is None else s["mean"] for s in stats]
        stds = [0.0 if s["std"] is None else s["std"] for s in stats]
        ax.errorbar(means, positions, xerr=stds, fmt="o", capsize=4)
        ax.set_title(name)
        ax.set_xlabel("mean +/- std over folds")
        ax.grid(axis="x", alpha=0.3)
        ax.margins(y=0.15)
    axes[0].set_yticks(positions, labels)
    fig.suptitle(header + "\n(higher is better)", fontsize="medium")
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:
        raise _RunError(f"--plot: cannot write {str(path)!r}: {exc}") from None


# ---------------------------------------------------------------------- compare
def _compare(args):
    if (args.data is None) != (args.target is None):
        raise _UsageError("--data and --target go together")
    if args.soft_labels and args.task == "regression":
        raise _UsageError("--soft-labels is for classification, not --task regression")
    if args.plot is not None:
        _check_plotting()

    if args.data is not None:
        data = _load_csv(args.data, args.target, args.task)
    else:
        data = _load_builtin(args.task or "classification")
    if args.soft_labels and data.task == "regression":
        raise _UsageError(
            f"--soft-labels is for classification, but the target {args.target!r} "
            "looks continuous (regression); add --task classification if it is not"
        )
    classes = _check_classes(data.y, args.cv) if data.task == "classification" else []
    if data.X.shape[0] < args.cv:
        raise _UsageError(f"--cv {args.cv} is more than the {data.X.shape[0]} samples")
    scoring = _resolve_scoring(args.scoring, data.task)
    if data.task == "classification":
        candidates = _classifiers(args.random_state, args.soft_labels)
    else:
        candidates = _regressors()

    fold_scores, problems = _run(data, candidates, scoring, args)
    names, rows = _summarise(candidates, scoring, fold_scores, args.cv)
    header = _header(data, args, len(classes))
    notes = _notes(data, args.soft_labels)

    for (i, message), ks in sorted(problems.items()):
        if args.quiet and message.startswith("warning"):
            continue
        c = candidates[i]
        folds = ", ".join(str(k + 1) for k in sorted(set(ks)))
        print(f"{c.model} ({c.objective}), folds {folds}: {message}", file=sys.stderr)

    if args.format == "json":
        report = {
            "task": data.task,
            "data": data.name,
            "n_samples": int(data.X.shape[0]),
            "n_features": int(data.X.shape[1]),
            "n_classes": len(classes) if data.task == "classification" else None,
            "cv": args.cv,
            "random_state": args.random_state,
            "soft_labels": args.soft_labels,
            "scoring": names,
            "results": rows,
            "notes": notes,
        }
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    elif args.format == "csv":
        sys.stdout.write(_csv(names, rows))
    else:
        sys.stdout.write(_table(header, names, rows, notes, args.soft_labels))
    if args.plot is not None:
        _plot(args.plot, header, names, rows)
    return 0
