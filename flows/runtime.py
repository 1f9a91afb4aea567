"""How a run talks to its driver: logging, progress, job updates, running jobs, publishing the report.

``Runtime`` runs jobs in threads and stays quiet; ``ConsoleRuntime`` draws rich progress bars
and a summary table; the Prefect flow supplies its own (tasks, concurrency limit, artifacts).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable

from pinpoint_etl.core.masking import scrub

if TYPE_CHECKING:
    from pinpoint_etl.pinpoint.jobs import JobSnapshot
    from pinpoint_etl.report.summary import PartOutcome, RunReport
    from pinpoint_etl.staging.prepare import StagedPart

log = logging.getLogger("pinpoint_etl")


class Runtime:
    """Plain runtime: standard logging, jobs on a thread pool of ``limit`` workers."""

    def log(self, message: str) -> None:
        log.info(scrub(message))

    def progress(self, stage: str, rows: int) -> None:
        """Rows done so far in ``stage`` ("read" or "stage")."""

    def job_update(self, run_id: str, part: "StagedPart", snap: "JobSnapshot") -> None:
        self.log(f"run {run_id}: job {snap.id} for {part.uri}: {snap.pinpoint_status} "
                 f"({snap.completed_pieces}/{snap.total_pieces} pieces, {snap.total_processed} processed, "
                 f"{snap.total_failures} failed)")

    def run_jobs(self, parts: list["StagedPart"], fn: Callable[["StagedPart"], "PartOutcome"],
                 limit: int) -> list["PartOutcome"]:
        if not parts:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(limit, len(parts)))) as pool:
            return list(pool.map(fn, parts))

    def chunk_executor(self, runner: str, workers: int, address: str | None):
        """The executor of chunk work; None lets staging make its own (threads or Dask)."""
        return None

    def publish(self, report: "RunReport") -> None:
        self.log(f"run {report.run_id}: {report.status}: read {report.rows_read}, imported {report.rows_imported}, "
                 f"rejected {report.rows_rejected}, superseded {report.rows_superseded}, failed {report.rows_failed}")


class ConsoleRuntime(Runtime):
    """Rich progress bars while reading and polling, then a summary table."""

    def __init__(self, console=None, quiet: bool = False):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                                  console=self.console, transient=False, disable=quiet)
        self._tasks: dict[str, int] = {}
        self._started = False

    def _task(self, key: str, description: str, total: float | None = None) -> int:
        if not self._started:
            self._progress.start()
            self._started = True
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(description, total=total, detail="")
        return self._tasks[key]

    def log(self, message: str) -> None:
        if not self.quiet:
            self._progress.console.print(scrub(message), highlight=False, markup=False, soft_wrap=True)

    def progress(self, stage: str, rows: int) -> None:
        label = {"read": "reading + validating", "stage": "writing import files"}.get(stage, stage)
        tid = self._task(stage, label)
        self._progress.update(tid, completed=rows, detail=f"{rows:,} rows")

    def job_update(self, run_id, part, snap) -> None:
        tid = self._task(f"job:{part.uri}", f"job {snap.id[:12]}", total=max(snap.total_pieces, 1))
        self._progress.update(tid, total=max(snap.total_pieces, 1),
                              completed=snap.completed_pieces + snap.failed_pieces,
                              detail=f"{snap.pinpoint_status} · {snap.total_processed:,} processed · "
                                     f"{snap.total_failures:,} failed")

    def publish(self, report) -> None:
        from pinpoint_etl.report.console import summary_table

        if self._started:
            self._progress.stop()
        if not self.quiet:
            self.console.print(summary_table(report))
