"""Data for ``skdiv compare``: the built-in sets, and CSV files typed column by column.

Everything here is decided from the file alone, cell by cell, before any fold
exists: which columns are numbers, booleans, dates or categories, and which
ones are dropped because they would leak the target (a row index, an
identifier, a column that follows the row order of a sorted target). What is
*learnt* from the data (medians, scales, categories) is left to the
preprocessing in :mod:`._features`, fitted on each training fold.
"""

import csv
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._compat import csv_float_options
from ._common import UsageError

# An integer target with at most this many distinct values is a class label.
MAX_CLASSES_INFERRED = 20
# Cells read as missing, besides pandas' defaults ("", "NA", "NaN", "null", ...).
_EXTRA_MISSING = ["?"]
# Text columns whose values (lower-cased) form one of these pairs are booleans.
_BOOLEAN_PAIRS = [("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t")]
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
)
_DELIMITERS = ",;\t|"


@dataclass
class Dataset:
    """The comparison's data, with the decisions taken about its columns.

    ``X`` is a DataFrame for CSV files and an array for the built-in sets;
    ``numeric`` and ``categorical`` are the column keys the preprocessing
    treats as numbers and as categories.
    """

    X: object
    y: np.ndarray
    task: str
    name: str
    numeric: list
    categorical: list = field(default_factory=list)
    # One line per decision, for the report's notes.
    decisions: list = field(default_factory=list)
    # Decisions the user should see even in --quiet: dropped leaking columns.
    warnings: list = field(default_factory=list)

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    def rows(self, index):
        """The rows ``index`` of ``X``."""
        return self.X.iloc[index] if hasattr(self.X, "iloc") else self.X[index]


def load_builtin(task):
    from sklearn.datasets import load_diabetes, load_digits

    if task == "regression":
        bunch, name = load_diabetes(), "load_diabetes"
    else:
        bunch, name = load_digits(), "load_digits"
    X = bunch.data.astype(np.float64)
    return Dataset(X, bunch.target, task, name, numeric=list(range(X.shape[1])))


# ------------------------------------------------------------------ reading
def _names(columns):
    return ", ".join(map(repr, columns))


def _sniff(path, sep):
    """The delimiter and the header row, read with the csv module."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            sample = stream.read(64 * 1024)
            stream.seek(0)
            if sep is None:
                try:
                    sep = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
                except csv.Error:
                    sep = ","
            header = next(csv.reader(stream, delimiter=sep), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--data: cannot read {str(path)!r}: {exc}") from None
    if not header:
        raise UsageError(f"--data: {str(path)!r} needs a header row and data rows")
    return sep, [name.strip() for name in header]


def _read(path, sep, header):
    import pandas as pd

    seen, duplicates = set(), []
    for name in header:
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise UsageError(
            f"--data: {path.name} has duplicate column names: {_names(duplicates)}; "
            "rename them so that every column has its own name"
        )
    index_column = header[0] == "" and len(header) > 1
    names = ["(index)" if index_column else header[0]] + header[1:]
    try:
        # The C parser types each column as it reads it: a numeric column
        # costs 8 bytes a cell, not a Python string per cell. It reads as a
        # number only what is a number for Python's float() too ("1_5",
        # which float() reads as 15, stays text).
        with warnings.catch_warnings():
            # The DtypeWarning on mixed chunks: those columns are read again.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(
                path, sep=sep, header=0, names=names, encoding="utf-8-sig",
                na_values=_EXTRA_MISSING, skipinitialspace=True,
                **csv_float_options(),
            )
        # The parser types the file in chunks: a column that is numeric in
        # one chunk and text in another comes back as a mix of floats and
        # strings, where "15" may read "15.0". Such columns are read again,
        # as the text they are.
        mixed = [
            name for name in frame.columns
            if frame[name].dtype == object
            and pd.api.types.infer_dtype(frame[name], skipna=True).startswith("mixed")
        ]
        if mixed:
            again = pd.read_csv(
                path, sep=sep, header=0, names=names, encoding="utf-8-sig",
                na_values=_EXTRA_MISSING, skipinitialspace=True, usecols=mixed,
                dtype=str,
            )
            for name in mixed:
                frame[name] = again[name]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # pandas' ParserError (ragged rows, ...) is a ValueError.
        raise UsageError(f"--data: cannot read {str(path)!r}: {exc}") from None
    if frame.shape[0] == 0:
        raise UsageError(f"--data: {str(path)!r} needs a header row and data rows")
    return frame, index_column


# ------------------------------------------------------------------- typing
def _as_text(column):
    """A column of stripped Python strings, NaN where missing or empty."""
    import pandas as pd

    values = column.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        # Booleans of a column with missing values, or mixed cells.
        present = values.notna()
        values[present] = values[present].map(str)
    values = values.str.strip()
    return values.where(values.ne("") & values.notna(), np.nan)


def _boolean(text):
    """1/0 for a two-valued yes/no or true/false column, else None."""
    # Decided on the distinct values: a large column is hashed once, not
    # lower-cased cell by cell.
    distinct = text.dropna().unique()
    lowered = {value.lower() for value in distinct}
    for false, true in _BOOLEAN_PAIRS:
        if lowered and lowered <= {false, true}:
            codes = {value: float(value.lower() == true) for value in distinct}
            return text.map(codes).astype(np.float64), f"{false}/{true}"
    return None


def _date(text):
    """Days since 1970-01-01 for an ISO 8601 date column, else None."""
    import pandas as pd

    distinct = text.dropna().unique()
    # all() stops at the first value that is not a date: cheap for text.
    if not distinct.size or not all(_ISO_DATE.fullmatch(v) for v in distinct):
        return None
    try:
        stamps = pd.to_datetime(text, utc=True, format="ISO8601")
    except (TypeError, ValueError):
        try:  # pandas < 2 has no format="ISO8601"; it infers ISO dates.
            stamps = pd.to_datetime(text, utc=True)
        except (TypeError, ValueError):
            return None
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    return ((stamps - epoch) / pd.Timedelta(days=1)).astype(np.float64)


def _type_columns(frame, target):
    """Numbers stay numbers; booleans and dates become numbers; the rest text.

    Returns the converted frame, the numeric and categorical column names,
    and one decision line per kind of conversion.
    """
    import pandas as pd

    converted, numeric, categorical = {}, [], []
    booleans, dates, infinite = [], [], []
    for name in frame.columns:
        if name == target:
            continue
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            converted[name] = column.astype(np.float64)
            numeric.append(name)
            booleans.append(f"{name!r} (False/True)")
        elif pd.api.types.is_numeric_dtype(column):
            values = column.astype(np.float64)
            if np.isinf(values).any():
                infinite.append(name)
            converted[name] = values
            numeric.append(name)
        else:
            text = _as_text(column)
            as_bool = _boolean(text)
            as_date = None if as_bool is not None else _date(text)
            if as_bool is not None:
                converted[name], pair = as_bool
                numeric.append(name)
                booleans.append(f"{name!r} ({pair})")
            elif as_date is not None:
                converted[name] = as_date
                numeric.append(name)
                dates.append(name)
            else:
                converted[name] = text
                categorical.append(name)
    if infinite:
        raise UsageError(
            f"features have infinite values in columns: {_names(infinite)}; "
            "replace them (an empty cell is read as missing) or --drop the columns"
        )
    decisions = []
    if booleans:
        decisions.append("booleans read as 0/1: " + ", ".join(booleans) + ".")
    if dates:
        decisions.append(
            f"ISO dates read as days since 1970-01-01: {_names(dates)}."
        )
    return pd.DataFrame(converted, index=frame.index), numeric, categorical, decisions


def _is_constant(column):
    """The same value (or missing) in every row; cheaper than nunique()."""
    first = column.iloc[0]
    if first is np.nan or (isinstance(first, float) and np.isnan(first)):
        return bool(column.isna().all())
    return bool(column.eq(first).all())


# --------------------------------------------------------------- leak guards
def _target_is_sorted(y, task):
    """Rows ordered by the target: grouped by class, or monotone."""
    if task == "classification":
        # A single class is refused later, with its own message.
        n_classes = np.unique(y).size
        return n_classes > 1 and np.count_nonzero(y[1:] != y[:-1]) == n_classes - 1
    steps = np.diff(y.astype(np.float64))
    return bool(np.ptp(y) > 0 and (np.all(steps >= 0) or np.all(steps <= 0)))


def _leaks(X, numeric, categorical, y, task):
    """Columns that identify a row or follow the row order of a sorted target.

    Returns ``{name: reason}``.
    """
    n = X.shape[0]
    found = {}
    for name in categorical:
        column = X[name]
        if column.notna().all() and column.nunique() == n:
            found[name] = "unique per row: an identifier"
    sorted_target = _target_is_sorted(y, task)
    for name in numeric:
        values = X[name].to_numpy(dtype=np.float64)
        if np.isnan(values).any():
            continue
        integer = np.all(values == np.round(values))
        steps = np.diff(values)
        monotone = bool(np.all(steps >= 0) or np.all(steps <= 0))
        # Integers unique per row that count the rows (a range of about n
        # values, shuffled or not, a few rows left out) or increase with them
        # are record numbers; distinct counts or ages in small data are not.
        if integer and np.unique(values).size == n and (
            np.ptp(values) <= 1.1 * n + 1 or (monotone and n > 2)
        ):
            found[name] = "unique per row: an identifier"
            continue
        if sorted_target and monotone and np.ptp(values) > 0:
            found[name] = "monotone in the row order, while the rows are sorted by "\
                "the target"
    return found


# -------------------------------------------------------------------- target
def _target(frame, target, task):
    """The target as labels or floats, the task, and rows with no target."""
    import pandas as pd

    column = frame[target]
    missing = np.array(column.isna(), dtype=bool)
    present = column[~missing]
    if pd.api.types.is_bool_dtype(present) or not pd.api.types.is_numeric_dtype(
        present
    ):
        values = _as_text(present)
        missing[~missing] = values.isna().to_numpy()
        numeric = None
        text = values.dropna().to_numpy(dtype=str)
    else:
        numeric = present.to_numpy(dtype=np.float64)
        text = None
        if not np.all(np.isfinite(numeric)):
            raise UsageError(f"the target column {target!r} has infinite values")
    if missing.all():
        # Every row would be left out: nothing to learn or to score.
        raise UsageError(
            f"the target column {target!r} has no values: every cell is empty or "
            "missing"
        )
    if task is None:
        integer = numeric is not None and np.all(numeric == np.round(numeric))
        if numeric is None or (
            integer and np.unique(numeric).size <= MAX_CLASSES_INFERRED
        ):
            task = "classification"
        else:
            task = "regression"
    if task == "regression":
        if numeric is None:
            raise UsageError(
                f"--task regression needs a numeric target; column {target!r} "
                f"has values such as {text[0]!r}"
            )
        y = numeric
    elif numeric is not None and np.all(numeric == np.round(numeric)):
        y = numeric.astype(np.int64)
    elif numeric is not None:
        y = numeric.astype(str)
    else:
        y = text
    return y, task, missing


# ----------------------------------------------------------------------- csv
def load_csv(path, target, task, sep=None, drop=()):
    """Read ``path`` and decide what each column is; see the module docstring."""
    if not path.is_file():
        raise UsageError(f"--data: no such file: {str(path)!r}")
    sep, header = _sniff(path, sep)
    if target not in header:
        raise UsageError(
            f"--target: no column {target!r} in {path.name}; the columns are: "
            + ", ".join(header)
        )
    unknown = [name for name in drop if name not in header]
    if unknown:
        raise UsageError(
            f"--drop: no column {_names(unknown)} in {path.name}; the columns are: "
            + ", ".join(header)
        )
    if target in drop:
        raise UsageError(f"--drop: {target!r} is the --target")
    frame, index_column = _read(path, sep, header)
    shown = {"\t": "tab"}.get(sep, repr(sep))
    decisions = [f"{path.name} read with delimiter {shown} ({frame.shape[0]} rows)."]
    warned = []
    if index_column:
        frame = frame.drop(columns="(index)")
        warned.append("dropped the unnamed first column: a row index.")
    if drop:
        frame = frame.drop(columns=list(drop))
        decisions.append(f"dropped as asked (--drop): {_names(drop)}.")

    y, task, no_target = _target(frame, target, task)
    if no_target.any():
        frame = frame.loc[~no_target]
        decisions.append(
            f"{int(no_target.sum())} rows without a target value left out."
        )
    X, numeric, categorical, typed = _type_columns(frame, target)
    decisions += typed

    constant = [name for name in X.columns if _is_constant(X[name])]
    leaks = _leaks(X, numeric, categorical, y, task)
    for name, reason in leaks.items():
        warned.append(f"dropped {name!r}: {reason}; it would leak the answer.")
    if constant:
        decisions.append(f"dropped, the same in every row: {_names(constant)}.")
    gone = set(leaks) | set(constant)
    numeric = [name for name in numeric if name not in gone]
    categorical = [name for name in categorical if name not in gone]
    if not numeric and not categorical:
        reasons = " ".join(warned[-len(leaks):] if leaks else [])
        if constant:
            reasons += f" Dropped, the same in every row: {_names(constant)}."
        raise UsageError(
            f"--data: {path.name} has no usable feature columns besides "
            f"{target!r}. " + reasons.strip()
        )
    X = X[numeric + categorical].reset_index(drop=True)
    return Dataset(
        X, y, task, path.name, numeric, categorical, decisions=decisions,
        warnings=warned,
    )


def check_classes(y, n_splits):
    """The sorted classes; every one needs a sample in each stratified fold."""
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise UsageError(
            f"the target has a single class ({classes[0].item()!r}); "
            "classification needs at least two"
        )
    rare = [f"{c.item()!r} ({n})" for c, n in zip(classes, counts, strict=True)
            if n < n_splits]
    if rare:
        raise UsageError(
            f"every class needs at least --cv {n_splits} samples for stratified "
            "folds; too few: " + ", ".join(rare) + ". Lower --cv or drop those classes."
        )
    return classes
