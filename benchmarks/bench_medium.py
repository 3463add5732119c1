"""Medium softmax fits: the formed preconditioner's schedule, on seven sets.

Issue 18 ("Small data"). The fits between the exact steps' size and the
subsampled Hessian's (a few hundred to a few thousand parameters, all rows
in the Hessian) are where Newton-CG forms a float32 preconditioner when a
solve gets expensive (``docs/developers.rst``, "Medium problems"). How well
that schedule does depends on the data, and digits alone sits on an edge of
it (its fourth solve takes 19 or 20 products against a threshold of 19.5,
by rounding), so changes to the schedule are judged here on seven sets at
two penalties each:

* ``load_digits`` (1,797 x 64, 10 classes), standardised;
* two of ``skdiv compare``'s training folds of digits (4/5 of the rows,
  standardised on the fold), as the command fits them;
* four ``make_classification`` sets (2,000-6,000 rows, 30-100 features,
  5-10 classes, ``class_sep=2``: near-separable), standardised;

each with ``DivergenceClassifier(alpha=1e-4)`` (its default) and
``alpha=1/n`` (``LogisticRegression()``'s ``C=1``), against
``LogisticRegression()`` at its defaults and at the matched ``C``.

Timed in one process inside ``threadpool_limits(1)`` (the fair setting on a
shared 2-core machine), the fits of a set alternated round by round after one
warm-up fit each; the figure is the median of ``--repeats`` rounds. The
conjugate-gradient products of each skdiv fit are counted by wrapping
``skdiv._solvers._newton.truncated_cg`` (instrumentation only: the fit is
the same).

``--variant MODULE.NAME=VALUE`` (repeatable) also times skdiv with those
module constants changed (say ``skdiv._solvers._newton._FORM_AFTER=0.25``),
alternated with the committed values in the same rounds: the total over the
14 fits of each is printed side by side, so that a change of the schedule
is judged on all the sets at once and against the noise of the same run.

This is a benchmark, not a test: it prints ratios against the peers measured
in the same run and writes a JSON record in ``benchmarks/results/``.

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_medium.py --quick   # 3 rounds, about 20 s
    PYTHONPATH=. python benchmarks/bench_medium.py           # 9 rounds, about 1 minute
    PYTHONPATH=. python benchmarks/bench_medium.py \\
        --variant skdiv._solvers._newton._FORM_AFTER=0.25
"""

import argparse
import ast
import importlib
import itertools
import os
import statistics
import sys
import time
import warnings
from contextlib import nullcontext

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    blas_info,
    load_average,
    start_record,
    write_record,
)


def make_sets():
    """``name -> (X, y)``: the seven standardised sets."""
    from sklearn.datasets import load_digits, make_classification
    from sklearn.preprocessing import StandardScaler

    def scaled(X):
        return StandardScaler().fit_transform(X)

    X, y = load_digits(return_X_y=True)
    sets = {"digits": (scaled(X), y)}
    # Two training folds as skdiv compare makes them (5 stratified folds,
    # random_state=0), each standardised on itself.
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    for i, (train, _) in enumerate(itertools.islice(folds, 2)):
        sets[f"digits fold {i}"] = (scaled(X[train]), y[train])
    for n, d, k, seed in [(2000, 40, 8, 1), (4000, 30, 6, 2), (6000, 60, 10, 3),
                          (3000, 100, 5, 4)]:
        Xs, ys = make_classification(
            n, d, n_informative=d // 2, n_classes=k, n_clusters_per_class=1,
            class_sep=2.0, random_state=seed,
        )
        sets[f"synthetic {n} x {d}, {k}"] = (scaled(Xs), ys)
    return sets


def parse_variant(text):
    """``"pkg.module.NAME=VALUE"`` -> ``(module, name, value)``."""
    target, _, value = text.partition("=")
    module_name, _, name = target.rpartition(".")
    if not (module_name and name and value):
        raise SystemExit(f"--variant wants MODULE.NAME=VALUE, got {text!r}")
    module = importlib.import_module(module_name)
    if not hasattr(module, name):
        raise SystemExit(f"{module_name} has no attribute {name!r}")
    return module, name, ast.literal_eval(value)


class Variant:
    """Module constants set for the duration of a block, then restored."""

    def __init__(self, changes):
        self.changes = changes
        self.saved = []

    def __enter__(self):
        self.saved = [(m, n, getattr(m, n)) for m, n, _ in self.changes]
        for module, name, value in self.changes:
            setattr(module, name, value)

    def __exit__(self, *exc):
        for module, name, value in self.saved:
            setattr(module, name, value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds instead of 9: to check the script")
    parser.add_argument("--repeats", type=int, default=None,
                        help="alternated rounds (median); 9, or 3 with --quick")
    parser.add_argument("--variant", action="append", default=[],
                        metavar="MODULE.NAME=VALUE",
                        help="also time skdiv with this module constant changed")
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 3 if args.quick else 9

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    import skdiv._solvers._newton as newton
    from skdiv import DivergenceClassifier

    changes = [parse_variant(text) for text in args.variant]
    record = start_record(
        __file__, args,
        "bench_medium: the formed preconditioner's schedule on seven medium "
        "sets (issue 18)",
        extra=[
            f"mode: {'quick' if args.quick else 'full'}, {args.repeats} "
            "alternated rounds after one warm-up fit each, one process",
            "threads: threadpool_limits(1) around the whole run",
            "skdiv: DivergenceClassifier(alpha=1e-4) (default) and alpha=1/n; "
            "LogisticRegression() and C=1 are the same penalty as 1/n",
            "variant: " + (", ".join(args.variant) or "none"),
        ],
    )
    counts = {"products": 0}
    original_cg = newton.truncated_cg

    def counting_cg(*a, **k):
        result = original_cg(*a, **k)
        counts["products"] += result[1]
        return result

    newton.truncated_cg = counting_cg
    sets = make_sets()
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # LogisticRegression() stops at max_iter on some sets: its defaults.
        warnings.simplefilter("ignore", ConvergenceWarning)
        pools = "; ".join(blas_info())
        for name, (X, y) in sets.items():
            n = X.shape[0]
            fits = {}
            for label, alpha in (("default", 1e-4), ("1/n", 1.0 / n)):
                fits[f"skdiv {label}"] = (DivergenceClassifier(alpha=alpha), None)
                if changes:
                    fits[f"variant {label}"] = (DivergenceClassifier(alpha=alpha),
                                                Variant(changes))
            fits["LogisticRegression()"] = (LogisticRegression(), None)
            times = {label: [] for label in fits}
            info = {}
            for round_ in range(args.repeats + 1):  # the first is the warm-up
                for label, (estimator, variant) in fits.items():
                    counts["products"] = 0
                    with variant if variant is not None else nullcontext():
                        start = time.perf_counter()
                        estimator.fit(X, y)
                        elapsed = time.perf_counter() - start
                    if round_:
                        times[label].append(elapsed)
                    info[label] = (int(np.max(estimator.n_iter_)), counts["products"])
            peer = statistics.median(times["LogisticRegression()"])
            for label in fits:
                median = statistics.median(times[label])
                n_iter, products = info[label]
                row = dict(dataset=name, model=label, time=median,
                           times=times[label], ratio=median / peer, n_iter=n_iter,
                           products=products if label != "LogisticRegression()"
                           else None)
                rows.append(row)
                print(f"  {name:26s} {label:22s} {median * 1e3:8.2f} ms  "
                      f"{row['ratio']:5.2f} of LR  n_iter {n_iter:3d}"
                      + (f"  products {products}" if row["products"] is not None
                         else ""), flush=True)
    newton.truncated_cg = original_cg
    record["rows"] = rows
    print(f"\nthread pools during the run: {pools}")

    print("\n## Markdown table (paste into benchmarks/README.md)\n")
    labels = [r["model"] for r in rows if r["dataset"] == "digits"]
    print("| data | " + " | ".join(
        f"{m} ms (iter)" if m == "LogisticRegression()" else f"{m} ms (iter, products)"
        for m in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name in sets:
        cells = []
        for label in labels:
            row = next(r for r in rows if r["dataset"] == name and r["model"] == label)
            extra = (f" ({row['n_iter']}, {row['products']})"
                     if row["products"] is not None else f" ({row['n_iter']})")
            cells.append(f"{row['time'] * 1e3:.1f}{extra}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    totals = {label: sum(r["time"] for r in rows if r["model"] == label)
              for label in labels}
    print("| **total** | " + " | ".join(f"{totals[m] * 1e3:.1f}" for m in labels)
          + " |")
    record["tables"]["totals_ms"] = {m: t * 1e3 for m, t in totals.items()}
    skdiv_total = totals["skdiv default"] + totals["skdiv 1/n"]
    print(f"\nskdiv's 14 fits: {skdiv_total * 1e3:.1f} ms in all")
    if changes:
        variant_total = totals["variant default"] + totals["variant 1/n"]
        print(f"with {', '.join(args.variant)}: {variant_total * 1e3:.1f} ms "
              f"({variant_total / skdiv_total:.3f} of it)")
    print(f"\nload average at end: {load_average()}")
    write_record(record)


if __name__ == "__main__":
    main()
