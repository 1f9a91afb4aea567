"""Start the local Pinpoint-compatible service (moto's server + ``local`` extensions).

``start_local_service()`` runs it in a background thread on a loopback port and seeds one
application, one bucket and two IAM roles; ``serve_forever()`` is the foreground variant used by
``pinpoint-etl local up``. moto's state is process-wide: a second service started in the same
process shares it (seeding reuses the existing app, bucket and roles).
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pinpoint_etl.local  # noqa: F401  (installs the Pinpoint extensions into moto)
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.jobs import SCHEDULER, JobConfig
from pinpoint_etl.local.middleware import LocalMiddleware

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
APP_NAME = "pinpoint-etl-local"
BUCKET = "pinpoint-etl-local"
IMPORT_ROLE = "pinpoint-etl-import"
EXPORT_ROLE = "pinpoint-etl-export"

# DG-iam-import / DG-iam-export trust policy, with the recommended SourceAccount/SourceArn conditions.
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pinpoint.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT_ID}:apps/*"},
        },
    }],
}
# Same actions as AWS's AmazonS3ReadOnlyAccess.
IMPORT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
EXPORT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
     "Resource": "*"}]}


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"refusing to bind {host!r}: the local service only listens on loopback "
                     "(127.0.0.0/8, ::1, localhost)")


@dataclass
class LocalService:
    """A running local service and the resources seeded in it."""

    endpoint_url: str
    region: str = REGION
    account_id: str = ACCOUNT_ID
    application_id: str = ""
    bucket: str = BUCKET
    import_role_arn: str = f"arn:aws:iam::{ACCOUNT_ID}:role/{IMPORT_ROLE}"
    export_role_arn: str = f"arn:aws:iam::{ACCOUNT_ID}:role/{EXPORT_ROLE}"
    _server: Any = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def env(self) -> dict[str, str]:
        """Environment variables that point AWS SDKs and CLIs at this service."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    # ------------------------------------------------------------------ admin calls

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.endpoint_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise ValueError(f"{method} {path} failed with {exc.code}: {detail}") from None
        return json.loads(body) if body.strip().startswith((b"{", b"[")) else body

    def set_faults(self, operation: str, **knobs: Any) -> None:
        """Set fault knobs of one operation (see ``local.faults``)."""
        self._call("POST", "/_local/faults", {"operation": operation, **knobs})

    def clear_faults(self) -> None:
        self._call("DELETE", "/_local/faults")

    def reset(self) -> None:
        """Clear all state (moto, Pinpoint additions, jobs, faults) and seed again."""
        self._call("POST", "/moto-api/reset")
        self.seed()

    def stop(self) -> None:
        SCHEDULER.cancel_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    # ------------------------------------------------------------------ seeding

    def _client(self, name: str) -> Any:
        if name not in self._clients:
            import boto3
            from botocore.config import Config

            self._clients[name] = boto3.client(
                name, endpoint_url=self.endpoint_url, region_name=self.region,
                aws_access_key_id="testing", aws_secret_access_key="testing",
                config=Config(retries={"mode": "standard", "max_attempts": 1}))
        return self._clients[name]

    def seed(self) -> None:
        """Create the application, bucket and roles (after a start or a reset); reuses existing ones."""
        pinpoint = self._client("pinpoint")
        apps = pinpoint.get_apps()["ApplicationsResponse"].get("Item", [])
        existing = [a["Id"] for a in apps if a["Name"] == APP_NAME]
        if existing:
            self.application_id = existing[0]
        else:
            app = pinpoint.create_app(CreateApplicationRequest={"Name": APP_NAME})
            self.application_id = app["ApplicationResponse"]["Id"]
        s3 = self._client("s3")
        if self.bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=self.bucket)
        iam = self._client("iam")
        for name, policy in ((IMPORT_ROLE, IMPORT_POLICY), (EXPORT_ROLE, EXPORT_POLICY)):
            try:
                role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
                                       Description="pinpoint-etl local service role")
            except iam.exceptions.EntityAlreadyExistsException:
                role = iam.get_role(RoleName=name)
            iam.put_role_policy(RoleName=name, PolicyName=f"{name}-s3", PolicyDocument=json.dumps(policy))
            if name == IMPORT_ROLE:
                self.import_role_arn = role["Role"]["Arn"]
            else:
                self.export_role_arn = role["Role"]["Arn"]


def start_local_service(port: int = 0, host: str = "127.0.0.1", *, max_concurrent_jobs: int | None = None,
                        seed: bool = True, state_delay: float | None = None,
                        quiet: bool = True) -> LocalService:
    """Start the service in a background thread on ``host:port`` (0 = a free port) and seed it.

    ``max_concurrent_jobs`` / ``state_delay`` default to ``PINPOINT_LOCAL_MAX_CONCURRENT_JOBS``
    / ``PINPOINT_LOCAL_STATE_DELAY`` or 2 / 0.2 s; ``PINPOINT_LOCAL_FAULTS`` (JSON) presets faults.
    ``quiet`` silences the per-request access log.
    """
    _check_loopback(host)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    SCHEDULER.configure(JobConfig.from_env(max_concurrent_jobs, state_delay))
    FAULTS.clear()
    if os.environ.get("PINPOINT_LOCAL_FAULTS"):
        FAULTS.load_json(os.environ["PINPOINT_LOCAL_FAULTS"])
    class QuietRequestHandler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if not quiet:
                super().log_request(code, size)

    bind = "127.0.0.1" if host == "localhost" else host
    app = LocalMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(bind, port, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="pinpoint-etl-local")
    thread.start()
    shown = f"[{bind}]" if ":" in bind else bind
    service = LocalService(endpoint_url=f"http://{shown}:{server.server_port}", _server=server, _thread=thread)
    if seed:
        service.seed()
    return service


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve_forever(port: int = 4566, host: str = "127.0.0.1", max_concurrent_jobs: int | None = None) -> None:
    """Run in the foreground: start, seed, print shell ``export`` lines, block until Ctrl-C or SIGTERM
    (``kill``, ``docker stop``); either stops the service cleanly."""
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops it even when started where SIGINT is ignored (a shell's background job, which
        # Python then leaves ignored)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
    service = start_local_service(port=port, host=host, max_concurrent_jobs=max_concurrent_jobs, quiet=False)
    try:
        exports = {
            **{k: v for k, v in service.env().items() if k != "AWS_REGION"},
            "PINPOINT_APPLICATION_ID": service.application_id,
            "PINPOINT_ETL_BUCKET": service.bucket,
            "PINPOINT_IMPORT_ROLE_ARN": service.import_role_arn,
            "PINPOINT_EXPORT_ROLE_ARN": service.export_role_arn,
        }
        for name, value in exports.items():
            print(f"export {name}={value}")
        sys.stdout.flush()
        print(f"# local Pinpoint service on {service.endpoint_url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        while True:
            # short sleeps: the kernel may hand the signal to a server thread, and Python acts on it
            # only once the main thread runs again (a long sleep was left to run for up to an hour)
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
