"""Fault knobs of the local service for lost answers (``drop``), the shapes of ``Failures`` entries
(``failures_shape``), and conditional writes that race (``If-None-Match: *``)."""

from __future__ import annotations

import sys
import threading

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

ROWS = "Id,ChannelType,Address\n" + "".join(f"e{i},EMAIL,user{i}@example.com\n" for i in range(1, 6))


def _jobs(pp) -> list[dict]:
    return pp.client.get_import_jobs(ApplicationId=pp.app)["ImportJobsResponse"]["Item"]


def test_drop_carries_the_call_out_and_closes_the_connection_without_an_answer(pp):
    url = pp.put("drop/in.csv", ROWS)
    pp.service.set_faults("CreateImportJob", drop=1)
    with pytest.raises(ConnectionClosedError):
        pp.raw_client("pinpoint").create_import_job(ApplicationId=pp.app, ImportJobRequest={
            "S3Url": url, "RoleArn": pp.service.import_role_arn, "Format": "CSV"})
    (job,) = _jobs(pp)  # the job exists although its creator never heard of it
    assert job["Definition"]["S3Url"] == url
    assert pp.admin("GET", "/_local/faults")[1]["faults"] == {}  # one call consumed it
    pp.raw_client("pinpoint").get_import_job(ApplicationId=pp.app, JobId=job["Id"])  # answers again


def test_drop_with_a_delay_past_the_read_timeout_is_a_read_timeout(pp):
    url = pp.put("drop/in.csv", ROWS)
    pp.service.set_faults("CreateImportJob", drop=1, drop_delay=1.5)
    client = pp.raw_client("pinpoint", read_timeout=0.5)
    with pytest.raises(ReadTimeoutError):
        client.create_import_job(ApplicationId=pp.app, ImportJobRequest={
            "S3Url": url, "RoleArn": pp.service.import_role_arn, "Format": "CSV"})
    assert len(_jobs(pp)) == 1


def test_drop_on_an_s3_write_stores_the_object(pp):
    pp.service.set_faults("S3:PutObject", drop=1)
    with pytest.raises(ConnectionClosedError):
        pp.raw_client("s3").put_object(Bucket=pp.bucket, Key="drop/obj", Body=b"kept")
    assert pp.s3.get_object(Bucket=pp.bucket, Key="drop/obj")["Body"].read() == b"kept"


@pytest.mark.parametrize("shape, expected", [
    ("row", "{url} row 2: injected fault (fail_rows)"),
    ("file", "{url}: injected fault (fail_rows)"),
    ("endpoint", "endpoint e2: injected fault (fail_rows)"),
    ("text", "injected fault (fail_rows)"),
])
def test_failures_shape_writes_a_failed_row_in_each_shape(pp, shape, expected):
    url = pp.put(f"shape/{shape}.csv", ROWS)
    pp.service.set_faults("ImportJob", fail_rows=2, failures_shape=shape)
    job = pp.import_job(url)
    assert job["TotalFailures"] == 2 and job["Failures"][1] == expected.format(url=url)


def test_failures_shape_refuses_an_unknown_shape(pp):
    status, body = pp.admin("POST", "/_local/faults", {"operation": "ImportJob", "failures_shape": "xml"})
    assert status == 400 and "failures_shape" in body["Message"]


def test_only_one_of_racing_conditional_writes_succeeds(pp):
    """moto checks If-None-Match, then writes: unserialised, two writers both won now and then (with
    the interpreter switching threads every microsecond, in about one round in fifteen)."""
    doubles = 0
    sys.setswitchinterval(1e-6)
    try:
        for r in range(40):
            outcomes: list[str] = []
            start = threading.Barrier(6)

            def claim(i: int) -> None:
                client = pp.raw_client("s3")
                start.wait()
                try:
                    client.put_object(Bucket=pp.bucket, Key=f"claims/{r}", Body=str(i).encode(), IfNoneMatch="*")
                    outcomes.append("won")
                except ClientError as exc:
                    outcomes.append(exc.response["Error"]["Code"])

            threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(set(outcomes)) == ["PreconditionFailed", "won"]
            doubles += outcomes.count("won") > 1
    finally:
        sys.setswitchinterval(0.005)
    assert doubles == 0
