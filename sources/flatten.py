"""Nested JSON records → flat ``dotted.name → text`` pairs (the shape CSV sources have).

* nested objects → dotted names: ``{"Location": {"Country": "US"}}`` → ``Location.Country``;
  an empty object contributes nothing;
* arrays → slot columns (``core.catalogue.slot_name``): ``{"Attributes": {"Interests": ["a", "b"]}}``
  → ``Attributes.Interests``, ``Attributes.Interests#2``; an empty array contributes nothing; a null
  element keeps its slot, as an empty cell in a repeated CSV column would;
* scalars → text as JSON prints them: ``12`` → ``"12"``, ``47.6`` → ``"47.6"``, ``true`` → ``"true"``;
  ``null`` → None (missing);
* an object or array *inside an array* is not flattened: its slot holds its compact JSON text
  (``{"a":1}``), so validation can reject it with the value in view. Nothing is raised here.
* a name produced twice in one record (``"Location.Country"`` next to ``"Location": {"Country": ..}``)
  keeps the later value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pyarrow as pa

from pinpoint_etl.core.catalogue import slot_name

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode


def render(value: object) -> str | None:
    """One JSON value as text; None for null."""
    t = type(value)
    if t is str:
        return value  # type: ignore[return-value]
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if t is int:
        return str(value)
    if t is float:
        return repr(value) if math.isfinite(value) else _compact(value)  # NaN / Infinity as JSON spells them
    return _compact(value)


def iter_flat(record: dict, prefix: str = "") -> Iterator[tuple[str, str | None]]:
    """(name, text) pairs of one JSON object, in document order (see module docstring)."""
    for key, value in record.items():
        t = type(value)
        if t is str:
            yield prefix + key, value
        elif t is dict:
            yield from iter_flat(value, f"{prefix}{key}.")
        elif t is list:
            name = prefix + key
            for i, item in enumerate(value):
                yield slot_name(name, i), item if type(item) is str else render(item)
        else:
            yield prefix + key, render(value)


class ColumnBuilder:
    """Collects flattened records column by column and hands them out as an Arrow table of text.

    Records may have different names: a column is missing (null) in the rows that lack it.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list] = {}
        self.rows = 0

    def add(self, record: dict) -> None:
        n = self.rows
        columns = self.columns
        for name, value in iter_flat(record):
            col = columns.get(name)
            if col is None:
                col = columns[name] = [None] * n
            elif len(col) < n:
                col.extend([None] * (n - len(col)))
            elif len(col) > n:  # the same name twice in one record: the later value wins
                col.pop()
            col.append(value)
        self.rows = n + 1

    def table(self) -> pa.Table:
        """Everything added so far, as a table of ``large_string`` columns; the builder is emptied."""
        n = self.rows
        arrays = []
        for col in self.columns.values():
            if len(col) < n:
                col.extend([None] * (n - len(col)))
            arrays.append(pa.array(col, type=pa.large_string()))
        if arrays:
            table = pa.table(arrays, names=list(self.columns))
        else:  # records without any value still count as rows
            table = pa.table({"_": pa.nulls(n)}).drop_columns(["_"])
        self.columns, self.rows = {}, 0
        return table
