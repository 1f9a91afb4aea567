"""Exported records → flat text columns (the import's flattener, the import's number text) and the columns an
export writes, in order (no service needed)."""

from __future__ import annotations

import gzip
import math

from hypothesis import given
from hypothesis import strategies as st

from pinpoint_etl.export.columns import is_import_column, output_columns
from pinpoint_etl.export.records import exact_coordinate, read_chunks
from pinpoint_etl.schemas.exported import EXPORT_ONLY_FIELDS
from pinpoint_etl.sources.flatten import iter_flat
from pinpoint_etl.transforms.location import canonical_coordinate
from pinpoint_etl.transforms.values import format_number

from tests.export.helpers import frame_of

RECORD = {
    "ChannelType": "SMS", "Address": "+12065550101", "EndpointStatus": "ACTIVE", "OptOut": "NONE",
    "EffectiveDate": "2024-05-01T10:00:00.123Z", "CreationDate": "2024-05-01T10:00:00.123Z",
    "ApplicationId": "a" * 32, "CohortId": "42", "Id": "sms-1", "RequestId": "req-1",
    "Location": {"Country": "US", "Latitude": 47.6, "Longitude": -122.3, "City": "Seattle"},
    "Demographic": {"Timezone": "America/Los_Angeles", "Locale": "en_US"},
    "Attributes": {"Interests": ["Music", "Books", "Film"], "Tier": ["Gold"]},
    "Metrics": {"sessions": 12.0, "ltv": 1631.56},
    "User": {"UserId": "u1", "UserAttributes": {"FirstName": ["Ann"], "Tags": ["a", "b"]}},
}


def flat(record: dict) -> dict[str, str]:
    return frame_of([record]).iloc[0].dropna().to_dict()


def test_records_take_the_import_flattener_names_and_canonical_numbers():
    got = flat(RECORD)
    assert set(got) == {k for k, v in dict(iter_flat(RECORD)).items() if v is not None}  # the import's names
    assert got["Location.Country"] == "US" and got["Demographic.Timezone"] == "America/Los_Angeles"
    assert [got["Attributes.Interests"], got["Attributes.Interests#2"], got["Attributes.Interests#3"]] == \
        ["Music", "Books", "Film"]
    assert got["User.UserAttributes.Tags#2"] == "b" and got["User.UserId"] == "u1"
    assert got["Metrics.sessions"] == "12" and got["Metrics.ltv"] == "1631.56"  # the flattener alone: "12.0"
    assert got["Location.Latitude"] == "47.6" and got["Location.Longitude"] == "-122.3"


def test_coordinates_keep_their_value_never_rounded():
    got = flat({"Id": "x", "Location": {"Latitude": 10.25, "Longitude": -0.0}})
    assert (got["Location.Latitude"], got["Location.Longitude"]) == ("10.25", "0.0")
    assert [exact_coordinate(t) for t in ("47", "47.0", "200.0", "1e-07", "north")] == \
        ["47.0", "47.0", "200.0", "1e-07", "north"]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_coordinate_reads_back_as_the_same_number(value):
    text = exact_coordinate(repr(value))
    assert float(text) == value  # lossless
    assert text == canonical_coordinate(text, math.inf) or text == format_number(value)  # one decimal, or canonical


def test_null_fields_make_no_column_and_a_null_array_element_keeps_its_slot():
    frame = frame_of([{"Id": "x", "OptOut": None, "User": {}, "Attributes": {"A": [None, "v"]}},
                      {"Id": "y", "OptOut": None}])
    assert list(frame.columns) == ["Id", "Attributes.A#2"]  # the slot as the import reads a JSON source
    assert frame.loc[0, "Attributes.A#2"] == "v" and frame["Attributes.A#2"].isna().tolist() == [False, True]


def test_read_chunks_streams_files_in_chunks_and_reports_unreadable_lines(tmp_path):
    lines = ['{"Id":"a"}', "not json", "", '["x"]', '{"Id":"b","Metrics":{"n":3}}', '{"Id":"c"}']
    raw = tmp_path / "part-00000.gz"
    raw.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    bad: list[tuple[str, int]] = []
    chunks = list(read_chunks([str(raw)], None, 2, lambda src, line: bad.append((src, line))))
    assert [len(c.frame) for c in chunks] == [2, 1] and bad == [(str(raw), 2), (str(raw), 4)]
    assert chunks[0].where == [(str(raw), 1), (str(raw), 5)] and chunks[0].frame.loc[1, "Metrics.n"] == "3"


def test_output_columns_are_the_import_layout_in_the_import_order():
    columns = list(flat({**RECORD, "Surprise": {"Field": "x"}, "Attributes": {"T": [str(i) for i in range(12)]}}))
    assert not is_import_column("Surprise.Field") and not is_import_column("Id#2")
    kept = output_columns(columns)
    assert kept[:3] == ["Id", "ChannelType", "Address"] and not set(kept) & set(EXPORT_ONLY_FIELDS)
    assert "Surprise.Field" not in kept
    assert kept.index("Attributes.T") < kept.index("Attributes.T#2") < kept.index("Attributes.T#9") < \
        kept.index("Attributes.T#10") < kept.index("Attributes.T#12")
    assert output_columns(columns, export_fields=True)[-len(EXPORT_ONLY_FIELDS):] == list(EXPORT_ONLY_FIELDS)
    assert output_columns([]) == ["Id", "ChannelType", "Address"]  # an empty export keeps a header
