"""Pinpoint import/export jobs: create, read, poll with backoff and jitter, and list with paging.

botocore ships no paginators for Pinpoint, so listing loops on ``NextToken`` here. Every
failure becomes a TerminalError or TransientError (storage.errors) naming the run and job. Waits
end at once when the run is told to stop (``pinpoint.stop``).
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal

from pinpoint_etl.core.errors import JobTimeoutError, TransientError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.storage.errors import AWS_EXCEPTIONS, translate
from pinpoint_etl.pinpoint.states import JobState, is_final, job_state
from pinpoint_etl.pinpoint.stop import pause

JobKind = Literal["import", "export"]


@dataclass
class JobSnapshot:
    """One reading of a job, in our vocabulary plus Pinpoint's counters."""

    id: str
    kind: JobKind
    pinpoint_status: str
    state: JobState
    total_pieces: int = 0
    completed_pieces: int = 0
    failed_pieces: int = 0
    total_processed: int = 0
    total_failures: int = 0
    failures: list[str] = field(default_factory=list)
    creation_date: str | None = None
    completion_date: str | None = None
    definition: dict = field(default_factory=dict)

    @classmethod
    def from_response(cls, resp: dict) -> "JobSnapshot":
        status = resp["JobStatus"]
        failures = int(resp.get("TotalFailures") or 0)
        return cls(
            id=resp["Id"], kind="export" if resp.get("Type") == "EXPORT" else "import",
            pinpoint_status=status, state=job_state(status, failures),
            total_pieces=int(resp.get("TotalPieces") or 0),
            completed_pieces=int(resp.get("CompletedPieces") or 0),
            failed_pieces=int(resp.get("FailedPieces") or 0),
            total_processed=int(resp.get("TotalProcessed") or 0),
            total_failures=failures,
            failures=[scrub(str(f)) for f in resp.get("Failures") or []],
            creation_date=resp.get("CreationDate"), completion_date=resp.get("CompletionDate"),
            definition=dict(resp.get("Definition") or {}),
        )

    def as_report(self) -> dict:
        """The job entry of the JSON report (DESIGN.md contract)."""
        return {"id": self.id, "status": self.state, "pinpoint_status": self.pinpoint_status,
                "total_pieces": self.total_pieces, "completed_pieces": self.completed_pieces,
                "failed_pieces": self.failed_pieces, "total_processed": self.total_processed,
                "total_failures": self.total_failures, "failures": self.failures,
                "s3_url": self.definition.get("S3Url") or self.definition.get("S3UrlPrefix"),
                "segment_id": self.definition.get("SegmentId"),
                "created": self.creation_date, "completed": self.completion_date}


@dataclass(frozen=True)
class PollPolicy:
    """Exponential backoff with full jitter between polls, and an overall deadline."""

    initial: float = 1.0
    factor: float = 1.6
    max_interval: float = 30.0
    timeout: float = 4 * 3600.0

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        rng = rng or random.Random()
        ceiling = self.initial
        while True:
            yield rng.uniform(ceiling / 2, ceiling)
            ceiling = min(ceiling * self.factor, self.max_interval)


def _call(what: str, fn: Callable[[], dict], **context) -> dict:
    try:
        return fn()
    except AWS_EXCEPTIONS as exc:
        raise translate(exc, what, **context) from None


def retry_transient(fn: Callable[[], "JobSnapshot"], *, attempts: int = 4, first_delay: float = 1.0,
                    before_retry: Callable[[], "JobSnapshot | None"] | None = None,
                    sleep: Callable[[float], None] = pause) -> "JobSnapshot":
    """Call ``fn``, retrying TransientErrors (that outlasted botocore's own retries) with doubling delays.

    ``before_retry`` may return a job that already exists (a create whose answer was lost); it is then
    returned instead of calling ``fn`` again, so a retried create never makes a duplicate job.
    """
    delay = first_delay
    for attempt in range(attempts):
        if attempt and before_retry is not None and (existing := before_retry()) is not None:
            return existing
        try:
            return fn()
        except TransientError:
            if attempt == attempts - 1:
                raise
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def create_import_job(pinpoint, application_id: str, *, s3_url: str, role_arn: str, fmt: str = "CSV",
                      register_endpoints: bool = True, define_segment: bool = False,
                      segment_name: str | None = None, segment_id: str | None = None,
                      run_id: str | None = None) -> JobSnapshot:
    """CreateImportJob for one staged file or prefix."""
    request = {"S3Url": s3_url, "RoleArn": role_arn, "Format": fmt, "RegisterEndpoints": register_endpoints}
    if define_segment:
        request["DefineSegment"] = True
        if segment_name:
            request["SegmentName"] = segment_name
    if segment_id:
        request["SegmentId"] = segment_id
    resp = _call(f"CreateImportJob for {s3_url}", lambda: pinpoint.create_import_job(
        ApplicationId=application_id, ImportJobRequest=request), run_id=run_id)
    return JobSnapshot.from_response(resp["ImportJobResponse"])


def create_export_job(pinpoint, application_id: str, *, s3_url_prefix: str, role_arn: str,
                      segment_id: str | None = None, segment_version: int | None = None,
                      run_id: str | None = None) -> JobSnapshot:
    """CreateExportJob of all endpoints, or of one segment (optionally one version)."""
    request: dict = {"S3UrlPrefix": s3_url_prefix, "RoleArn": role_arn}
    if segment_id:
        request["SegmentId"] = segment_id
        if segment_version is not None:
            request["SegmentVersion"] = segment_version
    resp = _call(f"CreateExportJob to {s3_url_prefix}", lambda: pinpoint.create_export_job(
        ApplicationId=application_id, ExportJobRequest=request), run_id=run_id)
    return JobSnapshot.from_response(resp["ExportJobResponse"])


def get_job(pinpoint, application_id: str, job_id: str, kind: JobKind, *, run_id: str | None = None) -> JobSnapshot:
    """GetImportJob / GetExportJob."""
    if kind == "import":
        resp = _call("GetImportJob", lambda: pinpoint.get_import_job(ApplicationId=application_id, JobId=job_id),
                     run_id=run_id, job_id=job_id)["ImportJobResponse"]
    else:
        resp = _call("GetExportJob", lambda: pinpoint.get_export_job(ApplicationId=application_id, JobId=job_id),
                     run_id=run_id, job_id=job_id)["ExportJobResponse"]
    return JobSnapshot.from_response(resp)


def poll_job(pinpoint, application_id: str, job_id: str, kind: JobKind, *, policy: PollPolicy = PollPolicy(),
             on_update: Callable[[JobSnapshot], None] | None = None, run_id: str | None = None,
             sleep: Callable[[float], None] = pause) -> JobSnapshot:
    """Poll until the job is final or ``policy.timeout`` passes (JobTimeoutError naming the job).

    Throttling and 5xx answers that outlast botocore's own retries are absorbed here: the poll
    simply waits longer, until the deadline.
    """
    deadline = time.monotonic() + policy.timeout
    last: JobSnapshot | None = None
    for delay in policy.delays():
        try:
            snap = get_job(pinpoint, application_id, job_id, kind, run_id=run_id)
        except TransientError:
            snap = None
        if snap is not None:
            if on_update and (last is None or snap != last):
                on_update(snap)
            last = snap
            if is_final(snap.state):
                return snap
        if time.monotonic() + delay > deadline:
            where = f"last status {last.pinpoint_status}" if last else "no status read"
            resume = (f"; re-run the same command to resume polling it (run {run_id} reuses the job)"
                      if run_id and kind == "import" else "")
            raise JobTimeoutError(f"{kind} job did not finish within {policy.timeout:g} s ({where}){resume}",
                                  run_id=run_id, job_id=job_id)
        sleep(delay)
    raise AssertionError("unreachable")


def list_jobs(pinpoint, application_id: str, kind: JobKind = "import", *, segment_id: str | None = None,
              limit: int | None = None, page_size: int = 50) -> Iterator[JobSnapshot]:
    """Every job of the application (or of a segment), following NextToken across pages."""
    token: str | None = None
    n = 0
    while True:
        kw = {"ApplicationId": application_id, "PageSize": str(page_size)}
        if token:
            kw["Token"] = token
        if kind == "import" and segment_id:
            resp = _call("GetSegmentImportJobs", lambda: pinpoint.get_segment_import_jobs(SegmentId=segment_id, **kw))
            body = resp["ImportJobsResponse"]
        elif kind == "import":
            body = _call("GetImportJobs", lambda: pinpoint.get_import_jobs(**kw))["ImportJobsResponse"]
        elif segment_id:
            body = _call("GetSegmentExportJobs",
                         lambda: pinpoint.get_segment_export_jobs(SegmentId=segment_id, **kw))["ExportJobsResponse"]
        else:
            body = _call("GetExportJobs", lambda: pinpoint.get_export_jobs(**kw))["ExportJobsResponse"]
        for item in body.get("Item", []):
            yield JobSnapshot.from_response(item)
            n += 1
            if limit is not None and n >= limit:
                return
        token = body.get("NextToken")
        if not token:
            return


def find_created_job(pinpoint, application_id: str, s3_url: str, *, since: float,
                     exclude: frozenset[str] = frozenset()) -> JobSnapshot | None:
    """The import job for ``s3_url`` created at ``since`` (epoch seconds) or later, not in ``exclude``.

    For a create whose answer was lost: every page of GetImportJobs is read (Pinpoint documents no
    order), allowing the service's clock ten minutes either way.
    """
    found = None
    for job in list_jobs(pinpoint, application_id, "import", page_size=100):
        if job.definition.get("S3Url") != s3_url or job.id in exclude:
            continue
        created = _epoch(job.creation_date)
        if created is not None and created < since - 600:
            continue
        if found is None or (_epoch(job.creation_date) or 0) > (_epoch(found.creation_date) or 0):
            found = job
    return found


def _epoch(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else None
    except ValueError:
        return None
