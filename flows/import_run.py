"""The import run, stage by stage, independent of how it is driven (Prefect flow or CLI).

configure (fail fast) → stage (read, normalise, validate, write parts) → one import job per part
(at most N at once) → poll → report. Prefect and the console plug in through a ``Runtime``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pinpoint_etl.core.errors import ConfigError, JobTimeoutError, PipelineError
from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams
from pinpoint_etl.flows.runtime import Runtime
from pinpoint_etl.pinpoint import s3io
from pinpoint_etl.pinpoint.jobs import JobSnapshot, PollPolicy, create_import_job, find_import_job, poll_job, retry_transient
from pinpoint_etl.report.summary import PartOutcome, RunReport, import_report, now, validate_report
from pinpoint_etl.sources.locate import expand_sources
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging import ledger
from pinpoint_etl.staging.executors import resolve_runner
from pinpoint_etl.staging.prepare import Prepared, StagedPart, StageOptions, from_manifest, prepare
from pinpoint_etl.staging.run_id import derive_run_id
from pinpoint_etl.transforms.columns import load_mapping_file

if TYPE_CHECKING:
    from pinpoint_etl.pinpoint.clients import AwsClients

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


@dataclass
class Target:
    """A configured, checked destination: application, bucket, role and clients."""

    application_id: str
    bucket: str
    prefix: str
    role_arn: str
    clients: AwsClients
    label: str
    write_options: s3io.WriteOptions = field(default_factory=s3io.WriteOptions)


def stage_options(src: SourceParams, opts: ImportOptions | None = None) -> StageOptions:
    mapping = dict(load_mapping_file(src.mapping_file)) if src.mapping_file else {}
    mapping.update(src.mapping)
    return StageOptions(
        sources=list(src.sources),
        read=ReadOptions(delimiter=src.delimiter, encoding=src.encoding, format=src.format,
                         chunk_rows=src.chunk_rows),
        mapping=mapping, fold_unknown=src.fold_unknown, default_region=src.default_region,
        runner=src.runner, workers=src.workers, dask_address=src.dask_address,
        fmt=opts.staged_format if opts else "CSV",
        **({"max_part_bytes": opts.max_job_bytes} if opts else {}))


def configure_target(t: TargetParams, *, label: str | None = None) -> Target:
    """Resolve parameters and environment, create clients and check them — before any upload."""
    app = t.application_id or os.environ.get("PINPOINT_APPLICATION_ID")
    bucket = t.bucket or os.environ.get("PINPOINT_ETL_BUCKET")
    role = t.role_arn or os.environ.get("PINPOINT_IMPORT_ROLE_ARN")
    missing = [n for n, v in (("application id (--application-id / PINPOINT_APPLICATION_ID)", app),
                              ("bucket (--bucket / PINPOINT_ETL_BUCKET)", bucket),
                              ("import role ARN (--role-arn / PINPOINT_IMPORT_ROLE_ARN)", role)) if not v]
    if missing:
        raise ConfigError("missing " + ", ".join(missing))
    if not _ROLE_ARN.match(role):
        raise ConfigError(f"role ARN {role!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    if t.sse == "aws:kms" and not t.kms_key_id:
        raise ConfigError("sse aws:kms needs a KMS key id (--kms-key-id)")
    from pinpoint_etl.pinpoint.clients import check_application, make_clients  # boto3: not needed to validate locally

    clients = make_clients(region=t.region, credentials_block=t.credentials_block)
    s3io.check_bucket(clients.s3, bucket, t.expected_bucket_owner)
    check_application(clients.pinpoint, app)
    endpoint = clients.pinpoint.meta.endpoint_url
    return Target(application_id=app, bucket=bucket, prefix=t.prefix.strip("/"), role_arn=role, clients=clients,
                  label=label or f"Pinpoint at {endpoint} ({clients.region})",
                  write_options=s3io.WriteOptions(sse=t.sse, kms_key_id=t.kms_key_id,
                                                  expected_owner=t.expected_bucket_owner))


def run_id_for(src: SourceParams, opts: ImportOptions | None, target: Target | None, s3=None) -> str:
    sources = expand_sources(list(src.sources), s3_client=s3)
    params = {"source": src.model_dump(exclude={"sources", "chunk_rows", "runner", "workers", "dask_address"}),
              "import": opts.model_dump(exclude={"force", "keep_staged", "poll_initial_seconds",
                                                 "poll_max_seconds", "timeout_seconds"}) if opts else None,
              "app": target.application_id if target else None}
    return derive_run_id(sources, params, s3=s3)


def run_validate(src: SourceParams, out_dir: str, runtime: Runtime, *, staged_format: str = "CSV") -> RunReport:
    """Everything up to staging, into a local folder: no AWS, no Prefect server."""
    started = now()
    opts = stage_options(src, ImportOptions(staged_format=staged_format))
    run_id = run_id_for(src, None, None)
    runtime.log(f"run {run_id}: validating {len(src.sources)} source(s) into {out_dir}")
    out_base = os.path.abspath(out_dir)
    try:
        prepared = prepare(opts, run_id=run_id, out_base=out_base, progress=runtime.progress)
    except PipelineError as exc:
        raise exc.with_run(run_id) from None
    final = s3io.join(out_base, ledger.FINAL_NAME)
    os.replace(prepared.ledger_uri, final)  # no job follows: the staging ledger is the final one
    prepared.ledger_uri = final
    report = validate_report(prepared, started=started)
    report.ledger = {"uri": final, "counts": {"staged": prepared.rows_valid, "rejected": prepared.rows_rejected,
                                              "superseded": prepared.rows_superseded}}
    runtime.publish(report)
    return report


def import_part(target: Target, opts: ImportOptions, part: StagedPart, run_id: str, runtime: Runtime) -> PartOutcome:
    """Create (once) and poll the import job of one staged part; never raises for job problems."""
    pinpoint = target.clients.pinpoint
    last: list[JobSnapshot] = []

    def seen(snap: JobSnapshot) -> None:
        last[:] = [snap]
        runtime.job_update(run_id, part, snap)

    try:
        job, reused = _create_once(target, opts, part, run_id)
        if reused:
            runtime.job_reused(run_id, part, job)
        seen(job)
        policy = PollPolicy(initial=opts.poll_initial_seconds, max_interval=opts.poll_max_seconds,
                            timeout=opts.timeout_seconds)
        final = poll_job(pinpoint, target.application_id, job.id, "import", policy=policy, on_update=seen,
                         run_id=run_id)
        return PartOutcome(part=part, job=final)
    except JobTimeoutError as exc:
        snap = last[0] if last else None
        if snap is not None:
            snap.state = "timed_out"
        return PartOutcome(part=part, job=snap, error=str(exc))
    except PipelineError as exc:
        return PartOutcome(part=part, job=last[0] if last else None, error=str(exc.with_run(run_id)))


def _create_once(target: Target, opts: ImportOptions, part: StagedPart, run_id: str) -> tuple[JobSnapshot, bool]:
    """CreateImportJob, unless a job for this exact staged file exists already (a re-run of the same
    input, or a create that succeeded although its answer was lost): that job is reused (not with force).
    Returns the job and whether an earlier run had created it."""
    def existing() -> JobSnapshot | None:
        job = find_import_job(target.clients.pinpoint, target.application_id, part.uri)
        return job if job is not None and job.state != "failed" else None

    if not opts.force and (job := existing()) is not None:
        return job, True
    return retry_transient(lambda: create_import_job(
        target.clients.pinpoint, target.application_id, s3_url=part.uri, role_arn=target.role_arn,
        fmt=opts.staged_format, register_endpoints=opts.register_endpoints, define_segment=opts.define_segment,
        segment_name=opts.segment_name, segment_id=opts.segment_id, run_id=run_id), before_retry=existing), False


def run_import(src: SourceParams, target_params: TargetParams, opts: ImportOptions, runtime: Runtime,
               *, target: Target | None = None) -> RunReport:
    """The whole import: configure, stage to S3, one job per part (≤ N at once), poll, report."""
    started = now()
    if opts.define_segment and not opts.segment_name:
        raise ConfigError("define_segment needs a segment_name")
    target = target or configure_target(target_params)
    s3 = target.clients.s3
    run_id = run_id_for(src, opts, target, s3=s3)
    out_base = f"s3://{target.bucket}/{target.prefix}/{run_id}" if target.prefix else f"s3://{target.bucket}/{run_id}"
    runtime.log(f"run {run_id}: importing into application {target.application_id} via {target.label}; "
                f"staging under {out_base}/")
    earlier = None if opts.force else s3io.read_bytes(f"{out_base}/manifest.json", s3=s3)
    if earlier is not None:
        prepared: Prepared = from_manifest(json.loads(earlier), out_base)
        runtime.resumed(run_id)
    else:
        try:
            prepared = prepare(stage_options(src, opts), run_id=run_id, out_base=out_base, s3=s3,
                               write_options=target.write_options, progress=runtime.progress,
                               executor=runtime.chunk_executor(resolve_runner(src.runner, list(src.sources)),
                                                                src.workers, src.dask_address))
        except PipelineError as exc:
            raise exc.with_run(run_id) from None
    runtime.log(f"run {run_id}: staged {prepared.rows_valid} rows in {len(prepared.parts)} part(s); "
                f"{prepared.rows_rejected} rejected, {prepared.rows_superseded} superseded")
    outcomes = runtime.run_jobs(prepared.parts, lambda part: import_part(target, opts, part, run_id, runtime),
                                limit=opts.max_concurrent_jobs)
    report = import_report(prepared, outcomes, target=target.label, started=started)
    final = f"{out_base}/{ledger.FINAL_NAME}"
    counts = ledger.finalise(prepared.ledger_uri, final, outcomes, s3=s3, write_options=target.write_options)
    report.ledger = {"uri": final, "counts": dict(counts)}
    if report.status == "succeeded" and not opts.keep_staged and prepared.parts:
        s3io.delete_objects(s3, [p.uri for p in prepared.parts], expected_owner=target.write_options.expected_owner)
    s3io.write_bytes(f"{out_base}/report.json", report.to_json().encode(), s3=s3, options=target.write_options)
    runtime.publish(report)
    return report
