"""The service itself: seeding, env, loopback-only binding, reset, config, the foreground command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pinpoint_etl.local.server import start_local_service

REPO = Path(__file__).resolve().parents[2]


def test_env_points_sdks_at_the_service(pinpoint_env):
    env = pinpoint_env.env()
    assert env == {"AWS_ENDPOINT_URL": pinpoint_env.endpoint_url, "AWS_ACCESS_KEY_ID": pinpoint_env.access_key_id,
                   "AWS_SECRET_ACCESS_KEY": pinpoint_env.secret_access_key, "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1"}
    assert pinpoint_env.access_key_id.startswith("AKLOCAL") and len(pinpoint_env.secret_access_key) == 40
    assert pinpoint_env.endpoint_url.startswith("http://127.0.0.1:")


def test_seeded_app_bucket_and_roles(pinpoint_env, pinpoint_client, s3_client, iam_client):
    app = pinpoint_client.get_app(ApplicationId=pinpoint_env.application_id)["ApplicationResponse"]
    assert app["Id"] == pinpoint_env.application_id
    s3_client.head_bucket(Bucket=pinpoint_env.bucket)
    for arn in (pinpoint_env.import_role_arn, pinpoint_env.export_role_arn):
        role = iam_client.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
        assert role["Arn"] == arn
        trust = role["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert trust["Statement"][0]["Principal"] == {"Service": "pinpoint.amazonaws.com"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback_hosts(host):
    with pytest.raises(ValueError, match="only listens on loopback"):
        start_local_service(host=host)


def test_reset_clears_endpoints_jobs_segments_and_faults(pp):
    old_app = pp.app
    pp.batch([{"Id": "e1", "ChannelType": "EMAIL", "Address": "e1@example.com"}])
    pp.service.set_faults("GetEndpoint", throttle=5)
    pp.service.set_faults("ImportJob", state_delay=3600)
    pp.import_job(pp.put("r/a.csv", "Id,ChannelType,Address\nx,EMAIL,x@example.com\n"), wait=False)
    pp.service.reset()
    assert pp.service.application_id != old_app
    assert pp.admin("GET", "/_local/faults") == (200, {"faults": {}})
    assert pp.service._state.scheduler._threads == {}
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_app(ApplicationId=old_app)
    with pytest.raises(pp.client.exceptions.NotFoundException):
        pp.client.get_endpoint(ApplicationId=pp.service.application_id, EndpointId="e1")
    assert pp.client.get_import_jobs(ApplicationId=pp.service.application_id)["ImportJobsResponse"]["Item"] == []
    assert pp.s3.list_objects_v2(Bucket=pp.service.bucket)["KeyCount"] == 0


def test_config_route_and_reset_restores_it(pp):
    status, body = pp.admin("POST", "/_local/config", {"max_concurrent_jobs": 5, "state_delay": 0.01})
    assert (status, body) == (200, {"max_concurrent_jobs": 5, "state_delay": 0.01,
                                    "parse_process_bytes": 16 * 1024 * 1024})
    assert pp.admin("POST", "/_local/config", {"max_concurrent_jobs": 0})[0] == 400
    pp.service.reset()
    assert pp.admin("GET", "/_local/config") == (200, {"max_concurrent_jobs": 2, "state_delay": 0.2,
                                                       "parse_process_bytes": 16 * 1024 * 1024})


def test_admin_unknown_route_is_404(pp):
    assert pp.admin("GET", "/_local/nothing")[0] == 404
    assert pp.admin("GET", "/_local/health") == (200, {"status": "ok"})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_forever_prints_exports_and_stops_on_ctrl_c_or_sigterm(stop):
    port = _free_port()
    code = f"from pinpoint_etl.local.server import serve_forever; serve_forever(port={port})"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(9)]
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        assert exports["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
        assert exports["AWS_ACCESS_KEY_ID"].startswith("AKLOCAL") and len(exports["AWS_SECRET_ACCESS_KEY"]) == 40
        assert len(exports["PINPOINT_LOCAL_ADMIN_TOKEN"]) >= 32
        assert exports["AWS_DEFAULT_REGION"] == "us-east-1"
        assert len(exports["PINPOINT_APPLICATION_ID"]) == 32
        assert exports["PINPOINT_ETL_BUCKET"] == "pinpoint-etl-local"
        assert exports["PINPOINT_IMPORT_ROLE_ARN"].startswith("arn:aws:iam::123456789012:role/")
        assert exports["PINPOINT_EXPORT_ROLE_ARN"].startswith("arn:aws:iam::123456789012:role/")
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_localhost_binds_loopback_with_a_store_of_its_own(pinpoint_env):
    other = start_local_service(host="localhost")
    try:
        assert other.endpoint_url.startswith("http://127.0.0.1:")
        assert other.endpoint_url != pinpoint_env.endpoint_url
        assert other.application_id != pinpoint_env.application_id
        assert other.access_key_id != pinpoint_env.access_key_id
    finally:
        other.stop()
    assert not Path(other.data_dir).exists()  # a temporary store goes with the service
