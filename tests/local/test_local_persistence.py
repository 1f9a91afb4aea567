"""A service started on a data folder keeps everything across a restart: the seeded application id,
the keys, apps, endpoints, segments, jobs, S3 objects and IAM roles; a job cut short starts again."""

from __future__ import annotations

import json
import time

import boto3
from botocore.config import Config

from pinpoint_etl.local.iam import IamService
from pinpoint_etl.local.server import start_local_service

HEADER = "Id,ChannelType,Address,User.UserId"


def _clients(service):
    kw = dict(endpoint_url=service.endpoint_url, region_name=service.region,
              aws_access_key_id=service.access_key_id, aws_secret_access_key=service.secret_access_key,
              config=Config(retries={"total_max_attempts": 1}))
    return boto3.client("pinpoint", **kw), boto3.client("s3", **kw), boto3.client("iam", **kw)


def _wait(pinpoint, app, job_id, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        job = pinpoint.get_import_job(ApplicationId=app, JobId=job_id)["ImportJobResponse"]
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def test_everything_survives_a_restart(tmp_path):
    first = start_local_service(data_dir=tmp_path / "data", state_delay=0.01)
    try:
        pinpoint, s3, iam = _clients(first)
        app = first.application_id
        s3.put_object(Bucket=first.bucket, Key="in/a.csv",
                      Body=f"{HEADER}\ne1,EMAIL,a@example.com,u1\ne2,SMS,+12065550100,u1\n".encode())
        s3.create_bucket(Bucket="more")
        s3.put_object(Bucket="more", Key="deep/x.bin", Body=b"\x00" * 1000)
        job = pinpoint.create_import_job(ApplicationId=app, ImportJobRequest={
            "S3Url": f"s3://{first.bucket}/in/", "RoleArn": first.import_role_arn, "Format": "CSV",
            "RegisterEndpoints": True, "DefineSegment": True, "SegmentName": "kept"})["ImportJobResponse"]
        job = _wait(pinpoint, app, job["Id"])
        other = pinpoint.create_app(CreateApplicationRequest={"Name": "second", "tags": {"k": "v"}})
        other_id = other["ApplicationResponse"]["Id"]
        pinpoint.update_email_channel(ApplicationId=other_id, EmailChannelRequest={
            "FromAddress": "a@example.com", "Identity": "arn:aws:ses:us-east-1:123456789012:identity/example.com"})
        iam.create_role(RoleName="mine", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                               "Statement": []}))
        keys = (first.access_key_id, first.secret_access_key)
        token = first.admin_token
    finally:
        first.stop()
    assert (tmp_path / "data" / "pinpoint-local.sqlite3").exists()  # a data folder is never removed
    IamService.reset()  # moto's IAM lives in the process: forget it, as a new process would

    second = start_local_service(data_dir=tmp_path / "data")
    try:
        assert (second.access_key_id, second.secret_access_key) == keys
        assert second.application_id == app
        assert second.admin_token != token  # made anew at each start
        pinpoint, s3, iam = _clients(second)
        assert pinpoint.get_endpoint(ApplicationId=app, EndpointId="e2")["EndpointResponse"]["Address"] == \
            "+12065550100"
        users = pinpoint.get_user_endpoints(ApplicationId=app, UserId="u1")["EndpointsResponse"]["Item"]
        assert [e["Id"] for e in users] == ["e1", "e2"]
        again = pinpoint.get_import_job(ApplicationId=app, JobId=job["Id"])["ImportJobResponse"]
        assert again == job
        segment = pinpoint.get_segment(ApplicationId=app, SegmentId=job["Definition"]["SegmentId"])
        assert segment["SegmentResponse"]["ImportDefinition"]["Size"] == 2
        assert pinpoint.get_app(ApplicationId=other_id)["ApplicationResponse"]["tags"] == {"k": "v"}
        assert pinpoint.get_email_channel(ApplicationId=other_id)["EmailChannelResponse"]["FromAddress"] == \
            "a@example.com"
        assert s3.get_object(Bucket="more", Key="deep/x.bin")["Body"].read() == b"\x00" * 1000
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["more", second.bucket]
        assert iam.get_role(RoleName="mine")["Role"]["RoleName"] == "mine"
        assert iam.get_role(RoleName="pinpoint-etl-import")["Role"]["Arn"] == second.import_role_arn
    finally:
        second.stop()


def test_a_job_the_service_stopped_in_starts_again_after_the_restart(tmp_path):
    first = start_local_service(data_dir=tmp_path / "data", state_delay=0.01)
    try:
        pinpoint, s3, _ = _clients(first)
        app = first.application_id
        s3.put_object(Bucket=first.bucket, Key="in/a.csv", Body=f"{HEADER}\nr1,EMAIL,r@example.com,u9\n".encode())
        first.set_faults("ImportJob", state_delay=3600)  # stuck in CREATED
        job = pinpoint.create_import_job(ApplicationId=app, ImportJobRequest={
            "S3Url": f"s3://{first.bucket}/in/", "RoleArn": first.import_role_arn, "Format": "CSV",
            "RegisterEndpoints": True})["ImportJobResponse"]
    finally:
        first.stop()
    second = start_local_service(data_dir=tmp_path / "data", state_delay=0.01)
    try:
        pinpoint, _, _ = _clients(second)
        done = _wait(pinpoint, app, job["Id"])
        assert (done["JobStatus"], done["TotalProcessed"], done["CreationDate"]) == ("COMPLETED", 1,
                                                                                     job["CreationDate"])
        assert pinpoint.get_endpoint(ApplicationId=app, EndpointId="r1")["EndpointResponse"]["Id"] == "r1"
    finally:
        second.stop()


def test_a_temporary_service_forgets_everything(tmp_path):
    first = start_local_service()
    folder = first.data_dir
    first.stop()
    second = start_local_service()
    try:
        assert second.data_dir != folder
        assert second.access_key_id != first.access_key_id
    finally:
        second.stop()
