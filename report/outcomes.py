"""Outcomes: what became of every row and of the run, in closed vocabularies and one set of rules.

A row's fate (``RowFate``): ``staged`` (validate runs, and the staging ledger), ``imported``,
``rejected``, ``superseded``, ``failed`` (at Pinpoint: a row it named, or every row of a part whose
job failed, timed out or was never created) and ``uncertain`` (a row of a part in which Pinpoint
failed rows it did not name: imported, or one of those failures; no row is guessed).

Attribution reads Pinpoint's ``Failures`` strings, whose format AWS never documented. Only the shape
``<the part's S3 URL> row N: reason`` names a row (N counted as the local service counts: the N-th
data row of the file); every other shape — the file only, an endpoint id, free text — and every
failure past the 100 Pinpoint lists stays *not attributable*.

The run's counts come from the ledger's fate counts (``RunCounts.from_ledger``), never from the
jobs' counters separately, and books that do not balance raise :class:`BooksError`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, get_args

from pinpoint_etl.core.errors import TerminalError

if TYPE_CHECKING:
    from pinpoint_etl.pinpoint.jobs import JobSnapshot
    from pinpoint_etl.staging.prepare import StagedPart

RowFate = Literal["staged", "imported", "rejected", "superseded", "failed", "uncertain"]
ROW_FATES: Final = get_args(RowFate)
RunStatus = Literal["succeeded", "partial", "failed"]
RUN_STATUSES: Final = get_args(RunStatus)

_NAMED_ROW = re.compile(r"^(?P<uri>\S+) row (?P<row>\d+): (?P<reason>.*)$")
_IMPORTED_STATES = ("completed", "completed_with_failures")


class BooksError(TerminalError):
    """The counts of a run do not add up: nothing it wrote is kept (a defect, never expected)."""

    exit_code = 1


@dataclass
class PartOutcome:
    """A staged part and what became of its import job (``job`` is None if none was created)."""

    part: StagedPart
    job: JobSnapshot | None = None
    error: str | None = None

    @property
    def imported(self) -> bool:
        """The job ran to the end: its rows were imported except the ones it reports failed."""
        return self.job is not None and self.job.state in _IMPORTED_STATES

    @property
    def bad_job(self) -> bool:
        return not self.imported


@dataclass
class Attribution:
    """A part's failures at Pinpoint: the rows named (part row → masked reason) and how many were not."""

    named: dict[int, str] = field(default_factory=dict)
    unattributed: int = 0
    all_failed: str | None = None  # why every row failed (job failed, timed out or never created)

    @property
    def attributed(self) -> int:
        return len(self.named)


def attribute(outcome: PartOutcome) -> Attribution:
    """Which rows of ``outcome``'s part failed at Pinpoint, as far as its answer says without guessing."""
    job = outcome.job
    if not outcome.imported:
        why = outcome.error or (f"job {job.id} {job.state}" if job else "no import job was created")
        return Attribution(all_failed=why)
    named: dict[int, str] = {}
    for text in job.failures:
        m = _NAMED_ROW.match(text)
        if m and m.group("uri") == outcome.part.uri and 1 <= int(m.group("row")) <= outcome.part.rows:
            named.setdefault(int(m.group("row")), m.group("reason"))
    unattributed = min(max(job.total_failures - len(named), 0), outcome.part.rows - len(named))
    return Attribution(named=named, unattributed=unattributed)


def uncertain_detail(n: int) -> str:
    return (f"Pinpoint failed {n} row(s) of this part without naming them: this row was imported "
            "or is one of them")


@dataclass(frozen=True)
class RunCounts:
    """The run's row counts (the JSON report's), derived from the ledger's fates."""

    rows_read: int
    rows_staged: int
    rows_rejected: int
    rows_superseded: int
    rows_imported: int
    rows_failed: int
    rows_failed_attributed: int
    rows_failed_unattributed: int
    rows_uncertain: int
    fates: dict[str, int] = field(default_factory=dict, compare=False)  # the ledger's rows per fate

    @classmethod
    def from_ledger(cls, fates: Counter[str] | dict[str, int], unattributed: int, *, rows_read: int) -> RunCounts:
        """Counts from the ledger's fate counts and the failures no row can be given (``unattributed``,
        all among the ``uncertain`` rows). Raises BooksError unless every read row has one fate."""
        unknown = set(fates) - set(ROW_FATES)
        if unknown:
            raise BooksError(f"the ledger holds unknown fates {sorted(unknown)}")
        fates = Counter(fates)
        if sum(fates.values()) != rows_read:
            raise BooksError(f"the ledger holds {sum(fates.values())} rows for {rows_read} rows read "
                             f"({dict(fates)})")
        if not 0 <= unattributed <= fates["uncertain"]:
            raise BooksError(f"{unattributed} unattributed failures among {fates['uncertain']} uncertain rows")
        counts = cls(rows_read=rows_read, rows_staged=fates["staged"], rows_rejected=fates["rejected"],
                     rows_superseded=fates["superseded"],
                     rows_imported=fates["imported"] + fates["uncertain"] - unattributed,
                     rows_failed=fates["failed"] + unattributed, rows_failed_attributed=fates["failed"],
                     rows_failed_unattributed=unattributed, rows_uncertain=fates["uncertain"],
                     fates={f: n for f, n in fates.items() if n})
        counts.check()
        return counts

    def check(self) -> None:
        """rows read = imported + rejected + superseded + failed (+ staged, for a validate run)."""
        total = self.rows_staged + self.rows_imported + self.rows_rejected + self.rows_superseded + self.rows_failed
        if total != self.rows_read:
            raise BooksError(f"books do not balance: {self.rows_read} rows read, {total} accounted for ({self})")


def run_status(counts: RunCounts, outcomes: list[PartOutcome]) -> RunStatus:
    """The success rule: ``succeeded`` when every job ran to the end and no row failed at Pinpoint;
    ``failed`` when rows were to be imported and none was; ``partial`` otherwise."""
    if not outcomes or (counts.rows_failed == 0 and not any(o.bad_job for o in outcomes)):
        return "succeeded"
    if counts.rows_imported == 0:
        return "failed"
    return "partial"


def exit_code(status: RunStatus) -> int:
    """0 for a run that succeeded, 1 for one that finished with rows or jobs failed (DESIGN.md)."""
    return 0 if status == "succeeded" else 1
