"""Arrow tables of text columns → the pandas chunks the pipeline passes on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.catalogue import ROW_COL, SOURCE_COL

#: pandas' default text dtype ("str"): Arrow-backed, missing values are NaN (``pd.isna`` is True).
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)
_TYPES = {pa.string(): TEXT_DTYPE, pa.large_string(): TEXT_DTYPE}


def to_frame(table: pa.Table, source: str, rows: int | np.ndarray) -> pd.DataFrame:
    """A DataFrame of the table's text columns plus ``_source`` (categorical) and ``_row`` (int64).

    ``rows`` is the first row number (consecutive numbering) or one number per row.
    """
    df = table.to_pandas(types_mapper=_TYPES.get)
    n = table.num_rows
    df[SOURCE_COL] = pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([source]))
    if isinstance(rows, np.ndarray):
        df[ROW_COL] = rows.astype(np.int64, copy=False)
    else:
        df[ROW_COL] = np.arange(rows, rows + n, dtype=np.int64)
    return df
