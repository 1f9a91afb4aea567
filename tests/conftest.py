"""Session fixtures: one local Pinpoint-compatible service over HTTP, one Prefect test harness.

Environment for Prefect is set before anything imports it: PREFECT_HOME in a temp dir,
analytics off. AWS variables point boto3 at the local service.
"""

from __future__ import annotations

import os
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix="pinpoint-etl-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
# Never call the instance metadata service (a non-loopback address) and never reach real AWS from
# tests, whatever the developer's shell holds.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
from botocore.config import Config  # noqa: E402

from pinpoint_etl.local.server import LocalService, start_local_service  # noqa: E402


@pytest.fixture(scope="session")
def local_service() -> LocalService:
    """The local service, started once per session on a free loopback port."""
    service = start_local_service(port=0)
    old = {k: os.environ.get(k) for k in service.env()}
    os.environ.update(service.env())
    yield service
    service.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture()
def pinpoint_env(local_service: LocalService) -> LocalService:
    """The local service with its state reset (and reseeded) and no faults, for one test."""
    local_service.reset()
    return local_service


def _client(service: LocalService, name: str):
    return boto3.client(
        name,
        endpoint_url=service.endpoint_url,
        region_name=service.region,
        aws_access_key_id=service.access_key_id,
        aws_secret_access_key=service.secret_access_key,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture()
def pinpoint_client(pinpoint_env: LocalService):
    """A real boto3 ``pinpoint`` client talking HTTP to the local service (no retries)."""
    return _client(pinpoint_env, "pinpoint")


@pytest.fixture()
def s3_client(pinpoint_env: LocalService):
    """A real boto3 ``s3`` client talking HTTP to the local service."""
    return _client(pinpoint_env, "s3")


@pytest.fixture()
def iam_client(pinpoint_env: LocalService):
    """A real boto3 ``iam`` client talking HTTP to the local service."""
    return _client(pinpoint_env, "iam")


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test harness (ephemeral server) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
