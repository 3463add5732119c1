"""skdiv._compat: the same behaviour on the oldest and the newest dependencies.

The three environments of ``.ci/run`` run these: the newest NumPy, SciPy and
pandas, the floors of ``pyproject.toml`` (SciPy 1.9, pandas 1.5), where the
shims do the work, and the newest releases that the oldest Python allowed
gets. The last tests check that the install page says what ``pyproject.toml``
requires and which Pythons ``.ci/run`` tests.
"""

import csv
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.optimize

from skdiv._cli._data import load_csv
from skdiv._compat import csv_float_options, minimize


def _quadratic():
    """An ill-conditioned convex quadratic, ``(value, gradient)``."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((8, 8))
    H = A @ A.T + np.diag(np.geomspace(1e-2, 1e2, 8))
    b = rng.standard_normal(8)

    def fun(x):
        return 0.5 * x @ H @ x - b @ x, H @ x - b

    return fun


@pytest.mark.parametrize("n_stop", [1, 3, 7])
def test_minimize_callback_stop_returns_that_iterate(n_stop):
    fun = _quadratic()
    x0 = np.ones(8)
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.x.copy())
        if len(seen) == n_stop:
            raise StopIteration

    result = minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        callback=callback,
        options={"maxiter": 100, "gtol": 0.0, "ftol": 0.0},
    )
    assert len(seen) == n_stop
    assert not result.success
    assert result.message == "`callback` raised `StopIteration`."
    np.testing.assert_array_equal(result.x, seen[-1])
    # The same iterates as SciPy's own run cut at that many iterations.
    reference = scipy.optimize.minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": n_stop, "gtol": 0.0, "ftol": 0.0},
    )
    assert reference.nit == n_stop
    np.testing.assert_array_equal(result.x, reference.x)


def test_minimize_without_stop_is_scipys_run():
    fun = _quadratic()
    x0 = np.ones(8)
    seen = []
    result = minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        callback=lambda intermediate_result: seen.append(intermediate_result.x),
        options={"maxiter": 200},
    )
    reference = scipy.optimize.minimize(
        fun, x0, method="L-BFGS-B", jac=True, options={"maxiter": 200}
    )
    assert result.success
    assert len(seen) == reference.nit == result.nit
    np.testing.assert_array_equal(result.x, reference.x)
    np.testing.assert_array_equal(seen[-1], reference.x)


def test_minimize_lets_other_errors_through():
    def fun(x):
        raise StopIteration("from fun, not from the callback")

    # A Python function, as skdiv's solvers pass: SciPy >= 1.11 reads the
    # callback's signature, which builtins such as ``print`` lack on Python
    # 3.10 (inspect raises ValueError there).
    def callback(intermediate_result):
        pass

    with pytest.raises(StopIteration, match="from fun"):
        minimize(fun, np.ones(2), method="L-BFGS-B", jac=True, callback=callback)


def _write_floats(path, values):
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["a", "b", "target"])
        writer.writerows(
            (*row, label) for row, label in zip(values, "xyz" * 200, strict=True)
        )


def test_csv_floats_read_exactly(tmp_path):
    # 17 significant digits over many magnitudes, as Python's repr writes them.
    rng = np.random.default_rng(0)
    values = rng.standard_normal((600, 2)) * 10.0 ** rng.integers(-12, 12, (600, 2))
    path = tmp_path / "floats.csv"
    _write_floats(path, values)
    frame = pd.read_csv(path, **csv_float_options())
    np.testing.assert_array_equal(frame[["a", "b"]].to_numpy(), values)
    # skdiv compare reads them the same way.
    data = load_csv(path, "target", None)
    np.testing.assert_array_equal(data.X[["a", "b"]].to_numpy(), values)


ROOT = Path(__file__).resolve().parent.parent


def _project():
    """The ``[project]`` table of ``pyproject.toml``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli
        import tomli as tomllib

    with open(ROOT / "pyproject.toml", "rb") as stream:
        return tomllib.load(stream)["project"]


def _install_page():
    """docs/install.rst, lower case, every run of white space one space."""
    return " ".join((ROOT / "docs" / "install.rst").read_text().split()).lower()


def test_install_page_states_the_floors_of_pyproject():
    project = _project()
    page = _install_page()
    python = project["requires-python"].removeprefix(">=")
    assert f"python {python} or later" in page
    for dependency in project["dependencies"]:
        name, floor = dependency.split(">=")
        assert f"{name.lower()} {floor}" in page, dependency


def test_install_page_names_the_pythons_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    # The floor environment's Python is the one .ci/run reads from
    # requires-python: run that very line on this pyproject.toml.
    (line,) = (line for line in ci.splitlines() if line.startswith('floor="$('))
    floor = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", f'{line}\nprintf %s "$floor"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert floor == _project()["requires-python"].removeprefix(">=")
    # The Pythons .ci/run names (python3.11 for the oldest dependencies).
    named = set(re.findall(r"\bpython(3\.\d+)\b", ci))
    page = _install_page()
    for python in named | {floor}:
        assert f"on python {python}" in page, python


def test_cached_param_names_are_the_signatures_per_class():
    # The cache is per class: a subclass with its own __init__ reads its own.
    from sklearn.base import BaseEstimator

    from skdiv import DivergenceClassifier, DivergenceMLPClassifier, GaussianRegressor
    from skdiv._compat import CachedParamNames

    for cls in (DivergenceClassifier, GaussianRegressor, DivergenceMLPClassifier):
        assert cls._get_param_names() == BaseEstimator._get_param_names.__func__(cls)
        names = cls._get_param_names()
        names.append("mutated")  # a copy each call
        assert "mutated" not in cls._get_param_names()

    class Base(CachedParamNames, BaseEstimator):
        def __init__(self, a=1):
            self.a = a

    class Child(Base):
        def __init__(self, a=1, b=2):
            super().__init__(a)
            self.b = b

    assert Base._get_param_names() == ["a"]
    assert Child._get_param_names() == ["a", "b"]
    assert Child(b=3).get_params() == {"a": 1, "b": 3}
