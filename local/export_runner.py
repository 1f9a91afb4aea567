"""Executes one export job: gzip-compressed NDJSON of EndpointResponse records into S3, streamed.

Objects are written to ``<S3UrlPrefix folder>/<job-id>/part-00000.gz``, ``part-00001.gz``, ...
(the prefix gets a trailing "/" if it lacks one), 1000 endpoints per file (fault knob
``records_per_file`` changes it). One piece per file; an app or segment with no endpoints
writes no file (TotalPieces 0, COMPLETED). The endpoints are those of the application (all
statuses, creation order), the members of an imported segment version (latest if SegmentVersion
is absent), or the endpoints a dimensional segment version selects, evaluated as the job reads
them. They are read from the store a chunk at a time while the job runs (an endpoint changed
meanwhile may appear either way); TotalPieces is counted at INITIALIZING and corrected at the end
if endpoints came or went. The role must be assumable by Pinpoint and allowed ``s3:PutObject`` on
each object written. Objects are stored under the bucket's default encryption, or SSE-S3 (AES256)
where the bucket has none: S3 encrypts every new object at least so since January 2023, and
CreateExportJob has no encryption setting of its own.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from pinpoint_etl.local import roles
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.jobs import Cancelled, Job, JobFailed
from pinpoint_etl.local.s3_store import S3Error, S3Problem, parse_s3_url

RECORDS_PER_FILE = 1000


def export_key(prefix: str, job_id: str, index: int) -> str:
    folder = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    return f"{folder}{job_id}/part-{index:05d}.gz"


def gzip_lines(lines: list[str]) -> Iterator[bytes]:
    """The gzip stream of ``lines`` (each an NDJSON record), produced a block at a time."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    block: list[bytes] = []
    size = 0
    for line in lines:
        data = (line + "\n").encode("utf-8")
        block.append(data)
        size += len(data)
        if size >= 1 << 20:
            yield compressor.compress(b"".join(block))
            block, size = [], 0
    yield compressor.compress(b"".join(block))
    yield compressor.flush()


class ExportRunner:
    """Runs one export job against the store of its service."""

    def __init__(self, job: Job, state: Any):
        self.job = job
        self.state = state
        self.app_id = job.application_id
        self.bucket = ""
        self.prefix = ""
        self.per_file = RECORDS_PER_FILE

    def _fail_job(self, reason: str) -> None:
        self.job.add_failure(f"{self.job.definition['S3UrlPrefix']}: {reason}")
        raise JobFailed

    def _source(self) -> Iterator[list[str]]:
        d = self.job.definition
        return self.state.segments.endpoints(self.app_id, d.get("SegmentId"), d.get("SegmentVersion"))

    def initialize(self) -> None:
        d = self.job.definition
        state = self.state
        self.bucket, self.prefix = parse_s3_url(d["S3UrlPrefix"])
        try:
            role = roles.get_role(state.account_id, state.region, d["RoleArn"])
            roles.check_assumable(role, account_id=state.account_id, source_arn=state.apps.arn(self.app_id),
                                  external_id=None)
            roles.require(role, "s3:PutObject",
                          f"arn:aws:s3:::{self.bucket}/{export_key(self.prefix, self.job.id, 0)}")
        except roles.RoleProblem as exc:
            self._fail_job(str(exc))
        self.role = role
        if not state.s3.bucket_exists(self.bucket):
            self._fail_job(f"bucket {self.bucket} does not exist")
        if d.get("SegmentId") and not state.segments.exists(self.app_id, d["SegmentId"]):
            self._fail_job(f"segment {d['SegmentId']} no longer exists")
        self.per_file = int(FAULTS.job_knob("ExportJob", "records_per_file", RECORDS_PER_FILE)) or RECORDS_PER_FILE
        count = state.segments.count_endpoints(self.app_id, d.get("SegmentId"), d.get("SegmentVersion"))
        with self.job.lock:
            self.job.total_pieces = -(-count // self.per_file)
        self._save()

    def _save(self) -> None:
        with self.state.db.write() as conn:
            self.job.save(conn)

    def _files(self) -> Iterator[list[str]]:
        pending: list[str] = []
        for chunk in self._source():
            pending += chunk
            while len(pending) >= self.per_file:
                yield pending[:self.per_file]
                pending = pending[self.per_file:]
        if pending:
            yield pending

    def process(self) -> None:
        fail_pieces = FAULTS.job_knob("ExportJob", "fail_pieces", 0)
        written = 0
        for index, records in enumerate(self._files()):
            if self.job.cancel.is_set():
                raise Cancelled
            written += 1
            key = export_key(self.prefix, self.job.id, index)
            url = f"s3://{self.bucket}/{key}"
            if index < fail_pieces:
                self.job.add_failure(f"{url}: injected fault (fail_pieces): the piece could not be written")
                self.job.update(failed_pieces=1)
            else:
                try:
                    headers = self.state.s3.sse_headers(self.bucket, {"content-type": "application/gzip"}, "AES256")
                    self.state.s3.put_object(self.bucket, key, gzip_lines(records), headers)
                    self.job.update(completed_pieces=1, total_processed=len(records))
                except (S3Error, S3Problem) as exc:
                    self.job.add_failure(f"{url}: {exc}")
                    self.job.update(failed_pieces=1)
            self._save()
        with self.job.lock:
            self.job.total_pieces = written

    def finish(self) -> None:
        """Nothing to do after the files are written."""
