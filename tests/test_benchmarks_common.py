"""The benchmark record writer (``benchmarks/_common.py``) round-trips to JSON.

The benchmarks are not tests; what is tested here is only that a run's
record, as the scripts write it, is strict JSON and reads back with every
figure it was given, to the last digit.
"""

import importlib.util
import json
import math
import os

import numpy as np
import pytest

_COMMON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "benchmarks", "_common.py")


@pytest.fixture(scope="module")
def common():
    spec = importlib.util.spec_from_file_location("_bench_common", _COMMON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _strict_loads(text):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_record_round_trips(common, tmp_path, capsys):
    args = {"quick": True, "repeats": 1, "worker": "internal", "tol": 1e-8}
    record = common.start_record("/somewhere/bench_example.py", args, "example run",
                                 extra=["mode: quick"], versions={"dask": "0.0"})
    time_ = np.float64(0.1234567890123456789)
    record["rows"].append({
        "dataset": "dense", "times": (np.float32(0.5), 0.25), "time": time_,
        "n_iter": np.int64(7), "distance": float("nan"), "ratio": float("inf"),
        "converged": np.bool_(True), "coef": np.array([[1.0, -2.5]]),
    })
    status = common.add_verdict(record, "issue 0: ratio <= 0.1", time_ <= 0.1,
                                "ratio 0.123", ratio=time_)
    assert status == "FAIL"
    path = common.write_record(record, directory=str(tmp_path))
    out = capsys.readouterr().out
    assert "[FAIL] issue 0: ratio <= 0.1: ratio 0.123" in out
    assert "example run" in out

    assert os.path.dirname(path) == str(tmp_path)
    name = os.path.basename(path)
    assert name.startswith("bench_example-quick-") and name.endswith(".json")
    with open(path) as f:
        loaded = _strict_loads(f.read())
    assert loaded == common.read_record(path)

    assert loaded["schema"] == common.RECORD_SCHEMA
    assert loaded["script"] == "bench_example.py"
    assert loaded["arguments"] == {"quick": True, "repeats": 1, "tol": 1e-8}
    assert loaded["settings"] == ["mode: quick"]
    assert loaded["machine"]["versions"]["dask"] == "0.0"
    assert loaded["machine"]["versions"]["numpy"] == np.__version__
    assert loaded["skdiv_source"] == common.skdiv_source()
    assert "_start" not in loaded and loaded["duration_s"] >= 0
    row = loaded["rows"][0]
    # Floats survive to the last bit; float32 is widened exactly.
    assert row["time"] == float(time_)
    assert row["times"] == [0.5, 0.25]
    assert row["n_iter"] == 7 and isinstance(row["n_iter"], int)
    assert row["converged"] is True
    assert row["coef"] == [[1.0, -2.5]]
    # Strict JSON has no NaN or infinity: they become null.
    assert row["distance"] is None and row["ratio"] is None
    assert loaded["verdicts"] == [{"label": "issue 0: ratio <= 0.1",
                                   "status": "FAIL", "detail": "ratio 0.123",
                                   "ratio": float(time_)}]


def test_jsonable(common):
    value = {1: (np.float64(2.0), [np.nan, -math.inf]), "s": np.str_("x"),
             "none": None}
    assert common.jsonable(value) == {"1": [2.0, [None, None]], "s": "x",
                                      "none": None}


def test_read_record_rejects_other_json(common, tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"schema": common.RECORD_SCHEMA, "rows": []}))
    with pytest.raises(ValueError, match="not a benchmark record"):
        common.read_record(str(path))
    record = {key: None for key in ("script", "arguments", "date", "git",
                                    "skdiv_source", "machine", "rows", "verdicts")}
    path.write_text(json.dumps(dict(record, schema=common.RECORD_SCHEMA + 1)))
    with pytest.raises(ValueError, match="schema"):
        common.read_record(str(path))


def test_floor_passes_are_the_products_and_the_cross_entropy_gradient():
    # bench_matched_threads' floor is the two products of a pass (with G
    # all ones here) and, beside it, a pass of the unnormalised softmax
    # cross-entropy: its value is log_loss's sum, its gradient (P - Y)^T X,
    # dense by row blocks (some blocks short) and sparse whole.
    import scipy.sparse as sp
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    path = os.path.join(os.path.dirname(_COMMON), "bench_matched_threads.py")
    spec = importlib.util.spec_from_file_location("_bench_matched", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((23, 4))
    y = rng.integers(0, 3, 23)
    coef, intercept = rng.standard_normal((3, 4)), rng.standard_normal(3)
    proba = softmax(X @ coef.T + intercept, axis=1)
    expected_loss = log_loss(y, proba, normalize=False)
    expected_grad = (proba - np.eye(3)[y]).T @ X
    for features, block_rows in ((X, 5), (X, 100), (sp.csr_matrix(X), 5)):
        loss, grad = module.numpy_pass(features, y, coef, intercept, block_rows)
        np.testing.assert_allclose(
            module.products_pass(features, coef, block_rows),
            np.ones((23, 3)).T @ X, rtol=1e-12)
        np.testing.assert_allclose(loss, expected_loss, rtol=1e-13)
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-13)
