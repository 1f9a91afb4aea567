"""Answering one Pinpoint request: route it, apply the fault knobs, call its handler, shape the answer.

Success: the handler's payload as JSON (``application/json``) with the model's status code and an
``x-amzn-RequestId`` header; 204 answers have no body. Errors leave in one shape (``local.errors``):
status, ``x-amzn-ErrorType``, ``x-amzn-RequestId`` and ``{"Message", "RequestID"}``; an operation of
the model without a handler answers 501 ``NotImplemented``; a request over 7 MB, 413.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

# the handler modules register their operations when imported
from pinpoint_etl.local import apps, channels, endpoints_api, events, job_api, phone, segments  # noqa: F401
from pinpoint_etl.local.api import OPERATIONS, Call, match
from pinpoint_etl.local.errors import (
    InternalServerError,
    NotImplementedOperation,
    PayloadTooLarge,
    PinpointError,
    TooManyRequests,
    new_request_id,
)
from pinpoint_etl.local.faults import FAULTS
from pinpoint_etl.local.limits import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)


def raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    path = raw.split("?", 1)[0]
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    return path


def handle(state: Any, environ: dict[str, Any], body: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one Pinpoint request."""
    request_id = new_request_id()
    try:
        route, labels = match(environ.get("REQUEST_METHOD", "GET"), raw_path(environ))
        drop_delay = FAULTS.call_knob(route.operation, "drop_delay", 0.0)
        fault, latency = FAULTS.take_call_fault(route.operation)
        if latency:
            time.sleep(latency)
        if fault == "throttle":
            raise TooManyRequests("Too many requests")
        if fault == "error500":
            raise InternalServerError("Internal server error")
        if fault == "drop":  # carried out below; the middleware then loses the answer
            FAULTS.drop_answer(drop_delay)
        if len(body) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge("Request payload is larger than 7 MB")
        handler = OPERATIONS.get(route.operation)
        if handler is None:
            raise NotImplementedOperation(f"pinpoint-etl local service: {route.operation} is not implemented")
        call = Call(state=state, operation=route.operation, labels=labels,
                    query_string=environ.get("QUERY_STRING", ""), body=body, request_id=request_id)
        status, payload = handler(call)
    except PinpointError as exc:
        status, headers, text = exc.response(request_id)
        return status, headers, text.encode()
    except Exception as exc:  # noqa: BLE001 - a bug answers 500 in the wire shape, never a traceback page
        log.exception("unhandled error in the local Pinpoint service")
        status, headers, text = InternalServerError(f"Internal server error: {exc!r}").response(request_id)
        return status, headers, text.encode()
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
    if status == 204 or payload is None:
        return status, headers, b""
    return status, headers, json.dumps(payload, ensure_ascii=False).encode("utf-8")
