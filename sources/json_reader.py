"""JSON sources: NDJSON (one object per line) and a JSON array of objects, both streamed.

* NDJSON: ``_row`` is the 1-based line number; blank lines are skipped but counted;
* JSON array: read incrementally with ``json.JSONDecoder.raw_decode`` over a sliding text buffer
  (memory bounded by the chunk, not the file); ``_row`` is the 1-based element index; ``[]`` is
  zero rows, not an error;
* ``format="json"`` (and ``.json`` files in ``auto``) sniff the first character: ``[`` → array,
  anything else → NDJSON;
* records are flattened by ``sources.flatten``; chunks may have different column sets;
* failures name the row: invalid JSON (with the decoder's message and column), a record that is
  not an object, an unclosed array, undecodable bytes (located by a second pass), an empty file.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.schemas.catalogue import META_COLS
from pinpoint_etl.sources.flatten import ColumnBuilder
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import (
    ESCAPE_ERRORS,
    SourceStream,
    bad_byte,
    decode_error,
    display_name,
    open_binary,
    translate,
)

MAX_LINE = 64 << 20          # an NDJSON line (or array element) longer than this is an error
_READ = 1 << 20              # characters read per refill of the array buffer
_BATCH = 8192                # records turned into Arrow columns at a time (bounds Python objects)
_WS = re.compile(r"[ \t\n\r]*")
_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true/false",
          type(None): "null"}
_decode = json.JSONDecoder().raw_decode


def read_json_tables(uri: str, options: ReadOptions, transport_params: dict | None = None,
                     ndjson: bool = False) -> Iterator[pa.Table]:
    """Yield tagged Arrow tables (``sources.frames.tag``) of at most ``options.chunk_rows`` flattened
    records (see module docstring)."""
    source = display_name(uri)
    batch = min(_BATCH, options.chunk_rows)
    builder = ColumnBuilder()
    tables: list[pa.Table] = []
    rows: list[int] = []
    try:
        for row, record in _records(uri, options, transport_params, ndjson, check=False):
            builder.add(record)
            rows.append(row)
            if builder.rows == batch or len(rows) == options.chunk_rows:
                tables.append(builder.table())  # Arrow text is far smaller than Python strings
                if len(rows) == options.chunk_rows:
                    yield _tagged(tables, rows, source)
                    tables, rows = [], []
    except UnicodeDecodeError as exc:
        # locate the bad bytes with a second pass that marks them instead of failing
        try:
            for _ in _records(uri, options, transport_params, ndjson, check=True):
                pass
        except SourceError as found:
            raise found from None
        raise translate(exc, source, options.codec) from None
    if builder.rows:
        tables.append(builder.table())
    if rows:
        yield _tagged(tables, rows, source)


def _tagged(tables: list[pa.Table], rows: list[int], source: str):
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
    for name in META_COLS:
        if name in table.column_names:
            first = pc.index(table.column(name).is_valid(), True).as_py()
            raise SourceError(f"key {name} is reserved", source=source, row=rows[max(first, 0)], field=name)
    return tag(table, source, np.asarray(rows, dtype=np.int64))


def _records(uri: str, options: ReadOptions, transport_params: dict | None, ndjson: bool,
             check: bool) -> Iterator[tuple[int, dict]]:
    """(row, object) pairs. ``check``: decode leniently and raise on the first record with bad bytes."""
    source = display_name(uri)
    stream = SourceStream(open_binary(uri, transport_params))
    text = io.TextIOWrapper(stream, encoding=options.text_codec, errors=ESCAPE_ERRORS if check else "strict",
                            newline=None)
    try:
        try:
            first = _sniff(stream, options.text_codec)
            if first == "":
                raise SourceError("empty file", source=source)
            if first == "[" and not ndjson:
                yield from _array_records(text, source, options, check)
            else:
                yield from _ndjson_records(text, source, options, check)
        except OSError:
            raise translate(stream.error or OSError("read failed"), source, options.codec) from None
    finally:
        text.close()


def _sniff(stream: SourceStream, codec: str) -> str:
    """The first non-blank character of the stream ('' if there is none); nothing is consumed."""
    decoder = codecs.getincrementaldecoder(codec)("ignore")
    seen = []
    while chunk := stream.read(1 << 16):
        seen.append(chunk)
        head = decoder.decode(chunk).lstrip(" \t\r\n\ufeff")
        if head or sum(map(len, seen)) > MAX_LINE:
            break
    else:
        head = decoder.decode(b"", final=True).lstrip(" \t\r\n\ufeff")
    stream.unread(b"".join(seen))
    return head[:1]


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _ndjson_records(text: TextIO, source: str, options: ReadOptions, check: bool) -> Iterator[tuple[int, dict]]:
    line_no = 0
    for line in iter(lambda: text.readline(MAX_LINE), ""):
        line_no += 1
        if len(line) >= MAX_LINE and not line.endswith("\n"):
            raise SourceError(f"line longer than {MAX_LINE >> 20} MiB", source=source, row=line_no)
        if check and (byte := bad_byte(line)) is not None:
            raise decode_error(source, options.codec, byte, row=line_no)
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"invalid JSON: {exc.msg} at column {exc.colno}", source=source, row=line_no) from None
        if type(value) is not dict:
            hint = " (a JSON array file? use format=json)" if line_no == 1 and type(value) is list else ""
            raise SourceError(f"not a JSON object: found {_kind(value)}{hint}", source=source, row=line_no)
        yield line_no, value


class _Buffer:
    """A sliding window over a text stream, tracking the line and column where it starts."""

    def __init__(self, text: TextIO, head: str = ""):
        self.text, self.buf, self.pos, self.eof = text, head, 0, False
        self.line, self.col = 1, 1  # position of buf[0] in the file

    def more(self) -> bool:
        """Read more text (dropping what was consumed); False at the end of the stream."""
        if self.eof:
            return False
        part = self.text.read(_READ)
        dropped = self.buf[: self.pos]
        if (nl := dropped.count("\n")):
            self.line += nl
            self.col = len(dropped) - dropped.rfind("\n")
        else:
            self.col += len(dropped)
        self.buf, self.pos = self.buf[self.pos:] + part, 0
        self.eof = not part
        return bool(part)

    def peek(self) -> str:
        """The next non-blank character ('' at the end), skipping blanks."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos: self.pos + 1]

    def where(self, pos: int) -> str:
        nl = self.buf.count("\n", 0, pos)
        col = pos - self.buf.rfind("\n", 0, pos) if nl else self.col + pos
        return f"line {self.line + nl} column {col}"


def _array_records(text: TextIO, source: str, options: ReadOptions, check: bool) -> Iterator[tuple[int, dict]]:
    b = _Buffer(text)
    b.peek()
    b.pos += 1  # the "["
    index = 0
    if b.peek() == "]":
        b.pos += 1
    else:
        while True:
            index += 1
            b.peek()
            while True:
                try:
                    value, end = _decode(b.buf, b.pos)
                except json.JSONDecodeError as exc:
                    if not b.eof and len(b.buf) - b.pos <= MAX_LINE:
                        b.more()
                        continue
                    raise SourceError(f"invalid JSON: {exc.msg} at {b.where(exc.pos)}", source=source,
                                      row=index) from None
                if end == len(b.buf) and not b.eof:  # a number cut at the buffer's end may go on
                    b.more()
                    continue
                break
            start = b.pos
            if check and (byte := bad_byte(b.buf[start:end])) is not None:
                raise decode_error(source, options.codec, byte, row=index)
            b.pos = end
            if type(value) is not dict:
                raise SourceError(f"not a JSON object: element is {_kind(value)}", source=source, row=index)
            yield index, value
            sep = b.peek()
            if sep == ",":
                b.pos += 1
                continue
            if sep == "]":
                b.pos += 1
                break
            if sep == "":
                raise SourceError("JSON array not closed: the file ends after an element", source=source, row=index)
            raise SourceError(f"invalid JSON: expected ',' or ']' after the element at {b.where(b.pos)}",
                              source=source, row=index)
    if b.peek() != "":
        raise SourceError(f"extra data after the JSON array at {b.where(b.pos)}", source=source)
