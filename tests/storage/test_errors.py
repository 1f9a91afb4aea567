"""Which failures are transient, and which answers are unclear (the call may have been carried out),
from real botocore exceptions raised by boto3 clients talking to the local service."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.config import Config
from pinpoint_etl.core.errors import TerminalError, TransientError
from pinpoint_etl.storage import write
from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, UnclearAnswer, translate


def _client(service, name: str = "pinpoint", *, endpoint_url: str | None = None, **config):
    """A boto3 client with the service's own credentials that makes one attempt per call."""
    env = service.env()
    return boto3.client(name, endpoint_url=endpoint_url or service.endpoint_url, region_name=service.region,
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, **config))


def _raised(call) -> BaseException:
    with pytest.raises(AWS_EXCEPTIONS) as info:
        call()
    return info.value


def test_a_read_timeout_is_transient_and_unclear(pinpoint_env):
    pinpoint_env.set_faults("GetApps", latency=1.0)
    exc = _raised(lambda: _client(pinpoint_env, read_timeout=0.3).get_apps())
    err = translate(exc, "GetApps")
    assert isinstance(err, UnclearAnswer) and err.exit_code == 1 and "GetApps failed" in str(err)


def test_a_connection_closed_before_the_answer_is_transient_and_unclear(pinpoint_env):
    pinpoint_env.set_faults("GetApps", drop=1)
    err = translate(_raised(lambda: _client(pinpoint_env).get_apps()), "GetApps")
    assert isinstance(err, UnclearAnswer)


def test_a_500_is_unclear_while_a_429_and_a_refused_connection_are_clear_and_a_4xx_is_terminal(pinpoint_env):
    pinpoint_env.set_faults("GetApps", throttle=1, error500=1)
    client = _client(pinpoint_env)
    throttled = translate(_raised(client.get_apps), "GetApps")
    failed = translate(_raised(client.get_apps), "GetApps")
    assert isinstance(throttled, TransientError) and not isinstance(throttled, UnclearAnswer)
    assert isinstance(failed, UnclearAnswer)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: nothing listens there
    closed = _client(pinpoint_env, endpoint_url=f"http://127.0.0.1:{port}")
    refused = translate(_raised(closed.get_apps), "GetApps")
    assert isinstance(refused, TransientError) and not isinstance(refused, UnclearAnswer)
    missing = translate(_raised(lambda: client.get_app(ApplicationId="nope")), "GetApp")
    assert isinstance(missing, TerminalError) and missing.exit_code == 2


def test_a_500_on_create_multipart_upload_is_transient_not_a_missing_bucket(pinpoint_env, s3_client):
    pinpoint_env.set_faults("S3:CreateMultipartUpload", error500=10)
    with pytest.raises(TransientError) as info:
        with write.open_write(f"s3://{pinpoint_env.bucket}/t/x.csv", s3=s3_client) as fh:
            fh.write(b"Id\n1\n")
    assert "InternalError" in str(info.value) and "does not exist" not in str(info.value)
    assert info.value.exit_code == 1
