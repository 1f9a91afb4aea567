"""JSON sources: NDJSON (one object per line) and a JSON array of objects, both streamed.

* NDJSON: ``_row`` is the 1-based line number; blank lines are skipped but counted;
* JSON array: read incrementally with ``json.JSONDecoder.raw_decode`` over a sliding text buffer
  (memory bounded by the chunk, not the file); ``_row`` is the 1-based element index; ``[]`` is
  zero rows, not an error;
* ``format="json"`` (and ``.json`` files in ``auto``) sniff the first character: ``[`` → array,
  anything else → NDJSON;
* records are flattened by ``sources.flatten``; chunks may have different column sets;
* failures name the row: invalid JSON (with the decoder's message and column), a record that is
  not an object, a key twice in one object (``{"Address": .., "Address": ..}``: never resolved
  silently), an unclosed array, undecodable bytes (located by a second pass), an empty file;
* with ``on_malformed="reject"`` (the default) an NDJSON line that is not a JSON object, and a record
  (line or array element) with a repeated key, become ``Malformed`` records and reading goes on; in a
  JSON array any other syntax error still fails (where the next element starts cannot be told).
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
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.core.catalogue import META_COLS
from pinpoint_etl.sources.flatten import ColumnBuilder
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.malformed import Malformed, MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import ESCAPE_ERRORS, SourceStream, bad_byte
from pinpoint_etl.storage.errors import decode_error, translate
from pinpoint_etl.storage.objects import open_source
from pinpoint_etl.storage.uris import display_name

MAX_LINE = 64 << 20          # an NDJSON line (or array element) longer than this is an error
_READ = 1 << 20              # characters read per refill of the array buffer
_BATCH = 8192                # records turned into Arrow columns at a time (bounds Python objects)
_WS = re.compile(r"[ \t\n\r]*")
_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true/false",
          type(None): "null"}


class _RepeatedKeys:
    """``object_pairs_hook`` noting the first key repeated within one object since ``reset``."""

    def __init__(self) -> None:
        self.key: str | None = None

    def __call__(self, pairs: list[tuple[str, object]]) -> dict:
        d = dict(pairs)
        if len(d) != len(pairs) and self.key is None:
            seen: set[str] = set()
            self.key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return d

    def reason(self) -> str | None:
        """The reason to reject the record decoded since the last call (and reset), or None."""
        key, self.key = self.key, None
        return None if key is None else f"key {scrub(key)[:60]!r} appears twice in one object"


def read_json_tables(uri: str, options: ReadOptions, transport_params: dict | None = None,
                     ndjson: bool = False) -> Iterator[pa.Table | MalformedBatch]:
    """Yield tagged Arrow tables (``sources.frames.tag``) of at most ``options.chunk_rows`` flattened
    records, and batches of malformed records between them (see module docstring)."""
    source = display_name(uri)
    batch = min(_BATCH, options.chunk_rows)
    builder = ColumnBuilder()
    tables: list[pa.Table] = []
    rows: list[int] = []
    bad: list[Malformed] = []
    try:
        for row, record in _records(uri, options, transport_params, ndjson, check=False):
            if type(record) is Malformed:
                bad.append(record)
                continue
            builder.add(record)
            rows.append(row)
            if builder.rows == batch or len(rows) == options.chunk_rows:
                tables.append(builder.table())  # Arrow text is far smaller than Python strings
                if len(rows) == options.chunk_rows:
                    yield _tagged(tables, rows, source)
                    tables, rows = [], []
                    if bad:
                        yield MalformedBatch(bad)
                        bad = []
    except UnicodeDecodeError as exc:
        # locate the bad bytes with a second pass that marks them instead of failing
        try:
            for _ in _records(uri, options, transport_params, ndjson, check=True):
                pass
        except SourceError as found:
            raise found from None
        raise translate(exc, source=source, codec=options.codec) from None
    if builder.rows:
        tables.append(builder.table())
    if rows:
        yield _tagged(tables, rows, source)
    if bad:
        yield MalformedBatch(bad)


def _tagged(tables: list[pa.Table], rows: list[int], source: str):
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
    for name in META_COLS:
        if name in table.column_names:
            first = pc.index(table.column(name).is_valid(), True).as_py()
            raise SourceError(f"key {name} is reserved", source=source, row=rows[max(first, 0)], field=name)
    return tag(table, source, np.asarray(rows, dtype=np.int64))


def _records(uri: str, options: ReadOptions, transport_params: dict | None, ndjson: bool,
             check: bool) -> Iterator[tuple[int, dict | Malformed]]:
    """(row, object or Malformed) pairs. ``check``: decode leniently and raise on the first record with bad bytes."""
    source = display_name(uri)
    stream = SourceStream(open_source(uri, transport_params))
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
            raise translate(stream.error or OSError("read failed"), source=source, codec=options.codec) from None
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


def _ndjson_records(text: TextIO, source: str, options: ReadOptions,
                    check: bool) -> Iterator[tuple[int, dict | Malformed]]:
    repeated = _RepeatedKeys()
    decode = json.JSONDecoder(object_pairs_hook=repeated).decode
    reject = options.on_malformed == "reject"
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
            value = decode(line.rstrip("\r\n"))  # a line cut short: the column where it ends
            reason = repeated.reason()
        except json.JSONDecodeError as exc:
            repeated.reason()
            value, reason = None, f"invalid JSON: {exc.msg} at column {exc.colno}"
        if type(value) is not dict and reason is None:
            if line_no == 1 and type(value) is list:  # the whole file is in another format: not a record's fault
                raise SourceError(f"not a JSON object: found {_kind(value)} (a JSON array file? use format=json)",
                                  source=source, row=line_no)
            reason = f"not a JSON object: found {_kind(value)}"
        if reason is None:
            yield line_no, value
        elif reject:
            yield line_no, Malformed.of(source, line_no, line_no, reason, line)
        else:
            raise SourceError(reason, source=source, row=line_no)


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

    def line_of(self, pos: int) -> int:
        return self.line + self.buf.count("\n", 0, pos)

    def where(self, pos: int) -> str:
        nl = self.buf.count("\n", 0, pos)
        col = pos - self.buf.rfind("\n", 0, pos) if nl else self.col + pos
        return f"line {self.line + nl} column {col}"


def _array_records(text: TextIO, source: str, options: ReadOptions,
                   check: bool) -> Iterator[tuple[int, dict | Malformed]]:
    repeated = _RepeatedKeys()
    _decode = json.JSONDecoder(object_pairs_hook=repeated).raw_decode
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
            reason = repeated.reason()
            if reason is None and type(value) is not dict:
                reason = f"not a JSON object: element is {_kind(value)}"
            if reason is None:
                yield index, value
            elif options.on_malformed == "reject":
                yield index, Malformed.of(source, index, b.line_of(start), reason, b.buf[start:end])
            else:
                raise SourceError(reason, source=source, row=index)
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
