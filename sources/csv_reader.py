"""CSV sources: a fast streaming pass with pyarrow, and a slow exact pass only to explain a failure.

Fast pass: the header record is read in Python (so repeated names can become slot columns and a
BOM is dropped), then ``pyarrow.csv.open_csv`` streams the rest in 1 MiB blocks, every column as
text, quoted newlines allowed. Other encodings are transcoded to UTF-8 on the way in.

Rules (RFC 4180 plus):

* ``_row`` is the n-th record after the header: quoted newlines do not shift it; blank lines are
  skipped and not counted;
* an empty cell (quoted or not) is missing (NA); header names are stripped of surrounding blanks;
* a header with no data rows is not an error: no chunk is yielded (the pipeline reports 0 rows);
* a quote inside an unquoted field (``5" screen``) is kept as a character, as Python's csv and
  pyarrow both do;
* failures: an empty file, an empty header name, a ragged row, undecodable bytes, an unterminated
  quoted field or a quoted field followed by other characters. When pyarrow fails (it reports no row
  numbers), or the quote count at the end is odd, the file is read again with Python's strict
  ``csv`` module to name the first bad row (and field) exactly;
* with ``on_malformed="reject"`` (the default) a ragged row or a quoting error is not a failure: from
  the first one on (or from the first suspicious quote) the rest of the records are read by
  ``csv_salvage``, which hands bad records on as ``Malformed`` ones. Problems of the whole file (its
  encoding, compression, header) stay failures.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from pinpoint_etl.core.errors import SourceError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.core.catalogue import META_COLS, slot_name
from pinpoint_etl.sources.csv_salvage import csv_error_detail, count_lines, salvage_tables
from pinpoint_etl.sources.csv_scan import Scanner
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.streams import ESCAPE_ERRORS, SourceStream, bad_byte
from pinpoint_etl.storage.errors import decode_error, translate
from pinpoint_etl.storage.objects import open_source
from pinpoint_etl.storage.uris import display_name

BLOCK_SIZE = 1 << 20          # pyarrow block: bounds memory; a quoted field longer than this is an error
HEADER_LIMIT = 1 << 20        # a header record longer than this is an unterminated quote
_BOM = b"\xef\xbb\xbf"
_RAGGED = re.compile(r"Expected (\d+) columns, got (\d+)")


def read_csv_header(uri: str, options: ReadOptions, transport_params: dict | None = None) -> list[str]:
    """The source's column names, repeated names turned into slot names (``X``, ``X#2``)."""
    stream = _open(uri, options, transport_params)
    try:
        return _read_header(stream, uri, options, transport_params)
    finally:
        stream.close()


def read_csv_tables(uri: str, options: ReadOptions,
                    transport_params: dict | None = None) -> Iterator[pa.Table | MalformedBatch]:
    """Tagged Arrow tables (``sources.frames.tag``) of at most ``options.chunk_rows`` rows, and batches of
    malformed records between them when ``options.on_malformed`` is ``reject`` (see module docstring)."""
    stream = _open(uri, options, transport_params)
    try:
        columns = _read_header(stream, uri, options, transport_params)

        def salvage(done: int):
            text = _text(open_source(uri, transport_params), options)
            try:
                yield from salvage_tables(text, columns, display_name(uri), options, first_row=1, first_line=1,
                                          header=True, skip_rows=done)
            finally:
                text.close()

        if _has_data(stream, uri, options):
            yield from _stream_tables(stream, columns, uri, options, transport_params, first_row=1, salvage=salvage)
    finally:
        stream.close()


def read_csv_header_at(uri: str, options: ReadOptions) -> tuple[list[str], int]:
    """The columns of the local UTF-8 file ``uri`` (as :func:`read_csv_header`) and the byte offset of
    its first record (after the BOM, blank lines before the header, and the header's line end)."""
    stream = SourceStream(open_source(uri))
    try:
        return _read_header(stream, uri, options, None), stream.position
    finally:
        stream.close()


def explain_failure(uri: str, options: ReadOptions, exc: BaseException, rows_before: int) -> Exception:
    """The ``SourceError`` for a failure of pyarrow's parser on records of ``uri`` after ``rows_before``
    good rows: the strict pass names the row where it can (see module docstring)."""
    return _Explainer(uri, options, None).failure(exc, rows_before)


def read_csv_tables_from(uri: str, options: ReadOptions, columns: list[str], start: int,
                         first_row: int) -> Iterator[pa.Table]:
    """Like :func:`read_csv_tables`, for the records of a local UTF-8 file from byte ``start`` (a
    record start) on, ``first_row`` being the number of the first."""
    raw = open_source(uri)
    raw.seek(start)
    stream = SourceStream(raw)

    def salvage(done: int):
        fh = open_source(uri)
        fh.seek(start)
        text = _text(fh, options)
        try:
            yield from salvage_tables(text, columns, display_name(uri), options, first_row=first_row,
                                      first_line=count_lines(uri, start) + 1, skip_rows=done - first_row + 1)
        finally:
            text.close()

    try:
        if _has_data(stream, uri, options):
            if options.on_malformed == "reject":  # the rest starts at an irregular quote or line
                yield from salvage(first_row - 1)
            else:
                yield from _stream_tables(stream, columns, uri, options, None, first_row=first_row,
                                          salvage=salvage)
    finally:
        stream.close()


def _text(raw, options: ReadOptions) -> io.TextIOWrapper:
    """``raw`` as text for Python's csv: undecodable bytes marked (``ESCAPE_ERRORS``), line ends kept."""
    return io.TextIOWrapper(raw, encoding=options.text_codec, errors=ESCAPE_ERRORS, newline="")


def arrow_options(columns: list[str], options: ReadOptions):
    """pyarrow's read, parse and convert options for records of ``columns`` (see module docstring)."""
    return (pacsv.ReadOptions(column_names=list(columns), block_size=BLOCK_SIZE, use_threads=False),
            pacsv.ParseOptions(delimiter=options.delimiter, quote_char='"', double_quote=True, escape_char=False,
                               newlines_in_values=True, ignore_empty_lines=True),
            pacsv.ConvertOptions(column_types={c: pa.large_string() for c in columns}, strings_can_be_null=True,
                                 quoted_strings_can_be_null=True, null_values=[""], check_utf8=True))


def _stream_tables(stream: SourceStream, columns: list[str], uri: str, options: ReadOptions,
                   transport_params: dict | None, first_row: int, salvage) -> Iterator[pa.Table | MalformedBatch]:
    """The records of ``stream`` (at a record start, with data) as tagged tables numbered from ``first_row``;
    ``salvage(done)`` reads the records after the first ``done`` of the file the slow way (reject mode)."""
    source = display_name(uri)
    explain = _Explainer(uri, options, transport_params)
    reject = options.on_malformed == "reject"
    stream.count_quotes = True
    if reject:  # the byte scan of csv_pieces: the same records are irregular whichever reader meets them
        stream.scanner = Scanner(options.delimiter.encode("utf-8"), 0, BLOCK_SIZE)
    else:
        stream.quote_neighbours = options.delimiter.encode("utf-8") + b'\r\n"'
    read_options, parse_options, convert_options = arrow_options(columns, options)
    try:
        reader = pacsv.open_csv(stream, read_options=read_options, parse_options=parse_options,
                                convert_options=convert_options)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a SourceError
        if reject and stream.error is None:
            yield from salvage(first_row - 1)
            return
        raise explain.failure(exc, first_row - 1, stream) from None
    pending: list[pa.RecordBatch] = []
    buffered = 0
    done = first_row - 1  # rows yielded so far
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001
            if reject and stream.error is None:  # a record pyarrow cannot read; I/O and transcoding fail below
                yield from salvage(done)
                return
            raise explain.failure(exc, done + buffered, stream) from None
        if reject and stream.suspicious:  # a quote that may have merged records: from here the slow way
            yield from salvage(done)
            return
        pending.append(batch)
        buffered += batch.num_rows
        # keep at least one row back: the last record is the one an unterminated quote swallows,
        # and that can only be told once the stream has ended
        while buffered > options.chunk_rows:
            table = pa.Table.from_batches(pending)
            yield tag(table.slice(0, options.chunk_rows), source, done + 1)
            pending = table.slice(options.chunk_rows).to_batches()
            buffered -= options.chunk_rows
            done += options.chunk_rows
    # pyarrow's parser is lenient: an odd number of quotes, or a quote between two ordinary
    # characters (a stray quote after a closing one, or 5" screen), sends the file through the
    # strict diagnostic pass, which names the row of a real quoting error (and finds none in 5" screen)
    if reject and stream.quotes % 2:
        yield from salvage(done)
        return
    if (stream.quotes % 2 or stream.suspicious) and (err := explain.find()) is not None:
        raise err
    if buffered:
        yield tag(pa.Table.from_batches(pending), source, done + 1)


def _open(uri: str, options: ReadOptions, transport_params: dict | None) -> SourceStream:
    return SourceStream(open_source(uri, transport_params), None if options.is_utf8 else options.codec)


def _has_data(stream: SourceStream, uri: str, options: ReadOptions) -> bool:
    try:
        first = stream.read(BLOCK_SIZE)
    except OSError:
        raise _stream_failure(stream, uri, options) from None
    stream.unread(first)
    return bool(first)


def _stream_failure(stream: SourceStream, uri: str, options: ReadOptions, explain: _Explainer | None = None):
    """The error behind a failed read of ``stream``: decoding errors are located by ``explain``."""
    cause = stream.error
    if isinstance(cause, UnicodeDecodeError) and explain is not None:
        found = explain.find()
        if found is not None:
            return found
    return translate(cause or OSError("read failed"), source=display_name(uri), codec=options.codec)


def _read_header(stream: SourceStream, uri: str, options: ReadOptions, transport_params: dict | None) -> list[str]:
    """Read the header record from the front of ``stream`` (left at the first data byte); its columns."""
    source = display_name(uri)
    try:
        raw = _header_bytes(stream, source, options.delimiter)
    except OSError:
        raise _stream_failure(stream, uri, options, _Explainer(uri, options, transport_params)) from None
    if raw is None:
        raise SourceError("empty file (no header)", source=source)
    text = raw.decode("utf-8", ESCAPE_ERRORS)
    if (byte := bad_byte(text)) is not None:
        raise decode_error(source, options.codec, byte, where=" in the header")
    if b"\x00" in raw and options.codec.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        raise SourceError("the header holds NUL bytes: the file looks like UTF-16 without a byte order mark; "
                          "pass --encoding utf-16-le (or utf-16-be)", source=source)
    try:
        names = next(csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter, strict=True))
    except (csv.Error, StopIteration) as exc:
        raise SourceError(f"malformed header: {exc}", source=source) from None
    return header_columns(names, source)


def _header_bytes(stream: SourceStream, source: str, delimiter: str) -> bytes | None:
    """Bytes of the first non-blank record (BOM and line end dropped), or None if there is none.

    Quotes follow Python's csv rules, as the data's readers do: a quote opens a quoted field only at
    the start of a field (``c"0`` is text), and ``""`` inside one is a quote."""
    delim = delimiter.encode("utf-8")[0]
    buf = b""
    start = i = 0
    quoted, field_start, bom_checked = False, True, False
    while True:
        chunk = stream.read(1 << 16)
        buf += chunk
        if not bom_checked:
            if len(buf) < len(_BOM) and chunk:
                continue
            buf, bom_checked = buf.removeprefix(_BOM), True
        end = len(buf) if not chunk else len(buf) - 1  # keep a last byte: a CR or a quote needs the next one
        while i < end:
            c = buf[i]
            if quoted:
                if c == 0x22:
                    if buf[i + 1:i + 2] == b'"':
                        i += 2
                        continue
                    quoted = False
                i += 1
                continue
            if c == 0x22 and field_start:
                quoted, field_start = True, False
            elif c == 0x0A or c == 0x0D:
                stop = i + 2 if buf[i:i + 2] == b"\r\n" else i + 1
                if i > start:
                    stream.unread(buf[stop:])
                    return buf[start:i]
                start = i = stop  # a blank line before the header
                field_start = True
                continue
            else:
                field_start = c == delim
            i += 1
        if not chunk:
            return buf[start:] if buf[start:].strip(b"\r\n") else None
        if len(buf) - start > HEADER_LIMIT:
            raise SourceError("header longer than 1 MiB: unterminated quoted field in the header?", source=source)


def header_columns(names: list[str], source: str) -> list[str]:
    """Strip header names, reject empty/reserved ones, and turn repeats into slot names."""
    seen: dict[str, int] = {}
    columns: list[str] = []
    for position, raw in enumerate(names, start=1):
        name = raw.strip().lstrip("\ufeff").strip()
        if not name:
            raise SourceError(f"empty column name in the header (column {position})", source=source)
        if name in META_COLS:
            raise SourceError(f"column name {name} is reserved (column {position})", source=source)
        count = seen.get(name, 0)
        seen[name] = count + 1
        columns.append(slot_name(name, count))
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise SourceError(f"column {dup} appears twice once repeated names become slots", source=source)
    return columns


class _Explainer:
    """The slow exact pass: read the file again with Python's strict csv and name the first bad row."""

    def __init__(self, uri: str, options: ReadOptions, transport_params: dict | None):
        self.uri, self.options, self.transport_params = uri, options, transport_params
        self.source = display_name(uri)

    def failure(self, exc: BaseException, rows_before: int, stream: SourceStream | None = None) -> Exception:
        """The error to raise for a failure of the fast pass after ``rows_before`` good rows."""
        if stream is not None and stream.error is not None:
            return _stream_failure(stream, self.uri, self.options, self)
        if isinstance(exc, pa.ArrowInvalid) and (found := self.find()) is not None:
            return found
        if not isinstance(exc, pa.ArrowException):
            return translate(exc, source=self.source, codec=self.options.codec)
        m = _RAGGED.search(str(exc))
        detail = f"expected {m.group(1)} fields, found {m.group(2)}" if m else _arrow_detail(exc)
        return SourceError(f"unreadable CSV after row {rows_before}: {detail}", source=self.source)

    def find(self) -> SourceError | None:
        """The first problem in the file, or None if the strict pass finds nothing wrong."""
        try:
            raw = open_source(self.uri, self.transport_params)
        except Exception as exc:  # noqa: BLE001
            return translate(exc, source=self.source, codec=self.options.codec)
        text = io.TextIOWrapper(raw, encoding=self.options.text_codec, errors=ESCAPE_ERRORS, newline="")
        reader = csv.reader(text, delimiter=self.options.delimiter, quotechar='"', doublequote=True, strict=True)
        row = 0
        columns: list[str] | None = None
        try:
            while True:
                start_line = reader.line_num + 1
                try:
                    record = next(reader)
                except StopIteration:
                    return None
                except csv.Error as exc:
                    return self._csv_error(exc, None if columns is None else row + 1, start_line)
                if not record:
                    continue
                if columns is None:
                    if (byte := bad_byte("".join(record))) is not None:
                        return decode_error(self.source, self.options.codec, byte, where=" in the header")
                    columns = header_columns(record, self.source)
                    continue
                row += 1
                for i, value in enumerate(record):
                    if (byte := bad_byte(value)) is not None:
                        field = columns[i] if i < len(columns) else None
                        return decode_error(self.source, self.options.codec, byte, row=row, field=field)
                if len(record) != len(columns):
                    return SourceError(f"expected {len(columns)} fields, found {len(record)}",
                                       source=self.source, row=row)
        except Exception as exc:  # noqa: BLE001 - header or I/O failures of the second pass
            return translate(exc, source=self.source, codec=self.options.codec)
        finally:
            text.close()

    def _csv_error(self, exc: csv.Error, row: int | None, line: int) -> SourceError:
        detail = csv_error_detail(exc)
        where = "the header" if row is None else f"the record starting on line {line}"
        return SourceError(f"{detail} ({where})", source=self.source, row=row)


def _arrow_detail(exc: BaseException) -> str:
    """pyarrow's message without the offending row's text (which may hold personal data)."""
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    if "straddling object" in first:
        return f"a quoted field longer than {BLOCK_SIZE >> 20} MiB (unterminated quote?)"
    if "parse error" in first:
        return "CSV parse error"
    return scrub(first)[:160]
