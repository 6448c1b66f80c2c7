"""No import circle in ``trayai/``, counting imports inside functions (issue 24).

Why: a circle hidden behind a function-local import still ties two modules together — errors.py used
to reach up into the transports it is imported by, config.py into actions.py. Imports under
``if TYPE_CHECKING:`` never run, so they do not count.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "trayai"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _RuntimeImports(ast.NodeVisitor):
    """Every import that runs: at the top, in functions, in try/if — not under TYPE_CHECKING."""

    def __init__(self) -> None:
        self.found: list[tuple[str, int, list[str]]] = []  # (module, level, names)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((alias.name, 0, []) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node.module or "", node.level, [alias.name for alias in node.names]))


@functools.cache
def parsed(path: Path) -> tuple[ast.Module, list[str]]:
    """A module's tree and lines, parsed once for every check here (parsing is what they cost)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return ast.parse("\n".join(lines)), lines


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        visitor = _RuntimeImports()
        visitor.visit(parsed(path)[0])
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for written, level, names in visitor.found:
            target = written
            if level:
                base = package.split(".")[: len(package.split(".")) - level + 1]
                target = ".".join([*base, written] if written else base)
            for imported in names or [""]:
                hit = known(f"{target}.{imported}" if imported else target)
                if hit is not None and hit != name:
                    edges.add(hit)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start, edges in graph.items():
        if start in index:
            continue
        work = [(start, iter(sorted(edges)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_in_trayai_is_part_of_an_import_circle() -> None:
    assert cycles(import_graph()) == []


def test_function_local_imports_count_and_type_checking_ones_do_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from trayai.core import client\n"
        "def late():\n    from trayai.core.net.urls import host_port\n"
    )
    visitor = _RuntimeImports()
    visitor.visit(ast.parse(source))
    assert ("trayai.core.net.urls", 0, ["host_port"]) in visitor.found
    assert all(module != "trayai.core" for module, _, _ in visitor.found)


def test_a_circle_is_found() -> None:
    graph = import_graph()
    graph["trayai.core.errors"] = graph["trayai.core.errors"] | {"trayai.core.net.urls"}
    assert ["trayai.core.errors", "trayai.core.net.urls"] in cycles(graph)


def test_errors_is_at_the_bottom() -> None:
    """errors.py imports nothing of the package but its catalogue, which imports only strenum:
    everything may import them."""
    graph = import_graph()
    assert graph["trayai.core.errors"] <= {"trayai.core.error_catalog", "trayai.core"}
    assert graph["trayai.core.error_catalog"] <= {"trayai.core.strenum", "trayai.core"}


def unexplained_local_imports() -> list[str]:
    """Function-local imports without a ``# lazy: why`` on the line above (or a run of imports it
    heads): a start-up saving must say so, anything else belongs at the top of its module."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        tree, lines = parsed(path)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if not isinstance(sub, (ast.Import, ast.ImportFrom)):
                    continue
                at = sub.lineno - 1
                while at > 0 and lines[at - 1].strip().startswith(("import ", "from ")):
                    at -= 1  # a run of imports under one comment
                if "# lazy:" not in lines[sub.lineno - 1] and not lines[at - 1].strip().startswith("# lazy:"):
                    found.append(f"{path.relative_to(ROOT.parent)}:{sub.lineno}")
    return found


def test_every_function_local_import_says_why() -> None:
    assert unexplained_local_imports() == []
