"""Helpers shared by the benchmark scripts: machine header, worker processes.

Every timed fit runs in a fresh Python process (a *worker*), so that

* its peak memory is its own: the worker reports its resident set size just
  before ``fit`` and ``getrusage(RUSAGE_SELF).ru_maxrss`` right after it, and
  the difference is the fit's peak memory (``fit MB`` in the tables), the same
  measure for skdiv and for its peer, including memory that ``tracemalloc``
  would not see (OpenBLAS buffers, the L-BFGS-B workspace);
* a fit cannot warm caches or leave garbage for the next one.

The worker first fits a few iterations on a few hundred rows (imports, code
paths, BLAS thread pools), then measures, then repeats the fit
``repeats - 1`` times for timing only; the reported time is the median.

The peak is Linux's high-water mark ``VmHWM``, reset to the current RSS just
before the fit by writing 5 to ``/proc/self/clear_refs``, so that a transient
of loading the data (``np.load`` of an ``.npz`` copies) cannot pose as the
fit's peak. Where that reset is refused, ``ru_maxrss`` is used and the
header of the result says so.
"""

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np


def load_average():
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def blas_info():
    """One line per thread pool, from threadpoolctl."""
    from threadpoolctl import threadpool_info

    lines = []
    for pool in threadpool_info():
        lines.append(
            f"{pool.get('user_api')}/{pool.get('internal_api')} "
            f"{pool.get('version')} arch={pool.get('architecture', '-')} "
            f"threads={pool.get('num_threads')} "
            f"({os.path.basename(pool.get('filepath', ''))})"
        )
    return lines


def skdiv_source():
    """A short hash of the imported skdiv's ``.py`` files, and git's view.

    Other developers commit to the same checkout while a benchmark runs; each
    worker reports this hash so that a run spanning two versions of skdiv
    says so instead of mixing them silently.
    """
    import hashlib

    import skdiv

    root = os.path.dirname(skdiv.__file__)
    digest = hashlib.sha1()
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(name.encode() + f.read())
    return digest.hexdigest()[:12]


def git_state():
    import skdiv

    repo = os.path.dirname(os.path.dirname(os.path.abspath(skdiv.__file__)))
    try:
        head = subprocess.run(["git", "-C", repo, "log", "-1", "--format=%h %cd",
                               "--date=format:%Y-%m-%d %H:%M"],
                              capture_output=True, text=True, timeout=10).stdout
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain",
                                "--", "skdiv"],
                               capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    state = head.strip() or "unknown"
    if dirty.strip():
        state += f" + uncommitted changes in skdiv/ ({len(dirty.splitlines())} files)"
    return state


def check_source(results, expected):
    """Warn when workers ran a different skdiv than the one the run began with."""
    seen = {r.get("skdiv_source") for r in results} - {None}
    if seen - {expected}:
        print(f"WARNING: skdiv's source changed during this run (started with "
              f"{expected}, workers saw {sorted(seen)}): figures mix versions; "
              "re-run when the checkout is quiet.")


def header(title, extra=()):
    """Print the machine, library versions, BLAS pools and load average."""
    import scipy
    import sklearn

    import skdiv

    print(f"# {title}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(f"cpu: {cpu_model()}, {os.cpu_count()} logical cores, "
          f"{memory_total_gib():.1f} GiB RAM")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
          f"skdiv {skdiv.__version__}")
    print(f"skdiv source: {skdiv_source()} (git {git_state()})")
    for line in blas_info():
        print(f"threadpool: {line}")
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    print(f"threading environment: {env or 'none set'}")
    for line in extra:
        print(line)
    print(f"load average at start (1, 5, 15 min): {load_average()}")
    sys.stdout.flush()


def current_rss():
    """Resident set size of this process now, in bytes."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss():
    """Peak resident set size of this process so far, in bytes (Linux: KiB)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss():
    """Reset the high-water mark to the current RSS; False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_worker(script, spec, timeout=None):
    """Run ``script --worker '<json spec>'`` and return its JSON answer."""
    cmd = [sys.executable, script, "--worker", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"worker failed ({proc.returncode}) for {spec}:\n{proc.stderr[-3000:]}"
        )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"worker printed no result for {spec}:\n{proc.stdout[-2000:]}")


def measure_fits(make, X, y, repeats, warmup=None, make_warmup=None):
    """Fit ``make()`` on ``(X, y)`` ``repeats`` times; the first one is measured.

    ``warmup=(X_small, y_small)`` is fitted first by ``make_warmup()`` (by
    default ``make()``; pass one with a small ``max_iter``: a small slice of
    a wide problem can be nearly separable and slow to solve).

    Returns the last fitted estimator and a dict with the fit times, the
    fit's peak memory above the resident set before it, the process's peak,
    and whether a ``ConvergenceWarning`` was raised.
    """
    from sklearn.exceptions import ConvergenceWarning

    if warmup is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (make_warmup or make)().fit(*warmup)
    times = []
    converged = True
    peak_reset = reset_peak_rss()
    rss_before = current_rss()
    for i in range(repeats):
        est = make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            est.fit(X, y)
            times.append(time.perf_counter() - start)
        if i == 0:
            peak = peak_rss()
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            converged = False
    return est, {
        "times": times,
        "time": statistics.median(times),
        "fit_mb": max(peak - rss_before, 0) / 2**20,
        "process_mb": peak / 2**20,
        "converged": converged,
        "peak_reset": peak_reset,
        "skdiv_source": skdiv_source(),
    }


def fmt_time(seconds):
    if seconds is None:
        return "-"
    return f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def fmt_sci(value):
    if value is None:
        return "-"
    return f"{value:.1e}"
