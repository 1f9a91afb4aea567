"""The terminal summary of a run (rich)."""

from __future__ import annotations

from rich.table import Table

from pinpoint_etl.report.summary import RunReport

_STYLE = {"succeeded": "green", "partial": "yellow", "failed": "red"}


def count_lines(report: RunReport) -> list[tuple[str, int]]:
    """(label, count) lines of a run: source rows and endpoints when a mapping spec made endpoints;
    imported and failed at Pinpoint only for an import (validate imports nothing)."""
    lines = []
    if report.unit == "endpoints" and report.source_rows:
        lines += [("source rows read", report.source_rows["read"]),
                  ("source rows without an endpoint (rejected)", report.source_rows["without_endpoints"]),
                  ("endpoints", report.source_rows["endpoints"])]
    unit = "endpoints" if report.unit == "endpoints" else "rows"
    lines += [(f"{unit} read" if unit == "rows" else "endpoints + rows without one", report.rows_read),
              ("valid", report.rows_valid)]
    if report.mode != "validate":
        lines.append(("imported", report.rows_imported))
    lines += [("rejected", report.rows_rejected), ("superseded (duplicate Id)", report.rows_superseded)]
    if report.mode != "validate":
        lines.append(("failed at Pinpoint", report.rows_failed))
    return lines


def summary_table(report: RunReport) -> Table:
    """Counts, jobs and the most common reject reasons in one table."""
    table = Table(title=f"run {report.run_id} — [{_STYLE[report.status]}]{report.status}[/]", show_header=True)
    table.add_column("what")
    table.add_column("count / detail", justify="right")
    for label, value in count_lines(report):
        table.add_row(label, f"{value:,}")
    if report.rows_failed_unattributed:
        table.add_row("", report.failed_line())
        table.add_row("uncertain rows (ledger)", f"{report.rows_uncertain:,}: imported, or among the "
                                                 f"{report.rows_failed_unattributed:,} not attributable")
    for job in report.jobs:
        segment = f" · segment {job['segment_id']}" if job.get("segment_id") else ""
        table.add_row(f"job {job['id']}", f"{job['status']} · {job['total_processed']:,} processed · "
                                         f"{job['total_failures']:,} failed{segment}")
    for reason, n in list(report.rejects_by_reason.items())[:8]:
        table.add_row(f"rejected: {reason}", f"{n:,}")
    for err in report.errors:
        table.add_row("error", err)
    for warning in report.warnings:
        table.add_row("warning", warning)
    if report.staged:
        table.add_row("staged", ", ".join(s["uri"] for s in report.staged[:3]) + (" …" if len(report.staged) > 3 else ""))
    if report.rejects.get("uri") and report.rows_rejected:
        table.add_row("rejects file", report.rejects["uri"])
    return table
