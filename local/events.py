"""PutEvents: per-endpoint and per-event results under the documented limits (DG-quotas).

More than 100 events per request → 400; more than 4 MB → 413. A non-empty ``Endpoint`` is upserted
with the UpdateEndpoint rules (its result in EndpointItemResponse: 202 Accepted / 400 reason); each
event is checked alone → 202 / 400. Accepted events are stored (nothing reads them back).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pinpoint_etl.local.api import Call, operation
from pinpoint_etl.local.apps import now_iso
from pinpoint_etl.local.endpoint_store import EndpointBatch
from pinpoint_etl.local.errors import BadRequest, PayloadTooLarge
from pinpoint_etl.local.limits import (
    MAX_EVENT_BYTES,
    MAX_EVENT_KEY_CHARS,
    MAX_EVENT_KEYS,
    MAX_EVENT_VALUE_CHARS,
    MAX_EVENTS_PAYLOAD,
    MAX_EVENTS_PER_REQUEST,
)
from pinpoint_etl.local.row_rules import RowError, check_record


def _is_iso8601(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


def event_problem(event: Any) -> str | None:
    """Why an event is invalid (documented PutEvents limits), or None."""
    if not isinstance(event, dict):
        return "The event must be a JSON object"
    if not event.get("EventType"):
        return "Missing EventType"
    if not event.get("Timestamp"):
        return "Missing Timestamp"
    if not isinstance(event["Timestamp"], str) or not _is_iso8601(event["Timestamp"]):
        return f"Invalid Timestamp {event['Timestamp']!r}: use ISO 8601"
    session = event.get("Session")
    if session is not None and (not isinstance(session, dict) or not session.get("Id")
                                or not session.get("StartTimestamp")):
        return "Session requires Id and StartTimestamp"
    attributes = event.get("Attributes") or {}
    metrics = event.get("Metrics") or {}
    if not isinstance(attributes, dict) or not isinstance(metrics, dict):
        return "Attributes and Metrics must be objects"
    if len(attributes) + len(metrics) > MAX_EVENT_KEYS:
        return f"The event has {len(attributes) + len(metrics)} attribute and metric keys; the limit is {MAX_EVENT_KEYS}"
    for key in (*attributes, *metrics):
        if len(key) > MAX_EVENT_KEY_CHARS:
            return f"Event attribute key {key[:20]!r}... is longer than {MAX_EVENT_KEY_CHARS} characters"
    for key, value in attributes.items():
        if not isinstance(value, str):
            return f"Event attribute {key} must be a string"
        if len(value) > MAX_EVENT_VALUE_CHARS:
            return f"Event attribute {key} is longer than {MAX_EVENT_VALUE_CHARS} characters"
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"Event metric {key} must be a number"
    if len(json.dumps(event).encode()) > MAX_EVENT_BYTES:
        return "The event is larger than 1,000 KB"
    return None


@operation("PutEvents")
def put_events(call: Call) -> tuple[int, Any]:
    if len(call.body) > MAX_EVENTS_PAYLOAD:
        raise PayloadTooLarge("PutEvents request payload is larger than 4 MB")
    app_id = call.app_id()
    batch_items = call.json().get("BatchItem")
    if not isinstance(batch_items, dict):
        raise BadRequest("Missing BatchItem")
    total = sum(len(b.get("Events") or {}) for b in batch_items.values() if isinstance(b, dict))
    if total > MAX_EVENTS_PER_REQUEST:
        raise BadRequest(f"The request has {total} events; at most {MAX_EVENTS_PER_REQUEST} "
                         "events are allowed per request")
    results: dict[str, Any] = {}
    with call.state.db.write() as conn:
        now = now_iso()
        for endpoint_id, item in batch_items.items():
            item = item if isinstance(item, dict) else {}
            endpoint = item.get("Endpoint") or {}
            endpoint_result = {"StatusCode": 202, "Message": "Accepted"}
            if endpoint:
                batch = EndpointBatch(conn, app_id, call.state.apps.key(app_id), now)
                try:
                    batch.upsert(endpoint_id, check_record(endpoint, for_import=False), request_id=call.request_id)
                    batch.flush()
                except RowError as exc:
                    endpoint_result = {"StatusCode": 400, "Message": str(exc)}
            event_results = {}
            for event_id, event in (item.get("Events") or {}).items():
                problem = event_problem(event)
                if problem:
                    event_results[event_id] = {"StatusCode": 400, "Message": problem}
                    continue
                conn.execute("INSERT INTO events(app_id, endpoint_id, event_id, received_at, body) "
                             "VALUES (?, ?, ?, ?, ?)", (app_id, endpoint_id, event_id, now, json.dumps(event)))
                event_results[event_id] = {"StatusCode": 202, "Message": "Accepted"}
            results[endpoint_id] = {"EndpointItemResponse": endpoint_result, "EventsItemResponse": event_results}
    return 202, {"Results": results}
