"""How a source is read: delimiter, encoding, format and chunk size."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Literal

from pinpoint_etl.core.errors import ConfigError

Format = Literal["auto", "csv", "json", "ndjson"]
FORMATS: tuple[str, ...] = ("auto", "csv", "json", "ndjson")
OnMalformed = Literal["reject", "fail"]
ON_MALFORMED: tuple[str, ...] = ("reject", "fail")
_DELIMITER_ALIASES = {"\\t": "\t", "tab": "\t", "TAB": "\t"}


#: rows per chunk unless told: a worker's peak grows with its chunk (the raw and the normalised values,
#: Arrow's and the parser's working memory); this keeps validate's whole process tree (driver, fork
#: server, two workers) under the memory target (bench/README.md, runs J and K)
DEFAULT_CHUNK_ROWS = 80_000


@dataclass(frozen=True)
class ReadOptions:
    """Options for one source (or all of them).

    ``delimiter``: one character; ``"\\t"`` / ``"tab"`` are accepted for a tab. A ``.tsv`` file read
    with the default ``","`` uses a tab. ``encoding``: any Python codec name; ``utf-8`` also accepts
    a BOM. ``format``: ``auto`` picks by extension (after stripping ``.gz``/``.bz2``/``.zst``):
    ``.csv``/``.tsv``/``.txt`` → csv, ``.json`` → a JSON array or NDJSON (sniffed from the first
    character), ``.ndjson``/``.jsonl`` → ndjson; ``json`` sniffs the same way. ``chunk_rows``: rows
    per table yielded by ``read_tables``. ``on_malformed``: ``reject`` turns a record that is not
    CSV or JSON (a ragged CSV row, a stray or unclosed quote, a broken NDJSON line, a duplicate JSON
    key) into a ``sources.malformed.Malformed`` record and reads on; ``fail`` raises a ``SourceError``
    naming it. Problems of the whole file (encoding, compression, header) raise either way. Bad values
    raise ``ConfigError``.
    """

    delimiter: str = ","
    encoding: str = "utf-8"
    format: Format = "auto"
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    on_malformed: OnMalformed = "reject"

    def __post_init__(self) -> None:
        delimiter = _DELIMITER_ALIASES.get(self.delimiter, self.delimiter)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise ConfigError(f"delimiter must be one character other than a quote or newline, got {self.delimiter!r}")
        object.__setattr__(self, "delimiter", delimiter)
        try:
            codecs.lookup(self.encoding)
        except (LookupError, TypeError):
            raise ConfigError(f"unknown encoding {self.encoding!r}") from None
        if self.format not in FORMATS:
            raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if not isinstance(self.chunk_rows, int) or isinstance(self.chunk_rows, bool) or self.chunk_rows < 1:
            raise ConfigError(f"chunk_rows must be a positive integer, got {self.chunk_rows!r}")
        if self.on_malformed not in ON_MALFORMED:
            raise ConfigError(f"on_malformed must be reject or fail, got {self.on_malformed!r}")

    @property
    def codec(self) -> str:
        """Normalised codec name (``utf-8``, ``utf-8-sig``, ``iso8859-1``, ``utf-16``…)."""
        return codecs.lookup(self.encoding).name

    @property
    def is_utf8(self) -> bool:
        """True when the bytes are UTF-8 (with or without BOM) and need no transcoding."""
        return self.codec in ("utf-8", "utf-8-sig")

    @property
    def text_codec(self) -> str:
        """The codec to decode text with: UTF-8 always tolerates (and drops) a leading BOM."""
        return "utf-8-sig" if self.is_utf8 else self.codec
