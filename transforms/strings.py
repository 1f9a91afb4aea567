"""Private helpers: text columns as Arrow arrays, per-unique mapping, change counting.

Every normaliser works on the Arrow string array behind a pandas text column (zero-copy for
pandas' ``str``/``string[pyarrow]`` dtypes) and hands back a Series of the caller's dtype with
the caller's index. Python-level work is done once per distinct value, never once per row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # imported where Series are built: the driver uses the Arrow-only helpers without pandas
    import pandas as pd


def to_arrow(s: pd.Series) -> pa.Array:
    """The values of ``s`` as one (large_)string Arrow array (nulls where missing)."""
    values = s.array
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.large_string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        if arr.null_count == len(arr):
            return pa.nulls(len(arr), type=pa.large_string())
        arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.large_string(), from_pandas=True)
    return arr


def from_arrow(arr: pa.Array, like: pd.Series) -> pd.Series:
    """A Series of ``like``'s dtype, index and name holding ``arr``."""
    import pandas as pd

    dtype = like.dtype
    if isinstance(dtype, pd.StringDtype):
        return pd.Series(pd.array(arr, dtype=dtype), index=like.index, name=like.name, copy=False)
    # object (or anything else): Python str / None, dtype kept
    return pd.Series(np.array(arr.to_pylist(), dtype=object), index=like.index, name=like.name,
                     dtype=object, copy=False)


def bool_series(mask: np.ndarray, like: pd.Series) -> pd.Series:
    """A plain numpy-bool Series aligned on ``like``."""
    import pandas as pd

    return pd.Series(np.asarray(mask, dtype=bool), index=like.index, name=like.name, copy=False)


def to_numpy_bool(arr: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    """An Arrow boolean array as numpy bools, nulls read as ``null``."""
    return pc.fill_null(arr, null).to_numpy(zero_copy_only=False)


def string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data bytes) of a string / large_string array, honouring its slice offset."""
    bufs = arr.buffers()
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=off_type)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def count_changed(before: pa.Array, after: pa.Array) -> int:
    """Values that differ, not counting values missing before (a value made missing counts)."""
    if len(before) == 0:
        return 0
    differ = pc.fill_null(pc.not_equal(before, after), True)  # null vs non-null → differ
    counted = pc.and_(differ, pc.is_valid(before))
    return int(pc.sum(counted).as_py() or 0)


def dictionary(arr: pa.Array) -> tuple[list[Any], np.ndarray, pa.Array]:
    """Distinct non-missing values of ``arr`` (as Python str), per-row codes (-1 = missing) and
    the Arrow indices (null = missing) to take from a per-unique array."""
    enc = arr.dictionary_encode()
    uniques = enc.dictionary.to_pylist()
    indices = enc.indices
    codes = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False)
    return uniques, codes, indices


def map_unique(s: pd.Series, fn: Callable[[str], str | None]) -> tuple[pd.Series, int]:
    """Apply ``fn`` once per distinct non-missing value of ``s`` (``None`` result = missing).

    Returns the mapped Series (``s`` itself when nothing changed) and the number of values
    changed (missing inputs not counted).
    """
    if len(s) == 0:
        return s, 0
    arr = to_arrow(s)
    if arr.null_count == len(arr):
        return s, 0
    uniques, codes, indices = dictionary(arr)
    mapped = [fn(u) for u in uniques]
    changed_u = np.fromiter((m != u for m, u in zip(mapped, uniques)), dtype=bool, count=len(uniques))
    if not changed_u.any():
        return s, 0
    present = codes[codes >= 0]
    changed = int(np.count_nonzero(changed_u[present]))
    out = pc.take(pa.array(mapped, type=arr.type), indices)
    return from_arrow(out, s), changed


def unique_predicate(s: pd.Series, fn: Callable[[str], bool]) -> pd.Series:
    """Boolean Series: ``fn`` evaluated once per distinct value; missing → True."""
    if len(s) == 0:
        return bool_series(np.zeros(0, dtype=bool), s)
    arr = to_arrow(s)
    if arr.null_count == len(arr):
        return bool_series(np.ones(len(s), dtype=bool), s)
    uniques, codes, _ = dictionary(arr)
    ok_u = np.fromiter((bool(fn(u)) for u in uniques), dtype=bool, count=len(uniques))
    ok = np.append(ok_u, True)[codes]  # code -1 → the appended True
    return bool_series(ok, s)


def per_unique(arr: pa.Array, fn: Callable[[pa.Array], np.ndarray], *, ratio: float = 0.25) -> np.ndarray:
    """``fn`` (Arrow values → numpy result per value) computed on the distinct values when they are
    fewer than ``ratio`` of the values (countries, metrics, coordinates repeat), else on all of them."""
    if len(arr) < 1024:
        return fn(arr)
    enc = arr.dictionary_encode()
    if len(enc.dictionary) > ratio * len(arr):
        return fn(arr)
    on_uniques = np.asarray(fn(enc.dictionary))
    on_null = np.asarray(fn(pa.nulls(1, type=arr.type)))
    codes = pc.fill_null(enc.indices, len(on_uniques)).to_numpy(zero_copy_only=False)
    return np.concatenate([on_uniques, on_null])[codes]


def set_predicate(s: pd.Series, allowed: frozenset[str] | set[str]) -> pd.Series:
    """Boolean Series: value in ``allowed`` (exact); missing → True."""
    if len(s) == 0:
        return bool_series(np.zeros(0, dtype=bool), s)
    arr = to_arrow(s)
    ok = pc.is_in(arr, value_set=pa.array(sorted(allowed), type=arr.type))
    return bool_series(to_numpy_bool(pc.or_kleene(ok, pc.is_null(arr))), s)


def replace_where(arr: pa.Array, mask: np.ndarray, new_values: pa.Array) -> pa.Array:
    """``arr`` with the positions in ``mask`` (numpy bool) replaced by ``new_values`` (in order).

    One output array is allocated (a gather from ``arr`` + ``new_values`` concatenated took twice
    the column's size at its peak, and longer)."""
    if not mask.any():
        return arr
    return pc.replace_with_mask(arr, pa.array(mask, type=pa.bool_()), new_values.cast(arr.type))
