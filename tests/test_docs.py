"""Build the Sphinx documentation as documented: warnings as errors, gallery run.

The built pages must work offline: no page refers to a remote script or
stylesheet (the maths is rendered by the local MathJax copy of
``sphinx-mathjax-offline``), and every gallery page shows its figures. The
gallery's scripts take about ten seconds; their claims are checked by
``tests/test_examples.py``, this build only checks that their pages have them.

The build runs on a copy of ``docs/`` and ``examples/`` in a temporary
directory: autosummary and sphinx-gallery write generated sources next to the
documentation sources, and a copy keeps the checkout clean and lets several
test runs build at the same time.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("pydata_sphinx_theme")
pytest.importorskip("matplotlib")

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
    env.pop("SKDIV_DOCS_RUN_GALLERY", None)  # the default: run the gallery
    # The examples are small: BLAS threads only add contention.
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
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

    # The estimators' HTML representation links to these very pages.
    import skdiv

    old = os.environ.get("SKDIV_DOCS_URL")
    os.environ["SKDIV_DOCS_URL"] = out.as_uri()
    try:
        for name in ["DivergenceClassifier", "GaussianRegressor",
                     "DivergenceMLPClassifier", "GaussianMLPRegressor"]:
            link = getattr(skdiv, name)()._get_doc_link()
            assert link == f"{out.as_uri()}/generated/skdiv.{name}.html"
            assert (out / "generated" / f"skdiv.{name}.html").is_file(), link
    finally:
        if old is None:
            os.environ.pop("SKDIV_DOCS_URL")
        else:
            os.environ["SKDIV_DOCS_URL"] = old

    user_guide = (out / "user_guide.html").read_text(encoding="utf-8")
    assert 'class="math' in user_guide, "no math in the user guide"
    # MathJax from the build's own _static, with the fonts it loads.
    assert 'src="_static/mathjax/tex-chtml.js"' in user_guide
    assert (out / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert any((out / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob(
        "*.woff"
    ))

    remote = re.compile(r"^(https?:)?//", re.IGNORECASE)
    # _static holds the theme's page templates, not pages.
    pages = [p for p in out.rglob("*.html") if "_static" not in p.parts]
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r"<script\b[^>]*\bsrc=[\"']([^\"']+)", html)
        sheets = [
            href for tag in re.findall(r"<link\b[^>]*>", html)
            if re.search(r"rel=[\"']?(stylesheet|preload|modulepreload)", tag)
            for href in re.findall(r"\bhref=[\"']([^\"']+)", tag)
        ]
        fetched = [url for url in scripts + sheets if remote.match(url)]
        assert not fetched, (page.relative_to(out), fetched)
        for url in scripts + sheets:
            local = (page.parent / url.split("?")[0]).resolve()
            assert local.is_file(), (page.relative_to(out), url)

    for example in sorted(EXAMPLES.glob("plot_*.py")):
        html = (out / "auto_examples" / f"{example.stem}.html").read_text(
            encoding="utf-8"
        )
        images = re.findall(
            rf"<img\b[^>]*src=[\"'](\.\./_images/sphx_glr_{example.stem}_\d+\.png)",
            html,
        )
        assert images, f"{example.name}: no figure on its gallery page"
        for src in images:
            image = out / "auto_examples" / src
            assert image.stat().st_size > 10_000, image
