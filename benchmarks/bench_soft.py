"""Soft targets: skdiv's fit against what a scikit-learn user does instead.

Issue 18 ("Small data"), for the targets skdiv exists for: a teacher's
probabilities (distillation, ``loss="kl_divergence"``) and smoothed labels
(``label_smoothing``). No scikit-learn classifier takes probabilities as
targets; the way to fit the same objective with ``LogisticRegression`` is to
repeat every row once per class, with the class as its label and the
target's probability as its sample weight:

.. math::

    \\sum_i \\sum_k p_{ik} \\bigl(-\\log q_k(x_i)\\bigr)
    = \\sum_{(i, k)} s_{ik}\\, \\ell(k, x_i), \\qquad s_{ik} = p_{ik},

so ``LogisticRegression(C=1 / (alpha n))`` on the ``n k`` weighted rows
minimises the cross-entropy of skdiv's ``DivergenceClassifier(alpha)``: the
same optimum (KL differs from it by the targets' entropy, a constant). The
script checks that, by both libraries' fits at a tight tolerance, and times:

* ``DivergenceClassifier(loss="kl_divergence")`` on the teacher's
  probabilities, and ``DivergenceClassifier(label_smoothing=s)`` on the hard
  labels, at skdiv's defaults otherwise (``alpha=1e-4``, ``tol=1e-8``);
* ``LogisticRegression(C=1 / (1e-4 n))`` at its defaults otherwise
  (lbfgs, ``tol=1e-4``, ``max_iter=100``) on the repeated, weighted rows,
  the repetition included in its time.

The sets are standardised: digits (1,797 x 64, 10 classes), wine,
breast_cancer and a ``make_classification`` set of 4,000 x 40 with 8
classes. The teacher is ``LogisticRegression(C=0.05)`` fitted on the same
rows. Distances are the max abs difference of ``predict_proba`` on the
training rows from the optimum (skdiv at ``tol=1e-12``). One process, one BLAS
thread for both (``threadpool_limits(1)``), fits alternated round by round
after a warm-up fit each, the median of ``--repeats`` rounds.

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_soft.py --quick   # 3 rounds
    PYTHONPATH=. python benchmarks/bench_soft.py           # 9 rounds, about 1 minute
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    add_verdict,
    blas_info,
    load_average,
    start_record,
    write_record,
)

ALPHA = 1e-4


def make_sets():
    """``name -> (X, y)``: standardised features and hard labels."""
    from sklearn.datasets import (
        load_breast_cancer,
        load_digits,
        load_wine,
        make_classification,
    )
    from sklearn.preprocessing import StandardScaler

    sets = {}
    for name, loader in (("digits", load_digits), ("wine", load_wine),
                         ("breast_cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        sets[name] = (StandardScaler().fit_transform(X), y)
    X, y = make_classification(4000, 40, n_informative=20, n_classes=8,
                               class_sep=2.0, random_state=0)
    sets["synthetic 4000 x 40, 8"] = (StandardScaler().fit_transform(X), y)
    return sets


def repeated_rows(X, P):
    """Rows repeated once per class, labelled by it, weighted by ``P``."""
    n, k = P.shape
    return np.repeat(X, k, axis=0), np.tile(np.arange(k), n), P.ravel()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds instead of 9: to check the script")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 3 if args.quick else 9

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from skdiv import DivergenceClassifier

    record = start_record(
        __file__, args,
        "bench_soft: soft targets against LogisticRegression on repeated, "
        "weighted rows (issue 18)",
        extra=[
            f"mode: {'quick' if args.quick else 'full'}, {args.repeats} "
            "alternated rounds after one warm-up fit each, one process",
            "threads: threadpool_limits(1) around the whole run",
            f"skdiv: DivergenceClassifier(alpha={ALPHA:g}) defaults; "
            f"LogisticRegression(C=1/({ALPHA:g} n)) defaults, on n k rows",
        ],
    )
    rows = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pools = "; ".join(blas_info())
        for name, (X, y) in make_sets().items():
            n = X.shape[0]
            C = 1.0 / (ALPHA * n)
            teacher = LogisticRegression(C=0.05, max_iter=1000).fit(X, y)
            cases = {
                "teacher, KL": (dict(loss="kl_divergence"), teacher.predict_proba(X)),
                "smoothing 0.1": (dict(label_smoothing=0.1), y),
                "smoothing 0.3": (dict(label_smoothing=0.3), y),
            }
            for case, (options, target) in cases.items():
                if target.ndim == 2:
                    P = target
                else:
                    # PyTorch's smoothing, as skdiv documents it: (1 - s) p + s / K.
                    s, k = options["label_smoothing"], y.max() + 1
                    P = (1.0 - s) * np.eye(k)[y] + s / k
                optimum = DivergenceClassifier(tol=1e-12, max_iter=10_000,
                                               **options).fit(X, target)
                reference = optimum.predict_proba(X)
                # The peer's own optimum: the same objective, checked here.
                Xr, yr, wr = repeated_rows(X, P)
                peer_tight = LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
                peer_tight.fit(Xr, yr, sample_weight=wr)
                agreement = np.abs(peer_tight.predict_proba(X) - reference).max()

                def fit_skdiv(X=X, target=target, options=options):
                    return DivergenceClassifier(**options).fit(X, target)

                def fit_peer(X=X, P=P, C=C):
                    Xr, yr, wr = repeated_rows(X, P)
                    return LogisticRegression(C=C).fit(Xr, yr, sample_weight=wr)

                fits = {"skdiv": fit_skdiv, "LogisticRegression": fit_peer}
                times = {label: [] for label in fits}
                last = {label: make() for label, make in fits.items()}  # warm-up
                for _ in range(args.repeats):
                    for label, make in fits.items():
                        start = time.perf_counter()
                        last[label] = make()
                        times[label].append(time.perf_counter() - start)
                medians = {label: statistics.median(t) for label, t in times.items()}
                distance = {label: float(np.abs(model.predict_proba(X)
                                                - reference).max())
                            for label, model in last.items()}
                ratio = medians["skdiv"] / medians["LogisticRegression"]
                row = dict(dataset=name, case=case, n=n, k=P.shape[1],
                           skdiv_time=medians["skdiv"],
                           peer_time=medians["LogisticRegression"], ratio=ratio,
                           skdiv_distance=distance["skdiv"],
                           peer_distance=distance["LogisticRegression"],
                           skdiv_n_iter=int(last["skdiv"].n_iter_),
                           peer_n_iter=int(np.max(last["LogisticRegression"].n_iter_)),
                           optima_agreement=float(agreement))
                rows.append(row)
                print(f"  {name:24s} {case:14s} skdiv {row['skdiv_time'] * 1e3:7.2f} ms"
                      f"  LR {row['peer_time'] * 1e3:7.2f} ms  ratio {ratio:5.2f}"
                      f"  distance {distance['skdiv']:.1e} / "
                      f"{distance['LogisticRegression']:.1e}"
                      f"  (optima agree to {agreement:.1e})")
    record["rows"] = rows
    print(f"\nthread pools during the run: {pools}")
    print("\n## Markdown table (paste into benchmarks/README.md)\n")
    print("| data | targets | skdiv ms (n_iter) | LogisticRegression ms (n_iter) "
          "| ratio | distance skdiv / LR | optima agree to |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dataset']} | {r['case']} | {r['skdiv_time'] * 1e3:.2f} "
              f"({r['skdiv_n_iter']}) | {r['peer_time'] * 1e3:.2f} "
              f"({r['peer_n_iter']}) | {r['ratio']:.2f} | "
              f"{r['skdiv_distance']:.1e} / {r['peer_distance']:.1e} | "
              f"{r['optima_agreement']:.1e} |")
    worst = max(rows, key=lambda r: r["ratio"])
    print()
    add_verdict(record, "skdiv faster than LogisticRegression on repeated rows, "
                "every set and target, one thread",
                worst["ratio"] < 1.0,
                f"worst ratio {worst['ratio']:.2f} ({worst['dataset']}, "
                f"{worst['case']})", worst_ratio=worst["ratio"])
    closer = all(r["skdiv_distance"] <= r["peer_distance"] for r in rows)
    add_verdict(record, "skdiv closer to the optimum everywhere", closer,
                f"skdiv at most {max(r['skdiv_distance'] for r in rows):.1e}, "
                f"LogisticRegression at least "
                f"{min(r['peer_distance'] for r in rows):.1e}")
    print(f"\nload average at end: {load_average()}")
    write_record(record)


if __name__ == "__main__":
    main()
