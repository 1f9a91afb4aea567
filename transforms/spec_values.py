"""Vectorised pieces of the mapping spec over Arrow text columns: presence, templates, hashed Ids, value
maps and dates. Python runs once per distinct value (maps, dates) or not at all (templates)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pinpoint_etl.transforms.spec import BOOLEAN_FALSE, BOOLEAN_TRUE, FieldSource, template_parts

TEXT = pa.large_string()
_BOOLEAN = {**{k: "ALL" for k in BOOLEAN_TRUE}, **{k: "NONE" for k in BOOLEAN_FALSE}}


def nulls(n: int) -> pa.Array:
    return pa.nulls(n, type=TEXT)


def as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One (large) string array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column if column.type == TEXT else column.cast(TEXT)


def present(arr: pa.Array) -> np.ndarray:
    """True where a value is there once trimmed (what the text rules would keep)."""
    if arr.null_count == len(arr):
        return np.zeros(len(arr), dtype=bool)
    blank = pc.or_kleene(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
    return pc.fill_null(pc.invert(blank), False).to_numpy(zero_copy_only=False)


def trimmed(arr: pa.Array) -> pa.Array:
    """Values trimmed, blank → missing."""
    out = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(pc.binary_length(out), 0), pa.scalar(None, TEXT), out)


def render_template(parts: list[tuple[str, bool]], column, n: int) -> pa.Array:
    """A template filled row by row; missing where any column it names is missing (values trimmed)."""
    pieces = [trimmed(column(text)) if is_col else pa.scalar(text, TEXT) for text, is_col in parts]
    arrays = [p for p in pieces if isinstance(p, pa.Array)]
    if not arrays:
        return pa.repeat(pa.scalar("".join(text for text, _ in parts), TEXT), n)
    if len(pieces) == 1:
        return arrays[0]
    return pc.binary_join_element_wise(*pieces, pa.scalar("", TEXT))


def hashed_ids(columns: list[pa.Array], prefix: str) -> pa.Array:
    """``prefix`` + 20 hex digits of BLAKE2b over the trimmed values (joined by U+001F); missing where
    any value is missing. Stable across runs, machines and versions."""
    joined = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, pa.scalar("\x1f", TEXT))
    enc = joined.dictionary_encode()
    digests = [prefix + hashlib.blake2b(v.encode("utf-8"), digest_size=10).hexdigest()
               for v in enc.dictionary.to_pylist()]
    return pa.array(digests, type=TEXT).take(enc.indices)


def _per_unique(arr: pa.Array, fn) -> tuple[pa.Array, np.ndarray]:
    """``fn`` once per distinct value: (values, per-row "fn changed it" flags; missing → False)."""
    enc = arr.dictionary_encode()
    uniques = enc.dictionary.to_pylist()
    mapped = [fn(u) for u in uniques]
    changed_u = np.fromiter((m != u for m, u in zip(mapped, uniques)), dtype=bool, count=len(uniques))
    codes = pc.fill_null(enc.indices, len(uniques)).to_numpy(zero_copy_only=False)
    return pa.array(mapped, type=TEXT).take(enc.indices), np.append(changed_u, False)[codes]


def map_values(arr: pa.Array, mapping: dict[str, str | None] | str) -> tuple[pa.Array, int]:
    """Values through a value map (keys trimmed, case-insensitive; unmapped values kept; the key ""
    also maps missing values); ``boolean``: the OptOut map, where a missing value is NONE. Returns
    (values, values changed)."""
    table = _BOOLEAN if mapping == "boolean" else {k.strip().casefold(): v for k, v in mapping.items()}
    out, changed = _per_unique(arr, lambda u: table.get(u.strip().casefold(), u))
    n = int(changed.sum())
    if table.get("") is not None and arr.null_count:
        n += arr.null_count
        out = pc.fill_null(out, table[""])
    return out, n


def _iso(text: str, formats: list[str], full: bool) -> str | None:
    value = text.strip()
    for fmt in formats:
        try:
            d = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if d.tzinfo is not None:
            d = d.astimezone(UTC).replace(tzinfo=None)
        return d.strftime("%Y-%m-%dT%H:%M:%SZ") if full else d.strftime("%Y-%m-%d")
    return None


def parse_dates(arr: pa.Array, formats: list[str], full: bool) -> tuple[pa.Array, np.ndarray]:
    """Dates as ISO 8601 (see transforms.spec); (values, rows no format could read: left missing)."""
    out, _ = _per_unique(arr, lambda u: _iso(u, formats, full) if u.strip() else None)
    bad = pc.and_(pc.is_null(out), pc.is_valid(trimmed(arr))).to_numpy(zero_copy_only=False)
    return out, bad


def field_values(source: FieldSource, column, n: int, *, full_dates: bool) -> tuple[pa.Array, np.ndarray, dict]:
    """One field's values for ``n`` rows: (values, rows whose date could not be read, changes)."""
    changes: dict[str, int] = {}
    if source.value is not None:
        arr = pa.repeat(pa.scalar(source.value, TEXT), n)
    elif source.template is not None:
        arr = render_template(template_parts(source.template), column, n)
    else:
        arr = column(source.column)
    if source.map is not None:
        arr, changes["value_map"] = map_values(arr, source.map)
    bad = np.zeros(n, dtype=bool)
    if source.date_formats is not None:
        before = arr
        arr, bad = parse_dates(arr, source.date_formats, full_dates or source.has_time)
        changes["date"] = int(pc.sum(pc.fill_null(pc.not_equal(before, arr), False)).as_py() or 0)
    return arr, bad, changes
