"""The unit of parallel staging work: one chunk in, small files and a small manifest out.

The driver reads sources and spills each raw chunk to an Arrow file; ``stage_chunk`` (run by a
thread, or a Dask worker process) maps, normalises and validates it and writes: the valid rows
as import-file lines (and as Arrow when the task keeps them), their dedupe keys and source rows (npz),
the reject records (NDJSON) and their ledger rows (Arrow).
Only paths and counts travel back — never DataFrames — so any executor with access to the
work folder can run it, and the results are the same whichever runs it.

The driver imports this module for the task and result types; Pandera and the normalisers load
where chunks are worked (``_work_modules``), so the driver starts reading sooner and stays smaller.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from core.errors import ColumnError
from schemas import catalogue as cat
from schemas.ledger import SCHEMA as LEDGER_SCHEMA
from staging.writers import StagedFormat, encode_rows, ordered_columns
from transforms.columns import apply_columns, plan_columns
from transforms.dedupe import id_hashes


@dataclass(frozen=True)
class ChunkTask:
    index: int
    raw_path: str
    mapping: dict[str, str]
    fold_unknown: bool = False
    default_region: str | None = None
    staged_format: StagedFormat = "CSV"  # the import-file format the valid rows are also encoded in
    #: also keep the valid rows as Arrow: for NDJSON lines and JSON sources, whose rows the last pass may
    #: need to re-encode or reject; CSV lines of a CSV source are read back when that is needed (rarely)
    keep_arrow: bool = True


@dataclass
class ChunkResult:
    index: int
    source: str
    rows_read: int
    valid_rows: int = 0
    rejected: int = 0
    valid_path: str | None = None  # the valid rows as Arrow, if the task asked to keep them
    keys_path: str | None = None  # Id and user id hashes and source rows of the valid rows
    rejects_path: str | None = None
    ledger_path: str | None = None
    lines_path: str | None = None  # the valid rows as import-file lines (staged_format), in ordered_columns(columns)
    by_reason: dict[str, int] = field(default_factory=dict)
    normalised: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)


def reject_records(raw: pd.DataFrame, reasons: pd.Series) -> tuple[bytes, pa.Table, dict[str, int]]:
    """NDJSON reject records (source, row, reasons, original values), their ledger rows, counts by reason."""
    lines, sources, rows, details = [], [], [], []
    by_reason: dict[str, int] = {}
    # rows as dicts through Arrow: pandas' to_dict boxes every cell of every column in Python
    records = pa.Table.from_pandas(raw.loc[reasons.index], preserve_index=False).to_pylist()
    for why, rec in zip(reasons.tolist(), records):
        why = list(why)
        for r in why:
            by_reason[r] = by_reason.get(r, 0) + 1
        values = {k: v for k, v in rec.items() if k not in cat.META_COLS and isinstance(v, str)}
        source, row = str(rec[cat.SOURCE_COL]), int(rec[cat.ROW_COL])
        lines.append(json.dumps({"source": source, "row": row, "reasons": why, "values": values},
                                ensure_ascii=False))
        sources.append(source)
        rows.append(row)
        details.append("; ".join(why))
    n = len(rows)
    table = pa.table([pa.array(sources, pa.string()), pa.array(rows, pa.int64()), pa.array(["rejected"] * n),
                      pa.nulls(n, pa.string()), pa.nulls(n, pa.int64()), pa.array(details, pa.string())],
                     schema=LEDGER_SCHEMA)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b"", table, by_reason


_WARM_ROWS = {
    "Id": ["w1", "w2", "w3", None], "ChannelType": ["sms", "EMAIL", "GCM", "SMS"],
    "Address": ["(202) 555-0143", "Someone@Example.COM", " token ", "+1 000"],
    "Location.Country": ["usa", "United Kingdom", "DE", "Atlantis"],
    "Location.Latitude": ["47.61", "1", None, "123"],
    "Demographic.Locale": ["en-us", "en_GB", None, "xx"],
    "Demographic.Timezone": ["america/new_york", None, None, "Mars/X"],
    "Demographic.Platform": ["iOS", None, "android", None], "OptOut": ["none", "ALL", None, "MAYBE"],
    "Metrics.sessions": ["1", "2.5", None, "x"], "Attributes.Tier": ["gold", None, None, "x" * 120],
    "User.UserId": ["u1", "u1", None, None],
}


def _work_modules():
    """``normalise`` and ``validate_chunk``: imported on first use, in the process that works chunks."""
    from schemas.rejects import validate_chunk
    from transforms.normalise import normalise

    return normalise, validate_chunk


def warm() -> None:
    """Build the schema and load the lookup tables (countries, time zones, phone metadata) on a few
    typical rows, so the first real chunk does not pay for it. Errors are left for the real work."""
    normalise, validate_chunk = _work_modules()
    try:
        frame = pd.DataFrame(_WARM_ROWS, dtype="str")
        frame[cat.SOURCE_COL], frame[cat.ROW_COL] = "warm-up", np.arange(1, len(frame) + 1)
        norm = normalise(frame)
        _, reasons = validate_chunk(norm.frame)
        reject_records(frame, reasons)
    except Exception:  # noqa: BLE001 - warming is an optimisation only
        pass


def stage_chunk(task: ChunkTask) -> ChunkResult:
    """Map, normalise and validate one spilled raw chunk; write its outputs beside it."""
    normalise, validate_chunk = _work_modules()
    base = task.raw_path.removesuffix(".raw.arrow")
    raw = feather.read_table(task.raw_path).to_pandas()
    os.unlink(task.raw_path)
    source = str(raw[cat.SOURCE_COL].iloc[0])
    try:  # planned per chunk: a JSON field first seen in a later chunk is mapped (or refused), never dropped
        plan = plan_columns(list(raw.columns), task.mapping, fold_unknown=task.fold_unknown)
    except ColumnError as exc:
        raise ColumnError(exc.detail, source=source) from None
    raw = apply_columns(raw.reset_index(drop=True), plan)
    result = ChunkResult(index=task.index, source=source, rows_read=len(raw))
    norm = normalise(raw, default_region=task.default_region)
    result.normalised = {rule: int(n) for rule, n in norm.changes.items()}
    valid, reasons = validate_chunk(norm.frame)
    frame = norm.frame
    if len(reasons):
        data, ledger_rows, result.by_reason = reject_records(raw, reasons)
        result.rejected = len(reasons)
        result.rejects_path, result.ledger_path = base + ".rejects.ndjson", base + ".ledger.arrow"
        with open(result.rejects_path, "wb") as fh:
            fh.write(data)
        feather.write_feather(ledger_rows, result.ledger_path, compression="uncompressed")
    result.valid_rows = int(valid.sum())
    if result.valid_rows:
        result.keys_path = base + ".keys.npz"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if result.valid_rows < len(frame):
            table = table.filter(pa.array(valid))
        if task.keep_arrow:
            result.valid_path = base + ".valid.arrow"
            feather.write_feather(table, result.valid_path, compression="uncompressed")
        result.columns = [c for c in frame.columns if c not in cat.META_COLS]
        # encoded here, in parallel, so the last pass mostly copies bytes (NDJSON lines always fit;
        # CSV lines when the run's columns are this chunk's, as for every chunk of a CSV source)
        result.lines_path = base + ".valid.lines"
        with open(result.lines_path, "wb") as fh:
            fh.write(encode_rows(table, ordered_columns(result.columns), task.staged_format))
        del table
        missing = np.zeros(result.valid_rows, np.uint64)
        np.savez(result.keys_path,
                 ids=id_hashes(frame["Id"])[valid] if "Id" in frame else missing,
                 users=id_hashes(frame["User.UserId"])[valid] if "User.UserId" in frame else missing,
                 rows=frame[cat.ROW_COL].to_numpy(dtype=np.int64)[valid])
    del raw, norm, frame
    pa.default_memory_pool().release_unused()  # hand freed Arrow memory back: keeps RSS flat per worker
    return result
