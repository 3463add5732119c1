"""The network estimators against scikit-learn's MLP, in one run.

Issue 15. Each row fits skdiv's estimator and scikit-learn's at the same
architecture, activation, solver, batch size, number of epochs (Adam) or
iterations (L-BFGS), matched penalty and starting point (the same
``random_state`` draws the same Glorot weights and batches), under the same
BLAS thread limit (``--threads``, default 1 for both):

* ``DivergenceMLPClassifier`` against ``MLPClassifier`` on ``load_digits``
  (1,797 x 64, 10 classes; features / 16) and on a synthetic 100,000 x 50
  set (``--quick``: 20,000 x 50) with 5 classes from a random tanh network,
  held-out 20%: fit time, held-out cross-entropy and accuracy. Targets:
  time ratio <= 1.0 (goal 0.5), cross-entropy and accuracy no worse.
* ``GaussianMLPRegressor`` against ``MLPRegressor`` on a nonlinear
  heteroscedastic set (``y = sin(3 x_0) + x_1 + eps (0.1 + x_0^2)``, 50
  features, 20,000 rows; ``--quick``: 5,000): fit time, held-out RMSE of
  the mean, and held-out Gaussian NLL (scikit-learn's with the training
  residuals' standard deviation, the best a mean-only model can do).

Matched penalty: ``MLPClassifier(alpha=a)`` adds ``a / (2 n_b)`` times the
squared weights to each batch's mean loss, so skdiv gets ``alpha = a /
batch_size`` (Adam) and ``a / n_train`` (L-BFGS). Epochs: Adam runs exactly
``--epochs`` epochs in both (``n_iter_no_change`` above it). L-BFGS:
``--lbfgs-iter`` iterations at ``tol=0`` in both; SciPy may stop
scikit-learn's earlier (its default ``ftol``), so the iterations run are
printed next to the times.

This is a benchmark, not a test: it prints ratios against scikit-learn in
the same run and PASS/FAIL against the targets, and writes a JSON record in
``benchmarks/results/``. Fits run in this process (the first fit of each
estimator is a warm-up on a slice, so imports and caches are paid before
timing). NGBoost (issue 15's third comparison: ``NGBRegressor()`` on the
regression set, held-out NLL and the time ratio) runs when ngboost is
installed, which needs the separate environment of ``bench_regressor.py``
(ngboost pins scikit-learn below 1.7).

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_mlp.py --quick
"""

import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    add_verdict,
    fmt_time,
    measure_fits,
    start_record,
    write_record,
)


def classification_sets(quick):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    yield "digits 1,797 x 64", X / 16.0, y
    rng = np.random.default_rng(0)
    n = 20_000 if quick else 100_000
    X = rng.normal(size=(n, 50))
    W1, W2 = rng.normal(size=(50, 20)) / np.sqrt(50), rng.normal(size=(20, 5)) * 2
    logits = np.tanh(X @ W1) @ W2
    y = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
    yield f"synthetic {n:,} x 50", X, y


def regression_set(quick):
    rng = np.random.default_rng(1)
    n = 5_000 if quick else 20_000
    X = rng.uniform(-1.5, 1.5, size=(n, 50))
    y = np.sin(3 * X[:, 0]) + X[:, 1] + rng.normal(size=n) * (0.1 + X[:, 0] ** 2)
    return f"heteroscedastic {n:,} x 50", X, y


def split(X, y, seed=0):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.2, random_state=seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sets")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lbfgs-iter", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=100)
    args = parser.parse_args()
    epochs = args.epochs or (10 if args.quick else 50)
    lbfgs_iter = args.lbfgs_iter or (50 if args.quick else 200)
    repeats = args.repeats or (1 if args.quick else 3)
    hidden = (args.hidden,)

    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from threadpoolctl import threadpool_limits

    from skdiv import DivergenceMLPClassifier, GaussianMLPRegressor
    from skdiv.metrics import gaussian_nll

    record = start_record(
        __file__, args, "DivergenceMLPClassifier / GaussianMLPRegressor vs "
        "scikit-learn's MLP",
        extra=[f"hidden_layer_sizes={hidden}, relu, batch_size=200, "
               f"adam epochs={epochs}, lbfgs iterations={lbfgs_iter}, "
               f"BLAS threads={args.threads} for both, repeats={repeats}"],
    )
    a = 1e-4  # scikit-learn's default alpha
    table = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name, X, y in classification_sets(args.quick):
            X_train, X_test, y_train, y_test = split(X, y)
            n_train = X_train.shape[0]
            batch = min(200, n_train)
            for solver in ("adam", "lbfgs"):
                common = dict(hidden_layer_sizes=hidden, solver=solver,
                              random_state=0, batch_size=batch)
                if solver == "adam":
                    common.update(max_iter=epochs, n_iter_no_change=epochs + 1)
                    ours_alpha = a / batch
                else:
                    common.update(max_iter=lbfgs_iter, tol=0.0)
                    ours_alpha = a / n_train

                def make_ours(common=common, ours_alpha=ours_alpha):
                    return DivergenceMLPClassifier(alpha=ours_alpha, **common)

                def make_theirs(common=common):
                    return MLPClassifier(alpha=a, **common)

                warm = (X_train[:500], y_train[:500])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ours, t_ours = measure_fits(make_ours, X_train, y_train,
                                                repeats, warmup=warm)
                    theirs, t_theirs = measure_fits(make_theirs, X_train, y_train,
                                                    repeats, warmup=warm)
                row = {"set": name, "solver": solver,
                       "skdiv_time": t_ours["time"], "sklearn_time": t_theirs["time"],
                       "ratio": t_ours["time"] / t_theirs["time"],
                       "skdiv_iter": ours.n_iter_, "sklearn_iter": theirs.n_iter_}
                for who, est in (("skdiv", ours), ("sklearn", theirs)):
                    proba = est.predict_proba(X_test)
                    row[f"{who}_ce"] = log_loss(y_test, proba, labels=est.classes_)
                    row[f"{who}_accuracy"] = est.score(X_test, y_test)
                record["rows"].append(row)
                table.append(row)
                label = f"{name}, {solver}"
                add_verdict(record, f"{label}: time ratio <= 1.0 (goal 0.5)",
                            row["ratio"] <= 1.0, f"{row['ratio']:.2f}",
                            ratio=row["ratio"])
                add_verdict(
                    record, f"{label}: held-out CE and accuracy no worse",
                    row["skdiv_ce"] <= row["sklearn_ce"] * 1.01 + 1e-4
                    and row["skdiv_accuracy"] >= row["sklearn_accuracy"] - 0.005,
                    f"CE {row['skdiv_ce']:.4f} vs {row['sklearn_ce']:.4f}, accuracy "
                    f"{row['skdiv_accuracy']:.4f} vs {row['sklearn_accuracy']:.4f}",
                )

        name, X, y = regression_set(args.quick)
        X_train, X_test, y_train, y_test = split(X, y)
        n_train = X_train.shape[0]
        fitted = {}
        for solver in ("adam", "lbfgs"):
            common = dict(hidden_layer_sizes=hidden, solver=solver, random_state=0,
                          batch_size=200)
            if solver == "adam":
                common.update(max_iter=epochs, n_iter_no_change=epochs + 1)
                ours_alpha = a / 200
            else:
                common.update(max_iter=lbfgs_iter, tol=0.0)
                ours_alpha = a / n_train
            warm = (X_train[:500], y_train[:500])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours, t_ours = measure_fits(
                    lambda c=common, al=ours_alpha: GaussianMLPRegressor(alpha=al, **c),
                    X_train, y_train, repeats, warmup=warm)
                theirs, t_theirs = measure_fits(
                    lambda c=common: MLPRegressor(alpha=a, **c),
                    X_train, y_train, repeats, warmup=warm)
            fitted[solver] = (ours, t_ours["time"])
            mean, std = ours.predict(X_test, return_std=True)
            their_mean = theirs.predict(X_test)
            their_std = np.std(y_train - theirs.predict(X_train))
            row = {"set": name, "solver": solver,
                   "skdiv_time": t_ours["time"], "sklearn_time": t_theirs["time"],
                   "ratio": t_ours["time"] / t_theirs["time"],
                   "skdiv_iter": ours.n_iter_, "sklearn_iter": theirs.n_iter_,
                   "skdiv_rmse": float(np.sqrt(np.mean((mean - y_test) ** 2))),
                   "sklearn_rmse": float(np.sqrt(np.mean((their_mean - y_test) ** 2))),
                   "skdiv_nll": gaussian_nll(y_test, mean, std),
                   "sklearn_nll": gaussian_nll(y_test, their_mean,
                                               np.full_like(their_mean, their_std))}
            record["rows"].append(row)
            table.append(row)
            add_verdict(record, f"{name}, {solver}: time ratio <= 1.0",
                        row["ratio"] <= 1.0, f"{row['ratio']:.2f}", ratio=row["ratio"])
            add_verdict(record, f"{name}, {solver}: held-out NLL better",
                        row["skdiv_nll"] < row["sklearn_nll"],
                        f"{row['skdiv_nll']:.3f} vs {row['sklearn_nll']:.3f}")

        ngboost_rows = compare_ngboost(record, name, X_train, X_test, y_train, y_test,
                                       fitted, gaussian_nll)

    print("\n| set | solver | skdiv s (iter) | sklearn s (iter) | ratio | "
          "skdiv CE / NLL | sklearn CE / NLL | skdiv acc / RMSE | "
          "sklearn acc / RMSE |")
    print("|---|---|---|---|---|---|---|---|---|")
    lines = []
    for r in table:
        loss = ("ce", "accuracy") if "skdiv_ce" in r else ("nll", "rmse")
        lines.append(
            f"| {r['set']} | {r['solver']} | {fmt_time(r['skdiv_time'])} "
            f"({r['skdiv_iter']}) | {fmt_time(r['sklearn_time'])} "
            f"({r['sklearn_iter']}) | {r['ratio']:.2f} | "
            f"{r['skdiv_' + loss[0]]:.4f} | {r['sklearn_' + loss[0]]:.4f} | "
            f"{r['skdiv_' + loss[1]]:.4f} | {r['sklearn_' + loss[1]]:.4f} |")
    print("\n".join(lines))
    if ngboost_rows:
        print("\n| set | skdiv solver | skdiv s | NGBRegressor s | NGB / skdiv time "
              "| skdiv NLL | NGB NLL |")
        print("|---|---|---|---|---|---|---|")
        for r in ngboost_rows:
            line = (f"| {r['set']} | {r['solver']} | {fmt_time(r['skdiv_time'])} | "
                    f"{fmt_time(r['ngboost_time'])} | {r['speedup']:.1f} | "
                    f"{r['skdiv_nll']:.4f} | {r['ngboost_nll']:.4f} |")
            print(line)
            lines.append(line)
    record["tables"]["markdown"] = lines
    write_record(record)


def compare_ngboost(record, name, X_train, X_test, y_train, y_test, fitted,
                    gaussian_nll):
    """``NGBRegressor()`` (500 trees, Normal) against the fitted networks.

    Issue 15: a better held-out NLL at 20 times the speed or more. ngboost
    pins scikit-learn below 1.7: run this script in the environment of
    ``bench_regressor.py`` (see the README) to get these rows.
    """
    try:
        from ngboost import NGBRegressor
    except ImportError:
        print("\nngboost is not installed here: no NGBRegressor comparison "
              "(run in the ngboost environment, see benchmarks/README.md).")
        return []
    from _common import measure_fits as _measure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ngb, t_ngb = _measure(
            lambda: NGBRegressor(random_state=0, verbose=False), X_train, y_train, 1,
            warmup=(X_train[:300], y_train[:300]),
        )
    # Besides the networks of the MLPRegressor rows (100 ReLU, a fixed number
    # of iterations), a small smooth network fitted to convergence: 16 tanh
    # units, alpha = 1e-2, L-BFGS until tol (no iteration count to tune).
    from skdiv import GaussianMLPRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small, t_small = _measure(
            lambda: GaussianMLPRegressor(
                hidden_layer_sizes=(16,), activation="tanh", alpha=1e-2,
                solver="lbfgs", max_iter=5000, random_state=0,
            ),
            X_train, y_train, 1, warmup=(X_train[:300], y_train[:300]),
        )
    fitted = {**fitted, f"lbfgs, 16 tanh, alpha 1e-2, to tol ({small.n_iter_} iter)":
              (small, t_small["time"])}
    dist = ngb.pred_dist(X_test)
    ngb_nll = gaussian_nll(y_test, dist.params["loc"], dist.params["scale"])
    rows = []
    for solver, (ours, t_ours) in fitted.items():
        mean, std = ours.predict(X_test, return_std=True)
        row = {"set": name, "solver": solver, "skdiv_time": t_ours,
               "ngboost_time": t_ngb["time"], "speedup": t_ngb["time"] / t_ours,
               "skdiv_nll": gaussian_nll(y_test, mean, std), "ngboost_nll": ngb_nll}
        record["rows"].append(row)
        rows.append(row)
        add_verdict(
            record, f"{name}, {solver}: held-out NLL better than NGBRegressor's "
            "at >= 20x its speed",
            row["skdiv_nll"] < ngb_nll and row["speedup"] >= 20,
            f"NLL {row['skdiv_nll']:.3f} vs {ngb_nll:.3f}, "
            f"{row['speedup']:.1f}x faster",
            ratio=row["speedup"],
        )
    return rows


if __name__ == "__main__":
    main()
