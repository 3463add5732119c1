"""The version of skdiv, in one place (read by setuptools and the command line)."""

__version__ = "0.1.0.dev0"
