"""Everything one running service holds: its store, credentials, job scheduler and seeding.

The access key pair is made the first time a data folder is used and kept in it
(``credentials.json``, mode 0600), so the exports ``local up`` printed stay valid after a restart;
the admin token is made anew at each start.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path
from typing import Any

from pinpoint_etl.local.apps import AppStore
from pinpoint_etl.local.db import Database
from pinpoint_etl.local.export_runner import ExportRunner
from pinpoint_etl.local.iam import IamService
from pinpoint_etl.local.import_runner import ImportRunner
from pinpoint_etl.local.jobs import Job, JobConfig, JobScheduler, Runner
from pinpoint_etl.local.s3_store import S3Store
from pinpoint_etl.local.segments import SegmentStore

APP_NAME = "pinpoint-etl-local"
BUCKET = "pinpoint-etl-local"
IMPORT_ROLE = "pinpoint-etl-import"
EXPORT_ROLE = "pinpoint-etl-export"
CREDENTIALS_FILE = "credentials.json"


def trust_policy(account_id: str, region: str) -> dict[str, Any]:
    """DG-iam-import / DG-iam-export trust policy, with the recommended SourceAccount/SourceArn conditions."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pinpoint.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:mobiletargeting:{region}:{account_id}:apps/*"},
        },
    }]}


# Same actions as AWS's AmazonS3ReadOnlyAccess.
IMPORT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
EXPORT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
     "Resource": "*"}]}


def _credentials(folder: Path) -> tuple[str, str]:
    path = folder / CREDENTIALS_FILE
    if path.exists():
        data = json.loads(path.read_text())
        return data["access_key_id"], data["secret_access_key"]
    alphabet = string.ascii_uppercase + string.digits
    access = "AKLOCAL" + "".join(secrets.choice(alphabet) for _ in range(13))
    secret = secrets.token_urlsafe(30)[:40]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"access_key_id": access, "secret_access_key": secret}, fh)
    return access, secret


class ServiceState:
    """The store and the moving parts of one service."""

    def __init__(self, folder: Path, *, durable: bool, account_id: str, region: str, config: JobConfig,
                 insecure: bool = False, cors_origins: tuple[str, ...] = ()):
        self.folder = folder
        self.account_id = account_id
        self.region = region
        self.insecure = insecure
        self.cors_origins = cors_origins
        self.caller_arn = f"arn:aws:iam::{account_id}:root"
        self.db = Database(folder, durable=durable)
        self.access_key_id, self.secret_access_key = _credentials(folder)
        self.admin_token = secrets.token_urlsafe(24)
        self.apps = AppStore(self.db, account_id, region)
        self.segments = SegmentStore(self.db, self.apps)
        self.s3 = S3Store(self.db, account_id, region)
        self.iam = IamService(self.db)
        self.scheduler = JobScheduler(self.db, config, self._runner)

    def _runner(self, job: Job) -> Runner:
        return ImportRunner(job, self) if job.kind == "IMPORT" else ExportRunner(job, self)

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{name}"

    def seed(self) -> dict[str, str]:
        """Create the application, bucket and roles if they are missing; the ids to use."""
        app_id = self.apps.find_by_name(APP_NAME) or self.apps.create(APP_NAME, {})["Id"]
        self.s3.create_bucket(BUCKET)
        for name, policy in ((IMPORT_ROLE, IMPORT_POLICY), (EXPORT_ROLE, EXPORT_POLICY)):
            status, _ = self.iam.call("GetRole", RoleName=name)
            if status.startswith("2"):
                continue
            self.iam.call("CreateRole", RoleName=name, Description="pinpoint-etl local service role",
                          AssumeRolePolicyDocument=json.dumps(trust_policy(self.account_id, self.region)))
            self.iam.call("PutRolePolicy", RoleName=name, PolicyName=f"{name}-s3", PolicyDocument=json.dumps(policy))
        return {"application_id": app_id, "bucket": BUCKET, "import_role_arn": self.role_arn(IMPORT_ROLE),
                "export_role_arn": self.role_arn(EXPORT_ROLE)}

    def open(self) -> dict[str, str]:
        """Bring a (possibly existing) store to life: IAM journal, orphan blobs, seed, unfinished jobs."""
        self.iam.replay()
        self.db.sweep_blobs()
        ids = self.seed()
        self.scheduler.resume()
        return ids

    def reset(self) -> dict[str, str]:
        """Forget everything and seed again."""
        from pinpoint_etl.local.faults import FAULTS

        self.scheduler.cancel_all()
        FAULTS.clear()
        self.db.clear()
        self.apps.forget()
        IamService.reset()
        return self.seed()

    def close(self) -> None:
        self.scheduler.cancel_all()
        self.db.close()
