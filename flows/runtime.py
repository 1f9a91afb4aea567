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


def failed(exc: Exception):
    """A flow run's end as one line: an ERROR log line and a Failed state carrying the error (no traceback)."""
    from prefect import get_run_logger
    from prefect.states import Failed

    message = scrub(str(exc))
    get_run_logger().error(message)
    return Failed(message=message, data=exc)


def part_name(uri: str) -> str:
    """``s3://b/p/r-1/import/part-00001.csv`` → ``part-00001``: how logs, tasks and artifacts name a part."""
    return uri.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0] or uri


class Runtime:
    """Plain runtime: standard logging, jobs on a thread pool of ``limit`` workers."""

    #: how this driver's user asks for a fresh import (the CLI's option; the flow names its parameter)
    force_hint = "--force"

    def log(self, message: str) -> None:
        log.info(scrub(message))

    def progress(self, stage: str, rows: int) -> None:
        """Rows done so far in ``stage`` ("read" or "stage")."""

    def job_update(self, run_id: str, part: "StagedPart", snap: "JobSnapshot") -> None:
        """A reading of a job: logged once per job status (polls that change only counters are not)."""
        logged = self.__dict__.setdefault("_logged_status", {})
        if logged.get(snap.id) == snap.pinpoint_status:
            return
        logged[snap.id] = snap.pinpoint_status
        self.log(f"run {run_id}: job {snap.id} ({part_name(part.uri)}): {snap.pinpoint_status} "
                 f"({snap.completed_pieces}/{snap.total_pieces} pieces, {snap.total_processed} processed, "
                 f"{snap.total_failures} failed)")

    def resumed(self, run_id: str) -> None:
        """The run found its input staged by an earlier run (its manifest) and goes on from there."""
        self.log(f"run {run_id}: this input was staged before (manifest found): resuming without staging "
                 f"or uploading again, and reusing the earlier jobs for its files; {self.force_hint} starts afresh")

    def job_reused(self, run_id: str, part: "StagedPart", snap: "JobSnapshot") -> None:
        """An import job an earlier run created for this exact staged file is taken over, not created again."""
        self.log(f"run {run_id}: {part_name(part.uri)} was imported before by job {snap.id} "
                 f"(created {snap.creation_date or 'at an unknown time'}, {snap.pinpoint_status}): reusing it, "
                 f"no new job; {self.force_hint} imports again")

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
