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

Row numbers are the streaming reader's: records after the header, blank lines not counted. A piece
holding a ragged row is read again by ``csv_salvage`` (``on_malformed="reject"``), as the streaming
reader would read it, and its malformed records are handed back beside its table.
"""

from __future__ import annotations

import io
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
from pinpoint_etl.sources.csv_salvage import count_lines, salvage_tables
from pinpoint_etl.sources.csv_scan import Scanner
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.malformed import Malformed, MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import ESCAPE_ERRORS
from pinpoint_etl.storage.errors import translate
from pinpoint_etl.storage.uris import display_name, split_compression

# bytes scanned at a time: a block and its masks stay in the CPU cache and below glibc's mmap
# threshold (8 MiB blocks were slower and left heap behind in the driver: bench/README.md, runs J and K)
SCAN_BLOCK = 256 << 10


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
    scan = Scanner(options.delimiter.encode("utf-8"), start, BLOCK_SIZE)
    piece_start, first_row, rows = start, 1, 0  # rows: records found since piece_start
    try:
        fh = open(uri, "rb")  # noqa: SIM115 - closed below; read in blocks
    except OSError as exc:
        raise translate(exc, source=display_name(uri), codec=options.codec) from None
    with fh:
        fh.seek(start)
        offset, carry, regular = start, b"", True
        while regular:
            try:
                block = fh.read(SCAN_BLOCK)
            except OSError as exc:
                raise translate(exc, source=display_name(uri), codec=options.codec) from None
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


def read_piece(piece: CsvPiece) -> tuple[pa.Table, list[Malformed]]:
    """The piece's records as a tagged table (one Arrow chunk per column) and its malformed records
    (``on_malformed="reject"``); a ``SourceError`` naming the row if they cannot be read."""
    source = display_name(piece.path)
    try:
        with open(piece.path, "rb") as fh:
            fh.seek(piece.start)
            data = fh.read(piece.stop - piece.start)
    except OSError as exc:
        raise translate(exc, source=source, codec=piece.options.codec) from None
    # the streaming reader's 1 MiB blocks: parsing a piece as one block takes twice as long here
    # (the parser's working set outgrows the CPU cache), combining the blocks' chunks is cheap
    read_options, parse_options, convert_options = arrow_options(list(piece.columns), piece.options)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=read_options, parse_options=parse_options,
                               convert_options=convert_options)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a SourceError
        if piece.options.on_malformed == "reject":
            return _salvage(piece, data)
        raise explain_failure(piece.path, piece.options, exc, piece.first_row - 1) from None
    del data
    if table.num_rows != piece.rows:  # the scan and the parser disagree: never pass it silently
        raise SourceError(f"the byte scan found {piece.rows} records from this row on and the CSV parser "
                          f"{table.num_rows} (please report this; a compressed copy of the file, .gz, is read "
                          "without the scan)", source=source, row=piece.first_row)
    # one chunk per column, a column at a time: the parsed blocks of each go as its copy is made, and
    # go back to the system at once (Arrow's allocator would keep them)
    names, columns = table.column_names, table.columns
    del table
    for i, column in enumerate(columns):
        columns[i] = column.combine_chunks()
        del column
        release_arrow_memory()
    return tag(pa.Table.from_arrays(columns, names=names), source, piece.first_row), []


def _salvage(piece: CsvPiece, data: bytes) -> tuple[pa.Table, list[Malformed]]:
    """The piece read record by record (``csv_salvage``): its good rows and its malformed records."""
    text = io.StringIO(data.decode("utf-8", ESCAPE_ERRORS), newline="")
    tables, bad = [], []
    for item in salvage_tables(text, list(piece.columns), display_name(piece.path), piece.options,
                               first_row=piece.first_row, first_line=count_lines(piece.path, piece.start) + 1):
        if isinstance(item, MalformedBatch):
            bad.extend(item.records)
        else:
            tables.append(item)
    if sum(t.num_rows for t in tables) + len(bad) != piece.rows:
        raise SourceError(f"the byte scan found {piece.rows} records from this row on and the CSV reader "
                          f"{sum(t.num_rows for t in tables) + len(bad)} (please report this)",
                          source=display_name(piece.path), row=piece.first_row)
    if not tables:
        empty = pa.table({c: pa.array([], pa.large_string()) for c in piece.columns})
        tables = [tag(empty, display_name(piece.path), piece.first_row)]
    table = pa.concat_tables(tables).combine_chunks()
    return table, bad
