"""Applying a mapping spec to a chunk: source rows (Arrow) → endpoints (Arrow), vectorised.

Each field is computed once over the chunk's rows (value maps and dates once per distinct value),
each block's Address, ChannelType and Id likewise; then the endpoints are gathered in one ``take``
per column, in source-row order and, within a row, in block order (so "the last occurrence of an Id
wins" still means the later row). Every endpoint keeps its source row (``_source``, ``_row``) and
its position in the chunk (``Expanded.rows``); rows that yield no endpoint are listed apart.

Source columns are looked up by exact name, else by the one name equal ignoring case and blanks;
a column holding several values (a repeated CSV header, a JSON array: slots ``x``, ``x#2``…) fills
the slots of a multi-value field (Attributes.*, User.UserAttributes.*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from pinpoint_etl.core.errors import ColumnError
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.transforms.columns import _finder
from pinpoint_etl.transforms.spec import FieldSource, MappingSpec, template_columns, template_parts
from pinpoint_etl.transforms.spec_values import (
    TEXT,
    as_text,
    field_values,
    hashed_ids,
    map_values,
    nulls,
    present,
    render_template,
    trimmed,
)

_MAX_LISTED = 20


@dataclass
class Expanded:
    """A chunk's endpoints and where each came from."""

    table: pa.Table                 # endpoints: Pinpoint columns, _source, _row
    rows: np.ndarray                # per endpoint: its source row's position in the chunk
    blocks: np.ndarray              # per endpoint: index of the block that made it
    reasons: dict[int, list[str]]   # endpoint position → reasons found while applying the spec
    no_endpoint: np.ndarray         # positions of source rows that yielded no endpoint
    changes: dict[str, int] = field(default_factory=dict)


def no_endpoint_reason(spec: MappingSpec) -> str:
    cols = ", ".join(b.address for b in spec.endpoints)
    return f"no endpoint: none of the address columns ({cols}) holds a value"


def _bases(columns: list[str]) -> list[str]:
    return list(dict.fromkeys(cat.base_name(c) for c in columns if c not in cat.META_COLS))


def check_spec_columns(spec: MappingSpec, columns: list[str], *, require: bool) -> None:
    """ColumnError for columns the spec names that ``columns`` lacks (``require``: a CSV header; a JSON
    record may leave a field out) and, unless ``unmapped: ignore``, for columns it neither uses nor ignores."""
    bases = _bases(columns)
    find = _finder(bases)
    used = {find(c) or c for c in spec.columns()}
    if require:
        missing = [c for c in spec.columns() if find(c) is None]
        if missing:
            raise ColumnError(f"the mapping spec names columns the source does not have: {', '.join(missing)} "
                              f"(columns: {', '.join(bases[:_MAX_LISTED])})")
    if spec.unmapped == "error":
        ignored = _finder(spec.ignore)
        unused = [c for c in bases if c not in used and ignored(c) is None]
        if unused:
            listed = ", ".join(unused[:_MAX_LISTED]) + (f" (+{len(unused) - _MAX_LISTED} more)"
                                                        if len(unused) > _MAX_LISTED else "")
            raise ColumnError(f"columns the mapping spec does not use: {listed} — use them in fields, list them "
                              "under ignore:, or set unmapped: ignore")


def spec_targets(spec: MappingSpec) -> list[str]:
    """The Pinpoint fields a spec writes (slot columns aside), for the run's column checks."""
    names = ["Id", "ChannelType", "Address", *spec.fields]
    names += [t for b in spec.endpoints for t in b.fields]
    return list(dict.fromkeys(names))


class _Columns:
    """The chunk's source columns by the names a spec uses (absent → all missing)."""

    def __init__(self, table: pa.Table):
        self.table, self.n = table, table.num_rows
        self.names = [c for c in table.column_names if c not in cat.META_COLS]
        self.find = _finder(self.names)
        self._cache: dict[str, pa.Array] = {}

    def __call__(self, name: str) -> pa.Array:
        actual = self.find(name)
        if actual is None:
            return nulls(self.n)
        if actual not in self._cache:
            self._cache[actual] = as_text(self.table.column(actual))
        return self._cache[actual]

    def slots(self, name: str) -> list[pa.Array]:
        """The column and its further slots (``name#2``…), in order."""
        actual = self.find(name)
        if actual is None:
            return [nulls(self.n)]
        out = [self(actual)]
        while (slot := cat.slot_name(actual, len(out))) in self.names:
            out.append(as_text(self.table.column(slot)))
        return out


def _field_columns(target: str, source: FieldSource, cols: _Columns,
                   changes: dict[str, int]) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Output columns of one field (slots for a multi-value field fed by a multi-value column) and the
    rows whose date could not be read."""
    full = target == "EffectiveDate"
    if source.column is not None and cat.is_multi_value(target) and len(cols.slots(source.column)) > 1:
        out, bad = {}, np.zeros(cols.n, dtype=bool)
        for i, arr in enumerate(cols.slots(source.column)):
            values, b, ch = field_values(source, lambda _, a=arr: a, cols.n, full_dates=full)
            out[cat.slot_name(target, i)] = values
            bad |= b
            _add(changes, ch)
        return out, bad
    values, bad, ch = field_values(source, cols, cols.n, full_dates=full)
    _add(changes, ch)
    return {target: values}, bad


def _add(changes: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        changes[k] = changes.get(k, 0) + v


def expand(table: pa.Table, spec: MappingSpec) -> Expanded:
    """The endpoints of a tagged chunk ``table`` under ``spec`` (see module docstring)."""
    cols = _Columns(table)
    n, nblocks = cols.n, len(spec.endpoints)
    changes: dict[str, int] = {}
    row_reasons: list[tuple[np.ndarray, str]] = []      # (rows, reason) for every block
    block_reasons: list[tuple[int, np.ndarray, str]] = []  # (block, rows, reason)

    shared: dict[str, pa.Array] = {}
    for target, source in spec.fields.items():
        out, bad = _field_columns(target, source, cols, changes)
        shared.update(out)
        if bad.any():
            row_reasons.append((bad, _date_reason(target, source)))

    per_block: list[dict[str, pa.Array]] = []
    has = np.zeros((n, nblocks), dtype=bool)
    for b, block in enumerate(spec.endpoints):
        address = cols(block.address)
        has[:, b] = present(address)
        if block.channel is not None:
            channel = pa.repeat(pa.scalar(block.channel, TEXT), n)
        else:
            channel = trimmed(cols(block.channel_column))
            if block.channel_map:
                channel, k = map_values(channel, block.channel_map)
                _add(changes, {"value_map": k})
        if block.id is not None:
            ids = render_template(template_parts(block.id), cols, n)
            needs = template_columns(block.id)
        else:
            ids = hashed_ids([trimmed(cols(c)) for c in block.id_hash], block.id_prefix)
            needs = block.id_hash
        missing_id = ids.is_null().to_numpy(zero_copy_only=False)
        if missing_id.any():
            reason = f"Id of the {block.name} endpoint needs {', '.join(needs)}, which is missing"
            block_reasons.append((b, missing_id, reason))
        columns = {"Id": ids, "ChannelType": channel, "Address": address}
        for target, source in block.fields.items():
            out, bad = _field_columns(target, source, cols, changes)
            columns.update(out)
            if bad.any():
                block_reasons.append((b, bad, _date_reason(target, source)))
        per_block.append(columns)

    flat = np.flatnonzero(has.ravel())  # row-major: endpoint r * nblocks + b, in row then block order
    rows, blocks = flat // nblocks, flat % nblocks
    gather = pa.array(rows)
    names = list(dict.fromkeys([*(c for cs in per_block for c in cs), *shared]))
    arrays = []
    for name in names:
        values = [cs.get(name, shared.get(name)) for cs in per_block]
        if all(v is values[0] for v in values) and values[0] is not None:
            arrays.append(values[0].take(gather))
        else:
            stacked = pa.concat_arrays([v if v is not None else nulls(n) for v in values])
            arrays.append(stacked.take(pa.array(blocks * n + rows)))
    arrays += [table.column(c).take(gather) for c in cat.META_COLS]
    out = pa.Table.from_arrays(arrays, names=names + list(cat.META_COLS))

    reasons: dict[int, list[str]] = {}
    for mask, reason in row_reasons:
        for pos in np.flatnonzero(mask[rows]).tolist():
            reasons.setdefault(pos, []).append(reason)
    for b, mask, reason in block_reasons:
        for pos in np.flatnonzero(mask[rows] & (blocks == b)).tolist():
            reasons.setdefault(pos, []).append(reason)
    return Expanded(table=out, rows=rows, blocks=blocks, reasons=reasons,
                    no_endpoint=np.flatnonzero(~has.any(axis=1)), changes=changes)


def _date_reason(target: str, source: FieldSource) -> str:
    return f"{target} is not a date in the format{'s' if len(source.date_formats) > 1 else ''} " \
           f"{' or '.join(source.date_formats)}"
