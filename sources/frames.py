"""Chunks as they travel: Arrow tables of text columns tagged with their source and rows, and the
pandas frames the transforms take (converted where chunks are worked: the driver hands Arrow on
without a round trip through pandas)."""

from __future__ import annotations

import functools
import sys

import numpy as np
import pyarrow as pa

from pinpoint_etl.core import tricks
from pinpoint_etl.core.catalogue import ROW_COL, SOURCE_COL


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


def defer_pandas() -> None:
    """Keep pyarrow from importing pandas until pandas is really needed in this process.

    pyarrow's first conversion of any value (``pa.array``, ``pa.scalar``) asks whether pandas is
    installed, to recognise pandas inputs, and so imports it (time and memory that a driver whose
    chunks are worked by other processes never uses). Asked once while pandas cannot be imported,
    pyarrow takes inputs to be plain, and imports pandas again where it needs it (``to_pandas``,
    ``from_pandas``, conversions of Python objects), as does any module that needs it. Call it
    before other threads start (the CLI does, first thing): it hides pandas from ``import`` for a
    moment. A process-wide trick (``core.tricks``): ``PINPOINT_ETL_NO_DEFER_PANDAS`` turns it off."""
    if "pandas" in sys.modules or not tricks.enabled("defer_pandas"):
        return
    hider = _HidePandas()
    sys.meta_path.insert(0, hider)
    try:
        pa.array(np.zeros(0, dtype=np.int8))
    finally:
        sys.meta_path.remove(hider)


class _HidePandas:
    """An import finder that refuses pandas (and pyarrow's pandas glue)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas.") or name == "pyarrow.pandas_compat":
            raise ModuleNotFoundError(f"{name} is hidden for a moment (sources.frames.defer_pandas)", name=name)
        # None (not found here): every other module is found as usual
