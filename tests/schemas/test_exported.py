"""The exported-endpoint contract, on records as the export stages flatten them (no service needed)."""

from __future__ import annotations

import pandas as pd

from pinpoint_etl.schemas.exported import ExportedEndpoint, anomalies

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


def flatten(record: dict) -> dict[str, str]:
    return frame_of([record]).iloc[0].dropna().to_dict()


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
