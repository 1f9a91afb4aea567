"""Helpers shared by the export tests."""

from __future__ import annotations

import pandas as pd

from pinpoint_etl.export import records
from pinpoint_etl.sources.flatten import ColumnBuilder


def frame_of(endpoints: list[dict]) -> pd.DataFrame:
    """Endpoint records (already parsed) as one chunk's frame: what ``records.read_chunks`` makes of them."""
    builder = ColumnBuilder()
    for record in endpoints:
        builder.add(record)
    return records._chunk(builder.table(), []).frame
