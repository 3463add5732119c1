"""The verdict of ``skdiv compare``: ranks and paired differences to the best.

The standard errors and p-values are checked against the corrected
resampled t-test (Nadeau and Bengio, 2003) written out here from the
per-fold scores, and the folds against scikit-learn's repeated splitters.
"""

import csv
import io
import json

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdiv._cli import main
from skdiv._cli._verdict import corrected_ttest


def test_corrected_ttest_by_hand():
    d = np.array([0.012, -0.004, 0.020, 0.007, 0.001, 0.015])
    mean, se, p = corrected_ttest(d, n_train=80.0, n_test=20.0)
    s2 = np.sum((d - d.mean()) ** 2) / (len(d) - 1)
    se_hand = np.sqrt((1 / 6 + 20 / 80) * s2)
    t = d.mean() / se_hand
    assert mean == pytest.approx(d.mean(), rel=1e-15)
    assert se == pytest.approx(se_hand, rel=1e-14)
    assert p == pytest.approx(2 * stats.t.sf(abs(t), df=5), rel=1e-12)
    # The naive standard error, s / sqrt(J), is smaller: the correction matters.
    assert se > np.sqrt(s2 / 6) * 1.5
    # No spread: a certain difference, or none.
    assert corrected_ttest(np.full(4, 0.1), 8.0, 2.0)[1:] == (0.0, 0.0)
    assert corrected_ttest(np.zeros(4), 8.0, 2.0)[1:] == (0.0, 1.0)


@pytest.fixture
def clf_csv(tmp_path):
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3,
                               n_redundant=0, n_classes=3, random_state=1)
    path = tmp_path / "clf.csv"
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([f"x{j}" for j in range(5)] + ["label"])
        writer.writerows([*x, t] for x, t in zip(X, y, strict=True))
    return path, X, y


def test_verdict_equals_hand_computation_with_repeats(clf_csv, capsys):
    path, X, y = clf_csv
    argv = ["compare", "--data", str(path), "--target", "label", "--cv", "3",
            "--repeats", "2"]
    assert main(argv + ["--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_folds"] == 6 and report["repeats"] == 2

    # The folds are RepeatedStratifiedKFold's.
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    expected = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), X, y,
        cv=cv, scoring="accuracy",
    )
    rows = {r["label"]: r for r in report["results"]}
    np.testing.assert_allclose(
        rows["LogisticRegression"]["scores"]["accuracy"]["folds"], expected,
        rtol=1e-12,
    )

    sizes = [(len(train), len(test)) for train, test in cv.split(X, y)]
    n_train = np.mean([a for a, _ in sizes])
    n_test = np.mean([b for _, b in sizes])
    for name in report["scoring"]:
        means = {label: r["scores"][name]["mean"] for label, r in rows.items()}
        order = sorted(means, key=lambda label: -means[label])
        best = np.array(rows[order[0]]["scores"][name]["folds"])
        assert rows[order[0]]["verdict"][name]["status"] == "best"
        for rank, label in enumerate(order, start=1):
            entry = rows[label]["verdict"][name]
            assert entry["rank"] == rank
            if rank == 1:
                continue
            d = np.array(rows[label]["scores"][name]["folds"]) - best
            se = np.sqrt((1 / 6 + n_test / n_train) * d.var(ddof=1))
            assert entry["diff_to_best"] == pytest.approx(d.mean(), abs=1e-15)
            assert entry["folds_ahead_of_best"] == np.count_nonzero(d > 0)
            assert entry["se"] == pytest.approx(se, rel=1e-12)
            if se > 0:
                p = 2 * stats.t.sf(abs(d.mean()) / se, df=5)
                assert entry["p_value"] == pytest.approx(p, rel=1e-10)
            if entry["status"] not in ("tied",):
                assert entry["status"] == ("within noise" if entry["p_value"] >= 0.05
                                           else "worse")
    # The summary line names the best and those within noise of it.
    best_ce = max(rows, key=lambda label: rows[label]["scores"]["neg_cross_entropy"]
                  ["mean"])
    assert report["verdict"][0].startswith(f"best by neg_cross_entropy: {best_ce}")

    # The table shows the same verdict, within 100 columns.
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= 100
    assert report["verdict"][0][:60] in out.replace("\n  ", " ")
    assert "versus the best: paired difference +/- corrected standard error" in out

    assert main(argv + ["--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    line = next(r for r in lines if r["label"] == order[-1]
                and r["score"] == report["scoring"][-1])
    assert [k for k in line if k.startswith("fold_")] == [f"fold_{k}" for k in
                                                          range(1, 7)]


def test_same_model_twice_is_a_tie():
    from skdiv._cli._verdict import verdict

    def row(label, folds):
        folds = list(folds)
        return {"label": label, "scores": {"s": {
            "mean": float(np.mean(folds)), "std": float(np.std(folds)),
            "folds": folds}}}

    best = np.array([-0.11, -0.09, -0.10, -0.12])
    # Two fits of one model differ by solver tolerance: a t-test of those
    # differences would call them significant.
    rows = [row("a", best), row("b", best - 1e-10 * np.array([1, 2, 3, 4])),
            row("c", best - [0.02, 0.01, 0.03, 0.02]),
            row("d", best - [0.001, -0.002, 0.002, 0.0])]
    summary = verdict(["s"], rows, n_train=30.0, n_test=10.0)
    status = {r["label"]: r["verdict"]["s"]["status"] for r in rows}
    assert status == {"a": "best", "b": "tied", "c": "worse", "d": "within noise"}
    assert [r["verdict"]["s"]["rank"] for r in rows] == [1, 2, 4, 3]
    assert summary == ["best by s: a; b, d are within noise of it; c is worse."]


def _exact_moments(values):
    """Mean and std (ddof=0) in exact rational arithmetic, then rounded once.

    The variance of ~1e200 scores is ~1e400, beyond float64: it is brought
    back to float after dividing by 1e400, exactly.
    """
    from fractions import Fraction

    exact = [Fraction(v) for v in values]
    mean = sum(exact) / len(exact)
    variance = sum((v - mean) ** 2 for v in exact) / len(exact)
    unit = Fraction(10) ** 200
    return float(mean), float(np.sqrt(float(variance / unit**2))) * 1e200


def test_huge_regression_target_is_reported_not_crashed(tmp_path, capsys):
    # A target of scale 1e200: the models fit, the CRPS and interval width of
    # each fold are ~1e199-1e200 (their std squares them), and the RMSE of
    # every fold overflows to -inf, a score, not a failure.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=60)) * 1e200
    path = tmp_path / "huge.csv"
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["x0", "x1", "y"])
        writer.writerows([*x, repr(float(t))] for x, t in zip(X, y, strict=True))
    argv = ["compare", "--data", str(path), "--target", "y", "--cv", "2",
            "--quiet"]

    assert main(argv + ["--format", "json"]) == 0
    text = capsys.readouterr().out

    def refuse(constant):
        raise AssertionError(f"not valid JSON: {constant}")

    report = json.loads(text, parse_constant=refuse)
    rows = {r["label"]: r for r in report["results"]}
    gaussian = rows["Gaussian NLL hetero"]
    for name in ["neg_gaussian_crps", "neg_interval_width"]:
        stats_ = gaussian["scores"][name]
        assert stats_["failed_folds"] == []
        mean, std = _exact_moments(stats_["folds"])
        assert abs(mean) > 1e198 and std > 1e197
        assert stats_["mean"] == pytest.approx(mean, rel=1e-15)
        assert stats_["std"] == pytest.approx(std, rel=1e-14)
    # The paired difference's standard error, by hand (2 folds: J = 2 and
    # n_test / n_train = 1), in exact arithmetic too.
    name = "neg_gaussian_crps"
    best = next(r for r in rows.values() if r["verdict"][name] is not None
                and r["verdict"][name]["status"] == "best")
    other = next(r for r in rows.values() if r["verdict"][name] is not None
                 and r["verdict"][name]["rank"] == 2)
    d = np.subtract(other["scores"][name]["folds"], best["scores"][name]["folds"])
    d_mean, d_std = _exact_moments(d)
    se = np.sqrt(1 / 2 + 1) * d_std * np.sqrt(2 / 1)  # ddof=1 from ddof=0
    entry = other["verdict"][name]
    assert entry["diff_to_best"] == pytest.approx(d_mean, rel=1e-15)
    assert entry["se"] == pytest.approx(se, rel=1e-14)
    assert entry["p_value"] == pytest.approx(
        2 * stats.t.sf(abs(d_mean) / se, df=1), rel=1e-12
    )

    # -inf RMSE folds: null in JSON, but no failed fold, and not ranked.
    rmse = gaussian["scores"]["neg_root_mean_squared_error"]
    assert rmse == {"mean": None, "std": None, "folds": [None, None],
                    "failed_folds": []}
    assert gaussian["verdict"]["neg_root_mean_squared_error"] is None
    assert any(line.startswith("neg_root_mean_squared_error: ")
               and line.endswith("not ranked: the score is not a finite number.")
               for line in report["verdict"])
    # BayesianRidge predicts an infinite std: its std-based scores did fail.
    failed = rows["BayesianRidge"]["scores"]["neg_gaussian_crps"]
    assert failed["failed_folds"] == [1, 2] and failed["mean"] is None

    try:  # the figure leaves the infinite folds out, as the failed ones
        import matplotlib  # noqa: F401

        plot = ["--plot", str(tmp_path / "huge.png")]
    except ImportError:
        plot = []
    assert main(argv + plot) == 0
    assert not plot or (tmp_path / "huge.png").stat().st_size > 0
    out = capsys.readouterr().out
    line = next(
        row for row in out.splitlines() if row.startswith("Gaussian NLL hetero")
    )
    assert "-inf +/- n/a" in line and "failed" not in line
    assert f"{gaussian['scores'][name]['mean']:.2e}" in line
    assert line.split()[-1] != "failed"  # the fit time
    assert "BayesianRidge" in out and "Traceback" not in out

    assert main(argv + ["--format", "csv"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    cells = next(r for r in lines if r["label"] == "Gaussian NLL hetero"
                 and r["score"] == "neg_root_mean_squared_error")
    assert (cells["mean"], cells["fold_1"], cells["fold_2"]) == ("-inf",) * 3
    cells = next(r for r in lines if r["label"] == "BayesianRidge"
                 and r["score"] == "neg_gaussian_crps")
    assert (cells["mean"], cells["fold_1"]) == ("", "")


def test_fold_statistics_near_the_largest_float():
    from skdiv._cli._verdict import _stats

    # Squares, and the power of two above 1.7e308 (2^1024), overflow.
    values = np.array([1.7e308, 1.6e308, -1.0e308])
    got = _stats(values)
    mean, std = _exact_moments(values)
    assert got["mean"] == pytest.approx(mean, rel=1e-15)
    assert got["std"] == pytest.approx(std, rel=1e-14)
    d = values - 2e307
    mean_d, std_d = _exact_moments(d)
    _, se, p = corrected_ttest(d, n_train=8.0, n_test=4.0)
    se_hand = np.sqrt(1 / 3 + 4 / 8) * std_d * np.sqrt(3 / 2)
    assert se == pytest.approx(se_hand, rel=1e-14)
    assert p == pytest.approx(2 * stats.t.sf(abs(mean_d) / se_hand, df=2), rel=1e-12)
    # Ordinary scores: exactly numpy's mean and std, and failures marked.
    folds = np.array([-0.31, -0.27, -0.35, -0.3])
    assert (_stats(folds)["mean"], _stats(folds)["std"]) == (
        float(np.mean(folds)), float(np.std(folds))
    )
    assert _stats(np.array([-0.3, np.nan, -np.inf]))["failed_folds"] == [2]
    assert _stats(np.array([-0.3, -np.inf]))["mean"] == -np.inf
