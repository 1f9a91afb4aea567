"""Export jobs: gzip NDJSON files of EndpointResponse records, for the app or one segment."""

from __future__ import annotations

import gzip
import json

import pytest

ENDPOINT_FIELDS = {"Address", "ApplicationId", "ChannelType", "CohortId", "CreationDate", "EffectiveDate",
                   "EndpointStatus", "Id", "OptOut", "RequestId", "User"}


def _seed(pp, n: int, prefix: str = "x") -> list[str]:
    items = [{"Id": f"{prefix}{i}", "ChannelType": "EMAIL", "Address": f"{prefix}{i}@example.com",
              "Attributes": {"Interests": ["Music"]}, "Metrics": {"visits": float(i)},
              "User": {"UserId": f"user-{prefix}{i}"}} for i in range(n)]
    for start in range(0, n, 100):
        pp.batch(items[start:start + 100])
    return [i["Id"] for i in items]


def _read_export(pp, job: dict) -> tuple[list[str], list[dict]]:
    bucket, _, prefix = job["Definition"]["S3UrlPrefix"][len("s3://"):].partition("/")
    listing = pp.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    keys = sorted(o["Key"] for o in listing)
    records = []
    for key in keys:
        data = gzip.decompress(pp.s3.get_object(Bucket=bucket, Key=key)["Body"].read()).decode("utf-8")
        assert data.endswith("\n")
        records += [json.loads(line) for line in data.splitlines()]
    return keys, records


def test_export_all_endpoints_of_the_app(pp):
    ids = _seed(pp, 5)
    created = pp.client.create_export_job(ApplicationId=pp.app, ExportJobRequest={
        "S3UrlPrefix": f"s3://{pp.bucket}/exports/all", "RoleArn": pp.service.export_role_arn})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (created["ExportJobResponse"]["JobStatus"], created["ExportJobResponse"]["Type"]) == ("CREATED", "EXPORT")
    job = pp.wait_export(created["ExportJobResponse"]["Id"])
    assert job["JobStatus"] == "COMPLETED"
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"], job["TotalProcessed"]) == (1, 1, 0, 5)
    keys, records = _read_export(pp, job)
    assert keys == [f"exports/all/{job['Id']}/part-00000.gz"]
    assert [r["Id"] for r in records] == ids
    first = records[0]
    assert ENDPOINT_FIELDS <= set(first)
    assert first["ApplicationId"] == pp.app
    assert first["Attributes"] == {"Interests": ["Music"]}
    assert first["Metrics"] == {"visits": 0.0}
    assert first["User"] == {"UserId": "user-x0"}
    assert 0 <= int(first["CohortId"]) <= 99


def test_export_splits_into_files_and_pieces(pp):
    pp.service.set_faults("ExportJob", records_per_file=2)
    _seed(pp, 5)
    job = pp.export_job(f"s3://{pp.bucket}/exports/split/")
    assert (job["JobStatus"], job["TotalPieces"], job["CompletedPieces"], job["TotalProcessed"]) == ("COMPLETED", 3, 3, 5)
    keys, records = _read_export(pp, job)
    assert keys == [f"exports/split/{job['Id']}/part-{i:05d}.gz" for i in range(3)]
    assert len(records) == 5


def test_export_one_segment_and_segment_version(pp):
    _seed(pp, 3, "app")
    url = pp.put("seg/a.csv", "Id,ChannelType,Address\ns1,EMAIL,s1@example.com\ns2,SMS,+12065550100\n")
    segment_id = pp.import_job(url, DefineSegment=True, SegmentName="s")["Definition"]["SegmentId"]
    pp.import_job(pp.put("seg2/b.csv", "Id,ChannelType,Address\ns3,EMAIL,s3@example.com\n"), SegmentId=segment_id)
    latest = pp.export_job(f"s3://{pp.bucket}/exports/seg", SegmentId=segment_id)
    assert latest["Definition"]["SegmentId"] == segment_id
    _, records = _read_export(pp, latest)
    assert sorted(r["Id"] for r in records) == ["s1", "s2", "s3"]
    v1 = pp.export_job(f"s3://{pp.bucket}/exports/segv1", SegmentId=segment_id, SegmentVersion=1)
    assert v1["Definition"]["SegmentVersion"] == 1
    _, records = _read_export(pp, v1)
    assert sorted(r["Id"] for r in records) == ["s1", "s2"]
    jobs = pp.client.get_segment_export_jobs(ApplicationId=pp.app, SegmentId=segment_id)["ExportJobsResponse"]
    assert [j["Id"] for j in jobs["Item"]] == [v1["Id"], latest["Id"]]


def test_export_of_an_empty_app_writes_nothing(pp):
    job = pp.export_job(f"s3://{pp.bucket}/exports/empty/")
    assert (job["JobStatus"], job["TotalPieces"], job["TotalProcessed"]) == ("COMPLETED", 0, 0)
    assert pp.s3.list_objects_v2(Bucket=pp.bucket, Prefix="exports/empty/")["KeyCount"] == 0


def test_export_with_a_read_only_role_fails(pp):
    _seed(pp, 1)
    prefix = f"s3://{pp.bucket}/exports/ro"
    job = pp.export_job(prefix, RoleArn=pp.service.import_role_arn)
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] == [(f"{prefix}: role {pp.service.import_role_arn} is not authorized to perform "
                               f"s3:PutObject on arn:aws:s3:::{pp.bucket}/exports/ro/{job['Id']}/part-00000.gz")]


def test_export_with_missing_role_or_bucket_fails(pp):
    arn = "arn:aws:iam::123456789012:role/nobody"
    job = pp.export_job(f"s3://{pp.bucket}/exports/x", RoleArn=arn)
    assert (job["JobStatus"], job["Failures"]) == ("FAILED", [f"s3://{pp.bucket}/exports/x: role {arn} does not exist"])
    job = pp.export_job("s3://missing-bucket/exports")
    assert (job["JobStatus"], job["Failures"]) == ("FAILED", ["s3://missing-bucket/exports: bucket missing-bucket does not exist"])


def test_export_request_validation(pp):
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.create_export_job(ApplicationId=pp.app, ExportJobRequest={
            "S3UrlPrefix": f"s3://{pp.bucket}/e", "RoleArn": pp.service.export_role_arn, "SegmentId": "nope"})
    with pytest.raises(pp.client.exceptions.BadRequestException) as err:
        pp.unvalidated_client().create_export_job(ApplicationId=pp.app, ExportJobRequest={
            "S3UrlPrefix": f"s3://{pp.bucket}/e"})
    assert err.value.response["Error"]["Message"] == "Missing required field(s): RoleArn"
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_export_job(ApplicationId=pp.app, JobId="0" * 32)


def test_get_export_jobs_pages(pp):
    ids = [pp.export_job(f"s3://{pp.bucket}/exports/p{i}", wait=False)["Id"] for i in range(3)]
    page1 = pp.client.get_export_jobs(ApplicationId=pp.app, PageSize="2")["ExportJobsResponse"]
    page2 = pp.client.get_export_jobs(ApplicationId=pp.app, PageSize="2", Token=page1["NextToken"])["ExportJobsResponse"]
    assert [j["Id"] for j in page1["Item"] + page2["Item"]] == list(reversed(ids))
    assert "NextToken" not in page2
    for job_id in ids:
        assert pp.wait_export(job_id)["JobStatus"] == "COMPLETED"
