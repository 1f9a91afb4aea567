"""Duplicate endpoint Ids: the last occurrence wins; earlier ones are *superseded*.

Designed for many chunks: hash each chunk's Ids once (:func:`id_hashes`, 8 bytes per row), keep
the hashes (or an :class:`IdLedger`), and decide over all of them at the end with
:func:`superseded_mask` / :func:`superseded_by` — a sort, no Python loop, ~16–24 bytes per row.
Missing Ids are never superseded (they hash to :data:`MISSING`). Ids are compared exactly (after
normalisation, so trimmed) through a 64-bit hash: two different Ids collide with probability
~n²/2⁶⁵ (≈3·10⁻⁸ for a million rows), in which case the earlier row would be counted superseded.
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


def superseded_mask(hashes: np.ndarray) -> np.ndarray:
    """True for every row whose Id occurs again later (the later row supersedes it)."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    order, ordered, last = _runs(hashes)
    mask = np.empty(len(hashes), dtype=bool)
    mask[order] = ~last & (ordered != MISSING)
    return mask


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


def drop_superseded(frame: pd.DataFrame, id_column: str = "Id") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Within one chunk: (rows kept, rows superseded by a later row with the same Id)."""
    if id_column not in frame.columns or len(frame) == 0:
        return frame, frame.iloc[:0]
    mask = superseded_mask(id_hashes(frame[id_column]))
    return frame[~mask], frame[mask]


class IdLedger:
    """Id hashes of every chunk of a run, to find rows superseded across chunks.

    ``add`` each chunk's Ids as it passes (8 bytes per row kept); at the end ``masks()`` gives,
    per chunk in the order added, the rows a later row (in the same or a later chunk) supersedes.
    """

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def add(self, ids: pd.Series) -> int:
        """Record one chunk's Ids; returns the chunk number (0-based)."""
        self._chunks.append(id_hashes(ids))
        return len(self._chunks) - 1

    @property
    def rows(self) -> int:
        return sum(len(c) for c in self._chunks)

    def hashes(self) -> np.ndarray:
        """All hashes, chunks concatenated in the order added."""
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.uint64)

    def masks(self) -> list[np.ndarray]:
        """Per chunk: True for rows superseded by a later occurrence of their Id."""
        if not self._chunks:
            return []
        mask = superseded_mask(self.hashes())
        bounds = np.cumsum([len(c) for c in self._chunks])[:-1]
        return np.split(mask, bounds)

    def superseded_count(self) -> int:
        return int(superseded_mask(self.hashes()).sum())
