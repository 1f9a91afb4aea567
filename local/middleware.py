"""WSGI layer in front of moto's server: admin routes, reset hook and S3 fault injection.

Admin routes (the server binds loopback only, so only this machine reaches them):

* ``GET /_local/faults`` → ``{"faults": {op: {knob: value}}}``
* ``POST /_local/faults`` with ``{"operation": "GetImportJob", "throttle": 2, ...}`` (or a list of
  such objects, or ``{op: {knob: value}}``) → sets knobs, answers the current faults; 400
  ``{"Message": ...}`` for an unknown operation or knob.
* ``DELETE /_local/faults`` clears every knob (``?operation=X`` clears one operation).
* ``GET /_local/config`` / ``POST /_local/config`` with ``{"max_concurrent_jobs": N,
  "state_delay": seconds}``; reset restores the start-time values.
* ``GET /_local/health`` → ``{"status": "ok"}``.

``POST /moto-api/reset`` first stops every running job and clears the faults, then lets moto
reset its backends (which drops all Pinpoint state).

S3 additions: fault knobs ``S3:<Operation>`` (operation told from method, path and query), and
``x-amz-expected-bucket-owner`` (boto3 ``ExpectedBucketOwner``) naming another account than the
bucket's owner → 403 ``AccessDenied``, as S3 does (moto ignores the header). Conditional writes
(PutObject with ``If-None-Match: *`` or ``If-Match``) are carried out one at a time, so that two
of them racing for one key cannot both succeed (moto checks, then writes).

The ``drop`` knob (any operation) is carried out here: the request is served, then the connection
is closed without the answer.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from pinpoint_etl.local.errors import new_request_id
from pinpoint_etl.local.faults import FAULTS, FaultError
from pinpoint_etl.local.jobs import SCHEDULER

ADMIN_PREFIX = "/_local/"
S3_ERRORS = {
    "throttle": (503, "SlowDown", "Please reduce your request rate."),
    "error500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "owner": (403, "AccessDenied", "Access Denied"),
}
_CONDITIONAL_WRITES = threading.Lock()


def _credential_service(environ: dict[str, Any]) -> str | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
        scope = credential[0] if credential else ""
    parts = scope.split("/")
    return parts[3] if len(parts) >= 5 else None


def _path_style(host: str) -> bool:
    """True unless the Host names a bucket (virtual-hosted addressing, e.g. ``b.localhost``)."""
    if not host or host == "localhost" or ":" in host or host.replace(".", "").isdigit():
        return True
    return host.startswith(("s3.", "s3-"))


def s3_operation(environ: dict[str, Any]) -> tuple[str | None, str | None] | None:
    """(S3 operation name or None, bucket or None) of a SigV4 S3 request; None if not S3."""
    if _credential_service(environ) != "s3":
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    path = environ.get("PATH_INFO", "/").lstrip("/")
    host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].strip("[]")
    if _path_style(host):
        bucket, _, key = path.partition("/")
    else:
        bucket, key = host.split(".", 1)[0], path
    return _s3_name(method, query, bool(bucket), key, "HTTP_X_AMZ_COPY_SOURCE" in environ), bucket or None


def _s3_name(method: str, query: dict[str, list[str]], has_bucket: bool, key: str, copy: bool) -> str | None:
    if not has_bucket:
        return "ListBuckets" if method == "GET" else None
    if key:
        if method == "PUT":
            if "partNumber" in query and "uploadId" in query:
                return "UploadPartCopy" if copy else "UploadPart"
            if "tagging" in query:
                return "PutObjectTagging"
            return "CopyObject" if copy else "PutObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            return "CompleteMultipartUpload" if "uploadId" in query else None
        if method == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
        if method == "GET":
            return "ListParts" if "uploadId" in query else "GetObject"
        return "HeadObject" if method == "HEAD" else None
    if method == "GET":
        if query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        if "uploads" in query:
            return "ListMultipartUploads"
        if "versions" in query:
            return "ListObjectVersions"
        return "ListObjects" if not query else None
    if method == "PUT" and not query:
        return "CreateBucket"
    if method == "DELETE" and not query:
        return "DeleteBucket"
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return None


def _owner_mismatch(environ: dict[str, Any], bucket: str | None) -> bool:
    """True if ``x-amz-expected-bucket-owner`` names another account than the bucket's owner."""
    expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
    if not expected or not bucket:
        return False
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    return owner is not None and owner[1] != expected


def _drain(environ: dict[str, Any]) -> None:
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length:
        stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        stream.read()


class LocalMiddleware:
    """Wraps moto's WSGI app."""

    def __init__(self, app: Any):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(ADMIN_PREFIX):
            return self._admin(path, method, environ, start_response)
        if path == "/moto-api/reset" and method == "POST":
            SCHEDULER.cancel_all()
            FAULTS.clear()
        FAULTS.answer_dropped()  # a mark left by an earlier request on this thread is forgotten
        s3 = s3_operation(environ)
        conditional = False
        if s3:
            operation, bucket = s3
            drop_delay = FAULTS.call_knob(f"S3:{operation}", "drop_delay", 0.0) if operation else 0.0
            fault, latency = FAULTS.take_call_fault(f"S3:{operation}") if operation else (None, 0.0)
            if latency:
                time.sleep(latency)
            if fault == "drop":
                FAULTS.drop_answer(drop_delay)
            elif fault:
                _drain(environ)
                return self._s3_error(fault, environ, start_response)
            if _owner_mismatch(environ, bucket):
                _drain(environ)
                return self._s3_error("owner", environ, start_response)
            conditional = operation == "PutObject" and any(
                h in environ for h in ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH"))
        if conditional:
            with _CONDITIONAL_WRITES:
                answer = self.app(environ, start_response)
        else:
            answer = self.app(environ, start_response)
        delay = FAULTS.answer_dropped()
        if delay is None:
            return answer
        for _ in answer:  # the work is done; the answer is lost
            pass
        if hasattr(answer, "close"):
            answer.close()
        time.sleep(delay)
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("fault knob drop: the answer is lost")  # werkzeug: connection dropped

    @staticmethod
    def _s3_error(fault: str, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, code, message = S3_ERRORS[fault]
        request_id = new_request_id().replace("-", "")[:16].upper()
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>{request_id}</RequestId>"
                f"<HostId>{request_id}</HostId></Error>").encode()
        reason = {503: "Service Unavailable", 500: "Internal Server Error", 403: "Forbidden"}[status]
        start_response(f"{status} {reason}", [
            ("Content-Type", "application/xml"), ("Content-Length", str(len(body))),
            ("x-amz-request-id", request_id), ("x-amz-id-2", request_id),
        ])
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _admin(self, path: str, method: str, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            status, payload = self._admin_call(path.removeprefix(ADMIN_PREFIX).rstrip("/"), method, environ)
        except (FaultError, ValueError, TypeError) as exc:
            status, payload = 400, {"Message": str(exc)}
        body = json.dumps(payload).encode()
        reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
        start_response(f"{status} {reasons.get(status, 'OK')}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _read_json(environ: dict[str, Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"the body is not valid JSON: {exc}") from None

    def _admin_call(self, route: str, method: str, environ: dict[str, Any]) -> tuple[int, Any]:
        if route == "health":
            return 200, {"status": "ok"}
        if route == "faults":
            if method == "GET":
                return 200, {"faults": FAULTS.snapshot()}
            if method == "POST":
                FAULTS.load(self._read_json(environ))
                return 200, {"faults": FAULTS.snapshot()}
            if method == "DELETE":
                operation = parse_qs(environ.get("QUERY_STRING", "")).get("operation")
                FAULTS.clear(operation[0] if operation else None)
                return 200, {"faults": FAULTS.snapshot()}
            return 405, {"Message": f"{method} is not allowed on /_local/faults"}
        if route == "config":
            config = SCHEDULER.config
            if method == "POST":
                body = self._read_json(environ)
                unknown = set(body) - {"max_concurrent_jobs", "state_delay"}
                if unknown:
                    raise ValueError(f"unknown config key(s): {', '.join(sorted(unknown))}")
                if "max_concurrent_jobs" in body:
                    value = body["max_concurrent_jobs"]
                    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                        raise ValueError("max_concurrent_jobs must be an integer >= 1")
                    config.max_concurrent_jobs = value
                if "state_delay" in body:
                    value = body["state_delay"]
                    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                        raise ValueError("state_delay must be a number >= 0")
                    config.state_delay = float(value)
            elif method != "GET":
                return 405, {"Message": f"{method} is not allowed on /_local/config"}
            return 200, {"max_concurrent_jobs": config.max_concurrent_jobs, "state_delay": config.state_delay}
        return 404, {"Message": f"unknown admin route /_local/{route}"}
