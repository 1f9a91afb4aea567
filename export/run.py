"""The export run: the stages in order, independent of what drives them (Prefect flow or CLI).

CreateExportJob into ``s3://BUCKET/PREFIX/RUN_ID/export/`` and poll it (``job``) → list and check
Pinpoint's raw files → pass one: stream, flatten and validate every record, spilling chunks
(``records``, ``check``) → pass two: once every column is known, write one output file (``columns``,
``write``) → delete the raw files (``job.clean_up``) → ``report.json`` beside them. Memory stays flat
whatever the export size: a chunk of ``chunk_rows`` records at a time.

The target is configured and checked by the caller (``flows/export_target.py``); the runtime logs,
shows progress and job updates, and is handed the report (``publish_export``, else one log line).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pyarrow import feather

from pinpoint_etl.core.errors import PipelineError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.export import job as jobs
from pinpoint_etl.export.check import Checker
from pinpoint_etl.export.columns import output_columns
from pinpoint_etl.export.options import ExportOptions, output_uri
from pinpoint_etl.export.records import read_chunks
from pinpoint_etl.export.report import ExportReport, job_error, new_run_id, now
from pinpoint_etl.export.write import OutputWriter
from pinpoint_etl.storage import uris, write
from pinpoint_etl.pinpoint.jobs import JobSnapshot


class ExportRuntime(Protocol):
    """What the run needs of its driver (``flows.runtime.Runtime`` and its kin provide it)."""

    def log(self, message: str) -> None: ...

    def progress(self, stage: str, rows: int) -> None: ...

    def job_update(self, run_id: str, part, snap: JobSnapshot) -> None: ...


@dataclass
class ExportPart:
    """What the runtime's ``job_update`` is told about: the job's S3 prefix."""

    uri: str
    rows: int = 0
    bytes: int = 0


def run_export(target, opts: ExportOptions, runtime: ExportRuntime, *, run_id: str | None = None,
               spill_dir: str | None = None) -> ExportReport:
    """The whole export of a configured ``target`` (see module docstring)."""
    run_id = run_id or new_run_id()
    run_base = uris.join(f"s3://{target.bucket}", target.prefix, run_id) if target.prefix \
        else f"s3://{target.bucket}/{run_id}"
    prefix_uri = f"{run_base}/export/"
    report = ExportReport(run_id=run_id, status="failed", target=scrub(target.label), application_id=target.application_id,
                          segment_id=opts.segment_id, segment_version=opts.segment_version, format=opts.format,
                          export_prefix=prefix_uri)
    what = (f"segment {opts.segment_id}" + (f" version {opts.segment_version}" if opts.segment_version else "")
            if opts.segment_id else "every endpoint")
    runtime.log(f"run {run_id}: exporting {what} of application {target.application_id} via {target.label} "
                f"to {prefix_uri}")
    part = ExportPart(uri=prefix_uri)
    job = jobs.run_job(target, opts, prefix_uri, run_id, lambda snap: runtime.job_update(run_id, part, snap))
    report.record_job(job.last)
    if job.error:
        report.error(job.error)
    if job.final is not None and job.final.state == "failed":
        report.error(job_error(run_id, job.final))
    elif job.final is not None:
        out_uri = output_uri(opts, run_base, run_id)
        report.exported = jobs.raw_files(target, prefix_uri)
        jobs.check_encryption(report, report.exported, target.bucket)
        runtime.log(f"run {run_id}: job {job.final.id} {job.final.pinpoint_status}: {job.final.total_processed} "
                    f"endpoints in {len(report.exported)} file(s); writing {opts.format} to {out_uri}")
        export_files([f["uri"] for f in report.exported], out_uri, opts, report, runtime, s3=target.clients.s3,
                     write_options=target.write_options, spill_dir=spill_dir)
        report.settle(job.final)
    jobs.clean_up(target, report, job, opts)
    return finish(report, target, run_base, runtime)


def export_files(uris: list[str], out_uri: str, opts: ExportOptions, report: ExportReport, runtime: ExportRuntime,
                 *, s3=None, write_options=None, spill_dir: str | None = None) -> None:
    """Pass one and pass two over Pinpoint's exported files ``uris``: the output file, and the books in ``report``."""
    with tempfile.TemporaryDirectory(prefix=f"pinpoint-etl-{report.run_id}-", dir=spill_dir) as tmp:
        checker = Checker(report, Path(tmp))
        for chunk in read_chunks(uris, s3, opts.chunk_rows, report.unreadable):
            checker.add(chunk)
            runtime.progress("read", report.rows_read)
        columns = output_columns(list(checker.columns), opts.export_fields)
        report.fields_dropped = checker.dropped(columns)
        writer = OutputWriter(out_uri, opts.format, columns, checker.non_numeric, s3, write_options,
                              csv_safe=opts.csv_safe and opts.format == "csv")
        try:
            for path in checker.spills:
                writer.write(feather.read_table(path))
                runtime.progress("write", writer.rows)
        except BaseException as exc:
            writer.abort(exc)
            raise
        report.files = [writer.close()]
    report.rows_written = report.files[0]["rows"]
    report.formulas_neutralised = dict(sorted(writer.neutralised.items()))
    if writer.neutralised:
        report.warn(f"run {report.run_id}: {sum(writer.neutralised.values())} formula-looking value(s) in "
                    f"{', '.join(report.formulas_neutralised)} were written with a leading ' (csv_safe), so a "
                    f"spreadsheet shows them as text; for a file that imports again unchanged, export with "
                    f"--no-csv-safe (csv_safe: false)")


def finish(report: ExportReport, target, run_base: str, runtime: ExportRuntime) -> ExportReport:
    """Write ``report.json`` beside the export (a failure to is an error in the report) and publish it."""
    report.finished = now()
    try:
        write.write_bytes(f"{run_base}/report.json", report.to_json().encode(), s3=target.clients.s3,
                         options=target.write_options)
    except PipelineError as exc:  # the report still reaches the caller
        report.error(f"run {report.run_id}: could not write {run_base}/report.json: {exc}")
    hook = getattr(runtime, "publish_export", None)
    if hook is not None:
        hook(report)
    else:
        runtime.log(report.summary_line())
    return report
