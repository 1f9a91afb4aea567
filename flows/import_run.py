"""The import run, stage by stage, independent of how it is driven (Prefect flow or CLI).

configure (fail fast) → claim the run id → stage (read, normalise, validate, write parts) → one
import job per part (at most N at once; never two: ``jobs.json`` and the claim, see below) → poll →
ledger → report. Prefect and the console plug in through a ``Runtime``.

Exactly one job per part: a run holds its run id's claim (``pinpoint.claims``) while it stages and
creates jobs, so a second identical run waits for the first and then reuses its staging and jobs;
each job id goes to ``jobs.json`` as soon as CreateImportJob answers, and a re-run reads it. The
create itself is never re-sent blind: after an unclear answer (5xx, read timeout, closed connection)
the run looks for the job it may have made, and so does a run that is not its run id's first one
before creating a job ``jobs.json`` does not know.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pinpoint_etl.core.errors import ConfigError, JobTimeoutError, PipelineError, TerminalError
from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams
from pinpoint_etl.flows.runtime import Runtime
from pinpoint_etl.storage import objects, uris, write
from pinpoint_etl.pinpoint.claims import RunClaim
from pinpoint_etl.storage.errors import UnclearAnswer
from pinpoint_etl.pinpoint.jobbook import JobBook
from pinpoint_etl.pinpoint.jobs import (
    JobSnapshot,
    PollPolicy,
    create_import_job,
    find_created_job,
    get_job,
    poll_job,
    retry_transient,
)
from pinpoint_etl.report.outcomes import RunCounts
from pinpoint_etl.report.summary import PartOutcome, RunReport, import_report, now, validate_report
from pinpoint_etl.sources.locate import expand_sources
from pinpoint_etl.sources.options import ReadOptions
from pinpoint_etl.staging import ledger
from pinpoint_etl.staging.executors import resolve_runner
from pinpoint_etl.staging.prepare import (
    Prepared,
    StagedPart,
    StageOptions,
    check_all_columns,
    from_manifest,
    prepare,
)
from pinpoint_etl.staging.run_id import derive_run_id
from pinpoint_etl.staging.thresholds import nothing_valid, threshold_breach
from pinpoint_etl.transforms.columns import load_mapping_file
from pinpoint_etl.transforms.spec import is_spec, parse_spec, read_mapping_file

if TYPE_CHECKING:
    from pinpoint_etl.pinpoint.clients import AwsClients

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class Interrupted(TerminalError):
    """Ctrl-C or SIGTERM: the run stopped at once; the message says how to resume it."""


@dataclass
class Target:
    """A configured, checked destination: application, bucket, role and clients."""

    application_id: str
    bucket: str
    prefix: str
    role_arn: str
    clients: AwsClients
    label: str
    write_options: write.WriteOptions = field(default_factory=write.WriteOptions)


def stage_options(src: SourceParams, opts: ImportOptions | None = None) -> StageOptions:
    spec, mapping = src.mapping_spec, {}
    if src.mapping_file:
        data = read_mapping_file(src.mapping_file)
        if not is_spec(data):
            mapping = dict(load_mapping_file(src.mapping_file))
        elif spec is not None:
            raise ConfigError("two mapping specs: give mapping_spec or a spec in --mapping-file, not both")
        else:
            spec = parse_spec(data, src.mapping_file)
    mapping.update(src.mapping)
    if spec is not None and (mapping or src.fold_unknown):
        raise ConfigError("--map and --fold-unknown do not apply with a mapping spec: use its fields, "
                          "and list columns it does not use under ignore:")
    return StageOptions(
        sources=list(src.sources),
        read=ReadOptions(delimiter=src.delimiter, encoding=src.encoding, format=src.format,
                         chunk_rows=src.chunk_rows, on_malformed=src.on_malformed),
        mapping=mapping, fold_unknown=src.fold_unknown, default_region=src.default_region, spec=spec,
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
    objects.check_bucket(clients.s3, bucket, t.expected_bucket_owner)
    check_application(clients.pinpoint, app)
    endpoint = clients.pinpoint.meta.endpoint_url
    return Target(application_id=app, bucket=bucket, prefix=t.prefix.strip("/"), role_arn=role, clients=clients,
                  label=label or f"Pinpoint at {endpoint} ({clients.region})",
                  write_options=write.WriteOptions(sse=t.sse, kms_key_id=t.kms_key_id,
                                                  expected_owner=t.expected_bucket_owner))


def run_id_for(src: SourceParams, opts: ImportOptions | None, target: Target | None, s3=None) -> str:
    sources = expand_sources(list(src.sources), s3_client=s3)
    source = src.model_dump(exclude={"sources", "chunk_rows", "runner", "workers", "dask_address", "mapping_spec",
                                     "on_malformed", "max_rejects", "max_reject_ratio"})
    if src.on_malformed != "reject":  # parameters added later join the id only when they change the outcome
        source["on_malformed"] = src.on_malformed
    if (spec := stage_options(src).spec) is not None:  # the spec's content, also when read from a file
        source["mapping_spec"] = spec.model_dump()
    params = {"source": source,
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
    except KeyboardInterrupt:
        raise Interrupted("interrupted while validating; nothing was written: re-run the same command",
                          run_id=run_id) from None
    final = uris.join(out_base, ledger.FINAL_NAME)
    os.replace(prepared.ledger_uri, final)  # no job follows: the staging ledger is the final one
    prepared.ledger_uri = final
    counts = RunCounts.from_ledger(prepared.ledger_counts, 0, rows_read=prepared.rows_read)
    report = validate_report(prepared, counts, started=started)
    if reason := threshold_breach(prepared, src.max_rejects, src.max_reject_ratio) or nothing_valid(prepared):
        report.status, report.errors = "failed", [reason]
    report.ledger = {"uri": final, "counts": dict(prepared.ledger_counts)}
    runtime.publish(report)
    return report


@dataclass
class _Jobs:
    """What the job of each part is decided from: the run's jobs.json and claim."""

    book: JobBook
    claim_number: int
    look_first: bool  # not the run id's first claim: a job jobs.json does not know may exist


def import_part(target: Target, opts: ImportOptions, part: StagedPart, run_id: str, runtime: Runtime,
                jobs: _Jobs) -> PartOutcome:
    """The import job of one staged part — the one jobs.json names, or one created once — polled to
    its end; never raises for job problems."""
    pinpoint = target.clients.pinpoint
    last: list[JobSnapshot] = []

    def seen(snap: JobSnapshot) -> None:
        last[:] = [snap]
        runtime.job_update(run_id, part, snap)

    try:
        job = _job_of(target, opts, part, run_id, runtime, jobs)
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


def _job_of(target: Target, opts: ImportOptions, part: StagedPart, run_id: str, runtime: Runtime,
            jobs: _Jobs) -> JobSnapshot:
    """The part's job from jobs.json unless it FAILED; else one found (made by a create whose answer was
    lost); else a new one."""
    pinpoint, app = target.clients.pinpoint, target.application_id
    known = jobs.book.job_id(part.uri)
    if known is not None:
        snap = retry_transient(lambda: get_job(pinpoint, app, known, "import", run_id=run_id))
        if snap.state != "failed":
            runtime.job_reused(run_id, part, snap)  # named in jobs.json by an earlier run (or a waited-for one)
            return snap
        runtime.log(f"run {run_id}: job {known} for {part.uri} failed earlier: creating a new one")
    elif jobs.look_first and (found := _find(target, part, run_id, jobs)) is not None:
        runtime.log(f"run {run_id}: found job {found.id} for {part.uri}, created by an earlier attempt "
                    "whose answer was lost")
        runtime.job_reused(run_id, part, found)
        return _record(found, part, run_id, runtime, jobs)
    return _create_once(target, opts, part, run_id, runtime, jobs)


def _find(target: Target, part: StagedPart, run_id: str, jobs: _Jobs) -> JobSnapshot | None:
    return retry_transient(lambda: find_created_job(target.clients.pinpoint, target.application_id, part.uri,
                                                    since=0.0, exclude=jobs.book.known()))


def _record(job: JobSnapshot, part: StagedPart, run_id: str, runtime: Runtime, jobs: _Jobs) -> JobSnapshot:
    try:
        jobs.book.record(part.uri, job.id, claim=jobs.claim_number)
    except PipelineError as exc:  # the job exists all the same; a re-run finds it (see _job_of)
        runtime.log(f"run {run_id}: could not write jobs.json ({exc.detail}); following job {job.id} anyway")
    return job


def _create_once(target: Target, opts: ImportOptions, part: StagedPart, run_id: str, runtime: Runtime,
                 jobs: _Jobs) -> JobSnapshot:
    """CreateImportJob, never re-sent blind: botocore does not retry it (``clients.pinpoint_once``), and
    after an unclear answer the job is looked for before another create (and after the last one)."""
    unclear = [False]

    def create() -> JobSnapshot:
        try:
            job = create_import_job(
                target.clients.pinpoint_once, target.application_id, s3_url=part.uri, role_arn=target.role_arn,
                fmt=opts.staged_format, register_endpoints=opts.register_endpoints,
                define_segment=opts.define_segment, segment_name=opts.segment_name, segment_id=opts.segment_id,
                run_id=run_id)
        except UnclearAnswer as exc:
            unclear[0] = True
            runtime.log(f"run {run_id}: CreateImportJob for {part.uri} got no clear answer ({exc.detail}); "
                        "looking for the job before creating one")
            raise
        return _record(job, part, run_id, runtime, jobs)

    def made() -> JobSnapshot | None:
        if not unclear[0]:
            return None
        unclear[0] = False
        if (found := _find(target, part, run_id, jobs)) is not None:
            runtime.log(f"run {run_id}: job {found.id} for {part.uri} was created: following it")
            return _record(found, part, run_id, runtime, jobs)
        return None

    try:
        return retry_transient(create, before_retry=made)
    except UnclearAnswer:
        if (found := made()) is not None:
            return found
        raise


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
    stage_opts = stage_options(src, opts)
    try:  # bad columns fail before anything is written, the claim included
        check_all_columns(StageOptions(**{**stage_opts.__dict__, "sources": expand_sources(src.sources, s3_client=s3)}),
                          {"client": s3})
    except PipelineError as exc:
        raise exc.with_run(run_id) from None
    claim = RunClaim(out_base, s3=s3, options=target.write_options)
    phase = ["waiting for another process running it"]  # and whether anything was staged: see release
    try:
        held = claim.acquire(on_wait=lambda other: runtime.log(
            f"run {run_id}: another process is running this run ({other.describe()}); waiting for it to end, "
            "then reusing what it staged and the jobs it created"))
        if held.waited_for is not None:
            runtime.log(f"run {run_id}: the other process has ended; going on from its staging and jobs")
        if held.took_over_from is not None:
            runtime.log(f"run {run_id}: taking over from a run that stopped ({held.took_over_from.describe()})")
        return _claimed_run(src, opts, runtime, target, run_id, out_base, held.claim.number, started, phase)
    except KeyboardInterrupt:
        jobs_go_on = " (its import jobs go on in Pinpoint and are followed again)" if phase[0] == "polling" else ""
        raise Interrupted(f"interrupted while {phase[0]}; re-run the same command to resume{jobs_go_on}",
                          run_id=run_id) from None
    finally:
        claim.release(keep=phase[0] != "staging")


def _claimed_run(src: SourceParams, opts: ImportOptions, runtime: Runtime, target: Target, run_id: str,
                 out_base: str, claim_number: int, started: str, phase: list[str]) -> RunReport:
    s3, owner = target.clients.s3, target.write_options.expected_owner
    left = objects.abort_uploads(s3, f"{out_base}/", expected_owner=owner)  # we hold the claim: nobody else writes
    if left:
        runtime.log(f"run {run_id}: aborted {left} unfinished upload(s) left by a run that stopped")
    phase[0] = "staging"
    if opts.force:  # the earlier staging stops counting as complete before any of its files is overwritten
        objects.delete_objects(s3, [f"{out_base}/manifest.json"], expected_owner=owner)
    earlier = None if opts.force else objects.read_bytes(f"{out_base}/manifest.json", s3=s3)
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
    phase[0] = "starting the import jobs"
    runtime.log(f"run {run_id}: staged {prepared.rows_valid} rows in {len(prepared.parts)} part(s); "
                f"{prepared.rows_rejected} rejected, {prepared.rows_superseded} superseded")
    book = JobBook.load(out_base, run_id, s3=s3, options=target.write_options)
    if opts.force and book.parts:
        book.forget_all()
    jobs = _Jobs(book=book, claim_number=claim_number, look_first=claim_number > 1)
    breach = threshold_breach(prepared, src.max_rejects, src.max_reject_ratio)
    if breach:  # no import job at all: the staged rows count as failed, with the reason
        runtime.log(f"run {run_id}: {breach}")
        outcomes = [PartOutcome(part=p, error=f"not imported: {breach}") for p in prepared.parts]
    else:
        phase[0] = "polling"
        outcomes = runtime.run_jobs(prepared.parts,
                                    lambda part: import_part(target, opts, part, run_id, runtime, jobs),
                                    limit=opts.max_concurrent_jobs)
    phase[0] = "writing the ledger"
    final = f"{out_base}/{ledger.FINAL_NAME}"
    try:
        counts = ledger.finalise(prepared.ledger_uri, final, outcomes, rows_read=prepared.rows_read, s3=s3,
                                 write_options=target.write_options)
    except PipelineError as exc:
        raise exc.with_run(run_id) from None
    report = import_report(prepared, outcomes, counts, target=target.label, started=started)
    if reason := breach or nothing_valid(prepared):
        report.status, report.errors = "failed", [reason]
    report.ledger = {"uri": final, "counts": dict(counts.fates)}
    if report.status == "succeeded" and not opts.keep_staged and prepared.parts:
        try:
            objects.delete_objects(s3, [p.uri for p in prepared.parts], expected_owner=owner)
        except PipelineError as exc:  # every row's fate is known: the run stands, the leftovers are reported
            report.warnings.append(f"the staged import files were not deleted: {exc.detail}")
    write.write_bytes(f"{out_base}/report.json", report.to_json().encode(), s3=s3, options=target.write_options)
    runtime.publish(report)
    return report
