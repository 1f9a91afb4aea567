"""Import-file writers: CSV through pyarrow (fast), NDJSON on request. UTF-8, no BOM, uncompressed.

CSV headers are the dotted Pinpoint names with a multi-value attribute's slots written as
repeated headers, as the import format defines. NDJSON nests the dotted names back into
objects and gathers slots into arrays.
"""

from __future__ import annotations

import functools
import io
import json
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.transforms.strings import replace_where, string_buffers

if TYPE_CHECKING:  # the driver (mapping, encoding Arrow) runs without pandas
    import pandas as pd

StagedFormat = Literal["CSV", "JSON"]
EXTENSIONS = {"CSV": ".csv", "JSON": ".json"}


def ordered_columns(columns: list[str]) -> list[str]:
    """Import-file column order: documented scalar fields first, then custom attributes by name."""
    rank = {name: i for i, name in enumerate(cat.SCALAR_FIELDS)}
    return sorted(columns, key=lambda c: (rank.get(cat.base_name(c), len(rank)), cat.base_name(c),
                                          c != cat.base_name(c), len(c), c))


def csv_header(columns: list[str]) -> bytes:
    """The header line: slot columns repeat their attribute's name."""
    return (",".join(cat.base_name(c) for c in columns) + "\n").encode("utf-8")


def csv_rows(frame: pd.DataFrame | pa.Table, columns: list[str]) -> bytes:
    """CSV body (no header) of ``frame`` (pandas or Arrow) restricted/aligned to ``columns``; NA → empty cell."""
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    present = [c for c in columns if c in names]
    source = frame.select(present) if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame[present],
                                                                                            preserve_index=False)
    n = source.num_rows
    arrays = [source.column(c) if c in names else pa.nulls(n, type=pa.string()) for c in columns]
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def _nest(record: dict, name: str, value) -> None:
    parts = _path(name)
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _ndjson_rows_python(frame: pd.DataFrame, columns: list[str], lenient: bool = False) -> list[str]:
    """One NDJSON line per row, record by record (the reference for :func:`ndjson_rows`)."""
    number = _number_reader(lenient)
    groups: dict[str, list[str]] = {}
    for c in columns:
        if c in frame.columns:
            groups.setdefault(cat.base_name(c), []).append(c)
    lines = []
    records = frame[[c for cols in groups.values() for c in cols]].astype(object).where(frame.notna(), None)
    for row in records.itertuples(index=False, name=None):
        values = dict(zip(records.columns, row))
        rec: dict = {}
        for base, cols in groups.items():
            if cat.is_multi_value(base):
                vals = [values[c] for c in cols if values[c] is not None]
                if vals:
                    _nest(rec, base, vals)
            elif values[cols[0]] is not None:
                val = values[cols[0]]
                if _is_number_field(base):
                    val = number(val)
                _nest(rec, base, val)
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return lines


def _is_number_field(base: str) -> bool:
    return base.startswith(cat.METRIC_PREFIX) or base in ("Location.Latitude", "Location.Longitude")


def _number_reader(lenient: bool):
    """How a number field's text becomes its JSON value: ``float`` (import files hold validated numbers),
    or, ``lenient``, the number ``transforms.values.parse_number`` reads and the text itself where it
    reads none (an export writes what Pinpoint holds; loads pandas, which the import driver avoids)."""
    if not lenient:
        return float
    from pinpoint_etl.transforms.values import parse_number

    def number_or_text(text: str) -> float | str:
        value = parse_number(text)
        return text if value is None else value

    return number_or_text


def _path(base: str) -> list[str]:
    """The keys leading to a field in the nested endpoint: a custom attribute's own name is one key."""
    prefix = next((p for p in cat.CUSTOM_PREFIXES if base.startswith(p)), None)
    return prefix.rstrip(".").split(".") + [base[len(prefix):]] if prefix else base.split(".")


_LARGE = pa.large_string()
_EMPTY = pa.scalar("", _LARGE)
#: ends every fragment; written as "," and dropped before "}" or "]" once the lines are built (a byte
#: no vectorised row can hold: rows with control characters are encoded record by record)
_NEXT = "\x01"
_NDJSON_SLICE = 16384
_LINE_BLOCK = 1 << 18  # bytes searched for line ends at a time


def _text(parts) -> list:
    return [pa.scalar(p, _LARGE) if isinstance(p, str) else p for p in parts]


def _concat_or_null(*parts) -> pa.Array:
    """Element-wise concatenation; missing if any part is missing."""
    return pc.binary_join_element_wise(*_text(parts), _EMPTY)


def _concat_present(*parts) -> pa.Array:
    """Element-wise concatenation of the parts present ("" if none). The leading "" keeps pyarrow 26
    from dropping the rows where every part is missing."""
    return pc.binary_join_element_wise(_EMPTY, *_text(parts), _EMPTY, null_handling="skip")


def _nonempty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _data(arr: pa.Array) -> np.ndarray:
    """The bytes of the values of a string array, in order."""
    offsets, data = string_buffers(arr)
    return data[int(offsets[0]):int(offsets[-1])]


def _rows_with_control_chars(arr: pa.Array) -> np.ndarray:
    """Bool per row: the value holds a byte below 0x20."""
    offsets, data = string_buffers(arr)
    hits = np.flatnonzero(data[int(offsets[0]):int(offsets[-1])] < 0x20) + int(offsets[0])
    out = np.zeros(len(arr), dtype=bool)
    out[np.searchsorted(offsets, hits, side="right") - 1] = True
    return out


def _json_strings(arr: pa.Array) -> pa.Array:
    """JSON string literals (``"…"``, backslash and quote escaped); missing stays missing."""
    data = _data(arr)
    if np.any((data == 0x5C) | (data == 0x22)):
        arr = pc.replace_substring(pc.replace_substring(arr, "\\", "\\\\"), '"', '\\"')
    return _concat_or_null('"', arr, '"')


def _json_numbers(arr: pa.Array, lenient: bool = False) -> pa.Array:
    """JSON numbers as Python writes them (see :func:`_number_reader`), computed once per distinct value."""
    enc = arr.dictionary_encode()
    number = _number_reader(lenient)
    texts = [json.dumps(number(v), ensure_ascii=False) for v in enc.dictionary.to_pylist()]
    return pc.take(pa.array(texts, _LARGE), enc.indices)


def ndjson_rows(frame: pd.DataFrame | pa.Table, columns: list[str], *, lenient: bool = False) -> bytes:
    """NDJSON body: one nested endpoint object per line; slots become arrays, metrics numbers
    (``lenient``: a number field's text that spells no number stays a JSON string).

    Built column by column with Arrow string kernels, byte for byte what ``json.dumps`` writes for
    the record (keys in the order a dict built field by field has). Rows holding a control character
    (JSON escapes it as ``\\uXXXX``) are encoded record by record instead.
    """
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    if table.num_rows > _NDJSON_SLICE:  # a slice at a time: the intermediate columns stay small
        return b"".join(ndjson_rows(table.slice(i, _NDJSON_SLICE), columns, lenient=lenient)
                        for i in range(0, table.num_rows, _NDJSON_SLICE))
    n = table.num_rows
    if n == 0:
        return b""
    groups: dict[str, list[str]] = {}
    for c in columns:
        if c in table.column_names:
            groups.setdefault(cat.base_name(c), []).append(c)
    units = []  # per field in column order: (index, path, fragment `"key":value` + _NEXT, present)
    control = np.zeros(n, dtype=bool)
    for base, cols in groups.items():
        values = [table.column(c).combine_chunks().cast(_LARGE) for c in cols]
        for v in values:
            control |= _rows_with_control_chars(v)
        path = _path(base)
        key = json.dumps(path[-1], ensure_ascii=False) + ":"
        if cat.is_multi_value(base):
            items = _nonempty(_concat_present(*(_concat_or_null(_json_strings(v), _NEXT) for v in values)))
            fragment = _concat_or_null(key + "[", items, "]" + _NEXT)
        else:
            value = _json_numbers(values[0], lenient) if _is_number_field(base) else _json_strings(values[0])
            fragment = _concat_or_null(key, value, _NEXT)
        units.append((len(units), path, fragment, pc.is_valid(fragment)))

    def render(depth: int, members: list) -> pa.Array:
        """The body of the object at ``depth`` holding ``members``. As in a dict built row by row, a
        nested object sits where its first field present in that row comes (``User`` moves after the
        custom attributes when a row has no User.UserId)."""
        children: dict[str, list] = {}
        for unit in members:
            children.setdefault(unit[1][depth], []).append(unit)
        owner = {unit[0]: name for name, group in children.items() for unit in group}
        placed = []  # (field index, fragment or missing)
        for name, group in children.items():
            if len(group) == 1 and len(group[0][1]) == depth + 1:
                placed.append((group[0][0], group[0][2]))
                continue
            obj = _concat_or_null(json.dumps(name, ensure_ascii=False) + ":{", _nonempty(render(depth + 1, group)),
                                  "}" + _NEXT)
            runs: list[list] = []  # the object's fields, cut where another sibling's field comes between
            for unit in group:
                if runs and all(owner[i] == name for i in range(runs[-1][-1][0] + 1, unit[0]) if i in owner):
                    runs[-1].append(unit)
                else:
                    runs.append([unit])
            if len(runs) == 1:
                placed.append((group[0][0], obj))
                continue
            earlier = pa.repeat(False, n)
            for run in runs:
                present = functools.reduce(pc.or_, [unit[3] for unit in run])
                placed.append((run[0][0], pc.if_else(pc.and_not(present, earlier), obj, pa.scalar(None, obj.type))))
                earlier = pc.or_(earlier, present)
        placed.sort(key=lambda item: item[0])
        return _concat_present(*(fragment for _, fragment in placed))

    lines = _concat_or_null("{", render(0, units) if units else "", "}\n")
    if control.any():  # rare: such values pass the schema unless they hold CR, LF or TAB
        rows = np.flatnonzero(control)
        slow = _ndjson_rows_python(table.take(pa.array(rows)).to_pandas(), columns, lenient)
        lines = replace_where(lines, control, pa.array([line + "\n" for line in slow], _LARGE))
    buf = _data(lines.cast(_LARGE))
    marks = np.flatnonzero(buf == 1)
    if not marks.size:
        return buf.tobytes()
    out = buf.copy()
    closing = (buf[marks + 1] == 0x7D) | (buf[marks + 1] == 0x5D)  # "}" or "]" follows: the last field
    out[marks[~closing]] = 0x2C  # ","
    keep = np.ones(len(buf), dtype=bool)
    keep[marks[closing]] = False
    return out[keep].tobytes()


def line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (past the newline) of every line of import-file bytes ``buf``.

    Searched a block at a time: a mask of the whole buffer would take as many bytes again."""
    found = [np.flatnonzero(buf[i:i + _LINE_BLOCK] == 10) + (i + 1) for i in range(0, len(buf), _LINE_BLOCK)]
    ends = np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
    return ends - np.diff(ends, prepend=0), ends


def write_line_runs(fh, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray) -> None:
    """Write ``lines`` (ascending positions) of ``buf``: one write per run of adjacent lines, no copy."""
    if not len(lines):
        return
    breaks = np.flatnonzero(np.diff(lines) != 1)
    firsts, lasts = lines[np.r_[0, breaks + 1]], lines[np.r_[breaks, len(lines) - 1]]
    for a, b in zip(starts[firsts].tolist(), ends[lasts].tolist()):
        fh.write(memoryview(buf[a:b]))


def encode_rows(frame: pd.DataFrame | pa.Table, columns: list[str], fmt: StagedFormat) -> bytes:
    return csv_rows(frame, columns) if fmt == "CSV" else ndjson_rows(frame, columns)


def encode_header(columns: list[str], fmt: StagedFormat) -> bytes:
    return csv_header(columns) if fmt == "CSV" else b""
