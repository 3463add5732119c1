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

Every run also leaves a *record*: :func:`start_record` collects the script,
its arguments, the date, the git commit and source hash and the machine
header (the same dictionary :func:`header` prints), the script appends its
measured rows and verdicts, and :func:`write_record` saves it as JSON in
``benchmarks/results/`` (schema: ``benchmarks/results/README.md``).
"""

import datetime
import json
import math
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


def thread_pools():
    """The thread pools loaded in this process, from threadpoolctl."""
    from threadpoolctl import threadpool_info

    return [
        {
            "user_api": pool.get("user_api"),
            "internal_api": pool.get("internal_api"),
            "version": pool.get("version"),
            "architecture": pool.get("architecture"),
            "num_threads": pool.get("num_threads"),
            "library": os.path.basename(pool.get("filepath", "")),
        }
        for pool in threadpool_info()
    ]


def blas_info(pools=None):
    """One line per thread pool, from threadpoolctl."""
    return [
        f"{pool['user_api']}/{pool['internal_api']} {pool['version']} "
        f"arch={pool['architecture'] or '-'} threads={pool['num_threads']} "
        f"({pool['library']})"
        for pool in (thread_pools() if pools is None else pools)
    ]


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


def _repository():
    import skdiv

    return os.path.dirname(os.path.dirname(os.path.abspath(skdiv.__file__)))


def _git(*args):
    try:
        return subprocess.run(["git", "-C", _repository(), *args],
                              capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def git_info():
    """The commit of the checkout skdiv is imported from, and its state.

    ``dirty_files`` counts the files under ``skdiv/`` that differ from the
    commit: a run on uncommitted code says so.
    """
    head = _git("log", "-1", "--format=%H %h %cd",
                "--date=format:%Y-%m-%d %H:%M").split(maxsplit=2)
    dirty = _git("status", "--porcelain", "--", "skdiv").splitlines()
    if len(head) < 3:
        return {"commit": None, "short": None, "commit_date": None,
                "dirty_files": None}
    return {"commit": head[0], "short": head[1], "commit_date": head[2].strip(),
            "dirty_files": len(dirty)}


def git_state(info=None):
    info = git_info() if info is None else info
    if info["short"] is None:
        return "unknown"
    state = f"{info['short']} {info['commit_date']}"
    if info["dirty_files"]:
        state += f" + uncommitted changes in skdiv/ ({info['dirty_files']} files)"
    return state


def check_source(results, expected):
    """Warn when workers ran a different skdiv than the one the run began with."""
    seen = {r.get("skdiv_source") for r in results} - {None}
    if seen - {expected}:
        print(f"WARNING: skdiv's source changed during this run (started with "
              f"{expected}, workers saw {sorted(seen)}): figures mix versions; "
              "re-run when the checkout is quiet.")


def threading_environment():
    return {k: v for k, v in sorted(os.environ.items())
            if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}


def machine_info():
    """The machine, library versions, BLAS pools and load average, as a dict.

    What :func:`header` prints and what a record stores under ``machine``.
    """
    import scipy
    import sklearn

    import skdiv

    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "memory_gib": round(memory_total_gib(), 1),
        "platform": platform.platform(),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "skdiv": skdiv.__version__,
        },
        "thread_pools": thread_pools(),
        "threading_environment": threading_environment(),
        "load_average_start": load_average(),
    }


def header(title, extra=(), machine=None, git=None, source=None):
    """Print the machine, library versions, BLAS pools and load average.

    Pass the ``machine``, ``git`` and ``source`` of a record (see
    :func:`start_record`) to print exactly what it stores; each is measured
    here otherwise.
    """
    machine = machine_info() if machine is None else machine
    versions = machine["versions"]
    print(f"# {title}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S')}")
    print(f"cpu: {machine['cpu']}, {machine['logical_cores']} logical cores, "
          f"{machine['memory_gib']:.1f} GiB RAM")
    print(", ".join(f"{name} {version}" for name, version in versions.items()))
    print(f"skdiv source: {source or skdiv_source()} (git {git_state(git)})")
    for line in blas_info(machine["thread_pools"]):
        print(f"threadpool: {line}")
    print(f"threading environment: {machine['threading_environment'] or 'none set'}")
    for line in extra:
        print(line)
    print(f"load average at start (1, 5, 15 min): {machine['load_average_start']}")
    sys.stdout.flush()


# ---------------------------------------------------------------- records
RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
RECORD_SCHEMA = 1


def start_record(script, args, title, extra=(), versions=None):
    """A new record of one benchmark run, with its header printed.

    Parameters
    ----------
    script : str
        The script's path (``__file__``); its file name is stored.
    args : argparse.Namespace or dict
        The parsed arguments. ``worker`` (internal) is dropped.
    title, extra
        The header's title and extra lines, as for :func:`header`; the
        extra lines are stored under ``settings``.
    versions : dict, optional
        Versions of further libraries (dask, ngboost), added to
        ``machine["versions"]`` and printed with the others.

    Returns
    -------
    record : dict
        ``schema``, ``script``, ``title``, ``arguments``, ``argv``, ``date``
        (UTC, ISO 8601), ``git``, ``skdiv_source``, ``machine``,
        ``settings``, and empty ``rows``, ``verdicts`` and ``tables`` for the
        script to fill; :func:`write_record` adds ``load_average_end`` and
        ``duration_s``.
    """
    arguments = dict(vars(args) if not isinstance(args, dict) else args)
    arguments.pop("worker", None)
    record = {
        "schema": RECORD_SCHEMA,
        "script": os.path.basename(script),
        "title": title,
        "arguments": arguments,
        "argv": sys.argv[1:],
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "git": git_info(),
        "skdiv_source": skdiv_source(),
        "machine": machine_info(),
        "settings": list(extra),
        "rows": [],
        "verdicts": [],
        "tables": {},
        "_start": time.perf_counter(),
    }
    record["machine"]["versions"].update(versions or {})
    header(title, extra, machine=record["machine"], git=record["git"],
           source=record["skdiv_source"])
    return record


def add_verdict(record, label, ok, detail, **values):
    """Append a PASS/FAIL (``ok=None``: n/a) to the record and print it.

    ``values`` are the numbers behind the verdict (a ratio, a distance).
    """
    status = "n/a" if ok is None else ("PASS" if ok else "FAIL")
    record["verdicts"].append(
        {"label": label, "status": status, "detail": detail, **values})
    print(f"  [{status:4s}] {label}: {detail}")
    return status


def jsonable(value):
    """``value`` with numpy scalars and arrays as Python numbers and lists,
    tuples as lists, and non-finite floats as ``None`` (strict JSON has no
    NaN or infinity)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def record_path(record, directory=None):
    """``<directory>/<script stem>-<mode>-<UTC stamp>-<commit>.json``."""
    stem = os.path.splitext(record["script"])[0]
    mode = "quick" if record["arguments"].get("quick") else "full"
    stamp = record["date"].replace("-", "").replace(":", "")[:15] + "Z"
    commit = record["git"]["short"] or "nogit"
    return os.path.join(directory or RESULTS_DIR,
                        f"{stem}-{mode}-{stamp}-{commit}.json")


def write_record(record, directory=None):
    """Finish the record (end load average, duration) and save it as JSON.

    Returns the path written. The file is strict JSON (``allow_nan=False``)
    and is read back before returning, so a run that printed its path left
    a record that parses.
    """
    record = dict(record)
    start = record.pop("_start", None)
    record["load_average_end"] = load_average()
    if start is not None:
        record["duration_s"] = round(time.perf_counter() - start, 1)
    path = record_path(record, directory)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(jsonable(record), indent=1, allow_nan=False)
    with open(path, "w") as f:
        f.write(text + "\n")
    read_record(path)
    print(f"\nrecord: {os.path.relpath(path)}")
    return path


def read_record(path):
    """Load a record and check that it has the fields of its schema."""
    with open(path) as f:
        record = json.load(f)
    missing = {"schema", "script", "arguments", "date", "git", "skdiv_source",
               "machine", "rows", "verdicts"} - set(record)
    if missing:
        raise ValueError(f"{path} is not a benchmark record: no {sorted(missing)}")
    if record["schema"] != RECORD_SCHEMA:
        raise ValueError(f"{path} has schema {record['schema']}, expected "
                         f"{RECORD_SCHEMA}")
    return record


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
