"""Small helpers shared by the extract-stage tests."""

from __future__ import annotations

import pandas as pd

from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.sources.read import read_chunks


def read_all(uri, **options) -> pd.DataFrame:
    """Every chunk of ``uri`` concatenated (empty frame if none)."""
    chunks = list(read_chunks(str(uri), ReadOptions(**options)))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts without bookkeeping columns, missing values dropped (so NaN compares)."""
    data = df.drop(columns=[c for c in ("_source", "_row") if c in df.columns])
    return [{k: v for k, v in row.items() if not pd.isna(v)} for row in data.to_dict("records")]
