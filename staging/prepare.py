"""Stage an import: read → map → normalise → validate → dedupe → write import-ready parts.

Two passes keep the data out of memory whatever the input size:

1. the driver reads every chunk and spills it — or, for a local CSV file and workers on the same
   machine, only cuts it into pieces that the workers parse (``sources.csv_pieces``); an executor
   (worker processes, threads or Dask, see ``staging.executors``) maps, normalises and validates
   each one (``staging.chunks``): valid rows spill as encoded import-file lines (and as a local
   Arrow file too, for JSON sources or NDJSON staging), rejects go to the rejects file and the
   ledger, and hashes of Ids and user ids go to partitioned key files on disk (``staging.keys``);
2. once every row has been seen, "last occurrence wins" and the 15-endpoints-per-user rule are
   decided globally, one key partition at a time, and the spilled chunks are written out as
   import files (CSV by default) in parts of at most ``max_part_bytes`` — one import job per part.

Memory does not grow with the input: chunks, key partitions and the decided rows (~1 %) only.

Every row read ends in exactly one bucket: staged, rejected (with every reason) or superseded. With a
mapping spec (``transforms.spec``) the buckets count endpoints: each endpoint a row produced, each row
that produced none and each malformed record is one entry, in the ledger and in the counts
(``Prepared.unit``); ``source_rows_read`` counts the records read.
"""

from __future__ import annotations

import contextlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather

from pinpoint_etl.core.errors import ColumnError
from pinpoint_etl.core.memory import release_arrow_memory
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.storage import uris, write
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.core.catalogue import check_columns
from pinpoint_etl.sources.csv_pieces import CsvPiece
from pinpoint_etl.sources.frames import tag
from pinpoint_etl.sources.locate import expand_sources
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.read import read_header, read_tables, resolve
from pinpoint_etl.staging.executors import Runner, make_executor, resolve_runner
from pinpoint_etl.staging.keys import KeyStore
from pinpoint_etl.staging.ledger import STAGING_NAME, LedgerWriter
from pinpoint_etl.staging.parts import PartWriter, RejectSink, StagedPart
from pinpoint_etl.staging.spill import spill_folder
from pinpoint_etl.staging.dispatch import run_chunk
from pinpoint_etl.staging.tasks import ChunkResult, ChunkTask, malformed_records
from pinpoint_etl.staging.writers import StagedFormat, line_bounds, ordered_columns
from pinpoint_etl.transforms.columns import plan_columns
from pinpoint_etl.transforms.spec import MappingSpec

@dataclass
class StageOptions:
    """What to read and how to write it (the parameters of the prepare stage)."""

    sources: list[str]
    read: ReadOptions = field(default_factory=ReadOptions)
    mapping: dict[str, str] = field(default_factory=dict)
    fold_unknown: bool = False
    default_region: str | None = None
    fmt: StagedFormat = "CSV"
    max_part_bytes: int = cat.MAX_JOB_BYTES
    runner: Runner = "auto"
    workers: int = 2
    dask_address: str | None = None
    spec: MappingSpec | None = None  # rows → endpoints; ``mapping`` and ``fold_unknown`` then do not apply


@dataclass
class Prepared:
    """The outcome of staging: counts that balance, the parts written, the rejects file."""

    run_id: str
    out_base: str
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    parts: list[StagedPart] = field(default_factory=list)
    rejects_uri: str | None = None
    manifest_uri: str | None = None
    ledger_uri: str | None = None
    normalised: dict[str, int] = field(default_factory=dict)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    ledger_counts: dict[str, int] = field(default_factory=dict)  # the staging ledger's rows per fate
    unit: str = "rows"  # what the rows_* counts count: "rows", or "endpoints" with a mapping spec
    source_rows_read: int = 0  # records read from the sources
    rows_without_endpoint: int = 0  # records that yielded no endpoint (with a spec) or were malformed

    @property
    def source_rows(self) -> dict[str, int]:
        """Records read, and how many yielded endpoints: ``read = with_endpoints + without_endpoints``
        and, with a spec, ``rows_read = endpoints + without_endpoints``."""
        return {"read": self.source_rows_read, "with_endpoints": self.source_rows_read - self.rows_without_endpoint,
                "without_endpoints": self.rows_without_endpoint,
                "endpoints": self.rows_read - self.rows_without_endpoint}

    def balanced(self) -> bool:
        return self.rows_read == self.rows_valid + self.rows_rejected + self.rows_superseded


ProgressFn = Callable[[str, int], None]  # (stage, rows so far)


def check_all_columns(opts: StageOptions, transport: dict | None) -> None:
    """Read every source's header and plan its columns — fails before anything is written.

    Chunks are planned again as they come (a JSON field may first appear in a later record).
    """
    targets: list[str] = []
    if opts.spec is not None:
        from pinpoint_etl.transforms.expand import check_spec_columns, spec_targets

        targets = spec_targets(opts.spec)
    for uri in opts.sources:
        header = read_header(uri, opts.read, transport_params=transport)
        try:
            if opts.spec is not None:
                check_spec_columns(opts.spec, header, require=resolve(uri, opts.read)[0] == "csv")
                continue
            plan = plan_columns(header, opts.mapping, fold_unknown=opts.fold_unknown)
        except ColumnError as exc:
            raise ColumnError(exc.detail, source=uri) from None
        targets.extend(t for t in plan.values() if t not in cat.META_COLS)
    _check_columns(list(dict.fromkeys(targets)), opts.sources)


def _check_columns(columns: list[str], sources: list[str]) -> None:
    try:
        check_columns(columns)
    except ColumnError as exc:
        shown = sources[0] if len(sources) == 1 else f"{len(sources)} sources ({', '.join(sources[:3])}…)"
        raise ColumnError(exc.detail, source=shown) from None


def prepare(opts: StageOptions, *, run_id: str, out_base: str, s3=None, write_options=None,
            progress: ProgressFn | None = None, spill_dir: str | None = None, executor=None) -> Prepared:
    """Run both passes and write parts, rejects and a manifest under ``out_base``.

    ``executor`` (``submit(fn, arg)``/``close()``/``workers``) runs the chunk work; by default one is
    made from ``opts.runner`` (see ``staging.executors``). The Prefect flow passes one backed by a Prefect task
    runner.
    """
    transport = {"client": s3} if s3 is not None else None
    sources = expand_sources(opts.sources, s3_client=s3)
    opts = StageOptions(**{**asdict(opts), "sources": sources, "read": opts.read})
    check_all_columns(opts, transport)
    result = Prepared(run_id=run_id, out_base=out_base, sources=sources,
                      unit="rows" if opts.spec is None else "endpoints")
    outputs = write.Outputs(s3=s3, options=write_options)
    # every writer is closed, or aborted on any failure, whatever another one's close does; the files
    # keep temporary names (local) until the books balance, and are removed if they do not
    with contextlib.ExitStack() as stack:
        stack.push(lambda exc_type, exc, tb: exc_type is not None and outputs.discard())
        ledger = stack.enter_context(LedgerWriter(uris.join(out_base, STAGING_NAME), outputs=outputs))
        rejects = stack.enter_context(RejectSink(uris.join(out_base, "rejects.ndjson"), outputs, ledger))
        tmp = stack.enter_context(spill_folder(run_id, spill_dir))
        spills, columns, keys = _pass_one(opts, transport, result, rejects, tmp, progress, executor)
        writer = stack.enter_context(PartWriter(out_base, opts.fmt, columns, opts.max_part_bytes, outputs, result.parts,
                                                ledger))
        _pass_two(opts, spills, keys, result, rejects, ledger, writer, progress)
        writer.close()
        rejects.close()
        result.rejects_uri, result.rows_rejected = rejects.uri, rejects.rows
        result.rejects_by_reason = dict(sorted(rejects.by_reason.items(), key=lambda kv: -kv[1]))
        ledger.close(check=lambda fates: _check_books(result, fates))
        result.ledger_uri, result.ledger_counts = ledger.uri, dict(ledger.counts)
        result.manifest_uri = uris.join(out_base, "manifest.json")
        outputs.write_bytes(result.manifest_uri, json.dumps(manifest(result), indent=2).encode())
        outputs.commit()
    return result


def _check_books(result: Prepared, fates) -> None:
    """Every row read is staged, rejected or superseded, in the counts and in the ledger (BooksError)."""
    from pinpoint_etl.report.outcomes import BooksError, RunCounts

    counts = RunCounts.from_ledger(fates, 0, rows_read=result.rows_read)
    if not result.balanced() or (counts.rows_staged, counts.rows_rejected, counts.rows_superseded) != (
            result.rows_valid, result.rows_rejected, result.rows_superseded):
        raise BooksError(f"books do not balance: read {result.rows_read}, staged {result.rows_valid}, rejected "
                         f"{result.rows_rejected}, superseded {result.rows_superseded}; ledger {dict(fates)}",
                         run_id=result.run_id)


def manifest(p: Prepared) -> dict:
    doc = {"run_id": p.run_id, "sources": [scrub(s) for s in p.sources], "rows_read": p.rows_read,
           "rows_valid": p.rows_valid, "rows_rejected": p.rows_rejected, "rows_superseded": p.rows_superseded,
           "staged": [asdict(x) for x in p.parts], "rejects": {"uri": p.rejects_uri, "rows": p.rows_rejected},
           "ledger": p.ledger_uri, "normalised": p.normalised, "rejects_by_reason": p.rejects_by_reason}
    if p.unit != "rows":
        doc.update(unit=p.unit, source_rows_read=p.source_rows_read, rows_without_endpoint=p.rows_without_endpoint)
    return doc


def from_manifest(doc: dict, out_base: str) -> Prepared:
    """The Prepared of an earlier run, from its manifest (to resume without staging again)."""
    return Prepared(run_id=doc["run_id"], out_base=out_base, rows_read=doc["rows_read"], rows_valid=doc["rows_valid"],
                    rows_rejected=doc["rows_rejected"], rows_superseded=doc["rows_superseded"],
                    parts=[StagedPart(**x) for x in doc["staged"]], rejects_uri=doc["rejects"]["uri"],
                    manifest_uri=uris.join(out_base, "manifest.json"), ledger_uri=doc.get("ledger"),
                    normalised=doc.get("normalised", {}), rejects_by_reason=doc.get("rejects_by_reason", {}),
                    sources=doc["sources"], unit=doc.get("unit", "rows"),
                    source_rows_read=doc.get("source_rows_read", doc["rows_read"]),
                    rows_without_endpoint=doc.get("rows_without_endpoint", 0))


@dataclass
class _Spill:
    """One chunk's valid rows: the import-file lines its worker encoded (in ``columns``), their source
    rows (``keys_path``), their source index, and the rows as Arrow when the worker kept them."""

    path: Path | None
    src_idx: int
    lines_path: str
    columns: list[str]
    keys_path: str


def _pass_one(opts, transport, result: Prepared, rejects: RejectSink, tmp: Path, progress, executor=None):
    """Read every chunk in the driver; stage chunks on the executor, one more in flight than workers."""
    spills: list[_Spill] = []
    store = KeyStore(tmp / "keys")
    shown: list[str] = []
    columns: dict[str, None] = {}
    executor = executor or make_executor(resolve_runner(opts.runner, opts.sources), opts.workers, opts.dask_address)
    inflight: list = []

    def collect(res: ChunkResult) -> None:
        result.rows_read += res.rows_read
        result.source_rows_read += res.source_rows
        result.rows_without_endpoint += res.rows_without_endpoint
        for rule, n in res.normalised.items():
            result.normalised[rule] = result.normalised.get(rule, 0) + n
        if res.rejects_path:
            with open(res.rejects_path, "rb") as fh:
                data = fh.read()
            rejects.append(data, feather.read_table(res.ledger_path), res.by_reason)
            os.unlink(res.rejects_path)
            os.unlink(res.ledger_path)
        if res.valid_rows:
            if res.source not in shown:
                shown.append(res.source)
            idx = shown.index(res.source)
            spills.append(_Spill(Path(res.valid_path) if res.valid_path else None, idx, res.lines_path,
                                 ordered_columns(res.columns), res.keys_path))
            with np.load(res.keys_path) as k:
                store.add(k["ids"], k["users"], idx, k["rows"])
            for c in res.columns:
                columns.setdefault(c, None)
        if progress:
            progress("read", result.rows_read)

    try:
        index = 0
        for uri in opts.sources:
            keep_arrow = opts.fmt != "CSV" or resolve(uri, opts.read)[0] != "csv"
            # workers on this machine parse pieces of a local CSV file themselves: the driver only scans bytes
            pieces = getattr(executor, "same_host", False)
            for raw in read_tables(uri, opts.read, transport_params=transport, pieces=pieces):
                if isinstance(raw, MalformedBatch):  # records that are not CSV/JSON: rejected here
                    rejects.append(*malformed_records(raw.records))
                    result.rows_read += len(raw)
                    result.source_rows_read += len(raw)
                    result.rows_without_endpoint += len(raw)
                    continue
                piece = raw if isinstance(raw, CsvPiece) else None
                task = ChunkTask(index, str(tmp / f"chunk-{index:06d}"), piece, opts.mapping, opts.fold_unknown,
                                 opts.default_region, staged_format=opts.fmt, keep_arrow=keep_arrow, spec=opts.spec)
                if piece is None:
                    feather.write_feather(raw, task.raw_path, compression="uncompressed")
                    del raw
                    release_arrow_memory()  # the driver's RSS stays about one chunk
                inflight.append(executor.submit(run_chunk, task))
                index += 1
                while len(inflight) > executor.workers:
                    collect(inflight.pop(0).result())
        while inflight:
            collect(inflight.pop(0).result())
    finally:
        executor.close()

    store.close()
    _check_columns(list(columns), opts.sources)
    return spills, ordered_columns(list(columns)), (store, shown)


def _pass_two(opts, spills, keys: tuple[KeyStore, list[str]], result: Prepared, rejects: RejectSink,
              ledger: LedgerWriter, writer: "PartWriter", progress):
    store, sources = keys
    decided = store.decide()
    result.rows_superseded = len(decided.superseded)
    offset = 0
    # spilled chunks are deleted as soon as they are written out, so the disk a run needs stays about
    # the size of its output; on a thread (freeing a file's cached pages takes time), and a
    # file it fails to delete goes with the run's temporary folder
    deletions = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinpoint-etl-cleanup")
    try:
        for spill in spills:
            source = sources[spill.src_idx]
            with np.load(spill.keys_path) as k:
                rows = k["rows"]
            n = len(rows)
            sup, win_src, win_row, ovf = decided.in_range(offset, offset + n)
            if sup.any():
                details = [f"superseded by {sources[w]} row {r}" for w, r in zip(win_src.tolist(), win_row.tolist())]
                ledger.add(source, rows[sup], "superseded", detail=details)
            offset += n
            if ovf.any():
                over = _valid_rows(spill, ovf, rows, source)
                reason = f"User.UserId has more than {cat.MAX_ENDPOINTS_PER_USER} endpoints in this input"
                rejects.add(over, [[reason]] * over.num_rows)
            keep = ~sup & ~ovf
            result.rows_valid += int(keep.sum())
            fits = spill.lines_path and (opts.fmt == "JSON" or spill.columns == writer.columns)
            if keep.any() and fits:  # the worker's lines: NDJSON, or CSV with the run's columns
                lines = np.memmap(spill.lines_path, dtype=np.uint8, mode="r")  # written from the page cache
                writer.write_lines(lines, keep, rows[keep], source)
                del lines
            elif keep.any():  # a CSV chunk lacking some of the run's columns (JSON fields): encode here
                writer.write(_valid_rows(spill, keep, rows, source), source)
            for path in filter(None, (spill.path, spill.lines_path, spill.keys_path)):
                deletions.submit(os.unlink, path)
            if progress:
                progress("stage", result.rows_valid)
    finally:
        deletions.shutdown(wait=True)


def _valid_rows(spill: _Spill, mask: np.ndarray, rows: np.ndarray, source: str) -> pa.Table:
    """The ``mask`` rows of a chunk's valid rows as Arrow: from the Arrow file its worker kept, else
    read back from its CSV lines (a missing value is written as an empty cell, empty text as "")."""
    if spill.path is not None:
        return feather.read_table(spill.path, memory_map=True).filter(pa.array(mask))
    buf = np.memmap(spill.lines_path, dtype=np.uint8, mode="r")
    starts, ends = line_bounds(buf)
    data = b"".join(buf[a:b].tobytes() for a, b in zip(starts[mask].tolist(), ends[mask].tolist()))
    del buf
    names = [f"c{i}" for i in range(len(spill.columns))]
    table = pacsv.read_csv(pa.py_buffer(data), read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
                           convert_options=pacsv.ConvertOptions(column_types={c: pa.large_string() for c in names},
                                                                strings_can_be_null=True,
                                                                quoted_strings_can_be_null=False))
    return tag(table.rename_columns(spill.columns), source, rows[mask])
