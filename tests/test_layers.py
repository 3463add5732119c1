"""The layers of docs/architecture.rst: no module imports one above it, no cycle.

Read from the source (every ``import`` statement, module-level or inside a
function), so it needs nothing of skdiv to be importable.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "skdiv"

# Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS = [
    ("utilities", [
        "skdiv._compat", "skdiv._threads", "skdiv._validation", "skdiv._version",
        "skdiv._weights",
    ]),
    ("objectives", ["skdiv._loss"]),
    ("metrics", ["skdiv.metrics", "skdiv.model_selection"]),
    ("models", ["skdiv._model"]),
    ("targets", ["skdiv._targets"]),
    ("adapter", ["skdiv._adapter"]),
    ("solvers", ["skdiv._solvers"]),
    ("fit procedures", ["skdiv._gaussian"]),
    ("scale-out", ["skdiv._scale"]),
    ("estimators", [
        "skdiv._classifier", "skdiv._regressor", "skdiv._mlp_base",
        "skdiv._mlp_classifier", "skdiv._mlp_regressor",
        "skdiv._class_predictions", "skdiv._gaussian_predictions",
    ]),
    ("command line", ["skdiv._cli", "skdiv.__main__"]),
    ("package", ["skdiv"]),
]


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rank(module):
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix), prefix)
    return best


def _imports(path, module):
    """skdiv modules imported by the file at ``path`` (module ``module``)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "skdiv"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "skdiv":
                continue
            # ``from . import x`` imports the module x, not the package's
            # other names; ``from .mod import name`` imports mod.
            modules = {f"{target}.{a.name}" for a in node.names}
            modules = {m for m in modules if _exists(m)}
            found |= modules
            if len(modules) < len(node.names):
                found.add(target)
    return {m for m in found if _exists(m)}


def _exists(module):
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph():
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        graph[module] = _imports(path, module) - {module}
    return graph


def test_every_module_has_a_layer():
    missing = [m for m in _graph() if _rank(m) is None]
    assert not missing, f"assign a layer in tests/test_layers.py to {missing}"


def test_no_module_imports_a_layer_above_it():
    upward = []
    for module, imported in _graph().items():
        rank = _rank(module)[0]
        for other in imported:
            other_rank = _rank(other)[0]
            if other_rank > rank:
                upward.append(f"{module} ({LAYERS[rank][0]}) imports {other} "
                              f"({LAYERS[other_rank][0]})")
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    graph = _graph()
    # A package's __init__ importing its own modules is not a cycle of layers.
    edges = {
        m: {o for o in imported if not (m != "skdiv" and o.startswith(m + "."))}
        for m, imported in graph.items()
    }
    state, stack, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for other in sorted(edges.get(module, ())):
            if state.get(other) == "open":
                cycles.append(stack[stack.index(other):] + [other])
            elif other not in state:
                visit(other)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=str)
def test_no_file_is_much_over_500_lines(path):
    n_lines = len(path.read_text().splitlines())
    assert n_lines <= 550, f"{path.name} has {n_lines} lines: split it"
