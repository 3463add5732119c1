"""Fitting on a Dask array larger than any worker's memory (issue 7).

The data, 20,000,000 x 20 float64 (3.2 GB) by default, are generated lazily
by ``da.random`` in blocks of 500,000 rows, so they never exist in one
process: every pass over them regenerates the blocks on the workers. A
``LocalCluster`` of 2 worker processes (1 thread each, loopback only) with a
memory limit of 1.5 GB each then fits ``DivergenceClassifier`` (binary
labels drawn from a logistic model) or ``GaussianRegressor`` (heteroscedastic
Gaussian targets). A worker that went over its limit would be restarted by
its nanny and the fit would fail; that the fit completes, and each worker's
peak resident memory stays under its limit and far under the size of ``X``,
shows that no step gathers ``X`` (or any per-sample array) onto one
process: only parameter-sized vectors and ``d x d`` matrices travel.

Peak memory per worker is Linux's high-water mark ``VmHWM`` of the worker
process, reset just before the fit (``/proc/self/clear_refs``), read after
it; the resident memory of each worker is also sampled every
``--interval`` seconds, and the client process's own peak is reported too.
The script counts the passes over the data: every ``compute`` skdiv makes
(one per loss/gradient evaluation, one per Hessian-vector product, plus the
setup reductions) sends one graph to the scheduler, and a scheduler plugin
(``distributed.diagnostics.plugin.SchedulerPlugin.update_graph``, public
API) counts the graphs received during the fit (``dask.callbacks.Callback``
would count nothing: its hooks run on dask's local schedulers only, not under
a ``distributed`` client). That count depends on no private name of skdiv;
each graph's layer names are kept in the record, and say which passes were
setup and which the solver's. It includes the setup reductions, which the figures
of 2026-11-28 below (``passes``: solver evaluations only, counted by patching
a private method) did not.

This is a benchmark, not a test (far too big for CI). It prints the machine,
the figures and a Markdown row for ``benchmarks/README.md``, and writes the
run as a JSON record in ``benchmarks/results/`` (see its README). Usage, from
the repository root::

    PYTHONPATH=. python benchmarks/bench_dask_memory.py             # 20M x 20
    PYTHONPATH=. python benchmarks/bench_dask_memory.py --quick     # 2M x 20
    PYTHONPATH=. python benchmarks/bench_dask_memory.py --estimator regressor

Results (2026-11-28; 2 logical cores shared with other jobs, load average
about 3-5 during the runs; Python 3.11, numpy 2.4, scikit-learn 1.9.1,
dask/distributed 2026.8.0; ``tol=1e-6``, default ``solver`` (Newton-CG);
X = 20,000,000 x 20 float64, 3.2 GB, blocks of 500,000 rows (76 MiB);
2 workers x 1 thread, ``memory_limit="1.5GB"`` each)::

    estimator             fit    n_iter_  passes  peak RSS per worker     client
    DivergenceClassifier  286 s  5        13      695, 693 MiB (48-49%)   283 MiB
    GaussianRegressor     481 s  6        22      1131, 1065 MiB (74-79%) 285 MiB

No worker was restarted in either run, and each worker's peak is about a
fifth (classifier) or a third (regressor) of the size of ``X``. The
regressor's sampled memory stays near 600-750 MiB per worker and reaches
about 1 GiB in two short windows; the classifier's stays at 530-680 MiB.
The fitted coefficients are within 3e-3 (classifier) and 3e-4 (regressor
mean; 6e-4 log-variance) of the generating ones. ``passes`` counts the
evaluations of the solver (loss and gradient, or one Hessian-vector
product), each one pass over the 40 blocks; the setup (checks, moments,
closed-form start) adds about 6 more, which the graph count now includes.
"""

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (  # noqa: E402
    add_verdict,
    load_average,
    reset_peak_rss,
    start_record,
    write_record,
)

MB = 1024**2


def _vm_hwm():
    """Peak resident memory of the calling process (bytes), Linux VmHWM."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def _vm_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def _graph_counter():
    """A scheduler plugin that counts the graphs the scheduler receives.

    Each ``compute`` (or ``persist``) of a dask collection sends one graph,
    so during a fit the count is the number of passes skdiv makes over the
    blocks; ``tasks`` is the number of tasks each graph brought, and
    ``layers`` the names of their layers (``dask.utils.key_split``), which
    say what the pass computed.
    """
    from dask.utils import key_split
    from distributed.diagnostics.plugin import SchedulerPlugin

    class GraphCounter(SchedulerPlugin):
        name = "skdiv-bench-graph-counter"

        def __init__(self):
            self.graphs = []
            self.counting = False

        def update_graph(self, scheduler, *, keys, tasks, **kwargs):
            if self.counting:
                self.graphs.append({
                    "tasks": len(tasks),
                    "layers": sorted({key_split(key) for key in tasks}),
                })

    return GraphCounter()


class _Sampler(threading.Thread):
    """Samples every worker's resident memory every ``interval`` seconds."""

    def __init__(self, client, interval):
        super().__init__(daemon=True)
        self.client, self.interval = client, interval
        self.peak = {}
        self.samples = 0
        self.series = []  # (seconds since start, {worker: rss})
        self._start = time.perf_counter()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.interval):
            try:
                rss = self.client.run(_vm_rss)
            except Exception:  # a worker restarting: keep sampling
                continue
            self.samples += 1
            self.series.append((time.perf_counter() - self._start, rss))
            for worker, value in rss.items():
                self.peak[worker] = max(self.peak.get(worker, 0), value)

    def stop(self):
        self._halt.set()
        self.join()


def _data(da, n_samples, n_features, chunk_rows, estimator):
    state = da.random.RandomState(0)
    X = state.normal(size=(n_samples, n_features), chunks=(chunk_rows, n_features))
    w = np.linspace(-1.0, 1.0, n_features)
    if estimator == "classifier":
        noise = state.logistic(size=n_samples, chunks=chunk_rows)
        y = (X @ w + noise > 0).astype(np.int64)
        return X, y, {"coef": w}
    v = np.linspace(0.3, -0.3, n_features)
    noise = state.normal(size=n_samples, chunks=chunk_rows)
    y = X @ w + 1.0 + noise * da.exp(0.5 * (X @ v))
    return X, y, {"coef": w, "var_coef": v}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=20_000_000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.5GB")
    parser.add_argument("--estimator", choices=["classifier", "regressor"],
                        default="classifier")
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true",
                        help="2,000,000 rows in blocks of 200,000")
    args = parser.parse_args()
    if args.quick:
        args.n_samples, args.chunk_rows = 2_000_000, 200_000

    import dask
    import dask.array as da
    import distributed
    from dask.utils import parse_bytes

    from skdiv import DivergenceClassifier, GaussianRegressor

    size = args.n_samples * args.n_features * 8
    record = start_record(
        __file__, args,
        "skdiv on a Dask array larger than a worker's memory",
        [f"dask {dask.__version__}, distributed {distributed.__version__}",
         f"X: {args.n_samples:,} x {args.n_features} float64 = {size / 1e9:.2f} GB "
         f"in blocks of {args.chunk_rows:,} rows "
         f"({args.chunk_rows * args.n_features * 8 / MB:.0f} MiB)",
         f"cluster: {args.workers} worker processes x 1 thread, memory_limit="
         f"{args.memory_limit} each, 127.0.0.1"],
        versions={"dask": dask.__version__, "distributed": distributed.__version__},
    )

    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True,
        memory_limit=args.memory_limit, dashboard_address=None, host="127.0.0.1",
    )
    client = distributed.Client(cluster)
    # The scheduler of a LocalCluster runs in this process: the plugin's
    # counts are read here directly.
    counter = _graph_counter()
    cluster.scheduler.add_plugin(counter)
    try:
        X, y, truth = _data(da, args.n_samples, args.n_features, args.chunk_rows,
                            args.estimator)
        if args.estimator == "classifier":
            model = DivergenceClassifier(solver=args.solver, tol=args.tol)
        else:
            model = GaussianRegressor(solver=args.solver, tol=args.tol)
        workers_before = set(client.scheduler_info()["workers"])
        client.run(reset_peak_rss)
        reset_peak_rss()
        sampler = _Sampler(client, args.interval)
        sampler.start()
        counter.counting = True
        start = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - start
        counter.counting = False
        sampler.stop()
        hwm = client.run(_vm_hwm)
        client_peak = _vm_hwm()
        # A restarted worker comes back under a new address.
        restarts = len(workers_before - set(client.scheduler_info()["workers"]))
    finally:
        client.close()
        cluster.close()

    limit = parse_bytes(args.memory_limit)
    passes = len(counter.graphs)
    n_blocks = -(-args.n_samples // args.chunk_rows)
    print(f"\nfit: {elapsed:.0f} s, n_iter_={model.n_iter_}, {passes} passes "
          f"over the {n_blocks} blocks (graphs computed: the setup reductions, "
          "then one per loss/gradient evaluation or Hessian product)")
    error = np.max(np.abs(np.ravel(model.coef_) - truth["coef"]))
    print(f"max |coef_ - true coef| = {error:.2e}")
    var_error = None
    if "var_coef" in truth:
        var_error = np.max(np.abs(model.var_coef_ - truth["var_coef"]))
        print(f"max |var_coef_ - true| = {var_error:.2e}")
    rows = []
    for i, (worker, peak) in enumerate(sorted(hwm.items())):
        sampled = sampler.peak.get(worker, 0)
        print(f"worker {i} ({worker}): peak RSS {peak / MB:.0f} MiB (VmHWM), "
              f"{sampled / MB:.0f} MiB sampled max over {sampler.samples} samples; "
              f"{peak / limit:.0%} of memory_limit, {peak / size:.1%} of X")
        rows.append(peak)
    print(f"client process peak RSS: {client_peak / MB:.0f} MiB")
    print("sampled RSS per worker (MiB), max over each tenth of the fit:")
    workers = sorted(hwm)
    timeline = record["tables"].setdefault("sampled_rss_mib_per_tenth", [])
    for tenth in range(10):
        window = [rss for t, rss in sampler.series
                  if tenth * elapsed / 10 <= t < (tenth + 1) * elapsed / 10]
        peaks = [max((rss.get(w, 0) for rss in window), default=0) / MB
                 for w in workers]
        print(f"  {tenth * elapsed / 10:5.0f}-{(tenth + 1) * elapsed / 10:4.0f} s: "
              + ", ".join(f"{p:5.0f}" for p in peaks))
        timeline.append({"start_s": tenth * elapsed / 10,
                         "end_s": (tenth + 1) * elapsed / 10, "peaks": peaks})
    print(f"workers restarted: {restarts}")
    print(f"load average at end (1, 5, 15 min): {load_average()}")
    record["tables"]["graphs"] = counter.graphs
    record["rows"].append({
        "estimator": type(model).__name__,
        "n_samples": args.n_samples,
        "n_features": args.n_features,
        "x_bytes": size,
        "chunk_rows": args.chunk_rows,
        "n_blocks": n_blocks,
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "memory_limit_bytes": limit,
        "tol": args.tol,
        "solver": args.solver,
        "time": elapsed,
        "n_iter": int(np.max(model.n_iter_)),
        "passes": passes,
        "worker_peak_mib": [p / MB for p in rows],
        "worker_peak_fraction_of_limit": [p / limit for p in rows],
        "worker_peak_fraction_of_x": [p / size for p in rows],
        "worker_sampled_peak_mib": [sampler.peak.get(w, 0) / MB for w in workers],
        "samples": sampler.samples,
        "client_peak_mib": client_peak / MB,
        "workers_restarted": restarts,
        "coef_max_abs_error": error,
        "var_coef_max_abs_error": var_error,
    })
    print("\n## Targets")
    add_verdict(record, "issue 7: the fit completes with no worker restarted",
                restarts == 0, f"{restarts} restarted", restarts=restarts)
    add_verdict(record, "issue 7: each worker's peak RSS under its memory_limit",
                all(p < limit for p in rows),
                ", ".join(f"{p / limit:.0%}" for p in rows))
    print("\n| estimator | X | blocks | workers x limit | fit time | n_iter_ | "
          "passes | peak RSS per worker | client peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {type(model).__name__} | {args.n_samples:,} x {args.n_features} "
          f"({size / 1e9:.1f} GB) | {args.chunk_rows:,} rows | {args.workers} x "
          f"{args.memory_limit} | {elapsed:.0f} s | {model.n_iter_} | {passes} | "
          + ", ".join(f"{p / MB:.0f} MiB" for p in rows)
          + f" | {client_peak / MB:.0f} MiB |")
    write_record(record)


if __name__ == "__main__":
    main()
