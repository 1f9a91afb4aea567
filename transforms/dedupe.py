"""Duplicate endpoint Ids: the last occurrence wins; earlier ones are *superseded*.

Designed for many chunks: hash each chunk's Ids once (:func:`id_hashes`, 8 bytes per row), keep
the hashes, and decide over all of them at the end with :func:`superseded_by` — a sort, no Python
loop. Missing Ids are never superseded (they hash to :data:`MISSING`). Ids are compared exactly
(after normalisation, so trimmed) through a 64-bit hash: two different Ids collide with probability
about n²/2⁶⁵, in which case the earlier row would be counted superseded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas loads where Ids are hashed (chunk workers), not in the driver
    import pandas as pd

#: the hash of a missing Id (real hashes equal to it are moved to 1)
MISSING = np.uint64(0)


def id_hashes(ids: pd.Series) -> np.ndarray:
    """uint64 hash per row of ``ids`` (pandas.util.hash_array); :data:`MISSING` where the Id is missing."""
    import pandas as pd

    text = ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype("string")
    missing = text.isna().to_numpy(dtype=bool)
    hashes = pd.util.hash_array(text.to_numpy(dtype=object, na_value=""), categorize=False)
    hashes[hashes == MISSING] = np.uint64(1)
    hashes[missing] = MISSING
    return hashes


def _runs(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable sort order, sorted hashes, and 'last of its run' flags over the sorted hashes."""
    order = np.argsort(hashes, kind="stable")  # equal hashes stay in position order
    ordered = hashes[order]
    last = np.empty(len(ordered), dtype=bool)
    if len(ordered):
        np.not_equal(ordered[1:], ordered[:-1], out=last[:-1])
        last[-1] = True
    return order, ordered, last


def superseded_by(hashes: np.ndarray) -> np.ndarray:
    """For each row, the position of the row that supersedes it (the last with the same Id), else -1."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    order, ordered, last = _runs(hashes)
    n = len(hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    run = np.cumsum(np.r_[True, last[:-1]]) - 1  # run number of each sorted row
    winner_sorted = order[np.flatnonzero(last)][run]
    winner_sorted = np.where(~last & (ordered != MISSING), winner_sorted, -1)
    out = np.empty(n, dtype=np.int64)
    out[order] = winner_sorted
    return out
