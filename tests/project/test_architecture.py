"""The package's layering, read from its source: no import cycles (not even under
TYPE_CHECKING or inside functions), Typer only in the CLI, pyoxigraph only behind the store.

The rules are checked on a small package written here first, so that a checker that finds
nothing cannot pass for a package that is clean.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "ngff_kg"

#: Modules (or folders, ending in ".") that may import pyoxigraph.
OXIGRAPH_ALLOWED = (
    "ngff_kg.store.",
    "ngff_kg.queries",
    "ngff_kg.web.sparql",
    "ngff_kg.ontology.index",
)
TYPER_ALLOWED = ("ngff_kg.cli",)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (a package's own module for ``from pkg import sub``)
    line: int


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of the package at ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(root: Path) -> Iterator[Import]:
    """Every import statement of the package, wherever it is (module level, functions,
    ``if TYPE_CHECKING:`` blocks)."""
    known = modules(root)
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    yield Import(name, sub if sub in known else base, node.lineno)


def cycles(root: Path) -> list[list[str]]:
    """The import cycles among the package's modules (strongly connected components of more
    than one module, and modules importing themselves)."""
    known = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in imports(root):
        if imp.target in known:
            graph[imp.module].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def forbidden(root: Path, library: str, allowed: tuple[str, ...]) -> list[str]:
    """``module:line`` of each import of ``library`` by a module not ``allowed``."""
    return [
        f"{imp.module}:{imp.line}"
        for imp in imports(root)
        if imp.target.partition(".")[0] == library
        and not any(imp.module == a or imp.module.startswith(a) for a in allowed)
    ]


def raw_store_uses(root: Path) -> list[str]:
    """``module:line`` of each use of ``KnowledgeStore.oxigraph`` outside ``store/``."""
    found = []
    for name, path in modules(root).items():
        if name.startswith(f"{root.name}.store."):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "oxigraph":
                found.append(f"{name}:{node.lineno}")
    return found


# ----------------------------------------------------------------------- the checker itself
@pytest.fixture
def bad_package(tmp_path: Path) -> Path:
    """A package with each fault once: a plain cycle, a TYPE_CHECKING cycle through a
    relative import, a function-level import of pyoxigraph, Typer outside the CLI."""
    root = tmp_path / "ngff_kg"
    files = {
        "__init__.py": "",
        "cli.py": "import typer\nfrom ngff_kg import rdf\n",
        "rdf.py": "from ngff_kg.errors import X\n",
        "errors.py": "X = 1\n",
        "a.py": "from ngff_kg.b import f\n",
        "b.py": "def f():\n    from ngff_kg import a\n",
        "views/__init__.py": "",
        "views/check.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..catalog import C\n"
        ),
        "catalog.py": "from ngff_kg.views.check import x\nimport typer.testing\n",
        "store/__init__.py": "",
        "store/knowledge.py": "import pyoxigraph as ox\n",
        "enrich.py": "def g():\n    import pyoxigraph\n    return pyoxigraph\n",
        "web.py": "def h(store):\n    return store.oxigraph\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checker_finds_each_fault(bad_package: Path) -> None:
    assert sorted(cycles(bad_package)) == [
        ["ngff_kg.a", "ngff_kg.b"],
        ["ngff_kg.catalog", "ngff_kg.views.check"],
    ]
    assert forbidden(bad_package, "pyoxigraph", OXIGRAPH_ALLOWED) == ["ngff_kg.enrich:2"]
    assert forbidden(bad_package, "typer", TYPER_ALLOWED) == ["ngff_kg.catalog:2"]
    assert raw_store_uses(bad_package) == ["ngff_kg.web:2"]
    # ``from ngff_kg import rdf`` names the submodule, not the package
    targets = {(i.module, i.target) for i in imports(bad_package)}
    assert ("ngff_kg.cli", "ngff_kg.rdf") in targets
    assert ("ngff_kg.cli", "ngff_kg") not in targets


# ----------------------------------------------------------------------- the package
def test_the_package_is_found() -> None:
    found = modules(PACKAGE)
    assert {"ngff_kg", "ngff_kg.cli", "ngff_kg.catalog", "ngff_kg.store.knowledge"} <= set(found)
    assert len(found) > 40


def test_no_import_cycles() -> None:
    assert cycles(PACKAGE) == []


def test_only_the_cli_imports_typer() -> None:
    assert forbidden(PACKAGE, "typer", TYPER_ALLOWED) == []


def test_only_the_store_and_query_modules_import_pyoxigraph() -> None:
    assert forbidden(PACKAGE, "pyoxigraph", OXIGRAPH_ALLOWED) == []


def test_the_raw_store_handle_stays_in_the_store() -> None:
    assert raw_store_uses(PACKAGE) == []
