"""The package's shape: imports run one way through the layers, with no cycle, lazy imports included; old module
paths still import (with a DeprecationWarning) for one release."""
from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnzoo"

# Lower rank = lower layer. A module may import its own group and any group of a lower rank, nothing else.
LAYERS = {
    "errors": 0, "version": 0, "_deprecated": 0,
    "layers": 1, "registry": 1,
    "models": 2,
    "hub": 3,
    "factory": 4,
    "data": 5,
    "engine": 6,
    "finetune": 7, "experiment": 7, "deploy": 7,
    "commands": 8, "cli": 8,
    "": 9,  # cnnzoo/__init__.py: the public API, the top
}


def _module_name(path: Path) -> str:
    parts = ["cnnzoo", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """cnnzoo modules that ``name`` imports anywhere in its body (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names} & known
            found |= submodules or ({target} & known)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & known
    # importing a.b.c runs a.b's __init__ first, unless it is a package this module is already inside (and the
    # root package always runs first)
    for target in list(found):
        parent = target.rpartition(".")[0]
        while parent and parent != "cnnzoo" and not name.startswith(parent + "."):
            found.add(parent)
            parent = parent.rpartition(".")[0]
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _group(name: str) -> str:
    return name.split(".")[1] if "." in name else ""


def test_the_graph_sees_lazy_and_relative_imports():
    graph = _graph()
    assert len(graph) > 90
    # a function-level import of the data package (engine/trainer) and a package-level `from . import x` (models)
    assert "cnnzoo.data" in graph["cnnzoo.engine.trainer"]
    assert {"cnnzoo.models.resnet", "cnnzoo.models.densenet", "cnnzoo.models.efficientnet"} <= graph["cnnzoo.models"]
    assert "cnnzoo.hub.index" in graph["cnnzoo.hub.files.resolve"]  # through its parent package's __init__


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_run_one_way_through_the_layers():
    wrong = []
    for name, targets in _graph().items():
        rank = LAYERS[_group(name)]
        for target in targets:
            group = _group(target)
            if group != _group(name) and (LAYERS[group] >= rank):
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_every_top_level_part_has_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert tops - {"__init__"} == set(LAYERS) - {""}


def test_the_registry_knows_nothing_of_weights():
    assert not any(t.startswith("cnnzoo.hub") for t in _graph()["cnnzoo.registry"])


@pytest.mark.parametrize("old, new", [
    ("cnnzoo._factory", "cnnzoo.factory"),
    ("cnnzoo._registry", "cnnzoo.registry"),
    ("cnnzoo.finetune_recipe", "cnnzoo.finetune"),
    ("cnnzoo.bench", "cnnzoo.deploy.benchmark"),
    ("cnnzoo.hub.io", "cnnzoo.hub.files.io"),
    ("cnnzoo.hub.converters.resnet", "cnnzoo.hub.importers.converters.resnet"),
])
def test_old_module_paths_still_import_with_a_warning(old, new):
    import cnnzoo  # noqa: F401  (installs the old paths)

    for name in [m for m in sys.modules if m == old or m.startswith(old + ".")]:
        del sys.modules[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__spec__.name == new
    assert any(issubclass(w.category, DeprecationWarning) and f"{old} moved to {new}" in str(w.message)
               for w in caught)
