"""The run report: the JSON contract of DESIGN.md, built from the ledger's counts (``report.outcomes``).

``rows_read = rows_imported + rows_rejected + rows_superseded + rows_failed`` always holds (for a
validate run, valid rows count as staged instead of imported): the counts come from the fates the
ledger gave every row, and :class:`~pinpoint_etl.report.outcomes.BooksError` is raised otherwise.
``unit`` says what the rows_* counts count: ``rows``, or ``endpoints`` when a mapping spec made
several endpoints of a row (a row that yielded none counts once, as rejected); ``source_rows`` then
balances the records read: ``read = with_endpoints + without_endpoints``, ``rows_read = endpoints +
without_endpoints``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pinpoint_etl.report.outcomes import PartOutcome, RunCounts, RunStatus, exit_code, run_status

if TYPE_CHECKING:  # the report reads what staging made; staging books its rows' fates in report.outcomes
    from pinpoint_etl.staging.prepare import Prepared

__all__ = ["PartOutcome", "RunReport", "RunStatus", "import_report", "now", "validate_report"]


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
    #: of ``rows_failed``: rows the ledger names as failed, and failures Pinpoint named no row for
    rows_failed_attributed: int = 0
    rows_failed_unattributed: int = 0
    #: rows of parts with unattributed failures: imported or failed, the ledger cannot say which
    rows_uncertain: int = 0
    #: problems that did not change any row's fate (e.g. staged files that could not be deleted)
    warnings: list[str] = field(default_factory=list)
    unit: str = "rows"
    source_rows: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return exit_code(self.status)

    def failed_line(self) -> str | None:
        """"N failed at Pinpoint: M attributed to rows, K not attributable", or None."""
        if not self.rows_failed:
            return None
        return (f"{self.rows_failed:,} failed at Pinpoint: {self.rows_failed_attributed:,} attributed to rows, "
                f"{self.rows_failed_unattributed:,} not attributable")

    def problem_line(self) -> str | None:
        """One line saying why the run did not succeed (the CLI's ``error:`` line), or None."""
        if self.status == "succeeded":
            return None
        why = [w for w in (self.failed_line(), *self.errors[:1]) if w]
        more = f" (and {len(self.errors) - 1} more job error(s))" if len(self.errors) > 1 else ""
        where = f"; every row's fate: {self.ledger['uri']}" if self.ledger.get("uri") else ""
        return f"run {self.run_id} {self.status}: {'; '.join(why) or 'see the report'}{more}{where}"

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _base(prepared: Prepared, counts: RunCounts) -> dict:
    return dict(run_id=prepared.run_id, rows_read=counts.rows_read, rows_valid=prepared.rows_valid,
                rows_rejected=counts.rows_rejected, rows_superseded=counts.rows_superseded,
                rows_imported=counts.rows_imported, rows_failed=counts.rows_failed,
                rows_failed_attributed=counts.rows_failed_attributed,
                rows_failed_unattributed=counts.rows_failed_unattributed, rows_uncertain=counts.rows_uncertain,
                staged=[asdict(p) for p in prepared.parts],
                rejects={"uri": prepared.rejects_uri, "rows": prepared.rows_rejected},
                normalised=dict(prepared.normalised), rejects_by_reason=dict(prepared.rejects_by_reason),
                unit=prepared.unit, source_rows=prepared.source_rows if prepared.unit != "rows" else {})


def validate_report(prepared: Prepared, counts: RunCounts, *, started: str) -> RunReport:
    """Report of a ``validate`` run (staged locally, nothing imported: valid rows count as staged)."""
    return RunReport(**_base(prepared, counts), status="succeeded", target="local folder", jobs=[],
                     mode="validate", started=started, finished=now())


def import_report(prepared: Prepared, outcomes: list[PartOutcome], counts: RunCounts, *, target: str,
                  started: str) -> RunReport:
    """Report of an import run: the ledger's ``counts``, each part's job, the status rule."""
    return RunReport(**_base(prepared, counts), status=run_status(counts, outcomes), target=target,
                     jobs=[o.job.as_report() for o in outcomes if o.job is not None],
                     errors=[o.error for o in outcomes if o.error], started=started, finished=now())
