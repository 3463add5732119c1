"""What ``skdiv compare`` prints: a table (verdict first), JSON or CSV."""

import csv
import io
import json
import math
import textwrap

from ._common import WIDTH
from ._features import describe
from ._verdict import ALPHA


def header(data, args, n_classes, n_folds):
    shape = f"{data.n_samples} samples, {data.n_features} features"
    if n_classes:
        shape += f", {n_classes} classes"
    split = "stratified " if data.task == "classification" else ""
    repeats = f" repeated {args.repeats} times" if args.repeats > 1 else ""
    return [
        f"{data.task} on {data.name}: {shape}",
        f"{args.cv}-fold {split}cross-validation{repeats} ({n_folds} folds), "
        f"random_state={args.random_state}",
    ]


def notes(data, candidates, soft):
    lines = describe(data)
    lines.append("Models: " + "; ".join(c.legend(soft) for c in candidates) + ".")
    if data.task == "regression":
        lines.append("GaussianRegressor and BayesianRidge keep their default "
                     "penalties (GaussianRegressor alpha=1e-4; BayesianRidge learns "
                     "its own); the network (one hidden layer of 16 tanh, L-BFGS) "
                     "has alpha = 32 / n_train on its weights.")
    else:
        lines += [
            "Penalties are matched: DivergenceClassifier alpha = 1 / (C * n_train) "
            "with LogisticRegression's C=1, n_train the size of each training fold; "
            "the network (one hidden layer of 64 tanh, L-BFGS) has the same alpha "
            "on its weights.",
            "cross_entropy and kl_divergence differ by the targets' entropy, a "
            "constant: they fit the same model.",
            "Fit times are at each model's default tolerance: DivergenceClassifier "
            "stops when the gradient's max-norm is 1e-8, LogisticRegression at "
            "1e-4, farther from the optimum.",
        ]
    if soft:
        lines.append(
            "Soft labels: the students are trained on the teacher's out-of-fold "
            "probabilities within each training fold; LogisticRegression cannot take "
            "soft labels and is trained on hard labels. Scores are on hard test "
            "labels, neg_kl_to_teacher against the teacher's test probabilities. "
            "What it shows: how much closer to the teacher a student gets by "
            "learning its probabilities (neg_kl_to_teacher), and what that costs or "
            "gains on the true labels."
        )
    lines += [
        "Scores are higher-is-better; mean +/- std over folds (ddof=0).",
        "Versus the best: the mean paired difference over the same folds +/- its "
        "standard error by the corrected resampled t-test (Nadeau and Bengio, "
        "2003), which allows for training folds that overlap; p is its two-sided "
        f"p-value, and a model with p >= {ALPHA} is within noise of the best.",
    ]
    return lines


# --------------------------------------------------------------------- table
def _fmt(stats):
    if stats is None:
        return "n/a"
    if stats["mean"] is None:
        return "failed"
    return f"{_num(stats['mean'], False)} +/- {_num(stats['std'], False)}"


def _num(x, tiny=True):
    # Three decimals, unless that would widen the table or (for paired
    # differences, which can be tiny) show nothing. None, and NaN, are a
    # statistic that does not exist (the std of infinite scores).
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return f"{x}"
    if x != 0 and ((tiny and abs(x) < 5e-4) or abs(x) >= 1e4):
        return f"{x:.2e}"
    return f"{x:.3f}"


def _fmt_versus(entry, stats):
    if stats is None:
        return "n/a"
    if entry is None:
        # Not ranked: a failed fold, or a score that is not finite.
        return "failed" if stats["mean"] is None else "n/a"
    if entry["status"] == "best":
        return "best"
    rank = f"#{entry['rank']}"
    if entry["status"] == "tied":
        return f"{rank} tied"
    return (f"{rank} {_num(entry['diff_to_best'])}+/-{_num(entry['se'])} "
            f"p={entry['p_value']:.2f}")


def _wrap_title(title, width):
    """``title`` in lines of at most ``width``, broken after underscores."""
    if len(title) <= width:
        return [title]
    lines, line = [], ""
    for part in title.replace("_", "_\0").split("\0"):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return lines + [line]


def _grid(titles, body, n_left, min_width=20):
    widths = [max([len(c) for c in column[1:]] + [min(len(column[0]), min_width)])
              for column in zip(titles, *body, strict=True)]
    wrapped = [_wrap_title(t, max(w, min_width if j >= n_left else w))
               for j, (t, w) in enumerate(zip(titles, widths, strict=True))]
    widths = [max(w, *map(len, lines)) for w, lines in zip(widths, wrapped,
                                                           strict=True)]
    depth = max(map(len, wrapped))
    heads = [[""] * (depth - len(lines)) + lines for lines in wrapped]

    def render(cells):
        return "  ".join(
            c.ljust(w) if j < n_left else c.rjust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [render([h[level] for h in heads]) for level in range(depth)]
    out.append(render(["-" * w for w in widths]))
    return out + [render(cells) for cells in body]


def _bullets(lines, bullet="* "):
    out = []
    for line in lines:
        out += textwrap.wrap(line, WIDTH, initial_indent=bullet,
                             subsequent_indent="  ", break_on_hyphens=False)
    return out


def _grids(left, left_cells, names, cell, extra=None):
    """Grids of the score columns ``names``, as many as keep each within WIDTH.

    ``left`` are the titles of the columns every grid repeats (the model),
    ``left_cells(row_index)`` their cells, ``cell(row_index, name)`` a
    score's cell; ``extra``, a ``(title, cells)`` column, goes with the first
    grid. Greedy: a grid takes scores while it fits (one at the least).
    """
    n_rows = len(left_cells)

    def grid(group, with_extra):
        titles = left + group + ([extra[0]] if with_extra else [])
        body = [
            left_cells[i] + [cell(i, n) for n in group]
            + ([extra[1][i]] if with_extra else [])
            for i in range(n_rows)
        ]
        return _grid(titles, body, len(left))

    out, group, first = [], [], extra is not None
    for name in names:
        trial = grid(group + [name], first)
        if group and max(map(len, trial)) > WIDTH:
            out += ([""] if out else []) + grid(group, first)
            group, first = [], False
        group.append(name)
    if group:
        out += ([""] if out else []) + grid(group, first)
    return out


def table(head, summary, names, rows, note_lines, show_targets):
    left = ["model"] + (["targets"] if show_targets else [])
    starts = [
        [row["label"]] + ([row["targets"].split()[0]] if show_targets else [])
        for row in rows
    ]
    times = [
        "failed" if row["fit_time"]["mean"] is None
        else f"{row['fit_time']['mean']:.3f}"
        for row in rows
    ]
    out = head + [""] + _bullets(summary, bullet="") + [""]
    out += _grids(
        left, starts, names, lambda i, n: _fmt(rows[i]["scores"][n]),
        extra=("fit (s)", times),
    )
    out += ["", "versus the best: paired difference +/- corrected standard error, "
            "p-value"]
    out += _grids(
        ["model"], [[row["label"]] for row in rows], names,
        lambda i, n: _fmt_versus(rows[i]["verdict"][n], rows[i]["scores"][n]),
    )
    out += [""] + _bullets(note_lines)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- json, csv
def _finite(value):
    """``value`` with every float that is not finite replaced by None.

    JSON has no infinity or NaN; an infinite score is null in its folds,
    told from a failed one by ``failed_folds``.
    """
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data, args, classes, names, rows, summary, note_lines, n_folds):
    report = {
        "task": data.task,
        "data": data.name,
        "n_samples": int(data.n_samples),
        "n_features": int(data.n_features),
        "n_classes": len(classes) if data.task == "classification" else None,
        "cv": args.cv,
        "repeats": args.repeats,
        "n_folds": n_folds,
        "random_state": args.random_state,
        "soft_labels": args.soft_labels,
        "columns": {"numeric": [str(c) for c in data.numeric],
                    "categorical": [str(c) for c in data.categorical]},
        "scoring": names,
        "verdict": summary,
        "results": rows,
        "notes": note_lines,
    }
    return json.dumps(_finite(report), indent=2, allow_nan=False) + "\n"


def to_csv(names, rows, n_folds):
    """One row per model and score, with the per-fold values."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(
        ["model", "objective", "label", "targets", "score", "mean", "std", "rank",
         "verdict", "diff_to_best", "se", "p_value"]
        + [f"fold_{k + 1}" for k in range(n_folds)]
    )

    def cell(value):
        return "" if value is None else repr(value)

    for row in rows:
        start = [row["model"], row["objective"], row["label"], row["targets"] or ""]
        for name in names + ["fit_time"]:
            stats = row["fit_time"] if name == "fit_time" else row["scores"][name]
            if stats is None:
                continue
            entry = row["verdict"].get(name) or {}
            writer.writerow(
                start + [name, cell(stats["mean"]), cell(stats["std"]),
                         cell(entry.get("rank")), entry.get("status", ""),
                         cell(entry.get("diff_to_best")), cell(entry.get("se")),
                         cell(entry.get("p_value"))]
                + [cell(v) for v in stats["folds"]]
            )
    return stream.getvalue()
