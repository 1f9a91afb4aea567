"""The exported-endpoint contract and the flattening of EndpointResponse records (no service needed)."""

from __future__ import annotations

import pandas as pd

from pinpoint_etl.flows.export_run import flatten, is_import_column, ordered_columns
from pinpoint_etl.schemas.exported import EXPORT_ONLY_FIELDS, ExportedEndpoint, anomalies

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


def test_flatten_gives_dotted_names_slots_and_canonical_numbers():
    flat = flatten(RECORD)
    assert flat["Location.Country"] == "US" and flat["Demographic.Timezone"] == "America/Los_Angeles"
    assert [flat["Attributes.Interests"], flat["Attributes.Interests#2"], flat["Attributes.Interests#3"]] == \
        ["Music", "Books", "Film"]
    assert flat["User.UserAttributes.Tags#2"] == "b" and flat["User.UserId"] == "u1"
    assert flat["Metrics.sessions"] == "12" and flat["Metrics.ltv"] == "1631.56"
    assert flat["Location.Latitude"] == "47.6" and flat["Location.Longitude"] == "-122.3"
    assert all(isinstance(v, str) for v in flat.values())


def test_flatten_skips_empty_user_and_null_array_items():
    flat = flatten({"Id": "x", "ChannelType": "EMAIL", "Address": "a@example.com", "User": {},
                    "Attributes": {"A": [None, "v"]}, "Location": {"Latitude": 10.25}})
    assert flat == {"Id": "x", "ChannelType": "EMAIL", "Address": "a@example.com", "Attributes.A": "v",
                    "Location.Latitude": "10.25"}


def test_import_layout_leaves_out_export_only_and_unknown_fields():
    flat = flatten({**RECORD, "Surprise": {"Field": "x"}})
    kept = [c for c in flat if is_import_column(c)]
    assert not set(kept) & set(EXPORT_ONLY_FIELDS) and "Surprise.Field" not in kept
    assert {"Id", "RequestId", "Attributes.Interests#3", "Metrics.ltv", "User.UserAttributes.Tags#2"} <= set(kept)
    order = ordered_columns(list(flat.keys() - {"Surprise.Field"}))
    assert order[:3] == ["Id", "ChannelType", "Address"]
    assert order.index("Attributes.Interests") < order.index("Attributes.Interests#2") < \
        order.index("Attributes.Interests#3")
    assert order[-len(EXPORT_ONLY_FIELDS):] == list(EXPORT_ONLY_FIELDS)


def test_clean_export_has_no_anomalies():
    frame = pd.DataFrame([flatten(RECORD)])
    assert anomalies(frame).empty
    ExportedEndpoint.validate(frame)  # strict (non-lazy) validation passes too


def test_anomalies_are_counted_per_row_and_nothing_is_dropped():
    bad = {**flatten(RECORD), "Id": "bad", "EndpointStatus": "GONE", "CohortId": "100", "OptOut": "maybe",
           "CreationDate": "yesterday", "Location.Latitude": "47.61", "Attributes.Interests": "x" * 101,
           "Attributes.Note": "line\nbreak"}
    no_address = {k: v for k, v in flatten(RECORD).items() if k != "Address"} | {"Id": "no-address"}
    frame = pd.DataFrame([flatten(RECORD), bad, no_address])
    before = frame.copy()
    reasons = anomalies(frame)
    assert sorted(reasons.index) == [1, 2]
    why = " | ".join(reasons[1])
    for text in ("EndpointStatus", "CohortId", "OptOut", "CreationDate", "Location.Latitude",
                 "Attributes.Interests value is longer than 100", "CR, LF or TAB"):
        assert text in why, text
    assert reasons[2] == ["Address is missing"]
    pd.testing.assert_frame_equal(frame, before)
