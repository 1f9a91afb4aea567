"""boto3 sessions and clients for Pinpoint and S3, with botocore's standard retry mode.

CreateImportJob goes through a second Pinpoint client that botocore never retries: a create whose
answer was lost must look for the job it may have made before it is sent again (``flows.import_run``).

The standard credential chain is used unless the name of a prefect-aws ``AwsCredentials``
block is given. Endpoints come from boto3's own ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_PINPOINT`` / ``AWS_ENDPOINT_URL_S3`` variables, so the same code talks
to AWS, the bundled local service or any other Pinpoint-compatible endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import boto3
from botocore.config import Config

from pinpoint_etl.core.errors import ConfigError

ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_PINPOINT", "AWS_ENDPOINT_URL_S3")


@dataclass
class AwsClients:
    """The clients a run uses, created once and passed in explicitly to every stage."""

    session: boto3.session.Session
    pinpoint: object
    s3: object
    region: str
    account_id: str | None = field(default=None)
    pinpoint_once: object = field(default=None)  # no botocore retries: for calls never to be re-sent blind

    def __post_init__(self):
        if self.pinpoint_once is None:
            self.pinpoint_once = self.pinpoint


def retry_config(max_attempts: int = 5, *, retries: bool = True) -> Config:
    """botocore's standard retry mode: 429/5xx/connection errors retried with jittered backoff, 4xx not.

    ``AWS_MAX_ATTEMPTS`` (boto3's own variable) overrides the number of attempts; ``retries=False``
    makes one attempt whatever it says. ``PINPOINT_ETL_READ_TIMEOUT`` (seconds) overrides the read timeout.
    """
    max_attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or max_attempts)
    read_timeout = float(os.environ.get("PINPOINT_ETL_READ_TIMEOUT") or 60)
    policy = {"max_attempts": max_attempts} if retries else {"total_max_attempts": 1}
    return Config(retries={"mode": "standard", **policy},
                  connect_timeout=10, read_timeout=read_timeout, max_pool_connections=16)


def make_session(*, region: str | None = None, credentials_block: str | None = None) -> boto3.session.Session:
    """A boto3 session from the standard chain, or from a prefect-aws AwsCredentials block."""
    if credentials_block:
        try:
            from prefect_aws import AwsCredentials

            creds = AwsCredentials.load(credentials_block)
        except Exception as exc:  # noqa: BLE001 - any failure here is a configuration problem
            raise ConfigError(f"cannot load AwsCredentials block {credentials_block!r}: "
                              f"{type(exc).__name__}") from None
        session = creds.get_boto3_session()
        if region and session.region_name != region:
            session = boto3.session.Session(botocore_session=session._session, region_name=region)
        return session
    return boto3.session.Session(region_name=region or os.environ.get("AWS_REGION")
                                 or os.environ.get("AWS_DEFAULT_REGION") or None)


def make_clients(*, region: str | None = None, credentials_block: str | None = None,
                 max_attempts: int = 5, check_credentials: bool = True) -> AwsClients:
    """Create the Pinpoint and S3 clients; fail with a ConfigError before any work if unusable."""
    session = make_session(region=region, credentials_block=credentials_block)
    if not session.region_name:
        raise ConfigError("no AWS region configured: pass --region or set AWS_REGION")
    if check_credentials and session.get_credentials() is None:
        raise ConfigError("no AWS credentials found: configure the standard AWS credential chain "
                          "(environment, profile, role) or pass the name of a prefect-aws AwsCredentials block")
    cfg = retry_config(max_attempts)
    return AwsClients(session=session, pinpoint=session.client("pinpoint", config=cfg),
                      s3=session.client("s3", config=cfg), region=session.region_name,
                      pinpoint_once=session.client("pinpoint", config=retry_config(retries=False)))


def aws_target_configured() -> bool:
    """True when the environment names an AWS target: an endpoint URL, an application id or credentials.

    Only the environment, profiles and credential files are consulted: this check never calls the
    instance metadata service (a run that wants instance credentials names its application id).
    """
    if any(os.environ.get(v) for v in (*ENDPOINT_VARS, "PINPOINT_APPLICATION_ID")):
        return True
    saved = os.environ.get("AWS_EC2_METADATA_DISABLED")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        return boto3.session.Session().get_credentials() is not None
    finally:
        if saved is None:
            os.environ.pop("AWS_EC2_METADATA_DISABLED", None)
        else:
            os.environ["AWS_EC2_METADATA_DISABLED"] = saved


def check_application(pinpoint, application_id: str) -> None:
    """GetApp: a ConfigError (or TransientError) before any work if the application is not reachable."""
    from pinpoint_etl.core.errors import TransientError
    from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, translate

    try:
        pinpoint.get_app(ApplicationId=application_id)
    except AWS_EXCEPTIONS as exc:
        err = translate(exc, f"GetApp {application_id}")
        if isinstance(err, TransientError):
            raise err from None
        raise ConfigError(f"Pinpoint application {application_id} is not reachable: {err.detail}") from None
