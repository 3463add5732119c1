"""The argument parser of the ``skdiv`` command."""

import argparse
from pathlib import Path

from ._common import EXTRA

_COMPARE_DESCRIPTION = """\
Cross-validate skdiv's estimators next to scikit-learn's on the same folds
and report, per score (higher is better for every score), which model is best
and which ones are within noise of it: the paired fold-by-fold differences to
the best, with standard errors by the corrected resampled t-test (Nadeau and
Bengio, 2003); then each score's mean +/- standard deviation over the folds,
and the mean fit time.

Without --data it uses data that ship with scikit-learn (nothing is
downloaded):

  classification  load_digits (1797 samples, 64 features, 10 classes):
                  DivergenceClassifier with loss="cross_entropy" and
                  "kl_divergence", LogisticRegression (C=1), each after a
                  StandardScaler, and HistGradientBoostingClassifier.
                  The penalties are matched: DivergenceClassifier gets
                  alpha = 1 / (C * n_train) with C=1 and n_train the size of
                  each training fold, which is LogisticRegression's C=1.
  regression      load_diabetes (442 samples, 10 features):
                  GaussianRegressor with loss="gaussian_nll" and a
                  heteroscedastic or a constant variance, and with
                  loss="squared_error" (variance fitted afterwards), and
                  BayesianRidge, each after a StandardScaler and with their
                  default penalties.

Default scores: classification neg_cross_entropy and accuracy (on hard labels
the KL divergence equals the cross-entropy); regression neg_gaussian_nll,
neg_gaussian_crps and neg_root_mean_squared_error.

--soft-labels is knowledge distillation: in each training fold the teacher
(HistGradientBoostingClassifier) gives out-of-fold predict_proba by an inner
K-fold cross_val_predict, and the DivergenceClassifier students are trained on
those probabilities. No test label reaches the students. Scores are on the
hard test labels, plus neg_kl_to_teacher, minus the KL divergence from the
teacher (fitted on the whole training fold) to the model on the test fold.
LogisticRegression cannot take soft labels and is trained on hard labels.
"""

_COMPARE_EPILOG = """\
With --data, the delimiter is detected (or given by --sep) and each column is
typed: numbers (missing values imputed by the training fold's median, with an
indicator, and standardised for the linear models), True/False and yes/no
columns as 0/1, ISO dates as days since 1970-01-01, and any other text as
categories (one-hot encoded for the linear models, native categories for the
gradient boosting). All of it is fitted on each training fold. Columns that
would leak the target are dropped with a warning: an unnamed first column (a
row index), a column unique per row (an identifier), a column monotone in the
row order while the rows are sorted by the target. Rows without a target are
left out. The task is classification when the target is non-numeric or
integer with at most 20 distinct values, regression otherwise; --task
overrides it. Folds are stratified for classification and shuffled with
--random-state.

examples:
  skdiv compare
  skdiv compare --task regression --cv 10 --format json
  skdiv compare --soft-labels --plot distillation.png
  skdiv compare --data measurements.csv --target label --scoring f1_macro
  skdiv compare --data penguins.csv --target species --drop year --repeats 3
"""


def build_parser():
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="skdiv",
        description=(
            "skdiv: scikit-learn estimators trained and judged by "
            "cross-entropy, KL divergence or Gaussian NLL."
        ),
    )
    parser.add_argument("--version", action="version", version=f"skdiv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    compare = commands.add_parser(
        "compare",
        help="cross-validate skdiv's estimators next to scikit-learn's",
        description=_COMPARE_DESCRIPTION,
        epilog=_COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = compare.add_argument_group("data")
    data.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="what to compare (default: classification, or inferred from --target)",
    )
    data.add_argument(
        "--data", metavar="FILE.csv", type=Path,
        help="a CSV file with a header row, instead of the built-in data",
    )
    data.add_argument("--target", metavar="COLUMN", help="the target column of --data")
    data.add_argument(
        "--sep", metavar="CHAR", type=_separator,
        help="the delimiter of --data (default: detected among , ; tab |)",
    )
    data.add_argument(
        "--drop", metavar="COLUMN", nargs="+", action="extend", default=[],
        help="columns of --data not to use as features",
    )
    data.add_argument(
        "--soft-labels", action="store_true",
        help="train the classifiers on a teacher's out-of-fold probabilities",
    )
    evaluation = compare.add_argument_group("evaluation")
    evaluation.add_argument(
        "--cv", metavar="K", type=_int_at_least(2), default=5,
        help="number of cross-validation folds (default: 5)",
    )
    evaluation.add_argument(
        "--repeats", metavar="N", type=_int_at_least(1), default=1,
        help="repeat the cross-validation N times with different shuffles "
        "(default: 1)",
    )
    evaluation.add_argument(
        "--scoring", metavar="NAME", action="append",
        help="a scorer name, skdiv's (neg_cross_entropy, neg_kl_divergence, "
        "neg_gaussian_nll, neg_gaussian_crps) or scikit-learn's; repeat for "
        "several (default: see above)",
    )
    evaluation.add_argument(
        "--n-jobs", metavar="N", type=_nonzero_int, default=1,
        help="folds fitted in parallel; -1 for all cores (default: 1). Each "
        "fit runs single-threaded",
    )
    evaluation.add_argument(
        "--random-state", metavar="SEED", type=_seed, default=0,
        help="seed of the fold shuffling and of the gradient boosting (default: 0)",
    )
    output = compare.add_argument_group("output")
    output.add_argument(
        "--format", choices=["table", "json", "csv"], default="table",
        help="output on stdout (default: table)",
    )
    output.add_argument(
        "--plot", metavar="FILE.png", type=Path,
        help="also draw the scores per fold, paired across models, and a "
        "reliability diagram (classification) or PIT histogram (regression); "
        f"the path is used as given, its suffix the format (needs matplotlib: {EXTRA})",
    )
    output.add_argument(
        "--quiet", action="store_true",
        help="no progress bar and no warnings on stderr",
    )
    # The command's function is chosen by its name (args.command) in
    # _compare.main: the parser knows the options, not what runs them.
    compare.set_defaults(parser=compare)
    return parser


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _nonzero_int(text):
    value = _int_at_least(-(2**31))(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1 runs one fit at a time)")
    return value




def _seed(text):
    # The seeds of scikit-learn and numpy: 0 <= seed < 2**32.
    value = _int_at_least(0)(text)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"must be below 2**32, got {value}")
    return value


def _separator(text):
    text = {"tab": "\t", "\\t": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(
            f"must be one character (or tab), got {text!r}"
        )
    return text
