"""The unit of parallel staging work: one chunk in, small files and a small manifest out.

The driver spills each raw chunk to an Arrow file, or names a piece of a local CSV file to parse
(``sources.csv_pieces``); ``stage_chunk`` (run by a worker process, a thread, or a Dask worker)
reads it, maps, normalises and validates it and writes: the valid rows as import-file lines (and
as Arrow when the task keeps them), their dedupe keys and source rows (npz), the reject records
(NDJSON) and their ledger rows (Arrow). Only paths and counts travel back — never DataFrames — so
any executor with access to the work folder (and to local sources, for pieces) can run it, and the
results are the same whichever runs it.

The driver does not import this module (it hands ``staging.dispatch.run_chunk`` to its executor), and
Pandera and the normalisers load on first use where chunks are worked (``_work_modules``), so the
driver starts reading sooner and stays smaller.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from pinpoint_etl.core.errors import ColumnError
from pinpoint_etl.core.memory import release_memory
from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.sources.csv_pieces import read_piece
from pinpoint_etl.sources.frames import to_frame
from pinpoint_etl.staging.tasks import ChunkResult, ChunkTask, join_rejects, malformed_records, reject_records
from pinpoint_etl.staging.writers import encode_rows, line_bounds, ordered_columns, write_line_runs
from pinpoint_etl.storage.uris import display_name
from pinpoint_etl.transforms.columns import apply_columns, plan_columns
from pinpoint_etl.transforms.dedupe import id_hashes


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
_LINES_SLICE = 16384  # rows encoded to CSV lines at a time


def _work_modules():
    """``normalise`` and ``validate_chunk``: imported on first use, in the process that works chunks."""
    from pinpoint_etl.schemas.rejects import validate_chunk
    from pinpoint_etl.transforms.normalise import normalise

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
        _rejects(frame, reasons)
    except Exception:  # noqa: BLE001 - warming is an optimisation only
        pass


def _rejects(raw: pd.DataFrame, reasons: pd.Series):
    """``reject_records`` of the ``reasons.index`` rows of ``raw`` (through Arrow: pandas' ``to_dict``
    boxes every cell of every column in Python)."""
    return reject_records(pa.Table.from_pandas(raw.loc[reasons.index], preserve_index=False), reasons.tolist())


def _write_csv_lines(path: str, table: pa.Table, columns: list[str], keep: np.ndarray) -> None:
    """Write the ``keep`` rows of ``table`` to ``path`` as CSV lines (``columns``), a slice of rows at a
    time: the encoded bytes of a slice are held at once, not those of the chunk, and no
    filtered copy of the table is made."""
    with open(path, "wb") as fh:
        for i in range(0, table.num_rows, _LINES_SLICE):
            data = encode_rows(table.slice(i, _LINES_SLICE), columns, "CSV")
            part = keep[i:i + _LINES_SLICE]
            if part.all():
                fh.write(data)
                continue
            buf = np.frombuffer(data, dtype=np.uint8)
            starts, ends = line_bounds(buf)
            if len(ends) != len(part):
                raise RuntimeError(f"{path}: {len(ends)} encoded lines for {len(part)} rows")
            write_line_runs(fh, buf, starts, ends, np.flatnonzero(part))


def stage_chunk(task: ChunkTask) -> ChunkResult:
    """Read one chunk (spilled by the driver, or a piece of a local CSV file), map (or expand by the
    mapping spec), normalise and validate it; write its outputs at ``task.base``."""
    normalise, validate_chunk = _work_modules()
    base = task.base
    malformed = []
    if task.piece is not None:
        table, malformed = read_piece(task.piece)
    else:
        # one Arrow chunk per column: every normaliser and check reads columns whole, and a column of
        # many chunks (one per 1 MiB block read) would be copied whole at each such read
        table = feather.read_table(task.raw_path, memory_map=True).combine_chunks()
        os.unlink(task.raw_path)
    column = table.column(cat.SOURCE_COL)
    source = str(column.chunk(0).dictionary[0]) if column.num_chunks else display_name(task.piece.path)
    if task.spec is not None:
        return _stage_endpoints(task, table, source, malformed)
    raw = to_frame(table)
    del table
    try:  # planned per chunk: a JSON field first seen in a later chunk is mapped (or refused), never dropped
        plan = plan_columns(list(raw.columns), task.mapping, fold_unknown=task.fold_unknown)
    except ColumnError as exc:
        raise ColumnError(exc.detail, source=source) from None
    raw = apply_columns(raw.reset_index(drop=True), plan)
    # the parser's blocks, freed by now, would otherwise stay resident under the normalisers' peak
    release_memory()
    result = ChunkResult(index=task.index, source=source, rows_read=len(raw) + len(malformed),
                         source_rows=len(raw) + len(malformed), rows_without_endpoint=len(malformed))
    norm = normalise(raw, default_region=task.default_region)
    result.normalised = {rule: int(n) for rule, n in (norm.changes | norm.notes).items()}
    valid, reasons = validate_chunk(norm.frame)
    frame = norm.frame
    del norm
    rejects = [_rejects(raw, reasons)] if len(reasons) else []
    if malformed:
        rejects.append(malformed_records(malformed))
    _write_rejects(result, base, rejects)
    del raw  # the original values served the rejects; the columns normalising replaced are freed here
    return _stage_valid(task, result, frame, valid)


def _write_rejects(result: ChunkResult, base: str, parts: list) -> None:
    """The chunk's reject records and their ledger rows, if any."""
    if not parts:
        return
    data, ledger_rows, result.by_reason = join_rejects(*parts) if len(parts) > 1 else parts[0]
    result.rejected = ledger_rows.num_rows
    result.rejects_path, result.ledger_path = base + ".rejects.ndjson", base + ".ledger.arrow"
    with open(result.rejects_path, "wb") as fh:
        fh.write(data)
    feather.write_feather(ledger_rows, result.ledger_path, compression="uncompressed")


def _stage_endpoints(task: ChunkTask, table: pa.Table, source: str, malformed: list) -> ChunkResult:
    """The spec path: the chunk's rows expanded to endpoints, which are normalised and validated; a
    rejected endpoint's record holds its source row's values and its block's name."""
    from pinpoint_etl.transforms.expand import check_spec_columns, expand, no_endpoint_reason

    normalise, validate_chunk = _work_modules()
    try:  # JSON fields may be absent from a chunk; unused columns are refused as they appear
        check_spec_columns(task.spec, table.column_names, require=False)
    except ColumnError as exc:
        raise ColumnError(exc.detail, source=source) from None
    exp = expand(table, task.spec)
    raw = to_frame(exp.table)
    exp.table = None
    release_memory()
    n = len(raw) + len(exp.no_endpoint) + len(malformed)
    result = ChunkResult(index=task.index, source=source, rows_read=n, source_rows=table.num_rows + len(malformed),
                         rows_without_endpoint=len(exp.no_endpoint) + len(malformed))
    norm = normalise(raw, default_region=task.default_region)
    result.normalised = {rule: int(v) for rule, v in (norm.changes | norm.notes).items()}
    for rule, v in exp.changes.items():
        result.normalised[rule] = result.normalised.get(rule, 0) + v
    del raw
    valid, reasons = validate_chunk(norm.frame)
    frame = norm.frame
    del norm
    why = {pos: list(r) for pos, r in exp.reasons.items()}
    for pos, r in zip(reasons.index.tolist(), reasons.tolist()):
        why.setdefault(pos, []).extend(x for x in r if x not in why[pos])
    if why:
        valid = valid.copy()
        valid[list(why)] = False
    parts = []
    if why:
        at = np.array(sorted(why), dtype=np.int64)
        names = [task.spec.endpoints[b].name for b in exp.blocks[at].tolist()]
        parts.append(reject_records(table.take(pa.array(exp.rows[at])), [why[p] for p in at.tolist()], names))
    if len(exp.no_endpoint):
        rows = table.take(pa.array(exp.no_endpoint))
        parts.append(reject_records(rows, [[no_endpoint_reason(task.spec)]] * rows.num_rows))
    if malformed:
        parts.append(malformed_records(malformed))
    del table
    _write_rejects(result, base=task.base, parts=parts)
    return _stage_valid(task, result, frame, valid)


def _stage_valid(task: ChunkTask, result: ChunkResult, frame, valid: np.ndarray) -> ChunkResult:
    """Encode the valid rows as import-file lines (and Arrow when kept) and write their keys."""
    base = task.base
    result.valid_rows = int(valid.sum())
    if result.valid_rows:
        result.keys_path = base + ".keys.npz"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        result.columns = [c for c in frame.columns if c not in cat.META_COLS]
        columns = ordered_columns(result.columns)
        # encoded here, in parallel, so the last pass mostly copies bytes (NDJSON lines always fit;
        # CSV lines when the run's columns are this chunk's, as for every chunk of a CSV source)
        result.lines_path = base + ".valid.lines"
        if task.staged_format == "CSV" and not task.keep_arrow:
            # every row as one CSV line (normalised values hold no line breaks), then the valid
            # lines written as runs: cheaper than copying the valid rows' columns first
            _write_csv_lines(result.lines_path, table, columns, valid)
        else:  # NDJSON encodes the valid rows only (a rejected row's metric may not be a number)
            if result.valid_rows < len(frame):
                table = table.filter(pa.array(valid))
            if task.keep_arrow:
                result.valid_path = base + ".valid.arrow"
                feather.write_feather(table, result.valid_path, compression="uncompressed")
            with open(result.lines_path, "wb") as fh:
                fh.write(encode_rows(table, columns, task.staged_format))
        del table
        missing = np.zeros(result.valid_rows, np.uint64)
        np.savez(result.keys_path,
                 ids=id_hashes(frame["Id"])[valid] if "Id" in frame else missing,
                 users=id_hashes(frame["User.UserId"])[valid] if "User.UserId" in frame else missing,
                 rows=frame[cat.ROW_COL].to_numpy(dtype=np.int64)[valid])
    del frame
    release_memory()  # each worker's memory between chunks stays that of one worker
    return result

