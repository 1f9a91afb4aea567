"""Recursive check of a JSON value against a botocore shape (what the wire must carry).

Strict where botocore's parser is lenient: a member the model does not have, a number where the
model says string, a missing required member, a value outside an enum are all reported, with the
path of the offending value.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape


def problems(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Every way ``value`` departs from ``shape`` (empty if it conforms)."""
    kind = shape.type_name
    out: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({shape.name}), got {type(value).__name__}"]
        members = shape.members
        for name in shape.metadata.get("required", []):
            if name not in value:
                out.append(f"{path}.{name}: required member of {shape.name} missing")
        for name, item in value.items():
            if name not in members:
                out.append(f"{path}.{name}: not a member of {shape.name}")
            else:
                out += problems(item, members[name], f"{path}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list ({shape.name}), got {type(value).__name__}"]
        for index, item in enumerate(value):
            out += problems(item, shape.member, f"{path}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map ({shape.name}), got {type(value).__name__}"]
        for key, item in value.items():
            out += problems(key, shape.key, f"{path}<key>")
            out += problems(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string ({shape.name}), got {type(value).__name__} {value!r}"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            out.append(f"{path}: {value!r} is not one of {shape.name}'s values {enum}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{path}: expected an integer ({shape.name}), got {value!r}")
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(f"{path}: expected a number ({shape.name}), got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: expected a boolean ({shape.name}), got {value!r}")
    elif kind == "timestamp":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            out.append(f"{path}: expected a timestamp ({shape.name}), got {value!r}")
    else:
        out.append(f"{path}: shape type {kind} not checked")
    return out


def payload_shape(output: Shape | None) -> Shape | None:
    """The shape of the JSON body of an operation's answer (its ``payload`` member's shape)."""
    if output is None:
        return None
    name = output.serialization.get("payload")
    return output.members[name] if name else output
