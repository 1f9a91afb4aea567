"""Dedupe keys on disk, partitioned by hash, so deciding duplicates takes the same memory at any input size.

Pass one appends, for every valid row, its Id hash and its user id hash — with the row's position in
spill order (and, for Ids, its source and source row) — to one of ``PARTITIONS`` files chosen by the
hash's top bits. Equal hashes always share a file, so each file is decided on its own:

* Ids: within a file rows stay in position order, so :func:`transforms.dedupe.superseded_by` gives
  every earlier occurrence and the last one that supersedes it;
* user ids: the surviving rows of each user id, in position order, beyond the 15th overflow.

Only the decided rows (about 1 % of the input) are held in memory: at most two files are loaded at a
time (two threads), about ``28 × rows / PARTITIONS`` bytes each. Missing Ids and user ids are not written at all.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.transforms.dedupe import MISSING, superseded_by

PARTITIONS = 64
_SHIFT = np.uint64(64 - 6)  # top 6 bits → 64 partitions
ID_RECORD = np.dtype([("h", "<u8"), ("pos", "<i8"), ("src", "<i4"), ("row", "<i8")])
USER_RECORD = np.dtype([("h", "<u8"), ("pos", "<i8")])


@dataclass
class Decisions:
    """Rows that do not go to Pinpoint, by position in spill order (sorted)."""

    superseded: np.ndarray          # positions of superseded rows
    winner_src: np.ndarray          # per superseded row: source index of the row that supersedes it
    winner_row: np.ndarray          # … and its source row number
    overflow: np.ndarray            # positions of rows beyond the 15th endpoint of their user id

    def in_range(self, start: int, stop: int):
        """(superseded mask, winner sources, winner rows, overflow mask) for positions ``start:stop``."""
        n = stop - start
        a, b = np.searchsorted(self.superseded, [start, stop])
        sup = np.zeros(n, dtype=bool)
        sup[self.superseded[a:b] - start] = True
        c, d = np.searchsorted(self.overflow, [start, stop])
        ovf = np.zeros(n, dtype=bool)
        ovf[self.overflow[c:d] - start] = True
        return sup, self.winner_src[a:b], self.winner_row[a:b], ovf


class KeyStore:
    """Partitioned key files under ``folder`` (a temporary folder of the run)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows = 0  # positions handed out so far
        self._ids = [open(self.folder / f"ids-{p:02d}.bin", "wb") for p in range(PARTITIONS)]
        self._users = [open(self.folder / f"users-{p:02d}.bin", "wb") for p in range(PARTITIONS)]

    def add(self, ids: np.ndarray, users: np.ndarray, src: int, rows: np.ndarray) -> None:
        """Keys of the next ``len(ids)`` valid rows (in spill order) of source index ``src``."""
        n = len(ids)
        pos = np.arange(self.rows, self.rows + n, dtype=np.int64)
        self.rows += n
        have = ids != MISSING
        rec = np.empty(int(have.sum()), dtype=ID_RECORD)
        rec["h"], rec["pos"], rec["src"], rec["row"] = ids[have], pos[have], src, rows[have]
        self._spread(rec, self._ids)
        have = users != MISSING
        rec = np.empty(int(have.sum()), dtype=USER_RECORD)
        rec["h"], rec["pos"] = users[have], pos[have]
        self._spread(rec, self._users)

    @staticmethod
    def _spread(rec: np.ndarray, files) -> None:
        if not len(rec):
            return
        part = (rec["h"] >> _SHIFT).astype(np.uint8)  # small ints: numpy sorts them by radix
        order = np.argsort(part, kind="stable")  # keeps position order within a partition
        bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1))
        rec = rec[order]
        for p in np.flatnonzero(np.diff(bounds)):
            files[p].write(rec[bounds[p]:bounds[p + 1]].tobytes())

    def close(self) -> None:
        for fh in self._ids + self._users:
            fh.close()

    def decide(self) -> Decisions:
        """Supersede and overflow decisions over every row added (two partitions in memory at a time)."""
        self.close()
        sup, wsrc, wrow = [], [], []
        with ThreadPoolExecutor(max_workers=2) as pool:  # numpy loads and sorts without the GIL
            for lost in pool.map(self._superseded, range(PARTITIONS)):
                if lost is not None:
                    sup.append(lost[0])
                    wsrc.append(lost[1])
                    wrow.append(lost[2])
        superseded = np.concatenate(sup) if sup else np.zeros(0, np.int64)
        order = np.argsort(superseded, kind="stable")
        superseded = superseded[order]
        winner_src = (np.concatenate(wsrc) if wsrc else np.zeros(0, np.int32))[order]
        winner_row = (np.concatenate(wrow) if wrow else np.zeros(0, np.int64))[order]
        def overflowing(p: int) -> np.ndarray:
            rec = self._load(f"users-{p:02d}.bin", USER_RECORD)
            keep = ~np.isin(rec["pos"], superseded, assume_unique=True)
            return rec["pos"][user_overflow(rec["h"], keep)]

        with ThreadPoolExecutor(max_workers=2) as pool:
            over = list(pool.map(overflowing, range(PARTITIONS)))
        overflow = np.sort(np.concatenate(over))
        return Decisions(superseded, winner_src, winner_row, overflow)

    def _superseded(self, p: int):
        """(positions, winner sources, winner rows) of the superseded rows of Id partition ``p``, or None."""
        rec = self._load(f"ids-{p:02d}.bin", ID_RECORD)
        by = superseded_by(rec["h"])
        lost = np.flatnonzero(by >= 0)
        if not lost.size:
            return None
        return rec["pos"][lost], rec["src"][by[lost]], rec["row"][by[lost]]

    def _load(self, name: str, dtype: np.dtype) -> np.ndarray:
        path = self.folder / name
        rec = np.fromfile(path, dtype=dtype)
        os.unlink(path)
        return rec


def user_overflow(user_h: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """True for the 16th and later kept rows of a user id, rows given in position order; numpy only."""
    over = np.zeros(len(user_h), dtype=bool)
    idx = np.flatnonzero(keep & (user_h != MISSING))
    if len(idx):
        order = np.argsort(user_h[idx], kind="stable")  # by user, then position
        users = user_h[idx][order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
        rank = np.arange(len(users)) - np.repeat(starts, np.diff(np.r_[starts, len(users)]))
        over[idx[order[rank >= cat.MAX_ENDPOINTS_PER_USER]]] = True
    return over
