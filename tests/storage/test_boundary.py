"""Bytes at rest are touched only through ``storage``: no other package (the local service aside, which
*is* S3) calls S3's object operations, opens URLs or classifies botocore/requests failures itself.
Read from the source with stdlib ast."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "flows", "staging", "sources", "transforms", "schemas", "pinpoint", "report", "export")
S3_OPERATIONS = frozenset({
    "get_object", "put_object", "head_object", "head_bucket", "delete_object", "delete_objects", "copy_object",
    "list_objects", "list_objects_v2", "create_multipart_upload", "upload_part", "complete_multipart_upload",
    "abort_multipart_upload", "list_multipart_uploads",
})
IO_MODULES = ("smart_open", "requests", "urllib", "botocore.exceptions")


def _storage(node: ast.AST) -> bool:
    """``objects.delete_objects(...)``: a call of storage's own functions (its modules imported by name)."""
    return isinstance(node, ast.Name) and node.id in ("objects", "write")


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in S3_OPERATIONS and not _storage(node.value):
            found.append(f"{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Constant) and node.value in S3_OPERATIONS:  # get_paginator("list_objects_v2")
            found.append(f"{node.value!r} (line {node.lineno})")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"import {n} (line {node.lineno})" for n in names if n.startswith(IO_MODULES)]
        elif isinstance(node, ast.Name) and node.id == "ClientError":
            found.append(f"{node.id} (line {node.lineno})")
    return found


def test_only_storage_touches_objects_urls_and_their_failures():
    bad = {str(p.relative_to(ROOT)): o for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
           if (o := _offences(p))}
    assert bad == {}


def test_the_check_sees_what_it_looks_for():
    probe = _offences(ROOT / "storage" / "objects.py")
    assert any("head_object" in o for o in probe) and any("list_objects_v2" in o for o in probe)
    assert any("ClientError" in o for o in _offences(ROOT / "storage" / "write.py"))
