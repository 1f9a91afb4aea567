"""No import cycle between the top-level packages, nor between the modules of one (issue #16).

The graph is read from the source with stdlib ast: every import, at module level or inside a function
(a lazy import closes a cycle as surely at run time), except those under ``if TYPE_CHECKING:``. The local
service is included: it has none either.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = tuple(sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"))

def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
    return ".".join(["pinpoint_etl", *parts])


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING" or \
        isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"


def imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that ``tree`` imports anywhere but under ``if TYPE_CHECKING:``."""
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
    return {name: imports(ast.parse(path.read_text(encoding="utf-8")), set(files)) - {name}
            for name, path in files.items()}


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {}
    for module, imported in graph.items():
        pkg = module.split(".")[1]
        packages.setdefault(pkg, set()).update(m.split(".")[1] for m in imported)
    return {pkg: deps - {pkg} for pkg, deps in packages.items()}


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
        for w in sorted(graph.get(v, ())):
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


def test_no_cycle_between_modules():
    assert [sorted(c) for c in cycles(import_graph())] == []


def test_no_cycle_between_packages():
    assert cycles(package_graph(import_graph())) == []


def test_the_layers():
    """``core`` imports no other package, ``storage`` only core; no stage reaches back into ``flows``."""
    packages = package_graph(import_graph())
    assert packages["core"] == set() and packages["storage"] <= {"core"}
    assert not [p for p, deps in packages.items() if "flows" in deps]
    assert "transforms" not in packages["sources"] and "schemas" not in packages["transforms"]


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a.b\nelse:\n    import a.e\n"
                     "def f():\n    from a import c\n    import a.d\n")
    assert imports(tree, {"a.b", "a.c", "a.d", "a.e"}) == {"a.c", "a.d", "a.e"}
    graph = import_graph()
    assert "pinpoint_etl.staging.chunks" in graph["pinpoint_etl.staging.dispatch"]  # inside run_chunk
    assert "pinpoint_etl.export.run" in graph["pinpoint_etl.flows.cli_export"]  # inside export_cmd


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []
