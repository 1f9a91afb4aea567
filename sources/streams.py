"""Sources as byte streams for the parsers: undecodable bytes marked, stray quotes noticed.

Opening a source and turning its failures into pipeline errors is ``storage``'s (``storage.objects.
open_source``, ``storage.errors.translate``); this module wraps what it opened.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from typing import BinaryIO

import numpy as np

#: Decoding error handler that keeps going and turns each undecodable byte ``b`` into the lone
#: surrogate U+DC00+b (like ``surrogateescape`` but for every codec). Valid text never contains
#: lone surrogates, so ``BAD_TEXT`` finds the exact place of a decoding error in decoded text.
ESCAPE_ERRORS = "pinpoint_etl.escape"
BAD_TEXT = re.compile("[\udc00-\udcff]")


def _escape_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start:exc.end]), exc.end


codecs.register_error(ESCAPE_ERRORS, _escape_undecodable)


def bad_byte(text: str) -> int | None:
    """The first undecodable byte marked in ``text`` by ``ESCAPE_ERRORS``, or None."""
    m = BAD_TEXT.search(text)
    return ord(m.group()) - 0xDC00 if m else None


def has_stray_quote(data: bytes, neighbours: bytes) -> bool:
    """True if a quote in ``data[1:-1]`` has a byte outside ``neighbours`` on both sides (vectorised:
    a regex over every byte was far slower)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(buf[1:-1] == ord('"')) + 1
    if not at.size:
        return False
    allowed = np.frombuffer(neighbours, dtype=np.uint8)
    return bool((~np.isin(buf[at - 1], allowed) & ~np.isin(buf[at + 1], allowed)).any())


class SourceStream(io.RawIOBase):
    """A readable byte stream over an opened source, for parsers that need plain bytes.

    * ``transcode_from``: decode with that codec and hand out UTF-8 (strict: bad bytes raise);
    * ``unread``: put bytes back in front (used after peeking at a header or first character);
    * any exception of the source is kept in ``error`` and re-raised as a bare ``OSError``, so the
      original cause survives parsers (pyarrow) that would replace it with a generic message;
    * ``count_quotes``: while True, count ``"`` bytes handed out in ``quotes``;
    * ``position``: bytes handed out and not put back (for an untranscoded source, its byte offset).
    """

    def __init__(self, raw: BinaryIO, transcode_from: str | None = None):
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(transcode_from)("strict") if transcode_from else None
        self._pending = b""
        self._eof = False
        self.error: BaseException | None = None
        self.count_quotes = False
        self.quotes = 0
        #: set by the CSV reader: the bytes that may sit next to a quote (delimiter, CR, LF, quote);
        #: a quote with any other byte on both sides (``"ab"c`` or ``x"y``) makes the stream suspicious
        self.quote_neighbours: bytes | None = None
        self.suspicious = False
        self._tail = b""
        self.position = 0
        #: set by the CSV reader when rejecting malformed records: a ``csv_scan.Scanner`` fed every byte
        #: handed out, which makes the stream suspicious at the first irregular quote or overlong line
        self.scanner = None
        self._held = b""
        self._scanned = 0

    def readable(self) -> bool:
        return True

    def unread(self, data: bytes) -> None:
        self._pending = data + self._pending
        self.position -= len(data)

    def _next(self, size: int) -> bytes:
        """The next non-empty piece of (UTF-8) bytes from the source, or b"" at its end."""
        while not self._eof:
            try:
                raw = self._raw.read(size)
                data = raw if self._decoder is None else self._decoder.decode(raw, final=not raw).encode("utf-8")
            except Exception as exc:  # noqa: BLE001 - kept for the caller, see class docstring
                self.error = self.error or exc
                raise OSError("source read failed") from None
            self._eof = not raw
            if data:
                return data
        return b""

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            chunks = [self._pending]
            self._pending = b""
            while chunk := self._next(1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        else:
            if not self._pending:
                self._pending = self._next(max(size, 1))
            data, self._pending = self._pending[:size], self._pending[size:]
        self.position += len(data)
        if self.count_quotes:
            self.quotes += data.count(b'"')
            if self.quote_neighbours is not None and not self.suspicious and data:
                self.suspicious = has_stray_quote(self._tail + data, self.quote_neighbours)
                self._tail = (self._tail + data)[-2:]
        if self.scanner is not None and not self.suspicious:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        """Feed ``data`` to the scanner, holding the last byte back until the next (what follows it
        decides whether it is irregular); ``b""`` is the end of the data."""
        buf = self._held + data
        if data:
            region, self._held, after = buf[:-1], buf[-1:], buf[-1]
        else:
            region, self._held, after = buf, b"", None
        _, regular = self.scanner.records(np.frombuffer(region, dtype=np.uint8), self._scanned, after)
        self._scanned += len(region)
        self.suspicious = not regular

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a failed stream must not mask the real error
            self._raw.close()
        super().close()
