"""PutEvents limits (DG-quotas): why one event is refused, if it is."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

MAX_EVENTS_PAYLOAD = 4 * 1024 * 1024
MAX_EVENTS_PER_REQUEST = 100
MAX_EVENT_BYTES = 1000 * 1024
MAX_EVENT_KEYS = 40
MAX_EVENT_KEY_CHARS = 50
MAX_EVENT_VALUE_CHARS = 200


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
