"""Chunks as they travel: Arrow tables of text columns tagged with their source and rows, and the
pandas frames the transforms take (converted where chunks are worked: the driver hands Arrow on
without a round trip through pandas)."""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from schemas.catalogue import ROW_COL, SOURCE_COL


def tag(table: pa.Table, source: str, rows: int | np.ndarray) -> pa.Table:
    """``table`` plus ``_source`` (dictionary-encoded: one value) and ``_row`` (int64).

    ``rows`` is the first row number (consecutive numbering) or one number per row.
    """
    n = table.num_rows
    src = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([source], pa.string()))
    if isinstance(rows, np.ndarray):
        numbers = rows.astype(np.int64, copy=False)
    else:
        numbers = np.arange(rows, rows + n, dtype=np.int64)
    return table.append_column(SOURCE_COL, src).append_column(ROW_COL, pa.array(numbers))


@functools.cache
def text_dtype():
    """pandas' default text dtype ("str"): Arrow-backed, missing values are NaN (``pd.isna`` is True)."""
    import pandas as pd

    return pd.StringDtype(storage="pyarrow", na_value=np.nan)


def to_frame(table: pa.Table):
    """A tagged table (see :func:`tag`) as a DataFrame: text columns of :func:`text_dtype`, ``_source``
    categorical, ``_row`` int64."""
    dtype = text_dtype()
    return table.to_pandas(types_mapper={pa.string(): dtype, pa.large_string(): dtype}.get)
