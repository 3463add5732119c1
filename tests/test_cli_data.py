"""``skdiv compare`` on real data that no one here wrote: the Palmer penguins.

The ``palmerpenguins`` package (test extra) ships the data as CSV files (CC0):
``penguins.csv`` (text columns, missing values) and ``penguins-raw.csv``
(yes/no and ISO date columns). The files are used as shipped, or rewritten
the way users write them (with pandas' index, with an ``id`` column, with
semicolons).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdiv._cli import main

pd = pytest.importorskip("pandas")
palmerpenguins = pytest.importorskip("palmerpenguins")
DATA = Path(palmerpenguins.__file__).parent / "data"
PENGUINS = DATA / "penguins.csv"
RAW = DATA / "penguins-raw.csv"


def compare(argv, capsys):
    try:
        status = main(["compare", "--format", "json", *argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 else None), err


def rows(report):
    return {r["label"]: r for r in report["results"]}


def test_raw_penguins_species(capsys):
    status, report, err = compare(
        ["--data", str(PENGUINS), "--target", "species"], capsys
    )
    assert status == 0, err
    assert report["task"] == "classification" and report["n_classes"] == 3
    assert report["n_samples"] == 344
    assert report["columns"]["categorical"] == ["island", "sex"]
    assert "bill_length_mm" in report["columns"]["numeric"]
    for row in report["results"]:
        accuracy = row["scores"]["accuracy"]["mean"]
        # Sensible: well above the majority class (44%), and no leak (< 1).
        assert 0.95 < accuracy < 1.0, row["label"]
        assert -0.2 < row["scores"]["neg_cross_entropy"]["mean"] < 0

    # The linear rows equal scikit-learn's pipeline written out by hand,
    # fitted fold by fold on the same frame.
    frame = pd.read_csv(PENGUINS)
    X, y = frame.drop(columns="species"), frame["species"].to_numpy(dtype=str)
    X["island"] = X["island"].astype(object)
    X["sex"] = X["sex"].astype(object).where(X["sex"].notna(), np.nan)
    numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm",
               "body_mass_g", "year"]
    model = make_pipeline(
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median",
                                                    add_indicator=True),
                                      StandardScaler()), numeric),
            ("categorical", make_pipeline(
                SimpleImputer(strategy="constant", fill_value="(missing)"),
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5,
                              max_categories=50, sparse_output=False)),
             ["island", "sex"]),
        ]),
        LogisticRegression(max_iter=1000),
    )
    expected = cross_val_score(
        model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
        scoring="accuracy",
    )
    got = rows(report)["LogisticRegression"]["scores"]["accuracy"]["folds"]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_raw_penguins_body_mass(capsys):
    status, report, err = compare(
        ["--data", str(PENGUINS), "--target", "body_mass_g"], capsys
    )
    assert status == 0, err
    assert report["task"] == "regression"
    # The two penguins without a body mass are left out, and said so.
    assert report["n_samples"] == 342
    assert "2 rows without a target value left out." in report["notes"]
    std = pd.read_csv(PENGUINS)["body_mass_g"].std()
    for row in report["results"]:
        rmse = -row["scores"]["neg_root_mean_squared_error"]["mean"]
        # Sensible: species, sex and flipper length explain most of the
        # spread (std 802 g); a typo-level error would not.
        assert 200 < rmse < 0.5 * std, row["label"]
        assert -8 < row["scores"]["neg_gaussian_nll"]["mean"] < -6.5


@pytest.mark.parametrize("how", ["index", "id"])
def test_row_numbers_are_dropped_with_a_warning(how, tmp_path, capsys):
    # The rows are sorted by species (as shipped): a row number is the answer.
    frame = pd.read_csv(PENGUINS)
    path = tmp_path / f"penguins_{how}.csv"
    if how == "index":
        frame.to_csv(path)  # an unnamed leading index column
        warning = "dropped the unnamed first column: a row index."
    else:
        frame.insert(0, "id", np.arange(1, len(frame) + 1))
        frame.to_csv(path, index=False)
        warning = "dropped 'id': unique per row: an identifier"
    status, report, err = compare(
        ["--data", str(path), "--target", "species"], capsys
    )
    assert status == 0
    assert warning in err
    assert any(warning in note for note in report["notes"])
    assert report["n_features"] == 7
    for row in report["results"]:
        assert row["scores"]["accuracy"]["mean"] < 1.0


def test_monotone_column_on_sorted_target_is_dropped(tmp_path, capsys):
    frame = pd.read_csv(PENGUINS).sort_values("species", kind="stable")
    frame["measured_at"] = np.linspace(0.0, 1.0, len(frame)) ** 2  # floats
    path = tmp_path / "sorted.csv"
    frame.to_csv(path, index=False)
    status, report, err = compare(
        ["--data", str(path), "--target", "species", "--cv", "3"], capsys
    )
    assert status == 0
    assert "dropped 'measured_at': monotone in the row order" in err
    assert "measured_at" not in report["columns"]["numeric"]


def test_booleans_and_dates_are_features(capsys):
    status, report, err = compare(
        ["--data", str(RAW), "--target", "Species", "--cv", "3",
         "--drop", "Individual ID", "Comments", "Sample Number", "studyName"], capsys,
    )
    assert status == 0, err
    assert "booleans read as 0/1: 'Clutch Completion' (no/yes)." in report["notes"]
    assert "ISO dates read as days since 1970-01-01: 'Date Egg'." in report["notes"]
    numeric = report["columns"]["numeric"]
    assert "Clutch Completion" in numeric and "Date Egg" in numeric
    assert "dropped, the same in every row: 'Region', 'Stage'." in report["notes"]
    for row in report["results"]:
        assert 0.95 < row["scores"]["accuracy"]["mean"] < 1.0


def test_dates_are_days_and_booleans_are_0_1(tmp_path):
    from skdiv._cli._data import load_csv

    path = tmp_path / "typed.csv"
    path.write_text(
        "when,flag,ok,label\n"
        "2020-01-01,True,yes,a\n1970-01-03,False,no,b\n2020-01-02T12:00,,Yes,a\n"
        "1969-12-31,TRUE,NO,b\n"
    )
    data = load_csv(path, "label", None)
    np.testing.assert_array_equal(
        data.X["when"], [18262.0, 2.0, 18263.5, -1.0]
    )
    np.testing.assert_array_equal(data.X["flag"], [1.0, 0.0, np.nan, 1.0])
    np.testing.assert_array_equal(data.X["ok"], [1.0, 0.0, 1.0, 0.0])
    assert data.categorical == []


def test_python_number_syntax_that_pandas_refuses_is_text(tmp_path):
    from skdiv._cli._data import load_csv

    # float("1_5") is 15.0; as a CSV cell it is a code, not a number.
    path = tmp_path / "codes.csv"
    path.write_text("code,x,label\n" + "".join(
        f"{c},{i},{i % 2}\n" for i, c in enumerate(["1_5", "15", "2_0"] * 4)
    ))
    data = load_csv(path, "label", None)
    assert data.categorical == ["code"]
    assert sorted(set(data.X["code"])) == ["15", "1_5", "2_0"]


def test_semicolon_separated(tmp_path, capsys):
    frame = pd.read_csv(PENGUINS)
    path = tmp_path / "penguins_semicolon.csv"
    # The European convention: ';' between fields, ',' as decimal mark is
    # not used here; the delimiter alone is detected.
    frame.to_csv(path, sep=";", index=False)
    status, report, err = compare(
        ["--data", str(path), "--target", "species", "--cv", "3"], capsys
    )
    assert status == 0, err
    assert "penguins_semicolon.csv read with delimiter ';' (344 rows)." in (
        report["notes"]
    )
    assert report["n_features"] == 7
    explicit = compare(
        ["--data", str(path), "--target", "species", "--cv", "3", "--sep", ";"],
        capsys,
    )[1]
    assert explicit["results"][0]["scores"] == report["results"][0]["scores"]


def test_mixed_chunks_read_as_text(tmp_path):
    from skdiv._cli._data import load_csv

    # pandas types a large file in chunks: numbers in the first, text later.
    n = 300_000
    path = tmp_path / "big.csv"
    codes = np.where(np.arange(n) < n - 10, np.arange(n) % 7, -1).astype(object)
    codes[codes == -1] = "x"
    pd.DataFrame({"code": codes, "label": np.arange(n) % 2}).to_csv(path, index=False)
    data = load_csv(path, "label", None)
    assert data.categorical == ["code"]
    assert set(data.X["code"]) == {"0", "1", "2", "3", "4", "5", "6", "x"}


def test_identifiers_told_from_distinct_measurements(tmp_path, capsys):
    from skdiv._cli._data import load_csv

    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "shuffled_id": rng.permutation(n) + 1,  # a row number, shuffled
        "record": 1000 + 7 * np.arange(n),  # increasing record numbers
        "code": [f"P{k:04d}" for k in rng.permutation(n)],  # text, unique
        # Distinct integers that do not count the rows: a measurement.
        "age": rng.choice(np.arange(18, 98), size=n, replace=False),
        "x": rng.normal(size=n),  # unique floats: a measurement
        "label": rng.integers(0, 2, n),  # not sorted
    })
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    data = load_csv(path, "label", None)
    assert data.numeric == ["age", "x"]
    assert data.categorical == []
    assert sorted(data.warnings) == [
        f"dropped {name!r}: unique per row: an identifier; it would leak the answer."
        for name in ["code", "record", "shuffled_id"]
    ]
