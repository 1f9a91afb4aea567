"""Helpers of the export tests: endpoints to seed, export runs against the local service, and checks
of each output format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq

from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.export.run import run_export
from pinpoint_etl.flows.export_target import configure_export_target
from pinpoint_etl.flows.params import TargetParams
from pinpoint_etl.flows.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "sample_data" / "endpoints.csv"
EXPECTED = json.loads((ROOT / "sample_data" / "expected.json").read_text())["endpoints.csv"]

ENDPOINTS = [
    {"Id": "sms-1", "ChannelType": "SMS", "Address": "+12065550101", "OptOut": "NONE",
     "Location": {"Country": "US", "City": "Seattle", "Latitude": 47.6, "Longitude": -122.3},
     "Demographic": {"Timezone": "America/Los_Angeles", "Locale": "en_US"},
     "Attributes": {"Interests": ["Music", "Books", "Film"]}, "Metrics": {"sessions": 12.0, "ltv": 1631.56},
     "User": {"UserId": "u1", "UserAttributes": {"FirstName": ["Ann"]}}},
    {"Id": "email-1", "ChannelType": "EMAIL", "Address": "ann@example.com", "OptOut": "ALL",
     "Location": {"Country": "DE"}, "Attributes": {"Interests": ["Travel"]}, "User": {"UserId": "u1"}},
    {"Id": "email-2", "ChannelType": "EMAIL", "Address": "bob@example.org",
     "User": {"UserId": "u2", "UserAttributes": {"Tags": ["x", "y"]}}},
    {"Id": "push-3", "ChannelType": "GCM", "Address": "tok3nABC", "Demographic": {"Platform": "android"}},
    {"Id": "sms-4", "ChannelType": "SMS", "Address": "+12065550104", "Metrics": {"sessions": 3.0}},
]


def seed(pinpoint_client, app: str, endpoints=ENDPOINTS) -> None:
    pinpoint_client.update_endpoints_batch(ApplicationId=app, EndpointBatchRequest={"Item": endpoints})


def export_target(service, **kw) -> TargetParams:
    return TargetParams(application_id=service.application_id, bucket=service.bucket, region=service.region, **kw)


def export_args(target: TargetParams, options: ExportOptions) -> dict:
    """``export_endpoints``' keyword arguments (its form groups) carrying these run models' values."""
    from pinpoint_etl.flows.forms import EXPORT_FORM

    return EXPORT_FORM.parameters(target, options)


def fast(**kw) -> ExportOptions:
    return ExportOptions(**{"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2, "timeout_seconds": 60, **kw})


def export(service, **kw):
    opts = fast(role_arn=service.export_role_arn, **kw)
    return run_export(configure_export_target(export_target(service), opts), opts, Runtime())


def keys_under(s3_client, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def read_output(uri: str, s3_client) -> bytes:
    if uri.startswith("s3://"):
        bucket, _, key = uri[5:].partition("/")
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return Path(uri).read_bytes()


def csv_records(data: bytes) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
    """Header and {Id: {column: [values]}} (repeated headers gather their non-empty values)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, out = rows[0], {}
    for row in rows[1:]:
        rec: dict[str, list[str]] = {}
        for name, value in zip(header, row):
            if value != "":
                rec.setdefault(name, []).append(value)
        out[rec["Id"][0]] = rec
    return header, out


def check_csv(data: bytes) -> None:
    header, recs = csv_records(data)
    assert header[:3] == ["Id", "ChannelType", "Address"] and header.count("Attributes.Interests") == 3
    assert not {"EndpointStatus", "EffectiveDate", "CreationDate", "CohortId", "ApplicationId"} & set(header)
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    assert set(recs) == {e["Id"] for e in ENDPOINTS}
    sms = recs["sms-1"]
    assert sms["Attributes.Interests"] == ["Music", "Books", "Film"] and sms["Address"] == ["+12065550101"]
    assert sms["Metrics.sessions"] == ["12"] and sms["Metrics.ltv"] == ["1631.56"]
    assert sms["Location.Latitude"] == ["47.6"] and sms["Location.Longitude"] == ["-122.3"]
    assert sms["User.UserAttributes.FirstName"] == ["Ann"] and sms["User.UserId"] == ["u1"]
    assert recs["email-1"]["OptOut"] == ["ALL"] and recs["email-2"]["User.UserAttributes.Tags"] == ["x", "y"]
    assert recs["email-2"]["OptOut"] == ["NONE"]  # Pinpoint's default, exported


def check_ndjson(data: bytes) -> None:
    recs = {r["Id"]: r for r in map(json.loads, data.decode("utf-8").splitlines())}
    assert set(recs) == {e["Id"] for e in ENDPOINTS}
    sms = recs["sms-1"]
    assert sms["Attributes"]["Interests"] == ["Music", "Books", "Film"]
    assert sms["Metrics"] == {"sessions": 12.0, "ltv": 1631.56} and sms["Location"]["Latitude"] == 47.6
    assert sms["User"] == {"UserId": "u1", "UserAttributes": {"FirstName": ["Ann"]}}
    assert "EndpointStatus" not in sms and "CohortId" not in sms
    assert recs["email-2"]["User"]["UserAttributes"]["Tags"] == ["x", "y"]


def check_parquet(data: bytes) -> None:
    table = pq.read_table(io.BytesIO(data))
    recs = {r["Id"]: r for r in table.to_pylist()}
    assert set(recs) == {e["Id"] for e in ENDPOINTS}
    sms = recs["sms-1"]
    assert [sms["Attributes.Interests"], sms["Attributes.Interests#2"], sms["Attributes.Interests#3"]] == \
        ["Music", "Books", "Film"]
    assert table.schema.field("Metrics.sessions").type == "double" and sms["Metrics.sessions"] == 12.0
    assert sms["Location.Latitude"] == 47.6 and recs["sms-4"]["Metrics.ltv"] is None
    assert recs["push-3"]["Demographic.Platform"] == "android"


CHECKS = {"csv": check_csv, "ndjson": check_ndjson, "parquet": check_parquet}
