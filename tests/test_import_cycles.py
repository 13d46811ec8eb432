"""No import cycles in the packages (the pipeline and the demo district generator),
counting imports inside functions too: a cycle hidden in a function is still two modules
that cannot be understood one without the other.

Cycles listed in KNOWN are ones left to take apart (there are none left); the test fails
on any other, and on a listed one once it is gone, so that the list only shrinks. The
pipeline never imports the demo generator at module level: it is an extra."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT_DIR

KNOWN: list[set[str]] = []
# The packages whose modules are checked.
PACKAGES = ("pipeline", "fpwarn_demo")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_DIR / package).rglob("*.py"):
            name = ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    named = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
    return {name for name in named if name in known}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    found = cycles(graph)
    assert sorted(map(sorted, found)) == sorted(map(sorted, KNOWN))


def test_both_packages_are_scanned():
    known = modules()
    for package in PACKAGES:
        assert package in known
    assert "fpwarn_demo.departments.education" in known


def test_the_pipeline_imports_the_demo_generator_only_where_it_is_used():
    """At module level no pipeline module names fpwarn_demo: without the extra installed,
    every command but ``demo`` (and the benchmark that generates a district) still works."""
    top_level = []
    for name, path in modules().items():
        if not name.startswith("pipeline"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                named = [node.module]
            elif isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                continue
            top_level += [
                f"{name}: {module}" for module in named if module.startswith("fpwarn_demo")
            ]
    assert top_level == []
