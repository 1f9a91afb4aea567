"""Small helpers shared by the extract-stage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from pinpoint_etl.sources.frames import to_frame
from pinpoint_etl.sources.malformed import MalformedBatch
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.read import read_tables


def read_chunks(uri: str, options: ReadOptions, *, transport_params: dict | None = None) -> Iterator[pd.DataFrame]:
    """``read_tables`` as DataFrames (``to_frame``), malformed records left out."""
    tables = read_tables(uri, options, transport_params=transport_params)
    try:
        for table in tables:
            if not isinstance(table, MalformedBatch):
                yield to_frame(table)
    finally:
        tables.close()


def read_all(uri, **options) -> pd.DataFrame:
    """Every chunk of ``uri`` concatenated (empty frame if none)."""
    chunks = list(read_chunks(str(uri), ReadOptions(**options)))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts without bookkeeping columns, missing values dropped (so NaN compares)."""
    data = df.drop(columns=[c for c in ("_source", "_row") if c in df.columns])
    return [{k: v for k, v in row.items() if not pd.isna(v)} for row in data.to_dict("records")]
