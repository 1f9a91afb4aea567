"""Import-file writers: the column-wise NDJSON encoder writes exactly what ``json.dumps`` writes for
each record (the record-by-record reference), whatever the values; line bounds found block by block
are those of the whole buffer."""

import json
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpoint_etl.staging import writers
from pinpoint_etl.staging.writers import _ndjson_rows_python, ndjson_rows, ordered_columns

COLUMNS = ordered_columns(["Id", "ChannelType", "Address", "Location.Country", "Location.Latitude",
                           "Metrics.sessions", "Attributes.Interests", "Attributes.Interests#2",
                           "Attributes.Tier", "User.UserId", "User.UserAttributes.FirstName",
                           "Demographic.Locale"])
NUMBERS = ("Location.Latitude", "Metrics.sessions")

text = st.one_of(st.none(), st.sampled_from(['a', 'b"q', 'back\\slash', 'ünï', '中文', '\u2028', 'x\x01y', '{}', ',]']),
                 st.text(min_size=1, max_size=6))
number = st.one_of(st.none(), st.sampled_from(["1.5", "12", "-0.5", "100000", "1e+16", "0.1"]))
row = st.fixed_dictionaries({c: number if c in NUMBERS else text for c in COLUMNS})


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS, dtype="str")


def _reference(frame: pd.DataFrame) -> bytes:
    lines = _ndjson_rows_python(frame, COLUMNS)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=30))
def test_column_wise_ndjson_is_byte_identical_to_json_dumps_per_record(rows):
    frame = _frame(rows)
    assert ndjson_rows(frame, COLUMNS) == _reference(frame)


def test_user_moves_after_the_custom_attributes_when_a_row_has_no_user_id():
    frame = _frame([{"Id": "1", "User.UserId": "u", "User.UserAttributes.FirstName": "Ann", "Attributes.Tier": "g"},
                    {"Id": "2", "User.UserAttributes.FirstName": "Bo", "Attributes.Tier": "g"},
                    {}])
    lines = ndjson_rows(frame, COLUMNS).decode().split("\n")
    assert list(json.loads(lines[0])) == ["Id", "User", "Attributes"]
    assert list(json.loads(lines[1])) == ["Id", "Attributes", "User"]
    assert lines[2] == "{}" and lines[3] == ""
    assert ndjson_rows(frame, COLUMNS) == _reference(frame)


def test_large_tables_are_encoded_in_slices_with_the_same_bytes():
    rows = [{"Id": f"id{i}", "Attributes.Interests": "x" if i % 3 else None, "Metrics.sessions": str(i % 7)}
            for i in range(40_000)]
    frame = _frame(rows)
    assert ndjson_rows(pa.Table.from_pandas(frame, preserve_index=False), COLUMNS) == _reference(frame)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"\n", b"bc", b",", b"\n\n"]), max_size=30), st.integers(1, 7))
def test_line_bounds_found_block_by_block_are_those_of_the_whole_buffer(pieces, block):
    data = b"".join(pieces)
    data += b"" if data.endswith(b"\n") or not data else b"\n"
    buf = np.frombuffer(data, dtype=np.uint8)
    with mock.patch.object(writers, "_LINE_BLOCK", block):
        starts, ends = writers.line_bounds(buf)
    lines = data.splitlines(keepends=True)
    assert [data[a:b] for a, b in zip(starts.tolist(), ends.tolist())] == lines


@settings(max_examples=100, deadline=None)
@given(st.lists(st.fixed_dictionaries({c: st.one_of(number, text) if c in NUMBERS else text for c in COLUMNS}),
                min_size=1, max_size=30))
def test_lenient_ndjson_keeps_number_field_text_that_spells_no_number(rows):
    """An export writes what Pinpoint holds: ``lenient``, a number field's text that spells no number
    (``transforms.values.parse_number``) is a JSON string; column-wise exactly as record by record."""
    from pinpoint_etl.transforms.values import parse_number

    frame = _frame(rows)
    lines = _ndjson_rows_python(frame, COLUMNS, lenient=True)
    assert ndjson_rows(frame, COLUMNS, lenient=True) == (("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
    for line, r in zip(lines, rows):
        rec = json.loads(line)
        for c in NUMBERS:
            group, name = c.split(".")
            if r[c] is not None:
                number = parse_number(r[c])
                assert rec[group][name] == (r[c] if number is None else number)
