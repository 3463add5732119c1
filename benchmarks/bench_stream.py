"""Streaming: DivergenceClassifier.partial_fit against SGDClassifier, pass by pass.

Issue 18 (streaming). Each pass reshuffles the rows (seed 0) and feeds them
in chunks, one ``partial_fit`` call per chunk, to both estimators:

* ``DivergenceClassifier()`` (defaults: ``alpha=1e-4``, ``batch_size="auto"``);
* ``SGDClassifier(loss="log_loss", alpha=1e-4)`` (its other defaults).
  scikit-learn's L2 term is ``alpha * R(w)`` with ``R(w) = 1/2 ||w||^2``, the
  same convention as skdiv's ``alpha/2 ||W||^2``: the same ``alpha`` is the
  same penalty (and LogisticRegression's ``C = 1 / (alpha n)``).

After every pass the script evaluates, with its own numpy code, the
multinomial objective that ``fit`` minimises,

    F(W, b) = mean_i CE(y_i, softmax(W x_i + b)) + alpha/2 ||W||^2 ,

at each model, and prints the relative gap ``(F - F*) / F*`` to the batch
optimum ``F*`` (the smaller of ``DivergenceClassifier(tol=1e-10).fit`` and
``LogisticRegression(C=1/(alpha n), tol=1e-12)``, which agree to rounding).
For more than two classes SGDClassifier minimises a different objective,
one-vs-rest binary logistic losses, so it is also scored on its own: the
gap of its OvR objective to the OvR optimum (K binary LogisticRegression
fits at the same C), column ``SGD own``.

Data: ``load_digits`` as shipped (pixel values 0-16: skdiv's change of
variables handles units, SGD's step sizes do not), ``load_digits``
standardised (StandardScaler), and ``make_classification(100_000, 50,
n_informative=30, n_classes=5, random_state=0)``. Chunks: 200 rows (digits),
1,000 rows (synthetic). Both estimators run with one BLAS thread
(threadpoolctl), passes alternated in one process; the time per pass is the
wall time of that pass's ``partial_fit`` calls.

Target: skdiv within 1e-3 (relative) of ``F*`` in at most 10 passes.

The same for ``GaussianRegressor.partial_fit`` (defaults, ``loss=
"squared_error"``, ``variance="constant"``; ``alpha=0``) on
``bench_regressor.py``'s heteroscedastic data (100,000 x 20), against its
own ``fit(tol=1e-10)`` on the mean Gaussian NLL written out: no
scikit-learn estimator streams a likelihood with a variance model.

This is a benchmark, not a test. Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_stream.py           # full
    PYTHONPATH=. python benchmarks/bench_stream.py --quick   # 20,000 rows, 3 passes
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_verdict, fmt_sci, start_record, write_record  # noqa: E402

ALPHA = 1e-4
TARGET = 1e-3


def data_sets(quick):
    from sklearn.datasets import load_digits, make_classification

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64)
    std = X.std(axis=0)
    yield "digits (raw)", X, y, 200
    standardised = (X - X.mean(axis=0)) / np.where(std > 0, std, 1)
    yield "digits (standardised)", standardised, y, 200
    n = 20_000 if quick else 100_000
    Xs, ys = make_classification(n, 50, n_informative=30, n_classes=5, random_state=0)
    yield f"synthetic {n:,} x 50, 5 classes", Xs, ys, 1000


def softmax_objective(X, codes, coef, intercept):
    """The multinomial objective F, written out (binary: one logit row)."""
    logits = X @ np.atleast_2d(coef).T + intercept
    if logits.shape[1] == 1:
        logits = np.hstack([np.zeros_like(logits), logits])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_q = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    ce = -log_q[np.arange(len(codes)), codes].mean()
    return ce + 0.5 * ALPHA * np.sum(np.asarray(coef) ** 2)


def ovr_objective(X, codes, coef, intercept):
    """Sum over classes of the binary logistic objective (SGD's, one-vs-rest)."""
    total = 0.0
    for k in range(coef.shape[0]):
        z = X @ coef[k] + intercept[k]
        sign = np.where(codes == k, 1.0, -1.0)
        total += np.mean(np.logaddexp(0.0, -sign * z)) + 0.5 * ALPHA * coef[k] @ coef[k]
    return total


def optima(X, codes, n_classes):
    from sklearn.linear_model import LogisticRegression

    from skdiv import DivergenceClassifier

    C = 1.0 / (ALPHA * X.shape[0])
    ours = DivergenceClassifier(tol=1e-10).fit(X, codes)
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, codes)
    f_star = min(softmax_objective(X, codes, ours.coef_, ours.intercept_),
                 softmax_objective(X, codes, lr.coef_, lr.intercept_))
    ovr_star = None
    if n_classes > 2:
        coefs, intercepts = [], []
        for k in range(n_classes):
            binary = LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
            binary.fit(X, codes == k)
            coefs.append(binary.coef_[0])
            intercepts.append(binary.intercept_[0])
        ovr_star = ovr_objective(X, codes, np.array(coefs), np.array(intercepts))
    return f_star, ovr_star


def regression_set(quick):
    """bench_regressor.py's heteroscedastic data: y = X w + 1 + eps exp(X v / 2)."""
    n = 20_000 if quick else 100_000
    rng = np.random.default_rng(0)
    w = rng.standard_normal(20)
    v = rng.standard_normal(20)
    v /= np.linalg.norm(v)
    X = rng.standard_normal((n, 20))
    return X, X @ w + 1.0 + rng.standard_normal(n) * np.exp(X @ v / 2)


def gaussian_nll(X, y, est):
    """Mean Gaussian NLL in target units, written out."""
    mean = X @ est.coef_ + est.intercept_
    log_var = X @ est.var_coef_ + est.var_intercept_
    return np.mean(0.5 * (np.log(2 * np.pi) + log_var
                          + (y - mean) ** 2 * np.exp(-log_var)))


def regressor_streams(record, passes, quick, lines):
    """GaussianRegressor.partial_fit against its own fit (no peer streams NLL).

    ``alpha=0``: the objective in target units does not depend on the target
    scaling, which a stream takes from its first call and fit from all y.
    """
    from skdiv import GaussianRegressor

    X, y = regression_set(quick)
    chunk = 1000
    for params in (dict(), dict(loss="squared_error"), dict(variance="constant")):
        label = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"
        name = f"GaussianRegressor({label}) {X.shape[0]:,} x 20"
        reference = GaussianRegressor(alpha=0.0, tol=1e-10, **params).fit(X, y)
        f_star = gaussian_nll(X, y, reference)
        est = GaussianRegressor(alpha=0.0, **params)
        rng = np.random.default_rng(0)
        table = [f"**{name}** (chunks of {chunk} rows, F* = {f_star:.10g})", "",
                 "| pass | skdiv gap | skdiv s/pass |", "|---|---|---|"]
        print(f"\n## {name}, chunks of {chunk} rows, F* = {f_star:.10g}")
        reached = None
        for p in range(1, passes + 1):
            order = rng.permutation(X.shape[0])
            start = time.perf_counter()
            for i in range(0, len(order), chunk):
                rows = order[i : i + chunk]
                est.partial_fit(X[rows], y[rows])
            seconds = time.perf_counter() - start
            gap = (gaussian_nll(X, y, est) - f_star) / abs(f_star)
            if reached is None and abs(gap) <= TARGET:
                reached = p
            record["rows"].append({"set": name, "pass": p, "chunk": chunk,
                                   "f_star": f_star, "skdiv_gap": gap,
                                   "skdiv_time": seconds})
            table.append(f"| {p} | {fmt_sci(gap)} | {seconds:.3f} |")
            print(table[-1], flush=True)
        add_verdict(
            record, f"{name}: within {TARGET:g} of F* in <= {passes} passes",
            reached is not None and abs(gap) <= TARGET,
            f"first at pass {reached}, {fmt_sci(gap)} after pass {passes}",
            first_pass=reached, gap=gap,
        )
        lines += table + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="20,000 synthetic rows and 3 passes")
    parser.add_argument("--passes", type=int, default=None)
    args = parser.parse_args()
    passes = args.passes or (3 if args.quick else 10)

    from sklearn.linear_model import SGDClassifier
    from threadpoolctl import threadpool_limits

    from skdiv import DivergenceClassifier

    record = start_record(
        __file__, args, "DivergenceClassifier.partial_fit vs SGDClassifier.partial_fit",
        extra=[f"alpha={ALPHA} for both, {passes} passes, rows reshuffled each "
               "pass (seed 0), BLAS threads=1 for both, passes alternated",
               "gap = (F - F*) / F* on the multinomial objective; SGD own = its "
               "one-vs-rest objective against the OvR optimum"],
    )
    lines = []
    with threadpool_limits(limits=1, user_api="blas"):
        for name, X, y, chunk in data_sets(args.quick):
            classes = np.unique(y)
            codes = np.searchsorted(classes, y)
            f_star, ovr_star = optima(X, codes, len(classes))
            print(f"\n## {name}: {X.shape[0]:,} x {X.shape[1]}, {len(classes)} "
                  f"classes, chunks of {chunk} rows, F* = {f_star:.10g}")
            ours = DivergenceClassifier()
            sgd = SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=0)
            rng = np.random.default_rng(0)
            header = ("| pass | skdiv gap | SGD gap | SGD own gap | skdiv s/pass "
                      "| SGD s/pass | time ratio |")
            table = [f"**{name}** (chunks of {chunk} rows)", "", header,
                     "|---|---|---|---|---|---|---|"]
            reached = None
            for p in range(1, passes + 1):
                order = rng.permutation(X.shape[0])
                chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
                seconds = {}
                for who, est in (("skdiv", ours), ("sgd", sgd)):
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        for rows in chunks:
                            est.partial_fit(X[rows], y[rows], classes=classes)
                    seconds[who] = time.perf_counter() - start
                gap = (softmax_objective(X, codes, ours.coef_, ours.intercept_)
                       - f_star) / f_star
                sgd_gap = (softmax_objective(X, codes, sgd.coef_, sgd.intercept_)
                           - f_star) / f_star
                own = None
                if ovr_star is not None:
                    own = (ovr_objective(X, codes, sgd.coef_, sgd.intercept_)
                           - ovr_star) / ovr_star
                if reached is None and gap <= TARGET:
                    reached = p
                row = {"set": name, "pass": p, "chunk": chunk, "f_star": f_star,
                       "skdiv_gap": gap, "sgd_gap": sgd_gap, "sgd_own_gap": own,
                       "skdiv_time": seconds["skdiv"], "sgd_time": seconds["sgd"],
                       "time_ratio": seconds["skdiv"] / seconds["sgd"],
                       "skdiv_n_iter": ours.n_iter_}
                record["rows"].append(row)
                line = (f"| {p} | {fmt_sci(gap)} | {fmt_sci(sgd_gap)} | "
                        f"{fmt_sci(own)} | {seconds['skdiv']:.3f} | "
                        f"{seconds['sgd']:.3f} | {row['time_ratio']:.1f} |")
                table.append(line)
                print(line if p > 1 else header + "\n" + line, flush=True)
            ok = reached is not None and gap <= TARGET
            add_verdict(
                record, f"{name}: skdiv within {TARGET:g} of F* in <= {passes} passes",
                ok, f"first at pass {reached}, {fmt_sci(gap)} after pass {passes}; "
                f"SGD {fmt_sci(sgd_gap)}", first_pass=reached, gap=gap,
            )
            lines += table + [""]
        regressor_streams(record, passes, args.quick, lines)
    print("\n" + "\n".join(lines))
    record["tables"]["markdown"] = lines
    path = write_record(record)
    print(f"record: {path}")


if __name__ == "__main__":
    main()
