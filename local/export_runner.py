"""Executes one export job: gzip-compressed NDJSON of EndpointResponse records into S3.

Objects are written to ``<S3UrlPrefix folder>/<job-id>/part-00000.gz``, ``part-00001.gz``, ...
(the prefix gets a trailing "/" if it lacks one), 1000 endpoints per file (fault knob
``records_per_file`` changes it). One piece per file; an app or segment with no endpoints
writes no file (TotalPieces 0, COMPLETED). The endpoints are those of the application (all
statuses) or the static members of a segment version (latest if SegmentVersion is absent),
as they were when the job reached INITIALIZING. The role must be assumable by Pinpoint and
allowed ``s3:PutObject`` on each object written. Objects are stored under the bucket's default
encryption, or SSE-S3 (AES256) where the bucket has none: S3 encrypts every new object at least so
since January 2023, and CreateExportJob has no encryption setting of its own.
"""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from pinpoint_etl.local import roles, s3_store
from pinpoint_etl.local.backend import AppData, PinpointState
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.jobs import Cancelled, Job, JobFailed

RECORDS_PER_FILE = 1000


def export_key(prefix: str, job_id: str, index: int) -> str:
    folder = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    return f"{folder}{job_id}/part-{index:05d}.gz"


def write_encrypted(account_id: str, region: str, bucket: str, key: str, data: bytes) -> None:
    """Store one export file as S3 stores what Pinpoint writes (see module docstring)."""
    if not s3_store.bucket_exists(account_id, region, bucket):
        raise s3_store.S3Problem(f"bucket {bucket} does not exist")
    backend = s3_backends[account_id][get_partition(region)]
    backend.put_object(bucket, key, data, encryption=None if backend.get_bucket(bucket).encryption else "AES256")


def encode_ndjson_gz(endpoints: list[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in endpoints)
    return gzip.compress(lines.encode("utf-8"))


class ExportRunner:
    """Runs one export job against the state of its account and region."""

    def __init__(self, job: Job, state: PinpointState, app: AppData):
        self.job = job
        self.state = state
        self.app = app
        self.role: Any = None
        self.chunks: list[list[dict[str, Any]]] = []
        self.bucket = ""
        self.prefix = ""

    def _fail_job(self, reason: str) -> None:
        self.job.add_failure(f"{self.job.definition['S3UrlPrefix']}: {reason}")
        raise JobFailed

    def initialize(self) -> None:
        d = self.job.definition
        acct, region = self.state.account_id, self.state.region
        self.bucket, self.prefix = s3_store.parse_s3_url(d["S3UrlPrefix"])
        try:
            self.role = roles.get_role(acct, region, d["RoleArn"])
            roles.check_assumable(self.role, account_id=acct, source_arn=self.app.arn, external_id=None)
            roles.require(self.role, "s3:PutObject",
                          f"arn:aws:s3:::{self.bucket}/{export_key(self.prefix, self.job.id, 0)}")
        except roles.RoleProblem as exc:
            self._fail_job(str(exc))
        if not s3_store.bucket_exists(acct, region, self.bucket):
            self._fail_job(f"bucket {self.bucket} does not exist")
        with self.state.lock:
            if d.get("SegmentId"):
                segment = self.app.segments.get(d["SegmentId"])
                if segment is None:
                    self._fail_job(f"segment {d['SegmentId']} no longer exists")
                members = list(segment.version(d.get("SegmentVersion")).values())
            else:
                members = self.app.all_endpoints()
            endpoints = copy.deepcopy(members)
        size = int(FAULTS.job_knob("ExportJob", "records_per_file", RECORDS_PER_FILE)) or RECORDS_PER_FILE
        self.chunks = [endpoints[i:i + size] for i in range(0, len(endpoints), size)]
        with self.job.lock:
            self.job.total_pieces = len(self.chunks)

    def process(self) -> None:
        fail_pieces = FAULTS.job_knob("ExportJob", "fail_pieces", 0)
        for index, chunk in enumerate(self.chunks):
            if self.job.cancel.is_set():
                raise Cancelled
            key = export_key(self.prefix, self.job.id, index)
            url = f"s3://{self.bucket}/{key}"
            if index < fail_pieces:
                self.job.add_failure(f"{url}: injected fault (fail_pieces): the piece could not be written")
                self.job.update(failed_pieces=1)
                continue
            try:
                write_encrypted(self.state.account_id, self.state.region, self.bucket, key, encode_ndjson_gz(chunk))
            except s3_store.S3Problem as exc:
                self.job.add_failure(f"{url}: {exc}")
                self.job.update(failed_pieces=1)
                continue
            self.job.update(completed_pieces=1, total_processed=len(chunk))

    def finish(self) -> None:
        """Nothing to do after the files are written."""
