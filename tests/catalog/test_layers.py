"""Apps import only downward: catalog → cart → orders → catalog.reviews → recommendations.

Pages that show a higher app's parts (shelves, reviews) compose them in
their templates, through that app's inclusion tags.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ABOVE = {
    "catalog": ("cart", "orders", "catalog.reviews", "recommendations"),
    "cart": ("orders", "catalog.reviews", "recommendations"),
}


def imported_modules(path: Path):
    """Every module a file imports, at any level (functions included), relative imports resolved."""
    package = path.relative_to(ROOT).parent.parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            yield ".".join([*base, *([node.module] if node.module else [])])


@pytest.mark.parametrize("app", sorted(ABOVE))
def test_an_app_imports_no_app_above_it(app):
    upward = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / app).rglob("*.py")
        if not path.is_relative_to(ROOT / "catalog" / "reviews")  # an app of its own, above orders
        for module in imported_modules(path)
        if any(module == higher or module.startswith(higher + ".") for higher in ABOVE[app])
    ]
    assert upward == []
