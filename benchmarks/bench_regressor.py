"""GaussianRegressor against LinearRegression and NGBRegressor, in one run.

Issues 4 and 8. Synthetic linear-heteroscedastic data, 200,000 x 20 for
training and 50,000 held-out rows (seed 0)::

    X ~ N(0, I),  y = X w + 1 + eps * exp(X v / 2),  eps ~ N(0, 1),

with ``w ~ N(0, I)`` and ``v`` a random unit vector (so the log-variance
``X v`` is standard normal: the noise std varies about 7x between the 5% and
95% quantiles).

It times, each fit in a fresh process (median of ``--repeats``; see
``_common.py``):

* ``GaussianRegressor(variance="constant", alpha=0)`` against
  ``LinearRegression()`` (same mean coefficients; target ratio <= 1.5);
* ``GaussianRegressor()`` (heteroscedastic, defaults), with every value of its
  ``solver`` parameter when it has one, reporting the held-out mean Gaussian
  NLL (``skdiv.metrics.gaussian_nll``) and the distance of the predicted
  means and standard deviations from a tight fit (``tol=1e-10``);
* ``NGBRegressor()`` from ngboost with default settings (``verbose=False``
  only silences its progress output), when ngboost is importable: target
  skdiv at least 20x faster with a held-out NLL no worse. ngboost pins
  scikit-learn below 1.7, so run this script in the venv described in
  ``benchmarks/README.md``; elsewhere the ngboost rows are skipped with a
  message.

This is a benchmark, not a test: it prints ratios against the peers measured
in the same run, PASS/FAIL against the targets, and a Markdown table, and
writes the run as a JSON record in ``benchmarks/results/`` (see its README).

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_regressor.py --quick
    PYTHONPATH=. /tmp/ngb/bin/python benchmarks/bench_regressor.py   # with ngboost
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

_WORKDIRS = []
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    add_verdict,
    check_source,
    fmt_sci,
    fmt_time,
    load_average,
    measure_fits,
    run_worker,
    start_record,
    write_record,
)

FULL = dict(n_train=200_000, n_test=50_000, n_features=20)
QUICK = dict(n_train=20_000, n_test=10_000, n_features=20)


def make_data(n_train, n_test, n_features, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n_features)
    v = rng.standard_normal(n_features)
    v /= np.linalg.norm(v)
    X = rng.standard_normal((n_train + n_test, n_features))
    y = X @ w + 1.0 + rng.standard_normal(X.shape[0]) * np.exp(X @ v / 2)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def ngboost_version():
    try:
        import ngboost
    except ImportError:
        return None
    return ngboost.__version__


def skdiv_solvers():
    """The values of GaussianRegressor's ``solver`` parameter, if it has one."""
    from skdiv import GaussianRegressor

    if "solver" not in GaussianRegressor().get_params():
        return None
    options = []
    for constraint in GaussianRegressor._parameter_constraints.get("solver", []):
        options.extend(sorted(getattr(constraint, "options", [])))
    return options or [GaussianRegressor().get_params()["solver"]]


# ------------------------------------------------------------ estimators
def make_estimator(spec):
    kind, params = spec["kind"], spec.get("params", {})
    if kind == "linear":
        from sklearn.linear_model import LinearRegression

        return LinearRegression(**params)
    if kind == "skdiv":
        from skdiv import GaussianRegressor

        return GaussianRegressor(**params)
    if kind == "ngboost":
        from ngboost import NGBRegressor

        return NGBRegressor(verbose=False, **params)
    raise ValueError(kind)


def predict_mean_std(est, X, X_train=None, y_train=None):
    """Predicted mean and std on X, for any of the three kinds."""
    name = type(est).__name__
    if name == "GaussianRegressor":
        return est.predict(X, return_std=True)
    if name == "NGBRegressor":
        dist = est.pred_dist(X)
        return dist.params["loc"], dist.params["scale"]
    # LinearRegression: the maximum-likelihood constant std of the residuals.
    std = np.sqrt(np.mean((y_train - est.predict(X_train)) ** 2))
    return est.predict(X), np.full(X.shape[0], std)


def worker(spec):
    from skdiv.metrics import gaussian_nll

    X, y, X_test, y_test = (np.load(f"{spec['data']}.{part}.npy")
                            for part in ("X", "y", "X_test", "y_test"))
    warmup = dict(spec)
    if spec["kind"] == "skdiv":
        warmup["params"] = dict(spec.get("params", {}), max_iter=3)
    elif spec["kind"] == "ngboost":
        warmup["params"] = dict(spec.get("params", {}), n_estimators=3)
    est, result = measure_fits(
        lambda: make_estimator(spec), X, y, spec["repeats"],
        warmup=(X[:500], y[:500]), make_warmup=lambda: make_estimator(warmup),
    )
    mean, std = predict_mean_std(est, X_test, X, y)
    result["nll"] = float(gaussian_nll(y_test, mean, std))
    n_iter = getattr(est, "n_iter_", None)
    result["n_iter"] = None if n_iter is None else int(np.max(n_iter))
    if spec.get("reference"):
        ref = np.load(spec["reference"])
        result["mean_distance"] = float(np.max(np.abs(mean - ref["mean"])))
        result["std_distance"] = float(np.max(np.abs(std / ref["std"] - 1)))
    if spec["kind"] != "ngboost":
        coef = np.ravel(est.coef_)
        np.save(spec["data"] + f".{spec['label']}.coef.npy", coef)
    print(json.dumps(result))


# ------------------------------------------------------------------ run
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="20,000 training rows, 1 repeat: to check the script")
    parser.add_argument("--repeats", type=int, default=None,
                        help="fits per configuration (median); 3, or 1 with --quick")
    parser.add_argument("--ngb-repeats", type=int, default=1,
                        help="fits of NGBRegressor (slow; default 1)")
    parser.add_argument("--skip-slow", action="store_true", help="skip ngboost")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    sizes = QUICK if args.quick else FULL
    load_start = load_average()
    ngb = ngboost_version()
    solvers = skdiv_solvers()
    record = start_record(
        __file__, args,
        "bench_regressor: GaussianRegressor vs LinearRegression and NGBRegressor",
        extra=[
            f"mode: {'quick' if args.quick else 'full'}, repeats {args.repeats} "
            f"(ngboost {args.ngb_repeats}), data {sizes}",
            f"ngboost: {ngb or 'not importable: ngboost rows skipped (see README)'}",
            f"GaussianRegressor solver parameter: {solvers or 'none (default only)'}",
            "time: median fit wall time; fit MB: peak RSS during the first fit "
            "above RSS before it, fresh process per configuration",
        ],
        versions={"ngboost": ngb} if ngb else None,
    )
    record["data"] = sizes
    from skdiv import GaussianRegressor

    workdir = tempfile.mkdtemp(prefix="skdiv-bench-")
    _WORKDIRS.append(workdir)
    X, y, X_test, y_test = make_data(**sizes)
    data_path = os.path.join(workdir, "data")
    for part, array in dict(X=X, y=y, X_test=X_test, y_test=y_test).items():
        np.save(f"{data_path}.{part}.npy", array)

    # A tight heteroscedastic fit: the optimum the others are measured from.
    start = time.perf_counter()
    ref = GaussianRegressor(tol=1e-10, max_iter=100_000).fit(X, y)
    ref_mean, ref_std = ref.predict(X_test, return_std=True)
    ref_path = os.path.join(workdir, "reference.npz")
    np.savez(ref_path, mean=ref_mean, std=ref_std)
    ref_time = time.perf_counter() - start
    print(f"\nreference: GaussianRegressor(tol=1e-10) in "
          f"{ref_time:.3g} s, n_iter_ {ref.n_iter_}")
    record["reference"] = {"estimator": "GaussianRegressor(tol=1e-10)",
                           "time": ref_time, "n_iter": int(np.max(ref.n_iter_))}

    configs = [
        ("LinearRegression", dict(kind="linear")),
        ("skdiv constant", dict(kind="skdiv",
                                params=dict(variance="constant", alpha=0.0))),
    ]
    if solvers:
        for solver in solvers:
            configs.append((f"skdiv heteroscedastic solver={solver}",
                            dict(kind="skdiv", params=dict(solver=solver))))
    else:
        configs.append(("skdiv heteroscedastic", dict(kind="skdiv")))
    if ngb and not args.skip_slow:
        configs.append((f"NGBRegressor (ngboost {ngb})",
                        dict(kind="ngboost", params=dict(random_state=0),
                             repeats=args.ngb_repeats)))
    elif not ngb:
        print("ngboost is not importable in this environment: the NGBRegressor "
              "comparison is skipped. Run this script in the venv of "
              "benchmarks/README.md for it.")

    rows = []
    script = os.path.abspath(__file__)
    for i, (label, spec) in enumerate(configs):
        # Distances from the heteroscedastic optimum only mean something for
        # the heteroscedastic fits.
        hetero = spec["kind"] != "linear" and "constant" not in label
        spec = dict(spec, label=str(i), data=data_path,
                    reference=ref_path if hetero else None)
        spec.setdefault("repeats", args.repeats)
        result = run_worker(script, spec)
        result.update(label=label, kind=spec["kind"], index=i)
        rows.append(result)
        print(
            f"  {label:45s} time {fmt_time(result['time'])} s (runs: "
            f"{', '.join(fmt_time(t) for t in result['times'])})  "
            f"held-out NLL {result['nll']:.5f}  iter {result['n_iter'] or '-'}  "
            f"mean dist {fmt_sci(result.get('mean_distance'))}  "
            f"std rel dist {fmt_sci(result.get('std_distance'))}  "
            f"fit {result['fit_mb']:.0f} MB"
            f"{'' if result['converged'] else '  NOT CONVERGED'}"
        )
        sys.stdout.flush()
    load_end = load_average()
    check_source(rows, record["skdiv_source"])

    linear, constant = rows[0], rows[1]
    coef_lin = np.load(data_path + ".0.coef.npy")
    coef_const = np.load(data_path + ".1.coef.npy")
    coef_diff = np.max(np.abs(coef_const - coef_lin)) / np.max(np.abs(coef_lin))
    hetero = [r for r in rows if r["label"].startswith("skdiv hetero")]
    default = hetero[0]
    if solvers:
        default_solver = GaussianRegressor().get_params()["solver"]
        default = next(r for r in hetero if r["label"].endswith(f"={default_solver}"))
    ngb_row = next((r for r in rows if r["kind"] == "ngboost"), None)

    lbfgs = next((r for r in hetero if r["label"].endswith("=lbfgs")), None)
    for r in rows:
        r["ratio_vs_linear"] = r["time"] / linear["time"]
        # Issue 8: the Newton-CG default against plain L-BFGS, same run.
        r["ratio_vs_lbfgs"] = (r["time"] / lbfgs["time"]
                               if lbfgs and r in hetero else None)
        r["ngboost_over_this"] = (ngb_row["time"] / r["time"]
                                  if ngb_row and r["label"].startswith("skdiv hetero")
                                  else None)
    record["rows"] = rows
    record["constant_coef_max_rel_diff"] = coef_diff
    record["default_solver_label"] = default["label"]

    print("\n## Ratios (fit time, same run)")
    const_ratio = constant["time"] / linear["time"]
    print(f"  skdiv constant / LinearRegression: {const_ratio:.3g} "
          f"(max relative coef difference {coef_diff:.1e})")
    for r in hetero:
        print(f"  {r['label']} / LinearRegression: {r['time'] / linear['time']:.3g}"
              + ("" if lbfgs is None else
                 f", / solver=lbfgs: {r['ratio_vs_lbfgs']:.3g}"))
        if ngb_row:
            print(f"  NGBRegressor / {r['label']}: {ngb_row['time'] / r['time']:.3g}")

    print("\n## Targets")
    add_verdict(record, "issue 4: constant-variance fit time / LinearRegression "
                "<= 1.5", const_ratio <= 1.5, f"{const_ratio:.3g}", ratio=const_ratio)
    if ngb_row:
        speedup = ngb_row["time"] / default["time"]
        ok = speedup >= 20 and default["nll"] <= ngb_row["nll"]
        add_verdict(record, "issue 4: skdiv heteroscedastic >= 20x faster than "
                    "NGBRegressor with held-out NLL no worse", ok,
                    f"{speedup:.3g}x, NLL {default['nll']:.5f} vs "
                    f"{ngb_row['nll']:.5f}", speedup=speedup, nll=default["nll"],
                    peer_nll=ngb_row["nll"])
    else:
        add_verdict(record, "issue 4: skdiv heteroscedastic >= 20x faster than "
                    "NGBRegressor with held-out NLL no worse", None,
                    "NGBRegressor comparison skipped (ngboost not importable or "
                    "--skip-slow)")

    print("\n## Markdown table (paste into benchmarks/README.md)\n")
    print(f"Load average (1, 5, 15 min): {load_start} at start, {load_end} at end.\n")
    print("| model | time (s) | ratio vs LinearRegression | held-out NLL | "
          "iter | max abs mean diff vs tight fit | max rel std diff | fit MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        note = "" if r["converged"] else " (not converged)"
        runs = "" if len(r["times"]) > 1 else " (1 run)"
        print(f"| {r['label']}{note} | {fmt_time(r['time'])}{runs} | "
              f"{r['time'] / linear['time']:.3g} | {r['nll']:.4f} | "
              f"{r['n_iter'] or '-'} | "
              f"{fmt_sci(r.get('mean_distance'))} | {fmt_sci(r.get('std_distance'))} | "
              f"{r['fit_mb']:.0f} |")
    print(f"\nload average at end: {load_end}")
    write_record(record)


if __name__ == "__main__":
    main()
    # The data files of the run (mkdtemp "skdiv-bench-*"; the cache is kept).
    for leftover in _WORKDIRS:
        shutil.rmtree(leftover, ignore_errors=True)
