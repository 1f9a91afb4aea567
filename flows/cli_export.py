"""``pinpoint-etl export`` and ``pinpoint-etl jobs list|show``, registered on the main typer app.

``flows/cli.py`` calls :func:`register` once and hands over its error guard (one-line errors, exit
codes 0 / 1 / 2), its report writer and its stderr console; this module never imports it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console

from pinpoint_etl.export.options import ExportOptions
from pinpoint_etl.flows.params import TargetParams, default
from pinpoint_etl.flows.runtime import ConsoleRuntime

out = Console(soft_wrap=True)


@dataclass
class _Hooks:
    guard: Callable[..., Any]
    write_report: Callable[[Any, Optional[Path]], None]
    err: Console


_HOOKS: dict[str, _Hooks] = {}


def _cli() -> _Hooks:
    return _HOOKS["cli"]


def register(app: typer.Typer, *, guard: Callable[..., Any], write_report: Callable[[Any, Optional[Path]], None],
             err: Console) -> None:
    """Add ``export`` and the ``jobs`` sub-app to ``app`` (idempotent); the commands run through ``guard``."""
    _HOOKS["cli"] = _Hooks(guard, write_report, err)
    if any(c.name == "export" for c in app.registered_commands):
        return
    app.command("export")(export_cmd)
    jobs_app = typer.Typer(no_args_is_help=True, help="History of the application's import and export jobs.")
    jobs_app.command("list")(jobs_list)
    jobs_app.command("show")(jobs_show)
    app.add_typer(jobs_app, name="jobs")


class ExportConsoleRuntime(ConsoleRuntime):
    """Progress bars while the job runs and the files are read, then an export summary table."""

    def progress(self, stage: str, rows: int) -> None:
        label = {"read": "reading exported files", "write": "writing output"}.get(stage, stage)
        tid = self._task(f"export:{stage}", label)
        self._progress.update(tid, completed=rows, detail=f"{rows:,} endpoints")

    def publish_export(self, report) -> None:
        if self._started:
            self._progress.stop()
        if not self.quiet:
            self.console.print(export_table(report))


def export_table(report):
    from rich.table import Table

    style = {"succeeded": "green", "partial": "yellow", "failed": "red"}[report.status]
    table = Table(title=f"export run {report.run_id} — [{style}]{report.status}[/]")
    table.add_column("what")
    table.add_column("count / detail", justify="right")
    if report.job:
        j = report.job
        table.add_row(f"job {j['id']}", f"{j['status']} · {j['completed_pieces']}/{j['total_pieces']} pieces · "
                                        f"{j['total_processed']:,} processed")
    table.add_row("exported files (.gz)", f"{len(report.exported):,}")
    table.add_row("endpoints read", f"{report.rows_read:,}")
    table.add_row("endpoints written", f"{report.rows_written:,}")
    table.add_row("with anomalies (kept)", f"{report.rows_with_anomalies:,}")
    for reason, n in sorted(report.anomalies.items(), key=lambda kv: -kv[1])[:8]:
        table.add_row(f"anomaly: {reason}", f"{n:,}")
    for name, n in report.fields_dropped.items():
        table.add_row(f"left out: {name}", f"{n:,}")
    for name, n in report.formulas_neutralised.items():
        table.add_row(f"formulas neutralised: {name}", f"{n:,}")
    for f in report.files:
        table.add_row("output", f"{f['uri']} ({report.format}, {f['bytes']:,} bytes)")
    table.add_row("raw .gz files", "kept" if report.raw_kept else "deleted" if report.exported else "none")
    for e in report.errors:
        table.add_row("error", e)
    for w in report.warnings:
        table.add_row("warning", w)
    return table


# ------------------------------------------------------------------------------------------ export

APP_ID = typer.Option(None, "--application-id", envvar="PINPOINT_APPLICATION_ID",
                      help="Pinpoint application (project) id.")
REGION = typer.Option(None, "--region", help="AWS region.")
CREDS = typer.Option(None, "--credentials-block", help="prefect-aws AwsCredentials block name.")


def export_cmd(
    out_path: str = typer.Option(..., "--out", help="Output file, local or s3://; a folder (ending in /) gets "
                                                    "endpoints-RUN_ID.EXT."),
    fmt: Optional[str] = typer.Option(None, "--format", help="csv (import-ready), ndjson or parquet; default: by "
                                                             "the --out extension, else csv."),
    segment_id: Optional[str] = typer.Option(None, "--segment-id", help="Export only this segment."),
    segment_version: Optional[int] = typer.Option(None, "--segment-version", help="Segment version (default latest)."),
    export_fields: bool = typer.Option(default(ExportOptions, "export_fields"), "--export-fields", help="Also write ApplicationId, CohortId, "
                                       "CreationDate, EffectiveDate, EndpointStatus (not import-ready)."),
    application_id: Optional[str] = APP_ID,
    bucket: Optional[str] = typer.Option(None, "--bucket", envvar="PINPOINT_ETL_BUCKET",
                                         help="S3 bucket Pinpoint exports into."),
    prefix: str = typer.Option(default(TargetParams, "prefix"), "--prefix", help="Key prefix; the export goes under "
                                                                "s3://BUCKET/PREFIX/RUN_ID/export/."),
    role_arn: Optional[str] = typer.Option(None, "--role-arn", envvar="PINPOINT_EXPORT_ROLE_ARN",
                                           help="IAM role Pinpoint assumes to write the export files."),
    region: Optional[str] = REGION,
    credentials_block: Optional[str] = CREDS,
    expected_bucket_owner: Optional[str] = typer.Option(None, "--expected-bucket-owner",
                                                        help="Account id that must own the bucket."),
    sse: str = typer.Option(default(TargetParams, "sse"), "--sse", help="Server-side encryption of objects written: AES256 or aws:kms."),
    kms_key_id: Optional[str] = typer.Option(None, "--kms-key-id", help="KMS key for --sse aws:kms."),
    chunk_rows: int = typer.Option(default(ExportOptions, "chunk_rows"), "--chunk-rows", help="Endpoints per chunk; bounds memory."),
    poll_initial: float = typer.Option(default(ExportOptions, "poll_initial_seconds"), "--poll-initial", help="First delay between status polls (s)."),
    poll_max: float = typer.Option(default(ExportOptions, "poll_max_seconds"), "--poll-max", help="Longest delay between status polls (s)."),
    timeout: float = typer.Option(default(ExportOptions, "timeout_seconds"), "--timeout", help="Give up polling the job after this many seconds."),
    csv_safe: bool = typer.Option(default(ExportOptions, "csv_safe"), "--csv-safe/--no-csv-safe",
                                  help="CSV: write values a spreadsheet would run as formulas (=, +, -, @, TAB, CR "
                                       "first; plain numbers excepted) with a leading ' (default); "
                                       "--no-csv-safe keeps every value exactly as Pinpoint holds it."),
    keep_raw: bool = typer.Option(default(ExportOptions, "keep_raw"), "--keep-raw/--delete-raw",
                                  help="Keep Pinpoint's raw .gz export files in S3 (default: delete them once the "
                                       "output is written)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the JSON run report to this file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary table."),
):
    """Export the endpoints of an application (or one segment) to CSV, NDJSON or Parquet, local or s3://.

    Runs a Pinpoint export job into S3, reads every exported file and writes one output file; CSV is
    the import-ready layout, so `pinpoint-etl import` can load it again unchanged.
    """
    cli = _cli()

    def go():
        from pinpoint_etl.core.errors import ConfigError
        from pinpoint_etl.pinpoint.clients import aws_target_configured

        if not application_id and not credentials_block and not aws_target_configured():
            raise ConfigError("No AWS target configured: set AWS credentials (or AWS_ENDPOINT_URL) and "
                              "PINPOINT_APPLICATION_ID, PINPOINT_ETL_BUCKET, PINPOINT_EXPORT_ROLE_ARN; for the "
                              "bundled local service run `pinpoint-etl local up` and use the variables it prints")
        from pinpoint_etl.export.options import ExportOptions, format_for
        from pinpoint_etl.export.run import run_export
        from pinpoint_etl.flows.export_target import configure_export_target
        from pinpoint_etl.flows.params import TargetParams

        tp = TargetParams(application_id=application_id, bucket=bucket, prefix=prefix, region=region,
                          credentials_block=credentials_block, expected_bucket_owner=expected_bucket_owner,
                          sse=sse, kms_key_id=kms_key_id)
        opts = ExportOptions(segment_id=segment_id, segment_version=segment_version, role_arn=role_arn,
                             out=out_path, format=format_for(out_path, fmt), export_fields=export_fields,
                             chunk_rows=chunk_rows, poll_initial_seconds=poll_initial, poll_max_seconds=poll_max,
                             timeout_seconds=timeout, keep_raw=keep_raw, csv_safe=csv_safe)
        runtime = ExportConsoleRuntime(quiet=quiet)
        rep = run_export(configure_export_target(tp, opts), opts, runtime)
        cli.write_report(rep, report)
        if rep.status != "succeeded":
            for e in rep.errors:
                cli.err.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
        return rep

    rep = cli.guard(go)
    raise typer.Exit(rep.exit_code)


# ------------------------------------------------------------------------------------------ jobs

def configure_reader(application_id: str | None, *, region: str | None = None,
                     credentials_block: str | None = None) -> tuple[str, object]:
    """The application id and clients for read-only calls (job history): no bucket or role needed.

    Kept out of the export stages so that ``jobs`` does not import pandas, pyarrow and pandera.
    """
    import os

    from pinpoint_etl.core.errors import ConfigError
    from pinpoint_etl.pinpoint.clients import check_application, make_clients

    app = application_id or os.environ.get("PINPOINT_APPLICATION_ID")
    if not app:
        raise ConfigError("missing application id (--application-id / PINPOINT_APPLICATION_ID)")
    clients = make_clients(region=region, credentials_block=credentials_block)
    check_application(clients.pinpoint, app)
    return app, clients


def _type_option(value: Optional[str]) -> list[str]:
    from pinpoint_etl.core.errors import ConfigError

    if value is None:
        return ["import", "export"]
    if value.lower() not in ("import", "export"):
        raise ConfigError(f"--type must be import or export, not {value!r}")
    return [value.lower()]


def _job_row(j) -> dict:
    return {"type": j.kind, **j.as_report()}


def jobs_list(
    job_type: Optional[str] = typer.Option(None, "--type", help="import or export (default: both)."),
    segment_id: Optional[str] = typer.Option(None, "--segment-id", help="Only the jobs of this segment."),
    limit: int = typer.Option(20, "--limit", min=1, help="Newest N jobs."),
    page_size: int = typer.Option(50, "--page-size", min=1, max=1000,
                                  help="Jobs per API call (NextToken paging fetches the rest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the jobs as JSON instead of a table."),
    application_id: Optional[str] = APP_ID, region: Optional[str] = REGION,
    credentials_block: Optional[str] = CREDS,
):
    """List the newest import and/or export jobs with status, counters and dates (all pages)."""
    cli = _cli()

    def go():
        from pinpoint_etl.pinpoint.jobs import list_jobs

        kinds = _type_option(job_type)
        app, clients = configure_reader(application_id, region=region, credentials_block=credentials_block)
        jobs = [j for kind in kinds for j in list_jobs(clients.pinpoint, app, kind, segment_id=segment_id,
                                                       limit=limit, page_size=page_size)]
        jobs.sort(key=lambda j: j.creation_date or "", reverse=True)
        return app, jobs[:limit]

    app, jobs = cli.guard(go)
    if as_json:
        print(json.dumps([_job_row(j) for j in jobs], indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    kinds = " and ".join(_type_option(job_type))
    table = Table(title=f"{kinds} jobs of application {app}" + (f", segment {segment_id}" if segment_id else ""))
    for name, justify in (("id", "left"), ("type", "left"), ("status", "left"), ("pieces", "right"),
                          ("processed", "right"), ("failures", "right"), ("created", "left"), ("completed", "left")):
        table.add_column(name, justify=justify, no_wrap=name in ("id", "created", "completed"))
    for j in jobs:
        failed = f", {j.failed_pieces} failed" if j.failed_pieces else ""
        table.add_row(j.id, j.kind, f"{j.pinpoint_status} ({j.state})",
                      f"{j.completed_pieces}/{j.total_pieces}{failed}", f"{j.total_processed:,}",
                      f"{j.total_failures:,}", j.creation_date or "", j.completion_date or "")
    out.print(table)
    if not jobs:
        out.print("no jobs", highlight=False)


def jobs_show(
    job_id: str = typer.Argument(..., help="Import or export job id."),
    job_type: Optional[str] = typer.Option(None, "--type", help="import or export (default: whichever has it)."),
    as_json: bool = typer.Option(False, "--json", help="Print the job as JSON."),
    application_id: Optional[str] = APP_ID, region: Optional[str] = REGION,
    credentials_block: Optional[str] = CREDS,
):
    """Show one job: status, counters, dates, definition and its failures."""
    cli = _cli()

    def go():
        from pinpoint_etl.core.errors import ConfigError, TerminalError
        from pinpoint_etl.pinpoint.jobs import get_job

        app, clients = configure_reader(application_id, region=region, credentials_block=credentials_block)
        for kind in _type_option(job_type):
            try:
                return get_job(clients.pinpoint, app, job_id, kind)
            except TerminalError as exc:
                if "404" not in exc.detail and "NotFound" not in exc.detail:
                    raise
        raise ConfigError(f"no {' or '.join(_type_option(job_type))} job {job_id} in application {app}")

    job = cli.guard(go)
    row = {**_job_row(job), "definition": job.definition}
    if as_json:
        print(json.dumps(row, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"{job.kind} job {job.id}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    table.add_row("status", f"{job.pinpoint_status} ({job.state})")
    table.add_row("pieces", f"{job.completed_pieces}/{job.total_pieces} completed, {job.failed_pieces} failed")
    table.add_row("processed", f"{job.total_processed:,}")
    table.add_row("failures", f"{job.total_failures:,}")
    table.add_row("created", job.creation_date or "")
    table.add_row("completed", job.completion_date or "")
    for key, value in sorted(job.definition.items()):
        table.add_row(key, str(value))
    for f in job.failures:
        table.add_row("failure", f)
    out.print(table)
