"""skdiv's scorers against scikit-learn's, on the same fitted model and data.

Issue 18, "Scorers": keep them no slower than scikit-learn's (target: time
ratio <= 1.0). Data: 200,000 x 20 dense float64 rows, 10 classes
(``rng = default_rng(0)``; ``X`` standard normal; labels from a softmax
model with standard Gumbel noise), and a ``LogisticRegression()`` fitted on
the first 20,000 rows; every scorer scores all 200,000.

Timed, in one process with one BLAS thread (``threadpool_limits(1)`` around
the whole run), calls alternated round by round after one warm-up call
each, ``time.perf_counter`` (and ``time.process_time``), median of
``--repeats`` rounds:

* ``skdiv.metrics.get_scorer("neg_cross_entropy")`` against
  ``sklearn.metrics.get_scorer("neg_log_loss")`` on the class labels; their
  values must agree to 1e-12 relative;
* ``skdiv.metrics.get_scorer("neg_kl_divergence")`` on soft targets (the
  ``predict_proba`` of a teacher, ``LogisticRegression(C=0.01)`` fitted on
  rows 20,000-40,000). scikit-learn has no scorer for soft targets: the peer
  is ``neg_log_loss`` on the hard labels (the same ``predict_proba`` and
  array sizes), and the value is checked against this script's NumPy
  ``-mean_i sum_k p_ik log(p_ik / q_ik)``;
* for the breakdown: ``predict_proba`` alone (the cost every probability
  scorer shares) and the metric functions alone on the same probabilities,
  ``skdiv.metrics.cross_entropy`` against ``sklearn.metrics.log_loss``.

This is a benchmark, not a test: it prints ratios against the peers measured
in the same run, PASS/FAIL against the target, a Markdown table, and writes
a JSON record in ``benchmarks/results/``.

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_scorers.py --quick   # 3 rounds, a few seconds
    PYTHONPATH=. python benchmarks/bench_scorers.py           # 15 rounds, about 10 s
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

N_ROWS, N_FEATURES, N_CLASSES, N_FIT = 200_000, 20, 10, 20_000


def make_data(n_rows=N_ROWS, n_features=N_FEATURES, n_classes=N_CLASSES):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, n_features))
    B = rng.standard_normal((n_features, n_classes)) / np.sqrt(n_features)
    logits = 2.0 * X @ B + rng.gumbel(size=(n_rows, n_classes))
    return X, np.argmax(logits, axis=1)


def alternate(calls, repeats):
    """Call each of ``calls`` (label -> function) ``repeats`` times, in turn.

    One warm-up call each first. Returns per label the wall and CPU times,
    their medians and the last value.
    """
    out = {label: {"wall": [], "cpu": []} for label in calls}
    for call in calls.values():
        call()
    for _ in range(repeats):
        for label, call in calls.items():
            cpu = time.process_time()
            wall = time.perf_counter()
            value = call()
            wall = time.perf_counter() - wall
            out[label]["cpu"].append(time.process_time() - cpu)
            out[label]["wall"].append(wall)
            out[label]["value"] = value
    for entry in out.values():
        entry["time"] = statistics.median(entry["wall"])
        entry["cpu_time"] = statistics.median(entry["cpu"])
    return out


def fmt_ratio(value):
    return "-" if value is None else f"{value:.3f}"


def numpy_kl(targets, proba):
    """Mean KL divergence of ``proba`` from ``targets``, written out in NumPy.

    ``proba`` is clipped to ``[eps, 1 - eps]`` as in ``log_loss``; terms with
    a zero target are zero.
    """
    eps = np.finfo(proba.dtype).eps
    q = np.clip(proba, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(targets > 0, targets * np.log(targets / q), 0.0)
    return float(terms.sum(axis=1).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 rounds instead of 15: to check the script",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="alternated rounds (median); 15, or 3 with --quick",
    )
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer as sklearn_get_scorer
    from sklearn.metrics import log_loss
    from threadpoolctl import threadpool_limits

    from skdiv.metrics import cross_entropy
    from skdiv.metrics import get_scorer as skdiv_get_scorer

    record = start_record(
        __file__,
        args,
        "bench_scorers: skdiv.metrics scorers vs scikit-learn's (issue 18)",
        extra=[
            f"mode: {'quick' if args.quick else 'full'}, {args.repeats} alternated "
            "rounds after one warm-up call each, one process",
            f"data: {N_ROWS} x {N_FEATURES} dense float64, {N_CLASSES} classes; "
            f"LogisticRegression() fitted on the first {N_FIT} rows, scored on all",
            "threads: threadpool_limits(1) around the whole run",
            "time: median wall (perf_counter) and CPU (process_time) per call",
        ],
    )
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning does not matter
        model = LogisticRegression().fit(X[:N_FIT], y[:N_FIT])
        teacher = LogisticRegression(C=0.01).fit(
            X[N_FIT : 2 * N_FIT], y[N_FIT : 2 * N_FIT]
        )
    soft = teacher.predict_proba(X)
    proba = model.predict_proba(X)
    ours_ce = skdiv_get_scorer("neg_cross_entropy")
    ours_kl = skdiv_get_scorer("neg_kl_divergence")
    theirs = sklearn_get_scorer("neg_log_loss")
    calls = {
        "skdiv neg_cross_entropy": lambda: ours_ce(model, X, y),
        "sklearn neg_log_loss": lambda: theirs(model, X, y),
        "skdiv neg_kl_divergence (soft)": lambda: ours_kl(model, X, soft),
        "predict_proba alone": lambda: model.predict_proba(X),
        "skdiv cross_entropy(y, proba)": lambda: cross_entropy(
            y, proba, labels=model.classes_
        ),
        "sklearn log_loss(y, proba)": lambda: log_loss(y, proba, labels=model.classes_),
    }
    peers = {
        "skdiv neg_cross_entropy": "sklearn neg_log_loss",
        "skdiv neg_kl_divergence (soft)": "sklearn neg_log_loss",
        "skdiv cross_entropy(y, proba)": "sklearn log_loss(y, proba)",
    }
    with threadpool_limits(limits=1):
        pools = "; ".join(blas_info())
        results = alternate(calls, args.repeats)
    print(f"\nthread pools during the run: {pools}")
    rows = []
    for label, entry in results.items():
        peer = peers.get(label)
        row = dict(
            label=label,
            times=entry["wall"],
            cpu_times=entry["cpu"],
            time=entry["time"],
            cpu_time=entry["cpu_time"],
            peer=peer,
            ratio=entry["time"] / results[peer]["time"] if peer else None,
            cpu_ratio=(entry["cpu_time"] / results[peer]["cpu_time"] if peer else None),
        )
        value = entry["value"]
        if np.ndim(value) == 0:
            row["value"] = float(value)
        rows.append(row)
        ratio = (
            f"ratio {row['ratio']:.3g} (cpu {row['cpu_ratio']:.3g}) vs {peer}"
            if peer
            else ""
        )
        print(
            f"  {label:32s} {row['time'] * 1e3:8.2f} ms wall "
            f"{row['cpu_time'] * 1e3:8.2f} ms cpu  {ratio}"
        )
    record["rows"] = rows

    ce = results["skdiv neg_cross_entropy"]["value"]
    ll = results["sklearn neg_log_loss"]["value"]
    kl = results["skdiv neg_kl_divergence (soft)"]["value"]
    kl_numpy = -numpy_kl(soft, proba)
    checks = {
        "neg_cross_entropy vs neg_log_loss": (ce, ll),
        "neg_kl_divergence (soft) vs NumPy": (kl, kl_numpy),
        "cross_entropy vs log_loss": (
            results["skdiv cross_entropy(y, proba)"]["value"],
            results["sklearn log_loss(y, proba)"]["value"],
        ),
    }
    print("\n## Values")
    record["values"] = {}
    for label, (a, b) in checks.items():
        rel = abs(a - b) / abs(b)
        record["values"][label] = dict(skdiv=a, reference=b, relative_difference=rel)
        print(f"  {label}: {a!r} vs {b!r}, relative difference {rel:.1e}")

    print("\n## Targets (issue 18: scorers no slower than scikit-learn's)")
    for label in ("skdiv neg_cross_entropy", "skdiv neg_kl_divergence (soft)"):
        row = next(r for r in rows if r["label"] == label)
        add_verdict(
            record,
            f"{label} time / {row['peer']} <= 1.0",
            row["ratio"] <= 1.0,
            f"ratio {row['ratio']:.3g}",
            ratio=row["ratio"],
        )
    for label in checks:
        rel = record["values"][label]["relative_difference"]
        add_verdict(
            record,
            f"{label} agree to 1e-12 relative",
            rel <= 1e-12,
            f"{rel:.1e}",
            relative_difference=rel,
        )

    load_end = load_average()
    share = results["predict_proba alone"]["time"]
    print("\n## Markdown table (paste into benchmarks/README.md)\n")
    print(
        f"Load average (1, 5, 15 min): {record['machine']['load_average_start']} "
        f"at start, {load_end} at end; one BLAS thread.\n"
    )
    print(
        "| call | wall ms | cpu ms | peer | ratio (wall) | ratio (cpu) | "
        "time beyond predict_proba (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        beyond = (
            f"{(row['time'] - share) * 1e3:.2f}"
            if "alone" not in row["label"] and "(y, proba)" not in row["label"]
            else "-"
        )
        print(
            f"| {row['label']} | {row['time'] * 1e3:.2f} | "
            f"{row['cpu_time'] * 1e3:.2f} | {row['peer'] or '-'} | "
            f"{fmt_ratio(row['ratio'])} | {fmt_ratio(row['cpu_ratio'])} | "
            f"{beyond} |"
        )
    print(f"\nload average at end: {load_end}")
    write_record(record)


if __name__ == "__main__":
    main()
