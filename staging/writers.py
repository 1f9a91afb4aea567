"""Import-file writers: CSV through pyarrow (fast), NDJSON on request. UTF-8, no BOM, uncompressed.

CSV headers are the dotted Pinpoint names with a multi-value attribute's slots written as
repeated headers, as the import format defines. NDJSON nests the dotted names back into
objects and gathers slots into arrays.
"""

from __future__ import annotations

import io
import json
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from schemas import catalogue as cat

StagedFormat = Literal["CSV", "JSON"]
EXTENSIONS = {"CSV": ".csv", "JSON": ".json"}


def ordered_columns(columns: list[str]) -> list[str]:
    """Import-file column order: documented scalar fields first, then custom attributes by name."""
    rank = {name: i for i, name in enumerate(cat.SCALAR_FIELDS)}
    return sorted(columns, key=lambda c: (rank.get(cat.base_name(c), len(rank)), cat.base_name(c),
                                          c != cat.base_name(c), len(c), c))


def csv_header(columns: list[str]) -> bytes:
    """The header line: slot columns repeat their attribute's name."""
    return (",".join(cat.base_name(c) for c in columns) + "\n").encode("utf-8")


def csv_rows(frame: pd.DataFrame | pa.Table, columns: list[str]) -> bytes:
    """CSV body (no header) of ``frame`` (pandas or Arrow) restricted/aligned to ``columns``; NA → empty cell."""
    names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
    present = [c for c in columns if c in names]
    source = frame.select(present) if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame[present],
                                                                                            preserve_index=False)
    n = source.num_rows
    arrays = [source.column(c) if c in names else pa.nulls(n, type=pa.string()) for c in columns]
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def _nest(record: dict, name: str, value) -> None:
    if name.startswith(cat.CUSTOM_PREFIXES):
        prefix = next(p for p in cat.CUSTOM_PREFIXES if name.startswith(p))
        parts = prefix.rstrip(".").split(".") + [name[len(prefix):]]
    else:
        parts = name.split(".")
    node = record
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def ndjson_rows(frame: pd.DataFrame, columns: list[str]) -> bytes:
    """NDJSON body: one nested endpoint object per line; slots become arrays, metrics numbers."""
    groups: dict[str, list[str]] = {}
    for c in columns:
        if c in frame.columns:
            groups.setdefault(cat.base_name(c), []).append(c)
    out = io.StringIO()
    records = frame[[c for cols in groups.values() for c in cols]].astype(object).where(frame.notna(), None)
    for row in records.itertuples(index=False, name=None):
        values = dict(zip(records.columns, row))
        rec: dict = {}
        for base, cols in groups.items():
            if cat.is_multi_value(base):
                vals = [values[c] for c in cols if values[c] is not None]
                if vals:
                    _nest(rec, base, vals)
            elif values[cols[0]] is not None:
                val = values[cols[0]]
                if base.startswith(cat.METRIC_PREFIX) or base in ("Location.Latitude", "Location.Longitude"):
                    val = float(val)
                _nest(rec, base, val)
        out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
    return out.getvalue().encode("utf-8")


def encode_rows(frame: pd.DataFrame | pa.Table, columns: list[str], fmt: StagedFormat) -> bytes:
    if fmt == "CSV":
        return csv_rows(frame, columns)
    return ndjson_rows(frame.to_pandas() if isinstance(frame, pa.Table) else frame, columns)


def encode_header(columns: list[str], fmt: StagedFormat) -> bytes:
    return csv_header(columns) if fmt == "CSV" else b""
