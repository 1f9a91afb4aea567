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
* A file is read a batch of rows at a time (:mod:`local.import_parse`; a large one in a separate
  process), and each batch is applied in one transaction with the job's counters, so the
  service's memory does not grow with the file and API calls go on while a job runs.
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
from pinpoint_etl.local.apps import new_id, now_iso
from pinpoint_etl.local.endpoint_store import EndpointBatch
from pinpoint_etl.local.faults import FAULTS, row_failure
from pinpoint_etl.local.import_parse import COMPRESSED_MESSAGE, PieceError, ProcessParser, parse_piece
from pinpoint_etl.local.job_api import pending_version
from pinpoint_etl.local.jobs import Cancelled, Job, JobFailed
from pinpoint_etl.local.limits import MAX_JOB_BYTES
from pinpoint_etl.local.row_rules import RowError
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
        self.rows_seen = 0
        self.fail_rows = 0
        self.added_members = False
        self.seg: int | None = None

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
        self.fail_rows = FAULTS.job_knob("ImportJob", "fail_rows", 0)
        self.failures_shape = FAULTS.job_knob("ImportJob", "failures_shape", "row")
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
        fmt = self.job.definition["Format"]
        path = self.state.s3.blob_path(obj)
        big = obj.size >= self.state.scheduler.config.parse_process_bytes
        parser = ProcessParser(path, fmt) if big else None
        try:
            names: dict[int, tuple] = {}
            for batch in (parser if parser is not None else parse_piece(path, fmt)):
                if self.job.cancel.is_set():
                    raise Cancelled
                self._apply(obj, batch, names)
        except RuntimeError as exc:
            raise PieceError(str(exc)) from None
        finally:
            if parser is not None:
                parser.close()

    def _apply(self, obj: S3Object, rows: list[tuple], names: dict[int, tuple]) -> None:
        """Apply one batch of parsed rows in one transaction, with the job's counters."""
        job = self.job
        with self.state.db.write() as conn:
            batch = EndpointBatch(conn, self.app_id, self.state.apps.key(self.app_id), now_iso())
            batch.prefetch([r[2] for r in rows if r[0] == "R"],
                           [r[4] for r in rows if r[0] == "R" and r[4]] +
                           [u for r in rows if r[0] == "U" for u in r[2]],
                           [r[5] for r in rows if r[0] == "R" and r[5]])
            members: list[tuple[str, str | None, str | None]] = []
            processed = 0
            for row in rows:
                kind = row[0]
                if kind == "N":
                    names[row[1]] = row[2]
                    continue
                processed += 1
                self.rows_seen += 1
                row_no = row[1]
                try:
                    if self.rows_seen <= self.fail_rows:
                        raise RowError("injected fault (fail_rows)")
                    if kind == "E":
                        raise RowError(row[2])
                    if kind == "U":
                        found = []
                        for user_id in row[2]:
                            endpoints = batch.user_endpoints(user_id)
                            if not endpoints:
                                raise RowError(f"no endpoints are registered for user id {user_id!r}")
                            found += endpoints
                        members += [(e.id, e.channel, None) for e in found]
                        continue
                    _, _, endpoint_id, definition, user_id, address, channel, names_index, effective, flags = row
                    entry = batch.upsert_row(endpoint_id or new_id(), definition, user_id, address, channel,
                                             names.get(names_index, ()), effective, flags,
                                             request_id=job.id, register=self.register)
                    if self.segment_id:
                        members.append((entry.id, entry.channel, None if self.register else entry.text()))
                except RowError as exc:
                    endpoint_id = row[2] if kind == "R" else (row[3] if kind == "E" else None)
                    job.add_failure(row_failure(self.failures_shape, obj.url, row_no, endpoint_id or None, str(exc)),
                                    row=True)
            batch.flush()
            if self.segment_id and members:
                if self.seg is None:
                    self.seg = self.state.segments.key(self.app_id, self.segment_id)
                self.added_members = True
                self.state.segments.add_members(conn, self.seg, pending_version(job), members)
            job.update(total_processed=processed)
            job.save(conn)

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
        if not created and not self.added_members:
            return  # nothing added: no new version
        number = 1 if created else head["Version"] + 1
        definition = {"Format": d["Format"], "S3Url": d["S3Url"], "RoleArn": d["RoleArn"],
                      "ExternalId": d.get("ExternalId") or self.state.account_id}
        segments.close_import_version(self.app_id, self.segment_id, number, definition, pending_version(self.job))
