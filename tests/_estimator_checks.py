"""scikit-learn's estimator checks as a pytest parametrisation, on every release.

scikit-learn before 1.8 (1.6 and 1.7: the floor of ``pyproject.toml`` and the
newest release for Python 3.10) passes ``pytest.mark.parametrize`` a generator
of checks, which pytest 9 deprecates and pytest 10 refuses; ``pyproject.toml``
makes that deprecation an error, so that it shows in every environment of
``.ci/run`` rather than in the first pytest that removes it.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks as _sklearn


def parametrize_with_checks(estimators):
    """:func:`sklearn.utils.estimator_checks.parametrize_with_checks`, listed.

    The same ``"estimator, check"`` parametrisation with the same ids, its
    argument values a list, as scikit-learn >= 1.8 gives them.
    """
    mark = _sklearn(estimators)
    names, checks = mark.args
    return pytest.mark.parametrize(names, list(checks), **mark.kwargs)
