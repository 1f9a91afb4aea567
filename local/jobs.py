"""Import/export job records and the scheduler that runs them in background threads.

A job walks CREATED → [PENDING_JOB] → INITIALIZING → PROCESSING → COMPLETING → COMPLETED, or
→ FAILING → FAILED when initialisation fails or a piece fails. It spends ``state_delay``
seconds in each state (config default 0.2 s, env ``PINPOINT_LOCAL_STATE_DELAY``, fault knob
``state_delay`` of ``ImportJob``/``ExportJob``), so a polling client sees every state.
At most ``max_concurrent_jobs`` import jobs per account run at once (default 2, env
``PINPOINT_LOCAL_MAX_CONCURRENT_JOBS``); later ones wait, in creation order, in PENDING_JOB.
Export jobs are not limited (no documented limit). PREPARING_FOR_INITIALIZATION is never used.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pinpoint_etl.local.backend import new_id, next_seq, now_iso
from pinpoint_etl.local.faults import FAULTS

MAX_FAILURES = 100
RUNNING = ("INITIALIZING", "PROCESSING", "COMPLETING", "FAILING")
TERMINAL = ("COMPLETED", "FAILED")


class Cancelled(Exception):
    """The service was reset or stopped while the job ran."""


class JobFailed(Exception):
    """Initialisation failed; the failure entry is already recorded."""


@dataclass
class Job:
    """One import or export job as GetImportJob/GetExportJob show it."""

    kind: str  # "IMPORT" or "EXPORT"
    application_id: str
    account_id: str
    definition: dict[str, Any]
    id: str = field(default_factory=new_id)
    status: str = "CREATED"
    creation_date: str = field(default_factory=now_iso)
    completion_date: str | None = None
    total_pieces: int = 0
    completed_pieces: int = 0
    failed_pieces: int = 0
    total_processed: int = 0
    total_failures: int = 0
    failures: list[str] = field(default_factory=list)
    seq: int = field(default_factory=next_seq)
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def knob_kind(self) -> str:
        return "ImportJob" if self.kind == "IMPORT" else "ExportJob"

    def add_failure(self, entry: str, *, row: bool = False) -> None:
        """Record a failed entry (only the first 100 are kept); ``row`` counts it in TotalFailures."""
        with self.lock:
            if len(self.failures) < MAX_FAILURES:
                self.failures.append(entry)
            if row:
                self.total_failures += 1

    def update(self, **counters: int) -> None:
        """Add to counters (e.g. ``completed_pieces=1``)."""
        with self.lock:
            for name, delta in counters.items():
                setattr(self, name, getattr(self, name) + delta)

    def set_status(self, status: str) -> None:
        with self.lock:
            self.status = status
            if status in TERMINAL:
                self.completion_date = now_iso()

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {
                "ApplicationId": self.application_id,
                "CreationDate": self.creation_date,
                "Definition": dict(self.definition),
                "Id": self.id,
                "JobStatus": self.status,
                "Type": self.kind,
            }
            if self.status != "CREATED":
                out.update(
                    CompletedPieces=self.completed_pieces, FailedPieces=self.failed_pieces,
                    TotalPieces=self.total_pieces, TotalProcessed=self.total_processed,
                    TotalFailures=self.total_failures,
                )
                if self.failures:
                    out["Failures"] = list(self.failures)
            if self.completion_date:
                out["CompletionDate"] = self.completion_date
            return out


class Runner(Protocol):
    """What a job does: ``initialize`` (may raise JobFailed), ``process`` (pieces), ``finish``."""

    def initialize(self) -> None: ...
    def process(self) -> None: ...
    def finish(self) -> None: ...


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass
class JobConfig:
    max_concurrent_jobs: int = 2
    state_delay: float = 0.2

    @classmethod
    def from_env(cls, max_concurrent_jobs: int | None = None, state_delay: float | None = None) -> JobConfig:
        if max_concurrent_jobs is None:
            max_concurrent_jobs = int(_env_float("PINPOINT_LOCAL_MAX_CONCURRENT_JOBS", 2))
        if state_delay is None:
            state_delay = _env_float("PINPOINT_LOCAL_STATE_DELAY", 0.2)
        return cls(max_concurrent_jobs=max_concurrent_jobs, state_delay=state_delay)


class JobScheduler:
    """Runs each job in its own thread; limits running import jobs per account."""

    def __init__(self) -> None:
        self.config = JobConfig()
        self.initial_config = JobConfig()
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self._running: dict[str, int] = {}
        self._threads: dict[str, tuple[Job, threading.Thread]] = {}

    def configure(self, config: JobConfig) -> None:
        self.config = config
        self.initial_config = JobConfig(**vars(config))

    def submit(self, job: Job, runner: Runner) -> None:
        thread = threading.Thread(target=self._run, args=(job, runner), daemon=True,
                                  name=f"pinpoint-{job.kind.lower()}-{job.id[:8]}")
        with self._cond:
            self._threads[job.id] = (job, thread)
        thread.start()

    def cancel_all(self, timeout: float = 5.0) -> None:
        """Stop every job thread (used on reset and stop) and restore the start-time config."""
        with self._cond:
            threads = list(self._threads.values())
            for job, _ in threads:
                job.cancel.set()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for _, thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            self._waiting.clear()
            self._running.clear()
            self._threads.clear()
        self.config = JobConfig(**vars(self.initial_config))

    # ------------------------------------------------------------------ internals

    def _run(self, job: Job, runner: Runner) -> None:
        slot = False
        try:
            self._wait(job)
            if job.kind == "IMPORT":
                self._acquire(job)
                slot = True
            job.set_status("INITIALIZING")
            self._wait(job)
            failed = False
            try:
                runner.initialize()
                job.set_status("PROCESSING")
                runner.process()
                runner.finish()
                self._wait(job)
            except JobFailed:
                failed = True
            if failed or job.failed_pieces:
                self._end(job, "FAILING", "FAILED")
            else:
                self._end(job, "COMPLETING", "COMPLETED")
        except Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - a runner bug must not leave the job PROCESSING forever
            job.add_failure(f"internal error while running the job: {exc!r}")
            job.set_status("FAILED")
        finally:
            if slot:
                with self._cond:
                    self._running[job.account_id] = max(0, self._running.get(job.account_id, 0) - 1)
                    self._cond.notify_all()
            with self._cond:
                self._threads.pop(job.id, None)

    def _end(self, job: Job, closing: str, final: str) -> None:
        job.set_status(closing)
        self._wait(job)
        job.set_status(final)

    def _delay(self, job: Job) -> float:
        return float(FAULTS.job_knob(job.knob_kind, "state_delay", self.config.state_delay))

    def _wait(self, job: Job) -> None:
        start = time.monotonic()
        while True:
            remaining = start + self._delay(job) - time.monotonic()
            if remaining <= 0:
                return
            if job.cancel.wait(min(remaining, 0.05)):
                raise Cancelled

    def _can_start(self, job: Job) -> bool:
        first = next(j for j in self._waiting if j.account_id == job.account_id)
        return first is job and self._running.get(job.account_id, 0) < self.config.max_concurrent_jobs

    def _acquire(self, job: Job) -> None:
        with self._cond:
            self._waiting.append(job)
            try:
                if not self._can_start(job):
                    job.set_status("PENDING_JOB")
                while not self._can_start(job):
                    if job.cancel.is_set():
                        raise Cancelled
                    self._cond.wait(0.05)
            finally:
                if job in self._waiting:
                    self._waiting.remove(job)
            self._running[job.account_id] = self._running.get(job.account_id, 0) + 1
            self._cond.notify_all()


SCHEDULER = JobScheduler()
