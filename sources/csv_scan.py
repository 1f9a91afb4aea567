"""Finding CSV record ends and irregular quotes in raw bytes, a region at a time (numpy, no parsing).

A record ends at a CR, LF or CRLF outside quotes, told by the parity of the quotes before it. That
parity is the data's real quoting when every quote is *structural*: an opening one (an even number
of quotes before it) follows a delimiter, a line end, another quote or the start of the data, and a
closing one (odd) precedes a delimiter, a line end, another quote or the end of the data. The first
quote that is not, or a line longer than ``longest``, makes the rest *irregular*: ``csv_pieces`` hands
it to the streaming reader, and the streaming reader (rejecting malformed records) to ``csv_salvage``.
"""

from __future__ import annotations

import numpy as np

_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D


class Scanner:
    """Finds record ends, region by region, carrying the quote count and the current line's start."""

    def __init__(self, delimiter: bytes, start: int, longest: int):
        self.allowed = np.zeros(256, dtype=bool)  # the bytes beside a structural quote, by value
        self.allowed[np.frombuffer(delimiter + b'\r\n"', dtype=np.uint8)] = True
        # longer lines are irregular: whether the streaming reader can read them depends on its blocks
        self.longest = longest
        self.quotes = 0        # quotes so far: inside a quoted field when odd
        self.prev = _LF        # the byte before the region (the data starts at a record start)
        self.line_start = start

    def records(self, arr: np.ndarray, base: int, after: int | None) -> tuple[np.ndarray, bool]:
        """Offsets just past the non-empty records that end in ``arr`` (at offset ``base``; ``after`` is
        the byte that follows, None at the end of the file), and False if a quote in ``arr`` is not
        structural (records from there on are not given)."""
        n = len(arr)
        if n == 0:
            return np.zeros(0, dtype=np.int64), True
        quotes = np.flatnonzero(arr == _QUOTE)
        limit, regular = n, True
        if quotes.size:
            # an opening quote (an even number before it) is judged by the byte before it, a closing one
            # by the byte after it
            beside = quotes + 1
            beside[(self.quotes & 1)::2] -= 2
            neighbour = arr[np.clip(beside, 0, n - 1)]
            if beside[0] < 0:
                neighbour[0] = self.prev
            if beside[-1] == n:
                neighbour[-1] = _QUOTE if after is None else after  # the end of the file closes as a quote may
            wrong = np.flatnonzero(~self.allowed[neighbour])
            if wrong.size:
                limit, regular = int(quotes[wrong[0]]), False
                quotes = quotes[:wrong[0]]
        ends = arr[:limit] == _LF
        crs = np.flatnonzero(arr[:limit] == _CR)
        if crs.size:  # a CR ends a line unless an LF follows (then the LF does)
            nxt = arr[np.minimum(crs + 1, n - 1)]
            nxt[crs + 1 == n] = 0 if after is None else after
            ends[crs[nxt != _LF]] = True
        at = np.flatnonzero(ends)
        if quotes.size:
            at = at[((self.quotes + np.searchsorted(quotes, at)) & 1) == 0]
        elif self.quotes & 1:
            at = at[:0]
        # a line's content runs from its start to its end, less the CR of a CRLF: empty lines are skipped
        starts = np.empty(at.size, dtype=np.int64)
        if at.size:
            starts[0] = self.line_start
            starts[1:] = base + at[:-1] + 1
        before_end = arr[at - 1] if at.size else at
        if at.size and at[0] == 0:
            before_end[0] = self.prev
        crlf = (arr[at] == _LF) & (before_end == _CR)
        content_end = base + at - crlf
        records = base + at[content_end > starts] + 1
        too_long = np.flatnonzero(base + at + 1 - starts > self.longest)
        if too_long.size:
            records = records[records <= starts[too_long[0]]]
            regular = False
        if at.size:
            self.line_start = base + int(at[-1]) + 1
        self.quotes += quotes.size
        self.prev = int(arr[-1])
        return records.astype(np.int64), regular
