"""The run's output writers, closed together or aborted together (``staging.prepare`` keeps them in one
ExitStack): import-file parts of at most ``max_bytes`` each (one import job per part) and the rejects
file, both also writing the ledger's rows. Files are opened through ``write.Outputs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pinpoint_etl.core.errors import ConfigError
from pinpoint_etl.storage import uris, write
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.staging.ledger import LedgerWriter
from pinpoint_etl.staging.tasks import reject_records
from pinpoint_etl.staging.writers import EXTENSIONS, encode_header, encode_rows, line_bounds, write_line_runs


@dataclass
class StagedPart:
    uri: str
    rows: int
    bytes: int


class RejectSink:
    """Streams reject records (source, row, reasons, original values) as NDJSON, and into the ledger."""

    def __init__(self, uri: str, outputs: write.Outputs, ledger: LedgerWriter):
        self.uri, self.rows, self.by_reason, self.ledger = uri, 0, {}, ledger
        self._cm = outputs.open(uri)
        self._fh = self._cm.__enter__()

    def append(self, data: bytes, ledger_rows: pa.Table, by_reason: dict[str, int]) -> None:
        if not ledger_rows.num_rows:
            return
        self._fh.write(data)
        self.ledger.add_table(ledger_rows)
        self.rows += ledger_rows.num_rows
        for reason, n in by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n

    def add(self, rows: pa.Table, reasons: list[list[str]]) -> None:
        if rows.num_rows:
            self.append(*reject_records(rows, reasons))

    def close(self, exc: BaseException | None = None) -> None:
        cm, self._cm = self._cm, None
        if cm is None:
            return
        if exc is None:
            cm.__exit__(None, None, None)
        else:
            cm.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


class PartWriter:
    """Writes rows into parts of at most ``max_bytes`` each, one part per import job."""

    def __init__(self, out_base, fmt, columns, max_bytes, outputs: write.Outputs, parts: list[StagedPart],
                 ledger: LedgerWriter):
        self.ledger = ledger
        self.out_base, self.fmt, self.columns, self.max_bytes = out_base, fmt, columns, max_bytes
        self.outputs, self.parts = outputs, parts
        self.header = encode_header(columns, fmt)
        if len(self.header) >= max_bytes:
            raise ConfigError(f"the header alone is larger than the part limit of {max_bytes} bytes")
        self._cm = self._fh = None
        self._part: StagedPart | None = None

    def _open(self):
        n = len(self.parts) + 1
        uri = uris.join(self.out_base, "import", f"part-{n:05d}{EXTENSIONS[self.fmt]}")
        self._cm = self.outputs.open(uri)
        self._fh = self._cm.__enter__()
        self._fh.write(self.header)
        self._part = StagedPart(uri=uri, rows=0, bytes=len(self.header))

    def _finish(self):
        if self._cm is not None:
            cm, self._cm = self._cm, None  # a failed completion has aborted the upload: nothing to abort again
            cm.__exit__(None, None, None)
            self.parts.append(self._part)
            self._fh = self._part = None

    def write(self, table: pa.Table, source: str) -> None:
        """Append ``table``'s rows (all from ``source``): encoded here, then cut like any other lines."""
        data = np.frombuffer(encode_rows(table, self.columns, self.fmt), dtype=np.uint8)
        self.write_lines(data, np.ones(table.num_rows, dtype=bool), table.column(cat.ROW_COL).to_numpy(), source)

    def write_lines(self, buf: np.ndarray, keep: np.ndarray, rows: np.ndarray, source: str) -> None:
        """Append the ``keep`` lines of import-file bytes ``buf`` (one line per row: CSV values hold no
        line breaks after normalising, NDJSON escapes them) whose source rows are ``rows``, cutting
        parts at line ends at the size limit (a line larger than the limit gets a part of its own)."""
        starts, ends = line_bounds(buf)
        if len(ends) != len(keep):
            raise RuntimeError(f"{source}: {len(ends)} encoded lines for {len(keep)} rows")
        kept = np.flatnonzero(keep)  # the lines to write, by position in buf
        cum = np.cumsum(ends[kept] - starts[kept])  # bytes written after each kept line
        i, n = 0, len(kept)
        while i < n:
            if self._part is None:
                self._open()
            start = int(cum[i - 1]) if i else 0
            j = int(np.searchsorted(cum, start + self.max_bytes - self._part.bytes, side="right"))
            if j == i:  # the next line does not fit: a new part, or alone in an empty one
                if self._part.rows:
                    self._finish()
                    continue
                j = i + 1
            write_line_runs(self._fh, buf, starts, ends, kept[i:j])
            self._part.bytes += int(cum[j - 1]) - start
            first = self._part.rows + 1
            self._part.rows += j - i
            self.ledger.add(source, rows[i:j], "staged", part=self._part.uri,
                            part_row=np.arange(first, first + j - i))
            i = j
            if i < n:
                self._finish()

    def close(self):
        self._finish()

    def abort(self, exc: BaseException):
        cm, self._cm = self._cm, None
        if cm is not None:
            cm.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            self.abort(exc)
        else:
            self.close()
