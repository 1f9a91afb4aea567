"""Executes one import job: find the files, check the role, read pieces, apply rows.

* Files: every object under ``S3Url`` (the object itself if the URL names one, else the folder
  and its subfolders) whose name ends in ``.csv`` (Format CSV) or ``.json``/``.ndjson``/``.jsonl``
  (Format JSON), case-insensitively; other objects are ignored. An object with a compression
  suffix (``.gz .gzip .bz2 .zst .zip .xz .7z .tgz``) whose inner name has the job's extension
  or no extension, or a matching file whose bytes start with a gzip/bzip2/zstd/zip/xz magic
  number, is a piece that fails ("compressed files can't be imported").
* One piece per file. A piece that can't be read at all (compressed, not UTF-8, malformed
  CSV, empty CSV, unknown or duplicated CSV header) fails: FailedPieces+1 and the job ends FAILED.
  Other pieces are still processed and their rows registered.
* A UTF-8 BOM at the start of a file is accepted and ignored.
* Rows: CSV row N = the N-th record after the header (blank lines skipped but counted);
  JSON row N = line N of the file (blank lines skipped). A bad row fails alone (TotalFailures+1,
  not registered); the job can still be COMPLETED.
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

import copy
import csv
import io
import json
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from pinpoint_etl.local import roles, s3_store
from pinpoint_etl.local.backend import AppData, PinpointState, new_id, now_iso
from pinpoint_etl.local.faults import FAULTS, row_failure
from pinpoint_etl.local.jobs import Cancelled, Job, JobFailed
from pinpoint_etl.local.row_rules import RowError, check_record, csv_row_to_record, header_problem
from pinpoint_etl.schemas.catalogue import MAX_JOB_BYTES

FORMAT_EXTENSIONS = {"CSV": (".csv",), "JSON": (".json", ".ndjson", ".jsonl")}
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".bz2", ".zst", ".zip", ".xz", ".7z", ".tgz")
MAGIC_NUMBERS = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd",
                 b"PK\x03\x04": "zip", b"\xfd7zXZ\x00": "xz"}
COMPRESSED_MESSAGE = "compressed files can't be imported; upload uncompressed UTF-8 files"


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


class PieceError(Exception):
    """The whole file can't be processed."""


class ImportRunner:
    """Runs one import job against the state of its account and region."""

    def __init__(self, job: Job, state: PinpointState, app: AppData, segment_id: str | None,
                 created_segment: bool):
        self.job = job
        self.state = state
        self.app = app
        self.segment_id = segment_id
        self.created_segment = created_segment
        self.pieces: list[tuple[s3_store.S3Object, str]] = []
        self.snapshot: dict[str, dict[str, Any]] = {}
        self.rows_seen = 0
        self.fail_rows = 0

    # ------------------------------------------------------------------ INITIALIZING

    def _fail_job(self, reason: str) -> None:
        self.job.add_failure(f"{self.job.definition['S3Url']}: {reason}")
        raise JobFailed

    def initialize(self) -> None:
        d = self.job.definition
        acct, region = self.state.account_id, self.state.region
        bucket, key = s3_store.parse_s3_url(d["S3Url"])
        try:
            role = roles.get_role(acct, region, d["RoleArn"])
            roles.check_assumable(role, account_id=acct, source_arn=self.app.arn,
                                  external_id=d.get("ExternalId"))
            roles.require(role, "s3:ListBucket", f"arn:aws:s3:::{bucket}")
            objects = s3_store.list_objects(acct, region, bucket, key)
        except (roles.RoleProblem, s3_store.S3Problem) as exc:
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

    # ------------------------------------------------------------------ PROCESSING

    def process(self) -> None:
        fail_pieces = FAULTS.job_knob("ImportJob", "fail_pieces", 0)
        self.fail_rows = FAULTS.job_knob("ImportJob", "fail_rows", 0)
        for index, (obj, kind) in enumerate(self.pieces):
            if self.job.cancel.is_set():
                raise Cancelled
            try:
                if index < fail_pieces:
                    raise PieceError("injected fault (fail_pieces): the piece could not be processed")
                if kind == "compressed":
                    raise PieceError(COMPRESSED_MESSAGE)
                rows = self._rows(obj)
            except (PieceError, s3_store.S3Problem) as exc:
                self.job.add_failure(f"{obj.url}: {exc}")
                self.job.update(failed_pieces=1)
                continue
            for row_no, produce in rows:
                self._row(obj, row_no, produce)
            self.job.update(completed_pieces=1)

    def _rows(self, obj: s3_store.S3Object) -> list[tuple[int, Callable[[], Any]]]:
        data = s3_store.read_object(self.state.account_id, self.state.region, obj)
        for magic, name in MAGIC_NUMBERS.items():
            if data.startswith(magic):
                raise PieceError(f"{COMPRESSED_MESSAGE} (the file is {name}-compressed)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PieceError(f"the file is not valid UTF-8 (invalid byte at offset {exc.start})") from None
        text = text.removeprefix("\ufeff")
        if self.job.definition["Format"] == "CSV":
            return list(_csv_rows(text))
        return list(_json_rows(text))

    def _row(self, obj: s3_store.S3Object, row_no: int, produce: Callable[[], Any]) -> None:
        self.rows_seen += 1
        self.job.update(total_processed=1)
        record = None
        try:
            record = produce()
            if self.rows_seen <= self.fail_rows:
                raise RowError("injected fault (fail_rows)")
            rec = check_record(record, for_import=True)
            with self.state.lock:
                members = self._apply(rec)
                if self.segment_id:
                    for endpoint in members:
                        self.snapshot[endpoint["Id"]] = copy.deepcopy(endpoint)
        except RowError as exc:
            endpoint_id = record.get("Id") if isinstance(record, dict) else None
            shape = FAULTS.job_knob("ImportJob", "failures_shape", "row")
            self.job.add_failure(row_failure(shape, obj.url, row_no, endpoint_id, str(exc)), row=True)

    def _apply(self, rec: dict[str, Any]) -> list[dict[str, Any]]:
        if set(rec) == {"User"} and set(rec["User"]) == {"UserId"}:
            members: list[dict[str, Any]] = []
            for user_id in rec["User"]["UserId"].split():
                endpoints = self.app.user_endpoints(user_id)
                if not endpoints:
                    raise RowError(f"no endpoints are registered for user id {user_id!r}")
                members.extend(endpoints)
            return members
        endpoint_id = rec.get("Id") or new_id()
        return [self.app.upsert(endpoint_id, rec, for_import=True, request_id=self.job.id,
                                register=bool(self.job.definition.get("RegisterEndpoints")))]

    # ------------------------------------------------------------------ segment

    def finish(self) -> None:
        if not self.segment_id or not self.snapshot:
            return
        with self.state.lock:
            segment = self.app.segments.get(self.segment_id)
            if segment is None:
                return
            if self.created_segment:
                segment.versions[0] = {**segment.versions[0], **self.snapshot}
            else:
                segment.versions.append({**segment.versions[-1], **self.snapshot})
                d = self.job.definition
                segment.import_definition = {
                    "Format": d["Format"], "S3Url": d["S3Url"], "RoleArn": d["RoleArn"],
                    "ExternalId": d.get("ExternalId") or self.state.account_id,
                }
            segment.last_modified = now_iso()


def _csv_rows(text: str) -> Iterator[tuple[int, Callable[[], Any]]]:
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise PieceError(f"the file is not valid CSV: {exc}") from None
    if not records:
        raise PieceError("the file is empty (a CSV file needs a header row)")
    header = records[0]
    problem = header_problem(header)
    if problem:
        raise PieceError(problem)
    for row_no, cells in enumerate(records[1:], start=1):
        if not cells or cells == [""] and len(header) > 1:
            continue
        yield row_no, (lambda cells=cells: csv_row_to_record(header, cells))


def _json_rows(text: str) -> Iterator[tuple[int, Callable[[], Any]]]:
    for line_no, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        yield line_no, (lambda line=line: _parse_json_line(line))


def _parse_json_line(line: str) -> Any:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise RowError("expected one JSON object per line (one endpoint per object)")
    return obj
