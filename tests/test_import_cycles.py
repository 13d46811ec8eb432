"""No import cycles in the package, counting imports inside functions too: a cycle hidden
in a function is still two modules that cannot be understood one without the other.

The two cycles listed are the ones left to take apart (the day composed in one place, the
demo generator in a package of its own); the test fails on any other, and on either of
them once it is gone, so that the list only shrinks."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import PROJECT_DIR

KNOWN = [
    {"pipeline.daily", "pipeline.partitions.run"},
    {
        "pipeline.demo",
        "pipeline.demo.cases",
        "pipeline.demo.claims",
        "pipeline.demo.feeds",
        "pipeline.demo.generator",
        "pipeline.demo.population",
    },
]


def modules() -> dict[str, Path]:
    found = {}
    for path in (PROJECT_DIR / "pipeline").rglob("*.py"):
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


def test_no_import_cycles_but_the_two_left_to_take_apart():
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    found = cycles(graph)
    assert sorted(map(sorted, found)) == sorted(map(sorted, KNOWN))
