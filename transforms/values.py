"""OptOut (ALL / NONE) and numbers (Metrics.*; the coordinates use the same reading).

Numbers are read strictly: optional sign, ASCII digits, optional fraction and exponent
(`` 12 ``, ``1e3``, ``3.50``, ``.5``, ``+7``). ``NaN``, ``Infinity``, ``1,000``, ``1_000``, non-ASCII
digits and overflow to infinity are not numbers and are left as they are. Canonical rendering of
a metric: an integral value below 1e16 as an integer (``1000``, ``-3``), anything else as Python's
shortest round-trip ``repr`` (``3.5``, ``1e+16``, ``1.5e-07``); it always reads back as the same float.

Speed: metric values are often all distinct, so already-canonical text is recognised by regex
(integers of ≤ 15 digits; plain decimals of ≤ 15 digits with no trailing zero and magnitude ≥ 1e-4,
for which ``repr`` is the text itself), integral values are rendered by Arrow, and only the rest
(``3.50``, ``1e-7``…) is formatted in Python, once per distinct value.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pinpoint_etl.core.catalogue import OPT_OUT_VALUES
from pinpoint_etl.transforms.strings import (
    bool_series,
    count_changed,
    from_arrow,
    map_unique,
    per_unique,
    replace_where,
    set_predicate,
    to_arrow,
    to_numpy_bool,
)

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: the same syntax for Arrow (RE2)
NUMBER_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_CANONICAL_INT_RE = r"^(?:0|-?[1-9][0-9]{0,14})$"
_CANONICAL_DEC_RE = r"^-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]$"
_TOO_SMALL_RE = r"^-?0\.0000"
_TRAILING_ZEROS_RE = r"^(-?[0-9]+\.[0-9]*?)0+$"
_TRAILING_DOT_RE = r"^(-?[0-9]+)\.$"
_OPT_OUT = frozenset(OPT_OUT_VALUES)


def parse_number(text: str) -> float | None:
    """The finite float ``text`` spells (trimmed, strict syntax), or None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    """Canonical text of a finite float (see module docstring)."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def canonical_number(text: str) -> str:
    """Canonical text of the number ``text`` spells, or ``text`` unchanged if it is not one."""
    value = parse_number(text)
    return text if value is None else format_number(value)


def parse_numbers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`parse_number`: (is a finite number, float64 values, NaN where not)."""
    trimmed = pc.utf8_trim_whitespace(arr)
    ok = to_numpy_bool(pc.match_substring_regex(trimmed, NUMBER_RE))
    values = np.full(len(arr), np.nan)
    if ok.any():
        values[ok] = pc.cast(trimmed.filter(pa.array(ok)), pa.float64()).to_numpy(zero_copy_only=False)
    ok &= np.isfinite(values)
    return ok, values


def _canonical_number_mask(arr: pa.Array) -> np.ndarray:
    """Text that :func:`canonical_number` would return unchanged (a conservative subset)."""
    return per_unique(arr, _canonical_number_mask_all)


def _canonical_number_mask_all(arr: pa.Array) -> np.ndarray:
    ints = to_numpy_bool(pc.match_substring_regex(arr, _CANONICAL_INT_RE))
    decs = to_numpy_bool(pc.match_substring_regex(arr, _CANONICAL_DEC_RE))
    if decs.any():
        lengths = pc.utf8_length(arr).to_numpy(zero_copy_only=False)
        negative = to_numpy_bool(pc.starts_with(arr, "-"))
        small = to_numpy_bool(pc.match_substring_regex(arr, _TOO_SMALL_RE))
        decs &= (lengths - negative - 1 <= 15) & ~small
    return ints | decs


def _render_numbers(arr: pa.Array) -> pa.Array:
    """Canonical text for every value of ``arr`` (nulls for values that are not numbers)."""
    ok, values = parse_numbers(arr)
    out = pa.nulls(len(arr), type=arr.type)
    integral = ok & (np.abs(np.where(ok, values, 0.0)) < 1e16) & (np.mod(np.where(ok, values, 0.5), 1) == 0)
    if integral.any():
        text = pc.cast(pa.array(values[integral]).cast(pa.int64()), arr.type)
        out = replace_where(out, integral, text)
    other = ok & ~integral
    if other.any():
        enc = arr.filter(pa.array(other)).dictionary_encode()
        formatted = pa.array([format_number(float(v.strip())) for v in enc.dictionary.to_pylist()],
                             type=arr.type)
        out = replace_where(out, other, pc.take(formatted, enc.indices))
    return out


def normalise_metric(series: pd.Series) -> tuple[pd.Series, int]:
    """Metrics values → canonical number text; non-numbers left as they are. Returns (values, changed)."""
    arr = to_arrow(series)
    if len(arr) == 0 or arr.null_count == len(arr):
        return series, 0
    rest = ~_canonical_number_mask(arr) & arr.is_valid().to_numpy(zero_copy_only=False)
    if not rest.any():
        return series, 0
    enc = arr.filter(pa.array(rest)).dictionary_encode()  # once per distinct value (metrics repeat)
    out = replace_where(arr, rest, pc.take(_canonical_texts(enc.dictionary), enc.indices))
    changed = count_changed(arr, out)
    return (from_arrow(out, series), changed) if changed else (series, 0)


def _canonical_texts(values: pa.Array) -> pa.Array:
    """Canonical number text for each of ``values`` (non-missing); values that are not numbers stay."""
    # cheap text fixes first ("3.50" → "3.5", "12.0" → "12"); Python formats only what is left
    tidy = pc.replace_substring_regex(pc.utf8_trim_whitespace(values), _TRAILING_ZEROS_RE, r"\1")
    tidy = pc.replace_substring_regex(tidy, _TRAILING_DOT_RE, r"\1")
    done = _canonical_number_mask(tidy)
    rendered = _render_numbers(values.filter(pa.array(~done))) if not done.all() else values.slice(0, 0)
    rendered = replace_where(tidy, ~done, rendered)
    return pc.if_else(pc.is_valid(rendered), rendered, values)


def is_number(series: pd.Series) -> pd.Series:
    """True where the value is a finite number in strict syntax, untrimmed text excluded (missing → True)."""
    def strict(values: pa.Array) -> np.ndarray:  # parse_numbers without its trim: no surrounding whitespace
        ok = to_numpy_bool(pc.match_substring_regex(values, NUMBER_RE))
        if ok.any():
            ok[ok] = np.isfinite(pc.cast(values.filter(pa.array(ok)), pa.float64()).to_numpy(zero_copy_only=False))
        return ok

    arr = to_arrow(series)
    return bool_series(per_unique(arr, strict) | arr.is_null().to_numpy(zero_copy_only=False), series)


@lru_cache(maxsize=256)
def canonical_opt_out(text: str) -> str:
    """``ALL``/``NONE`` in any case (trimmed) → upper case; anything else unchanged."""
    key = text.strip().upper()
    return key if key in _OPT_OUT else text


def normalise_opt_out(series: pd.Series) -> tuple[pd.Series, int]:
    """OptOut → ALL or NONE; other values left as they are. Returns (values, changed)."""
    return map_unique(series, canonical_opt_out)


def is_opt_out(series: pd.Series) -> pd.Series:
    """True where the value is exactly ALL or NONE (missing → True)."""
    return set_predicate(series, _OPT_OUT)
