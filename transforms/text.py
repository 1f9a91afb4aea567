"""Rules for every text value: line breaks and tabs become spaces, values are trimmed, blank is missing.

The import format forbids CR, LF and TAB inside values (reference §1.1, ⚠️ resolved: forbid).
We also treat the other Unicode line breaks (VT, FF, NEL U+0085, LS U+2028, PS U+2029) the same
way, since a CSV consumer may split lines on them. Both rules scan the raw UTF-8 bytes first
(numpy over the Arrow buffers): only values holding a line break are rewritten, and a column is
only trimmed by Arrow when a first or last byte may be whitespace, so clean columns cost little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pinpoint_etl.transforms.strings import count_changed, from_arrow, map_unique, replace_where, string_buffers, to_arrow

#: characters replaced by a space
CONTROL_CHARS = "\r\n\t\x0b\x0c\x85\u2028\u2029"

# First / last UTF-8 byte of a value that may start / end with whitespace (Python's isspace set,
# which is also what Arrow's utf8_trim_whitespace strips): ASCII 9-13, 28-32, and the lead /
# final bytes of U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
_FIRST = np.zeros(256, dtype=bool)
_FIRST[[*range(9, 14), *range(28, 33), 0xC2, 0xE1, 0xE2, 0xE3]] = True
_LAST = np.zeros(256, dtype=bool)
_LAST[[*range(9, 14), *range(28, 33), *range(0x80, 0x8B), 0x9F, 0xA0, 0xA8, 0xA9, 0xAF]] = True


def _control_rows(arr: pa.Array) -> np.ndarray:
    """Positions of the non-missing values that contain a character of :data:`CONTROL_CHARS` (exact)."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    offsets, data = string_buffers(arr)
    lo = int(offsets[0])
    data = data[lo: int(offsets[-1])]
    hits = [np.flatnonzero((data >= 9) & (data <= 13))]  # \t \n \v \f \r
    lead = np.flatnonzero(data[:-1] == 0xC2)  # U+0085 = C2 85
    if lead.size:
        hits.append(lead[data[lead + 1] == 0x85])
    lead = np.flatnonzero(data[:-2] == 0xE2)  # U+2028 / U+2029 = E2 80 A8 / A9
    if lead.size:
        third = data[lead + 2]
        hits.append(lead[(data[lead + 1] == 0x80) & ((third == 0xA8) | (third == 0xA9))])
    positions = np.concatenate(hits)
    if positions.size == 0:
        return positions
    rows = np.unique(np.searchsorted(offsets, positions + lo, side="right") - 1)
    if arr.null_count:
        rows = rows[arr.is_valid().to_numpy(zero_copy_only=False)[rows]]
    return rows


def _may_need_trim(arr: pa.Array) -> bool:
    if len(arr) == 0 or arr.null_count == len(arr):
        return False
    offsets, data = string_buffers(arr)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    if np.any(valid & (lengths == 0)):
        return True  # blank → missing
    nonempty = valid & (lengths > 0)
    return bool(_FIRST[data[starts[nonempty]]].any() or _LAST[data[ends[nonempty] - 1]].any())


_CONTROL_TABLE = str.maketrans({c: " " for c in CONTROL_CHARS})


def replace_control_chars(series: pd.Series) -> tuple[pd.Series, int]:
    """CR, LF, TAB (and VT, FF, NEL, LS, PS) → one space each. Returns (values, values changed).

    The raw UTF-8 bytes are scanned for these characters; only the values holding one are
    rewritten (in Python), so a clean column costs one pass over its bytes.
    """
    arr = to_arrow(series)
    rows = _control_rows(arr)
    if rows.size == 0:
        return series, 0
    take = pa.array(rows)
    fixed = pa.array([v.translate(_CONTROL_TABLE) for v in arr.take(take).to_pylist()], type=arr.type)
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    return from_arrow(replace_where(arr, mask, fixed), series), int(rows.size)


def trim(series: pd.Series) -> tuple[pd.Series, int]:
    """Strip leading/trailing whitespace; blank after stripping → missing. Returns (values, changed)."""
    arr = to_arrow(series)
    if not _may_need_trim(arr):
        return series, 0
    out = pc.utf8_trim_whitespace(arr)
    out = pc.if_else(pc.equal(pc.binary_length(out), 0), pa.scalar(None, type=out.type), out)
    changed = count_changed(arr, out)
    if changed == 0:
        return series, 0
    return from_arrow(out, series), changed


def collapse_whitespace(series: pd.Series) -> tuple[pd.Series, int]:
    """Trim and collapse inner whitespace runs to one space (per distinct value)."""
    return map_unique(series, lambda v: " ".join(v.split()) or None)


def is_free_of_control_chars(series: pd.Series) -> pd.Series:
    """False for values holding a C0 control character or DEL (NUL, ESC, …); missing → True.

    Line breaks and tabs are replaced by :func:`replace_control_chars` before validation; the
    other control characters have no printable meaning, so the schema rejects them.
    """
    arr = to_arrow(series)
    ok = np.ones(len(arr), dtype=bool)
    if len(arr) == 0 or arr.null_count == len(arr):
        return pd.Series(ok, index=series.index)
    offsets, data = string_buffers(arr)
    lo = int(offsets[0])
    data = data[lo: int(offsets[-1])]
    positions = np.flatnonzero((data < 32) | (data == 127))
    if positions.size:
        rows = np.unique(np.searchsorted(offsets, positions + lo, side="right") - 1)
        ok[rows] = False
        if arr.null_count:
            ok |= ~arr.is_valid().to_numpy(zero_copy_only=False)
    return pd.Series(ok, index=series.index)
