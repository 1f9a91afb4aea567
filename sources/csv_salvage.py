"""Reading a CSV record by record when the fast reader met a malformed one (``on_malformed="reject"``).

Python's strict ``csv`` module reads the text; each record becomes a good row (values as the fast
reader gives them: an empty cell is missing) or a :class:`~sources.malformed.Malformed`:

* a ragged row (``expected 4 fields, found 5``): the whole record, raw;
* a quoting error (a stray quote after a closing one, a quoted field never closed before the end of
  the file or longer than ``FIELD_LIMIT``): the record's first physical line, and reading resumes at
  its second line, so one stray quote costs one line, not the rest of the file.

Row numbers continue the file's numbering (records after the header, blank lines not counted; a
malformed record counts as one); ``line`` is the physical line the record starts on (CR, LF and
CRLF each end one). Undecodable bytes are an error of the whole file, named as the strict pass of
``csv_reader`` names them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

import numpy as np
import pyarrow as pa

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.malformed import Malformed, MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import bad_byte
from pinpoint_etl.storage.errors import decode_error

#: the longest field read (the fast reader refuses a record straddling more than its 1 MiB blocks)
FIELD_LIMIT = 2 << 20
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))

#: Python's csv messages → ours
CSV_ERRORS = {
    "unexpected end of data": "unterminated quoted field (file ends inside quotes)",
    "expected after": "stray quote: a quoted field must end at a delimiter or line end",
    "field larger than field limit": "field longer than {limit} characters: unterminated quoted field?",
    "new-line character seen in unquoted field": "bare carriage return inside an unquoted field",
}


def csv_error_detail(exc: csv.Error) -> str:
    """A one-line reason for a ``csv.Error`` (no values quoted)."""
    text = str(exc)
    for key, message in CSV_ERRORS.items():
        if key in text:
            return message.format(limit=csv.field_size_limit())
    return f"malformed CSV: {scrub(text)[:120]}"


class _Lines:
    """Physical lines of a text stream opened with ``newline=""``; the lines taken for the current
    record, and lines put back to be read again."""

    def __init__(self, text: TextIO):
        self.text = text
        self.back: list[str] = []
        self.taken: list[str] = []
        self.count = 0  # lines handed out so far

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.back.pop() if self.back else self.text.readline()
        if not line:
            raise StopIteration
        self.taken.append(line)
        self.count += 1
        return line

    def put_back(self, lines: list[str]) -> None:
        self.back.extend(reversed(lines))
        self.count -= len(lines)


def salvage_tables(text: TextIO, columns: list[str], source: str, options: ReadOptions, *, first_row: int,
                   first_line: int, header: bool = False, skip_rows: int = 0) -> Iterator[pa.Table | MalformedBatch]:
    """Tagged tables of at most ``options.chunk_rows`` good rows, and a batch of malformed records
    after each table (see module docstring).

    ``text`` starts at a record start: line ``first_line`` of the file, record ``first_row`` — or at
    the file's start with ``header`` (blank lines and the header record are skipped first). The first
    ``skip_rows`` records (already read by the fast reader, all good) are read and not returned.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=options.delimiter, quotechar='"', doublequote=True, strict=True)
    width = len(columns)
    cells: list[list[str | None]] = [[] for _ in columns]
    rows: list[int] = []
    bad: list[Malformed] = []
    row = first_row - 1
    line_base = first_line - 1  # lines before the text's first line
    while True:
        start = line_base + lines.count + 1
        lines.taken = []
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if header:
                raise SourceError(f"malformed header: {csv_error_detail(exc)}", source=source) from None
            row += 1
            taken = lines.taken
            lines.put_back(taken[1:])
            if row >= first_row + skip_rows:  # else the fast reader read it (leniently) already
                bad.append(Malformed.of(source, row, start, csv_error_detail(exc), taken[0] if taken else ""))
            continue
        if not record:
            continue  # a blank line
        if header:
            header = False
            continue
        row += 1
        if row < first_row + skip_rows:
            continue
        for i, value in enumerate(record):
            if (byte := bad_byte(value)) is not None:
                field = columns[i] if i < width else None
                raise decode_error(source, options.codec, byte, row=row, field=field)
        if len(record) != width:
            bad.append(Malformed.of(source, row, start, f"expected {width} fields, found {len(record)}",
                                    "".join(lines.taken)))
            continue
        for i, value in enumerate(record):
            cells[i].append(value or None)
        rows.append(row)
        if len(rows) == options.chunk_rows:
            yield _table(cells, columns, source, rows)
            cells, rows = [[] for _ in columns], []
            if bad:
                yield MalformedBatch(bad)
                bad = []
    if rows:
        yield _table(cells, columns, source, rows)
    if bad:
        yield MalformedBatch(bad)


def _table(cells: list[list[str | None]], columns: list[str], source: str, rows: list[int]) -> pa.Table:
    arrays = [pa.array(values, type=pa.large_string()) for values in cells]
    return tag(pa.Table.from_arrays(arrays, names=list(columns)), source, np.asarray(rows, dtype=np.int64))


def count_lines(path: str, stop: int) -> int:
    """Physical lines (CR, LF, CRLF) ended in the first ``stop`` bytes of the local file ``path``."""
    n, last = 0, b""
    with open(path, "rb") as fh:
        left = stop
        while left > 0:
            block = fh.read(min(left, 1 << 20))
            if not block:
                break
            left -= len(block)
            n += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if last == b"\r" and block[:1] == b"\n":
                n -= 1  # a CRLF split between two blocks
            last = block[-1:]
    return n
