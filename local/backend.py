"""Pinpoint state the moto backend lacks: endpoints, imported segments, jobs, events.

The state object hangs off moto's ``PinpointBackend`` instance (attribute ``_pinpoint_etl``),
so ``POST /moto-api/reset`` (which throws the backend instances away) clears it. One
re-entrant lock per account/region state guards every read and write.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.pinpoint.models import pinpoint_backends

from pinpoint_etl.local.errors import NotFound
from pinpoint_etl.local.row_rules import (
    AUTO_INACTIVATE_CHANNELS,
    RowError,
    check_record,
    check_size,
    custom_attribute_names,
    merge_record,
)
from pinpoint_etl.schemas.catalogue import MAX_CUSTOM_ATTRIBUTES, MAX_ENDPOINTS_PER_USER

_ATTACH_LOCK = threading.Lock()
_SEQ = itertools.count(1)


def now_iso() -> str:
    """ISO 8601 with milliseconds and Z, as Pinpoint writes dates."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def next_seq() -> int:
    """A process-wide increasing number used to order items (creation order)."""
    return next(_SEQ)


def new_id() -> str:
    """An id in the form Pinpoint uses (32 lowercase hex characters)."""
    return uuid.uuid4().hex


def cohort_id(endpoint_id: str) -> str:
    """A stable cohort "0"-"99" derived from the endpoint id."""
    return str(int(hashlib.sha1(endpoint_id.encode()).hexdigest(), 16) % 100)


@dataclass
class Segment:
    """An IMPORT segment: static snapshots of endpoint definitions, one dict per version."""

    id: str
    application_id: str
    arn: str
    name: str
    import_definition: dict[str, Any]
    creation_date: str = field(default_factory=now_iso)
    last_modified: str = field(default_factory=now_iso)
    versions: list[dict[str, dict[str, Any]]] = field(default_factory=lambda: [{}])
    seq: int = field(default_factory=next_seq)

    def version(self, number: int | None) -> dict[str, dict[str, Any]]:
        if number is None:
            return self.versions[-1]
        if not 1 <= number <= len(self.versions):
            raise NotFound(f"Segment {self.id} has no version {number}")
        return self.versions[number - 1]

    def to_json(self, number: int | None = None) -> dict[str, Any]:
        members = self.version(number)
        counts: dict[str, int] = {}
        for endpoint in members.values():
            channel = endpoint.get("ChannelType")
            if channel:
                counts[channel] = counts.get(channel, 0) + 1
        return {
            "ApplicationId": self.application_id,
            "Arn": self.arn,
            "CreationDate": self.creation_date,
            "Id": self.id,
            "ImportDefinition": {**self.import_definition, "Size": len(members), "ChannelCounts": counts},
            "LastModifiedDate": self.last_modified,
            "Name": self.name,
            "SegmentType": "IMPORT",
            "Version": number or len(self.versions),
            "tags": {},
        }


class AppData:
    """Everything stored for one Pinpoint application (project)."""

    def __init__(self, application_id: str, arn: str):
        self.application_id = application_id
        self.arn = arn
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.order: dict[str, int] = {}
        self.by_user: dict[str, set[str]] = {}
        self.by_address: dict[str, set[str]] = {}
        self.attribute_names: set[tuple[str, str]] = set()
        self.segments: dict[str, Segment] = {}
        self.import_jobs: dict[str, Any] = {}
        self.export_jobs: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ reads

    def get_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"Endpoint {endpoint_id} not found")
        return endpoint

    def user_endpoints(self, user_id: str) -> list[dict[str, Any]]:
        ids = sorted(self.by_user.get(user_id, ()), key=lambda i: self.order[i])
        return [self.endpoints[i] for i in ids]

    def all_endpoints(self) -> list[dict[str, Any]]:
        return [self.endpoints[i] for i in sorted(self.endpoints, key=lambda i: self.order[i])]

    def get_segment(self, segment_id: str) -> Segment:
        segment = self.segments.get(segment_id)
        if segment is None:
            raise NotFound(f"Segment {segment_id} not found")
        return segment

    # ------------------------------------------------------------------ writes

    def upsert(self, endpoint_id: str, raw: Any, *, for_import: bool, request_id: str,
               register: bool = True) -> dict[str, Any]:
        """Create or update one endpoint under every documented rule; return the EndpointResponse.

        Raises RowError (nothing changed) if a rule is broken. With ``register=False`` the
        endpoint is checked and returned but not stored.
        """
        if not endpoint_id:
            raise RowError("the endpoint has no Id")
        rec = check_record(raw, for_import=for_import)
        existing = self.endpoints.get(endpoint_id)
        if existing is None:
            missing = [k for k in ("Address", "ChannelType") if not rec.get(k)]
            if missing:
                raise RowError(f"Missing {' and '.join(missing)}: Address and ChannelType are "
                               "required for a new endpoint")
        body = {k: v for k, v in (existing or {}).items()
                if k not in ("Id", "ApplicationId", "CohortId", "CreationDate")}
        merged = merge_record(body, rec)
        check_size(merged)
        new_names = custom_attribute_names(rec) - self.attribute_names
        total = len(self.attribute_names) + len(new_names)
        if new_names and total > MAX_CUSTOM_ATTRIBUTES:
            raise RowError(f"custom attribute limit exceeded: the application would have {total} "
                           "custom attributes (Attributes, Metrics and User.UserAttributes names "
                           f"together); the limit is {MAX_CUSTOM_ATTRIBUTES} per application")
        evict = self._user_limit(endpoint_id, existing, merged)
        now = now_iso()
        endpoint = {
            **merged,
            "Id": endpoint_id,
            "ApplicationId": self.application_id,
            "CohortId": cohort_id(endpoint_id),
            "CreationDate": existing["CreationDate"] if existing else now,
            "EffectiveDate": rec.get("EffectiveDate") or now,
            "EndpointStatus": rec.get("EndpointStatus") or "ACTIVE",
            "OptOut": merged.get("OptOut") or "NONE",
            "RequestId": rec.get("RequestId") or request_id,
            "User": merged.get("User") or {},
        }
        if not register:
            return endpoint
        if evict is not None:
            victim = self.endpoints[evict]
            self._unindex(evict)
            victim["EndpointStatus"] = "INACTIVE"
            victim["User"].pop("UserId", None)
            self._index(evict)
        if "Address" in rec:
            for other in self.by_address.get(rec["Address"], set()) - {endpoint_id}:
                self.endpoints[other]["EndpointStatus"] = "INACTIVE"
        if existing is not None:
            self._unindex(endpoint_id)
        else:
            self.order[endpoint_id] = next_seq()
        self.endpoints[endpoint_id] = endpoint
        self._index(endpoint_id)
        self.attribute_names |= new_names
        return endpoint

    def _user_limit(self, endpoint_id: str, existing: dict | None, merged: dict) -> str | None:
        """Apply the 15-endpoints-per-user rule (DG-16th); return the endpoint to make INACTIVE."""
        user_id = merged.get("User", {}).get("UserId")
        old_user = (existing or {}).get("User", {}).get("UserId")
        if not user_id or user_id == old_user:
            return None
        others = self.by_user.get(user_id, set()) - {endpoint_id}
        if len(others) < MAX_ENDPOINTS_PER_USER:
            return None
        message = f"Exceeded maximum endpoint per user count: {MAX_ENDPOINTS_PER_USER}"
        if merged.get("ChannelType") not in AUTO_INACTIVATE_CHANNELS:
            raise RowError(message)
        candidates = [i for i in others if self.endpoints[i].get("ChannelType") in AUTO_INACTIVATE_CHANNELS]
        if not candidates:
            raise RowError(message)
        return min(candidates, key=lambda i: (self.endpoints[i].get("EffectiveDate", ""), self.order[i]))

    def delete_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        endpoint = self.get_endpoint(endpoint_id)
        self._unindex(endpoint_id)
        del self.endpoints[endpoint_id]
        del self.order[endpoint_id]
        return endpoint

    def _index(self, endpoint_id: str) -> None:
        endpoint = self.endpoints[endpoint_id]
        user_id = endpoint.get("User", {}).get("UserId")
        if user_id:
            self.by_user.setdefault(user_id, set()).add(endpoint_id)
        if endpoint.get("Address"):
            self.by_address.setdefault(endpoint["Address"], set()).add(endpoint_id)

    def _unindex(self, endpoint_id: str) -> None:
        endpoint = self.endpoints[endpoint_id]
        for index, key in ((self.by_user, endpoint.get("User", {}).get("UserId")),
                           (self.by_address, endpoint.get("Address"))):
            if key and key in index:
                index[key].discard(endpoint_id)
                if not index[key]:
                    del index[key]


class BatchUndo:
    """Undo information for an all-or-nothing batch: the endpoints the items can touch."""

    def __init__(self, app: AppData, items: list[Any]):
        self.app = app
        ids: set[str] = set()
        for item in items:
            if not isinstance(item, dict):
                continue
            ids.add(str(item.get("Id")))
            ids |= app.by_address.get(str(item.get("Address")), set())
            user = item.get("User") if isinstance(item.get("User"), dict) else {}
            ids |= app.by_user.get(str(user.get("UserId")), set())
        self.saved = {i: copy.deepcopy(app.endpoints.get(i)) for i in ids}
        self.order = {i: app.order.get(i) for i in ids}
        self.names = set(app.attribute_names)

    def restore(self) -> None:
        app = self.app
        for endpoint_id in [i for i in self.saved if i in app.endpoints]:
            app._unindex(endpoint_id)
            del app.endpoints[endpoint_id]
            app.order.pop(endpoint_id, None)
        for endpoint_id, endpoint in self.saved.items():
            if endpoint is not None:
                app.endpoints[endpoint_id] = endpoint
                app.order[endpoint_id] = self.order[endpoint_id]
                app._index(endpoint_id)
        app.attribute_names = self.names


class PinpointState:
    """State of one account and region; ``lock`` guards it."""

    def __init__(self, backend: Any):
        self.backend = backend
        self.account_id: str = backend.account_id
        self.region: str = backend.region_name
        self.lock = threading.RLock()
        self.apps: dict[str, AppData] = {}

    def app(self, application_id: str) -> AppData:
        """The data of an existing application; 404 NotFoundException otherwise."""
        moto_app = self.backend.apps.get(application_id)
        if moto_app is None:
            self.apps.pop(application_id, None)
            raise NotFound("Resource not found")
        data = self.apps.get(application_id)
        if data is None:
            data = self.apps[application_id] = AppData(application_id, moto_app.arn)
        return data


def state_for(account_id: str, region: str) -> PinpointState:
    """The state attached to moto's Pinpoint backend for this account and region."""
    backend = pinpoint_backends[account_id][region]
    state = backend.__dict__.get("_pinpoint_etl")
    if state is None:
        with _ATTACH_LOCK:
            state = backend.__dict__.get("_pinpoint_etl")
            if state is None:
                state = backend._pinpoint_etl = PinpointState(backend)
    return state
