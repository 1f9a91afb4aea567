"""The ledger: every input row's fate, written beside the staged files.

Staging writes ``ledger-staging.csv`` (fates ``staged``, ``rejected``, ``superseded``); once the
import jobs are final, :func:`finalise` streams it into ``ledger.csv`` where each staged row
becomes ``imported`` or ``failed`` (with Pinpoint's message where Pinpoint names the row, or the
job's error). Columns: source, row, fate, part, part_row, detail. Both files are written through
the S3 module, so they are encrypted like every staged object. Details never hold raw values.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pinpoint_etl.pinpoint import s3io
from pinpoint_etl.schemas.ledger import COLUMNS, SCHEMA  # noqa: F401 - re-exported for readers of the ledger

if TYPE_CHECKING:
    from pinpoint_etl.report.summary import PartOutcome

STAGING_NAME, FINAL_NAME = "ledger-staging.csv", "ledger.csv"
_QUEUED = 4  # tables waiting for the writer thread at most
_FAILURE = re.compile(r"^(?P<uri>\S+) row (?P<row>\d+): (?P<reason>.*)$")


def _encode(table: pa.Table, header: bool) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, quoting_style="needed"))
    return buf.getvalue()


class LedgerWriter:
    """Streams ledger rows as CSV to ``uri`` (all or nothing, like every staged object).

    Rows are encoded and written on one background thread, in the order they were added (pyarrow
    encodes without the GIL, so the caller goes on cutting parts meanwhile); a failed write is
    raised by the next ``add`` or by ``close``.
    """

    def __init__(self, uri: str, *, s3=None, write_options=None):
        self.uri = uri
        self.counts: Counter[str] = Counter()
        self._cm = s3io.open_write(uri, s3=s3, options=write_options)
        self._fh = self._cm.__enter__()
        self._fh.write(_encode(SCHEMA.empty_table(), True))
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinpoint-etl-ledger")
        self._pending: list[Future] = []

    def add(self, source, row, fate: str, *, part: str | None = None, part_row=None, detail=None) -> None:
        """Add rows sharing one fate; ``source``/``row``/``part_row``/``detail`` are arrays or scalars."""
        n = len(row)
        if n == 0:
            return
        def col(value, typ):
            if value is None:
                return pa.nulls(n, type=typ)
            if isinstance(value, (str, int)):
                return pa.repeat(pa.scalar(value, type=typ), n)
            return pa.array(value, type=typ)
        table = pa.table([col(source, pa.string()), col(row, pa.int64()), col(fate, pa.string()),
                          col(part, pa.string()), col(part_row, pa.int64()), col(detail, pa.string())],
                         schema=SCHEMA)
        self.add_table(table)

    def add_table(self, table: pa.Table) -> None:
        still = []
        for f in self._pending:
            if f.done():
                f.result()  # a failed write is raised here
            else:
                still.append(f)
        while len(still) >= _QUEUED:  # bounded: a fast caller waits rather than queueing every table
            still.pop(0).result()
        self._pending = still + [self._thread.submit(self._write, table)]

    def _write(self, table: pa.Table) -> None:
        self._fh.write(_encode(table, False))
        for fate, n in zip(*pc.value_counts(table["fate"]).flatten()):
            self.counts[fate.as_py()] += n.as_py()

    def close(self, exc: BaseException | None = None) -> None:
        """Wait for the rows added; keep the file if all were written and ``exc`` is None, else abort
        (a failed background write is raised here when the caller had no error of its own)."""
        self._thread.shutdown(wait=True)
        failed = next((f.exception() for f in self._pending if f.exception() is not None), None)
        self._pending = []
        cause = exc or failed
        if cause is None:
            self._cm.__exit__(None, None, None)
            return
        self._cm.__exit__(type(cause), cause, cause.__traceback__)
        if exc is None:
            raise failed


def read_batches(uri: str, *, s3=None):
    """Stream the record batches of a ledger file."""
    fh = s3io.open_read(uri, s3=s3, compression="disable")
    convert = pacsv.ConvertOptions(column_types=SCHEMA, strings_can_be_null=True)
    reader = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=4 << 20), convert_options=convert)
    try:
        yield from reader
    finally:
        fh.close()


def named_failures(outcome: "PartOutcome") -> dict[int, str]:
    """Pinpoint's Failures entries that name a row of this part: part row → reason."""
    out: dict[int, str] = {}
    for text in (outcome.job.failures if outcome.job else []):
        m = _FAILURE.match(text)
        if m and m.group("uri") == outcome.part.uri:
            out[int(m.group("row"))] = m.group("reason")
    return out


def finalise(staging_uri: str, final_uri: str, outcomes: list["PartOutcome"] | None, *, s3=None,
             write_options=None) -> Counter[str]:
    """Resolve staged rows to imported/failed from the jobs' outcomes; returns the fate counts.

    ``outcomes=None`` (a validate run) keeps ``staged``. A part whose job failed, timed out or was
    never created fails every row; a completed job fails the rows Pinpoint names. When Pinpoint
    reports more failures than it names (it lists the first 100), the unnamed ones cannot be told
    apart: those parts' other rows stay ``imported`` with a detail saying so.
    """
    plans = {}
    for o in outcomes or []:
        ok = o.job is not None and o.job.state in ("completed", "completed_with_failures")
        named = named_failures(o) if ok else {}
        unnamed = (o.job.total_failures - len(named)) if ok else 0
        why = None if ok else (o.error or (f"job {o.job.id} {o.job.state}" if o.job else "no import job"))
        plans[o.part.uri] = (ok, named, unnamed, why)
    writer = LedgerWriter(final_uri, s3=s3, write_options=write_options)
    try:
        for batch in read_batches(staging_uri, s3=s3):
            table = pa.Table.from_batches([batch])
            if outcomes is None:
                writer.add_table(table)
                continue
            frame = table.to_pandas()
            staged = frame["fate"] == "staged"
            for part, idx in frame[staged].groupby("part").groups.items():
                ok, named, unnamed, why = plans.get(part, (False, {}, 0, "no import job"))
                if not ok:
                    frame.loc[idx, "fate"], frame.loc[idx, "detail"] = "failed", why
                    continue
                rows = frame.loc[idx, "part_row"]
                failed = rows.isin(list(named))
                frame.loc[idx, "fate"] = failed.map({True: "failed", False: "imported"})
                frame.loc[idx[failed.to_numpy()], "detail"] = rows[failed].map(named)
                if unnamed > 0:
                    frame.loc[idx[~failed.to_numpy()], "detail"] = (
                        f"Pinpoint reported {unnamed} failed rows in this part without naming them")
            writer.add_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False))
    except BaseException as exc:
        writer.close(exc)
        raise
    writer.close()
    return writer.counts
