"""The package's shape: declared dependencies only, no import cycles, a short top level."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import tomllib

from tests_support import ROOT

SRC = ROOT / "src"
PACKAGE = SRC / "taam"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(extras: tuple[str, ...] = ()) -> set[str]:
    """The runtime dependencies of pyproject.toml, plus those of the ``extras`` named."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = [*project["dependencies"]]
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    return {_canonical(re.match(r"[A-Za-z0-9_.-]+", spec).group(0)) for spec in specs}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, lazy: bool = True) -> set[str]:
    """Every absolute module an import statement in ``path`` names (``lazy=False``: only those
    outside functions, which run when the module is imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set()
    if not lazy:
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                skipped |= {id(n) for n in ast.walk(function) if n is not function}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_src_imports_only_declared_packages():
    """A runtime dependency anywhere; a package of the ``cluster`` extra only inside a function
    (a plain install without the extra must still import every module)."""
    required = declared_distributions()
    optional = declared_distributions(("cluster",))
    providers = packages_distributions()
    undeclared = {}
    for path in SRC.rglob("*.py"):
        eager = imported_modules(path, lazy=False)
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in ("taam", "__future__"):
                continue
            distributions = {_canonical(d) for d in providers.get(top, [top])}
            allowed = required if name in eager else optional
            if not distributions & allowed:
                undeclared.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def import_graph() -> dict[str, set[str]]:
    """Module → the taam modules it imports (type-only and lazy imports included)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_modules(path):
            # ``from taam.x import y`` names module taam.x.y only if y is a module.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and imported != "taam":
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                found.append(sorted([node, *component]))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_module_that_imports_it_back():
    graph = import_graph()
    assert "taam.run.rundir" in graph["taam.run.training"]  # the graph sees real imports
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_top_level_is_subpackages_and_a_few_shared_modules():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert len(modules) <= 8, modules
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert {"run", "report", "publish", "logging", "data", "mixer", "evaluation"} <= set(packages)
