"""The version of skdiv, in one place (read by setuptools and the command line)."""

__version__ = "0.1.0.dev0"

# Where the documentation is published. Its API pages are Sphinx
# autosummary's (docs/api.rst): "generated/<module>.<name>.html". The
# environment variable SKDIV_DOCS_URL points the estimators' HTML
# representation at another build (a local one: file:///.../_build/html/).
DOCS_URL = "https://skdiv.readthedocs.io/en/{version}/"


def docs_url():
    """The documentation's root URL for this version (``latest`` for a dev build)."""
    import os

    override = os.environ.get("SKDIV_DOCS_URL")
    if override:
        return override if override.endswith("/") else override + "/"
    release = __version__.split(".dev")[0]
    major_minor = ".".join(release.split(".")[:2])
    return DOCS_URL.format(version="latest" if "dev" in __version__ else major_minor)
