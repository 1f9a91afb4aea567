"""The export job and Pinpoint's raw files: create, poll, list, check their encryption, delete them.

CreateExportJob takes no encryption setting: Pinpoint writes its ``.gz`` files under the bucket's
default encryption (on AWS every bucket has one, SSE-S3 at least; SSE-KMS where the bucket's default
names a key the export role may use). So the run asks for encryption the only way the API allows — the
bucket's default — and checks what it got: every raw file's server-side encryption is read back and
reported, and a file stored unencrypted is a warning. The raw files hold customer data: once the output
is written (or the job has failed) they are deleted unless ``keep_raw``; they are kept, with a warning,
when some of their lines could not be read (the output lacks those) or when the job may still be writing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinpoint_etl.core.errors import JobTimeoutError, PipelineError, TransientError
from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.export.report import ExportReport
from pinpoint_etl.storage import objects
from pinpoint_etl.pinpoint.jobs import JobSnapshot, PollPolicy, create_export_job, poll_job, retry_transient


@dataclass
class JobResult:
    """The latest reading of the job (None if none was created) and its final one (None if it has none)."""

    last: JobSnapshot | None
    final: JobSnapshot | None
    error: str | None = None


def run_job(target, opts: ExportOptions, prefix_uri: str, run_id: str,
            on_update: Callable[[JobSnapshot], None]) -> JobResult:
    """CreateExportJob into ``prefix_uri`` and poll it to its end (a timeout or transient failure is kept,
    not raised: the job may exist and the report names it)."""
    seen: list[JobSnapshot] = []

    def update(snap: JobSnapshot) -> None:
        seen[:] = [snap]
        on_update(snap)

    try:
        job = retry_transient(lambda: create_export_job(
            target.clients.pinpoint, target.application_id, s3_url_prefix=prefix_uri, role_arn=target.role_arn,
            segment_id=opts.segment_id, segment_version=opts.segment_version, run_id=run_id), attempts=3)
        update(job)
        policy = PollPolicy(initial=opts.poll_initial_seconds, max_interval=opts.poll_max_seconds,
                            timeout=opts.timeout_seconds)
        final = poll_job(target.clients.pinpoint, target.application_id, job.id, "export", policy=policy,
                         on_update=update, run_id=run_id)
        return JobResult(seen[-1], final)
    except JobTimeoutError as exc:
        if seen:
            seen[-1].state = "timed_out"
        return JobResult(seen[-1] if seen else None, None, str(exc))
    except TransientError as exc:
        return JobResult(seen[-1] if seen else None, None, str(exc.with_run(run_id)))


def raw_files(target, prefix_uri: str) -> list[dict]:
    """Pinpoint's ``.gz`` files under the job's prefix, in key order: ``{uri, bytes, sse}``."""
    s3, owner = target.clients.s3, target.write_options.expected_owner
    found = sorted(objects.list_objects(s3, prefix_uri, suffix=".gz", expected_owner=owner), key=lambda o: o["key"])
    return [{"uri": o["uri"], "bytes": o["size"],
             "sse": objects.object_encryption(s3, o["uri"], expected_owner=owner)} for o in found]


def check_encryption(report: ExportReport, files: list[dict], bucket: str) -> None:
    plain = [f["uri"] for f in files if not f["sse"]]
    if plain:
        report.warn(f"run {report.run_id}: {len(plain)} raw export file(s) under {report.export_prefix} are stored "
                    f"without server-side encryption: give bucket {bucket} a default encryption (Pinpoint's "
                    f"export takes no encryption setting)")


def clean_up(target, report: ExportReport, job: JobResult, opts: ExportOptions) -> None:
    """Delete the raw files once they are of no more use, or say why they stay."""
    if opts.keep_raw:
        report.raw_kept = bool(report.exported)
        return
    if job.final is None:
        if job.last is not None:
            report.warn(f"run {report.run_id}: job {job.last.id} did not finish; files it writes later under "
                        f"{report.export_prefix} are not deleted by this run")
        return
    if report.lines_unreadable:
        report.raw_kept = bool(report.exported)
        report.warn(f"run {report.run_id}: the raw export files under {report.export_prefix} are kept: "
                    f"{report.lines_unreadable} of their line(s) could not be written to the output; delete "
                    f"them once looked at")
        return
    s3, owner = target.clients.s3, target.write_options.expected_owner
    try:
        uris = [f["uri"] for f in report.exported] or [  # else a failed job's pieces, if any
            o["uri"] for o in objects.list_objects(s3, report.export_prefix, suffix=".gz", expected_owner=owner)]
        if uris:
            objects.delete_objects(s3, uris, expected_owner=owner)
    except PipelineError as exc:
        report.raw_kept = True
        report.warn(f"run {report.run_id}: could not delete the raw export files under {report.export_prefix}: "
                    f"{exc}")
