"""Dimensional segments: CreateSegment / UpdateSegment, checked definitions, membership decided when an
export job reads them (attributes, metrics, demographics, location, recency, groups of segments)."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

from tests.local.test_local_export_jobs import _read_export

ENDPOINTS = [
    {"Id": "gold-us", "ChannelType": "EMAIL", "Address": "g1@example.com", "Attributes": {"Tier": ["Gold"]},
     "Metrics": {"visits": 10.0}, "Location": {"Country": "US", "Latitude": 47.6, "Longitude": -122.3},
     "Demographic": {"Platform": "ios"}, "User": {"UserId": "u1", "UserAttributes": {"Plan": ["pro"]}}},
    {"Id": "gold-de", "ChannelType": "SMS", "Address": "+4915112345678", "Attributes": {"Tier": ["Gold", "VIP"]},
     "Metrics": {"visits": 2.0}, "Location": {"Country": "DE", "Latitude": 52.5, "Longitude": 13.4},
     "Demographic": {"Platform": "android"}},
    {"Id": "silver-us", "ChannelType": "EMAIL", "Address": "s1@example.com", "Attributes": {"Tier": ["Silver"]},
     "Metrics": {"visits": 5.0}, "Location": {"Country": "US", "Latitude": 47.7, "Longitude": -122.2},
     "EffectiveDate": "2020-01-01T00:00:00.000Z"},
    {"Id": "bare", "ChannelType": "CUSTOM", "Address": "crm-1"},
]


def _segment(pp, **request):
    return pp.client.create_segment(ApplicationId=pp.app, WriteSegmentRequest=request)["SegmentResponse"]


def _members(pp, segment_id: str, **extra) -> list[str]:
    job = pp.export_job(f"s3://{pp.bucket}/dim/{uuid.uuid4().hex}/", SegmentId=segment_id, **extra)
    assert job["JobStatus"] == "COMPLETED", job
    return sorted(r["Id"] for r in _read_export(pp, job)[1])


@pytest.fixture()
def seeded(pp):
    pp.batch(ENDPOINTS)
    return pp


@pytest.mark.parametrize("dimensions, expected", [
    ({"Attributes": {"Tier": {"Values": ["Gold"]}}}, ["gold-de", "gold-us"]),
    ({"Attributes": {"Tier": {"AttributeType": "EXCLUSIVE", "Values": ["Gold"]}}}, ["bare", "silver-us"]),
    ({"Attributes": {"Tier": {"AttributeType": "CONTAINS", "Values": ["ilv"]}}}, ["silver-us"]),
    ({"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 5}}}, ["gold-us", "silver-us"]),
    ({"Demographic": {"Channel": {"Values": ["EMAIL"]}, "Platform": {"Values": ["ios"]}}}, ["gold-us"]),
    ({"Location": {"Country": {"DimensionType": "EXCLUSIVE", "Values": ["US"]}}}, ["bare", "gold-de"]),
    ({"Location": {"GPSPoint": {"Coordinates": {"Latitude": 47.61, "Longitude": -122.33},
                                "RangeInKilometers": 20}}}, ["gold-us", "silver-us"]),
    ({"UserAttributes": {"Plan": {"Values": ["pro"]}}}, ["gold-us"]),
    ({"Behavior": {"Recency": {"Duration": "DAY_30", "RecencyType": "INACTIVE"}}}, ["silver-us"]),
    ({}, ["bare", "gold-de", "gold-us", "silver-us"]),
])
def test_dimensions_select_the_endpoints_an_export_reads(seeded, dimensions, expected):
    segment = _segment(seeded, Name="d", Dimensions=dimensions)
    assert (segment["SegmentType"], segment["Version"]) == ("DIMENSIONAL", 1)
    assert segment["Dimensions"] == dimensions
    assert _members(seeded, segment["Id"]) == expected


def test_membership_is_decided_when_the_export_runs(seeded):
    segment = _segment(seeded, Name="gold", Dimensions={"Attributes": {"Tier": {"Values": ["Gold"]}}})
    assert _members(seeded, segment["Id"]) == ["gold-de", "gold-us"]
    seeded.batch([{"Id": "bare", "Attributes": {"Tier": ["Gold"]}}])
    assert _members(seeded, segment["Id"]) == ["bare", "gold-de", "gold-us"]


def test_update_segment_makes_a_new_version_and_old_versions_still_export(seeded):
    segment = _segment(seeded, Name="v", Dimensions={"Location": {"Country": {"Values": ["US"]}}})
    updated = seeded.client.update_segment(ApplicationId=seeded.app, SegmentId=segment["Id"], WriteSegmentRequest={
        "Name": "v2", "Dimensions": {"Location": {"Country": {"Values": ["DE"]}}}})["SegmentResponse"]
    assert (updated["Version"], updated["Name"]) == (2, "v2")
    assert _members(seeded, segment["Id"]) == ["gold-de"]
    assert _members(seeded, segment["Id"], SegmentVersion=1) == ["gold-us", "silver-us"]
    versions = seeded.client.get_segment_versions(ApplicationId=seeded.app, SegmentId=segment["Id"])
    assert [v["Version"] for v in versions["SegmentsResponse"]["Item"]] == [2, 1]


def test_segment_groups_combine_source_segments_and_dimensions(seeded):
    url = seeded.put("dim/users.csv", "Id,ChannelType,Address\nbare,CUSTOM,crm-1\ngold-de,SMS,+4915112345678\n")
    imported = seeded.import_job(url, DefineSegment=True, SegmentName="imported")["Definition"]["SegmentId"]
    gold = _segment(seeded, Name="gold", Dimensions={"Attributes": {"Tier": {"Values": ["Gold"]}}})
    both = _segment(seeded, Name="both", SegmentGroups={"Include": "ALL", "Groups": [
        {"SourceSegments": [{"Id": imported}, {"Id": gold["Id"]}], "SourceType": "ALL"}]})
    assert _members(seeded, both["Id"]) == ["gold-de"]
    either = _segment(seeded, Name="either", SegmentGroups={"Groups": [
        {"SourceSegments": [{"Id": imported}, {"Id": gold["Id"]}], "SourceType": "ANY",
         "Type": "NONE", "Dimensions": [{"Demographic": {"Channel": {"Values": ["SMS"]}}}]}]})
    assert _members(seeded, either["Id"]) == ["bare", "gold-us"]


@pytest.mark.parametrize("request_body, message", [
    ({"Dimensions": {}, "SegmentGroups": {}}, "A segment has Dimensions or SegmentGroups, not both"),
    ({"Dimensions": {"Demographic": {"DeviceType": {"Values": ["PHONE"]}}}},
     "Dimensions.Demographic.DeviceType: the local service can't evaluate DeviceType"),
    ({"Dimensions": {"Metrics": {"m": {"ComparisonOperator": "ABOUT", "Value": 1}}}},
     "Dimensions.Metrics.m.ComparisonOperator 'ABOUT' is not valid"),
    ({"Dimensions": {"Attributes": {"a": {"AttributeType": "BEFORE", "Values": ["yesterday"]}}}},
     "Dimensions.Attributes.a.Values must be ISO 8601 dates"),
    ({"SegmentGroups": {"Groups": [{"SourceSegments": [{"Id": "nope"}]}]}}, "SourceSegments: segment nope not found"),
    ({"Dimensions": {"Attributes": {f"a{i}": {"Values": ["x"]} for i in range(101)}}},
     "the segment has 101 dimensions; the limit is 100"),
])
def test_bad_segment_definitions_are_bad_requests(pp, request_body, message):
    with pytest.raises(pp.client.exceptions.BadRequestException) as err:
        pp.unvalidated_client().create_segment(ApplicationId=pp.app, WriteSegmentRequest={"Name": "x", **request_body})
    assert err.value.response["Error"]["Message"].startswith(message)


def test_imported_segments_are_changed_by_import_jobs_only(pp):
    url = pp.put("dim/a.csv", "Id,ChannelType,Address\ni1,EMAIL,i1@example.com\n")
    imported = pp.import_job(url, DefineSegment=True, SegmentName="imp")["Definition"]["SegmentId"]
    with pytest.raises(pp.client.exceptions.BadRequestException):
        pp.client.update_segment(ApplicationId=pp.app, SegmentId=imported, WriteSegmentRequest={"Name": "x"})
    dimensional = _segment(pp, Name="d", Dimensions={})
    with pytest.raises(pp.client.exceptions.BadRequestException) as err:
        pp.import_job(url, SegmentId=dimensional["Id"])
    assert "dimensional segment" in err.value.response["Error"]["Message"]


def test_export_files_hold_the_selected_endpoints_as_gzip_ndjson(seeded):
    segment = _segment(seeded, Name="de", Dimensions={"Location": {"Country": {"Values": ["DE"]}}})
    job = seeded.export_job(f"s3://{seeded.bucket}/dimfile/", SegmentId=segment["Id"])
    assert (job["TotalPieces"], job["TotalProcessed"]) == (1, 1)
    key = f"dimfile/{job['Id']}/part-00000.gz"
    record = json.loads(gzip.decompress(seeded.s3.get_object(Bucket=seeded.bucket, Key=key)["Body"].read()))
    assert (record["Id"], record["Location"]["Country"]) == ("gold-de", "DE")
