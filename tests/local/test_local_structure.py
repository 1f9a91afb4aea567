"""The local service stands apart from the pipeline: it imports none of the pipeline's packages (so the
pipeline's rules and the service's documented limits check each other), and its modules import
one another without a cycle. Read with the stdlib ``ast`` module, imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[2] / "local"
PIPELINE = ("core", "flows", "staging", "sources", "transforms", "schemas", "pinpoint", "report")


def _imports(path: Path) -> set[str]:
    """Modules imported by a file (absolute names), ``if TYPE_CHECKING:`` blocks left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names if alias.name[:1].islower()}
    return found


def _local_graph() -> dict[str, set[str]]:
    """Module → the local modules it imports; ``__init__`` (the package) is a node too: ``import
    pinpoint_etl.local`` or ``from pinpoint_etl.local import x`` runs it."""
    modules = {p.stem for p in LOCAL.glob("*.py")}
    graph = {}
    for name in modules:
        targets = set()
        for imported in _imports(LOCAL / f"{name}.py"):
            parts = imported.split(".")
            if parts[:2] != ["pinpoint_etl", "local"]:
                continue
            if len(parts) == 2:
                targets.add("__init__")
            elif parts[2] in modules:
                targets.add(parts[2])
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_service_imports_nothing_from_the_pipeline():
    offending = {}
    for path in sorted(LOCAL.glob("*.py")):
        bad = sorted(m for m in _imports(path)
                     if m.split(".")[0] in PIPELINE or (m.startswith("pinpoint_etl.") and m.split(".")[1] in PIPELINE))
        if bad:
            offending[path.name] = bad
    assert offending == {}


def test_no_import_cycle_inside_the_service():
    graph = _local_graph()
    assert len(graph) > 10 and graph["server"]  # the graph was read
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
