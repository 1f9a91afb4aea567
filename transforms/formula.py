"""Values a spreadsheet would run as a formula (CSV injection), noted per field, never changed.

A value is formula-like when it starts with ``=``, ``@``, ``+`` or ``-`` and is not a plain number
(``-2``, ``+1.5e3``) or, after ``+``, a phone number written with spaces, dots, dashes, slashes or
brackets (``+44 (0) 7700-900-123``); a lone ``+``/``-`` is not. It is judged on the value as staged:
the text rules turn a leading TAB or CR into a space and trim it, which re-arms a value an exporter
had defused with a leading TAB (``\\t=HYPERLINK(…)``), so that one is noted too. The value Pinpoint
receives stays as it is (neutralising formulas on export is ``export --csv-safe``'s job).

Fields whose values follow a format of their own are not judged: Address (push tokens start with
``-`` as often as not; phone numbers with ``+``), ChannelType, OptOut, coordinates, Metrics.* —
their rules reject anything else.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pinpoint_etl.transforms.strings import string_buffers, to_numpy_bool

_TRIGGERS = np.zeros(256, dtype=bool)
_TRIGGERS[[ord(c) for c in "=@+-"]] = True
_NUMBER = r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?$"
_PHONE = r"^\+[0-9\s().\-/]*[0-9][0-9\s().\-/]*$"
_LONE_SIGN = r"^[+-]$"
#: the key of a field's note in the report's ``normalised`` counts
PREFIX = "formula:"
#: fields not judged (see module docstring); Metrics.* neither
UNJUDGED = frozenset({"Address", "ChannelType", "OptOut", "Location.Latitude", "Location.Longitude"})


def judged(field: str) -> bool:
    """Whether values of ``field`` (a base name) are looked at for formulas."""
    return field not in UNJUDGED and not field.startswith("Metrics.")


def formula_like(arr: pa.Array) -> np.ndarray:
    """True where a value is formula-like (see module docstring); missing → False."""
    n = len(arr)
    if n == 0 or arr.null_count == n:
        return np.zeros(n, dtype=bool)
    offsets, data = string_buffers(arr)
    starts, ends = offsets[:-1], offsets[1:]
    nonempty = ends > starts
    first = np.zeros(n, dtype=np.uint8)
    first[nonempty] = data[starts[nonempty]]
    hit = _TRIGGERS[first] & nonempty
    if arr.null_count:
        hit &= arr.is_valid().to_numpy(zero_copy_only=False)
    at = np.flatnonzero(hit)
    if at.size == 0:
        return hit
    values = arr.take(pa.array(at))
    harmless = pc.or_(pc.or_(pc.match_substring_regex(values, _NUMBER), pc.match_substring_regex(values, _PHONE)),
                      pc.match_substring_regex(values, _LONE_SIGN))
    hit[at[to_numpy_bool(harmless)]] = False
    return hit
