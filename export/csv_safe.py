"""Spreadsheet-safe CSV: a value a spreadsheet would run as a formula is written with a leading single quote.

OWASP's CSV-injection guidance: a cell whose text starts with ``=``, ``+``, ``-``, ``@``, TAB or CR may
be run as a formula by Excel, LibreOffice Calc or Google Sheets (``=HYPERLINK(…)``, ``+cmd|…``,
``@SUM(…)``, ``-2+3``); prefixing a single quote makes every spreadsheet show it as text and run
nothing. The rule, decided: a value that is a plain number in the syntax the import reads numbers in
(``transforms.values.NUMBER_RE``: optional sign, digits, optional fraction and exponent: ``-2``,
``-122.3``, ``+447700900123``, ``1e5``) is a number to a spreadsheet, not a formula, and stays as it
is, so E.164 phone numbers and negative metrics are untouched; every other value starting with one of
the six characters is neutralised, ``+44 7700 900123`` included (a spreadsheet reads it as a formula).
CSV only: NDJSON and Parquet carry values, not cells.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pinpoint_etl.transforms.strings import to_numpy_bool
from pinpoint_etl.transforms.values import NUMBER_RE

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
_TRIGGER_RE = "^[=+\\-@\t\r]"
_NUMBER = re.compile(NUMBER_RE)


def is_formula(text: str) -> bool:
    """True if a spreadsheet could run ``text`` as a formula (see module docstring)."""
    return text.startswith(TRIGGERS) and _NUMBER.match(text) is None


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet-safe cell."""
    return PREFIX + text if is_formula(text) else text


def neutralise_array(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, int]:
    """:func:`neutralise` over a text column; returns the column and how many values changed."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    hits = to_numpy_bool(pc.match_substring_regex(arr, _TRIGGER_RE))
    if hits.any():
        hits &= ~to_numpy_bool(pc.match_substring_regex(arr, NUMBER_RE))
    n = int(np.count_nonzero(hits))
    if not n:
        return arr, 0
    prefixed = pc.binary_join_element_wise(pa.scalar(PREFIX, arr.type), arr, pa.scalar("", arr.type))
    return pc.if_else(pa.array(hits), prefixed, arr), n
