"""The ledger: every input row's fate, written beside the staged files.

Staging writes ``ledger-staging.csv`` (fates ``staged``, ``rejected``, ``superseded``); once the
import jobs are final, :func:`finalise` streams it into ``ledger.csv`` where each staged row
becomes ``imported``, ``failed`` (with Pinpoint's masked message where Pinpoint names the row, or
the job's error) or ``uncertain`` (Pinpoint failed rows of its part without naming them; see
``report.outcomes``). Columns: source, row, fate, part, part_row, detail. Both files are written
through the S3 module, so they are encrypted like every staged object, and kept only when the
run's books balance. Details never hold raw values.
"""

from __future__ import annotations

import io
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pinpoint_etl.storage import objects, write
from pinpoint_etl.schemas.ledger import COLUMNS, SCHEMA  # noqa: F401 - re-exported for readers of the ledger

if TYPE_CHECKING:
    from pinpoint_etl.report.outcomes import PartOutcome, RunCounts

STAGING_NAME, FINAL_NAME = "ledger-staging.csv", "ledger.csv"
_QUEUED = 4  # tables waiting for the writer thread at most


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

    def __init__(self, uri: str, *, s3=None, write_options=None, outputs: write.Outputs | None = None):
        self.uri = uri
        self.counts: Counter[str] = Counter()
        self._cm = outputs.open(uri) if outputs is not None else write.open_write(uri, s3=s3, options=write_options)
        self._fh = self._cm.__enter__()
        self._closed = False
        try:
            self._fh.write(_encode(SCHEMA.empty_table(), True))
        except BaseException as exc:
            self._cm.__exit__(type(exc), exc, exc.__traceback__)
            raise
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

    def close(self, exc: BaseException | None = None, *, check: Callable[[Counter[str]], None] | None = None) -> None:
        """Wait for the rows added; keep the file if all were written, ``exc`` is None and ``check`` (given the
        fate counts) raises nothing, else abort (a failed background write or check is raised here when the
        caller had no error of its own)."""
        if self._closed:
            return
        self._closed = True
        self._thread.shutdown(wait=True)
        failed = next((f.exception() for f in self._pending if f.exception() is not None), None)
        self._pending = []
        if exc is None and failed is None and check is not None:
            try:
                check(self.counts)
            except BaseException as problem:  # noqa: BLE001 - aborts the file, then raised
                failed = problem
        cause = exc or failed
        if cause is None:
            self._cm.__exit__(None, None, None)
            return
        self._cm.__exit__(type(cause), cause, cause.__traceback__)
        if exc is None:
            raise failed

    def __enter__(self) -> "LedgerWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def read_batches(uri: str, *, s3=None):
    """Stream the record batches of a ledger file."""
    fh = objects.open_read(uri, s3=s3, compression="disable")
    convert = pacsv.ConvertOptions(column_types=SCHEMA, strings_can_be_null=True)
    reader = pacsv.open_csv(fh, read_options=pacsv.ReadOptions(block_size=4 << 20), convert_options=convert)
    try:
        yield from reader
    finally:
        fh.close()


def finalise(staging_uri: str, final_uri: str, outcomes: list["PartOutcome"], *, rows_read: int, s3=None,
             write_options=None) -> "RunCounts":
    """Resolve staged rows to imported / failed / uncertain from the jobs' outcomes (``report.outcomes.attribute``)
    and return the run's counts, computed from the fates written. The file is kept only if they balance."""
    from pinpoint_etl.report.outcomes import RunCounts, attribute, uncertain_detail

    plans = {o.part.uri: attribute(o) for o in outcomes}
    unattributed = sum(a.unattributed for a in plans.values())
    result: list[RunCounts] = []

    def balance(fates: Counter[str]) -> None:
        result.append(RunCounts.from_ledger(fates, unattributed, rows_read=rows_read))

    writer = LedgerWriter(final_uri, s3=s3, write_options=write_options)
    try:
        for batch in read_batches(staging_uri, s3=s3):
            frame = pa.Table.from_batches([batch]).to_pandas()
            staged = frame["fate"] == "staged"
            for part, idx in frame[staged].groupby("part").groups.items():
                plan = plans.get(part)
                if plan is None or plan.all_failed is not None:
                    why = plan.all_failed if plan is not None else "no import job was created"
                    frame.loc[idx, "fate"], frame.loc[idx, "detail"] = "failed", why
                    continue
                rows = frame.loc[idx, "part_row"]
                failed = rows.isin(list(plan.named)).to_numpy()
                frame.loc[idx[failed], "fate"] = "failed"
                frame.loc[idx[failed], "detail"] = rows[failed].map(plan.named)
                if plan.unattributed:
                    frame.loc[idx[~failed], "fate"] = "uncertain"
                    frame.loc[idx[~failed], "detail"] = uncertain_detail(plan.unattributed)
                else:
                    frame.loc[idx[~failed], "fate"] = "imported"
            writer.add_table(pa.Table.from_pandas(frame, schema=SCHEMA, preserve_index=False))
    except BaseException as exc:
        writer.close(exc)
        raise
    writer.close(check=balance)
    return result[0]
