"""Sphinx configuration of the skdiv documentation.

Build with ``python -m sphinx -b html docs docs/_build/html``. The gallery
examples are only executed when ``SKDIV_DOCS_RUN_GALLERY=1``: the examples
have their own tests, and an unexecuted gallery keeps the build fast and free
of plotting dependencies at run time.
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
_run_gallery = os.environ.get("SKDIV_DOCS_RUN_GALLERY", "") == "1"

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
}

# -- HTML -----------------------------------------------------------------------
html_theme = "alabaster"
html_theme_options = {
    "description": "scikit-learn estimators trained by cross-entropy, "
    "KL divergence or Gaussian NLL",
    "fixed_sidebar": True,
}
html_title = f"skdiv {release}"
html_show_sourcelink = False
