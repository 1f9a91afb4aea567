"""The export run's books and its JSON report, with the import's run-status vocabulary and exit codes.

``status``: ``succeeded``; ``partial`` when the job completed with failed pieces or some exported lines
could not be read; ``failed`` when the job failed, timed out or the output could not be written. Errors
and warnings are masked (``core.masking.scrub``) as they are added.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pinpoint_etl.core.masking import scrub
from pinpoint_etl.pinpoint.jobs import JobSnapshot
from pinpoint_etl.report.summary import RunStatus, now

MAX_EXAMPLES = 20
UNREADABLE = "line is not a JSON endpoint object"


def new_run_id() -> str:
    """``x-`` + UTC time + 8 random hex characters: every export is a new snapshot."""
    return f"x-{datetime.now(UTC):%Y%m%dt%H%M%S}-{secrets.token_hex(4)}"


@dataclass
class ExportReport:
    """The export run's books and the JSON report (``status``, rows, files, job, anomalies)."""

    run_id: str
    status: RunStatus
    target: str
    application_id: str
    segment_id: str | None
    segment_version: int | None
    format: str
    export_prefix: str
    rows_read: int = 0
    rows_written: int = 0
    rows_with_anomalies: int = 0
    lines_unreadable: int = 0
    files: list[dict] = field(default_factory=list)
    exported: list[dict] = field(default_factory=list)
    job: dict | None = None
    jobs: list[dict] = field(default_factory=list)
    anomalies: dict[str, int] = field(default_factory=dict)
    anomaly_examples: list[dict] = field(default_factory=list)
    fields_dropped: dict[str, int] = field(default_factory=dict)
    endpoint_status: dict[str, int] = field(default_factory=dict)
    formulas_neutralised: dict[str, int] = field(default_factory=dict)
    raw_kept: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mode: str = "export"
    started: str = field(default_factory=now)
    finished: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "succeeded" else 1

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def error(self, message: str) -> None:
        self.errors.append(scrub(message))

    def warn(self, message: str) -> None:
        self.warnings.append(scrub(message))

    def anomaly(self, reasons: list[str], source: str, line: int) -> None:
        """Count one record's (or unreadable line's) reasons; the first examples are kept."""
        for r in reasons:
            self.anomalies[r] = self.anomalies.get(r, 0) + 1
        if len(self.anomaly_examples) < MAX_EXAMPLES:
            self.anomaly_examples.append({"source": source, "line": line, "reasons": list(reasons)})

    def unreadable(self, source: str, line: int) -> None:
        self.lines_unreadable += 1
        self.anomaly([UNREADABLE], source, line)

    def record_job(self, snap: JobSnapshot | None) -> None:
        if snap is not None:
            self.job = snap.as_report()
            self.jobs = [self.job]

    def settle(self, final: JobSnapshot) -> None:
        """Status and errors once the output is written, from the job's end and the lines read."""
        if final.state == "completed_with_failures" or final.failed_pieces:
            self.error(job_error(self.run_id, final))
        if self.lines_unreadable:
            self.error(f"run {self.run_id}: {self.lines_unreadable} exported line(s) were not JSON endpoint "
                       f"objects and could not be written")
        partial = final.state != "completed" or final.failed_pieces or self.lines_unreadable
        self.status = "partial" if partial else "succeeded"

    def summary_line(self) -> str:
        job = f"job {self.job['id']} {self.job['status']}" if self.job else "no job"
        return (f"run {self.run_id}: export {self.status}: {job}; read {self.rows_read}, wrote {self.rows_written} "
                f"to {', '.join(f['uri'] for f in self.files) or 'nothing'}; "
                f"{self.rows_with_anomalies} with anomalies")


def job_error(run_id: str, snap: JobSnapshot) -> str:
    first = f": {snap.failures[0]}" if snap.failures else ""
    more = f" (+{len(snap.failures) - 1} more)" if len(snap.failures) > 1 else ""
    return (f"run {run_id}, job {snap.id}: export job ended {snap.pinpoint_status} "
            f"({snap.failed_pieces} of {snap.total_pieces} pieces failed){first}{more}")
