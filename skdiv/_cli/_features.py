"""Preprocessing for ``skdiv compare``, fitted inside each training fold.

The linear models get numbers: numeric columns imputed by their median (with
an indicator of where a value was missing) and standardised, categories
one-hot encoded. The gradient boosting takes the numeric columns as they are
(it handles missing values itself) and the categories as its native
categorical features. Every step is a transformer in the candidate's
pipeline, so medians, scales and category lists are learnt from the training
fold only.
"""

import numpy as np

# A category seen fewer times than this in a training fold is grouped with
# the other rare ones; at most this many columns per categorical feature.
MIN_FREQUENCY = 5
MAX_CATEGORIES = 50
# HistGradientBoosting's categorical features take at most max_bins - 1 = 254
# values besides missing.
_MAX_NATIVE_CATEGORIES = 254


def linear_features(data):
    """The transformer in front of a linear model: numbers, scaled."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if not hasattr(data.X, "columns"):
        # The built-in sets: complete, numeric arrays.
        return StandardScaler()
    numeric = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
    )
    parts = [("numeric", numeric, data.numeric)]
    if data.categorical:
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="(missing)"),
            OneHotEncoder(
                handle_unknown="infrequent_if_exist", min_frequency=MIN_FREQUENCY,
                max_categories=MAX_CATEGORIES, sparse_output=False,
            ),
        )
        parts.append(("categorical", categorical, data.categorical))
    return ColumnTransformer(parts)


def boosting_features(data):
    """The transformer in front of the gradient boosting, or None if none needed.

    Returns ``(transformer, categorical_features)``: categories come first in
    its output, as codes with NaN for missing and unseen values.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    if not data.categorical:
        return None, None
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan,
        encoded_missing_value=np.nan, min_frequency=MIN_FREQUENCY,
        max_categories=_MAX_NATIVE_CATEGORIES,
    )
    transformer = ColumnTransformer(
        [("categorical", encoder, data.categorical),
         ("numeric", "passthrough", data.numeric)],
    )
    return transformer, list(range(len(data.categorical)))


def describe(data):
    """One line per preprocessing decision, naming the columns."""
    def names(columns, limit=6):
        shown = ", ".join(map(str, columns[:limit]))
        more = len(columns) > limit
        return shown + (f", ... ({len(columns)} in all)" if more else "")

    if not hasattr(data.X, "columns"):
        if data.task == "regression":
            return ["The models are fitted after a StandardScaler."]
        return ["Linear models are fitted after a StandardScaler; the gradient "
                "boosting on raw features."]
    lines = []
    if data.numeric:
        missing = [c for c in data.numeric if data.X[c].isna().any()]
        line = (f"numeric features ({len(data.numeric)}): {names(data.numeric)}; "
                "standardised for the linear models")
        if missing:
            line += (f"; missing values in {names(missing)} imputed by the "
                     "training fold's median, with an indicator column")
        lines.append(line + ".")
    if data.categorical:
        lines.append(
            f"categorical features ({len(data.categorical)}): "
            f"{names(data.categorical)}; one-hot encoded for the linear models "
            f"(missing is a category; categories seen fewer than {MIN_FREQUENCY} "
            "times in the training fold grouped, unseen ones ignored), native "
            "categories for the gradient boosting."
        )
    lines.append("All preprocessing is fitted on each training fold, never on the "
                 "held-out one.")
    return lines
