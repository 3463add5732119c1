"""Run every gallery example headless and check the claims it prints.

Each example runs in-process with ``runpy`` from a temporary working
directory, with the Agg backend and ``plt.show`` replaced by a function that
saves every open figure to a PNG. The test then checks that the example
finished, that it drew its figures, and at least one numeric claim of its
text, read from the example's namespace.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# A blank 640x480 figure saves to about 2 kB; anything drawn is far larger.
MIN_PNG_BYTES = 10_000


def run_example(name, tmp_path, monkeypatch):
    """Run ``examples/<name>``; return its namespace and the PNGs it drew."""
    saved = []

    def show(*args, **kwargs):
        for number in plt.get_fignums():
            path = tmp_path / f"{Path(name).stem}_{len(saved) + 1}.png"
            plt.figure(number).savefig(path)
            saved.append(path)
        plt.close("all")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(plt, "show", show)
    plt.close("all")
    try:
        # The examples are small: BLAS threads only add overhead (and, on a
        # machine shared with other jobs, contention).
        with threadpool_limits(limits=1):
            namespace = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        plt.close("all")
    return namespace, saved


def check_figures(saved, expected):
    assert len(saved) == expected, [p.name for p in saved]
    for path in saved:
        assert path.is_file(), path
        assert path.stat().st_size > MIN_PNG_BYTES, (path, path.stat().st_size)


def check_ce_vs_kl(ns):
    # Same path, offset by the mean target entropy; same coefficients.
    assert ns["max_gap_error"] < 1e-8
    assert ns["coef_diff"] < 1e-6 and ns["intercept_diff"] < 1e-6
    assert ns["ce_value"] - ns["kl_value"] == pytest.approx(
        ns["mean_entropy"], abs=1e-8
    )
    assert ns["mean_entropy"] > 0.1  # soft labels: the offset is visible
    assert np.all(np.diff(ns["path"]["kl_divergence"]) <= 1e-12)
    # Naive code fails, skdiv does not.
    assert np.isnan(ns["naive_target_zero"])
    assert np.isposinf(ns["naive_model_zero"])
    assert np.isneginf(ns["naive_log_q"][2])
    assert ns["xlogy_target_zero"] == pytest.approx(ns["metric_target_zero"])
    assert np.isfinite(ns["metric_model_zero"])
    # The zero in q is clipped to eps: it costs p * (log p - log eps).
    p, q = ns["target"], ns["model_with_zero"]
    expected = np.sum(p[:2] * np.log(p[:2] / q[:2])) + p[2] * (
        np.log(p[2]) + ns["clip_cost"]
    )
    assert ns["metric_model_zero"] == pytest.approx(expected, rel=1e-9)
    assert np.isneginf(ns["log_of_proba"]).any()
    assert np.isfinite(ns["log_proba"]).all()
    assert 740 <= ns["underflow_gap"] <= 750


def check_knowledge_distillation(ns):
    results = ns["results"]
    hard, soft = results["hard labels"], results["teacher, T = 1"]
    # The distilled student is the one closest to the teacher ...
    assert soft["KL to teacher"] < hard["KL to teacher"]
    assert soft["KL to teacher"] == min(r["KL to teacher"] for r in results.values())
    assert soft["agreement"] >= hard["agreement"]
    # ... smoothing and T = 2 move away from it ...
    assert results["hard, smoothing 0.1"]["KL to teacher"] > hard["KL to teacher"]
    assert results["teacher, T = 2"]["KL to teacher"] > soft["KL to teacher"]
    assert ns["best_temperature"] == 1
    kl_by_smoothing = [r["KL to teacher"] for r in ns["by_smoothing"]]
    assert np.all(np.diff(kl_by_smoothing) > 0)
    # ... and it is as accurate as the hard-label student, below the teacher.
    assert abs(soft["accuracy"] - hard["accuracy"]) < 0.01
    assert ns["teacher_accuracy"] > max(r["accuracy"] for r in results.values())


def check_heteroscedastic_regression(ns):
    coverage = ns["coverage_by_bin"]
    constant = np.abs(coverage["constant variance"] - 0.9)
    hetero = np.abs(coverage["heteroscedastic"] - 0.9)
    assert hetero.max() < constant.max()
    assert hetero.mean() < constant.mean()
    assert hetero.max() < 0.07
    # The constant band over-covers at small x and under-covers at large x.
    assert coverage["constant variance"][0] > 0.97
    assert coverage["constant variance"][-1] < 0.8
    scores = ns["scores"]
    assert scores["heteroscedastic"][0] < scores["constant variance"][0] - 0.1
    assert scores["heteroscedastic"][1] < scores["constant variance"][1]
    # beta trades mean accuracy in the noisiest bin against the quietest.
    rmse = ns["mean_rmse"]
    nll, half, least = (
        rmse["NLL (beta=0)"],
        rmse["beta-NLL (beta=0.5)"],
        rmse["beta=1 (least-squares mean)"],
    )
    assert nll[-1] > half[-1] > least[-1]
    assert nll[0] < half[0] < least[0]


def check_model_selection(ns):
    # Classifier: CE and KL select the same alpha, offset by the fold entropy.
    alphas = ns["alphas"]
    assert alphas[0] < ns["best_alpha"] < alphas[-1]
    assert ns["best_by_ce"] == ns["best_alpha"]
    offset = ns["ce_minus_kl"]
    assert offset.max() - offset.min() < 1e-10
    assert offset.mean() == pytest.approx(ns["fold_entropy"], abs=1e-8)
    test_kl = ns["test_kl"]
    assert test_kl["selected"] < test_kl[f"alpha={alphas[0]:g}"]
    assert test_kl["true probabilities"] < test_kl["selected"]
    # Regressor: the NLL rejects the overfitted variance and selects a
    # penalised heteroscedastic model, which is best on the test set.
    best = ns["best"]
    assert best["gaussianregressor__variance"] == "heteroscedastic"
    assert best["gaussianregressor__alpha"] >= 0.1
    cv_scores = ns["cv_scores"]
    hetero_nll = cv_scores["heteroscedastic, smallest alpha"][0]
    assert hetero_nll > cv_scores["constant, smallest alpha"][0]
    test_nll = {name: scores[0] for name, scores in ns["test_scores"].items()}
    assert test_nll["selected by NLL"] == min(test_nll.values())
    assert (
        test_nll["heteroscedastic, smallest alpha"]
        > test_nll["constant, smallest alpha"]
    )


def check_mlp_distillation(ns):
    results = ns["results"]
    hard, soft = results["hard labels"], results["teacher probabilities"]
    assert soft["KL to teacher"] < 0.7 * hard["KL to teacher"]
    assert soft["agreement"] > hard["agreement"]
    assert soft["accuracy"] >= hard["accuracy"]
    assert ns["teacher_accuracy"] >= soft["accuracy"] - 0.01


def check_mlp_heteroscedastic(ns):
    coverage, nll = ns["coverage_by_region"], ns["nll"]
    constant = np.abs(coverage["constant variance"] - 0.9)
    for name in ("heteroscedastic (beta=0)", "beta-NLL (beta=0.5)"):
        hetero = np.abs(coverage[name] - 0.9)
        assert hetero.max() < 0.07 < constant.max()
        assert nll[name] < nll["constant variance"] - 0.5
    # The claim about beta in the text: no better mean where the noise is.
    rmse = ns["noisy_rmse"]
    assert rmse["beta-NLL (beta=0.5)"] > rmse["heteroscedastic (beta=0)"]


EXAMPLE_CHECKS = [
    pytest.param("plot_ce_vs_kl.py", 2, check_ce_vs_kl, id="ce_vs_kl"),
    pytest.param(
        "plot_knowledge_distillation.py",
        2,
        check_knowledge_distillation,
        id="knowledge_distillation",
    ),
    pytest.param(
        "plot_heteroscedastic_regression.py",
        3,
        check_heteroscedastic_regression,
        id="heteroscedastic_regression",
    ),
    pytest.param(
        "plot_model_selection.py", 2, check_model_selection, id="model_selection"
    ),
    pytest.param(
        "plot_mlp_distillation.py", 2, check_mlp_distillation, id="mlp_distillation"
    ),
    pytest.param(
        "plot_mlp_heteroscedastic.py",
        2,
        check_mlp_heteroscedastic,
        id="mlp_heteroscedastic",
    ),
]


@pytest.mark.parametrize("name, n_figures, check", EXAMPLE_CHECKS)
def test_example(name, n_figures, check, tmp_path, monkeypatch):
    namespace, saved = run_example(name, tmp_path, monkeypatch)
    check_figures(saved, n_figures)
    check(namespace)


def test_every_example_is_tested():
    tested = {param.values[0] for param in EXAMPLE_CHECKS}
    assert {path.name for path in EXAMPLES.glob("plot_*.py")} <= tested
