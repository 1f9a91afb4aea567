"""Prefect flow ``import_endpoints``: the import run with tasks, a global concurrency limit and artifacts."""

from __future__ import annotations

import threading

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

from pinpoint_etl.core.errors import JobFailedError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.flows.import_run import run_import
from pinpoint_etl.flows.params import ImportOptions, SourceParams, TargetParams
from pinpoint_etl.flows.runtime import Runtime
from pinpoint_etl.report.artifacts import PROGRESS_KEY, publish_artifacts

JOB_LIMIT_NAME = "pinpoint-import-jobs"


@task(name="stage-chunk", task_run_name="stage-chunk-{task.index}")
def stage_chunk_task(task):
    """Map, normalise and validate one spilled chunk (paths in, a small manifest out)."""
    from pinpoint_etl.staging.chunks import stage_chunk

    return stage_chunk(task)


@task(name="stage-chunk", task_run_name="stage-chunk-{task.index}", cache_policy=NO_CACHE)
def stage_chunk_process_task(task, pool):
    """``stage_chunk`` in one of the run's worker processes (``pool``); this task waits for it."""
    from pinpoint_etl.staging.tasks import run_chunk

    return pool.submit(run_chunk, task).result()


class TaskRunnerExecutor:
    """Chunk work as Prefect tasks on a Prefect task runner: threads, Dask through prefect-dask, or
    (``processes``) thread tasks that each hand their chunk to a worker process of ours — one Prefect
    task per chunk either way, with every core used and the workers started warm."""

    def __init__(self, runner: str, workers: int, address: str | None):
        self._processes = None
        self.same_host = not (runner == "dask" and address)  # see staging.executors
        if runner == "processes":
            from prefect.task_runners import ThreadPoolTaskRunner

            from pinpoint_etl.staging.executors import ProcessExecutor

            self._processes = ProcessExecutor(workers)
            self._runner = ThreadPoolTaskRunner(max_workers=workers)
        elif runner == "dask":
            from prefect_dask import DaskTaskRunner

            self._runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(cluster_kwargs={
                "n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
        else:
            from prefect.task_runners import ThreadPoolTaskRunner

            self._runner = ThreadPoolTaskRunner(max_workers=workers)
        self.workers = workers
        self._runner.__enter__()

    def submit(self, fn, arg):
        if self._processes is not None:
            return self._runner.submit(stage_chunk_process_task, parameters={"task": arg, "pool": self._processes})
        return self._runner.submit(stage_chunk_task, parameters={"task": arg})

    def close(self):
        self._runner.__exit__(None, None, None)
        if self._processes is not None:
            self._processes.close()


@task(name="import-job", task_run_name="import-job-{part.uri}")
def import_job_task(part, fn):
    """One part's import job, holding a slot of the global concurrency limit while it runs."""
    with concurrency(JOB_LIMIT_NAME, occupy=1, strict=True):
        return fn(part)


class PrefectRuntime(Runtime):
    """Logs to the run logger, runs jobs as tasks under a global limit, publishes artifacts."""

    def __init__(self):
        self._logger = get_run_logger()
        self._progress_id = None
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[int, int]] = {}

    def log(self, message: str) -> None:
        self._logger.info(scrub(message))

    def job_update(self, run_id, part, snap) -> None:
        super().job_update(run_id, part, snap)
        with self._lock:
            self._jobs[part.uri] = (snap.completed_pieces + snap.failed_pieces, max(snap.total_pieces, 1))
            done = sum(d for d, _ in self._jobs.values())
            total = sum(t for _, t in self._jobs.values())
            pct = 100.0 * done / total
            description = f"run {run_id}: {done}/{total} pieces of {len(self._jobs)} job(s)"
            if self._progress_id is None:
                self._progress_id = create_progress_artifact(pct, key=PROGRESS_KEY, description=description)
            else:
                update_progress_artifact(self._progress_id, pct, description=description)

    def chunk_executor(self, runner, workers, address):
        return TaskRunnerExecutor(runner, workers, address)

    def run_jobs(self, parts, fn, limit):
        if not parts:
            return []
        with get_client(sync_client=True) as client:
            client.upsert_global_concurrency_limit_by_name(JOB_LIMIT_NAME, limit)
        futures = [import_job_task.submit(part, fn) for part in parts]
        return [f.result() for f in futures]

    def publish(self, report) -> None:
        super().publish(report)
        publish_artifacts(report)


@flow(name="import_endpoints", log_prints=False)
def import_endpoints(source: SourceParams, target: TargetParams = TargetParams(),
                     options: ImportOptions = ImportOptions()) -> dict:
    """Import endpoint records from CSV/JSON sources into a Pinpoint application.

    Reads, normalises and validates the sources, stages import-ready files in S3, runs one
    CreateImportJob per ≤ 1 GB part (at most ``options.max_concurrent_jobs`` at once), polls
    them and reports every row's fate. The flow run fails when no row could be imported.
    """
    report = run_import(source, target, options, PrefectRuntime())
    if report.status == "failed":
        raise JobFailedError(f"import failed: {'; '.join(report.errors) or 'every job failed'}",
                             run_id=report.run_id)
    return report.to_dict()
