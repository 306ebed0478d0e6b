"""The project's import graph, read from the source: apps import only downward, and no package has a cycle.

Layers, lowest first: ``amazon_site`` (the ground floor) → ``catalog`` → ``cart``
→ ``orders`` → ``catalog.reviews`` (reviews need orders: who bought what) →
``recommendations``. A page showing several domains composes them in its
template (an inclusion tag of the higher app), so no Python import needs to run
upward. Every ``import`` counts, inside functions too: a lazy import is still a
dependency, only a hidden one. Migrations are left out (they name other apps'
migrations, not their code). Names in strings (settings, ``include("…")``,
Celery task names) are not imports.
"""
import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("amazon_site", "catalog", "cart", "orders", "recommendations")
LAYERS = ("amazon_site", "catalog", "cart", "orders", "catalog.reviews", "recommendations")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the project module imported
    where: str  # path:line
    lazy: bool = False  # inside a function

    def __str__(self):
        return f"{self.where}: {self.source} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                modules[module_name(path)] = path
    return modules


def known(name: str, modules) -> str | None:
    """The project module ``name`` means: itself, or the package whose attribute it is."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, modules, root: Path = ROOT) -> list[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lazy = {id(node) for function in functions for node in ast.walk(function)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # "." is the module's package, each further dot one package up
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            # "from . import tasks" imports the module tasks; "from .models import Order" the module models.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        where = f"{path.relative_to(root)}:{node.lineno}"
        for name in dict.fromkeys(names):
            if (target := known(name, modules)) and target != module:
                found.append(Import(module, target, where, id(node) in lazy))
    return found


def layer(module: str) -> int:
    return max(rank for rank, name in enumerate(LAYERS) if module == name or module.startswith(name + "."))


def the_graph():
    modules = project_modules()
    return modules, [found for module, path in modules.items() for found in imports_of(module, path, modules)]


def cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_graph_is_read_from_the_whole_project():
    """The checks below would pass on an empty graph: make sure they look at the real one."""
    modules, edges = the_graph()
    statements = [
        node
        for path in modules.values()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert {module.partition(".")[0] for module in modules} == set(PACKAGES)
    assert len(modules) > 100 and len(statements) > 400 and len(edges) > 150
    assert {edge.source.partition(".")[0] for edge in edges} == set(PACKAGES)
    assert any(edge.lazy for edge in edges)


def test_relative_lazy_and_submodule_imports_are_resolved(tmp_path):
    path = tmp_path / "shop" / "search" / "engine.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "import os\n"
        "from ..models import Product\n"
        "from . import base, Engine\n"
        "def search():\n"
        "    from shop import tasks\n"
        "    import shop.views.cart\n"
    )
    modules = dict.fromkeys(
        ["shop", "shop.models", "shop.search", "shop.search.base", "shop.search.engine", "shop.tasks", "shop.views"]
    )

    found = imports_of("shop.search.engine", path, modules, root=tmp_path)

    engine = "shop/search/engine.py"
    assert found == [
        Import("shop.search.engine", "shop.models", f"{engine}:2"),
        Import("shop.search.engine", "shop.search.base", f"{engine}:3"),
        Import("shop.search.engine", "shop.search", f"{engine}:3"),  # Engine: a name of the package
        Import("shop.search.engine", "shop.tasks", f"{engine}:5", lazy=True),
        Import("shop.search.engine", "shop.views", f"{engine}:6", lazy=True),  # the nearest module known
    ]


def test_apps_import_only_downward():
    _, edges = the_graph()
    upward = [edge for edge in edges if layer(edge.target) > layer(edge.source)]
    assert not upward, "Imports from a lower layer to a higher one (lowest first: " + " → ".join(LAYERS) + "):\n" + (
        "\n".join(map(str, upward))
    )


def test_no_package_has_an_import_cycle():
    _, edges = the_graph()
    # A module importing its own package (__init__) is no cycle of the package's modules.
    inside = [
        edge
        for edge in edges
        if edge.source.partition(".")[0] == edge.target.partition(".")[0]
        and not edge.source.startswith(edge.target + ".")
    ]
    found = cycles(inside)
    lines = []
    for component in found:
        lines.append(" ↔ ".join(component) + ":")
        lines += [f"  {edge}" for edge in inside if edge.source in component and edge.target in component]
    assert not found, "Import cycles between modules of one package:\n" + "\n".join(lines)
