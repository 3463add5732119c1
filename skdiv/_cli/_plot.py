"""The figure of ``skdiv compare --plot``: paired fold scores and calibration."""

import numpy as np

from ._common import EXTRA, RunError, UsageError


def check_plot_path(path):
    """Refuse, before any fit, a path that cannot be written as a figure."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RunError(f"--plot needs matplotlib; install it with: {EXTRA}") from None
    formats = Figure().canvas.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if path.is_dir() or not suffix:
        raise UsageError(
            f"--plot {str(path)!r}: give a file name with a suffix, such as "
            "scores.png (the path is used exactly as given)"
        )
    if suffix not in formats:
        raise UsageError(
            f"--plot {str(path)!r}: unknown image format {suffix!r}; use one of "
            + ", ".join(sorted(formats))
        )
    if not path.parent.is_dir():
        raise UsageError(
            f"--plot {str(path)!r}: no such directory: {str(path.parent)!r}"
        )


def _paired(ax, name, rows):
    """Each fold a line across the models: the paired comparison, drawn."""
    x = np.arange(len(rows))
    n_folds = max(len(r["scores"][name]["folds"]) for r in rows
                  if r["scores"][name] is not None)
    folds = np.full((len(rows), n_folds), np.nan)
    for i, row in enumerate(rows):
        if row["scores"][name] is not None:
            values = row["scores"][name]["folds"]
            folds[i] = [np.nan if v is None else v for v in values]
    # An infinite score (an overflow) cannot be drawn: left out, as a failed one.
    folds[~np.isfinite(folds)] = np.nan
    ax.plot(x, folds, color="0.6", lw=0.8, marker="o", ms=3, alpha=0.8)
    means = [np.nan if np.isnan(f).all() else f.mean() for f in folds]
    ax.plot(x, means, color="C3", lw=0, marker="D", ms=6, label="mean")
    ax.set_xticks(x, [r["label"] for r in rows], rotation=30, ha="right")
    ax.set_title(name)
    ax.grid(axis="y", alpha=0.3)


def _reliability(ax, rows, extras):
    edges = np.linspace(0, 1, 11)
    for row, extra in zip(rows, extras, strict=True):
        if extra is None:
            continue
        confidence = np.concatenate([e[0] for e in extra])
        correct = np.concatenate([e[1] for e in extra])
        bins = np.clip(np.digitize(confidence, edges) - 1, 0, 9)
        used = np.bincount(bins, minlength=10) > 0
        mean_conf = np.bincount(bins, confidence, 10)[used] / np.bincount(bins)[used]
        accuracy = np.bincount(bins, correct, 10)[used] / np.bincount(bins)[used]
        ax.plot(mean_conf, accuracy, marker="o", ms=3, label=row["label"])
    ax.plot([0, 1], [0, 1], color="k", lw=0.8, ls="--", label="calibrated")
    ax.set(xlabel="predicted probability of the predicted class",
           ylabel="fraction correct", title="reliability (out-of-fold)")


def _pit(ax, rows, extras):
    edges = np.linspace(0, 1, 11)
    for row, extra in zip(rows, extras, strict=True):
        if extra is None:
            continue
        pit = np.concatenate(extra)
        # Folds whose predictive CDF overflowed give NaN: left out, as the
        # scores leave out what is not finite.
        pit = pit[np.isfinite(pit)]
        if not pit.size:
            continue
        density, _ = np.histogram(pit, bins=edges, density=True)
        ax.stairs(density, edges, label=row["label"])
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="calibrated")
    ax.set(xlabel="PIT: predicted CDF at the true value", ylabel="density",
           title="probability integral transform (out-of-fold)")


def plot(path, head, names, rows, extras, task):
    """Save the figure; ``extras[i]`` are row i's per-fold diagnostics."""
    from matplotlib.figure import Figure

    usable = [e if e and all(x is not None for x in e) else None for e in extras]
    diagnose = any(e is not None for e in usable)
    fig = Figure(figsize=(max(3.4 * len(names), 7), 8.5 if diagnose else 4.8),
                 layout="constrained")
    grid = fig.add_gridspec(2 if diagnose else 1, len(names))
    for j, name in enumerate(names):
        _paired(fig.add_subplot(grid[0, j]), name, rows)
    if diagnose:
        ax = fig.add_subplot(grid[1, :])
        (_reliability if task == "classification" else _pit)(ax, rows, usable)
        ax.legend(fontsize="small")
    fig.suptitle("\n".join(head) + "\nscores per fold, higher is better; "
                 "each grey line is one fold", fontsize="medium")
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:
        raise RunError(f"--plot: cannot write {str(path)!r}: {exc}") from None
