"""Prefect flow ``import_endpoints``: the import run with tasks, a global concurrency limit and artifacts."""

from __future__ import annotations

import threading

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

from pinpoint_etl.core.errors import JobFailedError, PipelineError
from pinpoint_etl.core.masking import scrub
from pinpoint_etl.flows.forms import (
    IMPORT_FORM,
    ImportAdvancedParam,
    ImportChoices,
    ImportChoicesParam,
    ImportSourceParam,
    ImportTarget,
    ImportTargetParam,
)
from pinpoint_etl.flows.import_run import configure_target, run_import
from pinpoint_etl.flows.preflight import check_import
from pinpoint_etl.flows.runtime import Runtime, failed, part_name
from pinpoint_etl.report.artifacts import PROGRESS_KEY, SegmentInfo, publish_artifacts

JOB_LIMIT_NAME = "pinpoint-import-jobs"


@task(name="stage-chunk", task_run_name="stage-chunk-{task.index}", cache_policy=NO_CACHE)
def stage_chunk_task(task):
    """Map, normalise and validate one spilled chunk (paths in, a small manifest out)."""
    from pinpoint_etl.staging.chunks import stage_chunk

    return stage_chunk(task)


@task(name="stage-chunk", task_run_name="stage-chunk-{task.index}", cache_policy=NO_CACHE)
def stage_chunk_process_task(task, pool):
    """``stage_chunk`` in one of the run's worker processes (``pool``); this task waits for it."""
    from pinpoint_etl.staging.dispatch import run_chunk

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


@task(name="import-job", task_run_name="import {label}", cache_policy=NO_CACHE)
def import_job_task(part, fn, label: str):
    """One part's import job, holding a slot of the global concurrency limit while it runs (its inputs
    hold clients and locks: nothing to cache or hash)."""
    with concurrency(JOB_LIMIT_NAME, occupy=1, strict=True):
        return fn(part)


class PrefectRuntime(Runtime):
    """Logs to the run logger, runs jobs as tasks under a global limit, publishes artifacts."""

    force_hint = 'the flow parameter "Import again" (options.force)'

    def __init__(self, segments=None):
        self._logger = get_run_logger()
        self._progress_id = None
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[int, int]] = {}
        self._segments = segments
        self.reused: dict[str, str] = {}  # part URI -> id of the earlier run's job taken over
        self.resumed_staging = False

    def log(self, message: str) -> None:
        self._logger.info(scrub(message))

    def resumed(self, run_id) -> None:
        self.resumed_staging = True
        super().resumed(run_id)

    def job_reused(self, run_id, part, snap) -> None:
        with self._lock:
            self.reused[part.uri] = snap.id
        super().job_reused(run_id, part, snap)

    def job_update(self, run_id, part, snap) -> None:
        super().job_update(run_id, part, snap)
        with self._lock:
            self._jobs[part.uri] = (snap.completed_pieces + snap.failed_pieces, max(snap.total_pieces, 1))
            done = sum(d for d, _ in self._jobs.values())
            total = sum(t for _, t in self._jobs.values())
            if self._progress_id is not None:
                update_progress_artifact(self._progress_id, 100.0 * done / total,
                                         description=f"run {run_id}: {done}/{total} pieces of "
                                                     f"{len(self._jobs)} job(s)")

    def chunk_executor(self, runner, workers, address):
        return TaskRunnerExecutor(runner, workers, address)

    def run_jobs(self, parts, fn, limit):
        if not parts:
            return []
        with get_client(sync_client=True) as client:
            client.upsert_global_concurrency_limit_by_name(JOB_LIMIT_NAME, limit)
        # created here, in the flow's own thread, so the artifact belongs to the flow run (not to a task run)
        self._progress_id = create_progress_artifact(0.0, key=PROGRESS_KEY,
                                                     description=f"{len(parts)} import job(s) starting")
        futures = [import_job_task.submit(part, fn, part_name(part.uri)) for part in parts]
        return [f.result() for f in futures]

    def publish(self, report) -> None:
        super().publish(report)
        segments = self._segments(report) if self._segments else []
        publish_artifacts(report, segments=segments, reused=self.reused, resumed=self.resumed_staging,
                          force_hint=self.force_hint)


def segments_of(target, opts):
    """The segments a report's jobs wrote to, with their names (the one asked for, or read with GetSegment)."""
    def lookup(report) -> list[SegmentInfo]:
        out = []
        for seg_id in dict.fromkeys(j.get("segment_id") for j in report.jobs if j.get("segment_id")):
            if opts.segment_id == seg_id or not opts.define_segment:
                try:
                    name = target.clients.pinpoint.get_segment(ApplicationId=target.application_id,
                                                               SegmentId=seg_id)["SegmentResponse"].get("Name")
                except Exception:  # noqa: BLE001 - the name is a courtesy: the id is what matters
                    name = None
                out.append(SegmentInfo(id=seg_id, name=name, created=False))
            else:
                out.append(SegmentInfo(id=seg_id, name=opts.segment_name, created=True))
        return out
    return lookup


@flow(name="import_endpoints", log_prints=False)
def import_endpoints(source: ImportSourceParam, target: ImportTargetParam = ImportTarget(),
                     options: ImportChoicesParam = ImportChoices(), advanced: ImportAdvancedParam = None) -> dict:
    """Import endpoint records from CSV/JSON files into a Pinpoint project.

    Reads, normalises and validates the files, stages import-ready files in S3, runs one
    CreateImportJob per 1 GB part (at most two at once by default), polls them and reports every
    row's fate. The flow run fails when no row could be imported.

    Args:
        source: The files to import, how their columns map to Pinpoint fields, and how to read them.
        target: The Pinpoint project, staging bucket, import role and segment; blank fields come from the
            environment of the machine that runs the flow.
        options: Whether to import again an input that was imported before.
        advanced: Tuning and AWS details. The defaults suit most runs; choose Custom to change them.
    """
    src, tp, opts = IMPORT_FORM.run_models(source=source, target=target, options=options, advanced=advanced)
    try:
        src = check_import(src, tp)
        target_ = configure_target(tp)
        report = run_import(src, tp, opts, PrefectRuntime(segments=segments_of(target_, opts)), target=target_)
    except PipelineError as exc:
        return failed(exc)
    if report.status == "failed":
        return failed(JobFailedError(f"import failed: {'; '.join(report.errors) or 'every job failed'}",
                                     run_id=report.run_id))
    return report.to_dict()
