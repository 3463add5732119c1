"""Tests of the ``skdiv`` command (``skdiv compare``).

Most tests call ``main`` in-process on small CSV files with two folds; two
run the installed command in a subprocess.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdiv import DivergenceClassifier, DivergenceMLPClassifier, GaussianRegressor
from skdiv._cli import main
from skdiv.metrics import get_scorer, kl_divergence

REPO_ROOT = Path(__file__).resolve().parent.parent


def run(argv, capsys):
    """``main(argv)`` -> (exit status, stdout, stderr)."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def write_csv(path, columns):
    """Write a dict of equal-length columns to ``path``."""
    names = list(columns)
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(names)
        writer.writerows(zip(*columns.values(), strict=True))
    return path


def classification_data(n_classes=3):
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=3, n_redundant=0,
        n_classes=n_classes, random_state=0,
    )
    return X, y


def write_data(path, X, y, target):
    columns = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    columns[target] = y
    return write_csv(path, columns)


def regression_data():
    X, y = make_regression(n_samples=80, n_features=3, noise=10.0, random_state=0)
    return X, y


@pytest.fixture
def clf_csv(tmp_path):
    return write_data(tmp_path / "clf.csv", *classification_data(), "label")


@pytest.fixture
def reg_csv(tmp_path):
    return write_data(tmp_path / "reg.csv", *regression_data(), "y")


def rows_by_objective(report):
    return {(r["model"], r["objective"]): r for r in report["results"]}


# --------------------------------------------------------------- defaults
def test_default_classification_table(capsys):
    status, out, err = run(["compare", "--cv", "2"], capsys)
    assert status == 0, err
    assert out.startswith("classification on load_digits: 1797 samples, 64 features, "
                          "10 classes\n2-fold stratified cross-validation")
    assert max(map(len, out.splitlines())) <= 100
    # The verdict comes before the details: one line per score.
    lines = out.splitlines()
    assert lines[3].startswith("best by neg_cross_entropy: ")
    assert any(line.startswith("best by accuracy: ") for line in lines[3:6])
    for name in ["DivergenceClassifier", "LogisticRegression",
                 "HistGradientBoostingClassifier", "cross_entropy", "kl_divergence",
                 "neg_cross_entropy", "accuracy", "fit (s)"]:
        assert name in out
    assert "Penalties are matched" in out
    assert "neg_kl_to_teacher" not in out
    assert err == ""  # stderr is not a TTY under capsys: no progress bar


def test_default_regression_matches_cross_val_score(capsys):
    status, out, _ = run(
        ["compare", "--task", "regression", "--cv", "2", "--format", "json"], capsys
    )
    assert status == 0
    report = json.loads(out)
    assert report["data"] == "load_diabetes"
    assert report["scoring"] == [
        "neg_gaussian_nll", "neg_gaussian_crps", "neg_root_mean_squared_error",
        "neg_interval_coverage_gap", "neg_interval_width",
    ]
    rows = rows_by_objective(report)
    assert len(rows) == 5

    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    cv = KFold(2, shuffle=True, random_state=0)
    expected = cross_val_score(
        make_pipeline(StandardScaler(), GaussianRegressor(variance="constant")),
        X, y, cv=cv, scoring=get_scorer("neg_gaussian_nll"),
    )
    got = rows[("GaussianRegressor", "gaussian_nll, constant")]["scores"]
    np.testing.assert_allclose(got["neg_gaussian_nll"]["folds"], expected, rtol=1e-10)
    assert got["neg_gaussian_nll"]["mean"] == pytest.approx(expected.mean())
    assert got["neg_gaussian_nll"]["std"] == pytest.approx(expected.std())

    expected = cross_val_score(
        make_pipeline(StandardScaler(), BayesianRidge()), X, y, cv=cv,
        scoring="neg_root_mean_squared_error",
    )
    got = rows[("BayesianRidge", "evidence")]["scores"]["neg_root_mean_squared_error"]
    np.testing.assert_allclose(got["folds"], expected, rtol=1e-10)

    # The 90% interval's coverage gap and width, by counting in each fold.
    gaps, widths = [], []
    for train, test in cv.split(X):
        model = make_pipeline(StandardScaler(), BayesianRidge()).fit(X[train], y[train])
        mean, std = model.predict(X[test], return_std=True)
        low, high = norm.interval(0.9, loc=mean, scale=std)
        inside = np.mean((low <= y[test]) & (y[test] <= high))
        gaps.append(-abs(inside - 0.9))
        widths.append(-np.mean(high - low))
    scores = rows[("BayesianRidge", "evidence")]["scores"]
    np.testing.assert_allclose(
        scores["neg_interval_coverage_gap"]["folds"], gaps, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        scores["neg_interval_width"]["folds"], widths, rtol=1e-10
    )


# ------------------------------------------------------ numbers are right
def test_classification_json_matches_direct_computation(clf_csv, capsys):
    status, out, _ = run(
        ["compare", "--data", str(clf_csv), "--target", "label", "--cv", "2",
         "--format", "json"], capsys,
    )
    assert status == 0
    report = json.loads(out)
    assert report["task"] == "classification"
    assert report["n_classes"] == 3
    assert report["scoring"] == [
        "neg_cross_entropy", "accuracy", "neg_expected_calibration_error",
    ]
    rows = rows_by_objective(report)
    X, y = classification_data()
    cv = StratifiedKFold(2, shuffle=True, random_state=0)

    # Top-label calibration error in 15 bins, binned by hand in each fold.
    expected_ece = []
    for train, test in cv.split(X, y):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        proba = model.fit(X[train], y[train]).predict_proba(X[test])
        confidence = proba.max(axis=1)
        correct = model.classes_[proba.argmax(axis=1)] == y[test]
        bins = np.clip(np.ceil(confidence * 15).astype(int) - 1, 0, 14)
        ece = sum(
            abs(correct[bins == b].mean() - confidence[bins == b].mean())
            * np.mean(bins == b)
            for b in np.unique(bins)
        )
        expected_ece.append(-ece)
    got = rows[("LogisticRegression", "log_loss")]["scores"]
    np.testing.assert_allclose(
        got["neg_expected_calibration_error"]["folds"], expected_ece, rtol=1e-7
    )

    for name in ["neg_cross_entropy", "accuracy"]:
        expected = cross_val_score(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
            X, y, cv=cv, scoring=get_scorer(name),
        )
        got = rows[("LogisticRegression", "log_loss")]["scores"][name]["folds"]
        np.testing.assert_allclose(got, expected, rtol=1e-8)

    # The network: one hidden layer of 64, the linear models' alpha per sample.
    scorer = get_scorer("neg_cross_entropy")
    network_scores = []
    for train, test in cv.split(X, y):
        network = make_pipeline(StandardScaler(), DivergenceMLPClassifier(
            hidden_layer_sizes=(64,), activation="tanh", solver="lbfgs",
            alpha=1.0 / len(train),
            max_iter=500, random_state=0,
        ))
        network.fit(X[train], y[train])
        network_scores.append(scorer(network, X[test], y[test]))
    got = rows[("DivergenceMLPClassifier", "cross_entropy, 64 tanh")]["scores"]
    np.testing.assert_allclose(
        got["neg_cross_entropy"]["folds"], network_scores, rtol=1e-10
    )

    expected = cross_val_score(
        HistGradientBoostingClassifier(random_state=0), X, y, cv=cv,
        scoring=get_scorer("neg_cross_entropy"),
    )
    got = rows[("HistGradientBoostingClassifier", "log_loss")]["scores"]
    np.testing.assert_allclose(got["neg_cross_entropy"]["folds"], expected, rtol=1e-7)

    # The penalty follows each training fold's size: alpha = 1 / n_train.
    scorer = get_scorer("neg_cross_entropy")
    expected = []
    for train, test in cv.split(X, y):
        model = make_pipeline(
            StandardScaler(),
            DivergenceClassifier("kl_divergence", alpha=1.0 / len(train)),
        ).fit(X[train], y[train])
        expected.append(scorer(model, X[test], y[test]))
    for objective in ["cross_entropy", "kl_divergence"]:
        got = rows[("DivergenceClassifier", objective)]["scores"]
        np.testing.assert_allclose(
            got["neg_cross_entropy"]["folds"], expected, rtol=1e-6
        )


def test_soft_labels_match_direct_computation(tmp_path, capsys):
    # Two classes: the gradient boosting teacher fits one tree per iteration.
    X, y = classification_data(n_classes=2)
    path = write_data(tmp_path / "binary.csv", X, y, "label")
    status, out, _ = run(
        ["compare", "--data", str(path), "--target", "label", "--cv", "2",
         "--soft-labels", "--format", "json"], capsys,
    )
    assert status == 0
    report = json.loads(out)
    assert report["scoring"] == [
        "neg_cross_entropy", "accuracy", "neg_expected_calibration_error",
        "neg_kl_to_teacher",
    ]
    rows = rows_by_objective(report)
    student_row = rows[("DivergenceClassifier", "cross_entropy")]
    assert student_row["targets"] == "soft (teacher)"
    assert rows[("LogisticRegression", "log_loss")]["targets"] == "hard"
    teacher_row = rows[("HistGradientBoostingClassifier (teacher)", "log_loss")]
    assert teacher_row["scores"]["neg_kl_to_teacher"] is None  # n/a

    classes = np.unique(y)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    teacher = HistGradientBoostingClassifier(random_state=0)
    expected = {"neg_cross_entropy": [], "accuracy": [], "neg_kl_to_teacher": []}
    teacher_accuracy = []
    for train, test in cv.split(X, y):
        soft = cross_val_predict(clone(teacher), X[train], y[train], cv=cv,
                                 method="predict_proba")
        fitted = clone(teacher).fit(X[train], y[train])
        teacher_proba = fitted.predict_proba(X[test])
        teacher_accuracy.append(fitted.score(X[test], y[test]))
        student = make_pipeline(
            StandardScaler(),
            DivergenceClassifier(alpha=1.0 / len(train), classes=classes),
        ).fit(X[train], soft)
        for name in ["neg_cross_entropy", "accuracy"]:
            expected[name].append(get_scorer(name)(student, X[test], y[test]))
        expected["neg_kl_to_teacher"].append(
            -kl_divergence(teacher_proba, student.predict_proba(X[test]))
        )
    got = student_row["scores"]
    for name, values in expected.items():
        np.testing.assert_allclose(got[name]["folds"], values, rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(
        teacher_row["scores"]["accuracy"]["folds"], teacher_accuracy
    )


# ------------------------------------------------------------------ options
def test_csv_format_agrees_with_json(reg_csv, capsys):
    argv = ["compare", "--data", str(reg_csv), "--target", "y", "--cv", "2"]
    _, out_json, _ = run(argv + ["--format", "json"], capsys)
    status, out_csv, _ = run(argv + ["--format", "csv"], capsys)
    assert status == 0
    report = json.loads(out_json)
    assert report["task"] == "regression"  # a float target
    table = list(csv.DictReader(io.StringIO(out_csv)))
    # One line per model and score (and fit time), with the per-fold values.
    names = report["scoring"] + ["fit_time"]
    assert len(table) == len(report["results"]) * len(names)
    lines = iter(table)
    for row in report["results"]:
        for name in names:
            line = next(lines)
            assert (line["model"], line["objective"], line["score"]) == (
                row["model"], row["objective"], name)
            assert line["targets"] == ""
            if name == "fit_time":  # of another run: not the same
                assert line["rank"] == "" and float(line["mean"]) > 0
                continue
            stats = row["scores"][name]
            assert float(line["mean"]) == stats["mean"]
            assert float(line["std"]) == stats["std"]
            assert [float(line[f"fold_{k}"]) for k in (1, 2)] == stats["folds"]
            entry = row["verdict"][name]
            assert int(line["rank"]) == entry["rank"]
            assert line["verdict"] == entry["status"]
            assert float(line["diff_to_best"]) == entry["diff_to_best"]


def test_scoring_repeatable_and_mixed(clf_csv, capsys):
    status, out, _ = run(
        ["compare", "--data", str(clf_csv), "--target", "label", "--cv", "2",
         "--scoring", "f1_macro", "--scoring", "neg_kl_divergence",
         "--scoring", "f1_macro", "--format", "json"], capsys,
    )
    assert status == 0
    report = json.loads(out)
    assert report["scoring"] == ["f1_macro", "neg_kl_divergence"]
    row = report["results"][0]
    assert 0 < row["scores"]["f1_macro"]["mean"] <= 1
    assert row["scores"]["neg_kl_divergence"]["mean"] < 0


@pytest.mark.parametrize("argv, message", [
    # roc_auc is for two classes; the data have three.
    (["--data", "{clf}", "--target", "label", "--scoring", "roc_auc"],
     "--scoring roc_auc does not fit this target (3 classes; roc_auc is for two): "
     "use roc_auc_ovr instead"),
    (["--data", "{clf}", "--target", "label", "--scoring", "f1"], "use f1_macro"),
    (["--task", "regression", "--scoring", "accuracy"],
     "--scoring accuracy is a classification score, but the task is regression"),
    (["--scoring", "r2"], "--scoring r2 is a regression score, but the task is "
     "classification"),
    (["--task", "regression", "--scoring", "neg_cross_entropy"],
     "neg_cross_entropy is a classification score"),
    (["--data", "{negative}", "--target", "y", "--scoring",
      "neg_mean_squared_log_error"],
     "--scoring neg_mean_squared_log_error does not fit this target"),
    (["--scoring", "neg_kl_divergense"],
     "unknown scorer 'neg_kl_divergense'; did you mean 'neg_kl_divergence'?"),
    (["--plot", "{tmp}/no/such/dir/scores.png"], "no such directory"),
    (["--plot", "."], "give a file name with a suffix"),
    (["--plot", "{tmp}/scores"], "give a file name with a suffix"),
    (["--plot", "{tmp}/scores.xyz"], "unknown image format 'xyz'"),
    (["--random-state", "-1"], "--random-state: must be at least 0, got -1"),
    (["--random-state", str(2**32)], "--random-state: must be below 2**32"),
    (["--repeats", "0"], "--repeats: must be at least 1"),
], ids=["roc_auc-multiclass", "f1-multiclass", "accuracy-regression", "r2-classes",
        "proba-regression", "msle-negative", "misspelt", "plot-dir", "plot-dot",
        "plot-no-suffix", "plot-format", "seed-negative", "seed-large", "repeats"])
def test_refused_before_any_fit(argv, message, clf_csv, tmp_path, capsys,
                                monkeypatch):
    import skdiv._cli._run

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted before the refusal")

    monkeypatch.setattr(skdiv._cli._run, "run", no_fit)
    negative = write_data(tmp_path / "negative.csv", *regression_data(), "y")
    paths = {"clf": clf_csv, "tmp": tmp_path, "negative": negative}
    pytest.importorskip("matplotlib")
    status, out, err = run(["compare"] + [a.format(**paths) for a in argv], capsys)
    assert status == 2, err
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / ".png").exists()


def test_random_state_and_n_jobs(reg_csv, capsys):
    def folds(*extra):
        status, out, _ = run(
            ["compare", "--data", str(reg_csv), "--target", "y", "--cv", "2",
             "--format", "json", *extra], capsys,
        )
        assert status == 0
        return [r["scores"]["neg_gaussian_nll"]["folds"]
                for r in json.loads(out)["results"]]

    seed0 = folds("--random-state", "0")
    assert folds() == seed0  # 0 is the default
    assert folds("--random-state", "1") != seed0
    np.testing.assert_allclose(folds("--n-jobs", "2"), seed0, rtol=1e-12)


@pytest.mark.parametrize("argv, message", [
    (["--cv", "1"], "--cv: must be at least 2"),
    (["--n-jobs", "0"], "--n-jobs: must not be 0"),
    (["--format", "xml"], "--format: invalid choice"),
])
def test_bad_option_values(argv, message, capsys):
    status, _, err = run(["compare", *argv], capsys)
    assert status == 2
    assert message in err


def test_task_inference_and_override(tmp_path, capsys):
    X, _ = regression_data()
    rng = np.random.default_rng(0)
    base = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    integer = write_csv(tmp_path / "int.csv", {**base, "t": rng.integers(0, 3, 80)})
    text = write_csv(
        tmp_path / "text.csv", {**base, "t": rng.choice(["cat", "dog"], 80)}
    )
    counts = write_csv(tmp_path / "counts.csv", {**base, "t": np.arange(80)})

    def task(path, *extra):
        status, out, err = run(
            ["compare", "--data", str(path), "--target", "t", "--cv", "2",
             "--format", "json", "--scoring", "r2" if "regression" in extra
             or path == counts else "accuracy", *extra], capsys,
        )
        assert status == 0, err
        return json.loads(out)["task"]

    assert task(integer) == "classification"
    assert task(text) == "classification"
    assert task(counts) == "regression"  # integers, but 80 distinct values
    assert task(integer, "--task", "regression") == "regression"


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_plot(task, clf_csv, reg_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data, target = (clf_csv, "label") if task == "classification" else (reg_csv, "y")
    path = tmp_path / "scores.svg"
    status, _, err = run(
        ["compare", "--data", str(data), "--target", target, "--cv", "2",
         "--plot", str(path)], capsys,
    )
    assert status == 0
    assert f"wrote {path}" in err
    svg = path.read_text()  # the path as given: an SVG, no suffix added
    # One panel per score and the calibration panel: a reliability diagram
    # for classes, a PIT histogram for regression.
    title = "reliability" if task == "classification" else "probability integral"
    assert title in svg
    assert "each grey line is one fold" in svg
    assert not (tmp_path / "scores.svg.png").exists()


def test_plot_without_matplotlib(reg_csv, tmp_path, capsys, monkeypatch):
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    status, out, err = run(
        ["compare", "--data", str(reg_csv), "--target", "y", "--cv", "2",
         "--plot", str(tmp_path / "scores.png")], capsys,
    )
    assert status == 1
    assert out == ""  # it fails before fitting anything
    assert 'pip install "skdiv[examples]"' in err
    assert "Traceback" not in err


def test_progress_bar_on_a_tty_unless_quiet(reg_csv, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    argv = ["compare", "--data", str(reg_csv), "--target", "y", "--cv", "2"]
    for extra, shown in [([], True), (["--quiet"], False)]:
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(argv + extra) == 0
        assert ("fitting" in terminal.getvalue()) is shown
    capsys.readouterr()


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--data", "{tmp}/nope.csv", "--target", "y"], "no such file"),
        (["--data", "{reg}", "--target", "price"],
         "no column 'price' in reg.csv; the columns are: x0, x1, x2, y"),
        (["--data", "{reg}"], "--data and --target go together"),
        (["--scoring", "neg_kl_divergense"], "unknown scorer 'neg_kl_divergense'"),
        (["--task", "regression", "--soft-labels"], "--soft-labels is for "
         "classification"),
        (["--data", "{reg}", "--target", "y", "--soft-labels"],
         "looks continuous"),
        (["--data", "{dup}", "--target", "y"],
         "duplicate column names: 'a'; rename them"),
        (["--data", "{inf}", "--target", "y"],
         "infinite values in columns: 'x1'"),
        (["--data", "{reg}", "--target", "y", "--drop", "nope"],
         "--drop: no column 'nope' in reg.csv"),
        (["--drop", "x0"], "--sep and --drop are for --data"),
        (["--data", "{ids}", "--target", "y"],
         "no usable feature columns besides 'y'. dropped 'id': unique per row: an "
         "identifier"),
        (["--data", "{one}", "--target", "y"], "single class"),
        (["--data", "{rare}", "--target", "y", "--cv", "3"],
         "too few: 2 (2)"),
        (["--data", "{empty}", "--target", "y"],
         "the target column 'y' has no values: every cell is empty or missing"),
        (["--data", "{empty}", "--target", "y", "--task", "regression"],
         "the target column 'y' has no values"),
    ],
    ids=["missing-file", "missing-column", "data-without-target", "unknown-scorer",
         "soft-regression", "soft-continuous", "duplicate-names", "infinite",
         "drop-unknown", "drop-without-data", "only-an-id", "one-class",
         "rare-class", "empty-target", "empty-target-regression"],
)
def test_errors(argv, message, reg_csv, tmp_path, capsys):
    base = {"x0": [0.1 * i for i in range(12)], "x1": [float(i % 5) for i in range(12)]}
    paths = {
        "tmp": tmp_path,
        "reg": reg_csv,
        "inf": write_csv(tmp_path / "inf.csv",
                         {**base, "x1": ["1", "inf"] * 6, "y": [0, 1] * 6}),
        "one": write_csv(tmp_path / "one.csv", {**base, "y": [1] * 12}),
        "dup": tmp_path / "dup.csv",
        "ids": write_csv(tmp_path / "ids.csv",
                         {"id": list(range(12)), "y": [0, 1] * 6}),
        "rare": write_csv(tmp_path / "rare.csv", {**base, "y": [0, 1] * 5 + [2, 2]}),
        # Every row has a missing target ("" and "?" are read as missing).
        "empty": write_csv(tmp_path / "empty.csv", {**base, "y": ["", "?"] * 6}),
    }
    (tmp_path / "dup.csv").write_text(
        "a,a,c,y\n" + "".join(f"{i},{i % 3},{i % 2},{i % 2}\n" for i in range(12))
    )
    argv = ["compare"] + [a.format(**paths) for a in argv]
    status, out, err = run(argv, capsys)
    assert status == 2
    assert out == ""
    assert message in err
    assert err.startswith("usage: skdiv compare")
    assert "Traceback" not in err
    # One line of error, after the usage.
    assert err.splitlines()[-1].startswith("skdiv compare: error: ")
    assert message in err.splitlines()[-1]


def test_unknown_scorer_lists_valid_names(capsys):
    _, _, err = run(["compare", "--scoring", "nope"], capsys)
    for name in ["neg_cross_entropy", "neg_kl_divergence", "neg_gaussian_nll",
                 "neg_gaussian_crps", "accuracy", "neg_log_loss"]:
        assert name in err


# ---------------------------------------------------------------- the command
def test_python_m_skdiv_help():
    proc = subprocess.run(
        [sys.executable, "-m", "skdiv", "compare", "--help"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: skdiv compare")
    help_text = " ".join(proc.stdout.split())
    assert "The penalties are matched" in help_text
    assert "alpha = 1 / (C * n_train)" in help_text
    for option in ["--task", "--soft-labels", "--data", "--target", "--cv",
                   "--scoring", "--n-jobs", "--random-state", "--format",
                   "--plot", "--quiet"]:
        assert option in proc.stdout


def test_console_script(reg_csv):
    script = shutil.which("skdiv", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    ))
    if script is None:
        pytest.skip("the skdiv console script is not installed")
    proc = subprocess.run(
        [script, "compare", "--data", str(reg_csv), "--target", "y", "--cv", "2",
         "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["task"] == "regression"
    assert proc.stderr == ""  # not a TTY: no progress bar


def test_failing_scorer_is_reported_and_others_still_run(tmp_path, capsys):
    # Positive targets (so the scorer passes its check), but the
    # heteroscedastic fit predicts values <= -1 on held-out rows, where the
    # log error is undefined: that row fails, the others are scored.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    path = write_data(tmp_path / "msle.csv", X, np.abs(3 * X[:, 0]) + 0.01, "y")
    argv = ["compare", "--data", str(path), "--target", "y", "--cv", "2",
            "--scoring", "neg_mean_squared_log_error"]
    status, out, err = run(argv, capsys)
    assert status == 0
    assert "Gaussian NLL hetero                failed" in out
    assert ("GaussianRegressor (gaussian_nll, heteroscedastic), folds 1, 2: failed: "
            "neg_mean_squared_log_error: ValueError") in err
    status, out, _ = run(argv + ["--format", "json", "--quiet"], capsys)
    rows = rows_by_objective(json.loads(out))
    failed = rows[("GaussianRegressor", "gaussian_nll, heteroscedastic")]
    assert failed["scores"]["neg_mean_squared_log_error"]["folds"] == [None, None]
    assert failed["verdict"]["neg_mean_squared_log_error"] is None
    scored = rows[("BayesianRidge", "evidence")]["scores"]["neg_mean_squared_log_error"]
    assert -1 < scored["mean"] < 0


def test_many_classes_are_announced_before_fitting(tmp_path, capsys, monkeypatch):
    import skdiv._cli._run

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    # 60 string classes of 2 samples each: a long run, said before it starts.
    monkeypatch.setattr(skdiv._cli._run, "run", stop)
    rng = np.random.default_rng(0)
    labels = np.repeat([f"class_{k:02d}" for k in range(60)], 2)
    path = write_csv(tmp_path / "many.csv", {"x": rng.normal(size=120), "y": labels})
    with pytest.raises(Stop):
        main(["compare", "--data", str(path), "--target", "y", "--cv", "2"])
    err = capsys.readouterr().err
    assert "skdiv compare: 60 classes: each fit learns 60 sets of coefficients" in err
    with pytest.raises(Stop):
        main(["compare", "--data", str(path), "--target", "y", "--cv", "2", "--quiet"])
    assert capsys.readouterr().err == ""


def test_exit_status_is_1_when_every_score_of_the_run_fails(tmp_path, capsys):
    # The Poisson deviance needs strictly positive predictions: the constant
    # model of the check before fitting has them, every linear model predicts
    # a negative mean for the lowest rows of exp(3 x) in every fold (and the
    # network, smooth but penalised, does too).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    path = write_data(tmp_path / "positive.csv", X, np.exp(3 * X[:, 0]), "y")
    status, out, err = run(
        ["compare", "--data", str(path), "--target", "y", "--cv", "3",
         "--scoring", "neg_mean_poisson_deviance", "--format", "json"], capsys,
    )
    assert status == 1
    assert "every score of every model failed" in err
    report = json.loads(out)
    for row in report["results"]:
        assert row["scores"]["neg_mean_poisson_deviance"]["mean"] is None
