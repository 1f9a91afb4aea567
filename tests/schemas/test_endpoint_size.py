"""The 15 KB endpoint-size rule: skipping the per-row sum when no row can reach the limit changes
no verdict."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.schemas.endpoint import endpoint_sizes
from pinpoint_etl.schemas.rejects import validate_chunk
from pinpoint_etl.sources.frames import text_dtype

_FREE_TEXT = ["Demographic.Make", "Demographic.Model", "Location.City", "RequestId"]  # no length rule of their own
_TOO_LARGE = f"endpoint is larger than {cat.MAX_ENDPOINT_BYTES // 1024} KB"


def _frame(lengths: list[list[int]], char: str) -> pd.DataFrame:
    data = {"Id": [f"e{i}" for i in range(len(lengths))]}
    for j, col in enumerate(_FREE_TEXT):
        data[col] = [char * row[j] if row[j] else None for row in lengths]
    frame = pd.DataFrame(data, dtype=text_dtype())
    frame[cat.SOURCE_COL], frame[cat.ROW_COL] = "t.csv", np.arange(1, len(lengths) + 1)
    return frame


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.lists(st.integers(0, 100) | st.integers(3000, 6000), min_size=4, max_size=4),
                       min_size=1, max_size=6),
       char=st.sampled_from(["x", "é", "😀"]))
def test_size_verdicts_match_the_per_row_sizes(lengths, char):
    frame = _frame(lengths, char)
    _, reasons = validate_chunk(frame)
    flagged = {frame[cat.ROW_COL].iloc[i] for i, why in reasons.items() if _TOO_LARGE in why}
    expected = set(frame[cat.ROW_COL][(endpoint_sizes(frame) > cat.MAX_ENDPOINT_BYTES).to_numpy()])
    assert flagged == expected


def test_rows_below_the_limit_pass_even_when_the_longest_values_together_exceed_it():
    # each row is under 15 KB, but the longest value of each column together are not: the per-row sum decides
    frame = _frame([[6000, 6000, 0, 0], [0, 0, 6000, 6000]], "x")
    valid, reasons = validate_chunk(frame)
    assert valid.all() and reasons.empty
    frame = _frame([[6000, 6000, 6000, 0], [0, 0, 6000, 6000]], "x")
    _, reasons = validate_chunk(frame)
    assert [_TOO_LARGE in why for why in reasons.loc[[0]]] == [True] and 1 not in reasons.index
