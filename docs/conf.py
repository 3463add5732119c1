"""Sphinx configuration of the skdiv documentation.

Build with ``python -m sphinx -b html docs docs/_build/html`` (after
``pip install ".[docs]"``). The build executes the gallery examples (about ten
seconds) so that their pages show their figures; ``SKDIV_DOCS_RUN_GALLERY=0``
skips them for a quick look at the text. The pages work offline: the maths is
rendered by a copy of MathJax that ``sphinx-mathjax-offline`` puts in
``_static/``, and the theme's assets ship with the theme.
"""

import os
import sys
from pathlib import Path

# Document the checkout this file belongs to, not some installed skdiv. A copy
# of docs/ built elsewhere (tests/test_docs.py) finds skdiv on PYTHONPATH.
_REPO_ROOT = Path(__file__).resolve().parent.parent
if (_REPO_ROOT / "skdiv" / "__init__.py").is_file():
    sys.path.insert(0, str(_REPO_ROOT))

import skdiv  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "skdiv"
author = "The skdiv developers"
copyright = "The skdiv developers"
release = skdiv.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # A local MathJax 3 in _static/mathjax (sets mathjax_path): nothing is
    # fetched when a page is viewed.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
add_module_names = False

# -- autodoc / autosummary ----------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"

# -- numpydoc -----------------------------------------------------------------
# The autosummary class template lists the class's own public methods. The
# inherited ones (get_params, ...) and scikit-learn's generated
# set_*_request methods are left out: their docstrings refer to labels of
# scikit-learn's documentation, which fail the build with -W.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- sphinx-gallery -------------------------------------------------------------
_run_gallery = os.environ.get("SKDIV_DOCS_RUN_GALLERY", "1") != "0"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True" if _run_gallery else "False",
    # "Examples using X" on the API pages (the ``minigallery`` directives in
    # the autosummary templates).
    "doc_module": ("skdiv",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skdiv": None},
    # The timing page loads jQuery and DataTables from CDNs: left out, so
    # that no page refers to a remote script.
    "write_computation_times": False,
}

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_theme_options = {
    # No links to remote services, no version switcher: the pages stand alone.
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_title = f"skdiv {release}"
html_show_sourcelink = False
