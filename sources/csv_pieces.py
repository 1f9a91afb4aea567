"""Local UTF-8 CSV files as record-aligned byte ranges ("pieces") that chunk workers parse themselves.

The driver then only scans bytes (numpy, no parsing, no rows held) and workers parse their pieces in
parallel with the same pyarrow options as the streaming reader (``csv_reader``).

A record ends at a CR, LF or CRLF outside quotes, told by the parity of the quotes before it. That
parity is the file's real quoting when every quote is *structural*: an opening one (an even number
of quotes before it) follows a delimiter, a line end, another quote or the start of the data, and a
closing one (odd) precedes a delimiter, a line end, another quote or the end of the file. From the
first quote that is not — a quote inside an unquoted field (``5" screen``), text after a closing
quote — or when the file ends inside quotes, the rest of the file (from the end of the last piece)
is read by the streaming reader, whose rules and messages then apply unchanged; so is the rest from
a line longer than the streaming reader's block (1 MiB), which it may refuse.

Row numbers are the streaming reader's: records after the header, blank lines not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.core.memory import release_arrow_memory
from pinpoint_etl.sources.csv_reader import (
    BLOCK_SIZE,
    arrow_options,
    explain_failure,
    read_csv_header_at,
    read_csv_tables_from,
)
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import display_name, split_compression, translate

# bytes scanned at a time: a block and its masks stay in the CPU cache (8 MiB scanned 1M rows in
# 0.71 s, 256 KiB in 0.30-0.43 s) and below glibc's mmap threshold, where 8 MiB left ~60 MB of heap
# behind in the driver
SCAN_BLOCK = 256 << 10
_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D


@dataclass(frozen=True)
class CsvPiece:
    """Records ``first_row`` … ``first_row + rows - 1`` of the local CSV file ``path``: bytes ``start:stop``."""

    path: str
    start: int
    stop: int
    first_row: int
    rows: int
    columns: tuple[str, ...]
    options: ReadOptions


def can_split(uri: str, options: ReadOptions) -> bool:
    """True for a plain local UTF-8 file: its bytes can be cut at record ends and parsed anywhere."""
    return "://" not in uri and split_compression(uri)[1] is None and options.is_utf8


def split_csv(uri: str, options: ReadOptions) -> Iterator[CsvPiece | pa.Table]:
    """Pieces of ``options.chunk_rows`` records (the last may be shorter) of the local UTF-8 CSV file
    ``uri``; then, if a quote is not structural (see module docstring), tagged tables for the rest."""
    header, start = read_csv_header_at(uri, options)
    columns = tuple(header)
    scan = _Scanner(options.delimiter.encode("utf-8"), start)
    piece_start, first_row, rows = start, 1, 0  # rows: records found since piece_start
    try:
        fh = open(uri, "rb")  # noqa: SIM115 - closed below; read in blocks
    except OSError as exc:
        raise translate(exc, display_name(uri), options.codec) from None
    with fh:
        fh.seek(start)
        offset, carry, regular = start, b"", True
        while regular:
            try:
                block = fh.read(SCAN_BLOCK)
            except OSError as exc:
                raise translate(exc, display_name(uri), options.codec) from None
            data = carry + block
            if block:  # the last byte waits for the next block: whether it ends a line depends on what follows
                region, carry, after = data[:-1], data[-1:], data[-1]
            else:
                region, carry, after = data, b"", None
            ends, regular = scan.records(np.frombuffer(region, dtype=np.uint8), offset, after)
            offset += len(region)
            i = 0
            while rows + len(ends) - i >= options.chunk_rows:
                j = i + options.chunk_rows - rows
                stop = int(ends[j - 1])
                yield CsvPiece(uri, piece_start, stop, first_row, options.chunk_rows, columns, options)
                piece_start, first_row, rows, i = stop, first_row + options.chunk_rows, 0, j
            rows += len(ends) - i
            if not block:
                break
        if regular and scan.quotes % 2 == 0 and offset - scan.line_start <= scan.longest:
            rows += scan.line_start < offset  # a last record without a line end
            if rows:
                yield CsvPiece(uri, piece_start, offset, first_row, rows, columns, options)
            return
    yield from read_csv_tables_from(uri, options, list(columns), piece_start, first_row)


class _Scanner:
    """Finds record ends, region by region, carrying the quote count and the current line's start."""

    def __init__(self, delimiter: bytes, start: int):
        self.allowed = np.zeros(256, dtype=bool)  # the bytes beside a structural quote, by value
        self.allowed[np.frombuffer(delimiter + b'\r\n"', dtype=np.uint8)] = True
        # longer lines are the streaming reader's: whether it can read them depends on its blocks
        self.longest = BLOCK_SIZE
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


def read_piece(piece: CsvPiece) -> pa.Table:
    """The piece's records as a tagged table (one Arrow chunk per column); a ``SourceError`` naming
    the row if they cannot be read."""
    source = display_name(piece.path)
    try:
        with open(piece.path, "rb") as fh:
            fh.seek(piece.start)
            data = fh.read(piece.stop - piece.start)
    except OSError as exc:
        raise translate(exc, source, piece.options.codec) from None
    # the streaming reader's 1 MiB blocks: parsing a piece as one block takes twice as long here
    # (the parser's working set outgrows the CPU cache), combining the blocks' chunks is cheap
    read_options, parse_options, convert_options = arrow_options(list(piece.columns), piece.options)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=read_options, parse_options=parse_options,
                               convert_options=convert_options)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a SourceError
        raise explain_failure(piece.path, piece.options, exc, piece.first_row - 1) from None
    del data
    if table.num_rows != piece.rows:  # the scan and the parser disagree: never pass it silently
        raise SourceError(f"the byte scan found {piece.rows} records from this row on and the CSV parser "
                          f"{table.num_rows} (please report this; a compressed copy of the file, .gz, is read "
                          "without the scan)", source=source, row=piece.first_row)
    # one chunk per column, a column at a time: the parsed blocks of each go as its copy is made, and
    # go back to the system at once (Arrow's allocator would keep them: ~30 MB on 100,000 rows)
    names, columns = table.column_names, table.columns
    del table
    for i, column in enumerate(columns):
        columns[i] = column.combine_chunks()
        del column
        release_arrow_memory()
    return tag(pa.Table.from_arrays(columns, names=names), source, piece.first_row)
