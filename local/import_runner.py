"""Executes one import job: find the files, check the role, stream pieces in batches, apply rows.

* Files: every object under ``S3Url`` (the object itself if the URL names one, else the folder
  and its subfolders) whose name ends in ``.csv`` (Format CSV) or ``.json``/``.ndjson``/``.jsonl``
  (Format JSON), case-insensitively; other objects are ignored. An object with a compression
  suffix (``.gz .gzip .bz2 .zst .zip .xz .7z .tgz``) whose inner name has the job's extension
  or no extension, or a matching file whose bytes start with a gzip/bzip2/zstd/zip/xz magic
  number, is a piece that fails ("compressed files can't be imported").
* One piece per file. A piece that can't be read at all (compressed, not UTF-8, empty CSV, unknown
  or duplicated CSV header) fails before any of its rows is applied: FailedPieces+1 and the job
  ends FAILED. Other pieces are still processed and their rows registered.
* A UTF-8 BOM at the start of a file is accepted and ignored.
* Rows: CSV row N = the N-th record after the header (blank lines skipped but counted; a record
  that is not valid CSV fails as a row); JSON row N = line N of the file (blank lines skipped).
  A bad row fails alone (TotalFailures+1, not registered); the job can still be COMPLETED.
* A file is read a batch of rows at a time (:mod:`local.import_parse`) and each batch is applied in
  one transaction with the job's counters (:mod:`local.import_apply`; a large file by two processes
  beside the service), so the service's memory does not grow with the file and API calls are
  answered at once while a job runs.
* TotalProcessed counts every row read, failed ones included. TotalFailures counts failed rows.
* Failures entries: ``"s3://bucket/key row N: reason"`` for a row (our own choice: AWS never
  documented this text; the ``failures_shape`` fault knob writes other shapes, see
  ``local.faults.row_failure``), ``"s3://bucket/key: reason"`` for a piece, ``"<S3Url>: reason"``
  for the whole job (role, missing files, size limit).
* A row whose only field is ``User.UserId`` (several ids separated by spaces) adds those users'
  existing endpoints to the segment; a user without endpoints fails the row.
* A row without ``Id`` gets a generated id (32 hex characters).
* Total size over 1 GB (fault knob ``max_job_bytes`` overrides) fails the job at INITIALIZING.
"""

from __future__ import annotations

import posixpath
from typing import Any

from pinpoint_etl.local import roles
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.import_apply import Apply, ApplyProcess
from pinpoint_etl.local.import_parse import COMPRESSED_MESSAGE, PieceError
from pinpoint_etl.local.job_api import pending_version
from pinpoint_etl.local.jobs import Cancelled, Job, JobFailed
from pinpoint_etl.local.limits import MAX_JOB_BYTES
from pinpoint_etl.local.s3_store import S3Object, S3Problem, parse_s3_url

FORMAT_EXTENSIONS = {"CSV": (".csv",), "JSON": (".json", ".ndjson", ".jsonl")}
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".bz2", ".zst", ".zip", ".xz", ".7z", ".tgz")


def classify(key: str, fmt: str) -> str | None:
    """``"piece"`` for a file of this format, ``"compressed"`` for a refused archive, else None."""
    lower = key.lower()
    extensions = FORMAT_EXTENSIONS[fmt]
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            inner = lower[: -len(suffix)]
            no_extension = "." not in posixpath.basename(inner)
            return "compressed" if inner.endswith(extensions) or no_extension else None
    return "piece" if lower.endswith(extensions) else None


class ImportRunner:
    """Runs one import job against the store of its service."""

    def __init__(self, job: Job, state: Any):
        self.job = job
        self.state = state
        d = job.definition
        self.app_id = job.application_id
        self.segment_id: str | None = d.get("SegmentId")
        self.register = bool(d.get("RegisterEndpoints"))
        self.pieces: list[tuple[S3Object, str]] = []
        self.apply: Apply | None = None

    # ------------------------------------------------------------------ INITIALIZING

    def _fail_job(self, reason: str) -> None:
        self.job.add_failure(f"{self.job.definition['S3Url']}: {reason}")
        raise JobFailed

    def initialize(self) -> None:
        d = self.job.definition
        state = self.state
        bucket, key = parse_s3_url(d["S3Url"])
        try:
            role = roles.get_role(state.account_id, state.region, d["RoleArn"])
            roles.check_assumable(role, account_id=state.account_id, source_arn=state.apps.arn(self.app_id),
                                  external_id=d.get("ExternalId"))
            roles.require(role, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
            objects = state.s3.objects_at(bucket, key)
        except (roles.RoleProblem, S3Problem) as exc:
            self._fail_job(str(exc))
        fmt = d["Format"]
        self.pieces = [(o, kind) for o in objects if (kind := classify(o.key, fmt))]
        if not self.pieces:
            self._fail_job(f"no {fmt} files found at this location "
                           f"(looked for {', '.join(FORMAT_EXTENSIONS[fmt])} objects)")
        try:
            for obj, _ in self.pieces:
                roles.require(role, "s3:GetObject", f"arn:aws:s3:::{obj.bucket}/{obj.key}")
        except roles.RoleProblem as exc:
            self._fail_job(str(exc))
        total = sum(o.size for o, _ in self.pieces)
        limit = FAULTS.job_knob("ImportJob", "max_job_bytes", MAX_JOB_BYTES)
        if total > limit:
            self._fail_job(f"the files total {total} bytes, more than the {limit} bytes "
                           "(1 GB) allowed per import job")
        with self.job.lock:
            self.job.total_pieces = len(self.pieces)
        self._save()

    def _save(self) -> None:
        with self.state.db.write() as conn:
            self.job.save(conn)

    # ------------------------------------------------------------------ PROCESSING

    def process(self) -> None:
        fail_pieces = FAULTS.job_knob("ImportJob", "fail_pieces", 0)
        seg = self.state.segments.key(self.app_id, self.segment_id) if self.segment_id else None
        self.apply = Apply(app_id=self.app_id, app_key=self.state.apps.key(self.app_id), register=self.register,
                           seg=seg, pending=pending_version(self.job),
                           fail_rows=FAULTS.job_knob("ImportJob", "fail_rows", 0),
                           failures_shape=FAULTS.job_knob("ImportJob", "failures_shape", "row"))
        for index, (obj, kind) in enumerate(self.pieces):
            if self.job.cancel.is_set():
                raise Cancelled
            try:
                if index < fail_pieces:
                    raise PieceError("injected fault (fail_pieces): the piece could not be processed")
                if kind == "compressed":
                    raise PieceError(COMPRESSED_MESSAGE)
                self._piece(obj)
            except (PieceError, S3Problem) as exc:
                self.job.add_failure(f"{obj.url}: {exc}")
                self.job.update(failed_pieces=1)
                self._save()
                continue
            self.job.update(completed_pieces=1)
            self._save()

    def _piece(self, obj: S3Object) -> None:
        state = self.state
        fmt = self.job.definition["Format"]
        path = state.s3.blob_path(obj)
        if obj.size < state.scheduler.config.parse_process_bytes:
            self.apply.piece(state.db, self.job, obj.url, path, fmt, split=False)
        elif not ApplyProcess(self.apply, self.job, str(state.db.folder), state.db.durable, obj.url, path,
                              fmt).run():
            raise Cancelled
        if self.job.cancel.is_set():
            raise Cancelled

    # ------------------------------------------------------------------ segment

    def finish(self) -> None:
        if not self.segment_id:
            return
        d = self.job.definition
        segments = self.state.segments
        try:
            head = segments.head(self.app_id, self.segment_id)
        except Exception:  # noqa: BLE001 - the segment was deleted while the job ran
            return
        created = bool(self.job.internal.get("created_segment"))
        if not created and not (self.apply and self.apply.added_members):
            return  # nothing added: no new version
        number = 1 if created else head["Version"] + 1
        definition = {"Format": d["Format"], "S3Url": d["S3Url"], "RoleArn": d["RoleArn"],
                      "ExternalId": d.get("ExternalId") or self.state.account_id}
        segments.close_import_version(self.app_id, self.segment_id, number, definition, pending_version(self.job))
