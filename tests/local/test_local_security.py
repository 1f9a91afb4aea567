"""The service guarded: SigV4 against its own keys (or --insecure), admin token, no CORS unless asked,
never an HTML page; and `local up` on a busy port fails with one line and exit code 2."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from pinpoint_etl.local.server import start_local_service

REPO = Path(__file__).resolve().parents[2]


def _raw(service, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None):
    request = urllib.request.Request(service.endpoint_url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _client(service, name: str, key: str, secret: str):
    return boto3.client(name, endpoint_url=service.endpoint_url, region_name=service.region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.mark.parametrize("path", ["/v1/apps", "/pinpoint-etl-local/some/key.csv", "/", "/?Action=ListRoles"])
def test_unsigned_requests_get_a_json_403(pp, path):
    status, headers, body = _raw(pp.service, "GET", path)
    assert (status, headers["x-amzn-errortype"], headers["content-type"]) == (
        403, "MissingAuthenticationTokenException", "application/json")
    assert json.loads(body)["Message"] == "Missing Authentication Token"


def test_a_wrong_secret_or_an_unknown_key_is_refused_by_every_service(pp):
    service = pp.service
    wrong = _client(service, "pinpoint", service.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as err:
        wrong.get_apps()
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidSignatureException", 403)
    stranger = _client(service, "pinpoint", "AKIAEXAMPLEEXAMPLE12", service.secret_access_key)
    with pytest.raises(ClientError) as err:
        stranger.get_apps()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as err:
        _client(service, "s3", service.access_key_id, "not-the-secret").list_objects_v2(Bucket=service.bucket)
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as err:
        _client(service, "s3", "AKIAEXAMPLEEXAMPLE12", "x").put_object(Bucket=service.bucket, Key="k", Body=b"x")
    assert err.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert pp.s3.list_objects_v2(Bucket=service.bucket).get("KeyCount") == 0
    with pytest.raises(ClientError) as err:
        _client(service, "iam", service.access_key_id, "not-the-secret").list_roles()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def _send(service, aws_req, data: bytes):
    req = urllib.request.Request(aws_req.url, data=data, method=aws_req.method, headers=dict(aws_req.headers))
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def test_a_tampered_body_or_an_old_signature_is_refused(pp, monkeypatch):
    service = pp.service
    url = f"{service.endpoint_url}/v1/apps/{pp.app}/endpoints/e1"
    body = json.dumps({"ChannelType": "EMAIL", "Address": "a@example.com"}).encode()
    signed = AWSRequest(method="PUT", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(service.access_key_id, service.secret_access_key), "mobiletargeting",
              service.region).add_auth(signed)
    tampered = body.replace(b"a@example.com", b"b@example.com")
    assert _send(service, signed, tampered)[0] == 403
    assert _send(service, signed, body)[0] == 202  # the same signature over the real body is good
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.datetime(2020, 1, 1))
    old = AWSRequest(method="PUT", url=url.replace("e1", "e2"), data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(service.access_key_id, service.secret_access_key), "mobiletargeting",
              service.region).add_auth(old)
    status, headers = _send(service, old, body)
    monkeypatch.undo()
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert pp.exists("e1") and not pp.exists("e2")


def test_presigned_urls_are_checked(pp):
    pp.put("pre/a.txt", "hello")
    s3 = pp.raw_client("s3", signature_version="s3v4")  # SigV4 only: boto3 presigns S3 with SigV2 by default
    url = s3.generate_presigned_url("get_object", Params={"Bucket": pp.bucket, "Key": "pre/a.txt"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"hello"
    status, _, body = _raw(pp.service, "GET", url[len(pp.service.endpoint_url):].replace("Signature=", "Signature=0"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_admin_routes_need_the_token(pp):
    service = pp.service
    for token in ("", "wrong-token"):
        status, body = service.admin("POST", "/_local/faults", {"operation": "GetApps", "throttle": 1}, token=token)
        assert status == 403 and "token" in body["Message"]
        assert service.admin("POST", "/_local/reset", token=token)[0] == 403
    assert service.admin("GET", "/_local/faults") == (200, {"faults": {}})
    assert service.admin("GET", "/_local/health", token="") == (200, {"status": "ok"})
    assert _raw(service, "POST", "/moto-api/reset")[0] == 404


def test_no_cors_headers_unless_asked(pp):
    status, headers, _ = pp.signed("GET", "/v1/apps", headers={"Origin": "https://evil.example"})
    assert status == 200
    assert not [h for h in headers if h.startswith("access-control-")]
    status, headers, _ = _raw(pp.service, "OPTIONS", "/v1/apps", {"Origin": "https://evil.example",
                                                                   "Access-Control-Request-Method": "GET"})
    assert status == 403 and not [h for h in headers if h.startswith("access-control-")]


def test_cors_for_the_origins_given_and_insecure_mode():
    service = start_local_service(cors_origins=("https://app.example",), insecure=True)
    try:
        status, headers, _ = _raw(service, "OPTIONS", "/v1/apps", {"Origin": "https://app.example",
                                                                   "Access-Control-Request-Method": "GET",
                                                                   "Access-Control-Request-Headers": "authorization"})
        assert status == 200
        assert headers["access-control-allow-origin"] == "https://app.example"
        assert headers["access-control-allow-headers"] == "authorization"
        status, headers, body = _raw(service, "GET", "/v1/apps", {"Origin": "https://other.example"})
        assert status == 200 and "access-control-allow-origin" not in headers  # unsigned accepted: insecure
        assert json.loads(body)["Item"][0]["Id"] == service.application_id
        status, headers, _ = _raw(service, "GET", "/v1/apps", {"Origin": "https://app.example"})
        assert headers["access-control-allow-origin"] == "https://app.example"
    finally:
        service.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_local_up_on_a_busy_port_says_so_in_one_line_and_exits_2():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cli = str(Path(sys.executable).with_name("pinpoint-etl"))
        out = subprocess.run([cli, "local", "up", "--port", str(port)], capture_output=True, text=True, timeout=60,
                             cwd=REPO, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 2, out.stderr
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert lines == [f"error: port {port} on 127.0.0.1 is already in use (another `pinpoint-etl local up`?); "
                     "choose another with --port"]
