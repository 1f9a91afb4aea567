"""The ``pinpoint-etl`` command line: import, validate, local up, serve.

Exit codes (DESIGN.md): 0 success; 1 the run finished but rows failed or a job failed;
2 bad usage, configuration or unreadable input, and a run stopped by Ctrl-C or SIGTERM. Errors
are one line on stderr (also with ``-q``), never a traceback (``--debug`` shows one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams, default

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Bulk import/export of Amazon Pinpoint endpoints, with a bundled local Pinpoint-compatible "
                       "service.")
local_app = typer.Typer(no_args_is_help=True, help="The bundled local Pinpoint-compatible service.")
app.add_typer(local_app, name="local")

err = Console(stderr=True)
_DEBUG = {"on": False}
_DONE = {"validate": False}  # a validate run finished: every file closed, workers and temporary files gone


def _fail(message: str, code: int) -> None:
    err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def _guard(fn, *args, **kwargs):
    """Run ``fn`` turning pipeline errors into one-line messages and exit codes."""
    from pinpoint_etl.core.errors import PipelineError
    from pinpoint_etl.core.masking import scrub

    try:
        return fn(*args, **kwargs)
    except PipelineError as exc:
        if _DEBUG["on"]:
            raise
        _fail(scrub(str(exc)), exc.exit_code)
    except KeyboardInterrupt:  # before a run id is known (a run names itself: flows.import_run.Interrupted)
        _fail("interrupted; re-run the same command to start again", 2)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # noqa: BLE001 - last resort: one line, not a traceback
        if _DEBUG["on"]:
            raise
        _fail(scrub(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)"), 2)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop a run at once (every wait ends: ``pinpoint.stop``); it exits 2 with one
    line naming the run and how to resume it."""
    import signal

    from pinpoint_etl.pinpoint.stop import STOP

    def stop(signum, frame):
        STOP.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _report_problem(rep) -> None:
    """A run that did not succeed says why in one line on stderr, with or without ``-q``."""
    if (line := rep.problem_line()) is not None:
        err.print(f"error: {line}", highlight=False, markup=False, soft_wrap=True)


def _mapping(maps: list[str] | None) -> dict[str, str]:
    from pinpoint_etl.transforms.columns import parse_map_options

    return parse_map_options(maps or [])


def _write_report(report, path: Optional[Path]) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.to_json(), encoding="utf-8")


def _start_workers_early(runner: str, sources: List[str]) -> None:
    """Start the warm worker processes now when the run will use them: they warm up while this
    process imports and reads."""
    from pinpoint_etl.staging.executors import process_context, resolve_runner

    if resolve_runner(runner, list(sources)) == "processes":
        process_context(start=True)


def _source_params(sources, delimiter, encoding, fmt, maps, mapping_file, fold_unknown, default_region, chunk_rows,
                   runner="auto", workers=2, dask_address=None, on_malformed="reject", max_rejects=None,
                   max_reject_ratio=None):
    from pydantic import ValidationError

    from pinpoint_etl.core.errors import ConfigError
    from pinpoint_etl.flows.params import SourceParams

    try:
        return SourceParams(sources=sources, delimiter=delimiter, encoding=encoding, format=fmt,
                            mapping=_mapping(maps), mapping_file=mapping_file,
                            fold_unknown=fold_unknown, default_region=default_region, chunk_rows=chunk_rows,
                            runner=runner, workers=workers, dask_address=dask_address, on_malformed=on_malformed,
                            max_rejects=max_rejects, max_reject_ratio=max_reject_ratio)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"option {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@app.callback()
def main_options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors.")):
    _DEBUG["on"] = debug


SOURCES = typer.Argument(..., help="Local paths, globs, s3:// URIs or prefixes, http(s):// URLs (.gz/.bz2/.zst ok).")
DELIM = typer.Option(default(SourceParams, "delimiter"), "--delimiter", "-d", help="CSV delimiter.")
ENC = typer.Option(default(SourceParams, "encoding"), "--encoding", help="Source text encoding (UTF-8 with or without BOM by default).")
FMT = typer.Option(default(SourceParams, "format"), "--format", help="auto (by extension), csv, json or ndjson.")
MAP = typer.Option(None, "--map", help="Column mapping SRC=DST (repeatable); SRC=- drops a column.")
MAPFILE = typer.Option(None, "--mapping-file", help="A mapping spec (YAML/JSON: endpoints, fields; draft one with "
                       "'pinpoint-etl map init SOURCE'), or a JSON file {source column: Pinpoint name}.")
MALFORMED = typer.Option(default(SourceParams, "on_malformed"), "--on-malformed", help="A record that is not CSV/JSON (ragged row, broken line): "
                         "reject (and read on) or fail.")
MAX_REJECTS = typer.Option(None, "--max-rejects", help="Fail the run before any import job when more rows are rejected.")
MAX_RATIO = typer.Option(None, "--max-reject-ratio", help="Fail the run before any import job when more than this share "
                         "of the rows read is rejected (0.05 = 5 %).")
FOLD = typer.Option(default(SourceParams, "fold_unknown"), "--fold-unknown", help="Fold unknown columns into Attributes.<name> instead of failing.")
REGION_DEFAULT = typer.Option(None, "--default-region", help="Country (ISO alpha-2) for national phone numbers.")
CHUNK = typer.Option(default(SourceParams, "chunk_rows"), "--chunk-rows", help="Rows per chunk; bounds memory.")
REPORT = typer.Option(None, "--report", help="Write the JSON run report to this file.")
RUNNER = typer.Option(default(SourceParams, "runner"), "--runner", help="Where chunks are processed: auto (processes from 32 MB of input, "
                      "else threads), processes, threads or dask.")
WORKERS = typer.Option(default(SourceParams, "workers"), "--workers", help="Worker processes, threads, or Dask LocalCluster workers.")
DASK = typer.Option(None, "--dask-address", help="Existing Dask scheduler address (instead of a LocalCluster).")


@app.command("validate")
def validate_cmd(
    sources: List[str] = SOURCES,
    out: Path = typer.Option(..., "--out", help="Folder for the import-ready files, rejects and manifest."),
    delimiter: str = DELIM, encoding: str = ENC, fmt: str = FMT, maps: Optional[List[str]] = MAP,
    mapping_file: Optional[str] = MAPFILE, fold_unknown: bool = FOLD, default_region: Optional[str] = REGION_DEFAULT,
    chunk_rows: int = CHUNK, runner: str = RUNNER, workers: int = WORKERS, dask_address: Optional[str] = DASK,
    on_malformed: str = MALFORMED, max_rejects: Optional[int] = MAX_REJECTS, max_reject_ratio: Optional[float] = MAX_RATIO,
    staged_format: str = typer.Option(default(ImportOptions, "staged_format"), "--staged-format", help="CSV or JSON import files."),
    report: Optional[Path] = REPORT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary table."),
):
    """Read, normalise and validate sources and write import-ready files to a local folder (no AWS, no Prefect)."""
    _stop_on_signals()
    _start_workers_early(runner, sources)
    from pinpoint_etl.flows.import_run import run_validate
    from pinpoint_etl.flows.runtime import ConsoleRuntime

    def go():
        src = _source_params(sources, delimiter, encoding, fmt, maps, mapping_file, fold_unknown, default_region,
                             chunk_rows, runner, workers, dask_address, on_malformed, max_rejects, max_reject_ratio)
        rep = run_validate(src, str(out), ConsoleRuntime(quiet=quiet), staged_format=staged_format.upper())
        _write_report(rep, report)
        _report_problem(rep)  # a reject threshold, or no valid row
        return rep

    rep = _guard(go)
    _DONE["validate"] = True
    raise typer.Exit(rep.exit_code)


@app.command("import")
def import_cmd(
    sources: List[str] = SOURCES,
    delimiter: str = DELIM, encoding: str = ENC, fmt: str = FMT, maps: Optional[List[str]] = MAP,
    mapping_file: Optional[str] = MAPFILE, fold_unknown: bool = FOLD, default_region: Optional[str] = REGION_DEFAULT,
    chunk_rows: int = CHUNK, runner: str = RUNNER, workers: int = WORKERS, dask_address: Optional[str] = DASK,
    on_malformed: str = MALFORMED, max_rejects: Optional[int] = MAX_REJECTS, max_reject_ratio: Optional[float] = MAX_RATIO,
    application_id: Optional[str] = typer.Option(None, "--application-id", envvar="PINPOINT_APPLICATION_ID",
                                                 help="Pinpoint application (project) id."),
    bucket: Optional[str] = typer.Option(None, "--bucket", envvar="PINPOINT_ETL_BUCKET", help="S3 staging bucket."),
    prefix: str = typer.Option(default(TargetParams, "prefix"), "--prefix", help="Key prefix for staged files."),
    role_arn: Optional[str] = typer.Option(None, "--role-arn", envvar="PINPOINT_IMPORT_ROLE_ARN",
                                           help="IAM role Pinpoint assumes to read the staged files."),
    region: Optional[str] = typer.Option(None, "--region", help="AWS region."),
    credentials_block: Optional[str] = typer.Option(None, "--credentials-block",
                                                    help="prefect-aws AwsCredentials block name."),
    expected_bucket_owner: Optional[str] = typer.Option(None, "--expected-bucket-owner",
                                                        help="Account id that must own the bucket."),
    sse: str = typer.Option(default(TargetParams, "sse"), "--sse", help="Server-side encryption: AES256 or aws:kms."),
    kms_key_id: Optional[str] = typer.Option(None, "--kms-key-id", help="KMS key for --sse aws:kms."),
    register_endpoints: bool = typer.Option(default(ImportOptions, "register_endpoints"), "--register-endpoints/--no-register-endpoints",
                                            help="Create/update the endpoints in the project."),
    segment_name: Optional[str] = typer.Option(None, "--segment-name", help="Define an imported segment by this name."),
    segment_id: Optional[str] = typer.Option(None, "--segment-id", help="Add the endpoints to this existing segment."),
    staged_format: str = typer.Option(default(ImportOptions, "staged_format"), "--staged-format", help="CSV or JSON import files."),
    max_concurrent_jobs: int = typer.Option(default(ImportOptions, "max_concurrent_jobs"), "--max-concurrent-jobs", help="Import jobs running at once."),
    max_job_bytes: int = typer.Option(default(ImportOptions, "max_job_bytes"), "--max-job-bytes", help="Largest import file per job."),
    poll_initial: float = typer.Option(default(ImportOptions, "poll_initial_seconds"), "--poll-initial", help="First delay between status polls (s)."),
    poll_max: float = typer.Option(default(ImportOptions, "poll_max_seconds"), "--poll-max", help="Longest delay between status polls (s)."),
    timeout: float = typer.Option(default(ImportOptions, "timeout_seconds"), "--timeout", help="Give up polling a job after this many seconds."),
    keep_staged: bool = typer.Option(default(ImportOptions, "keep_staged"), "--keep-staged/--delete-staged",
                                     help="Keep the staged import files after a successful run (default: delete)."),
    force: bool = typer.Option(default(ImportOptions, "force"), "--force", help="Stage and import again even if this exact input "
                                                      "(same content and options) was imported before."),
    local: bool = typer.Option(False, "--local", help="Use the bundled local service even if AWS is configured."),
    report: Optional[Path] = REPORT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary table."),
):
    """Import endpoint records into Pinpoint: validate, stage in S3, run import jobs, report every row.

    With no AWS target configured (no endpoint URL, credentials or application id), the run goes to the
    bundled local Pinpoint-compatible service and says so first.
    """
    _stop_on_signals()
    _start_workers_early(runner, sources)
    from pinpoint_etl.flows.import_run import configure_target, run_import
    from pinpoint_etl.flows.params import ImportOptions, TargetParams
    from pinpoint_etl.flows.runtime import ConsoleRuntime
    from pinpoint_etl.pinpoint.clients import aws_target_configured

    runtime = ConsoleRuntime(quiet=quiet)
    service = None

    def go():
        nonlocal service
        src = _source_params(sources, delimiter, encoding, fmt, maps, mapping_file, fold_unknown, default_region,
                             chunk_rows, runner, workers, dask_address, on_malformed, max_rejects, max_reject_ratio)
        tp = TargetParams(application_id=application_id, bucket=bucket, prefix=prefix, role_arn=role_arn,
                          region=region, credentials_block=credentials_block,
                          expected_bucket_owner=expected_bucket_owner, sse=sse, kms_key_id=kms_key_id)
        opts = ImportOptions(register_endpoints=register_endpoints, define_segment=bool(segment_name),
                             segment_name=segment_name, segment_id=segment_id, staged_format=staged_format.upper(),
                             max_concurrent_jobs=max_concurrent_jobs, max_job_bytes=max_job_bytes,
                             poll_initial_seconds=poll_initial, poll_max_seconds=poll_max, timeout_seconds=timeout,
                             keep_staged=keep_staged, force=force)
        label = None
        if local or (not application_id and not credentials_block and not aws_target_configured()):
            from pinpoint_etl.local.server import start_local_service

            service = start_local_service(port=0)
            os.environ.update(service.env())
            tp = tp.model_copy(update={"application_id": service.application_id, "bucket": service.bucket,
                                       "role_arn": service.import_role_arn, "region": service.region})
            label = f"the bundled local Pinpoint-compatible service at {service.endpoint_url}"
            runtime.log(f"No AWS target configured: using {label} (in a temporary folder, discarded on exit; "
                        f"`pinpoint-etl local up` keeps one running).")
        target = configure_target(tp, label=label)
        rep = run_import(src, tp, opts, runtime, target=target)
        _write_report(rep, report)
        _report_problem(rep)
        return rep

    try:
        rep = _guard(go)
    finally:
        if service is not None:
            service.stop()
    raise typer.Exit(rep.exit_code)


@local_app.command("up")
def local_up(port: int = typer.Option(4566, "--port", help="Loopback port to listen on."),
             max_concurrent_jobs: int = typer.Option(2, "--max-concurrent-jobs",
                                                     help="Import jobs the service runs at once."),
             data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Keep the service's store (SQLite file, "
                                                     "S3 objects, keys) in this folder: everything, and the printed "
                                                     "ids and keys, survive a restart. Default: a temporary folder "
                                                     "removed on exit."),
             insecure: bool = typer.Option(False, "--insecure", help="Accept unsigned requests and any credentials "
                                           "(by default every request must be signed with the printed keys)."),
             cors_origin: Optional[List[str]] = typer.Option(None, "--cors-origin", help="Send CORS headers to this "
                                                             "browser origin (repeatable; * for any). None by default.")):
    """Run the local Pinpoint-compatible service in the foreground on 127.0.0.1 and print the exports to use
    (endpoint, keys, ids, admin token); Ctrl-C or SIGTERM stops it."""
    from pinpoint_etl.core.errors import ConfigError
    from pinpoint_etl.local.server import LocalServiceError, serve_forever

    def serve():
        try:
            serve_forever(port=port, max_concurrent_jobs=max_concurrent_jobs,
                          data_dir=str(data_dir) if data_dir else None, insecure=insecure,
                          cors_origins=tuple(cors_origin or ()))
        except LocalServiceError as exc:
            raise ConfigError(str(exc)) from None

    _guard(serve)


@app.command("serve")
def serve_cmd(limit: int = typer.Option(4, "--limit", help="Flow runs at once.")):
    """Serve prefect.yaml's deployments from this process as served-NAME (a laptop's alternative to a work pool
    and worker); Ctrl-C or SIGTERM stops it."""
    import signal

    from pinpoint_etl.flows.deployments import serve_all

    # Ctrl-C stops it even when started as a shell's background job (SIGINT inherited ignored); SIGTERM is the
    # Prefect runner's own graceful stop
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _guard(serve_all, limit=limit)


from pinpoint_etl.flows.cli_export import register as _register_export  # noqa: E402
from pinpoint_etl.flows.cli_map import register as _register_map  # noqa: E402

_register_export(app, guard=_guard, write_report=_write_report, err=err)
_register_map(app, guard=_guard)


def main() -> None:
    from pinpoint_etl.core import tricks

    from pinpoint_etl.sources.frames import defer_pandas

    defer_pandas()  # before any thread starts: a driver whose chunks go to worker processes never loads pandas
    try:
        app(prog_name="pinpoint-etl")
    except SystemExit as exc:
        if _DONE["validate"] and tricks.enabled("fast_exit"):
            # nothing is left to clean up (no Prefect, no AWS client, no thread or child process), so skip
            # the interpreter's teardown of pandas, pyarrow and Pandera
            import atexit

            atexit._run_exitfuncs()  # multiprocessing's temporary folder, logging: what the exit handlers do
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        raise


if __name__ == "__main__":
    sys.exit(main())
