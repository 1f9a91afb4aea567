"""What passes between the driver and the chunk workers: tasks, results (paths and counts only), and
the reject records both sides write (from Arrow). The chunk work itself (``staging.chunks``, with
Pandera and the normalisers) is imported only where chunks are worked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

from pinpoint_etl.schemas import catalogue as cat
from pinpoint_etl.schemas.ledger import SCHEMA as LEDGER_SCHEMA
from pinpoint_etl.sources.csv_pieces import CsvPiece
from pinpoint_etl.staging.writers import StagedFormat


@dataclass(frozen=True)
class ChunkTask:
    """One chunk to stage: a piece of a local CSV file the worker reads itself (``piece``), else the raw
    chunk the driver spilled to ``raw_path``; its outputs are written to ``base`` + suffix."""

    index: int
    base: str
    piece: CsvPiece | None
    mapping: dict[str, str]
    fold_unknown: bool = False
    default_region: str | None = None
    staged_format: StagedFormat = "CSV"  # the import-file format the valid rows are also encoded in
    #: also keep the valid rows as Arrow: for NDJSON lines and JSON sources, whose rows the last pass may
    #: need to re-encode or reject; CSV lines of a CSV source are read back when that is needed (rarely)
    keep_arrow: bool = True

    @property
    def raw_path(self) -> str | None:
        """Where the driver spills the raw chunk (None for a piece)."""
        return None if self.piece is not None else self.base + ".raw.arrow"


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


def run_chunk(task: ChunkTask) -> ChunkResult:
    """``staging.chunks.stage_chunk``, imported where it runs: what the driver hands to an executor."""
    from pinpoint_etl.staging.chunks import stage_chunk

    return stage_chunk(task)


def reject_records(rows: pa.Table, reasons: list[list[str]]) -> tuple[bytes, pa.Table, dict[str, int]]:
    """NDJSON reject records (source, row, reasons, original values) of the rejected ``rows`` (with
    ``_source`` and ``_row``; ``reasons`` per row), their ledger rows, and the counts by reason."""
    lines, sources, numbers, details = [], [], [], []
    by_reason: dict[str, int] = {}
    for why, rec in zip(reasons, rows.to_pylist()):
        why = list(why)
        for r in why:
            by_reason[r] = by_reason.get(r, 0) + 1
        values = {k: v for k, v in rec.items() if k not in cat.META_COLS and isinstance(v, str)}
        source, row = str(rec[cat.SOURCE_COL]), int(rec[cat.ROW_COL])
        lines.append(json.dumps({"source": source, "row": row, "reasons": why, "values": values},
                                ensure_ascii=False))
        sources.append(source)
        numbers.append(row)
        details.append("; ".join(why))
    n = len(numbers)
    table = pa.table([pa.array(sources, pa.string()), pa.array(numbers, pa.int64()), pa.array(["rejected"] * n),
                      pa.nulls(n, pa.string()), pa.nulls(n, pa.int64()), pa.array(details, pa.string())],
                     schema=LEDGER_SCHEMA)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b"", table, by_reason
