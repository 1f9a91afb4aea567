"""No import cycle through the export stages or the export CLI (issue #16: flows/cli.py ↔ flows/cli_export.py
was one). The graph is read from the source with stdlib ast: every import, at module level or inside a function
(a lazy import closes a cycle as surely at run time), except those under ``if TYPE_CHECKING:``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "flows", "staging", "sources", "transforms", "schemas", "pinpoint", "local", "report", "export")
OURS = ("pinpoint_etl.export", "pinpoint_etl.flows.cli", "pinpoint_etl.flows.cli_export",
        "pinpoint_etl.flows.export_flow", "pinpoint_etl.flows.export_target")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
    return ".".join(["pinpoint_etl", *parts])


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING" or \
        isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # ``from pkg import module``
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in modules}


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), set(files)) - {name}
            for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "pinpoint_etl.export.run" in graph["pinpoint_etl.flows.cli_export"]  # a lazy import in export_cmd
    assert "pinpoint_etl.flows.cli_export" in graph["pinpoint_etl.flows.cli"]


def test_no_module_cycle_runs_through_the_export_stages_or_the_export_cli():
    bad = [sorted(c) for c in cycles(import_graph()) if any(m.startswith(OURS) for m in c)]
    assert bad == []


def test_the_export_package_depends_on_no_package_that_depends_on_it():
    graph = import_graph()
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        pkg = module.split(".")[1]
        packages.setdefault(pkg, set()).update(m.split(".")[1] for m in imported)
    for pkg in packages:
        packages[pkg].discard(pkg)
    assert not [c for c in cycles(packages) if "export" in c]
    assert "flows" not in packages["export"]  # the stages do not reach back into their drivers
