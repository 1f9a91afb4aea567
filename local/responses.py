"""HTTP handlers for the Pinpoint operations moto lacks, and the URL patterns that reach them.

``install()`` (called when ``local`` is imported) adds the patterns to
``moto.pinpoint.urls.url_paths`` and points every Pinpoint pattern, moto's own included, at
:class:`LocalPinpointResponse`, before moto's server builds its URL map. moto picks the
operation from the botocore model (method + URI) and calls the snake_case method below.
Every error leaves as AWS sends it (see ``local.errors``); fault knobs are applied first.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

from moto.pinpoint import urls as moto_pinpoint_urls
from moto.pinpoint.responses import PinpointResponse

from pinpoint_etl.local.backend import AppData, BatchUndo, Segment, new_id, next_seq, now_iso, state_for
from pinpoint_etl.local.errors import (
    BadRequest,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PinpointError,
    TooManyRequests,
    error_from_type,
    new_request_id,
)
from pinpoint_etl.local.events import MAX_EVENTS_PAYLOAD, MAX_EVENTS_PER_REQUEST, event_problem
from pinpoint_etl.local.export_runner import ExportRunner
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.import_runner import ImportRunner
from pinpoint_etl.local.jobs import SCHEDULER, Job
from pinpoint_etl.local.row_rules import RowError
from pinpoint_etl.local.s3_store import parse_s3_url

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7 * 1024 * 1024
MAX_BATCH_ITEMS = 100
DEFAULT_PAGE_SIZE = 100
FORMATS = ("CSV", "JSON")

_APP = r"{0}/v1/apps/(?P<app_id>[^/]+)"
LOCAL_URL_PATHS = [
    _APP + "/jobs/import$",
    _APP + "/jobs/import/(?P<job_id>[^/]+)$",
    _APP + "/jobs/export$",
    _APP + "/jobs/export/(?P<job_id>[^/]+)$",
    _APP + "/endpoints$",
    _APP + "/endpoints/(?P<endpoint_id>.+)$",
    _APP + "/users/(?P<user_id>.+)$",
    _APP + "/events$",
    _APP + "/segments$",
    _APP + "/segments/(?P<segment_id>[^/]+)$",
    _APP + "/segments/(?P<segment_id>[^/]+)/jobs/import$",
    _APP + "/segments/(?P<segment_id>[^/]+)/jobs/export$",
    _APP + "/segments/(?P<segment_id>[^/]+)/versions$",
    _APP + "/segments/(?P<segment_id>[^/]+)/versions/(?P<version>[^/]+)$",
]


def _json(status: int, payload: Any) -> tuple[int, dict[str, Any], str]:
    return status, {"status": status, "Content-Type": "application/json"}, json.dumps(payload)


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        kind, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "seq":
            raise ValueError
        return int(seq)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"Invalid token: {token}") from None


class LocalPinpointResponse(PinpointResponse):
    """moto's Pinpoint handlers plus endpoints, segments, jobs and events."""

    # ------------------------------------------------------------------ plumbing

    def call_action(self) -> tuple[int, dict[str, Any], str]:
        request_id = new_request_id()
        self.request_id = request_id
        try:
            action = self._get_action() or ""
            if not action:
                raise MethodNotAllowed(f"{self.method} is not allowed on {self.path}")
            drop_delay = FAULTS.call_knob(action, "drop_delay", 0.0)
            fault, latency = FAULTS.take_call_fault(action)
            if latency:
                time.sleep(latency)
            if fault == "throttle":
                raise TooManyRequests("Too many requests")
            if fault == "error500":
                raise InternalServerError("Internal server error")
            if fault == "drop":  # carried out below; the middleware then loses the answer
                FAULTS.drop_answer(drop_delay)
            if len(self.raw_body or b"") > MAX_PAYLOAD:
                raise PayloadTooLarge("Request payload is larger than 7 MB")
            status, headers, body = super().call_action()
        except PinpointError as exc:
            return exc.response(request_id)
        except NotImplementedError as exc:
            return 501, {"x-amzn-ErrorType": "NotImplemented", "x-amzn-RequestId": request_id,
                         "Content-Type": "application/json"}, json.dumps(
                {"Message": f"pinpoint-etl local service: {exc}", "RequestID": request_id})
        except Exception as exc:
            log.exception("unhandled error in the local Pinpoint service")
            return InternalServerError(f"Internal server error: {exc!r}").response(request_id)
        if status >= 400 and isinstance(body, str) and '"__type"' in body:
            try:
                moto_error = json.loads(body)
                return error_from_type(moto_error["__type"], moto_error.get("message", "")).response(request_id)
            except (ValueError, KeyError):
                pass
        for name in [h for h in headers if h.lower() == "x-amzn-requestid"]:
            del headers[name]
        headers["x-amzn-RequestId"] = request_id
        return status, headers, body

    def _param(self, name: str) -> str:
        value = self.uri_match.get(name)
        if value is None:
            raise BadRequest(f"Missing {name}")
        return value

    def _query(self, name: str) -> str | None:
        values = self.querystring.get(name)
        return values[0] if values else None

    def _body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.body or "{}")
        except ValueError as exc:
            raise BadRequest(f"The request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object")
        return body

    @property
    def _state(self):
        return state_for(self.current_account, self.region)

    def _app(self) -> AppData:
        return self._state.app(self._param("application-id"))

    def _page(self, items: list[Any]) -> tuple[list[Any], str | None]:
        """Newest first; ``page-size`` (default 100) and an opaque ``token``."""
        raw_size = self._query("page-size")
        try:
            size = int(raw_size) if raw_size not in (None, "") else DEFAULT_PAGE_SIZE
        except ValueError:
            raise BadRequest(f"Invalid page-size: {raw_size}") from None
        if size < 1:
            raise BadRequest(f"Invalid page-size: {raw_size}")
        items = sorted(items, key=lambda i: i.seq, reverse=True)
        token = self._query("token")
        if token:
            after = _decode_token(token)
            items = [i for i in items if i.seq < after]
        page = items[:size]
        next_token = _encode_token(page[-1].seq) if len(items) > size else None
        return page, next_token

    def _jobs_page(self, jobs: list[Job]) -> tuple[int, dict[str, Any], str]:
        page, token = self._page(jobs)
        payload: dict[str, Any] = {"Item": [j.to_json() for j in page]}
        if token:
            payload["NextToken"] = token
        return _json(200, payload)

    # ------------------------------------------------------------------ import jobs

    def create_import_job(self):
        state = self._state
        body = self._body()
        with state.lock:
            app = self._app()
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
            if segment_id:
                app.get_segment(segment_id)
            elif definition["DefineSegment"]:
                if not body.get("SegmentName"):
                    raise BadRequest("SegmentName is required when DefineSegment is true")
                segment_id = new_id()
                app.segments[segment_id] = Segment(
                    id=segment_id, application_id=app.application_id,
                    arn=f"{app.arn}/segments/{segment_id}", name=body["SegmentName"],
                    import_definition={k: definition[k] for k in ("Format", "S3Url", "RoleArn", "ExternalId")},
                )
                created = True
            if body.get("SegmentName"):
                definition["SegmentName"] = body["SegmentName"]
            if segment_id:
                definition["SegmentId"] = segment_id
            job = Job(kind="IMPORT", application_id=app.application_id, account_id=state.account_id,
                      definition=definition)
            app.import_jobs[job.id] = job
        SCHEDULER.submit(job, ImportRunner(job, state, app, segment_id, created))
        return _json(201, job.to_json())

    def get_import_job(self):
        with self._state.lock:
            job = self._app().import_jobs.get(self._param("job-id"))
        if job is None:
            raise NotFound(f"Import job {self._param('job-id')} not found")
        return _json(200, job.to_json())

    def get_import_jobs(self):
        with self._state.lock:
            jobs = list(self._app().import_jobs.values())
        return self._jobs_page(jobs)

    def get_segment_import_jobs(self):
        with self._state.lock:
            app = self._app()
            segment = app.get_segment(self._param("segment-id"))
            jobs = [j for j in app.import_jobs.values() if j.definition.get("SegmentId") == segment.id]
        return self._jobs_page(jobs)

    # ------------------------------------------------------------------ export jobs

    def create_export_job(self):
        state = self._state
        body = self._body()
        with state.lock:
            app = self._app()
            missing = [k for k in ("S3UrlPrefix", "RoleArn") if not body.get(k)]
            if missing:
                raise BadRequest(f"Missing required field(s): {', '.join(missing)}")
            try:
                parse_s3_url(body["S3UrlPrefix"])
            except ValueError as exc:
                raise BadRequest(f"Invalid S3UrlPrefix: {exc}") from None
            definition: dict[str, Any] = {"RoleArn": body["RoleArn"], "S3UrlPrefix": body["S3UrlPrefix"]}
            if body.get("SegmentId"):
                segment = app.get_segment(body["SegmentId"])
                definition["SegmentId"] = segment.id
                if body.get("SegmentVersion") is not None:
                    version = body["SegmentVersion"]
                    if isinstance(version, bool) or not isinstance(version, int):
                        raise BadRequest("SegmentVersion must be an integer")
                    segment.version(version)
                    definition["SegmentVersion"] = version
            elif body.get("SegmentVersion") is not None:
                raise BadRequest("SegmentVersion requires SegmentId")
            job = Job(kind="EXPORT", application_id=app.application_id, account_id=state.account_id,
                      definition=definition)
            app.export_jobs[job.id] = job
        SCHEDULER.submit(job, ExportRunner(job, state, app))
        return _json(202, job.to_json())

    def get_export_job(self):
        with self._state.lock:
            job = self._app().export_jobs.get(self._param("job-id"))
        if job is None:
            raise NotFound(f"Export job {self._param('job-id')} not found")
        return _json(200, job.to_json())

    def get_export_jobs(self):
        with self._state.lock:
            jobs = list(self._app().export_jobs.values())
        return self._jobs_page(jobs)

    def get_segment_export_jobs(self):
        with self._state.lock:
            app = self._app()
            segment = app.get_segment(self._param("segment-id"))
            jobs = [j for j in app.export_jobs.values() if j.definition.get("SegmentId") == segment.id]
        return self._jobs_page(jobs)

    # ------------------------------------------------------------------ endpoints

    def _accepted(self) -> tuple[int, dict[str, Any], str]:
        return _json(202, {"Message": "Accepted", "RequestID": self.request_id})

    def update_endpoints_batch(self):
        """All or nothing: the first broken item answers 400 and nothing is stored."""
        items = self._body().get("Item")
        if not isinstance(items, list):
            raise BadRequest("Missing Item: the request must contain an Item list")
        if len(items) > MAX_BATCH_ITEMS:
            raise BadRequest(f"The batch has {len(items)} items; at most {MAX_BATCH_ITEMS} "
                             "EndpointBatchItems are allowed per request")
        state = self._state
        with state.lock:
            app = self._app()
            snapshot = BatchUndo(app, items)
            try:
                for index, item in enumerate(items):
                    if not isinstance(item, dict) or not item.get("Id"):
                        raise BadRequest(f"Item {index}: Missing Id")
                    try:
                        body = {k: v for k, v in item.items() if k != "Id"}
                        app.upsert(item["Id"], body, for_import=False, request_id=self.request_id)
                    except RowError as exc:
                        raise BadRequest(f"Item {index} (Id {item['Id']}): {exc}") from None
            except BadRequest:
                snapshot.restore()
                raise
        return self._accepted()

    def update_endpoint(self):
        endpoint_id = self._param("endpoint-id")
        body = self._body()
        with self._state.lock:
            try:
                self._app().upsert(endpoint_id, body, for_import=False, request_id=self.request_id)
            except RowError as exc:
                raise BadRequest(str(exc)) from None
        return self._accepted()

    def get_endpoint(self):
        with self._state.lock:
            endpoint = self._app().get_endpoint(self._param("endpoint-id"))
            return _json(200, endpoint)

    def delete_endpoint(self):
        with self._state.lock:
            endpoint = self._app().delete_endpoint(self._param("endpoint-id"))
            return _json(202, endpoint)

    def get_user_endpoints(self):
        user_id = self._param("user-id")
        with self._state.lock:
            endpoints = self._app().user_endpoints(user_id)
            if not endpoints:
                raise NotFound(f"No endpoints found for user {user_id}")
            return _json(200, {"Item": endpoints})

    def delete_user_endpoints(self):
        user_id = self._param("user-id")
        with self._state.lock:
            app = self._app()
            endpoints = app.user_endpoints(user_id)
            if not endpoints:
                raise NotFound(f"No endpoints found for user {user_id}")
            for endpoint in endpoints:
                app.delete_endpoint(endpoint["Id"])
            return _json(202, {"Item": endpoints})

    # ------------------------------------------------------------------ segments

    def get_segment(self):
        with self._state.lock:
            return _json(200, self._app().get_segment(self._param("segment-id")).to_json())

    def get_segments(self):
        with self._state.lock:
            segments = list(self._app().segments.values())
            page, token = self._page(segments)
            payload: dict[str, Any] = {"Item": [s.to_json() for s in page]}
        if token:
            payload["NextToken"] = token
        return _json(200, payload)

    def get_segment_version(self):
        raw = self._param("version")
        try:
            number = int(raw)
        except ValueError:
            raise BadRequest(f"Invalid version: {raw}") from None
        with self._state.lock:
            segment = self._app().get_segment(self._param("segment-id"))
            return _json(200, segment.to_json(number))

    def get_segment_versions(self):
        with self._state.lock:
            segment = self._app().get_segment(self._param("segment-id"))
            items = [segment.to_json(n) for n in range(len(segment.versions), 0, -1)]
            return _json(200, {"Item": items})

    def delete_segment(self):
        with self._state.lock:
            app = self._app()
            segment = app.get_segment(self._param("segment-id"))
            del app.segments[segment.id]
            return _json(200, segment.to_json())

    # ------------------------------------------------------------------ events

    def put_events(self):
        if len(self.raw_body or b"") > MAX_EVENTS_PAYLOAD:
            raise PayloadTooLarge("PutEvents request payload is larger than 4 MB")
        batch = self._body().get("BatchItem")
        if not isinstance(batch, dict):
            raise BadRequest("Missing BatchItem")
        total = sum(len(b.get("Events") or {}) for b in batch.values() if isinstance(b, dict))
        if total > MAX_EVENTS_PER_REQUEST:
            raise BadRequest(f"The request has {total} events; at most {MAX_EVENTS_PER_REQUEST} "
                             "events are allowed per request")
        results: dict[str, Any] = {}
        with self._state.lock:
            app = self._app()
            for endpoint_id, item in batch.items():
                item = item if isinstance(item, dict) else {}
                endpoint = item.get("Endpoint") or {}
                endpoint_result = {"StatusCode": 202, "Message": "Accepted"}
                if endpoint:
                    try:
                        app.upsert(endpoint_id, endpoint, for_import=False, request_id=self.request_id)
                    except RowError as exc:
                        endpoint_result = {"StatusCode": 400, "Message": str(exc)}
                event_results = {}
                for event_id, event in (item.get("Events") or {}).items():
                    problem = event_problem(event)
                    if problem:
                        event_results[event_id] = {"StatusCode": 400, "Message": problem}
                    else:
                        app.events.append({"EndpointId": endpoint_id, "EventId": event_id,
                                           "ReceivedAt": now_iso(), "seq": next_seq(), **event})
                        event_results[event_id] = {"StatusCode": 202, "Message": "Accepted"}
                results[endpoint_id] = {"EndpointItemResponse": endpoint_result,
                                        "EventsItemResponse": event_results}
        return _json(202, {"Results": results})


def install() -> None:
    """Route every Pinpoint URL (moto's and ours) to LocalPinpointResponse. Idempotent."""
    paths = moto_pinpoint_urls.url_paths
    for pattern in list(paths):
        paths[pattern] = LocalPinpointResponse.dispatch
    for pattern in LOCAL_URL_PATHS:
        paths[pattern] = LocalPinpointResponse.dispatch
