"""Build the Sphinx documentation, warnings as errors, gallery not executed.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary
directory: autosummary and sphinx-gallery write generated sources next to the
documentation sources, and a copy keeps the checkout clean and lets several
test runs build at the same time.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = REPO_ROOT / "docs"
EXAMPLES = REPO_ROOT / "examples"

# Build products that may exist in the checkout after a local build.
_GENERATED = shutil.ignore_patterns(
    "_build", "generated", "auto_examples", "sg_execution_times.rst",
    "__pycache__", "*.pyc",
)


def test_docs_build(tmp_path):
    if not (DOCS / "conf.py").is_file():
        pytest.skip("no docs/conf.py in this checkout")
    src = tmp_path / "src"
    shutil.copytree(DOCS, src / "docs", ignore=_GENERATED)
    shutil.copytree(EXAMPLES, src / "examples", ignore=_GENERATED)
    out = tmp_path / "html"

    env = dict(os.environ)
    env.pop("SKDIV_DOCS_RUN_GALLERY", None)
    # conf.py imports skdiv; from the copy it is found through PYTHONPATH.
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])
    )
    env["MPLBACKEND"] = "Agg"

    cmd = [
        sys.executable, "-m", "sphinx",
        "-W", "--keep-going", "-q",
        "-b", "html",
        "-d", str(tmp_path / "doctrees"),
        str(src / "docs"), str(out),
    ]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, (
        f"sphinx-build failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n"
        f"{proc.stderr[-10000:]}"
    )

    for page in ["index", "install", "user_guide", "cli", "api",
                 "auto_examples/index"]:
        assert (out / f"{page}.html").is_file(), page
    for name in [
        "skdiv.DivergenceClassifier",
        "skdiv.GaussianRegressor",
        "skdiv.metrics.cross_entropy",
        "skdiv.metrics.kl_divergence",
        "skdiv.metrics.neg_kl_divergence_scorer",
        "skdiv.metrics.get_scorer",
        "skdiv.metrics.interval_score",
        "skdiv.metrics.expected_calibration_error",
        "skdiv.metrics.neg_interval_score_scorer",
        "skdiv.model_selection.SoftStratifiedKFold",
        "skdiv.model_selection.RepeatedSoftStratifiedKFold",
    ]:
        assert (out / "generated" / f"{name}.html").is_file(), name

    user_guide = (out / "user_guide.html").read_text(encoding="utf-8")
    assert 'class="math' in user_guide, "no math in the user guide"
    assert "mathjax" in user_guide.lower(), "MathJax is not loaded"
