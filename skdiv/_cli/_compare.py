"""``skdiv compare``: from the arguments to the exit status."""

import sys

import numpy as np

from ._common import RunError, UsageError

# Above this many classes a run announces that it may take a while.
_MANY_CLASSES = 50


def main(argv=None):
    """Run the ``skdiv`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when the run fails or every score of it failed.
        Usage errors, including scorers that do not fit the task and plot
        paths that cannot be written, exit with status 2 through
        :meth:`argparse.ArgumentParser.error`, before any model is fitted.
    """
    from ._parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return {"compare": compare}[args.command](args)
    except UsageError as exc:
        args.parser.error(str(exc))
    except RunError as exc:
        print(f"{args.parser.prog}: error: {exc}", file=sys.stderr)
        return 1


def _prepare(args):
    """Everything checked and decided before the first fit."""
    from ._data import check_classes, load_builtin, load_csv
    from ._plot import check_plot_path
    from ._scoring import resolve_scoring

    if (args.data is None) != (args.target is None):
        raise UsageError("--data and --target go together")
    if args.data is None and (args.sep is not None or args.drop):
        raise UsageError("--sep and --drop are for --data")
    if args.soft_labels and args.task == "regression":
        raise UsageError("--soft-labels is for classification, not --task regression")
    if args.plot is not None:
        check_plot_path(args.plot)

    if args.data is not None:
        data = load_csv(args.data, args.target, args.task, args.sep, args.drop)
    else:
        data = load_builtin(args.task or "classification")
    if args.soft_labels and data.task == "regression":
        raise UsageError(
            f"--soft-labels is for classification, but the target {args.target!r} "
            "looks continuous (regression); add --task classification if it is not"
        )
    classes = check_classes(data.y, args.cv) if data.task == "classification" else []
    if data.n_samples < args.cv:
        raise UsageError(f"--cv {args.cv} is more than the {data.n_samples} samples")
    scoring = resolve_scoring(args.scoring, data.task, data.y)
    return data, classes, scoring


def compare(args):
    from ._candidates import classifiers, regressors
    from ._report import header, notes, table, to_csv, to_json
    from ._run import run, splitter
    from ._verdict import summarise, verdict

    data, classes, scoring = _prepare(args)
    if not args.quiet:
        for line in data.warnings:
            print(f"skdiv compare: warning: {line}", file=sys.stderr)
    if not args.quiet and len(classes) > _MANY_CLASSES:
        # Each linear fit costs about n_features x n_classes per sample and
        # the gradient boosting one tree per class per iteration.
        print(f"skdiv compare: {len(classes)} classes: each fit learns "
              f"{len(classes)} sets of coefficients (and trees); this may take "
              "minutes", file=sys.stderr)
    if data.task == "classification":
        candidates = classifiers(data, args.random_state, args.soft_labels, args.cv)
    else:
        candidates = regressors(data)

    cv = splitter(data.task, args.cv, args.random_state, args.repeats)
    folds = list(cv.split(np.zeros((data.n_samples, 1)), data.y))
    fold_scores, problems = run(data, candidates, scoring, folds, args,
                                diagnose=args.plot is not None)
    names, rows = summarise(candidates, scoring, fold_scores, len(folds))
    n_train = float(np.mean([len(train) for train, _ in folds]))
    n_test = float(np.mean([len(test) for _, test in folds]))
    summary = verdict(names, rows, n_train, n_test)
    head = header(data, args, len(classes), len(folds))
    note_lines = data.decisions + data.warnings + notes(data, candidates,
                                                       args.soft_labels)

    for (i, message), ks in sorted(problems.items()):
        if args.quiet and message.startswith("warning"):
            continue
        c = candidates[i]
        shown = ", ".join(str(k + 1) for k in sorted(set(ks)))
        print(f"{c.model} ({c.objective}), folds {shown}: {message}", file=sys.stderr)

    if args.format == "json":
        sys.stdout.write(to_json(data, args, classes, names, rows, summary,
                                 note_lines, len(folds)))
    elif args.format == "csv":
        sys.stdout.write(to_csv(names, rows, len(folds)))
    else:
        sys.stdout.write(table(head, summary, names, rows, note_lines,
                               args.soft_labels))
    if args.plot is not None:
        from ._plot import plot

        extras = [[None if fold_scores[i, k] is None else fold_scores[i, k][2]
                   for k in range(len(folds))] for i in range(len(candidates))]
        plot(args.plot, head, names, rows, extras, data.task)
        if not args.quiet:
            print(f"skdiv compare: wrote {args.plot}", file=sys.stderr)

    scored = [s["mean"] for r in rows for s in r["scores"].values() if s is not None]
    if scored and all(m is None for m in scored):
        print("skdiv compare: error: every score of every model failed",
              file=sys.stderr)
        return 1
    return 0
