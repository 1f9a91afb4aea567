"""Prefect artifacts of a run: markdown summary, rejects by reason, jobs table, progress.

Artifact keys are lowercase with dashes (Prefect's rule) and stable, so the UI groups runs of
the same kind. Nothing here carries a raw address: reasons never include values and job
failure strings are scrubbed when read.
"""

from __future__ import annotations

from pinpoint_etl.report.summary import RunReport

SUMMARY_KEY = "pinpoint-etl-run-summary"
REJECTS_KEY = "pinpoint-etl-rejects-by-reason"
JOBS_KEY = "pinpoint-etl-jobs"
PROGRESS_KEY = "pinpoint-etl-job-progress"


def summary_markdown(report: RunReport) -> str:
    lines = [f"# pinpoint-etl {report.mode} run `{report.run_id}` — **{report.status}**", "",
             f"Target: {report.target}", "", "| rows | count |", "|---|---:|"]
    for label, value in (("read", report.rows_read), ("valid", report.rows_valid), ("imported", report.rows_imported),
                         ("rejected", report.rows_rejected), ("superseded", report.rows_superseded),
                         ("failed at Pinpoint", report.rows_failed)):
        lines.append(f"| {label} | {value:,} |")
    if report.normalised:
        lines += ["", "| normalisation rule | values changed |", "|---|---:|"]
        lines += [f"| {rule} | {n:,} |" for rule, n in sorted(report.normalised.items()) if n]
    if report.errors:
        lines += ["", "## Errors", *[f"- {e}" for e in report.errors]]
    if report.rejects.get("uri"):
        lines += ["", f"Rejects file: `{report.rejects['uri']}` ({report.rejects['rows']:,} rows)"]
    return "\n".join(lines)


def publish_artifacts(report: RunReport) -> None:
    """Create the summary, rejects and jobs artifacts for the current flow run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(summary_markdown(report), key=SUMMARY_KEY, description=f"run {report.run_id}")
    create_table_artifact([{"reason": r, "rows": n} for r, n in report.rejects_by_reason.items()]
                          or [{"reason": "(none)", "rows": 0}], key=REJECTS_KEY,
                          description=f"rejected rows by reason, run {report.run_id}")
    create_table_artifact([{k: j[k] for k in ("id", "status", "total_pieces", "completed_pieces", "failed_pieces",
                                               "total_processed", "total_failures")} for j in report.jobs]
                          or [{"id": "(none)", "status": "", "total_pieces": 0, "completed_pieces": 0,
                               "failed_pieces": 0, "total_processed": 0, "total_failures": 0}],
                          key=JOBS_KEY, description=f"import jobs, run {report.run_id}")
