"""Error wire shapes (raw HTTP and boto3) and every fault knob."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError
from pinpoint_etl.local.faults import FaultError, FaultRegistry

HEADER = "Id,ChannelType,Address"


# ----------------------------------------------------------------------------- wire shapes

def test_not_found_on_the_wire(pp):
    status, headers, body = pp.signed("GET", f"/v1/apps/{pp.app}/endpoints/missing")
    assert status == 404
    assert headers["x-amzn-errortype"] == "NotFoundException"
    payload = json.loads(body)
    assert set(payload) == {"Message", "RequestID"}
    assert payload["Message"] == "Endpoint missing not found"
    assert payload["RequestID"] == headers["x-amzn-requestid"]


def test_bad_json_body_on_the_wire(pp):
    status, headers, body = pp.signed("PUT", f"/v1/apps/{pp.app}/endpoints/e1", body="{not json")
    assert status == 400
    assert headers["x-amzn-errortype"] == "BadRequestException"
    assert json.loads(body)["Message"].startswith("The request body is not valid JSON")


def test_moto_native_errors_use_the_same_shape(pp):
    status, headers, body = pp.signed("GET", "/v1/apps/" + "0" * 32)
    assert status == 404
    assert headers["x-amzn-errortype"] == "NotFoundException"
    assert json.loads(body) == {"Message": "Application not found", "RequestID": headers["x-amzn-requestid"]}


def test_success_codes_on_the_wire(pp):
    item = json.dumps({"ChannelType": "EMAIL", "Address": "w@example.com"})
    status, headers, body = pp.signed("PUT", f"/v1/apps/{pp.app}/endpoints/w1", body=item)
    assert status == 202
    assert json.loads(body) == {"Message": "Accepted", "RequestID": headers["x-amzn-requestid"]}
    status, _, body = pp.signed("GET", f"/v1/apps/{pp.app}/endpoints/w1")
    assert status == 200 and json.loads(body)["Id"] == "w1"
    job = json.dumps({"S3Url": f"s3://{pp.bucket}/nothing/", "RoleArn": pp.service.import_role_arn, "Format": "CSV"})
    status, _, body = pp.signed("POST", f"/v1/apps/{pp.app}/jobs/import", body=job)
    assert status == 201 and json.loads(body)["JobStatus"] == "CREATED"
    job = json.dumps({"S3UrlPrefix": f"s3://{pp.bucket}/out/", "RoleArn": pp.service.export_role_arn})
    status, _, body = pp.signed("POST", f"/v1/apps/{pp.app}/jobs/export", body=job)
    assert status == 202 and json.loads(body)["Type"] == "EXPORT"


def test_payload_over_7_mb_is_413(pp):
    body = json.dumps({"ChannelType": "EMAIL", "Address": "x", "Attributes": {"a": ["x" * (7 * 1024 * 1024)]}})
    status, headers, _ = pp.signed("PUT", f"/v1/apps/{pp.app}/endpoints/huge", body=body)
    assert (status, headers["x-amzn-errortype"]) == (413, "PayloadTooLargeException")


# ----------------------------------------------------------------------------- call knobs

def test_throttle_answers_429_for_the_next_n_calls_of_that_operation_only(pp):
    pp.batch([{"Id": "e1", "ChannelType": "EMAIL", "Address": "e1@example.com"}])
    client = pp.raw_client("pinpoint")
    pp.service.set_faults("GetEndpoint", throttle=2)
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            client.get_endpoint(ApplicationId=pp.app, EndpointId="e1")
        assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        client.get_import_jobs(ApplicationId=pp.app)  # other operations are not affected
    assert client.get_endpoint(ApplicationId=pp.app, EndpointId="e1")["EndpointResponse"]["Id"] == "e1"


def test_throttle_on_the_wire(pp):
    pp.service.set_faults("GetImportJobs", throttle=1)
    status, headers, body = pp.signed("GET", f"/v1/apps/{pp.app}/jobs/import")
    assert (status, headers["x-amzn-errortype"]) == (429, "TooManyRequestsException")
    assert json.loads(body) == {"Message": "Too many requests", "RequestID": headers["x-amzn-requestid"]}
    assert pp.signed("GET", f"/v1/apps/{pp.app}/jobs/import")[0] == 200


def test_error500_answers_internal_server_error(pp):
    pp.service.set_faults("CreateImportJob", error500=1)
    request = {"S3Url": f"s3://{pp.bucket}/x/", "RoleArn": pp.service.import_role_arn, "Format": "CSV"}
    with pytest.raises(ClientError) as err:
        pp.raw_client("pinpoint").create_import_job(ApplicationId=pp.app, ImportJobRequest=request)
    assert err.value.response["Error"]["Code"] == "InternalServerErrorException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert pp.client.get_import_jobs(ApplicationId=pp.app)["ImportJobsResponse"]["Item"] == []
    assert pp.import_job(f"s3://{pp.bucket}/x/", wait=False)["JobStatus"] == "CREATED"


def test_throttle_is_consumed_before_error500(pp):
    pp.service.set_faults("GetImportJobs", throttle=1, error500=1)
    client = pp.raw_client("pinpoint")
    codes = []
    for _ in range(3):
        try:
            client.get_import_jobs(ApplicationId=pp.app)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes == ["TooManyRequestsException", "InternalServerErrorException", "ok"]


def test_latency_knob_slows_every_call_until_cleared(pp):
    pp.service.set_faults("GetImportJobs", latency=1.0)
    start = time.monotonic()
    pp.client.get_import_jobs(ApplicationId=pp.app)
    assert time.monotonic() - start >= 1.0
    pp.service.clear_faults()
    start = time.monotonic()
    pp.client.get_import_jobs(ApplicationId=pp.app)
    assert time.monotonic() - start < 1.0


def test_s3_upload_part_fault_answers_s3_xml_error(pp):
    pp.service.set_faults("S3:UploadPart", error500=1)
    upload = pp.s3.create_multipart_upload(Bucket=pp.bucket, Key="mp/file.csv")
    with pytest.raises(ClientError) as err:
        pp.raw_client("s3").upload_part(Bucket=pp.bucket, Key="mp/file.csv", UploadId=upload["UploadId"], PartNumber=1, Body=b"a" * 10)
    assert err.value.response["Error"]["Code"] == "InternalError"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    part = pp.s3.upload_part(Bucket=pp.bucket, Key="mp/file.csv", UploadId=upload["UploadId"], PartNumber=1,
                             Body=b"a" * 10)
    pp.s3.complete_multipart_upload(Bucket=pp.bucket, Key="mp/file.csv", UploadId=upload["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert pp.s3.get_object(Bucket=pp.bucket, Key="mp/file.csv")["Body"].read() == b"a" * 10


def test_s3_put_object_throttle_answers_slow_down(pp):
    pp.service.set_faults("S3:PutObject", throttle=1)
    with pytest.raises(ClientError) as err:
        pp.raw_client("s3").put_object(Bucket=pp.bucket, Key="t/a.csv", Body=b"x")
    assert err.value.response["Error"]["Code"] == "SlowDown"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    pp.put("t/a.csv", "x")
    pp.s3.head_object(Bucket=pp.bucket, Key="t/a.csv")


# ----------------------------------------------------------------------------- job knobs

def test_state_delay_makes_a_stuck_job_until_cleared(pp):
    pp.service.set_faults("ImportJob", state_delay=3600)
    url = pp.put("stuck/a.csv", f"{HEADER}\ns1,EMAIL,s1@example.com\n")
    job = pp.import_job(url, wait=False)
    time.sleep(0.3)
    current = pp.client.get_import_job(ApplicationId=pp.app, JobId=job["Id"])["ImportJobResponse"]
    assert current["JobStatus"] == "CREATED"
    pp.service.clear_faults()
    assert pp.wait_import(job["Id"], timeout=5)["JobStatus"] == "COMPLETED"


def test_fail_pieces_fails_the_first_n_pieces(pp):
    pp.service.set_faults("ImportJob", fail_pieces=1)
    for name in ("a", "b", "c"):
        pp.put(f"fp/{name}.csv", f"{HEADER}\n{name}1,EMAIL,{name}@example.com\n")
    job = pp.import_job(f"s3://{pp.bucket}/fp/")
    assert job["JobStatus"] == "FAILED"
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]) == (3, 2, 1)
    assert job["Failures"] == [f"s3://{pp.bucket}/fp/a.csv: injected fault (fail_pieces): the piece could not be processed"]
    assert [pp.exists(i) for i in ("a1", "b1", "c1")] == [False, True, True]


def test_fail_rows_fails_the_first_n_rows(pp):
    pp.service.set_faults("ImportJob", fail_rows=2)
    url = pp.put("fr/a.csv", f"{HEADER}\nr1,EMAIL,r1@x.com\nr2,EMAIL,r2@x.com\nr3,EMAIL,r3@x.com\n")
    job = pp.import_job(url)
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 3, 2)
    assert job["Failures"] == [f"{url} row 1: injected fault (fail_rows)", f"{url} row 2: injected fault (fail_rows)"]
    assert [pp.exists(i) for i in ("r1", "r2", "r3")] == [False, False, True]


def test_export_fail_pieces(pp):
    pp.service.set_faults("ExportJob", fail_pieces=1, records_per_file=1)
    pp.batch([{"Id": f"x{i}", "ChannelType": "EMAIL", "Address": f"x{i}@example.com"} for i in range(2)])
    job = pp.export_job(f"s3://{pp.bucket}/ex")
    assert job["JobStatus"] == "FAILED"
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"], job["TotalProcessed"]) == (2, 1, 1, 1)
    assert job["Failures"] == [(f"s3://{pp.bucket}/ex/{job['Id']}/part-00000.gz: injected fault (fail_pieces): "
                               "the piece could not be written")]


# ----------------------------------------------------------------------------- admin API

def test_admin_faults_routes(pp):
    status, body = pp.admin("POST", "/_local/faults", {"operation": "GetEndpoint", "throttle": 3})
    assert (status, body) == (200, {"faults": {"GetEndpoint": {"throttle": 3}}})
    pp.admin("POST", "/_local/faults", [{"operation": "S3:GetObject", "error500": 1},
                                        {"operation": "ImportJob", "state_delay": 0.5}])
    status, body = pp.admin("GET", "/_local/faults")
    assert body["faults"] == {"GetEndpoint": {"throttle": 3}, "S3:GetObject": {"error500": 1},
                              "ImportJob": {"state_delay": 0.5}}
    status, body = pp.admin("DELETE", "/_local/faults?operation=GetEndpoint")
    assert set(body["faults"]) == {"S3:GetObject", "ImportJob"}
    status, body = pp.admin("DELETE", "/_local/faults")
    assert (status, body) == (200, {"faults": {}})


@pytest.mark.parametrize("payload, message", [
    ({"operation": "GetEndpoints", "throttle": 1}, "unknown operation 'GetEndpoints'"),
    ({"operation": "GetEndpoint", "explode": 1}, "unknown knob 'explode' for 'GetEndpoint'"),
    ({"operation": "ImportJob", "throttle": 1}, "unknown knob 'throttle' for 'ImportJob'"),
    ({"operation": "GetEndpoint", "throttle": -1}, "GetEndpoint.throttle must be a number >= 0"),
    ({"operation": "S3:Nope", "error500": 1}, "unknown operation 'S3:Nope'"),
])
def test_admin_faults_refuses_bad_input(pp, payload, message):
    status, body = pp.admin("POST", "/_local/faults", payload)
    assert status == 400
    assert body["Message"].startswith(message)


def test_fault_spec_formats_match_the_env_var_format():
    registry = FaultRegistry()
    registry.load_json('{"GetImportJob": {"throttle": 2}, "ImportJob": {"state_delay": 1}}')
    registry.load_json('[{"operation": "S3:UploadPart", "error500": 1}]')
    assert registry.snapshot() == {"GetImportJob": {"throttle": 2}, "ImportJob": {"state_delay": 1.0},
                                   "S3:UploadPart": {"error500": 1}}
    assert registry.take_call_fault("GetImportJob") == ("throttle", 0.0)
    assert registry.take_call_fault("GetImportJob") == ("throttle", 0.0)
    assert registry.take_call_fault("GetImportJob") == (None, 0.0)
    with pytest.raises(FaultError):
        registry.load_json("not json")


def test_method_without_an_operation_is_405(pp):
    status, headers, body = pp.signed("POST", f"/v1/apps/{pp.app}/endpoints/e1", body="{}")
    assert (status, headers["x-amzn-errortype"]) == (405, "MethodNotAllowedException")
    assert json.loads(body)["Message"] == f"POST is not allowed on /v1/apps/{pp.app}/endpoints/e1"


def test_s3_expected_bucket_owner_is_enforced(pp):
    pp.s3.head_bucket(Bucket=pp.bucket, ExpectedBucketOwner=pp.service.account_id)
    pp.put("own/a.csv", "x")
    with pytest.raises(ClientError) as err:
        pp.raw_client("s3").get_object(Bucket=pp.bucket, Key="own/a.csv", ExpectedBucketOwner="999999999999")
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied", 403)
    with pytest.raises(ClientError) as err:
        pp.raw_client("s3").head_bucket(Bucket=pp.bucket, ExpectedBucketOwner="999999999999")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
