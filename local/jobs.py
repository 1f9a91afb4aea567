"""Import/export job records (kept in the store) and the scheduler that runs them in background threads.

A job walks CREATED → [PENDING_JOB] → INITIALIZING → PROCESSING → COMPLETING → COMPLETED, or
→ FAILING → FAILED when initialisation fails or a piece fails. It spends ``state_delay``
seconds in each state (config default 0.2 s, env ``PINPOINT_LOCAL_STATE_DELAY``, fault knob
``state_delay`` of ``ImportJob``/``ExportJob``), so a polling client sees every state.
At most ``max_concurrent_jobs`` import jobs run at once (default 2, env
``PINPOINT_LOCAL_MAX_CONCURRENT_JOBS``); later ones wait, in creation order, in PENDING_JOB.
Export jobs are not limited (no documented limit). PREPARING_FOR_INITIALIZATION is never used.

Every state change is written to the store at once, counters with each batch of work; a job that
had not ended when the service stopped starts again from CREATED (counters at zero) when a
service opens the same data folder.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pinpoint_etl.local.apps import new_id, now_iso
from pinpoint_etl.local.db import Database
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.limits import DEFAULT_CONCURRENT_IMPORT_JOBS, MAX_FAILURES

RUNNING = ("INITIALIZING", "PROCESSING", "COMPLETING", "FAILING")
TERMINAL = ("COMPLETED", "FAILED")
COUNTERS = ("total_pieces", "completed_pieces", "failed_pieces", "total_processed", "total_failures")


class Cancelled(Exception):
    """The service was reset or stopped while the job ran."""


class JobFailed(Exception):
    """Initialisation failed; the failure entry is already recorded."""


@dataclass
class Job:
    """One import or export job as GetImportJob/GetExportJob show it."""

    kind: str  # "IMPORT" or "EXPORT"
    application_id: str
    definition: dict[str, Any]
    seq: int
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
    internal: dict[str, Any] = field(default_factory=dict)  # kept in the store, never shown
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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

    def body(self) -> str:
        """The job as stored: its answer plus what the service keeps to itself."""
        return json.dumps({**self.to_json(), "_internal": self.internal})

    def save(self, conn: Any) -> None:
        """Write the job's row (inside the caller's transaction)."""
        conn.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (self.application_id, self.id, self.kind, self.seq, self.status,
                      self.definition.get("SegmentId"), self.body()))

    @classmethod
    def load(cls, seq: int, body: str) -> Job:
        data = json.loads(body)
        job = cls(kind=data["Type"], application_id=data["ApplicationId"], definition=data["Definition"], seq=seq,
                  id=data["Id"], status=data["JobStatus"], creation_date=data["CreationDate"],
                  completion_date=data.get("CompletionDate"), failures=data.get("Failures", []),
                  internal=data.get("_internal", {}))
        for name, key in zip(COUNTERS, ("TotalPieces", "CompletedPieces", "FailedPieces", "TotalProcessed",
                                        "TotalFailures")):
            setattr(job, name, data.get(key, 0))
        return job

    def restart(self) -> None:
        """Back to CREATED with nothing counted (a job the service stopped in the middle of)."""
        self.status, self.completion_date, self.failures = "CREATED", None, []
        for name in COUNTERS:
            setattr(self, name, 0)


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
    max_concurrent_jobs: int = DEFAULT_CONCURRENT_IMPORT_JOBS
    state_delay: float = 0.2
    # import files at least this large are parsed and applied by two processes beside the service
    parse_process_bytes: int = 16 * 1024 * 1024

    @classmethod
    def from_env(cls, max_concurrent_jobs: int | None = None, state_delay: float | None = None) -> JobConfig:
        if max_concurrent_jobs is None:
            max_concurrent_jobs = int(_env_float("PINPOINT_LOCAL_MAX_CONCURRENT_JOBS", DEFAULT_CONCURRENT_IMPORT_JOBS))
        if state_delay is None:
            state_delay = _env_float("PINPOINT_LOCAL_STATE_DELAY", 0.2)
        parse = int(_env_float("PINPOINT_LOCAL_PARSE_PROCESS_BYTES", 16 * 1024 * 1024))
        return cls(max_concurrent_jobs=max_concurrent_jobs, state_delay=state_delay, parse_process_bytes=parse)


class JobScheduler:
    """Runs each job of one service in its own thread; limits running import jobs."""

    def __init__(self, db: Database, config: JobConfig, make_runner: Callable[[Job], Runner]):
        self.db = db
        self.config = config
        self.initial_config = JobConfig(**vars(config))
        self.make_runner = make_runner
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self._running = 0
        self._threads: dict[str, tuple[Job, threading.Thread]] = {}

    def next_seq(self, conn: Any) -> int:
        return conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]

    def live(self, job_id: str) -> Job | None:
        """The job if it is queued or running in this service."""
        entry = self._threads.get(job_id)
        return entry[0] if entry else None

    def submit(self, job: Job) -> None:
        runner = self.make_runner(job)
        thread = threading.Thread(target=self._run, args=(job, runner), daemon=True,
                                  name=f"pinpoint-{job.kind.lower()}-{job.id[:8]}")
        with self._cond:
            self._threads[job.id] = (job, thread)
        thread.start()

    def resume(self) -> int:
        """Start again every job of the store that had not ended; returns how many."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT seq, body FROM jobs WHERE status NOT IN ('COMPLETED', 'FAILED') "
                                "ORDER BY seq").fetchall()
        for seq, body in rows:
            job = Job.load(seq, body)
            job.restart()
            with self.db.write() as conn:
                job.save(conn)
            self.submit(job)
        return len(rows)

    def cancel(self, jobs: list[Job], timeout: float = 5.0) -> None:
        with self._cond:
            threads = [self._threads[j.id][1] for j in jobs if j.id in self._threads]
            for job in jobs:
                job.cancel.set()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def cancel_app(self, app_id: str) -> None:
        with self._cond:
            jobs = [j for j, _ in self._threads.values() if j.application_id == app_id]
        self.cancel(jobs)

    def cancel_all(self, timeout: float = 5.0) -> None:
        """Stop every job thread (used on reset and stop) and restore the start-time config."""
        with self._cond:
            jobs = [j for j, _ in self._threads.values()]
        self.cancel(jobs, timeout)
        with self._cond:
            self._waiting.clear()
            self._running = 0
            self._threads.clear()
        self.config = JobConfig(**vars(self.initial_config))

    # ------------------------------------------------------------------ internals

    def _set(self, job: Job, status: str) -> None:
        with job.lock:
            job.status = status
            if status in TERMINAL:
                job.completion_date = now_iso()
        if not job.cancel.is_set():
            with self.db.write() as conn:
                job.save(conn)

    def _run(self, job: Job, runner: Runner) -> None:
        slot = False
        try:
            self._wait(job)
            if job.kind == "IMPORT":
                self._acquire(job)
                slot = True
            self._set(job, "INITIALIZING")
            self._wait(job)
            failed = False
            try:
                runner.initialize()
                self._set(job, "PROCESSING")
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
            if job.cancel.is_set():
                return
            job.add_failure(f"internal error while running the job: {exc!r}")
            self._set(job, "FAILED")
        finally:
            if slot:
                with self._cond:
                    self._running = max(0, self._running - 1)
                    self._cond.notify_all()
            with self._cond:
                self._threads.pop(job.id, None)

    def _end(self, job: Job, closing: str, final: str) -> None:
        self._set(job, closing)
        self._wait(job)
        self._set(job, final)

    def _delay(self, job: Job) -> float:
        return float(FAULTS.job_knob(job.knob_kind, "state_delay", self.config.state_delay))

    def _wait(self, job: Job) -> None:
        start = time.monotonic()
        while True:
            if job.cancel.is_set():
                raise Cancelled
            remaining = start + self._delay(job) - time.monotonic()
            if remaining <= 0:
                return
            if job.cancel.wait(min(remaining, 0.05)):
                raise Cancelled

    def _can_start(self, job: Job) -> bool:
        return self._waiting[0] is job and self._running < self.config.max_concurrent_jobs

    def _acquire(self, job: Job) -> None:
        with self._cond:
            self._waiting.append(job)
            pending = not self._can_start(job)
        try:
            if pending:
                self._set(job, "PENDING_JOB")
            with self._cond:
                while not self._can_start(job):
                    if job.cancel.is_set():
                        raise Cancelled
                    self._cond.wait(0.05)
                self._running += 1
        finally:
            with self._cond:
                if job in self._waiting:
                    self._waiting.remove(job)
                self._cond.notify_all()
