"""Private helpers of the transforms: per-unique evaluation gives the per-value answer; replacing by
mask puts the new values, in order, where the mask is set."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import PROPERTY
from pinpoint_etl.transforms.strings import per_unique, replace_where, to_numpy_bool


def _starts_with_digit(values: pa.Array) -> np.ndarray:
    return to_numpy_bool(pc.match_substring_regex(values, "^[0-9]"), null=True)


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.sampled_from(["1", "2.5", "x", "", " 3"])), max_size=40),
       st.integers(0, 3000))
def test_per_unique_matches_the_per_value_answer(values, repeat):
    arr = pa.array((values * (repeat // max(len(values), 1) + 1))[:repeat] if values else [None] * repeat,
                   type=pa.large_string())
    got = per_unique(arr, _starts_with_digit)
    assert got.dtype == bool and got.tolist() == _starts_with_digit(arr).tolist()


def test_per_unique_falls_back_for_many_distinct_values():
    calls = []

    def fn(values):
        calls.append(len(values))
        return _starts_with_digit(values)

    distinct = pa.array([str(i) for i in range(5000)], type=pa.large_string())
    assert per_unique(distinct, fn).all() and calls == [5000]
    calls.clear()
    repeated = pa.array(["7", None, "x"] * 2000, type=pa.large_string())
    assert per_unique(repeated, fn).tolist() == [True, True, False] * 2000
    assert calls == [2, 1]  # the distinct values, then the answer for a missing value


text = st.one_of(st.none(), st.text(max_size=6))


@PROPERTY
@given(st.lists(st.tuples(text, st.booleans(), text), max_size=60), st.sampled_from([pa.string(), pa.large_string()]))
def test_replace_where_puts_the_new_values_in_order_where_the_mask_is_set(rows, kind):
    values = [v for v, _, _ in rows]
    mask = np.array([m for _, m, _ in rows], dtype=bool)
    new = [n for _, m, n in rows if m]
    got = replace_where(pa.array(values, type=kind), mask, pa.array(new, type=pa.large_string()))
    assert got.type == kind
    it = iter(new)
    assert got.to_pylist() == [next(it) if m else v for v, m, _ in rows]
