"""A chunk's valid rows as CSV lines: written a slice of rows at a time, byte for byte the lines of
the valid rows encoded whole."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpoint_etl.staging import chunks
from pinpoint_etl.staging.writers import csv_rows

COLUMNS = ["Id", "Address", "Attributes.Note"]
value = st.one_of(st.none(), st.sampled_from(["a", "", "x,y", 'say "hi"', "é ü", "  pad  ", "1.5"]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(value, value, value, st.booleans()), max_size=40), st.integers(1, 9))
def test_sliced_csv_lines_of_the_kept_rows_equal_the_kept_rows_encoded_whole(tmp_path_factory, rows, size):
    table = pa.table({c: pa.array([r[i] for r in rows], pa.large_string()) for i, c in enumerate(COLUMNS)})
    keep = np.array([r[3] for r in rows], dtype=bool)
    path = tmp_path_factory.mktemp("lines") / "valid.lines"
    with mock.patch.object(chunks, "_LINES_SLICE", size):
        chunks._write_csv_lines(str(path), table, COLUMNS, keep)
    assert path.read_bytes() == csv_rows(table.filter(pa.array(keep, pa.bool_())), COLUMNS)
