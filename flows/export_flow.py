"""Prefect flow ``export_endpoints``: the export run with progress, summary, anomalies and jobs artifacts."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from pinpoint_etl.core.errors import JobFailedError, PipelineError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.export.report import ExportReport
from pinpoint_etl.export.run import run_export
from pinpoint_etl.flows.export_target import configure_export_target, export_role
from pinpoint_etl.flows.forms import (
    EXPORT_FORM,
    ExportAdvancedParam,
    ExportChoices,
    ExportChoicesParam,
    ExportTarget,
    ExportTargetParam,
)
from pinpoint_etl.flows.preflight import check_export
from pinpoint_etl.flows.runtime import Runtime, failed

SUMMARY_KEY = "pinpoint-etl-export-summary"
ANOMALIES_KEY = "pinpoint-etl-export-anomalies"
JOBS_KEY = "pinpoint-etl-export-jobs"
PROGRESS_KEY = "pinpoint-etl-export-progress"
_JOB_COLUMNS = ("id", "status", "pinpoint_status", "total_pieces", "completed_pieces", "failed_pieces",
                "total_processed", "total_failures", "s3_url", "created", "completed")


def export_summary_markdown(report: ExportReport) -> str:
    scope = (f"segment `{report.segment_id}`" + (f" version {report.segment_version}" if report.segment_version
                                                 else "") if report.segment_id else "every endpoint")
    lines = [f"# pinpoint-etl export run `{report.run_id}` — **{report.status}**", "",
             f"Target: {report.target}; application `{report.application_id}`, {scope}", "",
             "| what | count |", "|---|---:|",
             f"| endpoints read | {report.rows_read:,} |", f"| endpoints written | {report.rows_written:,} |",
             f"| endpoints with anomalies (kept) | {report.rows_with_anomalies:,} |",
             f"| exported files (.gz) | {len(report.exported):,} |"]
    if report.job:
        j = report.job
        lines += ["", (f"Export job `{j['id']}`: {j['status']} ({j['pinpoint_status']}), "
                      f"{j['completed_pieces']}/{j['total_pieces']} pieces, {j['total_processed']:,} processed")]
    if report.files:
        lines += ["", "| output | rows | bytes |", "|---|---:|---:|"]
        lines += [f"| `{f['uri']}` ({report.format}) | {f['rows']:,} | {f['bytes']:,} |" for f in report.files]
    if report.anomalies:
        lines += ["", "| anomaly | endpoints |", "|---|---:|"]
        lines += [f"| {r} | {n:,} |" for r, n in sorted(report.anomalies.items(), key=lambda kv: -kv[1])]
    if report.fields_dropped:
        lines += ["", "| field not in the import layout (left out) | endpoints |", "|---|---:|"]
        lines += [f"| {name} | {n:,} |" for name, n in report.fields_dropped.items()]
    if report.formulas_neutralised:
        lines += ["", "| field: formula-looking values written with a leading ' (csv_safe) | values |", "|---|---:|"]
        lines += [f"| {name} | {n:,} |" for name, n in report.formulas_neutralised.items()]
    if report.errors:
        lines += ["", "## Errors", *[f"- {scrub(e)}" for e in report.errors]]
    if report.warnings:
        lines += ["", "## Warnings", *[f"- {scrub(w)}" for w in report.warnings]]
    return "\n".join(lines)


def publish_export_artifacts(report: ExportReport) -> None:
    """Summary markdown, anomalies by reason and the jobs table of the current flow run."""
    create_markdown_artifact(export_summary_markdown(report), key=SUMMARY_KEY, description=f"run {report.run_id}")
    create_table_artifact([{"reason": r, "endpoints": n} for r, n in report.anomalies.items()]
                          or [{"reason": "(none)", "endpoints": 0}], key=ANOMALIES_KEY,
                          description=f"exported endpoints with anomalies by reason, run {report.run_id}")
    create_table_artifact([{k: j.get(k) for k in _JOB_COLUMNS} for j in report.jobs]
                          or [{k: "" for k in _JOB_COLUMNS}], key=JOBS_KEY,
                          description=f"export job, run {report.run_id}")


class PrefectExportRuntime(Runtime):
    """Logs to the run logger, keeps a progress artifact of the job's pieces, publishes artifacts."""

    def __init__(self):
        self._logger = get_run_logger()
        self._progress_id = None

    def log(self, message: str) -> None:
        self._logger.info(scrub(message))

    def job_update(self, run_id, part, snap) -> None:
        super().job_update(run_id, part, snap)
        done, total = snap.completed_pieces + snap.failed_pieces, snap.total_pieces
        pct = 100.0 if snap.state in ("completed", "completed_with_failures", "failed") and not total \
            else 100.0 * done / max(total, 1)
        description = f"run {run_id}: export job {snap.id} {snap.pinpoint_status}, {done}/{total} pieces"
        if self._progress_id is None:
            self._progress_id = create_progress_artifact(pct, key=PROGRESS_KEY, description=description)
        else:
            update_progress_artifact(self._progress_id, pct, description=description)

    def publish_export(self, report: ExportReport) -> None:
        self.log(report.summary_line())
        publish_export_artifacts(report)


@flow(name="export_endpoints", log_prints=False)
def export_endpoints(target: ExportTargetParam = ExportTarget(), options: ExportChoicesParam = ExportChoices(),
                     advanced: ExportAdvancedParam = None) -> dict:
    """Export the endpoints of a Pinpoint project (or of one segment) to CSV, NDJSON or Parquet.

    Runs CreateExportJob into the run's S3 folder with the export role, polls it, streams every
    exported .gz file, flattens and validates the endpoints (anomalies are counted, never dropped)
    and writes one output file, local or s3://. CSV output is import-ready; formula-looking values get
    a leading ' unless spreadsheet-safe CSV is off. Pinpoint's raw files are deleted afterwards unless
    kept. The flow run fails when the export job fails.

    Args:
        target: The Pinpoint project, the bucket Pinpoint writes the export to, and the export role;
            blank fields come from the environment of the machine that runs the flow.
        options: A segment or every endpoint, and the output file and format.
        advanced: Tuning and AWS details. The defaults suit most runs; choose Custom to change them.
    """
    tp, opts = EXPORT_FORM.run_models(target=target, options=options, advanced=advanced)
    try:
        opts = opts.model_copy(update={"out": check_export(tp, export_role(opts, tp), opts.out)})
        report = run_export(configure_export_target(tp, opts), opts, PrefectExportRuntime())
    except PipelineError as exc:
        return failed(exc)
    if report.status == "failed":
        return failed(JobFailedError(f"export failed: {'; '.join(report.errors) or 'the export job failed'}",
                                     run_id=report.run_id))
    return report.to_dict()
