"""Import and export job operations: Create/Get ImportJob(s), Create/Get ExportJob(s), GetSegment*Jobs.

Create-time 400s: missing S3Url/RoleArn/Format (S3UrlPrefix/RoleArn), Format not CSV/JSON, an URL
that is not ``s3://bucket/..``, DefineSegment without SegmentName, a SegmentId of a dimensional
segment (import); 404: unknown application or SegmentId. Everything else (role, bucket, files,
size) fails the job at INITIALIZING. Lists are newest first (``page-size`` default 100, opaque
``token``).
"""

from __future__ import annotations

import json
from typing import Any

from pinpoint_etl.local.api import Call, operation, paged
from pinpoint_etl.local.errors import BadRequest, NotFound
from pinpoint_etl.local.jobs import Job
from pinpoint_etl.local.s3_store import parse_s3_url

FORMATS = ("CSV", "JSON")


def pending_version(job: Job) -> int:
    """The version number segment members added by a running job carry until it ends."""
    return 10 ** 9 + job.seq


@operation("CreateImportJob")
def create_import_job(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    state = call.state
    missing = [k for k in ("S3Url", "RoleArn", "Format") if not body.get(k)]
    if missing:
        raise BadRequest(f"Missing required field(s): {', '.join(missing)}")
    if body["Format"] not in FORMATS:
        raise BadRequest(f"Invalid Format {body['Format']!r}: valid values are CSV, JSON")
    try:
        parse_s3_url(body["S3Url"])
    except ValueError as exc:
        raise BadRequest(f"Invalid S3Url: {exc}") from None
    definition: dict[str, Any] = {
        "DefineSegment": bool(body.get("DefineSegment", False)),
        "ExternalId": body.get("ExternalId") or state.account_id,
        "Format": body["Format"],
        "RegisterEndpoints": bool(body.get("RegisterEndpoints", False)),
        "RoleArn": body["RoleArn"],
        "S3Url": body["S3Url"],
    }
    segment_id = body.get("SegmentId")
    created = False
    with state.db.write() as conn:
        if segment_id:
            head = state.segments.head(app_id, segment_id)
            if head["SegmentType"] != "IMPORT":
                raise BadRequest(f"Segment {segment_id} is a dimensional segment; an import job can add "
                                 "endpoints to an imported segment only")
        elif definition["DefineSegment"]:
            if not body.get("SegmentName"):
                raise BadRequest("SegmentName is required when DefineSegment is true")
            version = {"ImportDefinition": {**{k: definition[k] for k in ("Format", "S3Url", "RoleArn", "ExternalId")},
                                            "Size": 0, "ChannelCounts": {}}}
            segment_id = state.segments.create(conn, app_id, "IMPORT", body["SegmentName"], version, {})
            created = True
        if body.get("SegmentName"):
            definition["SegmentName"] = body["SegmentName"]
        if segment_id:
            definition["SegmentId"] = segment_id
        job = Job(kind="IMPORT", application_id=app_id, definition=definition, seq=state.scheduler.next_seq(conn),
                  internal={"created_segment": created})
        job.save(conn)
    state.scheduler.submit(job)
    return 201, job.to_json()


@operation("CreateExportJob")
def create_export_job(call: Call) -> tuple[int, Any]:
    app_id = call.app_id()
    body = call.json()
    state = call.state
    missing = [k for k in ("S3UrlPrefix", "RoleArn") if not body.get(k)]
    if missing:
        raise BadRequest(f"Missing required field(s): {', '.join(missing)}")
    try:
        parse_s3_url(body["S3UrlPrefix"])
    except ValueError as exc:
        raise BadRequest(f"Invalid S3UrlPrefix: {exc}") from None
    definition: dict[str, Any] = {"RoleArn": body["RoleArn"], "S3UrlPrefix": body["S3UrlPrefix"]}
    if body.get("SegmentId"):
        head = state.segments.head(app_id, body["SegmentId"])
        definition["SegmentId"] = head["Id"]
        if body.get("SegmentVersion") is not None:
            version = body["SegmentVersion"]
            if isinstance(version, bool) or not isinstance(version, int):
                raise BadRequest("SegmentVersion must be an integer")
            state.segments.version_body(app_id, head["Id"], version)
            definition["SegmentVersion"] = version
    elif body.get("SegmentVersion") is not None:
        raise BadRequest("SegmentVersion requires SegmentId")
    with state.db.write() as conn:
        job = Job(kind="EXPORT", application_id=app_id, definition=definition, seq=state.scheduler.next_seq(conn))
        job.save(conn)
    state.scheduler.submit(job)
    return 202, job.to_json()


def _get_job(call: Call, kind: str) -> tuple[int, Any]:
    app_id = call.app_id()
    job_id = call.label("job-id")
    job = call.state.scheduler.live(job_id)
    if job is not None and job.application_id == app_id and job.kind == kind:
        return 200, job.to_json()
    with call.state.db.read() as conn:
        row = conn.execute("SELECT body FROM jobs WHERE app_id = ? AND id = ? AND kind = ?",
                           (app_id, job_id, kind)).fetchone()
    if row is None:
        raise NotFound(f"{kind.capitalize()} job {job_id} not found")
    return 200, _public(json.loads(row[0]))


def _public(body: dict[str, Any]) -> dict[str, Any]:
    body.pop("_internal", None)
    return body


def _list_jobs(call: Call, kind: str, segment: bool) -> tuple[int, Any]:
    app_id = call.app_id()
    size, before = call.page_size(), call.token()
    query = "SELECT id, seq, body FROM jobs WHERE app_id = ? AND kind = ? AND seq < ?"
    args: list[Any] = [app_id, kind, before if before is not None else 2 ** 62]
    if segment:
        segment_id = call.state.segments.head(app_id, call.label("segment-id"))["Id"]
        query += " AND segment_id = ?"
        args.append(segment_id)
    with call.state.db.read() as conn:
        rows = conn.execute(query + " ORDER BY seq DESC LIMIT ?", (*args, size + 1)).fetchall()
    page = rows[:size]
    items = []
    for job_id, _, body in page:
        live = call.state.scheduler.live(job_id)
        items.append(live.to_json() if live is not None else _public(json.loads(body)))
    return 200, paged(items, [r[1] for r in page], size, len(rows) > size)


@operation("GetImportJob")
def get_import_job(call: Call) -> tuple[int, Any]:
    return _get_job(call, "IMPORT")


@operation("GetExportJob")
def get_export_job(call: Call) -> tuple[int, Any]:
    return _get_job(call, "EXPORT")


@operation("GetImportJobs")
def get_import_jobs(call: Call) -> tuple[int, Any]:
    return _list_jobs(call, "IMPORT", segment=False)


@operation("GetExportJobs")
def get_export_jobs(call: Call) -> tuple[int, Any]:
    return _list_jobs(call, "EXPORT", segment=False)


@operation("GetSegmentImportJobs")
def get_segment_import_jobs(call: Call) -> tuple[int, Any]:
    return _list_jobs(call, "IMPORT", segment=True)


@operation("GetSegmentExportJobs")
def get_segment_export_jobs(call: Call) -> tuple[int, Any]:
    return _list_jobs(call, "EXPORT", segment=True)
