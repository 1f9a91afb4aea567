"""Fixtures for the local-service tests: fast jobs and ``pp``, a helper around the boto3 clients."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

TERMINAL = ("COMPLETED", "FAILED")


def admin(service, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
    """Call an admin route with the service's admin token; returns (status, JSON body)."""
    return service.admin(method, path, payload)


def signed_request(service, method: str, path: str, body: bytes | str | None = None,
                   signing_name: str = "mobiletargeting", *, secret: str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A SigV4-signed HTTP request sent with urllib (no boto3 parsing); (status, headers, body).
    ``signing_name=None`` sends it unsigned; ``secret`` signs with another secret key."""
    data = body.encode() if isinstance(body, str) else body
    aws_req = AWSRequest(method=method, url=service.endpoint_url + path, data=data,
                         headers={"Content-Type": "application/json", **(headers or {})})
    if signing_name:
        creds = Credentials(service.access_key_id, secret or service.secret_access_key)
        SigV4Auth(creds, signing_name, service.region).add_auth(aws_req)
    req = urllib.request.Request(aws_req.url, data=data, method=method, headers=dict(aws_req.headers))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


class Pinpoint:
    """Shortcuts around the boto3 clients for one test."""

    def __init__(self, service, client, s3):
        self.service = service
        self.client = client
        self.s3 = s3
        self.app = service.application_id
        self.bucket = service.bucket

    def admin(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        return admin(self.service, method, path, payload)

    def signed(self, method: str, path: str, body: bytes | str | None = None,
               signing_name: str | None = "mobiletargeting", **kwargs) -> tuple[int, dict[str, str], bytes]:
        return signed_request(self.service, method, path, body, signing_name, **kwargs)

    def put(self, key: str, body: str | bytes) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)
        return f"s3://{self.bucket}/{key}"

    def import_job(self, s3_url: str, fmt: str = "CSV", *, wait: bool = True, **extra) -> dict:
        request = {"S3Url": s3_url, "RoleArn": self.service.import_role_arn, "Format": fmt,
                   "RegisterEndpoints": True, **extra}
        resp = self.client.create_import_job(ApplicationId=self.app, ImportJobRequest=request)
        job = resp["ImportJobResponse"]
        return self.wait_import(job["Id"]) if wait else job

    def export_job(self, prefix: str, *, wait: bool = True, **extra) -> dict:
        request = {"S3UrlPrefix": prefix, "RoleArn": self.service.export_role_arn, **extra}
        job = self.client.create_export_job(ApplicationId=self.app, ExportJobRequest=request)["ExportJobResponse"]
        return self.wait_export(job["Id"]) if wait else job

    def wait_import(self, job_id: str, timeout: float = 20) -> dict:
        return self._wait(lambda: self.client.get_import_job(
            ApplicationId=self.app, JobId=job_id)["ImportJobResponse"], timeout)

    def wait_export(self, job_id: str, timeout: float = 20) -> dict:
        return self._wait(lambda: self.client.get_export_job(
            ApplicationId=self.app, JobId=job_id)["ExportJobResponse"], timeout)

    @staticmethod
    def _wait(get, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = get()
            if job["JobStatus"] in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job still {job['JobStatus']} after {timeout}s: {job}")
            time.sleep(0.02)

    def endpoint(self, endpoint_id: str) -> dict:
        return self.client.get_endpoint(ApplicationId=self.app, EndpointId=endpoint_id)["EndpointResponse"]

    def batch(self, items: list[dict]) -> dict:
        return self.client.update_endpoints_batch(ApplicationId=self.app, EndpointBatchRequest={"Item": items})

    def exists(self, endpoint_id: str) -> bool:
        try:
            self.endpoint(endpoint_id)
            return True
        except self.client.exceptions.NotFoundException:
            return False

    def unvalidated_client(self):
        """A pinpoint client that sends requests botocore would refuse (missing required fields)."""
        return self.raw_client("pinpoint", parameter_validation=False)

    def raw_client(self, name: str, **config):
        """A client that makes exactly one attempt per call (botocore's ``max_attempts`` counts
        retries, so the shared fixtures' ``max_attempts: 1`` still retries once)."""
        return boto3.client(name, endpoint_url=self.service.endpoint_url, region_name=self.service.region,
                            aws_access_key_id=self.service.access_key_id,
                            aws_secret_access_key=self.service.secret_access_key,
                            config=Config(retries={"total_max_attempts": 1}, **config))


@pytest.fixture(autouse=True)
def _fast_jobs(request):
    """Jobs spend 20 ms per state unless a test asks otherwise (reset restores 0.2 s)."""
    if "pinpoint_env" in request.fixturenames:
        service = request.getfixturevalue("pinpoint_env")
        admin(service, "POST", "/_local/config", {"state_delay": 0.02})


@pytest.fixture()
def pp(pinpoint_env, pinpoint_client, s3_client) -> Pinpoint:
    return Pinpoint(pinpoint_env, pinpoint_client, s3_client)
