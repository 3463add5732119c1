"""DivergenceClassifier against LogisticRegression(solver="lbfgs"), in one run.

Issues 3 and 8. On three data sets,

* ``dense``: ``make_classification``, 100,000 x 100, 10 classes (seed 0);
* ``scaled``: the same features, column j multiplied by
  ``np.logspace(-2, 2, 100)[j]`` (badly conditioned);
* ``sparse``: CSR 20,000 x 50,000, 0.1% density, 5 classes, labels sampled
  from a random linear softmax model (seed 0);

it fits ``DivergenceClassifier(loss="cross_entropy")`` with each solver and
``LogisticRegression(solver="lbfgs")`` at the same penalty (``C = 1``, i.e.
``alpha = 1 / n_samples``) and the same ``tol`` (1e-4, scikit-learn's
default, and 1e-6). Both libraries minimise the same function and stop on the
max-norm of its gradient, so equal ``tol`` is a matched stopping rule.
``max_iter`` is 10,000 for these fits (scikit-learn's default of 100 stops it
before its ``tol`` on these sets), except scikit-learn on ``scaled``, capped
by ``--scaled-max-iter`` because it does not converge anyway. Two more rows
are each library with its defaults: skdiv ``solver="auto"`` at its default
``tol=1e-8``, and ``LogisticRegression()`` as shipped (``tol=1e-4``,
``max_iter=100``).

Each fit runs in a fresh process (see ``_common.py``): the time is the median
of ``--repeats`` fits, the memory ("fit MB") is the peak resident memory
during the first fit above the resident memory before it (a fresh process
per fit makes this comparable between the libraries; ``tracemalloc`` would
miss OpenBLAS buffers and the L-BFGS-B workspace).

The distance is the max abs difference of ``predict_proba`` on the training
rows from a reference optimum: skdiv ``newton-cg`` at ``tol=1e-10``. It is
certified by code that shares nothing with skdiv: the benchmark's own numpy
objective (loss, gradient, Hessian products, on columns scaled to unit
variance) whose gradient max-norm at the reference is printed, then
minimised by scipy's ``trust-ncg`` from the reference (the objective is
strictly convex, so a point where an independent gradient vanishes is the
optimum; how far that solve moves is printed). ``--sklearn-reference`` adds
``LogisticRegression(solver="newton-cg", tol=1e-12)`` from zero on the dense
and sparse sets (slow: minutes; cached in ``--cache-dir``).

This is a benchmark, not a test: it prints ratios against the peer measured
in the same run, then PASS/FAIL against the targets of issues 3 and 8 and a
Markdown table for ``benchmarks/README.md``, and writes the whole run (machine,
arguments, every row with its ratios, the verdicts) as a JSON record in
``benchmarks/results/`` (see its README). Timings are noisy on a shared
machine; the load average is printed at the start and the end.

Run (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_classifier.py --quick   # ~1 min
    PYTHONPATH=. python benchmarks/bench_classifier.py           # full
    PYTHONPATH=. python benchmarks/bench_classifier.py --skip-slow --threads
    PYTHONPATH=. python benchmarks/bench_classifier.py --profile # cProfile
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

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

SKDIV_SOLVERS = ("auto", "lbfgs", "newton-cg")
TOLS = (1e-4, 1e-6)  # every solver of both libraries, max_iter=10,000
DEFAULT_TOL = 1e-8  # skdiv's default tol: solver "auto" only
SKLEARN_DEFAULT_MAX_ITER = 100  # LogisticRegression as shipped: tol=1e-4, max_iter=100
MAX_ITER = 10_000
C = 1.0

FULL = {
    "dense": dict(n_samples=100_000, n_features=100, n_classes=10),
    "sparse": dict(n_samples=20_000, n_features=50_000, n_classes=5, density=1e-3),
}
QUICK = {
    "dense": dict(n_samples=10_000, n_features=100, n_classes=10),
    "sparse": dict(n_samples=4_000, n_features=10_000, n_classes=5, density=5e-3),
}


# ----------------------------------------------------------------- data
def make_dense(n_samples, n_features, n_classes, seed=0):
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=20,
        n_redundant=10,
        n_classes=n_classes,
        random_state=seed,
    )
    return X, y


def make_scaled(X):
    return X * np.logspace(-2, 2, X.shape[1])


def make_sparse(n_samples, n_features, n_classes, density, seed=0):
    """CSR features, labels sampled from softmax(X W) with a random W."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples, n_features, density=density, format="csr",
        random_state=rng, data_rvs=rng.standard_normal,
    )
    nnz_per_row = n_features * density
    # Logit standard deviation about 3: a problem that is learnable but noisy.
    W = rng.standard_normal((n_classes, n_features)) * 3.0 / np.sqrt(nnz_per_row)
    logits = np.asarray(X @ W.T)
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    return X, y


def save(path, X, y):
    if sp.issparse(X):
        sp.save_npz(path + ".X.npz", X, compressed=False)
    else:
        np.save(path + ".X.npy", X)
    np.save(path + ".y.npy", y)


def load(path):
    if os.path.exists(path + ".X.npz"):
        X = sp.load_npz(path + ".X.npz").tocsr()
    else:
        X = np.load(path + ".X.npy")
    return X, np.load(path + ".y.npy")


# ------------------------------------------------------------ estimators
def make_estimator(spec, n_samples):
    if spec["lib"] == "skdiv":
        from skdiv import DivergenceClassifier

        return DivergenceClassifier(
            loss="cross_entropy",
            alpha=1.0 / (C * n_samples),
            solver=spec["solver"],
            tol=spec["tol"],
            max_iter=spec["max_iter"],
        )
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=C, solver=spec["solver"], tol=spec["tol"], max_iter=spec["max_iter"]
    )


def n_iter_of(est):
    return int(np.max(est.n_iter_))


def worker(spec):
    """Fit one configuration in this (fresh) process and print a JSON line."""
    X, y = load(spec["data"])
    n = X.shape[0]
    # The warm-up slice must hold every class.
    idx = np.concatenate([np.flatnonzero(y == k)[:50] for k in np.unique(y)])
    make = lambda: make_estimator(spec, n)  # noqa: E731
    make_warmup = lambda: make_estimator(dict(spec, max_iter=3), n)  # noqa: E731
    if spec.get("blas_threads"):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=spec["blas_threads"], user_api="blas"):
            est, result = measure_fits(make, X, y, spec["repeats"],
                                       warmup=(X[idx], y[idx]), make_warmup=make_warmup)
    else:
        est, result = measure_fits(make, X, y, spec["repeats"],
                                   warmup=(X[idx], y[idx]), make_warmup=make_warmup)
    result["n_iter"] = n_iter_of(est)
    if spec.get("reference"):
        reference = np.load(spec["reference"])
        result["distance"] = float(np.max(np.abs(est.predict_proba(X) - reference)))
    print(json.dumps(result))


# ------------------------------------------------------------ reference
def independent_optimum(X, y, alpha, coef0=None, intercept0=None, gtol=1e-11,
                        max_iter=500):
    """Minimise the same objective with code that shares nothing with skdiv.

    The multinomial objective ``mean CE + alpha/2 ||W||^2`` written out here
    in numpy (loss, gradient, Hessian-vector product), on the columns divided
    by their standard deviation (``W = V diag(1/std)``, the penalty still on
    ``W``) so that the badly scaled set is solvable, minimised by scipy's
    ``trust-ncg`` from ``(coef0, intercept0)`` (zeros by default).

    Started at skdiv's reference this is a certificate: the objective is
    strictly convex in ``W``, so a point where this code's gradient vanishes
    is the optimum, and the solver would move away from a point that is not.
    Returns the probabilities on ``X``, the number of iterations and the
    gradient max-norm with respect to ``W, b`` at the start and at the end.
    """
    import scipy.optimize

    n, d = X.shape
    classes, codes = np.unique(y, return_inverse=True)
    k = classes.shape[0]
    Y = np.zeros((n, k))
    Y[np.arange(n), codes] = 1.0
    if sp.issparse(X):
        var = np.asarray(X.multiply(X).mean(axis=0)).ravel() - np.asarray(
            X.mean(axis=0)).ravel() ** 2
    else:
        var = X.var(axis=0)
    inv = 1.0 / np.where(var > 0, np.sqrt(var), 1.0)
    Xs = X @ sp.diags(inv) if sp.issparse(X) else X * inv
    Xs = sp.csr_matrix(Xs) if sp.issparse(X) else Xs
    penalty = alpha * inv**2  # alpha/2 ||V diag(inv)||^2, per column of V

    def split(theta):
        return theta[: k * d].reshape(k, d), theta[k * d :]

    def proba_of(theta, design):
        V, b = split(theta)
        Z = np.asarray(design @ V.T) + b
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        return Z, P

    def fun(theta):
        V, _ = split(theta)
        Z, P = proba_of(theta, Xs)
        log_norm = np.log(np.exp(Z).sum(axis=1))
        loss = np.mean(log_norm - (Z * Y).sum(axis=1))
        loss += 0.5 * np.sum(penalty * V**2)
        R = P - Y
        grad_V = np.asarray(Xs.T @ R).T / n + penalty * V
        return loss, np.concatenate([grad_V.ravel(), R.sum(axis=0) / n])

    state = {}

    def hessp(theta, direction):
        if state.get("theta") is None or not np.array_equal(theta, state["theta"]):
            state.update(theta=theta.copy(), P=proba_of(theta, Xs)[1])
        P = state["P"]
        dV, db = split(direction)
        dZ = np.asarray(Xs @ dV.T) + db
        dP = P * (dZ - (P * dZ).sum(axis=1, keepdims=True))
        h_V = np.asarray(Xs.T @ dP).T / n + penalty * dV
        return np.concatenate([h_V.ravel(), dP.sum(axis=0) / n])

    def grad_norm(grad):
        # d/dW = d/dV diag(1/inv): back to the original coordinates.
        G, g_b = split(grad)
        return float(max(np.abs(G / inv).max(), np.abs(g_b).max()))

    theta0 = np.zeros(k * (d + 1))
    if coef0 is not None:
        theta0 = np.concatenate([(coef0 / inv).ravel(), intercept0])
    start_norm = grad_norm(fun(theta0)[1])
    result = scipy.optimize.minimize(
        fun, theta0, jac=True, hessp=hessp, method="trust-ncg",
        options={"gtol": gtol, "maxiter": max_iter},
    )
    return (proba_of(result.x, Xs)[1], int(result.nit), start_norm,
            grad_norm(result.jac))


def reference_optimum(name, X, y, workdir, cache_dir, sklearn_check):
    """skdiv newton-cg at tol=1e-10, checked against independent solves.

    The independent solves do not depend on skdiv, so they are cached by a
    hash of the data. Returns the path of the reference probabilities on X
    and a dict describing the checks.
    """
    from sklearn.linear_model import LogisticRegression

    from skdiv import DivergenceClassifier

    n = X.shape[0]
    alpha = 1.0 / (C * n)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = DivergenceClassifier(
            alpha=alpha, solver="newton-cg", tol=1e-10, max_iter=1000
        ).fit(X, y)
    proba = ref.predict_proba(X)
    info = {
        "skdiv_time": time.perf_counter() - start,
        "skdiv_iter": n_iter_of(ref),
        "skdiv_warnings": sorted({w.category.__name__ for w in caught}),
        "checks": [],
    }

    digest = hashlib.sha1()
    if sp.issparse(X):
        for part in (X.data, X.indices, X.indptr):
            digest.update(np.ascontiguousarray(part).tobytes())
    else:
        digest.update(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    key = f"{name}-{digest.hexdigest()[:16]}-C{C}"
    os.makedirs(cache_dir, exist_ok=True)

    def cached(label, solve):
        path = os.path.join(cache_dir, f"{key}-{label}.npz")
        if os.path.exists(path):
            stored = np.load(path)
            return stored["proba"], str(stored["note"]), None
        start = time.perf_counter()
        other, note = solve()
        elapsed = time.perf_counter() - start
        np.savez(path, proba=other, note=note)
        return other, note, elapsed

    # Certificate: the benchmark's own objective code, started at the reference.
    start = time.perf_counter()
    other, n_iter, start_norm, end_norm = independent_optimum(
        X, y, alpha, ref.coef_, ref.intercept_
    )
    info["checks"].append({
        "label": "own numpy objective + scipy trust-ncg, started at the reference",
        "note": (f"gradient max-norm at reference {start_norm:.1e}, after "
                 f"{n_iter} iter {end_norm:.1e}, "
                 f"{time.perf_counter() - start:.3g} s"),
        "disagreement": float(np.max(np.abs(proba - other))),
    })
    checks = []

    def sklearn_newton_cg():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            peer = LogisticRegression(
                C=C, solver="newton-cg", tol=1e-12, max_iter=1000
            ).fit(X, y)
        converged = not any(
            w.category.__name__ == "ConvergenceWarning" for w in caught
        )
        note = f"{n_iter_of(peer)} iter" + ("" if converged else ", NOT CONVERGED")
        return peer.predict_proba(X), note

    if sklearn_check and name != "scaled":
        checks.append(("LogisticRegression newton-cg tol=1e-12 from zero",
                       sklearn_newton_cg))
    for label, solve in checks:
        slug = label.split()[0].lower().replace("+", "-")
        other, note, elapsed = cached(slug, solve)
        info["checks"].append({
            "label": label,
            "note": note + (" (cached)" if elapsed is None else f", {elapsed:.3g} s"),
            "disagreement": float(np.max(np.abs(proba - other))),
        })
    path = os.path.join(workdir, f"{name}.reference.npy")
    np.save(path, proba)
    return path, info


# ------------------------------------------------------------------ run
def run_dataset(name, data_path, reference, args, rows):
    """Time every configuration on one data set; append result rows."""
    script = os.path.abspath(__file__)
    configs = []
    for tol in TOLS:
        for solver in SKDIV_SOLVERS:
            configs.append(dict(lib="skdiv", solver=solver, tol=tol,
                                max_iter=MAX_ITER, repeats=args.repeats))
    # scikit-learn also at skdiv's default tol: the matched comparison there.
    for tol in TOLS + (DEFAULT_TOL,):
        spec = dict(lib="sklearn", solver="lbfgs", tol=tol, max_iter=MAX_ITER,
                    repeats=args.repeats)
        if name == "scaled":
            # It does not converge at either tol: one capped fit at the default.
            if args.skip_slow or tol != 1e-4:
                continue
            spec.update(max_iter=args.scaled_max_iter, repeats=1)
        configs.append(spec)
    configs.append(dict(lib="skdiv", solver="auto", tol=DEFAULT_TOL,
                        max_iter=MAX_ITER, repeats=args.repeats))
    if name != "scaled" or not args.skip_slow:
        # LogisticRegression with every default (tol=1e-4, max_iter=100).
        configs.append(dict(lib="sklearn", solver="lbfgs", tol=1e-4,
                            max_iter=SKLEARN_DEFAULT_MAX_ITER, repeats=args.repeats))
    for spec in configs:
        spec.update(data=data_path, reference=reference)
        result = run_worker(script, spec)
        row = dict(dataset=name, **{k: spec[k] for k in
                                    ("lib", "solver", "tol", "max_iter", "repeats")})
        row.update(result)
        rows.append(row)
        print(
            f"  {row['lib']:7s} {row['solver']:9s} tol={row['tol']:.0e}  "
            f"time {fmt_time(row['time'])} s (runs: "
            f"{', '.join(fmt_time(t) for t in row['times'])})  "
            f"iter {row['n_iter']}  distance {fmt_sci(row['distance'])}  "
            f"fit {row['fit_mb']:.0f} MB  process {row['process_mb']:.0f} MB"
            f"{'' if row['converged'] else '  NOT CONVERGED'}"
        )
        sys.stdout.flush()


def find(rows, dataset, lib, solver, tol, max_iter=None):
    """The result row of one configuration; ``max_iter=None`` means not the
    scikit-learn-defaults row (``max_iter=100``)."""
    for row in rows:
        if (row["dataset"], row["lib"], row["solver"], row["tol"]) != (
            dataset, lib, solver, tol
        ):
            continue
        if max_iter is None and row["max_iter"] == SKLEARN_DEFAULT_MAX_ITER:
            continue
        if max_iter is not None and row["max_iter"] != max_iter:
            continue
        return row
    return None


def add_ratios(rows):
    """Store on each row its model label and its ratios to scikit-learn.

    ``ratio_same_tol``: fit time over ``LogisticRegression`` at the same
    ``tol`` (converged, ``max_iter=10,000``); ``ratio_sklearn_tol_1e-4``:
    over it at ``tol=1e-4``; ``ratio_sklearn_defaults``: over
    ``LogisticRegression()`` with all its defaults; ``fit_mb_ratio_same_tol``:
    fit memory over the same-``tol`` peer's. ``None`` where the peer was not
    run.
    """
    for row in rows:
        name = row["dataset"]
        peers = {
            "ratio_same_tol": find(rows, name, "sklearn", "lbfgs", row["tol"]),
            "ratio_sklearn_tol_1e-4": find(rows, name, "sklearn", "lbfgs", 1e-4),
            "ratio_sklearn_defaults": find(rows, name, "sklearn", "lbfgs", 1e-4,
                                           SKLEARN_DEFAULT_MAX_ITER),
        }
        for key, peer in peers.items():
            row[key] = row["time"] / peer["time"] if peer else None
        same = peers["ratio_same_tol"]
        row["fit_mb_ratio_same_tol"] = (row["fit_mb"] / same["fit_mb"]
                                        if same and same["fit_mb"] else None)
        model = (f"skdiv {row['solver']}" if row["lib"] == "skdiv"
                 else "LogisticRegression lbfgs")
        if row["max_iter"] == SKLEARN_DEFAULT_MAX_ITER:
            model += " (all defaults)"
        if not row["converged"]:
            model += f" (not converged, max_iter={row['max_iter']})"
        row["model"] = model


def print_ratios(rows, datasets):
    print("\n## Ratios skdiv / scikit-learn (fit time, same run)")
    for name in datasets:
        for tol in TOLS + (DEFAULT_TOL,):
            for solver in SKDIV_SOLVERS:
                row = find(rows, name, "skdiv", solver, tol)
                if row is None:
                    continue
                print(
                    f"  {name:6s} skdiv {solver:9s} tol={tol:.0e}: "
                    f"vs sklearn same tol {fmt_ratio(row['ratio_same_tol'])}, "
                    f"vs sklearn default tol "
                    f"{fmt_ratio(row['ratio_sklearn_tol_1e-4'])}, "
                    f"fit memory ratio {fmt_ratio(row['fit_mb_ratio_same_tol'])}"
                )


def fmt_ratio(value):
    return "-" if value is None else f"{value:.3g}"


def check_targets(rows, datasets, record):
    """PASS/FAIL against the targets of issues 3 and 8, into the record."""
    print("\n## Targets")

    def verdict(label, ok, detail, **values):
        add_verdict(record, label, ok, detail, **values)

    for name in ("dense", "sparse"):
        if name not in datasets:
            continue
        peer = find(rows, name, "sklearn", "lbfgs", 1e-4)
        for tol in TOLS + (DEFAULT_TOL,):
            # Issue 3 at matched tol: skdiv auto and scikit-learn at the same tol.
            sk = find(rows, name, "skdiv", "auto", tol)
            same = find(rows, name, "sklearn", "lbfgs", tol)
            verdict(f"issue 3, {name}, tol={tol:.0e}: skdiv within 1e-4 of optimum",
                    sk["distance"] <= 1e-4, f"distance {sk['distance']:.2e}",
                    distance=sk["distance"])
            if same:
                ratio = sk["time"] / same["time"]
                verdict(f"issue 3, {name}, tol={tol:.0e} both: time ratio <= 1.0",
                        ratio <= 1.0, f"ratio {ratio:.3g}", ratio=ratio)
                verdict(f"issue 3, {name}, tol={tol:.0e} both: fit memory <= "
                        "scikit-learn's", sk["fit_mb"] <= same["fit_mb"],
                        f"{sk['fit_mb']:.0f} MB vs {same['fit_mb']:.0f} MB",
                        fit_mb=sk["fit_mb"], peer_fit_mb=same["fit_mb"])
        # Issue 8: skdiv (auto) against LogisticRegression at its defaults
        # (tol=1e-4, max_iter=100), converged at tol=1e-4, and at tol=1e-6
        # (the setting the issue measured, 18.6 s on its machine).
        peers = [
            ("sklearn defaults (tol=1e-4, max_iter=100)",
             find(rows, name, "sklearn", "lbfgs", 1e-4, SKLEARN_DEFAULT_MAX_ITER)),
            ("sklearn tol=1e-4 converged", peer),
            ("sklearn tol=1e-6", find(rows, name, "sklearn", "lbfgs", 1e-6)),
        ]
        for tol in (1e-6, DEFAULT_TOL):
            row = find(rows, name, "skdiv", "auto", tol)
            for label, other in peers:
                if other is None or row is None:
                    continue
                ratio = row["time"] / other["time"]
                verdict(
                    f"issue 8, {name}: skdiv tol={tol:.0e} / {label} <= 0.1 and "
                    "within 1e-5",
                    ratio <= 0.1 and row["distance"] <= 1e-5,
                    f"ratio {ratio:.3g}, distance {row['distance']:.2e}",
                    ratio=ratio, distance=row["distance"],
                )
    if "scaled" in datasets and "dense" in datasets:
        for tol in TOLS + (DEFAULT_TOL,):
            row = find(rows, "scaled", "skdiv", "auto", tol)
            base = find(rows, "dense", "skdiv", "auto", tol)
            slowdown = row["time"] / base["time"]
            verdict(
                f"issue 8, scaled: skdiv tol={tol:.0e} within 1e-5 in < 20x "
                "its well-scaled time",
                row["distance"] <= 1e-5 and slowdown < 20,
                f"distance {row['distance']:.2e}, {slowdown:.3g}x",
                distance=row["distance"], slowdown=slowdown,
            )


def markdown(rows, datasets, refs, load_start, load_end):
    print("\n## Markdown table (paste into benchmarks/README.md)\n")
    print(f"Load average (1, 5, 15 min): {load_start} at start, {load_end} at end.\n")
    print("| data | model | tol | time (s) | ratio vs sklearn, same tol | "
          "ratio vs sklearn tol=1e-4 | iter | distance to optimum | fit MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in datasets:
        for row in rows:
            if row["dataset"] != name:
                continue
            print(
                f"| {name} | {row['model']} | {row['tol']:.0e} | "
                f"{fmt_time(row['time'])} | {fmt_ratio(row['ratio_same_tol'])} | "
                f"{fmt_ratio(row['ratio_sklearn_tol_1e-4'])} | {row['n_iter']} | "
                f"{row['distance']:.1e} | {row['fit_mb']:.0f} |"
            )
    print("\n| data | reference (skdiv newton-cg tol=1e-10) checked against | "
          "max abs proba difference |")
    print("|---|---|---|")
    for name in datasets:
        for check in refs[name]["checks"]:
            print(f"| {name} | {check['label']} ({check['note']}) | "
                  f"{check['disagreement']:.1e} |")


def thread_comparison(data_paths, args, record):
    """Each solver with BLAS limited to 1 thread against the default pools."""
    script = os.path.abspath(__file__)
    print("\n## Threads: BLAS limited to 1 thread (threadpoolctl) vs default")
    print("| data | model | time default (s) | time 1 BLAS thread (s) | "
          "1-thread / default |")
    print("|---|---|---|---|---|")
    table = record["tables"].setdefault("threads", [])
    for name, path in data_paths.items():
        if name == "scaled":
            continue
        models = [("skdiv", s) for s in SKDIV_SOLVERS] + [("sklearn", "lbfgs")]
        for lib, solver in models:
            times = {}
            for threads in (None, 1):
                spec = dict(lib=lib, solver=solver, tol=1e-4, max_iter=MAX_ITER,
                            repeats=args.repeats, data=path, reference=None,
                            blas_threads=threads)
                times[threads] = run_worker(script, spec)["time"]
            print(f"| {name} | {lib} {solver} | {fmt_time(times[None])} | "
                  f"{fmt_time(times[1])} | {times[1] / times[None]:.3g} |")
            table.append(dict(dataset=name, lib=lib, solver=solver, tol=1e-4,
                              time_default=times[None], time_1_thread=times[1],
                              ratio=times[1] / times[None]))
            sys.stdout.flush()


def profile(X, y, solver, tol):
    """cProfile one skdiv fit and print the top functions."""
    import cProfile
    import pstats

    from skdiv import DivergenceClassifier

    est = DivergenceClassifier(alpha=1.0 / (C * X.shape[0]), solver=solver,
                               tol=tol, max_iter=MAX_ITER)
    profiler = cProfile.Profile()
    profiler.enable()
    est.fit(X, y)
    profiler.disable()
    print(f"\n## cProfile: skdiv solver={solver} tol={tol:g}, "
          f"{est.n_iter_} iterations")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small data sets, 1 repeat: to check the script")
    parser.add_argument("--repeats", type=int, default=None,
                        help="fits per configuration (median); 3, or 1 with --quick")
    parser.add_argument("--datasets", default="dense,scaled,sparse")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip scikit-learn on the badly scaled set")
    parser.add_argument("--scaled-max-iter", type=int, default=1000,
                        help="max_iter of scikit-learn on the badly scaled set "
                             "(one fit; it does not converge)")
    parser.add_argument("--threads", action="store_true",
                        help="also compare 1 BLAS thread with the default")
    parser.add_argument("--profile", action="store_true",
                        help="only cProfile one skdiv fit (auto, tol 1e-6) per set")
    parser.add_argument("--sklearn-reference", action="store_true",
                        help="also check the reference against LogisticRegression "
                             "newton-cg at tol=1e-12 (slow; dense and sparse only)")
    parser.add_argument("--cache-dir", default=os.path.join(
        tempfile.gettempdir(), "skdiv-bench-cache"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    sizes = QUICK if args.quick else FULL
    load_start = load_average()
    datasets = [d for d in args.datasets.split(",") if d]

    record = start_record(
        __file__, args,
        "bench_classifier: DivergenceClassifier vs LogisticRegression(lbfgs)",
        extra=[
            f"mode: {'quick' if args.quick else 'full'}, repeats {args.repeats}, "
            f"C={C} (alpha=1/(C n)), max_iter {MAX_ITER} "
            f"(sklearn on scaled: {args.scaled_max_iter}, 1 run)",
            f"dense: {sizes['dense']}; sparse: {sizes['sparse']}",
            "time: median fit wall time; fit MB: peak RSS during the first fit "
            "above RSS before it, fresh process per configuration",
        ],
    )
    record["data"] = {name: sizes[name if name != "scaled" else "dense"]
                      for name in datasets if name in ("dense", "scaled", "sparse")}
    workdir = tempfile.mkdtemp(prefix="skdiv-bench-")
    _WORKDIRS.append(workdir)
    data_paths, refs, rows = {}, {}, []
    dense = None
    for name in datasets:
        if name in ("dense", "scaled"):
            if dense is None:
                dense = make_dense(**sizes["dense"])
            X, y = dense if name == "dense" else (make_scaled(dense[0]), dense[1])
        elif name == "sparse":
            X, y = make_sparse(**sizes["sparse"])
        else:
            parser.error(f"unknown data set {name!r}")
        if args.profile:
            profile(X, y, "auto", 1e-6)
            continue
        path = os.path.join(workdir, name)
        save(path, X, y)
        data_paths[name] = path
        print(f"\n## {name}: X {X.shape} {'CSR' if sp.issparse(X) else 'dense'}, "
              f"{len(np.unique(y))} classes")
        ref_path, info = reference_optimum(name, X, y, workdir, args.cache_dir,
                                           args.sklearn_reference)
        refs[name] = info
        print(
            f"  reference: skdiv newton-cg tol=1e-10 in {info['skdiv_time']:.3g} s, "
            f"{info['skdiv_iter']} iter {' '.join(info['skdiv_warnings'])}"
        )
        for check in info["checks"]:
            print(f"    vs {check['label']} ({check['note']}): max abs proba "
                  f"difference {check['disagreement']:.1e}")
        sys.stdout.flush()
        run_dataset(name, path, ref_path, args, rows)
    if args.profile:
        return
    load_end = load_average()
    check_source(rows, record["skdiv_source"])
    add_ratios(rows)
    record["rows"] = rows
    record["references"] = refs
    print_ratios(rows, datasets)
    check_targets(rows, datasets, record)
    if args.threads:
        thread_comparison(data_paths, args, record)
        load_end = load_average()
    markdown(rows, datasets, refs, load_start, load_end)
    print(f"\nload average at end: {load_end}")
    write_record(record)


if __name__ == "__main__":
    main()
    # The data files of the run (mkdtemp "skdiv-bench-*"; the cache is kept).
    for leftover in _WORKDIRS:
        shutil.rmtree(leftover, ignore_errors=True)
