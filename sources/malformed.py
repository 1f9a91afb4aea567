"""Records that are not CSV or JSON, kept as rejects instead of failing the run (``on_malformed="reject"``).

A reader that meets one (a ragged CSV row, a stray or unclosed quote, a broken NDJSON line, a value
that is not a JSON object, a key twice in one object) hands it on as a :class:`Malformed`: the row
number it would have had (CSV: the record number after the header; NDJSON: the line number; JSON
array: the element number), the physical line it starts on, the reason (never a value) and its raw
text. Readers yield them in :class:`MalformedBatch` items between their tables; the pipeline writes
them to the rejects file and the ledger like any rejected row, so they count among the rows read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: raw text kept per malformed record, in characters (a quote never closed can swallow a whole file)
MAX_RAW = 10_000


@dataclass(frozen=True)
class Malformed:
    """One record that could not be read as a record (see module docstring)."""

    source: str
    row: int
    line: int | None
    reason: str
    raw: str

    @classmethod
    def of(cls, source: str, row: int, line: int | None, reason: str, raw: str) -> "Malformed":
        """A record with ``raw`` cut to :data:`MAX_RAW` characters and its line end dropped."""
        raw = raw.rstrip("\r\n")
        return cls(source, row, line, reason, raw if len(raw) <= MAX_RAW else raw[:MAX_RAW] + "…")


@dataclass
class MalformedBatch:
    """Malformed records of one source, yielded between its tables."""

    records: list[Malformed] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)
