"""The run report: books that balance, a status, and the JSON contract of DESIGN.md.

``rows_read = rows_imported + rows_rejected + rows_superseded + rows_failed`` always holds:
rows of a part whose job failed, timed out or could not be created count as failed; for a
completed job, Pinpoint's TotalFailures count as failed and the rest as imported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal

from pinpoint_etl.pinpoint.jobs import JobSnapshot
from pinpoint_etl.staging.prepare import Prepared, StagedPart

RunStatus = Literal["succeeded", "partial", "failed"]


@dataclass
class PartOutcome:
    """A staged part and what became of its import job (``job`` is None if none was created)."""

    part: StagedPart
    job: JobSnapshot | None = None
    error: str | None = None

    @property
    def rows_failed(self) -> int:
        if self.job is None or self.job.state not in ("completed", "completed_with_failures"):
            return self.part.rows
        return min(self.job.total_failures, self.part.rows)


@dataclass
class RunReport:
    run_id: str
    status: RunStatus
    target: str
    rows_read: int
    rows_valid: int
    rows_rejected: int
    rows_superseded: int
    rows_imported: int
    rows_failed: int
    staged: list[dict]
    rejects: dict
    jobs: list[dict]
    normalised: dict[str, int]
    rejects_by_reason: dict[str, int]
    errors: list[str] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    mode: str = "import"
    started: str = ""
    finished: str = ""

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "succeeded" else 1

    def balanced(self) -> bool:
        return self.rows_read == self.rows_imported + self.rows_rejected + self.rows_superseded + self.rows_failed

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _base(prepared: Prepared) -> dict:
    return dict(run_id=prepared.run_id, rows_read=prepared.rows_read, rows_valid=prepared.rows_valid,
                rows_rejected=prepared.rows_rejected, rows_superseded=prepared.rows_superseded,
                staged=[asdict(p) for p in prepared.parts],
                rejects={"uri": prepared.rejects_uri, "rows": prepared.rows_rejected},
                normalised=dict(prepared.normalised), rejects_by_reason=dict(prepared.rejects_by_reason))


def validate_report(prepared: Prepared, *, started: str) -> RunReport:
    """Report of a ``validate`` run (staged locally, nothing imported: valid rows count as staged)."""
    return RunReport(**_base(prepared), status="succeeded", target="local folder", rows_imported=0,
                     rows_failed=0, jobs=[], mode="validate", started=started, finished=now())


def import_report(prepared: Prepared, outcomes: list[PartOutcome], *, target: str, started: str) -> RunReport:
    """Report of an import run from the staging outcome and each part's job."""
    failed = sum(o.rows_failed for o in outcomes)
    imported = sum(o.part.rows for o in outcomes) - failed
    jobs = [o.job.as_report() for o in outcomes if o.job is not None]
    errors = [o.error for o in outcomes if o.error]
    bad_jobs = any(o.job is None or o.job.state in ("failed", "timed_out") for o in outcomes)
    if not outcomes:
        status: RunStatus = "succeeded"
    elif bad_jobs and imported == 0:
        status = "failed"
    elif bad_jobs or failed:
        status = "partial"
    else:
        status = "succeeded"
    report = RunReport(**_base(prepared), status=status, target=target, rows_imported=imported,
                       rows_failed=failed, jobs=jobs, errors=errors, started=started, finished=now())
    assert report.balanced(), f"books do not balance for run {prepared.run_id}"
    return report
