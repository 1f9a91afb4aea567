"""What passes between the driver and the chunk workers: tasks, results (paths and counts only), and
the reject records both sides write (from Arrow). The chunk work itself (``staging.chunks``, with
Pandera and the normalisers) is imported only where chunks are worked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.schemas.ledger import SCHEMA as LEDGER_SCHEMA
from pinpoint_etl.sources.csv_pieces import CsvPiece
from pinpoint_etl.sources.malformed import Malformed
from pinpoint_etl.staging.writers import StagedFormat

if TYPE_CHECKING:
    from pinpoint_etl.transforms.spec import MappingSpec


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
    #: source rows → endpoints (``transforms.spec``); ``mapping`` and ``fold_unknown`` then do not apply
    spec: MappingSpec | None = None

    @property
    def raw_path(self) -> str | None:
        """Where the driver spills the raw chunk (None for a piece)."""
        return None if self.piece is not None else self.base + ".raw.arrow"


@dataclass
class ChunkResult:
    index: int
    source: str
    rows_read: int                  # entries read: a row's endpoints (one per row without a spec), each
                                    # row that yielded none, each malformed record
    source_rows: int = 0            # records read from the source (rows_read without a spec)
    rows_without_endpoint: int = 0  # records that yielded no endpoint (with a spec) or were malformed
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


def reject_records(rows: pa.Table, reasons: list[list[str]],
                   endpoints: list[str] | None = None) -> tuple[bytes, pa.Table, dict[str, int]]:
    """NDJSON reject records (source, row, reasons, original values) of the rejected ``rows`` (with
    ``_source`` and ``_row``; ``reasons`` per row), their ledger rows, and the counts by reason.
    ``endpoints``: the name of the spec block each rejected endpoint came from (None: a row without
    any endpoint), written as ``endpoint`` and before the ledger's detail."""
    lines, sources, numbers, details = [], [], [], []
    by_reason: dict[str, int] = {}
    names = endpoints if endpoints is not None else [None] * rows.num_rows
    for why, rec, name in zip(reasons, rows.to_pylist(), names):
        why = list(why)
        for r in why:
            by_reason[r] = by_reason.get(r, 0) + 1
        values = {k: v for k, v in rec.items() if k not in cat.META_COLS and isinstance(v, str)}
        source, row = str(rec[cat.SOURCE_COL]), int(rec[cat.ROW_COL])
        record = {"source": source, "row": row, "reasons": why, "values": values}
        if name is not None:
            record["endpoint"] = name
        lines.append(json.dumps(record, ensure_ascii=False))
        sources.append(source)
        numbers.append(row)
        details.append("; ".join(why) if name is None else f"{name}: {'; '.join(why)}")
    return _encode(lines, sources, numbers, details, by_reason)


def malformed_records(records: list[Malformed]) -> tuple[bytes, pa.Table, dict[str, int]]:
    """Reject records (source, row, line, the reason, no values, the raw text) of malformed records,
    their ledger rows and the counts by reason."""
    lines, by_reason = [], {}
    for m in records:
        by_reason[m.reason] = by_reason.get(m.reason, 0) + 1
        lines.append(json.dumps({"source": m.source, "row": m.row, "line": m.line, "reasons": [m.reason],
                                 "values": {}, "raw": m.raw}, ensure_ascii=False))
    return _encode(lines, [m.source for m in records], [m.row for m in records], [m.reason for m in records],
                   by_reason)


def join_rejects(*parts: tuple[bytes, pa.Table, dict[str, int]]) -> tuple[bytes, pa.Table, dict[str, int]]:
    """Several ``reject_records`` outcomes as one."""
    by_reason: dict[str, int] = {}
    for _, _, counts in parts:
        for r, n in counts.items():
            by_reason[r] = by_reason.get(r, 0) + n
    return b"".join(p[0] for p in parts), pa.concat_tables([p[1] for p in parts]), by_reason


def _encode(lines, sources, numbers, details, by_reason) -> tuple[bytes, pa.Table, dict[str, int]]:
    n = len(numbers)
    table = pa.table([pa.array(sources, pa.string()), pa.array(numbers, pa.int64()), pa.array(["rejected"] * n),
                      pa.nulls(n, pa.string()), pa.nulls(n, pa.int64()), pa.array(details, pa.string())],
                     schema=LEDGER_SCHEMA)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b"", table, by_reason
