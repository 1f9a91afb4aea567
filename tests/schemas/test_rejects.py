"""Rejects from Pandera's lazy failure cases: the column backend that skips each failing column's own
summary gives the same verdicts and reasons as Pandera's stock backend."""

import pandas as pd
import pytest
from pandera.api.pandas.components import Column
from pandera.backends.pandas.components import ColumnBackend

from pinpoint_etl.schemas import rejects
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.transforms.columns import apply_columns, plan_columns
from pinpoint_etl.transforms.normalise import normalise

from tests.sources.helpers import read_chunks


@pytest.fixture
def stock_backend():
    """Ours for the test (whether or not the trick is switched on in this process), Pandera's own for the
    duration of a block; the process's own again afterwards."""

    class Swap:
        def __enter__(self):
            Column.register_backend(pd.DataFrame, ColumnBackend, force=True)

        def __exit__(self, *exc):
            Column.register_backend(pd.DataFrame, rejects._ColumnBackend, force=True)

    before = type(Column.get_backend(check_type=pd.DataFrame))
    Column.register_backend(pd.DataFrame, rejects._ColumnBackend, force=True)
    yield Swap()
    Column.register_backend(pd.DataFrame, before, force=True)


@pytest.mark.parametrize("name", ["endpoints.csv", "endpoints.ndjson"])
def test_same_verdicts_and_reasons_as_pandera_stock_backend(name, stock_backend):
    (raw,) = read_chunks(f"sample_data/{name}", ReadOptions(chunk_rows=10_000))
    frame = normalise(apply_columns(raw, plan_columns(list(raw.columns), {}))).frame
    valid, reasons = rejects.validate_chunk(frame.copy())
    assert Column.get_backend(check_type=pd.DataFrame).__class__ is rejects._ColumnBackend
    with stock_backend:
        assert Column.get_backend(check_type=pd.DataFrame).__class__ is ColumnBackend
        stock_valid, stock_reasons = rejects.validate_chunk(frame.copy())
    assert len(reasons) >= 4  # sample_data holds rows rejected for several reasons
    assert (valid == stock_valid).all()
    assert reasons.to_dict() == stock_reasons.to_dict()
